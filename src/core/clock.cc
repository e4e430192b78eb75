#include "warden/core/clock.h"

namespace warden {

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

}  // namespace warden
