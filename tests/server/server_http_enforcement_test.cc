// HTTP enforcement end to end inside one process: an agent takes a key-bound
// SVID, is granted "billing:<METHOD>" for paths under /v1/, and uses the
// grant through the reverse proxy (/proxy/billing/...) in front of a real
// upstream HTTP server, and through the check endpoint in its Envoy
// (path prefix and JSON) and nginx forms.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "server/internal/http_enforcement_api.h"
#include "server/internal/http_server.h"
#include "server/internal/listen_address.h"
#include "server/server_fixture.h"
#include "warden/approvals/approval_queue.h"
#include "warden/approvals/approvers.h"
#include "warden/crypto/dpop.h"
#include "warden/crypto/signing_key.h"
#include "warden/store/store.h"

namespace warden::server::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kHttpPolicies = R"(
@id("billing-read-invoices")
permit (principal is Agent, action in [Action::"http:GET", Action::"http:HEAD"], resource is Route)
when { resource.service == "billing" && resource.path like "/v1/invoices/*" };

@id("billing-no-delete")
forbid (principal, action == Action::"http:DELETE", resource is Route);

@id("billing-payments-need-approval")
permit (principal is Agent, action == Action::"http:POST", resource == Route::"billing/v1/payments")
when { context has approval && context.approval.granted };
)";

// What the upstream saw of the last request.
struct Seen {
  std::string method;
  std::string target;
  std::string body;
  Headers headers;
  int count = 0;

  std::optional<std::string> Header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return std::nullopt;
  }
};

class HttpEnforcementTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    upstream_router_ = std::make_unique<Router>();
    auto echo = [this](Request& r) {
      if (r.path.starts_with("/api/slow/"))
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      std::lock_guard lock(mu_);
      seen_.method = r.method;
      seen_.target = r.target;
      seen_.body = r.body;
      seen_.headers = r.headers;
      ++seen_.count;
      Response res = Response::Json(200, json::object{{"upstream", "billing"}, {"path", r.path}});
      res.headers.emplace_back("X-Upstream", "yes");
      res.headers.emplace_back("Connection", "X-Secret-Hop");
      res.headers.emplace_back("X-Secret-Hop", "drop-me");
      return res;
    };
    for (const char* m : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
      ASSERT_TRUE(upstream_router_->Add(m, "/api/{rest...}", echo).ok());
    }
    ASSERT_NO_FATAL_FAILURE(StartUpstream(*upstream_router_, &upstream_));

    gateway::Upstream billing;
    billing.name = "billing";
    billing.url = "http://" + upstream_->address() + "/api";
    billing.headers = {{"X-Api-Key", "warden-service-secret"}};
    billing.timeout = std::chrono::seconds(5);
    gateway::Upstream down;
    down.name = "down";
    down.url = "http://127.0.0.1:1";
    down.timeout = std::chrono::seconds(2);
    gateway::Upstream slow = billing;
    slow.name = "slow";
    slow.url = "http://" + upstream_->address() + "/api/slow";
    slow.timeout = std::chrono::seconds(1);
    options_.gateway.http_services = {billing, down, slow};
  }

  void TearDown() override {
    ServerFixture::TearDown();
    if (upstream_) upstream_->Shutdown();
  }

  void StartWithPolicies() {
    StartServer();
    ASSERT_NO_FATAL_FAILURE(InstallExamplePolicies());
    {
      std::ofstream out(DataDir() / "policies" / "http.cedar");
      out << kHttpPolicies;
    }
    HttpResult r = Post("/v1/policies/reload", "");
    ASSERT_EQ(r.status, 200u) << r.body;
    json::object agent{{"name", "builder"},
                       {"owner", "alice@example.com"},
                       {"purpose", "testing"},
                       {"environment", "dev"},
                       {"expires_in", "30d"},
                       // The uid alone: the test also runs under valgrind, where the
                       // executable the attestor sees is valgrind's.
                       {"selectors", json::array{"unix:uid:" + std::to_string(::getuid())}}};
    HttpResult c = Post("/v1/agents", json::serialize(agent));
    ASSERT_EQ(c.status, 201u) << c.body;
    auto key = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
    ASSERT_TRUE(key.ok());
    key_ = std::make_unique<crypto::SigningKey>(std::move(*key));
    HttpResult s =
        SendUnix((DataDir() / "public" / "workload.sock").string(), "POST", "/v1/svid",
                 json::serialize(json::object{{"public_key", key_->public_key().ToJwk()}}),
                 {{"Content-Type", "application/json"}});
    ASSERT_EQ(s.status, 200u) << s.body << s.error;
    svid_ = std::string(s.Json().at("svid").as_string());
    Grant();
  }

  // Asks for the billing grant with the SVID; sets token_/grant_id_.
  void Grant() {
    std::string body = json::serialize(
        json::object{{"task", "invoices-1"},
                     {"description", "read invoices"},
                     {"actions", json::array{"billing:GET", "billing:HEAD", "billing:POST",
                                             "billing:DELETE", "down:GET", "slow:GET"}},
                     {"resources", json::array{"/v1/*"}},
                     {"environment", "dev"},
                     {"sensitivity", "internal"},
                     {"ttl", "10m"}});
    Headers h{{"Host", Addr()},
              {"Authorization", "DPoP " + svid_},
              {"DPoP", Proof("POST", "http://" + Addr() + "/v1/grants", svid_)},
              {"Content-Type", "application/json"}};
    HttpResult r = Send(Addr(), "POST", "/v1/grants", body, h);
    ASSERT_EQ(r.status, 201u) << r.body;
    grant_token_ = std::string(r.Json().at("token").as_string());
    grant_id_ = std::string(r.Json().at("id").as_string());
  }

  std::string Proof(const std::string& method, const std::string& uri, const std::string& token) {
    auto proof = crypto::CreateDpopProof(*key_, method, uri, clock_.Now(), token);
    EXPECT_TRUE(proof.ok()) << proof.status().ToString();
    return proof.ok() ? *proof : "";
  }

  // A request through the proxy with the grant token and a proof for it.
  HttpResult ProxySend(const std::string& method, const std::string& target, Headers extra = {},
                       const std::string& body = "") {
    std::string path = target.substr(0, target.find('?'));
    Headers h{{"Host", Addr()},
              {"Authorization", "DPoP " + grant_token_},
              {"DPoP", Proof(method, "http://" + Addr() + path, grant_token_)}};
    for (auto& e : extra) h.push_back(std::move(e));
    return Send(Addr(), method, target, body, h);
  }

  // Credentials for an original request to `uri` (scheme://host/path).
  Headers AgentCredentials(const std::string& method, const std::string& uri) {
    return {{"Authorization", "DPoP " + grant_token_}, {"DPoP", Proof(method, uri, grant_token_)}};
  }

  Seen LastSeen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

  json::array Events(const std::string& kind) {
    json::array out;
    json::value page = Get("/v1/audit?limit=1000").Json();
    for (const auto& e : page.at("events").as_array()) {
      if (e.at("kind").as_string() == kind) out.push_back(e);
    }
    return out;
  }

  std::string CheckJsonBody(const std::string& method, const std::string& path,
                            const Headers& creds, const std::string& service = "billing") {
    json::object headers;
    for (const auto& [k, v] : creds) headers[k] = v;
    headers[":authority"] = "api.example.com";
    return json::serialize(json::object{
        {"attributes",
         json::object{{"source", json::object{{"address", json::object()}}},
                      {"request", json::object{{"http", json::object{{"id", "1"},
                                                                     {"method", method},
                                                                     {"path", path},
                                                                     {"host", "api.example.com"},
                                                                     {"scheme", "https"},
                                                                     {"headers", headers}}}}},
                      {"context_extensions", json::object{{"service", service}}}}}});
  }

  std::unique_ptr<Router> upstream_router_;
  std::unique_ptr<internal::HttpServer> upstream_;
  std::mutex mu_;
  Seen seen_;
  std::unique_ptr<crypto::SigningKey> key_;
  std::string svid_;
  std::string grant_token_;
  std::string grant_id_;
};

TEST_F(HttpEnforcementTest, ProxyForwardsAnAllowedRequestWithWardensCredentialsOnly) {
  StartWithPolicies();
  HttpResult r = ProxySend("GET", "/proxy/billing/v1/invoices/42?expand=lines",
                           {{"Cookie", "session=agent-cookie"},
                            {"X-Warden-Agent", "someone-else"},
                            {"X-Forwarded-For", "10.9.9.9"},
                            {"X-Api-Key", "agent-chosen"},
                            {"Connection", "X-Agent-Hop"},
                            {"X-Agent-Hop", "drop"},
                            {"X-Custom", "kept"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().at("upstream").as_string(), "billing");
  EXPECT_EQ(r.headers["x-upstream"], "yes");
  EXPECT_EQ(r.headers.count("x-secret-hop"), 0u);

  Seen seen = LastSeen();
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/api/v1/invoices/42?expand=lines");
  EXPECT_FALSE(seen.Header("authorization"));
  EXPECT_FALSE(seen.Header("dpop"));
  EXPECT_FALSE(seen.Header("cookie"));
  EXPECT_FALSE(seen.Header("x-agent-hop"));
  EXPECT_EQ(seen.Header("x-api-key"), "warden-service-secret");
  EXPECT_EQ(seen.Header("x-warden-agent"), "builder");
  EXPECT_EQ(seen.Header("x-warden-grant"), grant_id_);
  EXPECT_EQ(seen.Header("x-forwarded-for"), "127.0.0.1");
  EXPECT_EQ(seen.Header("x-forwarded-proto"), "http");
  EXPECT_EQ(seen.Header("x-custom"), "kept");
  EXPECT_EQ(seen.Header("host"), upstream_->address());
  // The agent's token never reaches the upstream in any header.
  for (const auto& [k, v] : seen.headers) EXPECT_EQ(v.find(grant_token_), std::string::npos) << k;

  // The query is the service's business: repeated keys, which Warden's own
  // routes refuse, are relayed as sent.
  HttpResult repeated = ProxySend("GET", "/proxy/billing/v1/invoices/42?tag=a&tag=b");
  ASSERT_EQ(repeated.status, 200u) << repeated.body;
  EXPECT_EQ(LastSeen().target, "/api/v1/invoices/42?tag=a&tag=b");

  // HEAD reaches the service as GET (the same answer) and comes back without content.
  HttpResult head = ProxySend("HEAD", "/proxy/billing/v1/invoices/43");
  EXPECT_EQ(head.status, 200u) << head.body;
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(LastSeen().method, "GET");
  EXPECT_EQ(LastSeen().target, "/api/v1/invoices/43");

  json::array events = Events("gateway.http");
  ASSERT_GE(events.size(), 1u);
  const json::object& d = events[0].at("details").as_object();
  EXPECT_EQ(d.at("decision").as_string(), "allow");
  EXPECT_EQ(d.at("service").as_string(), "billing");
  EXPECT_EQ(d.at("path").as_string(), "/v1/invoices/42");
  EXPECT_EQ(d.at("via").as_string(), "proxy");
  EXPECT_EQ(events[0].at("subject").as_string(), "route:billing/v1/invoices/42");
  std::string log = Get("/v1/audit?limit=1000").body;
  EXPECT_EQ(log.find("expand=lines"), std::string::npos);  // only the query's digest
  EXPECT_EQ(log.find(grant_token_), std::string::npos);
}

TEST_F(HttpEnforcementTest, ProxyDeniesWithPoliciesAndScope) {
  StartWithPolicies();
  HttpResult del = ProxySend("DELETE", "/proxy/billing/v1/invoices/42");
  ASSERT_EQ(del.status, 403u) << del.body;
  json::value body = del.Json();
  EXPECT_EQ(body.at("decision").as_string(), "deny");
  EXPECT_EQ(body.at("policies").as_array().at(0).as_string(), "billing-no-delete");
  EXPECT_FALSE(body.at("policy_set_hash").as_string().empty());
  EXPECT_EQ(body.at("grant").as_string(), grant_id_);
  EXPECT_NE(body.at("reason").as_string().find("billing-no-delete"), std::string::npos);
  EXPECT_EQ(LastSeen().count, 0);

  // Default deny: no policy permits GET outside /v1/invoices/.
  HttpResult other = ProxySend("GET", "/proxy/billing/v1/customers/1");
  ASSERT_EQ(other.status, 403u) << other.body;
  EXPECT_NE(other.Json().at("reason").as_string().find("default deny"), std::string::npos);

  // Scope misses are refused before any policy: a method the grant lacks, a
  // path outside its resources.
  HttpResult put = ProxySend("PUT", "/proxy/billing/v1/invoices/42");
  ASSERT_EQ(put.status, 403u) << put.body;
  EXPECT_NE(put.Json().at("reason").as_string().find("billing:PUT"), std::string::npos);
  HttpResult outside = ProxySend("GET", "/proxy/billing/admin/users");
  ASSERT_EQ(outside.status, 403u) << outside.body;
  EXPECT_NE(outside.Json().at("reason").as_string().find("/admin/users"), std::string::npos);
  EXPECT_EQ(LastSeen().count, 0);

  // Methods Warden does not enforce are refused by the route.
  EXPECT_EQ(ProxySend("TRACE", "/proxy/billing/v1/invoices/42").status, 405u);
  // Every decision is in the audit log.
  EXPECT_GE(Events("gateway.http").size(), 4u);
}

TEST_F(HttpEnforcementTest, ProxyRefusesMissingInvalidRevokedTokensAndBadProofs) {
  StartWithPolicies();
  HttpResult none = Send(Addr(), "GET", "/proxy/billing/v1/invoices/1", "", {{"Host", Addr()}});
  EXPECT_EQ(none.status, 401u);
  EXPECT_NE(none.headers["www-authenticate"].find("DPoP"), std::string::npos);

  Headers junk{
      {"Host", Addr()},
      {"Authorization", "DPoP not-a-token"},
      {"DPoP", Proof("GET", "http://" + Addr() + "/proxy/billing/v1/invoices/1", "not-a-token")}};
  HttpResult bad = Send(Addr(), "GET", "/proxy/billing/v1/invoices/1", "", junk);
  EXPECT_EQ(bad.status, 401u);
  EXPECT_NE(bad.headers["www-authenticate"].find("invalid_token"), std::string::npos);

  // A proof made for another method or another URI is refused.
  Headers wrong_method{
      {"Host", Addr()},
      {"Authorization", "DPoP " + grant_token_},
      {"DPoP", Proof("POST", "http://" + Addr() + "/proxy/billing/v1/invoices/1", grant_token_)}};
  HttpResult wm = Send(Addr(), "GET", "/proxy/billing/v1/invoices/1", "", wrong_method);
  EXPECT_EQ(wm.status, 401u) << wm.body;
  EXPECT_NE(wm.headers["www-authenticate"].find("invalid_dpop_proof"), std::string::npos);
  Headers wrong_uri{
      {"Host", Addr()},
      {"Authorization", "DPoP " + grant_token_},
      {"DPoP", Proof("GET", "http://" + Addr() + "/proxy/billing/v1/invoices/2", grant_token_)}};
  EXPECT_EQ(Send(Addr(), "GET", "/proxy/billing/v1/invoices/1", "", wrong_uri).status, 401u);
  // A proof is good once.
  Headers once{
      {"Host", Addr()},
      {"Authorization", "DPoP " + grant_token_},
      {"DPoP", Proof("GET", "http://" + Addr() + "/proxy/billing/v1/invoices/3", grant_token_)}};
  EXPECT_EQ(Send(Addr(), "GET", "/proxy/billing/v1/invoices/3", "", once).status, 200u);
  EXPECT_EQ(Send(Addr(), "GET", "/proxy/billing/v1/invoices/3", "", once).status, 401u);

  // Revoked: the grant token stops working at once.
  HttpResult revoke = Post("/v1/grants/" + grant_id_ + "/revoke", "{\"reason\":\"test\"}");
  ASSERT_EQ(revoke.status, 200u) << revoke.body;
  HttpResult after = ProxySend("GET", "/proxy/billing/v1/invoices/1");
  EXPECT_EQ(after.status, 401u) << after.body;
  EXPECT_EQ(LastSeen().count, 1);
}

TEST_F(HttpEnforcementTest, ProxyUpstreamFailuresAreErrorsNeverAllows) {
  StartWithPolicies();
  HttpResult down = ProxySend("GET", "/proxy/down/v1/anything");
  // The grant covers down:GET but no policy permits it: the decision comes first.
  EXPECT_EQ(down.status, 403u) << down.body;

  HttpResult unknown = ProxySend("GET", "/proxy/nosuch/v1/invoices/1");
  EXPECT_EQ(unknown.status, 404u) << unknown.body;
  EXPECT_EQ(unknown.ErrorField(), "service");

  // Smuggled structure is refused before anything is decided.
  EXPECT_EQ(Send(Addr(), "GET", "/proxy/billing/v1/%2e%2e/admin", "", {{"Host", Addr()}}).status,
            400u);
  EXPECT_EQ(Send(Addr(), "GET", "/proxy/billing/v1%2Fadmin", "", {{"Host", Addr()}}).status, 400u);
  EXPECT_EQ(Send(Addr(), "GET", "/proxy/Bad!/v1", "", {{"Host", Addr()}}).status, 400u);
}

TEST_F(HttpEnforcementTest, ProxyAnswers502WhenTheServiceIsDown) {
  // A permissive policy for the dead service so that the request is allowed.
  StartWithPolicies();
  {
    std::ofstream out(DataDir() / "policies" / "down.cedar");
    out << "@id(\"down-ok\") permit (principal is Agent, action == Action::\"http:GET\", "
           "resource is Route) when { [\"down\", \"slow\"].contains(resource.service) };\n";
  }
  ASSERT_EQ(Post("/v1/policies/reload", "").status, 200u);
  HttpResult down = ProxySend("GET", "/proxy/down/v1/anything");
  EXPECT_EQ(down.status, 502u) << down.body;
  EXPECT_EQ(down.ErrorCode(), "unavailable");
  json::array events = Events("gateway.http");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().at("details").at("decision").as_string(), "allow");

  // A service slower than its timeout is 504, not its late answer.
  HttpResult slow = ProxySend("GET", "/proxy/slow/v1/anything");
  EXPECT_EQ(slow.status, 504u) << slow.body;
  EXPECT_EQ(slow.ErrorCode(), "deadline_exceeded");
}

TEST_F(HttpEnforcementTest, EnvoyPathPrefixCheck) {
  StartWithPolicies();
  Headers h = AgentCredentials("GET", "http://api.example.com/v1/invoices/42");
  h.emplace_back("Host", "api.example.com");
  HttpResult ok = Send(Addr(), "GET", "/v1/check/billing/v1/invoices/42?x=1", "", h);
  ASSERT_EQ(ok.status, 200u) << ok.body;
  EXPECT_EQ(ok.headers["x-warden-agent"], "builder");
  EXPECT_EQ(ok.headers["x-warden-grant"], grant_id_);
  EXPECT_EQ(ok.Json().at("decision").as_string(), "allow");
  EXPECT_EQ(LastSeen().count, 0);  // a check never forwards

  // HEAD is checked like any method and answered without content.
  Headers head = AgentCredentials("HEAD", "http://api.example.com/v1/invoices/45");
  head.emplace_back("Host", "api.example.com");
  HttpResult head_ok = Send(Addr(), "HEAD", "/v1/check/billing/v1/invoices/45", "", head);
  EXPECT_EQ(head_ok.status, 200u);
  EXPECT_TRUE(head_ok.body.empty());
  EXPECT_EQ(head_ok.headers["x-warden-agent"], "builder");

  // With X-Forwarded-Proto the proof must name https.
  Headers tls = AgentCredentials("GET", "https://api.example.com/v1/invoices/43");
  tls.emplace_back("Host", "api.example.com");
  tls.emplace_back("X-Forwarded-Proto", "https");
  EXPECT_EQ(Send(Addr(), "GET", "/v1/check/billing/v1/invoices/43", "", tls).status, 200u);

  Headers del = AgentCredentials("DELETE", "http://api.example.com/v1/invoices/42");
  del.emplace_back("Host", "api.example.com");
  HttpResult denied = Send(Addr(), "DELETE", "/v1/check/billing/v1/invoices/42", "", del);
  ASSERT_EQ(denied.status, 403u) << denied.body;
  EXPECT_EQ(denied.Json().at("decision").as_string(), "deny");

  // A proof for this check request rather than the original is refused.
  Headers wrong = AgentCredentials("GET", "http://" + Addr() + "/v1/check/billing/v1/invoices/44");
  wrong.emplace_back("Host", "api.example.com");
  EXPECT_EQ(Send(Addr(), "GET", "/v1/check/billing/v1/invoices/44", "", wrong).status, 401u);
  EXPECT_EQ(
      Send(Addr(), "GET", "/v1/check/billing/v1/invoices/44", "", {{"Host", "api.example.com"}})
          .status,
      401u);
}

TEST_F(HttpEnforcementTest, NginxAuthRequestCheck) {
  StartWithPolicies();
  Headers h = AgentCredentials("GET", "https://shop.example.com/v1/invoices/7");
  h.insert(h.end(), {{"Host", "shop.example.com"},
                     {"X-Original-Method", "GET"},
                     {"X-Original-URI", "/v1/invoices/7?lines=all"},
                     {"X-Forwarded-Proto", "https"},
                     {"X-Warden-Service", "billing"}});
  HttpResult ok = Send(Addr(), "GET", "/v1/check", "", h);
  ASSERT_EQ(ok.status, 200u) << ok.body;
  EXPECT_EQ(ok.headers["x-warden-agent"], "builder");

  // nginx sends the subrequest of a HEAD request as HEAD.
  Headers hd = AgentCredentials("HEAD", "http://shop.example.com/v1/invoices/7");
  hd.insert(hd.end(), {{"Host", "shop.example.com"},
                       {"X-Original-Method", "HEAD"},
                       {"X-Original-URI", "/v1/invoices/7"},
                       {"X-Warden-Service", "billing"}});
  HttpResult head = Send(Addr(), "HEAD", "/v1/check", "", hd);
  EXPECT_EQ(head.status, 200u);
  EXPECT_TRUE(head.body.empty());

  // Without X-Warden-Service the URI names the service under /proxy/.
  Headers p = AgentCredentials("GET", "http://shop.example.com/proxy/billing/v1/invoices/8");
  p.insert(p.end(), {{"Host", "shop.example.com"},
                     {"X-Original-Method", "GET"},
                     {"X-Original-URI", "/proxy/billing/v1/invoices/8"}});
  HttpResult via_prefix = Send(Addr(), "GET", "/v1/check", "", p);
  ASSERT_EQ(via_prefix.status, 200u) << via_prefix.body;

  Headers d = AgentCredentials("DELETE", "http://shop.example.com/v1/invoices/7");
  d.insert(d.end(), {{"Host", "shop.example.com"},
                     {"X-Original-Method", "DELETE"},
                     {"X-Original-URI", "/v1/invoices/7"},
                     {"X-Warden-Service", "billing"}});
  HttpResult denied = Send(Addr(), "GET", "/v1/check", "", d);
  EXPECT_EQ(denied.status, 403u) << denied.body;
}

TEST_F(HttpEnforcementTest, CheckRequestsAreValidatedPrecisely) {
  StartWithPolicies();
  auto nginx = [&](Headers extra) {
    Headers h{{"Host", "shop.example.com"}};
    h.insert(h.end(), extra.begin(), extra.end());
    return Send(Addr(), "GET", "/v1/check", "", h);
  };
  HttpResult r = nginx({{"X-Original-URI", "/v1/x"}, {"X-Warden-Service", "billing"}});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.ErrorField(), "X-Original-Method");
  r = nginx({{"X-Original-Method", "GET"}, {"X-Warden-Service", "billing"}});
  EXPECT_EQ(r.ErrorField(), "X-Original-URI");
  r = nginx({{"X-Original-Method", "GET"}, {"X-Original-URI", "/v1/x"}});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.ErrorField(), "X-Warden-Service");
  for (const char* uri : {"/v1/../admin", "/v1/%2Fadmin", "v1/x", "/v1/x#frag", "/v1//x",
                          "http://evil/v1", "/v1/%zz"}) {
    r = nginx(
        {{"X-Original-Method", "GET"}, {"X-Original-URI", uri}, {"X-Warden-Service", "billing"}});
    EXPECT_EQ(r.status, 400u) << uri;
    EXPECT_EQ(r.ErrorField(), "X-Original-URI") << uri;
  }
  r = nginx({{"X-Original-Method", "TRACE"},
             {"X-Original-URI", "/v1/x"},
             {"X-Warden-Service", "billing"}});
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.ErrorField(), "X-Original-Method");
  r = nginx({{"X-Original-Method", "GET"},
             {"X-Original-URI", "/v1/x"},
             {"X-Warden-Service", "Billing!"}});
  EXPECT_EQ(r.status, 400u);
  r = nginx({{"X-Original-Method", "GET"},
             {"X-Original-URI", "/v1/x"},
             {"X-Warden-Service", "billing"},
             {"X-Forwarded-Proto", "gopher"}});
  EXPECT_EQ(r.ErrorField(), "X-Forwarded-Proto");

  // The JSON form names the member.
  auto post = [&](const std::string& body) {
    return Send(Addr(), "POST", "/v1/check", body, {{"Content-Type", "application/json"}});
  };
  r = post("{}");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.ErrorField(), "attributes");
  r = post(R"({"attributes":{"request":{"http":{"method":"GET"}}}})");
  EXPECT_EQ(r.ErrorField(), "attributes.request.http.path");
  r = post(R"({"attributes":{"request":{"http":{"method":"GET","path":"/v1/x","host":"a",)"
           R"("headers":{"authorization":7}}}}})");
  EXPECT_EQ(r.ErrorField(), "attributes.request.http.headers.authorization");
  r = post(R"({"attributes":{"request":{"http":{"method":"GET","path":"/v1/x","host":"a"}}}})");
  EXPECT_EQ(r.ErrorField(), "attributes.context_extensions.service");
  r = post(R"({"attributes":{"request":{"http":{"method":"GET","path":"/a/../b","host":"a"}},)"
           R"("context_extensions":{"service":"billing"}}})");
  EXPECT_EQ(r.ErrorField(), "attributes.request.http.path");
  r = post(R"({"attributes":{"request":{"http":{"method":"GET","path":"/v1","host":"a b"}},)"
           R"("context_extensions":{"service":"billing"}}})");
  EXPECT_EQ(r.ErrorField(), "attributes.request.http.host");
  r = post("not json");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(Send(Addr(), "POST", "/v1/check", "{}", {{"Content-Type", "text/plain"}}).status, 415u);
  EXPECT_EQ(Send(Addr(), "PUT", "/v1/check", "", {}).status, 405u);
}

TEST_F(HttpEnforcementTest, EnvoyJsonCheckRequest) {
  StartWithPolicies();
  Headers creds = AgentCredentials("GET", "https://api.example.com/v1/invoices/9");
  HttpResult ok =
      Send(Addr(), "POST", "/v1/check", CheckJsonBody("GET", "/v1/invoices/9?a=b", creds),
           {{"Content-Type", "application/json"}});
  ASSERT_EQ(ok.status, 200u) << ok.body;
  EXPECT_EQ(ok.headers["x-warden-grant"], grant_id_);

  // Credentials on the POST itself do not count: only the original's.
  Headers own = AgentCredentials("GET", "https://api.example.com/v1/invoices/10");
  Headers post_headers{{"Content-Type", "application/json"}};
  post_headers.insert(post_headers.end(), own.begin(), own.end());
  HttpResult none =
      Send(Addr(), "POST", "/v1/check", CheckJsonBody("GET", "/v1/invoices/10", {}), post_headers);
  EXPECT_EQ(none.status, 401u) << none.body;

  Headers del = AgentCredentials("DELETE", "https://api.example.com/v1/invoices/9");
  HttpResult denied =
      Send(Addr(), "POST", "/v1/check", CheckJsonBody("DELETE", "/v1/invoices/9", del),
           {{"Content-Type", "application/json"}});
  EXPECT_EQ(denied.status, 403u) << denied.body;
  EXPECT_EQ(denied.Json().at("policies").as_array().at(0).as_string(), "billing-no-delete");
}

TEST_F(HttpEnforcementTest, NeedsApprovalThenTheIdenticalRetryPasses) {
  StartWithPolicies();
  HttpResult first = ProxySend("POST", "/proxy/billing/v1/payments",
                               {{"Content-Type", "application/json"}}, R"({"amount":"12.00"})");
  ASSERT_EQ(first.status, 403u) << first.body;
  json::value body = first.Json();
  EXPECT_EQ(body.at("decision").as_string(), "needs_approval");
  std::string approval(body.at("approval_id").as_string());
  EXPECT_EQ(first.headers["x-warden-approval"], approval);
  EXPECT_EQ(LastSeen().count, 0);

  // Still pending: the same answer.
  HttpResult again = ProxySend("POST", "/proxy/billing/v1/payments",
                               {{"Content-Type", "application/json"}}, R"({"amount":"12.00"})");
  EXPECT_EQ(again.status, 403u);
  EXPECT_EQ(again.Json().at("approval_id").as_string(), approval);

  {
    auto s = store::OpenStore("sqlite:" + (DataDir() / "warden.db").string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    approvals::ApproverRegistry approvers(**s, clock_);
    (void)approvers.Add("bob", "admin");
    approvals::ApprovalQueue queue(**s, clock_);
    auto decided = queue.Decide(approval, "bob", approvals::Verdict::kApprove, "ok");
    ASSERT_TRUE(decided.ok()) << decided.status().ToString();
  }
  HttpResult approved = ProxySend("POST", "/proxy/billing/v1/payments",
                                  {{"Content-Type", "application/json"}}, R"({"amount":"12.00"})");
  ASSERT_EQ(approved.status, 200u) << approved.body;
  Seen seen = LastSeen();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.body, R"({"amount":"12.00"})");
  // Used once: the next identical request needs a new approval.
  HttpResult next = ProxySend("POST", "/proxy/billing/v1/payments",
                              {{"Content-Type", "application/json"}}, R"({"amount":"12.00"})");
  EXPECT_EQ(next.status, 403u);
  EXPECT_NE(next.Json().at("approval_id").as_string(), approval);
}

TEST_F(HttpEnforcementTest, CheckAnswersNeedsApprovalAndTheRetryUsesTheApproval) {
  StartWithPolicies();
  auto check = [&] {
    Headers h = AgentCredentials("POST", "https://pay.example.com/v1/payments");
    h.insert(h.end(), {{"Host", "pay.example.com"},
                       {"X-Original-Method", "POST"},
                       {"X-Original-URI", "/v1/payments"},
                       {"X-Forwarded-Proto", "https"},
                       {"X-Warden-Service", "billing"}});
    return Send(Addr(), "GET", "/v1/check", "", h);
  };
  HttpResult first = check();
  ASSERT_EQ(first.status, 403u) << first.body;
  EXPECT_EQ(first.Json().at("decision").as_string(), "needs_approval");
  EXPECT_EQ(first.Json().at("policies").as_array().at(0).as_string(),
            "billing-payments-need-approval");
  std::string approval(first.Json().at("approval_id").as_string());
  {
    auto s = store::OpenStore("sqlite:" + (DataDir() / "warden.db").string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    approvals::ApproverRegistry approvers(**s, clock_);
    (void)approvers.Add("bob", "admin");
    approvals::ApprovalQueue queue(**s, clock_);
    ASSERT_TRUE(queue.Decide(approval, "bob", approvals::Verdict::kApprove, "ok").ok());
  }
  HttpResult retry = check();
  ASSERT_EQ(retry.status, 200u) << retry.body;
  EXPECT_EQ(retry.headers["x-warden-approval"], approval);
  EXPECT_EQ(retry.Json().at("approval_id").as_string(), approval);
  EXPECT_EQ(LastSeen().count, 0);
}

TEST(HttpEnforcementParseTest, OriginalTargets) {
  auto t = internal::ParseOriginalTarget("/v1/a%20b/c/?x=1&y", "f");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->raw_path, "/v1/a%20b/c/");
  EXPECT_EQ(t->path, "/v1/a b/c/");
  EXPECT_EQ(t->query, "x=1&y");
  auto root = internal::ParseOriginalTarget("/", "f");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->path, "/");
  for (const char* bad :
       {"", "x", "/a/./b", "/a/%2e%2E/b", "/a%2f", "/a%00", "/a b", "/\x7f", "/a#b", "//x"}) {
    auto r = internal::ParseOriginalTarget(bad, "f");
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().field(), "f") << bad;
    }
  }
  EXPECT_TRUE(internal::ValidateServiceName("billing-v2_x", "s").ok());
  for (const char* bad : {"", "-x", "_x", "Billing", "a/b", "a.b",
                          "a1234567890123456789012345678901234567890123456789012345678901234"}) {
    EXPECT_FALSE(internal::ValidateServiceName(bad, "s").ok()) << bad;
  }
  EXPECT_TRUE(internal::IsEnforcedMethod("PATCH"));
  EXPECT_FALSE(internal::IsEnforcedMethod("get"));
  EXPECT_FALSE(internal::IsEnforcedMethod("CONNECT"));
}

}  // namespace
}  // namespace warden::server::testing
