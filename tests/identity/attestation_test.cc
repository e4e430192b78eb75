#include "warden/identity/attestation.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "identity/test_util.h"
#include "warden/crypto/hash.h"

namespace warden::identity {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string HashFile(const fs::path& path) { return crypto::Sha256Hex(ReadFile(path)); }

std::string SelfExe() { return fs::read_symlink("/proc/self/exe").string(); }

// A forked child, killed and reaped when the test ends.
class Child {
 public:
  Child() = default;
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() { Kill(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }

  pid_t pid() const { return pid_; }
  // SIGKILL and reap; idempotent.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    Reap();
  }
  // Waits for exit; returns the raw wait status.
  int Reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

// A listening AF_UNIX socket in a temporary directory that any uid may reach.
class Listener {
 public:
  Listener() {
    ::chmod(dir_.path().c_str(), 0755);
    path_ = (dir_.path() / "workload.sock").string();
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          ::chmod(path_.c_str(), 0777) == 0 && ::listen(fd_, 4) == 0;
  }
  ~Listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }

  // Accepts one connection within 10 s; -1 on timeout or error.
  int Accept() const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10'000) != 1) return -1;
    return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  }

 private:
  TempDir dir_;
  std::string path_;
  int fd_ = -1;
  bool ok_ = false;
};

// Forks a child that (optionally) drops to `as_uid`/`as_uid` and connects to
// `socket_path`, then waits until the parent closes the connection.
// Exit codes: 2 setgid/setuid failed, 3 socket/connect failed.
Child SpawnConnector(const std::string& socket_path, int64_t as_uid = -1) {
  pid_t pid = ::fork();
  if (pid != 0) return Child(pid);
  if (as_uid >= 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(static_cast<gid_t>(as_uid)) != 0 ||
        ::setuid(static_cast<uid_t>(as_uid)) != 0) {
      ::_exit(2);
    }
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ::_exit(3);
  char c = 0;
  while (::read(fd, &c, 1) > 0) {
  }
  ::_exit(0);
}

// Runs `path` with `args`; returns once exec has succeeded (the CLOEXEC pipe
// closes) or reports the exec errno through `exec_errno`.
Child SpawnExec(const std::string& path, const std::vector<std::string>& args, int* exec_errno) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    *exec_errno = errno;
    return Child();
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ::execv(path.c_str(), argv.data());
    int err = errno;
    (void)!::write(fds[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(fds[1]);
  int err = 0;
  ssize_t n;
  while ((n = ::read(fds[0], &err, sizeof err)) < 0 && errno == EINTR) {
  }
  ::close(fds[0]);
  *exec_errno = n > 0 ? err : 0;
  return Child(pid);
}

PeerCredentials SelfPeer() {
  return PeerCredentials{::getpid(), static_cast<uint32_t>(::geteuid()),
                         static_cast<uint32_t>(::getegid())};
}

bool IsRoot() { return ::geteuid() == 0; }

TEST(PeerCredentialsTest, ReadsTheConnectedPeer) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  auto cred = ReadPeerCredentials(sv[0]);
  ::close(sv[0]);
  ::close(sv[1]);
  ASSERT_TRUE(cred.ok()) << cred.status().ToString();
  EXPECT_EQ(cred->pid, ::getpid());
  EXPECT_EQ(cred->uid, ::geteuid());
  EXPECT_EQ(cred->gid, ::getegid());
}

TEST(PeerCredentialsTest, NonSocketsAreUnavailable) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  auto on_pipe = ReadPeerCredentials(p[0]);
  ::close(p[0]);
  ::close(p[1]);
  EXPECT_EQ(on_pipe.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(on_pipe.status().message().find("SO_PEERCRED"), std::string::npos);
  EXPECT_EQ(ReadPeerCredentials(-1).status().code(), StatusCode::kUnavailable);
}

TEST(PeerCredentialsTest, PeerOutsideOurPidNamespaceIsDenied) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to unshare(CLONE_NEWPID)";
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  // The grandchild is pid 1 of a new pid namespace, where this process (the
  // creator of the pair, hence the peer) has no pid: the kernel reports 0.
  // Exit codes: 0 PermissionDenied seen, 1 another result, 2 unshare failed.
  pid_t child = ::fork();
  if (child == 0) {
    if (::unshare(CLONE_NEWPID) != 0) ::_exit(2);
    pid_t grandchild = ::fork();
    if (grandchild == 0) {
      auto cred = ReadPeerCredentials(sv[1]);
      ::_exit(cred.status().code() == StatusCode::kPermissionDenied ? 0 : 1);
    }
    int status = 0;
    if (grandchild < 0 || ::waitpid(grandchild, &status, 0) != grandchild) ::_exit(3);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 4);
  }
  ASSERT_GT(child, 0);
  int status = Child(child).Reap();
  ::close(sv[0]);
  ::close(sv[1]);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 2) GTEST_SKIP() << "unshare(CLONE_NEWPID) is not permitted here";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(BootTimeTest, AgreesWithProcStartTime) {
  Attestor attestor;
  auto facts = attestor.Attest(SelfPeer(), BootTimeTicksNow());
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  uint64_t now = BootTimeTicksNow();
  EXPECT_GT(facts->start_ticks, 0u);
  EXPECT_LE(facts->start_ticks, now);
}

TEST(AttestorTest, AttestsAChildConnectedOverAUnixSocket) {
  Listener listener;
  ASSERT_TRUE(listener.ok()) << std::strerror(errno);
  Child child = SpawnConnector(listener.path());
  ASSERT_GT(child.pid(), 0);
  int conn = listener.Accept();
  ASSERT_GE(conn, 0) << "child did not connect";
  uint64_t accepted_at = BootTimeTicksNow();
  auto peer = ReadPeerCredentials(conn);
  ASSERT_TRUE(peer.ok()) << peer.status().ToString();
  EXPECT_EQ(peer->pid, child.pid());
  EXPECT_EQ(peer->uid, ::geteuid());
  EXPECT_EQ(peer->gid, ::getegid());

  Attestor attestor;
  auto facts = attestor.Attest(*peer, accepted_at);
  ::close(conn);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  const std::string exe = SelfExe();  // the child is a fork of this binary
  const std::string digest = HashFile(exe);
  EXPECT_EQ(facts->exe_path, exe);
  EXPECT_EQ(facts->exe_sha256, digest);
  const auto& sel = facts->selectors;
  EXPECT_TRUE(Contains(sel, "unix:uid:" + std::to_string(::geteuid())));
  EXPECT_TRUE(Contains(sel, "unix:gid:" + std::to_string(::getegid())));
  EXPECT_TRUE(Contains(sel, "unix:path:" + exe));
  EXPECT_TRUE(Contains(sel, "unix:sha256:" + digest));
  if (passwd* pw = ::getpwuid(::geteuid()); pw != nullptr) {
    EXPECT_TRUE(Contains(sel, std::string("unix:user:") + pw->pw_name));
  }
  EXPECT_TRUE(std::is_sorted(sel.begin(), sel.end()));
  EXPECT_EQ(std::adjacent_find(sel.begin(), sel.end()), sel.end());
  for (const std::string& s : sel) EXPECT_TRUE(ValidateSelector(s, "s").ok()) << s;
  EXPECT_EQ(child.Reap(), 0);
}

TEST(AttestorTest, AttestsItself) {
  Attestor attestor;
  auto facts = attestor.Attest(SelfPeer(), BootTimeTicksNow());
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->exe_path, SelfExe());
  EXPECT_EQ(facts->exe_sha256, HashFile(SelfExe()));
  EXPECT_EQ(facts->peer.pid, ::getpid());
  // 0 means "accept time unknown".
  EXPECT_TRUE(attestor.Attest(SelfPeer(), 0).ok());
}

Agent MakeAgent(const std::string& name, std::vector<std::string> selectors,
                AgentStatus status = AgentStatus::kActive,
                TimePoint expires_at = FakeClock().Now() + std::chrono::hours(24)) {
  Agent a;
  a.name = name;
  a.spiffe_id = "spiffe://example.org/agent/" + name;
  a.owner = "owner@example.org";
  a.purpose = "tests";
  a.environment = "test";
  a.expires_at = expires_at;
  std::sort(selectors.begin(), selectors.end());
  a.selectors = std::move(selectors);
  a.status = status;
  a.version = 1;
  return a;
}

TEST(AttestorTest, ChildThatDropsToNobodyIsNotTheParentsAgent) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to setuid() the child to 65534";
  Listener listener;
  ASSERT_TRUE(listener.ok()) << std::strerror(errno);
  Child child = SpawnConnector(listener.path(), 65534);
  ASSERT_GT(child.pid(), 0);
  int conn = listener.Accept();
  ASSERT_GE(conn, 0) << "child did not connect";
  uint64_t accepted_at = BootTimeTicksNow();
  auto peer = ReadPeerCredentials(conn);
  ASSERT_TRUE(peer.ok()) << peer.status().ToString();
  EXPECT_EQ(peer->uid, 65534u);
  EXPECT_EQ(peer->gid, 65534u);

  Attestor attestor;
  auto facts = attestor.Attest(*peer, accepted_at);
  ::close(conn);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_TRUE(Contains(facts->selectors, "unix:uid:65534"));
  EXPECT_FALSE(Contains(facts->selectors, "unix:uid:0"));
  if (passwd* pw = ::getpwuid(65534); pw != nullptr) {
    EXPECT_TRUE(Contains(facts->selectors, std::string("unix:user:") + pw->pw_name));
  }

  TimePoint now = FakeClock().Now();
  std::vector<Agent> agents = {MakeAgent("parent", {"unix:uid:0"})};
  auto match = MatchAgent(agents, facts->selectors, now);
  EXPECT_EQ(match.status().code(), StatusCode::kNotFound);
  EXPECT_NE(match.status().message().find("unix:uid:65534"), std::string::npos)
      << match.status().message();
  agents.push_back(MakeAgent("nobody", {"unix:uid:65534", "unix:sha256:" + facts->exe_sha256}));
  auto nobody = MatchAgent(agents, facts->selectors, now);
  ASSERT_TRUE(nobody.ok()) << nobody.status().ToString();
  EXPECT_EQ(nobody->name, "nobody");
  EXPECT_EQ(child.Reap(), 0);
}

TEST(AttestorTest, PeerUidThatDiffersFromTheProcessIsRefused) {
  Attestor attestor;
  PeerCredentials peer = SelfPeer();
  peer.uid += 1;
  auto facts = attestor.Attest(peer, BootTimeTicksNow());
  EXPECT_EQ(facts.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(facts.status().message().find("uid"), std::string::npos) << facts.status().message();
  peer = SelfPeer();
  peer.gid += 1;
  EXPECT_EQ(attestor.Attest(peer, BootTimeTicksNow()).status().code(),
            StatusCode::kPermissionDenied);
}

TEST(AttestorTest, CopiedExecutableIsHashedAndAChangedCopyNoLongerMatches) {
  const fs::path source = "/bin/sleep";
  if (!fs::exists(source)) GTEST_SKIP() << "/bin/sleep is not available";
  TempDir dir;
  const fs::path copy = dir.path() / "worker";
  fs::copy_file(source, copy);
  fs::permissions(copy, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  const std::string old_digest = HashFile(copy);

  Attestor attestor;
  TimePoint now = FakeClock().Now();
  int exec_errno = 0;
  Child first = SpawnExec(copy.string(), {"30"}, &exec_errno);
  ASSERT_EQ(exec_errno, 0) << std::strerror(exec_errno);
  PeerCredentials peer = SelfPeer();
  peer.pid = first.pid();
  auto facts = attestor.Attest(peer, BootTimeTicksNow());
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->exe_path, copy.string());
  EXPECT_EQ(facts->exe_sha256, old_digest);
  EXPECT_TRUE(Contains(facts->selectors, "unix:path:" + copy.string()));
  std::vector<Agent> agents = {MakeAgent(
      "worker", {"unix:sha256:" + old_digest, "unix:uid:" + std::to_string(::geteuid())})};
  auto match = MatchAgent(agents, facts->selectors, now);
  ASSERT_TRUE(match.ok()) << match.status().ToString();
  EXPECT_EQ(match->name, "worker");

  // Linux refuses to open a running executable for writing (ETXTBSY), hence
  // the kill before the rewrite. Some kernel versions have allowed it; that is
  // a property of the kernel, not of the attestor, so it is only reported.
  int busy = ::open(copy.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (busy >= 0) {
    ::close(busy);
    std::cerr << "note: this kernel lets a running executable be opened for writing\n";
  }

  first.Kill();
  {
    // Trailing bytes leave the ELF image runnable but change its digest.
    std::ofstream out(copy, std::ios::binary | std::ios::app);
    out << "tampered";
  }
  const std::string new_digest = HashFile(copy);
  ASSERT_NE(new_digest, old_digest);
  Child second = SpawnExec(copy.string(), {"30"}, &exec_errno);
  ASSERT_EQ(exec_errno, 0) << std::strerror(exec_errno);
  peer.pid = second.pid();
  auto after = attestor.Attest(peer, BootTimeTicksNow());
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->exe_sha256, new_digest);
  EXPECT_FALSE(Contains(after->selectors, "unix:sha256:" + old_digest));
  EXPECT_EQ(MatchAgent(agents, after->selectors, now).status().code(), StatusCode::kNotFound);
}

TEST(AttestorTest, ProcessStartedAfterAcceptIsRefused) {
  uint64_t accepted_at = BootTimeTicksNow();
  // Several ticks (10 ms each at the usual 100 Hz) pass before the "reused" pid starts.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Listener listener;
  ASSERT_TRUE(listener.ok());
  Child child = SpawnConnector(listener.path());
  int conn = listener.Accept();
  ASSERT_GE(conn, 0);
  auto peer = ReadPeerCredentials(conn);
  ASSERT_TRUE(peer.ok()) << peer.status().ToString();
  Attestor attestor;
  auto facts = attestor.Attest(*peer, accepted_at);
  EXPECT_EQ(facts.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(facts.status().message().find("cannot attest pid " + std::to_string(child.pid())),
            std::string::npos)
      << facts.status().message();
  EXPECT_NE(facts.status().message().find("started after"), std::string::npos);
  // The same process with the real accept time passes.
  EXPECT_TRUE(attestor.Attest(*peer, BootTimeTicksNow()).ok());
  ::close(conn);
}

TEST(AttestorTest, ExitedProcessesAreRefused) {
  Attestor attestor;
  PeerCredentials peer = SelfPeer();

  // Exited and not yet reaped: a zombie.
  pid_t zombie = ::fork();
  if (zombie == 0) ::_exit(0);
  ASSERT_GT(zombie, 0);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(zombie), &info, WEXITED | WNOWAIT), 0);
  peer.pid = zombie;
  auto z = attestor.Attest(peer, BootTimeTicksNow());
  EXPECT_EQ(z.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(z.status().message().find("exited"), std::string::npos) << z.status().message();

  // Reaped: /proc/<pid> is gone.
  Child(zombie).Reap();
  auto gone = attestor.Attest(peer, BootTimeTicksNow());
  EXPECT_EQ(gone.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(gone.status().message().find("exited"), std::string::npos) << gone.status().message();
}

TEST(AttestorTest, RejectsImpossiblePids) {
  Attestor attestor;
  PeerCredentials peer = SelfPeer();
  for (int64_t pid : {int64_t{0}, int64_t{-1}, int64_t{INT_MAX} + 1}) {
    peer.pid = pid;
    EXPECT_EQ(attestor.Attest(peer, 0).status().code(), StatusCode::kInvalidArgument) << pid;
  }
}

TEST(AttestorTest, SecondAttestationOfTheSameBinaryHitsTheCache) {
  Attestor attestor;
  auto first = attestor.Attest(SelfPeer(), BootTimeTicksNow());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = attestor.Attest(SelfPeer(), BootTimeTicksNow());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(first->exe_sha256, second->exe_sha256);
  AttestorCacheStats stats = attestor.cache_stats();
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.entries, 1u);
}

TEST(AttestorTest, ConcurrentAttestationsAgree) {
  Attestor attestor;
  const std::string expected = HashFile(SelfExe());
  std::array<std::string, 4> digests;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < digests.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 3; ++k) {
        auto facts = attestor.Attest(SelfPeer(), 0);
        digests[i] = facts.ok() ? facts->exe_sha256 : facts.status().ToString();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& d : digests) EXPECT_EQ(d, expected);
  AttestorCacheStats stats = attestor.cache_stats();
  EXPECT_EQ(stats.hits + stats.misses, 12u);
  EXPECT_EQ(stats.entries, 1u);
}

// A hand-made /proc tree: <root>/<pid>/{stat,status,exe}, where exe is an
// ordinary symlink, to reach the cases a live process cannot easily show.
class FakeProc {
 public:
  static constexpr int64_t kPid = 4242;

  FakeProc() { fs::create_directories(pid_dir()); }

  fs::path root() const { return dir_.path() / "proc"; }
  fs::path pid_dir() const { return root() / std::to_string(kPid); }
  fs::path bin_dir() const { return dir_.path(); }

  void WriteStat(uint64_t start_ticks, const std::string& comm = "worker", char state = 'S') {
    std::string s = std::to_string(kPid) + " (" + comm + ") " + state;
    for (int field = 4; field <= 21; ++field) s += " " + std::to_string(field);
    s += " " + std::to_string(start_ticks);
    for (int field = 23; field <= 52; ++field) s += " 0";
    WriteFile(pid_dir() / "stat", s + "\n");
  }
  void WriteStatus(uint32_t uid, uint32_t gid) {
    const std::string u = std::to_string(uid);
    const std::string g = std::to_string(gid);
    WriteFile(pid_dir() / "status", "Name:\tworker\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t" +
                                        u + "\t" + u + "\t" + u + "\t" + u + "\nGid:\t" + g + "\t" +
                                        g + "\t" + g + "\t" + g + "\nFDSize:\t64\n");
  }
  void PointExeAt(const fs::path& target) {
    std::error_code ec;
    fs::remove(pid_dir() / "exe", ec);
    fs::create_symlink(target, pid_dir() / "exe");
  }
  // A process of uid 1000 / gid 1000 started at tick 500 running `binary`.
  void Setup(const fs::path& binary) {
    WriteStat(500);
    WriteStatus(1000, 1000);
    PointExeAt(binary);
  }

  static PeerCredentials Peer() { return PeerCredentials{kPid, 1000, 1000}; }
  AttestorOptions Options() const {
    AttestorOptions o;
    o.proc_root = root().string();
    return o;
  }

 private:
  TempDir dir_;
};

TEST(FakeProcTest, ParsesStatWithHostileCommAndBuildsSelectors) {
  FakeProc proc;
  const fs::path bin = proc.bin_dir() / "agent-bin";
  WriteFile(bin, "binary v1");
  proc.Setup(bin);
  proc.WriteStat(500, "evil) Z 1 2 3 (x");
  Attestor attestor(proc.Options());
  auto facts = attestor.Attest(FakeProc::Peer(), 500);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->start_ticks, 500u);
  EXPECT_EQ(facts->exe_path, bin.string());
  EXPECT_EQ(facts->exe_sha256, crypto::Sha256Hex("binary v1"));
  EXPECT_TRUE(Contains(facts->selectors, "unix:uid:1000"));
  EXPECT_TRUE(Contains(facts->selectors, "unix:gid:1000"));
  EXPECT_TRUE(Contains(facts->selectors, "unix:path:" + bin.string()));
  EXPECT_TRUE(Contains(facts->selectors, "unix:sha256:" + crypto::Sha256Hex("binary v1")));
  // One tick of rounding is tolerated, two are not.
  EXPECT_TRUE(attestor.Attest(FakeProc::Peer(), 499).ok());
  EXPECT_EQ(attestor.Attest(FakeProc::Peer(), 498).status().code(), StatusCode::kPermissionDenied);
}

TEST(FakeProcTest, UserSelectorComesFromThePasswdDatabase) {
  passwd* pw = ::getpwuid(0);
  if (pw == nullptr) GTEST_SKIP() << "uid 0 has no passwd entry here";
  const std::string root_name = pw->pw_name;
  FakeProc proc;
  const fs::path bin = proc.bin_dir() / "bin";
  WriteFile(bin, "x");
  proc.Setup(bin);
  proc.WriteStatus(0, 0);
  Attestor attestor(proc.Options());
  auto facts = attestor.Attest(PeerCredentials{FakeProc::kPid, 0, 0}, 0);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_TRUE(Contains(facts->selectors, "unix:user:" + root_name));
}

TEST(FakeProcTest, RefusesWhatCannotBeTrusted) {
  FakeProc proc;
  const fs::path bin = proc.bin_dir() / "bin";
  WriteFile(bin, "binary");
  struct Case {
    std::string name;
    std::function<void()> mutate;
    std::string why;
  };
  const std::vector<Case> cases = {
      {"zombie", [&] { proc.WriteStat(500, "w", 'Z'); }, "exited"},
      {"dead", [&] { proc.WriteStat(500, "w", 'X'); }, "exited"},
      {"uid", [&] { proc.WriteStatus(1001, 1000); }, "uid"},
      {"gid", [&] { proc.WriteStatus(1000, 1001); }, "gid"},
      {"malformed stat", [&] { WriteFile(proc.pid_dir() / "stat", "4242 (w) S 1 2\n"); },
       "malformed stat"},
      {"malformed status", [&] { WriteFile(proc.pid_dir() / "status", "Name:\tw\n"); },
       "malformed status"},
      {"deleted",
       [&] {
         WriteFile(proc.bin_dir() / "bin (deleted)", "binary");
         proc.PointExeAt(proc.bin_dir() / "bin (deleted)");
       },
       "deleted"},
      {"not a file", [&] { proc.PointExeAt(proc.bin_dir()); }, "not a regular file"},
      {"relative", [&] { proc.PointExeAt("bin"); }, "not absolute"},
      {"no exe", [&] { proc.PointExeAt(proc.bin_dir() / "missing"); }, "exited"},
      {"no process", [&] { fs::remove_all(proc.pid_dir()); }, "exited"},
  };
  for (const Case& c : cases) {
    fs::create_directories(proc.pid_dir());
    proc.Setup(bin);
    c.mutate();
    Attestor attestor(proc.Options());
    auto facts = attestor.Attest(FakeProc::Peer(), 500);
    EXPECT_EQ(facts.status().code(), StatusCode::kPermissionDenied) << c.name;
    EXPECT_NE(facts.status().message().find("cannot attest pid 4242: "), std::string::npos)
        << c.name << ": " << facts.status().message();
    EXPECT_NE(facts.status().message().find(c.why), std::string::npos)
        << c.name << ": " << facts.status().message();
  }
}

TEST(FakeProcTest, RefusesExecutablesOverTheSizeLimit) {
  FakeProc proc;
  const fs::path bin = proc.bin_dir() / "bin";
  WriteFile(bin, std::string(100, 'x'));
  proc.Setup(bin);
  AttestorOptions options = proc.Options();
  options.max_exe_bytes = 99;
  auto facts = Attestor(options).Attest(FakeProc::Peer(), 0);
  EXPECT_EQ(facts.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(facts.status().message().find("limit"), std::string::npos);
  options.max_exe_bytes = 100;
  EXPECT_TRUE(Attestor(options).Attest(FakeProc::Peer(), 0).ok());
}

TEST(FakeProcTest, PathsTheGrammarRefusesAreLeftOut) {
  FakeProc proc;
  const fs::path bin = proc.bin_dir() / "bad\nname";
  WriteFile(bin, "binary");
  proc.Setup(bin);
  auto facts = Attestor(proc.Options()).Attest(FakeProc::Peer(), 0);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->exe_path, bin.string());
  for (const std::string& s : facts->selectors) {
    EXPECT_NE(s.rfind("unix:path:", 0), 0u) << s;
    EXPECT_TRUE(ValidateSelector(s, "s").ok()) << s;
  }
  EXPECT_TRUE(Contains(facts->selectors, "unix:sha256:" + crypto::Sha256Hex("binary")));

  // Spaces are fine in paths, so that selector is kept.
  const fs::path spaced = proc.bin_dir() / "my agent";
  WriteFile(spaced, "binary");
  proc.PointExeAt(spaced);
  auto kept = Attestor(proc.Options()).Attest(FakeProc::Peer(), 0);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_TRUE(Contains(kept->selectors, "unix:path:" + spaced.string()));
}

TEST(FakeProcTest, CacheHitsUntilTheFileChanges) {
  FakeProc proc;
  const fs::path bin = proc.bin_dir() / "bin";
  WriteFile(bin, "version 1");
  proc.Setup(bin);
  Attestor attestor(proc.Options());
  auto a = attestor.Attest(FakeProc::Peer(), 0);
  auto b = attestor.Attest(FakeProc::Peer(), 0);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->exe_sha256, crypto::Sha256Hex("version 1"));
  EXPECT_EQ(b->exe_sha256, a->exe_sha256);
  EXPECT_EQ(attestor.cache_stats().hits, 1u);
  EXPECT_EQ(attestor.cache_stats().misses, 1u);

  // A new file renamed over the old one: new inode, rehashed.
  WriteFile(proc.bin_dir() / "bin.new", "version 2");
  fs::rename(proc.bin_dir() / "bin.new", bin);
  auto c = attestor.Attest(FakeProc::Peer(), 0);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->exe_sha256, crypto::Sha256Hex("version 2"));
  EXPECT_EQ(attestor.cache_stats().misses, 2u);

  // Same inode, same size, mtime set back: ctime still moves, so it is rehashed.
  struct stat before {};
  ASSERT_EQ(::stat(bin.c_str(), &before), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  {
    std::fstream f(bin, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(0);
    f << "VERSION 2";
  }
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, bin.c_str(), times, 0), 0);
  auto d = attestor.Attest(FakeProc::Peer(), 0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->exe_sha256, crypto::Sha256Hex("VERSION 2"));
  EXPECT_EQ(attestor.cache_stats().misses, 3u);
  EXPECT_EQ(attestor.cache_stats().hits, 1u);
}

TEST(FakeProcTest, CacheEvictsTheLeastRecentlyUsedAndCanBeDisabled) {
  FakeProc proc;
  const fs::path one = proc.bin_dir() / "one";
  const fs::path two = proc.bin_dir() / "two";
  WriteFile(one, "one");
  WriteFile(two, "two");
  proc.Setup(one);
  AttestorOptions options = proc.Options();
  options.cache_entries = 1;
  Attestor small(options);
  for (const fs::path& p : {one, two, one}) {
    proc.PointExeAt(p);
    auto facts = small.Attest(FakeProc::Peer(), 0);
    ASSERT_TRUE(facts.ok());
    EXPECT_EQ(facts->exe_sha256, crypto::Sha256Hex(p.filename().string()));
  }
  EXPECT_EQ(small.cache_stats().misses, 3u);
  EXPECT_EQ(small.cache_stats().entries, 1u);

  options.cache_entries = 0;
  Attestor none(options);
  ASSERT_TRUE(none.Attest(FakeProc::Peer(), 0).ok());
  ASSERT_TRUE(none.Attest(FakeProc::Peer(), 0).ok());
  EXPECT_EQ(none.cache_stats().hits, 0u);
  EXPECT_EQ(none.cache_stats().entries, 0u);
}

class MatchAgentTest : public ::testing::Test {
 protected:
  TimePoint now_ = FakeClock().Now();
  std::vector<std::string> observed_ = {"unix:gid:1000", "unix:path:/usr/bin/agent",
                                        "unix:sha256:" + std::string(64, 'a'), "unix:uid:1000",
                                        "unix:user:alice"};
};

TEST_F(MatchAgentTest, MatchesWhenEverySelectorIsPresent) {
  std::vector<Agent> agents = {
      MakeAgent("billing", {"unix:uid:1000", "unix:path:/usr/bin/agent"}),
      MakeAgent("other", {"unix:uid:1000", "unix:path:/usr/bin/other"}),
  };
  auto m = MatchAgent(agents, observed_, now_);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->name, "billing");
}

TEST_F(MatchAgentTest, OneMissingSelectorIsNoMatch) {
  std::vector<Agent> agents = {MakeAgent("billing", {"unix:uid:1000", "unix:gid:2000"})};
  auto m = MatchAgent(agents, observed_, now_);
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(m.status().message(),
            "no agent matches the caller's selectors: unix:gid:1000, unix:path:/usr/bin/agent, "
            "unix:sha256:" +
                std::string(64, 'a') + ", unix:uid:1000, unix:user:alice");
  EXPECT_EQ(MatchAgent({}, observed_, now_).status().code(), StatusCode::kNotFound);
}

TEST_F(MatchAgentTest, AgentsWithoutSelectorsNeverMatch) {
  std::vector<Agent> agents = {MakeAgent("empty", {})};
  EXPECT_EQ(MatchAgent(agents, observed_, now_).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MatchAgent(agents, {}, now_).status().code(), StatusCode::kNotFound);
  agents.push_back(MakeAgent("real", {"unix:user:alice"}));
  auto m = MatchAgent(agents, observed_, now_);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->name, "real");
}

TEST_F(MatchAgentTest, TwoActiveMatchesAreAmbiguous) {
  std::vector<Agent> agents = {
      MakeAgent("zeta", {"unix:uid:1000"}),
      MakeAgent("alpha", {"unix:uid:1000", "unix:gid:1000"}),
  };
  auto m = MatchAgent(agents, observed_, now_);
  EXPECT_EQ(m.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(m.status().message(),
            "ambiguous attestation: agents \"alpha\", \"zeta\" match; make their selectors "
            "distinct");
}

TEST_F(MatchAgentTest, InactiveOnlyMatchesAreRefused) {
  const std::vector<std::string> sel = {"unix:uid:1000"};
  auto suspended = MatchAgent({MakeAgent("s", sel, AgentStatus::kSuspended)}, observed_, now_);
  EXPECT_EQ(suspended.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(suspended.status().message(), "agent \"s\" is suspended");

  auto retired = MatchAgent({MakeAgent("r", sel, AgentStatus::kRetired)}, observed_, now_);
  EXPECT_EQ(retired.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(retired.status().message(), "agent \"r\" is retired");

  auto expired = MatchAgent({MakeAgent("e", sel, AgentStatus::kActive, now_)}, observed_, now_);
  EXPECT_EQ(expired.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(expired.status().message(), "agent \"e\" is expired");

  auto both = MatchAgent(
      {MakeAgent("r", sel, AgentStatus::kRetired), MakeAgent("e", sel, AgentStatus::kActive, now_)},
      observed_, now_);
  EXPECT_EQ(both.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(both.status().message(), "agent \"e\" is expired; agent \"r\" is retired");
}

TEST_F(MatchAgentTest, AnActiveMatchWinsOverInactiveOnes) {
  const std::vector<std::string> sel = {"unix:uid:1000", "unix:user:alice"};
  std::vector<Agent> agents = {
      MakeAgent("old", sel, AgentStatus::kSuspended),
      MakeAgent("new", sel),
      MakeAgent("gone", sel, AgentStatus::kActive, now_ - std::chrono::seconds(1)),
  };
  auto m = MatchAgent(agents, observed_, now_);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->name, "new");
}

}  // namespace
}  // namespace warden::identity
