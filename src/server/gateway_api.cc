#include "server/internal/gateway_api.h"

#include <memory>

#include "server/internal/caller_auth.h"
#include "warden/gateway/mcp_proxy.h"

namespace warden::server::internal {
namespace {

Response ToResponse(gateway::McpResponse m) {
  Response r;
  r.status = m.status;
  // A 202 has no body; its Content-Type is immaterial but always present.
  r.content_type = m.content_type.empty() ? "application/json" : std::move(m.content_type);
  r.body = std::move(m.body);
  r.headers = std::move(m.headers);
  return r;
}

std::optional<std::string> HeaderValue(const Request& req, std::string_view name) {
  auto v = req.Header(name);
  if (!v) return std::nullopt;
  return std::string(*v);
}

gateway::McpRequest ToMcpRequest(const Request& req) {
  gateway::McpRequest m;
  m.body = req.body;
  m.session_id = HeaderValue(req, "mcp-session-id");
  m.protocol_version = HeaderValue(req, "mcp-protocol-version");
  m.accept = HeaderValue(req, "accept");
  m.content_type = HeaderValue(req, "content-type");
  return m;
}

class GatewayHandlers {
 public:
  explicit GatewayHandlers(ApiContext& ctx) : ctx_(ctx) {}

  Response Post(Request& req) {
    GrantCaller caller;
    if (auto refused = AuthenticateGrant(ctx_, req, &caller)) return std::move(*refused);
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    gateway::GrantedCaller granted{caller.claims, caller.agent};
    gateway::PostResult result = ctx_.mcp.Post(granted, req.params["server"], ToMcpRequest(req));
    if (!result.pending) return ToResponse(std::move(result.response));
    // The call waits for a human as a long-poll: each poll is a counter
    // read, and a store read only after a decision or once a second.
    gateway::McpProxy* mcp = &ctx_.mcp;
    std::shared_ptr<gateway::PendingCall> pending = std::move(result.pending);
    Response r;
    r.deferred = std::make_shared<Deferred>();
    r.deferred->deadline = std::chrono::steady_clock::now() + mcp->approval_wait();
    r.deferred->poll = [mcp, pending](bool final) -> std::optional<Response> {
      auto answer = mcp->Poll(*pending, final);
      if (!answer) return std::nullopt;
      return ToResponse(std::move(*answer));
    };
    return r;
  }

  Response Delete(Request& req) {
    GrantCaller caller;
    if (auto refused = AuthenticateGrant(ctx_, req, &caller)) return std::move(*refused);
    if (Status st = OnlyQueryParams(req, {}); !st.ok()) return ErrorResponse(ctx_, st);
    gateway::GrantedCaller granted{caller.claims, caller.agent};
    return ToResponse(ctx_.mcp.Delete(granted, req.params["server"], ToMcpRequest(req)));
  }

 private:
  ApiContext& ctx_;
};

}  // namespace

Status RegisterGatewayRoutes(Router& router, ApiContext& ctx) {
  auto h = std::make_shared<GatewayHandlers>(ctx);
  WARDEN_RETURN_IF_ERROR(
      router.Add("POST", "/mcp/{server}", [h](Request& r) { return h->Post(r); }));
  WARDEN_RETURN_IF_ERROR(
      router.Add("DELETE", "/mcp/{server}", [h](Request& r) { return h->Delete(r); }));
  return OkStatus();
}

}  // namespace warden::server::internal
