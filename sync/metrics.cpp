// The service's metrics (see metrics.hpp).
#include "sync/metrics.hpp"

#include <chrono>
#include <map>
#include <vector>

#include "electric_shapes/pure/prometheus_text.hpp"
#include "sync/pure/commit_time.hpp"

namespace es::sync::metrics {

namespace {

using es::prometheus::TextBuilder;
using es::prometheus::Type;

// Seconds: a change served from memory in a millisecond up to a client catching up after minutes.
const std::vector<double> kLatencyBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
// Commit times kept for the latency: a response carries changes of recent transactions; an older
// one (a client far behind) is not measured.
constexpr size_t kCommitsKept = 100000;

struct State {
    Sources sources;
    int64_t connections = 0;
    int64_t live_requests = 0;
    std::map<std::pair<std::string, unsigned>, uint64_t> requests;
    std::map<std::string, uint64_t> refused;
    std::map<std::string, uint64_t> shape_events;
    std::map<uint64_t, int64_t> commit_times;  // commit LSN => Unix µs
    int64_t last_commit_us = 0;
    int64_t last_commit_received_us = 0;
    std::vector<uint64_t> latency_buckets = std::vector<uint64_t>(kLatencyBounds.size(), 0);
    uint64_t latency_count = 0;
    double latency_sum = 0;
};

State &state()
{
    static State *s = new State();  // never destroyed: a worker's late callback may still count
    return *s;
}


}  // namespace

void set_sources(Sources sources) { state().sources = std::move(sources); }
void connection_opened() { state().connections++; }
void connection_closed() { state().connections--; }
void live_request_started() { state().live_requests++; }
void live_request_ended() { state().live_requests--; }
void request_finished(const std::string &route, unsigned status) { state().requests[{route, status}]++; }
void request_refused(const std::string &reason) { state().refused[reason]++; }
void shape_event(const std::string &event) { state().shape_events[event]++; }

void commit_seen(uint64_t commit_lsn, int64_t commit_unix_us)
{
    State &s = state();
    if (commit_unix_us <= 0)
        return;
    s.commit_times[commit_lsn] = commit_unix_us;
    if (s.commit_times.size() > kCommitsKept)
        s.commit_times.erase(s.commit_times.begin());
    s.last_commit_us = commit_unix_us;
    s.last_commit_received_us = unix_now_us();
}

int64_t commit_time_of(uint64_t commit_lsn)
{
    auto &times = state().commit_times;
    auto it = times.find(commit_lsn);
    return it == times.end() ? 0 : it->second;
}

void response_written(int64_t commit_unix_us)
{
    if (commit_unix_us <= 0)
        return;
    State &s = state();
    double seconds = static_cast<double>(std::max<int64_t>(0, unix_now_us() - commit_unix_us)) / 1e6;
    for (size_t i = 0; i < kLatencyBounds.size(); i++)
        if (seconds <= kLatencyBounds[i])
            s.latency_buckets[i]++;
    s.latency_count++;
    s.latency_sum += seconds;
}

std::string render()
{
    State &s = state();
    TextBuilder b;
    const std::string p = "electric_shapes_sync_";
    b.declare(p + "up", Type::Gauge, "1 while the replication stream is up, 0 while the service waits for it.");
    b.add(p + "up", {}, int64_t{s.sources.streaming && s.sources.streaming() ? 1 : 0});

    b.declare(p + "http_requests_total", Type::Counter, "HTTP requests answered, by route and status code.");
    for (const auto &[key, count] : s.requests)
        b.add(p + "http_requests_total", {{"route", key.first}, {"status", std::to_string(key.second)}},
              static_cast<int64_t>(count));
    b.declare(p + "http_connections", Type::Gauge, "Open HTTP connections.");
    b.add(p + "http_connections", {}, s.connections);
    b.declare(p + "live_requests", Type::Gauge, "Live requests held open, waiting for changes.");
    b.add(p + "live_requests", {}, s.live_requests);
    b.declare(p + "refused_requests_total", Type::Counter,
              "Requests refused by a limit (503 with retry-after), by limit.");
    for (const char *reason : {"initial", "existing"})
        b.add(p + "refused_requests_total", {{"limit", reason}}, static_cast<int64_t>(s.refused[reason]));

    b.declare(p + "shapes", Type::Gauge, "Shapes the service serves.");
    b.add(p + "shapes", {}, static_cast<int64_t>(s.sources.shapes ? s.sources.shapes() : 0));
    b.declare(p + "shape_log_bytes", Type::Gauge, "Bytes of the shapes' logs of changes on disk.");
    b.add(p + "shape_log_bytes", {}, static_cast<int64_t>(s.sources.log_bytes ? s.sources.log_bytes() : 0));
    b.declare(p + "shape_events_total", Type::Counter, "Shape events, by event.");
    for (const char *event : {"created", "rotated", "removed", "restored"})
        b.add(p + "shape_events_total", {{"event", event}}, static_cast<int64_t>(s.shape_events[event]));

    uint64_t wal_end = s.sources.server_wal_end ? s.sources.server_wal_end() : 0;
    uint64_t confirmed = s.sources.confirmed_lsn ? s.sources.confirmed_lsn() : 0;
    b.declare(p + "replication_lag_bytes", Type::Gauge,
              "WAL bytes between the server's end (as last heard) and the slot's confirmed position.");
    b.add(p + "replication_lag_bytes", {}, static_cast<int64_t>(wal_end > confirmed ? wal_end - confirmed : 0));
    b.declare(p + "replication_lag_seconds", Type::Gauge,
              "Delay between the last transaction's commit and its arrival in the stream.");
    b.add(p + "replication_lag_seconds", {},
          s.last_commit_us ? static_cast<double>(std::max<int64_t>(0, s.last_commit_received_us - s.last_commit_us)) / 1e6
                           : 0.0);
    b.declare(p + "last_commit_timestamp_seconds", Type::Gauge,
              "Commit time of the last transaction the stream delivered (Unix seconds; 0 before the first).");
    b.add(p + "last_commit_timestamp_seconds", {}, static_cast<double>(s.last_commit_us) / 1e6);

    b.declare(p + "commit_to_response_seconds", Type::Histogram,
              "From a transaction's commit to the written response carrying its change (the newest "
              "transaction of each response with changes).");
    b.add_histogram(p + "commit_to_response_seconds", {}, kLatencyBounds, s.latency_buckets, s.latency_sum,
                    s.latency_count);
    return b.text();
}

}  // namespace es::sync::metrics
