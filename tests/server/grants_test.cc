// Intent-bound grants end to end inside one process: an agent takes a
// key-bound SVID from the Workload API socket, asks for a grant with a DPoP
// proof, and the demo policies allow, deny or ask a human. Approvals are
// decided through the approvals library on a second store opened on the same
// SQLite file, as another process would.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>
#include <thread>

#include "server/server_fixture.h"
#include "warden/approvals/approval_queue.h"
#include "warden/approvals/approvers.h"
#include "warden/core/encoding.h"
#include "warden/crypto/dpop.h"
#include "warden/crypto/jwt.h"
#include "warden/crypto/signing_key.h"
#include "warden/store/store.h"

namespace warden::server::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

using Headers = std::vector<std::pair<std::string, std::string>>;

std::string SelfExe() { return fs::read_symlink("/proc/self/exe").string(); }

std::string Intent(const std::string& task, const json::array& actions,
                   const std::string& sensitivity = "internal",
                   const std::string& environment = "dev") {
  return json::serialize(json::object{{"task", task},
                                      {"description", "test work"},
                                      {"actions", actions},
                                      {"resources", json::array{"ticket:42"}},
                                      {"environment", environment},
                                      {"sensitivity", sensitivity},
                                      {"ttl", "10m"}});
}

class GrantsTest : public ServerFixture {
 protected:
  void StartWithDemoPolicies() {
    StartServer();
    ASSERT_NO_FATAL_FAILURE(InstallExamplePolicies());
    HttpResult r = Post("/v1/policies/reload", "");
    ASSERT_EQ(r.status, 200u) << r.body;
    json::object agent{{"name", "builder"},
                       {"owner", "alice@example.com"},
                       {"purpose", "testing"},
                       {"environment", "dev"},
                       {"expires_in", "30d"},
                       {"selectors", json::array{"unix:uid:" + std::to_string(::getuid()),
                                                 "unix:path:" + SelfExe()}}};
    HttpResult c = Post("/v1/agents", json::serialize(agent));
    ASSERT_EQ(c.status, 201u) << c.body;
    auto key = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
    ASSERT_TRUE(key.ok());
    key_ = std::make_unique<crypto::SigningKey>(std::move(*key));
    svid_ = FetchSvid(*key_);
    ASSERT_FALSE(svid_.empty());
  }

  std::string FetchSvid(const crypto::SigningKey& key) {
    HttpResult r = SendUnix((DataDir() / "public" / "workload.sock").string(), "POST", "/v1/svid",
                            json::serialize(json::object{{"public_key", key.public_key().ToJwk()}}),
                            {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 200u) << r.body << r.error;
    if (r.status != 200) return "";
    return std::string(r.Json().at("svid").as_string());
  }

  std::string Proof(const crypto::SigningKey& key, const std::string& method,
                    const std::string& path, const std::string& token) {
    auto proof = crypto::CreateDpopProof(key, method, "http://" + Addr() + path, clock_.Now(),
                                         token);
    EXPECT_TRUE(proof.ok()) << proof.status().ToString();
    return proof.ok() ? *proof : "";
  }

  // An agent request with its SVID and a fresh proof (or `proof` when given).
  HttpResult AgentSend(const std::string& method, const std::string& target,
                       const std::string& body = "", std::optional<std::string> proof = {},
                       const std::string& content_type = "application/json") {
    std::string path = target.substr(0, target.find('?'));
    Headers h{{"Host", Addr()}, {"Authorization", "DPoP " + svid_}};
    h.emplace_back("DPoP", proof ? *proof : Proof(*key_, method, path, svid_));
    if (!body.empty()) h.emplace_back("Content-Type", content_type);
    return Send(Addr(), method, target, body, h);
  }

  std::unique_ptr<store::Store> SecondStore() {
    auto s = store::OpenStore("sqlite:" + (DataDir() / "warden.db").string());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Decides approval `id` as approver "bob" from a second connection.
  void DecideOutOfProcess(const std::string& id, approvals::Verdict verdict) {
    auto s = SecondStore();
    ASSERT_NE(s, nullptr);
    approvals::ApproverRegistry approvers(*s, clock_);
    (void)approvers.Add("bob", "admin");
    approvals::ApprovalQueue queue(*s, clock_);
    auto decided = queue.Decide(id, "bob", verdict, "checked the ticket");
    ASSERT_TRUE(decided.ok()) << decided.status().ToString();
  }

  json::array Events(const std::string& kind) {
    json::array out;
    json::value page = Get("/v1/audit?limit=1000").Json();
    for (const auto& e : page.at("events").as_array()) {
      if (e.at("kind").as_string() == kind) out.push_back(e);
    }
    return out;
  }

  // A key and a key-bound SVID for a new dev agent `name`, joined with a
  // one-time token (no Workload API selectors: it is another workload).
  struct Joined {
    std::unique_ptr<crypto::SigningKey> key;
    std::string svid;
  };
  Joined JoinAgent(const std::string& name) {
    Joined out;
    HttpResult created = Post("/v1/agents", json::serialize(json::object{
                                                {"name", name},
                                                {"owner", "alice@example.com"},
                                                {"purpose", "sub-tasks"},
                                                {"environment", "dev"},
                                                {"expires_in", "30d"}}));
    EXPECT_EQ(created.status, 201u) << created.body;
    HttpResult jt = Post("/v1/agents/" + name + "/join-tokens", "");
    EXPECT_EQ(jt.status, 201u) << jt.body;
    if (jt.status != 201) return out;
    std::string join(jt.Json().at("token").as_string());
    HttpResult ch = Send(Addr(), "POST", "/v1/attest/challenge",
                         json::serialize(json::object{{"token", join}}),
                         {{"Content-Type", "application/json"}});
    EXPECT_EQ(ch.status, 200u) << ch.body;
    if (ch.status != 200) return out;
    auto key = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
    EXPECT_TRUE(key.ok());
    std::string nonce(ch.Json().at("nonce").as_string());
    auto sig = key->Sign("warden-join:" + nonce);
    EXPECT_TRUE(sig.ok());
    HttpResult joined = Send(Addr(), "POST", "/v1/attest/join",
                             json::serialize(json::object{
                                 {"token", join},
                                 {"nonce", nonce},
                                 {"signature", Base64UrlEncode(*sig)},
                                 {"public_key", key->public_key().ToJwk()}}),
                             {{"Content-Type", "application/json"}});
    EXPECT_EQ(joined.status, 200u) << joined.body;
    if (joined.status != 200) return out;
    out.svid = std::string(joined.Json().at("svid").as_string());
    out.key = std::make_unique<crypto::SigningKey>(std::move(*key));
    return out;
  }

  // POST /v1/token by the agent holding `key` and `svid`, exchanging
  // `subject` (its grant token) for a child grant of `actor_svid`'s agent.
  HttpResult Exchange(const crypto::SigningKey& key, const std::string& svid,
                      const std::string& subject, const std::string& actor_svid,
                      const std::string& scope) {
    std::string form =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
        "&subject_token=" + subject +
        "&subject_token_type=urn%3Awarden%3Aparams%3Aoauth%3Atoken-type%3Agrant"
        "&actor_token=" + actor_svid +
        "&actor_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt"
        "&scope=" + scope + "&resource=ticket%3A42";
    Headers h{{"Host", Addr()},
              {"Authorization", "DPoP " + svid},
              {"DPoP", Proof(key, "POST", "/v1/token", svid)},
              {"Content-Type", "application/x-www-form-urlencoded"}};
    return Send(Addr(), "POST", "/v1/token", form, h);
  }

  std::unique_ptr<crypto::SigningKey> key_;
  std::string svid_;
};

// Refused agent authentications are audited (within a per-source budget),
// never with the credential presented.
TEST_F(GrantsTest, FailedAgentAuthenticationIsAudited) {
  ASSERT_NO_FATAL_FAILURE(StartWithDemoPolicies());
  std::string body = Intent("triage-1", {"tickets.read"});
  // An SVID with a proof by another key.
  auto other = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
  ASSERT_TRUE(other.ok());
  HttpResult r = AgentSend("POST", "/v1/grants", body, Proof(*other, "POST", "/v1/grants", svid_));
  ASSERT_EQ(r.status, 401u) << r.body;
  // No credentials at all.
  r = Send(Addr(), "POST", "/v1/token", "grant_type=x",
           {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 401u) << r.body;
  json::array failed = Events("agent.auth_failed");
  std::string metrics = Get("/metrics").body;
  // The budget is per process and source: events past it are only counted.
  if (metrics.find("warden_admin_auth_audit_suppressed_total 0") == std::string::npos) {
    GTEST_SKIP() << "this process's budget for 127.0.0.1 was spent by earlier tests";
  }
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0].at("details").at("credential").as_string(), "svid");
  EXPECT_EQ(failed[0].at("details").at("error").as_string(), "invalid_dpop_proof");
  EXPECT_EQ(failed[0].at("details").at("route").as_string(), "POST /v1/grants");
  EXPECT_EQ(failed[1].at("details").at("error").as_string(), "missing_credentials");
  EXPECT_EQ(Get("/v1/audit?limit=1000").body.find(svid_), std::string::npos)
      << "an SVID reached the audit log";
}

TEST_F(GrantsTest, RoutineIntentIsGrantedWithAKeyBoundToken) {
  StartWithDemoPolicies();
  HttpResult r = AgentSend("POST", "/v1/grants", Intent("triage-1", {"tickets.read"}));
  ASSERT_EQ(r.status, 201u) << r.body;
  json::value body = r.Json();
  EXPECT_EQ(body.at("status").as_string(), "active");
  std::string id(body.at("id").as_string());
  auto decoded = crypto::DecodeJwt(std::string(body.at("token").as_string()));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->header.at("typ").as_string(), "wgrant+jwt");
  EXPECT_EQ(decoded->claims.at("cnf").at("jkt").as_string(), key_->kid());
  EXPECT_EQ(decoded->claims.at("grant").as_string(), id);

  // The decision is in the audit log with its policies and the policy set.
  json::array issued = Events("grant.issued");
  ASSERT_EQ(issued.size(), 1u);
  std::string log = Get("/v1/audit?limit=1000").body;
  EXPECT_NE(log.find("grant-routine-work"), std::string::npos);
  EXPECT_NE(log.find("policy_set_hash"), std::string::npos);
  EXPECT_EQ(log.find(std::string(body.at("token").as_string())), std::string::npos);

  // The agent reads it back; the admin sees it listed.
  HttpResult again = AgentSend("GET", "/v1/grants/" + id);
  ASSERT_EQ(again.status, 200u) << again.body;
  EXPECT_EQ(again.Json().at("status").as_string(), "active");
  HttpResult list = Get("/v1/grants?agent=builder&active=true");
  ASSERT_EQ(list.status, 200u) << list.body;
  EXPECT_EQ(list.Json().at("grants").as_array().size(), 1u);
  HttpResult show = Get("/v1/grants/" + id);
  ASSERT_EQ(show.status, 200u) << show.body;
  EXPECT_FALSE(show.Json().as_object().contains("token"));

  // Completing ends it.
  HttpResult done = AgentSend("POST", "/v1/grants/" + id + "/complete");
  ASSERT_EQ(done.status, 200u) << done.body;
  EXPECT_EQ(done.Json().at("status").as_string(), "completed");
  EXPECT_EQ(AgentSend("GET", "/v1/grants/" + id).status, 410u);
  EXPECT_EQ(Get("/v1/grants?active=true").Json().at("grants").as_array().size(), 0u);
  EXPECT_EQ(Get("/v1/grants").Json().at("grants").as_array().size(), 1u);
}

TEST_F(GrantsTest, DeniedIntentNamesThePolicies) {
  StartWithDemoPolicies();
  HttpResult r =
      AgentSend("POST", "/v1/grants", Intent("fix-prod", {"deploy.run"}, "internal", "prod"));
  ASSERT_EQ(r.status, 403u) << r.body;
  json::value body = r.Json();
  EXPECT_EQ(body.at("decision").as_string(), "deny");
  EXPECT_EQ(body.at("policies").as_array().at(0).as_string(), "environment-fence");
  EXPECT_FALSE(body.at("policy_set_hash").as_string().empty());
  json::array denied = Events("grant.denied");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].at("details").at("policies").as_array().at(0).as_string(),
            "environment-fence");
  // A TTL beyond the forbid is denied too.
  std::string longer = Intent("triage-2", {"tickets.read"});
  longer.replace(longer.find("\"10m\""), 5, "\"9h\"");
  EXPECT_EQ(AgentSend("POST", "/v1/grants", longer).status, 403u);
}

TEST_F(GrantsTest, NeedsApprovalThenApprovedGivesTheToken) {
  StartWithDemoPolicies();
  HttpResult r = AgentSend("POST", "/v1/grants", Intent("refund-7", {"payments.refund"}));
  ASSERT_EQ(r.status, 202u) << r.body;
  json::value body = r.Json();
  EXPECT_EQ(body.at("status").as_string(), "pending_approval");
  std::string id(body.at("id").as_string());
  std::string approval(body.at("approval_id").as_string());

  HttpResult pending = AgentSend("GET", "/v1/grants/" + id);
  EXPECT_EQ(pending.status, 202u) << pending.body;

  // A long poll answers once the approval is decided elsewhere.
  HttpResult waited;
  std::thread poller([&] { waited = AgentSend("GET", "/v1/grants/" + id + "?wait=10s"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  DecideOutOfProcess(approval, approvals::Verdict::kApprove);
  poller.join();
  ASSERT_EQ(waited.status, 200u) << waited.body;
  EXPECT_EQ(waited.Json().at("status").as_string(), "active");
  EXPECT_EQ(waited.Json().at("approval_id").as_string(), approval);
  auto decoded = crypto::DecodeJwt(std::string(waited.Json().at("token").as_string()));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->claims.at("approval").as_string(), approval);
  // Later reads keep answering the active grant; the approval was used once.
  EXPECT_EQ(AgentSend("GET", "/v1/grants/" + id).status, 200u);
  EXPECT_EQ(Events("approval.used").size(), 1u);
}

TEST_F(GrantsTest, DeniedOrExpiredApprovalEndsTheRequest) {
  StartWithDemoPolicies();
  HttpResult a = AgentSend("POST", "/v1/grants", Intent("export-1", {"data.export"}));
  ASSERT_EQ(a.status, 202u) << a.body;
  DecideOutOfProcess(std::string(a.Json().at("approval_id").as_string()),
                     approvals::Verdict::kDeny);
  HttpResult denied = AgentSend("GET", "/v1/grants/" + std::string(a.Json().at("id").as_string()));
  EXPECT_EQ(denied.status, 403u) << denied.body;

  HttpResult b = AgentSend("POST", "/v1/grants", Intent("refund-8", {"payments.refund"}));
  ASSERT_EQ(b.status, 202u) << b.body;
  clock_.Advance(std::chrono::minutes(16));
  svid_ = FetchSvid(*key_);
  HttpResult expired = AgentSend("GET", "/v1/grants/" + std::string(b.Json().at("id").as_string()));
  EXPECT_EQ(expired.status, 410u) << expired.body;
}

TEST_F(GrantsTest, ProofsAreRequiredBoundAndSingleUse) {
  StartWithDemoPolicies();
  std::string body = Intent("triage-3", {"tickets.read"});
  // No DPoP header.
  HttpResult none = Send(Addr(), "POST", "/v1/grants", body,
                         {{"Host", Addr()},
                          {"Authorization", "DPoP " + svid_},
                          {"Content-Type", "application/json"}});
  EXPECT_EQ(none.status, 401u);
  EXPECT_NE(none.headers["www-authenticate"].find("invalid_dpop_proof"), std::string::npos);
  // No credentials at all.
  EXPECT_EQ(Send(Addr(), "POST", "/v1/grants", body, {{"Content-Type", "application/json"}}).status,
            401u);
  // A bearer SVID (wrong scheme).
  HttpResult bearer = Send(Addr(), "POST", "/v1/grants", body,
                           {{"Host", Addr()},
                            {"Authorization", "Bearer " + svid_},
                            {"Content-Type", "application/json"}});
  EXPECT_EQ(bearer.status, 401u);
  // A proof by another key.
  auto other = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
  ASSERT_TRUE(other.ok());
  HttpResult foreign = AgentSend("POST", "/v1/grants", body, Proof(*other, "POST", "/v1/grants", svid_));
  EXPECT_EQ(foreign.status, 401u);
  EXPECT_NE(foreign.headers["www-authenticate"].find("invalid_dpop_proof"), std::string::npos);
  // A proof for another path or method.
  EXPECT_EQ(AgentSend("POST", "/v1/grants", body, Proof(*key_, "POST", "/v1/token", svid_)).status,
            401u);
  EXPECT_EQ(AgentSend("POST", "/v1/grants", body, Proof(*key_, "GET", "/v1/grants", svid_)).status,
            401u);
  // A proof is accepted once.
  std::string proof = Proof(*key_, "POST", "/v1/grants", svid_);
  EXPECT_EQ(AgentSend("POST", "/v1/grants", body, proof).status, 201u);
  HttpResult replay = AgentSend("POST", "/v1/grants", body, proof);
  EXPECT_EQ(replay.status, 401u) << replay.body;
  // An SVID without cnf.jkt is not enough.
  HttpResult plain = SendUnix((DataDir() / "public" / "workload.sock").string(), "GET", "/v1/svid");
  ASSERT_EQ(plain.status, 200u);
  std::string unbound(plain.Json().at("svid").as_string());
  HttpResult nokey = Send(Addr(), "POST", "/v1/grants", body,
                          {{"Host", Addr()},
                           {"Authorization", "DPoP " + unbound},
                           {"DPoP", Proof(*key_, "POST", "/v1/grants", unbound)},
                           {"Content-Type", "application/json"}});
  EXPECT_EQ(nokey.status, 401u);
  EXPECT_NE(nokey.headers["www-authenticate"].find("invalid_token"), std::string::npos);
  // An expired SVID.
  clock_.Advance(std::chrono::hours(1));
  HttpResult late = AgentSend("POST", "/v1/grants", body);
  EXPECT_EQ(late.status, 401u);
  EXPECT_NE(late.headers["www-authenticate"].find("invalid_token"), std::string::npos);
}

TEST_F(GrantsTest, RevokedAndExpiredGrantsAreRefused) {
  StartWithDemoPolicies();
  HttpResult r = AgentSend("POST", "/v1/grants", Intent("triage-4", {"tickets.read"}));
  ASSERT_EQ(r.status, 201u) << r.body;
  std::string id(r.Json().at("id").as_string());
  HttpResult revoked = Post("/v1/grants/" + id + "/revoke", R"({"reason":"incident 12"})");
  ASSERT_EQ(revoked.status, 200u) << revoked.body;
  EXPECT_EQ(revoked.Json().at("status").as_string(), "revoked");
  HttpResult after = AgentSend("GET", "/v1/grants/" + id);
  EXPECT_EQ(after.status, 410u);
  EXPECT_NE(after.body.find("incident 12"), std::string::npos);
  EXPECT_EQ(AgentSend("POST", "/v1/grants/" + id + "/complete").status, 409u);

  HttpResult s = AgentSend("POST", "/v1/grants", Intent("triage-5", {"tickets.read"}));
  ASSERT_EQ(s.status, 201u) << s.body;
  std::string second(s.Json().at("id").as_string());
  clock_.Advance(std::chrono::minutes(11));
  svid_ = FetchSvid(*key_);
  EXPECT_EQ(AgentSend("GET", "/v1/grants/" + second).status, 410u);
  EXPECT_EQ(Get("/v1/grants/" + second).Json().at("status").as_string(), "expired");
}

// The server records expiries by itself: no request has to touch the grant
// for its end to be in the evidence chain.
TEST_F(GrantsTest, HousekeepingRecordsExpiriesInTheAuditLog) {
  options_.housekeeping_interval = std::chrono::seconds(1);
  StartWithDemoPolicies();
  HttpResult r = AgentSend("POST", "/v1/grants", Intent("triage-6", {"tickets.read"}));
  ASSERT_EQ(r.status, 201u) << r.body;
  std::string id(r.Json().at("id").as_string());
  EXPECT_TRUE(Events("grant.expired").empty());
  clock_.Advance(std::chrono::minutes(11));
  // Bounded wait for the next rounds (each 1 s of real time).
  json::array expired;
  for (int i = 0; i < 100 && expired.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    expired = Events("grant.expired");
  }
  ASSERT_EQ(expired.size(), 1u) << "no grant.expired event within 10 s";
  EXPECT_EQ(expired[0].at("subject").as_string(), "grant:" + id);
  EXPECT_EQ(expired[0].at("actor").as_string(), "system");
  EXPECT_EQ(Get("/v1/grants/" + id).Json().at("status").as_string(), "expired");
  // Recorded once, however many rounds pass.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(Events("grant.expired").size(), 1u);
  EXPECT_EQ(Get("/v1/audit/verify").status, 200u);
}

TEST_F(GrantsTest, SuspendingTheAgentRevokesItsGrants) {
  StartWithDemoPolicies();
  HttpResult r = AgentSend("POST", "/v1/grants", Intent("triage-6", {"tickets.read"}));
  ASSERT_EQ(r.status, 201u) << r.body;
  std::string id(r.Json().at("id").as_string());
  HttpResult p = AgentSend("POST", "/v1/grants", Intent("refund-9", {"payments.refund"}));
  ASSERT_EQ(p.status, 202u) << p.body;
  ASSERT_EQ(Post("/v1/agents/builder/suspend", R"({"reason":"compromised"})").status, 200u);
  EXPECT_EQ(Get("/v1/grants/" + id).Json().at("status").as_string(), "revoked");
  EXPECT_EQ(Get("/v1/grants/" + std::string(p.Json().at("id").as_string())).Json().at("status")
                .as_string(),
            "revoked");
  EXPECT_EQ(Get("/v1/grants?agent=builder&active=true").Json().at("grants").as_array().size(), 0u);
}

TEST_F(GrantsTest, DelegationNarrowsAndRevocationCascades) {
  StartWithDemoPolicies();
  HttpResult r =
      AgentSend("POST", "/v1/grants", Intent("triage-8", {"tickets.read", "tickets.comment"}));
  ASSERT_EQ(r.status, 201u) << r.body;
  std::string parent_id(r.Json().at("id").as_string());
  std::string parent_token(r.Json().at("token").as_string());

  // A worker with its own identity, joined with a one-time token.
  Joined worker = JoinAgent("worker");
  ASSERT_TRUE(worker.key);
  const std::string worker_svid = worker.svid;
  auto exchange = [&](const std::string& subject, const std::string& scope) {
    return Exchange(*key_, svid_, subject, worker_svid, scope);
  };
  HttpResult child = exchange(parent_token, "tickets.read");
  ASSERT_EQ(child.status, 200u) << child.body;
  json::value body = child.Json();
  EXPECT_EQ(body.at("token_type").as_string(), "DPoP");
  EXPECT_EQ(body.at("issued_token_type").as_string(), "urn:warden:params:oauth:token-type:grant");
  EXPECT_GT(body.at("expires_in").as_int64(), 0);
  auto decoded = crypto::DecodeJwt(std::string(body.at("access_token").as_string()));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->claims.at("sub").as_string(), "spiffe://warden.local/agent/worker");
  EXPECT_EQ(decoded->claims.at("act").at("sub").as_string(), "spiffe://warden.local/agent/builder");
  EXPECT_EQ(decoded->claims.at("cnf").at("jkt").as_string(), worker.key->kid());
  std::string child_id(body.at("grant_id").as_string());

  // Widening is refused naming the element.
  HttpResult wider = exchange(parent_token, "tickets.read%20payments.refund");
  EXPECT_EQ(wider.status, 400u) << wider.body;
  EXPECT_EQ(wider.Json().at("error").as_string(), "invalid_scope");
  EXPECT_EQ(wider.Json().at("error_field").as_string(), "scope.actions[1]");
  // A scope is required.
  EXPECT_EQ(exchange(parent_token, "").status, 400u);
  // A stolen grant token is useless without its key: the worker, proving its
  // own key, cannot exchange the planner's grant.
  std::string planner_svid = svid_;
  std::unique_ptr<crypto::SigningKey> planner_key = std::move(key_);
  svid_ = worker_svid;
  key_ = std::move(worker.key);
  HttpResult stolen = exchange(parent_token, "tickets.read");
  EXPECT_EQ(stolen.status, 400u) << stolen.body;
  EXPECT_EQ(stolen.Json().at("error_field").as_string(), "subject_token");
  svid_ = planner_svid;
  key_ = std::move(planner_key);

  // Revoking the parent ends the child, and the parent token is refused.
  ASSERT_EQ(Post("/v1/grants/" + parent_id + "/revoke", "").status, 200u);
  EXPECT_EQ(Get("/v1/grants/" + child_id).Json().at("status").as_string(), "revoked");
  EXPECT_EQ(exchange(parent_token, "tickets.read").status, 400u);
}

TEST_F(GrantsTest, DelegationIsDecidedByPolicyForTheReceivingAgent) {
  StartWithDemoPolicies();
  HttpResult r = AgentSend("POST", "/v1/grants", Intent("triage-9", {"tickets.read"}));
  ASSERT_EQ(r.status, 201u) << r.body;
  std::string token(r.Json().at("token").as_string());
  Joined w1 = JoinAgent("worker-1");
  Joined w2 = JoinAgent("worker-2");
  Joined w3 = JoinAgent("worker-3");
  ASSERT_TRUE(w1.key && w2.key && w3.key);

  // Depth 1 and 2 pass the demo policies, each decided for the receiver.
  HttpResult c1 = Exchange(*key_, svid_, token, w1.svid, "tickets.read");
  ASSERT_EQ(c1.status, 200u) << c1.body;
  std::string t1(c1.Json().at("access_token").as_string());
  HttpResult c2 = Exchange(*w1.key, w1.svid, t1, w2.svid, "tickets.read");
  ASSERT_EQ(c2.status, 200u) << c2.body;
  std::string t2(c2.Json().at("access_token").as_string());
  json::array delegated = Events("grant.delegated");
  ASSERT_EQ(delegated.size(), 2u);
  const json::value& first = delegated[0].at("details");
  EXPECT_EQ(first.at("decision").at("decision").as_string(), "allow");
  EXPECT_EQ(first.at("decision").at("policies").at(0).as_string(), "grant-routine-work");
  EXPECT_EQ(first.at("decision").at("delegation").at("depth").as_int64(), 1);
  EXPECT_EQ(first.at("decision").at("delegation").at("parent_agent").as_string(), "builder");
  EXPECT_EQ(first.at("policy_hash"), first.at("decision").at("policy_set_hash"));
  EXPECT_EQ(delegated[1].at("details").at("decision").at("delegation").at("depth").as_int64(), 2);

  // Depth 3 is forbidden by the demo's delegation-depth-limit policy.
  HttpResult c3 = Exchange(*w2.key, w2.svid, t2, w3.svid, "tickets.read");
  ASSERT_EQ(c3.status, 403u) << c3.body;
  EXPECT_EQ(c3.Json().at("decision").as_string(), "deny");
  EXPECT_EQ(c3.Json().at("policies").at(0).as_string(), "delegation-depth-limit");
  EXPECT_FALSE(c3.Json().at("policy_set_hash").as_string().empty());
  json::array denied = Events("grant.denied");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].at("actor").as_string(), "agent:worker-2");
  EXPECT_EQ(denied[0].at("subject").as_string(), "agent:worker-3");
  EXPECT_EQ(denied[0].at("details").at("delegation").at("depth").as_int64(), 3);

  // Work that needs a human is not delegated: the exchange cannot wait.
  HttpResult refund = AgentSend("POST", "/v1/grants", Intent("refund-9", {"payments.refund"}));
  ASSERT_EQ(refund.status, 202u) << refund.body;
  std::string refund_id(refund.Json().at("id").as_string());
  DecideOutOfProcess(std::string(refund.Json().at("approval_id").as_string()),
                     approvals::Verdict::kApprove);
  HttpResult approved = AgentSend("GET", "/v1/grants/" + refund_id);
  ASSERT_EQ(approved.status, 200u) << approved.body;
  HttpResult asked = Exchange(*key_, svid_, std::string(approved.Json().at("token").as_string()),
                              w1.svid, "payments.refund");
  ASSERT_EQ(asked.status, 403u) << asked.body;
  EXPECT_EQ(asked.Json().at("decision").as_string(), "needs_approval");
  EXPECT_NE(asked.Json().at("error").at("message").as_string().find("cannot wait"),
            std::string::npos);
  EXPECT_EQ(Events("grant.delegated").size(), 2u);
}

// The approval is used in the transaction that activates its grant: a grant
// that can no longer be activated leaves its approval approved, not used.
TEST_F(GrantsTest, ApprovalIsUsedOnlyWithTheActivation) {
  StartWithDemoPolicies();
  HttpResult r = AgentSend("POST", "/v1/grants", Intent("refund-10", {"payments.refund"}));
  ASSERT_EQ(r.status, 202u) << r.body;
  std::string id(r.Json().at("id").as_string());
  std::string approval(r.Json().at("approval_id").as_string());
  DecideOutOfProcess(approval, approvals::Verdict::kApprove);
  // The agent is suspended after the approval: activation must fail.
  ASSERT_EQ(Post("/v1/agents/builder/suspend", R"({"reason":"investigation"})").status, 200u);
  ASSERT_EQ(Post("/v1/agents/builder/resume", R"({"reason":"cleared"})").status, 200u);
  HttpResult view = AgentSend("GET", "/v1/grants/" + id);
  EXPECT_NE(view.status, 200u) << view.body;
  EXPECT_TRUE(Events("approval.used").empty());
  HttpResult a = Get("/v1/approvals/" + approval);
  ASSERT_EQ(a.status, 200u) << a.body;
  EXPECT_EQ(a.Json().at("status").as_string(), "approved");
}

TEST_F(GrantsTest, AnotherAgentsGrantIsInvisibleAndAdminRoutesNeedTheAdminToken) {
  StartWithDemoPolicies();
  HttpResult r = AgentSend("POST", "/v1/grants", Intent("triage-7", {"tickets.read"}));
  ASSERT_EQ(r.status, 201u) << r.body;
  std::string id(r.Json().at("id").as_string());
  EXPECT_EQ(Send(Addr(), "GET", "/v1/grants").status, 401u);
  EXPECT_EQ(Send(Addr(), "GET", "/v1/grants/" + id).status, 401u);
  EXPECT_EQ(Send(Addr(), "POST", "/v1/grants/" + id + "/revoke").status, 401u);
  EXPECT_EQ(AgentSend("GET", "/v1/grants/grt_AAAAAAAAAAAAAAAAAAAAAAAAAA").status, 404u);
  EXPECT_EQ(Get("/v1/grants?bogus=1").status, 400u);
}

TEST_F(GrantsTest, MalformedIntentIsRefusedWithTheField) {
  StartWithDemoPolicies();
  HttpResult r = AgentSend("POST", "/v1/grants",
                           R"({"task":"t","description":"d","actions":["a"],"environment":"dev",)"
                           R"("sensitivity":"secret"})");
  ASSERT_EQ(r.status, 400u) << r.body;
  EXPECT_EQ(r.Json().at("error").at("field").as_string(), "sensitivity");
}

}  // namespace
}  // namespace warden::server::testing
