// The table behind the shape index: from 32-bit hashes of constants to the shapes that compare a
// column with them. Open addressing with linear probing over two flat arrays, so that the
// lookup every decoded change makes touches one or two cache lines however many shapes there
// are (std::unordered_multimap takes a division and a pointer chase per lookup, and misses the
// cache once it holds thousands of shapes). Equal hashes may hold many values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace es {

template <typename T>
class HashMultimap {
public:
    size_t size() const { return size_; }

    // Adds value under hash (a value may be added under several hashes, once each).
    void insert(uint32_t hash, T *value)
    {
        if (2 * (size_ + 1) > keys_.size())
            grow();
        size_t i = key_of(hash) & mask();
        while (keys_[i] != kEmpty)
            i = (i + 1) & mask();
        keys_[i] = key_of(hash);
        values_[i] = value;
        size_++;
    }

    // Removes value from under hash; false when it was not there.
    bool erase(uint32_t hash, T *value)
    {
        if (keys_.empty())
            return false;
        uint32_t key = key_of(hash);
        for (size_t i = key & mask(); keys_[i] != kEmpty; i = (i + 1) & mask()) {
            if (keys_[i] == key && values_[i] == value) {
                close_gap(i);
                size_--;
                return true;
            }
        }
        return false;
    }

    // Calls fn(value) for every value added under hash (and, rarely, some others: the caller
    // treats them as candidates to check, never as matches).
    template <typename Fn>
    void for_each(uint32_t hash, Fn &&fn) const
    {
        if (keys_.empty())
            return;
        uint32_t key = key_of(hash);
        for (size_t i = key & mask(); keys_[i] != kEmpty; i = (i + 1) & mask()) {
            if (keys_[i] == key)
                fn(values_[i]);
        }
    }

    // Calls fn(value) for every entry.
    template <typename Fn>
    void for_all(Fn &&fn) const
    {
        for (size_t i = 0; i < keys_.size(); i++) {
            if (keys_[i] != kEmpty)
                fn(values_[i]);
        }
    }

private:
    // 0 marks an empty slot, so hash 0 is kept as 1: the two share a key, which only adds
    // candidates.
    static constexpr uint32_t kEmpty = 0;
    static uint32_t key_of(uint32_t hash) { return hash == kEmpty ? 1 : hash; }
    size_t mask() const { return keys_.size() - 1; }

    // Doubles the table (at most half full), placing every entry again.
    void grow()
    {
        std::vector<uint32_t> keys(keys_.empty() ? 16 : 2 * keys_.size(), kEmpty);
        std::vector<T *> values(keys.size(), nullptr);
        keys.swap(keys_);
        values.swap(values_);
        for (size_t i = 0; i < keys.size(); i++) {
            if (keys[i] == kEmpty)
                continue;
            size_t j = keys[i] & mask();
            while (keys_[j] != kEmpty)
                j = (j + 1) & mask();
            keys_[j] = keys[i];
            values_[j] = values[i];
        }
    }

    // Empties slot i, moving back later entries of its probe run that would otherwise no longer
    // be found (deletion without tombstones).
    void close_gap(size_t i)
    {
        for (size_t j = (i + 1) & mask(); keys_[j] != kEmpty; j = (j + 1) & mask()) {
            size_t home = keys_[j] & mask();
            // The entry at j may fill the gap at i unless its home lies cyclically in (i, j].
            bool home_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (!home_between) {
                keys_[i] = keys_[j];
                values_[i] = values_[j];
                i = j;
            }
        }
        keys_[i] = kEmpty;
        values_[i] = nullptr;
    }

    std::vector<uint32_t> keys_;  // a power of two long, or empty
    std::vector<T *> values_;
    size_t size_ = 0;
};

}  // namespace es
