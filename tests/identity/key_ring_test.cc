#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "identity/test_util.h"
#include "warden/core/json.h"
#include "warden/core/time_format.h"
#include "warden/identity/key_store.h"

namespace warden::identity {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::seconds;

// Forwards to a real store; writes fail while fail_writes is set.
class FaultyStore final : public store::Store {
 public:
  explicit FaultyStore(store::Store& inner) : inner_(inner) {}
  std::atomic<bool> fail_writes{false};

  Status Write(std::function<Status(store::Transaction&)> fn) override {
    if (fail_writes) return Unavailable("injected write failure");
    return inner_.Write(std::move(fn));
  }
  void WriteAsync(std::function<Status(store::Transaction&)> fn,
                  std::function<void(Status)> done) override {
    if (fail_writes) {
      if (done) done(Unavailable("injected write failure"));
      return;
    }
    inner_.WriteAsync(std::move(fn), std::move(done));
  }
  Status Read(const std::function<Status(store::Transaction&)>& fn) override {
    return inner_.Read(fn);
  }
  int SchemaVersion() const override { return inner_.SchemaVersion(); }
  std::string_view Backend() const override { return inner_.Backend(); }
  Status Ping() override { return inner_.Ping(); }
  uint64_t ErrorCount() const override { return inner_.ErrorCount(); }

 private:
  store::Store& inner_;
};

size_t FileCount(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

std::vector<std::string> JwksKids(const json::object& jwks) {
  std::vector<std::string> out;
  for (const auto& k : jwks.at("keys").as_array()) {
    out.emplace_back(k.as_object().at("kid").as_string());
  }
  return out;
}

class KeyRingTest : public ::testing::TestWithParam<crypto::Algorithm> {
 protected:
  void SetUp() override {
    real_store_ = testing::OpenTestStore(dir_);
    ASSERT_NE(real_store_, nullptr);
    store_ = std::make_unique<FaultyStore>(*real_store_);
    keys_ = dir_.path() / "keys";
  }

  std::unique_ptr<KeyRing> OpenRing() {
    auto ring = KeyRing::Open(*store_, keys_, GetParam(), clock_, kLifetime);
    EXPECT_TRUE(ring.ok()) << ring.status().ToString();
    return ring.ok() ? std::move(*ring) : nullptr;
  }

  static constexpr seconds kLifetime = hours(1);
  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> real_store_;
  std::unique_ptr<FaultyStore> store_;
  fs::path keys_;
};

TEST_P(KeyRingTest, OpenGeneratesTheFirstKey) {
  auto ring = OpenRing();
  ASSERT_NE(ring, nullptr);
  auto current = ring->Current();
  ASSERT_NE(current, nullptr);
  EXPECT_EQ(current->algorithm(), GetParam());
  EXPECT_TRUE(fs::exists(keys_ / (current->kid() + ".pem")));
  EXPECT_EQ(JwksKids(ring->Jwks()), std::vector<std::string>{current->kid()});
  auto found = ring->Find(current->kid());
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->kid(), current->kid());
  auto resolved = ring->Resolver()(current->kid());
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->kid(), current->kid());
}

TEST_P(KeyRingTest, RotationSignsWithTheNewKeyAndPublishesTheOldUntilItsWindowEnds) {
  auto ring = OpenRing();
  ASSERT_NE(ring, nullptr);
  auto old_key = ring->Current();
  auto old_sig = old_key->Sign("issued before rotation");
  ASSERT_TRUE(old_sig.ok());

  clock_.Advance(seconds(10));
  const TimePoint rotated_at = clock_.Now();
  auto record = ring->Rotate(std::nullopt, "admin");
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  auto new_key = ring->Current();
  EXPECT_EQ(new_key->kid(), record->kid);
  EXPECT_NE(new_key->kid(), old_key->kid());
  EXPECT_EQ(new_key->algorithm(), GetParam());  // nullopt keeps the algorithm
  EXPECT_EQ(record->status, KeyStatus::kActive);
  EXPECT_EQ(record->created_at, rotated_at);
  EXPECT_FALSE(record->publish_until);
  EXPECT_TRUE(fs::exists(keys_ / (new_key->kid() + ".pem")));

  auto new_sig = new_key->Sign("issued after rotation");
  ASSERT_TRUE(new_sig.ok());
  auto new_pub = ring->Find(new_key->kid());
  ASSERT_TRUE(new_pub.ok());
  EXPECT_TRUE(new_pub->Verify("issued after rotation", *new_sig).ok());
  EXPECT_FALSE(new_pub->Verify("issued before rotation", *old_sig).ok());

  // Tokens signed before the rotation still verify during the window.
  auto old_pub = ring->Find(old_key->kid());
  ASSERT_TRUE(old_pub.ok()) << old_pub.status().ToString();
  EXPECT_TRUE(old_pub->Verify("issued before rotation", *old_sig).ok());

  auto rows = ring->List();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].kid, old_key->kid());
  EXPECT_EQ((*rows)[0].status, KeyStatus::kRetired);
  EXPECT_EQ((*rows)[0].retired_at, rotated_at);
  EXPECT_EQ((*rows)[0].publish_until, rotated_at + kLifetime);
  EXPECT_EQ((*rows)[1].kid, new_key->kid());
  EXPECT_EQ((*rows)[1].status, KeyStatus::kActive);
  EXPECT_FALSE((*rows)[1].retired_at);
  EXPECT_FALSE((*rows)[1].publish_until);

  // The last microsecond of the window, then past it: the old key stops
  // verifying even without a Refresh.
  clock_.Set(rotated_at + kLifetime - std::chrono::microseconds(1));
  EXPECT_TRUE(ring->Find(old_key->kid()).ok());
  EXPECT_EQ(JwksKids(ring->Jwks()), (std::vector<std::string>{new_key->kid(), old_key->kid()}));
  clock_.Set(rotated_at + kLifetime);
  auto gone = ring->Find(old_key->kid());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message(), "unknown key id \"" + old_key->kid() + "\"");
  EXPECT_EQ(ring->Resolver()(old_key->kid()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(JwksKids(ring->Jwks()), std::vector<std::string>{new_key->kid()});
  EXPECT_EQ(ring->Current()->kid(), new_key->kid());
}

TEST_P(KeyRingTest, JwksListsPublishedFormCurrentFirstThenNewestRetired) {
  auto ring = OpenRing();
  ASSERT_NE(ring, nullptr);
  std::vector<std::string> kids{ring->Current()->kid()};
  for (int i = 0; i < 2; ++i) {
    clock_.Advance(seconds(60));
    auto r = ring->Rotate(std::nullopt, "admin");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    kids.push_back(r->kid);
  }
  json::object jwks = ring->Jwks();
  ASSERT_EQ(jwks.size(), 1u);
  EXPECT_EQ(JwksKids(jwks), (std::vector<std::string>{kids[2], kids[1], kids[0]}));
  for (const auto& k : jwks.at("keys").as_array()) {
    const auto& jwk = k.as_object();
    EXPECT_EQ(jwk.at("use").as_string(), "sig");
    EXPECT_EQ(jwk.at("alg").as_string(), crypto::JoseAlgorithmName(GetParam()));
    EXPECT_FALSE(jwk.contains("d"));
    auto pub = crypto::PublicKey::FromJwk(jwk);
    ASSERT_TRUE(pub.ok());
    EXPECT_EQ(pub->kid(), jwk.at("kid").as_string());
  }
  EXPECT_EQ(CanonicalJson(jwks.at("keys").as_array()[0]),
            CanonicalJson(ring->Current()->public_key().ToPublishedJwk()));
}

TEST_P(KeyRingTest, RotationPersistsAcrossRestart) {
  std::string old_kid, new_kid;
  {
    auto ring = OpenRing();
    ASSERT_NE(ring, nullptr);
    old_kid = ring->Current()->kid();
    auto r = ring->Rotate(std::nullopt, "admin");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    new_kid = r->kid;
  }
  clock_.Advance(seconds(30));
  // The default algorithm only matters on first start.
  auto reopened =
      KeyRing::Open(*store_, keys_,
                    GetParam() == crypto::Algorithm::kEd25519 ? crypto::Algorithm::kEs256
                                                              : crypto::Algorithm::kEd25519,
                    clock_, kLifetime);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->Current()->kid(), new_kid);
  EXPECT_EQ((*reopened)->Current()->algorithm(), GetParam());
  EXPECT_TRUE((*reopened)->Find(old_kid).ok());
  EXPECT_EQ(JwksKids((*reopened)->Jwks()), (std::vector<std::string>{new_kid, old_kid}));
  clock_.Advance(kLifetime);
  EXPECT_EQ((*reopened)->Find(old_kid).status().code(), StatusCode::kNotFound);
}

TEST_P(KeyRingTest, FailedWriteLeavesNoKeyFileAndTheOldSnapshot) {
  auto ring = OpenRing();
  ASSERT_NE(ring, nullptr);
  const std::string kid = ring->Current()->kid();
  const std::string jwks = CanonicalJson(ring->Jwks());
  store_->fail_writes = true;
  auto r = ring->Rotate(std::nullopt, "admin");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  store_->fail_writes = false;
  EXPECT_EQ(ring->Current()->kid(), kid);
  EXPECT_EQ(CanonicalJson(ring->Jwks()), jwks);
  EXPECT_EQ(FileCount(keys_), 1u);
  EXPECT_TRUE(fs::exists(keys_ / (kid + ".pem")));
  EXPECT_EQ(ring->List()->size(), 1u);
  EXPECT_EQ(testing::AllEvents(*store_).size(), 1u);  // key.generated only
  // The ring still works afterwards.
  ASSERT_TRUE(ring->Rotate(std::nullopt, "admin").ok());
  EXPECT_EQ(FileCount(keys_), 2u);
}

TEST_P(KeyRingTest, RotationAndDestructionAreAudited) {
  auto ring = OpenRing();
  ASSERT_NE(ring, nullptr);
  const std::string old_kid = ring->Current()->kid();
  clock_.Advance(seconds(5));
  const TimePoint rotated_at = clock_.Now();
  auto r = ring->Rotate(std::nullopt, "admin@example.com");
  ASSERT_TRUE(r.ok());

  auto events = testing::AllEvents(*store_);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, "key.generated");
  EXPECT_EQ(events[1].kind, "key.rotated");
  EXPECT_EQ(events[1].actor, "admin@example.com");
  EXPECT_EQ(events[1].subject, "key:" + r->kid);
  EXPECT_EQ(events[1].time, rotated_at);
  EXPECT_EQ(CanonicalJson(events[1].details),
            CanonicalJson(
                json::object{{"kid", r->kid},
                             {"alg", crypto::JoseAlgorithmName(GetParam())},
                             {"previous_kid", old_kid},
                             {"previous_publish_until", FormatRfc3339(rotated_at + kLifetime)}}));

  // Within the window Refresh keeps the old private key file.
  ASSERT_TRUE(ring->Refresh().ok());
  EXPECT_TRUE(fs::exists(keys_ / (old_kid + ".pem")));
  EXPECT_EQ(testing::AllEvents(*store_).size(), 2u);

  // Past it, the file is deleted once and the deletion audited once.
  clock_.Set(rotated_at + kLifetime);
  Status refreshed = ring->Refresh();
  ASSERT_TRUE(refreshed.ok()) << refreshed.ToString();
  EXPECT_FALSE(fs::exists(keys_ / (old_kid + ".pem")));
  EXPECT_TRUE(fs::exists(keys_ / (r->kid + ".pem")));
  events = testing::AllEvents(*store_);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].kind, "key.destroyed");
  EXPECT_EQ(events[2].actor, "system");
  EXPECT_EQ(events[2].subject, "key:" + old_kid);
  EXPECT_EQ(CanonicalJson(events[2].details),
            CanonicalJson(json::object{{"kid", old_kid},
                                       {"alg", crypto::JoseAlgorithmName(GetParam())},
                                       {"publish_until", FormatRfc3339(rotated_at + kLifetime)}}));
  ASSERT_TRUE(ring->Refresh().ok());
  EXPECT_EQ(testing::AllEvents(*store_).size(), 3u);
  // The row stays for the record.
  auto rows = ring->List();
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 2u);
  auto verified = audit::Verify(*store_);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok) << verified->problem;
}

TEST_P(KeyRingTest, RefreshPicksUpAnotherServersRotation) {
  auto a = OpenRing();
  auto b = OpenRing();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const std::string old_kid = a->Current()->kid();
  ASSERT_EQ(b->Current()->kid(), old_kid);
  clock_.Advance(seconds(1));
  auto r = a->Rotate(std::nullopt, "admin");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(b->Current()->kid(), old_kid);
  EXPECT_EQ(b->Find(r->kid).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(b->Refresh().ok());
  EXPECT_EQ(b->Current()->kid(), r->kid);
  EXPECT_TRUE(b->Find(old_kid).ok());
  EXPECT_EQ(JwksKids(b->Jwks()), (std::vector<std::string>{r->kid, old_kid}));

  // B rotates from the state A left; A's stale view is corrected by Refresh.
  clock_.Advance(seconds(1));
  auto r2 = b->Rotate(std::nullopt, "admin");
  ASSERT_TRUE(r2.ok());
  ASSERT_TRUE(a->Refresh().ok());
  EXPECT_EQ(a->Current()->kid(), r2->kid);
  EXPECT_EQ(JwksKids(a->Jwks()), (std::vector<std::string>{r2->kid, r->kid, old_kid}));
  auto rows = a->List();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[1].publish_until, clock_.Now() + kLifetime);
}

TEST_P(KeyRingTest, ConcurrentReadersDuringRotation) {
  auto ring = OpenRing();
  ASSERT_NE(ring, nullptr);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> checks{0};
  std::vector<std::thread> readers;
  readers.reserve(3);
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto key = ring->Current();
        auto sig = key->Sign("payload");
        // Every key a reader saw is still published: the clock stands still.
        auto pub = ring->Find(key->kid());
        if (!sig.ok() || !pub.ok() || !pub->Verify("payload", *sig).ok() ||
            ring->Jwks().at("keys").as_array().empty()) {
          failures.fetch_add(1);
        }
        checks.fetch_add(1);
      }
    });
  }
  std::vector<std::string> kids;
  for (int i = 0; i < 5; ++i) {
    auto r =
        ring->Rotate(i % 2 == 0 ? crypto::Algorithm::kEs256 : crypto::Algorithm::kEd25519, "admin");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    kids.push_back(r->kid);
  }
  while (checks.load() < 50) std::this_thread::yield();
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ring->Current()->kid(), kids.back());
  EXPECT_EQ(ring->Current()->algorithm(), crypto::Algorithm::kEs256);
  EXPECT_EQ(ring->Jwks().at("keys").as_array().size(), 6u);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, KeyRingTest,
                         ::testing::Values(crypto::Algorithm::kEd25519, crypto::Algorithm::kEs256),
                         [](const ::testing::TestParamInfo<crypto::Algorithm>& param_info) {
                           return param_info.param == crypto::Algorithm::kEd25519
                                      ? std::string("Ed25519")
                                      : std::string("ES256");
                         });

class KeyRingMiscTest : public ::testing::Test {
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

TEST_F(KeyRingMiscTest, RotatesToAnotherAlgorithm) {
  auto ring = KeyRing::Open(*store_, keys_, crypto::Algorithm::kEd25519, clock_, hours(1));
  ASSERT_TRUE(ring.ok());
  const std::string old_kid = (*ring)->Current()->kid();
  auto r = (*ring)->Rotate(crypto::Algorithm::kEs256, "admin");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->algorithm, crypto::Algorithm::kEs256);
  EXPECT_EQ(r->public_jwk.at("kty").as_string(), "EC");
  EXPECT_EQ((*ring)->Current()->jose_alg(), "ES256");
  auto old_pub = (*ring)->Find(old_kid);
  ASSERT_TRUE(old_pub.ok());
  EXPECT_EQ(old_pub->jose_alg(), "EdDSA");
  auto jwks = (*ring)->Jwks();
  EXPECT_EQ(jwks.at("keys").as_array()[0].as_object().at("alg").as_string(), "ES256");
  EXPECT_EQ(jwks.at("keys").as_array()[1].as_object().at("alg").as_string(), "EdDSA");
}

TEST_F(KeyRingMiscTest, RefusesBadArguments) {
  for (seconds lifetime : std::vector<seconds>{seconds(0), seconds(-1), hours(24 * 367)}) {
    auto ring = KeyRing::Open(*store_, keys_, crypto::Algorithm::kEd25519, clock_, lifetime);
    EXPECT_EQ(ring.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(ring.status().field(), "max_token_lifetime");
  }
  auto ring = KeyRing::Open(*store_, keys_, crypto::Algorithm::kEd25519, clock_, hours(1));
  ASSERT_TRUE(ring.ok());
  auto r = (*ring)->Rotate(std::nullopt, "");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), "actor");
  EXPECT_EQ(FileCount(keys_), 1u);
}

TEST_F(KeyRingMiscTest, UnknownKidsAreQuotedSafely) {
  auto ring = KeyRing::Open(*store_, keys_, crypto::Algorithm::kEd25519, clock_, hours(1));
  ASSERT_TRUE(ring.ok());
  auto found = (*ring)->Find("evil\"\n" + std::string(200, 'a'));
  EXPECT_EQ(found.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(found.status().message().find('\n'), std::string::npos);
  EXPECT_LT(found.status().message().size(), 120u);
  EXPECT_EQ((*ring)->Find("").status().code(), StatusCode::kNotFound);
}

TEST_F(KeyRingMiscTest, MissingNewKeyFileKeepsTheOldSnapshot) {
  auto a = KeyRing::Open(*store_, keys_, crypto::Algorithm::kEd25519, clock_, hours(1));
  auto b = KeyRing::Open(*store_, keys_, crypto::Algorithm::kEd25519, clock_, hours(1));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  const std::string old_kid = (*b)->Current()->kid();
  auto r = (*a)->Rotate(std::nullopt, "admin");
  ASSERT_TRUE(r.ok());
  fs::remove(keys_ / (r->kid + ".pem"));
  EXPECT_EQ((*b)->Refresh().code(), StatusCode::kNotFound);
  EXPECT_EQ((*b)->Current()->kid(), old_kid);
}

}  // namespace
}  // namespace warden::identity
