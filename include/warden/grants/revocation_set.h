// RevocationSet: the in-memory set of ended grants (completed, revoked,
// ended by cascade) checked on every use of a grant token. Loaded from the
// store at start (only grants whose expiry is still ahead: an expired token
// is refused by its exp anyway) and updated by GrantService after each end
// commits. Thread-safe: lookups take a shared lock, updates an exclusive one.
#pragma once

#include <cstddef>
#include <functional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/grants/grant_token.h"
#include "warden/store/store.h"

namespace warden::grants {

class RevocationSet {
 public:
  RevocationSet() = default;
  RevocationSet(const RevocationSet&) = delete;
  RevocationSet& operator=(const RevocationSet&) = delete;

  // Replaces the contents with every grant ended in the store (status
  // completed, revoked or expired with ended_at set) whose expires_at > now.
  // DataLoss for a malformed row; the store's errors otherwise (the set is
  // then unchanged).
  Status Load(store::Store& store, TimePoint now);

  // Records that `grant_id` ended (`reason`: "completed", "revoked", ...).
  // `expires_at` is the grant's expiry, after which Prune may drop it.
  void Add(std::string_view grant_id, TimePoint expires_at, std::string_view reason);

  // True when `grant_id` has ended.
  bool Contains(std::string_view grant_id) const;

  // The refusal for a use of an already verified token at `now`, or OK:
  // FailedPrecondition("grant <id> was <reason>; it can no longer be used")
  // for an ended grant; Unauthenticated("grant <id> expired at <time>") when
  // now >= claims.expires_at.
  Status CheckUse(const GrantClaims& claims, TimePoint now) const;

  // Drops entries whose grant expired before `now`; returns how many.
  size_t Prune(TimePoint now);

  size_t size() const;

 private:
  struct Entry {
    TimePoint expires_at;
    std::string reason;
  };
  // Transparent hashing: lookups by string_view without a copy.
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, Entry, IdHash, std::equal_to<>>;
  mutable std::shared_mutex mu_;
  Map ended_;
};

}  // namespace warden::grants
