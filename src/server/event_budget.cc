#include "server/internal/event_budget.h"

#include <vector>

namespace warden::server::internal {
namespace {

constexpr auto kWindow = std::chrono::minutes(1);
constexpr size_t kMaxTrackedSources = 10000;

}  // namespace

std::optional<int64_t> EventBudget::Admit(std::string_view source, TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(source);
  if (it == windows_.end()) {
    if (windows_.size() >= kMaxTrackedSources) {
      std::erase_if(windows_, [&](const auto& kv) { return now - kv.second.start >= kWindow; });
    }
    // Too many live sources to remember another: suppress rather than grow.
    if (windows_.size() >= kMaxTrackedSources) return std::nullopt;
    it = windows_.emplace(std::string(source), Window{now, 0, 0}).first;
  }
  Window& w = it->second;
  if (now - w.start >= kWindow) {
    w.start = now;
    w.written = 0;
  }
  if (w.written >= per_minute_) {
    ++w.suppressed;
    return std::nullopt;
  }
  ++w.written;
  int64_t suppressed = w.suppressed;
  w.suppressed = 0;
  return suppressed;
}

}  // namespace warden::server::internal
