#include "warden/grants/grant_token.h"

#include <gtest/gtest.h>

#include "warden/core/encoding.h"
#include "warden/core/json.h"

namespace warden::grants {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

class GrantTokenTest : public ::testing::Test {
 protected:
  GrantTokenTest()
      : key_(std::move(*crypto::SigningKey::Generate(crypto::Algorithm::kEd25519))),
        other_(std::move(*crypto::SigningKey::Generate(crypto::Algorithm::kEs256))) {}

  GrantClaims Sample() const {
    GrantClaims c;
    c.issuer = "spiffe://warden.local";
    c.audience = "warden";
    c.subject = "spiffe://warden.local/agent/worker";
    c.grant_id = "grt_child";
    c.task = "TCK-42";
    c.scope = {{"tickets:read"}, {"queue/support"}};
    c.issued_at = FromUnixSeconds(UnixSeconds(clock_.Now()));
    c.expires_at = c.issued_at + minutes(15);
    c.jti = "gtj_1";
    c.jkt = other_.kid();
    c.actors = {"spiffe://warden.local/agent/planner", "spiffe://warden.local/agent/root"};
    c.on_behalf_of = "alice@example.com";
    c.approval_id = "apr_1";
    return c;
  }

  crypto::KeyResolver Resolver(const crypto::SigningKey& key) const {
    return [pub = key.public_key()](std::string_view kid) -> Result<crypto::PublicKey> {
      if (kid != pub.kid()) return NotFound("unknown key id");
      return pub;
    };
  }

  GrantTokenVerifyOptions Options() const {
    return {"spiffe://warden.local", "warden", clock_.Now(), seconds(30)};
  }

  FakeClock clock_;
  crypto::SigningKey key_;
  crypto::SigningKey other_;
};

TEST_F(GrantTokenTest, RoundTripsEveryClaim) {
  const GrantClaims c = Sample();
  auto token = SignGrantToken(key_, c);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto got = VerifyGrantToken(*token, Resolver(key_), Options());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->subject, c.subject);
  EXPECT_EQ(got->grant_id, c.grant_id);
  EXPECT_EQ(got->task, c.task);
  EXPECT_EQ(got->scope, c.scope);
  EXPECT_EQ(got->issued_at, c.issued_at);
  EXPECT_EQ(got->expires_at, c.expires_at);
  EXPECT_EQ(got->jkt, c.jkt);
  EXPECT_EQ(got->actors, c.actors);
  EXPECT_EQ(got->on_behalf_of, c.on_behalf_of);
  EXPECT_EQ(got->approval_id, c.approval_id);

  // The wire form: typ header and RFC 8693 nesting of act.
  auto jwt = crypto::DecodeJwt(*token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->header.at("typ").as_string(), "wgrant+jwt");
  EXPECT_EQ(ToJson(jwt->claims.at("act")),
            R"({"sub":"spiffe://warden.local/agent/planner","act":{"sub":"spiffe://warden.local/agent/root"}})");
  EXPECT_EQ(jwt->claims.at("cnf").as_object().at("jkt").as_string(), other_.kid());
}

TEST_F(GrantTokenTest, RefusesTamperedPayload) {
  auto token = SignGrantToken(key_, Sample());
  ASSERT_TRUE(token.ok());
  // Swap the payload for one granting more, keeping the signature.
  GrantClaims wider = Sample();
  wider.scope.actions.push_back("payments:send");
  auto forged = SignGrantToken(other_, wider);
  ASSERT_TRUE(forged.ok());
  const std::string& t = *token;
  const std::string& f = *forged;
  std::string spliced = t.substr(0, t.find('.')) + f.substr(f.find('.'), f.rfind('.') - f.find('.')) +
                        t.substr(t.rfind('.'));
  auto got = VerifyGrantToken(spliced, Resolver(key_), Options());
  EXPECT_EQ(got.status().code(), StatusCode::kUnauthenticated) << got.status().ToString();
}

TEST_F(GrantTokenTest, RefusesExpiredToken) {
  auto token = SignGrantToken(key_, Sample());
  ASSERT_TRUE(token.ok());
  clock_.Advance(minutes(16));
  auto got = VerifyGrantToken(*token, Resolver(key_), Options());
  EXPECT_EQ(got.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(GrantTokenTest, RefusesWrongKey) {
  auto token = SignGrantToken(key_, Sample());
  ASSERT_TRUE(token.ok());
  // A resolver that answers the kid with a different key.
  crypto::KeyResolver wrong = [pub = other_.public_key()](std::string_view) {
    return Result<crypto::PublicKey>(pub);
  };
  EXPECT_EQ(VerifyGrantToken(*token, wrong, Options()).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyGrantToken(*token, Resolver(other_), Options()).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(GrantTokenTest, RefusesOtherTokenTypesIssuersAndAudiences) {
  auto plain = crypto::SignJwt(key_, GrantClaimsToJson(Sample()), "JWT");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(VerifyGrantToken(*plain, Resolver(key_), Options()).status().code(),
            StatusCode::kUnauthenticated);

  GrantClaims c = Sample();
  c.issuer = "spiffe://elsewhere";
  auto token = SignGrantToken(key_, c);
  ASSERT_TRUE(token.ok());
  Status s = VerifyGrantToken(*token, Resolver(key_), Options()).status();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("issuer"), std::string::npos) << s.message();

  c = Sample();
  c.audience = "someone-else";
  token = SignGrantToken(key_, c);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(VerifyGrantToken(*token, Resolver(key_), Options()).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(GrantTokenTest, RefusesMissingKeyBinding) {
  json::object claims = GrantClaimsToJson(Sample());
  claims.erase("cnf");
  auto token = crypto::SignJwt(key_, claims, kGrantTokenType);
  ASSERT_TRUE(token.ok());
  Status s = VerifyGrantToken(*token, Resolver(key_), Options()).status();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("cnf"), std::string::npos) << s.message();

  claims = GrantClaimsToJson(Sample());
  claims["act"] = json::object{{"sub", "x"}, {"extra", 1}};
  token = crypto::SignJwt(key_, claims, kGrantTokenType);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(VerifyGrantToken(*token, Resolver(key_), Options()).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(GrantTokenTest, SignRefusesIncompleteClaims) {
  GrantClaims c = Sample();
  c.jkt.clear();
  EXPECT_EQ(SignGrantToken(key_, c).status().field(), "cnf.jkt");
  c = Sample();
  c.expires_at = c.issued_at;
  EXPECT_EQ(SignGrantToken(key_, c).status().field(), "exp");
}

}  // namespace
}  // namespace warden::grants
