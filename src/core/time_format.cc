#include "warden/core/time_format.h"

#include <charconv>
#include <cstdio>
#include <limits>

namespace warden {
namespace {

using std::chrono::days;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::seconds;

bool ReadDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::string FormatRfc3339(TimePoint t, bool micros) {
  auto us = duration_cast<microseconds>(t.time_since_epoch());
  auto day = std::chrono::floor<days>(us);
  std::chrono::year_month_day ymd{std::chrono::sys_days(day)};
  auto rem = us - day;
  auto h = duration_cast<std::chrono::hours>(rem);
  rem -= h;
  auto m = duration_cast<std::chrono::minutes>(rem);
  rem -= m;
  auto s = duration_cast<seconds>(rem);
  rem -= s;
  char buf[64];
  if (micros) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(h.count()),
                  static_cast<int>(m.count()), static_cast<int>(s.count()),
                  static_cast<long long>(rem.count()));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(h.count()), static_cast<int>(m.count()),
                  static_cast<int>(s.count()));
  }
  return buf;
}

std::string FormatRfc3339Exact(TimePoint t) {
  return FormatRfc3339(t, UnixMicros(t) % 1'000'000 != 0);
}

Result<TimePoint> ParseRfc3339(std::string_view text) {
  auto bad = [&](const char* why) {
    return InvalidArgument(std::string("invalid RFC 3339 timestamp \"") + std::string(text) +
                           "\": " + why);
  };
  int year, month, day, hour, minute, second;
  if (!ReadDigits(text, 0, 4, &year) || text.size() < 20 || text[4] != '-' ||
      !ReadDigits(text, 5, 2, &month) || text[7] != '-' || !ReadDigits(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't') || !ReadDigits(text, 11, 2, &hour) ||
      text[13] != ':' || !ReadDigits(text, 14, 2, &minute) || text[16] != ':' ||
      !ReadDigits(text, 17, 2, &second)) {
    return bad("expected YYYY-MM-DDTHH:MM:SSZ");
  }
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 59) return bad("field out of range");
  size_t pos = 19;
  int64_t frac_us = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (scale > 0) {
        frac_us += (text[pos] - '0') * scale;
        scale /= 10;
      }
      ++pos;
    }
    if (pos == start) return bad("empty fraction");
  }
  int64_t offset_s = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!ReadDigits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ReadDigits(text, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return bad("invalid UTC offset");
    }
    offset_s = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return bad("missing time zone (Z or +HH:MM)");
  }
  if (pos != text.size()) return bad("trailing characters");
  auto tp = std::chrono::sys_days(ymd) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
            seconds(second) - seconds(offset_s);
  return TimePoint(duration_cast<Duration>(tp.time_since_epoch() + microseconds(frac_us)));
}

Result<seconds> ParseDuration(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("invalid duration \"" + std::string(text) + "\": " + why +
                           " (examples: 90s, 15m, 1h30m, 30d)");
  };
  if (text.empty()) return bad("empty");
  constexpr int64_t kMax = int64_t{100} * 366 * 86400;
  int64_t total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    int64_t n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      n = n * 10 + (text[pos] - '0');
      if (n > kMax) return bad("too long");
      ++pos;
    }
    if (pos == start) return bad("expected a number at position " + std::to_string(start + 1));
    if (pos == text.size()) return bad("missing unit after " + std::to_string(n));
    int64_t unit;
    switch (text[pos]) {
      case 'd': unit = 86400; break;
      case 'h': unit = 3600; break;
      case 'm': unit = 60; break;
      case 's': unit = 1; break;
      default: return bad(std::string("unknown unit '") + text[pos] + "'");
    }
    ++pos;
    total += n * unit;
    if (total > kMax) return bad("too long");
  }
  if (total == 0) return bad("must be positive");
  return seconds(total);
}

std::string FormatDuration(seconds d) {
  int64_t s = d.count();
  if (s == 0) return "0s";
  std::string out;
  if (s < 0) {
    out += '-';
    s = -s;
  }
  const std::pair<int64_t, char> units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (auto [size, name] : units) {
    if (s >= size) {
      out += std::to_string(s / size);
      out += name;
      s %= size;
    }
  }
  return out;
}

}  // namespace warden
