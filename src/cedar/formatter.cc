// Cedar printer. Expressions are printed with the fewest parentheses that
// re-parse to the same tree: each child is printed at the binding level its
// parent's grammar rule demands and parenthesized when its own level is lower.
#include "warden/cedar/formatter.h"

#include <cstdio>

namespace warden::cedar {
namespace {

// Grammar levels, loosest first: Expr(if) < Or < And < Relation < Add < Mult <
// Unary < Member < Primary.
enum Level : int {
  kLevelIf = 0,
  kLevelOr,
  kLevelAnd,
  kLevelRelation,
  kLevelAdd,
  kLevelMult,
  kLevelUnary,
  kLevelMember,
  kLevelPrimary,
};

int LevelOf(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kIf: return kLevelIf;
    case ExprKind::kOr: return kLevelOr;
    case ExprKind::kAnd: return kLevelAnd;
    case ExprKind::kEq:
    case ExprKind::kNe:
    case ExprKind::kLt:
    case ExprKind::kLe:
    case ExprKind::kGt:
    case ExprKind::kGe:
    case ExprKind::kIn:
    case ExprKind::kHas:
    case ExprKind::kLike:
    case ExprKind::kIs:
      return kLevelRelation;
    case ExprKind::kAdd:
    case ExprKind::kSub:
      return kLevelAdd;
    case ExprKind::kMul: return kLevelMult;
    case ExprKind::kNot:
    case ExprKind::kNeg:
      return kLevelUnary;
    case ExprKind::kLong: return e.long_value < 0 ? kLevelUnary : kLevelPrimary;
    case ExprKind::kGetAttr:
    case ExprKind::kMethod:
      return kLevelMember;
    default: return kLevelPrimary;
  }
}

std::string_view BinaryOp(ExprKind kind) {
  switch (kind) {
    case ExprKind::kOr: return " || ";
    case ExprKind::kAnd: return " && ";
    case ExprKind::kEq: return " == ";
    case ExprKind::kNe: return " != ";
    case ExprKind::kLt: return " < ";
    case ExprKind::kLe: return " <= ";
    case ExprKind::kGt: return " > ";
    case ExprKind::kGe: return " >= ";
    case ExprKind::kIn: return " in ";
    case ExprKind::kAdd: return " + ";
    case ExprKind::kSub: return " - ";
    case ExprKind::kMul: return " * ";
    default: return " ? ";
  }
}

void AppendEscaped(std::string_view s, bool pattern, std::string* out) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\0': *out += "\\0"; break;
      case '*':
        *out += pattern ? "\\*" : "*";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[12];
          std::snprintf(buf, sizeof(buf), "\\u{%x}", c);
          *out += buf;
        } else {
          out->push_back(ch);
        }
    }
  }
}

std::string AttrName(std::string_view name) {
  return IsValidIdentifier(name) ? std::string(name) : QuoteString(name);
}

void Print(const Expr& e, int min_level, std::string* out);

void PrintList(const std::vector<ExprPtr>& items, size_t from, std::string* out) {
  for (size_t i = from; i < items.size(); ++i) {
    if (i > from) *out += ", ";
    Print(*items[i], kLevelIf, out);
  }
}

void PrintBare(const Expr& e, std::string* out) {
  switch (e.kind) {
    case ExprKind::kBool:
      *out += e.bool_value ? "true" : "false";
      return;
    case ExprKind::kLong:
      *out += std::to_string(e.long_value);
      return;
    case ExprKind::kString:
      *out += QuoteString(e.string_value);
      return;
    case ExprKind::kEntity:
      *out += EntityUidToString(e.uid);
      return;
    case ExprKind::kVar:
      switch (e.var) {
        case Var::kPrincipal: *out += "principal"; break;
        case Var::kAction: *out += "action"; break;
        case Var::kResource: *out += "resource"; break;
        case Var::kContext: *out += "context"; break;
      }
      return;
    case ExprKind::kSlot:
      *out += e.slot == SlotId::kPrincipal ? "?principal" : "?resource";
      return;
    case ExprKind::kNot:
    case ExprKind::kNeg:
      *out += e.kind == ExprKind::kNot ? "!" : "-";
      // A negated integer literal must stay a negation, not fold into the literal.
      if (e.kind == ExprKind::kNeg && e.operands[0]->kind == ExprKind::kLong) {
        *out += '(';
        Print(*e.operands[0], kLevelIf, out);
        *out += ')';
      } else {
        Print(*e.operands[0], kLevelMember, out);
      }
      return;
    case ExprKind::kOr:
    case ExprKind::kAnd:
    case ExprKind::kAdd:
    case ExprKind::kSub:
    case ExprKind::kMul: {
      const int level = LevelOf(e);
      Print(*e.operands[0], level, out);
      *out += BinaryOp(e.kind);
      Print(*e.operands[1], level + 1, out);
      return;
    }
    case ExprKind::kEq:
    case ExprKind::kNe:
    case ExprKind::kLt:
    case ExprKind::kLe:
    case ExprKind::kGt:
    case ExprKind::kGe:
    case ExprKind::kIn:
      Print(*e.operands[0], kLevelAdd, out);
      *out += BinaryOp(e.kind);
      Print(*e.operands[1], kLevelAdd, out);
      return;
    case ExprKind::kHas:
      Print(*e.operands[0], kLevelAdd, out);
      *out += " has ";
      if (e.attrs.size() == 1) {
        *out += AttrName(e.attrs[0]);
      } else {
        for (size_t i = 0; i < e.attrs.size(); ++i) {
          if (i) *out += '.';
          *out += e.attrs[i];
        }
      }
      return;
    case ExprKind::kLike:
      Print(*e.operands[0], kLevelAdd, out);
      *out += " like \"";
      for (const auto& elem : e.pattern) {
        if (elem.wildcard) {
          *out += '*';
        } else {
          AppendEscaped(elem.literal, /*pattern=*/true, out);
        }
      }
      *out += '"';
      return;
    case ExprKind::kIs:
      Print(*e.operands[0], kLevelAdd, out);
      *out += " is ";
      *out += e.entity_type;
      if (e.operands.size() > 1) {
        *out += " in ";
        Print(*e.operands[1], kLevelAdd, out);
      }
      return;
    case ExprKind::kIf:
      *out += "if ";
      Print(*e.operands[0], kLevelIf, out);
      *out += " then ";
      Print(*e.operands[1], kLevelIf, out);
      *out += " else ";
      Print(*e.operands[2], kLevelIf, out);
      return;
    case ExprKind::kGetAttr:
      Print(*e.operands[0], kLevelMember, out);
      if (e.index_syntax || !IsValidIdentifier(e.string_value)) {
        *out += '[';
        *out += QuoteString(e.string_value);
        *out += ']';
      } else {
        *out += '.';
        *out += e.string_value;
      }
      return;
    case ExprKind::kMethod:
      Print(*e.operands[0], kLevelMember, out);
      *out += '.';
      *out += BuiltinFnName(e.fn);
      *out += '(';
      PrintList(e.operands, 1, out);
      *out += ')';
      return;
    case ExprKind::kCall:
      *out += BuiltinFnName(e.fn);
      *out += '(';
      PrintList(e.operands, 0, out);
      *out += ')';
      return;
    case ExprKind::kSet:
      *out += '[';
      PrintList(e.operands, 0, out);
      *out += ']';
      return;
    case ExprKind::kRecord:
      *out += '{';
      for (size_t i = 0; i < e.operands.size(); ++i) {
        if (i) *out += ", ";
        *out += AttrName(e.keys[i]);
        *out += ": ";
        Print(*e.operands[i], kLevelIf, out);
      }
      *out += '}';
      return;
  }
}

void Print(const Expr& e, int min_level, std::string* out) {
  if (LevelOf(e) < min_level) {
    *out += '(';
    PrintBare(e, out);
    *out += ')';
  } else {
    PrintBare(e, out);
  }
}

std::string TargetToString(const EntityOrSlot& target) {
  if (target.slot) return *target.slot == SlotId::kPrincipal ? "?principal" : "?resource";
  return EntityUidToString(target.uid);
}

std::string ScopeToString(const ScopeConstraint& scope) {
  std::string out;
  switch (scope.var) {
    case Var::kPrincipal: out = "principal"; break;
    case Var::kAction: out = "action"; break;
    case Var::kResource: out = "resource"; break;
    case Var::kContext: out = "context"; break;
  }
  switch (scope.op) {
    case ScopeOp::kAny:
      break;
    case ScopeOp::kEq:
      out += " == " + TargetToString(scope.target);
      break;
    case ScopeOp::kIn:
      out += " in " + TargetToString(scope.target);
      break;
    case ScopeOp::kIs:
      out += " is " + scope.entity_type;
      break;
    case ScopeOp::kIsIn:
      out += " is " + scope.entity_type + " in " + TargetToString(scope.target);
      break;
    case ScopeOp::kInSet:
      out += " in [";
      for (size_t i = 0; i < scope.set.size(); ++i) {
        if (i) out += ", ";
        out += EntityUidToString(scope.set[i]);
      }
      out += ']';
      break;
  }
  return out;
}

}  // namespace

std::string QuoteString(std::string_view s) {
  std::string out = "\"";
  AppendEscaped(s, /*pattern=*/false, &out);
  out += '"';
  return out;
}

std::string EntityUidToString(const EntityUidLit& uid) {
  return uid.type + "::" + QuoteString(uid.id);
}

std::string ExprToString(const Expr& expr) {
  std::string out;
  Print(expr, kLevelIf, &out);
  return out;
}

std::string FormatPolicy(const Policy& policy) {
  std::string out;
  for (const auto& annotation : policy.annotations) {
    out += '@';
    out += annotation.key;
    if (annotation.has_value) {
      out += '(';
      out += QuoteString(annotation.value);
      out += ')';
    }
    out += '\n';
  }
  out += policy.effect == Effect::kPermit ? "permit (\n" : "forbid (\n";
  out += "  " + ScopeToString(policy.principal) + ",\n";
  out += "  " + ScopeToString(policy.action) + ",\n";
  out += "  " + ScopeToString(policy.resource) + "\n)";
  for (const auto& condition : policy.conditions) {
    out += condition.is_when ? "\nwhen { " : "\nunless { ";
    out += ExprToString(*condition.expr);
    out += " }";
  }
  out += ";\n";
  return out;
}

std::string FormatPolicies(const PolicySetAst& policies) {
  std::string out;
  for (const auto& policy : policies.policies) {
    if (!out.empty()) out += '\n';
    out += FormatPolicy(policy);
  }
  return out;
}

Result<std::string> FormatPolicyText(std::string_view text, std::string_view file_name) {
  WARDEN_ASSIGN_OR_RETURN(auto policies, ParsePolicies(text, file_name));
  return FormatPolicies(policies);
}

}  // namespace warden::cedar
