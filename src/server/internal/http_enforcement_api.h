// HTTP enforcement routes (docs/gateway.md, "HTTP enforcement"): the reverse
// proxy /proxy/{service}/{path...} and the check endpoint in its three forms
// (Envoy ext_authz http_service with path_prefix /v1/check/<service>, a JSON
// CheckRequest on POST /v1/check, nginx auth_request on GET /v1/check). Each
// authenticates the agent's grant token and DPoP proof for the original
// request, decides through the gateway's Enforcer (audited), and answers
// 200 / 403 / 401 / 400. Thread-safe (handlers share only thread-safe state).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "server/internal/api.h"

namespace warden::server::internal {

// Registers the proxy and check routes on `router`; `ctx` must outlive it.
Status RegisterHttpEnforcementRoutes(Router& router, ApiContext& ctx);

// The original request's target as a check request carries it
// ("/v1/invoices/42?x=1"), split and checked.
struct OriginalTarget {
  std::string raw_path;  // as sent, starts with '/'; what the DPoP proof and the upstream see
  std::string path;      // percent-decoded; what policies and grant scopes see
  std::string query;     // raw, without '?'; "" when none
};

// Parses an origin-form target: must start with '/', printable ASCII only,
// no fragment, valid escapes, no "%2F" or NUL, no "." / ".." segments and no
// empty segment except a trailing slash. InvalidArgument naming `field`.
Result<OriginalTarget> ParseOriginalTarget(std::string_view target, std::string_view field);

// "billing", "crm-v2": [a-z0-9][a-z0-9_-]{0,62}. InvalidArgument naming `field`.
Status ValidateServiceName(std::string_view name, std::string_view field);

// One of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS (exact, upper case).
bool IsEnforcedMethod(std::string_view method);

}  // namespace warden::server::internal
