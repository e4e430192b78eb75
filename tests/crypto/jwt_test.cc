#include "warden/crypto/jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "warden/core/encoding.h"
#include "warden/core/json.h"

namespace warden::crypto {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1'800'000'000;

TimePoint At(int64_t unix_seconds) { return FromUnixSeconds(unix_seconds); }

JwtVerifyOptions Options(int64_t now = kNow) {
  JwtVerifyOptions o;
  o.now = At(now);
  return o;
}

json::object Claims(int64_t iat = kNow, int64_t exp = kNow + 300) {
  return json::object{{"sub", "spiffe://example.org/agent/a"}, {"iat", iat}, {"exp", exp}};
}

SigningKey MustGenerate(Algorithm alg) {
  auto key = SigningKey::Generate(alg);
  EXPECT_TRUE(key.ok());
  return std::move(*key);
}

// A resolver that knows exactly the given keys.
KeyResolver Resolver(std::vector<PublicKey> keys) {
  return [keys = std::move(keys)](std::string_view kid) -> Result<PublicKey> {
    for (const auto& k : keys) {
      if (k.kid() == kid) return k;
    }
    return NotFound("no key " + std::string(kid));
  };
}

// A token with exactly the given header and payload text, properly signed by
// `key`: the signature holds, so only the check under test can refuse it.
std::string Forge(const SigningKey& key, std::string_view header, std::string_view payload) {
  std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  auto sig = key.Sign(input);
  EXPECT_TRUE(sig.ok());
  return input + "." + Base64UrlEncode(*sig);
}

std::string HeaderFor(const SigningKey& key, std::string_view extra = "") {
  return R"({"alg":")" + std::string(key.jose_alg()) + R"(","kid":")" + key.kid() +
         R"(","typ":"JWT")" + std::string(extra) + "}";
}

std::vector<std::string> Split(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

void ExpectUnauthenticated(const Status& s, std::string_view needle) {
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(std::string(needle))) << s.ToString();
}

class JwtTest : public ::testing::TestWithParam<Algorithm> {
 protected:
  JwtTest() : key_(MustGenerate(GetParam())), keys_(Resolver({key_.public_key()})) {}
  Status Verify(const std::string& token, const JwtVerifyOptions& o = Options()) {
    return VerifyJwt(token, keys_, o).status();
  }
  SigningKey key_;
  KeyResolver keys_;
};

TEST_P(JwtTest, RoundTrip) {
  auto token = SignJwt(key_, Claims());
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(Split(*token).size(), 3u);

  auto jwt = VerifyJwt(*token, keys_, Options());
  ASSERT_TRUE(jwt.ok()) << jwt.status().ToString();
  EXPECT_EQ(jwt->header.at("alg").as_string(), key_.jose_alg());
  EXPECT_EQ(jwt->header.at("kid").as_string(), key_.kid());
  EXPECT_EQ(jwt->header.at("typ").as_string(), "JWT");
  EXPECT_EQ(jwt->header.size(), 3u);
  EXPECT_EQ(CanonicalJson(jwt->claims), CanonicalJson(Claims()));
  EXPECT_EQ(jwt->signing_input, token->substr(0, token->rfind('.')));
  EXPECT_EQ(jwt->signature.size(), 64u);
  EXPECT_TRUE(key_.public_key().Verify(jwt->signing_input, jwt->signature).ok());

  auto with_key = VerifyJwtWithKey(*token, key_.public_key(), Options());
  ASSERT_TRUE(with_key.ok()) << with_key.status().ToString();

  // DecodeJwt alone gives the same parts.
  auto decoded = DecodeJwt(*token);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->signing_input, jwt->signing_input);
  EXPECT_EQ(decoded->signature, jwt->signature);
}

TEST_P(JwtTest, SignatureCacheSkipsOnlyTheSignature) {
  SignatureCache cache(4);
  JwtVerifyOptions o = Options();
  o.signature_cache = &cache;
  auto token = SignJwt(key_, Claims());
  ASSERT_TRUE(token.ok());
  auto parts = Split(*token);
  std::string input = parts[0] + "." + parts[1];
  auto sig = Base64UrlDecode(parts[2]);
  ASSERT_TRUE(sig.ok());
  EXPECT_FALSE(cache.Contains(key_.public_key(), input, *sig));
  ASSERT_TRUE(Verify(*token, o).ok());
  EXPECT_TRUE(cache.Contains(key_.public_key(), input, *sig));
  ASSERT_TRUE(Verify(*token, o).ok());

  // Times are checked on every presentation.
  ExpectUnauthenticated(Verify(*token, [&] {
                          JwtVerifyOptions late = Options(kNow + 3600);
                          late.signature_cache = &cache;
                          return late;
                        }()),
                        "expired");
  // A retired key refuses the token even though its signature is remembered.
  auto other = MustGenerate(GetParam());
  ExpectUnauthenticated(VerifyJwt(*token, Resolver({other.public_key()}), o).status(),
                        "unknown key id");
  // The entry vouches for this key only.
  EXPECT_FALSE(cache.Contains(other.public_key(), input, *sig));
  // A different signature over the same input is verified, and refused.
  std::string bad = *sig;
  bad[0] = static_cast<char>(bad[0] ^ 1);
  ExpectUnauthenticated(Verify(input + "." + Base64UrlEncode(bad), o), "signature");
  EXPECT_FALSE(cache.Contains(key_.public_key(), input, bad));

  // Bounded: past capacity it starts afresh, and still verifies.
  for (int i = 0; i < 5; ++i) {
    auto t = SignJwt(key_, Claims(kNow - i, kNow + 300));
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(Verify(*t, o).ok());
  }
  ASSERT_TRUE(Verify(*token, o).ok());
}

TEST_P(JwtTest, ExtraHeaderAndTyp) {
  auto token = SignJwt(key_, Claims(), "at+jwt", json::object{{"x5t", "abc"}, {"n", 1}});
  ASSERT_TRUE(token.ok());
  auto jwt = DecodeJwt(*token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->header.at("typ").as_string(), "at+jwt");
  EXPECT_EQ(jwt->header.at("x5t").as_string(), "abc");
  EXPECT_EQ(jwt->header.at("n").as_int64(), 1);

  // No typ at all, or typ from extra_header when the parameter is empty.
  auto untyped = SignJwt(key_, Claims(), "");
  ASSERT_TRUE(untyped.ok());
  EXPECT_FALSE(DecodeJwt(*untyped)->header.contains("typ"));
  auto extra_typ = SignJwt(key_, Claims(), "", json::object{{"typ", "dpop+jwt"}});
  ASSERT_TRUE(extra_typ.ok());
  EXPECT_EQ(DecodeJwt(*extra_typ)->header.at("typ").as_string(), "dpop+jwt");

  auto numeric_cty = SignJwt(key_, Claims(), "JWT", json::object{{"cty", 1}});
  EXPECT_EQ(numeric_cty.status().field(), "header.cty");
  for (const char* name : {"alg", "kid", "crit", "typ"}) {
    auto bad = SignJwt(key_, Claims(), "JWT", json::object{{name, "x"}});
    ASSERT_FALSE(bad.ok()) << name;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(bad.status().field(), std::string("header.") + name);
  }
}

TEST_P(JwtTest, SignRefusesOversizedToken) {
  json::object claims = Claims();
  claims["blob"] = std::string(kMaxJwtBytes, 'a');
  auto token = SignJwt(key_, claims);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), StatusCode::kInvalidArgument);
  // Just under the limit is fine and decodes.
  claims["blob"] = std::string(kMaxJwtBytes * 3 / 4 - 400, 'a');
  auto ok = SignJwt(key_, claims);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_LE(ok->size(), kMaxJwtBytes);
  EXPECT_TRUE(Verify(*ok).ok());
}

TEST_P(JwtTest, TamperedHeaderPayloadOrSignatureFails) {
  auto token = SignJwt(key_, Claims());
  ASSERT_TRUE(token.ok());
  auto parts = Split(*token);

  // Header: same key and alg, different typ.
  json::object header = DecodeJwt(*token)->header;
  header["typ"] = "jwt";
  std::string bad_header = Base64UrlEncode(ToJson(header)) + "." + parts[1] + "." + parts[2];
  ExpectUnauthenticated(Verify(bad_header), "signature does not verify");

  // Payload: a later expiry.
  std::string bad_payload =
      parts[0] + "." + Base64UrlEncode(ToJson(Claims(kNow, kNow + 9999))) + "." + parts[2];
  ExpectUnauthenticated(Verify(bad_payload), "signature does not verify");

  // Signature: every byte position matters.
  std::string sig = *Base64UrlDecode(parts[2]);
  for (size_t i : {size_t{0}, size_t{20}, size_t{32}, size_t{63}}) {
    std::string flipped = sig;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x80);
    ExpectUnauthenticated(Verify(parts[0] + "." + parts[1] + "." + Base64UrlEncode(flipped)),
                          "signature does not verify");
  }
  // Truncated and extended signatures.
  ExpectUnauthenticated(
      Verify(parts[0] + "." + parts[1] + "." + Base64UrlEncode(sig.substr(0, 63))),
      "signature does not verify");
  ExpectUnauthenticated(Verify(parts[0] + "." + parts[1] + "." + Base64UrlEncode(sig + "x")),
                        "signature does not verify");
  // Another token's signature.
  auto other = SignJwt(key_, Claims(kNow, kNow + 1));
  ASSERT_TRUE(other.ok());
  ExpectUnauthenticated(Verify(parts[0] + "." + parts[1] + "." + Split(*other)[2]),
                        "signature does not verify");
}

TEST_P(JwtTest, WrongKeyFails) {
  SigningKey other = MustGenerate(GetParam());
  auto token = SignJwt(other, Claims());
  ASSERT_TRUE(token.ok());
  ExpectUnauthenticated(Verify(*token), "unknown key id \"" + other.kid() + "\"");
  // Same token against our key directly: the kid does not match.
  ExpectUnauthenticated(VerifyJwtWithKey(*token, key_.public_key(), Options()).status(),
                        "does not match the key");
  // A resolver that maps any kid to our key (a confused key store): the
  // signature still decides.
  KeyResolver any = [&](std::string_view) -> Result<PublicKey> { return key_.public_key(); };
  ExpectUnauthenticated(VerifyJwt(*token, any, Options()).status(), "signature does not verify");
}

TEST_P(JwtTest, KidRules) {
  // Missing kid: VerifyJwt needs it, VerifyJwtWithKey does not.
  std::string no_kid =
      Forge(key_, R"({"alg":")" + std::string(key_.jose_alg()) + R"("})", ToJson(Claims()));
  ExpectUnauthenticated(Verify(no_kid), "no \"kid\"");
  EXPECT_TRUE(VerifyJwtWithKey(no_kid, key_.public_key(), Options()).ok());
  std::string empty_kid = Forge(
      key_, R"({"alg":")" + std::string(key_.jose_alg()) + R"(","kid":""})", ToJson(Claims()));
  ExpectUnauthenticated(Verify(empty_kid), "empty \"kid\"");
  std::string numeric_kid =
      Forge(key_, R"({"alg":")" + std::string(key_.jose_alg()) + R"(","kid":7})", ToJson(Claims()));
  ExpectUnauthenticated(Verify(numeric_kid), "malformed token: header \"kid\" is not a string");

  // Hostile kid text is escaped and truncated in the message.
  std::string hostile = Forge(key_,
                              R"({"alg":")" + std::string(key_.jose_alg()) + R"(","kid":"a\nb\"c)" +
                                  std::string(100, 'z') + R"("})",
                              ToJson(Claims()));
  Status s = Verify(hostile);
  ExpectUnauthenticated(s, R"(unknown key id "a\x0ab\x22c)");
  EXPECT_THAT(s.message(), HasSubstr("...\""));
  EXPECT_EQ(s.message().find('\n'), std::string::npos);

  // Resolver failures other than "not found" pass through, e.g. a store outage.
  KeyResolver down = [](std::string_view) -> Result<PublicKey> {
    return Unavailable("store unreachable");
  };
  auto token = SignJwt(key_, Claims());
  ASSERT_TRUE(token.ok());
  Status outage = VerifyJwt(*token, down, Options()).status();
  EXPECT_EQ(outage.code(), StatusCode::kUnavailable);
  EXPECT_THAT(outage.message(), HasSubstr("store unreachable"));
  // No resolver at all fails closed.
  EXPECT_FALSE(VerifyJwt(*token, KeyResolver(), Options()).ok());
}

TEST_P(JwtTest, AlgMustMatchKey) {
  const char* other_alg = GetParam() == Algorithm::kEd25519 ? "ES256" : "EdDSA";
  for (const std::string& alg : {std::string(other_alg), std::string("none"), std::string("HS256"),
                                 std::string("eddsa"), std::string("RS256"), std::string("")}) {
    std::string token =
        Forge(key_, R"({"alg":")" + alg + R"(","kid":")" + key_.kid() + R"("})", ToJson(Claims()));
    Status s = Verify(token);
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << alg;
    if (alg == "none") {
      EXPECT_THAT(s.message(), HasSubstr("alg \"none\" is not accepted"));
    } else {
      EXPECT_THAT(s.message(), HasSubstr("does not match the key's alg")) << s.ToString();
    }
    EXPECT_FALSE(VerifyJwtWithKey(token, key_.public_key(), Options()).ok()) << alg;
  }
  // The classic "none" token: unsigned, with an arbitrary signature segment
  // or none at all.
  std::string none_input = Base64UrlEncode(R"({"alg":"none","kid":")" + key_.kid() + R"("})") +
                           "." + Base64UrlEncode(ToJson(Claims()));
  ExpectUnauthenticated(Verify(none_input + ".AA"), "alg \"none\" is not accepted");
  ExpectUnauthenticated(Verify(none_input + "."), "malformed token: empty signature");
  ExpectUnauthenticated(Verify(none_input), "malformed token");
  // Non-string alg and missing alg.
  ExpectUnauthenticated(Verify(Forge(key_, R"({"alg":1,"kid":"k"})", ToJson(Claims()))),
                        "header \"alg\" is not a string");
  ExpectUnauthenticated(Verify(Forge(key_, R"({"kid":"k"})", ToJson(Claims()))),
                        "header has no \"alg\"");
}

// Algorithm confusion across key types: a token really signed by an ES256 key
// under the kid of an Ed25519 key (and vice versa) must fail even though both
// signatures are 64 bytes.
TEST(JwtConfusionTest, CrossAlgorithmSignatureFails) {
  SigningKey ed = MustGenerate(Algorithm::kEd25519);
  SigningKey ec = MustGenerate(Algorithm::kEs256);
  KeyResolver keys = Resolver({ed.public_key(), ec.public_key()});
  // Header claims the victim's kid and alg; signed with the other key.
  std::string t1 = Forge(ec, R"({"alg":"EdDSA","kid":")" + ed.kid() + R"("})", ToJson(Claims()));
  ExpectUnauthenticated(VerifyJwt(t1, keys, Options()).status(), "signature does not verify");
  std::string t2 = Forge(ed, R"({"alg":"ES256","kid":")" + ec.kid() + R"("})", ToJson(Claims()));
  ExpectUnauthenticated(VerifyJwt(t2, keys, Options()).status(), "signature does not verify");
  // Header names the signer's alg but the victim's kid.
  std::string t3 = Forge(ec, R"({"alg":"ES256","kid":")" + ed.kid() + R"("})", ToJson(Claims()));
  ExpectUnauthenticated(VerifyJwt(t3, keys, Options()).status(), "does not match the key's alg");
}

TEST_P(JwtTest, CritIsRefused) {
  std::string token = Forge(key_, HeaderFor(key_, R"(,"crit":["exp"],"exp":1)"), ToJson(Claims()));
  ExpectUnauthenticated(Verify(token), "\"crit\"");
  std::string empty_crit = Forge(key_, HeaderFor(key_, R"(,"crit":[])"), ToJson(Claims()));
  ExpectUnauthenticated(Verify(empty_crit), "\"crit\"");
  EXPECT_FALSE(VerifyJwtWithKey(token, key_.public_key(), Options()).ok());
}

TEST_P(JwtTest, Expiry) {
  auto token = SignJwt(key_, Claims(kNow, kNow + 300));
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(Verify(*token, Options(kNow + 299)).ok());
  // Within the 30s leeway.
  EXPECT_TRUE(Verify(*token, Options(kNow + 329)).ok());
  Status s = Verify(*token, Options(kNow + 330));
  ExpectUnauthenticated(s, "token expired at 2027-01-15T08:05:00Z");
  // With no leeway, exp itself is already too late (RFC 7519 4.1.4: "on or
  // after").
  JwtVerifyOptions strict = Options(kNow + 300);
  strict.leeway = std::chrono::seconds(0);
  ExpectUnauthenticated(Verify(*token, strict), "token expired");
  strict.now = At(kNow + 299);
  EXPECT_TRUE(Verify(*token, strict).ok());
  // Sub-second precision: 0.5s before exp is still valid, exactly exp is not.
  strict.now = At(kNow + 300) - std::chrono::milliseconds(500);
  EXPECT_TRUE(Verify(*token, strict).ok());
  // Negative leeway is treated as zero, never as extra lifetime or a shift.
  strict.leeway = std::chrono::seconds(-1000);
  EXPECT_TRUE(Verify(*token, strict).ok());
  strict.now = At(kNow + 300);
  ExpectUnauthenticated(Verify(*token, strict), "token expired");
  // An absurd leeway is clamped to a year instead of overflowing.
  strict.leeway = std::chrono::seconds::max();
  EXPECT_TRUE(Verify(*token, strict).ok());
  strict.now = At(kNow + 300 + int64_t{367} * 86400);
  ExpectUnauthenticated(Verify(*token, strict), "token expired");
}

TEST_P(JwtTest, NotBeforeAndIssuedAt) {
  json::object claims = Claims();
  claims["nbf"] = kNow + 100;
  auto token = SignJwt(key_, claims);
  ASSERT_TRUE(token.ok());
  ExpectUnauthenticated(Verify(*token, Options(kNow + 69)),
                        "token not valid before 2027-01-15T08:01:40Z");
  EXPECT_TRUE(Verify(*token, Options(kNow + 70)).ok());

  auto future = SignJwt(key_, Claims(kNow + 31, kNow + 300));
  ASSERT_TRUE(future.ok());
  ExpectUnauthenticated(Verify(*future), "token issued in the future");
  EXPECT_TRUE(Verify(*future, Options(kNow + 1)).ok());

  // Far-future dates beyond what TimePoint can format are still reported.
  claims["nbf"] = kMaxNumericDate;
  auto far = SignJwt(key_, claims);
  ASSERT_TRUE(far.ok());
  ExpectUnauthenticated(Verify(*far), "not valid before 253402300799 (Unix time)");
}

TEST_P(JwtTest, RequiredTimeClaims) {
  json::object no_exp{{"iat", kNow}};
  json::object no_iat{{"exp", kNow + 10}};
  auto t1 = SignJwt(key_, no_exp);
  auto t2 = SignJwt(key_, no_iat);
  ASSERT_TRUE(t1.ok() && t2.ok());
  ExpectUnauthenticated(Verify(*t1), "no \"exp\" claim");
  ExpectUnauthenticated(Verify(*t2), "no \"iat\" claim");
  JwtVerifyOptions lax = Options();
  lax.require_exp = false;
  lax.require_iat = false;
  EXPECT_TRUE(Verify(*t1, lax).ok());
  EXPECT_TRUE(Verify(*t2, lax).ok());
  // max_lifetime needs both.
  lax.max_lifetime = std::chrono::seconds(3600);
  ExpectUnauthenticated(Verify(*t1, lax), "lifetime cannot be bounded");
}

TEST_P(JwtTest, NumericDatesMustBeIntegersInRange) {
  const std::vector<std::string> bad = {"1800000300.5", "\"1800000300\"", "-1",
                                        "1e10",         "253402300800",   "18446744073709551615",
                                        "null",         "true",           "[1800000300]"};
  for (const std::string& name : {std::string("exp"), std::string("iat"), std::string("nbf")}) {
    for (const auto& v : bad) {
      std::string payload;
      if (name == "exp") {
        payload = R"({"iat":1800000000,"exp":)" + v + "}";
      } else if (name == "iat") {
        payload = R"({"exp":1800000300,"iat":)" + v + "}";
      } else {
        payload = R"({"iat":1800000000,"exp":1800000300,"nbf":)" + v + "}";
      }
      std::string token = Forge(key_, HeaderFor(key_), payload);
      Status s = Verify(token);
      EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << payload;
      EXPECT_THAT(s.message(), HasSubstr("claim \"" + name + "\" must be an integer NumericDate"))
          << payload << " -> " << s.ToString();
    }
  }
  // The largest allowed value parses (and then expiry is far away).
  std::string ok = Forge(key_, HeaderFor(key_), R"({"iat":1800000000,"exp":253402300799})");
  EXPECT_TRUE(Verify(ok).ok());
}

TEST_P(JwtTest, LifetimeBounds) {
  auto backwards = SignJwt(key_, Claims(kNow, kNow - 1));
  ASSERT_TRUE(backwards.ok());
  JwtVerifyOptions o = Options(kNow - 10);
  ExpectUnauthenticated(Verify(*backwards, o), "before it was issued");

  auto day = SignJwt(key_, Claims(kNow, kNow + 86400));
  ASSERT_TRUE(day.ok());
  JwtVerifyOptions bounded = Options();
  bounded.max_lifetime = std::chrono::seconds(3600);
  ExpectUnauthenticated(Verify(*day, bounded), "lifetime of 86400s exceeds the maximum of 3600s");
  bounded.max_lifetime = std::chrono::seconds(86400);
  EXPECT_TRUE(Verify(*day, bounded).ok());
}

TEST_P(JwtTest, Audience) {
  JwtVerifyOptions o = Options();
  o.audience = "https://api.example.com";
  json::object claims = Claims();

  claims["aud"] = "https://api.example.com";
  EXPECT_TRUE(Verify(*SignJwt(key_, claims), o).ok());
  claims["aud"] = json::array{"other", "https://api.example.com"};
  EXPECT_TRUE(Verify(*SignJwt(key_, claims), o).ok());

  claims["aud"] = "https://api.example.com/";
  ExpectUnauthenticated(Verify(*SignJwt(key_, claims), o),
                        "audience \"https://api.example.com\" not in token audience");
  claims["aud"] = json::array{"a", "b"};
  ExpectUnauthenticated(Verify(*SignJwt(key_, claims), o), "not in token audience");
  // Audience comparison is exact: no case folding.
  claims["aud"] = "HTTPS://API.EXAMPLE.COM";
  ExpectUnauthenticated(Verify(*SignJwt(key_, claims), o), "not in token audience");

  claims.erase("aud");
  ExpectUnauthenticated(Verify(*SignJwt(key_, claims), o), "token has no audience");
  // Without an expected audience, aud is not checked.
  EXPECT_TRUE(Verify(*SignJwt(key_, claims)).ok());

  // Malformed aud is refused whether or not an audience is expected.
  for (const json::value& bad :
       {json::value(7), json::value(json::array{}), json::value(json::array{1}), json::value(""),
        json::value(json::array{"a", ""}), json::value(json::object{{"a", "b"}})}) {
    claims["aud"] = bad;
    ExpectUnauthenticated(Verify(*SignJwt(key_, claims), o), "claim \"aud\"");
    ExpectUnauthenticated(Verify(*SignJwt(key_, claims)), "claim \"aud\"");
  }
}

TEST_P(JwtTest, Typ) {
  JwtVerifyOptions o = Options();
  o.allowed_typ = {"JWT"};
  for (const char* typ : {"JWT", "jwt", "application/jwt", "Application/JWT"}) {
    auto token = SignJwt(key_, Claims(), typ);
    ASSERT_TRUE(token.ok());
    EXPECT_TRUE(Verify(*token, o).ok()) << typ;
  }
  for (const char* typ : {"at+jwt", "JOSE", "application/jwt/x", "jwt ", "dpop+jwt"}) {
    auto token = SignJwt(key_, Claims(), typ);
    ASSERT_TRUE(token.ok());
    ExpectUnauthenticated(Verify(*token, o), "is not one of \"JWT\"");
  }
  auto untyped = SignJwt(key_, Claims(), "");
  ASSERT_TRUE(untyped.ok());
  ExpectUnauthenticated(Verify(*untyped, o), "no \"typ\" header");
  o.allow_missing_typ = true;
  EXPECT_TRUE(Verify(*untyped, o).ok());
  // Not checked when no typ is required.
  EXPECT_TRUE(Verify(*SignJwt(key_, Claims(), "anything")).ok());
  // A non-string typ is malformed.
  ExpectUnauthenticated(
      Verify(Forge(key_, HeaderFor(key_).substr(0, HeaderFor(key_).rfind(',')) + R"(,"typ":1})",
                   ToJson(Claims()))),
      "header \"typ\" is not a string");
}

INSTANTIATE_TEST_SUITE_P(Algorithms, JwtTest,
                         ::testing::Values(Algorithm::kEd25519, Algorithm::kEs256),
                         [](const auto& param_info) {
                           return param_info.param == Algorithm::kEd25519 ? "EdDSA" : "ES256";
                         });

class DecodeJwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto token = SignJwt(key_, Claims());
    ASSERT_TRUE(token.ok());
    token_ = *token;
    parts_ = Split(token_);
  }
  void ExpectMalformed(const std::string& token, std::string_view why) {
    auto jwt = DecodeJwt(token);
    ASSERT_FALSE(jwt.ok()) << token;
    ExpectUnauthenticated(jwt.status(), "malformed token: " + std::string(why));
    // Verification fails the same way.
    ExpectUnauthenticated(VerifyJwtWithKey(token, key_.public_key(), Options()).status(),
                          "malformed token");
  }
  SigningKey key_ = MustGenerate(Algorithm::kEd25519);
  std::string token_;
  std::vector<std::string> parts_;
};

TEST_F(DecodeJwtTest, Segments) {
  ASSERT_TRUE(DecodeJwt(token_).ok());
  ExpectMalformed("", "expected 3 segments");
  ExpectMalformed(parts_[0], "expected 3 segments");
  ExpectMalformed(parts_[0] + "." + parts_[1], "expected 3 segments");
  ExpectMalformed(token_ + ".", "more than 3 segments");
  ExpectMalformed(token_ + "." + parts_[2], "more than 3 segments");
  // JWE compact form has 5 segments.
  ExpectMalformed(parts_[0] + ".." + parts_[1] + "." + parts_[2] + "." + parts_[2],
                  "more than 3 segments");
  ExpectMalformed("." + parts_[1] + "." + parts_[2], "empty header");
  ExpectMalformed(parts_[0] + ".." + parts_[2], "empty payload");
  ExpectMalformed(parts_[0] + "." + parts_[1] + ".", "empty signature");
  ExpectMalformed("..", "empty header");
}

TEST_F(DecodeJwtTest, StrictBase64Url) {
  // Padding, in any segment.
  ExpectMalformed(parts_[0] + "=." + parts_[1] + "." + parts_[2], "header is not base64url");
  ExpectMalformed(parts_[0] + "." + parts_[1] + "." + parts_[2] + "==",
                  "signature is not base64url");
  // Standard-alphabet characters and whitespace.
  std::string plus = parts_[2];
  plus[5] = '+';
  ExpectMalformed(parts_[0] + "." + parts_[1] + "." + plus, "signature is not base64url");
  ExpectMalformed(parts_[0] + " ." + parts_[1] + "." + parts_[2], "header is not base64url");
  ExpectMalformed(parts_[0] + "." + parts_[1] + "\n." + parts_[2], "payload is not base64url");
  // Non-canonical trailing bits: the 86-char signature encodes 64 bytes plus
  // 4 spare bits that must be zero; 'B' sets one of them.
  ASSERT_EQ(parts_[2].size(), 86u);
  std::string sig = parts_[2];
  char last = sig.back();
  sig.back() = last == 'A' ? 'B' : static_cast<char>(last + 1);
  ExpectMalformed(parts_[0] + "." + parts_[1] + "." + sig, "signature is not base64url");
  // An impossible length (4k+1 characters).
  ExpectMalformed(parts_[0] + "." + parts_[1] + "." + parts_[2] + "AAA",
                  "signature is not base64url");
}

TEST_F(DecodeJwtTest, Oversized) {
  std::string big = std::string(kMaxJwtBytes + 1, 'A');
  ExpectMalformed(big, "longer than 16384 bytes");
  ExpectMalformed(token_ + std::string(kMaxJwtBytes, 'A'), "longer than 16384 bytes");
}

TEST_F(DecodeJwtTest, JsonRules) {
  auto seg = [](std::string_view json_text) { return Base64UrlEncode(json_text); };
  const std::string h = parts_[0];
  const std::string p = parts_[1];
  const std::string s = parts_[2];
  ExpectMalformed(seg(R"(["alg","EdDSA"])") + "." + p + "." + s,
                  "header is a JSON array, not an object");
  ExpectMalformed(h + "." + seg(R"("claims")") + "." + s,
                  "payload is a JSON string, not an object");
  ExpectMalformed(h + "." + seg("42") + "." + s, "payload is a JSON");
  ExpectMalformed(h + "." + seg("null") + "." + s, "payload is a JSON null");
  ExpectMalformed(seg(R"({"alg":"EdDSA","alg":"none"})") + "." + p + "." + s,
                  "header: malformed JSON at line 1 column");
  ExpectMalformed(seg(R"({"alg":"EdDSA","alg":"none"})") + "." + p + "." + s,
                  "header: malformed JSON at line 1 column 20: duplicate key \"alg\"");
  ExpectMalformed(h + "." + seg(R"({"sub":"a","sub":"b"})") + "." + s,
                  "payload: malformed JSON at line 1 column 16: duplicate key \"sub\"");
  ExpectMalformed(h + "." + seg(R"({"sub":"a")") + "." + s, "payload: malformed JSON");
  ExpectMalformed(h + "." + seg(R"({"sub":"a"} {})") + "." + s, "payload: malformed JSON");
  ExpectMalformed(h + "." + seg("") + "." + s, "empty payload");
  // Deep nesting is bounded.
  ExpectMalformed(
      h + "." + seg(R"({"a":)" + std::string(40, '[') + std::string(40, ']') + "}") + "." + s,
      "payload: malformed JSON");
  ExpectMalformed(seg(R"({"alg":"EdDSA","cty":["JWT"]})") + "." + p + "." + s,
                  "header \"cty\" is not a string");
  // Not JSON at all.
  ExpectMalformed(seg("\xff\xfe") + "." + p + "." + s, "header: malformed JSON");
}

// The fuzz corpus's tokens were signed by another implementation (node's
// crypto) with the RFC 8032 TEST 1 key; the valid ones must verify here, so
// the fuzzer starts from tokens that reach the claim checks.
TEST(JwtCorpusTest, ForeignSignedSeedsVerify) {
  const char* src = std::getenv("WARDEN_SOURCE_DIR");
  if (src == nullptr) GTEST_SKIP() << "WARDEN_SOURCE_DIR not set";
  auto der = HexDecode(
      "302e020100300506032b657004220420"
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  ASSERT_TRUE(der.ok());
  auto key = SigningKey::FromPem("-----BEGIN PRIVATE KEY-----\n" + Base64Encode(*der) +
                                 "\n-----END PRIVATE KEY-----\n");
  ASSERT_TRUE(key.ok());
  auto read = [&](const char* name) {
    std::ifstream in(std::filesystem::path(src) / "fuzz" / "crypto_jwt_fuzz_corpus" / name);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  JwtVerifyOptions o = Options();
  o.audience = "https://api.example.com";
  KeyResolver keys = Resolver({key->public_key()});
  for (const char* name : {"valid-svid", "valid-aud-array-cnf", "no-kid"}) {
    std::string token = read(name);
    ASSERT_FALSE(token.empty()) << name;
    Status s = VerifyJwtWithKey(token, key->public_key(), o).status();
    EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
  }
  EXPECT_TRUE(VerifyJwt(read("valid-svid"), keys, o).ok());
  ExpectUnauthenticated(VerifyJwt(read("expired"), keys, o).status(), "token expired");
  ExpectUnauthenticated(VerifyJwt(read("wrong-audience"), keys, o).status(),
                        "not in token audience");
  ExpectUnauthenticated(VerifyJwt(read("crit"), keys, o).status(), "\"crit\"");
  ExpectUnauthenticated(VerifyJwt(read("alg-none"), keys, o).status(), "malformed token");
}

TEST(QuoteUntrustedTest, EscapesAndTruncates) {
  EXPECT_EQ(QuoteUntrusted("abc"), "\"abc\"");
  EXPECT_EQ(QuoteUntrusted("a\"b\\c\x01\xff"), R"("a\x22b\x5cc\x01\xff")");
  EXPECT_EQ(QuoteUntrusted(std::string(65, 'x')), "\"" + std::string(64, 'x') + "...\"");
  EXPECT_EQ(QuoteUntrusted(""), "\"\"");
}

TEST(GetAudienceTest, Forms) {
  EXPECT_TRUE(GetAudience(json::object{})->empty());
  EXPECT_EQ(*GetAudience(json::object{{"aud", "x"}}), std::vector<std::string>{"x"});
  EXPECT_EQ(*GetAudience(json::object{{"aud", json::array{"x", "y"}}}),
            (std::vector<std::string>{"x", "y"}));
  EXPECT_FALSE(GetAudience(json::object{{"aud", json::array{"x", nullptr}}}).ok());
}

}  // namespace
}  // namespace warden::crypto
