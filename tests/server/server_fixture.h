// Shared fixture for the in-process server tests: a temporary data directory,
// a FakeClock and a Server on 127.0.0.1:0. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "server/internal/http_server.h"
#include "server/internal/listen_address.h"
#include "server/test_client.h"
#include "warden/core/clock.h"
#include "warden/server/server.h"

namespace warden::server::testing {

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline unsigned FileMode(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0xFFFF;
  return st.st_mode & 07777;
}

// Starts a plain HTTP server on an ephemeral loopback port that answers with
// `router`: a real upstream for the gateway and proxy tests. `router` must
// outlive it.
inline void StartUpstream(const Router& router, std::unique_ptr<internal::HttpServer>* out) {
  auto addr = internal::ParseListenAddress("127.0.0.1:0");
  ASSERT_TRUE(addr.ok());
  internal::HttpServerOptions http;
  http.threads = 1;
  http.shutdown_timeout = std::chrono::seconds(2);
  auto up = internal::HttpServer::Start(
      *addr, nullptr, http, [&router](Request& r) { return router.Dispatch(r); }, nullptr);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  *out = std::move(*up);
}

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-server-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    options_.data_dir = (root_ / "data").string();
    options_.listen = "127.0.0.1:0";
    // WARDEN_TEST_LOG_LEVEL=info shows the server's JSON logs while debugging.
    const char* level = std::getenv("WARDEN_TEST_LOG_LEVEL");
    options_.log_level = level != nullptr ? level : "off";
    options_.shutdown_timeout = std::chrono::seconds(5);
    options_.read_timeout = std::chrono::seconds(5);
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(root_);
  }

  // Starts the server with options_; fails the test on error.
  void StartServer() {
    auto s = Server::Start(options_, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    std::string token = ReadFile(DataDir() / "admin.token");
    while (!token.empty() && token.back() == '\n') token.pop_back();
    token_ = token;
  }

  // Copies examples/policies/* into the policy folder of a started server
  // (which created the folder with the modes it requires); they take effect
  // at the next reload.
  void InstallExamplePolicies() {
    const char* src = std::getenv("WARDEN_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    for (const auto& e :
         std::filesystem::directory_iterator(std::filesystem::path(src) / "examples" / "policies")) {
      if (!e.is_regular_file()) continue;
      std::filesystem::copy(e.path(), DataDir() / "policies" / e.path().filename(),
                            std::filesystem::copy_options::overwrite_existing);
    }
  }

  void StopServer() {
    if (server_) server_->Shutdown();
    server_.reset();
  }

  std::filesystem::path DataDir() const { return options_.data_dir; }
  std::string Addr() const { return server_->ListenAddress(); }

  std::vector<std::pair<std::string, std::string>> Auth(
      std::vector<std::pair<std::string, std::string>> extra = {}) const {
    extra.emplace_back("Authorization", "Bearer " + token_);
    return extra;
  }
  std::vector<std::pair<std::string, std::string>> JsonAuth() const {
    return Auth({{"Content-Type", "application/json"}});
  }

  HttpResult Get(const std::string& target) { return Send(Addr(), "GET", target, "", Auth()); }
  HttpResult Post(const std::string& target, const std::string& body) {
    return Send(Addr(), "POST", target, body, JsonAuth());
  }
  HttpResult Patch(const std::string& target, const std::string& body) {
    return Send(Addr(), "PATCH", target, body, JsonAuth());
  }

  std::filesystem::path root_;
  ServeOptions options_;
  FakeClock clock_;
  std::unique_ptr<Server> server_;
  std::string token_;
};

}  // namespace warden::server::testing
