// Helpers on the Cedar AST: builtin name tables, deep copy and structural equality.
#include "warden/cedar/ast.h"

#include <array>
#include <utility>

namespace warden::cedar {
namespace {

struct BuiltinInfo {
  BuiltinFn fn;
  std::string_view name;
  bool function_syntax;
};

// Every builtin, in BuiltinFn order (checked by the index lookups below).
constexpr std::array<BuiltinInfo, 28> kBuiltins = {{
    {BuiltinFn::kContains, "contains", false},
    {BuiltinFn::kContainsAll, "containsAll", false},
    {BuiltinFn::kContainsAny, "containsAny", false},
    {BuiltinFn::kIsEmpty, "isEmpty", false},
    {BuiltinFn::kHasTag, "hasTag", false},
    {BuiltinFn::kGetTag, "getTag", false},
    {BuiltinFn::kIp, "ip", true},
    {BuiltinFn::kDecimal, "decimal", true},
    {BuiltinFn::kDatetime, "datetime", true},
    {BuiltinFn::kDuration, "duration", true},
    {BuiltinFn::kIsIpv4, "isIpv4", false},
    {BuiltinFn::kIsIpv6, "isIpv6", false},
    {BuiltinFn::kIsLoopback, "isLoopback", false},
    {BuiltinFn::kIsMulticast, "isMulticast", false},
    {BuiltinFn::kIsInRange, "isInRange", false},
    {BuiltinFn::kLessThan, "lessThan", false},
    {BuiltinFn::kLessThanOrEqual, "lessThanOrEqual", false},
    {BuiltinFn::kGreaterThan, "greaterThan", false},
    {BuiltinFn::kGreaterThanOrEqual, "greaterThanOrEqual", false},
    {BuiltinFn::kOffset, "offset", false},
    {BuiltinFn::kDurationSince, "durationSince", false},
    {BuiltinFn::kToDate, "toDate", false},
    {BuiltinFn::kToTime, "toTime", false},
    {BuiltinFn::kToMilliseconds, "toMilliseconds", false},
    {BuiltinFn::kToSeconds, "toSeconds", false},
    {BuiltinFn::kToMinutes, "toMinutes", false},
    {BuiltinFn::kToHours, "toHours", false},
    {BuiltinFn::kToDays, "toDays", false},
}};

constexpr bool TableInOrder() {
  for (size_t i = 0; i < kBuiltins.size(); ++i) {
    if (static_cast<size_t>(kBuiltins[i].fn) != i) return false;
  }
  return true;
}
static_assert(TableInOrder(), "kBuiltins must follow BuiltinFn order");

bool Equal(const EntityOrSlot& a, const EntityOrSlot& b) {
  if (a.slot != b.slot) return false;
  return a.slot.has_value() || a.uid == b.uid;
}

bool Equal(const ScopeConstraint& a, const ScopeConstraint& b) {
  return a.var == b.var && a.op == b.op && a.entity_type == b.entity_type &&
         Equal(a.target, b.target) && a.set == b.set;
}

}  // namespace

std::string SourceLoc::ToString() const {
  std::string out;
  if (file && !file->empty()) {
    out += *file;
    out += ':';
  }
  out += std::to_string(line);
  out += ':';
  out += std::to_string(column);
  return out;
}

std::string_view BuiltinFnName(BuiltinFn fn) {
  return kBuiltins[static_cast<size_t>(fn)].name;
}

bool BuiltinFnIsFunction(BuiltinFn fn) {
  return kBuiltins[static_cast<size_t>(fn)].function_syntax;
}

std::optional<BuiltinFn> LookupBuiltinFn(std::string_view name, bool function_syntax) {
  for (const auto& info : kBuiltins) {
    if (info.name == name && info.function_syntax == function_syntax) return info.fn;
  }
  return std::nullopt;
}

ExprPtr Clone(const Expr& expr) {
  auto out = std::make_unique<Expr>();
  out->kind = expr.kind;
  out->loc = expr.loc;
  out->bool_value = expr.bool_value;
  out->var = expr.var;
  out->slot = expr.slot;
  out->fn = expr.fn;
  out->long_value = expr.long_value;
  out->string_value = expr.string_value;
  out->entity_type = expr.entity_type;
  out->uid = expr.uid;
  out->operands.reserve(expr.operands.size());
  for (const auto& child : expr.operands) out->operands.push_back(Clone(*child));
  out->attrs = expr.attrs;
  out->keys = expr.keys;
  out->pattern = expr.pattern;
  out->index_syntax = expr.index_syntax;
  return out;
}

bool Equal(const Expr& a, const Expr& b) {
  if (a.kind != b.kind || a.operands.size() != b.operands.size()) return false;
  switch (a.kind) {
    case ExprKind::kBool:
      if (a.bool_value != b.bool_value) return false;
      break;
    case ExprKind::kLong:
      if (a.long_value != b.long_value) return false;
      break;
    case ExprKind::kString:
    case ExprKind::kGetAttr:
      if (a.string_value != b.string_value) return false;
      break;
    case ExprKind::kEntity:
      if (!(a.uid == b.uid)) return false;
      break;
    case ExprKind::kVar:
      if (a.var != b.var) return false;
      break;
    case ExprKind::kSlot:
      if (a.slot != b.slot) return false;
      break;
    case ExprKind::kHas:
      if (a.attrs != b.attrs) return false;
      break;
    case ExprKind::kLike:
      if (a.pattern != b.pattern) return false;
      break;
    case ExprKind::kIs:
      if (a.entity_type != b.entity_type) return false;
      break;
    case ExprKind::kMethod:
    case ExprKind::kCall:
      if (a.fn != b.fn) return false;
      break;
    case ExprKind::kRecord:
      if (a.keys != b.keys) return false;
      break;
    default:
      break;
  }
  for (size_t i = 0; i < a.operands.size(); ++i) {
    if (!Equal(*a.operands[i], *b.operands[i])) return false;
  }
  return true;
}

bool Policy::IsTemplate() const {
  return principal.target.slot.has_value() || resource.target.slot.has_value();
}

std::optional<std::string_view> Policy::FindAnnotation(std::string_view key) const {
  for (const auto& annotation : annotations) {
    if (annotation.key == key) return std::string_view(annotation.value);
  }
  return std::nullopt;
}

Policy Clone(const Policy& policy) {
  Policy out;
  out.id = policy.id;
  out.effect = policy.effect;
  out.annotations = policy.annotations;
  out.principal = policy.principal;
  out.action = policy.action;
  out.resource = policy.resource;
  out.conditions.reserve(policy.conditions.size());
  for (const auto& condition : policy.conditions) {
    out.conditions.push_back(Condition{condition.is_when, Clone(*condition.expr), condition.loc});
  }
  out.loc = policy.loc;
  return out;
}

bool Equal(const Policy& a, const Policy& b) {
  if (a.id != b.id || a.effect != b.effect) return false;
  if (a.annotations.size() != b.annotations.size()) return false;
  for (size_t i = 0; i < a.annotations.size(); ++i) {
    if (a.annotations[i].key != b.annotations[i].key ||
        a.annotations[i].value != b.annotations[i].value ||
        a.annotations[i].has_value != b.annotations[i].has_value) {
      return false;
    }
  }
  if (!Equal(a.principal, b.principal) || !Equal(a.action, b.action) ||
      !Equal(a.resource, b.resource)) {
    return false;
  }
  if (a.conditions.size() != b.conditions.size()) return false;
  for (size_t i = 0; i < a.conditions.size(); ++i) {
    if (a.conditions[i].is_when != b.conditions[i].is_when) return false;
    if (!Equal(*a.conditions[i].expr, *b.conditions[i].expr)) return false;
  }
  return true;
}

}  // namespace warden::cedar
