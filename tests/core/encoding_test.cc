#include "warden/core/encoding.h"

#include <gtest/gtest.h>

#include "warden/core/random.h"

namespace warden {
namespace {

TEST(EncodingTest, Base64UrlRoundTripAndStrictness) {
  for (size_t n = 0; n < 40; ++n) {
    std::string bytes = RandomBytes(n);
    auto back = Base64UrlDecode(Base64UrlEncode(bytes));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, bytes);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64UrlDecode("ab==").ok());
  EXPECT_FALSE(Base64UrlDecode("a b").ok());
  EXPECT_FALSE(Base64UrlDecode("-_9").ok());  // non-zero trailing bits
  EXPECT_EQ(Base64Encode("hi"), "aGk=");
}

TEST(EncodingTest, HexAndConstantTime) {
  EXPECT_EQ(HexEncode("\x01\xab"), "01ab");
  EXPECT_EQ(*HexDecode("01AB"), "\x01\xab");
  EXPECT_FALSE(HexDecode("0g").ok());
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
}

TEST(RandomTest, IdsAreDistinctAndWellFormed) {
  std::string a = RandomId("grt");
  std::string b = RandomId("grt");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 4u + 26u);
  EXPECT_EQ(a.rfind("grt_", 0), 0u);
  EXPECT_EQ(RandomSecret("wdn").size(), 4u + 43u);
}

}  // namespace
}  // namespace warden
