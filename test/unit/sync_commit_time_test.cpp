// Unit test of the commit time the service reads from the stream's commit messages, the start of
// its commit-to-response latency: the plugin's ISO 8601 form becomes Unix microseconds, and
// anything else is 0 (not measured) rather than a wrong time.
#include "sync/pure/commit_time.hpp"
#include "sync/pure/stream_message.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <string>

namespace {

using es::sync::commit_time_unix_us;
using es::sync::MessageKind;
using es::sync::parse_stream_message;

int64_t commit_time(const std::string &value)
{
    auto message = parse_stream_message(
        "{\"headers\":{\"control\":\"commit\",\"lsn\":\"123\",\"txids\":[7],\"commit_time\":" + value + "}}");
    EXPECT_TRUE(message && message->kind == MessageKind::Commit);
    return message ? message->commit_unix_us : -1;
}

TEST(SyncCommitTime, IsoTimeBecomesUnixMicroseconds)
{
    EXPECT_EQ(commit_time("\"2000-01-01T00:00:00.000000Z\""), 946684800000000LL);
    EXPECT_EQ(commit_time("\"2026-12-02T01:39:02.123456Z\""), 1796175542123456LL);
}

TEST(SyncCommitTime, AnythingElseIsNotMeasured)
{
    EXPECT_EQ(commit_time("\"2026-12-02 01:39:02.123456Z\""), 0);
    EXPECT_EQ(commit_time("\"2026-12-02T01:39:02.12345xZ\""), 0);
    EXPECT_EQ(commit_time("\"2026-12-02T01:39:02Z\""), 0);
    EXPECT_EQ(commit_time("\"2026-12-02T01:39:02.123456+01\""), 0);
    EXPECT_EQ(commit_time("12345"), 0);
    auto message = parse_stream_message("{\"headers\":{\"control\":\"commit\",\"lsn\":\"123\"}}");
    ASSERT_TRUE(message);
    EXPECT_EQ(message->commit_unix_us, 0);
}

// The reader as it was before its digits-only shortcut, all through sscanf: the shortcut must
// give what it gives for every text.
int64_t reference(const std::string &text)
{
    int year, month, day, hour, minute, second, used = 0;
    if (text.size() != 27 || text[26] != 'Z' ||
        std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%n", &year, &month, &day, &hour, &minute, &second, &used) != 6 ||
        used != 20)
        return 0;
    int64_t micros = 0;
    for (size_t i = 20; i < 26; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
        micros = micros * 10 + (text[i] - '0');
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return static_cast<int64_t>(timegm(&tm)) * 1000000 + micros;
}

TEST(SyncCommitTime, EveryTextReadsAsSscanfReadsIt)
{
    // Out-of-range fields (normalized by timegm), and forms only sscanf takes (a space or sign
    // before a field, a short field).
    const std::vector<std::string> texts = {
        "2026-12-02T01:39:02.123456Z", "0000-00-00T00:00:00.000000Z", "9999-99-99T99:99:99.999999Z",
        "2026-02-31T24:60:60.000000Z", "1969-12-31T23:59:59.999999Z", "2026-12- 2T01:39:02.123456Z",
        "2026-12-+2T01:39:02.123456Z", "2026--1-02T01:39:02.123456Z", " 202-12-02T01:39:02.123456Z",
        "+202-12-02T01:39:02.123456Z", "2026-1-02T01:39:02.1234567Z", "2026-12-02t01:39:02.123456Z",
        "2026/12/02T01:39:02.123456Z", "2026-12-02T01:39:02,123456Z", "2026-12-02T01:39:02.12345 Z",
        std::string("2026-12-02T01:3\0:02.123456Z", 27),
    };
    for (const std::string &text : texts)
        EXPECT_EQ(commit_time_unix_us(text), reference(text)) << text;
    // Every byte of the plugin's form replaced by one of a set, one or two at a time.
    const std::string plugin = "2026-12-02T01:39:02.123456Z";
    const std::string replacements = std::string("0159 +-.:TZ\t\xc3" "a") + std::string(1, '\0');
    std::mt19937 rng(7);
    int measured = 0;
    for (int i = 0; i < 20000; i++) {
        std::string text = plugin;
        for (int k = 0; k < 1 + static_cast<int>(rng() % 2); k++)
            text[rng() % text.size()] = replacements[rng() % replacements.size()];
        ASSERT_EQ(commit_time_unix_us(text), reference(text)) << text;
        measured += commit_time_unix_us(text) != 0;
    }
    EXPECT_GT(measured, 2000);  // many read as times, not only the zeros
    // Random dates and times in the plugin's form, with fields past their ranges too.
    for (int i = 0; i < 20000; i++) {
        char text[64];
        std::snprintf(text, sizeof(text), "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ", static_cast<unsigned>(rng() % 10000),
                      static_cast<unsigned>(rng() % 100), static_cast<unsigned>(rng() % 100),
                      static_cast<unsigned>(rng() % 100), static_cast<unsigned>(rng() % 100),
                      static_cast<unsigned>(rng() % 100), static_cast<unsigned>(rng() % 1000000));
        ASSERT_EQ(commit_time_unix_us(text), reference(text)) << text;
    }
}

}  // namespace
