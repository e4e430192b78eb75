// The inside of a PolicySet: the policies, their compiled forms and the scope
// indexes the authorizer uses to find candidates. Immutable once built; safe to
// read from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cedar/internal/eval_compiled.h"
#include "warden/cedar/ast.h"
#include "warden/cedar/policy_set.h"
#include "warden/cedar/value.h"

namespace warden::cedar {
namespace internal {

// Policy indexes by key, filled while the set is built and then frozen into
// one flat open-addressing table (power-of-two size, linear probing): a
// lookup masks the key's precomputed hash and compares keys in one array
// instead of dividing and walking bucket lists.
template <typename Key, typename Hash>
class Postings {
 public:
  // While building: the list for `key`, created empty when new.
  std::vector<uint32_t>& operator[](const Key& key) { return building_[key]; }
  // Ends building; Find answers from then on.
  void Freeze() {
    entries_.clear();
    entries_.reserve(building_.size());
    for (auto& [key, list] : building_) entries_.emplace_back(key, std::move(list));
    building_.clear();
    size_t cap = 4;
    while (cap < entries_.size() * 2) cap <<= 1;
    slots_.assign(cap, kEmpty);
    mask_ = cap - 1;
    for (uint32_t i = 0; i < entries_.size(); ++i) {
      size_t h = Hash{}(entries_[i].first) & mask_;
      while (slots_[h] != kEmpty) h = (h + 1) & mask_;
      slots_[h] = i;
    }
  }
  bool empty() const { return entries_.empty(); }
  // The list for `key`, or nullptr. Only after Freeze.
  const std::vector<uint32_t>* Find(const Key& key) const {
    if (entries_.empty()) return nullptr;
    for (size_t h = Hash{}(key) & mask_;; h = (h + 1) & mask_) {
      uint32_t i = slots_[h];
      if (i == kEmpty) return nullptr;
      if (entries_[i].first == key) return &entries_[i].second;
    }
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  std::unordered_map<Key, std::vector<uint32_t>, Hash> building_;
  std::vector<std::pair<Key, std::vector<uint32_t>>> entries_;
  std::vector<uint32_t> slots_;  // indexes into entries_, or kEmpty
  size_t mask_ = 0;
};

// Each policy is filed under exactly one key of one scope variable (the most
// selective one it constrains), or in `unscoped` when its scope is all `any`.
// An `action in [A, B]` policy is filed under each listed action.
struct ScopeIndex {
  using UidMap = Postings<EntityUid, EntityUidHash>;
  using TypeMap = Postings<EntityType, EntityTypeHash>;
  struct Dimension {
    UidMap eq;   // `== X`: looked up by the request uid
    UidMap in;   // `in X`, `is T in X`, `in [X, ..]`: by the uid and its ancestors
    TypeMap is;  // `is T`: by the request uid's type
  };
  Dimension principal;
  Dimension action;
  Dimension resource;
  std::vector<uint32_t> unscoped;
  bool has_multi_key = false;  // some policy is filed under several keys

  // Files the policy; returns the scope variables (kScopeBit*) whose
  // constraint holds for every request whose Lookup returns this policy.
  uint8_t Add(uint32_t index, const CompiledPolicy& policy);
  // Called once after the last Add, before any Lookup.
  void Freeze();
  // The candidates for `env`, each once, in no particular order (callers
  // that report in text order sort what they report).
  void Lookup(const EvalEnv& env, std::vector<uint32_t>* out) const;
};

// Numbers the distinct variable paths of `policies` (CNode::path_slot);
// returns how many there are.
uint32_t AssignPathSlots(std::vector<CompiledPolicy>& policies);

// Numbers the bool operator nodes of `policies` that occur more than once
// (CNode::bool_slot, one slot per distinct expression); returns how many
// slots there are.
uint32_t AssignBoolSlots(std::vector<CompiledPolicy>& policies);

}  // namespace internal

struct PolicySet::Impl {
  std::vector<Policy> policies;   // evaluated: static policies, then instantiated links
  std::vector<Template> templates;
  std::vector<TemplateLink> links;
  std::vector<internal::CompiledPolicy> compiled;  // parallel to `policies`
  std::string content_hash;
  internal::ScopeIndex index;
  // Number of distinct variable paths in `compiled` (EvalEnv::path_cache size).
  uint32_t path_slots = 0;
  // Number of repeated bool expressions in `compiled` (EvalEnv::bool_cache size).
  uint32_t bool_slots = 0;
};

}  // namespace warden::cedar
