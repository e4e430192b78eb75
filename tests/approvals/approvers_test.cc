#include "warden/approvals/approvers.h"

#include <gtest/gtest.h>

#include "approvals/test_util.h"
#include "warden/core/clock.h"
#include "warden/core/json.h"
#include "warden/crypto/hash.h"

namespace warden::approvals {
namespace {

using std::chrono::minutes;
using testing::AllEvents;
using testing::EventsOfKind;

class ApproversTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenTestStore(dir_);
    ASSERT_NE(store_, nullptr);
    registry_ = std::make_unique<ApproverRegistry>(*store_, clock_);
  }

  IssuedApprover AddOrFail(std::string_view name) {
    auto issued = registry_->Add(name, "admin");
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued.ok() ? *issued : IssuedApprover{};
  }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ApproverRegistry> registry_;
};

TEST_F(ApproversTest, AddIssuesATokenThatAuthenticates) {
  IssuedApprover bob = AddOrFail("bob");
  EXPECT_EQ(bob.info.name, "bob");
  EXPECT_EQ(bob.info.created_by, "admin");
  EXPECT_EQ(bob.info.created_at, clock_.Now());
  EXPECT_TRUE(bob.info.enabled());
  EXPECT_EQ(bob.token.substr(0, 4), "wap_");
  EXPECT_EQ(bob.token.size(), 47u);

  auto name = registry_->Authenticate(bob.token);
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(*name, "bob");

  IssuedApprover carol = AddOrFail("carol");
  EXPECT_NE(carol.token, bob.token);
  EXPECT_EQ(*registry_->Authenticate(carol.token), "carol");
}

TEST_F(ApproversTest, TokenIsStoredOnlyAsItsSha256) {
  IssuedApprover bob = AddOrFail("bob");
  Status s = store_->Read([&](store::Transaction& txn) -> Status {
    auto rows = txn.Query("SELECT name, token_sha256, created_at, created_by FROM approvers");
    EXPECT_TRUE(rows.ok());
    if (!rows.ok()) return rows.status();
    EXPECT_EQ(rows->size(), 1u);
    for (const auto& cell : rows->rows.at(0)) {
      if (const auto* text = std::get_if<std::string>(&cell)) {
        EXPECT_EQ(text->find(bob.token.substr(4)), std::string::npos);
      }
    }
    EXPECT_EQ(std::get<std::string>(rows->rows[0][1]), crypto::Sha256Hex(bob.token));
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(ApproversTest, WrongMalformedAndUnknownTokensAreUnauthenticated) {
  IssuedApprover bob = AddOrFail("bob");
  std::string wrong = bob.token;
  wrong[10] = wrong[10] == 'A' ? 'B' : 'A';
  for (const std::string& token :
       {wrong, std::string(), std::string("wap_"), bob.token + "A", bob.token.substr(0, 46),
        "wjt_" + bob.token.substr(4), std::string("wap_") + std::string(43, '!'),
        std::string("Bearer ") + bob.token}) {
    auto r = registry_->Authenticate(token);
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << token;
    if (token.size() > 8) {
      EXPECT_EQ(r.status().message().find(token.substr(4)), std::string::npos);
    }
  }
  EXPECT_EQ(registry_->Authenticate(wrong).status().message(), "unknown approver token");
}

TEST_F(ApproversTest, DisabledApproverCannotAuthenticate) {
  IssuedApprover bob = AddOrFail("bob");
  clock_.Advance(minutes(1));
  auto disabled = registry_->Disable("bob", "admin");
  ASSERT_TRUE(disabled.ok()) << disabled.status().ToString();
  ASSERT_TRUE(disabled->disabled_at.has_value());
  EXPECT_EQ(*disabled->disabled_at, clock_.Now());
  EXPECT_FALSE(disabled->enabled());

  auto r = registry_->Authenticate(bob.token);
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(r.status().message(), "approver \"bob\" is disabled");

  EXPECT_EQ(registry_->Disable("bob", "admin").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->Disable("nobody", "admin").status().code(), StatusCode::kNotFound);
  auto again = registry_->Add("bob", "admin");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().field(), "name");
  EXPECT_NE(again.status().message().find("disabled since"), std::string::npos);
}

TEST_F(ApproversTest, AddValidatesNameAndActorAndRefusesDuplicates) {
  AddOrFail("bob");
  auto dup = registry_->Add("bob", "admin");
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().field(), "name");
  for (std::string_view bad : {"", "Bob", "-bob", "bob smith", "b\xC3\xB6" "b",
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    auto r = registry_->Add(bad, "admin");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().field(), "name");
  }
  EXPECT_TRUE(registry_->Add("a.b-c_9", "admin").ok());
  EXPECT_EQ(registry_->Add("dave", "").status().field(), "actor");
}

TEST_F(ApproversTest, ListAndGet) {
  AddOrFail("carol");
  AddOrFail("bob");
  ASSERT_TRUE(registry_->Disable("carol", "admin").ok());
  auto list = registry_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "bob");
  EXPECT_TRUE((*list)[0].enabled());
  EXPECT_EQ((*list)[1].name, "carol");
  EXPECT_FALSE((*list)[1].enabled());

  auto carol = registry_->Get("carol");
  ASSERT_TRUE(carol.ok());
  auto j = ApproverToJson(*carol);
  EXPECT_EQ(j.at("enabled").as_bool(), false);
  EXPECT_TRUE(j.contains("disabled_at"));
  EXPECT_FALSE(j.contains("token"));
  EXPECT_EQ(registry_->Get("zed").status().code(), StatusCode::kNotFound);
}

TEST_F(ApproversTest, AuditedWithoutTheToken) {
  IssuedApprover bob = AddOrFail("bob");
  ASSERT_TRUE(registry_->Disable("bob", "admin").ok());
  auto added = EventsOfKind(*store_, "approver.added");
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].actor, "admin");
  EXPECT_EQ(added[0].subject, "approver:bob");
  EXPECT_EQ(added[0].details.at("name").as_string(), "bob");
  auto disabled = EventsOfKind(*store_, "approver.disabled");
  ASSERT_EQ(disabled.size(), 1u);
  EXPECT_EQ(disabled[0].subject, "approver:bob");

  const std::string secret = bob.token.substr(4);
  const std::string digest = crypto::Sha256Hex(bob.token);
  for (const auto& e : AllEvents(*store_)) {
    const std::string text = CanonicalJson(audit::EventToJson(e));
    EXPECT_EQ(text.find(secret), std::string::npos) << e.kind;
    EXPECT_EQ(text.find(digest), std::string::npos) << e.kind;
  }
}

}  // namespace
}  // namespace warden::approvals
