// The replication stream (see replication_stream.hpp). Reference: PostgreSQL's
// pg_recvlogical.c and streamutil.c.
#include "sync/replication_stream.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>

#include <chrono>
#include <cstring>

#include "sync/log.hpp"
#include "sync/metrics.hpp"
#include "sync/pure/commit_time.hpp"
#include "sync/pure/stream_message.hpp"
#include "sync/shapes.hpp"
#include "sync/startup_checks.hpp"

namespace es::sync {

namespace asio = boost::asio;

namespace {

constexpr int64_t kPostgresEpochUnixSeconds = 946684800;  // 2000-01-01

uint64_t read_u64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

void write_u64(char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = static_cast<char>(v & 0xFF);
        v >>= 8;
    }
}

int64_t now_postgres_micros()
{
    return unix_now_us() - kPostgresEpochUnixSeconds * 1000000;
}

std::string lsn_text(uint64_t lsn)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32), static_cast<unsigned>(lsn));
    return buf;
}

}  // namespace

ReplicationStream::ReplicationStream(asio::io_context &io, const Config &config, Shapes &shapes, uint64_t start_lsn)
    : io_(io), config_(config), shapes_(shapes), feedback_timer_(io), retry_timer_(io),
      connect_timer_(io), reported_lsn_(start_lsn), quiet_timer_(io)
{
    // A round of fsyncs ends after the read that started it: report its position then.
    shapes_.set_durable_observer([this]() { send_feedback(false); });
}

ReplicationStream::~ReplicationStream()
{
    shapes_.set_durable_observer(nullptr);
    stop();
}

void ReplicationStream::start()
{
    connect();
    schedule_feedback();
}

// Stops watching the socket (a dup of libpq's) and closes the connection, if any.
void ReplicationStream::close_connection()
{
    if (socket_) {
        socket_->cancel();
        socket_.reset();
    }
    if (conn_) {
        PQfinish(conn_);
        conn_ = nullptr;
    }
}

void ReplicationStream::finish()
{
    if (conn_ && streaming_) {
        shapes_.sync_and_notify();
        send_feedback(true);
        log::info("confirmed the slot", "\"lsn\":" + std::to_string(reported_lsn_));
    }
    stop();
}

void ReplicationStream::stop()
{
    stopped_ = true;
    streaming_ = false;
    feedback_timer_.cancel();
    retry_timer_.cancel();
    connect_timer_.cancel();
    quiet_timer_.cancel();
    close_connection();
}

void ReplicationStream::connect()
{
    if (stopped_)
        return;
    std::vector<const char *> keys = {"dbname", "replication", "application_name", nullptr};
    std::vector<const char *> values = {config_.database_url.c_str(), "database", "electric-shapes-sync", nullptr};
    conn_ = PQconnectStartParams(keys.data(), values.data(), 1);
    if (!conn_ || PQstatus(conn_) == CONNECTION_BAD) {
        fail(std::string("could not connect for replication: ") + (conn_ ? PQerrorMessage(conn_) : "out of memory"));
        return;
    }
    // PQconnectPoll has no timeout of its own: a server that accepts and never answers would
    // hold the attempt forever.
    connect_timer_.expires_after(std::chrono::seconds(10));
    connect_timer_.async_wait([this](const boost::system::error_code &ec) {
        if (ec || stopped_ || streaming_ || !conn_)
            return;
        fail("could not connect for replication: timed out after 10 s");
    });
    poll_connect(PGRES_POLLING_WRITING);
}

// Waits until libpq's socket is readable or writable (a duplicate of it, watched by Asio; the
// socket may change between steps of a connection), then runs handler.
template <typename Handler>
void ReplicationStream::wait_socket(bool for_write, Handler handler)
{
    int fd = ::dup(PQsocket(conn_));
    if (fd < 0) {
        fail("could not watch the replication socket");
        return;
    }
    socket_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
    socket_->async_wait(for_write ? asio::posix::stream_descriptor::wait_write
                                  : asio::posix::stream_descriptor::wait_read,
                        [this, handler = std::move(handler)](const boost::system::error_code &ec) mutable {
                            if (ec || stopped_ || !conn_)
                                return;
                            handler();
                        });
}

void ReplicationStream::poll_connect(PostgresPollingStatusType status)
{
    switch (status) {
    case PGRES_POLLING_FAILED:
        fail(std::string("could not connect for replication: ") + PQerrorMessage(conn_));
        return;
    case PGRES_POLLING_OK:
        send_start_replication();
        return;
    default:
        wait_socket(status == PGRES_POLLING_WRITING, [this]() { poll_connect(PQconnectPoll(conn_)); });
        return;
    }
}

void ReplicationStream::send_start_replication()
{
    // Start from the position the service confirmed: everything after it is either not on
    // disk or will be recognised by its offset and skipped.
    std::string command = "START_REPLICATION SLOT \"" + config_.slot_name() + "\" LOGICAL " + lsn_text(reported_lsn_) +
                          " (\"include-transaction\" 'true', \"values\" 'text')";
    if (PQsetnonblocking(conn_, 1) != 0 || !PQsendQuery(conn_, command.c_str())) {
        fail(std::string("could not start replication: ") + PQerrorMessage(conn_));
        return;
    }
    await_start_replication();
}

// Flushes the command, then reads until its result (COPY_BOTH) is there.
void ReplicationStream::await_start_replication()
{
    int flushed = PQflush(conn_);
    if (flushed < 0) {
        fail(std::string("could not start replication: ") + PQerrorMessage(conn_));
        return;
    }
    if (flushed == 1) {
        wait_socket(true, [this]() { await_start_replication(); });
        return;
    }
    if (!PQconsumeInput(conn_)) {
        fail(std::string("could not start replication: ") + PQerrorMessage(conn_));
        return;
    }
    if (PQisBusy(conn_)) {
        wait_socket(false, [this]() { await_start_replication(); });
        return;
    }
    PGresult *result = PQgetResult(conn_);
    ExecStatusType status = PQresultStatus(result);
    std::string error = result ? PQresultErrorMessage(result) : PQerrorMessage(conn_);
    PQclear(result);
    if (status != PGRES_COPY_BOTH) {
        fail("could not start replication: " + error);
        return;
    }
    begin_streaming();
}

void ReplicationStream::begin_streaming()
{
    connect_timer_.cancel();
    int fd = ::dup(PQsocket(conn_));
    if (fd < 0) {
        fail("could not watch the replication socket");
        return;
    }
    socket_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
    streaming_ = true;
    log::info("streaming", "\"slot\":" + log::quote(config_.slot_name()) + ",\"from\":" + log::quote(lsn_text(reported_lsn_)));
    on_readable();  // libpq may already hold data read during the handshake
}

void ReplicationStream::wait_readable()
{
    if (!socket_)
        return;
    socket_->async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code &ec) {
        if (ec || stopped_)
            return;
        on_readable();
    });
}

void ReplicationStream::on_readable()
{
    if (!conn_)
        return;
    if (!PQconsumeInput(conn_)) {
        fail(std::string("replication connection lost: ") + PQerrorMessage(conn_));
        return;
    }
    // Drain what libpq has, then have it made durable: one fsync round per read at most, not
    // one per message, and none while one runs (Shapes::flush gathers what is appended during a
    // round into the next). libpq reads one buffer (some kilobytes) per PQconsumeInput; while
    // the socket has more, it is read into the same round.
    bool more = true;
    for (int n = 0; n < 10000; n++) {
        char *buffer = nullptr;
        int length = PQgetCopyData(conn_, &buffer, 1);
        if (length == 0) {
            if (!PQconsumeInput(conn_)) {
                fail(std::string("replication connection lost: ") + PQerrorMessage(conn_));
                return;
            }
            length = PQgetCopyData(conn_, &buffer, 1);
        }
        if (length == 0) {
            more = false;
            break;
        }
        if (length == -1) {
            PGresult *result = PQgetResult(conn_);
            std::string error = result ? PQresultErrorMessage(result) : "";
            PQclear(result);
            fail("the server ended the replication stream " + error);
            return;
        }
        if (length < 0) {
            fail(std::string("replication stream error: ") + PQerrorMessage(conn_));
            return;
        }
        try {
            handle_copy_data(buffer, length);
        } catch (const std::exception &e) {
            PQfreemem(buffer);
            fail(std::string("could not process the stream: ") + e.what());
            return;
        }
        PQfreemem(buffer);
    }
    shapes_.flush();
    send_feedback(reply_requested_);
    reply_requested_ = false;
    if (!conn_)
        return;
    reads_++;
    // A backlog streams without a pause: a stream quiet for kQuietForCaughtUp after a read has
    // no backlog behind it, whatever the lag of its last commit said (the last transactions of
    // a backlog are as old as the rest). Only while catching up: a live stream pays no timer.
    if (!more && shapes_.catching_up()) {
        quiet_timer_.expires_after(kQuietForCaughtUp);
        quiet_timer_.async_wait([this, reads = reads_](const boost::system::error_code &ec) {
            if (!ec && !stopped_ && reads_ == reads) {
                catch_up_.caught_up();
                shapes_.set_catching_up(false);
            }
        });
    }
    if (more)  // libpq still holds messages: the socket may never become readable for them
        asio::post(io_, [this]() {
            if (!stopped_)
                on_readable();
        });
    else
        wait_readable();
}

void ReplicationStream::handle_copy_data(const char *data, int length)
{
    if (length < 1)
        return;
    if (data[0] == 'k' && length >= 18) {
        uint64_t wal_end = read_u64(data + 1);
        server_wal_end_ = std::max(server_wal_end_, wal_end);
        shapes_.on_idle_position(wal_end);
        if (data[17])
            reply_requested_ = true;
        return;
    }
    if (data[0] != 'w' || length < 25)
        return;
    uint64_t wal_start = read_u64(data + 1);
    server_wal_end_ = std::max(server_wal_end_, read_u64(data + 9));
    std::string_view text(data + 25, static_cast<size_t>(length - 25));
    auto message = parse_stream_message(text);
    if (!message) {
        log::warning("unreadable stream message", "\"text\":" + log::quote(std::string(text.substr(0, 200))));
        return;
    }
    switch (message->kind) {
    case MessageKind::Begin:
        shapes_.on_begin();
        break;
    case MessageKind::Row:
        shapes_.on_row(std::move(*message));
        break;
    case MessageKind::Commit:
        // The commit message is written at the end of the commit record: confirming it
        // means the transaction is never sent again.
        shapes_.on_commit(message->lsn, wal_start);
        metrics::commit_seen(message->lsn, message->commit_unix_us);
        shapes_.set_catching_up(catch_up_.observe(unix_now_us(), message->commit_unix_us));
        break;
    case MessageKind::MustRefetch:
    case MessageKind::ShapeDropped:
        // A shape of the service dropped by someone else, or with its table: its clients
        // refetch (and learn that the table is gone, if it is).
        shapes_.on_must_refetch(*message);
        break;
    default:
        break;
    }
}

void ReplicationStream::send_feedback(bool force)
{
    if (!conn_ || !streaming_)
        return;
    uint64_t lsn = std::max(reported_lsn_, shapes_.confirmable_lsn());
    int64_t now = now_postgres_micros();
    if (!force && lsn == reported_lsn_ && now - last_feedback_us_ < 10 * 1000000)
        return;
    char message[1 + 8 * 4 + 1];
    message[0] = 'r';
    write_u64(message + 1, lsn);   // written
    write_u64(message + 9, lsn);   // flushed: on disk, so the slot may move here
    write_u64(message + 17, lsn);  // applied
    write_u64(message + 25, static_cast<uint64_t>(now));
    message[33] = 0;
    if (PQputCopyData(conn_, message, sizeof message) <= 0 || PQflush(conn_) < 0) {
        fail(std::string("could not send a status update: ") + PQerrorMessage(conn_));
        return;
    }
    reported_lsn_ = lsn;
    last_feedback_us_ = now;
}

void ReplicationStream::schedule_feedback()
{
    feedback_timer_.expires_after(std::chrono::seconds(1));
    feedback_timer_.async_wait([this](const boost::system::error_code &ec) {
        if (ec || stopped_)
            return;
        send_feedback(false);
        schedule_feedback();
    });
}

void ReplicationStream::fail(const std::string &message)
{
    log::error("replication stream failed; reconnecting", "\"error\":" + log::quote(message));
    streaming_ = false;
    connect_timer_.cancel();
    shapes_.on_stream_reset();
    close_connection();
    if (stopped_)
        return;
    retry_timer_.expires_after(std::chrono::seconds(1));
    retry_timer_.async_wait([this](const boost::system::error_code &ec) {
        if (ec || stopped_)
            return;
        connect();
    });
}

}  // namespace es::sync
