// Data-driven tests of the Cedar extension types. Every expectation here was
// checked against the reference implementation (cedar-wasm 4.13).
#include "warden/cedar/extensions.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace warden::cedar {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// ip(): input, then the canonical form ("" when the input must be rejected)
// and, for rejections, a fragment of the expected message.
struct IpCase {
  const char* input;
  const char* canonical;
  const char* error;
};

const IpCase kIpCases[] = {
    {"0.0.0.0", "0.0.0.0/32", ""},
    {"255.255.255.255", "255.255.255.255/32", ""},
    {"1.2.3.4/0", "1.2.3.4/0", ""},
    {"1.2.3.4/32", "1.2.3.4/32", ""},
    {"1.2.3.4/24", "1.2.3.4/24", ""},
    {"10.0.0.1", "10.0.0.1/32", ""},
    {"::", "::/128", ""},
    {"::1", "::1/128", ""},
    {"::1/128", "::1/128", ""},
    {"::/0", "::/0", ""},
    {"1::", "1::/128", ""},
    {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8/128", ""},
    {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0/128", ""},
    {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8/128", ""},
    {"0001::", "1::/128", ""},
    {"ABCD::ef", "abcd::ef/128", ""},
    {"::ffff:ff00:1", "::ffff:ff00:1/128", ""},
    {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128", ""},
    {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1/128", ""},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
     ""},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/126", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/126",
     ""},
    {"256.0.0.0", "", "invalid IP address: 256.0.0.0"},
    {"1.2.3", "", "invalid IP address"},
    {"1.2.3.4.5", "", "invalid IP address"},
    {"01.2.3.4", "", "invalid IP address: 01.2.3.4"},
    {"1.02.3.4", "", "invalid IP address"},
    {"0.0.0.00", "", "invalid IP address"},
    {"1.2.3.4/33", "", "33 is larger than the limit 32"},
    {"1.2.3.4/08", "", "leading zero(s)"},
    {"1.2.3.4/+8", "", "encountered non-digit"},
    {"1.2.3.4/", "", "cannot parse integer from empty string"},
    {"1.2.3.4/ 8", "", "encountered non-digit"},
    {"1.2.3.4/3a", "", "encountered non-digit"},
    {"1.2.3.4/8/8", "", "string length 3 is too large"},
    {"::1/129", "", "129 is larger than the limit 128"},
    {"::1/0128", "", "string length 4 is too large"},
    {"::1/012", "", "leading zero(s)"},
    {"1:2:3:4:5:6:7:8:9", "", "invalid IP address"},
    {"1::2::3", "", "invalid IP address"},
    {":1::", "", "invalid IP address"},
    {"1:::2", "", "invalid IP address"},
    {":::", "", "invalid IP address"},
    {"12345::", "", "invalid IP address"},
    {"1:2:3:4:5:6:7:8::", "", "invalid IP address"},
    {"::1:2:3:4:5:6:7:8", "", "invalid IP address"},
    {"1:2:3:4:5:6:7", "", "invalid IP address"},
    {"1:2:3:4:5:6::7:8", "", "invalid IP address"},
    {"g::1", "", "invalid IP address"},
    {"::ffff:1.2.3.4", "", "We do not accept IPv4 embedded in IPv6"},
    {"::1.2.3.4", "", "We do not accept IPv4 embedded in IPv6"},
    {"1.2.3.4:80", "", "invalid IP address"},
    {" 1.2.3.4", "", "invalid IP address"},
    {"1.2.3.4 ", "", "invalid IP address"},
    {"1.2.3.4%eth0", "", "invalid IP address"},
    {"fe80::1%eth0", "", "invalid IP address"},
    {"0x1.2.3.4", "", "invalid IP address"},
    {"1.2.3.-4", "", "invalid IP address"},
    {"127.1", "", "invalid IP address"},
    {"", "", "invalid IP address: "},
    {"/8", "", "error parsing IP address from the string ``"},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/1280", "", "string length is too large"},
};

TEST(IpTest, ParseTable) {
  for (const IpCase& c : kIpCases) {
    SCOPED_TRACE(c.input);
    auto ip = IpFromString(c.input);
    if (std::string(c.canonical).empty()) {
      ASSERT_FALSE(ip.ok());
      EXPECT_NE(ip.status().message().find(c.error), std::string::npos) << ip.status().message();
    } else {
      ASSERT_TRUE(ip.ok()) << ip.status().ToString();
      EXPECT_EQ(FormatIp(*ip), c.canonical);
      // The canonical form parses back to the same value.
      auto again = IpFromString(FormatIp(*ip));
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(*again, *ip);
    }
  }
}

IpAddr Ip(const char* s) {
  auto ip = IpFromString(s);
  EXPECT_TRUE(ip.ok()) << s;
  return ip.ok() ? *ip : IpAddr{};
}

struct IpPredicateCase {
  const char* input;
  bool v4;
  bool loopback;
  bool multicast;
};

const IpPredicateCase kIpPredicates[] = {
    {"127.0.0.1", true, true, false},
    {"127.0.0.0/8", true, true, false},
    {"127.0.0.0/7", true, false, false},
    {"126.0.0.1", true, false, false},
    {"::1", false, true, false},
    {"::1/127", false, false, false},
    {"::ffff:7f00:1", false, false, false},
    {"224.0.0.1", true, false, true},
    {"239.255.255.255", true, false, true},
    {"240.0.0.0", true, false, false},
    {"224.0.0.0/4", true, false, true},
    {"224.0.0.0/3", true, false, false},
    {"ff00::", false, false, true},
    {"ff00::/8", false, false, true},
    {"ff00::/7", false, false, false},
    {"fe00::", false, false, false},
};

TEST(IpTest, Predicates) {
  for (const auto& c : kIpPredicates) {
    SCOPED_TRACE(c.input);
    IpAddr ip = Ip(c.input);
    EXPECT_EQ(!ip.v6, c.v4);
    EXPECT_EQ(IpIsLoopback(ip), c.loopback);
    EXPECT_EQ(IpIsMulticast(ip), c.multicast);
  }
}

struct RangeCase {
  const char* ip;
  const char* range;
  bool in;
};

const RangeCase kRanges[] = {
    {"10.0.0.1", "10.0.0.0/8", true},
    {"10.0.0.0/8", "10.0.0.0/8", true},
    {"10.0.0.0/7", "10.0.0.0/8", false},
    {"11.0.0.1", "10.0.0.0/8", false},
    {"10.0.0.1", "10.0.0.5/8", true},
    {"1.2.3.4", "0.0.0.0/0", true},
    {"255.255.255.255", "0.0.0.0/0", true},
    {"::1", "0.0.0.0/0", false},
    {"1.2.3.4", "::/0", false},
    {"::1", "::/0", true},
    {"2001:db8::1", "2001:db8::/32", true},
    {"2001:db9::1", "2001:db8::/32", false},
    {"2001:db8::/31", "2001:db8::/32", false},
    {"::ffff:0:0/96", "::/64", true},
    {"8000::/1", "8000::1/1", true},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/126",
     true},
    {"ffff:ffff:ffff:ffff:0:0:0:0", "ffff:ffff:ffff:ffff::/64", true},
    {"ffff:ffff:ffff:fffe:ffff::", "ffff:ffff:ffff:ffff::/64", false},
    {"ffff:ffff:ffff:ffff:8000::", "ffff:ffff:ffff:ffff:8000::/65", true},
    {"ffff:ffff:ffff:ffff:7fff::", "ffff:ffff:ffff:ffff:8000::/65", false},
    {"1.2.3.4/32", "1.2.3.4", true},
    {"1.2.3.5", "1.2.3.4", false},
};

TEST(IpTest, IsInRange) {
  for (const auto& c : kRanges) {
    SCOPED_TRACE(std::string(c.ip) + " in " + c.range);
    EXPECT_EQ(IpIsInRange(Ip(c.ip), Ip(c.range)), c.in);
  }
}

TEST(IpTest, EqualityKeepsHostBitsAndPrefix) {
  EXPECT_EQ(Ip("10.0.0.1"), Ip("10.0.0.1/32"));
  EXPECT_FALSE(Ip("10.0.0.1/24") == Ip("10.0.0.0/24"));
  EXPECT_EQ(Ip("::1"), Ip("0:0:0:0:0:0:0:1"));
  EXPECT_EQ(Ip("::ABCD"), Ip("::abcd"));
  EXPECT_FALSE(Ip("::") == Ip("0.0.0.0"));
}

struct DecimalCase {
  const char* input;
  bool ok;
  int64_t scaled;
  const char* canonical_or_error;
};

const DecimalCase kDecimals[] = {
    {"1.0", true, 10000, "1.0000"},
    {"-1.0", true, -10000, "-1.0000"},
    {"123.456", true, 1234560, "123.4560"},
    {"0.1234", true, 1234, "0.1234"},
    {"-0.0123", true, -123, "-0.0123"},
    {"-0.5", true, -5000, "-0.5000"},
    {"-0.0", true, 0, "0.0000"},
    {"007.5", true, 75000, "7.5000"},
    {"1.05", true, 10500, "1.0500"},
    {"922337203685477.5807", true, kMax, "922337203685477.5807"},
    {"-922337203685477.5808", true, kMin, "-922337203685477.5808"},
    {"922337203685477.5808", false, 0, "overflow when converting to decimal"},
    {"-922337203685477.5809", false, 0, "overflow when converting to decimal"},
    {"922337203685478.0", false, 0, "overflow when converting to decimal"},
    {"99999999999999999999.12345", false, 0, "overflow when converting to decimal"},
    {"1.12345", false, 0, "too many digits after the decimal in `1.12345`"},
    {"1.", false, 0, "`1.` is not a well-formed decimal value"},
    {".5", false, 0, "is not a well-formed decimal value"},
    {"1", false, 0, "is not a well-formed decimal value"},
    {"+1.0", false, 0, "is not a well-formed decimal value"},
    {"1.0 ", false, 0, "is not a well-formed decimal value"},
    {" 1.0", false, 0, "is not a well-formed decimal value"},
    {"1e2", false, 0, "is not a well-formed decimal value"},
    {"1.2.3", false, 0, "is not a well-formed decimal value"},
    {"--1.0", false, 0, "is not a well-formed decimal value"},
    {"-.5", false, 0, "is not a well-formed decimal value"},
    {"", false, 0, "is not a well-formed decimal value"},
    {"1,5", false, 0, "is not a well-formed decimal value"},
};

TEST(DecimalTest, ParseTable) {
  for (const auto& c : kDecimals) {
    SCOPED_TRACE(c.input);
    auto d = DecimalFromString(c.input);
    if (c.ok) {
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      EXPECT_EQ(d->scaled, c.scaled);
      EXPECT_EQ(FormatDecimal(*d), c.canonical_or_error);
      auto again = DecimalFromString(FormatDecimal(*d));
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(again->scaled, d->scaled);
    } else {
      ASSERT_FALSE(d.ok());
      EXPECT_NE(d.status().message().find(c.canonical_or_error), std::string::npos)
          << d.status().message();
    }
  }
}

// datetime(): input, then ms since the epoch or an error fragment.
struct DatetimeCase {
  const char* input;
  bool ok;
  int64_t ms;
  const char* error;
};

const DatetimeCase kDatetimes[] = {
    {"1970-01-01", true, 0, ""},
    {"1970-01-01T00:00:00Z", true, 0, ""},
    {"1970-01-01T00:00:00.001Z", true, 1, ""},
    {"2024-10-15", true, 1728950400000, ""},
    {"2024-10-15T11:38:02Z", true, 1728992282000, ""},
    {"2024-10-15T11:38:02.101Z", true, 1728992282101, ""},
    {"2024-10-15T11:38:02.101+1134", true, 1728950642101, ""},  // 2024-10-15T00:04:02.101Z
    {"2024-10-15T11:38:02-1134", true, 1729033922000, ""},      // 2024-10-15T23:12:02Z
    {"2024-10-15T23:59:00+2359", true, 1728950400000, ""},
    {"2024-10-15T00:00:00-2359", true, 1729036740000, ""},
    {"0000-01-01", true, -62167219200000, ""},
    {"9999-12-31T23:59:59.999Z", true, 253402300799999, ""},
    {"1969-12-31T23:59:59.999Z", true, -1, ""},
    {"2000-02-29", true, 951782400000, ""},
    {"2024-02-29", true, 1709164800000, ""},
    {"2023-02-29", false, 0, "invalid date: 2023-02-29"},
    {"1900-02-29", false, 0, "invalid date: 1900-02-29"},
    {"2024-00-01", false, 0, "invalid date: 2024-00-01"},
    {"2024-01-00", false, 0, "invalid date"},
    {"2024-04-31", false, 0, "invalid date"},
    {"2024-13-01T25:00:00Z", false, 0, "invalid date: 2024-13-01"},
    {"2024-01-01T24:00:00Z", false, 0, "invalid hour/minute/second: 24:00:00"},
    {"2024-01-01T23:59:60Z", false, 0, "invalid hour/minute/second: 23:59:60"},
    {"2024-01-01T01:60:03Z", false, 0, "invalid hour/minute/second"},
    {"2024-12-01T25:00:00+2500", false, 0, "invalid hour/minute/second: 25:00:00"},
    {"2024-01-01T00:00:00+2400", false, 0, "invalid offset range"},
    {"2024-01-01T00:00:00+0060", false, 0, "invalid offset range"},
    {"2024-01-01t00:00:00Z", false, 0, "invalid hour/minute/second pattern"},
    {"2024-01-01 00:00:00Z", false, 0, "invalid hour/minute/second pattern"},
    {"2024-01-01T00:00Z", false, 0, "invalid hour/minute/second pattern"},
    {"2024-01-01T", false, 0, "invalid hour/minute/second pattern"},
    {"2024-10-15Z", false, 0, "invalid hour/minute/second pattern"},
    {"2024-01-01T00:00:00", false, 0, "invalid millisecond and/or offset pattern"},
    {"2024-01-01T00:00:00z", false, 0, "invalid millisecond and/or offset pattern"},
    {"2024-01-01T00:00:00.1Z", false, 0, "invalid millisecond and/or offset pattern"},
    {"2024-01-01T00:00:00.1234Z", false, 0, "invalid millisecond and/or offset pattern"},
    {"2024-01-01T00:00:00+01:00", false, 0, "invalid millisecond and/or offset pattern"},
    {"2024-01-01T00:00:00ZZ", false, 0, "invalid millisecond and/or offset pattern"},
    {"2024-13-01T00:00:00ZZ", false, 0, "invalid millisecond and/or offset pattern"},
    {"+2024-01-01", false, 0, "invalid date pattern"},
    {"2024-1-01", false, 0, "invalid date pattern"},
    {"10000-01-01", false, 0, "invalid date pattern"},
    {"11-12-13", false, 0, "invalid date pattern"},
    {"", false, 0, "invalid date pattern"},
    {"-1", false, 0, "invalid date pattern"},
};

TEST(DatetimeTest, ParseTable) {
  for (const auto& c : kDatetimes) {
    SCOPED_TRACE(c.input);
    auto d = DatetimeFromString(c.input);
    if (c.ok) {
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      EXPECT_EQ(d->ms, c.ms);
      auto text = FormatDatetime(*d);
      ASSERT_TRUE(text.has_value());
      auto again = DatetimeFromString(*text);
      ASSERT_TRUE(again.ok()) << *text;
      EXPECT_EQ(again->ms, d->ms);
    } else {
      ASSERT_FALSE(d.ok());
      EXPECT_NE(d.status().message().find(c.error), std::string::npos) << d.status().message();
    }
  }
}

TEST(DatetimeTest, Format) {
  EXPECT_EQ(FormatDatetime(Datetime{0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatDatetime(Datetime{-1}), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatDatetime(Datetime{1728992282101}), "2024-10-15T11:38:02.101Z");
  EXPECT_EQ(FormatDatetime(Datetime{-62167219200000}), "0000-01-01T00:00:00Z");
  EXPECT_EQ(FormatDatetime(Datetime{-62167219200001}), std::nullopt);
  EXPECT_EQ(FormatDatetime(Datetime{253402300800000}), std::nullopt);
  EXPECT_EQ(FormatDatetime(Datetime{kMin}), std::nullopt);
  EXPECT_EQ(FormatDatetime(Datetime{kMax}), std::nullopt);
}

struct DurationCase {
  const char* input;
  bool ok;
  int64_t ms;
  const char* error;
};

const DurationCase kDurations[] = {
    {"0ms", true, 0, ""},
    {"0d", true, 0, ""},
    {"-0ms", true, 0, ""},
    {"1ms", true, 1, ""},
    {"1s", true, 1000, ""},
    {"1m", true, 60000, ""},
    {"1h", true, 3600000, ""},
    {"1d", true, 86400000, ""},
    {"-1d", true, -86400000, ""},
    {"1d2h3m4s5ms", true, 93784005, ""},
    {"-1d2h3m4s5ms", true, -93784005, ""},
    {"1m1ms", true, 60001, ""},
    {"2h", true, 7200000, ""},
    {"120m", true, 7200000, ""},
    {"007s", true, 7000, ""},
    {"9223372036854775807ms", true, kMax, ""},
    {"-9223372036854775808ms", true, kMin, ""},
    {"9223372036854775s807ms", true, kMax, ""},
    {"-9223372036854775s808ms", true, kMin, ""},
    {"106751991167d", true, 106751991167LL * 86400000, ""},
    {"9223372036854775808ms", false, 0, "Duration overflows internal representation"},
    {"-9223372036854775809ms", false, 0, "Duration overflows"},
    {"9223372036854775s808ms", false, 0, "Duration overflows"},
    {"106751991168d", false, 0, "Duration overflows"},
    {"99999999999999999999999d", false, 0, "Duration overflows"},
    {"18446744073709551616ms", false, 0, "Duration overflows"},
    {"99999999999999999999999dx", false, 0, "invalid duration pattern"},
    {"106751991167d1d", false, 0, "invalid duration pattern"},
    {"", false, 0, "invalid duration pattern"},
    {"-", false, 0, "invalid duration pattern"},
    {"1", false, 0, "invalid duration pattern"},
    {"d", false, 0, "invalid duration pattern"},
    {"1D", false, 0, "invalid duration pattern"},
    {"--1d", false, 0, "invalid duration pattern"},
    {"+1d", false, 0, "invalid duration pattern"},
    {"1d ", false, 0, "invalid duration pattern"},
    {" 1d", false, 0, "invalid duration pattern"},
    {"1h1d", false, 0, "invalid duration pattern"},
    {"1d1d", false, 0, "invalid duration pattern"},
    {"1ms1m", false, 0, "invalid duration pattern"},
    {"1s2m", false, 0, "invalid duration pattern"},
    {"1d-1h", false, 0, "invalid duration pattern"},
    {"1.5h", false, 0, "invalid duration pattern"},
    {"1w", false, 0, "invalid duration pattern"},
    {"1msx", false, 0, "invalid duration pattern"},
};

TEST(DurationTest, ParseTable) {
  for (const auto& c : kDurations) {
    SCOPED_TRACE(c.input);
    auto d = DurationFromString(c.input);
    if (c.ok) {
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      EXPECT_EQ(d->ms, c.ms);
      auto again = DurationFromString(FormatDuration(*d));
      ASSERT_TRUE(again.ok()) << FormatDuration(*d);
      EXPECT_EQ(again->ms, d->ms);
    } else {
      ASSERT_FALSE(d.ok());
      EXPECT_NE(d.status().message().find(c.error), std::string::npos) << d.status().message();
    }
  }
}

TEST(DurationTest, Format) {
  EXPECT_EQ(FormatDuration(Duration{0}), "0ms");
  EXPECT_EQ(FormatDuration(Duration{93784005}), "1d2h3m4s5ms");
  EXPECT_EQ(FormatDuration(Duration{-3600000}), "-1h");
  EXPECT_EQ(FormatDuration(Duration{kMin}), "-106751991167d7h12m55s808ms");
  EXPECT_EQ(FormatDuration(Duration{kMax}), "106751991167d7h12m55s807ms");
}

TEST(DatetimeTest, Arithmetic) {
  EXPECT_EQ(DatetimeOffset(Datetime{0}, Duration{5})->ms, 5);
  EXPECT_EQ(DatetimeOffset(Datetime{kMax}, Duration{1}), std::nullopt);
  EXPECT_EQ(DatetimeOffset(Datetime{kMin}, Duration{-1}), std::nullopt);
  EXPECT_EQ(DatetimeOffset(Datetime{kMax}, Duration{kMin})->ms, -1);
  EXPECT_EQ(DatetimeDurationSince(Datetime{1}, Datetime{0})->ms, 1);
  EXPECT_EQ(DatetimeDurationSince(Datetime{kMin}, Datetime{1}), std::nullopt);
  EXPECT_EQ(DatetimeDurationSince(Datetime{kMax}, Datetime{-1}), std::nullopt);
  EXPECT_EQ(DatetimeToDate(Datetime{-1})->ms, -86400000);
  EXPECT_EQ(DatetimeToDate(Datetime{86400000 + 5})->ms, 86400000);
  EXPECT_EQ(DatetimeToDate(Datetime{kMin}), std::nullopt);
  EXPECT_TRUE(DatetimeToDate(Datetime{kMax}).has_value());
  EXPECT_EQ(DatetimeToTime(Datetime{-1}).ms, 86399999);
  EXPECT_EQ(DatetimeToTime(Datetime{-86400000}).ms, 0);
  EXPECT_EQ(DatetimeToTime(Datetime{86400000 + 5}).ms, 5);
  EXPECT_NE(DatetimeToTime(Datetime{kMin}).ms, 0);
  EXPECT_GE(DatetimeToTime(Datetime{kMin}).ms, 0);
}

Value Call(std::string_view name, std::vector<Value> args) {
  auto r = CallExtensionFunction(name, args);
  EXPECT_TRUE(r.ok()) << name << ": " << r.status().ToString();
  return r.ok() ? *r : Value();
}

std::string CallError(std::string_view name, std::vector<Value> args) {
  auto r = CallExtensionFunction(name, args);
  EXPECT_FALSE(r.ok()) << name;
  return r.ok() ? std::string() : r.status().message();
}

Value Dt(const char* s) { return Call("datetime", {Value::String(s)}); }
Value Dur(const char* s) { return Call("duration", {Value::String(s)}); }
Value Dec(const char* s) { return Call("decimal", {Value::String(s)}); }
Value IpV(const char* s) { return Call("ip", {Value::String(s)}); }

TEST(RegistryTest, EveryFunctionIsRegisteredOnce) {
  const char* names[] = {"ip",
                         "isIpv4",
                         "isIpv6",
                         "isLoopback",
                         "isMulticast",
                         "isInRange",
                         "decimal",
                         "lessThan",
                         "lessThanOrEqual",
                         "greaterThan",
                         "greaterThanOrEqual",
                         "datetime",
                         "duration",
                         "offset",
                         "durationSince",
                         "toDate",
                         "toTime",
                         "toMilliseconds",
                         "toSeconds",
                         "toMinutes",
                         "toHours",
                         "toDays"};
  EXPECT_EQ(AllExtensionFunctions().size(), std::size(names));
  for (const char* n : names) {
    const ExtensionFunction* fn = FindExtensionFunction(n);
    ASSERT_NE(fn, nullptr) << n;
    EXPECT_EQ(fn->name, n);
    EXPECT_EQ(&GetExtensionFunction(fn->id), fn);
  }
  EXPECT_EQ(FindExtensionFunction("ipaddr"), nullptr);
  EXPECT_EQ(FindExtensionFunction("Ip"), nullptr);
  EXPECT_EQ(FindExtensionFunction(""), nullptr);
  for (const char* ctor : {"ip", "decimal", "datetime", "duration"}) {
    EXPECT_TRUE(FindExtensionFunction(ctor)->is_constructor);
    EXPECT_EQ(FindExtensionFunction(ctor)->style, CallStyle::kFunction);
  }
  EXPECT_EQ(FindExtensionFunction("offset")->style, CallStyle::kMethod);
  EXPECT_EQ(FindExtensionFunction("isInRange")->arity, 2);
  EXPECT_EQ(FindExtensionFunction("toDays")->result, ValueKind::kLong);
}

TEST(RegistryTest, CallsComputeCedarResults) {
  EXPECT_EQ(Call("isIpv4", {IpV("1.2.3.4")}), Value::Bool(true));
  EXPECT_EQ(Call("isIpv6", {IpV("1.2.3.4")}), Value::Bool(false));
  EXPECT_EQ(Call("isLoopback", {IpV("::1")}), Value::Bool(true));
  EXPECT_EQ(Call("isMulticast", {IpV("ff00::")}), Value::Bool(true));
  EXPECT_EQ(Call("isInRange", {IpV("10.1.2.3"), IpV("10.0.0.0/8")}), Value::Bool(true));
  EXPECT_EQ(Call("lessThan", {Dec("-0.5"), Dec("0.0")}), Value::Bool(true));
  EXPECT_EQ(Call("lessThanOrEqual", {Dec("1.0"), Dec("1.0000")}), Value::Bool(true));
  EXPECT_EQ(Call("greaterThan", {Dec("1.0"), Dec("1.0")}), Value::Bool(false));
  EXPECT_EQ(Call("greaterThanOrEqual", {Dec("1.0001"), Dec("1.0")}), Value::Bool(true));
  EXPECT_EQ(Call("offset", {Dt("2024-01-01"), Dur("1d")}), Dt("2024-01-02"));
  EXPECT_EQ(Call("durationSince", {Dt("1970-01-01T00:00:00.001Z"), Dt("1970-01-01")}), Dur("1ms"));
  EXPECT_EQ(Call("toDate", {Dt("1969-12-31T23:59:59.999Z")}), Dt("1969-12-31"));
  EXPECT_EQ(Call("toTime", {Dt("1969-12-31T23:59:59.999Z")}), Dur("23h59m59s999ms"));
  EXPECT_EQ(Call("toMilliseconds", {Dur("1d2h3m4s5ms")}), Value::Long(93784005));
  EXPECT_EQ(Call("toMilliseconds", {Dur("-1d2h3m4s5ms")}), Value::Long(-93784005));
  EXPECT_EQ(Call("toSeconds", {Dur("-1500ms")}), Value::Long(-1));
  EXPECT_EQ(Call("toMinutes", {Dur("-59s")}), Value::Long(0));
  EXPECT_EQ(Call("toHours", {Dur("119m")}), Value::Long(1));
  EXPECT_EQ(Call("toDays", {Dur("-25h")}), Value::Long(-1));
  EXPECT_EQ(Call("toDays", {Dur("-9223372036854775808ms")}), Value::Long(-106751991167));
}

TEST(RegistryTest, ErrorsUseCedarWording) {
  EXPECT_EQ(CallError("ip", {Value::String("1.2.3")}),
            "error while evaluating `ipaddr` extension function: invalid IP address: 1.2.3");
  EXPECT_EQ(CallError("decimal", {Value::String("1.")}),
            "error while evaluating `decimal` extension function: `1.` is not a well-formed "
            "decimal value");
  EXPECT_EQ(CallError("duration", {Value::String("-")}),
            "error while evaluating `duration` extension function: invalid duration pattern");
  EXPECT_EQ(CallError("datetime", {Value::String("2023-02-29")}),
            "error while evaluating `datetime` extension function: invalid date: 2023-02-29");
  EXPECT_EQ(CallError("ip", {Value::Long(1)}), "type error: expected string, got long");
  EXPECT_EQ(CallError("isInRange", {IpV("1.2.3.4"), Value::String("1.2.3.4")}),
            "type error: expected ipaddr, got string");
  EXPECT_EQ(CallError("lessThan", {Dec("1.0"), Value::Long(1)}),
            "type error: expected decimal, got long");
  EXPECT_EQ(CallError("offset", {Dt("1970-01-01")}),
            "wrong number of arguments provided to extension function `offset`: expected 2, got 1");
  EXPECT_EQ(CallError("ip", {}),
            "wrong number of arguments provided to extension function `ip`: expected 1, got 0");
  EXPECT_EQ(CallError("ipaddr", {Value::String("1.2.3.4")}),
            "extension function `ipaddr` does not exist");
  std::string overflow = CallError(
      "offset", {Call("offset", {Dt("1970-01-01"), Dur("9223372036854775807ms")}), Dur("1ms")});
  EXPECT_EQ(
      overflow.rfind(
          "error while evaluating `offset` extension function: overflows when adding an offset", 0),
      0u)
      << overflow;
  std::string since =
      CallError("durationSince", {Call("offset", {Dt("1970-01-01"), Dur("-9223372036854775808ms")}),
                                  Dt("1970-01-01T00:00:00.001Z")});
  EXPECT_NE(since.find("`durationSince`"), std::string::npos);
  std::string to_date =
      CallError("toDate", {Call("offset", {Dt("1970-01-01"), Dur("-9223372036854775808ms")})});
  EXPECT_NE(to_date.find("overflows when computing the date"), std::string::npos);
}

TEST(OrderTest, OperatorsOnLongDatetimeDuration) {
  auto cmp = [](OrderOp op, const Value& a, const Value& b) {
    auto r = CompareOrdered(op, a, b);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  };
  EXPECT_TRUE(cmp(OrderOp::kLess, Value::Long(kMin), Value::Long(kMax)));
  EXPECT_FALSE(cmp(OrderOp::kGreater, Value::Long(1), Value::Long(1)));
  EXPECT_TRUE(cmp(OrderOp::kGreaterEqual, Value::Long(1), Value::Long(1)));
  EXPECT_TRUE(cmp(OrderOp::kLessEqual, Dt("2024-01-01"), Dt("2024-01-01")));
  EXPECT_FALSE(cmp(OrderOp::kGreater, Dt("2024-01-01"), Dt("2024-01-01")));
  EXPECT_TRUE(cmp(OrderOp::kLess, Dur("-1ms"), Dur("0ms")));
  EXPECT_TRUE(cmp(OrderOp::kGreaterEqual, Dur("2h"), Dur("120m")));
}

TEST(OrderTest, TypeErrors) {
  auto err = [](const Value& a, const Value& b) {
    auto r = CompareOrdered(OrderOp::kLess, a, b);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(err(Value::Long(1), Dt("2024-01-01")), "type error: expected long, got datetime");
  EXPECT_EQ(err(Dt("2024-01-01"), Dur("1h")), "type error: expected datetime, got duration");
  EXPECT_EQ(err(Value::String("a"), Value::Long(1)), "type error: expected long, got string");
  EXPECT_EQ(err(Dec("1.0"), Value::Long(1)), "type error: expected long, got decimal");
  EXPECT_EQ(err(Value::Long(1), Value::String("a")), "type error: expected long, got string");
  EXPECT_EQ(err(Dur("1h"), Value::String("a")), "type error: expected duration, got string");
  EXPECT_EQ(err(Dec("1.0"), Dec("2.0")),
            "type error: expected one of [long, datetime, duration], got decimal");
}

}  // namespace
}  // namespace warden::cedar
