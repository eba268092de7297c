// A shape's files under ELECTRIC_STORAGE_DIR/shapes/<handle>/: the initial rows
// (snapshot.jsonl, one client message per line), the stream's messages after them (log.jsonl,
// one per line, in offset order) and shape.json, the definition and snapshot bounds, written
// last and atomically so that its presence says the snapshot is complete. Lines are the exact
// JSON clients get, so a response is a read of contiguous bytes with commas for newlines.
//
// Appends are written at once but made visible to readers only by sync(), after fsync: a client
// never sees a change a crash could take back, and the slot is confirmed only past synced data.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "sync/pure/log_offset.hpp"

namespace es::sync {

struct StorageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Writes text to fd entirely, then fsyncs it when sync is true. Throws StorageError.
void write_file_atomically(const std::string &path, const std::string &text);
void fsync_directory(const std::string &dir);

class ShapeLog;

// Syncs every log (ShapeLog::sync), several at once when there are several: one fdatasync takes
// a few milliseconds whatever it writes, so a transaction touching a thousand shapes would stall
// for seconds done one after another, while concurrent ones share the filesystem's journal
// commits. Returns when all are done; throws the first StorageError after all have finished.
// Nothing else may use the logs meanwhile.
void sync_logs(const std::vector<ShapeLog *> &logs);

class ShapeLog {
public:
    // Opens (creating) dir/log.jsonl. When loading, reads back its lines, cutting a torn tail.
    explicit ShapeLog(const std::string &dir);
    ~ShapeLog();
    ShapeLog(const ShapeLog &) = delete;
    ShapeLog &operator=(const ShapeLog &) = delete;

    // Appends a message at offset (greater than every offset before); not visible until sync().
    void append(const LogOffset &offset, const std::string &json);
    bool dirty() const { return pending_ > 0; }
    // fsyncs what was appended and makes it visible.
    void sync();

    // The last visible offset, or 0_inf for an empty log.
    LogOffset last_offset() const;
    // The visible messages after offset, as "m1,m2,..." (empty when none), and the offset of the
    // last of them (unchanged when none).
    std::string read_after(const LogOffset &offset, LogOffset &last) const;
    size_t size() const { return visible_; }

private:
    struct Entry {
        LogOffset offset;
        uint64_t position;
        uint32_t length;
    };
    void load();

    std::string path_;
    int fd_ = -1;
    uint64_t end_ = 0;  // file size
    std::vector<Entry> entries_;
    size_t visible_ = 0;
    size_t pending_ = 0;
};

// The body of an initial-sync response: '[', the messages of dir/snapshot.jsonl separated by
// commas, then last (the snapshot-end message) and ']'. Built in one allocation, the file read
// straight into it: a large shape's snapshot is tens of megabytes, and each copy of it cost more
// than reading it.
std::string snapshot_response_body(const std::string &dir, const std::string &last);

}  // namespace es::sync
