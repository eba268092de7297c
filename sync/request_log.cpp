// Request log lines and shape events (see request_log.hpp).
#include "sync/request_log.hpp"

#include <random>

#include "sync/log.hpp"
#include "sync/metrics.hpp"

namespace es::sync {

std::string request_id_for(std::string_view client_id)
{
    bool sane = !client_id.empty() && client_id.size() <= 64;
    for (char c : client_id)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.' || c == ':'))
            sane = false;
    if (sane)
        return std::string(client_id);
    static std::mt19937_64 rng(std::random_device{}());
    static const char digits[] = "0123456789abcdef";
    std::string id;
    for (int part = 0; part < 2; part++) {
        uint64_t r = rng();
        for (int i = 0; i < 16; i++, r >>= 4)
            id += digits[r & 15];
    }
    return id;
}

std::string route_of(const std::string &path)
{
    for (const char *known : {"/v1/shape", "/v1/health", "/health", "/metrics", "/"})
        if (path == known)
            return known;
    return "other";
}

void request_finished(const RequestRecord &record, unsigned status)
{
    std::string route = route_of(record.path);
    metrics::request_finished(route, status);
    bool routine = route == "/metrics" || route == "/v1/health" || route == "/health";
    LogLevel level = routine ? LogLevel::Debug : LogLevel::Info;
    if (!log::enabled(level))
        return;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - record.start).count();
    char duration[32];
    std::snprintf(duration, sizeof duration, "%.3f", ms);
    log::write(level, "request",
               "\"request_id\":" + log::quote(record.id) + ",\"method\":" + log::quote(record.method) +
                   ",\"path\":" + log::quote(record.path) + ",\"status\":" + std::to_string(status) +
                   ",\"duration_ms\":" + duration +
                   ",\"shape_handle\":" + (record.handle.empty() ? "null" : log::quote(record.handle)));
}

void shape_event(const std::string &event, const std::string &handle, const std::string &request_id,
                 const std::string &cause, const std::string &fields)
{
    metrics::shape_event(event);
    log::info("shape " + event, "\"event\":" + log::quote(event) + ",\"shape_handle\":" + log::quote(handle) +
                                    ",\"request_id\":" + (request_id.empty() ? "null" : log::quote(request_id)) +
                                    ",\"cause\":" + log::quote(cause) + (fields.empty() ? "" : "," + fields));
}

}  // namespace es::sync
