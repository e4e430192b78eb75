#include "warden/net/http_client.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <istream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/api_client.h"

namespace warden::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
using namespace std::chrono_literals;

TEST(ParseServerUrlTest, AcceptsHttpHttpsAndBareAddresses) {
  auto u = ParseServerUrl("http://127.0.0.1:8181");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8181");
  EXPECT_EQ(u->ToString(), "http://127.0.0.1:8181");

  u = ParseServerUrl("https://warden.example.com/");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->ToString(), "https://warden.example.com:443");

  u = ParseServerUrl("https://[::1]:8443");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->ToString(), "https://[::1]:8443");

  u = ParseServerUrl("127.0.0.1:4000");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->port, "4000");
}

TEST(ParseServerUrlTest, RejectsWhatItDoesNotUnderstand) {
  for (const char* bad :
       {"", "ftp://host:1", "http://", "http://host:", "http://host:0", "http://host:65536",
        "http://host:80x", "http://user@host:80", "http://host:80/v1", "http://host:80?x",
        "http://::1:80", "http://[::1", "http://[zz]:80", "http://ho st:80", "http://h\r\n:80",
        "http://[::1]x"}) {
    auto u = ParseServerUrl(bad);
    EXPECT_FALSE(u.ok()) << bad;
    if (!u.ok()) {
      EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST(ParseServerUrlTest, AcceptsUnixSocketPaths) {
  auto u = ParseServerUrl("unix:/var/lib/warden/public/workload.sock");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->unix_path, "/var/lib/warden/public/workload.sock");
  EXPECT_TRUE(u->host.empty());
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->ToString(), "unix:/var/lib/warden/public/workload.sock");

  u = ParseServerUrl("unix:///run/warden.sock");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->unix_path, "/run/warden.sock");

  u = ParseServerUrl("unix:/run/./x/../warden.sock");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->unix_path, "/run/warden.sock");

  u = ParseServerUrl("unix:data/public/workload.sock");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->unix_path, (std::filesystem::current_path() / "data/public/workload.sock").string());
  EXPECT_EQ(u->ToString(), "unix:" + u->unix_path);
}

TEST(ParseServerUrlTest, RejectsBadUnixSocketPaths) {
  for (std::string bad :
       {std::string("unix:"), std::string("unix://"), std::string("unix://host/x.sock"),
        std::string("unix:/run/dir/"), std::string("unix:/run/a\nb.sock"),
        std::string("unix:/x\0y", 9), "unix:/" + std::string(200, 'a')}) {
    auto u = ParseServerUrl(bad);
    EXPECT_FALSE(u.ok()) << bad;
    if (!u.ok()) {
      EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
  // --cacert belongs to https only.
  HttpClientOptions options;
  options.cacert_file = "/etc/ssl/ca.pem";
  EXPECT_FALSE(HttpClient::Create("unix:/run/warden.sock", options).ok());
}

// Answers exactly one connection with `respond(request)` after `delay`, then
// closes it. `Protocol` is TCP (127.0.0.1, any port) or a Unix socket.
template <class Protocol>
class BasicOneShotServer {
 public:
  BasicOneShotServer(typename Protocol::endpoint endpoint,
                     std::function<std::string(const std::string&)> respond,
                     std::chrono::milliseconds delay)
      : acceptor_(io_, endpoint) {
    thread_ = std::thread([this, respond = std::move(respond), delay] {
      boost::system::error_code ec;
      typename Protocol::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec) return;
      asio::streambuf buf;
      size_t n = asio::read_until(socket, buf, "\r\n\r\n", ec);
      if (ec) return;
      std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
      buf.consume(n);
      size_t length = 0;
      if (auto pos = head.find("Content-Length: "); pos != std::string::npos) {
        length = std::stoul(head.substr(pos + 16));
      }
      std::string body(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
      while (body.size() < length) {
        char chunk[4096];
        size_t got = socket.read_some(asio::buffer(chunk), ec);
        if (ec) return;
        body.append(chunk, got);
      }
      request_ = head + body;
      std::this_thread::sleep_for(delay);
      asio::write(socket, asio::buffer(respond(request_)), ec);
      socket.close(ec);
    });
  }
  ~BasicOneShotServer() { thread_.join(); }

  // Valid after the client's call returned.
  const std::string& request() const { return request_; }

 protected:
  asio::io_context io_;
  typename Protocol::acceptor acceptor_;
  std::string request_;
  std::thread thread_;
};

class OneShotServer : public BasicOneShotServer<tcp> {
 public:
  explicit OneShotServer(std::function<std::string(const std::string&)> respond,
                         std::chrono::milliseconds delay = 0ms)
      : BasicOneShotServer(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                           std::move(respond), delay) {}
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
};

class UnixOneShotServer : public BasicOneShotServer<local> {
 public:
  UnixOneShotServer(const std::string& path, std::function<std::string(const std::string&)> respond,
                    std::chrono::milliseconds delay = 0ms)
      : BasicOneShotServer(local::endpoint(path), std::move(respond), delay), path_(path) {}
  std::string url() const { return "unix:" + path_; }

 private:
  std::string path_;
};

// A fresh directory under /tmp (Unix socket paths must be short), removed at
// the end of the test.
class UnixSocketDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wdn-cli-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

std::string JsonResponse(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

TEST(HttpClientTest, SendsRequestAndReadsResponse) {
  OneShotServer server([](const std::string&) { return JsonResponse(201, R"({"ok":true})"); });
  auto client = HttpClient::Create(server.url(), {});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  HttpRequest req{"POST", "/v1/agents", R"({"name":"a"})", "wdn_admin_secret", {}};
  auto res = (*client)->Send(req, 5s);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->content_type, "application/json");
  EXPECT_EQ(res->body, R"({"ok":true})");
  const std::string& sent = server.request();
  EXPECT_TRUE(sent.starts_with("POST /v1/agents HTTP/1.1\r\n")) << sent;
  EXPECT_NE(sent.find("Authorization: Bearer wdn_admin_secret\r\n"), std::string::npos);
  EXPECT_NE(sent.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(sent.find("\r\n\r\n{\"name\":\"a\"}"), std::string::npos);
}

TEST(HttpClientTest, ApiClientTurnsErrorBodiesIntoStatus) {
  OneShotServer server([](const std::string&) {
    return JsonResponse(
        400, R"({"error":{"code":"invalid_argument","message":"is required","field":"owner"}})");
  });
  auto http = HttpClient::Create(server.url(), {});
  ASSERT_TRUE(http.ok());
  cli::ApiClient api(std::move(http).value(), "tok");
  auto r = api.Call("GET", "/v1/agents/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), "owner");
  EXPECT_EQ(r.status().message().find("tok"), std::string::npos);
}

TEST(HttpClientTest, TimesOutWhenTheServerDoesNotAnswer) {
  OneShotServer server([](const std::string&) { return JsonResponse(200, "{}"); }, 1500ms);
  auto client = HttpClient::Create(server.url(), {});
  ASSERT_TRUE(client.ok());
  auto start = std::chrono::steady_clock::now();
  auto res = (*client)->Send({"GET", "/v1/agents", "", "", {}}, 200ms);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kDeadlineExceeded) << res.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1400ms);
}

TEST(HttpClientTest, RefusesOversizedResponses) {
  OneShotServer server(
      [](const std::string&) { return JsonResponse(200, "\"" + std::string(100, 'x') + "\""); });
  HttpClientOptions options;
  options.max_response_bytes = 10;
  auto client = HttpClient::Create(server.url(), options);
  ASSERT_TRUE(client.ok());
  auto res = (*client)->Send({"GET", "/", "", "", {}}, 5s);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kResourceExhausted);
}

TEST(HttpClientTest, ConnectionRefusedSaysWhatToDo) {
  unsigned short port;
  {
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto client = HttpClient::Create(url, {});
  ASSERT_TRUE(client.ok());
  auto res = (*client)->Send({"GET", "/v1/agents", "", "", {}}, 5s);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(res.status().message(), "cannot connect to " + url +
                                        ": connection refused \u2014 is `warden serve` running?");
}

TEST(HttpClientTest, CacertChecks) {
  HttpClientOptions options;
  options.cacert_file = "/nonexistent/ca.pem";
  auto c = HttpClient::Create("https://127.0.0.1:1", options);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().field(), "cacert");
  c = HttpClient::Create("http://127.0.0.1:1", options);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().field(), "cacert");
}

TEST(HttpClientTest, RejectsBadTargets) {
  auto client = HttpClient::Create("http://127.0.0.1:1", {});
  ASSERT_TRUE(client.ok());
  EXPECT_FALSE((*client)->Send({"GET", "v1", "", "", {}}, 1s).ok());
  EXPECT_FALSE((*client)->Send({"GET", "/v1\r\nX: y", "", "", {}}, 1s).ok());
  EXPECT_FALSE((*client)->Send({"BREW", "/v1", "", "", {}}, 1s).ok());
}

TEST_F(UnixSocketDir, SendsOverAUnixSocket) {
  const std::string path = dir_ + "/workload.sock";
  UnixOneShotServer server(path,
                           [](const std::string&) { return JsonResponse(200, R"({"ok":1})"); });
  auto client = HttpClient::Create(server.url(), {});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ((*client)->url().ToString(), "unix:" + path);
  auto res = (*client)->Send({"POST", "/v1/workload/svid", R"({"a":1})", "", {}}, 5s);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"ok":1})");
  const std::string& sent = server.request();
  EXPECT_TRUE(sent.starts_with("POST /v1/workload/svid HTTP/1.1\r\n")) << sent;
  EXPECT_NE(sent.find("Host: localhost\r\n"), std::string::npos) << sent;
  EXPECT_NE(sent.find("\r\n\r\n{\"a\":1}"), std::string::npos) << sent;
}

TEST_F(UnixSocketDir, UnixSocketTimeoutAndSizeLimit) {
  const std::string path = dir_ + "/slow.sock";
  {
    UnixOneShotServer server(
        path, [](const std::string&) { return JsonResponse(200, "{}"); }, 1500ms);
    auto client = HttpClient::Create(server.url(), {});
    ASSERT_TRUE(client.ok());
    auto start = std::chrono::steady_clock::now();
    auto res = (*client)->Send({"GET", "/", "", "", {}}, 200ms);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.status().code(), StatusCode::kDeadlineExceeded) << res.status().ToString();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1400ms);
  }
  std::filesystem::remove(path);
  UnixOneShotServer server(path, [](const std::string&) {
    return JsonResponse(200, "\"" + std::string(100, 'x') + "\"");
  });
  HttpClientOptions options;
  options.max_response_bytes = 10;
  auto client = HttpClient::Create(server.url(), options);
  ASSERT_TRUE(client.ok());
  auto res = (*client)->Send({"GET", "/", "", "", {}}, 5s);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kResourceExhausted);
}

TEST_F(UnixSocketDir, MissingUnixSocketSaysWhatToDo) {
  const std::string path = dir_ + "/workload.sock";
  auto client = HttpClient::Create("unix:" + path, {});
  ASSERT_TRUE(client.ok());
  auto res = (*client)->Send({"GET", "/", "", "", {}}, 5s);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(res.status().message(),
            "no Warden workload socket at " + path + ": is warden serve running?");

  // A socket file nobody accepts on.
  {
    asio::io_context io;
    local::acceptor stale(io, local::endpoint(path));
  }
  ASSERT_TRUE(std::filesystem::is_socket(path));
  res = (*client)->Send({"GET", "/", "", "", {}}, 5s);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(res.status().message().find("is warden serve running?"), std::string::npos);
}

TEST_F(UnixSocketDir, UnreachableUnixSocketIsPermissionDenied) {
  const std::string path = dir_ + "/workload.sock";
  asio::io_context io;
  local::acceptor acceptor(io, local::endpoint(path));
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  auto connect = [&]() -> Status {
    auto client = HttpClient::Create("unix:" + path, {});
    if (!client.ok()) return client.status();
    auto res = (*client)->Send({"GET", "/", "", "", {}}, 5s);
    return res.ok() ? OkStatus() : res.status();
  };
  auto is_denied = [&](const Status& s) {
    return s.code() == StatusCode::kPermissionDenied && s.message().find(path) != std::string::npos;
  };
  if (::geteuid() != 0) {
    ASSERT_EQ(::chmod(dir_.c_str(), 0), 0);  // no search permission on the directory
    Status s = connect();
    EXPECT_TRUE(is_denied(s)) << s.ToString();
    return;
  }
  // root ignores file permissions: try as "nobody" in a child process (the
  // test process has no other threads here, so the child may allocate).
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    ::_exit(is_denied(connect()) ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

}  // namespace
}  // namespace warden::net

namespace warden::net {
namespace {

// Serves connections one after another, each by a script: for each request
// read, "keep" answers and keeps the connection, "close" answers with
// Connection: close and closes, "quiet" answers as if keeping the
// connection but closes it, "drop" closes without answering. Records every request line.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::vector<std::string>> scripts)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, scripts = std::move(scripts)] {
      for (const auto& script : scripts) {
        boost::system::error_code ec;
        tcp::socket socket(io_);
        acceptor_.accept(socket, ec);
        if (ec) return;
        ++connections_;
        asio::streambuf buf;
        for (const auto& action : script) {
          size_t n = asio::read_until(socket, buf, "\r\n\r\n", ec);
          if (ec) break;
          std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
          buf.consume(n);
          size_t length = 0;
          if (auto pos = head.find("Content-Length: "); pos != std::string::npos) {
            length = std::stoul(head.substr(pos + 16));
          }
          if (length > 0) {
            if (buf.size() < length) asio::read(socket, buf, asio::transfer_exactly(length - buf.size()), ec);
            buf.consume(length);
          }
          {
            std::lock_guard lock(mu_);
            requests_.push_back(head.substr(0, head.find("\r\n")));
          }
          if (action == "drop") break;
          std::string body = std::to_string(requests_.size());
          std::string res = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n" +
                            (action == "close" ? "Connection: close\r\n" : "") + "\r\n" + body;
          asio::write(socket, asio::buffer(res), ec);
          if (action == "close" || action == "quiet") break;
        }
        socket.close(ec);
      }
    });
  }
  ~ScriptedServer() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  int connections() const { return connections_; }
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<std::string> requests_;
};

HttpClientOptions KeepAlive() {
  HttpClientOptions o;
  o.keep_alive = true;
  return o;
}

TEST(HttpClientKeepAliveTest, ReusesTheConnectionAndNoticesWhenTheServerClosesIt) {
  ScriptedServer server({{"keep", "close"}, {"keep", "quiet"}, {"keep"}});
  auto client = HttpClient::Create(server.url(), KeepAlive());
  ASSERT_TRUE(client.ok());
  HttpRequest get{"GET", "/a", "", "", {}};
  for (int i = 1; i <= 5; ++i) {
    auto res = (*client)->Send(get, 5s);
    ASSERT_TRUE(res.ok()) << i << ": " << res.status().ToString();
    EXPECT_EQ(res->body, std::to_string(i));
    // Lets the server's close of the second connection arrive first.
    if (i == 4) std::this_thread::sleep_for(20ms);
  }
  // Two requests per connection: the first said "Connection: close", the
  // second closed while idle; neither was used again, and no request was
  // sent twice.
  EXPECT_EQ(server.requests().size(), 5u);
  EXPECT_EQ(server.connections(), 3);
}

TEST(HttpClientKeepAliveTest, WithoutKeepAliveEveryRequestHasItsConnection) {
  ScriptedServer server({{"keep"}, {"keep"}});
  auto client = HttpClient::Create(server.url(), {});
  ASSERT_TRUE(client.ok());
  HttpRequest get{"GET", "/a", "", "", {}};
  ASSERT_TRUE((*client)->Send(get, 5s).ok());
  ASSERT_TRUE((*client)->Send(get, 5s).ok());
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClientKeepAliveTest, APostIsNeverSentTwiceWhenAKeptConnectionFails) {
  // The server reads the POST on the kept connection, then closes without
  // answering: it may have acted, so the client must not repeat it.
  ScriptedServer server({{"keep", "drop"}, {"keep"}});
  auto client = HttpClient::Create(server.url(), KeepAlive());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Send(HttpRequest{"GET", "/first", "", "", {}}, 5s).ok());
  auto res = (*client)->Send(HttpRequest{"POST", "/act", "{}", "", {}}, 5s);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable) << res.status().ToString();
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], "POST /act HTTP/1.1");
  // The next request opens a new connection.
  auto next = (*client)->Send(HttpRequest{"GET", "/next", "", "", {}}, 5s);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClientKeepAliveTest, AnIdempotentRequestIsRetriedOnceOnANewConnection) {
  ScriptedServer server({{"keep", "drop"}, {"keep"}});
  auto client = HttpClient::Create(server.url(), KeepAlive());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Send(HttpRequest{"GET", "/first", "", "", {}}, 5s).ok());
  auto res = (*client)->Send(HttpRequest{"GET", "/again", "", "", {}}, 5s);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1], "GET /again HTTP/1.1");
  EXPECT_EQ(seen[2], "GET /again HTTP/1.1");
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClientKeepAliveTest, AnIdleConnectionPastMaxIdleIsNotReused) {
  ScriptedServer server({{"keep", "keep"}, {"keep"}});
  HttpClientOptions o = KeepAlive();
  o.max_idle = 0ms;
  auto client = HttpClient::Create(server.url(), o);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Send(HttpRequest{"GET", "/a", "", "", {}}, 5s).ok());
  std::this_thread::sleep_for(5ms);
  ASSERT_TRUE((*client)->Send(HttpRequest{"GET", "/b", "", "", {}}, 5s).ok());
  EXPECT_EQ(server.connections(), 2);
}

}  // namespace
}  // namespace warden::net
