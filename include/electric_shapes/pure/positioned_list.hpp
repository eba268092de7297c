// A list of pointers whose items know their place in it (the member Position), so that any item
// leaves in constant time: the last item takes its place. A relation's shapes live in such lists;
// dropping a table with 100,000 shapes removes them one by one, which a vector erase made
// quadratic. Order (Less) is kept while items are appended in order and restored by sort() when
// someone needs it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace es {

template <typename T, size_t T::*Position, typename Less>
class PositionedList {
public:
    size_t size() const { return items_.size(); }
    bool empty() const { return items_.empty(); }
    bool is_sorted() const { return sorted_; }

    // The items, in no particular order unless is_sorted().
    const std::vector<T *> &items() const { return items_; }

    void push_back(T *item)
    {
        if (!items_.empty() && Less()(item, items_.back()))
            sorted_ = false;
        item->*Position = items_.size();
        items_.push_back(item);
    }

    // Removes an item of this list.
    void remove(T *item)
    {
        size_t at = item->*Position;
        T *last = items_.back();
        items_[at] = last;
        last->*Position = at;
        items_.pop_back();
        if (at != items_.size())  // an item was moved out of order
            sorted_ = false;
    }

    // The items in order.
    const std::vector<T *> &sorted()
    {
        if (!sorted_) {
            std::sort(items_.begin(), items_.end(), Less());
            for (size_t i = 0; i < items_.size(); i++)
                items_[i]->*Position = i;
            sorted_ = true;
        }
        return items_;
    }

    void clear()
    {
        items_.clear();
        sorted_ = true;
    }

private:
    std::vector<T *> items_;
    bool sorted_ = true;
};

}  // namespace es
