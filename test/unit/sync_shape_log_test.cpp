// Unit tests of the shape log (sync/shape_log.hpp): what read_after gives from the recent tail
// it keeps in memory must be what the file gives, and what a response streams from the file
// must be what read_after gives.
#include "sync/shape_log.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace es::sync;

namespace {

std::string message(uint64_t lsn, size_t pad)
{
    return "{\"headers\":{\"lsn\":\"" + std::to_string(lsn) +
           "\",\"op_position\":0,\"operation\":\"insert\"},\"key\":\"k" + std::to_string(lsn) +
           "\",\"value\":{\"p\":\"" + std::string(pad, 'x') + "\"}}";
}

}  // namespace

// Rounds of random sizes append messages of random sizes (some larger than the tail), are
// written, made visible and kept as the tail, as the service's fsync round does. After each,
// every offset is read after both from that log and from a second log opened on the same file,
// which has no tail: the messages and the last offset must be the same.
TEST(SyncShapeLog, RecentTailReadsAsTheFile)
{
    std::mt19937 rng(7);
    std::string dir = (std::filesystem::temp_directory_path() / ("es_shape_log_test_" + std::to_string(::getpid()))).string();
    size_t from_tail_rounds = 0, from_file_reads = 0;
    for (int trial = 0; trial < 12; trial++) {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        uint64_t chunk_bytes = 500 + rng() % 40000;
        ShapeLog log(dir, chunk_bytes);
        std::vector<LogOffset> offsets{LogOffset::snapshot_end()};
        uint64_t lsn = 100;
        for (int round = 0; round < 30; round++) {
            int count = static_cast<int>(rng() % 30);
            for (int i = 0; i < count; i++) {
                lsn += 1 + rng() % 5;
                log.append(LogOffset::at(lsn, 0), message(lsn, rng() % (rng() % 4 == 0 ? 9000 : 200)));
                offsets.push_back(LogOffset::at(lsn, 0));
            }
            size_t appended = log.appended();
            ShapeLog::Unwritten written = log.take_unwritten();
            log.write_at(written.position, written.bytes);
            log.mark_visible(appended);
            from_tail_rounds += written.bytes.size() <= ShapeLog::kRecentBytes && !written.bytes.empty();
            log.keep_recent(std::move(written));
            ShapeLog file_only(dir, chunk_bytes);
            for (const LogOffset &from : offsets) {
                LogOffset last_kept = from, last_file = from;
                std::string kept = log.read_after(from, last_kept);
                ASSERT_EQ(kept, file_only.read_after(from, last_file)) << "trial " << trial << " round " << round;
                ASSERT_TRUE(last_kept == last_file);
                // What a response streams from the file instead: the same messages and last
                // offset, or nothing when read_after answers from the tail (or has nothing).
                LogOffset last_range = from;
                auto range = log.file_range_after(from, last_range);
                if (!range) {
                    ASSERT_TRUE(last_range == from);
                    continue;
                }
                from_file_reads++;
                auto body = streamed_file_messages(log.path(), range->begin, range->end, "");
                std::string streamed(body->size(), '\0');
                ASSERT_EQ(body->read(0, &streamed[0], streamed.size()), streamed.size());
                ASSERT_EQ(streamed, "[" + kept + "]") << "trial " << trial << " round " << round;
                ASSERT_TRUE(last_range == last_kept);
            }
        }
    }
    std::filesystem::remove_all(dir);
    EXPECT_GT(from_tail_rounds, 100u);  // rounds kept whole in the tail: reads came from it
    EXPECT_GT(from_file_reads, 100u);   // and reads that a response streams from the file
}

// A snapshot chunk streamed from its file (what a response writes, a piece at a time) is the
// body snapshot_chunk_body builds in memory, byte for byte, for every range of whole lines
// (empty ones included), with and without a tail, read in pieces of any size.
TEST(SyncShapeLog, StreamedSnapshotChunkIsTheBuiltBody)
{
    std::mt19937 rng(11);
    std::string dir =
        (std::filesystem::temp_directory_path() / ("es_snapshot_chunk_test_" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::string file;
    std::vector<uint64_t> starts{0};
    for (uint64_t lsn = 1; lsn <= 40; lsn++) {
        file += message(lsn, rng() % 300) + "\n";
        starts.push_back(file.size());
    }
    FILE *out = std::fopen((dir + "/snapshot.jsonl").c_str(), "w");
    ASSERT_NE(out, nullptr);
    std::fwrite(file.data(), 1, file.size(), out);
    std::fclose(out);
    int ranges = 0;
    for (size_t a = 0; a < starts.size(); a += 1 + rng() % 4) {
        for (size_t b = a; b < starts.size(); b += 1 + rng() % 6) {
            for (const std::string &tail : {std::string(), std::string("{\"headers\":{\"control\":\"snapshot-end\"}}")}) {
                std::string built = snapshot_chunk_body(dir, starts[a], starts[b], tail);
                auto streamed = streamed_file_messages(dir + "/snapshot.jsonl", starts[a], starts[b], tail);
                ASSERT_EQ(streamed->size(), built.size());
                std::string read;
                size_t piece = 1 + rng() % 700;
                std::string buffer(piece, '\0');
                while (read.size() < streamed->size()) {
                    size_t n = streamed->read(read.size(), &buffer[0], piece);
                    ASSERT_GT(n, 0u);
                    read.append(buffer, 0, n);
                }
                EXPECT_EQ(streamed->read(read.size(), &buffer[0], piece), 0u);
                ASSERT_EQ(read, built) << "lines " << a << " to " << b << ", pieces of " << piece;
                ranges++;
            }
        }
    }
    EXPECT_GT(ranges, 50);
    std::filesystem::remove_all(dir);
}
