// The decimal extension: fixed point with four fractional digits in an i64.
#include <cstdint>
#include <string>
#include <string_view>

#include "warden/cedar/extensions.h"

namespace warden::cedar {
namespace {

constexpr int kFractionDigits = 4;
constexpr int64_t kScale = 10000;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses ASCII digits (possibly with leading zeros) into an i64; false on overflow.
bool ParseDigits(std::string_view digits, bool negative, int64_t* out) {
  int64_t v = 0;
  for (char c : digits) {
    int64_t d = c - '0';
    if (!CheckedMul(v, 10, &v)) return false;
    if (negative ? !CheckedSub(v, d, &v) : !CheckedAdd(v, d, &v)) return false;
  }
  *out = v;
  return true;
}

}  // namespace

Result<Decimal> DecimalFromString(std::string_view s) {
  std::string text(s);
  auto malformed = [&] {
    return InvalidArgument("`" + text + "` is not a well-formed decimal value");
  };
  // Grammar: -?[0-9]+\.[0-9]+ (ASCII digits only).
  size_t pos = 0;
  bool negative = false;
  if (pos < s.size() && s[pos] == '-') {
    negative = true;
    ++pos;
  }
  size_t int_start = pos;
  while (pos < s.size() && IsDigit(s[pos])) ++pos;
  std::string_view int_part = s.substr(int_start, pos - int_start);
  if (int_part.empty() || pos >= s.size() || s[pos] != '.') return malformed();
  ++pos;
  size_t frac_start = pos;
  while (pos < s.size() && IsDigit(s[pos])) ++pos;
  std::string_view frac_part = s.substr(frac_start, pos - frac_start);
  if (frac_part.empty() || pos != s.size()) return malformed();

  // Same check order as Cedar: integer overflow, then too many digits.
  Status overflow = InvalidArgument("overflow when converting to decimal");
  int64_t int_value = 0;
  if (!ParseDigits(int_part, negative, &int_value)) return overflow;
  int64_t scaled = 0;
  if (!CheckedMul(int_value, kScale, &scaled)) return overflow;
  if (frac_part.size() > static_cast<size_t>(kFractionDigits)) {
    return InvalidArgument("too many digits after the decimal in `" + text + "`");
  }
  int64_t frac_value = 0;
  for (char c : frac_part) frac_value = frac_value * 10 + (c - '0');
  for (size_t i = frac_part.size(); i < static_cast<size_t>(kFractionDigits); ++i) frac_value *= 10;
  // The sign of the text applies to the fraction too ("-0.5" is negative).
  if (negative ? !CheckedSub(scaled, frac_value, &scaled)
               : !CheckedAdd(scaled, frac_value, &scaled)) {
    return overflow;
  }
  return Decimal{scaled};
}

std::string FormatDecimal(Decimal d) {
  // Unsigned magnitude so that INT64_MIN prints correctly.
  bool negative = d.scaled < 0;
  uint64_t mag =
      negative ? uint64_t{0} - static_cast<uint64_t>(d.scaled) : static_cast<uint64_t>(d.scaled);
  std::string frac = std::to_string(mag % kScale);
  frac.insert(0, kFractionDigits - frac.size(), '0');
  return std::string(negative ? "-" : "") + std::to_string(mag / kScale) + "." + frac;
}

}  // namespace warden::cedar
