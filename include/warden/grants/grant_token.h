// Grant tokens: the JWT an agent presents with every use of a grant. Header
// typ "wgrant+jwt" (explicit typing, RFC 8725 section 3.11: an SVID or any
// other Warden JWT can never pass as a grant token). Claims: iss
// ("spiffe://<trust domain>"), aud, sub (agent SPIFFE ID), grant, task, scope
// {actions, resources}, iat, exp, jti, cnf {jkt} (RFC 9449 key binding), act
// (RFC 8693 nesting: {"sub": delegating agent, "act": {...its delegator}}),
// obo, approval. Standard JWS: any JOSE library verifies it with the JWKS.
// Pure functions; thread-safe when the KeyResolver is.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/crypto/jwt.h"
#include "warden/crypto/signing_key.h"
#include "warden/grants/intent.h"

namespace warden::grants {

inline constexpr std::string_view kGrantTokenType = "wgrant+jwt";

// The content of a grant token. VerifyGrantToken returns only verified ones.
struct GrantClaims {
  std::string issuer;     // iss
  std::string audience;   // aud (a single string)
  std::string subject;    // sub: the agent's SPIFFE ID
  std::string grant_id;   // grant
  std::string task;
  Scope scope;
  TimePoint issued_at;    // iat (whole seconds)
  TimePoint expires_at;   // exp (whole seconds)
  std::string jti;
  std::string jkt;        // cnf.jkt: RFC 7638 thumbprint of the agent's key
  // act chain, nearest delegator first: actors[0] is act.sub, actors[1] is
  // act.act.sub, ... Empty for a grant that was not delegated.
  std::vector<std::string> actors;
  std::optional<std::string> on_behalf_of;  // obo
  std::optional<std::string> approval_id;   // approval
};

// The claims object exactly as signed.
boost::json::object GrantClaimsToJson(const GrantClaims& claims);

// Signs `claims` with `key` (header alg, kid, typ "wgrant+jwt").
// InvalidArgument when a required member (iss, aud, sub, grant, task, jti,
// jkt) is empty or exp <= iat; SignJwt's errors otherwise.
Result<std::string> SignGrantToken(const crypto::SigningKey& key, const GrantClaims& claims);

struct GrantTokenVerifyOptions {
  std::string issuer;    // required: iss must equal it
  std::string audience;  // required: aud must contain it
  TimePoint now;         // the verifier's time
  std::chrono::seconds leeway{30};
  // Optional: signatures verified before are not verified again.
  crypto::SignatureCache* signature_cache = nullptr;
};

// Verifies signature (key by kid through `keys`, alg pinned to the key), typ
// "wgrant+jwt", exp/iat, iss and aud, then reads every claim strictly.
// Unauthenticated with a precise message for any failure (a malformed claim
// names it); resolver errors other than NotFound/Unauthenticated pass through.
// Does not consult the revocation set: see RevocationSet::CheckUse.
Result<GrantClaims> VerifyGrantToken(std::string_view token, const crypto::KeyResolver& keys,
                                     const GrantTokenVerifyOptions& options);

}  // namespace warden::grants
