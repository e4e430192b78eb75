#include "server/internal/api.h"

#include <charconv>
#include <initializer_list>

#include "server/internal/gateway_api.h"
#include "server/internal/http_enforcement_api.h"
#include "server/internal/log.h"
#include "warden/audit/audit_log.h"
#include "warden/core/json.h"
#include "warden/core/text.h"
#include "warden/core/time_format.h"
#include "warden/server/errors.h"

namespace warden::server::internal {
namespace {

constexpr std::string_view kAdminActor = "admin";
constexpr int64_t kDefaultAuditLimit = 100;
constexpr int64_t kMaxAuditLimit = 1000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

class Handlers {
 public:
  explicit Handlers(ApiContext& ctx) : ctx_(ctx) {}

  Response Healthz(Request&) {
    return Response::Json(200, json::object{{"status", "ok"}});
  }

  Response Readyz(Request&) {
    if (ctx_.stopping.load()) {
      return Response::Error(Unavailable("shutting down"));
    }
    Status ping = ctx_.store.Ping();
    if (!ping.ok()) {
      ctx_.metrics.StoreError();
      return Response::Error(Unavailable("store not ready: " + ping.message()));
    }
    return Response::Json(200, json::object{{"status", "ready"}});
  }

  Response Metrics(Request&) {
    return Response::Text(200, "text/plain; version=0.0.4; charset=utf-8", ctx_.metrics.Render());
  }

  Response CreateAgent(Request& req) {
    if (auto bad = RequireJsonContentType(req)) return std::move(*bad);
    auto body = ParseBody(ctx_, req);
    if (!body.ok()) return ErrorResponse(ctx_, body.status());
    auto spec = identity::AgentRegistry::SpecFromJson(*body);
    if (!spec.ok()) return ErrorResponse(ctx_, spec.status());
    auto agent = ctx_.registry.Create(*spec, kAdminActor);
    if (!agent.ok()) return ErrorResponse(ctx_, agent.status());
    Response r = Response::Json(201, ctx_.registry.ToJson(*agent, ctx_.clock.Now()));
    r.headers.emplace_back("Location", "/v1/agents/" + agent->name);
    return r;
  }

  Response ListAgents(Request& req) {
    Status st = OnlyQueryParams(req, {"status", "owner", "environment"});
    if (!st.ok()) return ErrorResponse(ctx_, st);
    identity::AgentFilter filter;
    if (auto it = req.query.find("status"); it != req.query.end()) {
      auto status = identity::ParseAgentStatus(it->second);
      if (!status.ok()) {
        return ErrorResponse(ctx_, InvalidArgument(status.status().message(), "status"));
      }
      filter.status = *status;
    }
    if (auto it = req.query.find("owner"); it != req.query.end()) filter.owner = it->second;
    if (auto it = req.query.find("environment"); it != req.query.end()) {
      filter.environment = it->second;
    }
    auto agents = ctx_.registry.List(filter);
    if (!agents.ok()) return ErrorResponse(ctx_, agents.status());
    TimePoint now = ctx_.clock.Now();
    json::array out;
    for (const auto& a : *agents) out.push_back(ctx_.registry.ToJson(a, now));
    return Response::Json(200, json::object{{"agents", std::move(out)}});
  }

  Response GetAgent(Request& req) {
    const std::string& name = req.params["name"];
    if (Status st = identity::ValidateAgentName(name); !st.ok()) return ErrorResponse(ctx_, st);
    Status q = OnlyQueryParams(req, {});
    if (!q.ok()) return ErrorResponse(ctx_, q);
    auto agent = ctx_.registry.Get(name);
    if (!agent.ok()) return ErrorResponse(ctx_, agent.status());
    return Response::Json(200, ctx_.registry.ToJson(*agent, ctx_.clock.Now()));
  }

  Response PatchAgent(Request& req) {
    const std::string& name = req.params["name"];
    if (Status st = identity::ValidateAgentName(name); !st.ok()) return ErrorResponse(ctx_, st);
    if (auto bad = RequireJsonContentType(req)) return std::move(*bad);
    auto body = ParseBody(ctx_, req);
    if (!body.ok()) return ErrorResponse(ctx_, body.status());
    auto patch = identity::AgentRegistry::PatchFromJson(*body);
    if (!patch.ok()) return ErrorResponse(ctx_, patch.status());
    auto agent = ctx_.registry.Update(name, *patch, kAdminActor);
    if (!agent.ok()) return ErrorResponse(ctx_, agent.status());
    return Response::Json(200, ctx_.registry.ToJson(*agent, ctx_.clock.Now()));
  }

  Response Transition(Request& req, identity::AgentStatus target) {
    const std::string& name = req.params["name"];
    if (Status st = identity::ValidateAgentName(name); !st.ok()) return ErrorResponse(ctx_, st);
    std::optional<std::string> text;
    if (auto bad = ReadOptionalBodyString(ctx_, req, "reason", &text)) return std::move(*bad);
    std::string reason = text ? std::move(*text) : std::string();
    Result<identity::Agent> agent = Status(Internal("unreachable"));
    switch (target) {
      case identity::AgentStatus::kSuspended:
        agent = ctx_.registry.Suspend(name, kAdminActor, std::move(reason));
        break;
      case identity::AgentStatus::kActive:
        agent = ctx_.registry.Resume(name, kAdminActor, std::move(reason));
        break;
      case identity::AgentStatus::kRetired:
        agent = ctx_.registry.Retire(name, kAdminActor, std::move(reason));
        break;
    }
    if (!agent.ok()) return ErrorResponse(ctx_, agent.status());
    if (target != identity::AgentStatus::kActive) {
      // An agent that may no longer act keeps no grant (zero standing privilege).
      auto ended = ctx_.grants.RevokeAgentGrants(
          name, kAdminActor,
          target == identity::AgentStatus::kSuspended ? "agent suspended" : "agent retired");
      if (!ended.ok()) return ErrorResponse(ctx_, ended.status());
    }
    return Response::Json(200, ctx_.registry.ToJson(*agent, ctx_.clock.Now()));
  }

  Response ListAudit(Request& req) {
    Status st = OnlyQueryParams(req, {"after", "limit", "wait"});
    if (!st.ok()) return ErrorResponse(ctx_, st);
    int64_t after = 0;
    int64_t limit = kDefaultAuditLimit;
    std::chrono::seconds wait(0);
    if (auto it = req.query.find("after"); it != req.query.end()) {
      auto v = ParseQueryInt(it->second, "after", 0, INT64_MAX);
      if (!v.ok()) return ErrorResponse(ctx_, v.status());
      after = *v;
    }
    if (auto it = req.query.find("limit"); it != req.query.end()) {
      auto v = ParseQueryInt(it->second, "limit", 1, kMaxAuditLimit);
      if (!v.ok()) return ErrorResponse(ctx_, v.status());
      limit = *v;
    }
    if (auto it = req.query.find("wait"); it != req.query.end()) {
      if (it->second != "0" && it->second != "0s") {
        auto d = ParseDuration(it->second);
        if (!d.ok()) return ErrorResponse(ctx_, InvalidArgument(d.status().message(), "wait"));
        if (*d > ctx_.options.max_long_poll) {
          return ErrorResponse(ctx_, InvalidArgument("must be at most " +
                                                         FormatDuration(ctx_.options.max_long_poll),
                                                     "wait"));
        }
        wait = *d;
      }
    }
    std::optional<Response> now = AuditPage(after, static_cast<size_t>(limit), wait.count() == 0);
    if (now) return std::move(*now);
    // Nothing new yet: answer when an event arrives, at the deadline, or at
    // shutdown. The poll runs on an I/O thread without holding it between polls.
    Response r;
    r.deferred = std::make_shared<Deferred>();
    r.deferred->deadline = std::chrono::steady_clock::now() + wait;
    r.deferred->poll = [this, after, limit](bool final) {
      return AuditPage(after, static_cast<size_t>(limit), final);
    };
    return r;
  }

  Response VerifyAudit(Request& req) {
    Status st = OnlyQueryParams(req, {});
    if (!st.ok()) return ErrorResponse(ctx_, st);
    auto report = audit::Verify(ctx_.store);
    if (!report.ok()) return ErrorResponse(ctx_, report.status());
    json::object out;
    out["ok"] = report->ok;
    out["events_checked"] = report->events_checked;
    if (!report->ok) {
      out["first_bad_seq"] = report->first_bad_seq;
      out["problem"] = report->problem;
    }
    return Response::Json(200, out);
  }

 private:
  // The page after `after`; nullopt when it is empty and `answer_empty` is false.
  std::optional<Response> AuditPage(int64_t after, size_t limit, bool answer_empty) {
    std::vector<audit::Event> events;
    Status st = ctx_.store.Read([&](store::Transaction& txn) -> Status {
      WARDEN_ASSIGN_OR_RETURN(events, audit::List(txn, after, limit));
      return OkStatus();
    });
    if (!st.ok()) return ErrorResponse(ctx_, st);
    if (events.empty() && !answer_empty) return std::nullopt;
    json::array arr;
    int64_t next = after;
    for (const auto& e : events) {
      arr.push_back(audit::EventToJson(e));
      next = e.seq;
    }
    return Response::Json(200, json::object{{"events", std::move(arr)}, {"next_after", next}});
  }

  ApiContext& ctx_;
};

}  // namespace

// Unknown query parameters are refused like unknown JSON fields: a filter
// the server ignores would silently return more than the caller asked for.
Status OnlyQueryParams(const Request& req, std::initializer_list<std::string_view> allowed) {
  WARDEN_RETURN_IF_ERROR(req.query_status);
  for (const auto& [key, value] : req.query) {
    bool known = false;
    for (auto a : allowed) known = known || a == key;
    if (!known) return InvalidArgument("unknown query parameter", key);
  }
  return OkStatus();
}

Result<int64_t> ParseQueryInt(std::string_view text, std::string_view field, int64_t lo,
                              int64_t hi) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      text.front() == '+' || text.front() == '-' || v < lo || v > hi) {
    return InvalidArgument("\"" + std::string(text) + "\" is not an integer between " +
                               std::to_string(lo) + " and " + std::to_string(hi),
                           std::string(field));
  }
  return v;
}

std::optional<Response> ReadOptionalBodyString(ApiContext& ctx, const Request& req,
                                               std::string_view key,
                                               std::optional<std::string>* out) {
  out->reset();
  if (Trim(req.body).empty()) return std::nullopt;
  if (auto bad = RequireJsonContentType(req)) return bad;
  auto body = ParseBody(ctx, req);
  if (!body.ok()) return ErrorResponse(ctx, body.status());
  auto obj = StrictObject::From(*body);
  if (!obj.ok()) return ErrorResponse(ctx, obj.status());
  auto value = obj->OptionalString(key);
  if (!value.ok()) return ErrorResponse(ctx, value.status());
  if (Status st = obj->Finish(); !st.ok()) return ErrorResponse(ctx, st);
  *out = std::move(*value);
  return std::nullopt;
}

Status AuditEvent(ApiContext& ctx, const audit::EventInput& event) {
  Status st = audit::Record(ctx.store, event, ctx.clock.Now());
  if (!st.ok()) ctx.metrics.StoreError();
  return st;
}

Result<json::value> ParseBody(const ApiContext& ctx, const Request& req) {
  JsonParseOptions opts;
  opts.max_bytes = ctx.options.max_body_bytes;
  auto v = ParseJson(req.body, opts);
  if (!v.ok()) return Status(v.status().code(), v.status().message(), "body");
  return v;
}

Response ErrorResponse(ApiContext& ctx, const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      ctx.metrics.StoreError();
      LogJson(spdlog::level::err, "request failed", {{"error", status.ToString()}});
      break;
    default:
      break;
  }
  return Response::Error(status);
}

std::optional<Response> RequireJsonContentType(const Request& request) {
  auto ct = request.Header("content-type");
  if (ct) {
    std::string media = AsciiLower(Trim(ct->substr(0, ct->find(';'))));
    if (media == "application/json" ||
        (media.starts_with("application/") && media.ends_with("+json"))) {
      return std::nullopt;
    }
  }
  return Response::Error(
      InvalidArgument("Content-Type must be application/json" +
                          (ct ? ", got \"" + std::string(*ct) + "\"" : std::string(", got none")),
                      "Content-Type"),
      kHttpUnsupportedMediaType);
}

Status RegisterRoutes(Router& router, ApiContext& ctx) {
  // Handlers live as long as the router's routes: shared by every closure.
  auto h = std::make_shared<Handlers>(ctx);
  auto bind = [h](Response (Handlers::*fn)(Request&)) {
    return [h, fn](Request& r) { return ((*h).*fn)(r); };
  };
  auto admin = [&](Handler handler) { return ctx.auth.Require(std::move(handler)); };
  auto transition = [h](identity::AgentStatus target) {
    return [h, target](Request& r) { return h->Transition(r, target); };
  };
  WARDEN_RETURN_IF_ERROR(router.Add("GET", "/healthz", bind(&Handlers::Healthz)));
  WARDEN_RETURN_IF_ERROR(router.Add("GET", "/readyz", bind(&Handlers::Readyz)));
  WARDEN_RETURN_IF_ERROR(router.Add("GET", "/metrics", bind(&Handlers::Metrics)));
  WARDEN_RETURN_IF_ERROR(router.Add("POST", "/v1/agents", admin(bind(&Handlers::CreateAgent))));
  WARDEN_RETURN_IF_ERROR(router.Add("GET", "/v1/agents", admin(bind(&Handlers::ListAgents))));
  WARDEN_RETURN_IF_ERROR(
      router.Add("GET", "/v1/agents/{name}", admin(bind(&Handlers::GetAgent))));
  WARDEN_RETURN_IF_ERROR(
      router.Add("PATCH", "/v1/agents/{name}", admin(bind(&Handlers::PatchAgent))));
  WARDEN_RETURN_IF_ERROR(router.Add("POST", "/v1/agents/{name}/suspend",
                                    admin(transition(identity::AgentStatus::kSuspended))));
  WARDEN_RETURN_IF_ERROR(router.Add("POST", "/v1/agents/{name}/resume",
                                    admin(transition(identity::AgentStatus::kActive))));
  WARDEN_RETURN_IF_ERROR(router.Add("POST", "/v1/agents/{name}/retire",
                                    admin(transition(identity::AgentStatus::kRetired))));
  WARDEN_RETURN_IF_ERROR(router.Add("GET", "/v1/audit", admin(bind(&Handlers::ListAudit))));
  WARDEN_RETURN_IF_ERROR(
      router.Add("GET", "/v1/audit/verify", admin(bind(&Handlers::VerifyAudit))));
  WARDEN_RETURN_IF_ERROR(RegisterGatewayRoutes(router, ctx));
  WARDEN_RETURN_IF_ERROR(RegisterHttpEnforcementRoutes(router, ctx));
  return OkStatus();
}

}  // namespace warden::server::internal
