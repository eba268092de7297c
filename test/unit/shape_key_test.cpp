// Unit tests of ElectricSQL key building.
#include "electric_shapes/pure/json_writer.hpp"
#include "electric_shapes/pure/shape_key.hpp"

#include <gtest/gtest.h>

namespace {

TEST(ShapeKey, SingleColumnKey)
{
    es::Buffer key;
    es::key::append_relation(key, "public", "messages");
    es::key::append_part(key, "5", false);
    EXPECT_EQ(key.str(), "\"public\".\"messages\"/\"5\"");
}

TEST(ShapeKey, CompositeKeyWithSlashAndNull)
{
    es::Buffer key;
    es::key::append_relation(key, "app", "t");
    es::key::append_part(key, "a/b", false);
    es::key::append_part(key, "", true);
    es::key::append_part(key, "//", false);
    EXPECT_EQ(key.str(), "\"app\".\"t\"/\"a//b\"/_/\"////\"");
}

TEST(ShapeKey, UnderscoreValueDiffersFromNull)
{
    es::Buffer value, null;
    es::key::append_part(value, "_", false);
    es::key::append_part(null, "", true);
    EXPECT_NE(value.str(), null.str());
}

TEST(ShapeKey, EscapedPartsAreTheEscapedKey)
{
    for (const char *value : {"5", "a/b", "q\"uo/te\\", "/", "line\nbreak//", ""}) {
        es::Buffer built, escaped, by_parts;
        es::key::append_part(built, value, false);
        es::key::append_part(built, "", true);
        es::json::append_escaped(escaped, built.view());
        es::key::append_escaped_part(by_parts, value, false);
        es::key::append_escaped_part(by_parts, "", true);
        EXPECT_EQ(by_parts.str(), escaped.str()) << value;
    }
}

}  // namespace
