#include "warden/approvals/approval_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "approvals/test_util.h"
#include "warden/approvals/approvers.h"
#include "warden/core/json.h"
#include "warden/crypto/hash.h"

namespace warden::approvals {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::AllEvents;
using testing::EventsOfKind;

class ApprovalQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenTestStore(dir_);
    ASSERT_NE(store_, nullptr);
    approvers_ = std::make_unique<ApproverRegistry>(*store_, clock_);
    ApprovalOptions options;
    options.wait_recheck_interval = milliseconds(20);
    options.max_pending_per_agent = 5;
    ASSERT_TRUE(ValidateApprovalOptions(options).ok());
    queue_ = std::make_unique<ApprovalQueue>(*store_, clock_, options);
    for (const char* name : {"bob", "alice", "builder"}) {
      auto issued = approvers_->Add(name, "admin");
      ASSERT_TRUE(issued.ok()) << issued.status().ToString();
      tokens_.push_back(issued->token);
    }
  }

  static boost::json::object Subject(int amount = 100) {
    return {{"agent", "builder"},
            {"grant", "grt_x"},
            {"tool", "payments/transfer"},
            {"arguments", {{"amount", amount}, {"to", "acct-7"}}},
            {"target", "payments"}};
  }
  static std::string SubjectHash(int amount = 100) {
    return ComputeSubjectSha256(ApprovalKind::kCall, Subject(amount));
  }

  static ApprovalRequest Request(std::optional<std::string> on_behalf_of = std::nullopt) {
    ApprovalRequest r;
    r.kind = ApprovalKind::kCall;
    r.subject_sha256 = SubjectHash();
    r.agent = "builder";
    r.on_behalf_of = std::move(on_behalf_of);
    r.summary = {{"agent", "builder"},
                 {"tool", "payments/transfer"},
                 {"args_sha256", crypto::Sha256Hex(CanonicalJson(Subject()))},
                 {"policies", {"policy3"}}};
    return r;
  }

  Approval CreateOrFail(const ApprovalRequest& request = Request()) {
    auto a = queue_->Create(request, "agent:builder");
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? *a : Approval{};
  }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ApproverRegistry> approvers_;
  std::unique_ptr<ApprovalQueue> queue_;
  std::vector<std::string> tokens_;
};

TEST_F(ApprovalQueueTest, CreateApproveConsume) {
  Approval a = CreateOrFail();
  EXPECT_TRUE(ValidateApprovalId(a.id).ok()) << a.id;
  EXPECT_EQ(a.stored_status, ApprovalStatus::kPending);
  EXPECT_EQ(a.created_at, clock_.Now());
  EXPECT_EQ(a.expires_at, clock_.Now() + minutes(15));  // the default ttl

  auto got = queue_->Get(a.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->subject_sha256, a.subject_sha256);
  EXPECT_EQ(got->summary, a.summary);
  EXPECT_EQ(got->created_at, a.created_at);
  EXPECT_EQ(*queue_->CurrentStatus(a.id), ApprovalStatus::kPending);

  clock_.Advance(minutes(2));
  const uint64_t before = queue_->ChangeCounter();
  auto decided = queue_->Decide(a.id, "bob", Verdict::kApprove, "  ticket PAY-7 ");
  ASSERT_TRUE(decided.ok()) << decided.status().ToString();
  EXPECT_EQ(decided->stored_status, ApprovalStatus::kApproved);
  EXPECT_EQ(decided->decided_by, "bob");
  EXPECT_EQ(decided->reason, "ticket PAY-7");
  EXPECT_EQ(decided->decided_at, clock_.Now());
  EXPECT_EQ(queue_->ChangeCounter(), before + 1);
  EXPECT_EQ(*queue_->CurrentStatus(a.id), ApprovalStatus::kApproved);

  clock_.Advance(seconds(5));
  auto used = queue_->Consume(a.id, SubjectHash(), "agent:builder");
  ASSERT_TRUE(used.ok()) << used.status().ToString();
  EXPECT_EQ(used->stored_status, ApprovalStatus::kUsed);
  EXPECT_EQ(used->used_by, "agent:builder");
  EXPECT_EQ(used->used_at, clock_.Now());
  EXPECT_EQ(*queue_->CurrentStatus(a.id), ApprovalStatus::kUsed);
  EXPECT_EQ(queue_->ChangeCounter(), before + 1);  // consuming is not a decision

  auto reread = queue_->Get(a.id);
  ASSERT_TRUE(reread.ok());
  EXPECT_EQ(reread->used_at, used->used_at);
  EXPECT_EQ(reread->decided_at, decided->decided_at);
  EXPECT_EQ(ApprovalToJson(*reread, clock_.Now()).at("status").as_string(), "used");
}

TEST_F(ApprovalQueueTest, DenyIsFinal) {
  Approval a = CreateOrFail();
  auto denied = queue_->Decide(a.id, "bob", Verdict::kDeny, "not during the freeze");
  ASSERT_TRUE(denied.ok()) << denied.status().ToString();
  EXPECT_EQ(denied->stored_status, ApprovalStatus::kDenied);
  EXPECT_EQ(*queue_->CurrentStatus(a.id), ApprovalStatus::kDenied);

  auto use = queue_->Consume(a.id, SubjectHash(), "agent:builder");
  EXPECT_EQ(use.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(use.status().message().find("denied by \"bob\""), std::string::npos)
      << use.status().message();
  EXPECT_NE(use.status().message().find("not during the freeze"), std::string::npos);

  auto again = queue_->Decide(a.id, "alice", Verdict::kApprove, "override");
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("already denied by \"bob\""), std::string::npos)
      << again.status().message();
  // Denied stays denied, even past the expiry.
  clock_.Advance(minutes(20));
  EXPECT_EQ(*queue_->CurrentStatus(a.id), ApprovalStatus::kDenied);
}

TEST_F(ApprovalQueueTest, ExpiryBeforeDecision) {
  ApprovalRequest r = Request();
  r.ttl = minutes(5);
  Approval a = CreateOrFail(r);
  clock_.Advance(minutes(5));  // exactly at expires_at: expired
  EXPECT_EQ(*queue_->CurrentStatus(a.id), ApprovalStatus::kExpired);

  auto decided = queue_->Decide(a.id, "bob", Verdict::kApprove, "late");
  EXPECT_EQ(decided.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(decided.status().message().find("expired at"), std::string::npos);
  auto use = queue_->Consume(a.id, SubjectHash(), "agent:builder");
  EXPECT_EQ(use.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(use.status().message().find("without a decision"), std::string::npos);

  auto pending = queue_->List();
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  ApprovalFilter expired;
  expired.status = ApprovalStatus::kExpired;
  auto listed = queue_->List(expired);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, a.id);
}

TEST_F(ApprovalQueueTest, ExpiryAfterApprovalBeforeConsume) {
  Approval a = CreateOrFail();
  clock_.Advance(minutes(14));
  ASSERT_TRUE(queue_->Decide(a.id, "bob", Verdict::kApprove, "ok").ok());
  clock_.Advance(minutes(1));
  EXPECT_EQ(*queue_->CurrentStatus(a.id), ApprovalStatus::kExpired);
  auto use = queue_->Consume(a.id, SubjectHash(), "agent:builder");
  EXPECT_EQ(use.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(use.status().message().find("before it was used"), std::string::npos)
      << use.status().message();
}

TEST_F(ApprovalQueueTest, SecondConsumeIsRefused) {
  Approval a = CreateOrFail();
  ASSERT_TRUE(queue_->Decide(a.id, "bob", Verdict::kApprove, "ok").ok());
  ASSERT_TRUE(queue_->Consume(a.id, SubjectHash(), "agent:builder").ok());
  auto again = queue_->Consume(a.id, SubjectHash(), "agent:builder");
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("already used"), std::string::npos);
  EXPECT_NE(again.status().message().find("single use"), std::string::npos);
  auto decide = queue_->Decide(a.id, "alice", Verdict::kDeny, "too late");
  EXPECT_EQ(decide.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ApprovalQueueTest, WrongSubjectIsRefusedAndDoesNotBurnTheApproval) {
  Approval a = CreateOrFail();
  // Consuming before the decision: still pending.
  auto early = queue_->Consume(a.id, SubjectHash(), "agent:builder");
  EXPECT_EQ(early.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("still pending"), std::string::npos);

  ASSERT_TRUE(queue_->Decide(a.id, "bob", Verdict::kApprove, "ok").ok());
  auto wrong = queue_->Consume(a.id, SubjectHash(1'000'000), "agent:builder");
  EXPECT_EQ(wrong.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(wrong.status().message().find("subject hash does not match"), std::string::npos);
  // The same call as a grant subject is another subject too.
  auto as_grant = queue_->Consume(
      a.id, ComputeSubjectSha256(ApprovalKind::kGrant, Subject()), "agent:builder");
  EXPECT_EQ(as_grant.status().code(), StatusCode::kPermissionDenied);

  EXPECT_TRUE(queue_->Consume(a.id, SubjectHash(), "agent:builder").ok());
  // After use, a wrong subject is still reported as the wrong subject.
  EXPECT_EQ(queue_->Consume(a.id, SubjectHash(1), "agent:builder").status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(ApprovalQueueTest, SelfApprovalByTheAgentIsRefused) {
  Approval a = CreateOrFail();
  auto r = queue_->Decide(a.id, "builder", Verdict::kApprove, "I approve myself");
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("requested by agent \"builder\""), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("self-approval"), std::string::npos);
  EXPECT_EQ(*queue_->CurrentStatus(a.id), ApprovalStatus::kPending);
  EXPECT_EQ(queue_->ChangeCounter(), 0u);

  auto refused = EventsOfKind(*store_, "approval.refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].actor, "approver:builder");
  EXPECT_EQ(refused[0].details.at("operation").as_string(), "decide");
  EXPECT_EQ(refused[0].details.at("approver").as_string(), "builder");
}

TEST_F(ApprovalQueueTest, SelfApprovalByTheHumanOnWhoseBehalfIsRefused) {
  for (std::string human : {"alice", "Alice@Example.com"}) {
    Approval a = CreateOrFail(Request(human));
    EXPECT_EQ(a.on_behalf_of, human);
    auto r = queue_->Decide(a.id, "alice", Verdict::kApprove, "mine");
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << human;
    EXPECT_NE(r.status().message().find("on behalf of \"" + human + "\""), std::string::npos)
        << r.status().message();
    // Denying one's own request is refused too: the rule is about deciding.
    EXPECT_EQ(queue_->Decide(a.id, "alice", Verdict::kDeny, "mine").status().code(),
              StatusCode::kPermissionDenied);
    // Somebody else may decide it.
    EXPECT_TRUE(queue_->Decide(a.id, "bob", Verdict::kApprove, "checked").ok());
  }
}

TEST_F(ApprovalQueueTest, OnlyEnabledRegisteredApproversDecide) {
  Approval a = CreateOrFail();
  auto unknown = queue_->Decide(a.id, "mallory", Verdict::kApprove, "trust me");
  EXPECT_EQ(unknown.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(unknown.status().message().find("not registered"), std::string::npos);

  ASSERT_TRUE(approvers_->Disable("bob", "admin").ok());
  auto disabled = queue_->Decide(a.id, "bob", Verdict::kApprove, "ok");
  EXPECT_EQ(disabled.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(disabled.status().message().find("disabled"), std::string::npos);
  EXPECT_EQ(*queue_->CurrentStatus(a.id), ApprovalStatus::kPending);
}

TEST_F(ApprovalQueueTest, ArgumentErrorsNameTheField) {
  Approval a = CreateOrFail();
  EXPECT_EQ(queue_->Decide(a.id, "bob", Verdict::kApprove, "").status().field(), "reason");
  EXPECT_EQ(queue_->Decide(a.id, "bob", Verdict::kApprove, std::string(1001, 'r')).status().field(),
            "reason");
  EXPECT_EQ(queue_->Decide(a.id, "Bob!", Verdict::kApprove, "ok").status().field(), "approver");
  EXPECT_EQ(queue_->Decide("apr_1", "bob", Verdict::kApprove, "ok").status().field(), "id");
  EXPECT_EQ(queue_->Get("../etc").status().field(), "id");
  EXPECT_EQ(queue_->Consume(a.id, "abc", "agent:builder").status().field(), "subject_sha256");
  EXPECT_EQ(queue_->Consume(a.id, SubjectHash(), "").status().field(), "consumer");

  const std::string missing = "apr_aaaaaaaaaaaaaaaaaaaaaaaaaa";
  EXPECT_EQ(queue_->Get(missing).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(queue_->Decide(missing, "bob", Verdict::kApprove, "ok").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(queue_->Consume(missing, SubjectHash(), "agent:builder").status().code(),
            StatusCode::kNotFound);
}

TEST_F(ApprovalQueueTest, CreateValidatesItsRequest) {
  auto field_of = [&](ApprovalRequest r, std::string_view actor = "agent:builder") {
    auto created = queue_->Create(r, actor);
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
    return created.status().field();
  };
  ApprovalRequest r = Request();
  r.subject_sha256 = "not a hash";
  EXPECT_EQ(field_of(r), "subject_sha256");
  r = Request();
  r.agent = "Builder";
  EXPECT_EQ(field_of(r), "agent");
  r = Request("   ");
  EXPECT_EQ(field_of(r), "on_behalf_of");
  r = Request(std::string(257, 'h'));
  EXPECT_EQ(field_of(r), "on_behalf_of");
  r = Request();
  r.ttl = seconds(0);
  EXPECT_EQ(field_of(r), "ttl");
  r.ttl = std::chrono::hours(25);
  EXPECT_EQ(field_of(r), "ttl");
  r = Request();
  r.summary["blob"] = std::string(kMaxSummaryBytes, 'x');
  EXPECT_EQ(field_of(r), "summary");
  r = Request();
  boost::json::value deep = boost::json::object{};
  for (size_t i = 0; i < kMaxSummaryDepth + 2; ++i) deep = boost::json::object{{"d", deep}};
  r.summary["nested"] = deep;
  EXPECT_EQ(field_of(r), "summary");
  EXPECT_EQ(field_of(Request(), ""), "actor");

  r = Request(" Alice@Example.com ");
  auto trimmed = queue_->Create(r, "agent:builder");
  ASSERT_TRUE(trimmed.ok()) << trimmed.status().ToString();
  EXPECT_EQ(trimmed->on_behalf_of, "Alice@Example.com");
}

TEST_F(ApprovalQueueTest, PendingApprovalsPerAgentAreBounded) {
  for (int i = 0; i < 5; ++i) CreateOrFail();
  auto sixth = queue_->Create(Request(), "agent:builder");
  EXPECT_EQ(sixth.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(sixth.status().message().find("limit 5"), std::string::npos);
  // Another agent is not affected, and expired ones no longer count.
  ApprovalRequest other = Request();
  other.agent = "reporter";
  EXPECT_TRUE(queue_->Create(other, "agent:reporter").ok());
  clock_.Advance(minutes(15));
  EXPECT_TRUE(queue_->Create(Request(), "agent:builder").ok());
}

TEST_F(ApprovalQueueTest, ListFiltersByEffectiveStatusAndAgent) {
  Approval a1 = CreateOrFail();
  clock_.Advance(seconds(1));
  Approval a2 = CreateOrFail();
  clock_.Advance(seconds(1));
  ApprovalRequest other = Request();
  other.agent = "reporter";
  auto a3 = queue_->Create(other, "agent:reporter");
  ASSERT_TRUE(a3.ok());
  ASSERT_TRUE(queue_->Decide(a2.id, "bob", Verdict::kDeny, "no").ok());

  auto pending = queue_->List();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].id, a1.id);  // oldest first
  EXPECT_EQ((*pending)[1].id, a3->id);

  ApprovalFilter f;
  f.agent = "builder";
  auto builder_pending = queue_->List(f);
  ASSERT_TRUE(builder_pending.ok());
  ASSERT_EQ(builder_pending->size(), 1u);
  EXPECT_EQ((*builder_pending)[0].id, a1.id);

  f.status = ApprovalStatus::kDenied;
  auto denied = queue_->List(f);
  ASSERT_TRUE(denied.ok());
  ASSERT_EQ(denied->size(), 1u);
  EXPECT_EQ((*denied)[0].id, a2.id);

  ApprovalFilter all;
  all.status.reset();
  all.limit = 2;
  auto limited = queue_->List(all);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 2u);

  all.limit = 0;
  EXPECT_EQ(queue_->List(all).status().field(), "limit");
  all.limit = 1001;
  EXPECT_EQ(queue_->List(all).status().field(), "limit");
  all.limit = 10;
  all.agent = "Not A Name";
  EXPECT_EQ(queue_->List(all).status().field(), "agent");
}

TEST_F(ApprovalQueueTest, ConcurrentConsumersExactlyOneWins) {
  Approval a = CreateOrFail();
  ASSERT_TRUE(queue_->Decide(a.id, "bob", Verdict::kApprove, "ok").ok());
  constexpr int kThreads = 4;
  std::atomic<int> wins{0};
  std::atomic<int> refused_used{0};
  std::atomic<int> other{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      auto r = queue_->Consume(a.id, SubjectHash(), "agent:builder#" + std::to_string(i));
      if (r.ok()) {
        ++wins;
      } else if (r.status().code() == StatusCode::kFailedPrecondition &&
                 r.status().message().find("already used") != std::string::npos) {
        ++refused_used;
      } else {
        ++other;
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(refused_used.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(EventsOfKind(*store_, "approval.used").size(), 1u);
}

TEST_F(ApprovalQueueTest, ConsumeInTransactionGoesWithTheCallersChange) {
  Approval a = CreateOrFail();
  // Refused inside the caller's transaction: nothing of it is kept.
  Status s = store_->Write([&](store::Transaction& txn) -> Status {
    auto used = ConsumeInTransaction(txn, a.id, SubjectHash(), "grant:g1", clock_.Now());
    return used.ok() ? OkStatus() : used.status();
  });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);  // still pending
  EXPECT_TRUE(EventsOfKind(*store_, "approval.refused").empty());

  ASSERT_TRUE(queue_->Decide(a.id, "bob", Verdict::kApprove, "ok").ok());
  // The caller's own change fails after the use: the use is rolled back too.
  s = store_->Write([&](store::Transaction& txn) -> Status {
    auto used = ConsumeInTransaction(txn, a.id, SubjectHash(), "grant:g1", clock_.Now());
    if (!used.ok()) return used.status();
    return Unavailable("issuing the grant failed");
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(*queue_->CurrentStatus(a.id), ApprovalStatus::kApproved);

  s = store_->Write([&](store::Transaction& txn) -> Status {
    auto used = ConsumeInTransaction(txn, a.id, SubjectHash(), "grant:g2", clock_.Now());
    if (!used.ok()) return used.status();
    EXPECT_EQ(used->used_by, "grant:g2");
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*queue_->CurrentStatus(a.id), ApprovalStatus::kUsed);
  EXPECT_EQ(EventsOfKind(*store_, "approval.used").size(), 1u);
  EXPECT_EQ(queue_->Consume(a.id, SubjectHash(), "grant:g3").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(ApprovalQueueTest, WaiterWakesOnDecision) {
  Approval a = CreateOrFail();
  Result<Approval> waited = Internal("not run");
  std::thread waiter([&] {
    waited = queue_->WaitForDecision(a.id, std::chrono::steady_clock::now() + seconds(10));
  });
  std::this_thread::sleep_for(milliseconds(50));
  const auto decided_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(queue_->Decide(a.id, "bob", Verdict::kApprove, "ok").ok());
  waiter.join();
  ASSERT_TRUE(waited.ok()) << waited.status().ToString();
  EXPECT_EQ(waited->stored_status, ApprovalStatus::kApproved);
  EXPECT_EQ(waited->decided_by, "bob");
  EXPECT_LT(std::chrono::steady_clock::now() - decided_at, seconds(5));

  // An approval that is already decided returns at once.
  auto immediate = queue_->WaitForDecision(a.id, std::chrono::steady_clock::now());
  ASSERT_TRUE(immediate.ok());
  EXPECT_EQ(immediate->stored_status, ApprovalStatus::kApproved);
}

TEST_F(ApprovalQueueTest, WaiterTimesOutWhilePending) {
  Approval a = CreateOrFail();
  const auto start = std::chrono::steady_clock::now();
  auto r = queue_->WaitForDecision(a.id, start + milliseconds(100));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(100));
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(r.status().message().find(a.id), std::string::npos);
  EXPECT_EQ(queue_->WaitForDecision("apr_aaaaaaaaaaaaaaaaaaaaaaaaaa",
                                    std::chrono::steady_clock::now() + seconds(1))
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_F(ApprovalQueueTest, WaiterSeesExpiryAndShutdown) {
  Approval a = CreateOrFail();
  Result<Approval> waited = Internal("not run");
  std::thread waiter([&] {
    waited = queue_->WaitForDecision(a.id, std::chrono::steady_clock::now() + seconds(10));
  });
  std::this_thread::sleep_for(milliseconds(30));
  clock_.Advance(minutes(16));  // seen at the next recheck, without a signal
  waiter.join();
  ASSERT_TRUE(waited.ok()) << waited.status().ToString();
  EXPECT_EQ(waited->EffectiveStatus(clock_.Now()), ApprovalStatus::kExpired);

  Approval b = CreateOrFail();
  std::thread second([&] {
    waited = queue_->WaitForDecision(b.id, std::chrono::steady_clock::now() + seconds(10));
  });
  std::this_thread::sleep_for(milliseconds(30));
  queue_->Shutdown();
  second.join();
  EXPECT_EQ(waited.status().code(), StatusCode::kUnavailable);
}

TEST_F(ApprovalQueueTest, EveryStepIsAuditedWithoutSecrets) {
  Approval a = CreateOrFail(Request("alice@example.com"));
  ASSERT_TRUE(queue_->Decide(a.id, "bob", Verdict::kApprove, "ticket PAY-7").ok());
  ASSERT_FALSE(queue_->Consume(a.id, SubjectHash(5), "agent:builder").ok());
  ASSERT_TRUE(queue_->Consume(a.id, SubjectHash(), "agent:builder").ok());
  Approval d = CreateOrFail();
  ASSERT_TRUE(queue_->Decide(d.id, "bob", Verdict::kDeny, "no").ok());

  auto requested = EventsOfKind(*store_, "approval.requested");
  ASSERT_EQ(requested.size(), 2u);
  EXPECT_EQ(requested[0].actor, "agent:builder");
  EXPECT_EQ(requested[0].subject, "approval:" + a.id);
  EXPECT_EQ(requested[0].details.at("subject_sha256").as_string(), SubjectHash());
  EXPECT_EQ(requested[0].details.at("on_behalf_of").as_string(), "alice@example.com");
  EXPECT_EQ(requested[0].details.at("summary").as_object(), a.summary);

  auto approved = EventsOfKind(*store_, "approval.approved");
  ASSERT_EQ(approved.size(), 1u);
  EXPECT_EQ(approved[0].actor, "approver:bob");
  EXPECT_EQ(approved[0].details.at("approver").as_string(), "bob");
  EXPECT_EQ(approved[0].details.at("reason").as_string(), "ticket PAY-7");

  auto refused = EventsOfKind(*store_, "approval.refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].details.at("operation").as_string(), "consume");
  EXPECT_EQ(refused[0].details.at("subject_sha256").as_string(), SubjectHash(5));

  auto used = EventsOfKind(*store_, "approval.used");
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].actor, "agent:builder");
  EXPECT_EQ(used[0].details.at("consumer").as_string(), "agent:builder");

  auto denied = EventsOfKind(*store_, "approval.denied");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].subject, "approval:" + d.id);
  EXPECT_EQ(denied[0].details.at("reason").as_string(), "no");

  // No approver token, nor its digest, appears anywhere in the evidence.
  for (const auto& e : AllEvents(*store_)) {
    const std::string text = CanonicalJson(audit::EventToJson(e));
    for (const auto& token : tokens_) {
      EXPECT_EQ(text.find(token.substr(4)), std::string::npos) << e.kind;
      EXPECT_EQ(text.find(crypto::Sha256Hex(token)), std::string::npos) << e.kind;
    }
  }
  auto report = audit::Verify(*store_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST(ApprovalOptionsTest, Validation) {
  EXPECT_TRUE(ValidateApprovalOptions({}).ok());
  ApprovalOptions o;
  o.default_ttl = std::chrono::hours(2);
  o.max_ttl = std::chrono::hours(1);
  EXPECT_EQ(ValidateApprovalOptions(o).field(), "default_ttl");
  o = {};
  o.max_ttl = std::chrono::hours(48);
  EXPECT_EQ(ValidateApprovalOptions(o).field(), "max_ttl");
  o = {};
  o.max_pending_per_agent = 0;
  EXPECT_EQ(ValidateApprovalOptions(o).field(), "max_pending_per_agent");
  o = {};
  o.wait_recheck_interval = milliseconds(1);
  EXPECT_EQ(ValidateApprovalOptions(o).field(), "wait_recheck_interval");
}

}  // namespace
}  // namespace warden::approvals
