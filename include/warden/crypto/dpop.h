// DPoP proofs (RFC 9449): a short-lived JWT, signed by the agent's own key and
// carrying that public key in its header, bound to one HTTP request (method,
// URI) and, when a token is presented, to that token (ath) and to the key the
// token was issued for (cnf.jkt). A stolen grant token is useless without the
// key. The functions are pure and thread-safe; DpopReplayCache is thread-safe.
#pragma once

#include <array>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/crypto/signing_key.h"

namespace warden::crypto {

// Longest proof VerifyDpopProof accepts. A proof holds one public key and a
// handful of short claims; real ones are under 1 KiB.
inline constexpr size_t kMaxDpopProofBytes = size_t{8} * 1024;

// Longest "jti" accepted, in bytes (RFC 9449 asks for at least 96 random
// bits; ours carry 128 in 22 characters).
inline constexpr size_t kMaxDpopJtiBytes = 256;

// Agent side: a proof for one request. Header {"typ":"dpop+jwt","alg": the
// key's alg,"jwk": the public key}; claims {"jti": 128 random bits,"htm",
// "htu": NormalizeHtu(htu),"iat": now in seconds, "ath":
// base64url(SHA-256(access_token)) when access_token is non-empty, "nonce"
// when non-empty}. InvalidArgument for an empty or non-token htm or an htu
// NormalizeHtu refuses; Internal when signing fails.
Result<std::string> CreateDpopProof(const SigningKey& key, std::string_view htm,
                                    std::string_view htu, TimePoint now,
                                    std::string_view access_token = {},
                                    std::string_view nonce = {});

// Remembers the (jkt, jti) pairs of accepted proofs until their window
// closes, so each proof is accepted once. Memory is bounded by max_entries
// (about 130 bytes each); a full cache refuses new proofs rather than forget
// live ones (fail closed). Keys are an HMAC of (jkt, jti) under a per-cache
// random key, so hostile jti values cannot aim at one hash bucket.
// Thread-safe.
class DpopReplayCache {
 public:
  explicit DpopReplayCache(size_t max_entries = size_t{1} << 20);

  // Records (jkt, jti) until `expires` (inclusive) and returns OK, first
  // dropping entries that expired before the latest `now` any call has
  // passed (a lagging caller cannot revive a dropped pair).
  // AlreadyExists("DPoP proof replayed (jti ...)") when the pair is held;
  // ResourceExhausted when max_entries unexpired pairs are held;
  // FailedPrecondition when `expires` is already past (such a pair could not
  // be remembered, so it must not be accepted).
  Status Remember(std::string_view jkt, std::string_view jti, TimePoint expires, TimePoint now);

  // Pairs held, including expired ones not yet dropped.
  size_t size() const;

 private:
  using Key = std::array<unsigned char, 32>;
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Expiry {
    TimePoint expires;
    Key key;
  };

  const size_t max_entries_;
  const std::string hmac_key_;
  mutable std::mutex mu_;
  TimePoint latest_now_{TimePoint::min()};               // guarded by mu_
  std::unordered_map<Key, TimePoint, KeyHash> entries_;  // guarded by mu_
  std::vector<Expiry> by_expiry_;                        // min-heap on expires; guarded by mu_
};

// What the server knows about the request a proof came with. The views must
// outlive the VerifyDpopProof call.
struct DpopCheck {
  // The request's method, compared exactly (case-sensitive; RFC 9110
  // methods are upper case).
  std::string_view htm;
  // The request's URI. Both it and the proof's htu go through NormalizeHtu
  // (RFC 9449 4.3 step 9) before an exact comparison.
  std::string_view htu;
  // Non-empty: the proof must carry ath = base64url(SHA-256(access_token)).
  // Empty: the proof must not carry ath.
  std::string_view access_token;
  // The token's cnf.jkt: the proof key's RFC 7638 thumbprint must equal it.
  std::optional<std::string_view> expected_jkt;
  TimePoint now;  // must be set (the default is the epoch)
  // iat must lie in [now - max_age - leeway, now + leeway]. Both are clamped
  // to [0, 1 day].
  std::chrono::seconds max_age{60};
  std::chrono::seconds leeway{5};
  // Set when the server requires a nonce: the proof's "nonce" must equal it.
  std::optional<std::string_view> nonce;
};

// A verified proof.
struct DpopProof {
  std::string jkt;  // RFC 7638 thumbprint of the proof key
  std::string jti;
  TimePoint iat;
  boost::json::object public_jwk;  // the proof key's required members only
};

// Verifies a proof (RFC 9449 4.3): at most kMaxDpopProofBytes; header typ
// exactly "dpop+jwt", alg EdDSA or ES256 and equal to the alg of the embedded
// public "jwk" (private members refused), a "kid" if present equal to the
// jwk's thumbprint, no "crit"; signature by that key; claims jti (1 to
// kMaxDpopJtiBytes bytes), htm, htu, iat (see DpopCheck), exp/nbf when
// present; ath, nonce and jkt as DpopCheck says. Then records (jkt, jti) in
// `replay` until iat + max_age + leeway, refusing a replay.
// Unauthenticated("invalid DPoP proof: <reason>") for every fault of the
// proof; ResourceExhausted when `replay` is full; InvalidArgument (field
// "htu") when check.htu itself is not a valid http(s) URI.
Result<DpopProof> VerifyDpopProof(std::string_view proof, const DpopCheck& check,
                                  DpopReplayCache& replay);

// The form in which htu values are compared: scheme and host lower-cased, the
// scheme's default port (http 80, https 443) and an empty port removed, an
// empty path made "/", query and fragment dropped, the path otherwise kept
// byte for byte (no dot-segment or percent-encoding rewriting, so two URIs
// match only when the server would see the same path). InvalidArgument for a
// URI that is not absolute http(s), has userinfo, an empty or malformed host,
// a port outside 1..65535, bytes outside printable ASCII, or a malformed
// percent-encoding; at most kMaxDpopProofBytes.
Result<std::string> NormalizeHtu(std::string_view uri);

}  // namespace warden::crypto
