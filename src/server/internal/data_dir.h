// The data directory (DATA, mode 0711): warden.db (+ -wal/-shm) 0600,
// admin.token 0600 (written once, never rewritten), keys/<kid>.pem 0600,
// serve.addr. First start initialises it; later starts check and reuse it.
// Startup-only code: call from one thread before serving.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/server/options.h"
#include "warden/store/store.h"

namespace warden::server::internal {

inline constexpr std::string_view kAdminTokenFile = "admin.token";
inline constexpr std::string_view kServeAddrFile = "serve.addr";
inline constexpr std::string_view kKeysDir = "keys";
inline constexpr std::string_view kPublicDir = "public";
inline constexpr std::string_view kMetaTrustDomain = "trust_domain";
inline constexpr std::string_view kMetaCreatedAt = "created_at";
inline constexpr std::string_view kMetaAdminTokenDigest = "admin_token_sha256";

// Creates `dir` with mode 0711 when missing. Otherwise FailedPrecondition when
// it is not a directory, is owned by another user, or is readable or writable
// by group/others (the fix is named in the message).
Status PrepareDataDir(const std::filesystem::path& dir);

// FailedPrecondition when `file` exists and is not a regular file (symlinks
// included), is owned by another user, or has any group/other permission bit.
// A missing file is OK.
Status CheckPrivateFile(const std::filesystem::path& file);

// For "sqlite:PATH" (not ":memory:"): creates PATH empty with mode 0600 when
// missing, so the database and its -wal/-shm files (SQLite copies the mode)
// are private from the start, then checks all three with CheckPrivateFile.
Status PrepareSqliteFiles(std::string_view store_url);

struct DataDirState {
  std::string trust_domain;
  std::string admin_token_sha256;  // lower-case hex
  std::string signing_kid;
  bool initialized_now = false;
};

// First start (no trust_domain in meta): writes DATA/admin.token (0600,
// O_EXCL) holding a new "wdn_admin_..." token, then in one Store::Write the
// meta rows (trust_domain, created_at, admin_token_sha256) and the audit
// events "warden.initialized" and "admin_token.created". Later starts read
// the meta rows. Either way ensures an Ed25519 signing key in DATA/keys and
// checks the private files. FailedPrecondition for an inconsistent directory.
Result<DataDirState> InitializeDataDir(const std::filesystem::path& dir,
                                       const ServeOptions& options, store::Store& store,
                                       const Clock& clock);

// DATA/public, where the Workload API socket lives: created 0755 when missing
// (agents under other users must reach the socket); FailedPrecondition when it
// is not a directory, is owned by another user, or is writable by group/others.
Status PreparePublicDir(const std::filesystem::path& dir);

// Writes `contents` to `path` atomically (temp file + rename), mode 0644.
Status WritePublicFile(const std::filesystem::path& path, std::string_view contents);

}  // namespace warden::server::internal
