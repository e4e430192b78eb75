// Server metrics rendered in the Prometheus text exposition format (0.0.4):
// request counts by route/method/code, a latency histogram by route/method,
// store errors, admin authentication failures, in-flight requests, build info.
// Labels use route patterns, never raw paths, so cardinality stays bounded.
// Thread-safe (one mutex; updates are a few map operations).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace warden::server::internal {

class Metrics {
 public:
  static constexpr std::array<double, 13> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1,     2.5,  5,     10};

  void ObserveRequest(std::string_view route, std::string_view method, unsigned code,
                      double seconds);
  void StoreError();
  void AuthFailure(std::string_view reason);
  void AuthEventSuppressed();
  // Identity issuance outcomes: via "workload_api" or "join_token";
  // outcome "issued" or "refused".
  void Identity(std::string_view via, std::string_view outcome);
  void InFlight(int delta);

  // The whole exposition, "# HELP"/"# TYPE" lines included.
  std::string Render() const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};  // non-cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, unsigned>, uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> durations_;
  std::map<std::string, uint64_t> auth_failures_;
  std::map<std::pair<std::string, std::string>, uint64_t> identities_;
  uint64_t store_errors_ = 0;
  uint64_t auth_events_suppressed_ = 0;
  int64_t in_flight_ = 0;
};

// Collapses any method outside the standard set to "other".
std::string_view MetricMethod(std::string_view method);

}  // namespace warden::server::internal
