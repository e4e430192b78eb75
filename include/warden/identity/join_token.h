// Join tokens: one-time secrets that let an agent on another host attest once
// by proving possession of a key it generated (redemption binds that key).
// Only the SHA-256 of the secret is stored; secrets and nonces are compared in
// constant time and never logged or audited. Functions hold no state and are
// thread-safe; concurrent redemptions of one token are serialised by the Store.
//
// Token text (64 ASCII characters, unambiguous because the id has a fixed
// length and an alphabet without '_'):
//   "wjt_" + id (16 lower-case hex digits, 64 random bits; shown in listings)
//          + "_" + secret (43 base64url characters = 32 random bytes).
// Stored: secret_sha256 = lower-case hex SHA-256 of the 43 secret characters.
//
// Redemption is two steps: StartJoin (token -> fresh nonce, valid nonce_ttl)
// then CompleteJoin (token, nonce, public JWK, signature over the ASCII bytes
// "warden-join:" + nonce) which marks the token used.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/identity/registry.h"
#include "warden/store/store.h"

namespace warden::identity {

inline constexpr std::string_view kJoinTokenPrefix = "wjt_";
inline constexpr std::string_view kJoinSignaturePrefix = "warden-join:";
inline constexpr std::chrono::seconds kMinJoinTokenTtl = std::chrono::minutes(1);
inline constexpr std::chrono::seconds kMaxJoinTokenTtl = std::chrono::hours(24);

// A token's public facts; no secret.
struct JoinTokenInfo {
  std::string id;
  std::string agent;
  TimePoint created_at;
  TimePoint expires_at;
  std::string created_by;
  std::optional<TimePoint> used_at;
};

// The result of CreateJoinToken. `token` is shown to the caller once and
// never stored, logged or audited.
struct IssuedJoinToken {
  JoinTokenInfo info;
  std::string token;
};

// Issues a token for `agent`, valid `ttl`. InvalidArgument (field "ttl")
// unless 1 minute <= ttl <= 24 hours, (field "actor") for an empty actor;
// NotFound when the agent does not exist; FailedPrecondition when it is not
// effectively active (suspended, retired or expired). Writes the row and the
// audit event {actor, "join_token.created", "join_token:<id>",
// {"id","agent","expires_at"}} in one Store::Write.
Result<IssuedJoinToken> CreateJoinToken(store::Store& store, AgentRegistry& registry,
                                        const Clock& clock, std::string_view agent,
                                        std::chrono::seconds ttl, std::string_view actor);

// Step 1 of redemption: checks the token (well-formed, known id, secret
// matches, unused, unexpired, agent still active) and stores a fresh random
// nonce valid for `nonce_ttl` (1 second..10 minutes, else InvalidArgument
// field "nonce_ttl"), replacing any earlier nonce. Returns the nonce
// (43 base64url characters).
Result<std::string> StartJoin(store::Store& store, const Clock& clock, std::string_view token,
                              std::chrono::seconds nonce_ttl = std::chrono::seconds(60));

// What the joining host sends in step 2. `signature_b64url` is the JOSE
// signature (base64url, no padding) by the key `public_jwk` over the exact
// ASCII bytes of "warden-join:" + nonce.
struct JoinProof {
  std::string token;
  std::string nonce;
  boost::json::object public_jwk;
  std::string signature_b64url;
};

// The redeemed token and the RFC 7638 thumbprint of the key it was bound to.
struct JoinResult {
  JoinTokenInfo info;
  std::string jkt;
};

// Step 2: checks the token again, that `nonce` equals the stored one and is
// unexpired, and that the signature verifies with PublicKey::FromJwk
// (public_jwk); then marks the token used (UPDATE ... WHERE used_at IS NULL,
// so of concurrent redemptions exactly one wins) and appends
// {"agent:<agent>", "join_token.redeemed", "join_token:<id>",
// {"id","agent","jkt"}} in the same Store::Write. The nonce is consumed.
Result<JoinResult> CompleteJoin(store::Store& store, const Clock& clock, const JoinProof& proof);

// Refusals by StartJoin and CompleteJoin: Unauthenticated with the precise
// reason (malformed token, unknown id, wrong secret, already used, expired,
// no or wrong or expired nonce, invalid public key, bad signature), or
// FailedPrecondition when the token is fine but its agent is no longer
// effectively active. Each refusal is audited by its own Store::Write as
// {"anonymous", "join_token.refused", "join_token:<id>" (or
// "join_token:malformed"), {"id" (if well-formed), "agent" (if known),
// "reason"}}; the secret, the nonce and the signature never appear in it.
// When that audit write fails its error (Unavailable) is returned instead:
// the attempt is refused either way.

// The tokens of `agent` (every token when `agent` is empty), oldest first;
// no secrets. DataLoss when a row is malformed.
Result<std::vector<JoinTokenInfo>> ListJoinTokens(store::Store& store, std::string_view agent);

}  // namespace warden::identity
