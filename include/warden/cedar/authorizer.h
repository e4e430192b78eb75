// Cedar authorization: decides a request against a PolicySet and an entity
// store with Cedar's rules. Default deny; a satisfied forbid overrides every
// permit; a policy whose condition errors does not apply and is reported.
// Pure functions over immutable inputs; safe to call from many threads.
#pragma once

#include <string>
#include <vector>

#include "warden/cedar/entities.h"
#include "warden/cedar/policy_set.h"
#include "warden/cedar/request.h"

namespace warden::cedar {

enum class Decision : uint8_t { kAllow, kDeny };

// "allow" or "deny".
std::string_view DecisionName(Decision d);

// A policy whose evaluation failed, with Cedar's error text.
struct PolicyError {
  std::string policy_id;
  std::string message;
};

struct Diagnostics {
  // Allow: the satisfied permits. Deny: the satisfied forbids (empty when no
  // policy applied, i.e. default deny). Policy order (text order, then links).
  std::vector<std::string> reasons;
  // Every policy whose evaluation errored, in policy order.
  std::vector<PolicyError> errors;
};

struct Response {
  Decision decision = Decision::kDeny;
  Diagnostics diagnostics;
};

// Decides `request`. Only policies whose scope can match are evaluated (found
// through the set's indexes); the answer equals evaluating every policy.
Response IsAuthorized(const PolicySet& policies, const Request& request,
                      const Entities& entities);

// The response as the CLI and API print it, compact with members in this order:
// {"decision":"allow"|"deny","reasons":["policy0",..],
//  "errors":[{"policy":"policy1","message":".."}]}
std::string ResponseToJson(const Response& response);

}  // namespace warden::cedar
