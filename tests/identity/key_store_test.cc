#include "warden/identity/key_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "identity/test_util.h"
#include "warden/core/json.h"

namespace warden::identity {
namespace {

namespace fs = std::filesystem;

unsigned Mode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

class KeyStoreTest : public ::testing::TestWithParam<crypto::Algorithm> {
 protected:
  void SetUp() override {
    store_ = testing::OpenTestStore(dir_);
    ASSERT_NE(store_, nullptr);
    keys_ = dir_.path() / "keys";
  }
  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  fs::path keys_;
};

TEST_P(KeyStoreTest, FirstStartGeneratesAndRecordsOneKey) {
  auto key = EnsureSigningKey(*store_, keys_, GetParam(), clock_);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->algorithm(), GetParam());
  EXPECT_EQ(Mode(keys_), 0700u);
  fs::path file = keys_ / (key->kid() + ".pem");
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(Mode(file), 0600u);

  auto records = ListKeys(*store_);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 1u);
  const KeyRecord& r = (*records)[0];
  EXPECT_EQ(r.kid, key->kid());
  EXPECT_EQ(r.algorithm, GetParam());
  EXPECT_EQ(r.status, KeyStatus::kActive);
  EXPECT_EQ(r.created_at, clock_.Now());
  EXPECT_FALSE(r.retired_at);
  EXPECT_FALSE(r.publish_until);
  EXPECT_EQ(CanonicalJson(r.public_jwk), CanonicalJson(key->public_key().ToJwk()));
  EXPECT_FALSE(r.public_jwk.contains("d"));

  auto events = testing::AllEvents(*store_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "key.generated");
  EXPECT_EQ(events[0].actor, "system");
  EXPECT_EQ(events[0].subject, "key:" + key->kid());
  EXPECT_EQ(CanonicalJson(events[0].details),
            CanonicalJson(json::object{{"alg", key->jose_alg()}, {"kid", key->kid()}}));

  // Second start: the same key, no new row, no new event, no new file.
  clock_.Advance(std::chrono::hours(1));
  auto again = EnsureSigningKey(*store_, keys_, crypto::Algorithm::kEd25519, clock_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->kid(), key->kid());
  EXPECT_EQ(ListKeys(*store_)->size(), 1u);
  EXPECT_EQ(testing::AllEvents(*store_).size(), 1u);
  EXPECT_EQ(std::distance(fs::directory_iterator(keys_), fs::directory_iterator()), 1);

  auto sig = again->Sign("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key->public_key().Verify("payload", *sig).ok());
}

TEST_P(KeyStoreTest, RefusesAKeyFileOthersCanRead) {
  auto key = EnsureSigningKey(*store_, keys_, GetParam(), clock_);
  ASSERT_TRUE(key.ok());
  ASSERT_EQ(::chmod((keys_ / (key->kid() + ".pem")).c_str(), 0644), 0);
  auto again = EnsureSigningKey(*store_, keys_, GetParam(), clock_);
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("0644"), std::string::npos);
}

TEST_P(KeyStoreTest, DetectsASwappedKeyFile) {
  auto key = EnsureSigningKey(*store_, keys_, GetParam(), clock_);
  ASSERT_TRUE(key.ok());
  auto other = crypto::SigningKey::Generate(GetParam());
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(other->SavePem(keys_ / (key->kid() + ".pem")).ok());
  auto loaded = LoadSigningKey(*store_, keys_, key->kid());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
}

TEST_P(KeyStoreTest, MissingKeyFileIsAnError) {
  auto key = EnsureSigningKey(*store_, keys_, GetParam(), clock_);
  ASSERT_TRUE(key.ok());
  fs::remove(keys_ / (key->kid() + ".pem"));
  auto again = EnsureSigningKey(*store_, keys_, GetParam(), clock_);
  EXPECT_EQ(again.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(testing::AllEvents(*store_).size(), 1u);  // no silent replacement
}

INSTANTIATE_TEST_SUITE_P(Algorithms, KeyStoreTest,
                         ::testing::Values(crypto::Algorithm::kEd25519, crypto::Algorithm::kEs256),
                         [](const ::testing::TestParamInfo<crypto::Algorithm>& param_info) {
                           return param_info.param == crypto::Algorithm::kEd25519
                                      ? std::string("Ed25519")
                                      : std::string("ES256");
                         });

TEST(KeyFilePathTest, RejectsHostileKids) {
  fs::path dir = "/data/keys";
  EXPECT_EQ(KeyFilePath(dir, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")->string(),
            "/data/keys/kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k.pem");
  for (const std::string& kid : std::vector<std::string>{
           "", "../../etc/passwd", "abc", "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4/",
           "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k.pem"}) {
    EXPECT_EQ(KeyFilePath(dir, kid).status().code(), StatusCode::kInvalidArgument) << kid;
  }
}

}  // namespace
}  // namespace warden::identity
