// Cedar entities and the immutable entity store used during evaluation.
// Entities::Create computes each entity's transitive ancestor set once, so the
// `in` operator is a hash lookup at evaluation time. An Entities value is
// immutable and cheap to copy (shared contents); safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "warden/cedar/value.h"
#include "warden/core/status.h"

namespace warden::cedar {

namespace internal {
class UidIndex;  // the store's uid -> dense id table (entities.cc)
}  // namespace internal

// One entity: its uid, attributes, direct parents and tags.
struct Entity {
  EntityUid uid;
  Record attrs;
  std::vector<EntityUid> parents;  // direct parents (sorted and deduplicated by Create)
  Record tags;
};

// The transitive ancestors of one entity (never the entity itself: cycles are
// rejected). Parents that are not entities of the store are still ancestors, as
// in Cedar; the closure simply does not continue through them.
class AncestorSet {
 public:
  bool Contains(const EntityUid& uid) const;
  size_t size() const { return sorted_.size(); }
  // Ancestors in EntityUid order.
  std::span<const EntityUid> ancestors() const { return sorted_; }

 private:
  friend class Entities;
  // Views into the store that owns this set.
  std::span<const EntityUid> sorted_;
  // For large sets: the store's dense uid numbering (owned by the store) and
  // this set's ids in ascending order, so membership is one hash lookup plus a
  // binary search over integers.
  std::span<const uint32_t> ids_;
  const internal::UidIndex* uid_ids_ = nullptr;
};

// The immutable entity store.
class Entities {
 public:
  // An empty store.
  Entities();

  // Builds the store and its ancestor closure. As in Cedar: identical
  // duplicate entries are merged; InvalidArgument "duplicate entity entry
  // `T::\"id\"`" when two different entities share a uid; InvalidArgument
  // "input graph has a cycle containing vertex `T::\"id\"`" for a cycle in the
  // parent graph (including an entity that is its own parent).
  // ResourceExhausted when the closure would exceed `max_ancestor_entries`
  // (sum of all ancestor set sizes), which bounds memory for hostile inputs.
  static Result<Entities> Create(std::vector<Entity> entities,
                                 size_t max_ancestor_entries = kDefaultMaxAncestorEntries);
  static constexpr size_t kDefaultMaxAncestorEntries = 8u << 20;

  // The entity, or nullptr when absent. The pointer lives as long as any copy
  // of this store.
  const Entity* Find(const EntityUid& uid) const;

  // The transitive ancestors of `uid` (empty for unknown entities).
  const AncestorSet& Ancestors(const EntityUid& uid) const;
  // The transitive ancestors of `entity`, which must be a pointer returned by
  // Find on this store (or a copy sharing its contents); O(1).
  const AncestorSet& AncestorsOf(const Entity& entity) const;

  // Cedar `a in b` for entities: a == b, or b is a transitive ancestor of a.
  bool In(const EntityUid& a, const EntityUid& b) const;

  // Entity count and the entities, in input order (the first entry of each uid).
  size_t size() const;
  std::span<const Entity> entities() const;

  struct Impl;

 private:
  explicit Entities(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace warden::cedar
