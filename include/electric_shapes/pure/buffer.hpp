// The byte buffer every message is written into. Appends are inline (a capacity check and a
// copy), because a streamed row is some twenty small appends and std::string's are calls; it
// keeps its capacity when cleared, so a stream allocates only while its messages grow.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace es {

class Buffer {
public:
    Buffer() = default;
    Buffer(const Buffer &) = delete;
    Buffer &operator=(const Buffer &) = delete;
    // A moved-from buffer is empty and may be written again.
    Buffer(Buffer &&other) noexcept { *this = std::move(other); }
    Buffer &operator=(Buffer &&other) noexcept
    {
        bytes_ = std::move(other.bytes_);
        size_ = other.size_;
        capacity_ = other.capacity_;
        other.size_ = other.capacity_ = 0;
        return *this;
    }

    const char *data() const { return bytes_.get(); }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    char operator[](size_t i) const { return bytes_[i]; }
    std::string_view view() const { return std::string_view(bytes_.get(), size_); }
    std::string str() const { return std::string(view()); }

    void clear() { size_ = 0; }
    // Drops what follows the first size bytes.
    void truncate(size_t size) { size_ = size < size_ ? size : size_; }

    // Room for n more bytes: write them at the returned pointer, then commit(n).
    char *reserve(size_t n)
    {
        if (capacity_ - size_ < n)
            grow(n);
        return bytes_.get() + size_;
    }
    void commit(size_t n) { size_ += n; }

    void append(const char *bytes, size_t n)
    {
        if (n > 0)  // an empty view may carry a null pointer, which memcpy must not see
            memcpy(reserve(n), bytes, n);
        size_ += n;
    }
    void append(std::string_view text) { append(text.data(), text.size()); }
    void push_back(char c)
    {
        *reserve(1) = c;
        size_++;
    }

private:
    void grow(size_t n)
    {
        size_t capacity = capacity_ < 256 ? 256 : capacity_;
        while (capacity - size_ < n)
            capacity *= 2;
        std::unique_ptr<char[]> bytes(new char[capacity]);
        if (size_ > 0)
            memcpy(bytes.get(), bytes_.get(), size_);
        bytes_ = std::move(bytes);
        capacity_ = capacity;
    }

    std::unique_ptr<char[]> bytes_;
    size_t size_ = 0;
    size_t capacity_ = 0;
};

}  // namespace es
