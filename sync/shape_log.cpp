// Shape log files (see shape_log.hpp).
#include "sync/shape_log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

#include "sync/pure/stream_message.hpp"

namespace es::sync {

namespace {

[[noreturn]] void fail(const std::string &what, const std::string &path)
{
    throw StorageError(what + " \"" + path + "\": " + std::strerror(errno));
}


// Reads length bytes at position into out.
void read_into(int fd, uint64_t position, size_t length, char *out, const std::string &path)
{
    size_t done = 0;
    while (done < length) {
        ssize_t n = ::pread(fd, out + done, length - done, static_cast<off_t>(position + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail("could not read", path);
        }
        if (n == 0)
            throw StorageError("unexpected end of \"" + path + "\"");
        done += static_cast<size_t>(n);
    }
}

std::string read_range(int fd, uint64_t position, size_t length, const std::string &path)
{
    std::string out(length, '\0');
    read_into(fd, position, length, out.data(), path);
    return out;
}

// A response body "[m1,m2,...,tail]" of the newline-ended messages at [position, position +
// length) of the file and a tail message (may be empty), built in its one allocation: the
// messages are read straight into place and their newlines become commas there (a message holds
// no raw newline: JSON escapes them). A 25 MB body read, joined and concatenated as separate
// strings spent most of its time copying and faulting pages.
std::string read_body(int fd, uint64_t position, size_t length, const std::string &tail, const std::string &path)
{
    std::string body;
    body.reserve(length + tail.size() + 2);
    body.resize(1 + length);
    body[0] = '[';
    read_into(fd, position, length, &body[1], path);
    // memchr finds the newlines many bytes at a time (a byte loop was a visible part of serving
    // a snapshot chunk): every byte of every chunk passes here.
    char *next = &body[1];
    char *end = &body[0] + body.size();
    while ((next = static_cast<char *>(std::memchr(next, '\n', static_cast<size_t>(end - next)))) != nullptr)
        *next++ = ',';
    if (length > 0 && tail.empty())
        body.pop_back();  // the last message's newline
    body += tail;
    body += ']';
    return body;
}

}  // namespace

void write_all(int fd, const char *data, size_t size, const std::string &path)
{
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail("could not write", path);
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
}

void pwrite_all(int fd, const std::string &bytes, uint64_t position, const std::string &path)
{
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(position + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("could not write", path);
        done += static_cast<size_t>(n);
    }
}

void fsync_directory(const std::string &dir)
{
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        fail("could not open directory", dir);
    if (::fsync(fd) != 0) {
        ::close(fd);
        fail("could not fsync directory", dir);
    }
    ::close(fd);
}

void write_file_atomically(const std::string &path, const std::string &text)
{
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        fail("could not create", tmp);
    try {
        write_all(fd, text.data(), text.size(), tmp);
        if (::fsync(fd) != 0)
            fail("could not fsync", tmp);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        fail("could not rename", tmp);
    fsync_directory(path.substr(0, path.rfind('/')));
}

ShapeLog::ShapeLog(const std::string &dir, uint64_t chunk_bytes)
    : path_(dir + "/log.jsonl"), dir_name_(dir.substr(dir.rfind('/') + 1)), chunks_(chunk_bytes)
{
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0)
        fail("could not open", path_);
    load();
}

ShapeLog::~ShapeLog()
{
    if (fd_ >= 0)
        ::close(fd_);
}

void ShapeLog::load()
{
    struct stat st;
    if (::fstat(fd_, &st) != 0)
        fail("could not stat", path_);
    uint64_t size = static_cast<uint64_t>(st.st_size);
    std::string bytes = size ? read_range(fd_, 0, size, path_) : std::string();
    uint64_t position = 0;
    while (position < bytes.size()) {
        size_t newline = bytes.find('\n', position);
        if (newline == std::string::npos)
            break;  // a torn last line: cut below
        auto message = parse_stream_message(std::string_view(bytes).substr(position, newline - position));
        if (!message || message->kind != MessageKind::Row)
            break;  // unreadable: the tail from here is cut
        LogOffset offset = LogOffset::at(message->lsn, message->op_position);
        if (!entries_.empty() && !(entries_.back().offset < offset))
            break;
        add_entry({offset, position, static_cast<uint32_t>(newline - position)});
        position = newline + 1;
    }
    if (position < size) {
        if (::ftruncate(fd_, static_cast<off_t>(position)) != 0 || ::fsync(fd_) != 0)
            fail("could not cut the torn tail of", path_);
    }
    end_ = position;
    visible_ = entries_.size();
}

ShapeLog::Unwritten ShapeLog::take_unwritten()
{
    Unwritten taken{end_ - unwritten_.size(), std::move(unwritten_)};
    unwritten_.clear();
    return taken;
}

void ShapeLog::write_at(uint64_t position, const std::string &bytes) const
{
    pwrite_all(fd_, bytes, position, path_);
}

void ShapeLog::keep_recent(Unwritten written)
{
    if (written.bytes.empty())
        return;
    if (!recent_.empty() && recent_position_ + recent_.size() == written.position) {
        recent_ += written.bytes;
    } else {
        recent_ = std::move(written.bytes);
        recent_position_ = written.position;
    }
    if (recent_.size() > kRecentBytes) {
        size_t drop = recent_.size() - kRecentBytes;
        recent_.erase(0, drop);
        recent_position_ += drop;
        if (recent_.capacity() > 2 * kRecentBytes)
            recent_.shrink_to_fit();  // a large round's bytes are not kept whole
    }
}

void ShapeLog::append(const LogOffset &offset, const std::string &json)
{
    add_entry({offset, end_, static_cast<uint32_t>(json.size())});
    unwritten_ += json;
    unwritten_ += '\n';
    end_ += json.size() + 1;
    pending_++;
}

void ShapeLog::add_entry(const Entry &entry)
{
    if (chunks_.starts_chunk(uint64_t(entry.length) + 1))  // the message and its comma
        chunk_ends_.push_back(entries_.size() - 1);
    entries_.push_back(entry);
}

void sync_logs(const std::vector<const ShapeLog *> &logs)
{
    if (logs.size() <= 1) {
        for (const ShapeLog *log : logs)
            log->sync_to_disk();
        return;
    }
    // 32 threads: on this project's test machine (ext4 on a virtual disk) 1,000 fdatasyncs take
    // 4.7 s one after another, 0.3 s on 8 threads, 0.17 s on 32 and more again on 64. Made on
    // first use, so a service with one shape at a time never starts them.
    static boost::asio::thread_pool pool(32);
    std::mutex mutex;
    std::condition_variable finished;
    size_t left = logs.size();
    std::exception_ptr first_error;
    for (const ShapeLog *log : logs)
        boost::asio::post(pool, [&, log]() {
            std::exception_ptr error;
            try {
                log->sync_to_disk();
            } catch (...) {
                error = std::current_exception();
            }
            std::lock_guard<std::mutex> lock(mutex);
            if (error && !first_error)
                first_error = error;
            if (--left == 0)
                finished.notify_one();
        });
    std::unique_lock<std::mutex> lock(mutex);
    finished.wait(lock, [&]() { return left == 0; });
    if (first_error)
        std::rethrow_exception(first_error);
}

void ShapeLog::sync()
{
    if (pending_ == 0)
        return;
    size_t count = appended();
    Unwritten unwritten = take_unwritten();  // durable on its own: nothing for the journal
    write_at(unwritten.position, unwritten.bytes);
    sync_to_disk();
    mark_visible(count);
}

void ShapeLog::sync_to_disk() const
{
    if (::fdatasync(fd_) != 0)
        fail("could not fsync", path_);
}

void ShapeLog::mark_visible(size_t count)
{
    visible_ = std::max(visible_, std::min(count, entries_.size()));
    pending_ = entries_.size() - visible_;
}

LogOffset ShapeLog::last_offset() const
{
    return visible_ == 0 ? LogOffset::snapshot_end() : entries_[visible_ - 1].offset;
}

std::pair<size_t, size_t> ShapeLog::entries_after(const LogOffset &offset) const
{
    // First visible entry with an offset greater than the client's.
    size_t lo = 0, hi = visible_;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (entries_[mid].offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= visible_)
        return {1, 0};
    // The end of the chunk holding the first message, or the visible end.
    auto chunk_end = std::lower_bound(chunk_ends_.begin(), chunk_ends_.end(), lo);
    size_t end = chunk_end == chunk_ends_.end() ? visible_ - 1 : std::min(*chunk_end, visible_ - 1);
    return {lo, end};
}

std::optional<ShapeLog::FileRange> ShapeLog::file_range_after(const LogOffset &offset, LogOffset &last,
                                                              uint64_t min_bytes) const
{
    auto [first, final] = entries_after(offset);
    if (first > final)
        return std::nullopt;
    uint64_t begin = entries_[first].position, end = entries_[final].position + entries_[final].length + 1;
    if (end - begin <= min_bytes || (begin >= recent_position_ && end <= recent_position_ + recent_.size()))
        return std::nullopt;
    last = entries_[final].offset;
    return FileRange{begin, end};
}

std::string ShapeLog::read_after(const LogOffset &offset, LogOffset &last) const
{
    auto [lo, end] = entries_after(offset);
    if (lo > end)
        return {};
    const Entry &first = entries_[lo], &final = entries_[end];
    last = final.offset;
    uint64_t length = final.position + final.length + 1 - first.position;
    std::string messages;
    if (first.position >= recent_position_ && first.position + length <= recent_position_ + recent_.size())
        messages.assign(recent_, static_cast<size_t>(first.position - recent_position_), static_cast<size_t>(length));
    else
        messages = read_range(fd_, first.position, static_cast<size_t>(length), path_);
    messages.pop_back();  // the last message's newline; the others become commas
    std::replace(messages.begin(), messages.end(), '\n', ',');
    return messages;
}

std::vector<uint64_t> snapshot_chunk_bounds(const std::string &dir, uint64_t chunk_bytes)
{
    std::string path = dir + "/snapshot.jsonl";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail("could not open", path);
    std::vector<uint64_t> bounds{0};
    uint64_t position = 0, line_start = 0;
    ChunkCutter chunks(chunk_bytes);
    std::string block(1 << 20, '\0');
    for (;;) {
        ssize_t n = ::pread(fd, &block[0], block.size(), static_cast<off_t>(position));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            ::close(fd);
            errno = saved;
            fail("could not read", path);
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            if (block[static_cast<size_t>(i)] != '\n')
                continue;
            uint64_t line_end = position + static_cast<uint64_t>(i) + 1;
            if (chunks.starts_chunk(line_end - line_start))  // the message and its newline (a comma)
                bounds.push_back(line_start);
            line_start = line_end;
        }
        position += static_cast<uint64_t>(n);
    }
    ::close(fd);
    bounds.push_back(line_start);  // a torn last line (none: the file is fsynced whole) is left out
    return bounds;
}

std::string snapshot_chunk_body(const std::string &dir, uint64_t begin, uint64_t end, const std::string &tail)
{
    std::string path = dir + "/snapshot.jsonl";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail("could not open", path);
    std::string body;
    try {
        body = read_body(fd, begin, static_cast<size_t>(end - begin), tail, path);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    return body;
}

namespace {

// "[" + the bytes [begin, end) of the file with their newlines as commas (the last one dropped
// when there is no tail) + tail + "]", as read_body builds it in memory.
class FileMessagesBody final : public StreamedBody {
public:
    FileMessagesBody(std::string path, uint64_t begin, uint64_t end, std::string tail)
        : path_(std::move(path)), begin_(begin), tail_(std::move(tail))
    {
        uint64_t length = end - begin;
        messages_ = length > 0 && tail_.empty() ? length - 1 : length;
        fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0)
            fail("could not open", path_);
    }
    ~FileMessagesBody() override { ::close(fd_); }
    FileMessagesBody(const FileMessagesBody &) = delete;
    FileMessagesBody &operator=(const FileMessagesBody &) = delete;

    uint64_t size() const override { return 1 + messages_ + tail_.size() + 1; }

    size_t read(uint64_t at, char *out, size_t max) const override
    {
        size_t done = 0;
        auto room = [&]() { return max - done; };
        if (at == 0 && room() > 0) {
            out[done++] = '[';
            at++;
        }
        if (at >= 1 && at < 1 + messages_ && room() > 0) {
            uint64_t from = at - 1;
            size_t n = static_cast<size_t>(std::min<uint64_t>(room(), messages_ - from));
            char *start = out + done;
            read_into(fd_, begin_ + from, n, start, path_);
            char *next = start, *stop = start + n;
            while ((next = static_cast<char *>(std::memchr(next, '\n', static_cast<size_t>(stop - next)))) != nullptr)
                *next++ = ',';
            done += n;
            at += n;
        }
        uint64_t tail_at = 1 + messages_;
        if (at >= tail_at && at < tail_at + tail_.size() && room() > 0) {
            size_t from = static_cast<size_t>(at - tail_at);
            size_t n = std::min(room(), tail_.size() - from);
            std::memcpy(out + done, tail_.data() + from, n);
            done += n;
            at += n;
        }
        if (at == tail_at + tail_.size() && room() > 0) {
            out[done++] = ']';
            at++;
        }
        return done;
    }

private:
    std::string path_;
    uint64_t begin_;
    uint64_t messages_;  // bytes of the file in the body
    std::string tail_;
    int fd_ = -1;
};

}  // namespace

std::shared_ptr<const StreamedBody> streamed_file_messages(const std::string &path, uint64_t begin, uint64_t end,
                                                           const std::string &tail)
{
    return std::make_shared<FileMessagesBody>(path, begin, end, tail);
}

}  // namespace es::sync
