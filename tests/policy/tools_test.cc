#include "warden/policy/tools.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace warden::policy {
namespace {

namespace fs = std::filesystem;

class ToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("warden-tools-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Write("policies.cedar", R"(
permit (principal == User::"alice", action == Action::"view", resource)
when { context.addr.isInRange(ip("10.0.0.0/8")) };
forbid (principal, action, resource) when { resource.private };
)");
    Write("schema.cedarschema", R"(
entity User;
entity Doc { private: Bool };
action view appliesTo { principal: User, resource: Doc, context: { addr: ipaddr } };
)");
    Write("entities.json", R"([
  {"uid": {"type": "User", "id": "alice"}, "attrs": {}, "parents": []},
  {"uid": {"type": "Doc", "id": "open"}, "attrs": {"private": false}, "parents": []},
  {"uid": {"type": "Doc", "id": "secret"}, "attrs": {"private": true}, "parents": []}
])");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(ToolsTest, AuthorizesWithSchemaBasedParsing) {
  auto authz = OfflineAuthorizer::Load(Path("policies.cedar"), Path("entities.json"),
                                       Path("schema.cedarschema"));
  ASSERT_TRUE(authz.ok()) << authz.status().ToString();
  auto request = [](std::string_view doc, std::string_view addr) {
    return boost::json::parse(R"({"principal":{"type":"User","id":"alice"},)"
                              R"("action":{"type":"Action","id":"view"},)"
                              R"("resource":{"type":"Doc","id":")" + std::string(doc) +
                              R"("},"context":{"addr":")" + std::string(addr) + R"("}})");
  };
  auto allow = authz->Authorize(request("open", "10.1.2.3"));
  ASSERT_TRUE(allow.ok()) << allow.status().ToString();
  EXPECT_EQ(cedar::ResponseToJson(*allow), R"({"decision":"allow","reasons":["policy0"],"errors":[]})");
  auto forbid = authz->Authorize(request("secret", "10.1.2.3"));
  ASSERT_TRUE(forbid.ok());
  EXPECT_EQ(cedar::ResponseToJson(*forbid), R"({"decision":"deny","reasons":["policy1"],"errors":[]})");
  auto outside = authz->Authorize(request("open", "192.168.0.1"));
  ASSERT_TRUE(outside.ok());
  EXPECT_EQ(outside->decision, cedar::Decision::kDeny);
  // Without a schema the string is only a string: the condition errors.
  auto schemaless = OfflineAuthorizer::Load(Path("policies.cedar"), Path("entities.json"), std::nullopt);
  ASSERT_TRUE(schemaless.ok());
  auto err = schemaless->Authorize(request("open", "10.1.2.3"));
  ASSERT_TRUE(err.ok());
  ASSERT_EQ(err->diagnostics.errors.size(), 1u);
  EXPECT_EQ(err->diagnostics.errors[0].policy_id, "policy0");
  // Ill-typed context is refused with the field.
  auto bad = authz->Authorize(request("open", "not-an-ip"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "context");
  auto missing = authz->Authorize(boost::json::parse(R"({"principal":{"type":"User","id":"alice"}})"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().field(), "action");
  auto unknown = authz->Authorize(boost::json::parse(R"({"principal":{"type":"User","id":"a"},"extra":1})"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().field(), "extra");
}

TEST_F(ToolsTest, ValidateAndFormat) {
  auto ok = ValidateFiles(Path("policies.cedar"), Path("schema.cedarschema"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, 2u);
  Write("bad.cedar", "permit (principal, action, resource) when { resource.nope };");
  auto bad = ValidateFiles(Path("bad.cedar"), Path("schema.cedarschema"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.cedar:1:"), std::string::npos) << bad.status().message();
  auto formatted = FormatFile(Path("policies.cedar"));
  ASSERT_TRUE(formatted.ok());
  Write("formatted.cedar", *formatted);
  auto again = FormatFile(Path("formatted.cedar"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *formatted);  // formatting is idempotent
  EXPECT_FALSE(FormatFile(Path("missing.cedar")).ok());
}

TEST_F(ToolsTest, PolicyTestFiles) {
  Write("cases.json", R"({"policies": "policies.cedar", "entities": "entities.json",
    "schema": "schema.cedarschema", "cases": [
    {"name": "alice views open doc", "decision": "allow", "reasons": ["policy0"],
     "request": {"principal": {"type": "User", "id": "alice"}, "action": {"type": "Action", "id": "view"},
                 "resource": {"type": "Doc", "id": "open"}, "context": {"addr": "10.0.0.1"}}},
    {"name": "wrong expectation", "decision": "allow",
     "request": {"principal": {"type": "User", "id": "alice"}, "action": {"type": "Action", "id": "view"},
                 "resource": {"type": "Doc", "id": "secret"}, "context": {"addr": "10.0.0.1"}}}]})");
  auto results = RunPolicyTests(Path("cases.json"));
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), 2u);
  EXPECT_TRUE((*results)[0].passed) << (*results)[0].detail;
  EXPECT_FALSE((*results)[1].passed);
  EXPECT_EQ((*results)[1].actual, "deny");
  Write("broken.json", R"({"policies": "policies.cedar", "entities": "entities.json", "cases": [{"name": "x"}]})");
  auto broken = RunPolicyTests(Path("broken.json"));
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().field(), "cases[0].decision");
}

}  // namespace
}  // namespace warden::policy
