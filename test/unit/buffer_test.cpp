// Unit tests of the message buffer.
#include "electric_shapes/pure/buffer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

TEST(Buffer, AppendsAndGrowsKeepingWhatItHolds)
{
    es::Buffer out;
    EXPECT_TRUE(out.empty());
    std::string expected;
    for (int i = 0; i < 1000; i++) {
        std::string piece = std::to_string(i) + ",";
        out.append(piece);
        out.push_back(';');
        expected += piece + ";";
    }
    EXPECT_EQ(out.str(), expected);
    EXPECT_EQ(out.size(), expected.size());
}

TEST(Buffer, ReserveThenCommitWritesInPlace)
{
    es::Buffer out;
    out.append("ab");
    char *target = out.reserve(3);
    target[0] = 'c';
    target[1] = 'd';
    out.commit(2);
    EXPECT_EQ(out.str(), "abcd");
}

TEST(Buffer, TruncateAndClearKeepTheCapacity)
{
    es::Buffer out;
    out.append(std::string(5000, 'x'));
    const char *storage = out.data();
    out.truncate(10);
    EXPECT_EQ(out.str(), std::string(10, 'x'));
    out.truncate(100);  // never lengthens
    EXPECT_EQ(out.size(), 10u);
    out.clear();
    out.append(std::string(4000, 'y'));
    EXPECT_EQ(out.data(), storage);
    EXPECT_EQ(out[3999], 'y');
}

TEST(Buffer, EmptyAppendsAreHarmless)
{
    es::Buffer out;
    out.append(std::string_view());
    out.append("", 0);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(out.str(), "");
}

}  // namespace

namespace {

TEST(Buffer, MovedFromIsEmptyAndWritable)
{
    es::Buffer a;
    a.append("hello");
    es::Buffer b(std::move(a));
    EXPECT_EQ(b.str(), "hello");
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): what a move leaves is specified
    a.append("again");
    EXPECT_EQ(a.str(), "again");
    es::Buffer c;
    c = std::move(b);
    EXPECT_EQ(c.str(), "hello");
    b.push_back('x');
    EXPECT_EQ(b.str(), "x");
}

}  // namespace
