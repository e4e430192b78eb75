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

struct Entities::Impl {
  std::vector<Entity> entities;        // sorted by uid
  std::vector<AncestorSet> ancestors;  // parallel to `entities`
  std::unordered_map<EntityUid, size_t, EntityUidHash> index;
  // Dense ids of every uid occurring in the store (entities and parents).
  std::unordered_map<EntityUid, uint32_t, EntityUidHash> uid_ids;
};

bool AncestorSet::Contains(const EntityUid& uid) const {
  if (uid_ids_ != nullptr) {
    auto it = uid_ids_->find(uid);
    return it != uid_ids_->end() && std::binary_search(ids_.begin(), ids_.end(), it->second);
  }
  for (const EntityUid& a : sorted_) {
    if (a == uid) return true;
  }
  return false;
}

Entities::Entities() : impl_(std::make_shared<const Impl>()) {}

Result<Entities> Entities::Create(std::vector<Entity> entities, size_t max_ancestor_entries) {
  auto impl = std::make_shared<Impl>();
  for (Entity& e : entities) SortUnique(e.parents);
  std::stable_sort(entities.begin(), entities.end(),
                   [](const Entity& a, const Entity& b) { return a.uid < b.uid; });
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
  impl->index.reserve(n);
  for (size_t i = 0; i < n; ++i) impl->index.emplace(impl->entities[i].uid, i);

  // Every uid that occurs (entities and parents) gets a dense id in uid order,
  // so closures are sorted integer vectors: cheap to merge, and their order is
  // already the EntityUid order.
  std::vector<EntityUid> all_uids;
  for (const Entity& e : impl->entities) {
    all_uids.push_back(e.uid);
    all_uids.insert(all_uids.end(), e.parents.begin(), e.parents.end());
  }
  SortUnique(all_uids);
  auto& uid_id = impl->uid_ids;
  uid_id.reserve(all_uids.size());
  for (size_t i = 0; i < all_uids.size(); ++i)
    uid_id.emplace(all_uids[i], static_cast<uint32_t>(i));
  // For each entity: its parents as ids, and the entity index of each parent (or npos).
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<std::vector<uint32_t>> parent_ids(n);
  std::vector<std::vector<size_t>> parent_nodes(n);
  for (size_t i = 0; i < n; ++i) {
    for (const EntityUid& p : impl->entities[i].parents) {
      parent_ids[i].push_back(uid_id.find(p)->second);
      auto it = impl->index.find(p);
      parent_nodes[i].push_back(it == impl->index.end() ? kNone : it->second);
    }
  }

  // Iterative depth-first closure (hostile inputs may hold very long parent
  // chains, so no recursion). State: 0 = unvisited, 1 = on the stack, 2 = done.
  std::vector<uint8_t> state(n, 0);
  std::vector<std::vector<uint32_t>> closure(n);
  size_t total = 0;
  struct Frame {
    size_t node;
    size_t next_parent;
  };
  std::vector<Frame> stack;
  for (size_t root = 0; root < n; ++root) {
    if (state[root] != 0) continue;
    stack.push_back({root, 0});
    state[root] = 1;
    while (!stack.empty()) {
      Frame& f = stack.back();
      const size_t node = f.node;
      if (f.next_parent < parent_nodes[node].size()) {
        size_t k = f.next_parent++;
        size_t pi = parent_nodes[node][k];
        if (pi == kNone) continue;  // a parent outside the store ends the chain
        if (state[pi] == 1) {
          return InvalidArgument("input graph has a cycle containing vertex `" +
                                 impl->entities[pi].uid.ToString() + "`");
        }
        if (state[pi] == 0) {
          state[pi] = 1;
          stack.push_back({pi, 0});
        }
        continue;
      }
      // All parents done: ancestors = parents plus their ancestors.
      // Parent ids are sorted (parents are sorted by uid, ids follow uid order)
      // and so is every closure, so a linear merge suffices.
      std::vector<uint32_t> acc = parent_ids[node];
      std::vector<uint32_t> merged;
      for (size_t pi : parent_nodes[node]) {
        if (pi == kNone) continue;
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
    for (uint32_t id : closure[i]) set.sorted_.push_back(all_uids[id]);
    if (set.sorted_.size() > kLinearAncestorLimit) {
      set.ids_ = std::move(closure[i]);
      set.uid_ids_ = &impl->uid_ids;
    }
  }
  return Entities(std::move(impl));
}

const Entity* Entities::Find(const EntityUid& uid) const {
  auto it = impl_->index.find(uid);
  return it == impl_->index.end() ? nullptr : &impl_->entities[it->second];
}

const AncestorSet& Entities::Ancestors(const EntityUid& uid) const {
  static const AncestorSet* const kEmpty = new AncestorSet();
  auto it = impl_->index.find(uid);
  return it == impl_->index.end() ? *kEmpty : impl_->ancestors[it->second];
}

const AncestorSet& Entities::AncestorsOf(const Entity& entity) const {
  return impl_->ancestors[static_cast<size_t>(&entity - impl_->entities.data())];
}

bool Entities::In(const EntityUid& a, const EntityUid& b) const {
  if (a == b) return true;
  auto it = impl_->index.find(a);
  return it != impl_->index.end() && impl_->ancestors[it->second].Contains(b);
}

size_t Entities::size() const { return impl_->entities.size(); }

std::span<const Entity> Entities::entities() const { return impl_->entities; }

}  // namespace warden::cedar
