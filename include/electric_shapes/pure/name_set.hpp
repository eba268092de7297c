// The set of shape names a stream selects. A stream of 10,000 shapes starts by testing every row
// of the shapes catalog against it, so it is a flat hash table (pure/hash_multimap.hpp) over
// names kept in a deque: a name that is not selected is usually settled by the table's tags,
// without touching any string.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <string_view>

#include "electric_shapes/pure/hash_multimap.hpp"

namespace es {

class NameSet {
public:
    NameSet() = default;
    // The index points into names_: a copy would point into the original. A move keeps every
    // name where it is.
    NameSet(const NameSet &) = delete;
    NameSet &operator=(const NameSet &) = delete;
    NameSet(NameSet &&) noexcept = default;
    NameSet &operator=(NameSet &&) noexcept = default;

    // Adds name; false when it was there already.
    bool insert(std::string name)
    {
        if (contains(name))
            return false;
        names_.push_back(std::move(name));
        index_.insert(hash_of(names_.back()), &names_.back());
        return true;
    }

    bool contains(std::string_view name) const
    {
        bool found = false;
        index_.for_each(hash_of(name), [&](const std::string *candidate) { found = found || *candidate == name; });
        return found;
    }

    size_t size() const { return names_.size(); }
    bool empty() const { return names_.empty(); }
    // In the order they were added.
    std::deque<std::string>::const_iterator begin() const { return names_.begin(); }
    std::deque<std::string>::const_iterator end() const { return names_.end(); }

private:
    static uint32_t hash_of(std::string_view name)
    {
        size_t hash = std::hash<std::string_view>()(name);
        return static_cast<uint32_t>(hash ^ (hash >> 32));
    }

    std::deque<std::string> names_;  // a deque keeps each name where it is as names are added
    HashMultimap<const std::string> index_;
};

}  // namespace es
