// Compiled form of Cedar policies used by the evaluator: AST nodes with literals
// turned into runtime Values, entity types interned, extension functions resolved
// and request-independent sub-expressions (`[A, B]`, `ip("10.0.0.0/8")`) folded to
// constants. Immutable after compilation; safe to evaluate from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "warden/cedar/ast.h"
#include "warden/cedar/entities.h"
#include "warden/cedar/extensions.h"
#include "warden/cedar/request.h"
#include "warden/cedar/value.h"

namespace warden::cedar::internal {

// One compiled expression node; `kind` has the meaning of ast.h's ExprKind,
// except that kAnd and kOr hold two or more operands: a chain of the same
// operator (`a && b && c`) is one node, evaluated left to right with short
// circuit, which is what the nested binary form means.
// The fields every evaluation reads come first, so a node's first cache line
// usually holds all it needs.
struct CNode {
  ExprKind kind = ExprKind::kBool;
  bool is_const = false;   // `constant` holds the node's value
  Var var = Var::kPrincipal;
  BuiltinFn fn = BuiltinFn::kContains;
  std::vector<CNode> kids;
  Value constant;
  std::string name;                        // kGetAttr attribute; kMethod/kCall name
  const ExtensionFunction* ext = nullptr;  // kCall and extension methods; null if unknown
  EntityType type;                         // kIs
  std::vector<std::string> attrs;          // kHas path
  std::vector<std::string> keys;           // kRecord keys
  std::vector<PatternElem> pattern;        // kLike
  // kGetAttr whose chain starts at a variable (`context.args.path`): the
  // attributes from the variable outwards, read in one step without
  // evaluating the inner nodes. kHas of one attribute on a variable or such a
  // chain (`context.args has path`): the path it tests, for the path cache
  // only (the node is still evaluated from its operand). Empty otherwise.
  std::vector<std::string> var_path;
  // For var_path nodes of a policy set: the slot of the request's path cache
  // (EvalEnv::path_cache) shared by every node reading the same path.
  uint32_t path_slot = kNoSlot;
  // For bool-valued operator nodes that occur more than once in a policy set
  // (`principal.environment == "prod"` in many policies): the slot of the
  // request's result cache (EvalEnv::bool_cache) shared by every node with the
  // same structure.
  uint32_t bool_slot = kNoSlot;
  static constexpr uint32_t kNoSlot = UINT32_MAX;
};

// A compiled scope constraint (slots already replaced by linked entities).
struct CScope {
  ScopeOp op = ScopeOp::kAny;
  EntityType type;              // kIs, kIsIn
  EntityUid target;             // kEq, kIn, kIsIn
  std::vector<EntityUid> set;   // kInSet
};

struct CCondition {
  bool is_when = true;
  CNode expr;
};

// A policy ready for evaluation.
struct CompiledPolicy {
  Effect effect = Effect::kPermit;
  std::vector<CCondition> conditions;
  CScope principal;
  CScope action;
  CScope resource;
  std::string id;
  // Scope variables (kScopeBit*) whose constraint the policy set's index
  // lookup has already established for every request that finds this policy.
  uint8_t indexed_scopes = 0;
};

constexpr uint8_t kScopeBitPrincipal = 1;
constexpr uint8_t kScopeBitAction = 2;
constexpr uint8_t kScopeBitResource = 4;

// Compiles an expression. Slots compile to a node that errors when evaluated
// (linked policies never contain slots; standalone expressions may not).
CNode CompileExpr(const Expr& expr);

// Compiles a static policy or an instantiated template link. InvalidArgument
// when the scope still contains a slot.
Result<CompiledPolicy> CompilePolicy(const Policy& policy);

// Per-request evaluation environment; borrows the request and the entities,
// which must outlive it.
struct EvalEnv {
  EvalEnv(const Request& request, const Entities& entities);
  const Entities* entities;
  Value principal;
  Value action;
  Value resource;
  Value context;
  // The three request entities in the store (nullptr when absent) and their
  // transitive ancestors, looked up once per request.
  const Entity* principal_entity;
  const Entity* action_entity;
  const Entity* resource_entity;
  const AncestorSet* principal_ancestors;
  const AncestorSet* action_ancestors;
  const AncestorSet* resource_ancestors;
  // Values of variable paths (`context.args`, `principal.trust`) already read
  // for this request, by CNode::path_slot; nullptr = not read yet. A path reads
  // the same value every time within one request, and several policies of a
  // set often read the same paths. Optional (nullptr: no caching); owned by
  // the caller, at least as many entries as the set has slots.
  const Value** path_cache = nullptr;
  // Results of bool operators already evaluated for this request, by
  // CNode::bool_slot: an entry equal to 2 * bool_epoch + b holds result b;
  // any other value means not evaluated yet, so the caller starts a request
  // by choosing an epoch no entry holds instead of clearing the array.
  // Only successes are stored: an erroring node errors again with the same
  // text. Optional (nullptr: no caching); at least as many entries as slots.
  uint32_t* bool_cache = nullptr;
  uint32_t bool_epoch = 0;
};

// Scope test for one request entity with its ancestors (never fails).
bool ScopeMatches(const CScope& scope, const EntityUid& uid, const AncestorSet& ancestors);

// Outcome of evaluating one policy.
enum class PolicyOutcome : uint8_t { kNotSatisfied, kSatisfied, kError };

// Evaluates scope then conditions. On kError, *error holds the message.
// `skip_scopes` (kScopeBit*) names scope constraints the caller has already
// checked for this request; they are not tested again.
PolicyOutcome EvaluateCompiledPolicy(const CompiledPolicy& policy, const EvalEnv& env,
                                     std::string* error, uint8_t skip_scopes = 0);

// Evaluates a compiled expression to a value, or InvalidArgument with Cedar's
// error text.
Result<Value> EvaluateCompiledExpr(const CNode& node, const EvalEnv& env);

// The operators whose result is always a bool (kNot, kAnd, kOr, the
// comparisons, kIn, kHas, kLike, kIs).
bool IsBoolOperator(ExprKind kind);

// Cedar `like`: `*` matches any (possibly empty) sequence of characters.
bool WildcardMatch(std::string_view text, const std::vector<PatternElem>& pattern);

}  // namespace warden::cedar::internal
