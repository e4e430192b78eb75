#include "warden/identity/svid.h"

#include <algorithm>
#include <set>
#include <utility>

#include "warden/core/encoding.h"
#include "warden/core/json.h"
#include "warden/core/random.h"
#include "warden/core/time_format.h"

namespace warden::identity {
namespace {

using crypto::QuoteUntrusted;

// An RFC 7638 SHA-256 thumbprint: 32 bytes, 43 unpadded base64url chars.
bool IsThumbprint(std::string_view text) {
  if (text.size() != 43) return false;
  auto bytes = Base64UrlDecode(text);
  return bytes.ok() && bytes->size() == 32;
}

Status ValidateRequest(const SvidRequest& request) {
  if (request.audience.empty() || request.audience.size() > kMaxSvidAudiences) {
    return InvalidArgument("must have 1 to " + std::to_string(kMaxSvidAudiences) +
                               " entries (got " + std::to_string(request.audience.size()) + ")",
                           "audience");
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < request.audience.size(); ++i) {
    const std::string& aud = request.audience[i];
    bool printable =
        std::all_of(aud.begin(), aud.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    if (aud.empty() || aud.size() > kMaxSvidAudienceLength || !printable) {
      return InvalidArgument("entry " + std::to_string(i) + " must be 1 to " +
                                 std::to_string(kMaxSvidAudienceLength) +
                                 " printable ASCII characters",
                             "audience");
    }
    if (!seen.insert(aud).second) {
      return InvalidArgument("entry " + std::to_string(i) + " duplicates " + QuoteUntrusted(aud),
                             "audience");
    }
  }
  if (request.ttl < kMinSvidTtl || request.ttl > kMaxSvidTtl) {
    return InvalidArgument("must be between " + FormatDuration(kMinSvidTtl) + " and " +
                               FormatDuration(kMaxSvidTtl) + " (got " +
                               std::to_string(request.ttl.count()) + "s)",
                           "ttl");
  }
  if (request.cnf_jkt && !IsThumbprint(*request.cnf_jkt)) {
    return InvalidArgument("must be an RFC 7638 SHA-256 JWK thumbprint (43 base64url characters)",
                           "cnf.jkt");
  }
  return OkStatus();
}

Status CheckActive(const Agent& agent, TimePoint now) {
  switch (agent.EffectiveStatus(now)) {
    case AgentStatus::kActive:
      return OkStatus();
    case AgentStatus::kSuspended:
      // EffectiveStatus reports an expired active agent as suspended; say
      // which, so an operator knows whether to renew or to unsuspend.
      return FailedPrecondition("agent \"" + agent.name + "\" is " +
                                (agent.status == AgentStatus::kActive ? "expired" : "suspended"));
    case AgentStatus::kRetired:
      return FailedPrecondition("agent \"" + agent.name + "\" is retired");
  }
  return Internal("unknown agent status");
}


}  // namespace

Result<Svid> IssueSvid(const crypto::SigningKey& key, const Agent& agent,
                       const SvidRequest& request, const Clock& clock) {
  WARDEN_RETURN_IF_ERROR(ValidateRequest(request));
  const TimePoint now = clock.Now();
  WARDEN_RETURN_IF_ERROR(CheckActive(agent, now));
  if (agent.spiffe_id.empty()) {
    return FailedPrecondition("agent \"" + agent.name + "\" has no SPIFFE ID");
  }
  // NumericDates are whole seconds: iat rounds down, and the agent's expiry
  // rounds down too so that the token never outlives the agent.
  const int64_t iat = UnixSeconds(now);
  const int64_t exp = std::min(iat + request.ttl.count(), UnixSeconds(agent.expires_at));
  if (exp <= iat) {
    return FailedPrecondition("agent \"" + agent.name + "\" expires at " +
                              FormatRfc3339(agent.expires_at) + ", too soon to issue an SVID");
  }

  Svid svid;
  svid.jti = RandomId("svid");
  svid.spiffe_id = agent.spiffe_id;
  svid.kid = key.kid();
  svid.audience = request.audience;
  svid.issued_at = FromUnixSeconds(iat);
  svid.expires_at = FromUnixSeconds(exp);
  svid.cnf_jkt = request.cnf_jkt;

  json::object claims;
  claims["sub"] = svid.spiffe_id;
  if (svid.audience.size() == 1) {
    claims["aud"] = svid.audience.front();
  } else {
    json::array aud;
    for (const auto& a : svid.audience) aud.emplace_back(a);
    claims["aud"] = std::move(aud);
  }
  claims["iat"] = iat;
  claims["exp"] = exp;
  claims["jti"] = svid.jti;
  if (svid.cnf_jkt) claims["cnf"] = json::object{{"jkt", *svid.cnf_jkt}};

  WARDEN_ASSIGN_OR_RETURN(svid.token, crypto::SignJwt(key, claims, "JWT"));
  return svid;
}

Result<VerifiedSvid> VerifySvid(std::string_view token, const crypto::KeyResolver& keys,
                                std::string_view trust_domain, std::string_view audience,
                                const Clock& clock, std::chrono::seconds leeway) {
  WARDEN_RETURN_IF_ERROR(ValidateTrustDomain(trust_domain));
  if (audience.empty()) return InvalidArgument("is required", "audience");

  crypto::JwtVerifyOptions options;
  // SPIFFE JWT-SVID section 2.3: typ, when present, is "JOSE" or "JWT";
  // Warden issues "JWT".
  options.allowed_typ = {"JWT", "JOSE"};
  options.allow_missing_typ = true;
  options.audience = std::string(audience);
  options.now = clock.Now();
  options.leeway = leeway;
  options.require_exp = true;
  options.require_iat = true;
  options.max_lifetime = kMaxSvidTtl;
  WARDEN_ASSIGN_OR_RETURN(crypto::Jwt jwt, crypto::VerifyJwt(token, keys, options));

  VerifiedSvid out;
  const auto* sub = jwt.claims.if_contains("sub");
  if (sub == nullptr) return Unauthenticated("token has no \"sub\" claim");
  if (!sub->is_string()) return Unauthenticated("claim \"sub\" must be a string");
  out.spiffe_id = std::string(sub->as_string());
  WARDEN_ASSIGN_OR_RETURN(out.agent_name, AgentNameFromSpiffeId(out.spiffe_id, trust_domain));

  const auto* jti = jwt.claims.if_contains("jti");
  if (jti == nullptr) return Unauthenticated("token has no \"jti\" claim");
  if (!jti->is_string() || jti->as_string().empty()) {
    return Unauthenticated("claim \"jti\" must be a non-empty string");
  }
  out.jti = std::string(jti->as_string());

  if (const auto* cnf = jwt.claims.if_contains("cnf")) {
    // An unknown confirmation method cannot be enforced, and ignoring it
    // would accept a bound token without its key: refuse it.
    const json::object* obj = cnf->if_object();
    const json::value* jkt = obj != nullptr && obj->size() == 1 ? obj->if_contains("jkt") : nullptr;
    if (jkt == nullptr || !jkt->is_string() || !IsThumbprint(jkt->as_string())) {
      return Unauthenticated("claim \"cnf\" must be {\"jkt\": <RFC 7638 SHA-256 thumbprint>}");
    }
    out.cnf_jkt = std::string(jkt->as_string());
  }

  WARDEN_ASSIGN_OR_RETURN(out.audience, crypto::GetAudience(jwt.claims));
  // VerifyJwt required both and checked their range.
  WARDEN_ASSIGN_OR_RETURN(auto iat, crypto::GetNumericDate(jwt.claims, "iat"));
  WARDEN_ASSIGN_OR_RETURN(auto exp, crypto::GetNumericDate(jwt.claims, "exp"));
  out.issued_at = FromUnixSeconds(iat.value_or(0));
  out.expires_at = FromUnixSeconds(exp.value_or(0));
  out.kid = std::string(jwt.header.at("kid").as_string());
  return out;
}

}  // namespace warden::identity
