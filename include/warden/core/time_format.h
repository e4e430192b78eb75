// Text forms of times and durations used by the API, the CLI and config:
// RFC 3339 UTC timestamps ("2026-11-21T22:22:45Z", optional fraction) and
// compact durations ("90s", "15m", "1h30m", "30d"). Pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "warden/core/clock.h"
#include "warden/core/status.h"

namespace warden {

// "2026-11-21T22:22:45Z"; with `micros`, "2026-11-21T22:22:45.123456Z".
std::string FormatRfc3339(TimePoint t, bool micros = false);

// RFC 3339 with seconds precision unless `t` carries a fraction, which is then
// kept to the microsecond: exact, and short in the common case.
std::string FormatRfc3339Exact(TimePoint t);

// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)"; 't'/'z' allowed.
Result<TimePoint> ParseRfc3339(std::string_view text);

// Parses a sequence of <integer><unit> with units d, h, m, s (e.g. "1h30m").
// Rejects empty input, unknown units, zero-length, negative values and
// overflow past 100 years.
Result<std::chrono::seconds> ParseDuration(std::string_view text);

// The inverse of ParseDuration for whole seconds: 90 -> "1m30s", 0 -> "0s".
std::string FormatDuration(std::chrono::seconds d);

}  // namespace warden
