// GatewayConfig: the upstreams the enforcement gateway fronts, read from the
// "gateway" member of the `warden serve` JSON config (docs/gateway.md):
// MCP servers reached over Streamable HTTP (served at /mcp/<name>) and HTTP
// services (served at /proxy/<name>/... and checked at /v1/check). Upstream
// credentials are Warden's own: an agent's grant token is never forwarded.
// Plain values; ParseGatewayConfig is pure and thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "warden/core/status.h"
#include "warden/net/http_client_pool.h"

namespace warden::gateway {

// One upstream: an MCP server or an HTTP service.
struct Upstream {
  // Unique among upstreams of its kind; [a-z0-9][a-z0-9-_]{0,62}.
  std::string name;
  // "http://host:port/path" or "https://..."; for an MCP server, the
  // Streamable HTTP endpoint; for an HTTP service, the base the proxied path
  // is appended to.
  std::string url;
  // Headers Warden adds to every upstream request (its own credentials).
  // In the config a value may be literal, "env:NAME" (read from the
  // environment at start) or "file:/path" (first line of the file); here it
  // is resolved. Values are secrets: never logged or audited.
  std::vector<std::pair<std::string, std::string>> headers;
  // PEM CA bundle for an https upstream (empty: the system store).
  std::string cacert_file;
  // Longest wait for the upstream's complete answer.
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  // Keep this upstream's tool arguments in the audit log even when the
  // gateway-wide audit_arguments is off.
  bool audit_arguments = false;
};

// An upstream URL split for the HTTP client: the base ("http://host:port",
// as net::ParseServerUrl accepts it) and the origin-form path with query
// ("/mcp", "/api/v1?x=1"; "/" when the URL has none).
struct UpstreamUrl {
  std::string base;
  std::string path;
};

// Splits and checks an upstream URL: http or https only; no user info, no
// fragment, no whitespace or control characters. InvalidArgument naming the
// problem (field "url").
Result<UpstreamUrl> ParseUpstreamUrl(std::string_view url);

// How the gateway reaches one upstream: its URL split, and a pool of
// kept-alive connections to it (none is opened yet).
struct UpstreamClient {
  UpstreamUrl url;
  std::shared_ptr<net::HttpClientPool> pool;
};

// Parses `upstream.url` and creates its pool with the upstream's CA file and
// a response limit of `max_response_bytes`. InvalidArgument naming
// `field` + ".url" for a bad URL, `field` for an unusable CA file.
Result<UpstreamClient> MakeUpstreamClient(const Upstream& upstream, size_t max_response_bytes,
                                          const std::string& field);

struct GatewayConfig {
  std::vector<Upstream> mcp_servers;    // config key "mcp_servers": {name: {...}}
  std::vector<Upstream> http_services;  // config key "http_services": {name: {...}}
  // How long a call that needs a human waits for the decision before it is
  // answered with an error naming the approval (which the caller may retry).
  std::chrono::seconds approval_wait = std::chrono::seconds(60);
  // Keep tool arguments themselves in the audit log (default: only their
  // SHA-256 over canonical JSON).
  bool audit_arguments = false;
  // Largest JSON-RPC message (or batch) accepted from an agent or an upstream.
  size_t max_message_bytes = size_t{4} << 20;
};

// Reads the "gateway" member of the config file. Strict: unknown keys and
// wrong types are InvalidArgument whose field is the path
// ("gateway.mcp_servers.demo.url"); env:/file: references that cannot be
// resolved are InvalidArgument naming them (never their values).
Result<GatewayConfig> ParseGatewayConfig(const boost::json::value& value);

// The MCP server or HTTP service named `name`, or nullptr.
const Upstream* FindMcpServer(const GatewayConfig& config, std::string_view name);
const Upstream* FindHttpService(const GatewayConfig& config, std::string_view name);

}  // namespace warden::gateway
