// Cedar pretty-printer: policies and expressions back to Cedar text. Output
// re-parses to an equal AST (see Equal in ast.h). Comments are not part of the
// AST and are therefore not preserved. Stateless; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "warden/cedar/ast.h"
#include "warden/cedar/parser.h"
#include "warden/core/status.h"

namespace warden::cedar {

// Conventional layout: annotations on their own lines, then
//   permit (
//     principal,
//     action == Action::"read",
//     resource
//   )
//   when { ... };
// Policies are separated by one blank line; the text ends with a newline.
std::string FormatPolicies(const PolicySetAst& policies);
std::string FormatPolicy(const Policy& policy);

// Parses `text` and formats it (errors as in ParsePolicies).
Result<std::string> FormatPolicyText(std::string_view text, std::string_view file_name = {});

// One-line Cedar text of an expression with the minimal parentheses needed to
// parse back to the same tree (used in error messages too).
std::string ExprToString(const Expr& expr);

// Cedar literal text for an entity UID (`Org::User::"al\"ice"`) and for a string
// (quoted, with escapes).
std::string EntityUidToString(const EntityUidLit& uid);
std::string QuoteString(std::string_view s);

}  // namespace warden::cedar
