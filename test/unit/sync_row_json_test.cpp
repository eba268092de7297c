// Unit tests of the row fast path (sync/pure/row_json.hpp): whenever it gives a client message,
// it is byte for byte the full parse's client_json, and it gives up (for the full parse) on every
// form it does not copy; whenever it gives a row's header values, they are the full parse's, so
// that parse_stream_message, which takes rows through it, gives the full parse's StreamMessage.
#include "sync/pure/row_json.hpp"
#include "sync/pure/stream_message.hpp"
#include "test/unit/stream_message_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using es::sync::append_row_client_json;
using es::sync::MessageKind;
using es::sync::parse_stream_message;
using es::sync::parse_stream_message_full;
using es::sync::RowHeaders;
using es::sync::StreamMessage;
using es::sync::testing::describe;
using es::sync::testing::RandomJson;

// The full parse's client message, or "" when it is not a row.
std::string full(const std::string &text)
{
    auto m = parse_stream_message_full(text);
    return m && m->kind == MessageKind::Row ? m->client_json : std::string();
}

// The fast path's client message, or "" when it gave up; out's earlier text must survive.
std::string fast(const std::string &text)
{
    std::string out = "prefix";
    bool ok = append_row_client_json(out, text);
    EXPECT_EQ(out.substr(0, 6), "prefix") << text;
    if (!ok) {
        EXPECT_EQ(out, "prefix") << "a refused text left bytes behind: " << text;
        return "";
    }
    return out.substr(6);
}

// A row message of shape_snapshot's form with the given value object text.
std::string row_with(const std::string &value)
{
    return "{\"headers\":{\"operation\":\"insert\",\"relation\":[\"public\",\"t\"],\"shapes\":[\"s1\",\"s2\"]},"
           "\"key\":\"\\\"public\\\".\\\"t\\\"/\\\"1\\\"\",\"value\":" +
           value + "}";
}

// Either the fast path gives up, or it agrees with the full parse exactly.
void expect_same_or_refused(const std::string &text)
{
    std::string f = fast(text);
    if (!f.empty()) {
        EXPECT_EQ(f, full(text)) << "fast path differs for: " << text;
    }
}

// The fast path takes the text and gives the full parse's bytes.
void expect_fast_and_same(const std::string &text)
{
    std::string f = fast(text);
    EXPECT_FALSE(f.empty()) << "fast path refused: " << text;
    EXPECT_EQ(f, full(text)) << text;
}

TEST(SyncRowJson, SnapshotRowsAreCopied)
{
    std::string text = row_with("{\"id\":\"1\",\"body\":\"one\",\"at\":null}");
    expect_fast_and_same(text);
    EXPECT_EQ(fast(text), "{\"headers\":{\"operation\":\"insert\",\"relation\":[\"public\",\"t\"]},"
                          "\"key\":\"\\\"public\\\".\\\"t\\\"/\\\"1\\\"\",\"value\":{\"at\":null,\"body\":\"one\",\"id\":\"1\"}}");
}

TEST(SyncRowJson, KindsOfValues)
{
    const std::vector<std::string> values = {
        "{}",
        "{\"a\":\"\"}",
        "{\"a\":null,\"b\":true,\"c\":false}",
        "{\"s\":\"quote \\\" backslash \\\\ tab \\t nl \\n cr \\r bs \\b ff \\f\"}",
        "{\"s\":\"a/b\"}",
        "{\"u\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f\"}",
        "{\"n\":0,\"m\":-1,\"p\":123456789012345678,\"q\":-123456789012345678}",
        "{\"arr\":[],\"arr2\":[1,\"x\",null,[true,false],{\"z\":1,\"a\":2}]}",
        "{\"doc\":{\"b\":{\"d\":1,\"c\":2},\"a\":[{\"y\":1,\"x\":2}]}}",
        "{\"z\":\"1\",\"y\":\"2\",\"x\":\"3\",\"\xc3\xa9\":\"4\",\"A\":\"5\",\"_\":\"6\",\"aa\":\"7\",\"a\":\"8\"}",
        "{ \"spaced\" : [ 1 , 2 ] ,\t\"b\"\n:\r\"c\" }",
        // Forms the fast path leaves to the full parse; the comparison still holds.
        "{\"e\":\"\\u0001 \\u001F \\u00e9 \\ud83d\\ude00 \\/\"}",
        "{\"f\":1.50,\"g\":1e5,\"h\":-0,\"i\":1E-3,\"j\":0.1}",
        "{\"big\":12345678901234567890,\"neg\":-9223372036854775809,\"n19\":1234567890123456789}",
        "{\"dup\":\"1\",\"dup\":\"2\"}",
        "{\"esc\\\"key\":\"1\",\"esc\":\"2\"}",
        "{\"k\\u0041\":\"1\"}",
    };
    for (const std::string &v : values)
        expect_same_or_refused(row_with(v));
    // The ones the fast path must take (the forms the plugin writes for text values).
    for (size_t i = 0; i < 11; i++)
        expect_fast_and_same(row_with(values[i]));
}

TEST(SyncRowJson, HeadersOfStreamRows)
{
    // A stream row's headers: lsn, op_position, txids, and the shapes header dropped wherever it
    // stands among them.
    expect_fast_and_same(
        "{\"headers\":{\"operation\":\"update\",\"relation\":[\"public\",\"t\"],\"shapes\":[\"s\"],\"lsn\":\"123\","
        "\"op_position\":4,\"txids\":[777]},\"key\":\"k\",\"value\":{\"b\":\"2\",\"a\":\"1\"},"
        "\"old_value\":{\"b\":\"1\"}}");
    expect_fast_and_same("{\"key\":\"k\",\"headers\":{\"shapes\":[],\"operation\":\"delete\"},\"value\":{}}");
    expect_fast_and_same("{\"headers\":{\"shapes\":\"not an array\"},\"key\":null}");
}

TEST(SyncRowJson, RefusesWhatIsNotARow)
{
    const std::vector<std::string> texts = {
        "",
        "[]",
        "\"x\"",
        "{}",
        "{\"headers\":{\"control\":\"snapshot-end\",\"xmin\":\"1\",\"xmax\":\"2\",\"xip_list\":[]}}",
        "{\"headers\":{\"control\":\"begin\"},\"key\":\"k\"}",
        "{\"headers\":{\"operation\":\"insert\"},\"value\":{}}",  // no key
        "{\"headers\":[],\"key\":\"k\"}",
        "{\"key\":\"k\"}",
        "{\"headers\":{},\"key\":\"k\"} x",
        "{\"headers\":{},\"key\":\"k\"",
        "{\"headers\":{},\"key\":\"k\",}",
        "{\"headers\":{},\"key\":\"\x01\"}",
        "{\"headers\":{},\"key\":\"\xc3\"}",
        "{\"headers\":{},\"key\":\"\xed\xa0\x80\"}",  // a surrogate
        "{\"headers\":{},\"key\":\"\xc0\xaf\"}",      // overlong
        "{\"headers\":{},\"key\":01}",
        "{\"headers\":{},\"key\":tru}",
        "{\"headers\":{},\"key\":\"a\\x\"}",
        "\xef\xbb\xbf{\"headers\":{},\"key\":\"k\"}",  // a byte order mark
        std::string("{\"headers\":{},\"key\":\"a\0b\"}", 24),
    };
    for (const std::string &t : texts) {
        EXPECT_EQ(fast(t), "") << t;
        expect_same_or_refused(t);
    }
    // Deep nesting is left to the full parse.
    std::string deep = std::string(100, '[') + std::string(100, ']');
    EXPECT_EQ(fast(row_with("{\"d\":" + deep + "}")), "");
    std::string shallow = std::string(20, '[') + std::string(20, ']');
    expect_fast_and_same(row_with("{\"d\":" + shallow + "}"));
}

// Random rows: whenever the fast path takes one, its bytes are the full parse's.
TEST(SyncRowJson, RandomRowsAgreeWithTheFullParse)
{
    RandomJson random;
    auto space = [&] { return random.space(); };
    auto value = [&](int depth) { return random.value(depth); };
    int taken = 0;
    for (int i = 0; i < 20000; i++) {
        std::string headers = "{\"operation\":\"insert\",\"shapes\":[\"s\"],\"relation\":" + value(1) + "}";
        std::string text = "{" + space() + "\"headers\":" + headers + ",\"key\":" + value(1) + "," + space() +
                           "\"value\":" + value(0) + "}";
        std::string f = fast(text);
        if (!f.empty()) {
            taken++;
            ASSERT_EQ(f, full(text)) << text;
        }
    }
    EXPECT_GT(taken, 2000);  // the comparison covered many rows the fast path took
}

// Whether the fast path takes text with its header values.
bool fast_takes_headers(const std::string &text)
{
    std::string out;
    RowHeaders headers;
    return append_row_client_json(out, text, &headers);
}

// parse_stream_message (the fast path first) gives exactly what the full parse gives.
void expect_same_message(const std::string &text)
{
    EXPECT_EQ(describe(parse_stream_message(text)), describe(parse_stream_message_full(text))) << text;
}

// A stream row with the given members in its headers (besides operation and relation).
std::string stream_row(const std::string &header_members)
{
    return "{\"headers\":{\"operation\":\"insert\",\"relation\":[\"public\",\"items\"]" +
           (header_members.empty() ? "" : "," + header_members) +
           "},\"key\":\"\\\"public\\\".\\\"items\\\"/\\\"1\\\"\",\"value\":{\"id\":\"1\",\"body\":\"x\"}}";
}

TEST(SyncRowHeaders, TypicalStreamRowIsReadByTheFastPath)
{
    const std::string text =
        "{\"headers\":{\"lsn\":\"123456\",\"op_position\":4,\"operation\":\"insert\",\"relation\":[\"public\","
        "\"items\"],\"shapes\":[\"es_sync_abc\",\"es_sync_def\"],\"txids\":[789]},\"key\":\"k\",\"value\":{\"id\":\"1\"}}";
    std::string out;
    RowHeaders headers;
    ASSERT_TRUE(append_row_client_json(out, text, &headers));
    EXPECT_EQ(headers.shapes, (std::vector<std::string>{"es_sync_abc", "es_sync_def"}));
    EXPECT_EQ(headers.lsn, 123456u);
    EXPECT_EQ(headers.op_position, 4u);
    EXPECT_EQ(headers.xid, 789u);
    auto m = parse_stream_message(text);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->kind, MessageKind::Row);
    EXPECT_EQ(m->shapes, headers.shapes);
    EXPECT_EQ(m->lsn, 123456u);
    EXPECT_EQ(m->op_position, 4u);
    EXPECT_EQ(m->xid, 789u);
    EXPECT_EQ(m->client_json, "{\"headers\":{\"lsn\":\"123456\",\"op_position\":4,\"operation\":\"insert\","
                              "\"relation\":[\"public\",\"items\"],\"txids\":[789]},\"key\":\"k\",\"value\":{\"id\":\"1\"}}");
    expect_same_message(text);
}

TEST(SyncRowHeaders, EveryFormAgreesWithTheFullParse)
{
    // Header members the fast path reads itself...
    const std::vector<std::string> taken = {
        "",
        "\"lsn\":\"123\"",
        "\"lsn\":123",
        "\"lsn\":0",
        "\"lsn\":\"0\"",
        "\"lsn\":\"18446744073709551615\"",  // the largest
        "\"lsn\":\"18446744073709551616\"",  // too large: 0
        "\"lsn\":\"000000000000000000001\"", // 21 digits: 0
        "\"lsn\":123456789012345678",
        "\"lsn\":\"\"",
        "\"lsn\":\"12a\"",
        "\"lsn\":\"-1\"",
        "\"lsn\":\" 1\"",
        "\"lsn\":\"\xd9\xa1\"",  // a non-ASCII digit
        "\"lsn\":-5",
        "\"lsn\":null",
        "\"lsn\":true",
        "\"lsn\":[1]",
        "\"lsn\":{\"a\":1}",
        "\"lsn\" : \"77\"",
        "\"op_position\":0",
        "\"op_position\":4",
        "\"op_position\":-4",
        "\"op_position\":\"4\"",
        "\"op_position\":null",
        "\"op_position\":[4]",
        "\"op_position\": 123456789012345678",
        "\"txids\":[]",
        "\"txids\":[ ]",
        "\"txids\":[789]",
        "\"txids\":[ 789 , 5 ]",
        "\"txids\":[789,\"x\",null]",
        "\"txids\":[\"789\"]",
        "\"txids\":[-1]",
        "\"txids\":[null,5]",
        "\"txids\":[[1]]",
        "\"txids\":789",
        "\"txids\":{\"0\":1}",
        "\"shapes\":[]",
        "\"shapes\":[ ]",
        "\"shapes\":[\"a\"]",
        "\"shapes\":[ \"a\" ,\n\"b\" ]",
        "\"shapes\":[\"\"]",
        "\"shapes\":[\"\xc3\xa9t\xc3\xa9\"]",
        "\"shapes\":[\"a/b\"]",
        "\"shapes\":\"a\"",
        "\"shapes\":null",
        "\"shapes\":{\"a\":\"b\"}",
        "\"shapes\":[\"s\"],\"lsn\":\"9\",\"op_position\":3,\"txids\":[8]",
        "\"txids\":[8],\"op_position\":3,\"lsn\":9,\"shapes\":[\"t\",\"s\"]",
    };
    // ... and those it leaves to the full parse.
    const std::vector<std::string> refused = {
        "\"shapes\":[\"a\\\"b\"]",
        "\"shapes\":[\"\\u0061\"]",
        "\"shapes\":[\"a\\nb\"]",
        "\"shapes\":[\"a\",1]",
        "\"shapes\":[null]",
        "\"shapes\":[[\"a\"]]",
        "\"lsn\":\"\\u0031\"",
        "\"lsn\":\"1\\n\"",
        "\"lsn\":1.5",
        "\"lsn\":1e3",
        "\"lsn\":-0",
        "\"lsn\":1234567890123456789",
        "\"lsn\":18446744073709551616",
        "\"op_position\":4.5",
        "\"op_position\":4.0",
        "\"op_position\":4e0",
        "\"op_position\":-0",
        "\"txids\":[7.5]",
        "\"txids\":[12345678901234567890]",
        "\"lsn\":\"1\",\"lsn\":\"2\"",
        "\"l\\u0073n\":\"1\"",
        "\"control\":\"commit\"",
        "\"shapes\":{\"a\":1.5,\"a\":2}",  // dropped, but still only read by the full parse
    };
    for (const std::string &members : taken) {
        std::string text = stream_row(members);
        EXPECT_TRUE(fast_takes_headers(text)) << text;
        expect_same_message(text);
    }
    for (const std::string &members : refused) {
        std::string text = stream_row(members);
        EXPECT_FALSE(fast_takes_headers(text)) << text;
        expect_same_message(text);
    }
    // The fast path without header values still copies a row whose shape names it cannot read.
    std::string out;
    EXPECT_TRUE(append_row_client_json(out, stream_row("\"shapes\":[\"a\\\"b\",1]")));
    EXPECT_EQ(out, full(stream_row("\"shapes\":[\"a\\\"b\",1]")));
}

TEST(SyncRowHeaders, OtherMessagesAgreeWithTheFullParse)
{
    const std::vector<std::string> texts = {
        "{\"headers\":{\"control\":\"begin\",\"lsn\":\"5\",\"txids\":[3]}}",
        "{\"headers\":{\"control\":\"commit\",\"lsn\":\"7\",\"txids\":[3],\"commit_time\":\"2026-12-02T01:39:02.123456Z\"}}",
        "{\"headers\":{\"control\":\"must-refetch\",\"shapes\":[\"a\"],\"relation\":[\"public\",\"t\"],"
        "\"reason\":\"truncate\",\"lsn\":\"8\",\"op_position\":2}}",
        "{\"headers\":{\"control\":\"shape-dropped\",\"shapes\":[\"a\"],\"lsn\":\"5\",\"op_position\":1}}",
        "{\"headers\":{\"control\":\"snapshot-end\",\"xmin\":\"10\",\"xmax\":\"12\",\"xip_list\":[\"11\"],\"lsn\":\"9\"}}",
        // A control message not in the plugin's order, and one with a key: still control messages.
        "{\"headers\":{\"lsn\":\"7\",\"control\":\"commit\",\"txids\":[3]}}",
        "{\"key\":\"k\",\"headers\":{\"shapes\":[\"a\"],\"control\":\"begin\"}}",
        " {\"headers\":{\"control\":\"begin\"}}",
        // Not messages, or not rows.
        "",
        "not json",
        "{\"headers\":{}}",
        "{\"headers\":{\"shapes\":[\"a\"]},\"value\":{}}",
        "{\"headers\":[],\"key\":\"k\"}",
        "{\"headers\":{\"control\":",
    };
    for (const std::string &text : texts)
        expect_same_message(text);
}

// Random stream rows, their header members in every form, spaced and ordered at random:
// parse_stream_message always gives the full parse's result, and the fast path reads many.
TEST(SyncRowHeaders, RandomRowsAgreeWithTheFullParse)
{
    RandomJson random;
    const std::vector<std::string> names = {"\"es_sync_1\"", "\"s\"", "\"\"", "\"\xc3\xa9\"", "\"a\\\"b\"", "\"\\u0061\"", "1", "null"};
    const std::vector<std::string> numbers = {"0", "4", "789", "-4", "4.5", "1e2", "-0", "123456789012345678",
                                              "\"123\"", "\"\"", "\"x1\"", "\"18446744073709551616\"", "\"\\u0031\"",
                                              "null", "true", "[]", "{}"};
    auto array_of = [&](const std::vector<std::string> &elements) {
        std::string s = "[" + random.space();
        unsigned n = random.rng() % 4;
        for (unsigned i = 0; i < n; i++)
            s += (i ? "," + random.space() : "") + random.pick(elements) + random.space();
        return s + "]";
    };
    int taken = 0, with_shapes = 0, with_lsn = 0, with_op_position = 0, with_xid = 0;
    for (int i = 0; i < 20000; i++) {
        std::vector<std::string> members = {"\"operation\":\"insert\"", "\"relation\":[\"public\",\"items\"]"};
        if (random.rng() % 4 != 0)
            members.push_back("\"shapes\":" + (random.rng() % 8 != 0 ? array_of(names) : random.value(2)));
        if (random.rng() % 4 != 0)
            members.push_back("\"lsn\":" + random.pick(numbers));
        if (random.rng() % 4 != 0)
            members.push_back("\"op_position\":" + random.pick(numbers));
        if (random.rng() % 4 != 0)
            members.push_back("\"txids\":" + (random.rng() % 8 != 0 ? array_of(numbers) : random.pick(numbers)));
        std::shuffle(members.begin(), members.end(), random.rng);
        std::string headers = "{" + random.space();
        for (size_t j = 0; j < members.size(); j++)
            headers += (j ? "," + random.space() : "") + members[j] + random.space();
        headers += "}";
        std::string text = "{\"headers\":" + headers + ",\"key\":\"k\",\"value\":" + random.value(1) + "}";
        std::string out;
        RowHeaders h;
        if (append_row_client_json(out, text, &h)) {
            taken++;
            with_shapes += !h.shapes.empty();
            with_lsn += h.lsn != 0;
            with_op_position += h.op_position != 0;
            with_xid += h.xid != 0;
        }
        ASSERT_EQ(describe(parse_stream_message(text)), describe(parse_stream_message_full(text))) << text;
    }
    // The comparison covered many rows the fast path read, with values in every header.
    EXPECT_GT(taken, 2000);
    EXPECT_GT(with_shapes, 200);
    EXPECT_GT(with_lsn, 200);
    EXPECT_GT(with_op_position, 200);
    EXPECT_GT(with_xid, 200);
}

}  // namespace
