// Fuzzes the shape index's table: any sequence of inserts and erases, with hashes from a small
// or a full range, leaves it finding exactly what std::multimap finds, under every hash.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "electric_shapes/pure/hash_multimap.hpp"

namespace {

void check(bool condition)
{
    if (!condition)
        abort();
}

std::multiset<int *> found(const es::HashMultimap<int> &table, uint32_t hash)
{
    std::multiset<int *> values;
    table.for_each(hash, [&](int *value) { values.insert(value); });
    return values;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider provider(data, size);
    static int storage[64];
    es::HashMultimap<int> table;
    std::multimap<uint32_t, int *> reference;
    // Crowded hashes make long probe runs, wrapped around the table's end.
    bool crowded = provider.ConsumeBool();
    while (provider.remaining_bytes() > 0) {
        uint32_t hash = crowded ? UINT32_MAX - provider.ConsumeIntegralInRange<uint32_t>(0, 40)
                                : provider.ConsumeIntegral<uint32_t>();
        int *value = &storage[provider.ConsumeIntegralInRange<size_t>(0, 63)];
        auto range = reference.equal_range(hash);
        auto present = range.second;
        for (auto it = range.first; it != range.second; ++it) {
            if (it->second == value)
                present = it;
        }
        if (provider.ConsumeBool()) {
            check(table.erase(hash, value) == (present != range.second));
            if (present != range.second)
                reference.erase(present);
        } else if (present == range.second) {
            table.insert(hash, value);
            reference.emplace(hash, value);
        }
        check(table.size() == reference.size());
    }
    for (const auto &entry : reference) {
        std::multiset<int *> expected;
        auto range = reference.equal_range(entry.first);
        for (auto it = range.first; it != range.second; ++it)
            expected.insert(it->second);
        check(found(table, entry.first) == expected);
    }
    size_t all = 0;
    table.for_all([&](int *) { all++; });
    check(all == reference.size());
    return 0;
}
