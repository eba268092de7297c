// Unit tests of the row fast path (sync/pure/row_json.hpp): whenever it gives a client message,
// it is byte for byte parse_stream_message's client_json, and it gives up (for the full parse)
// on every form it does not copy.
#include "sync/pure/row_json.hpp"
#include "sync/pure/stream_message.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

using es::sync::append_row_client_json;
using es::sync::MessageKind;
using es::sync::parse_stream_message_full;

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

// Random rows built from pieces of every kind, spaced and ordered at random: whenever the fast
// path takes one, its bytes are the full parse's.
TEST(SyncRowJson, RandomRowsAgreeWithTheFullParse)
{
    std::mt19937 rng(12345);
    const std::vector<std::string> keys = {"id", "a", "b", "Z", "_x", "\xc3\xa9t\xc3\xa9", "aa", "a b", "k\\\"q", "k\\u0042"};
    const std::vector<std::string> scalars = {
        "null", "true", "false", "0", "-7", "42", "1.5", "-0", "1e3", "99999999999999999999", "\"\"", "\"plain\"",
        "\"with \\\"quotes\\\" and \\\\\"", "\"\\n\\t\\r\\b\\f\"", "\"\\u0000\"", "\"\\u00ff\"", "\"\\/\"",
        "\"\xe2\x82\xac\xf0\x9f\x98\x80\"", "\"\x7f\"", "\"bad \xff\"", "\"bad \x1f\""};
    auto space = [&]() -> std::string {
        static const char *spaces[] = {"", "", "", " ", "\n", "\t ", "\r"};
        return spaces[rng() % 7];
    };
    std::function<std::string(int)> value = [&](int depth) -> std::string {
        unsigned pick = rng() % (depth > 3 ? 1 : 4);
        if (pick == 0 || pick == 3)
            return scalars[rng() % scalars.size()];
        if (pick == 1) {
            std::string s = "[" + space();
            unsigned n = rng() % 4;
            for (unsigned i = 0; i < n; i++)
                s += (i ? "," + space() : "") + value(depth + 1) + space();
            return s + "]";
        }
        std::string s = "{" + space();
        unsigned n = rng() % 5;
        for (unsigned i = 0; i < n; i++)
            s += (i ? "," + space() : "") + "\"" + keys[rng() % keys.size()] + "\"" + space() + ":" + space() +
                 value(depth + 1) + space();
        return s + "}";
    };
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

}  // namespace
