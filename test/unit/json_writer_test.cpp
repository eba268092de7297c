// Unit tests of the JSON writer used on the plugin's hot path.
#include "electric_shapes/pure/json_writer.hpp"

#include <gtest/gtest.h>

using es::json::append_embedded;
using es::json::append_string;
using es::json::append_uint;
using es::json::is_json_number;

namespace {

std::string as_json_string(std::string_view text)
{
    std::string out;
    append_string(out, text);
    return out;
}

TEST(JsonWriter, PlainTextIsQuoted) { EXPECT_EQ(as_json_string("hi"), "\"hi\""); }

TEST(JsonWriter, EmptyString) { EXPECT_EQ(as_json_string(""), "\"\""); }

TEST(JsonWriter, QuotesAndBackslashesAreEscaped)
{
    EXPECT_EQ(as_json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
}

TEST(JsonWriter, ControlCharactersAreEscaped)
{
    EXPECT_EQ(as_json_string("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
    EXPECT_EQ(as_json_string(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
    EXPECT_EQ(as_json_string(std::string("a\0b", 3)), "\"a\\u0000b\"");
}

TEST(JsonWriter, MultibyteUtf8PassesThrough)
{
    EXPECT_EQ(as_json_string("h\xc3\xa9llo \xf0\x9f\x98\x80"), "\"h\xc3\xa9llo \xf0\x9f\x98\x80\"");
}

TEST(JsonWriter, AppendsToExistingBuffer)
{
    std::string out = "{\"k\":";
    append_string(out, "v");
    EXPECT_EQ(out, "{\"k\":\"v\"");
}

TEST(JsonWriter, EmbeddedJsonStaysOnOneLine)
{
    std::string out;
    append_embedded(out, "{\n  \"a\": 1,\r\n  \"b\": \"x\\ny\"\n}");
    EXPECT_EQ(out, "{   \"a\": 1,    \"b\": \"x\\ny\" }");
}

TEST(JsonWriter, Unsigned)
{
    std::string out;
    append_uint(out, 0);
    out.push_back(',');
    append_uint(out, 18446744073709551615ull);
    EXPECT_EQ(out, "0,18446744073709551615");
}

TEST(JsonNumber, AcceptsWhatPostgresPrints)
{
    for (const char *n : {"0", "-1", "42", "3.14", "-0.5", "1e+20", "1.5e-07", "123456789012345678901234"})
        EXPECT_TRUE(is_json_number(n)) << n;
}

TEST(JsonNumber, RefusesNonFiniteAndOddForms)
{
    for (const char *n : {"NaN", "Infinity", "-Infinity", "", "-", "01", "1.", ".5", "+1", "1e", "0x10", " 1"})
        EXPECT_FALSE(is_json_number(n)) << n;
}

}  // namespace
