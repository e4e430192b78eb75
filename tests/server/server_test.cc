// In-process tests of the HTTP API: a Server on 127.0.0.1:0 with a temporary
// data directory and a FakeClock, driven by a small Beast client.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "server/server_fixture.h"
#include "warden/crypto/hash.h"

namespace warden::server::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kAgentBody =
    R"({"name":"billing-bot","owner":"alice@example.com","purpose":"reconcile invoices",)"
    R"("environment":"dev","expires_in":"30d","selectors":["unix:uid:1000"]})";

class ServerTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    StartServer();
  }

  json::array AuditEvents(int64_t after = 0) {
    auto r = Get("/v1/audit?after=" + std::to_string(after) + "&limit=1000");
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.Json().as_object()["events"].as_array();
  }
  int64_t AuditHead() {
    auto events = AuditEvents();
    return events.empty() ? 0 : events.back().as_object()["seq"].as_int64();
  }
  HttpResult CreateAgent() {
    auto r = Post("/v1/agents", kAgentBody);
    EXPECT_EQ(r.status, 201u) << r.body;
    return r;
  }
};

// HEAD gets the GET answer's status and headers, including its length, and
// no content: the next response on the same connection must still parse.
TEST_F(ServerTest, HeadAnswersWithoutContent) {
  auto get = Send(Addr(), "GET", "/healthz");
  ASSERT_EQ(get.status, 200u) << get.error;
  auto results = SendKeepAlive(Addr(), {{"HEAD", "/healthz"},
                                        {"GET", "/healthz"},
                                        {"HEAD", "/v1/nothing"},
                                        {"HEAD", "/readyz"},
                                        {"GET", "/readyz"}});
  ASSERT_EQ(results.size(), 5u) << results.back().error;
  EXPECT_EQ(results[0].status, 200u);
  EXPECT_EQ(results[0].body, "");
  EXPECT_EQ(results[0].headers["content-type"], "application/json");
  EXPECT_EQ(results[0].headers["content-length"], std::to_string(get.body.size()));
  EXPECT_EQ(results[1].status, 200u);
  EXPECT_EQ(results[1].body, get.body);
  EXPECT_EQ(results[2].status, 404u);
  EXPECT_EQ(results[2].body, "");
  EXPECT_EQ(results[3].status, 200u);
  EXPECT_EQ(results[3].body, "");
  EXPECT_EQ(results[4].status, 200u);
  EXPECT_FALSE(results[4].body.empty());
}

TEST_F(ServerTest, HealthReadinessAndMetrics) {
  auto h = Send(Addr(), "GET", "/healthz");
  EXPECT_EQ(h.status, 200u) << h.error;
  EXPECT_EQ(h.headers["content-type"], "application/json");
  EXPECT_EQ(h.Json().as_object()["status"], "ok");
  auto r = Send(Addr(), "GET", "/readyz");
  EXPECT_EQ(r.status, 200u);
  Send(Addr(), "GET", "/v1/agents/nobody", "", Auth());
  auto m = Send(Addr(), "GET", "/metrics");
  ASSERT_EQ(m.status, 200u);
  EXPECT_EQ(m.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find(R"(warden_http_requests_total{route="/healthz",method="GET",code="200"} 1)"),
            std::string::npos)
      << m.body;
  EXPECT_NE(
      m.body.find(R"(warden_http_requests_total{route="/v1/agents/{name}",method="GET",code="404"} 1)"),
      std::string::npos);
  EXPECT_NE(m.body.find(R"(warden_http_request_duration_seconds_bucket{route="/readyz",method="GET",le="+Inf"} 1)"),
            std::string::npos);
  EXPECT_NE(m.body.find("warden_store_errors_total 0"), std::string::npos);
  EXPECT_NE(m.body.find("warden_build_info{version="), std::string::npos);
}

TEST_F(ServerTest, ServeAddrFileNamesTheBoundAddress) {
  EXPECT_EQ(ReadFile(DataDir() / "serve.addr"), server_->BaseUrl() + "\n");
  EXPECT_EQ(server_->BaseUrl(), "http://" + Addr());
  EXPECT_NE(Addr(), "127.0.0.1:0");
}

TEST_F(ServerTest, AdminAuthentication) {
  int64_t head = AuditHead();
  auto missing = Send(Addr(), "GET", "/v1/agents");
  EXPECT_EQ(missing.status, 401u);
  EXPECT_EQ(missing.ErrorCode(), "unauthenticated");
  EXPECT_EQ(missing.headers["www-authenticate"], R"(Bearer realm="warden")");
  EXPECT_EQ(AuditHead(), head) << "a missing token is not an attack worth recording";

  const std::string wrong = "wdn_admin_" + std::string(43, 'A');
  auto bad = Send(Addr(), "GET", "/v1/agents", "", {{"Authorization", "Bearer " + wrong}});
  EXPECT_EQ(bad.status, 401u);
  EXPECT_NE(bad.headers["www-authenticate"].find("invalid_token"), std::string::npos);
  auto basic = Send(Addr(), "GET", "/v1/agents", "", {{"Authorization", "Basic Zm9vOmJhcg=="}});
  EXPECT_EQ(basic.status, 401u);

  auto events = AuditEvents(head);
  ASSERT_EQ(events.size(), 2u);
  auto e = events[0].as_object();
  EXPECT_EQ(e["kind"], "admin.auth_failed");
  EXPECT_EQ(e["actor"], "anonymous@127.0.0.1");
  EXPECT_EQ(e["details"].as_object()["remote"], "127.0.0.1");
  EXPECT_EQ(e["details"].as_object()["reason"], "invalid_token");
  EXPECT_EQ(events[1].as_object()["details"].as_object()["reason"], "unsupported_scheme");
  EXPECT_EQ(json::serialize(events).find(wrong), std::string::npos) << "token leaked into audit";

  auto ok = Send(Addr(), "GET", "/v1/agents", "", {{"Authorization", "bearer " + token_}});
  EXPECT_EQ(ok.status, 200u) << ok.body;

  auto m = Send(Addr(), "GET", "/metrics");
  EXPECT_NE(m.body.find(R"(warden_admin_auth_failures_total{reason="invalid_token"} 1)"),
            std::string::npos);
}

TEST_F(ServerTest, FailedAuthAuditEventsAreRateLimitedPerSource) {
  StopServer();
  options_.auth_failure_events_per_minute = 3;
  StartServer();
  int64_t head = AuditHead();
  for (int i = 0; i < 7; ++i) {
    auto r = Send(Addr(), "GET", "/v1/agents", "", {{"Authorization", "Bearer nope"}});
    EXPECT_EQ(r.status, 401u);
  }
  EXPECT_EQ(AuditEvents(head).size(), 3u);
  clock_.Advance(61s);
  Send(Addr(), "GET", "/v1/agents", "", {{"Authorization", "Bearer nope"}});
  auto events = AuditEvents(head);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].as_object()["details"].as_object()["suppressed_since_last"], 4);
  auto m = Send(Addr(), "GET", "/metrics");
  EXPECT_NE(m.body.find("warden_admin_auth_audit_suppressed_total 4"), std::string::npos);
}

TEST_F(ServerTest, AgentLifecycle) {
  auto created = CreateAgent();
  EXPECT_EQ(created.headers["location"], "/v1/agents/billing-bot");
  auto a = created.Json().as_object();
  EXPECT_EQ(a["spiffe_id"], "spiffe://warden.local/agent/billing-bot");
  EXPECT_EQ(a["status"], "active");
  EXPECT_EQ(a["version"], 1);

  auto dup = Post("/v1/agents", kAgentBody);
  EXPECT_EQ(dup.status, 409u);
  EXPECT_EQ(dup.ErrorCode(), "already_exists");

  auto got = Get("/v1/agents/billing-bot");
  EXPECT_EQ(got.status, 200u);
  EXPECT_EQ(got.Json().as_object()["owner"], "alice@example.com");

  auto patched = Patch("/v1/agents/billing-bot", R"({"purpose":"reconcile and report"})");
  EXPECT_EQ(patched.status, 200u) << patched.body;
  EXPECT_EQ(patched.Json().as_object()["version"], 2);

  auto s = Post("/v1/agents/billing-bot/suspend", R"({"reason":"incident 42"})");
  EXPECT_EQ(s.status, 200u) << s.body;
  EXPECT_EQ(s.Json().as_object()["status"], "suspended");
  auto list = Get("/v1/agents?status=suspended&owner=alice%40example.com&environment=dev");
  ASSERT_EQ(list.status, 200u) << list.body;
  EXPECT_EQ(list.Json().as_object()["agents"].as_array().size(), 1u);
  EXPECT_EQ(Get("/v1/agents?status=active").Json().as_object()["agents"].as_array().size(), 0u);

  // No body at all is fine for transitions.
  auto resumed = Send(Addr(), "POST", "/v1/agents/billing-bot/resume", "", Auth());
  EXPECT_EQ(resumed.status, 200u) << resumed.body;
  auto retired = Post("/v1/agents/billing-bot/retire", "{}");
  EXPECT_EQ(retired.status, 200u);
  EXPECT_EQ(retired.Json().as_object()["status"], "retired");

  std::vector<std::string> kinds;
  for (const auto& e : AuditEvents()) kinds.emplace_back(e.as_object().at("kind").as_string());
  std::vector<std::string> tail(kinds.end() - 5, kinds.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"agent.created", "agent.updated", "agent.suspended",
                                            "agent.resumed", "agent.retired"}));
  auto events = AuditEvents();
  auto suspended = events[events.size() - 3].as_object();
  EXPECT_EQ(suspended["actor"], "admin");
  EXPECT_EQ(suspended["subject"], "agent:billing-bot");

  auto verify = Get("/v1/audit/verify");
  ASSERT_EQ(verify.status, 200u) << verify.body;
  EXPECT_EQ(verify.Json().as_object()["ok"], true);
  EXPECT_EQ(verify.Json().as_object()["events_checked"], static_cast<int64_t>(events.size()));
}

TEST_F(ServerTest, BadInputIsRejectedPreciselyAndChangesNothing) {
  CreateAgent();
  int64_t head = AuditHead();
  struct Case {
    std::string method, target, body, content_type;
    unsigned status;
    std::string code, field;
  };
  const std::string json = "application/json";
  std::vector<Case> cases = {
      {"POST", "/v1/agents", R"({"name":"x",)", json, 400, "invalid_argument", "body"},
      {"POST", "/v1/agents", "", json, 400, "invalid_argument", "body"},
      {"POST", "/v1/agents", R"({"name":"a","name":"b"})", json, 400, "invalid_argument", "body"},
      {"POST", "/v1/agents", R"([1,2])", json, 400, "invalid_argument", ""},
      {"POST", "/v1/agents",
       R"({"name":"n2","owner":"o","purpose":"p","environment":"dev","expires_in":"1d","colour":"red"})",
       json, 400, "invalid_argument", "colour"},
      {"POST", "/v1/agents",
       R"({"name":"n2","owner":7,"purpose":"p","environment":"dev","expires_in":"1d"})", json, 400,
       "invalid_argument", "owner"},
      {"POST", "/v1/agents",
       R"({"name":"n2","owner":"o","purpose":"p","environment":"dev","expires_in":"1d","selectors":"x"})",
       json, 400, "invalid_argument", "selectors"},
      {"POST", "/v1/agents",
       R"({"name":"Bad Name","owner":"o","purpose":"p","environment":"dev","expires_in":"1d"})",
       json, 400, "invalid_argument", "name"},
      {"POST", "/v1/agents",
       R"({"name":"n2","owner":"o","purpose":"p","environment":"moon","expires_in":"1d"})", json,
       400, "invalid_argument", "environment"},
      {"POST", "/v1/agents", kAgentBody, "text/plain", 415, "invalid_argument", "Content-Type"},
      {"POST", "/v1/agents", kAgentBody, "", 415, "invalid_argument", "Content-Type"},
      {"PATCH", "/v1/agents/billing-bot", R"({"owner":["x"]})", json, 400, "invalid_argument",
       "owner"},
      {"PATCH", "/v1/agents/billing-bot", R"({"nickname":"x"})", json, 400, "invalid_argument",
       "nickname"},
      {"PATCH", "/v1/agents/billing-bot", "{", json, 400, "invalid_argument", "body"},
      {"PATCH", "/v1/agents/billing-bot", R"({"owner":"x"})", "application/xml", 415,
       "invalid_argument", "Content-Type"},
      {"PATCH", "/v1/agents/ghost", R"({"owner":"x"})", json, 404, "not_found", ""},
      {"PATCH", "/v1/agents/BAD..NAME", R"({"owner":"x"})", json, 400, "invalid_argument", "name"},
      {"GET", "/v1/agents/ghost", "", "", 404, "not_found", ""},
      {"GET", "/v1/agents/-bad", "", "", 400, "invalid_argument", "name"},
      {"GET", "/v1/agents?status=sleeping", "", "", 400, "invalid_argument", "status"},
      {"GET", "/v1/agents?colour=red", "", "", 400, "invalid_argument", "colour"},
      {"GET", "/v1/agents?owner=a&owner=b", "", "", 400, "invalid_argument", "owner"},
      {"POST", "/v1/agents/billing-bot/resume", "", "", 409, "failed_precondition", ""},
      {"POST", "/v1/agents/billing-bot/suspend", R"({"reason":5})", json, 400, "invalid_argument",
       "reason"},
      {"POST", "/v1/agents/billing-bot/suspend", R"({"why":"x"})", json, 400, "invalid_argument",
       "why"},
      {"POST", "/v1/agents/billing-bot/suspend", R"({"reason":"x"})", "text/plain", 415,
       "invalid_argument", "Content-Type"},
      {"POST", "/v1/agents/ghost/retire", "", "", 404, "not_found", ""},
      {"GET", "/v1/audit?limit=1001", "", "", 400, "invalid_argument", "limit"},
      {"GET", "/v1/audit?limit=0", "", "", 400, "invalid_argument", "limit"},
      {"GET", "/v1/audit?after=-1", "", "", 400, "invalid_argument", "after"},
      {"GET", "/v1/audit?after=1x", "", "", 400, "invalid_argument", "after"},
      {"GET", "/v1/audit?wait=2h", "", "", 400, "invalid_argument", "wait"},
      {"GET", "/v1/audit?wait=soon", "", "", 400, "invalid_argument", "wait"},
      {"GET", "/v1/audit?from=1", "", "", 400, "invalid_argument", "from"},
      {"DELETE", "/v1/agents/billing-bot", "", "", 405, "invalid_argument", ""},
      {"GET", "/v1/agents/billing-bot/suspend", "", "", 405, "invalid_argument", ""},
      {"GET", "/v2/agents", "", "", 404, "not_found", ""},
      {"GET", "/v1/agents/a%2Fb", "", "", 400, "invalid_argument", "path"},
  };
  for (const auto& c : cases) {
    auto headers = Auth();
    if (!c.content_type.empty()) headers.emplace_back("Content-Type", c.content_type);
    auto r = Send(Addr(), c.method, c.target, c.body, headers);
    SCOPED_TRACE(c.method + " " + c.target + " " + c.body);
    EXPECT_EQ(r.status, c.status) << r.body << r.error;
    EXPECT_EQ(r.ErrorCode(), c.code) << r.body;
    EXPECT_EQ(r.ErrorField(), c.field) << r.body;
    EXPECT_EQ(r.headers["content-type"], "application/json");
  }
  auto del = Send(Addr(), "DELETE", "/v1/agents/billing-bot", "", Auth());
  EXPECT_EQ(del.headers["allow"], "GET, PATCH, HEAD");

  auto agent = Get("/v1/agents/billing-bot").Json().as_object();
  EXPECT_EQ(agent["version"], 1);
  EXPECT_EQ(agent["status"], "active");
  EXPECT_EQ(agent["owner"], "alice@example.com");
  EXPECT_EQ(AuditHead(), head);
  EXPECT_EQ(Get("/v1/agents").Json().as_object()["agents"].as_array().size(), 1u);
}

TEST_F(ServerTest, OversizedBodyIs413) {
  StopServer();
  options_.max_body_bytes = 4096;
  StartServer();
  int64_t head = AuditHead();
  std::string big = R"({"name":"big","owner":")" + std::string(200000, 'x') + R"("})";
  auto r = Post("/v1/agents", big);
  EXPECT_EQ(r.status, 413u) << r.error;
  EXPECT_EQ(r.ErrorCode(), "resource_exhausted");
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_EQ(AuditHead(), head);
  EXPECT_EQ(Get("/v1/agents/big").status, 404u);

  // Just under the limit is read (and rejected only for its content).
  std::string fits = R"({"name":")" + std::string(3000, 'a') + R"("})";
  EXPECT_EQ(Post("/v1/agents", fits).status, 400u);
}

TEST_F(ServerTest, OversizedHeadersAre431) {
  auto r = Send(Addr(), "GET", "/healthz", "", {{"X-Filler", std::string(40000, 'x')}});
  EXPECT_EQ(r.status, 431u) << r.error;
  EXPECT_EQ(r.ErrorCode(), "resource_exhausted");
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto results = SendKeepAlive(Addr(), {{"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/nope"}});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].status, 200u) << results[0].error;
  EXPECT_EQ(results[1].status, 200u);
  EXPECT_EQ(results[2].status, 404u);
}

TEST_F(ServerTest, AuditPagingAndLongPoll) {
  int64_t head = AuditHead();
  auto page = Get("/v1/audit?after=0&limit=1").Json().as_object();
  EXPECT_EQ(page["events"].as_array().size(), 1u);
  EXPECT_EQ(page["next_after"], 1);

  // Nothing new: a short wait returns an empty page at the deadline.
  auto start = std::chrono::steady_clock::now();
  auto empty = Get("/v1/audit?after=" + std::to_string(head) + "&wait=1s");
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(empty.status, 200u);
  EXPECT_EQ(empty.Json().as_object()["events"].as_array().size(), 0u);
  EXPECT_EQ(empty.Json().as_object()["next_after"], head);
  EXPECT_GE(waited, 900ms);

  // An event arriving during the wait ends it early.
  HttpResult polled;
  std::thread poller([&] { polled = Get("/v1/audit?after=" + std::to_string(head) + "&wait=20s"); });
  std::this_thread::sleep_for(300ms);
  start = std::chrono::steady_clock::now();
  CreateAgent();
  poller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_EQ(polled.status, 200u) << polled.body << polled.error;
  auto events = polled.Json().as_object()["events"].as_array();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].as_object()["kind"], "agent.created");
}

TEST_F(ServerTest, GracefulShutdownFinishesInFlightRequest) {
  int64_t head = AuditHead();
  HttpResult polled;
  std::thread poller([&] { polled = Get("/v1/audit?after=" + std::to_string(head) + "&wait=30s"); });
  std::this_thread::sleep_for(400ms);
  std::string addr = Addr();
  auto start = std::chrono::steady_clock::now();
  server_->Shutdown();
  poller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  EXPECT_EQ(polled.status, 200u) << polled.error;
  EXPECT_EQ(polled.Json().as_object()["events"].as_array().size(), 0u);
  EXPECT_EQ(polled.headers["connection"], "close");
  EXPECT_FALSE(std::filesystem::exists(DataDir() / "serve.addr"));
  auto after = Send(addr, "GET", "/healthz");
  EXPECT_NE(after.error, "") << "still accepting after shutdown";
  server_->Shutdown();  // idempotent
}

TEST_F(ServerTest, DataDirectoryIsPrivateAndReusedOnRestart) {
  EXPECT_EQ(FileMode(DataDir()), 0711u);
  EXPECT_EQ(FileMode(DataDir() / "admin.token"), 0600u);
  EXPECT_EQ(FileMode(DataDir() / "warden.db"), 0600u);
  EXPECT_EQ(FileMode(DataDir() / "keys"), 0700u);
  EXPECT_TRUE(token_.starts_with("wdn_admin_")) << token_;
  std::vector<std::filesystem::path> keys;
  for (const auto& e : std::filesystem::directory_iterator(DataDir() / "keys")) {
    keys.push_back(e.path());
    EXPECT_EQ(FileMode(e.path()), 0600u);
  }
  ASSERT_EQ(keys.size(), 1u);

  auto events = AuditEvents();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0].as_object()["kind"], "warden.initialized");
  EXPECT_EQ(events[1].as_object()["kind"], "admin_token.created");
  std::string digest = crypto::Sha256Hex(token_);
  EXPECT_EQ(events[1].as_object()["details"].as_object()["sha256_prefix"], json::value(digest.substr(0, 12)));
  EXPECT_EQ(json::serialize(events).find(token_), std::string::npos);
  CreateAgent();

  std::string token = token_;
  StopServer();
  options_.trust_domain = "other.example";  // ignored: the directory keeps its own
  StartServer();
  EXPECT_EQ(token_, token);
  EXPECT_EQ(Get("/v1/agents/billing-bot").Json().as_object()["spiffe_id"],
            "spiffe://warden.local/agent/billing-bot");
  std::vector<std::filesystem::path> keys_after;
  for (const auto& e : std::filesystem::directory_iterator(DataDir() / "keys")) {
    keys_after.push_back(e.path());
  }
  EXPECT_EQ(keys_after, keys);
  int initialized = 0;
  for (const auto& e : AuditEvents()) {
    if (e.as_object().at("kind") == "warden.initialized") ++initialized;
  }
  EXPECT_EQ(initialized, 1);
  EXPECT_EQ(FileMode(DataDir() / "warden.db-wal") & 0077, 0u);
}

class StartupTest : public ServerFixture {};

TEST_F(StartupTest, TrustDomainAppliedOnFirstStart) {
  options_.trust_domain = "example.org";
  StartServer();
  auto r = Post("/v1/agents", kAgentBody);
  EXPECT_EQ(r.Json().as_object()["spiffe_id"], "spiffe://example.org/agent/billing-bot");
}

TEST_F(StartupTest, RefusesUnsafePermissions) {
  StartServer();
  StopServer();
  ASSERT_EQ(::chmod(DataDir().c_str(), 0755), 0);
  auto s = Server::Start(options_, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("chmod 0711"), std::string::npos) << s.status().ToString();
  ASSERT_EQ(::chmod(DataDir().c_str(), 0711), 0);

  ASSERT_EQ(::chmod((DataDir() / "admin.token").c_str(), 0644), 0);
  s = Server::Start(options_, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("admin.token"), std::string::npos);
  ASSERT_EQ(::chmod((DataDir() / "admin.token").c_str(), 0600), 0);

  ASSERT_EQ(::chmod((DataDir() / "warden.db").c_str(), 0640), 0);
  s = Server::Start(options_, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("warden.db"), std::string::npos);
  ASSERT_EQ(::chmod((DataDir() / "warden.db").c_str(), 0600), 0);

  StartServer();  // fixed: starts again
}

TEST_F(StartupTest, RefusesSymlinkedDataDir) {
  std::filesystem::create_directory(root_ / "real");
  std::filesystem::create_directory_symlink(root_ / "real", root_ / "link");
  options_.data_dir = (root_ / "link").string();
  auto s = Server::Start(options_, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(StartupTest, StrayAdminTokenWithoutDatabaseIsRefused) {
  std::filesystem::create_directory(DataDir());
  ::chmod(DataDir().c_str(), 0711);
  { std::ofstream(DataDir() / "admin.token") << "wdn_admin_stale\n"; }
  ::chmod((DataDir() / "admin.token").c_str(), 0600);
  auto s = Server::Start(options_, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFile(DataDir() / "admin.token"), "wdn_admin_stale\n");
}

TEST_F(StartupTest, NonLoopbackNeedsTlsOrExplicitInsecure) {
  options_.listen = "0.0.0.0:0";
  auto s = Server::Start(options_, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("TLS"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(DataDir())) << "refused before touching the data dir";

  options_.insecure_listen = true;
  StartServer();
  auto port = Addr().substr(Addr().rfind(':') + 1);
  EXPECT_EQ(Send("127.0.0.1:" + port, "GET", "/healthz").status, 200u);
}

TEST_F(StartupTest, RunServeStopsCleanlyOnSigterm) {
  int code = -1;
  std::thread serve([&] { code = RunServe(options_); });
  // RunServe registers its signal handler before it writes serve.addr.
  std::string url;
  for (int i = 0; i < 200 && url.empty(); ++i) {
    std::this_thread::sleep_for(50ms);
    url = ReadFile(DataDir() / "serve.addr");
  }
  ASSERT_TRUE(url.starts_with("http://127.0.0.1:")) << url;
  std::string addr = url.substr(7, url.size() - 8);
  EXPECT_EQ(Send(addr, "GET", "/healthz").status, 200u);
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  serve.join();
  EXPECT_EQ(code, 0);
  EXPECT_FALSE(std::filesystem::exists(DataDir() / "serve.addr"));
}

TEST_F(StartupTest, RunServeReportsStartupFailure) {
  options_.listen = "0.0.0.0:0";
  EXPECT_EQ(RunServe(options_), 1);
}

TEST_F(StartupTest, InvalidOptionsAreRefused) {
  options_.listen = "nowhere";
  auto s = Server::Start(options_, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().field(), "listen");
}

}  // namespace
}  // namespace warden::server::testing
