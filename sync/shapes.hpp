// The service's shapes: one electric_shapes shape per distinct definition, shared by every
// client that asks for it, named with the service's prefix (so the service owns exactly these),
// each with a handle that is never reused and a log of files (shape_log.hpp).
//
// Stitching (SPEC section 4): a shape is registered under its name before create_shape runs,
// so the stream's messages for it are kept from the first; until its snapshot is on disk they
// wait in memory (committed transactions only). Every message, waiting or not, is dropped when
// its transaction is visible in the shape's snapshot (its effect is in the initial rows), or
// when its offset is not past the log's last (a replay after a reconnect). While a shape waits,
// the slot is not confirmed past the position it had when the shape was registered, since its
// waiting messages are not on disk.
//
// Everything here runs on the event loop's thread; only creation runs on worker threads, and
// posts its result back.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <tuple>
#include <string>
#include <vector>

#include "sync/http_response.hpp"
#include "sync/pure/config.hpp"
#include "sync/pure/shape_request.hpp"
#include "sync/pure/stream_message.hpp"
#include "sync/shape_creation.hpp"
#include "sync/journal.hpp"
#include "sync/shape_log.hpp"

namespace es::sync {

class Shapes {
public:
    Shapes(boost::asio::io_context &io, const Config &config, uint64_t confirmed_lsn);
    ~Shapes();

    // Reads back the shapes a previous run left complete on disk and drops the service's
    // shapes and directories that are not complete. Blocking: call before serving.
    void restore();

    // GET /v1/shape with parsed parameters: answers through respond, now or later.
    void handle_get(const ShapeRequest &request, Responder respond);
    // DELETE /v1/shape: drops the service's shape of that definition (and handle, when given);
    // its clients get 409 and refetch. 202 when dropped, 404 when there is no such shape.
    void handle_delete(const ShapeRequest &request, Responder respond);

    // The stream, in order: a row message inside a transaction, the end of the transaction
    // (end_lsn: where the slot may be confirmed once it is on disk), a must-refetch or a drop
    // of a shape the service still has (the service unregisters its own before it drops them,
    // so this is someone else's drop, or the table's).
    void on_begin();
    void on_row(StreamMessage &&message);  // its client_json is taken, not copied
    void on_commit(uint64_t commit_lsn, uint64_t end_lsn);
    void on_must_refetch(const StreamMessage &message);
    // The stream was cut mid-transaction: what it had sent of that transaction is dropped.
    void on_stream_reset();
    // After a read of the stream: starts a round that fsyncs what was appended (on a thread of
    // its own, so the loop goes on reading the stream and serving clients meanwhile) unless one
    // is running; when a round ends its changes are shown to clients, the durable position
    // moves to the end of the transactions it covers, the durable observer is called, and what
    // was appended meanwhile starts the next round. So while the disk is busy, transactions
    // gather into one round: a shape's log is fsynced once for all of them (group commit).
    void flush();
    // Blocking (SIGTERM): waits for the running round, then fsyncs everything appended and
    // shows it. Returns the position the slot may now be confirmed at.
    uint64_t sync_and_notify();
    // Called on the loop after each round that moved the durable position (the stream reports
    // it to the server); nullptr: none.
    void set_durable_observer(std::function<void()> observer) { durable_observer_ = std::move(observer); }
    // Whether the stream is catching up (CatchUpDetector: behind by more than 500 ms, until
    // within 50 ms again or the stream is quiet for a moment). While it is, the long-polls a round's changes would
    // wake are woken together every kCatchUpWakeInterval instead: a backlog of one-row
    // transactions reaches a live client in a few larger responses, not one response per
    // change, each of which costs the service a response out and a request in. Caught up again,
    // the paced ones are woken at once.
    void set_catching_up(bool behind);
    bool catching_up() const { return catching_up_; }
    // Idle position (a keepalive's WAL end): may be confirmed when nothing is in flight.
    void on_idle_position(uint64_t wal_end);
    // The durable position, held back by shapes still being created (their snapshot's rows
    // are not in their files yet).
    uint64_t confirmable_lsn() const;

    size_t count() const { return by_key_.size(); }
    uint64_t log_bytes() const;

    // Retention: removes the ready shapes nobody asked for since cutoff and nobody waits on
    // (files, catalog row); their clients refetch (409). Returns how many.
    size_t remove_unused(std::chrono::steady_clock::time_point cutoff);
    // SIGTERM: fsyncs what was appended, answers every held request now (live ones with
    // up-to-date at their offset, those waiting for a snapshot with 503 retry-after), and from
    // then on holds no request.
    void drain();

    // Also gives every row and must-refetch message of the stream to observer (the users'
    // access follows its membership tables so); nullptr: none.
    void set_stream_observer(std::function<void(const StreamMessage &)> observer) { observer_ = std::move(observer); }

private:
    struct Shape;
    struct Waiter;
    using ShapePtr = std::shared_ptr<Shape>;

    // The definition a request names, with its table resolved to one spelling (on a worker the
    // first time a spelling is seen), then next(definition, key); or an error response.
    void resolve(const ShapeRequest &request, Responder respond,
                 std::function<void(const ShapeDefinition &, const std::string &, Responder)> next);
    void dispatch(const ShapeDefinition &definition, const std::string &key, const ShapeRequest &request,
                  Responder respond);
    // request_id and cause: what made the shape, for its "created" event.
    ShapePtr start_shape(const ShapeDefinition &definition, const std::string &key,
                         const std::string &request_id = {}, const std::string &cause = "request");
    void finish_creation(const ShapePtr &shape, CreationResult result);
    // A chunk of a shape being created is complete (SnapshotProgress, on the io thread).
    void snapshot_progress(const ShapePtr &shape, const std::string &schema_json, const std::vector<uint64_t> &starts);
    // True when request asks for a snapshot chunk of a shape being created that is complete.
    bool early_chunk(const ShapePtr &shape, const ShapeRequest &request) const;
    // The log reads of one wake, by the offset read after: the waiters of a shape mostly hold
    // the same offset (its log's end before the change), and each read is a pread and a join.
    using LogReads = std::map<std::pair<uint64_t, uint64_t>, std::pair<std::string, LogOffset>>;
    // What one wake shares among the requests it answers (the log does not change meanwhile):
    // the log reads, and the live responses, by offset and cursor (the only parts of a woken
    // long-poll that its response depends on).
    struct WakeBatch {
        LogReads reads;
        // By offset, SSE or not, and cursor (none for SSE: a stream reads only its messages).
        std::map<std::tuple<uint64_t, uint64_t, bool, std::string>, std::shared_ptr<const Response>> responses;
    };
    void serve(const ShapePtr &shape, const ShapeRequest &request, Responder respond, WakeBatch *batch = nullptr);
    // A subset snapshot of a ready shape (subset_snapshot.hpp), read on a worker.
    void serve_subset(const ShapePtr &shape, const ShapeRequest &request, Responder respond);
    void wait(const ShapePtr &shape, const ShapeRequest &request, Responder respond, bool for_data);
    void wake(const ShapePtr &shape);
    // After a round: wake, or while catching up, wake at the next pace tick.
    void wake_or_pace(const ShapePtr &shape);
    void pace(const ShapePtr &shape);  // its waiters woken at the next pace tick
    void wake_paced();
    // Long-poll timeouts: one timer per shape for its first waiter's deadline (a timer per
    // request was set up and cancelled a thousand times for each change to a shared shape).
    void arm_wait_timer(const ShapePtr &shape, std::chrono::steady_clock::time_point at);
    void expire_waiters(const ShapePtr &shape);
    // By value: it erases the registry's references to the shape.
    void rotate(ShapePtr shape, const std::string &cause = "stream");
    // By value, for the same reason: DELETE, retention and the shape limit remove shapes.
    void remove_shape(ShapePtr shape, const std::string &cause, const std::string &request_id);
    void evict_least_recently_used();
    Response shape_response(const ShapePtr &shape, const ShapeRequest &request, LogReads *reads = nullptr) const;
    // A request for a chunk of the shape's snapshot (offset -1 or 0_k): its response is the same
    // for every client.
    static bool snapshot_chunk_request(const ShapePtr &shape, const ShapeRequest &request);
    // That response, shared with every request for the same chunk while one of them is still
    // being written: a crowd of initial syncs (the waiters a new shape wakes when it is ready)
    // holds one copy of a chunk of megabytes, not one each, and reads it from the file once.
    Response shared_chunk_response(const ShapePtr &shape, const ShapeRequest &request) const;
    std::string new_handle(const std::string &key);
    void discard(const ShapePtr &shape);

    boost::asio::io_context &io_;
    const Config &config_;
    // The threads of the blocking SQL (shape creation, table names, subsets, drops), each job
    // on a connection of the pool, which keeps one per thread between jobs.
    static constexpr size_t kWorkers = 2;
    // A catch-up read from a shape log's file past this size is streamed from it (shape_response).
    static constexpr uint64_t kStreamedLogBytes = 64 * 1024;
    ConnectionPool connections_;
    boost::asio::thread_pool workers_;
    std::string shapes_dir_;
    std::map<std::string, ShapePtr> by_key_;   // definition key => current shape
    std::map<std::string, ShapePtr> by_name_;  // electric_shapes name => shape fed by the stream
    // The shapes started and maybe still Creating: confirmable_lsn runs for every read from the
    // stream and every round, and walking all of by_name_ there was a tenth of the service's CPU
    // with a thousand shapes. It drops the ones no longer Creating as it passes.
    mutable std::vector<ShapePtr> creating_;
    std::map<std::string, std::string> tables_;  // table as a client spelled it => resolved
    uint64_t last_handle_micros_ = 0;
    uint64_t subsets_ = 0;  // names the shapes subset snapshots make and roll back

    // Stream state.
    struct Staged {
        ShapePtr shape;
        LogOffset offset;
        uint64_t xid;
        std::shared_ptr<const std::string> json;
    };
    std::vector<Staged> transaction_;
    std::vector<ShapePtr> dirty_;
    struct SyncRound;
    void start_round();
    void wait_round(SyncRound &round);
    void complete_round(const std::shared_ptr<SyncRound> &round);
    std::shared_ptr<SyncRound> round_;  // the fsync round running, if any
    boost::asio::thread_pool syncer_{1};  // runs the rounds, one at a time
    std::unique_ptr<Journal> journal_;    // the rounds' one file (journal.hpp); made by restore()
    std::function<void()> durable_observer_;
    uint64_t durable_lsn_ = 0;       // every transaction ending at or before it is on disk
    uint64_t last_seen_lsn_ = 0;     // the last commit seen, for up-to-date's global_last_seen_lsn
    uint64_t committed_lsn_ = 0;     // every transaction ending at or before it is processed
    bool in_transaction_ = false;
    std::function<void(const StreamMessage &)> observer_;
    bool draining_ = false;  // SIGTERM: no request is held any more

    // Catch-up pacing (set_catching_up).
    static constexpr std::chrono::milliseconds kCatchUpWakeInterval{200};
    bool catching_up_ = false;
    std::vector<ShapePtr> paced_;  // the timer is armed while it is not empty
    boost::asio::steady_timer pace_timer_{io_};
};

}  // namespace es::sync
