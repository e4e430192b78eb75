#include "server/internal/approvals_api.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/internal/event_budget.h"
#include "server/internal/log.h"
#include "warden/audit/audit_log.h"
#include "warden/core/json.h"
#include "warden/core/time_format.h"

namespace warden::server::internal {
namespace {

constexpr std::string_view kAdminActor = "admin";
constexpr int64_t kDefaultApprovalLimit = 100;
constexpr int64_t kMaxApprovalLimit = 1000;
// A long-poll re-reads the store at least this often even without a local
// decision, so decisions made by another process sharing the database are
// still seen while the request waits.
constexpr std::chrono::seconds kLongPollRecheck{1};

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The bearer credential of `req`, or nullopt when there is no Authorization
// header or it uses another scheme (`*scheme_ok` tells which).
std::optional<std::string_view> BearerToken(const Request& req, bool* scheme_ok) {
  *scheme_ok = true;
  auto header = req.Header("authorization");
  if (!header) return std::nullopt;
  if (!StartsWithIgnoreCase(*header, "bearer ")) {
    *scheme_ok = false;
    return std::nullopt;
  }
  return TrimSpaces(header->substr(7));
}

Response Unauthorized(std::string message, bool invalid_token) {
  Response r = Response::Error(Unauthenticated(std::move(message)));
  r.headers.emplace_back("WWW-Authenticate", invalid_token
                                                 ? R"(Bearer realm="warden", error="invalid_token")"
                                                 : R"(Bearer realm="warden")");
  return r;
}

}  // namespace

class ApprovalHandlers {
 public:
  explicit ApprovalHandlers(ApiContext& ctx)
      : ctx_(ctx), auth_failures_(ctx.options.auth_failure_events_per_minute) {}

  // Who made a request: the admin, or the approver named by its token.
  struct Caller {
    bool admin = false;
    std::string approver;
  };

  // ---- approvers (admin)

  Response AddApprover(Request& req) {
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    if (auto bad = RequireJsonContentType(req)) return std::move(*bad);
    auto body = ParseBody(ctx_, req);
    if (!body.ok()) return ErrorResponse(ctx_, body.status());
    auto obj = StrictObject::From(*body);
    if (!obj.ok()) return ErrorResponse(ctx_, obj.status());
    auto name = obj->RequiredString("name");
    if (!name.ok()) return ErrorResponse(ctx_, name.status());
    if (Status st = obj->Finish(); !st.ok()) return ErrorResponse(ctx_, st);
    auto issued = ctx_.approvers.Add(*name, kAdminActor);
    if (!issued.ok()) return ErrorResponse(ctx_, issued.status());
    json::object out = approvals::ApproverToJson(issued->info);
    out["token"] = issued->token;
    Response r = Response::Json(201, out);
    r.headers.emplace_back("Location", "/v1/approvers/" + issued->info.name);
    // The token is shown once; no cache may keep it.
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  Response ListApprovers(Request& req) {
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    auto listed = ctx_.approvers.List();
    if (!listed.ok()) return ErrorResponse(ctx_, listed.status());
    json::array out;
    for (const auto& a : *listed) out.push_back(approvals::ApproverToJson(a));
    return Response::Json(200, json::object{{"approvers", std::move(out)}});
  }

  Response DisableApprover(Request& req) {
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    if (auto bad = RequireEmptyBody(req)) return std::move(*bad);
    auto disabled = ctx_.approvers.Disable(req.params["name"], kAdminActor);
    if (!disabled.ok()) return ErrorResponse(ctx_, disabled.status());
    return Response::Json(200, approvals::ApproverToJson(*disabled));
  }

  // ---- the queue (admin or approver)

  Response ListApprovals(Request& req) {
    Caller caller;
    if (auto denied = AuthenticateAny(req, &caller)) return std::move(*denied);
    if (Status st = OnlyQueryParams(req, {"status", "agent", "limit"}); !st.ok()) {
      return ErrorResponse(ctx_, st);
    }
    approvals::ApprovalFilter filter;
    if (auto it = req.query.find("status"); it != req.query.end()) {
      if (it->second == "all") {
        filter.status = std::nullopt;
      } else {
        auto status = approvals::ParseApprovalStatus(it->second);
        if (!status.ok()) {
          return ErrorResponse(
              ctx_, InvalidArgument("must be pending, approved, denied, expired, used or all",
                                    "status"));
        }
        filter.status = *status;
      }
    }
    if (auto it = req.query.find("agent"); it != req.query.end()) {
      if (Status st = identity::ValidateAgentName(it->second); !st.ok()) {
        return ErrorResponse(ctx_, InvalidArgument(st.message(), "agent"));
      }
      filter.agent = it->second;
    }
    int64_t limit = kDefaultApprovalLimit;
    if (auto it = req.query.find("limit"); it != req.query.end()) {
      auto v = ParseQueryInt(it->second, "limit", 1, kMaxApprovalLimit);
      if (!v.ok()) return ErrorResponse(ctx_, v.status());
      limit = *v;
    }
    filter.limit = static_cast<size_t>(limit);
    auto listed = ctx_.approvals.List(filter);
    if (!listed.ok()) return ErrorResponse(ctx_, listed.status());
    TimePoint now = ctx_.clock.Now();
    json::array out;
    for (const auto& a : *listed) out.push_back(approvals::ApprovalToJson(a, now));
    return Response::Json(200, json::object{{"approvals", std::move(out)}});
  }

  Response GetApproval(Request& req) {
    Caller caller;
    if (auto denied = AuthenticateAny(req, &caller)) return std::move(*denied);
    const std::string id = req.params["id"];
    if (Status st = approvals::ValidateApprovalId(id); !st.ok()) return ErrorResponse(ctx_, st);
    if (Status st = OnlyQueryParams(req, {"wait"}); !st.ok()) return ErrorResponse(ctx_, st);
    std::chrono::seconds wait(0);
    if (auto it = req.query.find("wait"); it != req.query.end()) {
      if (it->second != "0" && it->second != "0s") {
        auto d = ParseDuration(it->second);
        if (!d.ok()) return ErrorResponse(ctx_, InvalidArgument(d.status().message(), "wait"));
        if (*d > ctx_.options.max_long_poll) {
          return ErrorResponse(
              ctx_, InvalidArgument(
                        "must be at most " + FormatDuration(ctx_.options.max_long_poll), "wait"));
        }
        wait = *d;
      }
    }
    // Read the counter before the approval: a decision landing in between
    // changes the counter, so the first poll re-reads and cannot miss it.
    uint64_t seen = ctx_.approvals.ChangeCounter();
    auto approval = ctx_.approvals.Get(id);
    if (!approval.ok()) return ErrorResponse(ctx_, approval.status());
    TimePoint now = ctx_.clock.Now();
    if (wait.count() == 0 ||
        approval->EffectiveStatus(now) != approvals::ApprovalStatus::kPending) {
      return Response::Json(200, approvals::ApprovalToJson(*approval, now));
    }
    // Still pending: answer when it is decided, expires, at the deadline or at
    // shutdown. Each poll costs a counter read and a clock read; the store is
    // read only when a decision happened, the approval may have expired, or the
    // periodic recheck is due.
    auto state = std::make_shared<PollState>();
    state->seen = seen;
    state->expires_at = approval->expires_at;
    state->next_recheck = std::chrono::steady_clock::now() + kLongPollRecheck;
    Response r;
    r.deferred = std::make_shared<Deferred>();
    r.deferred->deadline = std::chrono::steady_clock::now() + wait;
    r.deferred->poll = [this, id, state](bool final) { return PollApproval(id, *state, final); };
    return r;
  }

  // ---- decisions (approver token only)

  Response Decide(Request& req, approvals::Verdict verdict) {
    std::string approver;
    if (auto denied = AuthenticateApprover(req, &approver)) return std::move(*denied);
    const std::string id = req.params["id"];
    if (Status st = approvals::ValidateApprovalId(id); !st.ok()) return ErrorResponse(ctx_, st);
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    if (auto bad = RequireJsonContentType(req)) return std::move(*bad);
    auto body = ParseBody(ctx_, req);
    if (!body.ok()) return ErrorResponse(ctx_, body.status());
    auto obj = StrictObject::From(*body);
    if (!obj.ok()) return ErrorResponse(ctx_, obj.status());
    // Only the reason: the approver is whoever holds the token, never a
    // name the body claims.
    auto reason = obj->RequiredString("reason");
    if (!reason.ok()) return ErrorResponse(ctx_, reason.status());
    if (Status st = obj->Finish(); !st.ok()) return ErrorResponse(ctx_, st);
    auto decided = ctx_.approvals.Decide(id, approver, verdict, *reason);
    if (!decided.ok()) return ErrorResponse(ctx_, decided.status());
    LogJson(spdlog::level::info,
            verdict == approvals::Verdict::kApprove ? "approval approved" : "approval denied",
            {{"id", decided->id}, {"approver", approver}, {"agent", decided->agent}});
    return Response::Json(200, approvals::ApprovalToJson(*decided, ctx_.clock.Now()));
  }

 private:
  struct PollState {
    uint64_t seen = 0;
    TimePoint expires_at;
    std::chrono::steady_clock::time_point next_recheck;
  };

  std::optional<Response> PollApproval(const std::string& id, PollState& state, bool final) {
    uint64_t counter = ctx_.approvals.ChangeCounter();
    auto steady_now = std::chrono::steady_clock::now();
    bool due = final || counter != state.seen || ctx_.clock.Now() >= state.expires_at ||
               steady_now >= state.next_recheck;
    if (!due) return std::nullopt;
    state.seen = counter;
    state.next_recheck = steady_now + kLongPollRecheck;
    if (!final) {
      auto status = ctx_.approvals.CurrentStatus(id);
      if (!status.ok()) return ErrorResponse(ctx_, status.status());
      if (*status == approvals::ApprovalStatus::kPending) return std::nullopt;
    }
    auto approval = ctx_.approvals.Get(id);
    if (!approval.ok()) return ErrorResponse(ctx_, approval.status());
    return Response::Json(200, approvals::ApprovalToJson(*approval, ctx_.clock.Now()));
  }

  // nullopt when the body is empty or "{}"; otherwise the error to send.
  std::optional<Response> RequireEmptyBody(const Request& req) {
    if (TrimSpaces(req.body).empty()) return std::nullopt;
    if (auto bad = RequireJsonContentType(req)) return bad;
    auto body = ParseBody(ctx_, req);
    if (!body.ok()) return ErrorResponse(ctx_, body.status());
    auto obj = StrictObject::From(*body);
    if (!obj.ok()) return ErrorResponse(ctx_, obj.status());
    if (Status st = obj->Finish(); !st.ok()) return ErrorResponse(ctx_, st);
    return std::nullopt;
  }

  // Admin token or approver token. Approver tokens are told apart by their
  // prefix; anything else is checked (and failures audited) as an admin token.
  std::optional<Response> AuthenticateAny(const Request& req, Caller* caller) {
    bool scheme_ok = true;
    auto token = BearerToken(req, &scheme_ok);
    if (!token && scheme_ok) {
      return Unauthorized(
          "admin or approver token required: send Authorization: Bearer <token>", false);
    }
    if (token && token->starts_with(approvals::kApproverTokenPrefix)) {
      caller->admin = false;
      return AuthenticateApprover(req, &caller->approver);
    }
    if (auto denied = ctx_.auth.Check(req)) return denied;
    caller->admin = true;
    return std::nullopt;
  }

  // nullopt and `*name` set when `req` carries an enabled approver's token;
  // otherwise the 401 (or 503 when the store fails) to send.
  std::optional<Response> AuthenticateApprover(const Request& req, std::string* name) {
    bool scheme_ok = true;
    auto token = BearerToken(req, &scheme_ok);
    if (!scheme_ok) {
      ctx_.metrics.AuthFailure("unsupported_scheme");
      RecordFailure(req, "unsupported_scheme");
      return Unauthorized("unsupported authorization scheme; use Bearer", true);
    }
    if (!token) {
      return Unauthorized("approver token required: send Authorization: Bearer wap_...", false);
    }
    auto who = ctx_.approvers.Authenticate(*token);
    if (who.ok()) {
      *name = std::move(*who);
      return std::nullopt;
    }
    if (who.status().code() != StatusCode::kUnauthenticated) {
      return ErrorResponse(ctx_, who.status());
    }
    ctx_.metrics.AuthFailure("invalid_token");
    RecordFailure(req, "invalid_token");
    return Unauthorized("invalid approver token (unknown, malformed or disabled)", true);
  }

  // Audits a failed approver authentication within the source's budget. The
  // presented token is never recorded.
  void RecordFailure(const Request& req, std::string_view reason) {
    const std::string& remote = req.remote_address;
    std::optional<int64_t> suppressed = auth_failures_.Admit(remote, ctx_.clock.Now());
    if (!suppressed) {
      ctx_.metrics.AuthEventSuppressed();
      return;
    }
    audit::EventInput in{"anonymous@" + remote, "approver.auth_failed", "approvals", {}};
    in.details["remote"] = remote;
    in.details["reason"] = reason;
    in.details["route"] = req.method + " " + req.route;
    if (*suppressed > 0) in.details["suppressed_since_last"] = *suppressed;
    if (Status st = AuditEvent(ctx_, in); !st.ok()) {
      LogJson(spdlog::level::err, "cannot record approver.auth_failed",
              {{"remote", remote}, {"error", st.ToString()}});
    }
  }

  ApiContext& ctx_;
  EventBudget auth_failures_;
};

Status RegisterApprovalRoutes(Router& router, ApiContext& ctx) {
  // Handlers live as long as the router's routes: shared by every closure.
  auto h = std::make_shared<ApprovalHandlers>(ctx);
  auto bind = [h](Response (ApprovalHandlers::*fn)(Request&)) {
    return [h, fn](Request& r) { return ((*h).*fn)(r); };
  };
  auto admin = [&](Handler handler) { return ctx.auth.Require(std::move(handler)); };
  auto decide = [h](approvals::Verdict verdict) {
    return [h, verdict](Request& r) { return h->Decide(r, verdict); };
  };
  WARDEN_RETURN_IF_ERROR(
      router.Add("POST", "/v1/approvers", admin(bind(&ApprovalHandlers::AddApprover))));
  WARDEN_RETURN_IF_ERROR(
      router.Add("GET", "/v1/approvers", admin(bind(&ApprovalHandlers::ListApprovers))));
  WARDEN_RETURN_IF_ERROR(router.Add("POST", "/v1/approvers/{name}/disable",
                                    admin(bind(&ApprovalHandlers::DisableApprover))));
  // The queue accepts the admin token or an approver token (checked inside).
  WARDEN_RETURN_IF_ERROR(
      router.Add("GET", "/v1/approvals", bind(&ApprovalHandlers::ListApprovals)));
  WARDEN_RETURN_IF_ERROR(
      router.Add("GET", "/v1/approvals/{id}", bind(&ApprovalHandlers::GetApproval)));
  // Decisions need an approver token: the admin token cannot decide.
  WARDEN_RETURN_IF_ERROR(
      router.Add("POST", "/v1/approvals/{id}/approve", decide(approvals::Verdict::kApprove)));
  WARDEN_RETURN_IF_ERROR(
      router.Add("POST", "/v1/approvals/{id}/deny", decide(approvals::Verdict::kDeny)));
  return OkStatus();
}

}  // namespace warden::server::internal
