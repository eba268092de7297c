// One JSON log line per HTTP request, and the request id that ties it to the shape events it
// caused: the client's (or its proxy's) x-request-id when it is sane (1 to 64 characters of
// letters, digits, '-', '_', '.', ':'), else a new one. The id is sent back as x-request-id.
// The path is logged without its query string: a query may carry the API secret.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace es::sync {

std::string request_id_for(std::string_view client_id);

struct RequestRecord {
    std::string id;
    std::string method;
    std::string path;
    std::chrono::steady_clock::time_point start;
    std::string handle;  // the shape handle the response named, if any
};

// The route label of a path for metrics: a known route, or "other" (a client may send any path).
std::string route_of(const std::string &path);

// Logs the finished request (info; debug for health checks and metrics scrapes, which come
// every few seconds) and counts it in the metrics.
void request_finished(const RequestRecord &record, unsigned status);

// A shape event (created, rotated, removed, restored) in the log and the metrics. request_id is
// the request that caused it, or empty when the stream, a limit, retention or startup did, which
// cause names.
void shape_event(const std::string &event, const std::string &handle, const std::string &request_id,
                 const std::string &cause, const std::string &fields = {});

}  // namespace es::sync
