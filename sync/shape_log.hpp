// A shape's files under ELECTRIC_STORAGE_DIR/shapes/<handle>/: the initial rows
// (snapshot.jsonl, one client message per line), the stream's messages after them (log.jsonl,
// one per line, in offset order) and shape.json, the definition and snapshot bounds, written
// last and atomically so that its presence says the snapshot is complete. Lines are the exact
// JSON clients get, so a response is a read of contiguous bytes with commas for newlines.
//
// Logs are split into chunks (pure/log_chunks.hpp), a response holds at most one: the cuts are
// kept as one message index per chunk. The snapshot file is cut the same way, on first use.
//
// Appends are written at once but made visible to readers only once durable: after sync(), or
// after the fsync round that wrote them to the journal (journal.hpp) calls mark_visible() with
// the count it took: a client never sees a change a crash could take back, and the slot is
// confirmed only past durable data.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sync/pure/log_chunks.hpp"
#include "sync/pure/log_offset.hpp"

namespace es::sync {

struct StorageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Writes size bytes at data to fd (at its position), all of them. Throws StorageError naming path.
void write_all(int fd, const char *data, size_t size, const std::string &path);
// Writes text to path's temporary file, fsyncs it and renames it over path. Throws StorageError.
void write_file_atomically(const std::string &path, const std::string &text);
void fsync_directory(const std::string &dir);

class ShapeLog;

// fdatasyncs every log (ShapeLog::sync_to_disk), several at once when there are several: one
// fdatasync takes a few milliseconds whatever it writes, so a transaction touching a thousand
// shapes would stall for seconds done one after another, while concurrent ones share the
// filesystem's journal commits. Returns when all are done; throws the first StorageError after
// all have finished. Makes nothing visible: the caller does (mark_visible) with the counts it
// took before. The logs may be appended to meanwhile (from one other thread), not destroyed.
void sync_logs(const std::vector<const ShapeLog *> &logs);

class ShapeLog {
public:
    // Opens (creating) dir/log.jsonl. When loading, reads back its lines, cutting a torn tail.
    explicit ShapeLog(const std::string &dir, uint64_t chunk_bytes = 10 * 1024 * 1024);
    ~ShapeLog();
    ShapeLog(const ShapeLog &) = delete;
    ShapeLog &operator=(const ShapeLog &) = delete;

    // Appends a message at offset (greater than every offset before); not visible until sync().
    void append(const LogOffset &offset, const std::string &json);
    bool dirty() const { return pending_ > 0; }
    // fsyncs what was appended and makes it visible.
    void sync();
    // The same in three steps, so that the fsync runs on another thread while appends go on:
    // appended() (the entries written so far), sync_to_disk() on any thread (fdatasync only; it
    // reads nothing that append changes), then mark_visible(that count) on the owning thread.
    size_t appended() const { return entries_.size(); }
    void sync_to_disk() const;
    void mark_visible(size_t count);

    // The bytes appended since the last call (or since the log was opened or synced): [begin,
    // end) of the file, for the journal (journal.hpp). On the owning thread.
    std::pair<uint64_t, uint64_t> take_unjournaled();
    // The file's bytes [begin, end), which were appended before; on any thread.
    std::string read_bytes(uint64_t begin, uint64_t end) const;
    // The shape's directory name, which the journal's records name the log by.
    const std::string &dir_name() const { return dir_name_; }

    // The last visible offset, or 0_inf for an empty log.
    LogOffset last_offset() const;
    // The visible messages after offset up to the end of the chunk holding the first of them, as
    // "m1,m2,..." (empty when none), and the offset of the last of them (unchanged when none).
    // The response reached the log's end when last == last_offset().
    std::string read_after(const LogOffset &offset, LogOffset &last) const;
    size_t size() const { return visible_; }
    uint64_t bytes() const { return end_; }  // the file's size

private:
    struct Entry {
        LogOffset offset;
        uint64_t position;
        uint32_t length;
    };
    void load();
    void add_entry(const Entry &entry);

    std::string path_;
    std::string dir_name_;
    int fd_ = -1;
    uint64_t end_ = 0;  // file size
    uint64_t journaled_end_ = 0;  // the bytes before it are in the journal or synced
    std::vector<Entry> entries_;
    ChunkCutter chunks_;
    std::vector<size_t> chunk_ends_;  // index of each closed chunk's last message
    size_t visible_ = 0;
    size_t pending_ = 0;
};

// The snapshot file's chunks: the byte position where each begins, then the file's size (so
// chunk k is [bounds[k], bounds[k+1])); at least one (empty) chunk. Reads the file in blocks.
std::vector<uint64_t> snapshot_chunk_bounds(const std::string &dir, uint64_t chunk_bytes);
// The response body of the snapshot file's bytes [begin, end): "[m1,m2,...]", with tail (a
// message, or empty for none) as its last element; built in one allocation.
std::string snapshot_chunk_body(const std::string &dir, uint64_t begin, uint64_t end, const std::string &tail);

}  // namespace es::sync
