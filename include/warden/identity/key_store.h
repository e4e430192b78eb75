// Warden's own signing keys in the data directory: private keys as
// DATA/keys/<kid>.pem (mode 0600, kid = RFC 7638 thumbprint) and one row per
// key in the `keys` table (public JWK, status, times). Creating a key writes
// its row and a "key.generated" audit event in one Store::Write.
// Functions are thread-safe as far as the Store is; key generation on first
// start is expected to run once, before serving.
#pragma once

#include <boost/json/object.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/status.h"
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

}  // namespace warden::identity
