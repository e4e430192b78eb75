#include "warden/approvals/approval.h"

#include <gtest/gtest.h>

#include "warden/core/clock.h"

namespace warden::approvals {
namespace {

using std::chrono::minutes;

TEST(ApprovalNames, RoundTrip) {
  for (auto kind : {ApprovalKind::kGrant, ApprovalKind::kCall}) {
    auto parsed = ParseApprovalKind(ApprovalKindName(kind));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kind);
  }
  for (auto status : {ApprovalStatus::kPending, ApprovalStatus::kApproved,
                      ApprovalStatus::kDenied, ApprovalStatus::kExpired, ApprovalStatus::kUsed}) {
    auto parsed = ParseApprovalStatus(ApprovalStatusName(status));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, status);
  }
  EXPECT_EQ(ParseApprovalKind("Grant").status().field(), "kind");
  EXPECT_EQ(ParseApprovalStatus("done").status().field(), "status");
}

TEST(ApprovalEffectiveStatus, ExpiryAppliesToPendingAndApprovedOnly) {
  const TimePoint t0 = FromUnixSeconds(1'800'000'000);
  Approval a;
  a.created_at = t0;
  a.expires_at = t0 + minutes(15);
  const TimePoint before = t0 + minutes(14);
  const TimePoint at = a.expires_at;

  a.stored_status = ApprovalStatus::kPending;
  EXPECT_EQ(a.EffectiveStatus(before), ApprovalStatus::kPending);
  EXPECT_EQ(a.EffectiveStatus(at), ApprovalStatus::kExpired);  // expiry is inclusive

  a.stored_status = ApprovalStatus::kApproved;
  EXPECT_EQ(a.EffectiveStatus(before), ApprovalStatus::kApproved);
  EXPECT_EQ(a.EffectiveStatus(at), ApprovalStatus::kExpired);

  a.stored_status = ApprovalStatus::kDenied;
  EXPECT_EQ(a.EffectiveStatus(at), ApprovalStatus::kDenied);

  a.stored_status = ApprovalStatus::kUsed;
  a.used_at = before;
  EXPECT_EQ(a.EffectiveStatus(at), ApprovalStatus::kUsed);
}

TEST(ApprovalSubject, BindsKindAndIgnoresMemberOrder) {
  boost::json::object a{{"agent", "builder"}, {"tool", "pay"}, {"arguments", {{"amount", 5}}}};
  boost::json::object b{{"arguments", {{"amount", 5}}}, {"tool", "pay"}, {"agent", "builder"}};
  boost::json::object c{{"agent", "builder"}, {"tool", "pay"}, {"arguments", {{"amount", 6}}}};
  const std::string ha = ComputeSubjectSha256(ApprovalKind::kCall, a);
  EXPECT_EQ(ha.size(), 64u);
  EXPECT_TRUE(ValidateSubjectSha256(ha).ok());
  EXPECT_EQ(ha, ComputeSubjectSha256(ApprovalKind::kCall, b));
  EXPECT_NE(ha, ComputeSubjectSha256(ApprovalKind::kCall, c));
  EXPECT_NE(ha, ComputeSubjectSha256(ApprovalKind::kGrant, a));
}

TEST(ApprovalValidation, SubjectHash) {
  EXPECT_EQ(ValidateSubjectSha256("").field(), "subject_sha256");
  EXPECT_FALSE(ValidateSubjectSha256(std::string(63, 'a')).ok());
  EXPECT_FALSE(ValidateSubjectSha256(std::string(64, 'A')).ok());  // upper case
  EXPECT_FALSE(ValidateSubjectSha256(std::string(64, 'g')).ok());
  EXPECT_TRUE(ValidateSubjectSha256(std::string(64, 'f')).ok());
  EXPECT_EQ(ValidateSubjectSha256("x", "subject").field(), "subject");
}

TEST(ApprovalValidation, Id) {
  EXPECT_TRUE(ValidateApprovalId("apr_abcdefghijklmnopqrstuvwxyz").ok());
  EXPECT_TRUE(ValidateApprovalId("apr_234567abcdefghijklmnopqrst").ok());
  for (std::string_view bad :
       {"", "apr_", "grt_abcdefghijklmnopqrstuvwxyz", "apr_abcdefghijklmnopqrstuvwxy",
        "apr_abcdefghijklmnopqrstuvwxyz0", "apr_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "apr-abcdefghijklmnopqrstuvwxyz", "apr_abcdefghijklmnopqrstuvwx1"}) {
    Status s = ValidateApprovalId(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.field(), "id");
  }
}

TEST(ApprovalValidation, ReasonIsTrimmedAndBoundedInCharacters) {
  auto r = NormalizeReason("  ticket OPS-42 \n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "ticket OPS-42");

  EXPECT_EQ(NormalizeReason("").status().field(), "reason");
  EXPECT_EQ(NormalizeReason("   ").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeReason("line\x01").status().code(), StatusCode::kInvalidArgument);
  // A bidirectional override could make the reason read differently.
  EXPECT_EQ(NormalizeReason("ok \xE2\x80\xAE").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeReason("\xFF").status().code(), StatusCode::kInvalidArgument);

  std::string thousand_euro;
  for (int i = 0; i < 1000; ++i) thousand_euro += "\xE2\x82\xAC";  // 3 bytes each
  EXPECT_TRUE(NormalizeReason(thousand_euro).ok());
  EXPECT_TRUE(NormalizeReason(std::string(1000, 'x')).ok());
  auto too_long = NormalizeReason(std::string(1001, 'x'));
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_long.status().field(), "reason");
  EXPECT_NE(too_long.status().message().find("1000"), std::string::npos);
  EXPECT_FALSE(NormalizeReason(thousand_euro + "\xE2\x82\xAC").ok());
}

TEST(SelfApproval, ComparesAgentAndHumanIgnoringAsciiCase) {
  EXPECT_TRUE(IsSelfApproval("builder", "builder", std::nullopt));
  EXPECT_FALSE(IsSelfApproval("bob", "builder", std::nullopt));
  EXPECT_TRUE(IsSelfApproval("alice", "builder", std::string("alice")));
  EXPECT_TRUE(IsSelfApproval("alice", "builder", std::string("Alice")));
  EXPECT_TRUE(IsSelfApproval("alice", "builder", std::string("ALICE@Example.com")));
  EXPECT_TRUE(IsSelfApproval("alice@example.com", "builder", std::string("Alice@Example.COM")));
  EXPECT_FALSE(IsSelfApproval("bob", "builder", std::string("alice@example.com")));
  EXPECT_FALSE(IsSelfApproval("alic", "builder", std::string("alice@example.com")));
  EXPECT_FALSE(IsSelfApproval("example.com", "builder", std::string("alice@example.com")));
}

TEST(ApprovalJson, OmitsAbsentMembersAndShowsEffectiveStatus) {
  Approval a;
  a.id = "apr_abcdefghijklmnopqrstuvwxyz";
  a.kind = ApprovalKind::kCall;
  a.subject_sha256 = std::string(64, 'a');
  a.agent = "builder";
  a.summary = {{"tool", "pay"}};
  a.created_at = FromUnixSeconds(1'800'000'000);
  a.expires_at = a.created_at + minutes(15);
  auto j = ApprovalToJson(a, a.created_at + minutes(20));
  EXPECT_EQ(j.at("status").as_string(), "expired");
  EXPECT_EQ(j.at("stored_status").as_string(), "pending");
  EXPECT_EQ(j.at("kind").as_string(), "call");
  EXPECT_EQ(j.at("created_at").as_string(), "2027-01-15T08:00:00Z");
  EXPECT_FALSE(j.contains("on_behalf_of"));
  EXPECT_FALSE(j.contains("decided_by"));
  EXPECT_FALSE(j.contains("used_at"));
}

}  // namespace
}  // namespace warden::approvals
