#include "warden/policy/engine.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "warden/core/json.h"

namespace warden::policy {
namespace {

namespace fs = std::filesystem;

fs::path ExamplesDir() {
  const char* src = std::getenv("WARDEN_SOURCE_DIR");
  return fs::path(src ? src : ".") / "examples" / "policies";
}

cedar::EntityUid Uid(std::string_view type, std::string_view id) {
  return cedar::EntityUid(cedar::EntityType(type), id);
}

identity::Agent DemoAgent(TimePoint now) {
  identity::Agent a;
  a.name = "support-bot";
  a.spiffe_id = "spiffe://warden.local/agent/support-bot";
  a.owner = "helpdesk-team";
  a.purpose = "answers tickets";
  a.environment = "dev";
  a.expires_at = now + std::chrono::hours(24);
  a.selectors = {"unix:uid:1000"};
  return a;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("warden-policy-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const auto& e : fs::directory_iterator(ExamplesDir())) fs::copy(e.path(), dir_ / e.path().filename());
  }
  void TearDown() override { fs::remove_all(dir_); }

  DecisionInput Call(std::string_view tool, std::string_view env = "dev") {
    DecisionInput in;
    in.principal = Uid("Agent", "support-bot");
    in.action = Uid("Action", "call");
    in.resource = Uid("Tool", tool);
    in.context = json::parse(R"({"environment":")" + std::string(env) +
                             R"(","sensitivity":"internal"})");
    in.entities = json::parse(R"([{"uid":{"type":"Tool","id":")" + std::string(tool) +
                              R"("},"attrs":{"server":"helpdesk","name":"x"},"parents":[]}])");
    in.agent = DemoAgent(clock_.Now());
    return in;
  }

  fs::path dir_;
  FakeClock clock_;
};

TEST_F(EngineTest, DemoPoliciesAllowDenyAndNeedApproval) {
  auto engine = PolicyEngine::Create(dir_, clock_);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto bundle = (*engine)->Current();
  EXPECT_EQ(bundle->hash.size(), 64u);
  EXPECT_EQ(bundle->infos.size(), 10u);
  EXPECT_EQ(bundle->DisplayName("policy0"), "read-tickets");

  auto read = (*engine)->Decide(Call("helpdesk/read_ticket"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->outcome, Outcome::kAllow);
  EXPECT_EQ(read->response.diagnostics.reasons, std::vector<std::string>{"policy0"});
  EXPECT_EQ(read->policy_set_hash, bundle->hash);

  auto del = (*engine)->Decide(Call("helpdesk/delete_ticket"));
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->outcome, Outcome::kDeny);
  EXPECT_EQ(del->response.diagnostics.reasons, std::vector<std::string>{"policy1"});

  auto refund = (*engine)->Decide(Call("helpdesk/issue_refund"));
  ASSERT_TRUE(refund.ok());
  EXPECT_EQ(refund->outcome, Outcome::kNeedsApproval);
  EXPECT_EQ(refund->approval_policies, std::vector<std::string>{"policy2"});

  // Approval cannot unlock what a forbid denies: the environment fence.
  auto fenced = (*engine)->Decide(Call("helpdesk/issue_refund", "prod"));
  ASSERT_TRUE(fenced.ok());
  EXPECT_EQ(fenced->outcome, Outcome::kDeny);
  EXPECT_EQ(fenced->response.diagnostics.reasons, std::vector<std::string>{"policy3"});

  // Unknown tools are denied by default, and need no approval either.
  auto other = (*engine)->Decide(Call("helpdesk/other"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->outcome, Outcome::kDeny);
  EXPECT_TRUE(other->response.diagnostics.reasons.empty());
}

TEST_F(EngineTest, ExpiredAgentIsSuspendedForPolicies) {
  auto engine = PolicyEngine::Create(dir_, clock_);
  ASSERT_TRUE(engine.ok());
  DecisionInput in = Call("helpdesk/read_ticket");
  clock_.Advance(std::chrono::hours(25));  // past the agent's expiry
  auto read = (*engine)->Decide(in);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->outcome, Outcome::kDeny);
}

TEST_F(EngineTest, IllTypedRequestsAreRefusedNotDecided) {
  auto engine = PolicyEngine::Create(dir_, clock_);
  ASSERT_TRUE(engine.ok());
  DecisionInput in = Call("helpdesk/read_ticket");
  in.context = json::parse(R"({"environment":3,"sensitivity":"internal"})");
  auto r = (*engine)->Decide(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().field(), "context");
  in = Call("helpdesk/read_ticket");
  in.action = Uid("Action", "fly");
  EXPECT_FALSE((*engine)->Decide(in).ok());
}

TEST_F(EngineTest, ReloadSwapsValidSetsAndKeepsTheOldOnErrors) {
  auto engine = PolicyEngine::Create(dir_, clock_);
  ASSERT_TRUE(engine.ok());
  std::string old_hash = (*engine)->Current()->hash;

  std::ofstream(dir_ / "zz-broken.cedar") << "permit (principal, action, resource) when { 1 + };";
  auto bad = (*engine)->Reload();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("zz-broken.cedar:1:"), std::string::npos)
      << bad.status().message();
  EXPECT_EQ((*engine)->Current()->hash, old_hash);

  std::ofstream(dir_ / "zz-broken.cedar") << "permit (principal, action, resource) when { principal.nope };";
  auto invalid = (*engine)->Reload();
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ((*engine)->Current()->hash, old_hash);

  std::ofstream(dir_ / "zz-broken.cedar")
      << "permit (principal is Agent, action == Action::\"call\", resource == Tool::\"helpdesk/other\");";
  auto good = (*engine)->Reload();
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_NE((*engine)->Current()->hash, old_hash);
  auto other = (*engine)->Decide(Call("helpdesk/other"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->outcome, Outcome::kAllow);
}

TEST_F(EngineTest, SchemaIsRequired) {
  fs::remove(dir_ / kSchemaFileName);
  auto engine = PolicyEngine::Create(dir_, clock_);
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kNotFound);
}

TEST(BundleTest, IdsRunAcrossFilesInNameOrder) {
  std::vector<PolicySource> files = {
      {"a.cedar", "permit (principal, action, resource);\nforbid (principal, action, resource);"},
      {"b.cedar", "@id(\"third\") permit (principal, action, resource);"}};
  auto bundle = BuildBundle(files, PolicySource{"schema", ""}, false, TimePoint());
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  ASSERT_EQ((*bundle)->infos.size(), 3u);
  EXPECT_EQ((*bundle)->infos[2].id, "policy2");
  EXPECT_EQ((*bundle)->infos[2].name, "third");
  EXPECT_EQ((*bundle)->infos[2].location.rfind("b.cedar:1:", 0), 0u);
  EXPECT_EQ((*bundle)->files.size(), 2u);
}

}  // namespace
}  // namespace warden::policy

namespace warden::policy {
namespace {

TEST(InitPolicyDirectoryTest, CreatesDenyAllFolderWithTheDefaultSchema) {
  auto dir = std::filesystem::temp_directory_path() /
             ("warden-policy-init-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(InitPolicyDirectory(dir).ok());
  auto mode = std::filesystem::status(dir).permissions();
  EXPECT_EQ(mode & std::filesystem::perms::all, std::filesystem::perms::owner_all);
  FakeClock clock;
  auto engine = PolicyEngine::Create(dir, clock);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_EQ((*engine)->Current()->infos.size(), 0u);
  ASSERT_NE((*engine)->Current()->schema, nullptr);
  // An existing folder is left as it is.
  std::ofstream(dir / "a.cedar") << "forbid (principal, action, resource);";
  ASSERT_TRUE(InitPolicyDirectory(dir).ok());
  EXPECT_TRUE(std::filesystem::exists(dir / "a.cedar"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace warden::policy
