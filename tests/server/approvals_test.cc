// Human approvals over HTTP inside one process: approver management (admin),
// decisions authenticated by approver tokens, the self-approval rule,
// expiry, double decisions, long-polls and the audit trail. Approvals are
// created through the library on a second connection to the server's SQLite
// file, as a requester in the same deployment would.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "server/server_fixture.h"
#include "warden/approvals/approval_queue.h"
#include "warden/store/store.h"

namespace warden::server::testing {
namespace {

namespace json = boost::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

class ApprovalsTest : public ServerFixture {
 protected:
  void TearDown() override {
    queue_.reset();
    store_.reset();
    ServerFixture::TearDown();
  }

  // Starts the server and opens the requester's queue on the same database.
  void Start() {
    StartServer();
    auto store = store::OpenStore("sqlite:" + (DataDir() / "warden.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    queue_ = std::make_unique<approvals::ApprovalQueue>(*store_, clock_);
  }

  // A pending grant approval for `agent`, optionally on behalf of a human.
  std::string CreateApproval(const std::string& agent,
                             std::optional<std::string> on_behalf_of = std::nullopt,
                             std::chrono::seconds ttl = std::chrono::minutes(15)) {
    approvals::ApprovalRequest request;
    request.kind = approvals::ApprovalKind::kGrant;
    request.agent = agent;
    request.on_behalf_of = on_behalf_of;
    request.summary = json::object{{"agent", agent}, {"task", "deploy-42"}};
    request.subject_sha256 = approvals::ComputeSubjectSha256(
        request.kind, json::object{{"agent", agent}, {"intent", "deploy-42"}});
    request.ttl = ttl;
    auto created = queue_->Create(request, "agent:" + agent);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->id : std::string();
  }

  // Registers approver `name` over the admin API and returns its token.
  std::string AddApprover(const std::string& name) {
    HttpResult r = Post("/v1/approvers", json::serialize(json::object{{"name", name}}));
    EXPECT_EQ(r.status, 201u) << r.body;
    if (r.status != 201) return {};
    return std::string(r.Json().at("token").as_string());
  }

  static Headers Bearer(const std::string& token, bool json_body = false) {
    Headers h{{"Authorization", "Bearer " + token}};
    if (json_body) h.emplace_back("Content-Type", "application/json");
    return h;
  }

  HttpResult Decide(const std::string& id, const std::string& verb, const std::string& token,
                    const std::string& reason = "checked the change ticket") {
    return Send(Addr(), "POST", "/v1/approvals/" + id + "/" + verb,
                json::serialize(json::object{{"reason", reason}}), Bearer(token, true));
  }

  HttpResult GetAs(const std::string& target, const std::string& token) {
    return Send(Addr(), "GET", target, "", Bearer(token));
  }

  json::array Events(const std::string& kind) {
    json::array out;
    json::value page = Get("/v1/audit?limit=1000").Json();
    for (const auto& e : page.at("events").as_array()) {
      if (e.at("kind").as_string() == kind) out.push_back(e);
    }
    return out;
  }

  std::unique_ptr<store::Store> store_;
  std::unique_ptr<approvals::ApprovalQueue> queue_;
};

TEST_F(ApprovalsTest, AdminAddsListsAndDisablesApprovers) {
  Start();
  HttpResult r = Post("/v1/approvers", R"({"name":"bob"})");
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(r.headers["cache-control"], "no-store");
  EXPECT_EQ(r.headers["location"], "/v1/approvers/bob");
  json::object created = r.Json().as_object();
  std::string token(created.at("token").as_string());
  EXPECT_TRUE(token.starts_with("wap_"));
  EXPECT_EQ(created.at("name").as_string(), "bob");
  EXPECT_TRUE(created.contains("created_at"));

  // The same name again, a bad name, an unknown field.
  EXPECT_EQ(Post("/v1/approvers", R"({"name":"bob"})").status, 409u);
  HttpResult bad = Post("/v1/approvers", R"({"name":"Bob Smith"})");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.ErrorField(), "name");
  HttpResult extra = Post("/v1/approvers", R"({"name":"carol","admin":true})");
  EXPECT_EQ(extra.status, 400u);
  EXPECT_EQ(extra.ErrorField(), "admin");

  HttpResult list = Get("/v1/approvers");
  ASSERT_EQ(list.status, 200u) << list.body;
  json::array approvers = list.Json().at("approvers").as_array();
  ASSERT_EQ(approvers.size(), 1u);
  EXPECT_EQ(approvers[0].at("name").as_string(), "bob");
  EXPECT_TRUE(approvers[0].at("enabled").as_bool());
  EXPECT_FALSE(approvers[0].as_object().contains("token"));
  // Shown once: neither the list nor the audit log holds the token.
  EXPECT_EQ(list.body.find(token), std::string::npos);
  EXPECT_EQ(Get("/v1/audit?limit=1000").body.find(token), std::string::npos);
  EXPECT_EQ(Events("approver.added").size(), 1u);

  // Approver management is for the admin only.
  EXPECT_EQ(Send(Addr(), "POST", "/v1/approvers", R"({"name":"mallory"})", Bearer(token, true))
                .status,
            401u);
  EXPECT_EQ(GetAs("/v1/approvers", token).status, 401u);
  EXPECT_EQ(Send(Addr(), "POST", "/v1/approvers/bob/disable", "", Bearer(token)).status, 401u);

  HttpResult disabled = Post("/v1/approvers/bob/disable", "");
  ASSERT_EQ(disabled.status, 200u) << disabled.body;
  EXPECT_FALSE(disabled.Json().at("enabled").as_bool());
  EXPECT_TRUE(disabled.Json().as_object().contains("disabled_at"));
  EXPECT_EQ(Post("/v1/approvers/bob/disable", "").status, 409u);
  EXPECT_EQ(Post("/v1/approvers/nobody/disable", "").status, 404u);
  EXPECT_EQ(Post("/v1/approvers/bob/disable", R"({"force":true})").status, 400u);
  // A disabled approver's token stops working at once.
  EXPECT_EQ(GetAs("/v1/approvals", token).status, 401u);
}

TEST_F(ApprovalsTest, ApproverApprovesWithTokenAndTheDecisionIsFinal) {
  Start();
  std::string bob = AddApprover("bob");
  std::string id = CreateApproval("builder", "alice@example.com");

  // Approvers see the queue with their own token.
  HttpResult pending = GetAs("/v1/approvals", bob);
  ASSERT_EQ(pending.status, 200u) << pending.body;
  json::array items = pending.Json().at("approvals").as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].at("id").as_string(), id);
  EXPECT_EQ(items[0].at("status").as_string(), "pending");
  EXPECT_EQ(items[0].at("summary").at("task").as_string(), "deploy-42");

  // The approver is taken from the token; the body cannot name one.
  HttpResult claim = Send(Addr(), "POST", "/v1/approvals/" + id + "/approve",
                          R"({"reason":"ok","approver":"carol"})", Bearer(bob, true));
  EXPECT_EQ(claim.status, 400u);
  EXPECT_EQ(claim.ErrorField(), "approver");
  HttpResult no_reason =
      Send(Addr(), "POST", "/v1/approvals/" + id + "/approve", "{}", Bearer(bob, true));
  EXPECT_EQ(no_reason.status, 400u);
  EXPECT_EQ(no_reason.ErrorField(), "reason");

  HttpResult approved = Decide(id, "approve", bob);
  ASSERT_EQ(approved.status, 200u) << approved.body;
  json::object a = approved.Json().as_object();
  EXPECT_EQ(a.at("status").as_string(), "approved");
  EXPECT_EQ(a.at("decided_by").as_string(), "bob");
  EXPECT_EQ(a.at("reason").as_string(), "checked the change ticket");

  // Decided once: approving or denying again is a conflict with the reason.
  HttpResult again = Decide(id, "approve", bob);
  EXPECT_EQ(again.status, 409u);
  EXPECT_FALSE(again.Json().at("error").at("message").as_string().empty());
  EXPECT_EQ(Decide(id, "deny", bob).status, 409u);

  HttpResult shown = Get("/v1/approvals/" + id);
  ASSERT_EQ(shown.status, 200u);
  EXPECT_EQ(shown.Json().at("status").as_string(), "approved");
  EXPECT_EQ(GetAs("/v1/approvals/" + id, bob).Json().at("decided_by").as_string(), "bob");

  json::array events = Events("approval.approved");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("actor").as_string(), "approver:bob");
  EXPECT_EQ(events[0].at("details").at("approver").as_string(), "bob");
  EXPECT_EQ(Get("/v1/audit?limit=1000").body.find(bob), std::string::npos);

  // The approved approval can be consumed once by the requester.
  auto used = queue_->Consume(
      id,
      approvals::ComputeSubjectSha256(approvals::ApprovalKind::kGrant,
                                      json::object{{"agent", "builder"}, {"intent", "deploy-42"}}),
      "grant:test");
  ASSERT_TRUE(used.ok()) << used.status().ToString();
  EXPECT_EQ(Get("/v1/approvals/" + id).Json().at("status").as_string(), "used");
}

TEST_F(ApprovalsTest, ApproverDenies) {
  Start();
  std::string bob = AddApprover("bob");
  std::string id = CreateApproval("builder");
  HttpResult denied = Decide(id, "deny", bob, "  no change ticket  ");
  ASSERT_EQ(denied.status, 200u) << denied.body;
  EXPECT_EQ(denied.Json().at("status").as_string(), "denied");
  EXPECT_EQ(denied.Json().at("reason").as_string(), "no change ticket");
  EXPECT_EQ(Decide(id, "approve", bob).status, 409u);
  EXPECT_EQ(Events("approval.denied").size(), 1u);
  HttpResult list = Get("/v1/approvals?status=denied");
  ASSERT_EQ(list.status, 200u);
  EXPECT_EQ(list.Json().at("approvals").as_array().size(), 1u);
  EXPECT_EQ(Get("/v1/approvals").Json().at("approvals").as_array().size(), 0u);
}

TEST_F(ApprovalsTest, SelfApprovalIsRefused) {
  Start();
  std::string as_agent = AddApprover("builder");
  std::string as_human = AddApprover("alice");
  std::string other = AddApprover("bob");
  std::string id = CreateApproval("builder", "Alice@Example.com");

  HttpResult by_agent = Decide(id, "approve", as_agent);
  EXPECT_EQ(by_agent.status, 403u) << by_agent.body;
  HttpResult by_human = Decide(id, "approve", as_human);
  EXPECT_EQ(by_human.status, 403u) << by_human.body;
  EXPECT_EQ(Decide(id, "deny", as_human).status, 403u);
  EXPECT_EQ(Get("/v1/approvals/" + id).Json().at("status").as_string(), "pending");
  EXPECT_GE(Events("approval.refused").size(), 3u);

  EXPECT_EQ(Decide(id, "approve", other).status, 200u);
}

TEST_F(ApprovalsTest, DecisionsNeedAValidApproverToken) {
  Start();
  std::string bob = AddApprover("bob");
  std::string id = CreateApproval("builder");
  const std::string target = "/v1/approvals/" + id + "/approve";
  const std::string body = R"({"reason":"ok"})";

  HttpResult none = Send(Addr(), "POST", target, body, {{"Content-Type", "application/json"}});
  EXPECT_EQ(none.status, 401u);
  EXPECT_FALSE(none.headers["www-authenticate"].empty());
  std::string forged = "wap_" + std::string(43, 'A');
  EXPECT_EQ(Decide(id, "approve", forged).status, 401u);
  EXPECT_EQ(Decide(id, "approve", bob + "x").status, 401u);
  // The admin token is not an approver token.
  EXPECT_EQ(Decide(id, "approve", token_).status, 401u);
  EXPECT_EQ(Send(Addr(), "POST", target, body,
                 {{"Authorization", "Basic Ym9iOmJvYg=="}, {"Content-Type", "application/json"}})
                .status,
            401u);
  // Reading with a wrong approver token is refused too.
  EXPECT_EQ(GetAs("/v1/approvals", forged).status, 401u);
  EXPECT_EQ(GetAs("/v1/approvals/" + id, forged).status, 401u);

  ASSERT_EQ(Post("/v1/approvers/bob/disable", "").status, 200u);
  EXPECT_EQ(Decide(id, "approve", bob).status, 401u);
  EXPECT_EQ(Get("/v1/approvals/" + id).Json().at("status").as_string(), "pending");

  json::array failures = Events("approver.auth_failed");
  ASSERT_GE(failures.size(), 4u);
  EXPECT_EQ(failures[0].at("details").at("reason").as_string(), "invalid_token");
  std::string audit = Get("/v1/audit?limit=1000").body;
  EXPECT_EQ(audit.find(forged), std::string::npos);
  EXPECT_EQ(audit.find(bob), std::string::npos);
}

TEST_F(ApprovalsTest, AuthFailureAuditIsRateLimitedPerSource) {
  options_.auth_failure_events_per_minute = 2;
  Start();
  std::string id = CreateApproval("builder");
  std::string forged = "wap_" + std::string(43, 'B');
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Decide(id, "approve", forged).status, 401u);
  EXPECT_EQ(Events("approver.auth_failed").size(), 2u);
  clock_.Advance(std::chrono::minutes(2));
  EXPECT_EQ(Decide(id, "approve", forged).status, 401u);
  json::array failures = Events("approver.auth_failed");
  ASSERT_EQ(failures.size(), 3u);
  EXPECT_EQ(failures[2].at("details").at("suppressed_since_last").as_int64(), 3);
}

TEST_F(ApprovalsTest, ExpiredApprovalCannotBeDecided) {
  Start();
  std::string bob = AddApprover("bob");
  std::string id = CreateApproval("builder", std::nullopt, std::chrono::minutes(5));
  clock_.Advance(std::chrono::minutes(5));
  HttpResult late = Decide(id, "approve", bob);
  EXPECT_EQ(late.status, 409u) << late.body;
  EXPECT_NE(late.Json().at("error").at("message").as_string().find("expire"), std::string::npos)
      << late.body;
  EXPECT_EQ(Get("/v1/approvals/" + id).Json().at("status").as_string(), "expired");
  EXPECT_EQ(Get("/v1/approvals?status=expired").Json().at("approvals").as_array().size(), 1u);
  EXPECT_EQ(Get("/v1/approvals").Json().at("approvals").as_array().size(), 0u);
}

TEST_F(ApprovalsTest, ListFiltersAndChecksQueries) {
  Start();
  // Oldest first: created_at orders them (the id only breaks ties).
  std::string a = CreateApproval("builder");
  clock_.Advance(std::chrono::seconds(1));
  std::string b = CreateApproval("reporter");
  clock_.Advance(std::chrono::seconds(1));
  std::string c = CreateApproval("builder");
  json::array all = Get("/v1/approvals?status=all").Json().at("approvals").as_array();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].at("id").as_string(), a);
  EXPECT_EQ(all[2].at("id").as_string(), c);
  json::array builder = Get("/v1/approvals?agent=builder").Json().at("approvals").as_array();
  EXPECT_EQ(builder.size(), 2u);
  EXPECT_EQ(Get("/v1/approvals?limit=1").Json().at("approvals").as_array().size(), 1u);

  EXPECT_EQ(Get("/v1/approvals?status=maybe").ErrorField(), "status");
  EXPECT_EQ(Get("/v1/approvals?limit=0").ErrorField(), "limit");
  EXPECT_EQ(Get("/v1/approvals?limit=1001").ErrorField(), "limit");
  EXPECT_EQ(Get("/v1/approvals?agent=Not%20An%20Agent").ErrorField(), "agent");
  EXPECT_EQ(Get("/v1/approvals?owner=x").ErrorField(), "owner");
  EXPECT_EQ(Get("/v1/approvals/not-an-id").status, 400u);
  EXPECT_EQ(Get("/v1/approvals/apr_" + std::string(26, 'a')).status, 404u);
  EXPECT_EQ(Get("/v1/approvals/" + b + "?wait=1y").ErrorField(), "wait");
  EXPECT_EQ(Get("/v1/approvals/" + b + "?wait=soon").ErrorField(), "wait");
  EXPECT_EQ(Send(Addr(), "GET", "/v1/approvals").status, 401u);
}

TEST_F(ApprovalsTest, LongPollWakesOnDecision) {
  Start();
  std::string bob = AddApprover("bob");
  std::string id = CreateApproval("builder");
  HttpResult waited;
  auto started = std::chrono::steady_clock::now();
  std::thread poller([&] { waited = Get("/v1/approvals/" + id + "?wait=20s"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(Decide(id, "deny", bob).status, 200u);
  poller.join();
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(waited.status, 200u) << waited.body << waited.error;
  EXPECT_EQ(waited.Json().at("status").as_string(), "denied");
  EXPECT_EQ(waited.Json().at("decided_by").as_string(), "bob");
  EXPECT_LT(took, std::chrono::seconds(10));

  // A decided approval answers at once, wait or not.
  auto again = std::chrono::steady_clock::now();
  EXPECT_EQ(Get("/v1/approvals/" + id + "?wait=20s").Json().at("status").as_string(), "denied");
  EXPECT_LT(std::chrono::steady_clock::now() - again, std::chrono::seconds(5));
}

TEST_F(ApprovalsTest, LongPollSeesDecisionsFromAnotherProcess) {
  Start();
  ASSERT_FALSE(AddApprover("bob").empty());
  std::string id = CreateApproval("builder");
  HttpResult waited;
  std::thread poller([&] { waited = Get("/v1/approvals/" + id + "?wait=20s"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Decided on the other connection: the server's counter does not move, so
  // only the periodic recheck can see it.
  ASSERT_TRUE(queue_->Decide(id, "bob", approvals::Verdict::kApprove, "fine").ok());
  poller.join();
  ASSERT_EQ(waited.status, 200u) << waited.body << waited.error;
  EXPECT_EQ(waited.Json().at("status").as_string(), "approved");
}

TEST_F(ApprovalsTest, LongPollTimesOutWithThePendingApproval) {
  Start();
  std::string id = CreateApproval("builder");
  auto started = std::chrono::steady_clock::now();
  HttpResult waited = Get("/v1/approvals/" + id + "?wait=1s");
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(waited.status, 200u) << waited.body << waited.error;
  EXPECT_EQ(waited.Json().at("status").as_string(), "pending");
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_F(ApprovalsTest, LongPollAnswersWhenTheApprovalExpires) {
  Start();
  std::string id = CreateApproval("builder", std::nullopt, std::chrono::minutes(1));
  HttpResult waited;
  std::thread poller([&] { waited = Get("/v1/approvals/" + id + "?wait=20s"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  clock_.Advance(std::chrono::minutes(2));
  poller.join();
  ASSERT_EQ(waited.status, 200u) << waited.body << waited.error;
  EXPECT_EQ(waited.Json().at("status").as_string(), "expired");
}

}  // namespace
}  // namespace warden::server::testing
