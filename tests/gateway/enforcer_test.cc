// The Enforcer against a real store, registry, grant service, approval queue
// and the demo policies (examples/policies): allow, deny, needs approval and
// its follow-up, scope misses, max_calls, ended grants, per-tool actions and
// the audit events written.
#include "warden/gateway/enforcer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "identity/test_util.h"
#include "warden/approvals/approvers.h"
#include "warden/core/json.h"
#include "warden/crypto/signing_key.h"
#include "warden/gateway/jsonrpc.h"
#include "warden/gateway/mcp_proxy.h"

namespace warden::gateway {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using identity::testing::AllEvents;
using identity::testing::OpenTestStore;
using identity::testing::TempDir;
using std::chrono::hours;
using std::chrono::minutes;

class EnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store_ = OpenTestStore(dir_);
    ASSERT_NE(store_, nullptr);
    registry_ = std::make_unique<identity::AgentRegistry>(*store_, clock_,
                                                          identity::RegistryOptions{});
    identity::AgentSpec spec;
    spec.name = "helpbot";
    spec.owner = "team-support";
    spec.purpose = "answer tickets";
    spec.environment = "dev";
    spec.expires_in = hours(24 * 30);
    ASSERT_TRUE(registry_->Create(spec, "admin").ok());
    auto ring = identity::KeyRing::Open(*store_, dir_.path() / "keys", crypto::Algorithm::kEd25519,
                                        clock_, hours(24));
    ASSERT_TRUE(ring.ok()) << ring.status().ToString();
    ring_ = std::move(*ring);
    auto grants = grants::GrantService::Open(*store_, *ring_, clock_, {});
    ASSERT_TRUE(grants.ok());
    grants_ = std::move(*grants);
    approvals_ = std::make_unique<approvals::ApprovalQueue>(*store_, clock_);
    approvers_ = std::make_unique<approvals::ApproverRegistry>(*store_, clock_);
    ASSERT_TRUE(approvers_->Add("carol", "admin").ok());
    WritePolicies("");
    enforcer_ = std::make_unique<Enforcer>(*policies_, *grants_, *approvals_, *registry_, *store_,
                                           clock_);
    helpdesk_.name = "helpdesk";
    helpdesk_.url = "http://127.0.0.1:9/mcp";
  }

  // The demo policy folder plus `extra_schema` appended to the schema.
  void WritePolicies(const std::string& extra_schema, const std::string& extra_policies = "") {
    const char* src = std::getenv("WARDEN_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    fs::path dir = dir_.path() / "policies";
    fs::create_directories(dir);
    for (const auto& e : fs::directory_iterator(fs::path(src) / "examples" / "policies")) {
      fs::copy(e.path(), dir / e.path().filename(), fs::copy_options::overwrite_existing);
    }
    if (!extra_schema.empty()) std::ofstream(dir / "schema.cedarschema", std::ios::app) << extra_schema;
    if (!extra_policies.empty()) std::ofstream(dir / "extra.cedar") << extra_policies;
    if (policies_) {
      auto reloaded = policies_->Reload();
      ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
      return;
    }
    auto engine = policy::PolicyEngine::Create(dir, clock_);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    policies_ = std::move(*engine);
  }

  GrantedCaller Grant(std::vector<std::string> actions, std::optional<int64_t> max_calls = {}) {
    grants::GrantRequest req;
    req.agent = "helpbot";
    auto key = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
    EXPECT_TRUE(key.ok());
    if (!key.ok()) return {};
    req.jkt = key->kid();
    req.intent.task = "TCK-1";
    req.intent.description = "answer ticket 1";
    req.intent.scope.actions = std::move(actions);
    req.intent.environment = "dev";
    req.intent.ttl = minutes(30);
    req.intent.limits.max_calls = max_calls;
    req.policy_hash = "test";
    auto g = grants_->Create(req);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    if (!g.ok()) return {};
    auto token = grants_->MintToken(g->id);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    if (!token.ok()) return {};
    auto claims = grants_->VerifyToken(*token);
    EXPECT_TRUE(claims.ok()) << claims.status().ToString();
    if (!claims.ok()) return {};
    return GrantedCaller{*claims, "helpbot"};
  }

  Operation Call(const std::string& tool, json::object args = {}) {
    return ToolCallOperation(helpdesk_, ToolCall{tool, std::move(args)}, false);
  }

  std::vector<audit::Event> Events(const std::string& kind) {
    std::vector<audit::Event> out;
    for (auto& e : AllEvents(*store_)) {
      if (e.kind == kind) out.push_back(std::move(e));
    }
    return out;
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<identity::AgentRegistry> registry_;
  std::unique_ptr<identity::KeyRing> ring_;
  std::unique_ptr<grants::GrantService> grants_;
  std::unique_ptr<approvals::ApprovalQueue> approvals_;
  std::unique_ptr<approvals::ApproverRegistry> approvers_;
  std::unique_ptr<policy::PolicyEngine> policies_;
  std::unique_ptr<Enforcer> enforcer_;
  Upstream helpdesk_;
};

const std::vector<std::string> kAllTools = {"helpdesk/read_ticket", "helpdesk/delete_ticket",
                                            "helpdesk/issue_refund"};

TEST_F(EnforcerTest, AllowIsAuditedWithItsOutcome) {
  GrantedCaller caller = Grant(kAllTools);
  auto v = enforcer_->Authorize(caller, Call("read_ticket", {{"id", 42}}));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->kind, VerdictKind::kAllow) << v->reason;
  EXPECT_EQ(v->policies, std::vector<std::string>{"read-tickets"});
  EXPECT_EQ(v->policy_set_hash, policies_->Current()->hash);
  EXPECT_TRUE(Events("gateway.call").empty());  // written by Complete

  ForwardOutcome outcome;
  outcome.ok = true;
  outcome.result_sha256 = CanonicalSha256(json::object{{"content", json::array()}});
  outcome.result_bytes = 14;
  outcome.upstream_latency = std::chrono::milliseconds(7);
  ASSERT_TRUE(enforcer_->Complete(*v, outcome).ok());
  auto events = Events("gateway.call");
  ASSERT_EQ(events.size(), 1u);
  const json::object& d = events[0].details;
  EXPECT_EQ(events[0].actor, "agent:helpbot");
  EXPECT_EQ(events[0].subject, "tool:helpdesk/read_ticket");
  EXPECT_EQ(d.at("decision"), "allow");
  EXPECT_EQ(d.at("grant"), json::value(caller.claims.grant_id));
  EXPECT_EQ(d.at("tool"), "helpdesk/read_ticket");
  EXPECT_EQ(d.at("args_sha256"), json::value(CanonicalSha256(json::object{{"id", 42}})));
  EXPECT_FALSE(d.contains("arguments"));
  EXPECT_EQ(d.at("result_bytes"), json::value(14));
  EXPECT_EQ(d.at("upstream_latency_ms"), json::value(7));
  EXPECT_EQ(d.at("outcome"), "forwarded");
  EXPECT_EQ(d.at("policies").as_array().size(), 1u);
}

TEST_F(EnforcerTest, ForbidDeniesWithThePolicyName) {
  GrantedCaller caller = Grant(kAllTools);
  auto v = enforcer_->Authorize(caller, Call("delete_ticket"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->kind, VerdictKind::kDeny);
  EXPECT_EQ(v->policies, std::vector<std::string>{"no-ticket-deletion"});
  json::object data = v->ToErrorData();
  EXPECT_EQ(data.at("grant"), json::value(caller.claims.grant_id));
  EXPECT_EQ(data.at("decision"), "deny");
  EXPECT_FALSE(data.at("reason").as_string().empty());
  auto events = Events("gateway.call");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].details.at("decision"), "deny");
}

TEST_F(EnforcerTest, ScopeMissIsDeniedWithoutAskingCedar) {
  GrantedCaller caller = Grant({"helpdesk/read_ticket"});
  auto v = enforcer_->Authorize(caller, Call("issue_refund"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->kind, VerdictKind::kDeny);
  EXPECT_TRUE(v->policy_set_hash.empty());
  EXPECT_NE(v->reason.find("does not cover helpdesk/issue_refund"), std::string::npos) << v->reason;
  // Unknown tool: default deny from Cedar when in scope.
  GrantedCaller wide = Grant({"helpdesk/other"});
  auto other = enforcer_->Authorize(wide, Call("other"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->kind, VerdictKind::kDeny);
  EXPECT_NE(other->reason.find("default deny"), std::string::npos) << other->reason;
}

TEST_F(EnforcerTest, ScopeResourcesArePatterns) {
  EXPECT_TRUE(ResourceCovered({"/v1/*"}, "/v1/invoices"));
  EXPECT_TRUE(ResourceCovered({"/exact"}, "/exact"));
  EXPECT_FALSE(ResourceCovered({"/exact"}, "/exact/more"));
  EXPECT_FALSE(ResourceCovered({"/v1/*"}, "/v2/x"));
  EXPECT_FALSE(ResourceCovered({}, "/x"));
  GrantedCaller caller = Grant({"helpdesk/read_ticket"});
  caller.claims.scope.resources = {"tickets/1*"};
  Operation op = Call("read_ticket");
  op.scope_resource = "tickets/2";
  auto v = enforcer_->Authorize(caller, op);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->kind, VerdictKind::kDeny);
  EXPECT_NE(v->reason.find("does not cover resource tickets/2"), std::string::npos);
  op.scope_resource = "tickets/12";
  v = enforcer_->Authorize(caller, op);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->kind, VerdictKind::kAllow) << v->reason;
}

TEST_F(EnforcerTest, NeedsApprovalThenTheIdenticalCallConsumesIt) {
  GrantedCaller caller = Grant(kAllTools);
  json::object args{{"ticket", "T-1"}, {"amount", 30}};
  auto first = enforcer_->Authorize(caller, Call("issue_refund", args));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->kind, VerdictKind::kNeedsApproval) << first->reason;
  ASSERT_TRUE(first->approval_id);
  EXPECT_EQ(first->policies, std::vector<std::string>{"refunds-need-approval"});
  auto approval = approvals_->Get(*first->approval_id);
  ASSERT_TRUE(approval.ok());
  EXPECT_EQ(approval->kind, approvals::ApprovalKind::kCall);
  EXPECT_EQ(approval->subject_sha256, first->subject_sha256);
  EXPECT_EQ(approval->summary.at("tool"), "helpdesk/issue_refund");
  EXPECT_FALSE(approval->summary.contains("arguments"));

  // Asking again while pending reuses the approval (no second one).
  auto again = enforcer_->Authorize(caller, Call("issue_refund", args));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->kind, VerdictKind::kNeedsApproval);
  EXPECT_EQ(again->approval_id, first->approval_id);
  EXPECT_EQ(enforcer_->ApprovalStatus(*first->approval_id).value(),
            approvals::ApprovalStatus::kPending);

  ASSERT_TRUE(approvals_->Decide(*first->approval_id, "carol", approvals::Verdict::kApprove,
                                 "refund ok")
                  .ok());
  // Different arguments are a different call: not covered by this approval.
  json::object other_args{{"ticket", "T-1"}, {"amount", 3000}};
  auto other = enforcer_->Authorize(caller, Call("issue_refund", other_args));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->kind, VerdictKind::kNeedsApproval);
  EXPECT_NE(other->approval_id, first->approval_id);

  // Naming the approval for the other call is refused.
  auto wrong = enforcer_->Authorize(caller, Call("issue_refund", other_args), first->approval_id);
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->kind, VerdictKind::kDeny);
  EXPECT_NE(wrong->reason.find("another call"), std::string::npos);

  // The identical call (members in another order) is allowed once.
  json::object reordered{{"amount", 30}, {"ticket", "T-1"}};
  auto ok = enforcer_->Authorize(caller, Call("issue_refund", reordered));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->kind, VerdictKind::kAllow) << ok->reason;
  EXPECT_EQ(ok->approval_id, first->approval_id);
  EXPECT_EQ(approvals_->Get(*first->approval_id)->stored_status, approvals::ApprovalStatus::kUsed);
  // Used up: the next identical call needs a new approval.
  auto next = enforcer_->Authorize(caller, Call("issue_refund", reordered));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->kind, VerdictKind::kNeedsApproval);
  EXPECT_NE(next->approval_id, first->approval_id);
  // Named explicitly, the used one is a deny.
  auto used = enforcer_->Authorize(caller, Call("issue_refund", reordered), first->approval_id);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(used->kind, VerdictKind::kDeny);
}

TEST_F(EnforcerTest, DeniedApprovalDenies) {
  GrantedCaller caller = Grant(kAllTools);
  auto first = enforcer_->Authorize(caller, Call("issue_refund"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->approval_id);
  ASSERT_TRUE(approvals_->Decide(*first->approval_id, "carol", approvals::Verdict::kDeny, "no")
                  .ok());
  auto v = enforcer_->Authorize(caller, Call("issue_refund"), first->approval_id);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->kind, VerdictKind::kDeny);
  EXPECT_NE(v->reason.find("denied"), std::string::npos) << v->reason;
}

TEST_F(EnforcerTest, MaxCallsIsCountedOnAllows) {
  GrantedCaller caller = Grant(kAllTools, 2);
  for (int i = 0; i < 2; ++i) {
    auto v = enforcer_->Authorize(caller, Call("read_ticket"));
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->kind, VerdictKind::kAllow) << v->reason;
  }
  // A deny does not count, and the third allow is refused.
  EXPECT_EQ(enforcer_->Authorize(caller, Call("delete_ticket"))->kind, VerdictKind::kDeny);
  auto third = enforcer_->Authorize(caller, Call("read_ticket"));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->kind, VerdictKind::kDeny);
  EXPECT_NE(third->reason.find("used all of its 2 calls"), std::string::npos) << third->reason;
}

TEST_F(EnforcerTest, EndedGrantIsDenied) {
  GrantedCaller caller = Grant(kAllTools);
  ASSERT_TRUE(grants_->Revoke(caller.claims.grant_id, "admin", "test").ok());
  auto v = enforcer_->Authorize(caller, Call("read_ticket"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->kind, VerdictKind::kDeny);
  EXPECT_NE(v->reason.find("revoked"), std::string::npos) << v->reason;
  // Another agent presenting the claims is refused too.
  GrantedCaller other = Grant(kAllTools);
  other.agent = "mallory";
  EXPECT_EQ(enforcer_->Authorize(other, Call("read_ticket"))->kind, VerdictKind::kDeny);
}

TEST_F(EnforcerTest, PreviewFiltersWithoutSideEffects) {
  GrantedCaller caller = Grant({"helpdesk/read_ticket", "helpdesk/delete_ticket",
                                "helpdesk/issue_refund"});
  auto kinds = enforcer_->Preview(
      caller, {Call("read_ticket"), Call("delete_ticket"), Call("issue_refund"), Call("nope")});
  ASSERT_TRUE(kinds.ok());
  EXPECT_EQ((*kinds)[0], VerdictKind::kAllow);
  EXPECT_EQ((*kinds)[1], VerdictKind::kDeny);
  EXPECT_EQ((*kinds)[2], VerdictKind::kNeedsApproval);
  EXPECT_EQ((*kinds)[3], VerdictKind::kDeny);
  EXPECT_TRUE(Events("gateway.call").empty());
  EXPECT_TRUE(approvals_->List().value().empty());
}

TEST_F(EnforcerTest, PerToolActionTypesArgumentsForPolicies) {
  WritePolicies(R"(
action "call:helpdesk/issue_refund" in ["call"] appliesTo {
  principal: [Agent],
  resource: [Tool],
  context: {
    server: String, tool: String, environment: String, sensitivity: String,
    arguments: { ticket: String, amount: Long },
    approval?: Approval,
  },
};
)",
                R"(
@id("small-refunds")
permit (principal is Agent, action == Action::"call:helpdesk/issue_refund", resource)
when { context.arguments.amount <= 50 };
)");
  GrantedCaller caller = Grant(kAllTools);
  auto small = enforcer_->Authorize(caller, Call("issue_refund", {{"ticket", "T"}, {"amount", 20}}));
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->kind, VerdictKind::kAllow) << small->reason;
  EXPECT_EQ(small->policies, std::vector<std::string>{"small-refunds"});
  // The group's policies still apply: `action in Action::"call"` matches.
  auto big = enforcer_->Authorize(caller, Call("issue_refund", {{"ticket", "T"}, {"amount", 90}}));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->kind, VerdictKind::kNeedsApproval) << big->reason;
  EXPECT_EQ(big->policies, std::vector<std::string>{"refunds-need-approval"});
  // Listing cannot judge a typed action without arguments: it is shown.
  auto listed = enforcer_->Preview(caller, {Call("issue_refund"), Call("delete_ticket")});
  ASSERT_TRUE(listed.ok());
  EXPECT_NE((*listed)[0], VerdictKind::kDeny);
  EXPECT_EQ((*listed)[1], VerdictKind::kDeny);
  // Arguments the schema does not allow are refused, never decided.
  auto bad = enforcer_->Authorize(caller, Call("issue_refund", {{"ticket", 1}, {"amount", 2}}));
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->kind, VerdictKind::kDeny);
  EXPECT_NE(bad->reason.find("policy schema"), std::string::npos) << bad->reason;
}

TEST_F(EnforcerTest, AuditKeepsArgumentsOnlyWhenConfigured) {
  GrantedCaller caller = Grant(kAllTools);
  Operation op = ToolCallOperation(helpdesk_, ToolCall{"read_ticket", {{"id", 1}}}, true);
  auto v = enforcer_->Authorize(caller, op);
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(enforcer_->Complete(*v, ForwardOutcome{}).ok());
  auto events = Events("gateway.call");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].details.at("arguments"), (json::object{{"id", 1}}));
  EXPECT_EQ(events[0].details.at("outcome"), "upstream_error");
}

}  // namespace
}  // namespace warden::gateway
