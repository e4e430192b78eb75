#include "warden/core/time_format.h"

#include <gtest/gtest.h>

namespace warden {
namespace {

TEST(TimeFormatTest, Rfc3339RoundTrip) {
  auto t = ParseRfc3339("2026-11-21T22:22:45Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(UnixSeconds(*t), 1795299765);
  EXPECT_EQ(FormatRfc3339(*t), "2026-11-21T22:22:45Z");
  auto off = ParseRfc3339("2026-11-21T23:22:45.5+01:00");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(FormatRfc3339(*off, true), "2026-11-21T22:22:45.500000Z");
  EXPECT_FALSE(ParseRfc3339("2026-02-30T00:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-21 22:22:45Z").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-21T22:22:45").ok());
}

TEST(TimeFormatTest, Durations) {
  EXPECT_EQ(ParseDuration("30d")->count(), 30 * 86400);
  EXPECT_EQ(ParseDuration("1h30m")->count(), 5400);
  EXPECT_EQ(ParseDuration("90s")->count(), 90);
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("10").ok());
  EXPECT_FALSE(ParseDuration("5w").ok());
  EXPECT_FALSE(ParseDuration("0s").ok());
  EXPECT_FALSE(ParseDuration("-5m").ok());
  EXPECT_FALSE(ParseDuration("99999999999d").ok());
  EXPECT_EQ(FormatDuration(std::chrono::seconds(5400)), "1h30m");
  EXPECT_EQ(FormatDuration(std::chrono::seconds(0)), "0s");
}

TEST(ClockTest, FakeClockAdvances) {
  FakeClock clock;
  TimePoint start = clock.Now();
  clock.Advance(std::chrono::minutes(5));
  EXPECT_EQ(clock.Now() - start, std::chrono::minutes(5));
}

}  // namespace
}  // namespace warden
