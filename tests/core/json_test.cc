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
  EXPECT_FALSE(ParseJson("{\"\":1,\"\":2}").ok());
  EXPECT_FALSE(ParseJson(std::string(100, '[') + std::string(100, ']')).ok());
  JsonParseOptions small;
  small.max_bytes = 4;
  EXPECT_EQ(ParseJson("[1,2,3]", small).status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(ParseJson(" {\"a\": [1, 2]} \n").ok());
  auto huge = ParseJson("[1, 99228233730368547e7207]");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("too large"), std::string::npos) << huge.status().message();
  EXPECT_TRUE(ParseJson("1e-400").ok());  // underflows to zero, as JSON readers do
}

TEST(JsonTest, CanonicalSortsKeysRecursively) {
  auto v = ParseJson(R"({"b":1,"a":{"d":[true,null],"c":"x\n"}})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(CanonicalJson(*v), R"({"a":{"c":"x\n","d":[true,null]},"b":1})");
}

TEST(JsonTest, CanonicalNumbersAreAFixedPoint) {
  for (const char* text : {"92223373036854775808", "1.5", "-0.0", "1e300", "0.1", "123456789012345678901234567890", "9223372036859247758023378", "[0.1,{\"a\":2.5e-7}]"}) {
    auto v = ParseJson(text);
    ASSERT_TRUE(v.ok()) << text;
    std::string once = CanonicalJson(*v);
    auto again = ParseJson(once);
    ASSERT_TRUE(again.ok()) << once;
    EXPECT_EQ(CanonicalJson(*again), once) << text;
  }
  EXPECT_EQ(CanonicalJson(*ParseJson("[9223372036854775807,18446744073709551615,-3]")),
            "[9223372036854775807,18446744073709551615,-3]");
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
