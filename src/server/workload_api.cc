#include "server/internal/workload_api.h"

#include "server/internal/log.h"
#include "warden/audit/audit_log.h"
#include "warden/core/json.h"
#include "warden/core/time_format.h"
#include "warden/crypto/signing_key.h"
#include "warden/identity/join_token.h"
#include "warden/identity/svid.h"

namespace warden::server::internal {
namespace {

constexpr std::string_view kAdminActor = "admin";
constexpr std::string_view kViaSocket = "workload_api";
constexpr std::string_view kViaJoin = "join_token";
// Join attempts (challenge or join) accepted per source address and minute:
// a legitimate join takes two; the budget bounds guessing and audit growth.
constexpr int kJoinAttemptsPerMinute = 30;
// JWKS responses may be cached this long; verifiers refetch on an unknown kid.
constexpr std::string_view kJwksCacheControl = "public, max-age=60";

json::array Strings(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& v : values) out.emplace_back(v);
  return out;
}

json::object SvidToJson(const identity::Svid& svid, std::string_view agent) {
  json::object out;
  out["svid"] = svid.token;
  out["spiffe_id"] = svid.spiffe_id;
  out["agent"] = agent;
  out["kid"] = svid.kid;
  out["jti"] = svid.jti;
  out["audience"] = Strings(svid.audience);
  out["issued_at"] = FormatRfc3339(svid.issued_at);
  out["expires_at"] = FormatRfc3339(svid.expires_at);
  if (svid.cnf_jkt) out["cnf"] = json::object{{"jkt", *svid.cnf_jkt}};
  return out;
}

json::object KeyToJson(const identity::KeyRecord& key, std::string_view current_kid) {
  json::object out;
  out["kid"] = key.kid;
  out["alg"] = crypto::JoseAlgorithmName(key.algorithm);
  out["status"] = identity::KeyStatusName(key.status);
  out["signing"] = key.kid == current_kid;
  out["created_at"] = FormatRfc3339(key.created_at);
  if (key.retired_at) out["retired_at"] = FormatRfc3339(*key.retired_at);
  if (key.publish_until) out["publish_until"] = FormatRfc3339(*key.publish_until);
  out["public_jwk"] = key.public_jwk;
  return out;
}

json::object JoinTokenToJson(const identity::JoinTokenInfo& info) {
  json::object out;
  out["id"] = info.id;
  out["agent"] = info.agent;
  out["created_at"] = FormatRfc3339(info.created_at);
  out["expires_at"] = FormatRfc3339(info.expires_at);
  out["created_by"] = info.created_by;
  if (info.used_at) out["used_at"] = FormatRfc3339(*info.used_at);
  return out;
}

}  // namespace

class WorkloadApi::Handlers {
 public:
  explicit Handlers(ApiContext& ctx)
      : ctx_(ctx),
        refusal_budget_(ctx.options.auth_failure_events_per_minute),
        join_budget_(kJoinAttemptsPerMinute) {}

  // ---- shared by both listeners

  Response Jwks(Request& req) {
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    Response r = Response::Json(200, ctx_.keys.Jwks());
    r.content_type = "application/jwk-set+json";
    r.headers.emplace_back("Cache-Control", std::string(kJwksCacheControl));
    return r;
  }

  // ---- Unix socket

  Response SocketSvidGet(Request& req) {
    if (Status st = OnlyQueryParams(req, {"audience", "ttl"}); !st.ok()) {
      return ErrorResponse(ctx_, st);
    }
    json::object body;
    if (auto it = req.query.find("audience"); it != req.query.end()) body["audience"] = it->second;
    if (auto it = req.query.find("ttl"); it != req.query.end()) body["ttl"] = it->second;
    return SocketSvid(req, json::value(std::move(body)));
  }

  Response SocketSvidPost(Request& req) {
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    if (auto bad = RequireJsonContentType(req)) return std::move(*bad);
    auto body = ParseBody(ctx_, req);
    if (!body.ok()) return ErrorResponse(ctx_, body.status());
    return SocketSvid(req, *body);
  }

  // ---- HTTP: join tokens

  Response JoinChallenge(Request& req) {
    if (auto limited = SpendJoinAttempt(req)) return std::move(*limited);
    if (auto bad = RequireJsonContentType(req)) return std::move(*bad);
    auto body = ParseBody(ctx_, req);
    if (!body.ok()) return ErrorResponse(ctx_, body.status());
    auto obj = StrictObject::From(*body);
    if (!obj.ok()) return ErrorResponse(ctx_, obj.status());
    auto token = obj->RequiredString("token");
    if (!token.ok()) return ErrorResponse(ctx_, token.status());
    if (Status st = obj->Finish(); !st.ok()) return ErrorResponse(ctx_, st);
    auto nonce = identity::StartJoin(ctx_.store, ctx_.clock, *token, kNonceTtl);
    if (!nonce.ok()) return ErrorResponse(ctx_, nonce.status());
    json::object out;
    out["nonce"] = *nonce;
    out["expires_at"] = FormatRfc3339(ctx_.clock.Now() + kNonceTtl);
    out["sign"] = "warden-join:" + *nonce;
    return Response::Json(200, out);
  }

  Response Join(Request& req) {
    if (auto limited = SpendJoinAttempt(req)) return std::move(*limited);
    if (auto bad = RequireJsonContentType(req)) return std::move(*bad);
    auto body = ParseBody(ctx_, req);
    if (!body.ok()) return ErrorResponse(ctx_, body.status());
    auto obj = StrictObject::From(*body);
    if (!obj.ok()) return ErrorResponse(ctx_, obj.status());
    identity::JoinProof proof;
    auto token = obj->RequiredString("token");
    if (!token.ok()) return ErrorResponse(ctx_, token.status());
    proof.token = std::move(*token);
    auto nonce = obj->RequiredString("nonce");
    if (!nonce.ok()) return ErrorResponse(ctx_, nonce.status());
    proof.nonce = std::move(*nonce);
    auto signature = obj->RequiredString("signature");
    if (!signature.ok()) return ErrorResponse(ctx_, signature.status());
    proof.signature_b64url = std::move(*signature);
    const json::value* key = obj->Optional("public_key");
    if (key == nullptr || !key->is_object()) {
      return ErrorResponse(ctx_, InvalidArgument("required: the agent's public key as a JWK object",
                                                 "public_key"));
    }
    proof.public_jwk = key->as_object();
    const json::value* audience = obj->Optional("audience");
    const json::value* ttl = obj->Optional("ttl");
    if (Status st = obj->Finish(); !st.ok()) return ErrorResponse(ctx_, st);
    // The SVID request is checked before the token is spent, so a malformed
    // request does not burn a one-time token.
    json::object ask;
    if (audience != nullptr) ask["audience"] = *audience;
    if (ttl != nullptr) ask["ttl"] = *ttl;
    auto request = ParseSvidAsk(json::value(std::move(ask)));
    if (!request.ok()) return ErrorResponse(ctx_, request.status());

    auto joined = identity::CompleteJoin(ctx_.store, ctx_.clock, proof);
    if (!joined.ok()) {
      ctx_.metrics.Identity(kViaJoin, "refused");
      return ErrorResponse(ctx_, joined.status());
    }
    request->cnf_jkt = joined->jkt;
    json::object facts{{"join_token", joined->info.id}, {"remote", req.remote_address}};
    auto agent = ctx_.registry.Get(joined->info.agent);
    if (!agent.ok()) {
      return Refuse(kViaJoin, "agent:" + joined->info.agent, agent.status(), facts, *request,
                    joined->info.agent);
    }
    return Issue(kViaJoin, *agent, *request, std::move(facts));
  }

  // ---- HTTP: admin

  Response ListKeys(Request& req) {
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    auto keys = ctx_.keys.List();
    if (!keys.ok()) return ErrorResponse(ctx_, keys.status());
    std::string current = ctx_.keys.Current()->kid();
    json::array out;
    for (const auto& k : *keys) out.push_back(KeyToJson(k, current));
    return Response::Json(200, json::object{{"keys", std::move(out)}});
  }

  Response RotateKey(Request& req) {
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    std::optional<std::string> name;
    if (auto bad = ReadOptionalBodyString(ctx_, req, "algorithm", &name)) return std::move(*bad);
    std::optional<crypto::Algorithm> alg;
    if (name) {
      auto parsed = crypto::ParseAlgorithm(*name);
      if (!parsed.ok()) {
        return ErrorResponse(ctx_, InvalidArgument(parsed.status().message(), "algorithm"));
      }
      alg = *parsed;
    }
    std::string previous = ctx_.keys.Current()->kid();
    auto rotated = ctx_.keys.Rotate(alg, kAdminActor);
    if (!rotated.ok()) return ErrorResponse(ctx_, rotated.status());
    LogJson(spdlog::level::info, "signing key rotated",
            {{"kid", rotated->kid}, {"previous_kid", previous}});
    json::object out = KeyToJson(*rotated, rotated->kid);
    out["previous_kid"] = previous;
    return Response::Json(201, out);
  }

  Response CreateJoinToken(Request& req) {
    const std::string& name = req.params["name"];
    if (Status st = identity::ValidateAgentName(name); !st.ok()) return ErrorResponse(ctx_, st);
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    std::optional<std::string> text;
    if (auto bad = ReadOptionalBodyString(ctx_, req, "ttl", &text)) return std::move(*bad);
    std::chrono::seconds ttl = std::chrono::minutes(10);
    if (text) {
      auto d = ParseDuration(*text);
      if (!d.ok()) return ErrorResponse(ctx_, InvalidArgument(d.status().message(), "ttl"));
      ttl = *d;
    }
    if (ttl > ctx_.options.join_token_max_ttl) {
      return ErrorResponse(
          ctx_, InvalidArgument("must be at most " + FormatDuration(ctx_.options.join_token_max_ttl) +
                                    " (join_token_max_ttl)",
                                "ttl"));
    }
    auto issued = identity::CreateJoinToken(ctx_.store, ctx_.registry, ctx_.clock, name, ttl,
                                             kAdminActor);
    if (!issued.ok()) return ErrorResponse(ctx_, issued.status());
    json::object out = JoinTokenToJson(issued->info);
    out["token"] = issued->token;
    Response r = Response::Json(201, out);
    // The secret is shown once; no cache may keep it.
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  Response ListJoinTokens(Request& req) {
    const std::string& name = req.params["name"];
    if (Status st = identity::ValidateAgentName(name); !st.ok()) return ErrorResponse(ctx_, st);
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    auto agent = ctx_.registry.Get(name);
    if (!agent.ok()) return ErrorResponse(ctx_, agent.status());
    auto tokens = identity::ListJoinTokens(ctx_.store, name);
    if (!tokens.ok()) return ErrorResponse(ctx_, tokens.status());
    json::array out;
    for (const auto& t : *tokens) out.push_back(JoinTokenToJson(t));
    return Response::Json(200, json::object{{"join_tokens", std::move(out)}});
  }

 private:
  static constexpr std::chrono::seconds kNonceTtl{60};

  // {"audience": string | [string], "ttl": duration, "public_key": JWK}, all
  // optional. The audience defaults to this trust domain (an SVID for talking
  // to Warden itself); the ttl to svid_ttl and at most svid_max_ttl.
  Result<identity::SvidRequest> ParseSvidAsk(const json::value& body) {
    identity::SvidRequest request;
    WARDEN_ASSIGN_OR_RETURN(auto obj, StrictObject::From(body));
    if (const json::value* aud = obj.Optional("audience")) {
      if (aud->is_string()) {
        request.audience.emplace_back(aud->as_string());
      } else if (aud->is_array()) {
        for (const auto& a : aud->as_array()) {
          if (!a.is_string()) return InvalidArgument("must be a string or an array of strings", "audience");
          request.audience.emplace_back(a.as_string());
        }
      } else {
        return InvalidArgument("must be a string or an array of strings", "audience");
      }
    } else {
      request.audience.push_back("spiffe://" + ctx_.registry.options().trust_domain);
    }
    request.ttl = ctx_.options.svid_ttl;
    WARDEN_ASSIGN_OR_RETURN(auto ttl, obj.OptionalString("ttl"));
    if (ttl) {
      auto d = ParseDuration(*ttl);
      if (!d.ok()) return InvalidArgument(d.status().message(), "ttl");
      if (*d > ctx_.options.svid_max_ttl) {
        return InvalidArgument("must be at most " + FormatDuration(ctx_.options.svid_max_ttl) +
                                   " (svid_max_ttl)",
                               "ttl");
      }
      request.ttl = *d;
    }
    if (const json::value* key = obj.Optional("public_key")) {
      if (!key->is_object()) return InvalidArgument("must be a public JWK object", "public_key");
      auto pub = crypto::PublicKey::FromJwk(key->as_object());
      if (!pub.ok()) {
        return InvalidArgument(pub.status().message(),
                               "public_key" + (pub.status().field().empty()
                                                   ? std::string()
                                                   : "." + pub.status().field()));
      }
      request.cnf_jkt = pub->thumbprint();
    }
    WARDEN_RETURN_IF_ERROR(obj.Finish());
    return request;
  }

  Response SocketSvid(Request& req, const json::value& body) {
    if (!req.unix_peer) {
      return ErrorResponse(ctx_, Internal("workload route reached without peer credentials"));
    }
    identity::PeerCredentials peer{req.unix_peer->pid, req.unix_peer->uid, req.unix_peer->gid};
    json::object facts{{"pid", peer.pid}, {"uid", peer.uid}, {"gid", peer.gid}};
    std::string source = "workload:uid:" + std::to_string(peer.uid);
    auto request = ParseSvidAsk(body);
    if (!request.ok()) return ErrorResponse(ctx_, request.status());
    auto process = attestor_.Attest(peer, req.unix_peer->accepted_at_ticks);
    if (!process.ok()) return Refuse(kViaSocket, source, process.status(), facts, *request, "");
    facts["selectors"] = Strings(process->selectors);
    auto agents = ctx_.registry.List({});
    if (!agents.ok()) return ErrorResponse(ctx_, agents.status());
    auto agent = identity::MatchAgent(*agents, process->selectors, ctx_.clock.Now());
    if (!agent.ok()) return Refuse(kViaSocket, source, agent.status(), facts, *request, "");
    return Issue(kViaSocket, *agent, *request, std::move(facts));
  }

  // Issues and audits an SVID; the token is returned only once its issuance
  // is durably in the audit log.
  Response Issue(std::string_view via, const identity::Agent& agent,
                 const identity::SvidRequest& request, json::object facts) {
    auto key = ctx_.keys.Current();
    auto svid = identity::IssueSvid(*key, agent, request, ctx_.clock);
    if (!svid.ok()) {
      return Refuse(via, "agent:" + agent.name, svid.status(), std::move(facts), request,
                    agent.name);
    }
    audit::EventInput event{"agent:" + agent.name, "svid.issued", "agent:" + agent.name,
                            std::move(facts)};
    event.details["via"] = via;
    event.details["spiffe_id"] = svid->spiffe_id;
    event.details["jti"] = svid->jti;
    event.details["kid"] = svid->kid;
    event.details["audience"] = Strings(svid->audience);
    event.details["expires_at"] = FormatRfc3339(svid->expires_at);
    if (svid->cnf_jkt) event.details["cnf_jkt"] = *svid->cnf_jkt;
    if (Status st = AuditEvent(ctx_, event); !st.ok()) {
      return ErrorResponse(ctx_, Unavailable("identity not issued: the audit log cannot be written (" +
                                             st.message() + ")"));
    }
    ctx_.metrics.Identity(via, "issued");
    Response r = Response::Json(200, SvidToJson(*svid, agent.name));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  // Audits a refusal (within the source's budget) and answers 403 with the
  // reason; store failures stay 503 so a caller can tell "no" from "not now".
  Response Refuse(std::string_view via, const std::string& source, const Status& why,
                  json::object facts, const identity::SvidRequest& request,
                  std::string_view agent) {
    ctx_.metrics.Identity(via, "refused");
    Status answer = why;
    switch (why.code()) {
      case StatusCode::kUnavailable:
      case StatusCode::kDataLoss:
      case StatusCode::kInternal:
      case StatusCode::kInvalidArgument:
      case StatusCode::kUnauthenticated:
        break;
      default:
        answer = PermissionDenied(why.message());
    }
    if (auto suppressed = refusal_budget_.Admit(source, ctx_.clock.Now())) {
      audit::EventInput event{source, "svid.refused",
                              agent.empty() ? std::string("workload") : "agent:" + std::string(agent),
                              std::move(facts)};
      event.details["via"] = via;
      event.details["reason"] = why.message();
      event.details["audience"] = Strings(request.audience);
      event.details["ttl"] = FormatDuration(request.ttl);
      if (*suppressed > 0) event.details["suppressed_since_last"] = *suppressed;
      if (Status st = AuditEvent(ctx_, event); !st.ok()) {
        LogJson(spdlog::level::err, "cannot record svid.refused",
                {{"source", source}, {"error", st.ToString()}});
      }
    }
    return ErrorResponse(ctx_, answer);
  }

  std::optional<Response> SpendJoinAttempt(const Request& req) {
    if (join_budget_.Admit(req.remote_address, ctx_.clock.Now())) return std::nullopt;
    ctx_.metrics.Identity(kViaJoin, "rate_limited");
    Response r = ErrorResponse(
        ctx_, ResourceExhausted("too many join attempts from " + req.remote_address +
                                "; at most " + std::to_string(kJoinAttemptsPerMinute) +
                                " per minute"));
    r.headers.emplace_back("Retry-After", "60");
    return r;
  }

  ApiContext& ctx_;
  identity::Attestor attestor_;
  EventBudget refusal_budget_;
  EventBudget join_budget_;
};

WorkloadApi::WorkloadApi(ApiContext& ctx) : ctx_(ctx), handlers_(std::make_shared<Handlers>(ctx)) {}

namespace {

template <typename H>
Handler Bind(std::shared_ptr<H> h, Response (H::*fn)(Request&)) {
  return [h, fn](Request& r) { return ((*h).*fn)(r); };
}

}  // namespace

Status WorkloadApi::RegisterHttpRoutes(Router& router) {
  auto admin = [this](Handler handler) { return ctx_.auth.Require(std::move(handler)); };
  WARDEN_RETURN_IF_ERROR(
      router.Add("GET", "/.well-known/jwks.json", Bind(handlers_, &Handlers::Jwks)));
  WARDEN_RETURN_IF_ERROR(router.Add("POST", "/v1/attest/challenge",
                                    Bind(handlers_, &Handlers::JoinChallenge)));
  WARDEN_RETURN_IF_ERROR(router.Add("POST", "/v1/attest/join", Bind(handlers_, &Handlers::Join)));
  WARDEN_RETURN_IF_ERROR(router.Add("GET", "/v1/keys", admin(Bind(handlers_, &Handlers::ListKeys))));
  WARDEN_RETURN_IF_ERROR(
      router.Add("POST", "/v1/keys/rotate", admin(Bind(handlers_, &Handlers::RotateKey))));
  WARDEN_RETURN_IF_ERROR(router.Add("POST", "/v1/agents/{name}/join-tokens",
                                    admin(Bind(handlers_, &Handlers::CreateJoinToken))));
  WARDEN_RETURN_IF_ERROR(router.Add("GET", "/v1/agents/{name}/join-tokens",
                                    admin(Bind(handlers_, &Handlers::ListJoinTokens))));
  return OkStatus();
}

Status WorkloadApi::RegisterSocketRoutes(Router& router) {
  WARDEN_RETURN_IF_ERROR(router.Add("GET", "/v1/svid", Bind(handlers_, &Handlers::SocketSvidGet)));
  WARDEN_RETURN_IF_ERROR(
      router.Add("POST", "/v1/svid", Bind(handlers_, &Handlers::SocketSvidPost)));
  WARDEN_RETURN_IF_ERROR(
      router.Add("GET", "/.well-known/jwks.json", Bind(handlers_, &Handlers::Jwks)));
  WARDEN_RETURN_IF_ERROR(router.Add("GET", "/healthz", [](Request&) {
    return Response::Json(200, json::object{{"status", "ok"}});
  }));
  return OkStatus();
}

}  // namespace warden::server::internal
