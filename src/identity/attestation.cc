#include "warden/identity/attestation.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "warden/core/encoding.h"
#include "warden/core/posix.h"
#include "warden/crypto/hash.h"

namespace warden::identity {
namespace {

constexpr size_t kMaxProcFileBytes = size_t{64} * 1024;  // stat and status are a few KiB
constexpr size_t kReadChunk = size_t{64} * 1024;
constexpr std::string_view kDeletedSuffix = " (deleted)";

// Everything a failing step of Attest can report, with the pid in front.
class Refusal {
 public:
  explicit Refusal(int64_t pid) : prefix_("cannot attest pid " + std::to_string(pid) + ": ") {}

  Status Denied(const std::string& why) const { return PermissionDenied(prefix_ + why); }

  // Maps the errno of an operation on /proc/<pid>/<what>. ENOENT and ESRCH are
  // what the kernel answers once the process (the one the directory fd was
  // opened for, not a later holder of the pid) is gone.
  Status FromErrno(int err, std::string_view what) const {
    if (err == ENOENT || err == ESRCH) return Denied("process has exited");
    if (err == EACCES || err == EPERM) {
      return Denied("access to " + std::string(what) + " denied: " + ErrnoText(err));
    }
    return Io("reading " + std::string(what), err);
  }

  // An I/O failure that says nothing about the process.
  Status Io(const std::string& doing, int err) const {
    std::string message = prefix_;
    message += doing;
    message += ": ";
    message += ErrnoText(err);
    return Unavailable(std::move(message));
  }

 private:
  std::string prefix_;
};

// Reads a whole /proc file through `dir_fd`; at most `limit` bytes.
Result<std::string> ReadSmallFileAt(int dir_fd, const char* name, const Refusal& refusal) {
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return refusal.FromErrno(errno, name);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return refusal.FromErrno(errno, name);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxProcFileBytes) return refusal.Denied(std::string(name) + " is too large");
  }
  return out;
}

bool ParseU64(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

struct StatFields {
  char state = '?';
  uint64_t start_ticks = 0;
};

// /proc/<pid>/stat is "pid (comm) state f4 ... f22 ...". comm is chosen by the
// process and may hold spaces and ')', so fields are counted from the last ')'.
Result<StatFields> ReadStat(int dir_fd, const Refusal& refusal) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadSmallFileAt(dir_fd, "stat", refusal));
  size_t close = text.rfind(')');
  if (close == std::string::npos) return refusal.Denied("malformed stat: no ')'");
  std::string_view rest = std::string_view(text).substr(close + 1);
  std::vector<std::string_view> fields;  // fields[0] is field 3 (state)
  size_t pos = 0;
  while (pos < rest.size() && fields.size() < 20) {
    while (pos < rest.size() && (rest[pos] == ' ' || rest[pos] == '\n')) ++pos;
    size_t end = pos;
    while (end < rest.size() && rest[end] != ' ' && rest[end] != '\n') ++end;
    if (end > pos) fields.push_back(rest.substr(pos, end - pos));
    pos = end;
  }
  StatFields out;
  if (fields.size() < 20 || fields[0].size() != 1 || !ParseU64(fields[19], &out.start_ticks)) {
    return refusal.Denied("malformed stat: no start time");
  }
  out.state = fields[0][0];
  return out;
}

struct StatusIds {
  uint32_t real_uid = 0;
  uint32_t effective_uid = 0;
  uint32_t effective_gid = 0;
};

// The "Uid:" / "Gid:" lines of /proc/<pid>/status: real, effective, saved, fs.
Result<StatusIds> ReadStatusIds(int dir_fd, const Refusal& refusal) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadSmallFileAt(dir_fd, "status", refusal));
  auto ids_of = [&](std::string_view key, std::vector<uint32_t>* ids) {
    std::string_view all(text);
    size_t at = 0;
    while (at < all.size()) {
      size_t end = all.find('\n', at);
      if (end == std::string_view::npos) end = all.size();
      std::string_view line = all.substr(at, end - at);
      at = end + 1;
      if (line.substr(0, key.size()) != key) continue;
      line.remove_prefix(key.size());
      size_t p = 0;
      while (p < line.size()) {
        while (p < line.size() && (line[p] == '\t' || line[p] == ' ')) ++p;
        size_t q = p;
        while (q < line.size() && line[q] != '\t' && line[q] != ' ') ++q;
        uint64_t v = 0;
        if (q > p) {
          if (!ParseU64(line.substr(p, q - p), &v) || v > UINT32_MAX) return false;
          ids->push_back(static_cast<uint32_t>(v));
        }
        p = q;
      }
      return ids->size() == 4;
    }
    return false;
  };
  std::vector<uint32_t> uids;
  std::vector<uint32_t> gids;
  if (!ids_of("Uid:", &uids) || !ids_of("Gid:", &gids)) {
    return refusal.Denied("malformed status: no Uid/Gid lines");
  }
  return StatusIds{uids[0], uids[1], gids[1]};
}

// The user name of `uid` from the passwd database, or empty when it has none.
// getpwuid_r, unlike getpwuid, is safe to call from several threads.
std::string UserName(uint32_t uid) {
  long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  size_t size = hint > 0 ? static_cast<size_t>(hint) : 1024;
  for (int attempt = 0; attempt < 6; ++attempt, size *= 4) {
    std::vector<char> buf(size);
    struct passwd pwd {};
    struct passwd* found = nullptr;
    int err = ::getpwuid_r(static_cast<uid_t>(uid), &pwd, buf.data(), buf.size(), &found);
    if (err == ERANGE) continue;
    if (err != 0 || found == nullptr || found->pw_name == nullptr) return {};
    return found->pw_name;
  }
  return {};
}

}  // namespace

Result<PeerCredentials> ReadPeerCredentials(int fd) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return Unavailable("cannot read peer credentials (SO_PEERCRED): " + ErrnoText(errno));
  }
  if (len != sizeof cred) {
    return Unavailable("cannot read peer credentials (SO_PEERCRED): short answer");
  }
  if (cred.pid <= 0) {
    // The kernel reports pid 0 when the peer's pid is not visible in our pid
    // namespace; without a pid there is nothing to attest.
    return PermissionDenied("peer process is not visible in this pid namespace (pid 0)");
  }
  return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

uint64_t BootTimeTicksNow() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  static const uint64_t hz = [] {
    long v = ::sysconf(_SC_CLK_TCK);
    return v > 0 ? static_cast<uint64_t>(v) : uint64_t{100};
  }();
  // The kernel truncates the start time to ticks, so truncating here keeps
  // "started before now" true as "start_ticks <= now_ticks".
  return static_cast<uint64_t>(ts.tv_sec) * hz +
         static_cast<uint64_t>(ts.tv_nsec) * hz / 1'000'000'000ULL;
}

Attestor::Attestor(AttestorOptions options) : options_(std::move(options)) {}

AttestorCacheStats Attestor::cache_stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {hits_, misses_, cache_.size()};
}

std::string Attestor::CacheLookup(const FileKey& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    ++misses_;
    return {};
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second.lru_position);
  return it->second.sha256_hex;
}

void Attestor::CacheInsert(const FileKey& key, const std::string& sha256_hex) const {
  if (options_.cache_entries == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  if (it != cache_.end()) {  // another thread hashed the same file meanwhile
    lru_.splice(lru_.begin(), lru_, it->second.lru_position);
    return;
  }
  while (cache_.size() >= options_.cache_entries && !lru_.empty()) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(key);
  cache_.emplace(key, CacheEntry{sha256_hex, lru_.begin()});
}

Result<ProcessFacts> Attestor::Attest(const PeerCredentials& peer,
                                      uint64_t accepted_at_ticks) const {
  if (peer.pid <= 0 || peer.pid > INT_MAX) {
    return InvalidArgument("cannot attest pid " + std::to_string(peer.pid) + ": not a process id");
  }
  const Refusal refusal(peer.pid);
  const std::string pid_text = std::to_string(peer.pid);

  // The directory fd pins the process it was opened for: once that process is
  // gone, reads through it fail with ESRCH even if the pid number is reused.
  // What remains is the window between connect() and this open, closed by the
  // start-time check below.
  const std::string dir_path = options_.proc_root + "/" + pid_text;
  UniqueFd dir(::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (dir.get() < 0) return refusal.FromErrno(errno, dir_path);

  WARDEN_ASSIGN_OR_RETURN(StatFields before, ReadStat(dir.get(), refusal));
  if (before.state == 'Z' || before.state == 'X' || before.state == 'x') {
    return refusal.Denied("process has exited");
  }
  // Both values are boot-time clock ticks, converted from nanoseconds by the
  // kernel and by BootTimeTicksNow(); one tick of tolerance absorbs a
  // difference in rounding between the two conversions.
  if (accepted_at_ticks != 0 && before.start_ticks > accepted_at_ticks + 1) {
    return refusal.Denied("process started after the connection was accepted (start " +
                          std::to_string(before.start_ticks) + " ticks, accepted at " +
                          std::to_string(accepted_at_ticks) + "); the pid was most likely reused");
  }

  WARDEN_ASSIGN_OR_RETURN(StatusIds ids, ReadStatusIds(dir.get(), refusal));
  if (ids.real_uid != peer.uid || ids.effective_uid != peer.uid) {
    return refusal.Denied("process uids differ from the connection's (peer credentials uid " +
                          std::to_string(peer.uid) + ", process real uid " +
                          std::to_string(ids.real_uid) + ", effective uid " +
                          std::to_string(ids.effective_uid) + ")");
  }
  if (ids.effective_gid != peer.gid) {
    return refusal.Denied("process gid differs from the connection's (peer credentials gid " +
                          std::to_string(peer.gid) + ", process effective gid " +
                          std::to_string(ids.effective_gid) + ")");
  }

  char link[PATH_MAX + 1];
  ssize_t link_len = ::readlinkat(dir.get(), "exe", link, sizeof link);
  if (link_len < 0) return refusal.FromErrno(errno, "exe");
  if (static_cast<size_t>(link_len) >= sizeof link)
    return refusal.Denied("executable path too long");
  std::string exe_path(link, static_cast<size_t>(link_len));
  if (exe_path.empty() || exe_path[0] != '/') {
    return refusal.Denied("executable path is not absolute: " + exe_path);
  }
  if (exe_path.size() >= kDeletedSuffix.size() &&
      exe_path.compare(exe_path.size() - kDeletedSuffix.size(), kDeletedSuffix.size(),
                       kDeletedSuffix) == 0) {
    // The running image no longer exists under any path: its path says nothing
    // and its bytes could not be checked by anyone reading the file system.
    return refusal.Denied("executable was deleted or replaced: " + exe_path);
  }

  // Opening /proc/<pid>/exe yields the file the kernel mapped for the process,
  // whatever now sits at exe_path, so the caller cannot redirect the hash.
  UniqueFd exe(::openat(dir.get(), "exe", O_RDONLY | O_CLOEXEC));
  if (exe.get() < 0) return refusal.FromErrno(errno, "exe");
  struct stat st {};
  if (::fstat(exe.get(), &st) != 0) return refusal.FromErrno(errno, "exe");
  if (!S_ISREG(st.st_mode)) return refusal.Denied("executable is not a regular file");
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > options_.max_exe_bytes) {
    return refusal.Denied("executable is " + std::to_string(st.st_size) +
                          " bytes, more than the limit of " +
                          std::to_string(options_.max_exe_bytes));
  }
  const FileKey key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                    static_cast<int64_t>(st.st_size),
                    static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                    static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec};

  std::string digest = options_.cache_entries > 0 ? CacheLookup(key) : std::string();
  if (digest.empty()) {
    crypto::Sha256Hasher hasher;
    std::string buf(kReadChunk, '\0');
    uint64_t total = 0;
    for (;;) {
      ssize_t n = ::read(exe.get(), buf.data(), buf.size());
      if (n < 0) {
        const int err = errno;  // saved before the message allocates
        if (err == EINTR) continue;
        return refusal.Io("reading executable " + exe_path, err);
      }
      if (n == 0) break;
      total += static_cast<uint64_t>(n);
      if (total > options_.max_exe_bytes) {
        return refusal.Denied("executable grew past the limit while it was read");
      }
      hasher.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    }
    // A write while hashing would make the digest describe no version of the
    // file; the key comparison catches it (a write always moves ctime).
    struct stat after {};
    if (::fstat(exe.get(), &after) != 0) return refusal.FromErrno(errno, "exe");
    if (total != static_cast<uint64_t>(st.st_size) || after.st_size != st.st_size ||
        after.st_mtim.tv_sec != st.st_mtim.tv_sec || after.st_mtim.tv_nsec != st.st_mtim.tv_nsec ||
        after.st_ctim.tv_sec != st.st_ctim.tv_sec || after.st_ctim.tv_nsec != st.st_ctim.tv_nsec) {
      return refusal.Denied("executable changed while it was hashed");
    }
    digest = HexEncode(hasher.Finish());
    CacheInsert(key, digest);
  }

  // The process must still be the one whose files were read: same start time
  // (re-read through the same directory fd), not exited, same executable path.
  WARDEN_ASSIGN_OR_RETURN(StatFields after_stat, ReadStat(dir.get(), refusal));
  if (after_stat.state == 'Z' || after_stat.state == 'X' || after_stat.state == 'x') {
    return refusal.Denied("process exited while it was attested");
  }
  if (after_stat.start_ticks != before.start_ticks) {
    return refusal.Denied("process start time changed while it was attested");
  }
  link_len = ::readlinkat(dir.get(), "exe", link, sizeof link);
  if (link_len < 0) return refusal.FromErrno(errno, "exe");
  if (std::string_view(link, static_cast<size_t>(link_len)) != exe_path) {
    return refusal.Denied("executable changed while it was attested (exec or rename)");
  }

  ProcessFacts facts;
  facts.peer = peer;
  facts.exe_path = std::move(exe_path);
  facts.exe_sha256 = std::move(digest);
  facts.start_ticks = before.start_ticks;
  // Each candidate is checked against the selector grammar; one it refuses (a
  // path with control characters or '..' parts, a user name with characters
  // outside [A-Za-z0-9._-] or all digits, uid 4294967295) is left out rather
  // than emitted invalid, so no registered agent can ever be matched by it.
  std::vector<std::string> candidates = {
      "unix:uid:" + std::to_string(peer.uid),
      "unix:gid:" + std::to_string(peer.gid),
      "unix:path:" + facts.exe_path,
      "unix:sha256:" + facts.exe_sha256,
  };
  std::string user = UserName(peer.uid);
  if (!user.empty()) candidates.push_back("unix:user:" + user);
  for (std::string& c : candidates) {
    if (ValidateSelector(c, "selector").ok()) facts.selectors.push_back(std::move(c));
  }
  std::sort(facts.selectors.begin(), facts.selectors.end());
  facts.selectors.erase(std::unique(facts.selectors.begin(), facts.selectors.end()),
                        facts.selectors.end());
  return facts;
}

Result<Agent> MatchAgent(const std::vector<Agent>& agents, const std::vector<std::string>& observed,
                         TimePoint now) {
  const std::set<std::string_view> have(observed.begin(), observed.end());
  std::vector<const Agent*> active;
  std::vector<const Agent*> inactive;
  for (const Agent& agent : agents) {
    if (agent.selectors.empty()) continue;
    bool all = std::all_of(agent.selectors.begin(), agent.selectors.end(),
                           [&](const std::string& s) { return have.count(s) > 0; });
    if (!all) continue;
    (agent.EffectiveStatus(now) == AgentStatus::kActive ? active : inactive).push_back(&agent);
  }
  auto by_name = [](const Agent* a, const Agent* b) { return a->name < b->name; };
  if (active.size() == 1) return *active.front();
  if (active.size() > 1) {
    std::sort(active.begin(), active.end(), by_name);
    std::string names;
    for (const Agent* a : active) names += (names.empty() ? "\"" : ", \"") + a->name + "\"";
    return FailedPrecondition("ambiguous attestation: agents " + names +
                              " match; make their selectors distinct");
  }
  if (!inactive.empty()) {
    std::sort(inactive.begin(), inactive.end(), by_name);
    std::string message;
    for (const Agent* a : inactive) {
      std::string_view why = a->status == AgentStatus::kActive ? std::string_view("expired")
                                                               : AgentStatusName(a->status);
      if (!message.empty()) message += "; ";
      message += "agent \"" + a->name + "\" is " + std::string(why);
    }
    return PermissionDenied(message);
  }
  std::string list;
  for (const std::string& s : observed) list += (list.empty() ? "" : ", ") + s;
  return NotFound("no agent matches the caller's selectors: " + list);
}

}  // namespace warden::identity
