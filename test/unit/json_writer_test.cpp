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
    es::Buffer out;
    append_string(out, text);
    return out.str();
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

TEST(JsonWriter, EscapesAreFoundAtEveryPositionOfEveryLength)
{
    // The scan reads sixteen and eight bytes at a time, overlapping at the end: put each kind of
    // byte at every offset of texts of every length up to 40, and check clean texts stay clean.
    for (size_t length = 1; length <= 40; length++) {
        std::string clean(length, 'x');
        EXPECT_EQ(es::json::find_escape(clean), length);
        for (char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
            for (size_t at = 0; at < length; at++) {
                std::string text = clean;
                text[at] = special;
                ASSERT_EQ(es::json::find_escape(text), at) << length << " " << at;
                text[length - 1] = special;  // a second one after it changes nothing
                ASSERT_EQ(es::json::find_escape(text), at) << length << " " << at;
            }
        }
    }
    std::string text(40, 'x');
    text[21] = '"';
    EXPECT_EQ(as_json_string(text), "\"" + std::string(21, 'x') + "\\\"" + std::string(18, 'x') + "\"");
    // Bytes from 0x20 up, multi-byte UTF-8 included, need no escape.
    std::string plain;
    for (int c = 0x20; c < 0x100; c++)
        if (c != '"' && c != '\\')
            plain.push_back(static_cast<char>(c));
    EXPECT_EQ(es::json::find_escape(plain), plain.size());
    EXPECT_EQ(es::json::find_escape(plain.substr(100, 9)), 9u);
}

TEST(JsonWriter, MultibyteUtf8PassesThrough)
{
    EXPECT_EQ(as_json_string("h\xc3\xa9llo \xf0\x9f\x98\x80"), "\"h\xc3\xa9llo \xf0\x9f\x98\x80\"");
}

TEST(JsonWriter, AppendsToExistingBuffer)
{
    es::Buffer out;
    out.append("{\"k\":");
    append_string(out, "v");
    EXPECT_EQ(out.str(), "{\"k\":\"v\"");
}

TEST(JsonWriter, EmbeddedJsonStaysOnOneLine)
{
    es::Buffer out;
    append_embedded(out, "{\n  \"a\": 1,\r\n  \"b\": \"x\\ny\"\n}");
    EXPECT_EQ(out.str(), "{   \"a\": 1,    \"b\": \"x\\ny\" }");
}

TEST(JsonWriter, Unsigned)
{
    es::Buffer out;
    append_uint(out, 0);
    out.push_back(',');
    append_uint(out, 18446744073709551615ull);
    EXPECT_EQ(out.str(), "0,18446744073709551615");
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

namespace {

using es::json::append_embedded_repairing;
using es::json::append_string_repairing;
using es::json::utf8_sequence_length;

std::string repaired(std::string_view text)
{
    es::Buffer out;
    append_string_repairing(out, text);
    return out.str();
}

TEST(JsonWriterRepairing, WellFormedUtf8IsUnchanged)
{
    EXPECT_EQ(repaired("stra\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x98\x80 \"q\"\n"),
              "\"stra\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x98\x80 \\\"q\\\"\\n\"");
}

TEST(JsonWriterRepairing, EachInvalidByteBecomesItsLatin1Character)
{
    EXPECT_EQ(repaired("caf\xe9"), "\"caf\\u00e9\"");
    EXPECT_EQ(repaired("\xff\xfe" "a"), "\"\\u00ff\\u00fe" "a\"");
    // A truncated sequence: each of its bytes is replaced, the next character is kept.
    EXPECT_EQ(repaired("\xe2\x82" "x"), "\"\\u00e2\\u0082x\"");
    // Overlong forms, surrogates and code points above U+10FFFF are not well-formed.
    EXPECT_EQ(repaired("\xc0\xaf"), "\"\\u00c0\\u00af\"");
    EXPECT_EQ(repaired("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");
    EXPECT_EQ(repaired("\xf4\x90\x80\x80"), "\"\\u00f4\\u0090\\u0080\\u0080\"");
    // Control characters are still escaped after a repaired byte.
    EXPECT_EQ(repaired("\xe9\n\x01\\"), "\"\\u00e9\\n\\u0001\\\\\"");
}

TEST(JsonWriterRepairing, SequenceLengths)
{
    EXPECT_EQ(utf8_sequence_length(""), 0u);
    EXPECT_EQ(utf8_sequence_length("a"), 1u);
    EXPECT_EQ(utf8_sequence_length("\xc3\xa9"), 2u);
    EXPECT_EQ(utf8_sequence_length("\xef\xbf\xbd"), 3u);
    EXPECT_EQ(utf8_sequence_length("\xf4\x8f\xbf\xbf"), 4u);
    EXPECT_EQ(utf8_sequence_length("\x80"), 0u);
    EXPECT_EQ(utf8_sequence_length("\xc1\xbf"), 0u);
    EXPECT_EQ(utf8_sequence_length("\xe0\x9f\xbf"), 0u);
    EXPECT_EQ(utf8_sequence_length("\xf0\x8f\xbf\xbf"), 0u);
    EXPECT_EQ(utf8_sequence_length("\xf5\x80\x80\x80"), 0u);
}

TEST(JsonWriterRepairing, EmbeddedDocumentsAreRepairedInsideStrings)
{
    es::Buffer out;
    append_embedded_repairing(out, "{\"k\":\n\"caf\xe9 \xc3\xa9\"}");
    EXPECT_EQ(out.str(), "{\"k\": \"caf\\u00e9 \xc3\xa9\"}");
}

}  // namespace
