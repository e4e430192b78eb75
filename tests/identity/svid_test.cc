#include "warden/identity/svid.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "identity/test_util.h"
#include "warden/core/encoding.h"
#include "warden/core/json.h"
#include "warden/crypto/hash.h"

namespace warden::identity {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1'800'000'000;
constexpr std::string_view kTrustDomain = "example.org";
constexpr std::chrono::seconds kDay{86400};

crypto::SigningKey MustGenerate(crypto::Algorithm alg) {
  auto key = crypto::SigningKey::Generate(alg);
  EXPECT_TRUE(key.ok());
  return std::move(*key);
}

Agent MakeAgent(std::string name, TimePoint expires_at) {
  Agent a;
  a.spiffe_id = SpiffeIdFor(kTrustDomain, name);
  a.name = std::move(name);
  a.owner = "alice@example.com";
  a.purpose = "triage issues";
  a.environment = "prod";
  a.expires_at = expires_at;
  a.status = AgentStatus::kActive;
  a.version = 1;
  return a;
}

SvidRequest Request(std::vector<std::string> audience = {"https://api.example.com"}) {
  SvidRequest r;
  r.audience = std::move(audience);
  return r;
}

// A thumbprint of a real key, as a caller would send it.
std::string SomeThumbprint() { return MustGenerate(crypto::Algorithm::kEd25519).kid(); }

void ExpectStatus(const Status& s, StatusCode code, std::string_view needle) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(std::string(needle))) << s.ToString();
}

class SvidTest : public ::testing::TestWithParam<crypto::Algorithm> {
 protected:
  SvidTest()
      : clock_(FromUnixSeconds(kNow)),
        key_(MustGenerate(GetParam())),
        agent_(MakeAgent("billing-bot", FromUnixSeconds(kNow) + kDay * 30)) {
    keys_ = [this](std::string_view kid) -> Result<crypto::PublicKey> {
      if (kid == key_.kid()) return key_.public_key();
      return NotFound("no key");
    };
  }
  Result<VerifiedSvid> Verify(const std::string& token,
                              std::string_view audience = "https://api.example.com") {
    return VerifySvid(token, keys_, kTrustDomain, audience, clock_);
  }
  // A token with arbitrary claims signed by the trusted key.
  std::string SignClaims(const json::object& claims, std::string_view typ = "JWT") {
    auto token = crypto::SignJwt(key_, claims, typ);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return *token;
  }
  json::object ValidClaims() {
    return json::object{{"sub", agent_.spiffe_id},
                        {"aud", "https://api.example.com"},
                        {"iat", kNow},
                        {"exp", kNow + 300},
                        {"jti", "svid_x"}};
  }

  FakeClock clock_;
  crypto::SigningKey key_;
  Agent agent_;
  crypto::KeyResolver keys_;
};

TEST_P(SvidTest, IssueAndVerify) {
  auto svid = IssueSvid(key_, agent_, Request(), clock_);
  ASSERT_TRUE(svid.ok()) << svid.status().ToString();
  EXPECT_EQ(svid->spiffe_id, "spiffe://example.org/agent/billing-bot");
  EXPECT_EQ(svid->kid, key_.kid());
  EXPECT_EQ(svid->audience, std::vector<std::string>{"https://api.example.com"});
  EXPECT_EQ(svid->issued_at, FromUnixSeconds(kNow));
  EXPECT_EQ(svid->expires_at, FromUnixSeconds(kNow + 300));
  EXPECT_EQ(svid->jti.rfind("svid_", 0), 0u) << svid->jti;
  EXPECT_FALSE(svid->cnf_jkt.has_value());

  // The token itself, as any JOSE library would see it.
  auto jwt = crypto::DecodeJwt(svid->token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(
      CanonicalJson(jwt->header),
      CanonicalJson(json::object{{"alg", key_.jose_alg()}, {"kid", key_.kid()}, {"typ", "JWT"}}));
  EXPECT_EQ(CanonicalJson(jwt->claims),
            CanonicalJson(json::object{{"sub", svid->spiffe_id},
                                       {"aud", "https://api.example.com"},
                                       {"iat", kNow},
                                       {"exp", kNow + 300},
                                       {"jti", svid->jti}}));

  auto verified = Verify(svid->token);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->spiffe_id, svid->spiffe_id);
  EXPECT_EQ(verified->agent_name, "billing-bot");
  EXPECT_EQ(verified->audience, svid->audience);
  EXPECT_EQ(verified->jti, svid->jti);
  EXPECT_EQ(verified->kid, key_.kid());
  EXPECT_EQ(verified->issued_at, svid->issued_at);
  EXPECT_EQ(verified->expires_at, svid->expires_at);
  EXPECT_FALSE(verified->cnf_jkt.has_value());
}

TEST_P(SvidTest, SeveralAudiencesAreAnArray) {
  auto svid = IssueSvid(key_, agent_, Request({"a", "b", "c"}), clock_);
  ASSERT_TRUE(svid.ok());
  auto jwt = crypto::DecodeJwt(svid->token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(CanonicalJson(jwt->claims.at("aud")), R"(["a","b","c"])");
  for (const char* aud : {"a", "b", "c"}) {
    auto verified = Verify(svid->token, aud);
    ASSERT_TRUE(verified.ok()) << aud;
    EXPECT_EQ(verified->audience, (std::vector<std::string>{"a", "b", "c"}));
  }
  ExpectStatus(Verify(svid->token, "d").status(), StatusCode::kUnauthenticated,
               "audience \"d\" not in token audience");
}

TEST_P(SvidTest, WholeSecondsAndExpiryCappedAtAgent) {
  clock_.Advance(std::chrono::milliseconds(700));
  SvidRequest r = Request();
  r.ttl = std::chrono::seconds(3600);
  // The agent expires in 100.9 s: the SVID must not outlive it.
  agent_.expires_at = clock_.Now() + std::chrono::milliseconds(100'900);
  auto svid = IssueSvid(key_, agent_, r, clock_);
  ASSERT_TRUE(svid.ok()) << svid.status().ToString();
  EXPECT_EQ(svid->issued_at, FromUnixSeconds(kNow));
  EXPECT_EQ(svid->expires_at, FromUnixSeconds(kNow + 101));
  EXPECT_LE(svid->expires_at, agent_.expires_at);
  EXPECT_EQ(crypto::DecodeJwt(svid->token)->claims.at("exp").as_int64(), kNow + 101);

  // A TTL shorter than the agent's remaining life is kept.
  r.ttl = std::chrono::seconds(60);
  auto short_svid = IssueSvid(key_, agent_, r, clock_);
  ASSERT_TRUE(short_svid.ok());
  EXPECT_EQ(short_svid->expires_at, FromUnixSeconds(kNow + 60));

  // An agent expiring within the current second gets no (already dead) SVID.
  agent_.expires_at = FromUnixSeconds(kNow + 1) - std::chrono::milliseconds(100);
  ExpectStatus(IssueSvid(key_, agent_, r, clock_).status(), StatusCode::kFailedPrecondition,
               "too soon");
}

TEST_P(SvidTest, InactiveAgentsAreRefused) {
  Agent suspended = agent_;
  suspended.status = AgentStatus::kSuspended;
  ExpectStatus(IssueSvid(key_, suspended, Request(), clock_).status(),
               StatusCode::kFailedPrecondition, "agent \"billing-bot\" is suspended");
  Agent retired = agent_;
  retired.status = AgentStatus::kRetired;
  ExpectStatus(IssueSvid(key_, retired, Request(), clock_).status(),
               StatusCode::kFailedPrecondition, "agent \"billing-bot\" is retired");
  Agent expired = agent_;
  expired.expires_at = clock_.Now();
  ExpectStatus(IssueSvid(key_, expired, Request(), clock_).status(),
               StatusCode::kFailedPrecondition, "agent \"billing-bot\" is expired");
  // The same agent issues fine a moment before its expiry.
  expired.expires_at = clock_.Now() + std::chrono::seconds(2);
  EXPECT_TRUE(IssueSvid(key_, expired, Request(), clock_).ok());
}

TEST_P(SvidTest, BadRequestsAreRefused) {
  struct Case {
    SvidRequest request;
    std::string field;
    std::string why;
  };
  std::vector<std::string> seventeen;
  seventeen.reserve(17);
  for (int i = 0; i < 17; ++i) seventeen.push_back("aud-" + std::to_string(i));
  std::vector<Case> cases = {
      {Request({}), "audience", "1 to 16 entries"},
      {Request(seventeen), "audience", "1 to 16 entries (got 17)"},
      {Request({"a", ""}), "audience", "entry 1 must be"},
      {Request({std::string(257, 'a')}), "audience", "printable ASCII"},
      {Request({"a\nb"}), "audience", "printable ASCII"},
      {Request({"caf\xc3\xa9"}), "audience", "printable ASCII"},
      {Request({"a", "b", "a"}), "audience", "entry 2 duplicates \"a\""},
  };
  for (std::chrono::seconds ttl :
       {std::chrono::seconds(0), std::chrono::seconds(-5), kDay + std::chrono::seconds(1)}) {
    SvidRequest r = Request();
    r.ttl = ttl;
    cases.push_back({r, "ttl", "must be between 1s and"});
  }
  const std::string good_jkt = SomeThumbprint();
  for (const std::string& jkt : {std::string(""), good_jkt.substr(0, 42), good_jkt + "A",
                                 good_jkt.substr(0, 42) + "=", good_jkt.substr(0, 42) + "+",
                                 // 43 chars whose last one carries non-zero spare bits.
                                 good_jkt.substr(0, 42) + "B"}) {
    if (jkt.size() == 43 && Base64UrlDecode(jkt).ok()) continue;  // not actually bad
    SvidRequest r = Request();
    r.cnf_jkt = jkt;
    cases.push_back({r, "cnf.jkt", "RFC 7638"});
  }
  for (const auto& c : cases) {
    auto svid = IssueSvid(key_, agent_, c.request, clock_);
    ASSERT_FALSE(svid.ok()) << c.field << " " << c.why;
    EXPECT_EQ(svid.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(svid.status().field(), c.field) << svid.status().ToString();
    EXPECT_THAT(svid.status().message(), HasSubstr(c.why));
  }
  // The limits themselves are accepted.
  std::vector<std::string> sixteen(seventeen.begin(), seventeen.begin() + 16);
  SvidRequest edge = Request(sixteen);
  edge.audience[0] = std::string(256, '~');
  edge.ttl = kDay;
  EXPECT_TRUE(IssueSvid(key_, agent_, edge, clock_).ok());
  edge.ttl = std::chrono::seconds(1);
  EXPECT_TRUE(IssueSvid(key_, agent_, edge, clock_).ok());
}

TEST_P(SvidTest, CnfOnlyWhenAsked) {
  auto plain = IssueSvid(key_, agent_, Request(), clock_);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(crypto::DecodeJwt(plain->token)->claims.contains("cnf"));

  SvidRequest r = Request();
  r.cnf_jkt = SomeThumbprint();
  auto bound = IssueSvid(key_, agent_, r, clock_);
  ASSERT_TRUE(bound.ok());
  EXPECT_EQ(bound->cnf_jkt, r.cnf_jkt);
  EXPECT_EQ(CanonicalJson(crypto::DecodeJwt(bound->token)->claims.at("cnf")),
            CanonicalJson(json::object{{"jkt", *r.cnf_jkt}}));
  auto verified = Verify(bound->token);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->cnf_jkt, r.cnf_jkt);
}

TEST_P(SvidTest, JtiIsUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto svid = IssueSvid(key_, agent_, Request(), clock_);
    ASSERT_TRUE(svid.ok());
    EXPECT_TRUE(seen.insert(svid->jti).second) << svid->jti;
  }
}

TEST_P(SvidTest, VerifyChecksTimes) {
  auto svid = IssueSvid(key_, agent_, Request(), clock_);
  ASSERT_TRUE(svid.ok());
  clock_.Advance(std::chrono::seconds(329));
  EXPECT_TRUE(Verify(svid->token).ok());  // within the default 30s leeway
  clock_.Advance(std::chrono::seconds(1));
  ExpectStatus(Verify(svid->token).status(), StatusCode::kUnauthenticated,
               "token expired at 2027-01-15T08:05:00Z");
  // A smaller leeway is honoured.
  clock_.Set(FromUnixSeconds(kNow + 301));
  EXPECT_TRUE(Verify(svid->token).ok());
  ExpectStatus(VerifySvid(svid->token, keys_, kTrustDomain, "https://api.example.com", clock_,
                          std::chrono::seconds(0))
                   .status(),
               StatusCode::kUnauthenticated, "token expired");
  // Issued in the future (a verifier whose clock is behind by more than the leeway).
  clock_.Set(FromUnixSeconds(kNow - 31));
  ExpectStatus(Verify(svid->token).status(), StatusCode::kUnauthenticated,
               "token issued in the future");
  clock_.Set(FromUnixSeconds(kNow));
  // Not yet valid.
  json::object claims = ValidClaims();
  claims["nbf"] = kNow + 60;
  ExpectStatus(Verify(SignClaims(claims)).status(), StatusCode::kUnauthenticated,
               "token not valid before");
  // Longer than any SVID Warden issues.
  claims = ValidClaims();
  claims["exp"] = kNow + kDay.count() + 1;
  ExpectStatus(Verify(SignClaims(claims)).status(), StatusCode::kUnauthenticated,
               "exceeds the maximum of 86400s");
  // exp and iat are required.
  claims = ValidClaims();
  claims.erase("iat");
  ExpectStatus(Verify(SignClaims(claims)).status(), StatusCode::kUnauthenticated,
               "no \"iat\" claim");
  claims = ValidClaims();
  claims.erase("exp");
  ExpectStatus(Verify(SignClaims(claims)).status(), StatusCode::kUnauthenticated,
               "no \"exp\" claim");
}

TEST_P(SvidTest, VerifyChecksSignatureAndKey) {
  auto svid = IssueSvid(key_, agent_, Request(), clock_);
  ASSERT_TRUE(svid.ok());
  std::string tampered = svid->token;
  tampered[tampered.size() - 10] = tampered[tampered.size() - 10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Verify(tampered).status().code(), StatusCode::kUnauthenticated);

  crypto::SigningKey other = MustGenerate(GetParam());
  auto foreign = IssueSvid(other, agent_, Request(), clock_);
  ASSERT_TRUE(foreign.ok());
  ExpectStatus(Verify(foreign->token).status(), StatusCode::kUnauthenticated,
               "unknown key id \"" + other.kid() + "\"");
  ExpectStatus(Verify("not.a.token").status(), StatusCode::kUnauthenticated, "malformed token");
}

TEST_P(SvidTest, VerifyChecksSubject) {
  struct Case {
    json::value sub;
    std::string why;
  };
  std::vector<Case> cases = {
      {"spiffe://other.org/agent/billing-bot", "not an agent of trust domain \"example.org\""},
      {"spiffe://example.org/workload/billing-bot", "not an agent of trust domain"},
      {"spiffe://example.org.evil/agent/billing-bot", "not an agent of trust domain"},
      {"spiffe://example.org/agent/", "invalid agent name"},
      {"spiffe://example.org/agent/Billing", "invalid agent name"},
      {"spiffe://example.org/agent/a/b", "invalid agent name"},
      {"spiffe://example.org/agent/a?x=1", "invalid agent name"},
      {"SPIFFE://example.org/agent/billing-bot", "not an agent of trust domain"},
      {7, "claim \"sub\" must be a string"},
  };
  for (const auto& c : cases) {
    json::object claims = ValidClaims();
    claims["sub"] = c.sub;
    ExpectStatus(Verify(SignClaims(claims)).status(), StatusCode::kUnauthenticated, c.why);
  }
  json::object claims = ValidClaims();
  claims.erase("sub");
  ExpectStatus(Verify(SignClaims(claims)).status(), StatusCode::kUnauthenticated,
               "no \"sub\" claim");
}

TEST_P(SvidTest, VerifyChecksTypJtiAndCnf) {
  EXPECT_TRUE(Verify(SignClaims(ValidClaims())).ok());
  EXPECT_TRUE(Verify(SignClaims(ValidClaims(), "")).ok());      // typ absent
  EXPECT_TRUE(Verify(SignClaims(ValidClaims(), "JOSE")).ok());  // allowed by the spec
  ExpectStatus(Verify(SignClaims(ValidClaims(), "at+jwt")).status(), StatusCode::kUnauthenticated,
               "token typ \"at+jwt\" is not one of");

  json::object claims = ValidClaims();
  claims.erase("jti");
  ExpectStatus(Verify(SignClaims(claims)).status(), StatusCode::kUnauthenticated,
               "no \"jti\" claim");
  claims["jti"] = "";
  ExpectStatus(Verify(SignClaims(claims)).status(), StatusCode::kUnauthenticated,
               "\"jti\" must be a non-empty string");

  const std::string jkt = SomeThumbprint();
  for (const json::value& cnf :
       {json::value("x"), json::value(json::object{}), json::value(json::object{{"jkt", "short"}}),
        json::value(json::object{{"jkt", 5}}),
        json::value(json::object{{"jkt", jkt}, {"x5t#S256", jkt}}),
        json::value(json::object{{"jwk", json::object{}}})}) {
    claims = ValidClaims();
    claims["cnf"] = cnf;
    ExpectStatus(Verify(SignClaims(claims)).status(), StatusCode::kUnauthenticated,
                 "claim \"cnf\" must be");
  }
}

TEST_P(SvidTest, VerifyRejectsBadConfiguration) {
  auto svid = IssueSvid(key_, agent_, Request(), clock_);
  ASSERT_TRUE(svid.ok());
  auto bad_td = VerifySvid(svid->token, keys_, "Example.org", "https://api.example.com", clock_);
  EXPECT_EQ(bad_td.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_td.status().field(), "trust_domain");
  auto no_aud = VerifySvid(svid->token, keys_, kTrustDomain, "", clock_);
  EXPECT_EQ(no_aud.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(no_aud.status().field(), "audience");
}

INSTANTIATE_TEST_SUITE_P(Algorithms, SvidTest,
                         ::testing::Values(crypto::Algorithm::kEd25519, crypto::Algorithm::kEs256),
                         [](const auto& param_info) {
                           return param_info.param == crypto::Algorithm::kEd25519 ? "EdDSA"
                                                                                  : "ES256";
                         });

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Cross-implementation check in both directions with the `jose` npm package:
// jose.jwtVerify accepts Warden's SVIDs with the published JWK and the
// audience (and refuses another audience), and Warden's VerifySvid accepts
// JWT-SVIDs that jose signs with the same private key. Skipped when node or
// jose is missing.
TEST(SvidInteropTest, JoseAgreesWithWarden) {
  const char* src = std::getenv("WARDEN_SOURCE_DIR");
  if (src == nullptr || !fs::exists(fs::path(src) / "node_modules" / "jose") ||
      std::system("node --version > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "node with the jose package is not available";
  }
  testing::TempDir dir;
  FakeClock clock(FromUnixSeconds(kNow));
  Agent agent = MakeAgent("interop-bot", FromUnixSeconds(kNow) + kDay);
  std::vector<crypto::SigningKey> keys;
  json::array cases;
  for (crypto::Algorithm alg : {crypto::Algorithm::kEd25519, crypto::Algorithm::kEs256}) {
    keys.push_back(MustGenerate(alg));
    const crypto::SigningKey& key = keys.back();
    auto pem = key.ToPem();
    ASSERT_TRUE(pem.ok());
    for (bool bound : {false, true}) {
      SvidRequest r = Request(bound ? std::vector<std::string>{"https://api.example.com", "other"}
                                    : std::vector<std::string>{"https://api.example.com"});
      if (bound) r.cnf_jkt = SomeThumbprint();
      auto svid = IssueSvid(key, agent, r, clock);
      ASSERT_TRUE(svid.ok());
      cases.push_back(json::object{{"jwk", key.public_key().ToPublishedJwk()},
                                   {"pem", *pem},
                                   {"token", svid->token},
                                   {"sub", svid->spiffe_id},
                                   {"jti", svid->jti},
                                   {"cnf", r.cnf_jkt ? json::value(*r.cnf_jkt) : json::value()},
                                   {"audience", "https://api.example.com"},
                                   {"now", kNow}});
    }
  }
  const fs::path input = dir.path() / "cases.json";
  const fs::path output = dir.path() / "signed.json";
  std::ofstream(input) << ToJson(cases);
  const fs::path script = dir.path() / "interop.mjs";
  std::ofstream(script) << R"JS(
import { readFileSync, writeFileSync } from 'node:fs';
import { importJWK, importPKCS8, jwtVerify, SignJWT } from 'jose';
const [input, output] = process.argv.slice(-2);
const cases = JSON.parse(readFileSync(input, 'utf8'));
const signed = [];
for (const c of cases) {
  const key = await importJWK(c.jwk, c.jwk.alg);
  const currentDate = new Date(c.now * 1000);
  const { payload, protectedHeader } = await jwtVerify(c.token, key, {
    algorithms: [c.jwk.alg], audience: c.audience, subject: c.sub, typ: 'JWT', currentDate,
    requiredClaims: ['sub', 'aud', 'exp', 'iat', 'jti'],
  });
  if (protectedHeader.kid !== c.jwk.kid) throw new Error('kid');
  if (payload.jti !== c.jti) throw new Error('jti');
  if ((payload.cnf?.jkt ?? null) !== c.cnf) throw new Error('cnf');
  let refused = false;
  try { await jwtVerify(c.token, key, { audience: 'https://elsewhere', currentDate }); }
  catch { refused = true; }
  if (!refused) throw new Error('wrong audience accepted');
  const priv = await importPKCS8(c.pem, c.jwk.alg);
  signed.push({ kid: c.jwk.kid, token: await new SignJWT({ jti: 'jose-' + signed.length })
    .setProtectedHeader({ alg: c.jwk.alg, kid: c.jwk.kid, typ: 'JWT' })
    .setSubject(c.sub).setAudience(c.audience).setIssuedAt(c.now).setExpirationTime(c.now + 120)
    .sign(priv) });
}
writeFileSync(output, JSON.stringify(signed));
console.log('ok');
)JS";
  const fs::path log = dir.path() / "out.txt";
  // Evaluated with the source dir as working directory so `import 'jose'`
  // resolves from its node_modules.
  std::string cmd = "cd '" + std::string(src) + "' && node --input-type=module -e \"$(cat '" +
                    script.string() + "')\" '" + input.string() + "' '" + output.string() +
                    "' > '" + log.string() + "' 2>&1";
  int rc = std::system(cmd.c_str());
  ASSERT_EQ(rc, 0) << ReadFile(log);
  EXPECT_EQ(ReadFile(log), "ok\n");

  auto signed_by_jose = ParseJson(ReadFile(output));
  ASSERT_TRUE(signed_by_jose.ok()) << signed_by_jose.status().ToString();
  ASSERT_EQ(signed_by_jose->as_array().size(), 4u);
  crypto::KeyResolver resolver = [&](std::string_view kid) -> Result<crypto::PublicKey> {
    for (const auto& k : keys) {
      if (k.kid() == kid) return k.public_key();
    }
    return NotFound("no key");
  };
  for (const auto& entry : signed_by_jose->as_array()) {
    std::string token(entry.as_object().at("token").as_string());
    auto verified = VerifySvid(token, resolver, kTrustDomain, "https://api.example.com", clock);
    ASSERT_TRUE(verified.ok()) << verified.status().ToString() << " " << token;
    EXPECT_EQ(verified->agent_name, "interop-bot");
    EXPECT_EQ(verified->kid, entry.as_object().at("kid").as_string());
    EXPECT_EQ(verified->expires_at, FromUnixSeconds(kNow + 120));
  }
}

}  // namespace
}  // namespace warden::identity
