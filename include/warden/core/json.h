// JSON for hostile input and for hashing. Built on Boost.JSON.
// - ParseJson: bounded parse with precise errors (line and column).
// - StrictObject: reads an object field by field with type checks and rejects
//   unknown fields, so an API body that says more than we understand is refused.
// - CanonicalJson: the deterministic encoding used for digests (sorted keys,
//   no whitespace); documented in docs/formats/audit.md.
// Functions are pure; a StrictObject borrows the value it reads.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/status.h"

namespace warden {

namespace json = boost::json;

struct JsonParseOptions {
  size_t max_depth = 64;
  size_t max_bytes = 1 << 20;
};

// Parses one JSON document. Errors are InvalidArgument with "line L column C".
// Duplicate object keys are rejected (a hostile body must not mean two things).
Result<json::value> ParseJson(std::string_view text, const JsonParseOptions& options = {});

// Deterministic compact encoding: object members sorted by key (byte order),
// no insignificant whitespace, strings escaped minimally as RFC 8259 requires,
// integers in decimal, doubles in shortest round-trip form.
std::string CanonicalJson(const json::value& v);

// Compact encoding preserving member order.
std::string ToJson(const json::value& v);

// Name of a JSON kind for error messages: "string", "object", ...
std::string_view JsonKindName(const json::value& v);

// Reads a JSON object strictly. Each accessor marks the key as known; Finish()
// fails with the first unknown key. Errors carry the dotted field path
// ("limits.max_calls").
class StrictObject {
 public:
  // InvalidArgument when `v` is not an object. `path` prefixes field names.
  static Result<StrictObject> From(const json::value& v, std::string path = {});

  Result<std::string> RequiredString(std::string_view key);
  Result<std::optional<std::string>> OptionalString(std::string_view key);
  Result<std::optional<int64_t>> OptionalInt(std::string_view key);
  Result<std::optional<bool>> OptionalBool(std::string_view key);
  Result<std::optional<std::vector<std::string>>> OptionalStringArray(std::string_view key);
  // The raw member (nullptr when absent); marks the key as known.
  const json::value* Optional(std::string_view key);

  // InvalidArgument naming the first member no accessor asked for.
  Status Finish() const;

  // "prefix.key" or "key".
  std::string FieldPath(std::string_view key) const;

 private:
  StrictObject(const json::object* obj, std::string path) : obj_(obj), path_(std::move(path)) {}
  const json::object* obj_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
};

}  // namespace warden
