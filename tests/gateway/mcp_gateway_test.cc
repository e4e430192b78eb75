// The MCP gateway end to end inside one process: an agent with a grant for
// the demo helpdesk tools talks MCP (Streamable HTTP, JSON-RPC 2.0) to
// /mcp/helpdesk; behind it a real HTTP upstream speaks JSON-RPC (JSON and
// SSE answers, its own session ids). The demo policies decide: read_ticket
// allowed, delete_ticket forbidden, issue_refund needs a human.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "server/internal/http_server.h"
#include "server/internal/listen_address.h"
#include "server/server_fixture.h"
#include "warden/crypto/dpop.h"
#include "warden/crypto/signing_key.h"
#include "warden/gateway/jsonrpc.h"

namespace warden::server::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kUpstreamSession = "upstream-session-7f3a";

// What the upstream saw.
struct Seen {
  std::vector<std::string> methods;  // JSON-RPC methods, "DELETE" for a DELETE
  Headers last_headers;
  int tool_calls = 0;
};

class McpGatewayTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    upstream_router_ = std::make_unique<Router>();
    ASSERT_TRUE(upstream_router_->Add("POST", "/mcp", [this](Request& r) { return Upstream(r); })
                    .ok());
    ASSERT_TRUE(upstream_router_
                    ->Add("DELETE", "/mcp",
                          [this](Request& r) {
                            std::lock_guard lock(mu_);
                            seen_.methods.push_back("DELETE");
                            seen_.last_headers = r.headers;
                            return Response::Text(200, "text/plain", "");
                          })
                    .ok());
    ASSERT_NO_FATAL_FAILURE(StartUpstream(*upstream_router_, &upstream_));

    gateway::Upstream helpdesk;
    helpdesk.name = "helpdesk";
    helpdesk.url = "http://" + upstream_->address() + "/mcp";
    helpdesk.headers = {{"X-Api-Key", "warden-upstream-secret"}};
    helpdesk.timeout = std::chrono::seconds(5);
    gateway::Upstream down;
    down.name = "down";
    down.url = "http://127.0.0.1:1/mcp";
    down.timeout = std::chrono::seconds(2);
    options_.gateway.mcp_servers = {helpdesk, down};
    options_.gateway.approval_wait = std::chrono::seconds(2);
    options_.gateway.max_message_bytes = 4096;
  }

  void TearDown() override {
    ServerFixture::TearDown();
    if (upstream_) upstream_->Shutdown();
  }

  // A tiny MCP server: initialize (with a session id), tools/list,
  // tools/call (echo; SSE with a progress notification when asked),
  // notifications (202).
  Response Upstream(Request& r) {
    auto msg = json::parse(r.body);
    std::string method = msg.as_object().contains("method")
                             ? std::string(msg.at("method").as_string())
                             : std::string("(response)");
    {
      std::lock_guard lock(mu_);
      seen_.methods.push_back(method);
      seen_.last_headers = r.headers;
      if (method == "tools/call") ++seen_.tool_calls;
    }
    if (!msg.as_object().contains("id") || method == "(response)") {
      return Response::Text(202, "application/json", "");
    }
    json::value id = msg.at("id");
    if (method != "initialize") {
      auto sid = r.Header("mcp-session-id");
      if (!sid || *sid != kUpstreamSession) {
        return Response::Json(400, gateway::ErrorResponse(id, -32000, "no session"));
      }
    }
    json::object result;
    if (method == "initialize") {
      result = {{"protocolVersion", "2025-06-18"},
                {"capabilities", json::object{{"tools", json::object()}}},
                {"serverInfo", json::object{{"name", "helpdesk"}, {"version", "1"}}}};
    } else if (method == "tools/list") {
      json::array tools;
      for (const char* t : {"read_ticket", "delete_ticket", "issue_refund", "not_granted"}) {
        tools.push_back(json::object{{"name", t}, {"inputSchema", json::object{{"type", "object"}}}});
      }
      result = {{"tools", tools}};
    } else if (method == "tools/call") {
      const auto& params = msg.at("params").as_object();
      result = {{"content", json::array{json::object{
                                {"type", "text"}, {"text", "done " + json::serialize(params)}}}}};
      if (params.at("name") == "read_ticket" && params.contains("arguments") &&
          params.at("arguments").as_object().contains("stream")) {
        json::object progress{{"jsonrpc", "2.0"},
                              {"method", "notifications/progress"},
                              {"params", json::object{{"progress", 1}}}};
        json::object response{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}};
        std::string body = "event: message\ndata: " + json::serialize(progress) +
                           "\n\nevent: message\ndata: " + json::serialize(response) + "\n\n";
        return Response::Text(200, "text/event-stream", body);
      }
    } else {
      return Response::Json(200, gateway::ErrorResponse(id, -32601, "unknown"));
    }
    Response res = Response::Json(200, json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
    if (method == "initialize") res.headers.emplace_back("Mcp-Session-Id", kUpstreamSession);
    return res;
  }

  void StartWithPolicies() {
    StartServer();
    ASSERT_NO_FATAL_FAILURE(InstallExamplePolicies());
    HttpResult r = Post("/v1/policies/reload", "");
    ASSERT_EQ(r.status, 200u) << r.body;
    json::object agent{{"name", "helpbot"},
                       {"owner", "alice@example.com"},
                       {"purpose", "support"},
                       {"environment", "dev"},
                       {"expires_in", "30d"},
                       {"selectors",
                        json::array{"unix:uid:" + std::to_string(::getuid()),
                                    "unix:path:" + fs::read_symlink("/proc/self/exe").string()}}};
    HttpResult c = Post("/v1/agents", json::serialize(agent));
    ASSERT_EQ(c.status, 201u) << c.body;
    auto key = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
    ASSERT_TRUE(key.ok());
    key_ = std::make_unique<crypto::SigningKey>(std::move(*key));
    HttpResult s = SendUnix((DataDir() / "public" / "workload.sock").string(), "POST", "/v1/svid",
                            json::serialize(json::object{{"public_key", key_->public_key().ToJwk()}}),
                            {{"Content-Type", "application/json"}});
    ASSERT_EQ(s.status, 200u) << s.body << s.error;
    svid_ = std::string(s.Json().at("svid").as_string());
    token_a_ = Grant({"helpdesk/read_ticket", "helpdesk/delete_ticket", "helpdesk/issue_refund",
                      "down/read_ticket"},
                     &grant_a_);
  }

  std::string Grant(json::array actions, std::string* id) {
    std::string body = json::serialize(json::object{{"task", "TCK-1"},
                                                    {"description", "answer ticket 1"},
                                                    {"actions", actions},
                                                    {"environment", "dev"},
                                                    {"sensitivity", "internal"},
                                                    {"ttl", "10m"}});
    Headers h{{"Host", Addr()},
              {"Authorization", "DPoP " + svid_},
              {"DPoP", Proof("POST", "http://" + Addr() + "/v1/grants", svid_)},
              {"Content-Type", "application/json"}};
    HttpResult r = Send(Addr(), "POST", "/v1/grants", body, h);
    EXPECT_EQ(r.status, 201u) << r.body;
    if (r.status != 201) return {};
    *id = std::string(r.Json().at("id").as_string());
    return std::string(r.Json().at("token").as_string());
  }

  std::string Proof(const std::string& method, const std::string& uri, const std::string& token) {
    auto proof = crypto::CreateDpopProof(*key_, method, uri, clock_.Now(), token);
    EXPECT_TRUE(proof.ok()) << proof.status().ToString();
    return proof.ok() ? *proof : "";
  }

  // One MCP POST with the grant token and its proof.
  HttpResult Mcp(const std::string& body, Headers extra = {}, const std::string& server = "helpdesk",
                 const std::string& method = "POST", std::string token = "") {
    if (token.empty()) token = token_a_;
    std::string path = "/mcp/" + server;
    Headers h{{"Host", Addr()},
              {"Authorization", "DPoP " + token},
              {"DPoP", Proof(method, "http://" + Addr() + path, token)},
              {"Content-Type", "application/json"},
              {"Accept", "application/json, text/event-stream"}};
    for (auto& e : extra) h.push_back(std::move(e));
    return Send(Addr(), method, path, body, h);
  }

  std::string Initialize(const std::string& token = "") {
    HttpResult r = Mcp(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})",
                       {}, "helpdesk", "POST", token);
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.headers["mcp-session-id"];
  }

  static std::string ToolCall(int id, const std::string& tool, const json::object& args) {
    return json::serialize(json::object{
        {"jsonrpc", "2.0"},
        {"id", id},
        {"method", "tools/call"},
        {"params", json::object{{"name", tool}, {"arguments", args}}}});
  }

  json::array Events(const std::string& kind) {
    json::array out;
    json::value page = Get("/v1/audit?limit=1000").Json();
    for (const auto& e : page.at("events").as_array()) {
      if (e.at("kind").as_string() == kind) out.push_back(e);
    }
    return out;
  }

  Seen LastSeen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

  std::optional<std::string> SeenHeader(const std::string& name) {
    std::lock_guard lock(mu_);
    for (const auto& [k, v] : seen_.last_headers) {
      if (k == name) return v;
    }
    return std::nullopt;
  }

  std::string AddApprover(const std::string& name) {
    HttpResult r = Post("/v1/approvers", json::serialize(json::object{{"name", name}}));
    EXPECT_EQ(r.status, 201u) << r.body;
    return r.status == 201 ? std::string(r.Json().at("token").as_string()) : "";
  }

  HttpResult Approve(const std::string& id, const std::string& approver_token) {
    return Send(Addr(), "POST", "/v1/approvals/" + id + "/approve",
                R"({"reason":"refund checked"})",
                {{"Authorization", "Bearer " + approver_token},
                 {"Content-Type", "application/json"}});
  }

  std::unique_ptr<Router> upstream_router_;
  std::unique_ptr<internal::HttpServer> upstream_;
  std::mutex mu_;
  Seen seen_;
  std::unique_ptr<crypto::SigningKey> key_;
  std::string svid_;
  std::string token_a_;
  std::string grant_a_;
};

TEST_F(McpGatewayTest, SessionsAreWardensOwnAndUpstreamSeesOnlyWardensCredentials) {
  StartWithPolicies();
  std::string session = Initialize();
  ASSERT_FALSE(session.empty());
  EXPECT_NE(session, kUpstreamSession);
  EXPECT_EQ(SeenHeader("x-api-key"), "warden-upstream-secret");
  EXPECT_FALSE(SeenHeader("authorization"));
  EXPECT_FALSE(SeenHeader("dpop"));

  HttpResult note = Mcp(R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
                        {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "2025-06-18"}});
  EXPECT_EQ(note.status, 202u) << note.body;
  EXPECT_EQ(SeenHeader("mcp-session-id"), kUpstreamSession);
  EXPECT_EQ(SeenHeader("mcp-protocol-version"), "2025-06-18");

  HttpResult ping = Mcp(R"({"jsonrpc":"2.0","id":"p","method":"ping"})",
                        {{"Mcp-Session-Id", session}});
  EXPECT_EQ(ping.status, 200u);
  EXPECT_EQ(ping.Json().at("id"), "p");

  // Unknown session ids and another grant's session are refused alike.
  EXPECT_EQ(Mcp(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", {{"Mcp-Session-Id", "mcs_nope"}})
                .status,
            404u);
  std::string other_grant;
  std::string token_b = Grant({"helpdesk/read_ticket"}, &other_grant);
  HttpResult foreign = Mcp(R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
                           {{"Mcp-Session-Id", session}}, "helpdesk", "POST", token_b);
  EXPECT_EQ(foreign.status, 404u) << foreign.body;
  EXPECT_EQ(foreign.Json().at("error").at("code"), json::value(gateway::kSessionRefused));
  EXPECT_EQ(Events("gateway.session_refused").size(), 1u);

  // GET opens no stream; DELETE ends the session here and upstream.
  HttpResult get = Mcp("", {{"Mcp-Session-Id", session}}, "helpdesk", "GET");
  EXPECT_EQ(get.status, 405u);
  EXPECT_EQ(get.headers["allow"], "POST, DELETE");
  HttpResult del = Mcp("", {{"Mcp-Session-Id", session}}, "helpdesk", "DELETE");
  EXPECT_EQ(del.status, 200u) << del.body;
  EXPECT_EQ(LastSeen().methods.back(), "DELETE");
  EXPECT_EQ(SeenHeader("mcp-session-id"), kUpstreamSession);
  EXPECT_EQ(Mcp(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", {{"Mcp-Session-Id", session}})
                .status,
            404u);
}

TEST_F(McpGatewayTest, ToolsListShowsOnlyWhatTheGrantAndPolicyAllow) {
  StartWithPolicies();
  std::string session = Initialize();
  HttpResult r = Mcp(R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})",
                     {{"Mcp-Session-Id", session}});
  ASSERT_EQ(r.status, 200u) << r.body;
  std::vector<std::string> names;
  json::value body = r.Json();
  for (const auto& t : body.at("result").at("tools").as_array()) {
    names.emplace_back(t.at("name").as_string());
  }
  // delete_ticket is forbidden outright; not_granted is outside the grant.
  EXPECT_EQ(names, (std::vector<std::string>{"read_ticket", "issue_refund"}));
}

TEST_F(McpGatewayTest, AllowedCallIsForwardedAndAudited) {
  StartWithPolicies();
  std::string session = Initialize();
  HttpResult r = Mcp(ToolCall(3, "read_ticket", {{"id", "T-1"}}), {{"Mcp-Session-Id", session}});
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_TRUE(r.Json().as_object().contains("result")) << r.body;
  EXPECT_EQ(r.Json().at("id"), json::value(3));
  auto events = Events("gateway.call");
  ASSERT_EQ(events.size(), 1u);
  const auto& d = events[0].at("details");
  EXPECT_EQ(d.at("decision"), "allow");
  EXPECT_EQ(d.at("agent"), "helpbot");
  EXPECT_EQ(d.at("grant"), json::value(grant_a_));
  EXPECT_EQ(d.at("tool"), "helpdesk/read_ticket");
  EXPECT_EQ(d.at("policies"), (json::array{"read-tickets"}));
  EXPECT_EQ(d.at("args_sha256").as_string().size(), 64u);
  EXPECT_EQ(d.at("result_sha256").as_string().size(), 64u);
  EXPECT_GT(d.at("result_bytes").as_int64(), 0);
  EXPECT_TRUE(d.as_object().contains("upstream_latency_ms"));
  EXPECT_FALSE(d.as_object().contains("arguments"));
  EXPECT_EQ(events[0].at("subject"), "tool:helpdesk/read_ticket");
}

TEST_F(McpGatewayTest, SseAnswersAreReemittedAfterInspection) {
  StartWithPolicies();
  std::string session = Initialize();
  HttpResult r = Mcp(ToolCall(4, "read_ticket", {{"stream", true}}), {{"Mcp-Session-Id", session}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  auto events = gateway::ParseSse(r.body);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u) << r.body;
  EXPECT_EQ(json::parse((*events)[0].data).at("method"), "notifications/progress");
  EXPECT_EQ(json::parse((*events)[1].data).at("id"), json::value(4));
  // A client that accepts only JSON gets the response alone.
  HttpResult plain = Mcp(ToolCall(5, "read_ticket", {{"stream", true}}),
                         {{"Mcp-Session-Id", session}, {"Accept", "application/json"}});
  ASSERT_EQ(plain.status, 200u);
  EXPECT_EQ(plain.Json().at("id"), json::value(5));
}

TEST_F(McpGatewayTest, ForbiddenCallIsAJsonRpcErrorNamingGrantAndPolicy) {
  StartWithPolicies();
  std::string session = Initialize();
  int before = LastSeen().tool_calls;
  HttpResult r = Mcp(ToolCall(6, "delete_ticket", {{"id", "T-1"}}), {{"Mcp-Session-Id", session}});
  ASSERT_EQ(r.status, 200u) << r.body;
  json::value body = r.Json();
  const auto& error = body.at("error");
  EXPECT_EQ(error.at("code"), json::value(gateway::kPolicyDenied));
  const auto& data = error.at("data");
  EXPECT_EQ(data.at("grant"), json::value(grant_a_));
  EXPECT_EQ(data.at("decision"), "deny");
  EXPECT_EQ(data.at("policies"), (json::array{"no-ticket-deletion"}));
  EXPECT_EQ(data.at("policy_set_hash").as_string().size(), 64u);
  EXPECT_FALSE(data.at("reason").as_string().empty());
  EXPECT_EQ(LastSeen().tool_calls, before);
  // Outside the grant's scope: refused before Cedar.
  HttpResult scope = Mcp(ToolCall(7, "not_granted", {}), {{"Mcp-Session-Id", session}});
  EXPECT_NE(scope.Json().at("error").at("data").at("reason").as_string().find("does not cover"),
            std::string::npos);
}

TEST_F(McpGatewayTest, CallNeedingApprovalWaitsThenCanBeRetried) {
  StartWithPolicies();
  std::string approver = AddApprover("carol");
  std::string session = Initialize();
  json::object args{{"ticket", "T-1"}, {"amount", 25}};
  // Nobody decides within approval_wait (2s): an error naming the approval.
  HttpResult waited = Mcp(ToolCall(8, "issue_refund", args), {{"Mcp-Session-Id", session}});
  ASSERT_EQ(waited.status, 200u) << waited.body;
  json::value body = waited.Json();
  const auto& error = body.at("error");
  EXPECT_EQ(error.at("code"), json::value(gateway::kApprovalPending)) << waited.body;
  std::string approval_id(error.at("data").at("approval_id").as_string());
  EXPECT_EQ(error.at("data").at("policies"), (json::array{"refunds-need-approval"}));
  EXPECT_EQ(LastSeen().tool_calls, 0);

  ASSERT_EQ(Approve(approval_id, approver).status, 200u);
  // The identical call now goes through and uses the approval.
  HttpResult retried = Mcp(ToolCall(9, "issue_refund", {{"amount", 25}, {"ticket", "T-1"}}),
                           {{"Mcp-Session-Id", session}});
  ASSERT_EQ(retried.status, 200u) << retried.body;
  EXPECT_TRUE(retried.Json().as_object().contains("result")) << retried.body;
  EXPECT_EQ(LastSeen().tool_calls, 1);
  auto used = Events("approval.used");
  ASSERT_EQ(used.size(), 1u);
  auto calls = Events("gateway.call");
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back().at("details").at("approval_id"), json::value(approval_id));

  // A call approved while it waits is forwarded within the same request.
  std::atomic<bool> stop{false};
  std::thread approver_thread([&] {
    while (!stop) {
      HttpResult list = Get("/v1/approvals");
      if (list.status == 200) {
        json::value listed = list.Json();
        for (const auto& a : listed.at("approvals").as_array()) {
          Approve(std::string(a.at("id").as_string()), approver);
          return;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  HttpResult live = Mcp(ToolCall(10, "issue_refund", {{"ticket", "T-2"}, {"amount", 5}}),
                        {{"Mcp-Session-Id", session}});
  stop = true;
  approver_thread.join();
  ASSERT_EQ(live.status, 200u) << live.body;
  EXPECT_TRUE(live.Json().as_object().contains("result")) << live.body;
  EXPECT_EQ(LastSeen().tool_calls, 2);
}

TEST_F(McpGatewayTest, ProtocolErrors) {
  StartWithPolicies();
  std::string session = Initialize();
  Headers s{{"Mcp-Session-Id", session}};
  HttpResult parse = Mcp("{not json", s);
  EXPECT_EQ(parse.status, 400u);
  EXPECT_EQ(parse.Json().at("error").at("code"), json::value(gateway::kParseError));
  HttpResult invalid = Mcp(R"({"jsonrpc":"1.0","id":1,"method":"ping"})", s);
  EXPECT_EQ(invalid.status, 400u);
  EXPECT_EQ(invalid.Json().at("error").at("code"), json::value(gateway::kInvalidRequest));
  EXPECT_EQ(invalid.Json().at("id"), json::value(1));
  HttpResult unknown = Mcp(R"({"jsonrpc":"2.0","id":2,"method":"tools/destroy"})", s);
  EXPECT_EQ(unknown.Json().at("error").at("code"), json::value(gateway::kMethodNotFound));
  HttpResult read = Mcp(R"({"jsonrpc":"2.0","id":3,"method":"resources/read","params":{}})", s);
  EXPECT_EQ(read.Json().at("error").at("code"), json::value(gateway::kMethodNotFound));
  HttpResult params = Mcp(R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"arguments":{}}})", s);
  EXPECT_EQ(params.Json().at("error").at("code"), json::value(gateway::kInvalidParams));
  std::string big = ToolCall(5, "read_ticket", {{"pad", std::string(5000, 'x')}});
  HttpResult large = Mcp(big, s);
  EXPECT_EQ(large.status, 413u);
  EXPECT_EQ(large.Json().at("error").at("code"), json::value(gateway::kMessageTooLarge));
  HttpResult version = Mcp(R"({"jsonrpc":"2.0","id":6,"method":"ping"})",
                           {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "1999-01-01"}});
  EXPECT_EQ(version.status, 400u);
  EXPECT_EQ(Mcp(R"({"jsonrpc":"2.0","id":7,"method":"ping"})", s, "nope").status, 404u);
  // Batches: refused under 2025-06-18, answered as an array under 2025-03-26.
  std::string batch =
      R"([{"jsonrpc":"2.0","id":8,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},)"
      R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"delete_ticket"}},5])";
  EXPECT_EQ(Mcp(batch, {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "2025-06-18"}}).status,
            400u);
  HttpResult answered =
      Mcp(batch, {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "2025-03-26"}});
  ASSERT_EQ(answered.status, 200u) << answered.body;
  json::value all = answered.Json();
  const auto& arr = all.as_array();
  ASSERT_EQ(arr.size(), 3u) << answered.body;
  EXPECT_EQ(arr[0].at("id"), json::value(8));
  EXPECT_EQ(arr[1].at("error").at("code"), json::value(gateway::kPolicyDenied));
  EXPECT_EQ(arr[2].at("error").at("code"), json::value(gateway::kInvalidRequest));
  // No grant token at all: 401 before anything else.
  EXPECT_EQ(Send(Addr(), "POST", "/mcp/helpdesk", R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
                 {{"Content-Type", "application/json"}})
                .status,
            401u);
}

TEST_F(McpGatewayTest, UpstreamDownIsAnErrorNeverAnAllow) {
  StartWithPolicies();
  std::ofstream(DataDir() / "policies" / "down.cedar")
      << R"(permit (principal, action in Action::"call", resource == Tool::"down/read_ticket");)";
  ASSERT_EQ(Post("/v1/policies/reload", "").status, 200u);
  HttpResult r = Mcp(ToolCall(1, "read_ticket", {}), {}, "down");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().at("error").at("code"), json::value(gateway::kUpstreamFailed)) << r.body;
  auto events = Events("gateway.call");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("details").at("outcome"), "upstream_error");
  // A session-less request upstream that the upstream refuses (HTTP 400).
  HttpResult refused = Mcp(ToolCall(2, "read_ticket", {}));
  EXPECT_EQ(refused.Json().at("error").at("code"), json::value(gateway::kUpstreamFailed));
}

TEST_F(McpGatewayTest, RevokedGrantIsRefusedMidSession) {
  StartWithPolicies();
  std::string session = Initialize();
  ASSERT_EQ(Post("/v1/grants/" + grant_a_ + "/revoke", R"({"reason":"done"})").status, 200u);
  HttpResult r = Mcp(ToolCall(1, "read_ticket", {}), {{"Mcp-Session-Id", session}});
  EXPECT_EQ(r.status, 401u) << r.body;
}

}  // namespace
}  // namespace warden::server::testing

namespace warden::server::testing {
namespace {

TEST(GatewayServeConfigTest, LoadConfigReadsTheGatewayKey) {
  std::string path = ::testing::TempDir() + "warden_gw_serve.json";
  {
    std::ofstream out(path);
    out << R"({"threads": 2, "gateway": {"mcp_servers": {"helpdesk": {"url": "http://127.0.0.1:3001/mcp"}},
              "approval_wait": "90s"}})";
  }
  auto options = LoadConfig(path);
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  ASSERT_EQ(options->gateway.mcp_servers.size(), 1u);
  EXPECT_EQ(options->gateway.mcp_servers[0].name, "helpdesk");
  EXPECT_EQ(options->gateway.approval_wait, std::chrono::seconds(90));
  {
    std::ofstream out(path);
    out << R"({"gateway": {"mcp_servers": {"helpdesk": {"url": "http://127.0.0.1:3001/mcp", "tokn": "x"}}}})";
  }
  auto bad = LoadConfig(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("gateway.mcp_servers.helpdesk.tokn"), std::string::npos)
      << bad.status().ToString();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace warden::server::testing
