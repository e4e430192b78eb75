#include "server/internal/caller_auth.h"

#include <utility>

#include "warden/crypto/dpop.h"
#include "warden/identity/agent.h"

namespace warden::server::internal {
namespace {

// The token after "DPoP " with leading spaces removed.
std::string_view TokenOf(std::string_view authorization) {
  std::string_view token = authorization.substr(5);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return token;
}

// Checks the request's single DPoP proof against `token` and `jkt`, bound
// to `target` or else to the request itself. Returns the response to send
// on failure.
std::optional<Response> CheckProof(ApiContext& ctx, const Request& req, std::string_view token,
                                   std::string_view jkt,
                                   const std::optional<ProofTarget>& target = std::nullopt) {
  std::optional<std::string_view> proof;
  for (const auto& [name, value] : req.headers) {
    if (name != "dpop") continue;
    if (proof) {
      return DpopChallenge(ctx, "invalid_dpop_proof",
                           Unauthenticated("exactly one DPoP header is allowed"));
    }
    proof = value;
  }
  if (!proof) {
    return DpopChallenge(ctx, "invalid_dpop_proof", Unauthenticated("missing DPoP proof header"));
  }
  std::string htu;
  if (target) {
    htu = target->uri;
  } else {
    auto host = req.Header("host");
    if (!host || host->empty()) {
      return ErrorResponse(ctx, InvalidArgument("required to check the DPoP proof", "Host"));
    }
    // The URI the client addressed: scheme from our listener, authority from
    // Host, path without the query (RFC 9449 4.3 compares without it).
    htu = std::string(ctx.options.tls_cert.empty() ? "http://" : "https://") +
          std::string(*host) + req.path;
  }
  crypto::DpopCheck check;
  check.htm = target ? std::string_view(target->method) : std::string_view(req.method);
  check.htu = htu;
  check.access_token = token;
  check.expected_jkt = jkt;
  check.now = ctx.clock.Now();
  auto verified = crypto::VerifyDpopProof(*proof, check, ctx.dpop_replay);
  if (!verified.ok()) {
    if (verified.status().code() == StatusCode::kUnauthenticated) {
      return DpopChallenge(ctx, "invalid_dpop_proof", verified.status());
    }
    if (verified.status().code() == StatusCode::kInvalidArgument) {
      return ErrorResponse(ctx, InvalidArgument(verified.status().message(), "Host"));
    }
    return ErrorResponse(ctx, verified.status());
  }
  return std::nullopt;
}

}  // namespace

bool IsDpopAuthorization(std::string_view value) {
  constexpr std::string_view kScheme = "dpop ";
  if (value.size() < kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = value[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return false;
  }
  return true;
}

Response DpopChallenge(ApiContext& ctx, std::string_view error, const Status& why) {
  Response r = ErrorResponse(ctx, Unauthenticated(why.message()));
  std::string value = "DPoP algs=\"EdDSA ES256\"";
  if (!error.empty()) value += ", error=\"" + std::string(error) + "\"";
  r.headers.emplace_back("WWW-Authenticate", std::move(value));
  return r;
}

std::optional<Response> AuthenticateSvid(ApiContext& ctx, const Request& req,
                                         SvidCaller* caller) {
  auto authz = req.Header("authorization");
  if (!authz) return DpopChallenge(ctx, "", Unauthenticated("missing Authorization: DPoP <svid>"));
  if (!IsDpopAuthorization(*authz)) {
    return DpopChallenge(ctx, "invalid_token",
                         Unauthenticated("the Authorization scheme must be DPoP"));
  }
  std::string_view token = TokenOf(*authz);
  std::string td = ctx.registry.options().trust_domain;
  auto svid = identity::VerifySvid(token, ctx.keys.Resolver(), td, "spiffe://" + td, ctx.clock);
  if (!svid.ok()) {
    if (svid.status().code() != StatusCode::kUnauthenticated) {
      return ErrorResponse(ctx, svid.status());
    }
    return DpopChallenge(ctx, "invalid_token", svid.status());
  }
  if (!svid->cnf_jkt) {
    return DpopChallenge(ctx, "invalid_token",
                         Unauthenticated("the SVID is not key-bound (no cnf.jkt); request one "
                                         "with public_key"));
  }
  if (auto refused = CheckProof(ctx, req, token, *svid->cnf_jkt)) return refused;
  caller->jkt = *svid->cnf_jkt;
  caller->svid = std::move(*svid);
  caller->token = std::string(token);
  return std::nullopt;
}

std::optional<Response> AuthenticateGrant(ApiContext& ctx, const Request& req,
                                          GrantCaller* caller,
                                          const std::optional<ProofTarget>& target) {
  auto authz = req.Header("authorization");
  if (!authz) {
    return DpopChallenge(ctx, "", Unauthenticated("missing Authorization: DPoP <grant token>"));
  }
  if (!IsDpopAuthorization(*authz)) {
    return DpopChallenge(ctx, "invalid_token",
                         Unauthenticated("the Authorization scheme must be DPoP"));
  }
  std::string_view token = TokenOf(*authz);
  auto claims = ctx.grants.VerifyToken(token);
  if (!claims.ok()) {
    StatusCode code = claims.status().code();
    // Unauthenticated: not a valid grant token; FailedPrecondition: the
    // grant ended (revoked, completed, expired). Both are a bad credential.
    if (code != StatusCode::kUnauthenticated && code != StatusCode::kFailedPrecondition) {
      return ErrorResponse(ctx, claims.status());
    }
    return DpopChallenge(ctx, "invalid_token", claims.status());
  }
  auto agent =
      identity::AgentNameFromSpiffeId(claims->subject, ctx.registry.options().trust_domain);
  if (!agent.ok()) return DpopChallenge(ctx, "invalid_token", agent.status());
  if (auto refused = CheckProof(ctx, req, token, claims->jkt, target)) return refused;
  caller->claims = std::move(*claims);
  caller->agent = std::move(*agent);
  caller->token = std::string(token);
  return std::nullopt;
}

}  // namespace warden::server::internal
