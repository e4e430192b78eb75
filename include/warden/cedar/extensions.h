// Cedar's extension types (ipaddr, decimal, datetime, duration): their string
// parsers and printers, their functions and methods, and a registry the
// evaluator, the validator and the JSON parser use to look functions up by
// name and call them. Semantics follow Cedar 4.x exactly (including which
// inputs are rejected). Everything here is pure and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "warden/cedar/value.h"
#include "warden/core/status.h"

namespace warden::cedar {

// ipaddr

// Parses "a.b.c.d", an IPv6 address ("::1", "2001:db8::", full or compressed
// forms, hex groups of 1-4 digits) and either with "/prefix". Rejects, as Cedar
// does: inputs longer than 43 bytes, IPv4 octets with leading zeros, IPv4
// embedded in IPv6 ("::ffff:1.2.3.4"), prefixes with leading zeros, signs or
// more than 2 (IPv4) / 3 (IPv6) characters, and prefixes above 32 / 128.
// The error message is Cedar's (e.g. "invalid IP address: 010.0.0.1").
Result<IpAddr> IpFromString(std::string_view s);
// "10.0.0.1/32", "2001:db8::1/128" (RFC 5952 compressed IPv6 form).
std::string FormatIp(const IpAddr& ip);
// 127.0.0.0/8 with prefix >= 8, or ::1/128.
bool IpIsLoopback(const IpAddr& ip);
// 224.0.0.0/4 with prefix >= 4, or ff00::/8 with prefix >= 8.
bool IpIsMulticast(const IpAddr& ip);
// Whether the range of `ip` lies within the range of `range`; false across families.
bool IpIsInRange(const IpAddr& ip, const IpAddr& range);

// decimal

// Parses `-?[0-9]+\.[0-9]+` with at most 4 fractional digits into value*10^4;
// errors on malformed input, too many digits, or i64 overflow.
Result<Decimal> DecimalFromString(std::string_view s);
// Always 4 fractional digits: "1.2300", "-0.0001".
std::string FormatDecimal(Decimal d);

// datetime and duration

// Accepts "YYYY-MM-DD", "YYYY-MM-DDThh:mm:ssZ", "YYYY-MM-DDThh:mm:ss.SSSZ",
// "YYYY-MM-DDThh:mm:ss(+|-)hhmm" and "YYYY-MM-DDThh:mm:ss.SSS(+|-)hhmm" (offset
// hours < 24, minutes < 60; seconds < 60, so no leap seconds).
Result<Datetime> DatetimeFromString(std::string_view s);
// "2024-10-15T11:38:02.101Z" when the year is within 0000..9999; otherwise
// nullopt (such values only arise from offset()).
std::optional<std::string> FormatDatetime(Datetime d);
// Accepts `-?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?` with at least
// one unit; the sign applies to the whole duration; errors on i64 overflow.
Result<Duration> DurationFromString(std::string_view s);
// "1d2h3m4s5ms", "-1h", "0ms"; parses back to the same value.
std::string FormatDuration(Duration d);

// Datetime arithmetic; nullopt on i64 overflow.
std::optional<Datetime> DatetimeOffset(Datetime d, Duration by);
std::optional<Duration> DatetimeDurationSince(Datetime d, Datetime since);
// Midnight (UTC) of the day containing d; nullopt on overflow.
std::optional<Datetime> DatetimeToDate(Datetime d);
// Time since midnight (always in [0, 1 day)).
Duration DatetimeToTime(Datetime d);

// the function registry

enum class ExtensionFunctionId : uint8_t {
  kIp,
  kIsIpv4,
  kIsIpv6,
  kIsLoopback,
  kIsMulticast,
  kIsInRange,
  kDecimal,
  kLessThan,
  kLessThanOrEqual,
  kGreaterThan,
  kGreaterThanOrEqual,
  kDatetime,
  kDuration,
  kOffset,
  kDurationSince,
  kToDate,
  kToTime,
  kToMilliseconds,
  kToSeconds,
  kToMinutes,
  kToHours,
  kToDays,
};

// Function style `ip("...")` versus method style `x.isIpv4()`.
enum class CallStyle : uint8_t { kFunction, kMethod };

// One extension function. For methods the receiver is params[0].
struct ExtensionFunction {
  ExtensionFunctionId id;
  std::string_view name;       // "ip", "isInRange", "offset", ...
  std::string_view extension;  // "ipaddr", "decimal" or "datetime" (for error messages)
  CallStyle style;
  uint8_t arity;                    // number of arguments, including the receiver
  std::array<ValueKind, 2> params;  // the first `arity` entries are meaningful
  ValueKind result;
  // Constructors take one string and build an extension value (ip, decimal,
  // datetime, duration); the validator requires a literal argument for them.
  bool is_constructor;
};

// All functions, in ExtensionFunctionId order.
std::span<const ExtensionFunction> AllExtensionFunctions();
// Lookup by exact name, any style; nullptr when unknown.
const ExtensionFunction* FindExtensionFunction(std::string_view name);
const ExtensionFunction& GetExtensionFunction(ExtensionFunctionId id);

// Calls `fn` on `args`. Errors (InvalidArgument), with Cedar's wording:
//  - wrong number of arguments: "wrong number of arguments provided to
//    extension function `offset`: expected 2, got 1";
//  - wrong argument kind: "type error: expected datetime, got string";
//  - failed application: "error while evaluating `ipaddr` extension function:
//    invalid IP address: 1.2.3" (datetime functions name themselves instead:
//    "error while evaluating `duration` extension function: ...").
Result<Value> CallExtensionFunction(const ExtensionFunction& fn, std::span<const Value> args);
// Lookup then call; InvalidArgument "extension function `f` does not exist" when absent.
Result<Value> CallExtensionFunction(std::string_view name, std::span<const Value> args);

// operators Cedar overloads for extension values

// Cedar 4's `<`, `<=`, `>`, `>=`: defined for (long, long), (datetime, datetime)
// and (duration, duration). Anything else is a type error with Cedar's message
// ("type error: expected one of [long, datetime, duration], got decimal", or a
// mismatch message when both sides are orderable but different).
enum class OrderOp : uint8_t { kLess, kLessEqual, kGreater, kGreaterEqual };
Result<bool> CompareOrdered(OrderOp op, const Value& a, const Value& b);

}  // namespace warden::cedar
