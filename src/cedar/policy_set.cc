#include "warden/cedar/policy_set.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "cedar/internal/eval_policy_set.h"
#include "warden/cedar/formatter.h"
#include "warden/cedar/parser.h"
#include "warden/crypto/hash.h"

namespace warden::cedar {
namespace internal {
namespace {

// Selectivity ranks: a lower rank is expected to match fewer requests. Actions
// are few and shared by many policies, while principal and resource groups
// usually partition a large population, so `principal in G` ranks before
// `action == A`.
enum class Slot : uint8_t {
  kPrincipalEq,
  kResourceEq,
  kPrincipalIn,
  kResourceIn,
  kActionEq,
  kActionIn,
  kPrincipalIs,
  kResourceIs,
  kNone,
};

Slot ChooseSlot(const CompiledPolicy& p) {
  if (p.principal.op == ScopeOp::kEq) return Slot::kPrincipalEq;
  if (p.resource.op == ScopeOp::kEq) return Slot::kResourceEq;
  if (p.principal.op == ScopeOp::kIn || p.principal.op == ScopeOp::kIsIn) return Slot::kPrincipalIn;
  if (p.resource.op == ScopeOp::kIn || p.resource.op == ScopeOp::kIsIn) return Slot::kResourceIn;
  if (p.action.op == ScopeOp::kEq) return Slot::kActionEq;
  if (p.action.op == ScopeOp::kIn || p.action.op == ScopeOp::kInSet) return Slot::kActionIn;
  if (p.principal.op == ScopeOp::kIs) return Slot::kPrincipalIs;
  if (p.resource.op == ScopeOp::kIs) return Slot::kResourceIs;
  return Slot::kNone;
}

void LookupDimension(const ScopeIndex::Dimension& dim, const EntityUid& uid,
                     const AncestorSet& ancestors, std::vector<uint32_t>* out) {
  auto append = [out](const std::vector<uint32_t>& v) { out->insert(out->end(), v.begin(), v.end()); };
  if (!dim.eq.empty()) {
    if (const auto* list = dim.eq.Find(uid)) append(*list);
  }
  if (!dim.in.empty()) {
    if (const auto* list = dim.in.Find(uid)) append(*list);
    for (const EntityUid& a : ancestors.ancestors()) {
      // An entity in a cycle is its own ancestor; it was looked up above.
      if (a == uid) continue;
      if (const auto* list = dim.in.Find(a)) append(*list);
    }
  }
  if (!dim.is.empty()) {
    if (const auto* list = dim.is.Find(uid.type())) append(*list);
  }
}

using PathKey = std::pair<Var, std::vector<std::string>>;

// Gives every var_path node its cache slot, one per distinct path.
void AssignPathSlots(CNode& n, std::map<PathKey, uint32_t>& slots) {
  if (!n.var_path.empty()) {
    auto [it, added] = slots.try_emplace(PathKey(n.var, n.var_path),
                                         static_cast<uint32_t>(slots.size()));
    n.path_slot = it->second;
  }
  for (CNode& k : n.kids) AssignPathSlots(k, slots);
}

// Numbers compiled nodes by structure: two nodes get the same number exactly
// when they are the same expression (same operator, operands, names and
// constants), so they evaluate to the same result for a request. A node's key
// holds its own fields, length-prefixed, and its operands' numbers, so keys
// stay short however deep the expression.
class NodeNumbering {
 public:
  // Numbers `n` and its operands; remembers every non-constant bool operator
  // node with its number.
  uint32_t Visit(CNode& n) {
    std::string key;
    key += static_cast<char>(n.kind);
    key += static_cast<char>(n.is_const);
    key += static_cast<char>(n.var);
    key += static_cast<char>(n.fn);
    Add(key, n.name);
    Add(key, n.type.name());
    AddAll(key, n.attrs);
    AddAll(key, n.keys);
    AddAll(key, n.var_path);
    Count(key, n.pattern.size());
    for (const PatternElem& p : n.pattern) {
      key += static_cast<char>(p.wildcard);
      Add(key, p.literal);
    }
    if (n.is_const) Add(key, n.constant.ToString());
    Count(key, n.kids.size());
    for (CNode& k : n.kids) Count(key, Visit(k));
    auto [it, added] = numbers_.try_emplace(std::move(key), static_cast<uint32_t>(numbers_.size()));
    if (!n.is_const && IsBoolOperator(n.kind)) bool_nodes_.emplace_back(&n, it->second);
    return it->second;
  }

  // Gives a bool_slot to every remembered node whose number occurs more than
  // once; returns how many slots there are.
  uint32_t AssignBoolSlots() {
    std::vector<uint32_t> uses(numbers_.size(), 0);
    for (const auto& [node, number] : bool_nodes_) ++uses[number];
    std::vector<uint32_t> slot(numbers_.size(), CNode::kNoSlot);
    uint32_t slots = 0;
    for (const auto& [node, number] : bool_nodes_) {
      if (uses[number] < 2) continue;
      if (slot[number] == CNode::kNoSlot) slot[number] = slots++;
      node->bool_slot = slot[number];
    }
    return slots;
  }

 private:
  static void Count(std::string& key, size_t n) {
    uint32_t v = static_cast<uint32_t>(n);
    key.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  static void Add(std::string& key, std::string_view text) {
    Count(key, text.size());
    key += text;
  }
  static void AddAll(std::string& key, const std::vector<std::string>& texts) {
    Count(key, texts.size());
    for (const std::string& t : texts) Add(key, t);
  }

  std::unordered_map<std::string, uint32_t> numbers_;
  std::vector<std::pair<CNode*, uint32_t>> bool_nodes_;
};

}  // namespace

uint32_t AssignBoolSlots(std::vector<CompiledPolicy>& policies) {
  NodeNumbering numbering;
  for (CompiledPolicy& p : policies) {
    for (CCondition& c : p.conditions) numbering.Visit(c.expr);
  }
  return numbering.AssignBoolSlots();
}

uint32_t AssignPathSlots(std::vector<CompiledPolicy>& policies) {
  std::map<PathKey, uint32_t> slots;
  for (CompiledPolicy& p : policies) {
    for (CCondition& c : p.conditions) AssignPathSlots(c.expr, slots);
  }
  return static_cast<uint32_t>(slots.size());
}

uint8_t ScopeIndex::Add(uint32_t index, const CompiledPolicy& p) {
  // A lookup finds the policy only through the key it is filed under, so that
  // key's constraint holds: `== X` and `is T` exactly; `in X` and `in [..]`
  // because the key is the request uid or one of its ancestors (all of them
  // are looked up). `is T in X` is filed by X only, so its type is not covered.
  switch (ChooseSlot(p)) {
    case Slot::kPrincipalEq:
      principal.eq[p.principal.target].push_back(index);
      return kScopeBitPrincipal;
    case Slot::kResourceEq:
      resource.eq[p.resource.target].push_back(index);
      return kScopeBitResource;
    case Slot::kActionEq:
      action.eq[p.action.target].push_back(index);
      return kScopeBitAction;
    case Slot::kPrincipalIn:
      principal.in[p.principal.target].push_back(index);
      return p.principal.op == ScopeOp::kIn ? kScopeBitPrincipal : 0;
    case Slot::kResourceIn:
      resource.in[p.resource.target].push_back(index);
      return p.resource.op == ScopeOp::kIn ? kScopeBitResource : 0;
    case Slot::kActionIn:
      if (p.action.op == ScopeOp::kIn) {
        action.in[p.action.target].push_back(index);
      } else {
        // Filed under each listed action; duplicates in the list are filed once.
        std::set<EntityUid> seen(p.action.set.begin(), p.action.set.end());
        for (const EntityUid& a : seen) action.in[a].push_back(index);
        if (seen.size() > 1) has_multi_key = true;
        // An empty list files nothing, so the policy is never a candidate
        // (and its scope never matches).
      }
      return kScopeBitAction;
    case Slot::kPrincipalIs:
      principal.is[p.principal.type].push_back(index);
      return kScopeBitPrincipal;
    case Slot::kResourceIs:
      resource.is[p.resource.type].push_back(index);
      return kScopeBitResource;
    case Slot::kNone:
      unscoped.push_back(index);
      return 0;
  }
  return 0;
}

void ScopeIndex::Freeze() {
  for (Dimension* d : {&principal, &action, &resource}) {
    d->eq.Freeze();
    d->in.Freeze();
    d->is.Freeze();
  }
}

void ScopeIndex::Lookup(const EvalEnv& env, std::vector<uint32_t>* out) const {
  out->clear();
  out->insert(out->end(), unscoped.begin(), unscoped.end());
  LookupDimension(principal, env.principal.AsEntity(), *env.principal_ancestors, out);
  LookupDimension(action, env.action.AsEntity(), *env.action_ancestors, out);
  LookupDimension(resource, env.resource.AsEntity(), *env.resource_ancestors, out);
  // Policies are filed once, except under multi-action lists: only then can
  // a policy be found twice.
  if (has_multi_key) {
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
  }
}

}  // namespace internal

namespace {

std::string OptionalUid(const std::optional<EntityUidLit>& uid) {
  return uid.has_value() ? EntityUidToString(*uid) : std::string("-");
}

std::string CanonicalEncoding(const std::vector<Policy>& statics,
                              const std::vector<Template>& templates,
                              const std::vector<TemplateLink>& links) {
  std::vector<const Policy*> all;
  for (const Policy& p : statics) all.push_back(&p);
  for (const Template& t : templates) all.push_back(&t);
  std::sort(all.begin(), all.end(), [](const Policy* a, const Policy* b) { return a->id < b->id; });
  std::string out = "cedar-policy-set-v1\n";
  for (const Policy* p : all) {
    out += "policy ";
    out += std::to_string(p->id.size());
    out += ':';
    out += p->id;
    out += '\n';
    std::string text = FormatPolicy(*p);
    out += std::to_string(text.size());
    out += ':';
    out += text;
    out += '\n';
  }
  std::vector<const TemplateLink*> sorted_links;
  for (const TemplateLink& l : links) sorted_links.push_back(&l);
  std::sort(sorted_links.begin(), sorted_links.end(),
            [](const TemplateLink* a, const TemplateLink* b) { return a->link_id < b->link_id; });
  for (const TemplateLink* l : sorted_links) {
    // Length-prefixed fields keep the encoding unambiguous for any id bytes.
    for (const std::string& field : {l->link_id, l->template_id, OptionalUid(l->principal),
                                     OptionalUid(l->resource)}) {
      out += std::to_string(field.size());
      out += ':';
      out += field;
      out += ' ';
    }
    out += "link\n";
  }
  return out;
}

}  // namespace

PolicySet::PolicySet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PolicySet::~PolicySet() = default;

Result<std::shared_ptr<const PolicySet>> PolicySet::Create(PolicySetAst ast) {
  auto impl = std::make_unique<Impl>();
  std::set<std::string, std::less<>> ids;
  std::vector<Policy> statics;
  for (Policy& p : ast.policies) {
    if (!ids.insert(p.id).second) return InvalidArgument("duplicate policy id `" + p.id + "`");
    if (p.IsTemplate()) {
      impl->templates.push_back(std::move(p));
    } else {
      statics.push_back(std::move(p));
    }
  }
  for (const Policy& p : statics) impl->policies.push_back(Clone(p));
  for (const TemplateLink& link : ast.links) {
    if (!ids.insert(link.link_id).second) {
      return InvalidArgument("duplicate policy id `" + link.link_id + "` (template link)");
    }
    const Template* tmpl = nullptr;
    for (const Template& t : impl->templates) {
      if (t.id == link.template_id) tmpl = &t;
    }
    if (tmpl == nullptr) {
      return InvalidArgument("template link `" + link.link_id + "` names unknown template `" +
                             link.template_id + "`");
    }
    Result<Policy> inst = InstantiateTemplate(*tmpl, link);
    if (!inst.ok()) return inst.status().WithContext("template link `" + link.link_id + "`");
    impl->policies.push_back(std::move(inst).value());
  }
  impl->links = std::move(ast.links);
  impl->compiled.reserve(impl->policies.size());
  for (const Policy& p : impl->policies) {
    Result<internal::CompiledPolicy> c = internal::CompilePolicy(p);
    if (!c.ok()) return c.status().WithContext("policy `" + p.id + "`");
    impl->compiled.push_back(std::move(c).value());
  }
  for (uint32_t i = 0; i < impl->compiled.size(); ++i) {
    impl->compiled[i].indexed_scopes = impl->index.Add(i, impl->compiled[i]);
  }
  impl->index.Freeze();
  impl->path_slots = internal::AssignPathSlots(impl->compiled);
  impl->bool_slots = internal::AssignBoolSlots(impl->compiled);
  impl->content_hash =
      crypto::Sha256Hex(CanonicalEncoding(statics, impl->templates, impl->links));
  return std::shared_ptr<const PolicySet>(new PolicySet(std::move(impl)));
}

Result<std::shared_ptr<const PolicySet>> PolicySet::FromText(std::string_view text,
                                                            std::vector<TemplateLink> links) {
  WARDEN_ASSIGN_OR_RETURN(PolicySetAst ast, ParsePolicies(text));
  for (TemplateLink& l : links) ast.links.push_back(std::move(l));
  return Create(std::move(ast));
}

size_t PolicySet::size() const { return impl_->policies.size(); }
std::span<const Policy> PolicySet::policies() const { return impl_->policies; }
std::span<const Template> PolicySet::templates() const { return impl_->templates; }
std::span<const TemplateLink> PolicySet::links() const { return impl_->links; }
const std::string& PolicySet::content_hash() const { return impl_->content_hash; }

const Policy* PolicySet::Find(std::string_view id) const {
  for (const Policy& p : impl_->policies) {
    if (p.id == id) return &p;
  }
  for (const Template& t : impl_->templates) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

void PolicySet::Candidates(const Request& request, const Entities& entities,
                           std::vector<uint32_t>* out) const {
  internal::EvalEnv env(request, entities);
  impl_->index.Lookup(env, out);
  std::sort(out->begin(), out->end());
}

}  // namespace warden::cedar
