// Compact JWS (RFC 7515) and JWT (RFC 7519) with Warden's signing keys
// (EdDSA, ES256). Decoding treats every token as hostile: bounded size, strict
// base64url, JSON objects without duplicate keys. Verification pins the
// algorithm to the resolved key's, so "none" and algorithm confusion cannot
// pass. Pure functions; thread-safe when the KeyResolver is.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/crypto/signing_key.h"

namespace warden::crypto {

// Longest compact token DecodeJwt accepts (and SignJwt produces).
inline constexpr size_t kMaxJwtBytes = size_t{16} * 1024;

// Largest NumericDate accepted: 9999-12-31T23:59:59Z.
inline constexpr int64_t kMaxNumericDate = 253'402'300'799;

// A decoded compact JWS. Whether it was verified depends on where it came
// from: DecodeJwt never verifies; VerifyJwt* return only verified tokens.
struct Jwt {
  boost::json::object header;
  boost::json::object claims;
  std::string signing_input;  // "<b64 header>.<b64 payload>"
  std::string signature;      // raw bytes (decoded)
};

// Signs `claims` as a compact JWS. The header is {"alg": key.jose_alg(),
// "kid": key.kid(), "typ": typ} (no "typ" when `typ` is empty) followed by
// `extra_header`. InvalidArgument when extra_header sets alg, kid, crit, a
// non-string typ or cty, or typ while `typ` is non-empty, or when the token would exceed
// kMaxJwtBytes; Internal when signing fails.
Result<std::string> SignJwt(const SigningKey& key, const boost::json::object& claims,
                            std::string_view typ = "JWT",
                            const boost::json::object& extra_header = {});

// Parses a compact JWS without verifying it: at most kMaxJwtBytes, exactly
// three non-empty unpadded canonical base64url segments, header and payload
// JSON objects (duplicate keys refused), header "alg" a string and "kid",
// "typ", "cty" strings when present. Unauthenticated("malformed token: ...")
// on any failure.
Result<Jwt> DecodeJwt(std::string_view token);

// Finds the verification key for a "kid". NotFound or Unauthenticated mean
// "no such key" (reported as "unknown key id"); other errors (Unavailable
// when a key store is down) are returned to the caller unchanged.
using KeyResolver = std::function<Result<PublicKey>(std::string_view kid)>;

// Signatures already verified, so that a token presented again (a grant
// token on every gateway call) costs a hash instead of a public-key
// operation. Only the signature check is remembered: every verification
// still decodes the token, resolves its key (a retired key refuses it) and
// checks times, audience and typ. An entry is the SHA-256 of the key's
// thumbprint, the signing input and the signature, so it vouches for that
// exact triple and nothing else. Bounded: when full, it starts afresh.
// Thread-safe.
class SignatureCache {
 public:
  explicit SignatureCache(size_t capacity = 65536) : capacity_(capacity) {}

  // True when `signature` over `data` was verified under `key` before.
  bool Contains(const PublicKey& key, std::string_view data, std::string_view signature) const;
  // PublicKey::Verify, skipped when the triple verified before; a signature
  // that verifies is remembered.
  Status Verify(const PublicKey& key, std::string_view data, std::string_view signature);

 private:
  static std::string Entry(const PublicKey& key, std::string_view data,
                           std::string_view signature);
  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> verified_;
};

struct JwtVerifyOptions {
  // Empty: typ not checked. Otherwise the header "typ" must equal one of
  // these, compared case-insensitively with an optional "application/" prefix
  // (RFC 7515 section 4.1.9).
  std::vector<std::string> allowed_typ;
  // With allowed_typ set, also accept a token without "typ".
  bool allow_missing_typ = false;
  // Empty: not checked. Otherwise "aud" (a string or an array of strings)
  // must contain it.
  std::string audience;
  TimePoint now;  // the verifier's current time; must be set (the default is the epoch)
  // Clock skew bound for exp/nbf/iat, clamped to [0, 1 year].
  std::chrono::seconds leeway{30};
  bool require_exp = true;
  bool require_iat = true;
  // Bound on exp - iat; when set, both claims are required.
  std::optional<std::chrono::seconds> max_lifetime;
  // When set, signatures verified before are not verified again (see
  // SignatureCache); everything else is checked as without it.
  SignatureCache* signature_cache = nullptr;
};

// Decodes `token`, resolves its key by the header "kid" (required), requires
// header alg == the key's alg, refuses "crit", verifies the signature, then
// checks the claims: exp (now - leeway < exp), nbf (nbf <= now + leeway), iat
// (iat <= now + leeway), exp >= iat, max_lifetime, aud, typ. exp/nbf/iat must
// be integer NumericDates in [0, kMaxNumericDate]. Unauthenticated with a
// precise message; resolver errors other than NotFound/Unauthenticated pass
// through.
Result<Jwt> VerifyJwt(std::string_view token, const KeyResolver& keys,
                      const JwtVerifyOptions& options);

// As VerifyJwt with one given key: the "kid" header may be absent; when
// present it must equal key.kid().
Result<Jwt> VerifyJwtWithKey(std::string_view token, const PublicKey& key,
                             const JwtVerifyOptions& options);

// Reads claim `name` as an integer NumericDate in [0, kMaxNumericDate];
// nullopt when absent. Unauthenticated naming the claim otherwise.
Result<std::optional<int64_t>> GetNumericDate(const boost::json::object& claims,
                                              std::string_view name);

// Reads "aud" as a list: a string gives one entry, an array must hold only
// non-empty strings and at least one. Empty list when absent.
// Unauthenticated when malformed.
Result<std::vector<std::string>> GetAudience(const boost::json::object& claims);

// `s` (token-supplied, untrusted) quoted for an error message: at most 64
// bytes, quotes, backslashes and non-printable bytes escaped as \xNN, so
// hostile input cannot forge log lines.
std::string QuoteUntrusted(std::string_view s);

}  // namespace warden::crypto
