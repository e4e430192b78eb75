// The policy routes through a real server: the default deny-all folder on
// first start, loading the demo policies, decisions with registry entities,
// needs-approval, refused reloads that keep the running set, and the audit
// trail of every reload and decision.
#include <csignal>
#include <filesystem>
#include <fstream>

#include "server/server_fixture.h"

namespace warden::server::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

class PolicyApiTest : public ServerFixture {
 protected:
  void CreateAgent() {
    auto r = Post("/v1/agents", R"({"name":"support-bot","owner":"helpdesk","purpose":"tickets",)"
                                R"("environment":"dev","expires_in":"30d"})");
    ASSERT_EQ(r.status, 201u) << r.body;
  }

  HttpResult Authorize(std::string_view tool, std::string_view extra_context = "") {
    std::string body = R"({"principal":{"type":"Agent","id":"support-bot"},)"
                       R"("action":{"type":"Action","id":"call"},)"
                       R"("resource":{"type":"Tool","id":")" + std::string(tool) + R"("},)"
                       R"("context":{"environment":"dev","sensitivity":"internal")" +
                       std::string(extra_context) + R"(},)"
                       R"("entities":[{"uid":{"type":"Tool","id":")" + std::string(tool) +
                       R"("},"attrs":{"server":"helpdesk","name":"t"},"parents":[]}]})";
    return Post("/v1/authorize", body);
  }

  std::vector<std::string> AuditKinds() {
    json::value page = Get("/v1/audit?limit=1000").Json();
    std::vector<std::string> kinds;
    for (const auto& e : page.as_object()["events"].as_array()) {
      kinds.emplace_back(e.as_object().at("kind").as_string());
    }
    return kinds;
  }
};

TEST_F(PolicyApiTest, FirstStartServesADenyAllSetWithTheDefaultSchema) {
  StartServer();
  EXPECT_TRUE(fs::exists(DataDir() / "policies" / "schema.cedarschema"));
  EXPECT_EQ(FileMode(DataDir() / "policies"), 0700u);
  auto list = Get("/v1/policies");
  ASSERT_EQ(list.status, 200u) << list.body;
  EXPECT_TRUE(list.Json().as_object()["policies"].as_array().empty());
  CreateAgent();
  auto r = Authorize("helpdesk/read_ticket");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().as_object()["decision"], "deny");
  auto kinds = AuditKinds();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "policy.loaded"), kinds.end());
  EXPECT_EQ(kinds.back(), "policy.decision");
}

TEST_F(PolicyApiTest, DecisionsReloadsAndTheirEvidence) {
  StartServer();
  CreateAgent();
  InstallExamplePolicies();
  auto reload = Post("/v1/policies/reload", "");
  ASSERT_EQ(reload.status, 200u) << reload.body;
  std::string hash(reload.Json().as_object()["hash"].as_string());
  EXPECT_EQ(reload.Json().as_object()["policies"].as_array().size(), 10u);

  auto allow = Authorize("helpdesk/read_ticket");
  ASSERT_EQ(allow.status, 200u) << allow.body;
  auto a = allow.Json().as_object();
  EXPECT_EQ(a["decision"], "allow");
  EXPECT_EQ(a["reasons"].as_array()[0], "policy0");
  EXPECT_EQ(a["reason_names"].as_array()[0], "read-tickets");
  EXPECT_EQ(a["policy_set_hash"].as_string(), hash);

  auto deny = Authorize("helpdesk/delete_ticket");
  EXPECT_EQ(deny.Json().as_object()["decision"], "deny");
  auto approval = Authorize("helpdesk/issue_refund");
  EXPECT_EQ(approval.Json().as_object()["decision"], "needs_approval");
  EXPECT_EQ(approval.Json().as_object()["approval_policies"].as_array()[0], "policy2");

  // The registry, not the caller, says who the agent is: a forged agent entity
  // claiming another environment changes nothing.
  auto suspend = Post("/v1/agents/support-bot/suspend", "");
  ASSERT_EQ(suspend.status, 200u) << suspend.body;
  EXPECT_EQ(Authorize("helpdesk/read_ticket").Json().as_object()["decision"], "deny");

  // Bad requests are refused, not decided.
  EXPECT_EQ(Authorize("helpdesk/read_ticket", R"(,"extra":1)").ErrorCode(), "invalid_argument");
  auto unknown = Post("/v1/authorize", R"({"principal":{"type":"Agent","id":"nobody"},)"
                                       R"("action":{"type":"Action","id":"call"},)"
                                       R"("resource":{"type":"Tool","id":"x"},"context":{}})");
  EXPECT_EQ(unknown.status, 404u) << unknown.body;
  EXPECT_EQ(Post("/v1/authorize", R"({"principal":{"type":"Agent","id":"support-bot"},"bogus":1})")
                .ErrorCode(),
            "invalid_argument");

  // An invalid folder is refused; the running set stays.
  std::ofstream(DataDir() / "policies" / "zz.cedar") << "permit (principal, action, resource) when { nope };";
  auto refused = Post("/v1/policies/reload", "");
  EXPECT_EQ(refused.status, 400u) << refused.body;
  EXPECT_NE(refused.body.find("zz.cedar:1:"), std::string::npos) << refused.body;
  EXPECT_EQ(Get("/v1/policies").Json().as_object()["hash"].as_string(), hash);

  auto kinds = AuditKinds();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "policy.reloaded"), kinds.end());
  EXPECT_EQ(kinds.back(), "policy.reload_refused");
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "policy.decision"), 4);
  EXPECT_EQ(Get("/v1/audit/verify").Json().as_object()["ok"], true);
}

TEST_F(PolicyApiTest, InvalidPoliciesAtStartRefuseToServe) {
  fs::create_directories(DataDir() / "policies");
  fs::permissions(DataDir(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  fs::permissions(DataDir() / "policies", fs::perms::owner_all);
  std::ofstream(DataDir() / "policies" / "schema.cedarschema") << "entity User;";
  std::ofstream(DataDir() / "policies" / "a.cedar") << "permit (principal == Agent::\"x\", action, resource);";
  auto s = Server::Start(options_, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().ToString().find("a.cedar"), std::string::npos) << s.status().ToString();
}

TEST_F(PolicyApiTest, AdminTokenRequired) {
  StartServer();
  EXPECT_EQ(Send(Addr(), "GET", "/v1/policies", "", {}).status, 401u);
  EXPECT_EQ(Send(Addr(), "POST", "/v1/policies/reload", "", {}).status, 401u);
  EXPECT_EQ(Send(Addr(), "POST", "/v1/authorize", "{}", {{"Content-Type", "application/json"}}).status,
            401u);
}

}  // namespace
}  // namespace warden::server::testing
