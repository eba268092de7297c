// The service's journal (see journal.hpp).
#include "sync/journal.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

#include "sync/log.hpp"
#include "sync/pure/journal_record.hpp"
#include "sync/shape_log.hpp"

namespace es::sync {

namespace {

[[noreturn]] void fail(const std::string &what, const std::string &path)
{
    throw StorageError(what + " \"" + path + "\": " + std::strerror(errno));
}


std::string read_all(int fd, const std::string &path)
{
    struct stat st;
    if (::fstat(fd, &st) != 0)
        fail("could not stat", path);
    std::string bytes(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::pread(fd, &bytes[done], bytes.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("could not read", path);
        if (n == 0)
            break;
        done += static_cast<size_t>(n);
    }
    bytes.resize(done);
    return bytes;
}

// A directory name the service made (a handle): no path of its own.
bool plain_name(const std::string &name)
{
    return !name.empty() && name[0] != '.' && name.find('/') == std::string::npos;
}

}  // namespace

size_t Journal::recover(const std::string &storage_dir)
{
    std::string path = storage_dir + "/journal";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        fail("could not open", path);
    size_t replayed = 0;
    std::map<std::string, int> logs;  // log path -> descriptor, synced once at the end
    try {
        std::string bytes = read_all(fd, path);
        size_t whole = 0;
        std::vector<JournalRecord> records = read_journal_records(bytes, whole);
        for (const JournalRecord &record : records) {
            std::string dir = storage_dir + "/shapes/" + record.name;
            struct stat st;
            // A shape removed since (rotated, deleted, retention) took its data with it; a
            // shape whose creation never finished is removed by restore.
            if (!plain_name(record.name) || ::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
                continue;
            std::string log_path = dir + "/log.jsonl";
            auto it = logs.find(log_path);
            if (it == logs.end()) {
                int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                if (log_fd < 0)
                    fail("could not open", log_path);
                it = logs.emplace(log_path, log_fd).first;
            }
            // The log's bytes at that position, as they were appended: whether the file still
            // has them, lost them or has blocks a crash left unwritten, it has them afterwards.
            pwrite_all(it->second, record.data, record.position, log_path);
            replayed++;
        }
        for (auto &[log_path, log_fd] : logs)
            if (::fdatasync(log_fd) != 0)
                fail("could not fsync", log_path);
        if (whole < bytes.size())
            log::warning("journal ends with a torn record", "\"bytes\":" + std::to_string(bytes.size() - whole));
        if (::ftruncate(fd, 0) != 0 || ::fsync(fd) != 0)
            fail("could not empty", path);
    } catch (...) {
        for (auto &[log_path, log_fd] : logs)
            ::close(log_fd);
        ::close(fd);
        throw;
    }
    for (auto &[log_path, log_fd] : logs)
        ::close(log_fd);
    ::close(fd);
    fsync_directory(storage_dir);  // the journal's own entry, when it was just made
    return replayed;
}

Journal::Journal(const std::string &storage_dir, uint64_t checkpoint_bytes)
    : path_(storage_dir + "/journal"), checkpoint_bytes_(checkpoint_bytes)
{
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0)
        fail("could not open", path_);
    struct stat st;
    if (::fstat(fd_, &st) != 0) {
        ::close(fd_);
        fail("could not stat", path_);
    }
    size_ = static_cast<uint64_t>(st.st_size);
}

Journal::~Journal()
{
    if (fd_ >= 0)
        ::close(fd_);
}

void Journal::commit(const std::vector<Range> &ranges)
{
    std::string buffer;
    for (const Range &range : ranges) {
        if (range.bytes->empty())
            continue;
        range.log->write_at(range.position, *range.bytes);
        append_journal_record(buffer, range.log->dir_name(), range.position, *range.bytes);
        covered_[range.log.get()] = range.log;  // a log at an address freed and reused is the new one
    }
    if (buffer.empty())
        return;
    write_all(fd_, buffer.data(), buffer.size(), path_);
    size_ += buffer.size();
    if (::fdatasync(fd_) != 0)
        fail("could not fsync", path_);
    if (size_ >= checkpoint_bytes_)
        checkpoint();
}

void Journal::checkpoint()
{
    std::vector<std::shared_ptr<ShapeLog>> alive;  // held open while they are synced
    std::vector<const ShapeLog *> logs;
    for (const auto &[raw, weak] : covered_)
        if (auto log = weak.lock()) {
            logs.push_back(log.get());
            alive.push_back(std::move(log));
        }
    sync_logs(logs);  // the logs hold everything the journal does; only then is it emptied
    if (::ftruncate(fd_, 0) != 0 || ::fdatasync(fd_) != 0)
        fail("could not empty", path_);
    size_ = 0;
    covered_.clear();
}

}  // namespace es::sync
