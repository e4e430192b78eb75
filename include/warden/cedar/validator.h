// Strict validation of Cedar policies against a schema (Cedar's typechecker in
// strict mode) and validation of requests against a schema. A policy is checked
// in every request environment the schema defines (principal type, action,
// resource type, context type); errors name the policy, the place and what was
// expected. Pure functions over immutable inputs; safe to call from any thread.
#pragma once

#include <string>
#include <vector>

#include "warden/cedar/ast.h"
#include "warden/cedar/request.h"
#include "warden/cedar/schema.h"
#include "warden/core/status.h"

namespace warden::cedar {

struct ValidationIssue {
  std::string policy_id;
  SourceLoc loc;
  std::string message;  // what is wrong and what was expected

  // "policy0 at file:3:14: attribute `x` on entity type `User` not found".
  std::string ToString() const;
};

struct ValidationResult {
  std::vector<ValidationIssue> errors;    // any error fails validation
  std::vector<ValidationIssue> warnings;  // e.g. a policy that is always false
  bool ok() const { return errors.empty(); }
  // Every error, one per line; empty when ok().
  std::string ErrorText() const;
};

// Strictly validates every policy and template of `policies` (links: their
// entity types must be declared). Errors include: unknown entity types, actions
// and attributes; unsafe access to optional attributes or tags; operand type
// mismatches; `==`, `if` branches, sets and `contains` over incompatible types;
// empty set literals; extension constructors on non-literal or malformed
// strings; and a scope that no action's appliesTo allows.
ValidationResult ValidatePolicies(const Schema& schema, const PolicySetAst& policies);

// Validates one policy or template.
ValidationResult ValidatePolicy(const Schema& schema, const Policy& policy);

// Checks a request against the schema: the action is declared, the principal
// and resource types are in its appliesTo, and the context has the action's
// context type (required attributes present, no undeclared ones, value types).
// InvalidArgument naming what is wrong.
Status ValidateRequest(const Schema& schema, const Request& request);

// Checks that `value` has schema type `type`; `path` names it in errors.
Status CheckValueType(const Schema& schema, const Value& value, const SchemaType& type,
                      const std::string& path);

}  // namespace warden::cedar
