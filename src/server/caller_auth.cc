#include "server/internal/caller_auth.h"

#include <utility>

#include "server/internal/event_budget.h"
#include "server/internal/log.h"
#include "warden/audit/audit_log.h"
#include "warden/core/text.h"
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

// Why an agent's credentials were refused (401): the RFC 6750/9449 error
// code of the challenge ("" when none were presented) and the reason.
struct Failure {
  std::string error;
  std::string reason;
};

// A 401 challenge, remembering why in *failure for the audit log.
Response Challenge(ApiContext& ctx, std::string_view error, const Status& why,
                   std::optional<Failure>* failure) {
  *failure = Failure{std::string(error), why.message()};
  return DpopChallenge(ctx, error, why);
}

// Audits a refused agent authentication as agent.auth_failed, within the
// source address's budget (past it the event is only counted, and the count
// goes with the next recorded one). The credential itself is never recorded,
// nor any claim read from it: an unverified token names nobody.
void RecordFailure(ApiContext& ctx, const Request& req, std::string_view credential,
                   const Failure& failure) {
  const std::string& remote = req.remote_address;
  std::optional<int64_t> suppressed = ctx.agent_auth_failures.Admit(remote, ctx.clock.Now());
  if (!suppressed) {
    ctx.metrics.AuthEventSuppressed();
    return;
  }
  audit::EventInput in{"anonymous@" + remote, "agent.auth_failed", "route:" + req.route, {}};
  in.details["remote"] = remote;
  in.details["route"] = req.method + " " + req.route;
  in.details["credential"] = credential;
  in.details["error"] = failure.error.empty() ? "missing_credentials" : failure.error;
  in.details["reason"] = failure.reason;
  if (*suppressed > 0) in.details["suppressed_since_last"] = *suppressed;
  if (Status st = AuditEvent(ctx, in); !st.ok()) {
    LogJson(spdlog::level::err, "cannot record agent.auth_failed",
            {{"remote", remote}, {"error", st.ToString()}});
  }
}

// Checks the request's single DPoP proof against `token` and `jkt`, bound
// to `target` or else to the request itself. Returns the response to send
// on failure.
std::optional<Response> CheckProof(ApiContext& ctx, const Request& req, std::string_view token,
                                   std::string_view jkt, std::optional<Failure>* failure,
                                   const std::optional<ProofTarget>& target = std::nullopt) {
  auto single = SingleHeader(req.headers, "dpop");
  if (!single.ok()) {
    return Challenge(ctx, "invalid_dpop_proof",
                     Unauthenticated("exactly one DPoP header is allowed"), failure);
  }
  std::optional<std::string_view> proof = *single;
  if (!proof) {
    return Challenge(ctx, "invalid_dpop_proof", Unauthenticated("missing DPoP proof header"),
                     failure);
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
      return Challenge(ctx, "invalid_dpop_proof", verified.status(), failure);
    }
    if (verified.status().code() == StatusCode::kInvalidArgument) {
      return ErrorResponse(ctx, InvalidArgument(verified.status().message(), "Host"));
    }
    return ErrorResponse(ctx, verified.status());
  }
  return std::nullopt;
}

}  // namespace

bool IsDpopAuthorization(std::string_view value) { return StartsWithNoCase(value, "DPoP "); }

Response DpopChallenge(ApiContext& ctx, std::string_view error, const Status& why) {
  Response r = ErrorResponse(ctx, Unauthenticated(why.message()));
  std::string value = "DPoP algs=\"EdDSA ES256\"";
  if (!error.empty()) value += ", error=\"" + std::string(error) + "\"";
  r.headers.emplace_back("WWW-Authenticate", std::move(value));
  return r;
}

namespace {

std::optional<Response> CheckSvid(ApiContext& ctx, const Request& req, SvidCaller* caller,
                                  std::optional<Failure>* failure) {
  auto authz = req.Header("authorization");
  if (!authz) {
    return Challenge(ctx, "", Unauthenticated("missing Authorization: DPoP <svid>"), failure);
  }
  if (!IsDpopAuthorization(*authz)) {
    return Challenge(ctx, "invalid_token",
                     Unauthenticated("the Authorization scheme must be DPoP"), failure);
  }
  std::string_view token = TokenOf(*authz);
  std::string td = ctx.registry.options().trust_domain;
  auto svid = identity::VerifySvid(token, ctx.keys.Resolver(), td, "spiffe://" + td, ctx.clock);
  if (!svid.ok()) {
    if (svid.status().code() != StatusCode::kUnauthenticated) {
      return ErrorResponse(ctx, svid.status());
    }
    return Challenge(ctx, "invalid_token", svid.status(), failure);
  }
  if (!svid->cnf_jkt) {
    return Challenge(ctx, "invalid_token",
                     Unauthenticated("the SVID is not key-bound (no cnf.jkt); request one "
                                     "with public_key"),
                     failure);
  }
  if (auto refused = CheckProof(ctx, req, token, *svid->cnf_jkt, failure)) return refused;
  caller->jkt = *svid->cnf_jkt;
  caller->svid = std::move(*svid);
  caller->token = std::string(token);
  return std::nullopt;
}

std::optional<Response> CheckGrant(ApiContext& ctx, const Request& req, GrantCaller* caller,
                                   const std::optional<ProofTarget>& target,
                                   std::optional<Failure>* failure) {
  auto authz = req.Header("authorization");
  if (!authz) {
    return Challenge(ctx, "", Unauthenticated("missing Authorization: DPoP <grant token>"),
                     failure);
  }
  if (!IsDpopAuthorization(*authz)) {
    return Challenge(ctx, "invalid_token",
                     Unauthenticated("the Authorization scheme must be DPoP"), failure);
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
    return Challenge(ctx, "invalid_token", claims.status(), failure);
  }
  auto agent =
      identity::AgentNameFromSpiffeId(claims->subject, ctx.registry.options().trust_domain);
  if (!agent.ok()) return Challenge(ctx, "invalid_token", agent.status(), failure);
  if (auto refused = CheckProof(ctx, req, token, claims->jkt, failure, target)) return refused;
  caller->claims = std::move(*claims);
  caller->agent = std::move(*agent);
  caller->token = std::string(token);
  return std::nullopt;
}

}  // namespace

std::optional<Response> AuthenticateSvid(ApiContext& ctx, const Request& req,
                                         SvidCaller* caller) {
  std::optional<Failure> failure;
  std::optional<Response> refused = CheckSvid(ctx, req, caller, &failure);
  if (refused && failure) RecordFailure(ctx, req, "svid", *failure);
  return refused;
}

std::optional<Response> AuthenticateGrant(ApiContext& ctx, const Request& req,
                                          GrantCaller* caller,
                                          const std::optional<ProofTarget>& target) {
  std::optional<Failure> failure;
  std::optional<Response> refused = CheckGrant(ctx, req, caller, target, &failure);
  if (refused && failure) RecordFailure(ctx, req, "grant", *failure);
  return refused;
}

}  // namespace warden::server::internal
