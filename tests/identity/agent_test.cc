#include "warden/identity/agent.h"

#include <gtest/gtest.h>

namespace warden::identity {
namespace {

TEST(AgentNameTest, AcceptsTheDocumentedAlphabet) {
  for (const std::string& name :
       std::vector<std::string>{"a", "0", "billing-bot", "a.b_c-d", "x1", std::string(63, 'a')}) {
    EXPECT_TRUE(ValidateAgentName(name).ok()) << name;
  }
}

TEST(AgentNameTest, RejectsEverythingElse) {
  for (const std::string& name :
       std::vector<std::string>{"", "-a", ".a", "_a", "A", "billing bot", "bot/1", "bot:1", "é",
                                std::string(64, 'a'), std::string("a\0b", 3), "a\n"}) {
    Status s = ValidateAgentName(name);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(s.field(), "name") << name;
  }
}

TEST(NormalizeTextTest, TrimsAndChecks) {
  EXPECT_EQ(*NormalizeText("  alice@example.com\t", "owner", 256), "alice@example.com");
  EXPECT_EQ(*NormalizeText("Zoë — équipe paiements", "owner", 256), "Zoë — équipe paiements");
  struct Case {
    std::string in;
    std::string why;
  };
  for (const Case& c : std::vector<Case>{{"", "blank"},
                                         {"   ", "blank"},
                                         {std::string(257, 'x'), "at most 256"},
                                         {"a\nb", "control"},
                                         {"a\x7f"
                                          "b",
                                          "control"},
                                         {"a\xc2\x85"
                                          "b",
                                          "control"},  // NEL (C1)
                                         {"a\xe2\x80\xae"
                                          "b",
                                          "control"},  // RLO
                                         {"a\xff"
                                          "b",
                                          "UTF-8"},
                                         {"a\xc0\xaf", "UTF-8"},      // overlong '/'
                                         {"a\xed\xa0\x80", "UTF-8"},  // surrogate
                                         {std::string("a\0b", 3), "control"}}) {
    auto r = NormalizeText(c.in, "owner", 256);
    ASSERT_FALSE(r.ok()) << c.in;
    EXPECT_EQ(r.status().field(), "owner");
    EXPECT_NE(r.status().message().find(c.why), std::string::npos) << r.status().message();
  }
}

TEST(SelectorTest, AcceptsTheDocumentedForms) {
  for (const char* sel :
       {"unix:uid:0", "unix:uid:1000", "unix:uid:4294967294", "unix:gid:42", "unix:user:www-data",
        "unix:user:svc_bot.1", "unix:path:/usr/bin/python3", "unix:path:/",
        "unix:sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}) {
    EXPECT_TRUE(ValidateSelector(sel, "selectors[0]").ok()) << sel;
  }
}

TEST(SelectorTest, RejectsWithAcceptedFormsListed) {
  for (const std::string& sel : std::vector<std::string>{"",
                                                         "uid:1000",
                                                         "unix:uid:",
                                                         "unix:uid:-1",
                                                         "unix:uid:01",
                                                         "unix:uid:4294967295",
                                                         "unix:uid:99999999999",
                                                         "unix:uid:1e3",
                                                         "unix:gid:x",
                                                         "unix:user:",
                                                         "unix:user:-rf",
                                                         "unix:user:1000",
                                                         "unix:user:a b",
                                                         "unix:path:relative",
                                                         "unix:path:/a/../b",
                                                         "unix:path:/a/./b",
                                                         "unix:path:/a//b",
                                                         "unix:path:/a/",
                                                         "unix:path:/a\nb",
                                                         "unix:sha256:abc",
                                                         "unix:sha256:" + std::string(64, 'A'),
                                                         "unix:sha256:" + std::string(65, 'a'),
                                                         "k8s:ns:default",
                                                         "spiffe://x/y",
                                                         "UNIX:uid:1"}) {
    Status s = ValidateSelector(sel, "selectors[3]");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << sel;
    EXPECT_EQ(s.field(), "selectors[3]") << sel;
    EXPECT_NE(s.message().find("accepted forms: unix:uid:<n>"), std::string::npos) << s.message();
  }
}

TEST(SelectorTest, NormalizeSortsAndDedupes) {
  auto r = NormalizeSelectors({"unix:uid:1000", "unix:gid:5", "unix:uid:1000", "unix:gid:5"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"unix:gid:5", "unix:uid:1000"}));
  auto bad = NormalizeSelectors({"unix:uid:1", "nope"});
  EXPECT_EQ(bad.status().field(), "selectors[1]");
  auto many = NormalizeSelectors(std::vector<std::string>(kMaxSelectors + 1, "unix:uid:1"));
  EXPECT_EQ(many.status().field(), "selectors");
}

TEST(AgentTest, EffectiveStatusSuspendsExpiredActiveAgents) {
  Agent a;
  a.expires_at = FromUnixSeconds(1000);
  a.status = AgentStatus::kActive;
  EXPECT_EQ(a.EffectiveStatus(FromUnixSeconds(999)), AgentStatus::kActive);
  EXPECT_EQ(a.EffectiveStatus(FromUnixSeconds(1000)), AgentStatus::kSuspended);
  a.status = AgentStatus::kRetired;
  EXPECT_EQ(a.EffectiveStatus(FromUnixSeconds(2000)), AgentStatus::kRetired);
}

TEST(AgentTest, StatusNamesRoundTrip) {
  for (AgentStatus s : {AgentStatus::kActive, AgentStatus::kSuspended, AgentStatus::kRetired}) {
    EXPECT_EQ(*ParseAgentStatus(AgentStatusName(s)), s);
  }
  EXPECT_EQ(ParseAgentStatus("expired").status().code(), StatusCode::kInvalidArgument);
}

TEST(TrustDomainTest, Rules) {
  EXPECT_TRUE(ValidateTrustDomain("warden.local").ok());
  EXPECT_TRUE(ValidateTrustDomain("prod-1.example.com").ok());
  EXPECT_FALSE(ValidateTrustDomain("").ok());
  EXPECT_FALSE(ValidateTrustDomain("Example.com").ok());
  EXPECT_FALSE(ValidateTrustDomain("a/b").ok());
  EXPECT_EQ(SpiffeIdFor("warden.local", "bot"), "spiffe://warden.local/agent/bot");
}

}  // namespace
}  // namespace warden::identity
