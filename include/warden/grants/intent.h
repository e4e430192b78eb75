// Intent: what an agent declares it is about to do (the body of
// POST /v1/grants), its strict JSON reader, and the canonical binding hash of
// (agent, intent, scope) that an approval is bound to. Plain values and pure
// functions; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/status.h"

namespace warden::grants {

enum class Sensitivity { kPublic, kInternal, kConfidential, kRestricted };

// "public" | "internal" | "confidential" | "restricted".
std::string_view SensitivityName(Sensitivity s);
// Inverse of SensitivityName; InvalidArgument (field "sensitivity") listing the names.
Result<Sensitivity> ParseSensitivity(std::string_view text);

inline constexpr size_t kMaxTaskLength = 128;
inline constexpr size_t kMaxDescriptionLength = 1000;  // bytes of UTF-8
inline constexpr size_t kMaxActions = 64;
inline constexpr size_t kMaxResources = 64;
inline constexpr size_t kMaxActionLength = 128;
inline constexpr size_t kMaxResourceLength = 512;
inline constexpr size_t kMaxOnBehalfOfLength = 256;
inline constexpr int64_t kMaxCallsLimit = 1'000'000;
inline constexpr std::chrono::seconds kDefaultGrantTtl = std::chrono::minutes(15);

// Optional usage limits of a grant.
struct Limits {
  std::optional<int64_t> max_calls;      // 1..kMaxCallsLimit
  std::optional<std::string> max_spend;  // decimal string, e.g. "250.00"
  bool operator==(const Limits&) const = default;
};

// What a grant allows: the actions (tools, verbs) and resources it names.
// Both lists keep the order given; duplicates are refused on input.
struct Scope {
  std::vector<std::string> actions;
  std::vector<std::string> resources;
  bool operator==(const Scope&) const = default;
};

struct Intent {
  std::string task;          // [A-Za-z0-9._:-]{1,128}
  std::string description;   // 1..1000 bytes, trimmed
  Scope scope;               // actions 1..64, resources 0..64
  std::string environment;   // must equal the agent's environment (checked at Create)
  Sensitivity sensitivity = Sensitivity::kInternal;
  std::chrono::seconds ttl = kDefaultGrantTtl;  // as requested (capped at Create)
  std::optional<std::string> on_behalf_of;      // the human the agent acts for
  Limits limits;
  bool operator==(const Intent&) const = default;
};

// Reads the POST /v1/grants body strictly: {"task","description","actions",
// "resources"?,"environment","sensitivity","ttl"? (duration, default 15m),
// "on_behalf_of"?,"limits"?:{"max_calls"?,"max_spend"?}}. Unknown members,
// wrong types and invalid values are InvalidArgument naming the field
// ("actions[3]", "limits.max_calls").
Result<Intent> ParseIntent(const boost::json::value& body);

// Validates an Intent built in code with the same rules as ParseIntent.
Status ValidateIntent(const Intent& intent);

// The intent in the form ParseIntent reads (ttl as a duration string), so
// ParseIntent(IntentToJson(i)) == i.
boost::json::object IntentToJson(const Intent& intent);
boost::json::object ScopeToJson(const Scope& scope);
// Inverse of ScopeToJson; InvalidArgument when malformed.
Result<Scope> ScopeFromJson(const boost::json::value& v);

// An action is [A-Za-z0-9._:/-]{1,128}; a resource is 1..512 bytes of valid
// UTF-8 without control characters or surrounding whitespace.
// InvalidArgument with `field` otherwise.
Status ValidateAction(std::string_view action, std::string_view field);
Status ValidateResource(std::string_view resource, std::string_view field);

// A max_spend decimal ("250", "250.00": up to 12 integer and 6 fraction
// digits, no sign, no exponent) in millionths. InvalidArgument with `field`.
Result<int64_t> ParseSpend(std::string_view text, std::string_view field);

// What an approval of a grant is bound to: approvals::ComputeSubjectSha256
// of kind "grant" over {"agent": agent_id, "intent": IntentToJson(intent),
// "scope": ScopeToJson(scope)}, so a grant's intent_sha256 equals the
// subject_sha256 of its approval. `agent_id` is the agent's SPIFFE ID.
std::string BindingHash(std::string_view agent_id, const Intent& intent, const Scope& scope);

}  // namespace warden::grants
