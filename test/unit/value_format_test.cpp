// Unit tests of the text output of integers and timestamps; sql/value_types.sql checks the same
// against PostgreSQL's own output over a wide range of values.
#include "electric_shapes/pure/value_format.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
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
