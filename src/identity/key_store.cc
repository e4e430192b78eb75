#include "warden/identity/key_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "warden/audit/audit_log.h"
#include "warden/core/encoding.h"
#include "warden/core/posix.h"
#include "warden/core/json.h"
#include "warden/core/time_format.h"

namespace warden::identity {
namespace {

namespace fs = std::filesystem;

Result<KeyRecord> RecordFromRow(const std::vector<store::SqlValue>& row) {
  auto corrupt = [](std::string_view what) {
    return DataLoss("keys row is malformed: " + std::string(what));
  };
  if (row.size() != 7) return corrupt("wrong column count");
  KeyRecord r;
  auto kid = store::AsText(row[0]);
  auto alg = store::AsText(row[1]);
  auto jwk = store::AsText(row[2]);
  auto status = store::AsText(row[3]);
  auto created = store::AsInt(row[4]);
  if (!kid.ok() || !alg.ok() || !jwk.ok() || !status.ok() || !created.ok()) {
    return corrupt("unexpected column type");
  }
  r.kid = std::move(*kid);
  auto parsed_alg = crypto::ParseAlgorithm(*alg);
  if (!parsed_alg.ok()) return corrupt("alg \"" + *alg + "\"");
  r.algorithm = *parsed_alg;
  auto parsed_jwk = ParseJson(*jwk);
  if (!parsed_jwk.ok() || !parsed_jwk->is_object()) return corrupt("public_jwk");
  r.public_jwk = std::move(parsed_jwk->get_object());
  if (*status == "active") {
    r.status = KeyStatus::kActive;
  } else if (*status == "retired") {
    r.status = KeyStatus::kRetired;
  } else {
    return corrupt("status \"" + *status + "\"");
  }
  r.created_at = FromUnixMicros(*created);
  if (!store::IsNull(row[5])) {
    auto retired = store::AsInt(row[5]);
    if (!retired.ok()) return corrupt("retired_at");
    r.retired_at = FromUnixMicros(*retired);
  }
  if (!store::IsNull(row[6])) {
    auto until = store::AsInt(row[6]);
    if (!until.ok()) return corrupt("publish_until");
    r.publish_until = FromUnixMicros(*until);
  }
  // A retirement without its time, or an active key with a window, would
  // make the publication rules guess; refuse such rows instead.
  if (r.status == KeyStatus::kActive && (r.retired_at || r.publish_until)) {
    return corrupt("active key " + r.kid + " has retired_at or publish_until");
  }
  if (r.status == KeyStatus::kRetired && !r.retired_at) {
    return corrupt("retired key " + r.kid + " has no retired_at");
  }
  return r;
}

constexpr std::string_view kKeyColumns =
    "kid, alg, public_jwk, status, created_at, retired_at, publish_until";

// The kid of the newest active key, if any.
Result<std::optional<std::string>> NewestActiveKid(store::Transaction& txn) {
  WARDEN_ASSIGN_OR_RETURN(store::Rows rows,
                          txn.Query("SELECT kid FROM keys WHERE status = 'active' "
                                    "ORDER BY created_at DESC, kid DESC LIMIT 1"));
  if (rows.empty()) return std::optional<std::string>();
  WARDEN_ASSIGN_OR_RETURN(std::string kid, store::AsText(rows.rows[0][0]));
  return std::optional<std::string>(std::move(kid));
}

// Creates `dir` with mode 0700 when missing; refuses a non-directory.
Status EnsureKeysDir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) return OkStatus();
  int err = errno;
  if (err != EEXIST) {
    return Unavailable("cannot create key directory " + dir.string() + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return FailedPrecondition("key directory " + dir.string() + " exists but is not a directory");
  }
  return OkStatus();
}

constexpr std::chrono::seconds kMaxTokenLifetimeLimit = std::chrono::hours(24 * 366);

}  // namespace

std::string_view KeyStatusName(KeyStatus status) {
  return status == KeyStatus::kActive ? "active" : "retired";
}

Result<std::vector<KeyRecord>> ListKeys(store::Store& store) {
  std::vector<KeyRecord> out;
  WARDEN_RETURN_IF_ERROR(store.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(store::Rows rows, txn.Query("SELECT " + std::string(kKeyColumns) +
                                                        " FROM keys ORDER BY created_at, kid"));
    for (const auto& row : rows.rows) {
      WARDEN_ASSIGN_OR_RETURN(KeyRecord r, RecordFromRow(row));
      out.push_back(std::move(r));
    }
    return OkStatus();
  }));
  return out;
}

Result<fs::path> KeyFilePath(const fs::path& keys_dir, std::string_view kid) {
  // A kid is a SHA-256 thumbprint: 43 base64url characters, never '/' or '.'.
  auto raw = Base64UrlDecode(kid);
  if (kid.size() != 43 || !raw.ok() || raw->size() != 32) {
    return InvalidArgument("kid must be an RFC 7638 SHA-256 thumbprint (43 base64url characters)",
                           "kid");
  }
  return keys_dir / (std::string(kid) + ".pem");
}

Result<crypto::SigningKey> LoadSigningKey(store::Store& store, const fs::path& keys_dir,
                                          std::string_view kid) {
  WARDEN_ASSIGN_OR_RETURN(fs::path path, KeyFilePath(keys_dir, kid));
  std::optional<KeyRecord> record;
  WARDEN_RETURN_IF_ERROR(store.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(store::Rows rows, txn.Query("SELECT " + std::string(kKeyColumns) +
                                                            " FROM keys WHERE kid = $1",
                                                        {std::string(kid)}));
    if (rows.empty()) return NotFound("no signing key with kid " + std::string(kid));
    WARDEN_ASSIGN_OR_RETURN(KeyRecord r, RecordFromRow(rows.rows[0]));
    record = std::move(r);
    return OkStatus();
  }));
  auto key = crypto::SigningKey::LoadPem(path);
  if (!key.ok()) return key.status().WithContext("signing key " + std::string(kid));
  // The file name is only a label; the key itself must be the one recorded.
  if (key->kid() != kid ||
      CanonicalJson(key->public_key().ToJwk()) != CanonicalJson(record->public_jwk)) {
    return DataLoss("key file " + path.string() + " holds key " + key->kid() +
                    ", not the recorded key " + std::string(kid));
  }
  return std::move(*key);
}

Result<crypto::SigningKey> EnsureSigningKey(store::Store& store, const fs::path& keys_dir,
                                            crypto::Algorithm alg, const Clock& clock) {
  std::optional<std::string> active;
  WARDEN_RETURN_IF_ERROR(store.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(active, NewestActiveKid(txn));
    return OkStatus();
  }));
  if (active) return LoadSigningKey(store, keys_dir, *active);

  WARDEN_RETURN_IF_ERROR(EnsureKeysDir(keys_dir));
  WARDEN_ASSIGN_OR_RETURN(crypto::SigningKey key, crypto::SigningKey::Generate(alg));
  WARDEN_ASSIGN_OR_RETURN(fs::path path, KeyFilePath(keys_dir, key.kid()));
  // The file goes first: a row must never name a key whose private half was
  // not durably written.
  WARDEN_RETURN_IF_ERROR(key.SavePem(path));
  const TimePoint now = FromUnixMicros(UnixMicros(clock.Now()));
  std::optional<std::string> raced;
  Status s = store.Write([&](store::Transaction& txn) -> Status {
    // Another process may have initialised the same data dir meanwhile.
    WARDEN_ASSIGN_OR_RETURN(raced, NewestActiveKid(txn));
    if (raced) return OkStatus();
    WARDEN_ASSIGN_OR_RETURN(
        int64_t inserted,
        txn.Exec("INSERT INTO keys (" + std::string(kKeyColumns) +
                     ") VALUES ($1, $2, $3, $4, $5, $6, $7)",
                 {key.kid(), std::string(key.jose_alg()), CanonicalJson(key.public_key().ToJwk()),
                  std::string("active"), UnixMicros(now), store::SqlValue(), store::SqlValue()}));
    (void)inserted;
    WARDEN_ASSIGN_OR_RETURN(
        auto event, audit::Append(txn,
                                  {"system", "key.generated", "key:" + key.kid(),
                                   json::object{{"kid", key.kid()}, {"alg", key.jose_alg()}}},
                                  now));
    (void)event;
    return OkStatus();
  });
  if (!s.ok() || raced) {
    std::error_code ec;
    fs::remove(path, ec);  // best effort: the key was never recorded
    WARDEN_RETURN_IF_ERROR(s);
    return LoadSigningKey(store, keys_dir, *raced);
  }
  return key;
}

struct KeyRing::Snapshot {
  struct Published {
    crypto::PublicKey key;
    std::optional<TimePoint> publish_until;  // empty while active
    bool PublishedAt(TimePoint now) const { return !publish_until || now < *publish_until; }
  };
  std::shared_ptr<const crypto::SigningKey> current;
  std::vector<Published> keys;  // the current key first, then retired keys newest first
};

KeyRing::KeyRing(store::Store& store, fs::path keys_dir, const Clock& clock,
                 std::chrono::seconds max_token_lifetime)
    : store_(store),
      keys_dir_(std::move(keys_dir)),
      clock_(clock),
      max_token_lifetime_(max_token_lifetime) {}

Result<std::unique_ptr<KeyRing>> KeyRing::Open(store::Store& store, fs::path keys_dir,
                                               crypto::Algorithm default_alg, const Clock& clock,
                                               std::chrono::seconds max_token_lifetime) {
  if (max_token_lifetime < std::chrono::seconds(1) || max_token_lifetime > kMaxTokenLifetimeLimit) {
    return InvalidArgument("must be between 1s and " + FormatDuration(kMaxTokenLifetimeLimit) +
                               ", got " + FormatDuration(max_token_lifetime),
                           "max_token_lifetime");
  }
  WARDEN_ASSIGN_OR_RETURN(crypto::SigningKey first,
                          EnsureSigningKey(store, keys_dir, default_alg, clock));
  (void)first;  // RefreshLocked loads whichever key is newest by then
  std::unique_ptr<KeyRing> ring(new KeyRing(store, std::move(keys_dir), clock, max_token_lifetime));
  {
    std::lock_guard<std::mutex> lock(ring->update_mu_);
    WARDEN_RETURN_IF_ERROR(ring->RefreshLocked());
  }
  return Result<std::unique_ptr<KeyRing>>(std::move(ring));
}

std::shared_ptr<const KeyRing::Snapshot> KeyRing::Load() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return snapshot_;
}

std::shared_ptr<const crypto::SigningKey> KeyRing::Current() const { return Load()->current; }

Result<crypto::PublicKey> KeyRing::Find(std::string_view kid) const {
  std::shared_ptr<const Snapshot> snap = Load();
  const TimePoint now = clock_.Now();
  for (const auto& published : snap->keys) {
    if (published.key.kid() == kid && published.PublishedAt(now)) return published.key;
  }
  return NotFound("unknown key id " + crypto::QuoteUntrusted(kid));
}

crypto::KeyResolver KeyRing::Resolver() const {
  return [this](std::string_view kid) { return Find(kid); };
}

json::object KeyRing::Jwks() const {
  std::shared_ptr<const Snapshot> snap = Load();
  const TimePoint now = clock_.Now();
  json::array keys;
  for (const auto& published : snap->keys) {
    if (published.PublishedAt(now)) keys.emplace_back(published.key.ToPublishedJwk());
  }
  return json::object{{"keys", std::move(keys)}};
}

Result<std::vector<KeyRecord>> KeyRing::List() const { return ListKeys(store_); }

Result<KeyRecord> KeyRing::Rotate(std::optional<crypto::Algorithm> alg, std::string_view actor) {
  if (actor.empty()) return InvalidArgument("is required", "actor");
  std::lock_guard<std::mutex> lock(update_mu_);
  std::shared_ptr<const Snapshot> old = Load();

  WARDEN_RETURN_IF_ERROR(EnsureKeysDir(keys_dir_));
  WARDEN_ASSIGN_OR_RETURN(crypto::SigningKey key,
                          crypto::SigningKey::Generate(alg.value_or(old->current->algorithm())));
  WARDEN_ASSIGN_OR_RETURN(fs::path path, KeyFilePath(keys_dir_, key.kid()));
  // As on first start, the private half is durable before any row names it.
  WARDEN_RETURN_IF_ERROR(key.SavePem(path));

  const TimePoint now = TruncateToMicros(clock_.Now());
  const TimePoint until = now + max_token_lifetime_;
  KeyRecord record;
  record.kid = key.kid();
  record.algorithm = key.algorithm();
  record.public_jwk = key.public_key().ToJwk();
  record.status = KeyStatus::kActive;
  record.created_at = now;

  // The keys the store had active (newest first): the rows this write retires.
  std::vector<std::pair<std::string, std::string>> retired;  // kid, public_jwk
  Status s = store_.Write([&](store::Transaction& txn) -> Status {
    retired.clear();
    WARDEN_ASSIGN_OR_RETURN(store::Rows rows,
                            txn.Query("SELECT kid, public_jwk FROM keys WHERE status = 'active' "
                                      "ORDER BY created_at DESC, kid DESC"));
    for (const auto& row : rows.rows) {
      WARDEN_ASSIGN_OR_RETURN(std::string kid, store::AsText(row[0]));
      WARDEN_ASSIGN_OR_RETURN(std::string jwk, store::AsText(row[1]));
      retired.emplace_back(std::move(kid), std::move(jwk));
    }
    WARDEN_ASSIGN_OR_RETURN(int64_t changed,
                            txn.Exec("UPDATE keys SET status = 'retired', retired_at = $1, "
                                     "publish_until = $2 WHERE status = 'active'",
                                     {UnixMicros(now), UnixMicros(until)}));
    (void)changed;
    WARDEN_ASSIGN_OR_RETURN(
        int64_t inserted,
        txn.Exec("INSERT INTO keys (" + std::string(kKeyColumns) +
                     ") VALUES ($1, $2, $3, $4, $5, $6, $7)",
                 {record.kid, std::string(key.jose_alg()), CanonicalJson(record.public_jwk),
                  std::string("active"), UnixMicros(now), store::SqlValue(), store::SqlValue()}));
    (void)inserted;
    json::object details{{"kid", record.kid}, {"alg", key.jose_alg()}};
    if (retired.empty()) {
      details["previous_kid"] = nullptr;
      details["previous_publish_until"] = nullptr;
    } else {
      details["previous_kid"] = retired.front().first;
      details["previous_publish_until"] = FormatRfc3339Exact(until);
    }
    WARDEN_ASSIGN_OR_RETURN(auto event, audit::Append(txn,
                                                      {std::string(actor), "key.rotated",
                                                       "key:" + record.kid, std::move(details)},
                                                      now));
    (void)event;
    return OkStatus();
  });
  if (!s.ok()) {
    std::error_code ec;
    fs::remove(path, ec);  // best effort: the key was never recorded
    // Best effort: the deletion itself already happened and is what matters.
    (void)FsyncDirectory(keys_dir_);
    return s.WithContext("rotating the signing key");
  }

  // The new snapshot follows from the committed write without another read,
  // so a store that fails right after the commit cannot leave the ring behind.
  auto snap = std::make_shared<Snapshot>();
  snap->current = std::make_shared<const crypto::SigningKey>(std::move(key));
  snap->keys.push_back({snap->current->public_key(), std::nullopt});
  auto included = [&](const std::string& kid) {
    return std::any_of(snap->keys.begin(), snap->keys.end(),
                       [&](const Snapshot::Published& p) { return p.key.kid() == kid; });
  };
  for (const auto& [kid, jwk_text] : retired) {
    auto jwk = ParseJson(jwk_text);
    if (!jwk.ok() || !jwk->is_object()) continue;  // Refresh reports such a row
    auto pub = crypto::PublicKey::FromJwk(jwk->get_object());
    if (!pub.ok() || pub->kid() != kid) continue;
    snap->keys.push_back({*pub, until});
  }
  for (const auto& published : old->keys) {
    if (included(published.key.kid())) continue;
    // A key this ring still saw as active was retired by another server, no
    // later than now; `until` bounds its window until the next Refresh.
    snap->keys.push_back({published.key, published.publish_until.value_or(until)});
  }
  {
    std::lock_guard<std::mutex> snap_lock(snapshot_mu_);
    snapshot_ = std::move(snap);
  }
  return record;
}

Status KeyRing::Refresh() {
  std::lock_guard<std::mutex> lock(update_mu_);
  return RefreshLocked();
}

Status KeyRing::RefreshLocked() {
  const TimePoint now = clock_.Now();
  WARDEN_ASSIGN_OR_RETURN(std::vector<KeyRecord> records, ListKeys(store_));
  // ListKeys is ordered oldest first by (created_at, kid): the last active row
  // is the one EnsureSigningKey and other servers consider current.
  const KeyRecord* active = nullptr;
  for (const auto& r : records) {
    if (r.status == KeyStatus::kActive) active = &r;
  }
  if (active == nullptr) {
    return FailedPrecondition("no active signing key in the store (every key row is retired)");
  }

  std::shared_ptr<const Snapshot> old = Load();
  auto snap = std::make_shared<Snapshot>();
  if (old && old->current->kid() == active->kid) {
    snap->current = old->current;
  } else {
    WARDEN_ASSIGN_OR_RETURN(crypto::SigningKey key, LoadSigningKey(store_, keys_dir_, active->kid));
    snap->current = std::make_shared<const crypto::SigningKey>(std::move(key));
  }
  snap->keys.push_back({snap->current->public_key(), std::nullopt});
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (it->kid == active->kid) continue;
    // A retired row without a window predates windows: it was never meant
    // to verify after retirement, so it is not published.
    const bool published = it->status == KeyStatus::kActive ||
                           (it->publish_until.has_value() && now < *it->publish_until);
    if (!published) continue;
    auto pub = crypto::PublicKey::FromJwk(it->public_jwk);
    if (!pub.ok() || pub->kid() != it->kid) {
      return DataLoss("keys row " + it->kid + ": public_jwk does not hold the key it names");
    }
    snap->keys.push_back(
        {*pub, it->status == KeyStatus::kActive ? std::nullopt : it->publish_until});
  }
  {
    std::lock_guard<std::mutex> snap_lock(snapshot_mu_);
    snapshot_ = std::move(snap);
  }

  // The private half of a key past its window can never be needed again.
  // Only the unlink that actually removed the file records the event, so two
  // servers sharing the directory audit each destruction once.
  for (const auto& r : records) {
    if (r.status != KeyStatus::kRetired || !r.publish_until || now < *r.publish_until) continue;
    WARDEN_ASSIGN_OR_RETURN(fs::path path, KeyFilePath(keys_dir_, r.kid));
    if (::unlink(path.c_str()) != 0) {
      const int err = errno;
      if (err == ENOENT) continue;
      return Unavailable("cannot delete the private key file " + path.string() +
                         " of expired key " + r.kid + ": " + std::strerror(err));
    }
    // Best effort: the deletion itself already happened and is what matters.
    (void)FsyncDirectory(keys_dir_);
    const TimePoint at = TruncateToMicros(clock_.Now());
    Status s = store_.Write([&](store::Transaction& txn) -> Status {
      WARDEN_ASSIGN_OR_RETURN(
          auto event, audit::Append(txn,
                                    {"system", "key.destroyed", "key:" + r.kid,
                                     json::object{{"kid", r.kid},
                                                  {"alg", crypto::JoseAlgorithmName(r.algorithm)},
                                                  {"publish_until", FormatRfc3339Exact(*r.publish_until)}}},
                                    at));
      (void)event;
      return OkStatus();
    });
    if (!s.ok()) {
      return s.WithContext("the private key file of expired key " + r.kid +
                           " was deleted but the deletion could not be audited");
    }
  }
  return OkStatus();
}

}  // namespace warden::identity
