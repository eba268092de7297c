// Where a shape's log and snapshot are cut into chunks, as Electric's LogChunker cuts them: a
// chunk closes before the message that would take it past the threshold, and a message larger
// than the threshold is a chunk of its own. A response holds at most one chunk, so its size is
// bounded by the threshold (or by one message), and the cuts depend only on the messages, so
// equal requests get equal responses (which caches rely on).
#pragma once

#include <cstdint>

namespace es::sync {

class ChunkCutter {
public:
    explicit ChunkCutter(uint64_t threshold) : threshold_(threshold) {}

    // Adds a message of bytes (with its separator); true when a new chunk begins with it.
    bool starts_chunk(uint64_t bytes)
    {
        bool cut = open_ > 0 && open_ + bytes > threshold_;
        if (cut)
            open_ = 0;
        open_ += bytes;
        return cut;
    }

private:
    uint64_t threshold_;
    uint64_t open_ = 0;  // bytes of the chunk being filled
};

}  // namespace es::sync
