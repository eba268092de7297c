// Unit tests of the shape index's table, against std::unordered_multimap as the reference.
#include "electric_shapes/pure/hash_multimap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace {

using Table = es::HashMultimap<int>;

std::multiset<int *> found(const Table &table, uint32_t hash)
{
    std::multiset<int *> values;
    table.for_each(hash, [&](int *value) { values.insert(value); });
    return values;
}

TEST(HashMultimap, EmptyFindsNothing)
{
    Table table;
    int a = 0;
    EXPECT_TRUE(found(table, 7).empty());
    EXPECT_FALSE(table.erase(7, &a));
    EXPECT_EQ(table.size(), 0u);
}

TEST(HashMultimap, ManyValuesUnderOneHash)
{
    Table table;
    int values[5];
    for (int &v : values)
        table.insert(42, &v);
    table.insert(43, &values[0]);
    EXPECT_EQ(found(table, 42).size(), 5u);
    EXPECT_EQ(found(table, 43), std::multiset<int *>{&values[0]});
    EXPECT_TRUE(table.erase(42, &values[2]));
    EXPECT_FALSE(table.erase(42, &values[2]));
    EXPECT_EQ(found(table, 42).count(&values[2]), 0u);
    EXPECT_EQ(table.size(), 5u);
}

TEST(HashMultimap, HashesWithEqualTagsStayApart)
{
    // 0, 1 and 0x10000 + 1: the first two have the tag of an all-zero high half.
    Table table;
    int a = 0, b = 0, c = 0;
    table.insert(0, &a);
    table.insert(1, &b);
    table.insert(0x10001, &c);
    EXPECT_EQ(found(table, 0), std::multiset<int *>{&a});
    EXPECT_EQ(found(table, 1), std::multiset<int *>{&b});
    EXPECT_EQ(found(table, 0x10001), std::multiset<int *>{&c});
    EXPECT_FALSE(table.erase(0, &b));
    EXPECT_TRUE(table.erase(0, &a));
    EXPECT_TRUE(found(table, 0).empty());
    EXPECT_EQ(found(table, 1), std::multiset<int *>{&b});
}

// Random inserts and erases, checked after every step: hashes crowded into few slots, so that
// probe runs wrap around the end of the table and deletions move entries back; hashes sharing
// their high bits (the slot tag), told apart by the full hash; and hashes spread everywhere.
TEST(HashMultimap, FollowsTheReferenceThroughRandomChanges)
{
    std::mt19937 random(20261201);
    std::vector<int> storage(300);
    for (int round = 0; round < 4; round++) {
        Table table;
        std::multimap<uint32_t, int *> reference;
        uint32_t spread = round == 0 ? 8 : round == 1 ? 64 : round == 2 ? 1024 : UINT32_MAX;
        for (int step = 0; step < 4000; step++) {
            uint32_t hash = static_cast<uint32_t>(random()) % spread;
            if (round == 0)
                hash = UINT32_MAX - hash;  // every key's home is one of the table's last slots
            int *value = &storage[random() % storage.size()];
            bool present = false;
            auto range = reference.equal_range(hash);
            for (auto it = range.first; it != range.second; ++it)
                present = present || it->second == value;
            if (present && random() % 3 != 0) {
                EXPECT_TRUE(table.erase(hash, value));
                for (auto it = range.first; it != range.second; ++it) {
                    if (it->second == value) {
                        reference.erase(it);
                        break;
                    }
                }
            } else if (!present) {
                table.insert(hash, value);
                reference.emplace(hash, value);
            }
            ASSERT_EQ(table.size(), reference.size());
            std::multiset<int *> expected;
            auto now = reference.equal_range(hash);
            for (auto it = now.first; it != now.second; ++it)
                expected.insert(it->second);
            ASSERT_EQ(found(table, hash), expected) << round << " " << step;
        }
        // Every entry is still found under its own hash, and all of them once by for_all.
        size_t all = 0;
        table.for_all([&](int *) { all++; });
        EXPECT_EQ(all, reference.size());
        for (const auto &entry : reference) {
            std::multiset<int *> values = found(table, entry.first);
            EXPECT_TRUE(values.count(entry.second) > 0) << entry.first;
        }
    }
}

}  // namespace
