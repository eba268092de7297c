// The slot's stream over the replication protocol, on the event loop: libpq's socket is
// watched with async_wait (no thread blocks on it), CopyData messages are parsed as
// pg_recvlogical does (XLogData 'w', keepalive 'k'), and standby status updates report the
// position whose data is on disk, so the slot never moves past anything not yet durable.
// Connecting (after a server restart, every second until the server is back) is asynchronous
// too (PQconnectStartParams/PQconnectPoll, then START_REPLICATION sent with PQsendQuery), so
// clients are served while the server is away; only a host name lookup may block.
// The plugin's options: include-transaction, so the service knows where each transaction
// ends; every shape, since the shapes the service owns change while the stream runs (it keeps
// the messages of its own shapes, by name).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <string>

#include "sync/pure/catch_up.hpp"
#include "sync/pure/config.hpp"

namespace es::sync {

class Shapes;

class ReplicationStream {
public:
    ReplicationStream(boost::asio::io_context &io, const Config &config, Shapes &shapes, uint64_t start_lsn);
    ~ReplicationStream();

    void start();
    void stop();
    // True while the stream is up (for /v1/health).
    bool streaming() const { return streaming_; }
    // For /metrics: the server's WAL end as last heard, and the position last confirmed.
    uint64_t server_wal_end() const { return server_wal_end_; }
    uint64_t confirmed_lsn() const { return reported_lsn_; }
    // SIGTERM: reports the position of everything on disk to the server, then stops.
    void finish();

private:
    void connect();
    void poll_connect(PostgresPollingStatusType status);
    void send_start_replication();
    void await_start_replication();
    void begin_streaming();
    template <typename Handler>
    void wait_socket(bool for_write, Handler handler);
    void wait_readable();
    void on_readable();
    void handle_copy_data(const char *data, int length);
    void send_feedback(bool force);
    void schedule_feedback();
    void fail(const std::string &message);
    void close_connection();

    boost::asio::io_context &io_;
    const Config &config_;
    Shapes &shapes_;
    PGconn *conn_ = nullptr;
    std::unique_ptr<boost::asio::posix::stream_descriptor> socket_;
    boost::asio::steady_timer feedback_timer_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::steady_timer connect_timer_;  // bounds a connection attempt
    uint64_t reported_lsn_ = 0;  // last position sent in a status update
    uint64_t server_wal_end_ = 0;
    bool streaming_ = false;
    bool stopped_ = false;
    bool reply_requested_ = false;
    int64_t last_feedback_us_ = 0;
    CatchUpDetector catch_up_;
    static constexpr std::chrono::milliseconds kQuietForCaughtUp{5};
    boost::asio::steady_timer quiet_timer_;
    uint64_t reads_ = 0;  // reads of the stream so far
};

}  // namespace es::sync
