// ServeOptions: everything `warden serve` needs, from defaults, an optional
// JSON config file (LoadConfig) and command-line flags (applied by the caller
// on top of what LoadConfig returns). docs/configuration.md documents each key.
// Plain values; LoadConfig and ValidateServeOptions are pure and thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/status.h"
#include "warden/gateway/config.h"

namespace warden::server {

struct ServeOptions {
  // Holds warden.db, admin.token, keys/ and serve.addr; created 0711 on first start.
  std::string data_dir = "./.warden";
  // "host:port" or "[v6]:port"; host is an IP literal or "localhost". Port 0 binds
  // an ephemeral port (the bound address is printed and written to DATA/serve.addr).
  std::string listen = "127.0.0.1:8181";
  // Optional JSON config file; informational here (LoadConfig reads it).
  std::string config_file;
  // Trust domain of SPIFFE IDs; applied only when the data directory is initialised.
  std::string trust_domain = "warden.local";
  // PEM certificate chain and private key; both or neither. Required for a
  // non-loopback listen address unless insecure_listen is set.
  std::string tls_cert;
  std::string tls_key;
  bool insecure_listen = false;
  // Largest request body accepted (413 above it).
  size_t max_body_bytes = 1 << 20;
  // Store URL; empty means "sqlite:<data_dir>/warden.db".
  std::string store_url;
  // Longest lifetime an agent may be registered for.
  std::chrono::seconds agent_max_lifetime = std::chrono::hours(24 * 90);
  // Environments an agent may be registered in.
  std::vector<std::string> environments = {"dev", "staging", "prod"};
  // trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";
  // Time allowed to receive one request (headers and body), and idle keep-alive time.
  std::chrono::seconds read_timeout = std::chrono::seconds(30);
  // How long a shutdown waits for in-flight requests before closing them.
  std::chrono::seconds shutdown_timeout = std::chrono::seconds(10);
  // Threads doing HTTP I/O.
  int threads = 2;
  // Threads running request handlers, so that I/O threads never wait for a
  // durable write or an upstream: about the number of requests that can be
  // decided and audited at once (their audit appends share commits). 0 runs
  // handlers on the I/O threads.
  int handler_threads = 32;
  // Longest long-poll wait a client may ask for (GET /v1/audit?wait=).
  std::chrono::seconds max_long_poll = std::chrono::seconds(60);
  // Unix socket of the Workload API. Empty means DATA/public/workload.sock;
  // "off" disables it. Created mode 0666 (attestation, not file permissions,
  // decides who gets an identity).
  std::string workload_socket;
  // Algorithm of newly generated signing keys (first start, rotation):
  // "ed25519" or "es256". Existing keys keep their algorithm.
  std::string signing_algorithm = "ed25519";
  // JWT-SVID lifetime when the caller asks for none, and the longest it may
  // ask for. Never beyond the agent's own expiry.
  std::chrono::seconds svid_ttl = std::chrono::minutes(5);
  std::chrono::seconds svid_max_ttl = std::chrono::hours(1);
  // Longest lifetime of a join token (`warden agent join-token --ttl`).
  std::chrono::seconds join_token_max_ttl = std::chrono::hours(24);
  // Longest lifetime of a grant (an intent's ttl is capped to it and to the
  // agent's expiry), and the longest delegation chain.
  std::chrono::seconds grant_max_ttl = std::chrono::hours(8);
  int max_delegation_depth = 3;
  // How long a human has to decide an approval.
  std::chrono::seconds approval_ttl = std::chrono::minutes(15);
  // How often the server records what time alone changed: grants past
  // their expiry become `expired` (audited grant.expired), and signing keys
  // are re-read (another replica may have rotated them).
  std::chrono::seconds housekeeping_interval = std::chrono::seconds(10);
  // Failed admin authentications recorded in the audit log per source address
  // and minute; the rest are counted and reported with the next recorded one.
  int auth_failure_events_per_minute = 10;
  // The enforcement gateway's upstreams and limits: config key "gateway"
  // (docs/gateway.md). Empty by default: /mcp and /proxy have nothing to front.
  gateway::GatewayConfig gateway;
};

// Reads a JSON config file into defaults-filled ServeOptions. Strict: unknown
// keys and wrong types are InvalidArgument naming the key; values are validated
// as in ValidateServeOptions. NotFound/Unavailable when the file cannot be read.
Result<ServeOptions> LoadConfig(std::string_view path);

// Checks every field (address syntax, TLS pair, limits, trust domain syntax,
// environments). InvalidArgument with the offending field.
Status ValidateServeOptions(const ServeOptions& options);

// The effective Workload API socket path ("" when it is "off").
std::string EffectiveWorkloadSocket(const ServeOptions& options);

// The effective store URL ("sqlite:<data_dir>/warden.db" when store_url is empty).
std::string EffectiveStoreUrl(const ServeOptions& options);

}  // namespace warden::server
