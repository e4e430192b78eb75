#include "warden/crypto/hash.h"

#include <gtest/gtest.h>

#include "warden/core/encoding.h"

namespace warden::crypto {
namespace {

// FIPS 180-2 / RFC 4231 known answers.
TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256("abc").size(), kSha256Size);
}

TEST(Sha256Test, IncrementalMatchesOneShot) {
  Sha256Hasher h;
  h.Update("a");
  h.Update("");
  h.Update("bc");
  EXPECT_EQ(HexEncode(h.Finish()), Sha256Hex("abc"));
  // Finish resets the hasher.
  h.Update("abc");
  EXPECT_EQ(HexEncode(h.Finish()), Sha256Hex("abc"));
  Sha256Hasher moved = std::move(h);
  EXPECT_EQ(HexEncode(moved.Finish()), Sha256Hex(""));
}

TEST(HmacSha256Test, Rfc4231TestCase2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, EmptyKeyAndData) {
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

}  // namespace
}  // namespace warden::crypto
