#include "server/internal/policy_api.h"

#include "server/internal/log.h"
#include "warden/audit/audit_log.h"
#include "warden/cedar/entity_json.h"
#include "warden/core/json.h"
#include "warden/core/time_format.h"
#include "warden/crypto/hash.h"

namespace warden::server::internal {
namespace {

constexpr std::string_view kAdminActor = "admin";
// Long validation reports are cut in audit events; the API returns them whole.
constexpr size_t kMaxAuditedErrorText = 4096;

json::array Ids(const std::vector<std::string>& ids) {
  json::array out;
  for (const auto& id : ids) out.emplace_back(id);
  return out;
}


class PolicyHandlers {
 public:
  explicit PolicyHandlers(ApiContext& ctx) : ctx_(ctx) {}

  Response List(Request&) { return Response::Json(200, BundleToJson(*ctx_.policies.Current())); }

  Response Reload(Request&) {
    std::string previous = ctx_.policies.Current()->hash;
    auto bundle = ReloadPolicies(ctx_, kAdminActor);
    if (!bundle.ok()) return ErrorResponse(ctx_, bundle.status());
    json::object out = BundleToJson(**bundle);
    out["previous_hash"] = previous;
    return Response::Json(200, out);
  }

  Response Authorize(Request& req) {
    if (auto bad = RequireJsonContentType(req)) return std::move(*bad);
    auto body = ParseBody(ctx_, req);
    if (!body.ok()) return ErrorResponse(ctx_, body.status());
    auto obj = StrictObject::From(*body);
    if (!obj.ok()) return ErrorResponse(ctx_, obj.status());
    obj->Optional("principal");
    obj->Optional("action");
    obj->Optional("resource");
    const json::value* context = obj->Optional("context");
    const json::value* entities = obj->Optional("entities");
    if (Status st = obj->Finish(); !st.ok()) return ErrorResponse(ctx_, st);

    policy::DecisionInput input;
    auto principal = policy::RequestUid(*body, "principal");
    if (!principal.ok()) return ErrorResponse(ctx_, principal.status());
    auto action = policy::RequestUid(*body, "action");
    if (!action.ok()) return ErrorResponse(ctx_, action.status());
    auto resource = policy::RequestUid(*body, "resource");
    if (!resource.ok()) return ErrorResponse(ctx_, resource.status());
    input.principal = *principal;
    input.action = *action;
    input.resource = *resource;
    if (context != nullptr) input.context = *context;
    if (entities != nullptr) input.entities = *entities;
    if (input.principal.type().name() == "Agent") {
      // Agents are what the registry says they are, never what a caller claims.
      auto agent = ctx_.registry.Get(input.principal.id());
      if (!agent.ok()) return ErrorResponse(ctx_, agent.status());
      input.agent = std::move(*agent);
    }
    auto decision = ctx_.policies.Decide(input);
    if (!decision.ok()) return ErrorResponse(ctx_, decision.status());

    const auto& diag = decision->response.diagnostics;
    json::array errors;
    for (const auto& e : diag.errors) {
      errors.push_back(json::object{{"policy", e.policy_id}, {"message", e.message}});
    }
    json::array names;
    for (const auto& id : diag.reasons) names.emplace_back(decision->bundle->DisplayName(id));
    json::object out{{"decision", policy::OutcomeName(decision->outcome)},
                     {"reasons", Ids(diag.reasons)},
                     {"reason_names", std::move(names)},
                     {"errors", std::move(errors)},
                     {"policy_set_hash", decision->policy_set_hash}};
    if (decision->outcome == policy::Outcome::kNeedsApproval) {
      out["approval_policies"] = Ids(decision->approval_policies);
    }

    audit::EventInput event{std::string(kAdminActor), "policy.decision",
                            input.principal.ToString(), {}};
    event.details["principal"] = input.principal.ToString();
    event.details["action"] = input.action.ToString();
    event.details["resource"] = input.resource.ToString();
    event.details["decision"] = policy::OutcomeName(decision->outcome);
    event.details["reasons"] = Ids(diag.reasons);
    json::array erroring;
    for (const auto& e : diag.errors) erroring.emplace_back(e.policy_id);
    event.details["errors"] = std::move(erroring);
    event.details["policy_set_hash"] = decision->policy_set_hash;
    // The context may carry sensitive arguments: keep only its digest.
    event.details["context_sha256"] = crypto::Sha256Hex(CanonicalJson(input.context));
    if (Status st = AuditEvent(ctx_, std::move(event)); !st.ok()) {
      // No decision without its evidence: fail closed.
      return ErrorResponse(ctx_, Unavailable("cannot record the decision: " + st.message()));
    }
    return Response::Json(200, out);
  }

 private:
  ApiContext& ctx_;
};

}  // namespace

json::object BundleToJson(const policy::PolicyBundle& bundle) {
  json::array files;
  for (const auto& f : bundle.files) {
    files.push_back(json::object{{"name", f.name},
                                 {"sha256", f.sha256},
                                 {"policies", static_cast<int64_t>(f.policies)}});
  }
  json::array policies;
  for (const auto& p : bundle.infos) {
    json::object o{{"id", p.id},
                   {"effect", p.effect},
                   {"template", p.is_template},
                   {"location", p.location}};
    if (!p.name.empty()) o["name"] = p.name;
    policies.push_back(std::move(o));
  }
  json::array warnings;
  for (const auto& w : bundle.warnings) warnings.emplace_back(w);
  return json::object{{"hash", bundle.hash},
                      {"loaded_at", FormatRfc3339(bundle.loaded_at)},
                      {"files", std::move(files)},
                      {"policies", std::move(policies)},
                      {"warnings", std::move(warnings)}};
}

Result<std::shared_ptr<const policy::PolicyBundle>> ReloadPolicies(ApiContext& ctx,
                                                                   std::string_view actor) {
  std::string previous = ctx.policies.Current()->hash;
  auto bundle = ctx.policies.Reload();
  audit::EventInput event{std::string(actor), "", "policies", {}};
  event.details["previous_hash"] = previous;
  if (bundle.ok()) {
    event.kind = "policy.reloaded";
    event.details["hash"] = (*bundle)->hash;
    event.details["policies"] = static_cast<int64_t>((*bundle)->infos.size());
    LogJson(spdlog::level::info, "policies reloaded",
            {{"hash", (*bundle)->hash}, {"previous_hash", previous}});
  } else {
    event.kind = "policy.reload_refused";
    std::string why = bundle.status().message();
    if (why.size() > kMaxAuditedErrorText) why = why.substr(0, kMaxAuditedErrorText) + "...";
    event.details["error"] = why;
    LogJson(spdlog::level::warn, "policy reload refused; the running policies stay",
            {{"hash", previous}});
  }
  Status st = AuditEvent(ctx, std::move(event));
  if (!bundle.ok()) {
    return bundle.status().WithContext("policy reload refused, the running policies are unchanged");
  }
  if (!st.ok()) return Unavailable("policies reloaded but the audit event failed: " + st.message());
  return bundle;
}

Status AuditPoliciesLoaded(ApiContext& ctx) {
  auto bundle = ctx.policies.Current();
  audit::EventInput event{"system", "policy.loaded", "policies", {}};
  event.details["hash"] = bundle->hash;
  event.details["policies"] = static_cast<int64_t>(bundle->infos.size());
  json::array files;
  for (const auto& f : bundle->files) files.emplace_back(f.name);
  event.details["files"] = std::move(files);
  return AuditEvent(ctx, std::move(event));
}

Status RegisterPolicyRoutes(Router& router, ApiContext& ctx) {
  auto h = std::make_shared<PolicyHandlers>(ctx);
  auto admin = [&](Response (PolicyHandlers::*fn)(Request&)) {
    return ctx.auth.Require([h, fn](Request& r) { return ((*h).*fn)(r); });
  };
  WARDEN_RETURN_IF_ERROR(router.Add("GET", "/v1/policies", admin(&PolicyHandlers::List)));
  WARDEN_RETURN_IF_ERROR(
      router.Add("POST", "/v1/policies/reload", admin(&PolicyHandlers::Reload)));
  WARDEN_RETURN_IF_ERROR(router.Add("POST", "/v1/authorize", admin(&PolicyHandlers::Authorize)));
  return OkStatus();
}

}  // namespace warden::server::internal
