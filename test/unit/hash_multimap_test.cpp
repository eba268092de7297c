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

TEST(HashMultimap, HashZeroIsFound)
{
    Table table;
    int a = 0;
    table.insert(0, &a);
    EXPECT_EQ(found(table, 0), std::multiset<int *>{&a});
    EXPECT_TRUE(table.erase(0, &a));
    EXPECT_TRUE(found(table, 0).empty());
}

// Random inserts and erases, with hashes crowded into few slots so that probe runs wrap around
// the end of the table and deletions move entries back, checked after every step.
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
            // Hashes 0 and 1 share a slot key: a lookup of either finds both.
            std::multiset<int *> expected;
            for (uint32_t alias : {hash, hash <= 1 ? 1 - hash : hash}) {
                auto now = reference.equal_range(alias);
                for (auto it = now.first; it != now.second; ++it)
                    expected.insert(it->second);
                if (hash > 1)
                    break;
            }
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
