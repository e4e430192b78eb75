// Fuzzes compact JWS decoding and verification with hostile tokens. Decoding
// must never crash, and whatever decodes must be exactly its parts again
// (signing input, '.', base64url signature). Verification runs against a
// fixed Ed25519 key (RFC 8032 section 7.1 TEST 1), so corpus tokens signed
// with it reach the claim checks; every failure must be Unauthenticated. An
// input that is a JSON object is also signed as claims and must decode back
// to the same claims.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "warden/core/encoding.h"
#include "warden/core/json.h"
#include "warden/crypto/jwt.h"
#include "warden/crypto/signing_key.h"

namespace {

using warden::crypto::SigningKey;

SigningKey FixedEd25519Key() {
  // PKCS#8 wrapper (RFC 8410) around the RFC 8032 TEST 1 seed.
  auto der = warden::HexDecode(
      "302e020100300506032b657004220420"
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  if (!der.ok()) std::abort();
  auto key = SigningKey::FromPem("-----BEGIN PRIVATE KEY-----\n" + warden::Base64Encode(*der) +
                                 "\n-----END PRIVATE KEY-----\n");
  if (!key.ok()) std::abort();
  return std::move(*key);
}

SigningKey GeneratedEs256Key() {
  auto key = SigningKey::Generate(warden::crypto::Algorithm::kEs256);
  if (!key.ok()) std::abort();
  return std::move(*key);
}

void ExpectUnauthenticatedOrOk(const warden::Status& s) {
  if (!s.ok() && s.code() != warden::StatusCode::kUnauthenticated) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const SigningKey ed = FixedEd25519Key();
  static const SigningKey ec = GeneratedEs256Key();
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto jwt = warden::crypto::DecodeJwt(text);
  if (jwt.ok()) {
    if (text != jwt->signing_input + "." + warden::Base64UrlEncode(jwt->signature)) std::abort();
    if (!jwt->header.at("alg").is_string()) std::abort();
  } else if (jwt.status().code() != warden::StatusCode::kUnauthenticated) {
    std::abort();
  }

  warden::crypto::JwtVerifyOptions options;
  options.now = warden::FromUnixSeconds(1'800'000'000);
  options.audience = "https://api.example.com";
  options.allowed_typ = {"JWT"};
  options.allow_missing_typ = true;
  options.max_lifetime = std::chrono::hours(24);
  warden::crypto::KeyResolver keys =
      [](std::string_view kid) -> warden::Result<warden::crypto::PublicKey> {
    if (kid == ed.kid()) return ed.public_key();
    if (kid == ec.kid()) return ec.public_key();
    return warden::NotFound("no key");
  };
  auto verified = warden::crypto::VerifyJwt(text, keys, options);
  ExpectUnauthenticatedOrOk(verified.status());
  // Only a decodable token can verify, with the same parts.
  if (verified.ok() && (!jwt.ok() || verified->signing_input != jwt->signing_input)) std::abort();
  ExpectUnauthenticatedOrOk(
      warden::crypto::VerifyJwtWithKey(text, ed.public_key(), options).status());
  ExpectUnauthenticatedOrOk(
      warden::crypto::VerifyJwtWithKey(text, ec.public_key(), options).status());

  warden::JsonParseOptions po;
  po.max_depth = 16;
  auto claims = warden::ParseJson(text, po);
  if (claims.ok() && claims->is_object()) {
    auto token = warden::crypto::SignJwt(ed, claims->as_object());
    if (token.ok()) {
      auto back = warden::crypto::DecodeJwt(*token);
      if (!back.ok()) std::abort();
      if (warden::CanonicalJson(back->claims) != warden::CanonicalJson(*claims)) std::abort();
      ExpectUnauthenticatedOrOk(
          warden::crypto::VerifyJwtWithKey(*token, ed.public_key(), options).status());
    } else if (token.status().code() != warden::StatusCode::kInvalidArgument) {
      std::abort();
    }
  }
  return 0;
}
