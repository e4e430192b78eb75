#include "warden/crypto/signing_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "warden/core/encoding.h"
#include "warden/core/json.h"
#include "warden/crypto/hash.h"

namespace warden::crypto {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "warden-crypto-XXXXXX").string();
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

unsigned FileMode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 07777;
}

class SigningKeyTest : public ::testing::TestWithParam<Algorithm> {};

TEST_P(SigningKeyTest, SignVerifyRoundTrip) {
  auto key = SigningKey::Generate(GetParam());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto sig = key->Sign("hello");
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(sig->size(), 64u);  // JOSE form for both, never DER
  EXPECT_TRUE(key->public_key().Verify("hello", *sig).ok());
  // Empty data signs and verifies too.
  auto empty_sig = key->Sign("");
  ASSERT_TRUE(empty_sig.ok());
  EXPECT_TRUE(key->public_key().Verify("", *empty_sig).ok());
}

TEST_P(SigningKeyTest, TamperedDataFails) {
  auto key = SigningKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  auto sig = key->Sign("pay 10 EUR");
  ASSERT_TRUE(sig.ok());
  Status s = key->public_key().Verify("pay 99 EUR", *sig);
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
}

TEST_P(SigningKeyTest, TamperedSignatureFails) {
  auto key = SigningKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  auto sig = key->Sign("data");
  ASSERT_TRUE(sig.ok());
  for (size_t i : {size_t{0}, size_t{31}, size_t{32}, size_t{63}}) {
    std::string bad = *sig;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_EQ(key->public_key().Verify("data", bad).code(), StatusCode::kUnauthenticated) << i;
  }
  // Truncated, extended, empty, all zeros.
  EXPECT_FALSE(key->public_key().Verify("data", sig->substr(0, 63)).ok());
  EXPECT_FALSE(key->public_key().Verify("data", *sig + "x").ok());
  EXPECT_FALSE(key->public_key().Verify("data", "").ok());
  EXPECT_FALSE(key->public_key().Verify("data", std::string(64, '\0')).ok());
}

TEST_P(SigningKeyTest, WrongKeyFails) {
  auto a = SigningKey::Generate(GetParam());
  auto b = SigningKey::Generate(GetParam());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->kid(), b->kid());
  auto sig = a->Sign("data");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(b->public_key().Verify("data", *sig).code(), StatusCode::kUnauthenticated);
}

TEST_P(SigningKeyTest, JwkRoundTrip) {
  auto key = SigningKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  json::object jwk = key->public_key().ToPublishedJwk();
  EXPECT_EQ(jwk.at("kid").as_string(), key->kid());
  EXPECT_EQ(jwk.at("alg").as_string(), key->jose_alg());
  EXPECT_EQ(jwk.at("use").as_string(), "sig");
  EXPECT_FALSE(jwk.contains("d"));
  // Through text, as a verifier fetching JWKS would see it.
  auto parsed = ParseJson(ToJson(jwk));
  ASSERT_TRUE(parsed.ok());
  auto pub = PublicKey::FromJwk(parsed->as_object());
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->kid(), key->kid());
  EXPECT_EQ(pub->algorithm(), GetParam());
  EXPECT_EQ(CanonicalJson(pub->ToJwk()), CanonicalJson(key->public_key().ToJwk()));
  auto sig = key->Sign("round trip");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(pub->Verify("round trip", *sig).ok());
}

TEST_P(SigningKeyTest, ThumbprintIsRfc7638OverRequiredMembers) {
  auto key = SigningKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  json::object jwk = key->public_key().ToJwk();
  // Recompute independently: required members in lexicographic order, no
  // whitespace (RFC 7638 section 3.2), written out by hand.
  std::string canonical;
  if (GetParam() == Algorithm::kEd25519) {
    ASSERT_EQ(jwk.size(), 3u);
    canonical = std::string(R"({"crv":"Ed25519","kty":"OKP","x":")") +
                std::string(jwk.at("x").as_string()) + "\"}";
  } else {
    ASSERT_EQ(jwk.size(), 4u);
    canonical = std::string(R"({"crv":"P-256","kty":"EC","x":")") +
                std::string(jwk.at("x").as_string()) + R"(","y":")" +
                std::string(jwk.at("y").as_string()) + "\"}";
  }
  EXPECT_EQ(key->kid(), Base64UrlEncode(Sha256(canonical)));
  // Extra members never change the thumbprint.
  auto tp = JwkThumbprint(key->public_key().ToPublishedJwk());
  ASSERT_TRUE(tp.ok());
  EXPECT_EQ(*tp, key->kid());
}

TEST_P(SigningKeyTest, PemFileRoundTripWithMode0600) {
  TempDir dir;
  auto key = SigningKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  fs::path path = dir.path() / (key->kid() + ".pem");
  ::umask(022);
  ASSERT_TRUE(key->SavePem(path).ok());
  EXPECT_EQ(FileMode(path), 0600u);
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  auto loaded = SigningKey::LoadPem(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->kid(), key->kid());
  EXPECT_EQ(loaded->algorithm(), GetParam());
  auto sig = loaded->Sign("x");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key->public_key().Verify("x", *sig).ok());
  // Saving again replaces atomically and keeps the mode.
  ASSERT_TRUE(loaded->SavePem(path).ok());
  EXPECT_EQ(FileMode(path), 0600u);
}

TEST_P(SigningKeyTest, RefusesKeyFileReadableByOthers) {
  TempDir dir;
  auto key = SigningKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  fs::path path = dir.path() / "k.pem";
  ASSERT_TRUE(key->SavePem(path).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto loaded = SigningKey::LoadPem(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(loaded.status().message().find("mode 0644"), std::string::npos)
      << loaded.status().message();
  EXPECT_NE(loaded.status().message().find(path.string()), std::string::npos);
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_EQ(SigningKey::LoadPem(path).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_EQ(::chmod(path.c_str(), 0602), 0);
  EXPECT_EQ(SigningKey::LoadPem(path).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(SigningKey::LoadPem(path).ok());
}

TEST_P(SigningKeyTest, RefusesSymlinkAndReportsMissing) {
  TempDir dir;
  auto key = SigningKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  fs::path path = dir.path() / "k.pem";
  ASSERT_TRUE(key->SavePem(path).ok());
  fs::path link = dir.path() / "link.pem";
  fs::create_symlink(path, link);
  EXPECT_EQ(SigningKey::LoadPem(link).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(SigningKey::LoadPem(dir.path() / "missing.pem").status().code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, SigningKeyTest,
                         ::testing::Values(Algorithm::kEd25519, Algorithm::kEs256),
                         [](const ::testing::TestParamInfo<Algorithm>& param_info) {
                           return param_info.param == Algorithm::kEd25519 ? std::string("Ed25519")
                                                                          : std::string("ES256");
                         });

TEST(AlgorithmTest, Names) {
  EXPECT_EQ(JoseAlgorithmName(Algorithm::kEd25519), "EdDSA");
  EXPECT_EQ(JoseAlgorithmName(Algorithm::kEs256), "ES256");
  EXPECT_EQ(*ParseAlgorithm("EdDSA"), Algorithm::kEd25519);
  EXPECT_EQ(*ParseAlgorithm("ed25519"), Algorithm::kEd25519);
  EXPECT_EQ(*ParseAlgorithm("ES256"), Algorithm::kEs256);
  EXPECT_EQ(*ParseAlgorithm("es256"), Algorithm::kEs256);
  for (const char* bad : {"none", "HS256", "RS256", "", "eddsa "}) {
    EXPECT_EQ(ParseAlgorithm(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

// RFC 8037 appendix A.2/A.3: the Ed25519 public key and its RFC 7638 thumbprint.
TEST(JwkThumbprintTest, Rfc8037Ed25519Vector) {
  json::object jwk{
      {"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}};
  auto tp = JwkThumbprint(jwk);
  ASSERT_TRUE(tp.ok()) << tp.status().ToString();
  EXPECT_EQ(*tp, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

// The RFC 7517 appendix A.1 P-256 key; expected value computed with the
// `jose` npm package (calculateJwkThumbprint(jwk, "sha256")).
TEST(JwkThumbprintTest, P256MatchesJoseLibrary) {
  json::object jwk{{"kty", "EC"},
                   {"crv", "P-256"},
                   {"x", "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4"},
                   {"y", "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"},
                   {"kid", "1"}};
  auto tp = JwkThumbprint(jwk);
  ASSERT_TRUE(tp.ok()) << tp.status().ToString();
  EXPECT_EQ(*tp, "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s");
}

// RFC 8032 section 7.1 TEST 1: fixed secret key, empty message. The PKCS#8
// wrapper of an Ed25519 seed is the fixed prefix below (RFC 8410).
TEST(SigningKeyKnownAnswerTest, Rfc8032Test1) {
  auto seed = HexDecode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  auto prefix = HexDecode("302e020100300506032b657004220420");
  ASSERT_TRUE(seed.ok() && prefix.ok());
  std::string pem = "-----BEGIN PRIVATE KEY-----\n" + Base64Encode(*prefix + *seed) +
                    "\n-----END PRIVATE KEY-----\n";
  auto key = SigningKey::FromPem(pem);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->public_key().ToJwk().at("x").as_string(),
            Base64UrlEncode(
                *HexDecode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")));
  auto sig = key->Sign("");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(HexEncode(*sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

TEST(PublicKeyFromJwkTest, RejectsMalformedKeys) {
  struct Case {
    json::object jwk;
    std::string field;
  };
  const std::string x = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
  const std::string y = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";
  std::vector<Case> cases = {
      {{{"crv", "P-256"}, {"x", x}, {"y", y}}, "kty"},
      {{{"kty", "RSA"}, {"crv", "P-256"}, {"x", x}, {"y", y}}, "kty"},
      {{{"kty", "EC"}, {"crv", "P-384"}, {"x", x}, {"y", y}}, "crv"},
      {{{"kty", "OKP"}, {"crv", "X25519"}, {"x", x}}, "crv"},
      {{{"kty", "EC"}, {"crv", "P-256"}, {"x", x}}, "y"},
      {{{"kty", "EC"}, {"crv", "P-256"}, {"x", x + "A"}, {"y", y}}, "x"},
      {{{"kty", "EC"}, {"crv", "P-256"}, {"x", x.substr(0, 42)}, {"y", y}}, "x"},
      {{{"kty", "EC"}, {"crv", "P-256"}, {"x", x}, {"y", x}}, "x"},  // not on the curve
      {{{"kty", "EC"}, {"crv", "P-256"}, {"x", x}, {"y", y}, {"alg", "EdDSA"}}, "alg"},
      {{{"kty", "EC"}, {"crv", "P-256"}, {"x", x}, {"y", y}, {"use", "enc"}}, "use"},
      {{{"kty", "EC"}, {"crv", "P-256"}, {"x", x}, {"y", y}, {"d", x}}, "d"},
      {{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", 5}}, "x"},
      {{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}}, "x"},
      {{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", x + "="}}, "x"},
  };
  for (const auto& c : cases) {
    auto key = PublicKey::FromJwk(c.jwk);
    ASSERT_FALSE(key.ok()) << ToJson(c.jwk);
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument) << ToJson(c.jwk);
    EXPECT_EQ(key.status().field(), c.field) << ToJson(c.jwk) << " " << key.status().ToString();
  }
}

// Algorithm confusion: an Ed25519 signature must not verify under a P-256 key
// and vice versa, even though both are 64 bytes.
TEST(PublicKeyTest, CrossAlgorithmSignaturesFail) {
  auto ed = SigningKey::Generate(Algorithm::kEd25519);
  auto ec = SigningKey::Generate(Algorithm::kEs256);
  ASSERT_TRUE(ed.ok() && ec.ok());
  EXPECT_FALSE(ec->public_key().Verify("m", *ed->Sign("m")).ok());
  EXPECT_FALSE(ed->public_key().Verify("m", *ec->Sign("m")).ok());
}

TEST(SigningKeyFromPemTest, RejectsGarbageAndUnsupportedKeys) {
  EXPECT_EQ(SigningKey::FromPem("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SigningKey::FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SigningKey::FromPem(std::string(70000, 'A')).status().code(),
            StatusCode::kInvalidArgument);
}

// Cross-implementation check: the `jose` npm package verifies our JOSE-form
// signatures with our published JWKs. Skipped when node or jose is missing.
TEST(SigningKeyInteropTest, JoseVerifiesOurSignatures) {
  const char* src = std::getenv("WARDEN_SOURCE_DIR");
  if (src == nullptr || !fs::exists(fs::path(src) / "node_modules" / "jose") ||
      std::system("node --version > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "node with the jose package is not available";
  }
  TempDir dir;
  json::array cases;
  for (Algorithm alg : {Algorithm::kEd25519, Algorithm::kEs256}) {
    auto key = SigningKey::Generate(alg);
    ASSERT_TRUE(key.ok());
    // A compact JWS built by hand: header.payload.signature.
    std::string signing_input =
        Base64UrlEncode(ToJson(json::object{{"alg", key->jose_alg()}, {"kid", key->kid()}})) + "." +
        Base64UrlEncode(R"({"sub":"interop"})");
    auto sig = key->Sign(signing_input);
    ASSERT_TRUE(sig.ok());
    cases.push_back(json::object{{"jwk", key->public_key().ToPublishedJwk()},
                                 {"jws", signing_input + "." + Base64UrlEncode(*sig)},
                                 {"kid", key->kid()}});
  }
  fs::path input = dir.path() / "cases.json";
  std::ofstream(input) << ToJson(cases);
  // Evaluated with the source dir as working directory so `import 'jose'`
  // resolves from its node_modules.
  fs::path script_tmp = dir.path() / "interop.mjs";
  std::ofstream(script_tmp) << R"JS(
import { readFileSync } from 'node:fs';
import { importJWK, compactVerify, calculateJwkThumbprint } from 'jose';
const cases = JSON.parse(readFileSync(process.argv.at(-1), 'utf8'));
for (const c of cases) {
  const key = await importJWK(c.jwk, c.jwk.alg);
  const { payload } = await compactVerify(c.jws, key);
  if (new TextDecoder().decode(payload) !== '{"sub":"interop"}') throw new Error('payload');
  if (await calculateJwkThumbprint(c.jwk, 'sha256') !== c.kid) throw new Error('thumbprint');
}
console.log('ok');
)JS";
  std::string cmd = "cd '" + std::string(src) + "' && node --input-type=module -e \"$(cat '" +
                    script_tmp.string() + "')\" '" + input.string() + "' > '" +
                    (dir.path() / "out.txt").string() + "' 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream out(dir.path() / "out.txt");
  std::stringstream text;
  text << out.rdbuf();
  EXPECT_EQ(rc, 0) << text.str();
  EXPECT_EQ(text.str(), "ok\n");
}

}  // namespace
}  // namespace warden::crypto
