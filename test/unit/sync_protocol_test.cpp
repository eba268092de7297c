// Unit tests of the sync service's protocol pieces: log offsets, electric-cursor, GET
// /v1/shape parameters, params[n] binding and the plugin's messages as clients get them.
#include "sync/pure/etag.hpp"
#include "sync/pure/live_cursor.hpp"
#include "sync/pure/log_offset.hpp"
#include "sync/pure/shape_request.hpp"
#include "sync/pure/stream_message.hpp"
#include "sync/pure/where_params.hpp"

#include <gtest/gtest.h>

namespace {

using namespace es::sync;

TEST(SyncLogOffset, ParsesAndPrintsElectricForms)
{
    for (const char *text : {"-1", "0_0", "0_inf", "26800584_4", "18446744073709551615_0"}) {
        auto offset = parse_log_offset(text);
        ASSERT_TRUE(offset) << text;
        EXPECT_EQ(offset->str(), text);
    }
    for (const char *text : {"", "now", "1", "_1", "1_", "1_x", "x_1", "-2", "1_-1", "18446744073709551616_0",
                             "1_18446744073709551615", "1__2", " 1_2"})
        EXPECT_FALSE(parse_log_offset(text)) << text;
}

TEST(SyncLogOffset, Orders)
{
    auto o = [](const char *t) { return *parse_log_offset(t); };
    EXPECT_LT(o("-1"), o("0_0"));
    EXPECT_LT(o("0_0"), o("0_inf"));
    EXPECT_LT(o("0_inf"), o("1_0"));
    EXPECT_LT(o("5_2"), o("5_10"));
    EXPECT_LT(o("5_10"), o("6_0"));
    EXPECT_FALSE(o("6_0") < o("6_0"));
    EXPECT_TRUE(o("6_0") <= o("6_0"));
}

TEST(SyncLiveCursor, ComputedAsElectricDoes)
{
    const int64_t epoch = 1728432000;
    EXPECT_EQ(next_live_cursor(epoch + 1, 20000, "", 7), "20");
    EXPECT_EQ(next_live_cursor(epoch + 20, 20000, "", 7), "20");
    EXPECT_EQ(next_live_cursor(epoch + 21, 20000, "junk", 7), "40");
    // Not past the previous cursor: jumped ahead by the random amount.
    EXPECT_EQ(next_live_cursor(epoch + 21, 20000, "40", 7), "47");
    EXPECT_EQ(next_live_cursor(epoch + 21, 20000, "100", 3600), "3700");
    EXPECT_EQ(next_live_cursor(epoch + 21, 999, "", 7), "0");
}

TEST(SyncShapeRequest, ParsesWhatTheClientSends)
{
    auto outcome = parse_shape_request(
        "columns=%22id%22%2C%22Title%22%2C%22a%22%22b%22&cursor=1000&handle=h1&live=true&log=full&"
        "offset=200_2&params%5B1%5D=0&params%5B2%5D=a+b&table=todos&where=id+%3E+%241&cache-buster=x");
    ASSERT_TRUE(outcome.request) << outcome.field << ": " << outcome.error;
    const auto &r = *outcome.request;
    EXPECT_EQ(r.table, "todos");
    EXPECT_EQ(*r.where, "id > $1");
    EXPECT_EQ(r.params.at(1), "0");
    EXPECT_EQ(r.params.at(2), "a b");
    EXPECT_EQ(*r.columns, (std::vector<std::string>{"id", "Title", "a\"b"}));
    EXPECT_EQ(r.offset.str(), "200_2");
    EXPECT_EQ(r.handle, "h1");
    EXPECT_TRUE(r.live);
    EXPECT_EQ(r.cursor, "1000");
}

TEST(SyncShapeRequest, BareColumnsFoldToLowerCase)
{
    EXPECT_EQ(*parse_columns("id, Body ,x_1"), (std::vector<std::string>{"id", "body", "x_1"}));
    EXPECT_FALSE(parse_columns(""));
    EXPECT_FALSE(parse_columns("a,,b"));
    EXPECT_FALSE(parse_columns("\"a"));
    EXPECT_FALSE(parse_columns("a;b"));
}

TEST(SyncShapeRequest, InitialRequestDropsHandle)
{
    auto outcome = parse_shape_request("table=t&offset=-1&handle=old");
    ASSERT_TRUE(outcome.request);
    EXPECT_TRUE(outcome.request->offset.before_all);
    EXPECT_EQ(outcome.request->handle, "");
}

TEST(SyncEtag, IfNoneMatchNamesTheEtag)
{
    EXPECT_TRUE(etag_matches("\"h-1:-1:0_inf\"", "\"h-1:-1:0_inf\""));
    EXPECT_TRUE(etag_matches("\"h-1:-1:0_inf\"", "h-1:-1:0_inf"));
    EXPECT_TRUE(etag_matches("\"h-1:-1:0_inf\"", "\"other\", \"h-1:-1:0_inf\""));
    EXPECT_FALSE(etag_matches("\"h-1:-1:0_inf\"", "\"h-1:-1:0_in\""));
    EXPECT_FALSE(etag_matches("\"h-1:-1:0_inf\"", ""));
    EXPECT_FALSE(etag_matches("", "\"\""));
    EXPECT_FALSE(etag_matches("\"h\"", ",,"));
}

TEST(SyncShapeRequest, OffsetNowNeedsNoHandle)
{
    auto outcome = parse_shape_request("table=t&offset=now&handle=old");
    ASSERT_TRUE(outcome.request);
    EXPECT_TRUE(outcome.request->offset_now);
    EXPECT_FALSE(outcome.request->offset.before_all);
    EXPECT_EQ(outcome.request->handle, "");
    EXPECT_FALSE(parse_shape_request("table=t&offset=-1").request->offset_now);
}

TEST(SyncShapeRequest, BadParametersNameTheField)
{
    struct Case {
        const char *query, *field, *error;
    } cases[] = {
        {"offset=-1", "table", "can't be blank"},
        {"table=&offset=-1", "table", "can't be blank"},
        {"table=t", "offset", "can't be blank"},
        {"table=t&offset=now2", "offset", "has invalid format"},
        {"table=t&offset=5_5", "handle", "can't be blank when offset != -1"},
        {"table=t&offset=-1&live=true", "live", "can't be true when offset == -1"},
        {"table=t&offset=now&live=true", "live", "can't be true when offset is 'now'"},
        {"table=t&offset=-1&live=yes", "live", "must be true or false"},
        {"table=t&offset=-1&replica=half", "replica", "must be one of default, full"},
        {"table=t&offset=-1&params%5B0%5D=1", "params", "keys must be positive integers, as params[1]"},
        {"table=t&offset=-1&params%5Bx%5D=1", "params", "keys must be positive integers, as params[1]"},
        {"table=t&offset=-1&columns=", "columns", "must be a comma-separated list of column names"},
        {"table=t&offset=%ZZ", "query", "is not a well-formed query string"},
        {"table=t&offset=%4", "query", "is not a well-formed query string"},
    };
    for (const auto &c : cases) {
        auto outcome = parse_shape_request(c.query);
        EXPECT_FALSE(outcome.request) << c.query;
        EXPECT_EQ(outcome.field, c.field) << c.query;
        EXPECT_EQ(outcome.error, c.error) << c.query;
    }
}

TEST(SyncWhereParams, BindsParametersAsLiterals)
{
    std::map<unsigned, std::string> params = {{1, "5"}, {2, "it's"}, {10, "x"}};
    EXPECT_EQ(bind_where_params("id > $1 and name = $2", params).sql, "id > '5' and name = 'it''s'");
    EXPECT_EQ(bind_where_params("a = $10 or b = $1::int", params).sql, "a = 'x' or b = '5'::int");
    // Not parameters: inside literals, identifiers, comments, dollar quotes, or part of a name.
    EXPECT_EQ(bind_where_params("s = '$1' and \"$1\" = E'\\'$1' -- $1\n and x$1 = $q$ $1 $q$ /* $1 /* */ $1 */",
                                params)
                  .sql,
              "s = '$1' and \"$1\" = E'\\'$1' -- $1\n and x$1 = $q$ $1 $q$ /* $1 /* */ $1 */");
    EXPECT_EQ(bind_where_params("a = $3", params).error, "parameter $3 has no value: give params[3]");
    EXPECT_EQ(bind_where_params("a = 'x", params).error, "unterminated quoted string in where clause");
    EXPECT_EQ(bind_where_params("a = $1", {{1, std::string("a\0b", 3)}}).error, "params[1] holds a NUL byte");
}

TEST(SyncStreamMessage, RowLosesTheShapesHeader)
{
    auto m = parse_stream_message(
        "{\"headers\":{\"operation\":\"insert\",\"relation\":[\"public\",\"t\"],\"shapes\":[\"a\",\"b\"],"
        "\"lsn\":\"23405976\",\"op_position\":3,\"txids\":[735]},\"key\":\"\\\"public\\\".\\\"t\\\"/\\\"5\\\"\","
        "\"value\":{\"id\":\"5\"}}");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->kind, MessageKind::Row);
    EXPECT_EQ(m->shapes, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(m->lsn, 23405976u);
    EXPECT_EQ(m->op_position, 3u);
    EXPECT_EQ(m->xid, 735u);
    EXPECT_EQ(m->client_json,
              "{\"headers\":{\"lsn\":\"23405976\",\"op_position\":3,\"operation\":\"insert\",\"relation\":[\"public\","
              "\"t\"],\"txids\":[735]},\"key\":\"\\\"public\\\".\\\"t\\\"/\\\"5\\\"\",\"value\":{\"id\":\"5\"}}");
}

TEST(SyncStreamMessage, ControlMessages)
{
    auto end = parse_stream_message(
        "{\"headers\":{\"control\":\"snapshot-end\",\"xmin\":\"10\",\"xmax\":\"15\",\"xip_list\":[\"11\",\"13\"],"
        "\"lsn\":\"99\"}}");
    ASSERT_TRUE(end);
    EXPECT_EQ(end->kind, MessageKind::SnapshotEnd);
    EXPECT_EQ(end->xmin, 10u);
    EXPECT_EQ(end->xmax, 15u);
    EXPECT_EQ(end->xip, (std::vector<uint64_t>{11, 13}));
    auto commit = parse_stream_message("{\"headers\":{\"control\":\"commit\",\"lsn\":\"7\",\"txids\":[3]}}");
    ASSERT_TRUE(commit);
    EXPECT_EQ(commit->kind, MessageKind::Commit);
    EXPECT_EQ(commit->lsn, 7u);
    auto refetch = parse_stream_message("{\"headers\":{\"control\":\"must-refetch\",\"shapes\":[\"a\"]}}");
    ASSERT_TRUE(refetch);
    EXPECT_EQ(refetch->kind, MessageKind::MustRefetch);
    auto dropped = parse_stream_message("{\"headers\":{\"control\":\"shape-dropped\",\"shapes\":[\"a\"],\"lsn\":\"5\"}}");
    ASSERT_TRUE(dropped);
    EXPECT_EQ(dropped->kind, MessageKind::ShapeDropped);
    EXPECT_EQ(dropped->shapes, std::vector<std::string>{"a"});
    EXPECT_FALSE(parse_stream_message("not json"));
    EXPECT_FALSE(parse_stream_message("{\"headers\":{}}"));
    EXPECT_EQ(up_to_date_message(42), "{\"headers\":{\"control\":\"up-to-date\",\"global_last_seen_lsn\":\"42\"}}");
    SnapshotBounds s{10, 15, {11, 13}};
    EXPECT_EQ(snapshot_end_message(s),
              "{\"headers\":{\"control\":\"snapshot-end\",\"xmin\":\"10\",\"xmax\":\"15\",\"xip_list\":[\"11\",\"13\"]}}");
}

TEST(SyncStreamMessage, VisibilityInTheSnapshot)
{
    SnapshotBounds s{10, 15, {11, 13}};
    EXPECT_TRUE(visible_in_snapshot(s, 9));
    EXPECT_FALSE(visible_in_snapshot(s, 11));
    EXPECT_TRUE(visible_in_snapshot(s, 12));
    EXPECT_FALSE(visible_in_snapshot(s, 13));
    EXPECT_TRUE(visible_in_snapshot(s, 14));
    EXPECT_FALSE(visible_in_snapshot(s, 15));
    EXPECT_FALSE(visible_in_snapshot(s, 1000));
    // In a later epoch the 32-bit id is placed next to xmax.
    const uint64_t epoch = uint64_t(1) << 32;
    SnapshotBounds e{epoch + 10, epoch + 15, {}};
    EXPECT_FALSE(visible_in_snapshot(e, 20));
    EXPECT_TRUE(visible_in_snapshot(e, 5));
    SnapshotBounds wrap{epoch - 5, epoch + 3, {}};
    EXPECT_TRUE(visible_in_snapshot(wrap, 0xFFFFFFFF));  // epoch - 1
    EXPECT_TRUE(visible_in_snapshot(wrap, 2));
    EXPECT_FALSE(visible_in_snapshot(wrap, 3));
}

}  // namespace
