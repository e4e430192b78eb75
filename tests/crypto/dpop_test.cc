#include "warden/crypto/dpop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "warden/core/encoding.h"
#include "warden/core/json.h"
#include "warden/crypto/hash.h"
#include "warden/crypto/jwt.h"

namespace warden::crypto {
namespace {

using ::testing::HasSubstr;

namespace fs = std::filesystem;

constexpr std::string_view kUri = "https://warden.example.com/v1/grants";
constexpr std::string_view kToken = "wgt_access-token-for-tests";

SigningKey MustGenerate(Algorithm alg) {
  auto key = SigningKey::Generate(alg);
  EXPECT_TRUE(key.ok());
  return std::move(*key);
}

json::object Decode(std::string_view segment) {
  auto bytes = Base64UrlDecode(segment);
  EXPECT_TRUE(bytes.ok());
  auto v = ParseJson(*bytes);
  EXPECT_TRUE(v.ok());
  return v->as_object();
}

// The header and claims of a proof, for building variants of it.
struct Parts {
  json::object header;
  json::object claims;
};

Parts Split(std::string_view proof) {
  size_t a = proof.find('.');
  size_t b = proof.find('.', a + 1);
  return {Decode(proof.substr(0, a)), Decode(proof.substr(a + 1, b - a - 1))};
}

// A correctly signed token with exactly the given header and claims: the
// signature holds, so only the check under test can refuse it.
std::string Sign(const SigningKey& key, const json::object& header, const json::object& claims) {
  std::string input = Base64UrlEncode(ToJson(header)) + "." + Base64UrlEncode(ToJson(claims));
  auto sig = key.Sign(input);
  EXPECT_TRUE(sig.ok());
  return input + "." + Base64UrlEncode(*sig);
}

class DpopTest : public ::testing::TestWithParam<Algorithm> {
 protected:
  DpopTest() : key_(MustGenerate(GetParam())) {}

  DpopCheck Check() const {
    DpopCheck c;
    c.htm = "POST";
    c.htu = kUri;
    c.access_token = kToken;
    c.expected_jkt = key_.public_key().thumbprint();
    c.now = clock_.Now();
    return c;
  }

  std::string Proof(std::string_view htm = "POST", std::string_view htu = kUri,
                    std::string_view token = kToken, std::string_view nonce = {}) {
    auto proof = CreateDpopProof(key_, htm, htu, clock_.Now(), token, nonce);
    EXPECT_TRUE(proof.ok()) << proof.status().ToString();
    return *proof;
  }

  // A fresh, valid proof with its claims changed by `edit`, re-signed.
  template <typename Edit>
  std::string Edited(Edit edit) {
    Parts p = Split(Proof());
    edit(p.header, p.claims);
    return Sign(key_, p.header, p.claims);
  }

  Result<DpopProof> Verify(std::string_view proof, const DpopCheck& check) {
    return VerifyDpopProof(proof, check, cache_);
  }

  void ExpectRefused(std::string_view proof, const DpopCheck& check, std::string_view reason) {
    auto r = Verify(proof, check);
    ASSERT_FALSE(r.ok()) << "accepted; expected refusal with " << reason;
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status().ToString();
    EXPECT_THAT(r.status().message(), HasSubstr("invalid DPoP proof: "));
    EXPECT_THAT(r.status().message(), HasSubstr(reason));
  }

  FakeClock clock_;
  SigningKey key_;
  DpopReplayCache cache_;
};

INSTANTIATE_TEST_SUITE_P(Algorithms, DpopTest,
                         ::testing::Values(Algorithm::kEd25519, Algorithm::kEs256),
                         [](const ::testing::TestParamInfo<Algorithm>& param_info) {
                           return std::string(JoseAlgorithmName(param_info.param));
                         });

TEST_P(DpopTest, RoundTrip) {
  std::string proof = Proof();
  Parts p = Split(proof);
  EXPECT_EQ(p.header.at("typ").as_string(), "dpop+jwt");
  EXPECT_EQ(p.header.at("alg").as_string(), key_.jose_alg());
  EXPECT_EQ(CanonicalJson(p.header.at("jwk")), CanonicalJson(key_.public_key().ToJwk()));
  EXPECT_FALSE(p.header.contains("kid"));
  EXPECT_EQ(p.claims.at("htm").as_string(), "POST");
  EXPECT_EQ(p.claims.at("htu").as_string(), kUri);
  EXPECT_EQ(p.claims.at("iat").as_int64(), UnixSeconds(clock_.Now()));
  EXPECT_EQ(p.claims.at("ath").as_string(), Base64UrlEncode(Sha256(kToken)));
  EXPECT_GE(p.claims.at("jti").as_string().size(), 22u);  // 128 random bits
  EXPECT_FALSE(p.claims.contains("nonce"));

  auto verified = Verify(proof, Check());
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->jkt, key_.public_key().thumbprint());
  EXPECT_EQ(verified->jti, p.claims.at("jti").as_string());
  EXPECT_EQ(verified->iat, FromUnixSeconds(UnixSeconds(clock_.Now())));
  EXPECT_EQ(CanonicalJson(verified->public_jwk), CanonicalJson(key_.public_key().ToJwk()));
  EXPECT_EQ(cache_.size(), 1u);
}

TEST_P(DpopTest, EachProofIsUnique) {
  EXPECT_NE(Split(Proof()).claims.at("jti"), Split(Proof()).claims.at("jti"));
}

TEST_P(DpopTest, CreateStripsQueryAndFragmentFromHtu) {
  Parts p = Split(Proof("GET", "HTTPS://Warden.Example.COM:443/v1/grants?x=1#frag"));
  EXPECT_EQ(p.claims.at("htu").as_string(), kUri);
}

TEST_P(DpopTest, CreateRefusesBadInput) {
  EXPECT_EQ(CreateDpopProof(key_, "", kUri, clock_.Now()).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateDpopProof(key_, "PO ST", kUri, clock_.Now()).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateDpopProof(key_, "POST", "ftp://h/", clock_.Now()).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      CreateDpopProof(key_, "POST", kUri, clock_.Now(), "", std::string(9000, 'n')).status().code(),
      StatusCode::kInvalidArgument);
}

TEST_P(DpopTest, WrongMethodRefused) {
  DpopCheck c = Check();
  c.htm = "GET";
  ExpectRefused(Proof(), c, "htm \"POST\" does not match the request method \"GET\"");
  c.htm = "post";  // methods are case-sensitive
  ExpectRefused(Proof(), c, "does not match the request method");
}

TEST_P(DpopTest, HtuComparedAfterNormalisation) {
  DpopCheck c = Check();
  // The request's query is ignored, host case and the default port too.
  c.htu = "https://WARDEN.example.com:443/v1/grants?page=2#x";
  EXPECT_TRUE(Verify(Proof(), c).ok());
  // A proof whose htu carries a query (made by another client) still matches.
  std::string with_query = Edited([](json::object&, json::object& claims) {
    claims["htu"] = "https://warden.example.com/v1/grants?a=b";
  });
  EXPECT_TRUE(Verify(with_query, Check()).ok());
}

TEST_P(DpopTest, WrongUriRefused) {
  DpopCheck c = Check();
  c.htu = "https://warden.example.com/v1/grant";
  ExpectRefused(Proof(), c, "does not match the request URI");
  c.htu = "https://warden.example.com/V1/grants";  // path case matters
  ExpectRefused(Proof(), c, "does not match the request URI");
  c.htu = "http://warden.example.com/v1/grants";
  ExpectRefused(Proof(), c, "does not match the request URI");
  c.htu = "https://warden.example.com:8443/v1/grants";
  ExpectRefused(Proof(), c, "does not match the request URI");
  c.htu = "https://other.example.com/v1/grants";
  ExpectRefused(Proof(), c, "does not match the request URI");
  c.htu = "https://warden.example.com/v1/grants/";
  ExpectRefused(Proof(), c, "does not match the request URI");
  std::string relative =
      Edited([](json::object&, json::object& claims) { claims["htu"] = "/v1/grants"; });
  ExpectRefused(relative, Check(), "claim \"htu\"");
}

TEST_P(DpopTest, MalformedRequestUriIsTheCallersError) {
  DpopCheck c = Check();
  c.htu = "/v1/grants";
  auto r = Verify(Proof(), c);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), "htu");
}

TEST_P(DpopTest, AccessTokenHash) {
  // Missing: a proof made without a token, presented with one.
  ExpectRefused(Proof("POST", kUri, ""), Check(), "claim \"ath\" is missing");
  // Wrong: made for another token.
  ExpectRefused(Proof("POST", kUri, "another-token"), Check(),
                "claim \"ath\" does not match the presented access token");
  // Extra: carries ath although no token is presented.
  DpopCheck no_token = Check();
  no_token.access_token = {};
  ExpectRefused(Proof(), no_token, "claim \"ath\" is present but no access token");
  // Not a string.
  std::string number = Edited([](json::object&, json::object& claims) { claims["ath"] = 1; });
  ExpectRefused(number, Check(), "claim \"ath\" must be a string");
  // Without a token on either side it verifies.
  EXPECT_TRUE(Verify(Proof("POST", kUri, ""), no_token).ok());
}

TEST_P(DpopTest, KeyMustBeTheTokensKey) {
  SigningKey other = MustGenerate(GetParam());
  DpopCheck c = Check();
  std::string other_jkt = other.public_key().thumbprint();
  c.expected_jkt = other_jkt;
  ExpectRefused(Proof(), c, "is not the key the token is bound to");
  // Without a bound key (e.g. the first request of a grant) any key passes.
  c.expected_jkt.reset();
  EXPECT_TRUE(Verify(Proof(), c).ok());
}

TEST_P(DpopTest, IssuedAtWindow) {
  std::string proof = Proof();
  DpopCheck c = Check();
  // max_age 60 + leeway 5: 65 s old is the last accepted second.
  c.now = clock_.Now() + std::chrono::seconds(66);
  ExpectRefused(proof, c, "proof is too old");
  c.now = clock_.Now() + std::chrono::seconds(65);
  EXPECT_TRUE(Verify(proof, c).ok());

  // In the future beyond the leeway.
  DpopCheck early = Check();
  early.now = clock_.Now() - std::chrono::seconds(6);
  ExpectRefused(Proof(), early, "in the future");
  early.now = clock_.Now() - std::chrono::seconds(5);
  EXPECT_TRUE(Verify(Proof(), early).ok());

  std::string no_iat = Edited([](json::object&, json::object& claims) { claims.erase("iat"); });
  ExpectRefused(no_iat, Check(), "\"iat\"");
  std::string text_iat =
      Edited([](json::object&, json::object& claims) { claims["iat"] = "1800000000"; });
  ExpectRefused(text_iat, Check(), "\"iat\"");
  std::string far_iat =
      Edited([](json::object&, json::object& claims) { claims["iat"] = 253'402'300'799LL; });
  ExpectRefused(far_iat, Check(), "future");
  std::string old_iat = Edited([](json::object&, json::object& claims) { claims["iat"] = 0; });
  ExpectRefused(old_iat, Check(), "too old");
}

TEST_P(DpopTest, ReplayRefusedUntilWindowCloses) {
  std::string proof = Proof();
  ASSERT_TRUE(Verify(proof, Check()).ok());
  ExpectRefused(proof, Check(), "replayed (jti");
  // Still inside the window: still a replay.
  clock_.Advance(std::chrono::seconds(65));
  ExpectRefused(proof, Check(), "replayed");
  // Past the window the proof is too old: refused, and its entry is dropped.
  clock_.Advance(std::chrono::seconds(1));
  ExpectRefused(proof, Check(), "too old");
  ASSERT_TRUE(Verify(Proof(), Check()).ok());
  EXPECT_EQ(cache_.size(), 1u);
}

TEST_P(DpopTest, SameJtiAcceptedAgainAfterExpiry) {
  // A client reusing a jti after the first proof's window has closed is not
  // replaying anything.
  std::string first = Proof();
  std::string jti(Split(first).claims.at("jti").as_string());
  ASSERT_TRUE(Verify(first, Check()).ok());
  clock_.Advance(std::chrono::seconds(70));
  std::string again = Edited([&](json::object&, json::object& claims) { claims["jti"] = jti; });
  auto r = Verify(again, Check());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->jti, jti);
}

TEST_P(DpopTest, SameJtiFromAnotherKeyIsNotAReplay) {
  std::string first = Proof();
  std::string jti(Split(first).claims.at("jti").as_string());
  ASSERT_TRUE(Verify(first, Check()).ok());
  SigningKey other = MustGenerate(GetParam());
  auto p = Split(*CreateDpopProof(other, "POST", kUri, clock_.Now(), kToken));
  p.claims["jti"] = jti;
  DpopCheck c = Check();
  c.expected_jkt.reset();
  EXPECT_TRUE(Verify(Sign(other, p.header, p.claims), c).ok());
}

TEST_P(DpopTest, FullCacheFailsClosed) {
  DpopReplayCache small(2);
  ASSERT_TRUE(VerifyDpopProof(Proof(), Check(), small).ok());
  ASSERT_TRUE(VerifyDpopProof(Proof(), Check(), small).ok());
  auto r = VerifyDpopProof(Proof(), Check(), small);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  // Once the remembered proofs expire there is room again.
  clock_.Advance(std::chrono::seconds(66));
  EXPECT_TRUE(VerifyDpopProof(Proof(), Check(), small).ok());
  EXPECT_EQ(small.size(), 1u);
}

TEST_P(DpopTest, WrongTypRefused) {
  ExpectRefused(Edited([](json::object& h, json::object&) { h["typ"] = "JWT"; }), Check(),
                "header typ \"JWT\" is not \"dpop+jwt\"");
  ExpectRefused(Edited([](json::object& h, json::object&) { h["typ"] = "DPoP+JWT"; }), Check(),
                "is not \"dpop+jwt\"");
  ExpectRefused(Edited([](json::object& h, json::object&) { h["typ"] = "application/dpop+jwt"; }),
                Check(), "is not \"dpop+jwt\"");
  ExpectRefused(Edited([](json::object& h, json::object&) { h.erase("typ"); }), Check(),
                "header has no \"typ\"");
}

TEST_P(DpopTest, WrongAlgRefused) {
  ExpectRefused(Edited([](json::object& h, json::object&) { h["alg"] = "none"; }), Check(),
                "alg \"none\" is not accepted");
  ExpectRefused(Edited([](json::object& h, json::object&) { h["alg"] = "HS256"; }), Check(),
                "symmetric alg \"HS256\"");
  ExpectRefused(Edited([](json::object& h, json::object&) { h["alg"] = "RS256"; }), Check(),
                "alg \"RS256\" is not supported");
  std::string other_alg =
      GetParam() == Algorithm::kEd25519 ? std::string("ES256") : std::string("EdDSA");
  ExpectRefused(Edited([&](json::object& h, json::object&) { h["alg"] = other_alg; }), Check(),
                "does not match the jwk's key type");
  // An unsigned token ("none" with an empty signature) does not even decode.
  Parts p = Split(Proof());
  p.header["alg"] = "none";
  std::string unsigned_token =
      Base64UrlEncode(ToJson(p.header)) + "." + Base64UrlEncode(ToJson(p.claims)) + ".";
  ExpectRefused(unsigned_token, Check(), "empty signature");
}

TEST_P(DpopTest, JwkProblemsRefused) {
  ExpectRefused(Edited([](json::object& h, json::object&) { h.erase("jwk"); }), Check(),
                "header has no \"jwk\"");
  ExpectRefused(Edited([](json::object& h, json::object&) { h["jwk"] = "key"; }), Check(),
                "header \"jwk\" must be an object");
  ExpectRefused(Edited([](json::object& h, json::object&) {
                  h["jwk"].as_object()["d"] = Base64UrlEncode(std::string(32, 'k'));
                }),
                Check(), "private key member \"d\"");
  ExpectRefused(Edited([](json::object& h, json::object&) {
                  h["jwk"] = json::object{{"kty", "oct"}, {"k", "c2VjcmV0"}};
                }),
                Check(), "private key member \"k\"");
  ExpectRefused(Edited([](json::object& h, json::object&) {
                  h["jwk"].as_object()["x"] = Base64UrlEncode(std::string(31, 'x'));
                }),
                Check(), "header \"jwk\" member \"x\"");
}

TEST_P(DpopTest, SignatureByAnotherKeyRefused) {
  // The header names our key; the signature is by another one of the same type.
  SigningKey other = MustGenerate(GetParam());
  Parts p = Split(Proof());
  DpopCheck c = Check();
  ExpectRefused(Sign(other, p.header, p.claims), c, "signature does not verify");
  // A flipped signature byte.
  std::string proof = Proof();
  proof[proof.size() - 5] = proof[proof.size() - 5] == 'A' ? 'B' : 'A';
  ExpectRefused(proof, c, "invalid DPoP proof");
}

TEST_P(DpopTest, KidMustBeTheJwkThumbprint) {
  std::string thumbprint = key_.public_key().thumbprint();
  EXPECT_TRUE(
      Verify(Edited([&](json::object& h, json::object&) { h["kid"] = thumbprint; }), Check()).ok());
  ExpectRefused(Edited([](json::object& h, json::object&) { h["kid"] = "other"; }), Check(),
                "key id \"other\"");
  ExpectRefused(Edited([](json::object& h, json::object&) { h["crit"] = json::array{"exp"}; }),
                Check(), "crit");
}

TEST_P(DpopTest, RequiredClaims) {
  for (const char* name : {"jti", "htm", "htu"}) {
    ExpectRefused(Edited([&](json::object&, json::object& claims) { claims.erase(name); }), Check(),
                  "claim \"" + std::string(name) + "\" is missing");
    ExpectRefused(Edited([&](json::object&, json::object& claims) { claims[name] = 7; }), Check(),
                  "claim \"" + std::string(name) + "\" must be a string");
  }
  ExpectRefused(Edited([](json::object&, json::object& claims) { claims["jti"] = ""; }), Check(),
                "claim \"jti\" is empty");
  ExpectRefused(
      Edited([](json::object&, json::object& claims) { claims["jti"] = std::string(257, 'j'); }),
      Check(), "longer than 256 bytes");
  EXPECT_TRUE(Verify(Edited([](json::object&, json::object& claims) {
                       claims["jti"] = std::string(256, 'j');
                     }),
                     Check())
                  .ok());
  // exp, when present, is honoured.
  ExpectRefused(Edited([&](json::object&, json::object& claims) {
                  claims["exp"] = UnixSeconds(clock_.Now()) - 60;
                }),
                Check(), "expired");
}

TEST_P(DpopTest, OversizedOrMalformedRefused) {
  std::string big = Edited([](json::object&, json::object& claims) {
    claims["pad"] = std::string(kMaxDpopProofBytes, 'p');
  });
  ExpectRefused(big, Check(), "longer than 8192 bytes");
  ExpectRefused("", Check(), "malformed token");
  ExpectRefused("a.b", Check(), "malformed token");
  ExpectRefused(std::string(kMaxDpopProofBytes + 1, 'a'), Check(), "longer than 8192 bytes");
}

TEST_P(DpopTest, Nonce) {
  DpopCheck c = Check();
  c.nonce = "server-nonce-1";
  ExpectRefused(Proof(), c, "claim \"nonce\" is missing");
  ExpectRefused(Proof("POST", kUri, kToken, "server-nonce-0"), c, "claim \"nonce\" does not match");
  EXPECT_TRUE(Verify(Proof("POST", kUri, kToken, "server-nonce-1"), c).ok());
  ExpectRefused(Edited([](json::object&, json::object& claims) { claims["nonce"] = 1; }), Check(),
                "claim \"nonce\" must be a string");
  // A nonce the server did not ask for is harmless.
  EXPECT_TRUE(Verify(Proof("POST", kUri, kToken, "unasked"), Check()).ok());
}

TEST_P(DpopTest, ConcurrentVerificationAcceptsExactlyOnce) {
  // Several rounds, each released at once to four threads, so that a race
  // between the replay lookup and the insert has many chances to show.
  constexpr int kThreads = 4;
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    std::string proof = Proof();
    DpopCheck c = Check();
    std::atomic<bool> go{false};
    std::atomic<int> accepted{0};
    std::atomic<int> replayed{0};
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        auto r = VerifyDpopProof(proof, c, cache_);
        if (r.ok()) {
          ++accepted;
        } else if (r.status().message().find("replayed") != std::string::npos) {
          ++replayed;
        }
      });
    }
    go.store(true, std::memory_order_release);
    for (auto& t : threads) t.join();
    EXPECT_EQ(accepted.load(), 1) << "round " << round;
    EXPECT_EQ(replayed.load(), kThreads - 1) << "round " << round;
  }
  EXPECT_EQ(cache_.size(), static_cast<size_t>(kRounds));
}

TEST(DpopReplayCacheTest, RememberSemantics) {
  DpopReplayCache cache(3);
  const TimePoint t0 = FromUnixSeconds(1'800'000'000);
  const TimePoint t1 = t0 + std::chrono::seconds(10);
  EXPECT_TRUE(cache.Remember("jkt", "a", t1, t0).ok());
  Status again = cache.Remember("jkt", "a", t1, t0);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(again.message(), HasSubstr("DPoP proof replayed (jti \"a\")"));
  // (jkt, jti) pairs are unambiguous: ("jk", "ta") is not ("jkt", "a").
  EXPECT_TRUE(cache.Remember("jk", "ta", t1, t0).ok());
  EXPECT_TRUE(cache.Remember("jkt2", "a", t1, t0).ok());
  EXPECT_EQ(cache.Remember("x", "y", t1, t0).code(), StatusCode::kResourceExhausted);
  // Expiry is inclusive: at t1 the pairs are still live.
  EXPECT_EQ(cache.Remember("jkt", "a", t1, t1).code(), StatusCode::kAlreadyExists);
  const TimePoint t2 = t1 + std::chrono::microseconds(1);
  EXPECT_TRUE(cache.Remember("jkt", "a", t2 + std::chrono::seconds(5), t2).ok());
  EXPECT_EQ(cache.size(), 1u);
  // Already past: cannot be remembered, so it is refused.
  EXPECT_EQ(cache.Remember("jkt", "b", t1, t2).code(), StatusCode::kFailedPrecondition);
  // A caller whose clock lags cannot revive what a later caller dropped.
  EXPECT_EQ(cache.Remember("jkt", "c", t1, t0).code(), StatusCode::kFailedPrecondition);
}

TEST(DpopReplayCacheTest, ZeroCapacityRefusesEverything) {
  DpopReplayCache cache(0);
  const TimePoint t0 = FromUnixSeconds(1'800'000'000);
  EXPECT_EQ(cache.Remember("j", "a", t0, t0).code(), StatusCode::kResourceExhausted);
}

TEST(NormalizeHtuTest, Normalises) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (const Case& c : std::vector<Case>{
           {"https://example.com/a/b", "https://example.com/a/b"},
           {"HTTPS://EXAMPLE.com/A/B", "https://example.com/A/B"},
           {"https://example.com:443/x", "https://example.com/x"},
           {"http://example.com:80/x", "http://example.com/x"},
           {"http://example.com:443/x", "http://example.com:443/x"},
           {"https://example.com:8443/x", "https://example.com:8443/x"},
           {"https://example.com:08443/x", "https://example.com:8443/x"},
           {"https://example.com:/x", "https://example.com/x"},
           {"https://example.com", "https://example.com/"},
           {"https://example.com?q=1", "https://example.com/"},
           {"https://example.com/p?q=/a@b#f", "https://example.com/p"},
           {"https://example.com/p#f?g", "https://example.com/p"},
           {"https://[::1]:8443/p", "https://[::1]:8443/p"},
           {"https://[2001:DB8::1]/p", "https://[2001:db8::1]/p"},
           {"https://127.0.0.1/p", "https://127.0.0.1/p"},
           {"https://example.com/a/../b/%2f", "https://example.com/a/../b/%2f"},
       }) {
    auto got = NormalizeHtu(c.in);
    ASSERT_TRUE(got.ok()) << c.in << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.out) << c.in;
  }
}

TEST(NormalizeHtuTest, RefusesMalformed) {
  for (const char* in : {
           "",
           "example.com/x",
           "/x",
           "ftp://example.com/",
           "https:/example.com/",
           "https:example.com",
           "https://",
           "https:///x",
           "https://user@example.com/",
           "https://user:pw@example.com/",
           "https://example.com:0/",
           "https://example.com:65536/",
           "https://example.com:123456/",
           "https://example.com:-1/",
           "https://example.com:x/",
           "https://exa mple.com/",
           "https://example.com/a b",
           "https://example.com/\x01",
           "https://example.com/\xc3\xa9",
           "https://exa%6dple.com/",
           "https://[::1/",
           "https://[v1.x]/",
           "https://[::1]x/",
           "https://[fe80::1%25eth0]/",
           "https://example.com/%zz",
           "https://example.com/%4",
           "https://example.com/a\"b",
           "https://example.com/a<b",
           "https://a:1:2/",
           "javascript://example.com/",
       }) {
    auto got = NormalizeHtu(in);
    EXPECT_FALSE(got.ok()) << QuoteUntrusted(in) << " -> " << (got.ok() ? *got : "");
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(got.status().field(), "htu");
    }
  }
  EXPECT_FALSE(NormalizeHtu("https://example.com/" + std::string(kMaxDpopProofBytes, 'a')).ok());
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "warden-dpop-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Cross-implementation check: proofs made by the `jose` npm package (SignJWT
// with the exported public JWK in the header) verify here. Skipped when node
// or jose is missing.
TEST(DpopInteropTest, AcceptsProofsFromJose) {
  const char* src = std::getenv("WARDEN_SOURCE_DIR");
  if (src == nullptr || !fs::exists(fs::path(src) / "node_modules" / "jose") ||
      std::system("node --version > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "node with the jose package is not available";
  }
  TempDir dir;
  const int64_t now = 1'800'000'000;
  fs::path script = dir.path() / "dpop.mjs";
  std::ofstream(script) << R"JS(
import { createHash } from 'node:crypto';
import { generateKeyPair, exportJWK, calculateJwkThumbprint, SignJWT } from 'jose';
const [token, iat] = process.argv.slice(-2);
const out = [];
for (const [alg, options] of [['EdDSA', { crv: 'Ed25519' }], ['ES256', {}]]) {
  const { publicKey, privateKey } = await generateKeyPair(alg, options);
  const jwk = await exportJWK(publicKey);
  const ath = createHash('sha256').update(token).digest('base64url');
  const proof = await new SignJWT({ htm: 'POST', htu: 'https://Warden.example.com:443/v1/grants', ath })
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk })
    .setJti(crypto.randomUUID())
    .setIssuedAt(Number(iat))
    .sign(privateKey);
  out.push({ proof, jkt: await calculateJwkThumbprint(jwk, 'sha256') });
}
console.log(JSON.stringify(out));
)JS";
  fs::path output = dir.path() / "out.json";
  std::string cmd = "cd '" + std::string(src) + "' && node --input-type=module -e \"$(cat '" +
                    script.string() + "')\" '" + std::string(kToken) + "' " + std::to_string(now) +
                    " > '" + output.string() + "' 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream in(output);
  std::stringstream text;
  text << in.rdbuf();
  ASSERT_EQ(rc, 0) << text.str();
  auto cases = ParseJson(text.str());
  ASSERT_TRUE(cases.ok()) << text.str();
  ASSERT_EQ(cases->as_array().size(), 2u);
  DpopReplayCache cache;
  for (const auto& c : cases->as_array()) {
    std::string proof(c.at("proof").as_string());
    std::string jkt(c.at("jkt").as_string());
    DpopCheck check;
    check.htm = "POST";
    check.htu = kUri;
    check.access_token = kToken;
    check.expected_jkt = jkt;
    check.now = FromUnixSeconds(now + 3);
    auto verified = VerifyDpopProof(proof, check, cache);
    ASSERT_TRUE(verified.ok()) << proof << ": " << verified.status().ToString();
    EXPECT_EQ(verified->jkt, jkt);
    EXPECT_EQ(VerifyDpopProof(proof, check, cache).status().code(), StatusCode::kUnauthenticated);
  }
}

}  // namespace
}  // namespace warden::crypto
