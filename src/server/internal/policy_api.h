// The policy routes: GET /v1/policies (what is loaded), POST
// /v1/policies/reload (also run on SIGHUP), POST /v1/authorize (a decision with
// the server's policies and the registry's entities). Every reload, refused
// reload and decision is audited with the policy set's hash.
// Thread-safe: handlers read the engine's immutable snapshots.
#pragma once

#include <string_view>

#include "server/internal/api.h"
#include "warden/policy/engine.h"

namespace warden::server::internal {

Status RegisterPolicyRoutes(Router& router, ApiContext& ctx);

// Reloads DATA/policies and audits the outcome ("policy.reloaded" or
// "policy.reload_refused"); on error the running set stays.
Result<std::shared_ptr<const policy::PolicyBundle>> ReloadPolicies(ApiContext& ctx,
                                                                   std::string_view actor);

// Appends "policy.loaded" for the set loaded at start.
Status AuditPoliciesLoaded(ApiContext& ctx);

// {"hash", "loaded_at", "files": [...], "policies": [...], "warnings": [...]}.
boost::json::object BundleToJson(const policy::PolicyBundle& bundle);

}  // namespace warden::server::internal
