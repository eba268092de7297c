// Unit tests of where the sync service cuts a shape's log and snapshot into chunks
// (sync/pure/log_chunks.hpp).
#include "sync/pure/log_chunks.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using es::sync::ChunkCutter;

// The sizes of the chunks a sequence of messages is cut into.
std::vector<uint64_t> chunks_of(uint64_t threshold, const std::vector<uint64_t> &messages)
{
    ChunkCutter cutter(threshold);
    std::vector<uint64_t> chunks;
    for (uint64_t m : messages) {
        if (cutter.starts_chunk(m) || chunks.empty())
            chunks.push_back(0);
        chunks.back() += m;
    }
    return chunks;
}

TEST(SyncChunks, ChunksNeverPassTheThreshold)
{
    EXPECT_EQ(chunks_of(10, {4, 4, 4, 4, 4}), (std::vector<uint64_t>{8, 8, 4}));
    EXPECT_EQ(chunks_of(10, {5, 5, 5, 5}), (std::vector<uint64_t>{10, 10}));  // exactly full
    EXPECT_EQ(chunks_of(10, {1, 1, 9}), (std::vector<uint64_t>{2, 9}));
}

TEST(SyncChunks, LargeMessageIsAChunkAlone)
{
    EXPECT_EQ(chunks_of(10, {3, 25, 3}), (std::vector<uint64_t>{3, 25, 3}));
    EXPECT_EQ(chunks_of(10, {25, 25}), (std::vector<uint64_t>{25, 25}));
}

TEST(SyncChunks, FirstMessageNeverStartsAnEmptyCut)
{
    ChunkCutter cutter(1);
    EXPECT_FALSE(cutter.starts_chunk(5));  // nothing before it to close
    EXPECT_TRUE(cutter.starts_chunk(1));
}

}  // namespace
