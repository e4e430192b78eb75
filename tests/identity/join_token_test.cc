#include "warden/identity/join_token.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "identity/test_util.h"
#include "warden/core/encoding.h"
#include "warden/core/json.h"
#include "warden/core/time_format.h"
#include "warden/crypto/signing_key.h"

namespace warden::identity {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::AllEvents;

class JoinTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenTestStore(dir_);
    ASSERT_NE(store_, nullptr);
    registry_ = std::make_unique<AgentRegistry>(*store_, clock_, RegistryOptions{});
    AgentSpec spec;
    spec.name = "builder";
    spec.owner = "alice@example.com";
    spec.purpose = "builds releases";
    spec.environment = "prod";
    spec.expires_in = hours(24 * 30);
    ASSERT_TRUE(registry_->Create(spec, "admin").ok());
    auto key = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
    ASSERT_TRUE(key.ok());
    key_ = std::make_unique<crypto::SigningKey>(std::move(*key));
  }

  IssuedJoinToken Issue(seconds ttl = minutes(10)) {
    auto issued = CreateJoinToken(*store_, *registry_, clock_, "builder", ttl, "admin");
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued.ok() ? *issued : IssuedJoinToken{};
  }

  static JoinProof Prove(const crypto::SigningKey& key, const std::string& token,
                         const std::string& nonce) {
    auto sig = key.Sign("warden-join:" + nonce);
    EXPECT_TRUE(sig.ok());
    return JoinProof{token, nonce, key.public_key().ToJwk(), Base64UrlEncode(*sig)};
  }

  // Starts and completes a join with key_.
  Result<JoinResult> Join(const std::string& token) {
    auto nonce = StartJoin(*store_, clock_, token);
    if (!nonce.ok()) return nonce.status();
    return CompleteJoin(*store_, clock_, Prove(*key_, token, *nonce));
  }

  std::vector<audit::Event> EventsOfKind(std::string_view kind) {
    std::vector<audit::Event> out;
    for (auto& e : AllEvents(*store_)) {
      if (e.kind == kind) out.push_back(std::move(e));
    }
    return out;
  }

  // The last "join_token.refused" event's reason (empty when none).
  std::string LastRefusal() {
    auto refused = EventsOfKind("join_token.refused");
    if (refused.empty()) return "";
    return std::string(refused.back().details.at("reason").as_string());
  }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AgentRegistry> registry_;
  std::unique_ptr<crypto::SigningKey> key_;
};

void ExpectRefused(const Status& s, StatusCode code, std::string_view needle) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.ToString();
}

TEST_F(JoinTokenTest, CreateAndRedeem) {
  const TimePoint created = clock_.Now();
  IssuedJoinToken issued = Issue(minutes(15));
  // "wjt_" + 16 lower-case hex + "_" + 43 base64url characters.
  ASSERT_EQ(issued.token.size(), 64u);
  EXPECT_EQ(issued.token.substr(0, 4), "wjt_");
  EXPECT_EQ(issued.token.substr(4, 16).find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(issued.token[20], '_');
  auto secret = Base64UrlDecode(issued.token.substr(21));
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->size(), 32u);
  EXPECT_EQ(issued.token.substr(4, 16), issued.info.id);
  EXPECT_EQ(issued.info.agent, "builder");
  EXPECT_EQ(issued.info.created_at, created);
  EXPECT_EQ(issued.info.expires_at, created + minutes(15));
  EXPECT_EQ(issued.info.created_by, "admin");
  EXPECT_FALSE(issued.info.used_at);

  auto listed = ListJoinTokens(*store_, "builder");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, issued.info.id);
  EXPECT_EQ((*listed)[0].expires_at, issued.info.expires_at);
  EXPECT_FALSE((*listed)[0].used_at);
  EXPECT_TRUE(ListJoinTokens(*store_, "someone-else")->empty());
  EXPECT_EQ(ListJoinTokens(*store_, "")->size(), 1u);

  clock_.Advance(seconds(30));
  auto nonce = StartJoin(*store_, clock_, issued.token);
  ASSERT_TRUE(nonce.ok()) << nonce.status().ToString();
  EXPECT_EQ(nonce->size(), 43u);
  EXPECT_TRUE(Base64UrlDecode(*nonce).ok());
  clock_.Advance(seconds(5));
  auto joined = CompleteJoin(*store_, clock_, Prove(*key_, issued.token, *nonce));
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  EXPECT_EQ(joined->jkt, key_->kid());
  EXPECT_EQ(joined->info.id, issued.info.id);
  EXPECT_EQ(joined->info.agent, "builder");
  EXPECT_EQ(joined->info.used_at, clock_.Now());
  EXPECT_EQ(ListJoinTokens(*store_, "builder")->at(0).used_at, clock_.Now());

  auto created_events = EventsOfKind("join_token.created");
  ASSERT_EQ(created_events.size(), 1u);
  EXPECT_EQ(created_events[0].actor, "admin");
  EXPECT_EQ(created_events[0].subject, "join_token:" + issued.info.id);
  EXPECT_EQ(CanonicalJson(created_events[0].details),
            CanonicalJson(json::object{{"id", issued.info.id},
                                       {"agent", "builder"},
                                       {"expires_at", FormatRfc3339(issued.info.expires_at)}}));
  auto redeemed = EventsOfKind("join_token.redeemed");
  ASSERT_EQ(redeemed.size(), 1u);
  EXPECT_EQ(redeemed[0].actor, "agent:builder");
  EXPECT_EQ(redeemed[0].subject, "join_token:" + issued.info.id);
  EXPECT_EQ(CanonicalJson(redeemed[0].details),
            CanonicalJson(
                json::object{{"id", issued.info.id}, {"agent", "builder"}, {"jkt", key_->kid()}}));
  EXPECT_TRUE(EventsOfKind("join_token.refused").empty());
}

TEST_F(JoinTokenTest, RedeemsWithAnEs256Key) {
  IssuedJoinToken issued = Issue();
  auto key = crypto::SigningKey::Generate(crypto::Algorithm::kEs256);
  ASSERT_TRUE(key.ok());
  auto nonce = StartJoin(*store_, clock_, issued.token);
  ASSERT_TRUE(nonce.ok());
  auto joined = CompleteJoin(*store_, clock_, Prove(*key, issued.token, *nonce));
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  EXPECT_EQ(joined->jkt, key->kid());
}

TEST_F(JoinTokenTest, ReuseIsRefused) {
  IssuedJoinToken issued = Issue();
  auto nonce = StartJoin(*store_, clock_, issued.token);
  ASSERT_TRUE(nonce.ok());
  JoinProof proof = Prove(*key_, issued.token, *nonce);
  ASSERT_TRUE(CompleteJoin(*store_, clock_, proof).ok());

  clock_.Advance(seconds(1));
  ExpectRefused(CompleteJoin(*store_, clock_, proof).status(), StatusCode::kUnauthenticated,
                "already used");
  ExpectRefused(StartJoin(*store_, clock_, issued.token).status(), StatusCode::kUnauthenticated,
                "already used");
  EXPECT_NE(LastRefusal().find("already used"), std::string::npos);
  EXPECT_EQ(EventsOfKind("join_token.redeemed").size(), 1u);
}

TEST_F(JoinTokenTest, ExpiredTokenIsRefused) {
  IssuedJoinToken issued = Issue(minutes(1));
  clock_.Advance(minutes(1));
  ExpectRefused(StartJoin(*store_, clock_, issued.token).status(), StatusCode::kUnauthenticated,
                "expired at " + FormatRfc3339(issued.info.expires_at));

  // A join started in time cannot complete after the token expired.
  IssuedJoinToken second = Issue(minutes(1));
  clock_.Advance(seconds(50));
  auto nonce = StartJoin(*store_, clock_, second.token);
  ASSERT_TRUE(nonce.ok());
  clock_.Advance(seconds(10));
  ExpectRefused(CompleteJoin(*store_, clock_, Prove(*key_, second.token, *nonce)).status(),
                StatusCode::kUnauthenticated, "expired at");
  EXPECT_FALSE(ListJoinTokens(*store_, "builder")->at(1).used_at);
}

TEST_F(JoinTokenTest, ExpiredNonceIsRefused) {
  IssuedJoinToken issued = Issue();
  auto nonce = StartJoin(*store_, clock_, issued.token, seconds(30));
  ASSERT_TRUE(nonce.ok());
  clock_.Advance(seconds(30));
  ExpectRefused(CompleteJoin(*store_, clock_, Prove(*key_, issued.token, *nonce)).status(),
                StatusCode::kUnauthenticated, "nonce");
  EXPECT_NE(LastRefusal().find("expired"), std::string::npos);
  // A fresh start works; the token was not burnt by the late attempt.
  EXPECT_TRUE(Join(issued.token).ok());
}

TEST_F(JoinTokenTest, NonceTtlIsBounded) {
  IssuedJoinToken issued = Issue();
  for (seconds ttl : std::vector<seconds>{seconds(0), seconds(-5), minutes(11)}) {
    auto nonce = StartJoin(*store_, clock_, issued.token, ttl);
    EXPECT_EQ(nonce.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(nonce.status().field(), "nonce_ttl");
  }
}

TEST_F(JoinTokenTest, WrongSecretWithTheRightIdIsRefused) {
  IssuedJoinToken issued = Issue();
  std::string forged = issued.token;
  forged[30] = forged[30] == 'A' ? 'B' : 'A';  // still well-formed base64url
  ExpectRefused(StartJoin(*store_, clock_, forged).status(), StatusCode::kUnauthenticated,
                "wrong secret for join token " + issued.info.id);
  auto nonce = StartJoin(*store_, clock_, issued.token);
  ASSERT_TRUE(nonce.ok());
  ExpectRefused(CompleteJoin(*store_, clock_, Prove(*key_, forged, *nonce)).status(),
                StatusCode::kUnauthenticated, "wrong secret");
  auto refused = EventsOfKind("join_token.refused");
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[0].details.at("id").as_string(), issued.info.id);
  EXPECT_EQ(refused[0].details.at("agent").as_string(), "builder");
  EXPECT_EQ(refused[0].actor, "anonymous");
  EXPECT_TRUE(Join(issued.token).ok());
}

TEST_F(JoinTokenTest, MalformedAndUnknownTokensAreRefused) {
  IssuedJoinToken issued = Issue();
  for (const std::string& bad : std::vector<std::string>{
           "", "wjt_", issued.token + "A", issued.token.substr(0, 63),
           "xjt_" + issued.token.substr(4), "wjt_" + std::string(16, 'G') + issued.token.substr(20),
           issued.token.substr(0, 20) + "-" + issued.token.substr(21),
           issued.token.substr(0, 21) + "=" + issued.token.substr(22),
           issued.token.substr(0, 4) + "ABCDEF0123456789" + issued.token.substr(20)}) {
    ExpectRefused(StartJoin(*store_, clock_, bad).status(), StatusCode::kUnauthenticated,
                  "malformed join token");
  }
  auto refused = EventsOfKind("join_token.refused");
  ASSERT_FALSE(refused.empty());
  EXPECT_EQ(refused.back().subject, "join_token:malformed");
  EXPECT_FALSE(refused.back().details.contains("id"));

  std::string unknown = "wjt_0123456789abcdef" + issued.token.substr(20);
  ExpectRefused(StartJoin(*store_, clock_, unknown).status(), StatusCode::kUnauthenticated,
                "unknown join token id \"0123456789abcdef\"");
  EXPECT_EQ(EventsOfKind("join_token.refused").back().subject, "join_token:0123456789abcdef");
}

TEST_F(JoinTokenTest, BadSignaturesAreRefused) {
  IssuedJoinToken issued = Issue();
  auto nonce = StartJoin(*store_, clock_, issued.token);
  ASSERT_TRUE(nonce.ok());
  auto other = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
  ASSERT_TRUE(other.ok());

  // Signed by another key than the one presented.
  JoinProof proof = Prove(*other, issued.token, *nonce);
  proof.public_jwk = key_->public_key().ToJwk();
  ExpectRefused(CompleteJoin(*store_, clock_, proof).status(), StatusCode::kUnauthenticated,
                "does not verify");
  // Signed over other bytes (the nonce alone, without the prefix).
  proof = Prove(*key_, issued.token, *nonce);
  proof.signature_b64url = Base64UrlEncode(*key_->Sign(*nonce));
  ExpectRefused(CompleteJoin(*store_, clock_, proof).status(), StatusCode::kUnauthenticated,
                "does not verify");
  // Not base64url, empty, truncated.
  proof = Prove(*key_, issued.token, *nonce);
  proof.signature_b64url += "!";
  ExpectRefused(CompleteJoin(*store_, clock_, proof).status(), StatusCode::kUnauthenticated,
                "base64url");
  proof.signature_b64url = "";
  EXPECT_EQ(CompleteJoin(*store_, clock_, proof).status().code(), StatusCode::kUnauthenticated);
  proof = Prove(*key_, issued.token, *nonce);
  proof.signature_b64url.resize(40);
  EXPECT_EQ(CompleteJoin(*store_, clock_, proof).status().code(), StatusCode::kUnauthenticated);
  // Not a public key; a private JWK member is refused too.
  proof = Prove(*key_, issued.token, *nonce);
  proof.public_jwk = json::object{{"kty", "oct"}, {"k", "AAAA"}};
  ExpectRefused(CompleteJoin(*store_, clock_, proof).status(), StatusCode::kUnauthenticated,
                "public_jwk");
  proof.public_jwk = key_->public_key().ToJwk();
  proof.public_jwk["d"] = "AAAA";
  ExpectRefused(CompleteJoin(*store_, clock_, proof).status(), StatusCode::kUnauthenticated,
                "public_jwk");
  // A proof for a nonce that was never issued.
  proof = Prove(*key_, issued.token, Base64UrlEncode(std::string(32, 'x')));
  ExpectRefused(CompleteJoin(*store_, clock_, proof).status(), StatusCode::kUnauthenticated,
                "not the one last issued");

  EXPECT_FALSE(ListJoinTokens(*store_, "builder")->at(0).used_at);
  auto ok = CompleteJoin(*store_, clock_, Prove(*key_, issued.token, *nonce));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST_F(JoinTokenTest, CompleteWithoutStartIsRefused) {
  IssuedJoinToken issued = Issue();
  ExpectRefused(CompleteJoin(*store_, clock_, Prove(*key_, issued.token, "bm9uY2U")).status(),
                StatusCode::kUnauthenticated, "no nonce was issued");
}

TEST_F(JoinTokenTest, ALaterStartReplacesTheNonce) {
  IssuedJoinToken issued = Issue();
  auto first = StartJoin(*store_, clock_, issued.token);
  auto second = StartJoin(*store_, clock_, issued.token);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*first, *second);
  ExpectRefused(CompleteJoin(*store_, clock_, Prove(*key_, issued.token, *first)).status(),
                StatusCode::kUnauthenticated, "not the one last issued");
  auto joined = CompleteJoin(*store_, clock_, Prove(*key_, issued.token, *second));
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
}

TEST_F(JoinTokenTest, OnlyActiveAgentsGetAndUseTokens) {
  ASSERT_TRUE(registry_->Suspend("builder", "admin", "incident").ok());
  auto refused = CreateJoinToken(*store_, *registry_, clock_, "builder", minutes(5), "admin");
  ExpectRefused(refused.status(), StatusCode::kFailedPrecondition, "suspended");
  EXPECT_EQ(
      CreateJoinToken(*store_, *registry_, clock_, "nobody", minutes(5), "admin").status().code(),
      StatusCode::kNotFound);
  EXPECT_TRUE(EventsOfKind("join_token.created").empty());

  // A token issued while active stops working when the agent is suspended.
  ASSERT_TRUE(registry_->Resume("builder", "admin", "resolved").ok());
  IssuedJoinToken issued = Issue();
  auto nonce = StartJoin(*store_, clock_, issued.token);
  ASSERT_TRUE(nonce.ok());
  ASSERT_TRUE(registry_->Suspend("builder", "admin", "incident").ok());
  ExpectRefused(CompleteJoin(*store_, clock_, Prove(*key_, issued.token, *nonce)).status(),
                StatusCode::kFailedPrecondition, "agent \"builder\" is suspended");
  ExpectRefused(StartJoin(*store_, clock_, issued.token).status(), StatusCode::kFailedPrecondition,
                "suspended");
  EXPECT_NE(LastRefusal().find("suspended"), std::string::npos);

  // An expired agent is not active either.
  ASSERT_TRUE(registry_->Resume("builder", "admin", "resolved").ok());
  clock_.Advance(hours(24 * 31));
  ExpectRefused(
      CreateJoinToken(*store_, *registry_, clock_, "builder", minutes(5), "admin").status(),
      StatusCode::kFailedPrecondition, "expired");
}

TEST_F(JoinTokenTest, TtlAndActorAreValidated) {
  for (seconds ttl :
       std::vector<seconds>{seconds(0), seconds(-60), seconds(59), hours(24) + seconds(1)}) {
    auto r = CreateJoinToken(*store_, *registry_, clock_, "builder", ttl, "admin");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().field(), "ttl");
  }
  EXPECT_TRUE(CreateJoinToken(*store_, *registry_, clock_, "builder", minutes(1), "admin").ok());
  EXPECT_TRUE(CreateJoinToken(*store_, *registry_, clock_, "builder", hours(24), "admin").ok());
  EXPECT_EQ(
      CreateJoinToken(*store_, *registry_, clock_, "builder", minutes(5), "").status().field(),
      "actor");
}

TEST_F(JoinTokenTest, AuditNeverHoldsTheSecretOrNonce) {
  IssuedJoinToken issued = Issue();
  const std::string secret = issued.token.substr(21);
  std::string forged = issued.token;
  forged[40] = forged[40] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(StartJoin(*store_, clock_, forged).ok());
  auto nonce = StartJoin(*store_, clock_, issued.token);
  ASSERT_TRUE(nonce.ok());
  JoinProof bad = Prove(*key_, issued.token, *nonce);
  bad.signature_b64url = Base64UrlEncode(std::string(64, '\0'));
  EXPECT_FALSE(CompleteJoin(*store_, clock_, bad).ok());
  ASSERT_TRUE(CompleteJoin(*store_, clock_, Prove(*key_, issued.token, *nonce)).ok());
  EXPECT_FALSE(CompleteJoin(*store_, clock_, Prove(*key_, issued.token, *nonce)).ok());

  auto events = AllEvents(*store_);
  ASSERT_GE(events.size(), 5u);
  size_t refused = 0;
  for (const auto& e : events) {
    std::string all = CanonicalJson(audit::EventToJson(e));
    EXPECT_EQ(all.find(secret), std::string::npos) << all;
    EXPECT_EQ(all.find(forged.substr(21)), std::string::npos) << all;
    EXPECT_EQ(all.find(*nonce), std::string::npos) << all;
    EXPECT_EQ(all.find(bad.signature_b64url), std::string::npos) << all;
    if (e.kind == "join_token.refused") ++refused;
  }
  EXPECT_EQ(refused, 3u);
  // Nor does the database hold the secret anywhere but as its digest.
  Status s = store_->Read([&](store::Transaction& txn) -> Status {
    auto rows = txn.Query("SELECT secret_sha256 FROM join_tokens");
    if (!rows.ok()) return rows.status();
    EXPECT_EQ(rows->size(), 1u);
    auto digest = store::AsText(rows->rows[0][0]);
    EXPECT_TRUE(digest.ok());
    if (digest.ok()) {
      EXPECT_EQ(digest->find(secret), std::string::npos);
    }
    return OkStatus();
  });
  EXPECT_TRUE(s.ok());
  auto verified = audit::Verify(*store_);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok) << verified->problem;
}

TEST_F(JoinTokenTest, ConcurrentRedemptionsHaveExactlyOneWinner) {
  for (int round = 0; round < 3; ++round) {
    IssuedJoinToken issued = Issue();
    auto nonce = StartJoin(*store_, clock_, issued.token);
    ASSERT_TRUE(nonce.ok());
    JoinProof proof = Prove(*key_, issued.token, *nonce);
    std::atomic<int> winners{0};
    std::atomic<int> refused{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    threads.reserve(2);
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        auto r = CompleteJoin(*store_, clock_, proof);
        if (r.ok()) {
          winners.fetch_add(1);
        } else if (r.status().code() == StatusCode::kUnauthenticated &&
                   r.status().message().find("already used") != std::string::npos) {
          refused.fetch_add(1);
        }
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(winners.load(), 1);
    EXPECT_EQ(refused.load(), 1);
  }
  EXPECT_EQ(EventsOfKind("join_token.redeemed").size(), 3u);
}

}  // namespace
}  // namespace warden::identity
