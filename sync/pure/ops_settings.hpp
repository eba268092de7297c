// The sync service's operational settings: how long a shape nobody asks for is kept, and the
// limits that keep one busy client or a growing log from taking the service down. They are parsed
// apart from the connection settings (config.cpp) but the same way: an environment variable and
// a --flag each, a flag wins, a bad value is one line of error. Names follow Electric where
// Electric has the setting (ELECTRIC_MAX_CONCURRENT_REQUESTS, with its JSON form); the others
// are this service's own, in Electric's naming style.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace es::sync {

struct OpsSettings {
    uint64_t shape_retention_ms = 0;          // 0: shapes are kept until deleted
    uint32_t max_initial_requests = 300;      // concurrent offset=-1 requests
    uint32_t max_existing_requests = 10000;   // concurrent other shape requests (held long-polls too)
    uint32_t max_shapes = 0;                  // 0: no limit
    uint64_t max_shape_log_bytes = 0;         // 0: no limit
    uint32_t shutdown_timeout_ms = 10000;     // SIGTERM: the bound on the drain
};

// Takes the operational settings out of args (into settings; the other arguments go to rest, in
// order) and reads their environment variables. Returns the error line, or "" when all is well.
std::string take_ops_settings(const std::vector<std::string> &args,
                              const std::function<const char *(const char *)> &env, OpsSettings &settings,
                              std::vector<std::string> &rest);

// Their part of --help.
std::string ops_settings_help();

// "1500", "1500ms", "30s", "10m", "2h", "7d" as milliseconds; -1 when malformed or above a year.
int64_t parse_duration_ms(const std::string &text);
// "1048576", "512kB", "64MB", "1GB" (powers of 1000) or "KiB"/"MiB"/"GiB"; -1 when malformed or
// above 1 TiB.
int64_t parse_size_bytes(const std::string &text);

}  // namespace es::sync
