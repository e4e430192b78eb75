#include <fstream>
#include <set>

#include "server/internal/http_server.h"
#include "server/internal/listen_address.h"
#include "warden/core/json.h"
#include "warden/core/time_format.h"
#include "warden/crypto/signing_key.h"
#include "warden/identity/registry.h"
#include "warden/server/options.h"

namespace warden::server {
namespace {

constexpr size_t kMaxConfigBytes = 1 << 20;

Result<std::chrono::seconds> DurationField(StrictObject& obj, std::string_view key,
                                           std::chrono::seconds fallback) {
  WARDEN_ASSIGN_OR_RETURN(auto text, obj.OptionalString(key));
  if (!text) return fallback;
  auto d = ParseDuration(*text);
  if (!d.ok()) return InvalidArgument(d.status().message(), obj.FieldPath(key));
  return *d;
}

Status CheckRange(int64_t v, int64_t lo, int64_t hi, std::string_view field) {
  if (v < lo || v > hi) {
    return InvalidArgument(
        "must be between " + std::to_string(lo) + " and " + std::to_string(hi), std::string(field));
  }
  return OkStatus();
}

Status CheckDuration(std::chrono::seconds v, std::chrono::seconds lo, std::chrono::seconds hi,
                     std::string_view field) {
  if (v < lo || v > hi) {
    return InvalidArgument("must be between " + FormatDuration(lo) + " and " + FormatDuration(hi),
                           std::string(field));
  }
  return OkStatus();
}

Result<ServeOptions> ParseConfig(const json::value& doc) {
  ServeOptions o;
  WARDEN_ASSIGN_OR_RETURN(auto obj, StrictObject::From(doc));
  auto str = [&](std::string_view key, std::string& out) -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto v, obj.OptionalString(key));
    if (v) out = std::move(*v);
    return OkStatus();
  };
  WARDEN_RETURN_IF_ERROR(str("data_dir", o.data_dir));
  WARDEN_RETURN_IF_ERROR(str("listen", o.listen));
  WARDEN_RETURN_IF_ERROR(str("trust_domain", o.trust_domain));
  WARDEN_RETURN_IF_ERROR(str("tls_cert", o.tls_cert));
  WARDEN_RETURN_IF_ERROR(str("tls_key", o.tls_key));
  WARDEN_RETURN_IF_ERROR(str("store_url", o.store_url));
  WARDEN_RETURN_IF_ERROR(str("log_level", o.log_level));
  WARDEN_RETURN_IF_ERROR(str("workload_socket", o.workload_socket));
  WARDEN_RETURN_IF_ERROR(str("signing_algorithm", o.signing_algorithm));
  WARDEN_ASSIGN_OR_RETURN(auto insecure, obj.OptionalBool("insecure_listen"));
  if (insecure) o.insecure_listen = *insecure;
  WARDEN_ASSIGN_OR_RETURN(auto max_body, obj.OptionalInt("max_body_bytes"));
  if (max_body) {
    WARDEN_RETURN_IF_ERROR(CheckRange(*max_body, 1024, 64 << 20, "max_body_bytes"));
    o.max_body_bytes = static_cast<size_t>(*max_body);
  }
  WARDEN_ASSIGN_OR_RETURN(auto threads, obj.OptionalInt("threads"));
  if (threads) {
    WARDEN_RETURN_IF_ERROR(CheckRange(*threads, 1, 64, "threads"));
    o.threads = static_cast<int>(*threads);
  }
  WARDEN_ASSIGN_OR_RETURN(auto handler_threads, obj.OptionalInt("handler_threads"));
  if (handler_threads) {
    WARDEN_RETURN_IF_ERROR(CheckRange(*handler_threads, 0, 256, "handler_threads"));
    o.handler_threads = static_cast<int>(*handler_threads);
  }
  WARDEN_ASSIGN_OR_RETURN(auto per_minute, obj.OptionalInt("auth_failure_events_per_minute"));
  if (per_minute) {
    WARDEN_RETURN_IF_ERROR(CheckRange(*per_minute, 1, 10000, "auth_failure_events_per_minute"));
    o.auth_failure_events_per_minute = static_cast<int>(*per_minute);
  }
  WARDEN_ASSIGN_OR_RETURN(auto envs, obj.OptionalStringArray("environments"));
  if (envs) o.environments = std::move(*envs);
  WARDEN_ASSIGN_OR_RETURN(o.agent_max_lifetime,
                          DurationField(obj, "agent_max_lifetime", o.agent_max_lifetime));
  WARDEN_ASSIGN_OR_RETURN(o.read_timeout, DurationField(obj, "read_timeout", o.read_timeout));
  WARDEN_ASSIGN_OR_RETURN(o.shutdown_timeout,
                          DurationField(obj, "shutdown_timeout", o.shutdown_timeout));
  WARDEN_ASSIGN_OR_RETURN(o.max_long_poll, DurationField(obj, "max_long_poll", o.max_long_poll));
  WARDEN_ASSIGN_OR_RETURN(o.svid_ttl, DurationField(obj, "svid_ttl", o.svid_ttl));
  WARDEN_ASSIGN_OR_RETURN(o.svid_max_ttl, DurationField(obj, "svid_max_ttl", o.svid_max_ttl));
  WARDEN_ASSIGN_OR_RETURN(o.join_token_max_ttl,
                          DurationField(obj, "join_token_max_ttl", o.join_token_max_ttl));
  WARDEN_ASSIGN_OR_RETURN(o.grant_max_ttl, DurationField(obj, "grant_max_ttl", o.grant_max_ttl));
  WARDEN_ASSIGN_OR_RETURN(o.approval_ttl, DurationField(obj, "approval_ttl", o.approval_ttl));
  WARDEN_ASSIGN_OR_RETURN(o.housekeeping_interval, DurationField(obj, "housekeeping_interval",
                                                                 o.housekeeping_interval));
  WARDEN_ASSIGN_OR_RETURN(auto depth, obj.OptionalInt("max_delegation_depth"));
  if (depth) {
    WARDEN_RETURN_IF_ERROR(CheckRange(*depth, 0, 10, "max_delegation_depth"));
    o.max_delegation_depth = static_cast<int>(*depth);
  }
  if (const json::value* gw = obj.Optional("gateway")) {
    WARDEN_ASSIGN_OR_RETURN(o.gateway, gateway::ParseGatewayConfig(*gw));
  }
  WARDEN_RETURN_IF_ERROR(obj.Finish());
  return o;
}

}  // namespace

Result<ServeOptions> LoadConfig(std::string_view path) {
  std::string p(path);
  auto context = "config file " + p;
  std::ifstream in(p, std::ios::binary);
  if (!in) return NotFound(context + ": cannot be opened");
  std::string text;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfigBytes) {
      return InvalidArgument(context + ": larger than " + std::to_string(kMaxConfigBytes) +
                             " bytes");
    }
  }
  if (in.bad()) return Unavailable(context + ": read error");
  auto doc = ParseJson(text);
  if (!doc.ok()) return doc.status().WithContext(context);
  auto options = ParseConfig(*doc);
  if (!options.ok()) return options.status().WithContext(context);
  options->config_file = p;
  Status valid = ValidateServeOptions(*options);
  if (!valid.ok()) return valid.WithContext(context);
  return options;
}

Status ValidateServeOptions(const ServeOptions& o) {
  if (o.data_dir.empty()) return InvalidArgument("must not be empty", "data_dir");
  WARDEN_ASSIGN_OR_RETURN(auto addr, internal::ParseListenAddress(o.listen));
  (void)addr;
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return InvalidArgument("tls_cert and tls_key must be given together",
                           o.tls_cert.empty() ? "tls_cert" : "tls_key");
  }
  WARDEN_RETURN_IF_ERROR(
      CheckRange(static_cast<int64_t>(o.max_body_bytes), 1024, 64 << 20, "max_body_bytes"));
  WARDEN_RETURN_IF_ERROR(CheckRange(o.threads, 1, 64, "threads"));
  WARDEN_RETURN_IF_ERROR(CheckRange(o.handler_threads, 0, 256, "handler_threads"));
  WARDEN_RETURN_IF_ERROR(
      CheckRange(o.auth_failure_events_per_minute, 1, 10000, "auth_failure_events_per_minute"));
  using std::chrono::hours;
  using std::chrono::seconds;
  WARDEN_RETURN_IF_ERROR(
      CheckDuration(o.agent_max_lifetime, seconds(60), hours(24 * 3650), "agent_max_lifetime"));
  WARDEN_RETURN_IF_ERROR(CheckDuration(o.read_timeout, seconds(1), hours(1), "read_timeout"));
  WARDEN_RETURN_IF_ERROR(
      CheckDuration(o.shutdown_timeout, seconds(0), seconds(600), "shutdown_timeout"));
  WARDEN_RETURN_IF_ERROR(
      CheckDuration(o.max_long_poll, seconds(1), seconds(600), "max_long_poll"));
  WARDEN_RETURN_IF_ERROR(CheckDuration(o.svid_max_ttl, seconds(60), hours(24), "svid_max_ttl"));
  WARDEN_RETURN_IF_ERROR(CheckDuration(o.svid_ttl, seconds(10), o.svid_max_ttl, "svid_ttl"));
  WARDEN_RETURN_IF_ERROR(
      CheckDuration(o.join_token_max_ttl, seconds(60), hours(24), "join_token_max_ttl"));
  WARDEN_RETURN_IF_ERROR(
      CheckDuration(o.grant_max_ttl, seconds(60), hours(24), "grant_max_ttl"));
  WARDEN_RETURN_IF_ERROR(CheckDuration(o.approval_ttl, seconds(60), hours(24), "approval_ttl"));
  WARDEN_RETURN_IF_ERROR(CheckDuration(o.housekeeping_interval, seconds(1), hours(1),
                                       "housekeeping_interval"));
  WARDEN_RETURN_IF_ERROR(CheckRange(o.max_delegation_depth, 0, 10, "max_delegation_depth"));
  if (auto alg = crypto::ParseAlgorithm(o.signing_algorithm); !alg.ok()) {
    return InvalidArgument(alg.status().message(), "signing_algorithm");
  }
  if (!o.workload_socket.empty() && o.workload_socket != "off") {
    if (o.workload_socket.size() > internal::kMaxUnixSocketPath) {
      return InvalidArgument("a Unix socket path may be at most " +
                                 std::to_string(internal::kMaxUnixSocketPath) + " bytes",
                             "workload_socket");
    }
    if (o.workload_socket.find('\0') != std::string::npos) {
      return InvalidArgument("must not contain NUL", "workload_socket");
    }
  }
  static const std::set<std::string, std::less<>> kLevels = {
      "trace", "debug", "info", "warn", "error", "critical", "off"};
  if (!kLevels.contains(o.log_level)) {
    return InvalidArgument(
        "\"" + o.log_level + "\" is not one of trace, debug, info, warn, error, critical, off",
        "log_level");
  }
  // Trust domain and environments follow the registry's rules, checked by
  // the registry itself so the two can never disagree.
  identity::RegistryOptions registry;
  registry.trust_domain = o.trust_domain;
  registry.environments = o.environments;
  registry.max_lifetime = o.agent_max_lifetime;
  WARDEN_RETURN_IF_ERROR(identity::ValidateRegistryOptions(registry));
  return OkStatus();
}

std::string EffectiveWorkloadSocket(const ServeOptions& o) {
  if (o.workload_socket == "off") return "";
  if (!o.workload_socket.empty()) return o.workload_socket;
  std::string dir = o.data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/public/workload.sock";
}

std::string EffectiveStoreUrl(const ServeOptions& o) {
  if (!o.store_url.empty()) return o.store_url;
  std::string dir = o.data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return "sqlite:" + dir + "/warden.db";
}

}  // namespace warden::server
