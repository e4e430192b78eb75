// JWT-SVIDs (SPIFFE JWT-SVID specification): short-lived signed tokens that
// prove "I am this agent" to an audience. Issuance checks the agent's
// effective status and caps the lifetime at the agent's expiry; verification
// checks signature, typ, audience, times and that the subject is an agent of
// the expected trust domain. Pure functions; thread-safe when the KeyResolver
// and Clock are.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/crypto/jwt.h"
#include "warden/crypto/signing_key.h"
#include "warden/identity/agent.h"

namespace warden::identity {

inline constexpr size_t kMaxSvidAudiences = 16;
inline constexpr size_t kMaxSvidAudienceLength = 256;
inline constexpr std::chrono::seconds kMinSvidTtl{1};
inline constexpr std::chrono::seconds kMaxSvidTtl{24 * 60 * 60};

struct SvidRequest {
  std::vector<std::string> audience;   // 1..16 entries, each 1..256 printable ASCII, unique
  std::chrono::seconds ttl{300};       // 1s..24h
  std::optional<std::string> cnf_jkt;  // RFC 7638 thumbprint of the caller's key (43 base64url)
};

struct Svid {
  std::string token;
  std::string jti;
  std::string spiffe_id;
  std::string kid;
  std::vector<std::string> audience;
  TimePoint issued_at;
  TimePoint expires_at;
  std::optional<std::string> cnf_jkt;
};

// Issues a JWT-SVID for `agent`: header {alg, kid, typ "JWT"}, claims sub
// (agent.spiffe_id), aud (a string for one audience, else an array), iat,
// exp, jti (random "svid_..." id), and cnf {"jkt"} when request.cnf_jkt is
// set. exp = min(now + ttl, agent.expires_at) in whole seconds.
// FailedPrecondition("agent \"x\" is suspended|retired|expired") when the
// agent is not effectively active (or expires within the current second);
// InvalidArgument with field "audience", "ttl" or "cnf.jkt" for a bad
// request; Internal when signing fails.
Result<Svid> IssueSvid(const crypto::SigningKey& key, const Agent& agent,
                       const SvidRequest& request, const Clock& clock);

// The claims of a JWT-SVID whose signature and claims were checked.
struct VerifiedSvid {
  std::string spiffe_id;
  std::string agent_name;  // the <name> in spiffe://<td>/agent/<name>
  std::vector<std::string> audience;
  std::string jti;
  std::string kid;
  TimePoint issued_at;
  TimePoint expires_at;
  std::optional<std::string> cnf_jkt;
};

// Verifies a JWT-SVID: signature with the key its "kid" resolves to, typ
// "JWT" or "JOSE" (or absent), `audience` in aud, exp/iat/nbf within `leeway` of
// clock.Now(), lifetime at most kMaxSvidTtl, jti present, cnf (when present)
// exactly {"jkt": <thumbprint>}, and sub = spiffe://<trust_domain>/agent/<valid
// name>. Unauthenticated with a precise message; InvalidArgument when
// `trust_domain` or `audience` (the caller's configuration) is invalid.
Result<VerifiedSvid> VerifySvid(std::string_view token, const crypto::KeyResolver& keys,
                                std::string_view trust_domain, std::string_view audience,
                                const Clock& clock,
                                std::chrono::seconds leeway = std::chrono::seconds(30));

}  // namespace warden::identity
