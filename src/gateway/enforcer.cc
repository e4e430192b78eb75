#include "warden/gateway/enforcer.h"


#include "warden/audit/audit_log.h"
#include "warden/cedar/schema.h"
#include "warden/core/encoding.h"
#include "warden/core/json.h"
#include "warden/core/text.h"
#include "warden/core/time_format.h"
#include "warden/crypto/hash.h"

namespace warden::gateway {
namespace {

namespace json = boost::json;

json::array Strings(const std::vector<std::string>& v) {
  json::array out;
  out.reserve(v.size());
  for (const auto& s : v) out.emplace_back(s);
  return out;
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  for (const auto& e : v) {
    if (e == s) return true;
  }
  return false;
}

}  // namespace

json::object Verdict::ToErrorData() const {
  json::object data;
  data["grant"] = grant_id;
  data["decision"] = policy::OutcomeName(kind);
  data["policies"] = Strings(policies);
  data["policy_set_hash"] = policy_set_hash;
  data["reason"] = reason;
  if (approval_id) data["approval_id"] = *approval_id;
  return data;
}

std::string CanonicalSha256(const json::value& value) {
  return crypto::Sha256Hex(CanonicalJson(value));
}

bool ResourceCovered(const std::vector<std::string>& patterns, std::string_view resource) {
  for (const auto& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (resource.starts_with(std::string_view(p).substr(0, p.size() - 1))) return true;
    } else if (p == resource) {
      return true;
    }
  }
  return false;
}

Enforcer::Enforcer(policy::PolicyEngine& policies, grants::GrantService& grants,
                   approvals::ApprovalQueue& approvals, identity::AgentRegistry& registry,
                   store::Store& store, const Clock& clock, EnforcerOptions options)
    : policies_(policies),
      grants_(grants),
      approvals_(approvals),
      registry_(registry),
      store_(store),
      clock_(clock),
      options_(options) {}

Status Enforcer::Audit(std::string_view actor, std::string_view kind, std::string_view subject,
                       json::object details) {
  audit::EventInput event{std::string(actor), std::string(kind), std::string(subject),
                          std::move(details)};
  return audit::Record(store_, event, clock_.Now());
}

Status Enforcer::AuditRefusal(const GrantedCaller& caller, std::string_view kind,
                              std::string subject, json::object details) {
  details["agent"] = caller.agent;
  details["grant"] = caller.claims.grant_id;
  return Audit("agent:" + caller.agent, kind, subject, std::move(details));
}

Result<approvals::ApprovalStatus> Enforcer::ApprovalStatus(std::string_view approval_id) {
  return approvals_.CurrentStatus(approval_id);
}

std::optional<std::string> Enforcer::ScopeMiss(const grants::GrantClaims& claims,
                                                const Operation& op) const {
  if (!Contains(claims.scope.actions, op.scope_action)) {
    return "grant " + claims.grant_id + " does not cover " + op.scope_action;
  }
  if (op.scope_resource && !claims.scope.resources.empty() &&
      !ResourceCovered(claims.scope.resources, *op.scope_resource)) {
    return "grant " + claims.grant_id + " does not cover resource " + *op.scope_resource;
  }
  return std::nullopt;
}

Result<Enforcer::CallerState> Enforcer::LoadCaller(const GrantedCaller& caller) {
  const grants::GrantClaims& claims = caller.claims;
  CallerState state;
  state.now = clock_.Now();
  // The grant as stored: its intent is the context, and an end that the
  // revocation set has not seen yet still refuses.
  auto grant = grants_.Get(claims.grant_id);
  if (!grant.ok()) {
    if (grant.status().code() != StatusCode::kNotFound) return grant.status();
    state.refusal = "grant " + claims.grant_id + " does not exist";
    return state;
  }
  state.grant = std::move(*grant);
  auto effective = state.grant.EffectiveStatus(state.now);
  if (effective != grants::GrantStatus::kActive) {
    state.refusal =
        "grant " + claims.grant_id + " is " + std::string(grants::GrantStatusName(effective));
    return state;
  }
  if (state.grant.agent != caller.agent) {
    state.refusal = "grant " + claims.grant_id + " belongs to another agent";
    return state;
  }
  auto agent = registry_.Get(caller.agent);
  if (!agent.ok()) {
    if (agent.status().code() != StatusCode::kNotFound) return agent.status();
    state.refusal = "agent " + caller.agent + " is not registered";
    return state;
  }
  state.agent = std::move(*agent);
  if (state.grant.parent_id) {
    auto parent = grants_.Get(*state.grant.parent_id);
    if (!parent.ok()) return parent.status();
    state.parent_agent = parent->agent;
  }
  return state;
}

policy::DecisionInput Enforcer::BuildInput(const GrantedCaller& caller, const Operation& op,
                                           const CallerState& state,
                                           const policy::PolicyBundle& bundle) const {
  const grants::Grant& grant = state.grant;
  const cedar::Schema* schema = bundle.schema.get();
  std::string action = op.action;
  json::array entities;
  if (!op.specific_action.empty() && schema != nullptr &&
      schema->FindAction(cedar::SchemaUid{"Action", op.specific_action}) != nullptr) {
    action = op.specific_action;
    // The engine takes action-group membership from the entities, so the
    // schema's groups are given as the action entity's parents: a policy
    // on `action in Action::"call"` matches the specific action too.
    json::array parents;
    for (const auto& group :
         schema->ActionAncestors(cedar::SchemaUid{"Action", op.specific_action})) {
      parents.push_back(json::object{{"type", group.type}, {"id", group.id}});
    }
    entities.push_back(json::object{{"uid", json::object{{"type", "Action"}, {"id", action}}},
                                    {"attrs", json::object()},
                                    {"parents", std::move(parents)}});
  }
  entities.push_back(
      json::object{{"uid", json::object{{"type", op.resource_type}, {"id", op.resource_id}}},
                   {"attrs", op.resource_attrs},
                   {"parents", json::array()}});

  json::object context = op.context;
  context["grant"] = json::object{{"id", caller.claims.grant_id},
                                  {"task", grant.intent.task},
                                  {"actions", Strings(grant.scope.actions)},
                                  {"resources", Strings(grant.scope.resources)}};
  context["environment"] = grant.intent.environment;
  context["sensitivity"] = grants::SensitivityName(grant.intent.sensitivity);
  json::object delegation{{"depth", grant.depth}};
  if (grant.parent_id && state.parent_agent) {
    delegation["parent_agent"] = *state.parent_agent;
    delegation["parent_grant"] = *grant.parent_id;
  }
  context["delegation"] = std::move(delegation);
  if (grant.on_behalf_of) context["on_behalf_of"] = *grant.on_behalf_of;
  context["time"] = policy::DecisionTimeContext(state.now);
  context["risk"] = int64_t{0};
  context.erase("approval");  // only the enforcer says an approval was granted
  policy::DropUndeclaredContext(schema, action, context);

  policy::DecisionInput input;
  input.principal = cedar::EntityUid(cedar::EntityType("Agent"), caller.agent);
  input.action = cedar::EntityUid(cedar::EntityType("Action"), action);
  input.resource = cedar::EntityUid(cedar::EntityType(op.resource_type), op.resource_id);
  input.context = std::move(context);
  input.entities = std::move(entities);
  input.agent = state.agent;
  return input;
}

Result<std::vector<VerdictKind>> Enforcer::Preview(const GrantedCaller& caller,
                                                   const std::vector<Operation>& ops) {
  std::vector<VerdictKind> out(ops.size(), VerdictKind::kDeny);
  WARDEN_ASSIGN_OR_RETURN(CallerState state, LoadCaller(caller));
  if (state.refusal) return out;
  auto bundle = policies_.Current();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ScopeMiss(caller.claims, ops[i])) continue;
    policy::DecisionInput input = BuildInput(caller, ops[i], state, *bundle);
    auto decided = policy::Decide(bundle, input, state.now);
    if (!decided.ok()) {
      // A per-tool action whose schema types the arguments cannot be asked
      // about a call without them: not judged here, decided at call time.
      if (decided.status().code() == StatusCode::kInvalidArgument) {
        if (input.action.id() != ops[i].action) out[i] = VerdictKind::kNeedsApproval;
        continue;
      }
      return decided.status();
    }
    out[i] = decided->outcome;
  }
  return out;
}

Result<Verdict> Enforcer::Authorize(const GrantedCaller& caller, const Operation& op,
                                    const std::optional<std::string>& approval_id) {
  const grants::GrantClaims& claims = caller.claims;
  Verdict v;
  v.grant_id = claims.grant_id;
  v.actor = "agent:" + caller.agent;
  v.audit_kind = op.audit_kind;
  v.audit_subject = op.audit_subject;

  json::object subject = op.approval_subject;
  subject["agent"] = caller.agent;
  subject["grant"] = claims.grant_id;
  v.subject_sha256 = approvals::ComputeSubjectSha256(approvals::ApprovalKind::kCall, subject);

  json::object details = op.audit_details;
  details["agent"] = caller.agent;
  details["grant"] = claims.grant_id;

  // Writes the refusal (or the needs_approval) event and returns the verdict.
  auto finish = [&](Verdict out) -> Result<Verdict> {
    json::object d = details;
    d["decision"] = policy::OutcomeName(out.kind);
    d["policies"] = Strings(out.policies);
    d["policy_set_hash"] = out.policy_set_hash;
    d["reason"] = out.reason;
    if (out.approval_id) d["approval_id"] = *out.approval_id;
    WARDEN_RETURN_IF_ERROR(Audit(out.actor, out.audit_kind, out.audit_subject, std::move(d)));
    return out;
  };
  auto deny = [&](std::string reason) -> Result<Verdict> {
    Verdict out = v;
    out.kind = VerdictKind::kDeny;
    out.reason = std::move(reason);
    return finish(std::move(out));
  };

  // 1. Scope: checked on the signed claims, before anything else is read.
  if (auto miss = ScopeMiss(claims, op)) return deny(std::move(*miss));

  // 2. The grant and the agent as stored.
  WARDEN_ASSIGN_OR_RETURN(CallerState state, LoadCaller(caller));
  if (state.refusal) return deny(std::move(*state.refusal));
  const grants::Grant* grant = &state.grant;
  TimePoint now = state.now;
  auto bundle = policies_.Current();
  const cedar::Schema* schema = bundle->schema.get();
  policy::DecisionInput input = BuildInput(caller, op, state, *bundle);
  std::string action(input.action.id());
  details["action"] = action;

  auto decided = policy::Decide(bundle, input, now);
  if (!decided.ok()) {
    if (decided.status().code() == StatusCode::kInvalidArgument) {
      // An operation the policy schema cannot describe is refused, never
      // decided: fail closed, and say why.
      Verdict out = v;
      out.kind = VerdictKind::kDeny;
      out.policy_set_hash = bundle->hash;
      out.reason = "the request does not fit the policy schema: " + decided.status().message();
      return finish(std::move(out));
    }
    return decided.status();
  }
  auto names = [&](const std::vector<std::string>& ids) {
    std::vector<std::string> out;
    for (const auto& id : ids) out.push_back(decided->bundle->DisplayName(id));
    return out;
  };
  v.policy_set_hash = decided->policy_set_hash;

  // Counts the use (when the grant is limited) and hands back an allow whose
  // audit event Complete writes.
  auto allow = [&](Verdict out) -> Result<Verdict> {
    if (grant->max_calls) {
      auto used = grants_.RecordUse(claims.grant_id, out.actor);
      if (!used.ok()) {
        if (used.status().code() == StatusCode::kResourceExhausted) {
          out.kind = VerdictKind::kDeny;
          out.reason = "grant " + claims.grant_id + " has used all of its " +
                       std::to_string(*grant->max_calls) + " calls";
          out.approval_id.reset();
          return finish(std::move(out));
        }
        if (used.status().code() == StatusCode::kFailedPrecondition) {
          out.kind = VerdictKind::kDeny;
          out.reason = used.status().message();
          out.approval_id.reset();
          return finish(std::move(out));
        }
        return used.status();
      }
      details["calls"] = *used;
    }
    out.kind = VerdictKind::kAllow;
    json::object d = details;
    d["decision"] = "allow";
    d["policies"] = Strings(out.policies);
    d["policy_set_hash"] = out.policy_set_hash;
    if (out.approval_id) d["approval_id"] = *out.approval_id;
    out.pending_audit = std::move(d);
    return out;
  };

  switch (decided->outcome) {
    case policy::Outcome::kAllow: {
      Verdict out = v;
      out.policies = names(decided->response.diagnostics.reasons);
      out.reason = "allowed by " + JoinComma(out.policies);
      return allow(std::move(out));
    }
    case policy::Outcome::kDeny: {
      Verdict out = v;
      out.kind = VerdictKind::kDeny;
      out.policies = names(decided->response.diagnostics.reasons);
      out.reason = out.policies.empty()
                       ? "no policy permits " + op.scope_action + " (default deny)"
                       : "forbidden by " + JoinComma(out.policies);
      if (!decided->response.diagnostics.errors.empty()) {
        json::array erroring;
        for (const auto& e : decided->response.diagnostics.errors) {
          erroring.emplace_back(decided->bundle->DisplayName(e.policy_id));
        }
        details["errors"] = std::move(erroring);
      }
      return finish(std::move(out));
    }
    case policy::Outcome::kNeedsApproval:
      break;
  }

  // 3. Needs a human: an approval for this very subject, named or found.
  std::vector<std::string> approval_policies = names(decided->approval_policies);
  std::optional<approvals::Approval> existing;
  if (approval_id) {
    auto got = approvals_.Get(*approval_id);
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound ||
          got.status().code() == StatusCode::kInvalidArgument) {
        return deny("approval " + *approval_id + " does not exist");
      }
      return got.status();
    }
    if (got->kind != approvals::ApprovalKind::kCall || got->agent != caller.agent ||
        !ConstantTimeEquals(got->subject_sha256, v.subject_sha256)) {
      return deny("approval " + *approval_id + " was given for another call");
    }
    existing = std::move(*got);
  } else {
    for (auto status : {approvals::ApprovalStatus::kApproved, approvals::ApprovalStatus::kPending}) {
      approvals::ApprovalFilter filter;
      filter.status = status;
      filter.agent = caller.agent;
      filter.limit = 1000;
      WARDEN_ASSIGN_OR_RETURN(auto list, approvals_.List(filter));
      for (auto& a : list) {
        if (a.kind == approvals::ApprovalKind::kCall &&
            ConstantTimeEquals(a.subject_sha256, v.subject_sha256)) {
          existing = std::move(a);
          break;
        }
      }
      if (existing) break;
    }
  }

  if (existing) {
    auto status = existing->EffectiveStatus(now);
    if (status == approvals::ApprovalStatus::kPending) {
      // Still waiting: not a new decision, so not a new audit event.
      Verdict out = v;
      out.kind = VerdictKind::kNeedsApproval;
      out.policies = approval_policies;
      out.approval_id = existing->id;
      out.reason = "waiting for a human decision on approval " + existing->id;
      return out;
    }
    if (status != approvals::ApprovalStatus::kApproved) {
      Verdict out = v;
      out.kind = VerdictKind::kDeny;
      out.policies = approval_policies;
      out.approval_id = existing->id;
      out.reason = "approval " + existing->id + " is " +
                   std::string(approvals::ApprovalStatusName(status)) +
                   (existing->reason ? ": " + *existing->reason : "");
      return finish(std::move(out));
    }
    // Approved: decide again as approved (the policies in force now must
    // still allow it), then use the approval once.
    input.context.as_object()["approval"] = json::object{{"granted", true}};
    if (schema != nullptr) {
      const cedar::ActionDef* def = schema->FindAction(cedar::SchemaUid{"Action", action});
      if (def != nullptr && def->context.FindAttribute("approval") == nullptr) {
        input.context.as_object().erase("approval");
      }
    }
    WARDEN_ASSIGN_OR_RETURN(auto again, policy::Decide(bundle, input, now));
    if (again.outcome != policy::Outcome::kAllow) {
      Verdict out = v;
      out.kind = VerdictKind::kDeny;
      out.policies = names(again.response.diagnostics.reasons);
      out.approval_id = existing->id;
      out.reason = "approval " + existing->id + " no longer suffices under the policies in force";
      return finish(std::move(out));
    }
    Verdict out = v;
    out.policies = names(again.response.diagnostics.reasons);
    out.approval_id = existing->id;
    out.reason = "allowed by " + JoinComma(out.policies) + " with approval " + existing->id;
    auto allowed = allow(std::move(out));
    if (!allowed.ok() || allowed->kind != VerdictKind::kAllow) return allowed;
    auto consumed = approvals_.Consume(existing->id, v.subject_sha256, v.actor);
    if (!consumed.ok()) {
      Verdict refused = v;
      refused.kind = VerdictKind::kDeny;
      refused.approval_id = existing->id;
      refused.reason = "approval " + existing->id + " cannot be used: " +
                       consumed.status().message();
      return finish(std::move(refused));
    }
    return allowed;
  }

  approvals::ApprovalRequest request;
  request.kind = approvals::ApprovalKind::kCall;
  request.subject_sha256 = v.subject_sha256;
  request.agent = caller.agent;
  request.on_behalf_of = grant->on_behalf_of;
  request.summary = op.approval_summary;
  request.summary["agent"] = caller.agent;
  request.summary["grant"] = claims.grant_id;
  request.summary["task"] = grant->intent.task;
  request.summary["policies"] = Strings(approval_policies);
  request.ttl = options_.approval_ttl;
  auto created = approvals_.Create(request, v.actor);
  if (!created.ok()) {
    if (created.status().code() == StatusCode::kResourceExhausted) {
      return deny("cannot ask for an approval: " + created.status().message());
    }
    return created.status();
  }
  Verdict out = v;
  out.kind = VerdictKind::kNeedsApproval;
  out.policies = approval_policies;
  out.approval_id = created->id;
  out.reason = "needs a human approval (" + JoinComma(approval_policies) + "): approval " +
               created->id;
  return finish(std::move(out));
}

Status Enforcer::Complete(const Verdict& allowed, const ForwardOutcome& outcome) {
  json::object d = allowed.pending_audit;
  d["outcome"] = outcome.ok ? "forwarded" : "upstream_error";
  if (!outcome.ok) d["error"] = outcome.error;
  if (!outcome.result_sha256.empty()) d["result_sha256"] = outcome.result_sha256;
  d["result_bytes"] = outcome.result_bytes;
  d["upstream_latency_ms"] = static_cast<int64_t>(outcome.upstream_latency.count());
  for (const auto& [k, val] : outcome.extra) d[k] = val;
  return Audit(allowed.actor, allowed.audit_kind, allowed.audit_subject, std::move(d));
}

}  // namespace warden::gateway
