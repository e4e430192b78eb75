#include "warden/grants/grant_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <map>
#include <thread>

#include "test_util.h"
#include "warden/approvals/approval_queue.h"
#include "warden/approvals/approvers.h"
#include "warden/core/json.h"
#include "warden/identity/registry.h"

namespace warden::grants {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::AllEvents;
using testing::KindsFor;

class GrantServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    Open();
    for (const char* name : {"planner", "worker", "helper", "devbot"}) {
      identity::AgentSpec spec;
      spec.name = name;
      spec.owner = "team-support";
      spec.purpose = "ticket triage";
      spec.environment = std::string_view(name) == "devbot" ? "dev" : "prod";
      spec.expires_in = hours(24 * 30);
      auto a = registry_->Create(spec, "admin");
      ASSERT_TRUE(a.ok()) << a.status().ToString();
      auto key = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
      ASSERT_TRUE(key.ok());
      jkt_[name] = key->kid();
    }
  }

  void Open(GrantServiceOptions options = {}) {
    service_.reset();
    ring_.reset();
    registry_.reset();
    store_.reset();
    store_ = testing::OpenTestStore(dir_);
    ASSERT_NE(store_, nullptr);
    registry_ = std::make_unique<identity::AgentRegistry>(*store_, clock_,
                                                          identity::RegistryOptions{});
    auto ring = identity::KeyRing::Open(*store_, dir_.path() / "keys",
                                        crypto::Algorithm::kEd25519, clock_, hours(24));
    ASSERT_TRUE(ring.ok()) << ring.status().ToString();
    ring_ = std::move(*ring);
    auto service = GrantService::Open(*store_, *ring_, clock_, options);
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
  }

  static Intent SampleIntent() {
    Intent in;
    in.task = "TCK-42";
    in.description = "Triage and answer the support queue";
    in.scope.actions = {"tickets:read", "tickets:label", "payments:refund"};
    in.scope.resources = {"queue/support", "queue/billing"};
    in.environment = "prod";
    in.sensitivity = Sensitivity::kConfidential;
    in.ttl = minutes(30);
    in.on_behalf_of = "alice@example.com";
    in.limits.max_calls = 100;
    in.limits.max_spend = "250.00";
    return in;
  }

  GrantRequest Request(const std::string& agent = "planner") {
    GrantRequest r;
    r.agent = agent;
    r.jkt = jkt_[agent];
    r.intent = SampleIntent();
    r.policy_hash = std::string(64, 'a');
    r.decision = json::object{{"decision", "allow"}, {"policies", json::array{"permit-triage"}}};
    return r;
  }

  Grant MustCreate(const std::string& agent = "planner") {
    auto g = service_->Create(Request(agent));
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? *g : Grant{};
  }

  // An approval request bound to `agent`'s grant for `intent`.
  approvals::ApprovalRequest ApprovalFor(const std::string& agent, const Intent& intent) {
    approvals::ApprovalRequest a;
    a.kind = approvals::ApprovalKind::kGrant;
    a.subject_sha256 = BindingHash(service_->SpiffeId(agent), intent, intent.scope);
    a.agent = agent;
    a.summary = json::object{{"task", intent.task}};
    return a;
  }

  DelegationRequest Delegation(const Grant& parent, const std::string& to) {
    DelegationRequest d;
    d.parent_grant_id = parent.id;
    d.requesting_agent = parent.agent;
    d.child_agent = to;
    d.child_jkt = jkt_[to];
    d.scope = parent.scope;
    return d;
  }

  Grant MustDelegate(const Grant& parent, const std::string& to) {
    auto g = service_->Delegate(Delegation(parent, to));
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? *g : Grant{};
  }

  GrantClaims MustVerify(const std::string& grant_id) {
    auto token = service_->MintToken(grant_id);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    auto claims = service_->VerifyToken(token.ok() ? *token : "");
    EXPECT_TRUE(claims.ok()) << claims.status().ToString();
    return claims.ok() ? *claims : GrantClaims{};
  }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<identity::AgentRegistry> registry_;
  std::unique_ptr<identity::KeyRing> ring_;
  std::unique_ptr<GrantService> service_;
  std::map<std::string, std::string> jkt_;
};

TEST_F(GrantServiceTest, FullLifecycle) {
  const Grant g = MustCreate();
  EXPECT_EQ(g.status, GrantStatus::kActive);
  EXPECT_EQ(g.root_id, g.id);
  EXPECT_EQ(g.depth, 0);
  EXPECT_EQ(g.expires_at, TruncateToMicros(clock_.Now()) + minutes(30));
  EXPECT_EQ(g.intent_sha256, BindingHash("spiffe://warden.local/agent/planner", g.intent, g.scope));

  auto got = service_->Get(g.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->intent, g.intent);
  EXPECT_EQ(got->scope, g.scope);
  EXPECT_EQ(got->expires_at, g.expires_at);
  EXPECT_EQ(got->max_calls, 100);
  EXPECT_EQ(got->max_spend, "250.00");
  auto listed = service_->ListActive("planner");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, g.id);

  auto token = service_->MintToken(g.id);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto claims = service_->VerifyToken(*token);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->subject, "spiffe://warden.local/agent/planner");
  EXPECT_EQ(claims->grant_id, g.id);
  EXPECT_EQ(claims->jkt, jkt_["planner"]);
  EXPECT_EQ(claims->on_behalf_of, "alice@example.com");
  EXPECT_TRUE(claims->actors.empty());
  EXPECT_TRUE(service_->CheckUse(*claims).ok());
  auto used = service_->RecordUse(g.id, "agent:planner");
  ASSERT_TRUE(used.ok()) << used.status().ToString();
  EXPECT_EQ(*used, 1);

  EXPECT_EQ(service_->Complete(g.id, "worker").status().code(), StatusCode::kPermissionDenied);
  auto done = service_->Complete(g.id, "planner");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->status, GrantStatus::kCompleted);
  EXPECT_EQ(service_->Get(g.id)->status, GrantStatus::kCompleted);
  Status refused = service_->CheckUse(*claims);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(), "grant " + g.id + " was completed; it can no longer be used");
  EXPECT_EQ(service_->VerifyToken(*token).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->RecordUse(g.id, "agent:planner").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->Complete(g.id, "planner").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->MintToken(g.id).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(service_->ListActive("planner")->empty());

  EXPECT_EQ(KindsFor(*store_, g.id),
            (std::vector<std::string>{"grant.requested", "grant.issued", "grant.used",
                                      "grant.completed"}));
  for (const auto& e : AllEvents(*store_)) {
    const std::string text = ToJson(json::value(audit::EventToJson(e)));
    EXPECT_EQ(text.find(*token), std::string::npos);
    EXPECT_EQ(text.find(token->substr(token->rfind('.') + 1)), std::string::npos);
    if (e.kind.rfind("grant.", 0) == 0) {
      EXPECT_EQ(e.subject, "grant:" + g.id);
    }
  }
  auto report = audit::Verify(*store_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(GrantServiceTest, CreateChecksAgentAndCapsTtl) {
  GrantRequest r = Request();
  r.agent = "nobody";
  EXPECT_EQ(service_->Create(r).status().code(), StatusCode::kNotFound);
  r = Request("devbot");
  Status env = service_->Create(r).status();
  EXPECT_EQ(env.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(env.field(), "environment");
  r = Request();
  r.jkt = "short";
  EXPECT_EQ(service_->Create(r).status().field(), "jkt");
  r = Request();
  r.needs_approval = true;
  EXPECT_EQ(service_->Create(r).status().field(), "approval_id");

  r = Request();
  r.intent.ttl = hours(24 * 20);
  auto capped = service_->Create(r);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->expires_at, TruncateToMicros(clock_.Now()) + hours(8));

  ASSERT_TRUE(registry_->Suspend("worker", "admin", "incident").ok());
  Status suspended = service_->Create(Request("worker")).status();
  EXPECT_EQ(suspended.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(suspended.message().find("suspended"), std::string::npos);
}

TEST_F(GrantServiceTest, TtlCappedByAgentExpiry) {
  identity::AgentPatch patch;
  patch.expires_in = minutes(10);
  ASSERT_TRUE(registry_->Update("planner", patch, "admin").ok());
  const Grant g = MustCreate();
  EXPECT_EQ(g.expires_at, TruncateToMicros(clock_.Now()) + minutes(10));
}

TEST_F(GrantServiceTest, PendingApprovalThenActivate) {
  approvals::ApproverRegistry approvers(*store_, clock_);
  ASSERT_TRUE(approvers.Add("bob", "admin").ok());
  approvals::ApprovalQueue queue(*store_, clock_);
  auto approval = queue.Create(ApprovalFor("planner", SampleIntent()), "agent:planner");
  ASSERT_TRUE(approval.ok()) << approval.status().ToString();
  GrantRequest r = Request();
  r.needs_approval = true;
  r.approval_id = approval->id;
  auto g = service_->Create(r);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->status, GrantStatus::kPendingApproval);
  // One hash names the request in the grant row and in its approval.
  EXPECT_EQ(g->intent_sha256, approval->subject_sha256);
  EXPECT_EQ(service_->MintToken(g->id).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(service_->ListActive("planner")->empty());
  // Still pending: nothing changes.
  EXPECT_EQ(service_->ActivateWithApproval(g->id, approval->id, "agent:planner").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->Get(g->id)->status, GrantStatus::kPendingApproval);

  clock_.Advance(minutes(5));
  ASSERT_TRUE(queue.Decide(approval->id, "bob", approvals::Verdict::kApprove, "refund ok").ok());
  EXPECT_EQ(service_->ActivateWithApproval(g->id, "apr_2", "agent:planner").status().field(),
            "approval_id");
  auto active = service_->ActivateWithApproval(g->id, approval->id, "agent:planner");
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  EXPECT_EQ(active->status, GrantStatus::kActive);
  EXPECT_EQ(active->expires_at, TruncateToMicros(clock_.Now()) + minutes(30));
  EXPECT_EQ(queue.Get(approval->id)->stored_status, approvals::ApprovalStatus::kUsed);
  EXPECT_EQ(service_->ActivateWithApproval(g->id, approval->id, "agent:planner").status().code(),
            StatusCode::kFailedPrecondition);
  GrantClaims claims = MustVerify(g->id);
  EXPECT_EQ(claims.approval_id, approval->id);
  EXPECT_EQ(KindsFor(*store_, g->id),
            (std::vector<std::string>{"grant.requested", "grant.pending_approval",
                                      "grant.issued"}));
}

// The approval is used only together with the activation it allowed.
TEST_F(GrantServiceTest, ActivationAndApprovalUseCommitTogether) {
  approvals::ApproverRegistry approvers(*store_, clock_);
  ASSERT_TRUE(approvers.Add("bob", "admin").ok());
  approvals::ApprovalQueue queue(*store_, clock_);
  auto pending = [&](const Intent& bound_to) {
    auto approval = queue.Create(ApprovalFor("planner", bound_to), "agent:planner");
    EXPECT_TRUE(approval.ok()) << approval.status().ToString();
    GrantRequest r = Request();
    r.needs_approval = true;
    r.approval_id = approval->id;
    auto g = service_->Create(r);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    EXPECT_TRUE(queue.Decide(approval->id, "bob", approvals::Verdict::kApprove, "fine").ok());
    return std::make_pair(*g, *approval);
  };

  // A grant that can no longer be activated (revoked while waiting) leaves
  // the approval approved, not used.
  auto [revoked, approval1] = pending(SampleIntent());
  ASSERT_TRUE(service_->Revoke(revoked.id, "admin", "changed my mind").ok());
  EXPECT_EQ(service_->ActivateWithApproval(revoked.id, approval1.id, "agent:planner")
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(queue.Get(approval1.id)->stored_status, approvals::ApprovalStatus::kApproved);

  // An agent suspended while waiting: same.
  auto [waiting, approval2] = pending(SampleIntent());
  ASSERT_TRUE(registry_->Suspend("planner", "admin", "investigation").ok());
  EXPECT_EQ(service_->ActivateWithApproval(waiting.id, approval2.id, "agent:planner")
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(queue.Get(approval2.id)->stored_status, approvals::ApprovalStatus::kApproved);
  ASSERT_TRUE(registry_->Resume("planner", "admin", "cleared").ok());

  // An approval bound to another intent is refused by the consume and the
  // grant stays pending: neither write happened.
  Intent other = SampleIntent();
  other.scope.actions.push_back("tickets:close");
  auto [mismatched, approval3] = pending(other);
  EXPECT_EQ(service_->ActivateWithApproval(mismatched.id, approval3.id, "agent:planner")
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(queue.Get(approval3.id)->stored_status, approvals::ApprovalStatus::kApproved);
  EXPECT_EQ(service_->Get(mismatched.id)->status, GrantStatus::kPendingApproval);
  for (const auto& e : AllEvents(*store_)) {
    EXPECT_NE(e.kind, "approval.used") << "an approval was used without its grant";
  }
}

TEST_F(GrantServiceTest, ExpiredGrantIsRefusedEverywhere) {
  const Grant g = MustCreate();
  GrantClaims claims = MustVerify(g.id);
  auto token = service_->MintToken(g.id);
  ASSERT_TRUE(token.ok());
  clock_.Advance(minutes(30));
  EXPECT_EQ(service_->Get(g.id)->EffectiveStatus(clock_.Now()), GrantStatus::kExpired);
  EXPECT_TRUE(service_->ListActive("planner")->empty());
  EXPECT_EQ(service_->CheckUse(claims).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(service_->MintToken(g.id).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->RecordUse(g.id, "agent:planner").status().code(),
            StatusCode::kFailedPrecondition);
  Status complete = service_->Complete(g.id, "planner").status();
  EXPECT_EQ(complete.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(complete.message().find("expired at"), std::string::npos);
  EXPECT_EQ(service_->Delegate(Delegation(g, "worker")).status().code(),
            StatusCode::kFailedPrecondition);
  // Past the 30 s leeway the signature check refuses the token too.
  clock_.Advance(seconds(31));
  EXPECT_EQ(service_->VerifyToken(*token).status().code(), StatusCode::kUnauthenticated);

  auto expired = service_->ExpireDue();
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, 1);
  EXPECT_EQ(service_->Get(g.id)->status, GrantStatus::kExpired);
  EXPECT_EQ(*service_->ExpireDue(), 0);
  EXPECT_EQ(KindsFor(*store_, g.id).back(), "grant.expired");
}

TEST_F(GrantServiceTest, RevokingTheRootEndsAThreeLevelChain) {
  const Grant root = MustCreate();
  const Grant child = MustDelegate(root, "worker");
  const Grant grandchild = MustDelegate(child, "helper");
  EXPECT_EQ(child.depth, 1);
  EXPECT_EQ(grandchild.depth, 2);
  EXPECT_EQ(grandchild.root_id, root.id);
  EXPECT_EQ(grandchild.parent_id, child.id);
  EXPECT_EQ(grandchild.on_behalf_of, "alice@example.com");

  GrantClaims leaf = MustVerify(grandchild.id);
  EXPECT_EQ(leaf.subject, "spiffe://warden.local/agent/helper");
  EXPECT_EQ(leaf.actors, (std::vector<std::string>{"spiffe://warden.local/agent/worker",
                                                   "spiffe://warden.local/agent/planner"}));
  GrantClaims middle = MustVerify(child.id);

  auto revoked = service_->Revoke(root.id, "admin", "incident 7");
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  for (const Grant* g : {&root, &child, &grandchild}) {
    auto stored = service_->Get(g->id);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->status, GrantStatus::kRevoked) << g->id;
    EXPECT_TRUE(stored->ended_at.has_value());
    EXPECT_TRUE(service_->revocations().Contains(g->id));
  }
  EXPECT_EQ(service_->CheckUse(leaf).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->CheckUse(middle).code(), StatusCode::kFailedPrecondition);

  std::vector<audit::Event> cascade;
  for (const auto& e : AllEvents(*store_)) {
    if (e.kind == "grant.revoked") cascade.push_back(e);
  }
  ASSERT_EQ(cascade.size(), 3u);
  EXPECT_EQ(cascade[0].details.at("grant").as_string(), root.id);
  EXPECT_EQ(cascade[0].details.at("reason").as_string(), "incident 7");
  EXPECT_EQ(cascade[1].details.at("grant").as_string(), child.id);
  EXPECT_EQ(cascade[1].details.at("cascade_from").as_string(), root.id);
  EXPECT_EQ(cascade[2].details.at("grant").as_string(), grandchild.id);
  EXPECT_EQ(cascade[2].details.at("parent").as_string(), child.id);
  EXPECT_EQ(KindsFor(*store_, grandchild.id),
            (std::vector<std::string>{"grant.delegated", "grant.revoked"}));
}

TEST_F(GrantServiceTest, CompletingAMiddleGrantEndsOnlyItsSubtree) {
  const Grant root = MustCreate();
  const Grant child = MustDelegate(root, "worker");
  const Grant grandchild = MustDelegate(child, "helper");
  ASSERT_TRUE(service_->Complete(child.id, "worker").ok());
  EXPECT_EQ(service_->Get(root.id)->status, GrantStatus::kActive);
  EXPECT_EQ(service_->Get(child.id)->status, GrantStatus::kCompleted);
  EXPECT_EQ(service_->Get(grandchild.id)->status, GrantStatus::kRevoked);
  EXPECT_EQ(*service_->Get(grandchild.id)->end_reason, "cascade from " + child.id);
}

TEST_F(GrantServiceTest, RevocationSetIsRestoredAfterReopening) {
  const Grant ended = MustCreate();
  const Grant live = MustCreate("worker");
  GrantClaims ended_claims = MustVerify(ended.id);
  GrantClaims live_claims = MustVerify(live.id);
  ASSERT_TRUE(service_->Revoke(ended.id, "admin", "leaked").ok());

  Open();
  EXPECT_EQ(service_->revocations().size(), 1u);
  EXPECT_EQ(service_->CheckUse(ended_claims).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(service_->CheckUse(live_claims).ok());
  // Tokens minted before the restart still verify against the same keys.
  EXPECT_TRUE(MustVerify(live.id).grant_id == live.id);

  // Once the ended grant is past its expiry it need not be kept.
  clock_.Advance(minutes(31));
  Open();
  EXPECT_EQ(service_->revocations().size(), 0u);
}

TEST_F(GrantServiceTest, SuspendingAnAgentRevokesItsGrants) {
  const Grant a = MustCreate("worker");
  const Grant b = MustCreate("worker");
  const Grant other = MustCreate("planner");
  const Grant delegated = MustDelegate(a, "helper");
  auto ids = service_->RevokeAgentGrants("worker", "system", "agent suspended");
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(ids->size(), 3u);
  EXPECT_EQ(service_->Get(delegated.id)->status, GrantStatus::kRevoked);
  EXPECT_EQ(service_->Get(b.id)->status, GrantStatus::kRevoked);
  EXPECT_EQ(service_->Get(other.id)->status, GrantStatus::kActive);
}

TEST_F(GrantServiceTest, DelegationRefusesEveryWidening) {
  const Grant root = MustCreate();

  DelegationRequest d = Delegation(root, "worker");
  d.scope.actions = {"tickets:read", "tickets:label", "payments:send"};
  Status s = service_->Delegate(d).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "scope.actions[2]");
  EXPECT_EQ(s.message(), "\"payments:send\" is not in the parent grant's actions");

  d = Delegation(root, "worker");
  d.scope.resources = {"queue/security"};
  s = service_->Delegate(d).status();
  EXPECT_EQ(s.field(), "scope.resources[0]");
  EXPECT_EQ(s.message(), "\"queue/security\" is not in the parent grant's resources");

  d = Delegation(root, "worker");
  d.ttl = minutes(31);
  s = service_->Delegate(d).status();
  EXPECT_EQ(s.field(), "ttl");
  EXPECT_NE(s.message().find("after the parent grant expires"), std::string::npos);

  d = Delegation(root, "worker");
  d.limits.max_calls = 101;
  s = service_->Delegate(d).status();
  EXPECT_EQ(s.field(), "limits.max_calls");
  EXPECT_EQ(s.message(), "101 is more than the parent grant's max_calls 100");

  d = Delegation(root, "worker");
  d.limits.max_spend = "250.01";
  s = service_->Delegate(d).status();
  EXPECT_EQ(s.field(), "limits.max_spend");

  d = Delegation(root, "worker");
  d.scope.resources.clear();
  s = service_->Delegate(d).status();
  EXPECT_EQ(s.field(), "scope.resources");

  d = Delegation(root, "devbot");
  EXPECT_EQ(service_->Delegate(d).status().field(), "child_agent");

  d = Delegation(root, "worker");
  d.requesting_agent = "worker";
  EXPECT_EQ(service_->Delegate(d).status().code(), StatusCode::kPermissionDenied);

  ASSERT_TRUE(registry_->Suspend("helper", "admin", "incident").ok());
  EXPECT_EQ(service_->Delegate(Delegation(root, "helper")).status().code(),
            StatusCode::kFailedPrecondition);

  // Narrowing is accepted, and absent limits inherit the parent's.
  d = Delegation(root, "worker");
  d.scope = {{"tickets:read"}, {"queue/support"}};
  d.ttl = minutes(10);
  d.limits.max_spend = "100";
  auto child = service_->Delegate(d);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ(child->max_calls, 100);
  EXPECT_EQ(child->max_spend, "100");
  EXPECT_EQ(child->expires_at, TruncateToMicros(clock_.Now()) + minutes(10));
  EXPECT_EQ(child->scope, d.scope);
  EXPECT_EQ(KindsFor(*store_, child->id), (std::vector<std::string>{"grant.delegated"}));
}

TEST_F(GrantServiceTest, DelegationDepthIsBounded) {
  Grant g = MustCreate();
  const char* chain[] = {"worker", "helper", "worker"};
  for (const char* to : chain) g = MustDelegate(g, to);
  EXPECT_EQ(g.depth, 3);
  Status s = service_->Delegate(Delegation(g, "helper")).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "depth");
  EXPECT_EQ(s.message(), "delegation depth 4 exceeds the maximum 3");
}

TEST_F(GrantServiceTest, DelegationRecordsThePolicyDecision) {
  const Grant parent = MustCreate();
  DelegationRequest d = Delegation(parent, "worker");
  d.scope.actions = {"tickets:read"};
  // Planning writes nothing and reports what would be created or refused.
  auto plan = service_->PlanDelegation(d);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_TRUE(plan->id.empty());
  EXPECT_EQ(plan->agent, "worker");
  EXPECT_EQ(plan->depth, 1);
  EXPECT_EQ(plan->intent.scope.actions, std::vector<std::string>{"tickets:read"});
  EXPECT_EQ(plan->intent.task, parent.intent.task);
  EXPECT_EQ(service_->List({})->size(), 1u);
  DelegationRequest wider = d;
  wider.scope.actions.push_back("tickets:close");
  EXPECT_EQ(service_->PlanDelegation(wider).status().field(), "scope.actions[1]");
  d.policy_hash = std::string(64, 'b');
  d.decision = json::object{{"decision", "allow"},
                            {"policies", json::array{"grant-routine-work"}},
                            {"policy_set_hash", std::string(64, 'b')}};
  auto child = service_->Delegate(d);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ(child->policy_hash, std::string(64, 'b'));
  bool found = false;
  for (const auto& e : AllEvents(*store_)) {
    if (e.kind != "grant.delegated") continue;
    found = true;
    EXPECT_EQ(e.details.at("grant").as_string(), child->id);
    EXPECT_EQ(e.details.at("policy_hash").as_string(), std::string(64, 'b'));
    EXPECT_EQ(e.details.at("decision").at("policies").at(0).as_string(), "grant-routine-work");
  }
  EXPECT_TRUE(found);
}

TEST_F(GrantServiceTest, ListFiltersByAgentAndActivity) {
  const Grant a = MustCreate("planner");
  clock_.Advance(seconds(1));
  const Grant b = MustCreate("planner");
  clock_.Advance(seconds(1));
  const Grant c = MustCreate("helper");
  ASSERT_TRUE(service_->Revoke(a.id, "admin", "done").ok());
  auto all = service_->List({});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, c.id);  // newest first
  EXPECT_EQ((*all)[2].id, a.id);
  GrantFilter f;
  f.agent = "planner";
  f.active_only = true;
  auto mine = service_->List(f);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].id, b.id);
  EXPECT_EQ((*mine)[0].spiffe_id, "spiffe://warden.local/agent/planner");
  f.limit = 0;
  EXPECT_EQ(service_->List(f).status().field(), "limit");
  f.limit = 10;
  f.agent = "Not A Name";
  EXPECT_EQ(service_->List(f).status().field(), "agent");
}

TEST_F(GrantServiceTest, MaxCallsHoldsUnderConcurrency) {
  GrantRequest r = Request();
  r.intent.limits.max_calls = 10;
  auto g = service_->Create(r);
  ASSERT_TRUE(g.ok());
  std::atomic<int> ok{0}, exhausted{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto used = service_->RecordUse(g->id, "agent:planner");
        if (used.ok()) {
          ++ok;
        } else if (used.status().code() == StatusCode::kResourceExhausted) {
          ++exhausted;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 10);
  EXPECT_EQ(exhausted.load(), 30);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(service_->Get(g->id)->calls, 10);
  std::vector<int64_t> counts;
  for (const auto& e : AllEvents(*store_)) {
    if (e.kind == "grant.used") counts.push_back(e.details.at("calls").as_int64());
  }
  std::sort(counts.begin(), counts.end());
  EXPECT_EQ(counts, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  Status s = service_->RecordUse(g->id, "agent:planner").status();
  EXPECT_EQ(s.message(), "grant " + g->id + " reached its limit of 10 calls");
}

// Any JOSE library verifies grant tokens with the published JWKS: jose's
// jwtVerify with createLocalJWKSet, typ, issuer and audience accepts a root
// and a delegated token and sees the nested act chain. Skipped when node or
// jose is missing.
TEST_F(GrantServiceTest, JoseVerifiesGrantTokensWithTheJwks) {
  namespace fs = std::filesystem;
  const char* src = std::getenv("WARDEN_SOURCE_DIR");
  if (src == nullptr || !fs::exists(fs::path(src) / "node_modules" / "jose") ||
      std::system("node --version > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "node with the jose package is not available";
  }
  const Grant root = MustCreate();
  const Grant child = MustDelegate(root, "worker");
  auto root_token = service_->MintToken(root.id);
  auto child_token = service_->MintToken(child.id);
  ASSERT_TRUE(root_token.ok() && child_token.ok());
  json::object input{{"jwks", ring_->Jwks()},
                     {"tokens", json::array{*root_token, *child_token}},
                     {"now", UnixSeconds(clock_.Now())}};
  const fs::path in_path = dir_.path() / "input.json";
  const fs::path script = dir_.path() / "verify.mjs";
  const fs::path log = dir_.path() / "out.txt";
  std::ofstream(in_path) << ToJson(json::value(input));
  std::ofstream(script) << R"JS(
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify } from 'jose';
const input = JSON.parse(readFileSync(process.argv.at(-1), 'utf8'));
const jwks = createLocalJWKSet(input.jwks);
const out = [];
for (const token of input.tokens) {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    typ: 'wgrant+jwt', issuer: 'spiffe://warden.local', audience: 'warden',
    currentDate: new Date(input.now * 1000),
    requiredClaims: ['sub', 'grant', 'scope', 'exp', 'iat', 'jti', 'cnf'],
  });
  out.push([protectedHeader.typ, payload.sub, payload.act?.sub ?? '-', payload.cnf.jkt].join(' '));
}
console.log(out.join('\n'));
)JS";
  const std::string cmd = "cd '" + std::string(src) + "' && node --input-type=module -e \"$(cat '" +
                          script.string() + "')\" '" + in_path.string() + "' > '" +
                          log.string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  std::stringstream text;
  text << std::ifstream(log).rdbuf();
  ASSERT_EQ(rc, 0) << text.str();
  EXPECT_EQ(text.str(), "wgrant+jwt spiffe://warden.local/agent/planner - " + jkt_["planner"] +
                            "\nwgrant+jwt spiffe://warden.local/agent/worker "
                            "spiffe://warden.local/agent/planner " +
                            jkt_["worker"] + "\n");
}

}  // namespace
}  // namespace warden::grants
