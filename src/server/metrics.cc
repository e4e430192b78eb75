#include "server/internal/metrics.h"

#include <fmt/format.h>

#ifndef WARDEN_VERSION
#define WARDEN_VERSION "unknown"
#endif

namespace warden::server::internal {
namespace {

std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string FormatDouble(double v) { return fmt::format("{}", v); }

}  // namespace

std::string_view MetricMethod(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    if (m == method) return m;
  }
  return "other";
}

void Metrics::ObserveRequest(std::string_view route, std::string_view method, unsigned code,
                             double seconds) {
  std::string m(MetricMethod(method));
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), m, code}];
  Histogram& h = durations_[{std::string(route), m}];
  ++h.count;
  h.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
}

void Metrics::StoreError() {
  std::lock_guard lock(mu_);
  ++store_errors_;
}

void Metrics::Identity(std::string_view via, std::string_view outcome) {
  std::lock_guard lock(mu_);
  ++identities_[{std::string(via), std::string(outcome)}];
}

void Metrics::AuthFailure(std::string_view reason) {
  std::lock_guard lock(mu_);
  ++auth_failures_[std::string(reason)];
}

void Metrics::AuthEventSuppressed() {
  std::lock_guard lock(mu_);
  ++auth_events_suppressed_;
}

void Metrics::InFlight(int delta) {
  std::lock_guard lock(mu_);
  in_flight_ += delta;
}

std::string Metrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP warden_build_info Build information; the value is always 1.\n";
  out += "# TYPE warden_build_info gauge\n";
  out += fmt::format("warden_build_info{{version=\"{}\"}} 1\n", Escape(WARDEN_VERSION));

  out += "# HELP warden_http_requests_total HTTP requests answered, by route pattern.\n";
  out += "# TYPE warden_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, code] = key;
    out += fmt::format("warden_http_requests_total{{route=\"{}\",method=\"{}\",code=\"{}\"}} {}\n",
                       Escape(route), method, code, n);
  }

  out += "# HELP warden_http_request_duration_seconds Time from a complete request to its "
         "response.\n";
  out += "# TYPE warden_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : durations_) {
    std::string labels = fmt::format("route=\"{}\",method=\"{}\"", Escape(key.first), key.second);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out += fmt::format("warden_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels,
                         FormatDouble(kBuckets[i]), cumulative);
    }
    out += fmt::format("warden_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n",
                       labels, h.count);
    out += fmt::format("warden_http_request_duration_seconds_sum{{{}}} {}\n", labels,
                       FormatDouble(h.sum));
    out += fmt::format("warden_http_request_duration_seconds_count{{{}}} {}\n", labels, h.count);
  }

  out += "# HELP warden_http_requests_in_flight Requests being handled now.\n";
  out += "# TYPE warden_http_requests_in_flight gauge\n";
  out += fmt::format("warden_http_requests_in_flight {}\n", in_flight_);

  out += "# HELP warden_store_errors_total Store operations that failed (unavailable, data "
         "loss, internal).\n";
  out += "# TYPE warden_store_errors_total counter\n";
  out += fmt::format("warden_store_errors_total {}\n", store_errors_);

  out += "# HELP warden_admin_auth_failures_total Rejected admin API credentials, by reason.\n";
  out += "# TYPE warden_admin_auth_failures_total counter\n";
  for (const auto& [reason, n] : auth_failures_) {
    out += fmt::format("warden_admin_auth_failures_total{{reason=\"{}\"}} {}\n", Escape(reason), n);
  }

  out += "# HELP warden_admin_auth_audit_suppressed_total Failed-authentication audit events "
         "not written because of the per-source rate limit.\n";
  out += "# TYPE warden_admin_auth_audit_suppressed_total counter\n";
  out += fmt::format("warden_admin_auth_audit_suppressed_total {}\n", auth_events_suppressed_);
  out += "# HELP warden_svid_total JWT-SVID requests, by channel and outcome.\n";
  out += "# TYPE warden_svid_total counter\n";
  for (const auto& [key, n] : identities_) {
    out += fmt::format("warden_svid_total{{via=\"{}\",outcome=\"{}\"}} {}\n", Escape(key.first),
                       Escape(key.second), n);
  }
  return out;
}

}  // namespace warden::server::internal
