// Warden's own signing keys in the data directory: private keys as
// DATA/keys/<kid>.pem (mode 0600, kid = RFC 7638 thumbprint) and one row per
// key in the `keys` table (public JWK, status, times). Creating a key writes
// its row and a "key.generated" audit event in one Store::Write.
// Functions are thread-safe as far as the Store is; key generation on first
// start is expected to run once, before serving. KeyRing (below) is the
// server's thread-safe view of the keys, with rotation.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/crypto/jwt.h"
#include "warden/crypto/signing_key.h"
#include "warden/store/store.h"

namespace warden::identity {

enum class KeyStatus { kActive, kRetired };
std::string_view KeyStatusName(KeyStatus status);  // "active" | "retired"

// One row of the `keys` table. Holds no private material.
struct KeyRecord {
  std::string kid;
  crypto::Algorithm algorithm = crypto::Algorithm::kEd25519;
  boost::json::object public_jwk;  // required members only (kty, crv, x[, y])
  KeyStatus status = KeyStatus::kActive;
  TimePoint created_at;
  std::optional<TimePoint> retired_at;
  // Retired keys only: the key stays published (verifies tokens, appears in
  // the JWKS) while now < publish_until. Always empty for an active key.
  std::optional<TimePoint> publish_until;
};

// Every key row, oldest first. DataLoss when a row is malformed.
Result<std::vector<KeyRecord>> ListKeys(store::Store& store);

// The path of a key's PEM file: <keys_dir>/<kid>.pem. InvalidArgument when
// `kid` is not a base64url thumbprint (keeps hostile ids out of paths).
Result<std::filesystem::path> KeyFilePath(const std::filesystem::path& keys_dir,
                                          std::string_view kid);

// Loads the private key `kid` from `keys_dir` and checks that it matches its
// row (same kid and public JWK). NotFound when there is no such row or file;
// DataLoss when the file holds a different key.
Result<crypto::SigningKey> LoadSigningKey(store::Store& store,
                                          const std::filesystem::path& keys_dir,
                                          std::string_view kid);

// Returns the newest active signing key. When there is none (first start) it
// generates one of `alg`, creates `keys_dir` (mode 0700) if needed, writes
// the PEM file (0600), then in one Store::Write inserts the row and appends
// audit event {actor "system", kind "key.generated", subject "key:<kid>",
// details {"kid","alg"}}. An existing active key is returned as is, whatever
// its algorithm. The PEM file is removed again if the database write fails.
Result<crypto::SigningKey> EnsureSigningKey(store::Store& store,
                                            const std::filesystem::path& keys_dir,
                                            crypto::Algorithm alg, const Clock& clock);

// The trust domain's keys as the server uses them: the current signing key
// and every key still published. Readers get immutable snapshots (a
// shared_ptr swapped under a mutex), so Current/Find/Jwks never block on a
// rotation; Rotate and Refresh are serialised with each other.
//
// Lifecycle of a key: active (signs; published) -> Rotate -> retired with
// publish_until = retirement + max_token_lifetime (verifies and is published
// until then, never signs) -> past publish_until: unknown to Find and Jwks,
// and the next Open or Refresh deletes its private key file (audited
// "key.destroyed"); the row stays for the record. Deletion is a plain unlink: on journaling file
// systems and SSDs overwriting in place gives no guarantee, so none is tried.
class KeyRing {
 public:
  // Loads the keys; generates the first key of `default_alg`
  // (EnsureSigningKey) when there is none. `max_token_lifetime` is the
  // longest lifetime of any token Warden signs: a retired key stays published
  // that long after retirement. InvalidArgument (field "max_token_lifetime")
  // unless it is 1 second to 366 days; errors of EnsureSigningKey and
  // LoadSigningKey otherwise. Borrows `store` and `clock`: both must outlive
  // the ring.
  static Result<std::unique_ptr<KeyRing>> Open(store::Store& store, std::filesystem::path keys_dir,
                                               crypto::Algorithm default_alg, const Clock& clock,
                                               std::chrono::seconds max_token_lifetime);

  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;

  // The key that signs now. Never null.
  std::shared_ptr<const crypto::SigningKey> Current() const;

  // A published key by kid: the active one, or a retired one whose
  // publish_until is still in the future (judged by the clock at each call,
  // so a key stops verifying the moment its window ends, Refresh or not).
  // NotFound("unknown key id \"...\"") otherwise.
  Result<crypto::PublicKey> Find(std::string_view kid) const;

  // Find as a function for token verifiers (VerifyJwt). The ring must
  // outlive the returned function.
  crypto::KeyResolver Resolver() const;

  // {"keys":[...]} (RFC 7517 JWK Set) of the published keys in their
  // published form (kid, alg, use): the current key first, then retired keys
  // newest first. Exactly what /.well-known/jwks.json serves.
  boost::json::object Jwks() const;

  // Every key row with its status, oldest first (ListKeys); for
  // `warden keys list`.
  Result<std::vector<KeyRecord>> List() const;

  // Generates a new key (`alg`, or the current key's algorithm when nullopt)
  // and writes its PEM file (0600); then, in one Store::Write, retires the
  // active key (retired_at = now, publish_until = now + max_token_lifetime),
  // inserts the new row active and appends {actor, "key.rotated",
  // "key:<new kid>", {"kid","alg","previous_kid","previous_publish_until"}}.
  // Only after that commit does Current() return the new key. When the write
  // fails the PEM file is removed and the ring is unchanged. Returns the new
  // record. InvalidArgument (field "actor") for an empty actor.
  Result<KeyRecord> Rotate(std::optional<crypto::Algorithm> alg, std::string_view actor);

  // Re-reads the rows (another server sharing the store may have rotated),
  // loads a new active key's private half from keys_dir, drops retired keys
  // whose window passed and deletes their PEM files (each deletion audited
  // "key.destroyed" {"kid","alg","publish_until"} by actor "system"). Run it
  // periodically when several servers share one store. Errors before the
  // swap keep the previous snapshot: FailedPrecondition when no key is
  // active, LoadSigningKey's errors for a new key, DataLoss for a malformed
  // row, the store's errors. Unavailable after the swap when a file cannot
  // be deleted or its deletion cannot be audited.
  Status Refresh();

 private:
  struct Snapshot;

  KeyRing(store::Store& store, std::filesystem::path keys_dir, const Clock& clock,
          std::chrono::seconds max_token_lifetime);
  std::shared_ptr<const Snapshot> Load() const;
  // Refresh's body; the caller holds update_mu_.
  Status RefreshLocked();

  store::Store& store_;
  const std::filesystem::path keys_dir_;
  const Clock& clock_;
  const std::chrono::seconds max_token_lifetime_;

  std::mutex update_mu_;            // serialises Rotate and Refresh
  mutable std::mutex snapshot_mu_;  // guards snapshot_ (the pointer only)
  std::shared_ptr<const Snapshot> snapshot_;
};

}  // namespace warden::identity
