#include "warden/core/json.h"

#include <gtest/gtest.h>

namespace warden {
namespace {

TEST(JsonTest, ParseErrorsNameLineAndColumn) {
  auto r = ParseJson("{\n  \"a\": tru\n}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status().ToString();
}

TEST(JsonTest, RejectsTrailingGarbageDuplicatesDepthAndSize) {
  EXPECT_FALSE(ParseJson("{} x").ok());
  EXPECT_FALSE(ParseJson("{\"a\":1,\"a\":2}").ok());
  EXPECT_FALSE(ParseJson(std::string(100, '[') + std::string(100, ']')).ok());
  JsonParseOptions small;
  small.max_bytes = 4;
  EXPECT_EQ(ParseJson("[1,2,3]", small).status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(ParseJson(" {\"a\": [1, 2]} \n").ok());
}

TEST(JsonTest, CanonicalSortsKeysRecursively) {
  auto v = ParseJson(R"({"b":1,"a":{"d":[true,null],"c":"x\n"}})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(CanonicalJson(*v), R"({"a":{"c":"x\n","d":[true,null]},"b":1})");
}

TEST(JsonTest, StrictObjectRejectsUnknownAndWrongTypes) {
  auto v = ParseJson(R"({"owner":"alice","n":"3","extra":1,"tags":["a",2]})");
  ASSERT_TRUE(v.ok());
  auto obj = StrictObject::From(*v, "agent");
  ASSERT_TRUE(obj.ok());
  EXPECT_EQ(*obj->RequiredString("owner"), "alice");
  auto n = obj->OptionalInt("n");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().field(), "agent.n");
  auto tags = obj->OptionalStringArray("tags");
  ASSERT_FALSE(tags.ok());
  EXPECT_EQ(tags.status().field(), "agent.tags[1]");
  auto missing = obj->RequiredString("purpose");
  EXPECT_EQ(missing.status().field(), "agent.purpose");
  Status fin = obj->Finish();
  EXPECT_EQ(fin.field(), "agent.extra");
}

}  // namespace
}  // namespace warden
