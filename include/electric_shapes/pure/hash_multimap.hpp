// The table behind the shape index: from 32-bit hashes of constants to the shapes that compare a
// column with them. Every decoded change looks its row's value up here, and almost always finds
// nothing, so a lookup that finds nothing must stay in the cache however many shapes there are.
// Open addressing with linear probing; the probe reads only a 16-bit tag per slot (the hash's
// high bits, 0 for an empty slot), and the full hash and the value only where the tag matches.
// In front of it, a bitmap with a bit per hash's low bits (eight per slot) settles most lookups
// of absent hashes with one bit test: for 10,000 shapes, 16 kB of bits, then 32 kB of tags for
// the few that pass (std::unordered_multimap takes a division and a pointer chase per lookup,
// and misses the cache at that size). Equal hashes may hold many values.
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
        if (4 * (size_ + 1) > 3 * tags_.size())
            grow();
        size_t i = hash & mask();
        while (tags_[i] != kEmpty)
            i = (i + 1) & mask();
        place(i, hash, value);
        mark(hash);
        size_++;
    }

    // Removes value from under hash; false when it was not there.
    bool erase(uint32_t hash, T *value)
    {
        if (tags_.empty())
            return false;
        uint16_t tag = tag_of(hash);
        for (size_t i = hash & mask(); tags_[i] != kEmpty; i = (i + 1) & mask()) {
            if (tags_[i] == tag && hashes_[i] == hash && values_[i] == value) {
                close_gap(i);
                size_--;
                // Its bit may be another entry's too, so it stays; rebuilt once many are stale.
                if (++stale_bits_ > size_ / 4 + 16)
                    rebuild_bits();
                return true;
            }
        }
        return false;
    }

    // Calls fn(value) for every value added under hash.
    template <typename Fn>
    void for_each(uint32_t hash, Fn &&fn) const
    {
        if (tags_.empty() || !marked(hash))
            return;
        uint16_t tag = tag_of(hash);
        for (size_t i = hash & mask(); tags_[i] != kEmpty; i = (i + 1) & mask()) {
            if (tags_[i] == tag && hashes_[i] == hash)
                fn(values_[i]);
        }
    }

    // Calls fn(value) for every entry.
    template <typename Fn>
    void for_all(Fn &&fn) const
    {
        for (size_t i = 0; i < tags_.size(); i++) {
            if (tags_[i] != kEmpty)
                fn(values_[i]);
        }
    }

private:
    static constexpr uint16_t kEmpty = 0;
    // The slot's tag: the hash's high bits (the low ones choose the slot), never kEmpty.
    static uint16_t tag_of(uint32_t hash)
    {
        auto tag = static_cast<uint16_t>(hash >> 16);
        return tag == kEmpty ? 1 : tag;
    }
    size_t mask() const { return tags_.size() - 1; }

    // The bitmap has eight bits per slot: the hash's low bits choose one.
    size_t bit_of(uint32_t hash) const { return hash & (8 * tags_.size() - 1); }
    bool marked(uint32_t hash) const
    {
        size_t bit = bit_of(hash);
        return (bits_[bit / 64] >> (bit % 64)) & 1;
    }
    void mark(uint32_t hash)
    {
        size_t bit = bit_of(hash);
        bits_[bit / 64] |= uint64_t{1} << (bit % 64);
    }
    void rebuild_bits()
    {
        bits_.assign(tags_.size() / 8, 0);  // 8 bits per slot, 64 per word
        for (size_t i = 0; i < tags_.size(); i++) {
            if (tags_[i] != kEmpty)
                mark(hashes_[i]);
        }
        stale_bits_ = 0;
    }

    void place(size_t i, uint32_t hash, T *value)
    {
        tags_[i] = tag_of(hash);
        hashes_[i] = hash;
        values_[i] = value;
    }

    // Doubles the table (kept at most three quarters full), placing every entry again.
    void grow()
    {
        std::vector<uint16_t> tags(tags_.empty() ? 16 : 2 * tags_.size(), kEmpty);
        std::vector<uint32_t> hashes(tags.size(), 0);
        std::vector<T *> values(tags.size(), nullptr);
        tags.swap(tags_);
        hashes.swap(hashes_);
        values.swap(values_);
        for (size_t i = 0; i < tags.size(); i++) {
            if (tags[i] == kEmpty)
                continue;
            size_t j = hashes[i] & mask();
            while (tags_[j] != kEmpty)
                j = (j + 1) & mask();
            place(j, hashes[i], values[i]);
        }
        rebuild_bits();
    }

    // Empties slot i, moving back later entries of its probe run that would otherwise no longer
    // be found (deletion without tombstones).
    void close_gap(size_t i)
    {
        for (size_t j = (i + 1) & mask(); tags_[j] != kEmpty; j = (j + 1) & mask()) {
            size_t home = hashes_[j] & mask();
            // The entry at j may fill the gap at i unless its home lies cyclically in (i, j].
            bool home_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (!home_between) {
                place(i, hashes_[j], values_[j]);
                i = j;
            }
        }
        tags_[i] = kEmpty;
        values_[i] = nullptr;
    }

    std::vector<uint16_t> tags_;  // a power of two long, or empty
    std::vector<uint32_t> hashes_;
    std::vector<T *> values_;
    std::vector<uint64_t> bits_;
    size_t stale_bits_ = 0;  // erased entries whose bits are still set
    size_t size_ = 0;
};

}  // namespace es
