#include "warden/grants/intent.h"

#include <gtest/gtest.h>

#include "warden/core/json.h"

namespace warden::grants {
namespace {

json::value Body(std::string_view text) {
  auto v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : json::value();
}

constexpr std::string_view kFull = R"({
  "task": "TCK-42:triage",
  "description": "  Triage the new support tickets  ",
  "actions": ["tickets:read", "tickets:label"],
  "resources": ["queue/support"],
  "environment": "prod",
  "sensitivity": "confidential",
  "ttl": "30m",
  "on_behalf_of": "alice@example.com",
  "limits": {"max_calls": 100, "max_spend": "250.00"}
})";

Status ErrorOf(std::string_view text) { return ParseIntent(Body(text)).status(); }

TEST(IntentTest, ParsesEveryField) {
  auto in = ParseIntent(Body(kFull));
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->task, "TCK-42:triage");
  EXPECT_EQ(in->description, "Triage the new support tickets");
  EXPECT_EQ(in->scope.actions, (std::vector<std::string>{"tickets:read", "tickets:label"}));
  EXPECT_EQ(in->scope.resources, (std::vector<std::string>{"queue/support"}));
  EXPECT_EQ(in->environment, "prod");
  EXPECT_EQ(in->sensitivity, Sensitivity::kConfidential);
  EXPECT_EQ(in->ttl, std::chrono::minutes(30));
  EXPECT_EQ(in->on_behalf_of, "alice@example.com");
  EXPECT_EQ(in->limits.max_calls, 100);
  EXPECT_EQ(in->limits.max_spend, "250.00");
}

TEST(IntentTest, DefaultsTtlAndAllowsNoResources) {
  auto in = ParseIntent(Body(
      R"({"task":"t","description":"d","actions":["a"],"environment":"dev","sensitivity":"public"})"));
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->ttl, kDefaultGrantTtl);
  EXPECT_TRUE(in->scope.resources.empty());
  EXPECT_FALSE(in->on_behalf_of);
}

TEST(IntentTest, RoundTripsThroughJson) {
  auto in = ParseIntent(Body(kFull));
  ASSERT_TRUE(in.ok());
  auto again = ParseIntent(json::value(IntentToJson(*in)));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *in);
}

struct BadCase {
  std::string body;
  std::string field;
};

TEST(IntentTest, RefusesInvalidInputNamingTheField) {
  const std::string base =
      R"("description":"d","environment":"dev","sensitivity":"internal")";
  const std::vector<BadCase> cases = {
      {R"({"task":"t","actions":["a"],"extra":1,)" + base + "}", "extra"},
      {R"({"task":"bad task","actions":["a"],)" + base + "}", "task"},
      {R"({"task":")" + std::string(129, 'x') + R"(","actions":["a"],)" + base + "}", "task"},
      {R"({"task":"t",)" + base + "}", "actions"},
      {R"({"task":"t","actions":[],)" + base + "}", "actions"},
      {R"({"task":"t","actions":["a","b","a"],)" + base + "}", "actions[2]"},
      {R"({"task":"t","actions":["a b"],)" + base + "}", "actions[0]"},
      {R"({"task":"t","actions":["a"],"resources":[" r"],)" + base + "}", "resources[0]"},
      {R"({"task":"t","actions":["a"],"ttl":"forever",)" + base + "}", "ttl"},
      {R"({"task":"t","actions":["a"],"description":"d","environment":"dev","sensitivity":"secret"})",
       "sensitivity"},
      {R"({"task":"t","actions":["a"],"limits":{"max_calls":0},)" + base + "}",
       "limits.max_calls"},
      {R"({"task":"t","actions":["a"],"limits":{"max_calls":1000001},)" + base + "}",
       "limits.max_calls"},
      {R"({"task":"t","actions":["a"],"limits":{"max_spend":"1e3"},)" + base + "}",
       "limits.max_spend"},
      {R"({"task":"t","actions":["a"],"limits":{"max_spend":"-1"},)" + base + "}",
       "limits.max_spend"},
      {R"({"task":"t","actions":["a"],"limits":{"max_spend":"1."},)" + base + "}",
       "limits.max_spend"},
      {R"({"task":"t","actions":["a"],"limits":{"cap":1},)" + base + "}", "limits.cap"},
      {R"({"task":"t","actions":["a"],"on_behalf_of":"",)" + base + "}", "on_behalf_of"},
  };
  for (const auto& c : cases) {
    Status s = ErrorOf(c.body);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_EQ(s.field(), c.field) << c.body << " -> " << s.ToString();
  }
}

TEST(IntentTest, RefusesTooManyActions) {
  json::array actions;
  for (int i = 0; i < 65; ++i) actions.emplace_back("a" + std::to_string(i));
  json::object o{{"task", "t"},         {"description", "d"},        {"actions", actions},
                 {"environment", "dev"}, {"sensitivity", "internal"}};
  Status s = ParseIntent(json::value(o)).status();
  EXPECT_EQ(s.field(), "actions");
  EXPECT_NE(s.message().find("got 65"), std::string::npos) << s.message();
}

TEST(IntentTest, ParsesSpendInMillionths) {
  EXPECT_EQ(*ParseSpend("250.00", "f"), 250'000'000);
  EXPECT_EQ(*ParseSpend("0.5", "f"), 500'000);
  EXPECT_EQ(*ParseSpend("3", "f"), 3'000'000);
  EXPECT_EQ(*ParseSpend("0.000001", "f"), 1);
  EXPECT_FALSE(ParseSpend("1.0000001", "f").ok());
  EXPECT_FALSE(ParseSpend("1234567890123", "f").ok());
  EXPECT_FALSE(ParseSpend("", "f").ok());
  EXPECT_FALSE(ParseSpend(".5", "f").ok());
}

TEST(IntentTest, BindingHashCoversAgentIntentAndScope) {
  auto in = ParseIntent(Body(kFull));
  ASSERT_TRUE(in.ok());
  const std::string h = BindingHash("spiffe://d/agent/a", *in, in->scope);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h, BindingHash("spiffe://d/agent/a", *in, in->scope));
  EXPECT_NE(h, BindingHash("spiffe://d/agent/b", *in, in->scope));
  Scope narrower{{"tickets:read"}, {}};
  EXPECT_NE(h, BindingHash("spiffe://d/agent/a", *in, narrower));
  Intent other = *in;
  other.ttl = std::chrono::minutes(31);
  EXPECT_NE(h, BindingHash("spiffe://d/agent/a", other, in->scope));
}

}  // namespace
}  // namespace warden::grants
