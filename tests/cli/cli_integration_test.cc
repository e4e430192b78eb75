// End to end: the real `warden` binary as server (`warden serve`, a child
// process on an ephemeral port) and as client (one child per command).
// Children are killed and reaped however a test ends.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "warden/core/json.h"
#include "warden/crypto/hash.h"

extern char** environ;

namespace warden {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string WardenBinary() {
  const char* dir = std::getenv("WARDEN_BINARY_DIR");
  return std::string(dir != nullptr ? dir : ".") + "/warden";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// A child process running the warden binary with stdout/stderr in files.
// The destructor kills (SIGKILL) and reaps a child that is still running.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::vector<std::string>& extra_env,
        const fs::path& out_file, const fs::path& err_file)
      : out_file_(out_file), err_file_(err_file) {
    std::vector<std::string> argv_s = {WardenBinary()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    // The parent's environment without WARDEN_* (a developer's settings must
    // not leak in), plus what the test asks for.
    std::vector<std::string> env_s;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string_view(*e).starts_with("WARDEN_")) continue;
      env_s.emplace_back(*e);
    }
    env_s.insert(env_s.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);

    // fork/exec rather than posix_spawn for PR_SET_PDEATHSIG: a child must
    // not outlive a test binary that is killed (ctest timeout, Ctrl-C).
    // Between fork and exec only async-signal-safe calls are made.
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      int in = open("/dev/null", O_RDONLY);
      int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in < 0 || out < 0 || err < 0) _exit(127);
      dup2(in, 0);
      dup2(out, 1);
      dup2(err, 2);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    pid_ = pid > 0 ? pid : -1;
  }
  ~Child() {
    if (running()) {
      kill(pid_, SIGKILL);
      int status;
      waitpid(pid_, &status, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  bool running() const { return pid_ > 0 && !exit_code_.has_value(); }

  // Waits up to `timeout` for exit; the exit code, 128+signal, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout) {
    if (exit_code_.has_value()) return *exit_code_;
    if (pid_ <= 0) return -1;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return *exit_code_;
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      std::this_thread::sleep_for(10ms);
    }
  }
  void Signal(int sig) {
    if (running()) kill(pid_, sig);
  }
  std::string out() const { return ReadFile(out_file_); }
  std::string err() const { return ReadFile(err_file_); }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  fs::path out_file_, err_file_;
};

struct Outcome {
  int code;
  std::string out, err;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "exit " << o.code << "\nstdout:\n" << o.out << "\nstderr:\n" << o.err;
}

class CliIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden_cli_it_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    data_ = tmp_ / "data";
    ASSERT_TRUE(fs::exists(WardenBinary())) << WardenBinary();
  }
  void TearDown() override {
    server_.reset();
    if (HasFailure()) {
      std::cerr << "server stdout:\n" << ReadFile(tmp_ / "serve.out") << "\nserver stderr:\n"
                << ReadFile(tmp_ / "serve.err") << "\n";
    }
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }

  // Starts `warden serve` on 127.0.0.1:0 and waits for DATA/serve.addr.
  void StartServer(const std::vector<std::string>& extra_args = {}) {
    fs::remove(data_ / "serve.addr");
    std::vector<std::string> args = {"serve", "--data", data_.string(), "--listen",
                                     "127.0.0.1:0"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    server_ = std::make_unique<Child>(args, std::vector<std::string>{}, tmp_ / "serve.out",
                                      tmp_ / "serve.err");
    ASSERT_TRUE(server_->started());
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!fs::exists(data_ / "serve.addr")) {
      ASSERT_TRUE(server_->running() && server_->Wait(0ms) == -1)
          << "server exited early:\n" << server_->err();
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no serve.addr after 30s";
      std::this_thread::sleep_for(20ms);
    }
    addr_ = Trim(ReadFile(data_ / "serve.addr"));
    ASSERT_FALSE(addr_.empty());
  }

  // Copies examples/policies into DATA/policies and reloads them.
  void InstallDemoPolicies() {
    const char* src = std::getenv("WARDEN_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    for (const auto& e : fs::directory_iterator(fs::path(src) / "examples" / "policies")) {
      fs::copy(e.path(), data_ / "policies" / e.path().filename(),
               fs::copy_options::overwrite_existing);
    }
    Outcome r = Warden({"policy", "reload"});
    ASSERT_EQ(r.code, 0) << r;
  }

  // SIGTERM, then the exit code (-1 when it did not stop within 20s).
  int StopServer() {
    server_->Signal(SIGTERM);
    int code = server_->Wait(20s);
    return code;
  }

  // Runs the CLI against the test server with the token from DATA.
  Outcome Warden(std::vector<std::string> args, std::vector<std::string> env = {}) {
    std::vector<std::string> full = {"--data", data_.string()};
    full.insert(full.end(), args.begin(), args.end());
    bool has_server = false;
    for (const auto& e : env) has_server = has_server || e.starts_with("WARDEN_SERVER=");
    if (!addr_.empty() && !has_server) env.push_back("WARDEN_SERVER=" + addr_);
    return RunRaw(full, env);
  }

  Outcome RunRaw(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    std::string tag = std::to_string(++runs_);
    Child child(args, env, tmp_ / ("cli" + tag + ".out"), tmp_ / ("cli" + tag + ".err"));
    EXPECT_TRUE(child.started());
    int code = child.Wait(60s);
    EXPECT_NE(code, -1) << "warden did not finish within 60s";
    return {code, child.out(), child.err()};
  }

  json::value ParseOut(const Outcome& o) {
    auto v = ParseJson(o.out);
    EXPECT_TRUE(v.ok()) << v.status().ToString() << "\n" << o;
    return v.ok() ? *v : json::value();
  }

  fs::path tmp_, data_;
  std::string addr_;
  std::unique_ptr<Child> server_;
  int runs_ = 0;
};

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(CliIntegrationTest, AgentLifecycleAuditAndShutdown) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  // The token file is private and never printed.
  struct stat st {};
  ASSERT_EQ(stat((data_ / "admin.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string token = Trim(ReadFile(data_ / "admin.token"));
  ASSERT_TRUE(token.starts_with("wdn_admin_")) << "token file has an unexpected format";

  auto r = Warden({"agent", "create", "billing-bot", "--owner", "alice@example.com", "--purpose",
                   "reconcile invoices", "--env", "dev", "--expires", "30d", "--selector",
                   "unix:uid:1000", "--selector", "unix:gid:100"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "agent billing-bot created")) << r;
  EXPECT_TRUE(Contains(r.out, "spiffe://")) << r;
  EXPECT_FALSE(Contains(r.out + r.err, token));

  r = Warden({"agent", "create", "deploy-bot", "--owner", "bob", "--purpose", "deploys", "--env",
              "prod", "--expires", "2099-01-01T00:00:00Z", "--json"});
  // An expiry past the maximum lifetime is refused by the server: exit 1, field named.
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "(field: expires_at)")) << r;
  r = Warden({"agent", "create", "deploy-bot", "--owner", "bob", "--purpose", "deploys", "--env",
              "prod", "--expires", "12h", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  {
    json::value v = ParseOut(r);
    ASSERT_TRUE(v.is_object());
    EXPECT_EQ(v.at("name"), "deploy-bot");
    EXPECT_EQ(v.at("environment"), "prod");
    EXPECT_EQ(v.at("status"), "active");
  }

  // Bad inputs.
  r = Warden({"agent", "create", "no-owner", "--purpose", "p", "--env", "dev", "--expires", "1d"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "(field: owner)")) << r;
  EXPECT_TRUE(r.err.starts_with("warden: ")) << r;
  r = Warden({"agent", "create", "Bad Name!", "--owner", "o", "--purpose", "p", "--env", "dev",
              "--expires", "1d"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "(field: name)")) << r;
  r = Warden({"agent", "create", "x", "--owner", "o", "--purpose", "p", "--env", "dev",
              "--expires", "next-week"});
  EXPECT_EQ(r.code, 2) << r;  // checked by the CLI before any request
  r = Warden({"agent", "create", "billing-bot", "--owner", "o", "--purpose", "p", "--env", "dev",
              "--expires", "1d"});
  EXPECT_EQ(r.code, 1) << r;  // already exists
  r = Warden({"agent", "create", "x", "--owner", "o", "--purpose", "p", "--env", "moon",
              "--expires", "1d"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "(field: environment)")) << r;

  // list / show, text and JSON.
  r = Warden({"agent", "list"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(r.out.starts_with("NAME ")) << r;
  EXPECT_TRUE(Contains(r.out, "STATUS") && Contains(r.out, "EXPIRES")) << r;
  EXPECT_TRUE(Contains(r.out, "billing-bot") && Contains(r.out, "deploy-bot")) << r;
  r = Warden({"agent", "list", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  {
    json::value v = ParseOut(r);
    ASSERT_TRUE(v.is_object() && v.as_object().contains("agents")) << r;
    EXPECT_EQ(v.at("agents").as_array().size(), 2u);
  }
  r = Warden({"agent", "list", "--env", "prod", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  {
    json::value v = ParseOut(r);
    ASSERT_TRUE(v.is_object() && v.as_object().contains("agents")) << r;
    ASSERT_EQ(v.at("agents").as_array().size(), 1u);
    EXPECT_EQ(v.at("agents").at(0).at("name"), "deploy-bot");
  }
  r = Warden({"agent", "show", "billing-bot"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "owner:")) << r;
  EXPECT_TRUE(Contains(r.out, "alice@example.com")) << r;
  EXPECT_TRUE(Contains(r.out, "unix:gid:100, unix:uid:1000")) << r;
  r = Warden({"agent", "show", "billing-bot", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  int64_t version_before = 0;
  {
    json::value v = ParseOut(r);
    ASSERT_TRUE(v.is_object());
    EXPECT_EQ(v.at("owner"), "alice@example.com");
    EXPECT_EQ(v.at("selectors").as_array().size(), 2u);
    version_before = v.at("version").to_number<int64_t>();
  }
  r = Warden({"agent", "show", "ghost"});
  EXPECT_EQ(r.code, 1) << r;

  // update.
  r = Warden({"agent", "update", "billing-bot", "--owner", "carol", "--clear-selectors"});
  ASSERT_EQ(r.code, 0) << r;
  r = Warden({"agent", "show", "billing-bot", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  {
    json::value v = ParseOut(r);
    EXPECT_EQ(v.at("owner"), "carol");
    EXPECT_TRUE(v.at("selectors").as_array().empty());
    EXPECT_GT(v.at("version").to_number<int64_t>(), version_before);
  }
  r = Warden({"agent", "update", "billing-bot", "--env", "moon"});
  EXPECT_EQ(r.code, 1) << r;
  r = Warden({"agent", "update", "billing-bot"});
  EXPECT_EQ(r.code, 2) << r;

  // Transitions.
  r = Warden({"agent", "suspend", "billing-bot", "--reason", "investigating"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "suspended")) << r;
  r = Warden({"agent", "list", "--status", "suspended", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(ParseOut(r).at("agents").as_array().size(), 1u) << r;
  r = Warden({"agent", "resume", "billing-bot"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "active")) << r;
  r = Warden({"agent", "retire", "billing-bot", "--reason", "done", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(ParseOut(r).at("status"), "retired") << r;
  r = Warden({"agent", "resume", "billing-bot"});
  EXPECT_EQ(r.code, 1) << r;  // retired is final

  // Audit.
  r = Warden({"audit", "tail", "--limit", "100"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(r.out.starts_with("SEQ ")) << r;
  EXPECT_TRUE(Contains(r.out, "agent.created")) << r;
  EXPECT_TRUE(Contains(r.out, "agent.retired")) << r;
  EXPECT_FALSE(Contains(r.out, token));
  r = Warden({"audit", "tail", "--after", "0", "--limit", "2", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  {
    json::value v = ParseOut(r);
    ASSERT_TRUE(v.is_object() && v.as_object().contains("events")) << r;
    ASSERT_EQ(v.at("events").as_array().size(), 2u);
    EXPECT_EQ(v.at("events").at(0).at("seq"), 1);
  }
  r = Warden({"audit", "tail", "--limit", "1", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  int64_t last_seq = 0;
  {
    json::value v = ParseOut(r);
    ASSERT_EQ(v.at("events").as_array().size(), 1u) << r;
    last_seq = v.at("events").at(0).at("seq").to_number<int64_t>();
    EXPECT_GT(last_seq, 5);
  }
  r = Warden({"audit", "verify"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "audit chain OK: ")) << r;
  r = Warden({"audit", "verify", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(ParseOut(r).at("ok"), true);

  // Follow: a new event shows up, and SIGINT ends the command with 0.
  {
    std::vector<std::string> env = {"WARDEN_SERVER=" + addr_};
    Child follow({"--data", data_.string(), "audit", "tail", "--follow", "--json", "--after",
                  std::to_string(last_seq)},
                 env, tmp_ / "follow.out", tmp_ / "follow.err");
    ASSERT_TRUE(follow.started());
    std::this_thread::sleep_for(300ms);
    r = Warden({"agent", "suspend", "deploy-bot"});
    ASSERT_EQ(r.code, 0) << r;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!Contains(follow.out(), "agent.suspended") &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(Contains(follow.out(), "agent.suspended")) << follow.out() << follow.err();
    follow.Signal(SIGINT);
    EXPECT_EQ(follow.Wait(10s), 0) << follow.err();
    // One compact JSON event per line.
    std::istringstream lines(follow.out());
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) {
      auto v = ParseJson(line);
      ASSERT_TRUE(v.ok()) << line;
      EXPECT_GT(v->at("seq").to_number<int64_t>(), last_seq);
      ++count;
    }
    EXPECT_GE(count, 1);
  }

  // Authentication.
  r = Warden({"--token", "wdn_admin_wrong", "agent", "list"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_FALSE(Contains(r.err, "wdn_admin_wrong"));
  r = Warden({"agent", "list"}, {"WARDEN_TOKEN=wdn_admin_wrong"});
  EXPECT_EQ(r.code, 1) << r;
  r = Warden({"agent", "list"}, {"WARDEN_TOKEN=" + token});
  EXPECT_EQ(r.code, 0) << r;

  EXPECT_EQ(StopServer(), 0) << server_->err();

  // Server down: exit 1 with the hint.
  r = Warden({"agent", "list"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "is `warden serve` running?")) << r;
}

TEST_F(CliIntegrationTest, SecondStartReusesTokenAndTamperingIsFound) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string token = ReadFile(data_ / "admin.token");
  auto r = Warden({"agent", "create", "scanner", "--owner", "sec", "--purpose", "scan", "--env",
                   "staging", "--expires", "7d"});
  ASSERT_EQ(r.code, 0) << r;
  r = Warden({"audit", "tail", "--json", "--limit", "1000"});
  ASSERT_EQ(r.code, 0) << r;
  int64_t created_seq = 0;
  const json::value page = ParseOut(r);
  for (const auto& e : page.at("events").as_array()) {
    if (e.at("kind") == "agent.created") created_seq = e.at("seq").to_number<int64_t>();
  }
  ASSERT_GT(created_seq, 0) << r;
  ASSERT_EQ(StopServer(), 0) << server_->err();

  // Second start: same token file, the old token still works, the agent is there.
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_EQ(ReadFile(data_ / "admin.token"), token);
  r = Warden({"agent", "show", "scanner", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(ParseOut(r).at("environment"), "staging");
  ASSERT_EQ(StopServer(), 0) << server_->err();

  // Offline verification of the intact file.
  const fs::path db = data_ / "warden.db";
  r = Warden({"audit", "verify", "--db", db.string()});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "audit chain OK")) << r;

  // Edit one event's details behind Warden's back.
  sqlite3* conn = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &conn), SQLITE_OK);
  std::string sql = "UPDATE audit_events SET details='{\"owner\":\"mallory\"}' WHERE seq=" +
                    std::to_string(created_seq);
  char* errmsg = nullptr;
  int rc = sqlite3_exec(conn, sql.c_str(), nullptr, nullptr, &errmsg);
  std::string error = errmsg != nullptr ? errmsg : "";
  sqlite3_free(errmsg);
  EXPECT_EQ(sqlite3_changes(conn), 1);
  sqlite3_close(conn);
  ASSERT_EQ(rc, SQLITE_OK) << error;

  r = Warden({"audit", "verify", "--db", db.string()});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.out, "audit chain BROKEN at seq " + std::to_string(created_seq) + ":"))
      << r;
  r = Warden({"audit", "verify", "--db", db.string(), "--json"});
  EXPECT_EQ(r.code, 1) << r;
  {
    json::value v = ParseOut(r);
    EXPECT_EQ(v.at("ok"), false);
    EXPECT_EQ(v.at("first_bad_seq").to_number<int64_t>(), created_seq);
  }

  // The running server reports the same break.
  ASSERT_NO_FATAL_FAILURE(StartServer());
  r = Warden({"audit", "verify"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.out, "BROKEN at seq " + std::to_string(created_seq))) << r;
  EXPECT_EQ(StopServer(), 0) << server_->err();
}

TEST_F(CliIntegrationTest, HttpsVerifiesTheServerCertificate) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl";
  const fs::path cert = tmp_ / "cert.pem";
  const fs::path key = tmp_ / "key.pem";
  // A self-signed P-256 certificate for the IP address 127.0.0.1 only.
  std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
                    key.string() + " -out " + cert.string() +
                    " -days 1 -subj /CN=warden-test -addext subjectAltName=IP:127.0.0.1"
                    " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  ASSERT_EQ(chmod(key.c_str(), 0600), 0);
  ASSERT_NO_FATAL_FAILURE(StartServer({"--tls-cert", cert.string(), "--tls-key", key.string()}));
  ASSERT_TRUE(addr_.starts_with("https://127.0.0.1:")) << addr_;
  const std::string port = addr_.substr(addr_.rfind(':') + 1);

  auto r = Warden({"--cacert", cert.string(), "agent", "list"});
  EXPECT_EQ(r.code, 0) << r;
  // Not trusted without --cacert.
  r = Warden({"agent", "list"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "certificate verification failed")) << r;
  // Trusted CA, but the certificate does not name "localhost".
  r = Warden({"--cacert", cert.string(), "agent", "list"},
             {"WARDEN_SERVER=https://localhost:" + port});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "not valid for \"localhost\"")) << r;
  // Plain http to the TLS port is an error, not a hang.
  r = Warden({"agent", "list"}, {"WARDEN_SERVER=http://127.0.0.1:" + port});
  EXPECT_EQ(r.code, 1) << r;
  // --cacert makes no sense for http.
  r = Warden({"--cacert", cert.string(), "agent", "list"},
             {"WARDEN_SERVER=http://127.0.0.1:" + port});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "(field: cacert)")) << r;
  EXPECT_EQ(StopServer(), 0) << server_->err();
}

TEST_F(CliIntegrationTest, ServerNotRunning) {
  // Port 9 (discard): nothing listens there on a test machine.
  addr_.clear();
  auto r = RunRaw({"--server", "http://127.0.0.1:9", "--token", "wdn_admin_x", "agent", "list"},
                  {});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "cannot connect to http://127.0.0.1:9")) << r;
  EXPECT_TRUE(Contains(r.err, "is `warden serve` running?")) << r;
  r = RunRaw({"agent", "list"}, {"WARDEN_SERVER=http://127.0.0.1:9", "WARDEN_TOKEN=t"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "127.0.0.1:9")) << r;
}

// Workload identity from the command line, verified by a third party: the
// `warden` process itself is attested over the Workload API socket (uid, path
// and executable hash), and the npm `jose` package verifies its SVIDs against
// the running server's JWKS before and after a key rotation.
TEST_F(CliIntegrationTest, WorkloadIdentityVerifiedByJose) {
  const char* src = std::getenv("WARDEN_SOURCE_DIR");
  bool have_node = src != nullptr && fs::exists(fs::path(src) / "node_modules" / "jose") &&
                   std::system("node --version > /dev/null 2>&1") == 0;
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string bin = fs::canonical(WardenBinary()).string();
  auto r = Warden({"workload", "keygen", "--out", (tmp_ / "agent.key").string()});
  ASSERT_EQ(r.code, 0) << r;
  struct stat st {};
  ASSERT_EQ(stat((tmp_ / "agent.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  r = Warden({"workload", "keygen", "--out", (tmp_ / "agent.key").string()});
  EXPECT_EQ(r.code, 1) << "keygen must not overwrite a key without --force\n" << r;

  r = Warden({"agent", "create", "local-bot", "--owner", "alice", "--purpose", "p", "--env",
              "dev", "--expires", "1d", "--selector", "unix:uid:" + std::to_string(getuid()),
              "--selector", "unix:path:" + bin, "--selector",
              "unix:sha256:" + crypto::Sha256Hex(ReadFile(bin))});
  ASSERT_EQ(r.code, 0) << r;
  const std::string socket = (data_ / "public" / "workload.sock").string();
  r = Warden({"workload", "svid", "--socket", socket, "--audience", "https://api.example",
              "--key", (tmp_ / "agent.key").string(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  json::value first = ParseOut(r);
  ASSERT_TRUE(first.is_object());
  EXPECT_EQ(first.at("claims").at("sub"), "spiffe://warden.local/agent/local-bot");
  EXPECT_TRUE(first.at("claims").at("cnf").at("jkt").is_string());
  std::string first_token(first.at("svid").as_string());

  // Plain output is the bare token, for scripts.
  r = Warden({"workload", "svid", "--socket", socket, "--audience", "https://api.example"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '.'), 2) << r;

  r = Warden({"keys", "rotate", "--algorithm", "es256", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  r = Warden({"workload", "svid", "--socket", socket, "--audience", "https://api.example",
              "--json"});
  ASSERT_EQ(r.code, 0) << r;
  std::string second_token(ParseOut(r).at("svid").as_string());
  EXPECT_EQ(ParseOut(r).at("header").at("alg"), "ES256");
  r = Warden({"keys", "list", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(ParseOut(r).at("keys").as_array().size(), 2u);

  // An agent whose executable hash differs is not this process.
  r = Warden({"agent", "update", "local-bot", "--selector", "unix:uid:" + std::to_string(getuid()),
              "--selector", "unix:sha256:" + std::string(64, 'a')});
  ASSERT_EQ(r.code, 0) << r;
  r = Warden({"workload", "svid", "--socket", socket});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "no agent matches")) << r;

  // Join tokens: printed alone on stdout, redeemed once.
  r = Warden({"agent", "join-token", "local-bot", "--ttl", "5m"});
  ASSERT_EQ(r.code, 0) << r;
  std::string join_token = Trim(r.out);
  EXPECT_FALSE(join_token.empty());
  std::vector<std::string> join_args = {"workload", "join", "--key", (tmp_ / "agent.key").string(),
                                        "--audience", "https://api.example", "--json"};
  r = Warden(join_args, {"WARDEN_JOIN_TOKEN=" + join_token});
  ASSERT_EQ(r.code, 0) << r;
  std::string joined_token(ParseOut(r).at("svid").as_string());
  r = Warden(join_args, {"WARDEN_JOIN_TOKEN=" + join_token});
  EXPECT_EQ(r.code, 1) << r;
  r = Warden({"audit", "tail", "--limit", "200", "--json"});
  EXPECT_FALSE(Contains(r.out, join_token)) << "a join token reached the audit log";

  if (!have_node) {
    GTEST_SKIP() << "node with the jose package is not available; third-party check skipped";
  }
  std::string cmd = "node '" + std::string(src) + "/tests/interop/verify_svid.mjs' '" + addr_ +
                    "/.well-known/jwks.json' https://api.example " + first_token + " " +
                    second_token + " " + joined_token + " > '" + (tmp_ / "jose.out").string() +
                    "' 2>&1";
  if (!addr_.starts_with("http")) cmd.replace(cmd.find(addr_), addr_.size(), "http://" + addr_);
  int rc = std::system(cmd.c_str());
  std::string jose_out = ReadFile(tmp_ / "jose.out");
  EXPECT_EQ(rc, 0) << jose_out;
  EXPECT_EQ(std::count(jose_out.begin(), jose_out.end(), '\n'), 3) << jose_out;
  EXPECT_TRUE(Contains(jose_out, "\"alg\":\"EdDSA\"")) << jose_out;
  EXPECT_TRUE(Contains(jose_out, "\"alg\":\"ES256\"")) << jose_out;
  EXPECT_EQ(StopServer(), 0) << server_->err();
}

// Intent-bound grants from the agent's side: `warden workload grant` proves
// the workload with a key-bound SVID and DPoP proofs, receives a grant for a
// routine task at once, waits (and gives up) on one that needs a human, and
// completes its grant; the administrator sees each state.
TEST_F(CliIntegrationTest, WorkloadGrantLifecycle) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_NO_FATAL_FAILURE(InstallDemoPolicies());
  Outcome r;
  const std::string key = (tmp_ / "agent.key").string();
  ASSERT_EQ(Warden({"workload", "keygen", "--out", key}).code, 0);
  const std::string bin = fs::canonical(WardenBinary()).string();
  r = Warden({"agent", "create", "helper-bot", "--owner", "alice@example.com", "--purpose",
              "answers tickets", "--env", "dev", "--expires", "1d", "--selector",
              "unix:uid:" + std::to_string(getuid()), "--selector", "unix:path:" + bin});
  ASSERT_EQ(r.code, 0) << r;
  const std::string socket = (data_ / "public" / "workload.sock").string();

  std::ofstream(tmp_ / "routine.json") << R"({"task":"T-100","description":"answer ticket 100",
    "actions":["tickets.read","tickets.reply"],"resources":["ticket:100"],"environment":"dev",
    "sensitivity":"internal","ttl":"10m"})";
  r = Warden({"workload", "grant", "--intent", (tmp_ / "routine.json").string(), "--key", key,
              "--socket", socket, "--json"});
  ASSERT_EQ(r.code, 0) << r;
  json::value granted = ParseOut(r);
  ASSERT_TRUE(granted.is_object()) << r;
  EXPECT_EQ(granted.at("status"), "active");
  std::string id(granted.at("id").as_string());
  EXPECT_FALSE(granted.at("token").as_string().empty());

  // A refund needs a human: the command waits, then gives up with the approval id.
  std::ofstream(tmp_ / "refund.json") << R"({"task":"T-101","description":"refund order 7",
    "actions":["payments.refund"],"resources":["order:7"],"environment":"dev",
    "sensitivity":"internal"})";
  r = Warden({"workload", "grant", "--intent", (tmp_ / "refund.json").string(), "--key", key,
              "--socket", socket, "--wait", "1s"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "still waiting for approval")) << r;

  // Without the key file nothing is possible.
  r = Warden({"workload", "grant", "--intent", (tmp_ / "routine.json").string(), "--key",
              (tmp_ / "missing.key").string(), "--socket", socket});
  EXPECT_EQ(r.code, 1) << r;

  r = Warden({"grant", "list", "--agent", "helper-bot", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(ParseOut(r).at("grants").as_array().size(), 2u);
  r = Warden({"workload", "complete", id, "--key", key, "--socket", socket});
  ASSERT_EQ(r.code, 0) << r;
  r = Warden({"grant", "show", id, "--json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(ParseOut(r).at("status"), "completed");
  r = Warden({"audit", "tail", "--limit", "500", "--json"});
  EXPECT_FALSE(Contains(r.out, std::string(granted.at("token").as_string())))
      << "a grant token reached the audit log";
  EXPECT_EQ(StopServer(), 0) << server_->err();
}

// The planner delegates part of its grant to a worker: narrower scope
// accepted, widening refused naming the element, tokens read from files, and
// revoking the parent ends the child.
TEST_F(CliIntegrationTest, WorkloadDelegate) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_NO_FATAL_FAILURE(InstallDemoPolicies());
  Outcome r;
  const std::string planner_key = (tmp_ / "planner.key").string();
  const std::string worker_key = (tmp_ / "worker.key").string();
  ASSERT_EQ(Warden({"workload", "keygen", "--out", planner_key}).code, 0);
  ASSERT_EQ(Warden({"workload", "keygen", "--out", worker_key}).code, 0);
  const std::string bin = fs::canonical(WardenBinary()).string();
  r = Warden({"agent", "create", "planner-bot", "--owner", "alice@example.com", "--purpose",
              "plans ticket work", "--env", "dev", "--expires", "1d", "--selector",
              "unix:uid:" + std::to_string(getuid()), "--selector", "unix:path:" + bin});
  ASSERT_EQ(r.code, 0) << r;
  // The worker is another workload: it joins with a one-time token and its
  // own key, and hands its key-bound SVID to the planner.
  r = Warden({"agent", "create", "worker-bot", "--owner", "alice@example.com", "--purpose",
              "answers tickets", "--env", "dev", "--expires", "1d"});
  ASSERT_EQ(r.code, 0) << r;
  r = Warden({"agent", "join-token", "worker-bot"});
  ASSERT_EQ(r.code, 0) << r;
  std::ofstream(tmp_ / "join.token") << Trim(r.out);
  r = Warden({"workload", "join", "--token-file", (tmp_ / "join.token").string(), "--key",
              worker_key});
  ASSERT_EQ(r.code, 0) << r;
  const std::string worker_svid = Trim(r.out);
  std::ofstream(tmp_ / "worker.svid") << worker_svid << "\n";
  const std::string socket = (data_ / "public" / "workload.sock").string();

  std::ofstream(tmp_ / "plan.json") << R"({"task":"T-200","description":"work the queue",
    "actions":["tickets.read","tickets.reply"],"resources":["ticket:100","ticket:101"],
    "environment":"dev","sensitivity":"internal","ttl":"10m"})";
  r = Warden({"workload", "grant", "--intent", (tmp_ / "plan.json").string(), "--key",
              planner_key, "--socket", socket, "--json"});
  ASSERT_EQ(r.code, 0) << r;
  json::value parent = ParseOut(r);
  ASSERT_TRUE(parent.is_object()) << r;
  const std::string parent_id(parent.at("id").as_string());
  std::ofstream(tmp_ / "parent.token") << std::string(parent.at("token").as_string()) << "\n";

  auto delegate = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"workload", "delegate", "--grant",
                                     "@" + (tmp_ / "parent.token").string(), "--key", planner_key,
                                     "--socket", socket};
    args.insert(args.end(), extra.begin(), extra.end());
    return Warden(args);
  };
  r = delegate({"--to-svid", "@" + (tmp_ / "worker.svid").string(), "--scope", "tickets.read",
                "--resource", "ticket:100", "--ttl", "5m", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  json::value child = ParseOut(r);
  ASSERT_TRUE(child.is_object()) << r;
  const std::string child_id(child.at("grant_id").as_string());
  EXPECT_EQ(child.at("scope"), "tickets.read");
  EXPECT_GT(child.at("expires_in").as_int64(), 0);
  EXPECT_LE(child.at("expires_in").as_int64(), 300);
  const std::string child_token(child.at("token").as_string());
  r = Warden({"grant", "show", child_id, "--json"});
  ASSERT_EQ(r.code, 0) << r;
  json::value shown = ParseOut(r);
  EXPECT_EQ(shown.at("agent"), "worker-bot");
  EXPECT_EQ(shown.at("parent_id").as_string(), parent_id);
  EXPECT_EQ(shown.at("depth").as_int64(), 1);

  // Text output: the token alone on stdout (the SVID given as the argument).
  r = delegate({"--to-svid", worker_svid, "--scope", "tickets.reply", "--resource", "ticket:101"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '.'), 2) << r;
  EXPECT_TRUE(Contains(r.err, "delegated")) << r;

  // Widening is refused with the server's error and the element named.
  r = delegate({"--to-svid", "@" + (tmp_ / "worker.svid").string(), "--scope", "tickets.read",
                "--scope", "tickets.close", "--resource", "ticket:100"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "invalid_scope")) << r;
  EXPECT_TRUE(Contains(r.err, "tickets.close")) << r;
  EXPECT_TRUE(Contains(r.err, "(field: scope.actions[1])")) << r;
  r = delegate({"--to-svid", "@" + (tmp_ / "worker.svid").string(), "--scope", "tickets.read",
                "--resource", "ticket:999"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "(field: scope.resources[0])")) << r;
  // Usage errors: both tokens from stdin, or something that is not a token.
  r = Warden({"workload", "delegate", "--grant", "-", "--to-svid", "-", "--scope", "tickets.read",
              "--key", planner_key, "--socket", socket});
  EXPECT_EQ(r.code, 2) << r;
  r = delegate({"--to-svid", "not a token", "--scope", "tickets.read"});
  EXPECT_EQ(r.code, 2) << r;
  EXPECT_TRUE(Contains(r.err, "--to-svid")) << r;
  r = delegate({"--to-svid", "@" + (tmp_ / "worker.svid").string()});
  EXPECT_EQ(r.code, 2) << r;

  // Revoking the parent ends the child; the parent cannot be delegated again.
  r = Warden({"grant", "revoke", parent_id, "--reason", "plan cancelled"});
  ASSERT_EQ(r.code, 0) << r;
  r = Warden({"grant", "show", child_id, "--json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(ParseOut(r).at("status"), "revoked");
  r = delegate({"--to-svid", "@" + (tmp_ / "worker.svid").string(), "--scope", "tickets.read",
                "--resource", "ticket:100"});
  EXPECT_EQ(r.code, 1) << r;
  r = Warden({"audit", "tail", "--limit", "500", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_FALSE(Contains(r.out, child_token)) << "a grant token reached the audit log";
  EXPECT_TRUE(Contains(r.out, "grant.delegated")) << r;
  EXPECT_EQ(StopServer(), 0) << server_->err();
}

}  // namespace
}  // namespace warden
