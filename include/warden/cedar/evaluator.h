// Cedar expression and policy evaluation (Cedar 4.x semantics, no schema needed):
// type errors, missing attributes and entities, checked Long arithmetic and
// short-circuit && and || all behave as in Cedar. For deciding requests use the
// authorizer (authorizer.h), which evaluates a pre-compiled PolicySet; these
// functions compile on every call and exist for tools and tests.
// Stateless; safe to call from any thread.
#pragma once

#include "warden/cedar/ast.h"
#include "warden/cedar/entities.h"
#include "warden/cedar/request.h"
#include "warden/cedar/value.h"
#include "warden/core/status.h"

namespace warden::cedar {

// Evaluates `expr` against a request and entity store. InvalidArgument carries
// Cedar's evaluation error text ("type error: expected bool, got long",
// "entity `User::\"x\"` does not exist", ...). Slots are an error.
Result<Value> EvaluateExpression(const Expr& expr, const Request& request,
                                 const Entities& entities);

// Whether a static policy (or an instantiated template link) is satisfied:
// its scope matches and every `when` holds and no `unless` does. Errors as for
// EvaluateExpression; a scope that still contains a slot is InvalidArgument.
// The effect (permit/forbid) is not considered.
Result<bool> EvaluatePolicy(const Policy& policy, const Request& request,
                            const Entities& entities);

}  // namespace warden::cedar
