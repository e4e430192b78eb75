#include "server/internal/data_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/internal/log.h"
#include "warden/audit/audit_log.h"
#include "warden/core/posix.h"
#include "warden/core/random.h"
#include "warden/core/time_format.h"
#include "warden/crypto/hash.h"
#include "warden/identity/key_store.h"

namespace warden::server::internal {
namespace {

namespace fs = std::filesystem;

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Writes `contents` into a new file (O_EXCL, O_NOFOLLOW) with `mode` and fsyncs it.
Status WriteNewFile(const fs::path& path, std::string_view contents, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    int err = errno;
    if (err == EEXIST) return AlreadyExists(path.string() + " already exists");
    return Unavailable("create " + path.string() + ": " + ErrnoText(err));
  }
  // The umask may have cleared bits of `mode` but can never have added any;
  // fchmod makes the mode exact either way.
  Status st;
  if (::fchmod(fd, mode) != 0) st = Unavailable("chmod " + path.string() + ": " + ErrnoText(errno));
  size_t off = 0;
  while (st.ok() && off < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + off, contents.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      st = Unavailable("write " + path.string() + ": " + ErrnoText(errno));
      break;
    }
    off += static_cast<size_t>(n);
  }
  if (st.ok() && ::fsync(fd) != 0) st = Unavailable("fsync " + path.string() + ": " + ErrnoText(errno));
  ::close(fd);
  if (!st.ok()) ::unlink(path.c_str());
  return st;
}

struct Meta {
  std::optional<std::string> trust_domain;
  std::optional<std::string> admin_token_sha256;
};

Result<Meta> ReadMeta(store::Store& store) {
  Meta meta;
  Status st = store.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(
        auto rows, txn.Query("SELECT key, value FROM meta WHERE key = $1 OR key = $2",
                             {std::string(kMetaTrustDomain), std::string(kMetaAdminTokenDigest)}));
    for (const auto& row : rows.rows) {
      if (row.size() != 2) return DataLoss("meta: unexpected row shape");
      WARDEN_ASSIGN_OR_RETURN(auto key, store::AsText(row[0]));
      WARDEN_ASSIGN_OR_RETURN(auto value, store::AsText(row[1]));
      if (key == kMetaTrustDomain) meta.trust_domain = value;
      if (key == kMetaAdminTokenDigest) meta.admin_token_sha256 = value;
    }
    return OkStatus();
  });
  if (!st.ok()) return st.WithContext("reading the meta table");
  return meta;
}

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<DataDirState> FirstStart(const fs::path& dir, const ServeOptions& options,
                                store::Store& store, const Clock& clock) {
  fs::path token_path = dir / kAdminTokenFile;
  std::string token = RandomSecret("wdn_admin");
  std::string digest = crypto::Sha256Hex(token);
  Status written = WriteNewFile(token_path, token + "\n", 0600);
  if (written.code() == StatusCode::kAlreadyExists) {
    return FailedPrecondition(token_path.string() +
                              " exists but the store was never initialised: it belongs to "
                              "another database; move it away or point store_url at its database");
  }
  WARDEN_RETURN_IF_ERROR(written);
  WARDEN_RETURN_IF_ERROR(FsyncDirectory(dir));

  TimePoint now = clock.Now();
  std::string backend(store.Backend());
  Status st = store.Write([&](store::Transaction& txn) -> Status {
    const std::string sql = "INSERT INTO meta (key, value) VALUES ($1, $2)";
    WARDEN_RETURN_IF_ERROR(
        txn.Exec(sql, {std::string(kMetaTrustDomain), options.trust_domain}).status());
    WARDEN_RETURN_IF_ERROR(
        txn.Exec(sql, {std::string(kMetaCreatedAt), FormatRfc3339(now)}).status());
    WARDEN_RETURN_IF_ERROR(
        txn.Exec(sql, {std::string(kMetaAdminTokenDigest), digest}).status());
    audit::EventInput init{"system", "warden.initialized", "warden", {}};
    init.details["trust_domain"] = options.trust_domain;
    init.details["store"] = backend;
    WARDEN_RETURN_IF_ERROR(audit::Append(txn, init, now).status());
    // A prefix identifies the token in later investigations without helping
    // anyone guess it (the token carries 256 random bits).
    audit::EventInput created{"system", "admin_token.created", "admin", {}};
    created.details["sha256_prefix"] = digest.substr(0, 12);
    created.details["file"] = token_path.string();
    return audit::Append(txn, created, now).status();
  });
  if (!st.ok()) {
    ::unlink(token_path.c_str());
    return st.WithContext("initialising the store");
  }
  LogJson(spdlog::level::info, "data directory initialised",
          {{"data_dir", dir.string()}, {"trust_domain", options.trust_domain},
           {"admin_token_file", token_path.string()}});
  DataDirState state;
  state.trust_domain = options.trust_domain;
  state.admin_token_sha256 = digest;
  state.initialized_now = true;
  return state;
}

Status CheckKeysDir(const fs::path& keys) {
  struct stat st {};
  if (::lstat(keys.c_str(), &st) != 0) {
    if (errno == ENOENT) return OkStatus();
    return Unavailable("stat " + keys.string() + ": " + ErrnoText(errno));
  }
  if (!S_ISDIR(st.st_mode)) return FailedPrecondition(keys.string() + " is not a directory");
  if (st.st_uid != ::geteuid()) {
    return FailedPrecondition(keys.string() + " is owned by uid " + std::to_string(st.st_uid) +
                              ", not by this user (uid " + std::to_string(::geteuid()) + ")");
  }
  if ((st.st_mode & 0077) != 0) {
    return FailedPrecondition(keys.string() + " has mode " + OctalMode(st.st_mode) +
                              "; private keys need 0700 (chmod 0700 " + keys.string() + ")");
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(keys, ec)) {
    WARDEN_RETURN_IF_ERROR(CheckPrivateFile(entry.path()));
  }
  if (ec) return Unavailable("listing " + keys.string() + ": " + ec.message());
  return OkStatus();
}

}  // namespace

Status PrepareDataDir(const fs::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return Unavailable("stat " + dir.string() + ": " + ErrnoText(errno));
    std::error_code ec;
    if (dir.has_parent_path() && !dir.parent_path().empty()) {
      fs::create_directories(dir.parent_path(), ec);
      if (ec) return Unavailable("create " + dir.parent_path().string() + ": " + ec.message());
    }
    if (::mkdir(dir.c_str(), 0711) != 0) {
      return Unavailable("create " + dir.string() + ": " + ErrnoText(errno));
    }
    // mkdir honours the umask; set the exact mode (others may traverse to the
    // public socket later, but never list or write).
    if (::chmod(dir.c_str(), 0711) != 0) {
      return Unavailable("chmod " + dir.string() + ": " + ErrnoText(errno));
    }
    return OkStatus();
  }
  if (!S_ISDIR(st.st_mode)) {
    return FailedPrecondition("data directory " + dir.string() +
                              " is not a directory (symbolic links are refused)");
  }
  if (st.st_uid != ::geteuid()) {
    return FailedPrecondition("data directory " + dir.string() + " is owned by uid " +
                              std::to_string(st.st_uid) + ", not by this user (uid " +
                              std::to_string(::geteuid()) + ")");
  }
  if ((st.st_mode & 0066) != 0) {
    return FailedPrecondition("data directory " + dir.string() + " has mode " +
                              OctalMode(st.st_mode) +
                              "; group and others must not read or write it (chmod 0711 " +
                              dir.string() + ")");
  }
  return OkStatus();
}

Status CheckPrivateFile(const fs::path& file) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0) {
    if (errno == ENOENT) return OkStatus();
    return Unavailable("stat " + file.string() + ": " + ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return FailedPrecondition(file.string() +
                              " is not a regular file (symbolic links are refused)");
  }
  if (st.st_uid != ::geteuid()) {
    return FailedPrecondition(file.string() + " is owned by uid " + std::to_string(st.st_uid) +
                              ", not by this user (uid " + std::to_string(::geteuid()) + ")");
  }
  if ((st.st_mode & 0077) != 0) {
    return FailedPrecondition(file.string() + " has mode " + OctalMode(st.st_mode) +
                              "; it must be private (chmod 0600 " + file.string() + ")");
  }
  return OkStatus();
}

Status PrepareSqliteFiles(std::string_view store_url) {
  constexpr std::string_view kScheme = "sqlite:";
  if (!store_url.starts_with(kScheme)) return OkStatus();
  std::string_view path = store_url.substr(kScheme.size());
  if (path.empty() || path == ":memory:" || path.starts_with("//") || path.starts_with("file:")) {
    return OkStatus();  // OpenStore reports malformed URLs precisely
  }
  fs::path db(path);
  Status created = WriteNewFile(db, "", 0600);
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    WARDEN_RETURN_IF_ERROR(CheckPrivateFile(fs::path(db.string() + suffix)));
  }
  return OkStatus();
}

Result<DataDirState> InitializeDataDir(const fs::path& dir, const ServeOptions& options,
                                       store::Store& store, const Clock& clock) {
  WARDEN_ASSIGN_OR_RETURN(Meta meta, ReadMeta(store));
  DataDirState state;
  if (!meta.trust_domain) {
    WARDEN_ASSIGN_OR_RETURN(state, FirstStart(dir, options, store, clock));
  } else {
    if (!meta.admin_token_sha256 || !IsLowerHex64(*meta.admin_token_sha256)) {
      return FailedPrecondition("the store has a trust domain but no valid " +
                                std::string(kMetaAdminTokenDigest) +
                                "; the database is incomplete or was edited");
    }
    state.trust_domain = *meta.trust_domain;
    state.admin_token_sha256 = *meta.admin_token_sha256;
    if (options.trust_domain != state.trust_domain && options.trust_domain != "warden.local") {
      LogJson(spdlog::level::warn, "trust_domain option ignored: the data directory keeps its own",
              {{"configured", options.trust_domain}, {"trust_domain", state.trust_domain}});
    }
  }
  WARDEN_RETURN_IF_ERROR(CheckPrivateFile(dir / kAdminTokenFile));
  fs::path keys = dir / kKeysDir;
  WARDEN_RETURN_IF_ERROR(CheckKeysDir(keys));
  WARDEN_ASSIGN_OR_RETURN(auto alg, crypto::ParseAlgorithm(options.signing_algorithm));
  auto key = identity::EnsureSigningKey(store, keys, alg, clock);
  if (!key.ok()) return key.status().WithContext("signing key");
  state.signing_kid = key->kid();
  WARDEN_RETURN_IF_ERROR(CheckKeysDir(keys));
  return state;
}

Status PreparePublicDir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Unavailable("mkdir " + dir.string() + ": " + ErrnoText(errno));
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    return Unavailable("stat " + dir.string() + ": " + ErrnoText(errno));
  }
  if (!S_ISDIR(st.st_mode)) return FailedPrecondition(dir.string() + " is not a directory");
  if (st.st_uid != ::geteuid()) {
    return FailedPrecondition(dir.string() + " is owned by uid " + std::to_string(st.st_uid) +
                              ", not by this process (uid " + std::to_string(::geteuid()) + ")");
  }
  // Others must reach the socket but never replace it: no group/other write.
  if ((st.st_mode & 0022) != 0) {
    return FailedPrecondition(dir.string() + " has mode " + OctalMode(st.st_mode) +
                              "; it must not be writable by others (chmod 0755 " + dir.string() +
                              ")");
  }
  if ((st.st_mode & 0055) != 0055 && ::chmod(dir.c_str(), 0755) != 0) {
    return Unavailable("chmod " + dir.string() + ": " + ErrnoText(errno));
  }
  return OkStatus();
}

Status WritePublicFile(const fs::path& path, std::string_view contents) {
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  WARDEN_RETURN_IF_ERROR(WriteNewFile(tmp, contents, 0644));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Unavailable("rename " + tmp.string() + ": " + ErrnoText(err));
  }
  return OkStatus();
}

}  // namespace warden::server::internal
