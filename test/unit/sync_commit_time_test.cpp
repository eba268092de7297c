// Unit test of the commit time the service reads from the stream's commit messages, the start of
// its commit-to-response latency: the plugin's ISO 8601 form becomes Unix microseconds, and
// anything else is 0 (not measured) rather than a wrong time.
#include "sync/pure/stream_message.hpp"

#include <gtest/gtest.h>

namespace {

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

}  // namespace
