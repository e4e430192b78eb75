// Offline policy tools behind `warden policy authorize|validate|format|test`:
// work on files, need no server. The CLI only parses flags and prints what
// these return. Stateless functions; thread-safe.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "warden/cedar/authorizer.h"
#include "warden/cedar/entities.h"
#include "warden/cedar/policy_set.h"
#include "warden/cedar/schema.h"
#include "warden/core/status.h"

namespace warden::policy {

// Policies, entities and an optional schema loaded from files for repeated
// authorization. With a schema, entities and contexts are parsed through it
// (Cedar's schema-based parsing) and requests are validated against it.
class OfflineAuthorizer {
 public:
  // Errors name the file (and line:column for policy and schema text).
  static Result<OfflineAuthorizer> Load(const std::string& policies_path,
                                        const std::string& entities_path,
                                        const std::optional<std::string>& schema_path);

  // Decides one request given as JSON {"principal":{"type","id"},"action":{..},
  // "resource":{..},"context":{..}} (context optional). InvalidArgument with the
  // field for a malformed or (with a schema) ill-typed request.
  Result<cedar::Response> Authorize(const boost::json::value& request) const;

 private:
  std::shared_ptr<const cedar::PolicySet> policies_;
  std::shared_ptr<const cedar::Schema> schema_;
  std::shared_ptr<const cedar::Entities> entities_;
};

// Reads a whole file; NotFound / Unavailable with the path.
Result<std::string> ReadTextFile(const std::string& path);

// Validates policies against a schema. OK with the number of policies, or
// InvalidArgument listing every error as "file:line:column: message".
Result<size_t> ValidateFiles(const std::string& policies_path, const std::string& schema_path);

// Cedar's conventional layout for a policy file; parse errors as ParsePolicies.
Result<std::string> FormatFile(const std::string& path);

// One case of a policy test file and its outcome.
struct PolicyTestCase {
  std::string name;
  bool passed = false;
  std::string expected;  // "allow" | "deny"
  std::string actual;    // "allow" | "deny" | "error"
  std::string detail;    // why it failed, or the reasons when it passed
};

// Runs a test file: {"policies": PATH, "entities": PATH, "schema": PATH?,
// "cases": [{"name", "request": {...}, "decision": "allow"|"deny",
// "reasons"?: [...]}]} with paths relative to the file. Errors in the file
// itself (unknown members, missing fields) are InvalidArgument with the field.
Result<std::vector<PolicyTestCase>> RunPolicyTests(const std::string& path);

}  // namespace warden::policy
