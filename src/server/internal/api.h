// The routes Warden serves: health (/healthz, /readyz), /metrics, and the
// admin API (agents, audit). Handlers translate HTTP to module calls and
// module Status values to JSON errors; they hold no state of their own.
// Routes are registered once before serving; handlers are thread-safe.
#pragma once

#include <atomic>
#include <initializer_list>

#include "server/internal/admin_auth.h"
#include "server/internal/event_budget.h"
#include "server/internal/metrics.h"
#include "warden/audit/audit_log.h"
#include "warden/core/clock.h"
#include "warden/approvals/approval_queue.h"
#include "warden/approvals/approvers.h"
#include "warden/crypto/dpop.h"
#include "warden/gateway/enforcer.h"
#include "warden/gateway/mcp_proxy.h"
#include "warden/grants/grant_service.h"
#include "warden/identity/key_store.h"
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
  identity::KeyRing& keys;
  grants::GrantService& grants;
  approvals::ApprovalQueue& approvals;
  approvals::ApproverRegistry& approvers;
  crypto::DpopReplayCache& dpop_replay;
  const Clock& clock;
  Metrics& metrics;
  AdminAuth& auth;
  const ServeOptions& options;
  const std::atomic<bool>& stopping;  // set when shutdown begins
  // The enforcement gateway: decisions on tool calls and HTTP requests
  // (gateway::Enforcer) and the MCP proxy behind /mcp/{server}.
  gateway::Enforcer& enforcer;
  gateway::McpProxy& mcp;
  // Refused agent authentications (SVID, grant token, DPoP) audited per
  // source address and minute (options.auth_failure_events_per_minute).
  EventBudget& agent_auth_failures;
};

// The request body as JSON, within options.max_body_bytes; errors carry
// field "body".
Result<boost::json::value> ParseBody(const ApiContext& ctx, const Request& req);

// Unknown query parameters are InvalidArgument naming the parameter (a filter
// the server ignored would silently answer more than was asked); so is a
// query string that could not be parsed (req.query_status).
Status OnlyQueryParams(const Request& req, std::initializer_list<std::string_view> allowed);

// A decimal integer query value within [lo, hi]; InvalidArgument naming `field`.
Result<int64_t> ParseQueryInt(std::string_view text, std::string_view field, int64_t lo,
                              int64_t hi);

// For bodies that are optional and hold at most one string member `key`
// ({"reason": ".."}): an empty body leaves *out empty. Returns the error
// response to send (415, 400 naming the field) or nullopt.
std::optional<Response> ReadOptionalBodyString(ApiContext& ctx, const Request& req,
                                               std::string_view key,
                                               std::optional<std::string>* out);

// Appends one audit event in its own durable write; counts a store error on failure.
Status AuditEvent(ApiContext& ctx, const audit::EventInput& event);

// Registers every route on `router`.
Status RegisterRoutes(Router& router, ApiContext& ctx);

// The error response for `status`; counts store failures (unavailable,
// data_loss, internal) in the metrics.
Response ErrorResponse(ApiContext& ctx, const Status& status);

// nullopt when the request's Content-Type is application/json (or a +json
// type); otherwise the 415 response.
std::optional<Response> RequireJsonContentType(const Request& request);

}  // namespace warden::server::internal
