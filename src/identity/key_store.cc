#include "warden/identity/key_store.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "warden/audit/audit_log.h"
#include "warden/core/encoding.h"
#include "warden/core/json.h"

namespace warden::identity {
namespace {

namespace fs = std::filesystem;

Result<KeyRecord> RecordFromRow(const std::vector<store::SqlValue>& row) {
  auto corrupt = [](std::string_view what) {
    return DataLoss("keys row is malformed: " + std::string(what));
  };
  if (row.size() != 6) return corrupt("wrong column count");
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
  return r;
}

constexpr std::string_view kKeyColumns = "kid, alg, public_jwk, status, created_at, retired_at";

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
        txn.Exec(
            "INSERT INTO keys (" + std::string(kKeyColumns) + ") VALUES ($1, $2, $3, $4, $5, $6)",
            {key.kid(), std::string(key.jose_alg()), CanonicalJson(key.public_key().ToJwk()),
             std::string("active"), UnixMicros(now), store::SqlValue()}));
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

}  // namespace warden::identity
