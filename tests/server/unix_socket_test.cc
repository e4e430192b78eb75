// The HTTP transport over a Unix domain socket: peer credentials from
// SO_PEERCRED, socket file handling (mode, stale and foreign files, removal at
// shutdown) and the same HTTP behaviour as TCP, driven by a raw client.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/internal/http_server.h"

namespace warden::server::internal {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

sockaddr_un UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), std::min(path.size(), sizeof(addr.sun_path) - 1));
  return addr;
}

// A connected AF_UNIX client socket with a 5 s receive timeout, or -1.
int ConnectUnix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_un addr = UnixAddress(path);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

struct RawResponse {
  int status = 0;
  std::string head;
  std::string body;
  bool ok = false;
};

// Reads one Content-Length-framed response; bytes past it stay in `pending`.
RawResponse ReadResponse(int fd, std::string& pending) {
  RawResponse out;
  char chunk[4096];
  size_t end = std::string::npos;
  while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return out;
    pending.append(chunk, static_cast<size_t>(n));
  }
  out.head = pending.substr(0, end + 4);
  pending.erase(0, end + 4);
  if (out.head.size() < 12) return out;
  out.status = std::atoi(out.head.c_str() + 9);
  size_t length = 0;
  std::string lower = out.head;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto pos = lower.find("content-length: "); pos != std::string::npos) {
    length = std::stoul(lower.substr(pos + 16));
  }
  while (pending.size() < length) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return out;
    pending.append(chunk, static_cast<size_t>(n));
  }
  out.body = pending.substr(0, length);
  pending.erase(0, length);
  out.ok = true;
  return out;
}

std::string GetRequest(const std::string& target, bool keep_alive = false) {
  return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" +
         (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
}

// One request on a fresh connection.
RawResponse Exchange(const std::string& path, const std::string& request) {
  int fd = ConnectUnix(path);
  if (fd < 0) return {};
  std::string pending;
  RawResponse r;
  if (WriteAll(fd, request)) r = ReadResponse(fd, pending);
  ::close(fd);
  return r;
}

// Answers every request with the transport's view of the peer.
Response EchoPeer(Request& request) {
  json::object o;
  o["remote"] = request.remote_address;
  if (request.unix_peer) {
    o["pid"] = request.unix_peer->pid;
    o["uid"] = request.unix_peer->uid;
    o["gid"] = request.unix_peer->gid;
    o["ticks"] = request.unix_peer->accepted_at_ticks;
  } else {
    o["peer"] = nullptr;
  }
  o["body_bytes"] = request.body.size();
  return Response::Json(200, o);
}

uint64_t BootTicksNow() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  auto hz = static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  return static_cast<uint64_t>(ts.tv_sec) * hz +
         static_cast<uint64_t>(ts.tv_nsec) * hz / 1000000000u;
}

// Field 22 of /proc/self/stat: this process's start time in clock ticks.
uint64_t OwnStartTicks() {
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 22; ++i) fields >> field;  // fields after "pid (comm)" start at 3
  return std::stoull(field);
}

class UnixSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // sun_path is short: keep the directory under /tmp.
    char tmpl[] = "/tmp/wdn-unix-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/workload.sock";
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options = {},
                                            Handler handler = EchoPeer) {
    return HttpServer::StartUnix({path_}, options, std::move(handler), nullptr);
  }
  void StartServer(const HttpServerOptions& options = {}, Handler handler = EchoPeer) {
    auto s = Start(options, std::move(handler));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(UnixSocketTest, RequestsCarryThePeerCredentials) {
  StartServer();
  EXPECT_EQ(server_->address(), "unix:" + path_);
  EXPECT_EQ(server_->port(), 0);
  uint64_t before = BootTicksNow();
  auto r = Exchange(path_, GetRequest("/whoami"));
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.status, 200) << r.head << r.body;
  auto o = json::parse(r.body).as_object();
  EXPECT_EQ(o["remote"], "unix");
  EXPECT_EQ(o["pid"].to_number<int64_t>(), ::getpid());
  EXPECT_EQ(o["uid"].to_number<uint64_t>(), ::getuid());
  EXPECT_EQ(o["gid"].to_number<uint64_t>(), ::getgid());
  auto ticks = o["ticks"].to_number<uint64_t>();
  EXPECT_GE(ticks, before);
  EXPECT_LE(ticks, BootTicksNow());
  // Same clock as /proc/<pid>/stat: a live peer started no later than the accept.
  EXPECT_GE(ticks, OwnStartTicks());
}

TEST_F(UnixSocketTest, AForkedChildIsReportedAsItself) {
  StartServer();
  // The child uses only system calls: the parent has threads, so the child
  // must not depend on locks they might hold.
  const std::string request = GetRequest("/whoami");
  sockaddr_un addr = UnixAddress(path_);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::_exit(2);
    }
    if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      ::_exit(3);
    }
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0) {
      if (::write(pipe_fds[1], buf, static_cast<size_t>(n)) != n) ::_exit(4);
    }
    ::_exit(n == 0 ? 0 : 5);
  }
  ::close(pipe_fds[1]);
  std::string raw;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0) raw.append(buf, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);
  auto body_at = raw.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos) << raw;
  ASSERT_TRUE(raw.starts_with("HTTP/1.1 200")) << raw;
  auto o = json::parse(raw.substr(body_at + 4)).as_object();
  EXPECT_EQ(o["pid"].to_number<int64_t>(), child);
  EXPECT_NE(o["pid"].to_number<int64_t>(), ::getpid());
}

TEST_F(UnixSocketTest, SocketModeIsApplied) {
  StartServer();
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  server_->Shutdown();

  auto s = HttpServer::StartUnix({path_, 0600}, {}, EchoPeer, nullptr);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  (*s)->Shutdown();

  s = HttpServer::StartUnix({path_, 04777}, {}, EchoPeer, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(UnixSocketTest, ReplacesAStaleSocket) {
  // A socket file nobody listens on, as a crashed server leaves behind.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr = UnixAddress(path_);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  ASSERT_TRUE(S_ISSOCK(st.st_mode));

  StartServer();
  auto r = Exchange(path_, GetRequest("/"));
  EXPECT_EQ(r.status, 200);
}

TEST_F(UnixSocketTest, RefusesAndKeepsARegularFile) {
  {
    std::ofstream out(path_);
    out << "precious";
  }
  auto s = Start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find(path_), std::string::npos) << s.status().message();
  std::ifstream in(path_);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "precious");
}

TEST_F(UnixSocketTest, RefusesADirectoryAndASymlink) {
  std::filesystem::create_directory(path_);
  auto s = Start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(std::filesystem::is_directory(path_));
  std::filesystem::remove(path_);

  // A symlink to a stale socket is not itself a socket: refused, not followed.
  std::string target = dir_ + "/other.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr = UnixAddress(target);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  std::filesystem::create_symlink(target, path_);
  s = Start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(std::filesystem::is_symlink(path_));
  EXPECT_TRUE(std::filesystem::is_socket(target));
}

TEST_F(UnixSocketTest, RefusesALiveSocket) {
  StartServer();
  auto second = Start();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find(path_), std::string::npos);
  // The first server is untouched.
  auto r = Exchange(path_, GetRequest("/"));
  EXPECT_EQ(r.status, 200);
}

TEST_F(UnixSocketTest, RejectsBadPaths) {
  auto s = HttpServer::StartUnix({""}, {}, EchoPeer, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  s = HttpServer::StartUnix({dir_ + "/" + std::string(200, 'x')}, {}, EchoPeer, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  s = HttpServer::StartUnix({dir_ + "/missing/workload.sock"}, {}, EchoPeer, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find(dir_ + "/missing"), std::string::npos);
}

TEST_F(UnixSocketTest, ShutdownRemovesTheSocketFile) {
  StartServer();
  ASSERT_TRUE(std::filesystem::is_socket(path_));
  server_->Shutdown();
  struct stat st {};
  EXPECT_NE(::lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(ConnectUnix(path_), -1);
  server_->Shutdown();  // idempotent
}

TEST_F(UnixSocketTest, ShutdownLeavesAReplacementSocketAlone) {
  StartServer();
  // An operator removed our socket and something else now owns the path.
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr = UnixAddress(path_);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  server_->Shutdown();
  EXPECT_TRUE(std::filesystem::is_socket(path_));
  ::close(fd);
}

TEST_F(UnixSocketTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  int fd = ConnectUnix(path_);
  ASSERT_GE(fd, 0);
  std::string pending;
  ASSERT_TRUE(WriteAll(fd, GetRequest("/one", true)));
  auto first = ReadResponse(fd, pending);
  ASSERT_TRUE(first.ok);
  EXPECT_EQ(first.status, 200);
  ASSERT_TRUE(WriteAll(fd,
                       "POST /two HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n"
                       "Connection: close\r\n\r\nabc"));
  auto second = ReadResponse(fd, pending);
  ASSERT_TRUE(second.ok);
  EXPECT_EQ(second.status, 200);
  auto o = json::parse(second.body).as_object();
  EXPECT_EQ(o["pid"].to_number<int64_t>(), ::getpid());
  EXPECT_EQ(o["body_bytes"].to_number<int64_t>(), 3);
  // Connection: close was honoured.
  char c;
  EXPECT_EQ(::recv(fd, &c, 1, 0), 0);
  ::close(fd);
}

TEST_F(UnixSocketTest, OversizedBodyGets413) {
  HttpServerOptions options;
  options.max_body_bytes = 100;
  StartServer(options);
  std::string body(1000, 'x');
  auto r = Exchange(path_, "POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 413) << r.body;
}

TEST_F(UnixSocketTest, ShutdownAnswersALongPoll) {
  StartServer({}, [](Request&) {
    Response r;
    r.deferred = std::make_shared<Deferred>();
    r.deferred->deadline = std::chrono::steady_clock::now() + 30s;
    r.deferred->poll = [](bool final) -> std::optional<Response> {
      if (!final) return std::nullopt;
      return Response::Json(200, {{"final", true}});
    };
    return r;
  });
  RawResponse r;
  std::thread client([&] { r = Exchange(path_, GetRequest("/wait")); });
  std::this_thread::sleep_for(300ms);  // the request is parked
  auto start = std::chrono::steady_clock::now();
  server_->Shutdown();
  client.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"final":true})"));
}


// A gate handlers wait at (at most 10 s, so a broken test cannot hang).
class Gate {
 public:
  // True when opened, false after 10 s without.
  bool Wait() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    return cv_.wait_for(lock, 10s, [&] { return open_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Until `n` handlers are waiting (at most 10 s).
  bool AwaitWaiting(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

TEST_F(UnixSocketTest, HandlersDoNotHoldTheIoThread) {
  // One I/O thread: a handler waiting for the gate must not stop the server
  // from reading and answering the request that opens it.
  auto gate = std::make_shared<Gate>();
  HttpServerOptions options;
  options.threads = 1;
  options.handler_threads = 2;
  StartServer(options, [gate](Request& r) {
    if (r.path == "/wait") {
      bool opened = gate->Wait();
      return Response::Json(200, {{"waited", opened}});
    }
    gate->Open();
    return Response::Json(200, {{"opened", true}});
  });
  RawResponse waited;
  std::thread client([&] { waited = Exchange(path_, GetRequest("/wait")); });
  ASSERT_TRUE(gate->AwaitWaiting(1));
  RawResponse opened = Exchange(path_, GetRequest("/open"));
  client.join();
  ASSERT_TRUE(opened.ok);
  EXPECT_EQ(opened.status, 200);
  ASSERT_TRUE(waited.ok);
  EXPECT_EQ(json::parse(waited.body), json::parse(R"({"waited":true})"));
}

TEST_F(UnixSocketTest, PastTheQueueTheServerAnswers503WithRetryAfter) {
  auto gate = std::make_shared<Gate>();
  HttpServerOptions options;
  options.handler_threads = 1;
  options.max_queued_requests = 1;
  StartServer(options, [gate](Request&) {
    bool opened = gate->Wait();
    return Response::Json(200, {{"ok", opened}});
  });
  RawResponse first;
  std::thread t1([&] { first = Exchange(path_, GetRequest("/a")); });
  ASSERT_TRUE(gate->AwaitWaiting(1));  // the only handler thread is busy
  // Of two more requests one is queued and one refused; the refused one is
  // answered at once, the queued one only after the gate opens.
  std::mutex mu;
  std::condition_variable cv;
  std::vector<RawResponse> done;
  auto send = [&] {
    RawResponse r = Exchange(path_, GetRequest("/b"));
    std::lock_guard lock(mu);
    done.push_back(r);
    cv.notify_all();
  };
  std::thread t2(send);
  std::thread t3(send);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return !done.empty(); }));
    EXPECT_EQ(done[0].status, 503) << done[0].head << done[0].body;
    EXPECT_NE(done[0].head.find("Retry-After: 1"), std::string::npos) << done[0].head;
    EXPECT_NE(done[0].body.find("busy"), std::string::npos) << done[0].body;
  }
  gate->Open();
  t1.join();
  t2.join();
  t3.join();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(json::parse(first.body), json::parse(R"({"ok":true})"));
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[1].status, 200);
}

}  // namespace
}  // namespace warden::server::internal
