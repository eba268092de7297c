// The service's journal: ELECTRIC_STORAGE_DIR/journal, one file fdatasynced once per fsync round.
//
// A change is shown to clients, and the slot confirmed past it, only once it is on disk. With a
// file per shape, that was an fdatasync per shape touched per round: a chat application writes
// one-row transactions to many conversations, so nearly one fdatasync per transaction, each a
// data write, an inode write and a cache flush (most of the service's time in the benchmark).
// Instead, a round appends what every dirty shape log gained (journal_record.hpp) to this one
// file and fdatasyncs it alone; the shape logs get the same bytes but are fdatasynced only at a
// checkpoint, when the journal has grown past its bound or the service stops, after which the
// journal is emptied. At start, before the shape logs are read, the records of an unfinished
// journal are written back into the logs at their positions (what a power loss took from a log
// since its last checkpoint is all there), the logs fdatasynced and the journal emptied.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace es::sync {

class ShapeLog;

class Journal {
public:
    // What a log gained: bytes, at position of its file.
    struct Range {
        std::shared_ptr<ShapeLog> log;
        uint64_t position = 0;
        const std::string *bytes = nullptr;
    };

    // At start: replays storage_dir/journal into the logs under storage_dir/shapes, fdatasyncs
    // them, empties the journal; returns how many records were replayed. Throws StorageError.
    static size_t recover(const std::string &storage_dir);

    // Opens (creating) storage_dir/journal, which recover() emptied.
    explicit Journal(const std::string &storage_dir, uint64_t checkpoint_bytes = 64ull << 20);
    ~Journal();
    Journal(const Journal &) = delete;
    Journal &operator=(const Journal &) = delete;

    // On the round's thread: writes each range into its log and appends it to the journal,
    // fdatasyncs the journal, then checkpoints when the journal is past its bound. Throws
    // StorageError.
    void commit(const std::vector<Range> &ranges);
    // fdatasyncs every log the journal covers and empties it. Throws StorageError.
    void checkpoint();

private:
    std::string path_;
    int fd_ = -1;
    uint64_t size_ = 0;
    uint64_t checkpoint_bytes_;
    // The logs with data in the journal. Weak: a shape dropped meanwhile (rotated, deleted,
    // retention) took its data and files with it, and its log closes then, not at a checkpoint.
    std::unordered_map<const ShapeLog *, std::weak_ptr<ShapeLog>> covered_;
};

}  // namespace es::sync
