#include "warden/cedar/entities.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <unordered_map>
#include <utility>

namespace warden::cedar {
namespace {

// Ancestor sets up to this size are scanned linearly (EntityUid equality
// compares a cached hash first, so a miss is cheap); larger ones are searched
// by dense id.
constexpr size_t kLinearAncestorLimit = 16;

bool SameEntity(const Entity& a, const Entity& b) {
  return a.uid == b.uid && a.attrs.size() == b.attrs.size() &&
         Value::FromRecord(a.attrs) == Value::FromRecord(b.attrs) &&
         Value::FromRecord(a.tags) == Value::FromRecord(b.tags) && a.parents == b.parents;
}

void SortUnique(std::vector<EntityUid>& uids) {
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
}

}  // namespace

namespace internal {

// Open-addressing table from uid to the store's dense id: entity i has id i
// (entities are in uid order), parents outside the store follow from n on.
// Slots hold ids; the uids live in the store, so the table is one flat array
// and a lookup touches it plus the candidate's uid. Uids carry a precomputed
// hash.
class UidIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  UidIndex(const std::vector<Entity>* entities, const std::vector<EntityUid>* external)
      : entities_(entities), external_(external) {}

  void Reserve(size_t count) {
    size_t cap = 16;
    while (cap < count * 2) cap <<= 1;
    slots_.assign(cap, kNone);
    mask_ = cap - 1;
  }

  // The id of `uid`, or kNone.
  uint32_t Find(const EntityUid& uid) const {
    if (slots_.empty()) return kNone;
    for (size_t i = uid.hash() & mask_;; i = (i + 1) & mask_) {
      uint32_t id = slots_[i];
      if (id == kNone || UidAt(id) == uid) return id;
    }
  }

  // Adds `uid` (whose entry UidAt(id) must already exist) unless present;
  // returns the id it has in the table. Reserve() must allow for it.
  uint32_t Insert(const EntityUid& uid, uint32_t id) {
    for (size_t i = uid.hash() & mask_;; i = (i + 1) & mask_) {
      uint32_t cur = slots_[i];
      if (cur == kNone) {
        slots_[i] = id;
        return id;
      }
      if (UidAt(cur) == uid) return cur;
    }
  }

 private:
  const EntityUid& UidAt(uint32_t id) const {
    return id < entities_->size() ? (*entities_)[id].uid : (*external_)[id - entities_->size()];
  }

  const std::vector<Entity>* entities_;
  const std::vector<EntityUid>* external_;
  std::vector<uint32_t> slots_;
  size_t mask_ = 0;
};

}  // namespace internal

struct Entities::Impl {
  Impl() : index(&entities, &external) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::vector<Entity> entities;        // sorted by uid
  std::vector<AncestorSet> ancestors;  // parallel to `entities`
  std::vector<EntityUid> external;     // parents that are not entities, ids n, n+1, ...
  internal::UidIndex index;            // every uid occurring in the store

  // The entity index of `uid`, or kNone (also for parents outside the store).
  uint32_t EntityIndex(const EntityUid& uid) const {
    uint32_t id = index.Find(uid);
    return id < entities.size() ? id : internal::UidIndex::kNone;
  }
};

bool AncestorSet::Contains(const EntityUid& uid) const {
  if (uid_ids_ != nullptr) {
    uint32_t id = uid_ids_->Find(uid);
    return id != internal::UidIndex::kNone && std::binary_search(ids_.begin(), ids_.end(), id);
  }
  for (const EntityUid& a : sorted_) {
    if (a == uid) return true;
  }
  return false;
}

Entities::Entities() : impl_(std::make_shared<const Impl>()) {}

Result<Entities> Entities::Create(std::vector<Entity> entities, size_t max_ancestor_entries) {
  auto impl = std::make_shared<Impl>();
  for (Entity& e : entities) {
    if (e.parents.size() > 1) SortUnique(e.parents);
  }
  auto by_uid = [](const Entity& a, const Entity& b) { return a.uid < b.uid; };
  // Stores written back by EntitiesToJson are already in order. Entries with
  // the same uid are either all identical (merged) or an error naming that
  // uid, so their relative order does not matter and the sort need not be
  // stable (which spares its scratch buffer).
  if (!std::is_sorted(entities.begin(), entities.end(), by_uid)) {
    std::sort(entities.begin(), entities.end(), by_uid);
  }
  impl->entities.reserve(entities.size());
  for (Entity& e : entities) {
    if (!impl->entities.empty() && impl->entities.back().uid == e.uid) {
      if (!SameEntity(impl->entities.back(), e)) {
        return InvalidArgument("duplicate entity entry `" + e.uid.ToString() + "`");
      }
      continue;
    }
    impl->entities.push_back(std::move(e));
  }
  const size_t n = impl->entities.size();
  size_t parent_refs = 0;
  for (const Entity& e : impl->entities) parent_refs += e.parents.size();
  impl->index.Reserve(n + parent_refs);
  for (size_t i = 0; i < n; ++i) {
    impl->index.Insert(impl->entities[i].uid, static_cast<uint32_t>(i));
  }

  // Parents as dense ids, flattened (entity i's are parent_ids[parent_start[i]
  // .. parent_start[i+1])). Entity ids follow uid order, so within an entity
  // they stay sorted as long as no parent lies outside the store; ids are
  // sorted per entity either way, because closures are merged as sorted
  // integer vectors.
  std::vector<uint32_t> parent_start(n + 1, 0);
  std::vector<uint32_t> parent_ids;
  parent_ids.reserve(parent_refs);
  for (size_t i = 0; i < n; ++i) {
    parent_start[i] = static_cast<uint32_t>(parent_ids.size());
    bool external = false;
    for (const EntityUid& p : impl->entities[i].parents) {
      uint32_t next = static_cast<uint32_t>(n + impl->external.size());
      // The uid must be reachable through UidAt before it is inserted.
      impl->external.push_back(p);
      uint32_t id = impl->index.Insert(p, next);
      if (id != next) impl->external.pop_back();
      external = external || id >= n;
      parent_ids.push_back(id);
    }
    if (external) std::sort(parent_ids.begin() + parent_start[i], parent_ids.end());
  }
  parent_start[n] = static_cast<uint32_t>(parent_ids.size());

  // Iterative depth-first closure (hostile inputs may hold very long parent
  // chains, so no recursion). State: 0 = unvisited, 1 = on the stack, 2 = done.
  // Parents are visited in uid order, as the cycle error names the first
  // vertex found on a cycle.
  std::vector<uint8_t> state(n, 0);
  std::vector<std::vector<uint32_t>> closure(n);
  size_t total = 0;
  struct Frame {
    size_t node;
    size_t next_parent;  // position in parent_ids
  };
  std::vector<Frame> stack;
  std::vector<uint32_t> merged;
  for (size_t root = 0; root < n; ++root) {
    if (state[root] != 0) continue;
    stack.push_back({root, parent_start[root]});
    state[root] = 1;
    while (!stack.empty()) {
      Frame& f = stack.back();
      const size_t node = f.node;
      if (f.next_parent < parent_start[node + 1]) {
        size_t pi = parent_ids[f.next_parent++];
        if (pi >= n) continue;  // a parent outside the store ends the chain
        if (state[pi] == 1) {
          return InvalidArgument("input graph has a cycle containing vertex `" +
                                 impl->entities[pi].uid.ToString() + "`");
        }
        if (state[pi] == 0) {
          state[pi] = 1;
          stack.push_back({pi, parent_start[pi]});
        }
        continue;
      }
      // All parents done: ancestors = parents plus their ancestors, merged as
      // sorted id vectors.
      std::vector<uint32_t> acc(parent_ids.begin() + parent_start[node],
                                parent_ids.begin() + parent_start[node + 1]);
      for (uint32_t k = parent_start[node]; k < parent_start[node + 1]; ++k) {
        uint32_t pi = parent_ids[k];
        if (pi >= n || closure[pi].empty()) continue;
        const auto& up = closure[pi];
        merged.clear();
        merged.reserve(acc.size() + up.size());
        std::set_union(acc.begin(), acc.end(), up.begin(), up.end(), std::back_inserter(merged));
        acc.swap(merged);
        if (acc.size() > max_ancestor_entries) break;  // reported just below
      }
      total += acc.size();
      if (total > max_ancestor_entries) {
        return ResourceExhausted("entity hierarchy too large: more than " +
                                 std::to_string(max_ancestor_entries) + " ancestor entries");
      }
      closure[node] = std::move(acc);
      state[node] = 2;
      stack.pop_back();
    }
  }
  impl->ancestors.resize(n);
  for (size_t i = 0; i < n; ++i) {
    AncestorSet& set = impl->ancestors[i];
    set.sorted_.reserve(closure[i].size());
    bool external = false;
    for (uint32_t id : closure[i]) {
      if (id < n) {
        set.sorted_.push_back(impl->entities[id].uid);
      } else {
        set.sorted_.push_back(impl->external[id - n]);
        external = true;
      }
    }
    // Ids of parents outside the store do not follow uid order.
    if (external) std::sort(set.sorted_.begin(), set.sorted_.end());
    if (set.sorted_.size() > kLinearAncestorLimit) {
      set.ids_ = std::move(closure[i]);
      set.uid_ids_ = &impl->index;
    }
  }
  return Entities(std::move(impl));
}

const Entity* Entities::Find(const EntityUid& uid) const {
  uint32_t i = impl_->EntityIndex(uid);
  return i == internal::UidIndex::kNone ? nullptr : &impl_->entities[i];
}

const AncestorSet& Entities::Ancestors(const EntityUid& uid) const {
  static const AncestorSet* const kEmpty = new AncestorSet();
  uint32_t i = impl_->EntityIndex(uid);
  return i == internal::UidIndex::kNone ? *kEmpty : impl_->ancestors[i];
}

const AncestorSet& Entities::AncestorsOf(const Entity& entity) const {
  return impl_->ancestors[static_cast<size_t>(&entity - impl_->entities.data())];
}

bool Entities::In(const EntityUid& a, const EntityUid& b) const {
  if (a == b) return true;
  uint32_t i = impl_->EntityIndex(a);
  return i != internal::UidIndex::kNone && impl_->ancestors[i].Contains(b);
}

size_t Entities::size() const { return impl_->entities.size(); }

std::span<const Entity> Entities::entities() const { return impl_->entities; }

}  // namespace warden::cedar
