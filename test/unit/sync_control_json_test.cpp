// Unit tests of the begin/commit fast path (sync/pure/control_json.hpp): whenever it reads a
// message, its StreamMessage is the full parse's, field by field; it reads the plugin's own
// begin and commit (written here by the plugin's writers) in every value; and it declines, for
// the full parse to decide, every other control message and every form its scan does not read,
// so that parse_stream_message gives the full parse's result for all of them.
#include "sync/pure/control_json.hpp"
#include "sync/pure/stream_message.hpp"
#include "test/unit/stream_message_test_support.hpp"

#include "electric_shapes/pure/control_messages.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using es::sync::MessageKind;
using es::sync::parse_stream_message;
using es::sync::parse_stream_message_full;
using es::sync::read_transaction_control;
using es::sync::StreamMessage;
using es::sync::testing::describe;
using es::sync::testing::RandomJson;

// PostgreSQL's epoch (2000-01-01) in Unix microseconds.
constexpr int64_t kPostgresEpochUnixUs = 946684800000000LL;

// Whether the fast path reads text; when it does, its message must be the full parse's. Either
// way parse_stream_message (which tries it first) must give the full parse's result.
bool fast_agrees(const std::string &text)
{
    const std::string full = describe(parse_stream_message_full(text));
    StreamMessage message;
    message.client_json = "left over";  // whatever it held before must not survive a read
    bool taken = read_transaction_control(text, message);
    if (taken) {
        EXPECT_EQ(describe(message), full) << text;
    }
    EXPECT_EQ(describe(parse_stream_message(text)), full) << text;
    return taken;
}

std::string begin_text(uint64_t lsn, uint64_t txid)
{
    es::Buffer out;
    es::control::append_begin(out, lsn, txid);
    return std::string(out.data(), out.size());
}

std::string commit_text(uint64_t lsn, uint64_t txid, int64_t postgres_us)
{
    es::Buffer out;
    es::control::append_commit(out, lsn, txid, es::control::iso8601_utc(postgres_us));
    return std::string(out.data(), out.size());
}

TEST(SyncControlJson, ThePluginsBeginAndCommitAreReadByTheFastPath)
{
    const std::vector<uint64_t> lsns = {0, 1, 123456, 4294967296ULL, 999999999999999999ULL, UINT64_MAX};
    const std::vector<uint64_t> txids = {0, 3, 777, 4294967295ULL};
    const std::vector<int64_t> times = {0, 1, 851234567890123LL, 999999LL, -kPostgresEpochUnixUs,
                                        -kPostgresEpochUnixUs - 1, 252423993599999999LL};
    for (uint64_t lsn : lsns)
        for (uint64_t txid : txids) {
            std::string begin = begin_text(lsn, txid);
            EXPECT_TRUE(fast_agrees(begin)) << begin;
            StreamMessage message;
            ASSERT_TRUE(read_transaction_control(begin, message));
            EXPECT_EQ(message.kind, MessageKind::Begin);
            EXPECT_EQ(message.lsn, lsn);
            EXPECT_EQ(message.xid, txid);
            EXPECT_EQ(message.commit_unix_us, 0);
            for (int64_t t : times) {
                std::string commit = commit_text(lsn, txid, t);
                EXPECT_TRUE(fast_agrees(commit)) << commit;
                ASSERT_TRUE(read_transaction_control(commit, message));
                EXPECT_EQ(message.kind, MessageKind::Commit);
                EXPECT_EQ(message.lsn, lsn);
                EXPECT_EQ(message.xid, txid);
                EXPECT_EQ(message.commit_unix_us, t + kPostgresEpochUnixUs) << commit;
                EXPECT_TRUE(message.shapes.empty());
                EXPECT_EQ(message.op_position, 0u);
                EXPECT_TRUE(message.client_json.empty());
            }
        }
    // The exact bytes the plugin writes, as the writers' own tests pin them.
    EXPECT_EQ(begin_text(5, 3), "{\"headers\":{\"control\":\"begin\",\"lsn\":\"5\",\"txids\":[3]}}");
    EXPECT_EQ(commit_text(7, 3, 0), "{\"headers\":{\"control\":\"commit\",\"lsn\":\"7\",\"txids\":[3],"
                                    "\"commit_time\":\"2000-01-01T00:00:00.000000Z\"}}");
}

// A commit in the plugin's form with the given headers' members after its control name.
std::string commit_with(const std::string &members)
{
    return "{\"headers\":{\"control\":\"commit\"" + (members.empty() ? "" : "," + members) + "}}";
}

std::string begin_with(const std::string &members)
{
    return "{\"headers\":{\"control\":\"begin\"" + (members.empty() ? "" : "," + members) + "}}";
}

// A control message of the given name (its JSON text) with no other member.
std::string named(const std::string &name) { return "{\"headers\":{\"control\":" + name + "}}"; }

TEST(SyncControlJson, VariantsTheFastPathReads)
{
    const std::string time = "\"commit_time\":\"2026-12-02T01:39:02.123456Z\"";
    const std::vector<std::string> texts = {
        // Members reordered (declined as rows by parse_stream_message, read here directly).
        "{\"headers\":{\"lsn\":\"5\",\"txids\":[3],\"control\":\"begin\"}}",
        "{\"headers\":{\"commit_time\":\"2026-12-02T01:39:02.123456Z\",\"txids\":[3],\"control\":\"commit\",\"lsn\":\"7\"}}",
        "{\"key\":\"k\",\"headers\":{\"control\":\"begin\",\"lsn\":\"5\"}}",
        // Extra members in the headers and beside them.
        commit_with("\"lsn\":\"7\",\"txids\":[3]," + time + ",\"shapes\":[\"a\",\"b\"],\"op_position\":4"),
        begin_with("\"lsn\":\"5\",\"txids\":[3],\"relation\":[\"public\",\"t\"],\"reason\":\"x\\ny \\\"q\\\"\""),
        begin_with("\"lsn\":\"5\",\"extra\":{\"z\":[1,null,true,{\"a\":\"\xc3\xa9\"}]},\"txids\":[3]"),
        "{\"headers\":{\"control\":\"begin\",\"lsn\":\"5\",\"txids\":[3]},\"value\":{\"x\":1},\"key\":null}",
        begin_with("\"shapes\":[]"),
        begin_with("\"shapes\":\"a\""),
        begin_with("\"shapes\":null"),
        // lsn: missing, a number, and forms that read as 0.
        begin_with("\"txids\":[3]"),
        begin_with("\"lsn\":5,\"txids\":[3]"),
        commit_with("\"lsn\":123456789012345678,\"txids\":[3]," + time),
        begin_with("\"lsn\":\"18446744073709551615\""),
        begin_with("\"lsn\":\"18446744073709551616\""),
        begin_with("\"lsn\":\"\""),
        begin_with("\"lsn\":\"5a\""),
        begin_with("\"lsn\":\" 5\""),
        begin_with("\"lsn\":-5"),
        begin_with("\"lsn\":null"),
        begin_with("\"lsn\":[5]"),
        begin_with("\"lsn\":{\"v\":5}"),
        // txids: missing, empty, or a first element that is not an unsigned integer.
        commit_with("\"lsn\":\"7\"," + time),
        begin_with("\"lsn\":\"5\",\"txids\":[]"),
        begin_with("\"lsn\":\"5\",\"txids\":[ 3 , 4 ]"),
        begin_with("\"lsn\":\"5\",\"txids\":[\"3\"]"),
        begin_with("\"lsn\":\"5\",\"txids\":[-3]"),
        begin_with("\"lsn\":\"5\",\"txids\":[null,3]"),
        begin_with("\"lsn\":\"5\",\"txids\":3"),
        // commit_time: absent, not a string, malformed (0), on a begin (ignored).
        commit_with("\"lsn\":\"7\",\"txids\":[3]"),
        commit_with("\"lsn\":\"7\",\"txids\":[3],\"commit_time\":12345"),
        commit_with("\"lsn\":\"7\",\"txids\":[3],\"commit_time\":null"),
        commit_with("\"lsn\":\"7\",\"txids\":[3],\"commit_time\":[\"2026-12-02T01:39:02.123456Z\"]"),
        commit_with("\"lsn\":\"7\",\"txids\":[3],\"commit_time\":\"\""),
        commit_with("\"lsn\":\"7\",\"txids\":[3],\"commit_time\":\"2026-12-02 01:39:02.123456Z\""),
        commit_with("\"lsn\":\"7\",\"txids\":[3],\"commit_time\":\"2026-12-02T01:39:02Z\""),
        commit_with("\"lsn\":\"7\",\"txids\":[3],\"commit_time\":\"2026-12-02T01:39:02.12345xZ\""),
        commit_with("\"lsn\":\"7\",\"txids\":[3],\"commit_time\":\"2026-12-02T01:39:02.123456+01\""),
        commit_with("\"lsn\":\"7\",\"txids\":[3],\"commit_time\":\"2026-12- 2T 1:39:02.123456Z\""),
        commit_with("\"lsn\":\"7\",\"txids\":[3],\"commit_time\":\"+026-12-02T01:39:02.123456Z\""),
        commit_with("\"lsn\":\"7\",\"txids\":[3],\"commit_time\":\"2026-13-45T25:61:61.999999Z\""),
        commit_with("\"lsn\":\"7\",\"txids\":[3],\"commit_time\":\"2026-12-02T01:39:02.123456Z \""),
        commit_with("\"lsn\":\"7\",\"txids\":[3],\"commit_time\":\"\xc3\xa9" "026-12-02T01:39:02.123456Z\""),
        begin_with("\"lsn\":\"5\",\"txids\":[3]," + time),
        // White space wherever JSON allows it.
        " \t{ \"headers\" : { \"control\" : \"commit\" , \"lsn\" : \"7\" , \"txids\" : [ 3 ] , "
        "\"commit_time\" : \"2026-12-02T01:39:02.123456Z\" } }\r\n",
        "{\"headers\":{\"control\":\"begin\",\n\"lsn\":\"5\",\n\"txids\":[3]}\n}",
        "{\"headers\":{\"control\":\"begin\"}}",
        "{\"headers\":{\"control\":\"commit\"}}",
    };
    for (const std::string &text : texts)
        EXPECT_TRUE(fast_agrees(text)) << text;
    // A few named, so that the comparison is not with a parse that reads nothing.
    StreamMessage message;
    ASSERT_TRUE(read_transaction_control(texts[1], message));
    EXPECT_EQ(message.kind, MessageKind::Commit);
    EXPECT_EQ(message.lsn, 7u);
    EXPECT_EQ(message.xid, 3u);
    EXPECT_EQ(message.commit_unix_us, 1796175542123456LL);
    ASSERT_TRUE(read_transaction_control(texts[3], message));
    EXPECT_EQ(message.shapes, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(message.op_position, 4u);
}

TEST(SyncControlJson, EverythingElseIsLeftToTheFullParse)
{
    const std::vector<std::string> texts = {
        // The other control messages, in the plugin's forms and the service's.
        "{\"headers\":{\"control\":\"must-refetch\",\"shapes\":[\"a\"],\"relation\":[\"public\",\"t\"],"
        "\"reason\":\"truncate\",\"lsn\":\"8\",\"op_position\":2}}",
        "{\"headers\":{\"control\":\"shape-dropped\",\"shapes\":[\"a\"],\"lsn\":\"5\",\"op_position\":1}}",
        "{\"headers\":{\"control\":\"shape-added\",\"shapes\":[\"a\"],\"lsn\":\"5\",\"op_position\":1}}",
        "{\"headers\":{\"control\":\"snapshot-end\",\"xmin\":\"10\",\"xmax\":\"12\",\"xip_list\":[\"11\"],\"lsn\":\"9\"}}",
        "{\"headers\":{\"control\":\"snapshot-end\",\"xmin\":\"10\"}}",
        "{\"headers\":{\"control\":\"up-to-date\",\"global_last_seen_lsn\":\"9\"}}",
        "{\"headers\":{\"control\":\"must-refetch\"}}",
        // Names that are not begin or commit, or need decoding.
        named("\"Begin\""),
        named("\"begin \""),
        named("\"\""),
        named("\"b\\u0065gin\""),
        named("\"com\\nmit\""),
        named("1"),
        named("null"),
        named("[\"begin\"]"),
        "{\"headers\":{\"lsn\":\"5\"}}",
        // Header values the scan does not read.
        begin_with("\"lsn\":\"\\u0035\""),
        begin_with("\"lsn\":\"5\\n\""),
        begin_with("\"lsn\":5.0"),
        begin_with("\"lsn\":5e0"),
        begin_with("\"lsn\":-0"),
        begin_with("\"lsn\":12345678901234567890"),
        begin_with("\"txids\":[3.0]"),
        begin_with("\"txids\":[12345678901234567890]"),
        begin_with("\"op_position\":1e2"),
        begin_with("\"shapes\":[\"a\",1]"),
        begin_with("\"shapes\":[\"a\\\"b\"]"),
        commit_with("\"lsn\":\"7\",\"commit_time\":\"2026-12-02T01:39:02.123456\\u005a\""),
        commit_with("\"lsn\":\"7\",\"commit_time\":\"2026-12-02T01:39:02.123456Z\\n\""),
        commit_with("\"lsn\":\"7\",\"commit_time\":\"2026-12-02T01:39:02.123456\\\"\""),
        // Duplicates and escaped keys (nlohmann keeps the last, and decodes keys).
        begin_with("\"lsn\":\"5\",\"lsn\":\"6\""),
        "{\"headers\":{\"control\":\"begin\",\"control\":\"commit\",\"lsn\":\"5\"}}",
        commit_with("\"commit_time\":\"x\",\"commit_time\":\"2026-12-02T01:39:02.123456Z\""),
        "{\"headers\":{\"control\":\"begin\"},\"headers\":{\"control\":\"commit\"}}",
        "{\"head\\u0065rs\":{\"control\":\"begin\"}}",
        begin_with("\"l\\u0073n\":\"5\""),
        // Not JSON, or not a message.
        begin_with("\"lsn\":\"5\"") + " x",
        begin_with("\"lsn\":\"5\"") + "}",
        begin_with("\"lsn\":\"5\"") + ",",
        begin_with("\"lsn\":\"5\"").substr(0, 40),
        "{\"headers\":{\"control\":\"begin\",}}",
        "{\"headers\":{\"control\":\"begin\" \"lsn\":\"5\"}}",
        "{\"headers\":{\"control\":begin}}",
        "{\"headers\":{\"control\":\"begin\",\"x\":tru}}",
        "{\"headers\":{\"control\":\"begin\",\"x\":01}}",
        "{\"headers\":{\"control\":\"begin\",\"x\":\"\x01\"}}",
        "{\"headers\":{\"control\":\"begin\",\"x\":\"\xc3\"}}",
        "{\"headers\":{\"control\":\"begin\",\"x\":\"\xed\xa0\x80\"}}",
        "{\"headers\":{\"control\":\"begin\",\"x\":\"\\u00e9\"}}",
        "{\"headers\":{\"control\":\"begin\",\"x\":\"a\\/b\"}}",
        "{\"headers\":{\"control\":\"begin\",\"x\":" + std::string(100, '[') + std::string(100, ']') + "}}",
        "\xef\xbb\xbf{\"headers\":{\"control\":\"begin\",\"lsn\":\"5\"}}",  // a byte order mark
        std::string("{\"headers\":{\"control\":\"begin\"}}\0", 33),
        "{\"headers\":[]}",
        "{\"headers\":\"begin\"}",
        "{\"control\":\"begin\"}",
        "[{\"headers\":{\"control\":\"begin\"}}]",
        "",
        "{\"headers\":{\"control\":",
    };
    for (const std::string &text : texts)
        EXPECT_FALSE(fast_agrees(text)) << text;
}

// Random begins and commits, their members in every form, spaced and ordered at random, among
// other control messages: parse_stream_message always gives the full parse's result, and the
// fast path reads many of each kind through it.
TEST(SyncControlJson, RandomControlMessagesAgreeWithTheFullParse)
{
    RandomJson random;
    const std::vector<std::string> names = {"\"begin\"", "\"begin\"", "\"begin\"", "\"commit\"", "\"commit\"",
                                            "\"commit\"", "\"must-refetch\"", "\"shape-dropped\"", "\"up-to-date\"",
                                            "\"snapshot-end\"", "\"b\\u0065gin\"", "\"\"", "1", "null"};
    const std::vector<std::string> numbers = {"0", "5", "789", "-4", "4.5", "1e2", "-0", "123456789012345678",
                                              "\"123\"", "\"\"", "\"x1\"", "\"18446744073709551615\"",
                                              "\"18446744073709551616\"", "\"\\u0031\"", "null", "true", "[]", "{}"};
    const std::vector<std::string> times = {
        "\"2026-12-02T01:39:02.123456Z\"", "\"2000-01-01T00:00:00.000000Z\"", "\"1999-12-31T23:59:59.999999Z\"",
        "\"2026-12-02T01:39:02Z\"", "\"2026-12-02 01:39:02.123456Z\"", "\"2026-12- 2T01:39:02.123456Z\"", "\"\"",
        "\"2026-12-02T01:39:02.123456\\u005a\"", "\"2026-12-02T01:39:02.12345\\n\"", "12345", "null", "[]"};
    const std::vector<std::string> shape_names = {"\"es_sync_1\"", "\"s\"", "\"\"", "\"a\\\"b\"", "1"};
    auto array_of = [&](const std::vector<std::string> &elements) {
        std::string s = "[" + random.space();
        unsigned n = random.rng() % 3;
        for (unsigned i = 0; i < n; i++)
            s += (i ? "," + random.space() : "") + random.pick(elements) + random.space();
        return s + "]";
    };
    int prefixed = 0, taken = 0, begins = 0, commits = 0, timed = 0, with_lsn = 0, with_xid = 0;
    for (int i = 0; i < 20000; i++) {
        std::vector<std::string> members;
        if (random.rng() % 8 != 0)
            members.push_back("\"lsn\":" + (random.rng() % 2 ? "\"" + std::to_string(random.rng()) + "\"" : random.pick(numbers)));
        if (random.rng() % 8 != 0)
            members.push_back("\"txids\":" + (random.rng() % 2 ? "[" + std::to_string(random.rng()) + "]" : array_of(numbers)));
        if (random.rng() % 4 != 0)
            members.push_back("\"commit_time\":" + random.pick(times));
        if (random.rng() % 6 == 0)
            members.push_back("\"shapes\":" + array_of(shape_names));
        if (random.rng() % 6 == 0)
            members.push_back("\"op_position\":" + random.pick(numbers));
        if (random.rng() % 6 == 0)
            members.push_back("\"relation\":" + random.value(2));
        if (random.rng() % 2 == 0)
            std::shuffle(members.begin(), members.end(), random.rng);
        // The control name first most of the time, as the plugin writes it.
        std::string control = "\"control\":" + random.pick(names);
        if (random.rng() % 4 == 0)
            members.insert(members.begin() + static_cast<long>(random.rng() % (members.size() + 1)), control);
        else
            members.insert(members.begin(), control);
        bool spaced = random.rng() % 3 == 0;
        auto space = [&] { return spaced ? random.space() : std::string(); };
        std::string headers = "{";
        for (size_t j = 0; j < members.size(); j++)
            headers += (j ? "," + space() : "") + members[j] + space();
        headers += "}";
        std::string text = "{\"headers\":" + headers + (random.rng() % 8 == 0 ? ",\"key\":" + random.value(1) : "") + "}";
        if (random.rng() % 16 == 0)
            text += random.pick({"", " ", "\n", "x", "}", ",{}"});
        std::string full = describe(parse_stream_message_full(text));
        ASSERT_EQ(describe(parse_stream_message(text)), full) << text;
        StreamMessage message;
        if (read_transaction_control(text, message)) {
            ASSERT_EQ(describe(message), full) << text;
            taken++;
            prefixed += text.rfind("{\"headers\":{\"control\":", 0) == 0;
            begins += message.kind == MessageKind::Begin;
            commits += message.kind == MessageKind::Commit;
            timed += message.commit_unix_us != 0;
            with_lsn += message.lsn != 0;
            with_xid += message.xid != 0;
        }
    }
    // The comparison covered many messages the fast path read, through parse_stream_message too.
    EXPECT_GT(taken, 4000);
    EXPECT_GT(prefixed, 3000);
    EXPECT_GT(begins, 1500);
    EXPECT_GT(commits, 1500);
    EXPECT_GT(timed, 500);
    EXPECT_GT(with_lsn, 2000);
    EXPECT_GT(with_xid, 2000);
}

}  // namespace
