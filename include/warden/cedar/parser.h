// Cedar (language 4.5) parser: policy-set text to the AST of ast.h, plus single
// expressions, entity UIDs and template-link instantiation. Never throws; all
// errors are values with "file:line:column: message" text. Stateless functions,
// safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "warden/cedar/ast.h"
#include "warden/core/status.h"

namespace warden::cedar {

// One syntax error at a precise place.
struct ParseError {
  SourceLoc loc;
  std::string message;  // "expected `)`, found `;`" (no location prefix)

  // "file:line:column: message".
  std::string ToString() const;
};

// Limits that bound the work and memory hostile input can cause (an expression
// node takes about 350 bytes; raise the limits for very large policy sets).
struct ParseLimits {
  size_t max_input_bytes = 2u << 20;  // whole text
  size_t max_expr_nodes = 250000;     // expression nodes in the whole text
  uint32_t max_nesting = 200;         // nested parentheses, brackets, calls, if
  uint32_t max_expr_height = 1000;    // height of any expression tree (long && chains)
  uint32_t max_errors = 20;           // errors collected before giving up
};

// Parses a policy set. Policies and templates get ids `policy0`, `policy1`, ... in
// text order. On failure returns InvalidArgument whose message lists every error
// found (one per line, "file:line:column: message"; at most limits.max_errors).
// `file_name` is only used in locations and messages.
Result<PolicySetAst> ParsePolicies(std::string_view text, std::string_view file_name = {},
                                   const ParseLimits& limits = {});

// Like ParsePolicies but returns the individual errors (empty on success).
PolicySetAst ParsePoliciesCollectingErrors(std::string_view text, std::string_view file_name,
                                           std::vector<ParseError>* errors,
                                           const ParseLimits& limits = {});

// Parses exactly one policy or template (with `policy_id` as its id).
Result<Policy> ParsePolicy(std::string_view text, std::string_view policy_id = "policy0",
                           std::string_view file_name = {}, const ParseLimits& limits = {});

// Parses a standalone expression (no slots allowed), e.g. `principal.age > 3`.
Result<ExprPtr> ParseExpression(std::string_view text, std::string_view file_name = {},
                                const ParseLimits& limits = {});

// Parses an entity UID literal such as `Org::User::"alice"` (surrounding
// whitespace and comments allowed).
Result<EntityUidLit> ParseEntityUid(std::string_view text);

// Parses an entity type name such as `Org::User` (checks identifiers and
// reserved words).
Result<std::string> ParseEntityTypeName(std::string_view text);

// True when `name` is a valid Cedar identifier that is not a reserved word
// (usable unquoted as an attribute, record key or name component).
bool IsValidIdentifier(std::string_view name);

// Builds the concrete policy for `link`: clones `tmpl`, sets its id to
// link.link_id and replaces each slot with the linked entity. InvalidArgument
// when `tmpl` is not a template, its id differs from link.template_id, or a slot
// the template uses has no value (or a value is given for an unused slot).
Result<Policy> InstantiateTemplate(const Template& tmpl, const TemplateLink& link);

}  // namespace warden::cedar
