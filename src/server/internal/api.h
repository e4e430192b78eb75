// The routes Warden serves: health (/healthz, /readyz), /metrics, and the
// admin API (agents, audit). Handlers translate HTTP to module calls and
// module Status values to JSON errors; they hold no state of their own.
// Routes are registered once before serving; handlers are thread-safe.
#pragma once

#include <atomic>

#include "server/internal/admin_auth.h"
#include "server/internal/metrics.h"
#include "warden/core/clock.h"
#include "warden/identity/registry.h"
#include "warden/policy/engine.h"
#include "warden/server/options.h"
#include "warden/server/router.h"
#include "warden/store/store.h"

namespace warden::server::internal {

// Everything handlers borrow; must outlive the HTTP server.
struct ApiContext {
  store::Store& store;
  identity::AgentRegistry& registry;
  policy::PolicyEngine& policies;
  const Clock& clock;
  Metrics& metrics;
  AdminAuth& auth;
  const ServeOptions& options;
  const std::atomic<bool>& stopping;  // set when shutdown begins
};

// The request body as JSON, within options.max_body_bytes; errors carry
// field "body".
Result<boost::json::value> ParseBody(const ApiContext& ctx, const Request& req);

// Registers every route on `router`.
Status RegisterRoutes(Router& router, ApiContext& ctx);

// The error response for `status`; counts store failures (unavailable,
// data_loss, internal) in the metrics.
Response ErrorResponse(ApiContext& ctx, const Status& status);

// nullopt when the request's Content-Type is application/json (or a +json
// type); otherwise the 415 response.
std::optional<Response> RequireJsonContentType(const Request& request);

}  // namespace warden::server::internal
