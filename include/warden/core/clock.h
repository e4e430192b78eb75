// Clock: the single source of "now" for Warden. Production code takes a
// `const Clock&` so tests can inject a FakeClock and test expiry without
// sleeping. Both implementations are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace warden {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::system_clock::duration;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// Wall-clock time (CLOCK_REALTIME).
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  // A process-wide instance for callers that have nothing injected.
  static const SystemClock& Instance();
};

// A clock that only moves when told to. Starts at `start`.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'800'000'000)))
      : micros_(ToMicros(start)) {}
  TimePoint Now() const override {
    return TimePoint(std::chrono::duration_cast<Duration>(
        std::chrono::microseconds(micros_.load(std::memory_order_acquire))));
  }
  void Set(TimePoint t) { micros_.store(ToMicros(t), std::memory_order_release); }
  void Advance(Duration d) {
    micros_.fetch_add(std::chrono::duration_cast<std::chrono::microseconds>(d).count(),
                      std::memory_order_acq_rel);
  }

 private:
  static int64_t ToMicros(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  }
  std::atomic<int64_t> micros_;
};

// Seconds / microseconds since the Unix epoch.
inline int64_t UnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline int64_t UnixMicros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
inline TimePoint FromUnixSeconds(int64_t s) { return TimePoint(std::chrono::seconds(s)); }
inline TimePoint FromUnixMicros(int64_t us) {
  return TimePoint(std::chrono::duration_cast<Duration>(std::chrono::microseconds(us)));
}

// `t` cut to whole microseconds, the precision the store keeps: a value a call
// returns is then identical to the one a later read brings back.
inline TimePoint TruncateToMicros(TimePoint t) { return FromUnixMicros(UnixMicros(t)); }

}  // namespace warden
