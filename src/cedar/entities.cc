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
// (entities keep their input order), parents outside the store follow from n on.
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

  std::vector<Entity> entities;        // in input order, one per uid
  std::vector<AncestorSet> ancestors;  // parallel to `entities`; views into the two below
  std::vector<EntityUid> ancestor_uids;  // every ancestor set, one after the other
  std::vector<uint32_t> ancestor_ids;    // the same sets as ascending dense ids
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
  size_t parent_refs = 0;
  for (Entity& e : entities) {
    if (e.parents.size() > 1) SortUnique(e.parents);
    parent_refs += e.parents.size();
  }
  impl->index.Reserve(entities.size() + parent_refs);
  // Entities keep their input order (entity i has dense id i). A uid given
  // again must come with an identical entry, which is merged, as in Cedar;
  // otherwise the first repeated uid in input order is reported.
  impl->entities.reserve(entities.size());
  for (Entity& e : entities) {
    uint32_t id = static_cast<uint32_t>(impl->entities.size());
    impl->entities.push_back(std::move(e));  // UidAt(id) must exist before Insert
    uint32_t found = impl->index.Insert(impl->entities.back().uid, id);
    if (found != id) {
      if (!SameEntity(impl->entities[found], impl->entities.back())) {
        return InvalidArgument("duplicate entity entry `" + impl->entities.back().uid.ToString() +
                               "`");
      }
      impl->entities.pop_back();
    }
  }
  const size_t n = impl->entities.size();

  // Parents as dense ids, flattened (entity i's are parent_ids[parent_start[i]
  // .. parent_start[i+1])), ascending within each entity, since closures are
  // merged as sorted integer vectors.
  std::vector<uint32_t> parent_start(n + 1, 0);
  std::vector<uint32_t> parent_ids;
  parent_ids.reserve(parent_refs);
  for (size_t i = 0; i < n; ++i) {
    parent_start[i] = static_cast<uint32_t>(parent_ids.size());
    for (const EntityUid& p : impl->entities[i].parents) {
      uint32_t next = static_cast<uint32_t>(n + impl->external.size());
      // The uid must be reachable through UidAt before it is inserted.
      impl->external.push_back(p);
      uint32_t id = impl->index.Insert(p, next);
      if (id != next) impl->external.pop_back();
      parent_ids.push_back(id);
    }
    if (parent_ids.size() - parent_start[i] > 1) {
      std::sort(parent_ids.begin() + parent_start[i], parent_ids.end());
    }
  }
  parent_start[n] = static_cast<uint32_t>(parent_ids.size());

  // Iterative depth-first closure (hostile inputs may hold very long parent
  // chains, so no recursion). State: 0 = unvisited, 1 = on the stack, 2 = done.
  // Roots and parents are visited in input order, and a cycle error names the
  // first vertex found on a cycle. Each finished closure is appended to
  // `closures` (entity i's at closure_start[i], closure_size[i] ids).
  std::vector<uint8_t> state(n, 0);
  std::vector<uint32_t> closure_start(n, 0);
  std::vector<uint32_t> closure_size(n, 0);
  std::vector<uint32_t> closures;
  closures.reserve(parent_refs);
  struct Frame {
    size_t node;
    size_t next_parent;  // position in parent_ids
  };
  std::vector<Frame> stack;
  std::vector<uint32_t> acc;
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
      // sorted id vectors (read from `closures`, which grows only afterwards).
      acc.assign(parent_ids.begin() + parent_start[node],
                 parent_ids.begin() + parent_start[node + 1]);
      for (uint32_t k = parent_start[node]; k < parent_start[node + 1]; ++k) {
        uint32_t pi = parent_ids[k];
        if (pi >= n || closure_size[pi] == 0) continue;
        const uint32_t* up = closures.data() + closure_start[pi];
        merged.clear();
        merged.reserve(acc.size() + closure_size[pi]);
        std::set_union(acc.begin(), acc.end(), up, up + closure_size[pi],
                       std::back_inserter(merged));
        acc.swap(merged);
        if (acc.size() > max_ancestor_entries) break;  // reported just below
      }
      if (closures.size() + acc.size() > max_ancestor_entries) {
        return ResourceExhausted("entity hierarchy too large: more than " +
                                 std::to_string(max_ancestor_entries) + " ancestor entries");
      }
      closure_start[node] = static_cast<uint32_t>(closures.size());
      closure_size[node] = static_cast<uint32_t>(acc.size());
      closures.insert(closures.end(), acc.begin(), acc.end());
      state[node] = 2;
      stack.pop_back();
    }
  }

  // Each ancestor set as uids in uid order, all in one vector (entity i's at
  // uid_start[i]); views are set once it is complete, as it never grows
  // afterwards.
  std::vector<uint32_t> uid_start(n, 0);
  impl->ancestor_uids.reserve(closures.size());
  for (size_t i = 0; i < n; ++i) {
    uid_start[i] = static_cast<uint32_t>(impl->ancestor_uids.size());
    const uint32_t* ids = closures.data() + closure_start[i];
    for (uint32_t k = 0; k < closure_size[i]; ++k) {
      uint32_t id = ids[k];
      impl->ancestor_uids.push_back(id < n ? impl->entities[id].uid : impl->external[id - n]);
    }
    if (closure_size[i] > 1) {
      std::sort(impl->ancestor_uids.begin() + uid_start[i], impl->ancestor_uids.end());
    }
  }
  impl->ancestor_ids = std::move(closures);
  impl->ancestors.resize(n);
  for (size_t i = 0; i < n; ++i) {
    AncestorSet& set = impl->ancestors[i];
    set.sorted_ =
        std::span<const EntityUid>(impl->ancestor_uids.data() + uid_start[i], closure_size[i]);
    if (closure_size[i] > kLinearAncestorLimit) {
      set.ids_ = std::span<const uint32_t>(impl->ancestor_ids.data() + closure_start[i],
                                           closure_size[i]);
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
