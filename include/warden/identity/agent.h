// Agent: a registered workload identity (SPIFFE ID, accountable owner,
// purpose, environment, expiry, attestation selectors, status), plus the
// validation rules for its fields, which the CLI may also run locally.
// Plain values and pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/status.h"

namespace warden::identity {

enum class AgentStatus { kActive, kSuspended, kRetired };

// "active" | "suspended" | "retired".
std::string_view AgentStatusName(AgentStatus status);
// Inverse of AgentStatusName; InvalidArgument listing the accepted names.
Result<AgentStatus> ParseAgentStatus(std::string_view text);

struct Agent {
  std::string name;
  std::string spiffe_id;  // spiffe://<trust-domain>/agent/<name>
  std::string owner;
  std::string purpose;
  std::string environment;
  TimePoint expires_at;
  std::vector<std::string> selectors;         // sorted, unique
  AgentStatus status = AgentStatus::kActive;  // as stored
  TimePoint created_at;
  TimePoint updated_at;
  int64_t version = 0;  // 1 on creation, +1 on every change

  bool IsExpired(TimePoint now) const { return now >= expires_at; }
  // Status as seen by every check: an expired active agent is suspended.
  AgentStatus EffectiveStatus(TimePoint now) const;
};

// Create request. Exactly one of expires_at / expires_in must be set.
struct AgentSpec {
  std::string name;
  std::string owner;
  std::string purpose;
  std::string environment;
  std::optional<TimePoint> expires_at;
  std::optional<std::chrono::seconds> expires_in;
  std::vector<std::string> selectors;
};

// Update request: absent members stay unchanged. At most one of expires_at /
// expires_in. `expected_version`, when set, must equal the stored version
// (optimistic concurrency; Aborted otherwise).
struct AgentPatch {
  std::optional<std::string> owner;
  std::optional<std::string> purpose;
  std::optional<std::string> environment;
  std::optional<TimePoint> expires_at;
  std::optional<std::chrono::seconds> expires_in;
  std::optional<std::vector<std::string>> selectors;
  std::optional<int64_t> expected_version;

  bool empty() const {
    return !owner && !purpose && !environment && !expires_at && !expires_in && !selectors;
  }
};

// List filter; absent members match everything. `status` compares against
// the effective status (an expired active agent lists as suspended).
struct AgentFilter {
  std::optional<AgentStatus> status;
  std::optional<std::string> owner;
  std::optional<std::string> environment;
};

inline constexpr size_t kMaxOwnerLength = 256;
inline constexpr size_t kMaxPurposeLength = 1024;
inline constexpr size_t kMaxReasonLength = 1024;
inline constexpr size_t kMaxSelectors = 64;

// Name rule: [a-z0-9][a-z0-9-_.]{0,62}. InvalidArgument with field "name".
Status ValidateAgentName(std::string_view name);

// Trims ASCII whitespace from both ends, then requires a non-empty value of
// at most `max_length` bytes of valid UTF-8 without control characters.
// InvalidArgument with `field`.
Result<std::string> NormalizeText(std::string_view value, std::string_view field,
                                  size_t max_length);

// Validates one selector. Accepted forms: unix:uid:<n>, unix:gid:<n>,
// unix:user:<name>, unix:path:/<absolute path>, unix:sha256:<64 hex>.
// InvalidArgument (with `field`) listing the accepted forms otherwise.
Status ValidateSelector(std::string_view selector, std::string_view field);

// Validates every selector (fields "selectors[i]"), then sorts and dedupes.
Result<std::vector<std::string>> NormalizeSelectors(std::vector<std::string> selectors);

// Trust domain rule (SPIFFE): lower-case letters, digits, '.', '-', '_',
// 1..255 bytes. InvalidArgument with field "trust_domain".
Status ValidateTrustDomain(std::string_view trust_domain);

// "spiffe://<trust_domain>/agent/<name>"; arguments must be valid.
std::string SpiffeIdFor(std::string_view trust_domain, std::string_view name);

// The inverse: "spiffe://<trust_domain>/agent/<name>" -> <name>, validated.
// Unauthenticated (it judges a token's subject) naming what is wrong.
Result<std::string> AgentNameFromSpiffeId(std::string_view spiffe_id,
                                          std::string_view trust_domain);

}  // namespace warden::identity
