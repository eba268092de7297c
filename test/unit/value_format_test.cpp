// Unit tests of the text output of integers and timestamps; sql/value_types.sql checks the same
// against PostgreSQL's own output over a wide range of values.
#include "electric_shapes/pure/value_format.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

namespace {

std::string timestamp(int64_t microseconds, bool utc_offset = false)
{
    char out[es::format::kMaxText];
    return std::string(out, es::format::iso_timestamp(microseconds, utc_offset, out));
}

std::string integer(int64_t value)
{
    char out[es::format::kMaxText];
    return std::string(out, es::format::signed_integer(value, out));
}

TEST(ValueFormat, Integers)
{
    EXPECT_EQ(integer(0), "0");
    EXPECT_EQ(integer(-42), "-42");
    EXPECT_EQ(integer(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
    EXPECT_EQ(integer(std::numeric_limits<int64_t>::max()), "9223372036854775807");
    char out[es::format::kMaxText];
    EXPECT_EQ(std::string(out, es::format::unsigned_integer(4294967295u, out)), "4294967295");
}

TEST(ValueFormat, TimestampAtPostgresEpoch)
{
    EXPECT_EQ(timestamp(0), "2000-01-01 00:00:00");
    EXPECT_EQ(timestamp(0, true), "2000-01-01 00:00:00+00");
}

TEST(ValueFormat, FractionsDropTrailingZeros)
{
    EXPECT_EQ(timestamp(762527109120000, true), "2024-02-29 13:05:09.12+00");
    EXPECT_EQ(timestamp(-1), "1999-12-31 23:59:59.999999");
    EXPECT_EQ(timestamp(-3150575999999999), "1900-03-01 00:00:00.000001");
}

TEST(ValueFormat, CalendarEdges)
{
    EXPECT_EQ(timestamp(-946684800000000), "1970-01-01 00:00:00");
    EXPECT_EQ(timestamp(-63082281600000000), "0001-01-01 00:00:00");
    EXPECT_EQ(timestamp(252455615999999999), "9999-12-31 23:59:59.999999");
    // The last timestamp PostgreSQL accepts: a six-digit year is written whole.
    EXPECT_EQ(timestamp(9223371331199999999, true), "294276-12-31 23:59:59.999999+00");
}

TEST(ValueFormat, LeavesInfinitiesAndBcDatesToPostgres)
{
    char out[es::format::kMaxText];
    EXPECT_EQ(es::format::iso_timestamp(std::numeric_limits<int64_t>::max(), true, out), 0u);
    EXPECT_EQ(es::format::iso_timestamp(std::numeric_limits<int64_t>::min(), true, out), 0u);
    EXPECT_EQ(es::format::iso_timestamp(-63082281600000001, false, out), 0u);  // 1 BC
}

}  // namespace

namespace {

// Days from 1970-01-01 to a proleptic Gregorian date, counted plainly (an implementation
// independent of the one under test).
int64_t days_from_civil(int64_t year, int month, int day)
{
    static const int before_month[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    auto leap = [](int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
    // Whole 400-year cycles first (146,097 days each), then years one by one.
    int64_t days = 0, y = 1970;
    int64_t cycles = (year - y) / 400;
    if ((year - y) % 400 < 0)
        cycles -= 1;  // so that y, below, never passes year
    days += cycles * 146097;
    y += cycles * 400;
    for (; y < year; y++)
        days += leap(y) ? 366 : 365;
    return days + before_month[month - 1] + (month > 2 && leap(year) ? 1 : 0) + day - 1;
}

// Reads "YYYY-MM-DD HH:MM:SS[.f]" back into microseconds since 2000-01-01, checking the form.
int64_t read_back(const std::string &text)
{
    int64_t year = 0;
    int month = 0, day = 0, hour = 0, minute = 0, second = 0;
    int consumed = 0;
    long long y = 0;
    EXPECT_EQ(sscanf(text.c_str(), "%lld-%2d-%2d %2d:%2d:%2d%n", &y, &month, &day, &hour, &minute,
                     &second, &consumed),
              6)
        << text;
    year = y;
    EXPECT_GE(text.find('-'), 4u) << text;  // at least four year digits
    int64_t micros = 0;
    std::string rest = text.substr(static_cast<size_t>(consumed));
    if (!rest.empty()) {
        EXPECT_EQ(rest[0], '.') << text;
        std::string fraction = rest.substr(1);
        EXPECT_TRUE(!fraction.empty() && fraction.size() <= 6 && fraction.back() != '0') << text;
        fraction.resize(6, '0');
        micros = std::stoll(fraction);
    }
    int64_t days = days_from_civil(year, month, day) - days_from_civil(2000, 1, 1);
    return ((days * 24 + hour) * 60 + minute) * 60 * 1000000 + second * int64_t{1000000} + micros;
}

TEST(ValueFormat, TimestampsReadBackToThemselves)
{
    std::mt19937_64 random(42);
    const int64_t first = -63082281600000000;  // 0001-01-01
    const int64_t last = 9223371331199999999;  // 294276-12-31 23:59:59.999999
    const uint64_t span = static_cast<uint64_t>(last) - static_cast<uint64_t>(first);
    for (int i = 0; i < 200000; i++) {
        auto value = static_cast<int64_t>(static_cast<uint64_t>(first) + random() % span);
        if (i % 4 == 1)
            value -= value % 1000000;  // whole seconds
        else if (i % 4 == 2)
            value -= value % 100000;  // one fractional digit
        ASSERT_EQ(read_back(timestamp(value)), value) << value << " " << timestamp(value);
    }
}

}  // namespace
