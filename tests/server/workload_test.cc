// Workload identity end to end inside one process: the Workload API socket
// (attestation of real processes, including a child under another uid), the
// JWKS, key rotation and join tokens, each checked through the HTTP API and
// the audit log.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <filesystem>
#include <string>

#include "server/server_fixture.h"
#include "warden/core/encoding.h"
#include "warden/crypto/jwt.h"
#include "warden/crypto/signing_key.h"

namespace warden::server::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

std::string SelfExe() { return fs::read_symlink("/proc/self/exe").string(); }

class WorkloadTest : public ServerFixture {
 protected:
  fs::path Socket() const { return DataDir() / "public" / "workload.sock"; }

  HttpResult Svid(const std::string& query = "?audience=https%3A%2F%2Fapi.example") {
    return SendUnix(Socket().string(), "GET", "/v1/svid" + query);
  }
  HttpResult SvidPost(const json::object& body) {
    return SendUnix(Socket().string(), "POST", "/v1/svid", json::serialize(body),
                    {{"Content-Type", "application/json"}});
  }

  void CreateAgent(const std::string& name, const json::array& selectors) {
    json::object body{{"name", name},          {"owner", "alice@example.com"},
                      {"purpose", "testing"}, {"environment", "dev"},
                      {"expires_in", "30d"},  {"selectors", selectors}};
    HttpResult r = Post("/v1/agents", json::serialize(body));
    ASSERT_EQ(r.status, 201u) << r.body;
  }

  // Selectors this test process presents over the socket.
  json::array OwnSelectors() const {
    return json::array{"unix:uid:" + std::to_string(::getuid()), "unix:path:" + SelfExe()};
  }

  // Verifies `token` against the server's published JWKS.
  Result<crypto::Jwt> VerifyWithJwks(const std::string& token, const std::string& audience) {
    HttpResult jwks = Send(Addr(), "GET", "/.well-known/jwks.json");
    if (jwks.status != 200) return Unavailable("jwks: " + jwks.body);
    json::value keys = jwks.Json();
    crypto::KeyResolver resolver = [keys](std::string_view kid) -> Result<crypto::PublicKey> {
      for (const auto& k : keys.at("keys").as_array()) {
        if (k.at("kid").as_string() == kid) return crypto::PublicKey::FromJwk(k.as_object());
      }
      return NotFound("kid not published");
    };
    crypto::JwtVerifyOptions opts;
    opts.audience = audience;
    opts.now = clock_.Now();
    return crypto::VerifyJwt(token, resolver, opts);
  }

  json::array Events(const std::string& kind) {
    json::array out;
    json::value page = Get("/v1/audit?limit=1000").Json();
    for (const auto& e : page.at("events").as_array()) {
      if (e.at("kind").as_string() == kind) out.push_back(e);
    }
    return out;
  }
};

TEST_F(WorkloadTest, SocketIsReachableByOthersAndPrivateFilesStayPrivate) {
  StartServer();
  EXPECT_EQ(FileMode(Socket()), 0666u);
  EXPECT_EQ(FileMode(DataDir() / "public"), 0755u);
  EXPECT_EQ(FileMode(DataDir()), 0711u);
  EXPECT_EQ(FileMode(DataDir() / "admin.token"), 0600u);
  HttpResult h = SendUnix(Socket().string(), "GET", "/healthz");
  EXPECT_EQ(h.status, 200u) << h.error;
  // The admin API is not served on the socket.
  EXPECT_EQ(SendUnix(Socket().string(), "GET", "/v1/agents").status, 404u);
  StopServer();
  EXPECT_FALSE(fs::exists(Socket()));
}

TEST_F(WorkloadTest, MatchingProcessGetsAVerifiableSvid) {
  StartServer();
  CreateAgent("builder", OwnSelectors());
  HttpResult r = Svid();
  ASSERT_EQ(r.status, 200u) << r.body << r.error;
  EXPECT_EQ(r.headers["cache-control"], "no-store");
  json::value body = r.Json();
  std::string token(body.at("svid").as_string());
  EXPECT_EQ(body.at("spiffe_id").as_string(), "spiffe://warden.local/agent/builder");
  auto verified = VerifyWithJwks(token, "https://api.example");
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->header.at("typ").as_string(), "JWT");
  EXPECT_EQ(verified->header.at("alg").as_string(), "EdDSA");
  const json::object& claims = verified->claims;
  EXPECT_EQ(claims.at("sub").as_string(), "spiffe://warden.local/agent/builder");
  EXPECT_EQ(claims.at("exp").as_int64() - claims.at("iat").as_int64(), 300);
  EXPECT_FALSE(claims.contains("cnf"));
  // Another audience does not verify.
  EXPECT_FALSE(VerifyWithJwks(token, "https://other.example").ok());

  json::array issued = Events("svid.issued");
  ASSERT_EQ(issued.size(), 1u);
  const json::object& d = issued[0].at("details").as_object();
  EXPECT_EQ(d.at("via").as_string(), "workload_api");
  EXPECT_EQ(d.at("pid").as_int64(), ::getpid());
  bool saw_uid = false;
  for (const auto& s : d.at("selectors").as_array()) {
    saw_uid = saw_uid || s.as_string() == "unix:uid:" + std::to_string(::getuid());
  }
  EXPECT_TRUE(saw_uid);
  EXPECT_EQ(d.at("audience").as_array().at(0).as_string(), "https://api.example");
  // The token itself never reaches the audit log.
  EXPECT_EQ(Get("/v1/audit?limit=1000").body.find(token), std::string::npos);
}

TEST_F(WorkloadTest, KeyBoundSvidCarriesTheThumbprint) {
  StartServer();
  CreateAgent("builder", OwnSelectors());
  auto key = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
  ASSERT_TRUE(key.ok());
  HttpResult r = SvidPost(json::object{{"audience", json::array{"a", "b"}},
                                       {"ttl", "2m"},
                                       {"public_key", key->public_key().ToJwk()}});
  ASSERT_EQ(r.status, 200u) << r.body;
  auto decoded = crypto::DecodeJwt(std::string(r.Json().at("svid").as_string()));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->claims.at("cnf").at("jkt").as_string(), key->kid());
  EXPECT_EQ(decoded->claims.at("aud").as_array().size(), 2u);
  EXPECT_EQ(decoded->claims.at("exp").as_int64() - decoded->claims.at("iat").as_int64(), 120);

  // A private key is refused, as is a lifetime beyond svid_max_ttl.
  json::object priv = key->public_key().ToJwk();
  priv["d"] = "AAAA";
  HttpResult bad = SvidPost(json::object{{"public_key", priv}});
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.ErrorField().rfind("public_key", 0), 0u) << bad.body;
  HttpResult long_ttl = Svid("?ttl=2h");
  EXPECT_EQ(long_ttl.status, 400u);
  EXPECT_EQ(long_ttl.ErrorField(), "ttl");
  EXPECT_EQ(Svid("?audience=x&color=red").status, 400u);
}

TEST_F(WorkloadTest, NoMatchSuspendedAndExpiredAreRefusedAndAudited) {
  StartServer();
  CreateAgent("other-user", json::array{"unix:uid:4242"});
  HttpResult none = Svid();
  EXPECT_EQ(none.status, 403u) << none.body;
  EXPECT_NE(none.body.find("unix:uid:" + std::to_string(::getuid())), std::string::npos);

  CreateAgent("builder", OwnSelectors());
  ASSERT_EQ(Svid().status, 200u);
  ASSERT_EQ(Post("/v1/agents/builder/suspend", "{}").status, 200u);
  HttpResult suspended = Svid();
  EXPECT_EQ(suspended.status, 403u);
  EXPECT_NE(suspended.body.find("suspended"), std::string::npos) << suspended.body;
  ASSERT_EQ(Post("/v1/agents/builder/resume", "{}").status, 200u);
  ASSERT_EQ(Svid().status, 200u);

  clock_.Advance(std::chrono::hours(24 * 31));  // past the 30-day expiry
  HttpResult expired = Svid();
  EXPECT_EQ(expired.status, 403u) << expired.body;

  json::array refused = Events("svid.refused");
  ASSERT_GE(refused.size(), 3u);
  const json::object& d = refused[0].at("details").as_object();
  EXPECT_FALSE(d.at("selectors").as_array().empty());
  EXPECT_EQ(d.at("uid").as_int64(), ::getuid());
  EXPECT_EQ(refused[0].at("actor").as_string(), "workload:uid:" + std::to_string(::getuid()));
}

TEST_F(WorkloadTest, SvidExpiryNeverPassesTheAgentsExpiry) {
  StartServer();
  json::object body{{"name", "short"},       {"owner", "o"},          {"purpose", "p"},
                    {"environment", "dev"}, {"expires_in", "2m"},   {"selectors", OwnSelectors()}};
  ASSERT_EQ(Post("/v1/agents", json::serialize(body)).status, 201u);
  HttpResult r = Svid();
  ASSERT_EQ(r.status, 200u) << r.body;
  auto decoded = crypto::DecodeJwt(std::string(r.Json().at("svid").as_string()));
  ASSERT_TRUE(decoded.ok());
  EXPECT_LE(decoded->claims.at("exp").as_int64() - decoded->claims.at("iat").as_int64(), 120);
}

TEST_F(WorkloadTest, ProcessUnderAnotherUidIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a child under another uid";
  // The child must traverse the test's temporary root to reach the socket.
  fs::permissions(root_, fs::perms(0711));
  StartServer();
  CreateAgent("builder", OwnSelectors());
  ASSERT_EQ(Svid().status, 200u);

  std::array<int, 2> fds{};
  ASSERT_EQ(::pipe(fds.data()), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    unsigned status = 0;
    if (::setgid(65534) == 0 && ::setuid(65534) == 0) status = Svid().status;
    ssize_t ignored = ::write(fds[1], &status, sizeof status);
    (void)ignored;
    ::_exit(0);
  }
  ::close(fds[1]);
  unsigned child_status = 0;
  ASSERT_EQ(::read(fds[0], &child_status, sizeof child_status),
            static_cast<ssize_t>(sizeof child_status));
  ::close(fds[0]);
  int wstatus = 0;
  ::waitpid(child, &wstatus, 0);
  EXPECT_EQ(child_status, 403u);
  bool saw_nobody = false;
  for (const auto& e : Events("svid.refused")) {
    saw_nobody = saw_nobody || e.at("details").at("uid").as_int64() == 65534;
  }
  EXPECT_TRUE(saw_nobody);
}

TEST_F(WorkloadTest, RotationKeepsOldTokensValidUntilTheyExpire) {
  StartServer();
  CreateAgent("builder", OwnSelectors());
  HttpResult before = Svid();
  ASSERT_EQ(before.status, 200u);
  std::string old_token(before.Json().at("svid").as_string());
  std::string old_kid(before.Json().at("kid").as_string());

  HttpResult rotated = Post("/v1/keys/rotate", R"({"algorithm":"es256"})");
  ASSERT_EQ(rotated.status, 201u) << rotated.body;
  EXPECT_EQ(rotated.Json().at("previous_kid").as_string(), old_kid);
  std::string new_kid(rotated.Json().at("kid").as_string());
  EXPECT_NE(new_kid, old_kid);

  HttpResult after = Svid();
  ASSERT_EQ(after.status, 200u);
  EXPECT_EQ(after.Json().at("kid").as_string(), new_kid);
  auto fresh = VerifyWithJwks(std::string(after.Json().at("svid").as_string()),
                              "https://api.example");
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ(fresh->header.at("alg").as_string(), "ES256");
  auto old = VerifyWithJwks(old_token, "https://api.example");
  EXPECT_TRUE(old.ok()) << old.status().ToString();

  HttpResult jwks = Send(Addr(), "GET", "/.well-known/jwks.json");
  EXPECT_EQ(jwks.Json().at("keys").as_array().size(), 2u);
  HttpResult keys = Get("/v1/keys");
  ASSERT_EQ(keys.status, 200u);
  EXPECT_EQ(keys.Json().at("keys").as_array().size(), 2u);

  // Past the longest lifetime of any token it signed (SVIDs and grants) the
  // retired key is no longer published.
  clock_.Advance(std::max(options_.svid_max_ttl, options_.grant_max_ttl) + std::chrono::seconds(1));
  jwks = Send(Addr(), "GET", "/.well-known/jwks.json");
  ASSERT_EQ(jwks.Json().at("keys").as_array().size(), 1u) << jwks.body;
  EXPECT_EQ(jwks.Json().at("keys").at(0).at("kid").as_string(), new_kid);
  EXPECT_EQ(Events("key.rotated").size(), 1u);

  // The rotation survives a restart.
  StopServer();
  StartServer();
  HttpResult restarted = Svid();
  ASSERT_EQ(restarted.status, 200u);
  EXPECT_EQ(restarted.Json().at("kid").as_string(), new_kid);
}

TEST_F(WorkloadTest, JoinTokenWorksOnceWithProofOfPossession) {
  StartServer();
  CreateAgent("remote", json::array{"unix:uid:4242"});
  HttpResult created = Post("/v1/agents/remote/join-tokens", R"({"ttl":"10m"})");
  ASSERT_EQ(created.status, 201u) << created.body;
  std::string token(created.Json().at("token").as_string());
  std::string token_id(created.Json().at("id").as_string());
  auto key = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
  ASSERT_TRUE(key.ok());

  auto join = [&](const std::string& with_token, const crypto::SigningKey& signer,
                  const crypto::SigningKey& presented) {
    std::vector<std::pair<std::string, std::string>> ct{{"Content-Type", "application/json"}};
    HttpResult challenge = Send(Addr(), "POST", "/v1/attest/challenge",
                                json::serialize(json::object{{"token", with_token}}), ct);
    if (challenge.status != 200) return challenge;
    std::string nonce(challenge.Json().at("nonce").as_string());
    auto sig = signer.Sign("warden-join:" + nonce);
    json::object body{{"token", with_token},
                      {"nonce", nonce},
                      {"public_key", presented.public_key().ToJwk()},
                      {"signature", Base64UrlEncode(*sig)},
                      {"audience", "https://api.example"}};
    return Send(Addr(), "POST", "/v1/attest/join", json::serialize(body), ct);
  };

  // A signature by another key than the one presented is refused...
  auto other = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
  ASSERT_TRUE(other.ok());
  HttpResult forged = join(token, *other, *key);
  EXPECT_EQ(forged.status, 401u) << forged.body;
  // ...the genuine proof succeeds, bound to the key...
  HttpResult ok = join(token, *key, *key);
  ASSERT_EQ(ok.status, 200u) << ok.body;
  auto verified = VerifyWithJwks(std::string(ok.Json().at("svid").as_string()),
                                 "https://api.example");
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->claims.at("sub").as_string(), "spiffe://warden.local/agent/remote");
  EXPECT_EQ(verified->claims.at("cnf").at("jkt").as_string(), key->kid());
  // ...and the token never works twice.
  HttpResult reused = join(token, *key, *key);
  EXPECT_EQ(reused.status, 401u) << reused.body;

  // An expired token is refused.
  HttpResult second = Post("/v1/agents/remote/join-tokens", R"({"ttl":"1m"})");
  ASSERT_EQ(second.status, 201u);
  clock_.Advance(std::chrono::minutes(2));
  HttpResult late = join(std::string(second.Json().at("token").as_string()), *key, *key);
  EXPECT_EQ(late.status, 401u) << late.body;

  // A ttl beyond join_token_max_ttl is refused with the field.
  HttpResult too_long = Post("/v1/agents/remote/join-tokens", R"({"ttl":"30d"})");
  EXPECT_EQ(too_long.status, 400u);
  EXPECT_EQ(too_long.ErrorField(), "ttl");

  EXPECT_EQ(Events("join_token.created").size(), 2u);
  EXPECT_EQ(Events("join_token.redeemed").size(), 1u);
  EXPECT_GE(Events("join_token.refused").size(), 3u);
  json::array issued = Events("svid.issued");
  ASSERT_EQ(issued.size(), 1u);
  EXPECT_EQ(issued[0].at("details").at("join_token").as_string(), token_id);
  std::string audit = Get("/v1/audit?limit=1000").body;
  EXPECT_EQ(audit.find(token), std::string::npos) << "the join token secret reached the audit log";

  HttpResult listed = Get("/v1/agents/remote/join-tokens");
  ASSERT_EQ(listed.status, 200u);
  EXPECT_EQ(listed.Json().at("join_tokens").as_array().size(), 2u);
  EXPECT_EQ(listed.body.find(token), std::string::npos);
}

TEST_F(WorkloadTest, AdminRoutesNeedTheToken) {
  StartServer();
  EXPECT_EQ(Send(Addr(), "GET", "/v1/keys").status, 401u);
  EXPECT_EQ(Send(Addr(), "POST", "/v1/keys/rotate").status, 401u);
  EXPECT_EQ(Send(Addr(), "POST", "/v1/agents/x/join-tokens").status, 401u);
  // The JWKS is public.
  HttpResult jwks = Send(Addr(), "GET", "/.well-known/jwks.json");
  EXPECT_EQ(jwks.status, 200u);
  EXPECT_EQ(jwks.headers["content-type"], "application/jwk-set+json");
  EXPECT_EQ(jwks.body.find("\"d\""), std::string::npos);
}

TEST_F(WorkloadTest, SocketCanBeMovedOrTurnedOff) {
  options_.workload_socket = (root_ / "w.sock").string();
  StartServer();
  EXPECT_EQ(SendUnix((root_ / "w.sock").string(), "GET", "/healthz").status, 200u);
  EXPECT_FALSE(fs::exists(Socket()));
  StopServer();
  options_.workload_socket = "off";
  StartServer();
  EXPECT_FALSE(fs::exists(root_ / "w.sock"));
  EXPECT_FALSE(fs::exists(Socket()));
}

TEST_F(WorkloadTest, ADataDirectoryTooDeepForASocketStillServes) {
  // DATA/public/workload.sock would exceed the 107 bytes a socket path holds:
  // the server starts without the Workload API rather than not at all.
  fs::path deep = root_ / std::string(100, 'd');
  ASSERT_TRUE(fs::create_directories(deep));
  options_.data_dir = (deep / "data").string();
  StartServer();
  EXPECT_EQ(Send(Addr(), "GET", "/healthz").status, 200u);
  EXPECT_FALSE(fs::exists(DataDir() / "public" / "workload.sock"));
  // An explicitly configured path that long is an error, not a silent skip.
  StopServer();
  options_.workload_socket = (deep / "w.sock").string();
  auto refused = Server::Start(options_, clock_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().field(), "workload_socket");
}

}  // namespace
}  // namespace warden::server::testing
