// Unit tests of the list whose items know their place.
#include "electric_shapes/pure/positioned_list.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

namespace {

struct Item {
    int key = 0;
    size_t position = 0;
};

struct ByKey {
    bool operator()(const Item *a, const Item *b) const { return a->key < b->key; }
};

using List = es::PositionedList<Item, &Item::position, ByKey>;

std::vector<int> keys(const std::vector<Item *> &items)
{
    std::vector<int> out;
    for (const Item *item : items)
        out.push_back(item->key);
    return out;
}

TEST(PositionedList, StaysSortedWhileAppendedInOrder)
{
    Item a{1}, b{2}, c{3};
    List list;
    list.push_back(&a);
    list.push_back(&b);
    list.push_back(&c);
    EXPECT_TRUE(list.is_sorted());
    list.remove(&c);  // the last: nothing moves
    EXPECT_TRUE(list.is_sorted());
    list.remove(&a);  // b moves to the front: still in order here, but not known to be
    EXPECT_EQ(keys(list.sorted()), std::vector<int>{2});
}

TEST(PositionedList, RemovesAnyItemAndSortsOnDemand)
{
    std::vector<Item> items(1000);
    std::mt19937 random(7);
    for (Item &item : items)
        item.key = static_cast<int>(random() % 100000);
    List list;
    for (Item &item : items)
        list.push_back(&item);
    EXPECT_FALSE(list.is_sorted());
    std::multiset<int> expected;
    for (size_t i = 0; i < items.size(); i++) {
        if (i % 3 == 0)
            list.remove(&items[i]);
        else
            expected.insert(items[i].key);
        // Every item still in the list is where it says it is.
        for (size_t at = 0; at < list.size(); at++)
            ASSERT_EQ(list.items()[at]->position, at);
    }
    std::vector<int> sorted = keys(list.sorted());
    EXPECT_EQ(sorted, std::vector<int>(expected.begin(), expected.end()));
    for (size_t at = 0; at < list.size(); at++)
        EXPECT_EQ(list.items()[at]->position, at);
    list.clear();
    EXPECT_TRUE(list.empty());
    EXPECT_TRUE(list.is_sorted());
}

}  // namespace
