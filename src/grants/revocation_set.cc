#include "warden/grants/revocation_set.h"

#include <mutex>
#include <utility>

#include "warden/core/time_format.h"

namespace warden::grants {

Status RevocationSet::Load(store::Store& store, TimePoint now) {
  Map loaded;
  Status s = store.Read([&](store::Transaction& txn) -> Status {
    // Expired-by-time grants need no entry: their tokens fail the exp check.
    return txn.QueryEach(
        "SELECT id, expires_at, status FROM grants WHERE ended_at IS NOT NULL AND expires_at > $1",
        {UnixMicros(now)}, [&](const store::RowView& row) -> Status {
          auto id = row.Text(0);
          auto expires = row.Int(1);
          auto status = row.Text(2);
          if (!id.ok() || !expires.ok() || !status.ok()) {
            return DataLoss("grants row is malformed: unexpected column type");
          }
          loaded[std::string(*id)] = Entry{FromUnixMicros(*expires), std::string(*status)};
          return OkStatus();
        });
  });
  WARDEN_RETURN_IF_ERROR(s);
  std::unique_lock lock(mu_);
  ended_ = std::move(loaded);
  return OkStatus();
}

void RevocationSet::Add(std::string_view grant_id, TimePoint expires_at, std::string_view reason) {
  std::unique_lock lock(mu_);
  ended_[std::string(grant_id)] = Entry{expires_at, std::string(reason)};
}

bool RevocationSet::Contains(std::string_view grant_id) const {
  std::shared_lock lock(mu_);
  return ended_.find(grant_id) != ended_.end();
}

Status RevocationSet::CheckUse(const GrantClaims& claims, TimePoint now) const {
  {
    std::shared_lock lock(mu_);
    auto it = ended_.find(claims.grant_id);
    if (it != ended_.end()) {
      return FailedPrecondition("grant " + claims.grant_id + " was " + it->second.reason +
                                "; it can no longer be used");
    }
  }
  if (now >= claims.expires_at) {
    return Unauthenticated("grant " + claims.grant_id + " expired at " +
                           FormatRfc3339(claims.expires_at));
  }
  return OkStatus();
}

size_t RevocationSet::Prune(TimePoint now) {
  std::unique_lock lock(mu_);
  return std::erase_if(ended_, [&](const auto& kv) { return kv.second.expires_at <= now; });
}

size_t RevocationSet::size() const {
  std::shared_lock lock(mu_);
  return ended_.size();
}

}  // namespace warden::grants
