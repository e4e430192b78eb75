// Strict policy validation: Cedar's typechecker. Each policy is typechecked once
// per request environment (principal type, action, resource type) the schema
// allows; singleton boolean types (True/False) make `&&`, `||` and `if`
// short-circuit during typechecking exactly where evaluation would, and
// "effects" (attributes and tags proven present by `has`/`hasTag`) make guarded
// access to optional attributes and tags safe.
#include "warden/cedar/validator.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "warden/cedar/extensions.h"
#include "warden/cedar/parser.h"

namespace warden::cedar {

namespace {

struct VType;
using VTypePtr = std::shared_ptr<const VType>;

struct VAttr {
  VTypePtr type;
  bool required = true;
};

// A typechecker type. kUnknown follows an error already reported, and
// suppresses follow-on errors.
struct VType {
  enum class K { kUnknown, kTrue, kFalse, kBool, kLong, kString, kSet, kRecord, kEntity, kExt };
  K k = K::kUnknown;
  std::string name;                    // entity type or extension name
  bool action = false;                 // an action entity type
  VTypePtr elem;                       // kSet
  std::map<std::string, VAttr> attrs;  // kRecord
};

using K = VType::K;

VType Make(K k) {
  VType t;
  t.k = k;
  return t;
}
VType EntityT(std::string name, bool action) {
  VType t = Make(K::kEntity);
  t.name = std::move(name);
  t.action = action;
  return t;
}
VType ExtT(std::string name) {
  VType t = Make(K::kExt);
  t.name = std::move(name);
  return t;
}
VType SetT(VType elem) {
  VType t = Make(K::kSet);
  t.elem = std::make_shared<const VType>(std::move(elem));
  return t;
}
VType Singleton(bool b) { return Make(b ? K::kTrue : K::kFalse); }

VType FromSchema(const SchemaType& s) {
  switch (s.kind) {
    case SchemaTypeKind::kBool:
      return Make(K::kBool);
    case SchemaTypeKind::kLong:
      return Make(K::kLong);
    case SchemaTypeKind::kString:
      return Make(K::kString);
    case SchemaTypeKind::kEntity:
      return EntityT(s.name, false);
    case SchemaTypeKind::kExtension:
      return ExtT(s.name);
    case SchemaTypeKind::kSet:
      return SetT(FromSchema(*s.element));
    case SchemaTypeKind::kRecord: {
      VType r = Make(K::kRecord);
      for (const auto& a : s.attributes) {
        r.attrs[a.name] = VAttr{std::make_shared<const VType>(FromSchema(a.type)), a.required};
      }
      return r;
    }
  }
  return Make(K::kUnknown);
}

bool IsBoolish(const VType& t) {
  return t.k == K::kTrue || t.k == K::kFalse || t.k == K::kBool || t.k == K::kUnknown;
}

std::string Show(const VType& t) {
  switch (t.k) {
    case K::kUnknown:
      return "(error)";
    case K::kTrue:
    case K::kFalse:
    case K::kBool:
      return "Bool";
    case K::kLong:
      return "Long";
    case K::kString:
      return "String";
    case K::kSet:
      return "Set<" + Show(*t.elem) + ">";
    case K::kEntity:
    case K::kExt:
      return t.name;
    case K::kRecord: {
      std::string out = "{";
      bool first = true;
      for (const auto& [n, a] : t.attrs) {
        out += (first ? "" : ", ") + n + (a.required ? "" : "?") + ": " + Show(*a.type);
        first = false;
      }
      return out + "}";
    }
  }
  return "?";
}

// Least upper bound in strict mode: booleans join to Bool; everything else
// must match exactly (same entity type, same record attributes and optionality).
std::optional<VType> Lub(const VType& a, const VType& b) {
  if (a.k == K::kUnknown) return b;
  if (b.k == K::kUnknown) return a;
  bool ab = a.k == K::kTrue || a.k == K::kFalse || a.k == K::kBool;
  bool bb = b.k == K::kTrue || b.k == K::kFalse || b.k == K::kBool;
  if (ab && bb) return a.k == b.k ? a : Make(K::kBool);
  if (a.k != b.k) return std::nullopt;
  switch (a.k) {
    case K::kLong:
    case K::kString:
      return a;
    case K::kEntity:
      if (a.name == b.name && a.action == b.action) return a;
      return std::nullopt;
    case K::kExt:
      if (a.name == b.name) return a;
      return std::nullopt;
    case K::kSet: {
      auto e = Lub(*a.elem, *b.elem);
      if (!e) return std::nullopt;
      return SetT(std::move(*e));
    }
    case K::kRecord: {
      if (a.attrs.size() != b.attrs.size()) return std::nullopt;
      VType r = Make(K::kRecord);
      for (const auto& [n, attr] : a.attrs) {
        auto it = b.attrs.find(n);
        if (it == b.attrs.end() || it->second.required != attr.required) return std::nullopt;
        auto l = Lub(*attr.type, *it->second.type);
        if (!l) return std::nullopt;
        r.attrs[n] = VAttr{std::make_shared<const VType>(std::move(*l)), attr.required};
      }
      return r;
    }
    default:
      return std::nullopt;
  }
}

// A structural key for an expression (locations ignored); effects are keyed by it.
std::string ExprKey(const Expr& e) {
  std::string out = "(" + std::to_string(static_cast<int>(e.kind));
  switch (e.kind) {
    case ExprKind::kBool:
      out += e.bool_value ? " t" : " f";
      break;
    case ExprKind::kLong:
      out += " " + std::to_string(e.long_value);
      break;
    case ExprKind::kString:
    case ExprKind::kGetAttr:
    case ExprKind::kMethod:
    case ExprKind::kCall:
      out += " \"" + EscapeCedarString(e.string_value) + "\"";
      break;
    case ExprKind::kEntity:
      out += " " + e.uid.type + "::\"" + EscapeCedarString(e.uid.id) + "\"";
      break;
    case ExprKind::kVar:
      out += " v" + std::to_string(static_cast<int>(e.var));
      break;
    case ExprKind::kSlot:
      out += " s" + std::to_string(static_cast<int>(e.slot));
      break;
    case ExprKind::kIs:
      out += " " + e.entity_type;
      break;
    case ExprKind::kHas:
      for (const auto& a : e.attrs) out += " \"" + EscapeCedarString(a) + "\"";
      break;
    case ExprKind::kRecord:
      for (const auto& k : e.keys) out += " \"" + EscapeCedarString(k) + "\"";
      break;
    case ExprKind::kLike:
      for (const auto& p : e.pattern)
        out += p.wildcard ? " *" : " \"" + EscapeCedarString(p.literal) + "\"";
      break;
    default:
      break;
  }
  for (const auto& c : e.operands) out += " " + ExprKey(*c);
  return out + ")";
}

std::string AttrKey(const std::string& base, const std::string& attr) {
  // Same shape as ExprKey of a kGetAttr node over `base`.
  return "(" + std::to_string(static_cast<int>(ExprKind::kGetAttr)) + " \"" +
         EscapeCedarString(attr) + "\" " + base + ")";
}

using Effects = std::set<std::pair<std::string, std::string>>;

Effects Union(const Effects& a, const Effects& b) {
  Effects out = a;
  out.insert(b.begin(), b.end());
  return out;
}
Effects Intersect(const Effects& a, const Effects& b) {
  Effects out;
  for (const auto& x : a) {
    if (b.count(x)) out.insert(x);
  }
  return out;
}

struct Env {
  std::string principal;
  const ActionDef* action;
  std::string resource;
};

struct Ans {
  VType t;
  Effects eff;
};

std::string Quote(std::string_view s) { return "\"" + EscapeCedarString(s) + "\""; }

std::string UidText(const EntityUidLit& u) { return u.type + "::" + Quote(u.id); }

class Issues {
 public:
  Issues(const std::string& policy_id, std::vector<ValidationIssue>* out)
      : policy_id_(policy_id), out_(out) {}
  void Add(const SourceLoc& loc, std::string message) {
    auto key = std::make_tuple(loc.offset, loc.line, loc.column, message);
    if (!seen_.insert(key).second) return;
    out_->push_back(ValidationIssue{policy_id_, loc, std::move(message)});
  }
  size_t count() const { return out_->size(); }

 private:
  const std::string& policy_id_;
  std::vector<ValidationIssue>* out_;
  std::set<std::tuple<uint32_t, uint32_t, uint32_t, std::string>> seen_;
};

class Typechecker {
 public:
  Typechecker(const Schema& schema, const Env& env, Issues& issues)
      : schema_(schema), env_(env), issues_(issues) {}

  Ans Check(const Expr& e, const Effects& prior) {
    if (++depth_ > 400) {
      --depth_;
      issues_.Add(e.loc, "expression nested too deeply to validate");
      return {Make(K::kUnknown), {}};
    }
    Ans a = CheckInner(e, prior);
    --depth_;
    return a;
  }

  // Types the scope and conditions as Cedar's policy condition:
  // principal && action && resource && conditions..., short-circuiting.
  VType CheckPolicy(const Policy& p) {
    VType acc = Make(K::kTrue);
    for (const ScopeConstraint* sc : {&p.principal, &p.action, &p.resource}) {
      VType s = Scope(*sc);
      acc = And(acc, s);
      if (acc.k == K::kFalse) return acc;
    }
    Effects eff;
    for (const auto& c : p.conditions) {
      Ans a = Check(*c.expr, eff);
      ExpectBool(a.t, c.expr->loc);
      VType t = a.t;
      if (!c.is_when) {
        t = Not(t);
        a.eff.clear();
      }
      acc = And(acc, t);
      if (acc.k == K::kFalse) return acc;
      eff = Union(eff, a.eff);
    }
    return acc;
  }

 private:
  static VType Not(const VType& t) {
    if (t.k == K::kTrue) return Make(K::kFalse);
    if (t.k == K::kFalse) return Make(K::kTrue);
    return Make(K::kBool);
  }
  static VType And(const VType& a, const VType& b) {
    if (a.k == K::kFalse || b.k == K::kFalse) return Make(K::kFalse);
    if (a.k == K::kTrue) return b.k == K::kTrue ? b : Make(K::kBool);
    return Make(K::kBool);
  }
  void Error(const SourceLoc& loc, std::string msg) { issues_.Add(loc, std::move(msg)); }
  void ExpectBool(const VType& t, const SourceLoc& loc) {
    if (!IsBoolish(t)) Error(loc, "unexpected type: expected Bool but saw " + Show(t));
  }
  // True when the type is acceptable as `k` (errors already reported for unknown).
  bool Expect(const VType& t, K k, const SourceLoc& loc, std::string_view what = {}) {
    if (t.k == K::kUnknown || t.k == k) return true;
    Error(loc, "unexpected type: expected " + (what.empty() ? Show(Make(k)) : std::string(what)) +
                   " but saw " + Show(t));
    return false;
  }
  bool ExpectExt(const VType& t, std::string_view ext, const SourceLoc& loc) {
    if (t.k == K::kUnknown || (t.k == K::kExt && t.name == ext)) return true;
    Error(loc, "unexpected type: expected " + std::string(ext) + " but saw " + Show(t));
    return false;
  }

  VType PrincipalT() const { return EntityT(env_.principal, false); }
  VType ResourceT() const { return EntityT(env_.resource, false); }

  VType LiteralT(const EntityUidLit& uid) const {
    if (schema_.IsActionType(uid.type)) {
      if (schema_.FindAction(SchemaUid{uid.type, uid.id})) return EntityT(uid.type, true);
      return Make(K::kUnknown);
    }
    if (schema_.FindEntityType(uid.type)) return EntityT(uid.type, false);
    return Make(K::kUnknown);  // reported by the declaration pass
  }

  // Entity type `lhs` may be `in` an entity of type `rhs`.
  bool MayBeIn(const VType& lhs, const std::string& rhs) const {
    if (lhs.name == rhs) return true;
    if (lhs.action) return schema_.IsActionType(rhs);
    return schema_.AncestorTypes(lhs.name).count(rhs) > 0;
  }

  bool ActionIn(const SchemaUid& a, const EntityUidLit& target) const {
    SchemaUid t{target.type, target.id};
    return a == t || schema_.ActionAncestors(a).count(t) > 0;
  }

  VType Scope(const ScopeConstraint& sc) {
    if (sc.var == Var::kAction) {
      const SchemaUid& a = env_.action->uid;
      switch (sc.op) {
        case ScopeOp::kAny:
          return Make(K::kTrue);
        case ScopeOp::kEq:
          return Singleton(a == SchemaUid{sc.target.uid.type, sc.target.uid.id});
        case ScopeOp::kIn:
          return Singleton(ActionIn(a, sc.target.uid));
        case ScopeOp::kInSet: {
          if (sc.set.empty()) {
            Error(sc.loc, "empty set literals are forbidden in policies");
            return Make(K::kFalse);
          }
          for (const auto& u : sc.set) {
            if (u.type != sc.set.front().type) {
              Error(sc.loc,
                    "the types " + sc.set.front().type + " and " + u.type + " are not compatible");
              return Make(K::kUnknown);
            }
          }
          bool any = false;
          for (const auto& u : sc.set) any = any || ActionIn(a, u);
          return Singleton(any);
        }
        default:
          return Make(K::kBool);
      }
    }
    VType self = sc.var == Var::kPrincipal ? PrincipalT() : ResourceT();
    auto in_target = [&](const EntityOrSlot& t) -> VType {
      if (t.slot) return Make(K::kBool);
      if (LiteralT(t.uid).k == K::kUnknown) return Make(K::kUnknown);
      return MayBeIn(self, t.uid.type) ? Make(K::kBool) : Make(K::kFalse);
    };
    switch (sc.op) {
      case ScopeOp::kAny:
        return Make(K::kTrue);
      case ScopeOp::kEq:
        if (sc.target.slot) return Make(K::kBool);
        if (LiteralT(sc.target.uid).k == K::kUnknown) return Make(K::kUnknown);
        return sc.target.uid.type == self.name ? Make(K::kBool) : Make(K::kFalse);
      case ScopeOp::kIn:
        return in_target(sc.target);
      case ScopeOp::kIs:
        return Singleton(sc.entity_type == self.name);
      case ScopeOp::kIsIn:
        if (sc.entity_type != self.name) return Make(K::kFalse);
        return And(Make(K::kTrue), in_target(sc.target));
      case ScopeOp::kInSet:
        return Make(K::kBool);
    }
    return Make(K::kBool);
  }

  static bool IsLiteral(const Expr& e) {
    return e.kind == ExprKind::kBool || e.kind == ExprKind::kLong || e.kind == ExprKind::kString ||
           e.kind == ExprKind::kEntity;
  }
  static bool LiteralsEqual(const Expr& a, const Expr& b) {
    if (a.kind != b.kind) return false;
    switch (a.kind) {
      case ExprKind::kBool:
        return a.bool_value == b.bool_value;
      case ExprKind::kLong:
        return a.long_value == b.long_value;
      case ExprKind::kString:
        return a.string_value == b.string_value;
      case ExprKind::kEntity:
        return a.uid == b.uid;
      default:
        return false;
    }
  }

  VType Equality(const Expr& e, const Expr& l, const VType& lt, const Expr& r, const VType& rt) {
    if (lt.k == K::kEntity && rt.k == K::kEntity && lt.name != rt.name) return Make(K::kFalse);
    if (IsLiteral(l) && IsLiteral(r)) return Singleton(LiteralsEqual(l, r));
    auto action_vs_lit = [&](const Expr& a, const Expr& b) -> std::optional<bool> {
      if (a.kind == ExprKind::kVar && a.var == Var::kAction && b.kind == ExprKind::kEntity) {
        return env_.action->uid == SchemaUid{b.uid.type, b.uid.id};
      }
      return std::nullopt;
    };
    if (l.kind == ExprKind::kVar && l.var == Var::kAction && r.kind == ExprKind::kVar &&
        r.var == Var::kAction) {
      return Make(K::kTrue);
    }
    if (auto v = action_vs_lit(l, r)) return Singleton(*v);
    if (auto v = action_vs_lit(r, l)) return Singleton(*v);
    if (lt.k != K::kUnknown && rt.k != K::kUnknown && !Lub(lt, rt)) {
      Error(e.loc, "the types " + Show(lt) + " and " + Show(rt) + " are not compatible");
      return Make(K::kUnknown);
    }
    return Make(K::kBool);
  }

  VType InType(const Expr& e, const Expr& lhs, const VType& lt, const Expr& rhs, const VType& rt) {
    if (lt.k != K::kUnknown && lt.k != K::kEntity) {
      Error(lhs.loc, "unexpected type: expected an entity but saw " + Show(lt));
      return Make(K::kUnknown);
    }
    bool rhs_set = rt.k == K::kSet;
    const VType* relem = rhs_set ? rt.elem.get() : &rt;
    if (relem->k != K::kUnknown && relem->k != K::kEntity) {
      Error(rhs.loc,
            "unexpected type: expected an entity or a set of entities but saw " + Show(rt));
      return Make(K::kUnknown);
    }
    if (lt.k == K::kUnknown || relem->k == K::kUnknown) return Make(K::kBool);
    // Literal targets: precise answers for the action hierarchy.
    // The `action` variable is a known uid in each request environment.
    EntityUidLit env_action;
    env_action.type = env_.action->uid.type;
    env_action.id = env_.action->uid.id;
    auto as_literal = [&](const Expr& x) -> const EntityUidLit* {
      if (x.kind == ExprKind::kEntity) return &x.uid;
      if (x.kind == ExprKind::kVar && x.var == Var::kAction) return &env_action;
      return nullptr;
    };
    std::vector<const EntityUidLit*> lits;
    bool all_literal = true;
    if (rhs.kind == ExprKind::kSet) {
      for (const auto& el : rhs.operands) {
        if (const EntityUidLit* u = as_literal(*el)) {
          lits.push_back(u);
        } else {
          all_literal = false;
        }
      }
    } else if (const EntityUidLit* u = as_literal(rhs)) {
      lits.push_back(u);
    } else {
      all_literal = false;
    }
    const SchemaUid* lhs_action = nullptr;
    SchemaUid lit_action;
    if (lhs.kind == ExprKind::kVar && lhs.var == Var::kAction) {
      lhs_action = &env_.action->uid;
    } else if (lhs.kind == ExprKind::kEntity && lt.action) {
      lit_action = SchemaUid{lhs.uid.type, lhs.uid.id};
      lhs_action = &lit_action;
    }
    if (all_literal && lhs_action) {
      bool any = false;
      for (const auto* u : lits) any = any || ActionIn(*lhs_action, *u);
      return Singleton(any);
    }
    (void)e;
    return MayBeIn(lt, relem->name) ? Make(K::kBool) : Make(K::kFalse);
  }

  // `base has attr` where `base` has type `t` and key `key`.
  Ans HasAttr(const VType& t, const std::string& key, const std::string& attr, const Effects& prior,
              const SourceLoc& loc) {
    Effects eff{{key, attr}};
    switch (t.k) {
      case K::kUnknown:
        return {Make(K::kBool), eff};
      case K::kRecord: {
        auto it = t.attrs.find(attr);
        if (it == t.attrs.end()) return {Make(K::kFalse), {}};
        if (it->second.required || prior.count({key, attr})) return {Make(K::kTrue), eff};
        return {Make(K::kBool), eff};
      }
      case K::kEntity: {
        if (t.action) return {Make(K::kFalse), {}};
        const EntityTypeDef* def = schema_.FindEntityType(t.name);
        if (!def || !def->shape.FindAttribute(attr)) return {Make(K::kFalse), {}};
        if (prior.count({key, attr})) return {Make(K::kTrue), eff};
        return {Make(K::kBool), eff};
      }
      default:
        Error(loc, "unexpected type: expected an entity or a record but saw " + Show(t));
        return {Make(K::kUnknown), {}};
    }
  }

  // The type of `base.attr`.
  VType GetAttr(const VType& t, const std::string& key, const std::string& attr,
                const Effects& prior, const SourceLoc& loc) {
    auto described = [&]() {
      if (t.k == K::kEntity) return "on entity type `" + t.name + "`";
      if (key == ExprKeyOfContext()) return "in context for " + env_.action->uid.ToString();
      return std::string("in record type ") + Show(t);
    };
    switch (t.k) {
      case K::kUnknown:
        return t;
      case K::kRecord: {
        auto it = t.attrs.find(attr);
        if (it == t.attrs.end()) {
          Error(loc, "attribute `" + attr + "` " + described() + " not found");
          return Make(K::kUnknown);
        }
        if (!it->second.required && !prior.count({key, attr})) {
          Error(loc, "unable to guarantee safety of access to optional attribute `" + attr + "` " +
                         described() + "; guard it with `has`");
        }
        return *it->second.type;
      }
      case K::kEntity: {
        const EntityTypeDef* def = t.action ? nullptr : schema_.FindEntityType(t.name);
        const SchemaAttribute* a = def ? def->shape.FindAttribute(attr) : nullptr;
        if (!a) {
          Error(loc, "attribute `" + attr + "` " + described() + " not found");
          return Make(K::kUnknown);
        }
        if (!a->required && !prior.count({key, attr})) {
          Error(loc, "unable to guarantee safety of access to optional attribute `" + attr + "` " +
                         described() + "; guard it with `has`");
        }
        return FromSchema(a->type);
      }
      default:
        Error(loc, "unexpected type: expected an entity or a record but saw " + Show(t));
        return Make(K::kUnknown);
    }
  }

  static const std::string& ExprKeyOfContext() {
    static const std::string kKey = [] {
      Expr e;
      e.kind = ExprKind::kVar;
      e.var = Var::kContext;
      return ExprKey(e);
    }();
    return kKey;
  }

  Ans CheckMethod(const Expr& e, const Effects& prior) {
    std::vector<Ans> args;
    for (const auto& op : e.operands) args.push_back(Check(*op, prior));
    auto arity = [&](size_t n) {
      if (args.size() == n) return true;
      Error(e.loc, "`" + std::string(BuiltinFnName(e.fn)) + "` expects " +
                       std::to_string(e.kind == ExprKind::kMethod ? n - 1 : n) + " argument(s)");
      return false;
    };
    auto loc_of = [&](size_t i) -> const SourceLoc& { return e.operands[i]->loc; };
    switch (e.fn) {
      case BuiltinFn::kContains: {
        if (!arity(2)) return {Make(K::kUnknown), {}};
        if (!Expect(args[0].t, K::kSet, loc_of(0), "a set")) return {Make(K::kUnknown), {}};
        if (args[0].t.k == K::kSet && args[1].t.k != K::kUnknown &&
            !Lub(*args[0].t.elem, args[1].t)) {
          Error(e.loc, "the types " + Show(*args[0].t.elem) + " and " + Show(args[1].t) +
                           " are not compatible");
        }
        return {Make(K::kBool), {}};
      }
      case BuiltinFn::kContainsAll:
      case BuiltinFn::kContainsAny: {
        if (!arity(2)) return {Make(K::kUnknown), {}};
        bool ok0 = Expect(args[0].t, K::kSet, loc_of(0), "a set");
        bool ok1 = Expect(args[1].t, K::kSet, loc_of(1), "a set");
        if (ok0 && ok1 && args[0].t.k == K::kSet && args[1].t.k == K::kSet &&
            !Lub(*args[0].t.elem, *args[1].t.elem)) {
          Error(e.loc,
                "the types " + Show(args[0].t) + " and " + Show(args[1].t) + " are not compatible");
        }
        return {Make(K::kBool), {}};
      }
      case BuiltinFn::kIsEmpty:
        if (!arity(1)) return {Make(K::kUnknown), {}};
        Expect(args[0].t, K::kSet, loc_of(0), "a set");
        return {Make(K::kBool), {}};
      case BuiltinFn::kHasTag:
      case BuiltinFn::kGetTag: {
        if (!arity(2)) return {Make(K::kUnknown), {}};
        bool ok = Expect(args[0].t, K::kEntity, loc_of(0), "an entity");
        Expect(args[1].t, K::kString, loc_of(1));
        if (!ok || args[0].t.k == K::kUnknown)
          return {Make(e.fn == BuiltinFn::kHasTag ? K::kBool : K::kUnknown), {}};
        const EntityTypeDef* def =
            args[0].t.action ? nullptr : schema_.FindEntityType(args[0].t.name);
        std::pair<std::string, std::string> key{"tag:" + ExprKey(*e.operands[0]),
                                                ExprKey(*e.operands[1])};
        if (e.fn == BuiltinFn::kHasTag) {
          if (!def || !def->tags) return {Make(K::kFalse), {}};
          return {prior.count(key) ? Make(K::kTrue) : Make(K::kBool), Effects{key}};
        }
        if (!def || !def->tags) {
          Error(e.loc, "entity type `" + args[0].t.name + "` does not declare tags");
          return {Make(K::kUnknown), {}};
        }
        if (!prior.count(key)) {
          std::string tag = e.operands[1]->kind == ExprKind::kString
                                ? Quote(e.operands[1]->string_value)
                                : std::string("(computed)");
          Error(e.loc, "unable to guarantee safety of access to tag `" + tag +
                           "` on entity type `" + args[0].t.name + "`; guard it with `hasTag`");
        }
        return {FromSchema(*def->tags), {}};
      }
      case BuiltinFn::kIp:
      case BuiltinFn::kDecimal:
      case BuiltinFn::kDatetime:
      case BuiltinFn::kDuration: {
        std::string ext = e.fn == BuiltinFn::kIp ? "ipaddr" : std::string(BuiltinFnName(e.fn));
        if (!arity(1)) return {ExtT(ext), {}};
        Expect(args[0].t, K::kString, loc_of(0));
        const Expr& arg = *e.operands[0];
        if (arg.kind != ExprKind::kString) {
          Error(e.loc, "extension constructors may not be called with non-literal expressions");
          return {ExtT(ext), {}};
        }
        Status st;
        if (e.fn == BuiltinFn::kIp) st = IpFromString(arg.string_value).status();
        if (e.fn == BuiltinFn::kDecimal) st = DecimalFromString(arg.string_value).status();
        if (e.fn == BuiltinFn::kDatetime) st = DatetimeFromString(arg.string_value).status();
        if (e.fn == BuiltinFn::kDuration) st = DurationFromString(arg.string_value).status();
        if (!st.ok()) {
          Error(arg.loc, "invalid argument to `" + std::string(BuiltinFnName(e.fn)) +
                             "`: " + Quote(arg.string_value) + " is not a valid " + ext + " (" +
                             st.message() + ")");
        }
        return {ExtT(ext), {}};
      }
      case BuiltinFn::kIsIpv4:
      case BuiltinFn::kIsIpv6:
      case BuiltinFn::kIsLoopback:
      case BuiltinFn::kIsMulticast:
        if (!arity(1)) return {Make(K::kBool), {}};
        ExpectExt(args[0].t, "ipaddr", loc_of(0));
        return {Make(K::kBool), {}};
      case BuiltinFn::kIsInRange:
        if (!arity(2)) return {Make(K::kBool), {}};
        ExpectExt(args[0].t, "ipaddr", loc_of(0));
        ExpectExt(args[1].t, "ipaddr", loc_of(1));
        return {Make(K::kBool), {}};
      case BuiltinFn::kLessThan:
      case BuiltinFn::kLessThanOrEqual:
      case BuiltinFn::kGreaterThan:
      case BuiltinFn::kGreaterThanOrEqual:
        if (!arity(2)) return {Make(K::kBool), {}};
        ExpectExt(args[0].t, "decimal", loc_of(0));
        ExpectExt(args[1].t, "decimal", loc_of(1));
        return {Make(K::kBool), {}};
      case BuiltinFn::kOffset:
        if (!arity(2)) return {ExtT("datetime"), {}};
        ExpectExt(args[0].t, "datetime", loc_of(0));
        ExpectExt(args[1].t, "duration", loc_of(1));
        return {ExtT("datetime"), {}};
      case BuiltinFn::kDurationSince:
        if (!arity(2)) return {ExtT("duration"), {}};
        ExpectExt(args[0].t, "datetime", loc_of(0));
        ExpectExt(args[1].t, "datetime", loc_of(1));
        return {ExtT("duration"), {}};
      case BuiltinFn::kToDate:
        if (!arity(1)) return {ExtT("datetime"), {}};
        ExpectExt(args[0].t, "datetime", loc_of(0));
        return {ExtT("datetime"), {}};
      case BuiltinFn::kToTime:
        if (!arity(1)) return {ExtT("duration"), {}};
        ExpectExt(args[0].t, "datetime", loc_of(0));
        return {ExtT("duration"), {}};
      case BuiltinFn::kToMilliseconds:
      case BuiltinFn::kToSeconds:
      case BuiltinFn::kToMinutes:
      case BuiltinFn::kToHours:
      case BuiltinFn::kToDays:
        if (!arity(1)) return {Make(K::kLong), {}};
        ExpectExt(args[0].t, "duration", loc_of(0));
        return {Make(K::kLong), {}};
    }
    Error(e.loc, "unknown function");
    return {Make(K::kUnknown), {}};
  }

  Ans CheckInner(const Expr& e, const Effects& prior) {
    switch (e.kind) {
      case ExprKind::kBool:
        return {Singleton(e.bool_value), {}};
      case ExprKind::kLong:
        return {Make(K::kLong), {}};
      case ExprKind::kString:
        return {Make(K::kString), {}};
      case ExprKind::kEntity:
        return {LiteralT(e.uid), {}};
      case ExprKind::kVar:
        switch (e.var) {
          case Var::kPrincipal:
            return {PrincipalT(), {}};
          case Var::kResource:
            return {ResourceT(), {}};
          case Var::kAction:
            return {EntityT(env_.action->uid.type, true), {}};
          case Var::kContext:
            return {FromSchema(env_.action->context), {}};
        }
        return {Make(K::kUnknown), {}};
      case ExprKind::kSlot:
        return {e.slot == SlotId::kPrincipal ? PrincipalT() : ResourceT(), {}};
      case ExprKind::kNot: {
        Ans a = Check(*e.operands[0], prior);
        ExpectBool(a.t, e.operands[0]->loc);
        return {Not(a.t), {}};
      }
      case ExprKind::kNeg: {
        Ans a = Check(*e.operands[0], prior);
        Expect(a.t, K::kLong, e.operands[0]->loc);
        return {Make(K::kLong), {}};
      }
      case ExprKind::kEq:
      case ExprKind::kNe: {
        Ans l = Check(*e.operands[0], prior);
        Ans r = Check(*e.operands[1], prior);
        VType t = Equality(e, *e.operands[0], l.t, *e.operands[1], r.t);
        return {e.kind == ExprKind::kNe ? Not(t) : t, {}};
      }
      case ExprKind::kLt:
      case ExprKind::kLe:
      case ExprKind::kGt:
      case ExprKind::kGe: {
        Ans l = Check(*e.operands[0], prior);
        Ans r = Check(*e.operands[1], prior);
        auto orderable = [](const VType& t) {
          return t.k == K::kUnknown || t.k == K::kLong ||
                 (t.k == K::kExt && (t.name == "datetime" || t.name == "duration"));
        };
        bool ok = true;
        for (const auto* a : {&l, &r}) {
          if (!orderable(a->t)) {
            Error(a == &l ? e.operands[0]->loc : e.operands[1]->loc,
                  "unexpected type: expected Long, datetime or duration but saw " + Show(a->t));
            ok = false;
          }
        }
        if (ok && l.t.k != K::kUnknown && r.t.k != K::kUnknown &&
            (l.t.k != r.t.k || l.t.name != r.t.name)) {
          Error(e.loc, "the types " + Show(l.t) + " and " + Show(r.t) + " are not compatible");
        }
        return {Make(K::kBool), {}};
      }
      case ExprKind::kAnd: {
        Ans l = Check(*e.operands[0], prior);
        ExpectBool(l.t, e.operands[0]->loc);
        if (l.t.k == K::kFalse) return {l.t, {}};
        Ans r = Check(*e.operands[1], Union(prior, l.eff));
        ExpectBool(r.t, e.operands[1]->loc);
        if (r.t.k == K::kFalse) return {r.t, {}};
        VType t = l.t.k == K::kTrue && r.t.k == K::kTrue ? Make(K::kTrue) : Make(K::kBool);
        return {t, Union(l.eff, r.eff)};
      }
      case ExprKind::kOr: {
        Ans l = Check(*e.operands[0], prior);
        ExpectBool(l.t, e.operands[0]->loc);
        if (l.t.k == K::kTrue) return l;
        Ans r = Check(*e.operands[1], prior);
        ExpectBool(r.t, e.operands[1]->loc);
        if (l.t.k == K::kFalse) return r;
        if (r.t.k == K::kTrue) return {r.t, r.eff};
        if (r.t.k == K::kFalse) return l;
        return {Make(K::kBool), Intersect(l.eff, r.eff)};
      }
      case ExprKind::kAdd:
      case ExprKind::kSub:
      case ExprKind::kMul: {
        Ans l = Check(*e.operands[0], prior);
        Ans r = Check(*e.operands[1], prior);
        Expect(l.t, K::kLong, e.operands[0]->loc);
        Expect(r.t, K::kLong, e.operands[1]->loc);
        return {Make(K::kLong), {}};
      }
      case ExprKind::kIn: {
        Ans l = Check(*e.operands[0], prior);
        Ans r = Check(*e.operands[1], prior);
        return {InType(e, *e.operands[0], l.t, *e.operands[1], r.t), {}};
      }
      case ExprKind::kHas: {
        Ans base = Check(*e.operands[0], prior);
        std::string key = ExprKey(*e.operands[0]);
        VType cur = base.t;
        Effects eff;
        VType result = Make(K::kTrue);
        for (size_t i = 0; i < e.attrs.size(); ++i) {
          Effects scope = Union(prior, eff);
          Ans h = HasAttr(cur, key, e.attrs[i], scope, e.loc);
          result = And(result, h.t);
          if (result.k == K::kFalse) return {result, {}};
          if (h.t.k == K::kUnknown) return {Make(K::kUnknown), {}};
          eff = Union(eff, h.eff);
          if (i + 1 < e.attrs.size()) {
            cur = GetAttr(cur, key, e.attrs[i], Union(prior, eff), e.loc);
            key = AttrKey(key, e.attrs[i]);
          }
        }
        return {result, eff};
      }
      case ExprKind::kLike: {
        Ans a = Check(*e.operands[0], prior);
        Expect(a.t, K::kString, e.operands[0]->loc);
        return {Make(K::kBool), {}};
      }
      case ExprKind::kIs: {
        Ans a = Check(*e.operands[0], prior);
        if (!Expect(a.t, K::kEntity, e.operands[0]->loc, "an entity") || a.t.k == K::kUnknown) {
          if (e.operands.size() > 1) Check(*e.operands[1], prior);
          return {Make(K::kBool), {}};
        }
        VType is = Singleton(a.t.name == e.entity_type);
        if (is.k == K::kFalse || e.operands.size() < 2) return {is, {}};
        Ans r = Check(*e.operands[1], prior);
        return {And(is, InType(e, *e.operands[0], a.t, *e.operands[1], r.t)), {}};
      }
      case ExprKind::kIf: {
        Ans c = Check(*e.operands[0], prior);
        ExpectBool(c.t, e.operands[0]->loc);
        if (c.t.k == K::kTrue) {
          Ans t = Check(*e.operands[1], Union(prior, c.eff));
          return {t.t, Union(c.eff, t.eff)};
        }
        if (c.t.k == K::kFalse) return Check(*e.operands[2], prior);
        Ans t = Check(*e.operands[1], Union(prior, c.eff));
        Ans f = Check(*e.operands[2], prior);
        auto l = Lub(t.t, f.t);
        if (!l) {
          Error(e.loc, "the types " + Show(t.t) + " and " + Show(f.t) + " are not compatible");
          return {Make(K::kUnknown), {}};
        }
        return {*l, Intersect(Union(c.eff, t.eff), f.eff)};
      }
      case ExprKind::kGetAttr: {
        Ans base = Check(*e.operands[0], prior);
        return {GetAttr(base.t, ExprKey(*e.operands[0]), e.string_value, prior, e.loc), {}};
      }
      case ExprKind::kMethod:
      case ExprKind::kCall:
        return CheckMethod(e, prior);
      case ExprKind::kSet: {
        if (e.operands.empty()) {
          Error(e.loc, "empty set literals are forbidden in policies");
          return {Make(K::kUnknown), {}};
        }
        std::optional<VType> acc;
        bool failed = false;
        for (const auto& op : e.operands) {
          Ans a = Check(*op, prior);
          if (!acc) {
            acc = a.t;
            continue;
          }
          auto l = Lub(*acc, a.t);
          if (!l) {
            if (!failed) {
              Error(e.loc, "the types " + Show(*acc) + " and " + Show(a.t) + " are not compatible");
            }
            failed = true;
            continue;
          }
          acc = std::move(*l);
        }
        if (failed) return {Make(K::kUnknown), {}};
        return {SetT(std::move(*acc)), {}};
      }
      case ExprKind::kRecord: {
        VType r = Make(K::kRecord);
        for (size_t i = 0; i < e.operands.size(); ++i) {
          Ans a = Check(*e.operands[i], prior);
          r.attrs[e.keys[i]] = VAttr{std::make_shared<const VType>(std::move(a.t)), true};
        }
        return {r, {}};
      }
    }
    return {Make(K::kUnknown), {}};
  }

  const Schema& schema_;
  const Env& env_;
  Issues& issues_;
  int depth_ = 0;
};

// Declarations every literal needs, independent of the request environment.
class DeclarationCheck {
 public:
  DeclarationCheck(const Schema& schema, Issues& issues) : schema_(schema), issues_(issues) {}

  void Uid(const EntityUidLit& u) {
    if (schema_.IsActionType(u.type)) {
      if (!schema_.FindAction(SchemaUid{u.type, u.id})) {
        issues_.Add(u.loc, "unrecognized action `" + UidText(u) + "`");
      }
      return;
    }
    const EntityTypeDef* def = schema_.FindEntityType(u.type);
    if (!def) {
      issues_.Add(u.loc, "unrecognized entity type `" + u.type + "`");
      return;
    }
    if (def->enum_ids &&
        std::find(def->enum_ids->begin(), def->enum_ids->end(), u.id) == def->enum_ids->end()) {
      issues_.Add(u.loc, "entity `" + UidText(u) + "` is of an enumerated entity type, but `" +
                             Quote(u.id) + "` is not one of its declared ids");
    }
  }
  void ActionUid(const EntityUidLit& u) {
    if (!schema_.FindAction(SchemaUid{u.type, u.id})) {
      issues_.Add(u.loc, "unrecognized action `" + UidText(u) + "`");
    }
  }
  void Type(const std::string& t, const SourceLoc& loc) {
    if (!schema_.FindEntityType(t) && !schema_.IsActionType(t)) {
      issues_.Add(loc, "unrecognized entity type `" + t + "`");
    }
  }
  void Walk(const Expr& e) {
    if (e.kind == ExprKind::kEntity) Uid(e.uid);
    if (e.kind == ExprKind::kIs) Type(e.entity_type, e.loc);
    for (const auto& c : e.operands) Walk(*c);
  }
  void Scope(const ScopeConstraint& sc) {
    if (sc.var == Var::kAction) {
      if (sc.op == ScopeOp::kEq || sc.op == ScopeOp::kIn) ActionUid(sc.target.uid);
      for (const auto& u : sc.set) ActionUid(u);
      return;
    }
    if ((sc.op == ScopeOp::kEq || sc.op == ScopeOp::kIn || sc.op == ScopeOp::kIsIn) &&
        !sc.target.slot) {
      Uid(sc.target.uid);
    }
    if (sc.op == ScopeOp::kIs || sc.op == ScopeOp::kIsIn) Type(sc.entity_type, sc.loc);
  }

 private:
  const Schema& schema_;
  Issues& issues_;
};

// The entity types a principal/resource scope constraint admits.
std::set<std::string> TypesFor(const Schema& schema, const ScopeConstraint& sc) {
  std::set<std::string> all;
  for (const auto& [n, def] : schema.entity_types()) all.insert(n);
  auto descendants_of = [&](const std::string& t) {
    std::set<std::string> out;
    for (const auto& n : all) {
      if (schema.AncestorTypes(n).count(t)) out.insert(n);
    }
    return out;
  };
  switch (sc.op) {
    case ScopeOp::kAny:
      return all;
    case ScopeOp::kEq:
      return sc.target.slot ? all : std::set<std::string>{sc.target.uid.type};
    case ScopeOp::kIn:
      return sc.target.slot ? all : descendants_of(sc.target.uid.type);
    case ScopeOp::kIs:
      return {sc.entity_type};
    case ScopeOp::kIsIn: {
      if (sc.target.slot) return {sc.entity_type};
      auto d = descendants_of(sc.target.uid.type);
      if (d.count(sc.entity_type)) return {sc.entity_type};
      return {};
    }
    case ScopeOp::kInSet:
      return all;
  }
  return all;
}

std::vector<const ActionDef*> ActionsFor(const Schema& schema, const ScopeConstraint& sc) {
  std::vector<const ActionDef*> out;
  for (const auto& entry : schema.actions()) {
    const SchemaUid& uid = entry.first;
    const ActionDef& def = entry.second;
    auto in = [&](const EntityUidLit& t) {
      SchemaUid tu{t.type, t.id};
      return uid == tu || schema.ActionAncestors(uid).count(tu) > 0;
    };
    bool match = false;
    switch (sc.op) {
      case ScopeOp::kAny:
        match = true;
        break;
      case ScopeOp::kEq:
        match = uid == SchemaUid{sc.target.uid.type, sc.target.uid.id};
        break;
      case ScopeOp::kIn:
        match = in(sc.target.uid);
        break;
      case ScopeOp::kInSet:
        for (const auto& u : sc.set) match = match || in(u);
        break;
      default:
        match = true;
    }
    if (match) out.push_back(&def);
  }
  return out;
}

void ValidateOne(const Schema& schema, const Policy& policy, ValidationResult& result) {
  size_t before = result.errors.size();
  Issues issues(policy.id, &result.errors);
  DeclarationCheck decl(schema, issues);
  decl.Scope(policy.principal);
  decl.Scope(policy.action);
  decl.Scope(policy.resource);
  for (const auto& c : policy.conditions) decl.Walk(*c.expr);

  // A scope that no action's appliesTo admits can never apply.
  auto principals = TypesFor(schema, policy.principal);
  auto resources = TypesFor(schema, policy.resource);
  bool applicable = false;
  for (const ActionDef* a : ActionsFor(schema, policy.action)) {
    bool p = false, r = false;
    for (const auto& t : a->principal_types) p = p || principals.count(t);
    for (const auto& t : a->resource_types) r = r || resources.count(t);
    applicable = applicable || (p && r);
  }
  if (!applicable) {
    issues.Add(policy.loc,
               "unable to find an applicable action given the policy scope "
               "constraints: no action's appliesTo admits this principal, action "
               "and resource");
  }

  bool all_false = true;
  for (const auto& [uid, action] : schema.actions()) {
    for (const auto& p : action.principal_types) {
      for (const auto& r : action.resource_types) {
        Env env{p, &action, r};
        Typechecker tc(schema, env, issues);
        VType t = tc.CheckPolicy(policy);
        if (t.k != K::kFalse) all_false = false;
      }
    }
  }
  if (result.errors.size() == before && all_false) {
    result.warnings.push_back(ValidationIssue{
        policy.id, policy.loc,
        "policy is impossible: the policy expression evaluates to false for all valid requests"});
  }
}

}  // namespace

std::string ValidationIssue::ToString() const {
  return policy_id + " at " + loc.ToString() + ": " + message;
}

std::string ValidationResult::ErrorText() const {
  std::string out;
  for (const auto& e : errors) out += e.ToString() + "\n";
  return out;
}

ValidationResult ValidatePolicy(const Schema& schema, const Policy& policy) {
  ValidationResult result;
  ValidateOne(schema, policy, result);
  return result;
}

ValidationResult ValidatePolicies(const Schema& schema, const PolicySetAst& policies) {
  ValidationResult result;
  for (const auto& p : policies.policies) ValidateOne(schema, p, result);
  // A link is validated as the policy it stands for: the template with its
  // slots replaced by the linked entities.
  for (const auto& link : policies.links) {
    const Policy* tmpl = nullptr;
    for (const auto& p : policies.policies) {
      if (p.id == link.template_id) tmpl = &p;
    }
    if (tmpl == nullptr) {
      result.errors.push_back(
          ValidationIssue{link.link_id, {}, "template `" + link.template_id + "` not found"});
      continue;
    }
    auto instance = InstantiateTemplate(*tmpl, link);
    if (!instance.ok()) {
      result.errors.push_back(
          ValidationIssue{link.link_id, tmpl->loc, instance.status().message()});
      continue;
    }
    ValidateOne(schema, *instance, result);
  }
  return result;
}

Status CheckValueType(const Schema& schema, const Value& value, const SchemaType& type,
                      const std::string& path) {
  auto mismatch = [&]() {
    return InvalidArgument(path + ": expected " + type.ToString() + ", found " +
                           std::string(value.kind_name()) + " " + value.ToString());
  };
  switch (type.kind) {
    case SchemaTypeKind::kBool:
      return value.is_bool() ? OkStatus() : mismatch();
    case SchemaTypeKind::kLong:
      return value.is_long() ? OkStatus() : mismatch();
    case SchemaTypeKind::kString:
      return value.is_string() ? OkStatus() : mismatch();
    case SchemaTypeKind::kEntity:
      if (!value.is_entity() || value.AsEntity().type().name() != type.name) return mismatch();
      return OkStatus();
    case SchemaTypeKind::kExtension: {
      ValueKind want = type.name == "ipaddr"     ? ValueKind::kIpAddr
                       : type.name == "decimal"  ? ValueKind::kDecimal
                       : type.name == "datetime" ? ValueKind::kDatetime
                                                 : ValueKind::kDuration;
      return value.kind() == want ? OkStatus() : mismatch();
    }
    case SchemaTypeKind::kSet: {
      if (!value.is_set()) return mismatch();
      size_t i = 0;
      for (const auto& el : value.AsSet()) {
        WARDEN_RETURN_IF_ERROR(
            CheckValueType(schema, el, *type.element, path + "[" + std::to_string(i++) + "]"));
      }
      return OkStatus();
    }
    case SchemaTypeKind::kRecord: {
      if (!value.is_record()) return mismatch();
      const Record& rec = value.AsRecord();
      for (const auto& [k, v] : rec) {
        const SchemaAttribute* a = type.FindAttribute(k);
        if (!a) {
          std::string msg = path;
          msg += ".";
          msg += k;
          msg += ": attribute `";
          msg += k;
          msg += "` is not declared in the schema (expected ";
          msg += type.ToString();
          msg += ")";
          return InvalidArgument(std::move(msg));
        }
        std::string sub = path;
        sub += ".";
        sub += k;
        WARDEN_RETURN_IF_ERROR(CheckValueType(schema, v, a->type, sub));
      }
      for (const auto& a : type.attributes) {
        if (a.required && !rec.Has(a.name)) {
          return InvalidArgument(path + ": required attribute `" + a.name + "` (" +
                                 a.type.ToString() + ") is missing");
        }
      }
      return OkStatus();
    }
  }
  return InvalidArgument(path + ": unsupported schema type");
}

Status ValidateRequest(const Schema& schema, const Request& request) {
  SchemaUid action{std::string(request.action.type().name()), std::string(request.action.id())};
  const ActionDef* def = schema.FindAction(action);
  if (!def)
    return InvalidArgument("request: action " + action.ToString() +
                           " is not declared in the schema");
  std::string p(request.principal.type().name());
  std::string r(request.resource.type().name());
  auto list = [](const std::set<std::string>& s) {
    std::string out;
    for (const auto& t : s) out += (out.empty() ? "" : ", ") + t;
    return "[" + out + "]";
  };
  if (!def->principal_types.count(p)) {
    return InvalidArgument("request: principal type `" + p + "` is not valid for action " +
                           action.ToString() + " (expected one of " + list(def->principal_types) +
                           ")");
  }
  if (!def->resource_types.count(r)) {
    return InvalidArgument("request: resource type `" + r + "` is not valid for action " +
                           action.ToString() + " (expected one of " + list(def->resource_types) +
                           ")");
  }
  for (const auto* uid : {&request.principal, &request.resource}) {
    const EntityTypeDef* et = schema.FindEntityType(uid->type().name());
    if (et && et->enum_ids &&
        std::find(et->enum_ids->begin(), et->enum_ids->end(), uid->id()) == et->enum_ids->end()) {
      return InvalidArgument("request: entity " + uid->ToString() +
                             " is not one of the declared ids of its enumerated type");
    }
  }
  return CheckValueType(schema, Value::FromRecord(request.context), def->context, "context");
}

}  // namespace warden::cedar
