// JSON log lines (see log.hpp).
#include "sync/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "electric_shapes/pure/json_writer.hpp"

namespace es::sync::log {

namespace {

LogLevel g_level = LogLevel::Info;
std::mutex g_mutex;  // the worker threads log too; guards what follows
std::function<void()> g_schedule_flush;
std::string g_pending;  // gathered lines (set_batching)
constexpr size_t kMaxPendingBytes = 64 * 1024;

void write_stderr(const std::string &bytes)
{
    std::fwrite(bytes.data(), 1, bytes.size(), stderr);
    std::fflush(stderr);
}

const char *level_name(LogLevel level)
{
    switch (level) {
    case LogLevel::Debug:
        return "debug";
    case LogLevel::Info:
        return "info";
    case LogLevel::Warning:
        return "warning";
    case LogLevel::Error:
        return "error";
    }
    return "info";
}

}  // namespace

void set_level(LogLevel level) { g_level = level; }

bool enabled(LogLevel level) { return static_cast<int>(level) >= static_cast<int>(g_level); }

std::string quote(const std::string &text)
{
    Buffer out;
    json::append_string_repairing(out, text);
    return out.str();
}

void write(LogLevel level, const std::string &message, const std::string &fields)
{
    if (!enabled(level))
        return;
    auto now = std::chrono::system_clock::now();
    std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm;
    gmtime_r(&seconds, &tm);
    char when[64];
    std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
    std::string line = std::string("{\"time\":\"") + when + "\",\"level\":\"" + level_name(level) +
                       "\",\"message\":" + quote(message) + (fields.empty() ? "" : "," + fields) + "}\n";
    std::lock_guard<std::mutex> lock(g_mutex);
    bool urgent = level == LogLevel::Warning || level == LogLevel::Error;
    if (!g_schedule_flush || urgent) {
        g_pending += line;
        write_stderr(g_pending);
        g_pending.clear();
        return;
    }
    bool was_empty = g_pending.empty();
    g_pending += line;
    if (g_pending.size() > kMaxPendingBytes) {
        write_stderr(g_pending);
        g_pending.clear();
    } else if (was_empty) {
        g_schedule_flush();
    }
}

void flush()
{
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_pending.empty())
        write_stderr(g_pending);
    g_pending.clear();
}

void set_batching(std::function<void()> schedule_flush)
{
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_pending.empty())
        write_stderr(g_pending);
    g_pending.clear();
    g_schedule_flush = std::move(schedule_flush);
}

}  // namespace es::sync::log
