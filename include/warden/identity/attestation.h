// Attestation of local processes for the Workload API: the kernel-vouched
// credentials of a Unix-socket peer (SO_PEERCRED), the facts read from
// /proc/<pid> (executable path and SHA-256, start time) turned into selectors,
// and the choice of the one registered agent those selectors identify.
// Attestor is thread-safe (its digest cache is guarded); the functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/identity/agent.h"

namespace warden::identity {

struct PeerCredentials {
  int64_t pid = 0;
  uint32_t uid = 0;  // effective uid of the peer when it connected
  uint32_t gid = 0;  // effective gid of the peer when it connected
};

// SO_PEERCRED of a connected AF_UNIX socket. Unavailable with the errno text
// on failure; PermissionDenied when pid is 0 (peer in another pid namespace).
Result<PeerCredentials> ReadPeerCredentials(int fd);

// CLOCK_BOOTTIME now, in the units of /proc/<pid>/stat field 22 (clock ticks,
// sysconf(_SC_CLK_TCK)). Record it at accept time for Attestor::Attest.
uint64_t BootTimeTicksNow();

struct ProcessFacts {
  PeerCredentials peer;
  std::string exe_path;      // readlink of /proc/<pid>/exe (absolute)
  std::string exe_sha256;    // lower-case hex of the executable's bytes
  uint64_t start_ticks = 0;  // /proc/<pid>/stat starttime
  // Sorted, unique: unix:uid:N, unix:gid:N, unix:user:NAME (when the uid has a
  // passwd entry), unix:path:/abs/exe, unix:sha256:<hex>. A selector whose
  // value the selector grammar refuses (see ValidateSelector) is left out.
  std::vector<std::string> selectors;
};

struct AttestorOptions {
  std::string proc_root = "/proc";
  size_t max_exe_bytes = size_t{1} << 30;  // larger executables are refused
  size_t cache_entries = 256;              // 0 disables the digest cache
};

// Counters of the executable digest cache, for metrics and tests.
struct AttestorCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  size_t entries = 0;
};

// Derives ProcessFacts for Unix-socket peers. Thread-safe. Caches executable
// digests keyed by (st_dev, st_ino, size, mtime ns, ctime ns) of the opened
// executable, so a busy agent does not have its binary rehashed per request;
// any write to the file changes ctime, which the writer cannot set back.
class Attestor {
 public:
  explicit Attestor(AttestorOptions options = {});

  // The facts of the process `peer` names, which connected when the boot-time
  // clock read `accepted_at_ticks` (BootTimeTicksNow() at accept; 0 = unknown,
  // the start-time check is skipped). Reads everything through a directory fd
  // of /proc/<pid>, so a pid reused after that open cannot answer. Refuses a
  // process that started after accepted_at_ticks (+1 tick), whose real or
  // effective uid differs from peer.uid or effective gid from peer.gid, whose
  // start time or executable changed while it was read, that has exited, or
  // whose executable was deleted or is larger than max_exe_bytes.
  // Errors: PermissionDenied("cannot attest pid N: <why>") for those refusals
  // and denied /proc access; InvalidArgument for pid <= 0; Unavailable for
  // other I/O errors.
  Result<ProcessFacts> Attest(const PeerCredentials& peer, uint64_t accepted_at_ticks) const;

  AttestorCacheStats cache_stats() const;

 private:
  // Identity of one version of a file: any change to its bytes changes at
  // least ctime.
  using FileKey = std::tuple<uint64_t, uint64_t, int64_t, int64_t, int64_t>;
  struct CacheEntry {
    std::string sha256_hex;
    std::list<FileKey>::iterator lru_position;
  };

  // The digest cached for `key`, or empty; counts the hit or miss.
  std::string CacheLookup(const FileKey& key) const;
  void CacheInsert(const FileKey& key, const std::string& sha256_hex) const;

  AttestorOptions options_;
  mutable std::mutex mu_;
  mutable std::map<FileKey, CacheEntry> cache_;  // guarded by mu_
  mutable std::list<FileKey> lru_;               // most recent first; guarded by mu_
  mutable uint64_t hits_ = 0;                    // guarded by mu_
  mutable uint64_t misses_ = 0;                  // guarded by mu_
};

// The one agent whose every registered selector appears in `observed`. Agents
// with no selectors never match (an empty set would match every process).
// Among matches only agents whose EffectiveStatus(now) is active count.
// Errors: PermissionDenied("agent \"x\" is suspended" / retired / expired) when
// every match is inactive; NotFound listing the observed selectors when
// nothing matches; FailedPrecondition naming the agents, sorted, when more
// than one active agent matches.
Result<Agent> MatchAgent(const std::vector<Agent>& agents, const std::vector<std::string>& observed,
                         TimePoint now);

}  // namespace warden::identity
