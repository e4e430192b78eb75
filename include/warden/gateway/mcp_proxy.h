// McpProxy: the MCP side of the gateway, independent of the HTTP server.
// It takes what an authenticated agent POSTs (or DELETEs) at /mcp/<server>,
// speaks the Streamable HTTP transport to the configured upstream with
// Warden's own credentials, filters tools/list, authorizes every tools/call
// through the Enforcer, and answers with JSON-RPC (JSON or SSE). Sessions
// are Warden's own ids mapped to the upstream's and bound to the grant that
// opened them. docs/gateway.md describes the behaviour and the error codes.
// Thread-safe: sessions and the upstream connection pools are guarded; upstream
// calls block the calling thread for at most the upstream's timeout.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "warden/core/clock.h"
#include "warden/gateway/config.h"
#include "warden/gateway/enforcer.h"
#include "warden/gateway/jsonrpc.h"

namespace warden::gateway {

// The parts of the agent's HTTP request the proxy reads.
struct McpRequest {
  std::string body;
  std::optional<std::string> session_id;        // Mcp-Session-Id
  std::optional<std::string> protocol_version;  // MCP-Protocol-Version
  std::optional<std::string> accept;            // Accept
  std::optional<std::string> content_type;      // Content-Type
};

struct McpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A single tools/call waiting for a human decision (see McpProxy::Poll).
class PendingCall;

struct PostResult {
  McpResponse response;                  // when pending is null
  std::shared_ptr<PendingCall> pending;  // a call that waits for its approval
};

class McpProxy {
 public:
  // Borrows `config`, `enforcer` and `clock`; they must outlive the proxy.
  // InvalidArgument when an upstream URL cannot be used (checked at start).
  static Result<std::unique_ptr<McpProxy>> Create(const GatewayConfig& config, Enforcer& enforcer,
                                                  const Clock& clock);

  // Handles one POST from `caller` to /mcp/<server>. Never an error: every
  // failure is an HTTP status with a JSON-RPC error body. A single
  // tools/call that needs approval comes back as `pending`.
  PostResult Post(const GrantedCaller& caller, std::string_view server, const McpRequest& request);

  // Advances a pending call: nullopt while its approval is pending and
  // `final` is false; at a decision (or `final`, the wait's end) the
  // response: forwarded result, denial, or kApprovalPending naming the
  // approval for a retry. Cheap while nothing changed (a counter read).
  std::optional<McpResponse> Poll(PendingCall& pending, bool final);

  // DELETE /mcp/<server>: ends the caller's session here and upstream.
  McpResponse Delete(const GrantedCaller& caller, std::string_view server,
                     const McpRequest& request);

  // How long a pending call waits (GatewayConfig::approval_wait).
  std::chrono::seconds approval_wait() const { return config_.approval_wait; }

  // Number of live sessions (for tests and metrics).
  size_t SessionCount();

  struct Session {
    std::string upstream_id;  // the upstream's Mcp-Session-Id ("" when it gave none)
    std::string server;
    std::string agent;
    std::string grant_id;
    TimePoint expires_at;     // the grant's expiry: the session cannot outlive it
    std::string protocol_version;
  };

  // What one upstream exchange produced.
  struct UpstreamReply {
    int http_status = 0;
    bool sse = false;
    std::vector<SseEvent> events;       // for sse
    std::vector<JsonRpcMessage> messages;  // parsed from JSON or SSE data
    std::optional<std::string> session_id;
    size_t body_bytes = 0;
    std::chrono::milliseconds latency{0};
  };

 private:
  struct Target {
    const Upstream* upstream;
    UpstreamClient client;
  };
  McpProxy(const GatewayConfig& config, Enforcer& enforcer, const Clock& clock,
           std::map<std::string, Target, std::less<>> targets)
      : config_(config), enforcer_(enforcer), clock_(clock), targets_(std::move(targets)) {}

  friend class PendingCall;
  struct Context;  // one POST being handled

  Result<UpstreamReply> Exchange(const Target& target, std::string_view method,
                                 const std::string& body, const std::string& upstream_session,
                                 const std::string& protocol_version);
  std::optional<boost::json::object> HandleMessage(Context& c, const JsonRpcMessage& m,
                                                   bool may_wait);
  boost::json::object ForwardRequest(Context& c, const JsonRpcMessage& m,
                                     const std::optional<Verdict>& allowed);
  McpResponse Finish(Context& c);
  void FilterToolList(Context& c, boost::json::object& response);

  const GatewayConfig& config_;
  Enforcer& enforcer_;
  const Clock& clock_;
  const std::map<std::string, Target, std::less<>> targets_;

  std::mutex mu_;
  std::map<std::string, Session, std::less<>> sessions_;  // by Warden's session id
};

// A JSON-RPC message's digest and the Operation the proxy builds for a
// tools/call, exposed for tests and for other transports.
Operation ToolCallOperation(const Upstream& upstream, const ToolCall& call,
                            bool audit_arguments);

}  // namespace warden::gateway
