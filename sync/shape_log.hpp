// A shape's files under ELECTRIC_STORAGE_DIR/shapes/<handle>/: the initial rows
// (snapshot.jsonl, one client message per line), the stream's messages after them (log.jsonl,
// one per line, in offset order) and shape.json, the definition and snapshot bounds, written
// last and atomically so that its presence says the snapshot is complete. Lines are the exact
// JSON clients get, so a response is a read of contiguous bytes with commas for newlines.
//
// Logs are split into chunks (pure/log_chunks.hpp), a response holds at most one: the cuts are
// kept as one message index per chunk. The snapshot file is cut the same way, on first use.
//
// Appends are kept in memory until the fsync round takes them (take_unwritten), writes them
// into the file with one write and into the journal (journal.hpp), or until sync(); they are
// made visible to readers only once durable: after sync(), or after that round calls
// mark_visible() with the count it took: a client never sees a change a crash could take back,
// and the slot is confirmed only past durable data. (Written at once, a one-row transaction cost
// a write per shape it touched, and the journal read each back from the file.)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sync/http_response.hpp"
#include "sync/pure/log_chunks.hpp"
#include "sync/pure/log_offset.hpp"

namespace es::sync {

struct StorageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Writes size bytes at data to fd (at its position), all of them. Throws StorageError naming path.
void write_all(int fd, const char *data, size_t size, const std::string &path);
// The same at position of the file, whatever its offset. Throws StorageError naming path.
void pwrite_all(int fd, const std::string &bytes, uint64_t position, const std::string &path);
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

    // Appends a message at offset (greater than every offset before), in memory until taken or
    // synced; not visible until then.
    void append(const LogOffset &offset, const std::string &json);
    bool dirty() const { return pending_ > 0; }
    // Writes and fsyncs what was appended and makes it visible.
    void sync();
    // The same in three steps, so that the fsync runs on another thread while appends go on:
    // appended() and take_unwritten() (the entries so far and their bytes), write_at() and
    // sync_to_disk() on any thread (neither reads anything append changes), then
    // mark_visible(that count) on the owning thread.
    size_t appended() const { return entries_.size(); }
    void sync_to_disk() const;
    void mark_visible(size_t count);

    // The bytes appended since the last call (or since the log was opened or synced), and
    // where in the file they go. On the owning thread.
    struct Unwritten {
        uint64_t position = 0;
        std::string bytes;
    };
    Unwritten take_unwritten();
    // Writes bytes at position of the file (what take_unwritten gave); on any thread.
    void write_at(uint64_t position, const std::string &bytes) const;
    // After the round that wrote them made them visible: its bytes become the log's recent tail
    // (the last kRecentBytes of the file at most), from which read_after answers without a read
    // of the file when it can. A live client asks for what the last rounds added: a pread per
    // response was a tenth of the service's loop when one-row transactions streamed.
    static constexpr size_t kRecentBytes = 16 * 1024;
    void keep_recent(Unwritten written);
    // The shape's directory name, which the journal's records name the log by.
    const std::string &dir_name() const { return dir_name_; }

    // The last visible offset, or 0_inf for an empty log.
    LogOffset last_offset() const;
    // The visible messages after offset up to the end of the chunk holding the first of them, as
    // "m1,m2,..." (empty when none), and the offset of the last of them (unchanged when none).
    // The response reached the log's end when last == last_offset().
    std::string read_after(const LogOffset &offset, LogOffset &last) const;
    // The same messages as the bytes [begin, end) of the file, newline-ended, when they are to be
    // read from the file (not all in the recent tail) and are more than min_bytes; else nothing
    // and last unchanged, for read_after. A response streams them (streamed_file_messages).
    struct FileRange {
        uint64_t begin, end;
    };
    std::optional<FileRange> file_range_after(const LogOffset &offset, LogOffset &last, uint64_t min_bytes = 0) const;
    const std::string &path() const { return path_; }
    size_t size() const { return visible_; }
    uint64_t bytes() const { return end_; }  // the file's size, what was appended included

private:
    struct Entry {
        LogOffset offset;
        uint64_t position;
        uint32_t length;
    };
    void load();
    void add_entry(const Entry &entry);
    // The visible entries read_after gives after offset: [first, last], none when first > last.
    std::pair<size_t, size_t> entries_after(const LogOffset &offset) const;

    std::string path_;
    std::string dir_name_;
    int fd_ = -1;
    uint64_t end_ = 0;  // the file's size once what was appended is written
    std::string unwritten_;  // the last bytes appended, from end_ - unwritten_.size()
    uint64_t recent_position_ = 0;  // keep_recent: the file's bytes at recent_position_ ...
    std::string recent_;            // ... are these
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
// The same body of a file's bytes [begin, end) (the snapshot's, or a shape log's), read from the
// file as it is written out. The file is opened here (throws StorageError), and stays readable
// through the body even if the shape's files go meanwhile.
std::shared_ptr<const StreamedBody> streamed_file_messages(const std::string &path, uint64_t begin, uint64_t end,
                                                           const std::string &tail);

}  // namespace es::sync
