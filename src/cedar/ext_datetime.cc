// The datetime extension: datetime (ms since the Unix epoch) and duration (ms).
// The accepted text forms are exactly Cedar's; all arithmetic is overflow-checked.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "warden/cedar/extensions.h"

namespace warden::cedar {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` ASCII digits at `pos`.
bool ReadFixed(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(s[pos + i])) return false;
    v = v * 10 + (s[pos + i] - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
// (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

std::string Pad(int64_t v, size_t width) {
  std::string s = std::to_string(v);
  if (s.size() < width) s.insert(0, width - s.size(), '0');
  return s;
}

}  // namespace

Result<Datetime> DatetimeFromString(std::string_view s) {
  // Syntax first, left to right, then the calendar checks (Cedar's order).
  int year = 0, month = 0, day = 0;
  if (!ReadFixed(s, 0, 4, &year) || s.size() < 10 || s[4] != '-' || !ReadFixed(s, 5, 2, &month) ||
      s[7] != '-' || !ReadFixed(s, 8, 2, &day)) {
    return InvalidArgument("invalid date pattern");
  }
  std::string date_text(s.substr(0, 10));
  auto check_date = [&]() -> Status {
    if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) {
      return InvalidArgument("invalid date: " + date_text);
    }
    return OkStatus();
  };
  int64_t days = 0;
  if (s.size() == 10) {
    WARDEN_RETURN_IF_ERROR(check_date());
    days = DaysFromCivil(year, month, day);
    return Datetime{days * kMsPerDay};
  }
  int hour = 0, minute = 0, second = 0;
  if (s.size() < 19 || s[10] != 'T' || !ReadFixed(s, 11, 2, &hour) || s[13] != ':' ||
      !ReadFixed(s, 14, 2, &minute) || s[16] != ':' || !ReadFixed(s, 17, 2, &second)) {
    return InvalidArgument("invalid hour/minute/second pattern");
  }
  std::string_view rest = s.substr(19);
  int millis = 0;
  int offset_sign = 0;
  int offset_hh = 0, offset_mm = 0;
  bool ok_pattern = true;
  if (!rest.empty() && rest[0] == '.') {
    if (!ReadFixed(rest, 1, 3, &millis)) ok_pattern = false;
    rest = ok_pattern ? rest.substr(4) : rest;
  }
  if (ok_pattern) {
    if (rest == "Z") {
      // UTC.
    } else if (rest.size() == 5 && (rest[0] == '+' || rest[0] == '-') &&
               ReadFixed(rest, 1, 2, &offset_hh) && ReadFixed(rest, 3, 2, &offset_mm)) {
      offset_sign = rest[0] == '+' ? 1 : -1;
    } else {
      ok_pattern = false;
    }
  }
  if (!ok_pattern) return InvalidArgument("invalid millisecond and/or offset pattern");
  WARDEN_RETURN_IF_ERROR(check_date());
  if (hour > 23 || minute > 59 || second > 59) {
    return InvalidArgument("invalid hour/minute/second: " + std::string(s.substr(11, 8)));
  }
  if (offset_sign != 0 && (offset_hh >= 24 || offset_mm >= 60)) {
    return InvalidArgument("invalid offset range: " + std::string(rest));
  }
  days = DaysFromCivil(year, month, day);
  // Years 0000..9999 keep every intermediate far inside i64.
  int64_t ms =
      days * kMsPerDay + hour * kMsPerHour + minute * kMsPerMinute + second * kMsPerSecond + millis;
  ms -= offset_sign * (offset_hh * kMsPerHour + offset_mm * kMsPerMinute);
  return Datetime{ms};
}

std::optional<std::string> FormatDatetime(Datetime d) {
  // Floor division without forming days * kMsPerDay, which can overflow near INT64_MIN.
  int64_t in_day = d.ms % kMsPerDay;
  int64_t days = d.ms / kMsPerDay;
  if (in_day < 0) {
    in_day += kMsPerDay;
    days -= 1;
  }
  int64_t year = 0;
  int month = 0, day = 0;
  CivilFromDays(days, &year, &month, &day);
  if (year < 0 || year > 9999) return std::nullopt;
  std::string out = Pad(year, 4) + "-" + Pad(month, 2) + "-" + Pad(day, 2) + "T" +
                    Pad(in_day / kMsPerHour, 2) + ":" + Pad(in_day / kMsPerMinute % 60, 2) + ":" +
                    Pad(in_day / kMsPerSecond % 60, 2);
  if (in_day % kMsPerSecond != 0) out += "." + Pad(in_day % kMsPerSecond, 3);
  out += "Z";
  return out;
}

Result<Duration> DurationFromString(std::string_view s) {
  Status invalid = InvalidArgument("invalid duration pattern");
  Status overflow = InvalidArgument("Duration overflows internal representation");
  if (s.empty() || s == "-") return invalid;
  size_t pos = 0;
  bool negative = s[0] == '-';
  if (negative) ++pos;
  // Units in the only order Cedar allows; each at most once.
  static constexpr int64_t kUnitMs[] = {kMsPerDay, kMsPerHour, kMsPerMinute, kMsPerSecond, 1};
  int next_unit = 0;  // index into kUnitMs of the smallest unit still allowed
  struct Term {
    uint64_t number;
    bool overflow;
    int unit;
  };
  Term terms[5];
  size_t term_count = 0;
  // Pass 1: syntax only, so a malformed string is reported as such even when
  // it also holds a huge number (Cedar matches the pattern first).
  while (pos < s.size()) {
    size_t start = pos;
    uint64_t number = 0;
    bool number_overflow = false;
    while (pos < s.size() && IsDigit(s[pos])) {
      uint64_t d = static_cast<uint64_t>(s[pos] - '0');
      if (number > (UINT64_MAX - d) / 10) number_overflow = true;
      number = number * 10 + d;
      ++pos;
    }
    if (pos == start || pos >= s.size()) return invalid;
    int unit = -1;
    if (s[pos] == 'm' && pos + 1 < s.size() && s[pos + 1] == 's') {
      unit = 4;
      pos += 2;
    } else {
      switch (s[pos]) {
        case 'd':
          unit = 0;
          break;
        case 'h':
          unit = 1;
          break;
        case 'm':
          unit = 2;
          break;
        case 's':
          unit = 3;
          break;
        default:
          return invalid;
      }
      ++pos;
    }
    if (unit < next_unit) return invalid;
    next_unit = unit + 1;
    terms[term_count++] = Term{number, number_overflow, unit};
  }
  // Pass 2: the value. Magnitude limit: |i64 min| when negative, i64 max otherwise.
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  uint64_t total = 0;
  for (size_t i = 0; i < term_count; ++i) {
    const Term& t = terms[i];
    if (t.overflow) return overflow;
    uint64_t unit_ms = static_cast<uint64_t>(kUnitMs[t.unit]);
    if (t.number > limit / unit_ms) return overflow;
    uint64_t term = t.number * unit_ms;
    // Non-millisecond terms must fit an i64 on their own (Cedar multiplies in i64).
    if (t.unit != 4 && term > (uint64_t{1} << 63) - 1) return overflow;
    if (term > limit - total) return overflow;
    total += term;
  }
  int64_t ms = negative ? static_cast<int64_t>(uint64_t{0} - total) : static_cast<int64_t>(total);
  return Duration{ms};
}

std::string FormatDuration(Duration d) {
  if (d.ms == 0) return "0ms";
  bool negative = d.ms < 0;
  uint64_t mag = negative ? uint64_t{0} - static_cast<uint64_t>(d.ms) : static_cast<uint64_t>(d.ms);
  std::string out = negative ? "-" : "";
  static constexpr struct {
    uint64_t ms;
    const char* unit;
  } kUnits[] = {
      {kMsPerDay, "d"}, {kMsPerHour, "h"}, {kMsPerMinute, "m"}, {kMsPerSecond, "s"}, {1, "ms"}};
  for (const auto& u : kUnits) {
    uint64_t n = mag / u.ms;
    mag %= u.ms;
    if (n != 0) out += std::to_string(n) + u.unit;
  }
  return out;
}

std::optional<Datetime> DatetimeOffset(Datetime d, Duration by) {
  int64_t out = 0;
  if (!CheckedAdd(d.ms, by.ms, &out)) return std::nullopt;
  return Datetime{out};
}

std::optional<Duration> DatetimeDurationSince(Datetime d, Datetime since) {
  int64_t out = 0;
  if (!CheckedSub(d.ms, since.ms, &out)) return std::nullopt;
  return Duration{out};
}

std::optional<Datetime> DatetimeToDate(Datetime d) {
  int64_t rem = d.ms % kMsPerDay;
  if (rem < 0) rem += kMsPerDay;  // Euclidean remainder, in [0, day)
  int64_t out = 0;
  if (!CheckedSub(d.ms, rem, &out)) return std::nullopt;
  return Datetime{out};
}

Duration DatetimeToTime(Datetime d) {
  int64_t rem = d.ms % kMsPerDay;
  if (rem < 0) rem += kMsPerDay;
  return Duration{rem};
}

}  // namespace warden::cedar
