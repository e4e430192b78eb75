// Authentication of agents on the HTTP API: a key-bound token in
// `Authorization: DPoP <token>` plus exactly one DPoP proof (RFC 9449) made
// with that token's key for this very request (method, URI, ath). Two token
// kinds: the agent's JWT-SVID (asking for grants) and a grant token (using
// one: the gateway). Failures are 401 with a WWW-Authenticate DPoP challenge.
// Thread-safe (the replay cache and key ring are).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "server/internal/api.h"
#include "warden/grants/grant_token.h"
#include "warden/identity/svid.h"

namespace warden::server::internal {

// An agent authenticated by its key-bound SVID.
struct SvidCaller {
  identity::VerifiedSvid svid;
  std::string token;  // the SVID as presented
  std::string jkt;    // the proven key's thumbprint (= svid.cnf_jkt)
};

// An agent authenticated by a live grant token bound to its key.
struct GrantCaller {
  grants::GrantClaims claims;  // verified, and not revoked, completed or expired
  std::string agent;           // the agent name in claims.subject
  std::string token;           // the grant token as presented
};

// True when `value` starts with "DPoP " (scheme compared case-insensitively).
bool IsDpopAuthorization(std::string_view value);

// A 401 with the RFC 9449 challenge. `error` empty: no credentials at all.
Response DpopChallenge(ApiContext& ctx, std::string_view error, const Status& why);

// Verifies the SVID and its proof. Returns the response to send on failure
// (401, or 400 for a missing Host), nullopt on success.
std::optional<Response> AuthenticateSvid(ApiContext& ctx, const Request& req, SvidCaller* caller);

// The request a DPoP proof must be bound to when it is not the request
// itself: a check endpoint judges another request (its method and its full
// URI "scheme://host/path", query ignored).
struct ProofTarget {
  std::string method;
  std::string uri;
};

// Verifies the grant token (signature, typ, issuer, audience, expiry, the
// revocation set) and its proof (for `target` when given, else for `req`).
// A grant that ended is 401 invalid_token with the reason. Returns the
// response to send on failure, nullopt on success.
std::optional<Response> AuthenticateGrant(ApiContext& ctx, const Request& req,
                                          GrantCaller* caller,
                                          const std::optional<ProofTarget>& target = std::nullopt);

}  // namespace warden::server::internal
