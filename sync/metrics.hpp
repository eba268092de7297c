// The service's /metrics: Prometheus text (es::prometheus::TextBuilder, shared with the
// extension's own metrics) of what an operator watches: requests by route and status, open
// connections and held live requests, shapes and their log bytes, shape events and refused
// requests, how far the slot is behind the server, and the commit-to-response latency (from the
// commit time in the stream's commit message to the moment the response carrying that
// transaction's change has been written to the client's socket).
//
// Counters live here; what the registry and the stream know (shapes, bytes, positions) is read
// through the sources main() sets, at scrape time. Everything runs on the event loop's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace es::sync::metrics {

struct Sources {
    std::function<uint64_t()> shapes;           // shapes the service serves
    std::function<uint64_t()> log_bytes;        // bytes of their logs of changes on disk
    std::function<uint64_t()> server_wal_end;   // the server's WAL end, as the stream last heard
    std::function<uint64_t()> confirmed_lsn;    // the slot's confirmed position, as last reported
    std::function<bool()> streaming;
};
void set_sources(Sources sources);

void connection_opened();
void connection_closed();
void live_request_started();
void live_request_ended();
void request_finished(const std::string &route, unsigned status);
void request_refused(const std::string &reason);
void shape_event(const std::string &event);

// The stream's commit of a transaction (its commit LSN and commit time, Unix microseconds).
void commit_seen(uint64_t commit_lsn, int64_t commit_unix_us);
// The commit time of the transaction that committed at commit_lsn, if still remembered, else 0.
int64_t commit_time_of(uint64_t commit_lsn);
// A response carrying a change of a transaction committed at commit_unix_us was written.
void response_written(int64_t commit_unix_us);

// The exposition.
std::string render();

}  // namespace es::sync::metrics
