#include "server/internal/grants_api.h"

#include <memory>
#include <optional>

#include "server/internal/caller_auth.h"
#include "server/internal/log.h"
#include "warden/approvals/approval.h"
#include "warden/audit/audit_log.h"
#include "warden/core/json.h"
#include "warden/core/text.h"
#include "warden/core/time_format.h"
#include "warden/identity/svid.h"
#include "warden/server/errors.h"

namespace warden::server::internal {
namespace {

constexpr std::string_view kAdminActor = "admin";
constexpr std::string_view kTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange";
constexpr std::string_view kGrantTokenTypeUri = "urn:warden:params:oauth:token-type:grant";
constexpr std::string_view kJwtTokenTypeUri = "urn:ietf:params:oauth:token-type:jwt";
constexpr int64_t kMaxAdminList = 1000;
// A long-poll re-reads the approval at least this often even without a
// local decision: expiry and decisions made by another process.
constexpr std::chrono::milliseconds kPendingRecheck{1000};

json::array Strings(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& v : values) out.emplace_back(v);
  return out;
}

// The admin view of a grant (never a token).
json::object GrantToJson(const grants::Grant& g, TimePoint now) {
  json::object out;
  out["id"] = g.id;
  out["agent"] = g.agent;
  out["spiffe_id"] = g.spiffe_id;
  out["task"] = g.intent.task;
  out["description"] = g.intent.description;
  out["environment"] = g.intent.environment;
  out["sensitivity"] = grants::SensitivityName(g.intent.sensitivity);
  out["scope"] = grants::ScopeToJson(g.scope);
  out["status"] = grants::GrantStatusName(g.EffectiveStatus(now));
  out["depth"] = g.depth;
  out["root_id"] = g.root_id;
  if (g.parent_id) out["parent_id"] = *g.parent_id;
  if (g.on_behalf_of) out["on_behalf_of"] = *g.on_behalf_of;
  if (g.approval_id) out["approval_id"] = *g.approval_id;
  json::object limits;
  if (g.max_calls) limits["max_calls"] = *g.max_calls;
  if (g.max_spend) limits["max_spend"] = *g.max_spend;
  if (!limits.empty()) out["limits"] = std::move(limits);
  out["calls"] = g.calls;
  out["policy_set_hash"] = g.policy_hash;
  out["created_at"] = FormatRfc3339(g.created_at);
  out["expires_at"] = FormatRfc3339(g.expires_at);
  if (g.ended_at) out["ended_at"] = FormatRfc3339(*g.ended_at);
  if (g.end_reason) out["end_reason"] = *g.end_reason;
  return out;
}

// The Cedar context of a grant decision (the schema's `grant` action):
// the intent, the time, and `delegation` ({depth: 0} for a root grant;
// depth, parent_agent, parent_grant for a delegated one).
json::object GrantContext(const grants::Intent& intent, TimePoint now, json::object delegation) {
  json::object ctx;
  ctx["task"] = intent.task;
  ctx["actions"] = Strings(intent.scope.actions);
  ctx["resources"] = Strings(intent.scope.resources);
  ctx["environment"] = intent.environment;
  ctx["sensitivity"] = grants::SensitivityName(intent.sensitivity);
  ctx["ttl_seconds"] = static_cast<int64_t>(intent.ttl.count());
  if (intent.on_behalf_of) ctx["on_behalf_of"] = *intent.on_behalf_of;
  json::object limits;
  if (intent.limits.max_calls) limits["max_calls"] = *intent.limits.max_calls;
  if (intent.limits.max_spend) limits["max_spend"] = *intent.limits.max_spend;
  if (!limits.empty()) ctx["limits"] = std::move(limits);
  ctx["time"] = policy::DecisionTimeContext(now);
  // No risk signals are collected yet; policies can already be written
  // against the attribute.
  ctx["risk"] = int64_t{0};
  ctx["delegation"] = std::move(delegation);
  return ctx;
}

// A grant decision with what the audit log and the refusal name.
struct GrantDecision {
  policy::DecisionResult result;
  std::vector<std::string> reasons;             // deciding policies, by display name
  std::vector<std::string> approval_policies;   // with needs_approval
  json::object facts;  // audit details: decision, policies, errors, policy_set_hash
};

// Asks the policy engine whether `agent` may hold a grant for `intent`
// (Action::"grant" on Task::"<task>"). Errors of the engine.
Result<GrantDecision> DecideGrant(ApiContext& ctx, const identity::Agent& agent,
                                  const grants::Intent& intent, json::object context) {
  policy::DecisionInput input;
  WARDEN_ASSIGN_OR_RETURN(
      input.principal,
      policy::RequestUid(
          json::object{{"principal", json::object{{"type", "Agent"}, {"id", agent.name}}}},
          "principal"));
  input.action = cedar::EntityUid(cedar::EntityType("Action"), "grant");
  input.resource = cedar::EntityUid(cedar::EntityType("Task"), intent.task);
  auto bundle = ctx.policies.Current();
  // A policy folder written before a context member existed keeps working.
  policy::DropUndeclaredContext(bundle->schema.get(), "grant", context);
  input.context = std::move(context);
  input.agent = agent;
  WARDEN_ASSIGN_OR_RETURN(policy::DecisionResult result,
                          policy::Decide(bundle, input, ctx.clock.Now()));
  GrantDecision d;
  // Policies are named by their @id annotation where they have one, so
  // the audit log and the agent see the names a policy author wrote.
  auto names = [&](const std::vector<std::string>& ids) {
    std::vector<std::string> out;
    for (const auto& id : ids) out.push_back(result.bundle->DisplayName(id));
    return out;
  };
  d.reasons = names(result.response.diagnostics.reasons);
  d.approval_policies = names(result.approval_policies);
  d.facts["decision"] = policy::OutcomeName(result.outcome);
  d.facts["policies"] = Strings(d.reasons);
  json::array erroring;
  for (const auto& e : result.response.diagnostics.errors) erroring.emplace_back(e.policy_id);
  d.facts["errors"] = std::move(erroring);
  d.facts["policy_set_hash"] = result.policy_set_hash;
  if (result.outcome == policy::Outcome::kNeedsApproval) {
    d.facts["approval_policies"] = Strings(d.approval_policies);
  }
  d.result = std::move(result);
  return d;
}

// "a, b" or `none` for an empty list.
std::string Listed(const std::vector<std::string>& names, std::string_view none) {
  return names.empty() ? std::string(none) : JoinComma(names);
}

class GrantHandlers {
 public:
  explicit GrantHandlers(ApiContext& ctx) : ctx_(ctx) {}

  // ---- agent routes

  Response Create(Request& req) {
    SvidCaller caller;
    if (auto refused = AuthenticateSvid(ctx_, req, &caller)) return std::move(*refused);
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    if (auto bad = RequireJsonContentType(req)) return std::move(*bad);
    auto body = ParseBody(ctx_, req);
    if (!body.ok()) return ErrorResponse(ctx_, body.status());
    auto intent = grants::ParseIntent(*body);
    if (!intent.ok()) return ErrorResponse(ctx_, intent.status());
    const std::string& name = caller.svid.agent_name;
    auto agent = ctx_.registry.Get(name);
    if (!agent.ok()) return ErrorResponse(ctx_, agent.status());

    // A root grant is depth 0 of its chain (the `call` action says the same).
    auto decision = DecideGrant(ctx_, *agent, *intent,
                                GrantContext(*intent, ctx_.clock.Now(),
                                             json::object{{"depth", int64_t{0}}}));
    if (!decision.ok()) return ErrorResponse(ctx_, decision.status());
    const json::object& facts = decision->facts;
    const std::vector<std::string>& reasons = decision->reasons;

    if (decision->result.outcome == policy::Outcome::kDeny) {
      audit::EventInput event{"agent:" + name, "grant.denied", "agent:" + name, facts};
      event.details["task"] = intent->task;
      event.details["scope"] = grants::ScopeToJson(intent->scope);
      if (Status st = AuditEvent(ctx_, event); !st.ok()) {
        return ErrorResponse(ctx_, Unavailable("cannot record the decision: " + st.message()));
      }
      Status denied = PermissionDenied("grant for task \"" + intent->task +
                                       "\" denied by policy (" +
                                       Listed(reasons, "no policy permits it") + ")");
      json::object out = ErrorBody(denied);
      out["decision"] = "deny";
      out["policies"] = Strings(reasons);
      out["policy_set_hash"] = decision->result.policy_set_hash;
      return Response::Json(403, out);
    }

    grants::GrantRequest request;
    request.agent = name;
    request.jkt = caller.jkt;
    request.intent = *intent;
    request.policy_hash = decision->result.policy_set_hash;
    request.decision = facts;
    if (decision->result.outcome == policy::Outcome::kNeedsApproval) {
      // Checks GrantService::Create would make, done before a human is
      // asked: an approval must never be requested for a grant that cannot
      // be created.
      if (agent->EffectiveStatus(ctx_.clock.Now()) != identity::AgentStatus::kActive) {
        return ErrorResponse(ctx_, FailedPrecondition("agent \"" + name + "\" is not active"));
      }
      if (agent->environment != intent->environment) {
        return ErrorResponse(ctx_, InvalidArgument("must be the agent's environment \"" +
                                                       agent->environment + "\"",
                                                   "environment"));
      }
      approvals::ApprovalRequest ask;
      ask.kind = approvals::ApprovalKind::kGrant;
      ask.subject_sha256 = grants::BindingHash(caller.svid.spiffe_id, *intent, intent->scope);
      ask.agent = name;
      ask.on_behalf_of = intent->on_behalf_of;
      ask.summary = json::object{{"agent", name},
                                 {"task", intent->task},
                                 {"description", intent->description},
                                 {"environment", intent->environment},
                                 {"sensitivity", grants::SensitivityName(intent->sensitivity)},
                                 {"scope", grants::ScopeToJson(intent->scope)},
                                 {"ttl", FormatDuration(intent->ttl)},
                                 {"policies", Strings(decision->approval_policies)}};
      auto approval = ctx_.approvals.Create(ask, "agent:" + name);
      if (!approval.ok()) return ErrorResponse(ctx_, approval.status());
      request.needs_approval = true;
      request.approval_id = approval->id;
      auto grant = ctx_.grants.Create(request);
      if (!grant.ok()) return ErrorResponse(ctx_, grant.status());
      json::object out{{"id", grant->id},
                       {"status", "pending_approval"},
                       {"approval_id", approval->id},
                       {"approval_expires_at", FormatRfc3339(approval->expires_at)},
                       {"task", grant->intent.task},
                       {"scope", grants::ScopeToJson(grant->scope)}};
      Response r = Response::Json(202, out);
      r.headers.emplace_back("Location", "/v1/grants/" + grant->id);
      return r;
    }
    auto grant = ctx_.grants.Create(request);
    if (!grant.ok()) return ErrorResponse(ctx_, grant.status());
    Response r = Issued(*grant, 201);
    r.headers.emplace_back("Location", "/v1/grants/" + grant->id);
    return r;
  }

  // GET /v1/grants/{id}: the agent's own view (DPoP) or the admin view.
  Response Get(Request& req) {
    auto authz = req.Header("authorization");
    if (!authz || !IsDpopAuthorization(*authz)) {
      return ctx_.auth.Require([this](Request& r) { return AdminGet(r); })(req);
    }
    SvidCaller caller;
    if (auto refused = AuthenticateSvid(ctx_, req, &caller)) return std::move(*refused);
    if (Status st = OnlyQueryParams(req, {"wait"}); !st.ok()) return ErrorResponse(ctx_, st);
    std::chrono::seconds wait(0);
    if (auto it = req.query.find("wait"); it != req.query.end() && it->second != "0") {
      auto d = ParseDuration(it->second);
      if (!d.ok()) return ErrorResponse(ctx_, InvalidArgument(d.status().message(), "wait"));
      if (*d > ctx_.options.max_long_poll) {
        return ErrorResponse(
            ctx_, InvalidArgument("must be at most " + FormatDuration(ctx_.options.max_long_poll),
                                  "wait"));
      }
      wait = *d;
    }
    std::string id = req.params["id"];
    auto grant = OwnGrant(id, caller);
    if (!grant.ok()) return ErrorResponse(ctx_, grant.status());
    std::optional<Response> now = AgentView(id, caller.svid.agent_name, wait.count() == 0);
    if (now) return std::move(*now);
    // Pending: answer at a decision, at the deadline or at shutdown. Each
    // poll is one counter read, and one indexed row read only when a
    // decision was made here or kPendingRecheck passed.
    struct PollState {
      uint64_t seen;
      std::chrono::steady_clock::time_point checked;
    };
    auto state = std::make_shared<PollState>(
        PollState{ctx_.approvals.ChangeCounter(), std::chrono::steady_clock::now()});
    std::string approval_id = grant->approval_id.value_or("");
    std::string agent = caller.svid.agent_name;
    Response r;
    r.deferred = std::make_shared<Deferred>();
    r.deferred->deadline = std::chrono::steady_clock::now() + wait;
    r.deferred->poll = [this, state, id, agent, approval_id](bool final) -> std::optional<Response> {
      auto steady = std::chrono::steady_clock::now();
      uint64_t counter = ctx_.approvals.ChangeCounter();
      if (!final && counter == state->seen && steady - state->checked < kPendingRecheck) {
        return std::nullopt;
      }
      state->seen = counter;
      state->checked = steady;
      if (!final) {
        auto status = ctx_.approvals.CurrentStatus(approval_id);
        if (status.ok() && *status == approvals::ApprovalStatus::kPending) return std::nullopt;
      }
      return AgentView(id, agent, true);
    };
    return r;
  }

  Response Complete(Request& req) {
    SvidCaller caller;
    if (auto refused = AuthenticateSvid(ctx_, req, &caller)) return std::move(*refused);
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    std::string id = req.params["id"];
    if (auto own = OwnGrant(id, caller); !own.ok()) return ErrorResponse(ctx_, own.status());
    auto grant = ctx_.grants.Complete(id, caller.svid.agent_name);
    if (!grant.ok()) return ErrorResponse(ctx_, grant.status());
    return Response::Json(200, GrantToJson(*grant, ctx_.clock.Now()));
  }

  // POST /v1/token: RFC 8693 token exchange. The subject token is the
  // parent grant (presented by its own agent with a DPoP proof of its key),
  // the actor token the worker's key-bound SVID.
  Response Exchange(Request& req) {
    SvidCaller caller;
    if (auto refused = AuthenticateSvid(ctx_, req, &caller)) return std::move(*refused);
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return TokenError(st);
    auto ct = req.Header("content-type");
    if (!ct || !StartsWithNoCase(*ct, "application/x-www-form-urlencoded")) {
      return TokenError(
          InvalidArgument("Content-Type must be application/x-www-form-urlencoded", "Content-Type"));
    }
    if (req.body.size() > ctx_.options.max_body_bytes) {
      return TokenError(InvalidArgument("request body too large", "body"));
    }
    auto form = ParseQuery(req.body);
    if (!form.ok()) return TokenError(form.status());
    for (const auto& [k, v] : *form) {
      if (k != "grant_type" && k != "subject_token" && k != "subject_token_type" &&
          k != "actor_token" && k != "actor_token_type" && k != "scope" && k != "resource" &&
          k != "requested_token_type" && k != "ttl") {
        return TokenError(InvalidArgument("unknown parameter", k));
      }
    }
    auto field = [&](std::string_view k) -> std::string {
      auto it = form->find(k);
      return it == form->end() ? std::string() : it->second;
    };
    if (field("grant_type") != kTokenExchange) {
      return TokenError(InvalidArgument("must be " + std::string(kTokenExchange), "grant_type"),
                        "unsupported_grant_type");
    }
    for (std::string_view k : {"subject_token", "subject_token_type", "actor_token",
                               "actor_token_type", "scope"}) {
      if (field(k).empty()) return TokenError(InvalidArgument("required", std::string(k)));
    }
    if (field("subject_token_type") != kGrantTokenTypeUri &&
        field("subject_token_type") != kJwtTokenTypeUri) {
      return TokenError(InvalidArgument("must be " + std::string(kGrantTokenTypeUri),
                                        "subject_token_type"));
    }
    if (field("actor_token_type") != kJwtTokenTypeUri) {
      return TokenError(
          InvalidArgument("must be " + std::string(kJwtTokenTypeUri), "actor_token_type"));
    }
    auto parent = ctx_.grants.VerifyToken(field("subject_token"));
    if (!parent.ok()) return TokenError(InvalidArgument(parent.status().message(), "subject_token"));
    // The presenter must hold the parent's key: a stolen grant token cannot
    // be exchanged.
    if (parent->jkt != caller.jkt || parent->subject != caller.svid.spiffe_id) {
      return TokenError(InvalidArgument("not bound to the key that signed the DPoP proof",
                                        "subject_token"));
    }
    std::string td = ctx_.registry.options().trust_domain;
    auto worker = identity::VerifySvid(field("actor_token"), ctx_.keys.Resolver(), td,
                                       "spiffe://" + td, ctx_.clock);
    if (!worker.ok()) return TokenError(InvalidArgument(worker.status().message(), "actor_token"));
    if (!worker->cnf_jkt) {
      return TokenError(InvalidArgument("must be key-bound (cnf.jkt)", "actor_token"));
    }
    grants::DelegationRequest ask;
    ask.parent_grant_id = parent->grant_id;
    ask.requesting_agent = caller.svid.agent_name;
    ask.child_agent = worker->agent_name;
    ask.child_jkt = *worker->cnf_jkt;
    std::string scope = field("scope");
    for (size_t pos = 0; pos <= scope.size();) {
      size_t end = scope.find(' ', pos);
      if (end == std::string::npos) end = scope.size();
      if (end > pos) ask.scope.actions.push_back(scope.substr(pos, end - pos));
      pos = end + 1;
    }
    // A single resource parameter is what a form can carry without repeated
    // keys; several are separated by spaces.
    std::string resources = field("resource");
    for (size_t pos = 0; pos <= resources.size() && !resources.empty();) {
      size_t end = resources.find(' ', pos);
      if (end == std::string::npos) end = resources.size();
      if (end > pos) ask.scope.resources.push_back(resources.substr(pos, end - pos));
      pos = end + 1;
    }
    if (std::string ttl = field("ttl"); !ttl.empty()) {
      auto d = ParseDuration(ttl);
      if (!d.ok()) return TokenError(InvalidArgument(d.status().message(), "ttl"));
      ask.ttl = *d;
    }
    // Checked first, so a widening is refused naming the element whatever
    // the policies say; then decided by policy for the child agent, as a
    // grant of the narrowed intent; then made (Delegate checks again in the
    // transaction that inserts).
    auto plan = ctx_.grants.PlanDelegation(ask);
    if (!plan.ok()) return DelegationError(plan.status());
    auto worker_agent = ctx_.registry.Get(plan->agent);
    if (!worker_agent.ok()) return ErrorResponse(ctx_, worker_agent.status());
    json::object delegation{{"depth", plan->depth},
                            {"parent_agent", caller.svid.agent_name},
                            {"parent_grant", parent->grant_id}};
    auto decision = DecideGrant(ctx_, *worker_agent, plan->intent,
                                GrantContext(plan->intent, ctx_.clock.Now(), delegation));
    if (!decision.ok()) return ErrorResponse(ctx_, decision.status());
    json::object facts = decision->facts;
    facts["delegation"] = delegation;
    if (decision->result.outcome != policy::Outcome::kAllow) {
      return DelegationRefused(*plan, caller.svid.agent_name, *decision, std::move(facts));
    }
    ask.policy_hash = decision->result.policy_set_hash;
    ask.decision = std::move(facts);
    auto child = ctx_.grants.Delegate(ask);
    if (!child.ok()) return DelegationError(child.status());
    auto token = ctx_.grants.MintToken(child->id);
    if (!token.ok()) return ErrorResponse(ctx_, token.status());
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(child->expires_at -
                                                                 ctx_.clock.Now());
    // RFC 8693 scope: the actions granted, space-separated.
    std::string granted_scope;
    for (const auto& a : child->scope.actions) {
      granted_scope += (granted_scope.empty() ? "" : " ") + a;
    }
    json::object out{{"access_token", *token},
                     {"issued_token_type", kGrantTokenTypeUri},
                     {"token_type", "DPoP"},
                     {"expires_in", static_cast<int64_t>(std::max<int64_t>(0, secs.count()))},
                     {"scope", granted_scope},
                     {"grant_id", child->id}};
    Response r = Response::Json(200, out);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  // ---- admin routes

  Response AdminGet(Request& req) {
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    auto grant = ctx_.grants.Get(req.params["id"]);
    if (!grant.ok()) return ErrorResponse(ctx_, grant.status());
    return Response::Json(200, GrantToJson(*grant, ctx_.clock.Now()));
  }

  Response List(Request& req) {
    if (Status st = OnlyQueryParams(req, {"agent", "active"}); !st.ok()) {
      return ErrorResponse(ctx_, st);
    }
    std::optional<std::string> agent;
    if (auto it = req.query.find("agent"); it != req.query.end()) {
      if (Status st = identity::ValidateAgentName(it->second); !st.ok()) {
        return ErrorResponse(ctx_, InvalidArgument(st.message(), "agent"));
      }
      agent = it->second;
    }
    bool active_only = false;
    if (auto it = req.query.find("active"); it != req.query.end()) {
      if (it->second != "true" && it->second != "false") {
        return ErrorResponse(ctx_, InvalidArgument("must be true or false", "active"));
      }
      active_only = it->second == "true";
    }
    grants::GrantFilter filter;
    filter.agent = agent;
    filter.active_only = active_only;
    filter.limit = kMaxAdminList;
    auto listed = ctx_.grants.List(filter);
    if (!listed.ok()) return ErrorResponse(ctx_, listed.status());
    TimePoint now = ctx_.clock.Now();
    json::array out;
    for (const auto& grant : *listed) out.push_back(GrantToJson(grant, now));
    return Response::Json(200, json::object{{"grants", std::move(out)}});
  }

  Response Revoke(Request& req) {
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    std::optional<std::string> reason;
    if (auto bad = ReadOptionalBodyString(ctx_, req, "reason", &reason)) return std::move(*bad);
    std::string id = req.params["id"];
    auto grant = ctx_.grants.Revoke(id, kAdminActor, reason.value_or("revoked by an administrator"));
    if (!grant.ok()) return ErrorResponse(ctx_, grant.status());
    return Response::Json(200, GrantToJson(*grant, ctx_.clock.Now()));
  }

 private:
  // The grant, if it belongs to the caller; another agent's grant is
  // NotFound so ids cannot be probed.
  Result<grants::Grant> OwnGrant(const std::string& id, const SvidCaller& caller) {
    auto grant = ctx_.grants.Get(id);
    if (!grant.ok()) return grant.status();
    if (grant->agent != caller.svid.agent_name) return NotFound("grant " + id + " not found");
    return grant;
  }

  // 200/201 with a freshly minted token for an active grant.
  Response Issued(const grants::Grant& grant, unsigned http_status) {
    auto token = ctx_.grants.MintToken(grant.id);
    if (!token.ok()) return ErrorResponse(ctx_, token.status());
    json::object out{{"id", grant.id},
                     {"status", "active"},
                     {"token", *token},
                     {"token_type", "DPoP"},
                     {"task", grant.intent.task},
                     {"scope", grants::ScopeToJson(grant.scope)},
                     {"expires_at", FormatRfc3339(grant.expires_at)}};
    if (grant.approval_id) out["approval_id"] = *grant.approval_id;
    Response r = Response::Json(http_status, out);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  // The agent's view of its grant now. A pending grant whose approval was
  // granted is activated here (the approval is consumed for exactly this
  // agent, intent and scope). nullopt when still pending and !answer_pending.
  std::optional<Response> AgentView(const std::string& id, const std::string& agent,
                                    bool answer_pending) {
    auto grant = ctx_.grants.Get(id);
    if (!grant.ok()) return ErrorResponse(ctx_, grant.status());
    TimePoint now = ctx_.clock.Now();
    switch (grant->EffectiveStatus(now)) {
      case grants::GrantStatus::kActive:
        return Issued(*grant, 200);
      case grants::GrantStatus::kCompleted:
      case grants::GrantStatus::kRevoked:
      case grants::GrantStatus::kExpired: {
        Status gone = FailedPrecondition(
            "grant " + id + " is " +
            std::string(grants::GrantStatusName(grant->EffectiveStatus(now))) +
            (grant->end_reason ? ": " + *grant->end_reason : std::string()));
        return Response::Error(gone, 410);
      }
      case grants::GrantStatus::kPendingApproval:
        break;
    }
    if (!grant->approval_id) return ErrorResponse(ctx_, Internal("pending grant without approval"));
    const std::string& approval_id = *grant->approval_id;
    auto approval = ctx_.approvals.Get(approval_id);
    if (!approval.ok()) return ErrorResponse(ctx_, approval.status());
    switch (approval->EffectiveStatus(now)) {
      case approvals::ApprovalStatus::kPending: {
        if (!answer_pending) return std::nullopt;
        json::object out{{"id", grant->id},
                         {"status", "pending_approval"},
                         {"approval_id", approval_id},
                         {"approval_expires_at", FormatRfc3339(approval->expires_at)}};
        Response r = Response::Json(202, out);
        r.headers.emplace_back("Retry-After", "2");
        return r;
      }
      case approvals::ApprovalStatus::kDenied: {
        Status denied = PermissionDenied(
            "approval " + approval_id + " for grant " + id + " was denied" +
            (approval->reason ? ": " + *approval->reason : std::string()));
        return ErrorResponse(ctx_, denied);
      }
      case approvals::ApprovalStatus::kExpired:
        return Response::Error(
            FailedPrecondition("approval " + approval_id + " for grant " + id +
                               " expired before it was decided and used; request a new grant"),
            410);
      case approvals::ApprovalStatus::kUsed:
      case approvals::ApprovalStatus::kApproved:
        break;
    }
    // The approval is used and the grant activated in one transaction.
    auto active = ctx_.grants.ActivateWithApproval(id, approval_id, "agent:" + agent);
    if (!active.ok()) {
      // A concurrent poll of the same grant may have consumed and activated it.
      auto again = ctx_.grants.Get(id);
      if (again.ok() && again->EffectiveStatus(ctx_.clock.Now()) == grants::GrantStatus::kActive) {
        return Issued(*again, 200);
      }
      return ErrorResponse(ctx_, active.status());
    }
    return Issued(*active, 200);
  }

  // A refused delegation: RFC 6749 invalid_scope for a widened scope
  // element, invalid_request for another argument, else the API error.
  Response DelegationError(const Status& why) {
    if (why.code() != StatusCode::kInvalidArgument) return ErrorResponse(ctx_, why);
    return TokenError(why, why.field().starts_with("scope") ? "invalid_scope" : "invalid_request");
  }

  // 403 for a delegation the policies deny or would allow only with a human
  // approval: a token exchange cannot wait for a human in this version (the
  // worker asks for its own grant instead). Audited as grant.denied about
  // the child agent, by the delegating agent.
  Response DelegationRefused(const grants::Grant& plan, const std::string& delegator,
                             const GrantDecision& decision, json::object facts) {
    const bool needs_approval = decision.result.outcome == policy::Outcome::kNeedsApproval;
    facts["task"] = plan.intent.task;
    facts["scope"] = grants::ScopeToJson(plan.scope);
    facts["to_agent"] = plan.agent;
    if (needs_approval) facts["reason"] = "a delegation cannot wait for a human approval";
    audit::EventInput event{"agent:" + delegator, "grant.denied", "agent:" + plan.agent,
                            std::move(facts)};
    if (Status st = AuditEvent(ctx_, event); !st.ok()) {
      return ErrorResponse(ctx_, Unavailable("cannot record the decision: " + st.message()));
    }
    std::string what = "delegation of task \"" + plan.intent.task + "\" to agent \"" +
                       plan.agent + "\"";
    Status refused =
        needs_approval
            ? PermissionDenied(what + " needs a human approval by policy (" +
                               Listed(decision.approval_policies, "unnamed") +
                               "); a delegation cannot wait for one: the agent must ask for "
                               "its own grant")
            : PermissionDenied(what + " denied by policy (" +
                               Listed(decision.reasons, "no policy permits it") + ")");
    json::object out = ErrorBody(refused);
    out["decision"] = policy::OutcomeName(decision.result.outcome);
    out["policies"] = Strings(needs_approval ? decision.approval_policies : decision.reasons);
    out["policy_set_hash"] = decision.result.policy_set_hash;
    Response r = Response::Json(403, out);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  // RFC 6749 section 5.2 error body for /v1/token.
  Response TokenError(const Status& why, std::string_view code = "invalid_request") {
    json::object out{{"error", code}, {"error_description", why.message()}};
    if (!why.field().empty()) out["error_field"] = why.field();
    Response r = Response::Json(400, out);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  ApiContext& ctx_;
};

}  // namespace

Status RegisterGrantRoutes(Router& router, ApiContext& ctx) {
  auto h = std::make_shared<GrantHandlers>(ctx);
  auto bind = [h](Response (GrantHandlers::*fn)(Request&)) {
    return [h, fn](Request& r) { return ((*h).*fn)(r); };
  };
  auto admin = [&](Response (GrantHandlers::*fn)(Request&)) {
    return ctx.auth.Require(bind(fn));
  };
  WARDEN_RETURN_IF_ERROR(router.Add("POST", "/v1/grants", bind(&GrantHandlers::Create)));
  WARDEN_RETURN_IF_ERROR(router.Add("GET", "/v1/grants", admin(&GrantHandlers::List)));
  WARDEN_RETURN_IF_ERROR(router.Add("GET", "/v1/grants/{id}", bind(&GrantHandlers::Get)));
  WARDEN_RETURN_IF_ERROR(
      router.Add("POST", "/v1/grants/{id}/complete", bind(&GrantHandlers::Complete)));
  WARDEN_RETURN_IF_ERROR(
      router.Add("POST", "/v1/grants/{id}/revoke", admin(&GrantHandlers::Revoke)));
  WARDEN_RETURN_IF_ERROR(router.Add("POST", "/v1/token", bind(&GrantHandlers::Exchange)));
  return OkStatus();
}

}  // namespace warden::server::internal
