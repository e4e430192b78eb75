// Abstract syntax of Cedar (language 4.5): policies, templates, template links and
// expressions, as produced by the parser (parser.h) and consumed by the evaluator,
// the validator and the formatter. Every node carries its source location.
// Plain data: immutable once built, safe to read from many threads; not copyable
// (expressions own their children through unique_ptr) except via Clone().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::cedar {

// Where a node starts in its source text. `file` is shared by every node parsed
// from the same text (may be null for synthesized nodes); `line` and `column` are
// 1-based (column counts Unicode code points); `offset` and `length` are in bytes.
struct SourceLoc {
  std::shared_ptr<const std::string> file;
  uint32_t line = 0;
  uint32_t column = 0;
  uint32_t offset = 0;
  uint32_t length = 0;

  // "file:line:column" (or "line:column" when there is no file name).
  std::string ToString() const;
};

enum class Effect : uint8_t { kPermit, kForbid };

// The four request variables.
enum class Var : uint8_t { kPrincipal, kAction, kResource, kContext };

// Template slots: `?principal` and `?resource` (the only two Cedar has).
enum class SlotId : uint8_t { kPrincipal, kResource };

// An entity UID literal such as `Org::User::"alice"`. `type` is the fully
// qualified type name with `::` separators and no whitespace ("Org::User"); `id`
// is the decoded string (escapes already processed; may contain any bytes).
struct EntityUidLit {
  std::string type;
  std::string id;
  SourceLoc loc;

  friend bool operator==(const EntityUidLit& a, const EntityUidLit& b) {
    return a.type == b.type && a.id == b.id;  // locations are not part of identity
  }
};

// One element of a `like` pattern: a run of literal bytes or a `*` wildcard.
// In source text `\*` is a literal star and `*` a wildcard; consecutive literal
// characters are merged into one chunk, consecutive wildcards are kept as written.
struct PatternElem {
  bool wildcard = false;
  std::string literal;  // empty when wildcard

  friend bool operator==(const PatternElem& a, const PatternElem& b) {
    return a.wildcard == b.wildcard && a.literal == b.literal;
  }
};

// Built-in functions and methods, resolved by the parser (Cedar rejects unknown
// function or method names at parse time). Extension functions are called as
// `ip("...")`; methods as `e.contains(x)`; extension methods as `a.lessThan(b)`.
enum class BuiltinFn : uint8_t {
  // Set / entity methods.
  kContains,      // set.contains(x)
  kContainsAll,   // set.containsAll(set)
  kContainsAny,   // set.containsAny(set)
  kIsEmpty,       // set.isEmpty()
  kHasTag,        // entity.hasTag(string)
  kGetTag,        // entity.getTag(string)
  // Extension constructors (function-call syntax).
  kIp,            // ip(string)
  kDecimal,       // decimal(string)
  kDatetime,      // datetime(string)
  kDuration,      // duration(string)
  // ipaddr methods.
  kIsIpv4,
  kIsIpv6,
  kIsLoopback,
  kIsMulticast,
  kIsInRange,
  // decimal / datetime / duration comparison methods.
  kLessThan,
  kLessThanOrEqual,
  kGreaterThan,
  kGreaterThanOrEqual,
  // datetime methods.
  kOffset,
  kDurationSince,
  kToDate,
  kToTime,
  // duration methods.
  kToMilliseconds,
  kToSeconds,
  kToMinutes,
  kToHours,
  kToDays,
};

// Cedar spelling of a builtin ("containsAll", "ip").
std::string_view BuiltinFnName(BuiltinFn fn);
// True when `fn` is called with function syntax (`ip(..)`), false for methods.
bool BuiltinFnIsFunction(BuiltinFn fn);
// Looks up a method name (`fn` false) or a function name (`fn` true).
std::optional<BuiltinFn> LookupBuiltinFn(std::string_view name, bool function_syntax);

enum class ExprKind : uint8_t {
  // Leaves.
  kBool,      // bool_value
  kLong,      // long_value (negative literals are folded: `-5` is kLong -5)
  kString,    // string_value (escapes decoded)
  kEntity,    // uid
  kVar,       // var
  kSlot,      // slot (only inside templates)
  // Unary: operands[0].
  kNot,       // !a
  kNeg,       // -a   (never applied directly to an integer literal: that folds)
  // Binary: operands[0] op operands[1].
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,       // short-circuit
  kOr,        // short-circuit
  kAdd,
  kSub,
  kMul,
  kIn,        // a in b (b an entity or a set of entities)
  // operands[0] has attrs[0].attrs[1]...; `e has a.b.c` means exactly
  // `e has a && e.a has b && e.a.b has c` (Cedar's desugaring); attrs.size() >= 1.
  kHas,
  kLike,      // operands[0] like pattern
  // operands[0] is entity_type [in operands[1]]: with the `in` part this means
  // `operands[0] is T && operands[0] in operands[1]` (short-circuit).
  kIs,
  kIf,        // if operands[0] then operands[1] else operands[2]
  kGetAttr,   // operands[0].string_value  (also written operands[0]["string_value"])
  // Method call: operands[0] is the receiver, operands[1..] the arguments.
  kMethod,    // fn, string_value = method name as written
  // Function call (extension constructors): operands are the arguments.
  kCall,      // fn, string_value = function name as written
  kSet,       // [operands...]
  kRecord,    // {keys[i]: operands[i]}, keys unique, in source order
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// One expression node. Which fields are meaningful depends on `kind` (see
// ExprKind); the others stay default-initialized.
struct Expr {
  ExprKind kind = ExprKind::kBool;
  SourceLoc loc;

  bool bool_value = false;
  Var var = Var::kPrincipal;
  SlotId slot = SlotId::kPrincipal;
  BuiltinFn fn = BuiltinFn::kContains;
  int64_t long_value = 0;
  std::string string_value;            // kString value, kGetAttr attribute, kMethod/kCall name
  std::string entity_type;             // kIs: fully qualified type name
  EntityUidLit uid;                    // kEntity
  std::vector<ExprPtr> operands;       // children, see ExprKind
  std::vector<std::string> attrs;      // kHas attribute path
  std::vector<std::string> keys;       // kRecord keys (parallel to operands)
  std::vector<PatternElem> pattern;    // kLike
  // kGetAttr: true when written `e["a"]` rather than `e.a` (formatting only).
  bool index_syntax = false;
};

// Deep copy of an expression tree (locations included).
ExprPtr Clone(const Expr& expr);
// Structural equality ignoring source locations and `index_syntax`.
bool Equal(const Expr& a, const Expr& b);

// Kind of a scope constraint; which kinds are legal depends on the variable:
// principal/resource: any, ==, in, is, is-in; action: any, ==, in (entity),
// in [list].
enum class ScopeOp : uint8_t {
  kAny,      // `principal`
  kEq,       // `principal == X`
  kIn,       // `principal in X`
  kIs,       // `principal is T`
  kIsIn,     // `principal is T in X`
  kInSet,    // `action in [A, B]` (action only; the list may be empty)
};

// An entity UID or a template slot, as written in a scope constraint.
struct EntityOrSlot {
  std::optional<SlotId> slot;  // set: a slot; unset: `uid`
  EntityUidLit uid;
};

// One of the three scope constraints of a policy.
struct ScopeConstraint {
  Var var = Var::kPrincipal;  // kPrincipal, kAction or kResource
  ScopeOp op = ScopeOp::kAny;
  std::string entity_type;           // kIs, kIsIn
  EntityOrSlot target;               // kEq, kIn, kIsIn
  std::vector<EntityUidLit> set;     // kInSet
  SourceLoc loc;
};

// `@key("value")` or `@key` (Cedar 4: a missing value means "").
struct Annotation {
  std::string key;
  std::string value;       // decoded
  bool has_value = false;  // false for the bare `@key` form
  SourceLoc loc;
};

// `when { e }` or `unless { e }`.
struct Condition {
  bool is_when = true;  // false: unless
  ExprPtr expr;
  SourceLoc loc;
};

// A static policy or a template (a policy whose scope contains a slot; templates
// may not use slots outside the scope). Move-only; use Clone() to copy.
struct Policy {
  std::string id;                        // "policy0", "policy1", ... in text order
  Effect effect = Effect::kPermit;
  std::vector<Annotation> annotations;  // source order, keys unique
  ScopeConstraint principal;
  ScopeConstraint action;
  ScopeConstraint resource;
  std::vector<Condition> conditions;     // source order
  SourceLoc loc;                         // of the first annotation or the effect

  // True when the scope contains ?principal or ?resource.
  bool IsTemplate() const;
  // Value of annotation `key`, or nullopt.
  std::optional<std::string_view> FindAnnotation(std::string_view key) const;
};
using Template = Policy;

Policy Clone(const Policy& policy);
// Structural equality ignoring source locations (ids compared).
bool Equal(const Policy& a, const Policy& b);

// A link from a template to concrete entities for its slots.
struct TemplateLink {
  std::string link_id;      // the new policy's id
  std::string template_id;
  std::optional<EntityUidLit> principal;  // value for ?principal
  std::optional<EntityUidLit> resource;   // value for ?resource
};

// Parsed policy text: static policies and templates in text order. Both share
// one numbering (`policy0`, `policy1`, ...), like Cedar does for a policy set
// parsed from text. `links` is filled by callers that load links from storage.
struct PolicySetAst {
  std::vector<Policy> policies;  // static policies and templates, text order
  std::vector<TemplateLink> links;
};

}  // namespace warden::cedar
