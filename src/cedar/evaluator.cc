#include "warden/cedar/evaluator.h"

#include <array>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cedar/internal/eval_compiled.h"

namespace warden::cedar {
namespace internal {
namespace {

// The result of evaluating a node: either borrowed (`ref`, pointing into a
// compiled constant, the request, the entity store, or data they share) or
// owned. Borrowing keeps attribute reads and comparisons free of copies.
class Out {
 public:
  Out() = default;
  // Not copyable: `ref_` may point into `own_`.
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;
  // Precondition: Ref, Own or Bool was called (every successful evaluation does).
  const Value& get() const { return *ref_; }
  // False only while `ref_` points at `own_`.
  bool borrowed() const { return !own_.has_value() || ref_ != &*own_; }
  void Ref(const Value& v) { ref_ = &v; }
  void Own(Value v) {
    // `own_` stays empty until needed: most results are borrowed, and an empty
    // optional costs nothing to construct or destroy.
    own_ = std::move(v);
    ref_ = &*own_;
  }
  // Stores `part`, a sub-value of `whole`'s current value: borrowed when `whole`
  // is borrowed (it lives long enough), copied otherwise.
  void Part(const Out& whole, const Value& part) {
    if (whole.borrowed()) {
      Ref(part);
    } else {
      Own(part);
    }
  }
  // Borrows a process-lifetime constant, so bool results never touch `own_`.
  void Bool(bool b);
  // A copy of the current value (cheap: contents are shared).
  Value Take() const { return get(); }

 private:
  const Value* ref_ = nullptr;
  std::optional<Value> own_;
};

const Value& BoolConstant(bool b) {
  static const Value* const kTrue = new Value(Value::Bool(true));
  static const Value* const kFalse = new Value(Value::Bool(false));
  return b ? *kTrue : *kFalse;
}

void Out::Bool(bool b) { Ref(BoolConstant(b)); }

// Path cache entry meaning "the last attribute is absent" (see kHas).
const Value& AbsentMarker() {
  static const Value* const kAbsent = new Value();
  return *kAbsent;
}

// Error text is built only when evaluation fails, so the success path does not
// allocate for it.
std::string TypeError(std::string_view expected, const Value& got) {
  std::string m = "type error: expected ";
  m += expected;
  m += ", got ";
  m += got.kind_name();
  return m;
}

constexpr std::string_view kEntityOrRecord =
    "one of [record, (entity of type `any_entity_type`)]";
constexpr std::string_view kAnyEntity = "(entity of type `any_entity_type`)";

class Evaluator {
 public:
  Evaluator(const EvalEnv& env, std::string* error) : env_(env), error_(error) {}

  bool Eval(const CNode& n, Out& out);

  // Evaluates a condition that must produce a bool. Operators whose result is
  // always a bool are computed here directly, without building a Value.
  bool EvalBool(const CNode& n, bool* result);

 private:
  // EvalBool without the request's result cache.
  bool EvalBoolUncached(const CNode& n, bool* result);
  bool Fail(std::string message) {
    *error_ = std::move(message);
    return false;
  }

  bool EvalAttr(const Out& base, const std::string& attr, Out& out);
  // A kGetAttr chain rooted at a variable (n.var_path): the same steps and
  // errors as evaluating the nested nodes, without the intermediate results.
  bool EvalVarPath(const CNode& n, Out& out);
  const Value& VarValue(Var v) const {
    switch (v) {
      case Var::kPrincipal:
        return env_.principal;
      case Var::kAction:
        return env_.action;
      case Var::kResource:
        return env_.resource;
      case Var::kContext:
        break;
    }
    return env_.context;
  }
  bool EvalHas(const Out& base, const std::string& attr, bool* result);
  // What `has` looks at: the member or entity attribute `attr` of `v`
  // (*found = nullptr when absent, including an entity missing from the
  // store); a type error when `v` is neither a record nor an entity.
  bool FindMember(const Value& v, const std::string& attr, const Value** found);
  bool EvalIn(const Value& lhs, const Value& rhs, bool* result);
  bool EvalMethod(const CNode& n, Out& out);
  bool EvalCall(const CNode& n, Out& out);
  bool EvalArith(const CNode& n, const Value& a, const Value& b, Out& out);
  // The bool-valued operators (kNot, kAnd, kOr, comparisons, kIn, kHas, kLike,
  // kIs); `n` must be one of them and not constant.
  bool EvalBoolOp(const CNode& n, bool* result);
  // The store entry for `uid` (nullptr when absent); the request entities are
  // looked up once per request.
  const Entity* FindEntity(const EntityUid& uid) const {
    if (uid == env_.principal.AsEntity()) return env_.principal_entity;
    if (uid == env_.resource.AsEntity()) return env_.resource_entity;
    return env_.entities->Find(uid);
  }
  // Cedar `a in b` for entities (see Entities::In).
  bool EntityIn(const EntityUid& a, const EntityUid& b) const {
    if (a == b) return true;
    if (a == env_.principal.AsEntity()) return env_.principal_ancestors->Contains(b);
    if (a == env_.resource.AsEntity()) return env_.resource_ancestors->Contains(b);
    if (a == env_.action.AsEntity()) return env_.action_ancestors->Contains(b);
    return env_.entities->In(a, b);
  }

  const EvalEnv& env_;
  std::string* error_;
};

bool Evaluator::EvalAttr(const Out& base, const std::string& attr, Out& out) {
  const Value& v = base.get();
  if (const Record* rec = v.TryRecord()) {
    const Value* found = rec->Find(attr);
    if (found == nullptr) return Fail("record does not have the attribute `" + attr + "`");
    out.Part(base, *found);
    return true;
  }
  if (const EntityUid* uid = v.TryEntity()) {
    const Entity* e = FindEntity(*uid);
    if (e == nullptr) return Fail("entity `" + uid->ToString() + "` does not exist");
    const Value* found = e->attrs.Find(attr);
    if (found == nullptr) {
      return Fail("`" + uid->ToString() + "` does not have the attribute `" + attr + "`");
    }
    // Entity data lives in the store, which outlives the evaluation.
    out.Ref(*found);
    return true;
  }
  return Fail(TypeError(kEntityOrRecord, v));
}

bool Evaluator::EvalVarPath(const CNode& n, Out& out) {
  // Every step borrows: variables live in the environment, record members in
  // the request or the store, entity attributes in the store.
  const bool cached = n.path_slot != CNode::kNoSlot && env_.path_cache != nullptr;
  // An absent marker (left by `has`) means this read fails; it is redone
  // below for the error text.
  if (cached && env_.path_cache[n.path_slot] != nullptr &&
      env_.path_cache[n.path_slot] != &AbsentMarker()) {
    out.Ref(*env_.path_cache[n.path_slot]);
    return true;
  }
  const Value* cur = &VarValue(n.var);
  for (const std::string& attr : n.var_path) {
    if (const Record* rec = cur->TryRecord()) {
      const Value* found = rec->Find(attr);
      if (found == nullptr) return Fail("record does not have the attribute `" + attr + "`");
      cur = found;
    } else if (const EntityUid* uid = cur->TryEntity()) {
      const Entity* e = FindEntity(*uid);
      if (e == nullptr) return Fail("entity `" + uid->ToString() + "` does not exist");
      const Value* found = e->attrs.Find(attr);
      if (found == nullptr) {
        return Fail("`" + uid->ToString() + "` does not have the attribute `" + attr + "`");
      }
      cur = found;
    } else {
      return Fail(TypeError(kEntityOrRecord, *cur));
    }
  }
  // Only successes are cached: a failing path fails again with the same text.
  if (cached) env_.path_cache[n.path_slot] = cur;
  out.Ref(*cur);
  return true;
}

bool Evaluator::FindMember(const Value& v, const std::string& attr, const Value** found) {
  if (const Record* rec = v.TryRecord()) {
    *found = rec->Find(attr);
    return true;
  }
  if (const EntityUid* uid = v.TryEntity()) {
    // An entity missing from the store has no attributes (not an error).
    const Entity* e = FindEntity(*uid);
    *found = e == nullptr ? nullptr : e->attrs.Find(attr);
    return true;
  }
  return Fail(TypeError(kEntityOrRecord, v));
}

bool Evaluator::EvalHas(const Out& base, const std::string& attr, bool* result) {
  const Value* found = nullptr;
  if (!FindMember(base.get(), attr, &found)) return false;
  *result = found != nullptr;
  return true;
}

bool Evaluator::EvalIn(const Value& lhs, const Value& rhs, bool* result) {
  const EntityUid* a = lhs.TryEntity();
  if (a == nullptr) return Fail(TypeError(kAnyEntity, lhs));
  if (const EntityUid* b = rhs.TryEntity()) {
    *result = EntityIn(*a, *b);
    return true;
  }
  const Set* set = rhs.TrySet();
  if (set == nullptr) return Fail(TypeError("one of [set, (entity of type `any_entity_type`)]", rhs));
  // Cedar checks every element is an entity before answering.
  for (const Value& e : *set) {
    if (!e.is_entity()) return Fail(TypeError(kAnyEntity, e));
  }
  for (const Value& e : *set) {
    if (EntityIn(*a, e.AsEntity())) {
      *result = true;
      return true;
    }
  }
  *result = false;
  return true;
}

bool Evaluator::EvalArith(const CNode& n, const Value& a, const Value& b, Out& out) {
  const int64_t* x = a.TryLong();
  if (x == nullptr) return Fail(TypeError("long", a));
  const int64_t* y = b.TryLong();
  if (y == nullptr) return Fail(TypeError("long", b));
  int64_t r = 0;
  bool ok = false;
  std::string_view verb;
  switch (n.kind) {
    case ExprKind::kAdd:
      ok = CheckedAdd(*x, *y, &r);
      verb = "add";
      break;
    case ExprKind::kSub:
      ok = CheckedSub(*x, *y, &r);
      verb = "subtract";
      break;
    default:
      ok = CheckedMul(*x, *y, &r);
      verb = "multiply";
      break;
  }
  if (!ok) {
    return Fail("integer overflow while attempting to " + std::string(verb) + " the values `" +
                std::to_string(*x) + "` and `" + std::to_string(*y) + "`");
  }
  out.Own(Value::Long(r));
  return true;
}

bool Evaluator::EvalCall(const CNode& n, Out& out) {
  if (n.ext == nullptr) return Fail("unknown extension function `" + n.name + "`");
  std::array<Value, 2> args;
  if (n.kids.size() > args.size()) return Fail("`" + n.name + "` expects fewer arguments");
  for (size_t i = 0; i < n.kids.size(); ++i) {
    Out o;
    if (!Eval(n.kids[i], o)) return false;
    args[i] = o.Take();
  }
  Result<Value> r = CallExtensionFunction(*n.ext, std::span<const Value>(args.data(), n.kids.size()));
  if (!r.ok()) return Fail(r.status().message());
  out.Own(std::move(r).value());
  return true;
}

bool Evaluator::EvalMethod(const CNode& n, Out& out) {
  if (n.ext != nullptr) return EvalCall(n, out);
  Out recv;
  if (!Eval(n.kids[0], recv)) return false;
  const Value& r = recv.get();
  switch (n.fn) {
    case BuiltinFn::kIsEmpty: {
      const Set* s = r.TrySet();
      if (s == nullptr) return Fail(TypeError("set", r));
      out.Bool(s->empty());
      return true;
    }
    case BuiltinFn::kContains:
    case BuiltinFn::kContainsAll:
    case BuiltinFn::kContainsAny: {
      if (n.kids.size() != 2) return Fail("`" + n.name + "` expects 1 argument");
      Out arg;
      if (!Eval(n.kids[1], arg)) return false;
      const Set* s = r.TrySet();
      if (s == nullptr) return Fail(TypeError("set", r));
      if (n.fn == BuiltinFn::kContains) {
        out.Bool(s->Contains(arg.get()));
        return true;
      }
      const Set* t = arg.get().TrySet();
      if (t == nullptr) return Fail(TypeError("set", arg.get()));
      out.Bool(n.fn == BuiltinFn::kContainsAll ? s->ContainsAll(*t) : s->ContainsAny(*t));
      return true;
    }
    case BuiltinFn::kHasTag:
    case BuiltinFn::kGetTag: {
      if (n.kids.size() != 2) return Fail("`" + n.name + "` expects 1 argument");
      Out arg;
      if (!Eval(n.kids[1], arg)) return false;
      const EntityUid* uid = r.TryEntity();
      if (uid == nullptr) return Fail(TypeError(kAnyEntity, r));
      const Value& key = arg.get();
      if (!key.is_string()) return Fail(TypeError("string", key));
      const Entity* e = FindEntity(*uid);
      if (n.fn == BuiltinFn::kHasTag) {
        out.Bool(e != nullptr && e->tags.Has(key.AsString()));
        return true;
      }
      if (e == nullptr) return Fail("entity `" + uid->ToString() + "` does not exist");
      const Value* tag = e->tags.Find(key.AsString());
      if (tag == nullptr) {
        return Fail("`" + uid->ToString() + "` does not have the tag `" +
                    std::string(key.AsString()) + "`");
      }
      out.Ref(*tag);
      return true;
    }
    default:
      return Fail("unknown method `" + n.name + "`");
  }
}

bool Evaluator::EvalBool(const CNode& n, bool* result) {
  if (n.bool_slot != CNode::kNoSlot && env_.bool_cache != nullptr) {
    uint32_t& known = env_.bool_cache[n.bool_slot];
    if ((known >> 1) == env_.bool_epoch) {
      *result = (known & 1) != 0;
      return true;
    }
    if (!EvalBoolUncached(n, result)) return false;
    known = (env_.bool_epoch << 1) | (*result ? 1 : 0);
    return true;
  }
  return EvalBoolUncached(n, result);
}

bool Evaluator::EvalBoolUncached(const CNode& n, bool* result) {
  if (!n.is_const && IsBoolOperator(n.kind)) return EvalBoolOp(n, result);
  Out o;
  if (!Eval(n, o)) return false;
  const bool* b = o.get().TryBool();
  if (b == nullptr) return Fail(TypeError("bool", o.get()));
  *result = *b;
  return true;
}

bool Evaluator::EvalBoolOp(const CNode& n, bool* result) {
  switch (n.kind) {
    case ExprKind::kNot: {
      bool b = false;
      if (!EvalBool(n.kids[0], &b)) return false;
      *result = !b;
      return true;
    }
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      // Short circuit: later operands are not evaluated once the answer is known.
      const bool stop_on = n.kind == ExprKind::kOr;
      const size_t last = n.kids.size() - 1;
      for (size_t i = 0; i < last; ++i) {
        bool b = false;
        if (!EvalBool(n.kids[i], &b)) return false;
        if (b == stop_on) {
          *result = b;
          return true;
        }
      }
      return EvalBool(n.kids[last], result);
    }
    case ExprKind::kHas: {
      if (n.path_slot != CNode::kNoSlot && env_.path_cache != nullptr) {
        const Value*& slot = env_.path_cache[n.path_slot];
        if (slot == nullptr) {
          Out base;
          if (!Eval(n.kids[0], base)) return false;
          const Value* found = nullptr;
          if (!FindMember(base.get(), n.attrs[0], &found)) return false;
          // The base is a variable path, so `found` points into the request
          // or the store and stays valid for the whole request.
          slot = found != nullptr ? found : &AbsentMarker();
        }
        *result = slot != &AbsentMarker();
        return true;
      }
      Out cur;
      if (!Eval(n.kids[0], cur)) return false;
      // `e has a.b.c` is `e has a && e.a has b && e.a.b has c`.
      for (size_t i = 0; i < n.attrs.size(); ++i) {
        bool has = false;
        if (!EvalHas(cur, n.attrs[i], &has)) return false;
        if (!has || i + 1 == n.attrs.size()) {
          *result = has;
          return true;
        }
        Out next;
        if (!EvalAttr(cur, n.attrs[i], next)) return false;
        if (next.borrowed()) {
          cur.Ref(next.get());
        } else {
          cur.Own(next.Take());
        }
      }
      *result = false;
      return true;
    }
    case ExprKind::kLike: {
      Out a;
      if (!Eval(n.kids[0], a)) return false;
      if (!a.get().is_string()) return Fail(TypeError("string", a.get()));
      *result = WildcardMatch(a.get().AsString(), n.pattern);
      return true;
    }
    case ExprKind::kIs: {
      Out a;
      if (!Eval(n.kids[0], a)) return false;
      const EntityUid* uid = a.get().TryEntity();
      if (uid == nullptr) return Fail(TypeError(kAnyEntity, a.get()));
      bool r = uid->type() == n.type;
      if (r && n.kids.size() > 1) {
        Out b;
        if (!Eval(n.kids[1], b)) return false;
        if (!EvalIn(a.get(), b.get(), &r)) return false;
      }
      *result = r;
      return true;
    }
    default:
      break;
  }
  // Binary operators: both operands are evaluated, left first.
  Out a;
  if (!Eval(n.kids[0], a)) return false;
  Out b;
  if (!Eval(n.kids[1], b)) return false;
  const Value& x = a.get();
  const Value& y = b.get();
  switch (n.kind) {
    case ExprKind::kEq:
      *result = x == y;
      return true;
    case ExprKind::kNe:
      *result = !(x == y);
      return true;
    case ExprKind::kIn:
      return EvalIn(x, y, result);
    default:
      break;
  }
  const int64_t* lx = x.TryLong();
  const int64_t* ly = y.TryLong();
  if (lx != nullptr && ly != nullptr) {
    *result = n.kind == ExprKind::kLt   ? *lx < *ly
              : n.kind == ExprKind::kLe ? *lx <= *ly
              : n.kind == ExprKind::kGt ? *lx > *ly
                                        : *lx >= *ly;
    return true;
  }
  OrderOp op = n.kind == ExprKind::kLt   ? OrderOp::kLess
               : n.kind == ExprKind::kLe ? OrderOp::kLessEqual
               : n.kind == ExprKind::kGt ? OrderOp::kGreater
                                         : OrderOp::kGreaterEqual;
  Result<bool> r = CompareOrdered(op, x, y);
  if (!r.ok()) return Fail(r.status().message());
  *result = *r;
  return true;
}

bool Evaluator::Eval(const CNode& n, Out& out) {
  if (n.is_const) {
    out.Ref(n.constant);
    return true;
  }
  switch (n.kind) {
    case ExprKind::kBool:
    case ExprKind::kLong:
    case ExprKind::kString:
    case ExprKind::kEntity:
      out.Ref(n.constant);
      return true;
    case ExprKind::kVar:
      switch (n.var) {
        case Var::kPrincipal:
          out.Ref(env_.principal);
          return true;
        case Var::kAction:
          out.Ref(env_.action);
          return true;
        case Var::kResource:
          out.Ref(env_.resource);
          return true;
        case Var::kContext:
          out.Ref(env_.context);
          return true;
      }
      return Fail("unknown variable");
    case ExprKind::kSlot:
      return Fail("template slot is not linked");
    case ExprKind::kNot:
    case ExprKind::kAnd:
    case ExprKind::kOr:
    case ExprKind::kEq:
    case ExprKind::kNe:
    case ExprKind::kLt:
    case ExprKind::kLe:
    case ExprKind::kGt:
    case ExprKind::kGe:
    case ExprKind::kIn:
    case ExprKind::kHas:
    case ExprKind::kLike:
    case ExprKind::kIs: {
      bool b = false;
      if (!EvalBoolOp(n, &b)) return false;
      out.Bool(b);
      return true;
    }
    case ExprKind::kNeg: {
      Out a;
      if (!Eval(n.kids[0], a)) return false;
      const int64_t* x = a.get().TryLong();
      if (x == nullptr) return Fail(TypeError("long", a.get()));
      int64_t r = 0;
      if (!CheckedNeg(*x, &r)) {
        return Fail("integer overflow while attempting to negate the value `" + std::to_string(*x) +
                    "`");
      }
      out.Own(Value::Long(r));
      return true;
    }
    case ExprKind::kIf: {
      bool cond = false;
      if (!EvalBool(n.kids[0], &cond)) return false;
      Out branch;
      if (!Eval(n.kids[cond ? 1 : 2], branch)) return false;
      if (branch.borrowed()) {
        out.Ref(branch.get());
      } else {
        out.Own(branch.Take());
      }
      return true;
    }
    case ExprKind::kAdd:
    case ExprKind::kSub:
    case ExprKind::kMul: {
      Out a;
      if (!Eval(n.kids[0], a)) return false;
      Out b;
      if (!Eval(n.kids[1], b)) return false;
      return EvalArith(n, a.get(), b.get(), out);
    }
    case ExprKind::kGetAttr: {
      if (!n.var_path.empty()) return EvalVarPath(n, out);
      Out base;
      if (!Eval(n.kids[0], base)) return false;
      return EvalAttr(base, n.name, out);
    }
    case ExprKind::kMethod:
      return EvalMethod(n, out);
    case ExprKind::kCall:
      return EvalCall(n, out);
    case ExprKind::kSet: {
      std::vector<Value> elems;
      elems.reserve(n.kids.size());
      for (const CNode& k : n.kids) {
        Out o;
        if (!Eval(k, o)) return false;
        elems.push_back(o.Take());
      }
      out.Own(Value::FromSet(Set::FromValues(std::move(elems))));
      return true;
    }
    case ExprKind::kRecord: {
      std::vector<Record::Entry> entries;
      entries.reserve(n.kids.size());
      for (size_t i = 0; i < n.kids.size(); ++i) {
        Out o;
        if (!Eval(n.kids[i], o)) return false;
        entries.emplace_back(n.keys[i], o.Take());
      }
      out.Own(Value::FromRecord(Record::FromUniqueEntries(std::move(entries))));
      return true;
    }
  }
  return Fail("unsupported expression");
}

// Builds the runtime value of an entity literal.
EntityUid ToUid(const EntityUidLit& lit) { return EntityUid(EntityType(lit.type), lit.id); }

bool IsFoldable(const CNode& n) {
  switch (n.kind) {
    case ExprKind::kSet:
    case ExprKind::kRecord:
    case ExprKind::kNot:
    case ExprKind::kNeg:
    case ExprKind::kEq:
    case ExprKind::kNe:
    case ExprKind::kLt:
    case ExprKind::kLe:
    case ExprKind::kGt:
    case ExprKind::kGe:
    case ExprKind::kAdd:
    case ExprKind::kSub:
    case ExprKind::kMul:
    case ExprKind::kAnd:
    case ExprKind::kOr:
    case ExprKind::kIf:
    case ExprKind::kLike:
      return true;
    case ExprKind::kCall:
      return n.ext != nullptr;
    case ExprKind::kMethod:
      return n.fn != BuiltinFn::kHasTag && n.fn != BuiltinFn::kGetTag;
    default:
      return false;
  }
}

bool AllConst(const CNode& n) {
  for (const CNode& k : n.kids) {
    if (!k.is_const) return false;
  }
  return true;
}

// The ancestors of a store entity, or the empty set for an absent one.
const AncestorSet* AncestorsOrEmpty(const Entities& ents, const Entity* e) {
  static const AncestorSet* const kEmpty = new AncestorSet();
  return e == nullptr ? kEmpty : &ents.AncestorsOf(*e);
}

}  // namespace

EvalEnv::EvalEnv(const Request& request, const Entities& ents)
    : entities(&ents),
      principal(Value::Entity(request.principal)),
      action(Value::Entity(request.action)),
      resource(Value::Entity(request.resource)),
      context(Value::FromRecord(request.context)),
      principal_entity(ents.Find(request.principal)),
      action_entity(ents.Find(request.action)),
      resource_entity(ents.Find(request.resource)),
      principal_ancestors(AncestorsOrEmpty(ents, principal_entity)),
      action_ancestors(AncestorsOrEmpty(ents, action_entity)),
      resource_ancestors(AncestorsOrEmpty(ents, resource_entity)) {}

namespace {

// True when `literal` occurs in `text` at `pos`. The first byte is tested
// inline: most positions differ there, which spares a library call per position.
bool LiteralAt(std::string_view text, size_t pos, std::string_view literal) {
  if (literal.empty()) return true;
  if (text.size() - pos < literal.size() || text[pos] != literal[0]) return false;
  return text.compare(pos + 1, literal.size() - 1, literal.substr(1)) == 0;
}

}  // namespace

bool WildcardMatch(std::string_view text, const std::vector<PatternElem>& pattern) {
  // The common shapes (`"a"`, `"a*"`, `"*a"`, `"*a*"`, `"a*b"`) directly.
  const size_t n = pattern.size();
  auto lit = [&pattern](size_t i) { return std::string_view(pattern[i].literal); };
  if (n == 1 && !pattern[0].wildcard) return text == lit(0);
  if (n == 2 && !pattern[0].wildcard && pattern[1].wildcard) return text.starts_with(lit(0));
  if (n == 2 && pattern[0].wildcard && !pattern[1].wildcard) return text.ends_with(lit(1));
  if (n == 3 && pattern[0].wildcard && !pattern[1].wildcard && pattern[2].wildcard) {
    return text.find(lit(1)) != std::string_view::npos;
  }
  if (n == 3 && !pattern[0].wildcard && pattern[1].wildcard && !pattern[2].wildcard) {
    return text.size() >= lit(0).size() + lit(2).size() && text.starts_with(lit(0)) &&
           text.ends_with(lit(2));
  }
  // Greedy matching with backtracking to the most recent wildcard. Byte-wise
  // matching equals Cedar's character-wise matching on valid UTF-8, because a
  // literal chunk can only match starting at a character boundary.
  size_t ti = 0;
  size_t pi = 0;
  size_t star_pi = n;  // none yet
  size_t star_ti = 0;
  while (ti < text.size()) {
    if (pi < n && !pattern[pi].wildcard && LiteralAt(text, ti, pattern[pi].literal)) {
      ti += pattern[pi].literal.size();
      ++pi;
    } else if (pi < n && pattern[pi].wildcard) {
      star_pi = pi++;
      star_ti = ti;
    } else if (star_pi != n) {
      pi = star_pi + 1;
      ++star_ti;
      // Retrying at positions where the literal after the wildcard does not
      // occur fails at once, so jump to its next occurrence (none: no match).
      if (pi < n && !pattern[pi].wildcard && !pattern[pi].literal.empty()) {
        size_t at = text.find(pattern[pi].literal, star_ti);
        if (at == std::string_view::npos) return false;
        star_ti = at;
      }
      ti = star_ti;
    } else {
      return false;
    }
  }
  while (pi < n && (pattern[pi].wildcard || pattern[pi].literal.empty())) ++pi;
  return pi == n;
}

bool IsBoolOperator(ExprKind kind) {
  switch (kind) {
    case ExprKind::kNot:
    case ExprKind::kAnd:
    case ExprKind::kOr:
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
      return true;
    default:
      return false;
  }
}

CNode CompileExpr(const Expr& e) {
  CNode n;
  n.kind = e.kind;
  n.var = e.var;
  n.fn = e.fn;
  n.kids.reserve(e.operands.size());
  for (const ExprPtr& k : e.operands) n.kids.push_back(CompileExpr(*k));
  switch (e.kind) {
    case ExprKind::kBool:
      n.constant = Value::Bool(e.bool_value);
      n.is_const = true;
      break;
    case ExprKind::kLong:
      n.constant = Value::Long(e.long_value);
      n.is_const = true;
      break;
    case ExprKind::kString:
      n.constant = Value::String(e.string_value);
      n.is_const = true;
      break;
    case ExprKind::kEntity:
      n.constant = Value::Entity(ToUid(e.uid));
      n.is_const = true;
      break;
    case ExprKind::kGetAttr:
      n.name = e.string_value;
      if (n.kids.size() == 1 && n.kids[0].kind == ExprKind::kVar && !n.kids[0].is_const) {
        n.var = n.kids[0].var;
        n.var_path.push_back(n.name);
      } else if (n.kids.size() == 1 && n.kids[0].kind == ExprKind::kGetAttr &&
                 !n.kids[0].var_path.empty()) {
        n.var = n.kids[0].var;
        n.var_path = n.kids[0].var_path;
        n.var_path.push_back(n.name);
      }
      break;
    case ExprKind::kAnd:
    case ExprKind::kOr:
      // `(a && b) && c` becomes one node with operands a, b, c. Only the left
      // operand is spliced: the parser nests chains to the left, and a right
      // operand that is itself a chain would be a parenthesised group, which
      // evaluates the same either way but is left as written.
      if (n.kids.size() == 2 && n.kids[0].kind == e.kind && !n.kids[0].is_const) {
        std::vector<CNode> flat = std::move(n.kids[0].kids);
        flat.push_back(std::move(n.kids[1]));
        n.kids = std::move(flat);
      }
      break;
    case ExprKind::kHas:
      n.attrs = e.attrs;
      // `v.a has b` on a variable path shares the path cache with `v.a.b`.
      if (n.attrs.size() == 1 && n.kids.size() == 1 && !n.kids[0].is_const) {
        if (n.kids[0].kind == ExprKind::kVar) {
          n.var = n.kids[0].var;
          n.var_path = n.attrs;
        } else if (n.kids[0].kind == ExprKind::kGetAttr && !n.kids[0].var_path.empty()) {
          n.var = n.kids[0].var;
          n.var_path = n.kids[0].var_path;
          n.var_path.push_back(n.attrs[0]);
        }
      }
      break;
    case ExprKind::kLike:
      n.pattern = e.pattern;
      break;
    case ExprKind::kIs:
      n.type = EntityType(e.entity_type);
      break;
    case ExprKind::kRecord:
      n.keys = e.keys;
      break;
    case ExprKind::kMethod:
    case ExprKind::kCall: {
      n.name = e.string_value;
      bool builtin_set_or_tag =
          e.kind == ExprKind::kMethod &&
          (e.fn == BuiltinFn::kContains || e.fn == BuiltinFn::kContainsAll ||
           e.fn == BuiltinFn::kContainsAny || e.fn == BuiltinFn::kIsEmpty ||
           e.fn == BuiltinFn::kHasTag || e.fn == BuiltinFn::kGetTag);
      if (!builtin_set_or_tag) n.ext = FindExtensionFunction(BuiltinFnName(e.fn));
      break;
    }
    default:
      break;
  }
  // Fold request-independent sub-expressions once, at compile time. Only
  // successful evaluations are folded; an erroring one stays and errors at
  // evaluation time exactly as Cedar does. Operators that consult the entity
  // store (`in`, `has`, `.attr`, tags) are never folded.
  if (IsFoldable(n) && AllConst(n)) {
    static const Entities kNoEntities;
    static const Request kNoRequest{};
    EvalEnv env(kNoRequest, kNoEntities);
    Result<Value> v = EvaluateCompiledExpr(n, env);
    if (v.ok()) {
      n.constant = std::move(v).value();
      n.is_const = true;
      n.kids.clear();
    }
  }
  return n;
}

namespace {

Result<CScope> CompileScope(const ScopeConstraint& s) {
  CScope c;
  c.op = s.op;
  if (s.op == ScopeOp::kIs || s.op == ScopeOp::kIsIn) c.type = EntityType(s.entity_type);
  if (s.op == ScopeOp::kEq || s.op == ScopeOp::kIn || s.op == ScopeOp::kIsIn) {
    if (s.target.slot.has_value()) {
      return InvalidArgument("policy scope contains an unlinked template slot");
    }
    c.target = ToUid(s.target.uid);
  }
  for (const EntityUidLit& u : s.set) c.set.push_back(ToUid(u));
  return c;
}

}  // namespace

Result<CompiledPolicy> CompilePolicy(const Policy& policy) {
  CompiledPolicy p;
  p.id = policy.id;
  p.effect = policy.effect;
  WARDEN_ASSIGN_OR_RETURN(p.principal, CompileScope(policy.principal));
  WARDEN_ASSIGN_OR_RETURN(p.action, CompileScope(policy.action));
  WARDEN_ASSIGN_OR_RETURN(p.resource, CompileScope(policy.resource));
  for (const Condition& c : policy.conditions) {
    if (c.expr == nullptr) return InvalidArgument("policy " + policy.id + " has an empty condition");
    p.conditions.push_back(CCondition{c.is_when, CompileExpr(*c.expr)});
  }
  return p;
}

bool ScopeMatches(const CScope& scope, const EntityUid& uid, const AncestorSet& ancestors) {
  // `in` is reflexive: an entity is in itself, even when absent from the store.
  switch (scope.op) {
    case ScopeOp::kAny:
      return true;
    case ScopeOp::kEq:
      return uid == scope.target;
    case ScopeOp::kIn:
      return uid == scope.target || ancestors.Contains(scope.target);
    case ScopeOp::kIs:
      return uid.type() == scope.type;
    case ScopeOp::kIsIn:
      return uid.type() == scope.type && (uid == scope.target || ancestors.Contains(scope.target));
    case ScopeOp::kInSet:
      for (const EntityUid& t : scope.set) {
        if (uid == t || ancestors.Contains(t)) return true;
      }
      return false;
  }
  return false;
}

PolicyOutcome EvaluateCompiledPolicy(const CompiledPolicy& policy, const EvalEnv& env,
                                     std::string* error, uint8_t skip_scopes) {
  // `any` (the common case for at least one variable) is tested inline.
  auto matches = [skip_scopes](const CScope& scope, uint8_t bit, const Value& var,
                               const AncestorSet* ancestors) {
    return scope.op == ScopeOp::kAny || (skip_scopes & bit) != 0 ||
           ScopeMatches(scope, var.AsEntity(), *ancestors);
  };
  if (!matches(policy.principal, kScopeBitPrincipal, env.principal, env.principal_ancestors) ||
      !matches(policy.action, kScopeBitAction, env.action, env.action_ancestors) ||
      !matches(policy.resource, kScopeBitResource, env.resource, env.resource_ancestors)) {
    return PolicyOutcome::kNotSatisfied;
  }
  Evaluator ev(env, error);
  for (const CCondition& c : policy.conditions) {
    bool b = false;
    if (!ev.EvalBool(c.expr, &b)) return PolicyOutcome::kError;
    if (b != c.is_when) return PolicyOutcome::kNotSatisfied;
  }
  return PolicyOutcome::kSatisfied;
}

Result<Value> EvaluateCompiledExpr(const CNode& node, const EvalEnv& env) {
  std::string error;
  Evaluator ev(env, &error);
  Out out;
  if (!ev.Eval(node, out)) return InvalidArgument(std::move(error));
  return out.Take();
}

}  // namespace internal

Result<Value> EvaluateExpression(const Expr& expr, const Request& request,
                                 const Entities& entities) {
  internal::CNode node = internal::CompileExpr(expr);
  internal::EvalEnv env(request, entities);
  return internal::EvaluateCompiledExpr(node, env);
}

Result<bool> EvaluatePolicy(const Policy& policy, const Request& request,
                            const Entities& entities) {
  WARDEN_ASSIGN_OR_RETURN(internal::CompiledPolicy compiled, internal::CompilePolicy(policy));
  internal::EvalEnv env(request, entities);
  std::string error;
  switch (internal::EvaluateCompiledPolicy(compiled, env, &error)) {
    case internal::PolicyOutcome::kSatisfied:
      return true;
    case internal::PolicyOutcome::kNotSatisfied:
      return false;
    case internal::PolicyOutcome::kError:
      break;
  }
  return InvalidArgument(std::move(error));
}

}  // namespace warden::cedar
