// A per-source budget of audit events per minute for events that unauthenticated
// callers can trigger (failed admin logins, refused attestations, refused join
// tokens): within the budget each event is written; past it the event is only
// counted and the count is reported with the next written one, so a flood
// cannot grow the audit log, or this table, without bound. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "warden/core/clock.h"

namespace warden::server::internal {

class EventBudget {
 public:
  explicit EventBudget(int per_minute) : per_minute_(per_minute) {}

  // Spends one event of `source`'s budget at `now`. nullopt when the budget is
  // spent (the event is suppressed and counted); otherwise the number of
  // events of that source suppressed since its previous admitted one.
  std::optional<int64_t> Admit(std::string_view source, TimePoint now);

 private:
  struct Window {
    TimePoint start;
    int written = 0;
    int64_t suppressed = 0;
  };
  int per_minute_;
  std::mutex mu_;
  std::map<std::string, Window, std::less<>> windows_;
};

}  // namespace warden::server::internal
