// Unit tests of the SSE pieces of the sync service: a JSON array body as data frames, and the
// resume position an SSE up-to-date carries (see sync/pure/sse.hpp).
#include "sync/pure/sse.hpp"

#include <gtest/gtest.h>

namespace {

using namespace es::sync;

TEST(SyncSse, SplitsTopLevelElements)
{
    auto e = json_array_elements(R"([{"a":"x,]}"},{"b":[1,{"c":"\"]"}]} , {"d":"\\"}])");
    ASSERT_TRUE(e);
    ASSERT_EQ(e->size(), 3u);
    EXPECT_EQ((*e)[0], R"({"a":"x,]}"})");
    EXPECT_EQ((*e)[1], R"({"b":[1,{"c":"\"]"}]})");
    EXPECT_EQ((*e)[2], R"({"d":"\\"})");
    auto empty = json_array_elements(" [ ] ");
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());
    for (const char *bad : {"", "{}", "[", "[{}", "[{},]", "[,{}]", "[{},,{}]", "[{}] x", "[\"a]", "[}]"})
        EXPECT_FALSE(json_array_elements(bad)) << bad;
}

TEST(SyncSse, DataFramesOneMessageEach)
{
    EXPECT_EQ(*sse_data_frames(R"([{"value":{"id":"1"}},{"headers":{"control":"up-to-date"}}])"),
              "data: {\"value\":{\"id\":\"1\"}}\n\ndata: {\"headers\":{\"control\":\"up-to-date\"}}\n\n");
    EXPECT_EQ(*sse_data_frames("[]"), "");
}

TEST(SyncSse, ResumePositionIsPastTheLastMessageOnly)
{
    // The last message of a commit at LSN 500 (op 3): "500_0" would repeat ops 1..3.
    LogOffset last = LogOffset::at(500, 3);
    EXPECT_EQ(sse_resume_lsn(last), 501u);
    EXPECT_TRUE(last < LogOffset::at(sse_resume_lsn(last), 0));
    EXPECT_EQ(sse_resume_lsn(LogOffset::snapshot_end()), 1u);

    EXPECT_TRUE(is_sse_resume_offset(LogOffset::at(501, 0), last));
    EXPECT_FALSE(is_sse_resume_offset(LogOffset::at(502, 0), last));  // past the shape's end
    EXPECT_FALSE(is_sse_resume_offset(LogOffset::at(501, 1), last));  // not an SSE resume form
    EXPECT_FALSE(is_sse_resume_offset(LogOffset::at(400, 0), last));  // within the log
    EXPECT_TRUE(is_sse_resume_offset(LogOffset::at(1, 0), LogOffset::snapshot_end()));
}

}  // namespace
