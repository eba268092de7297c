// The sync service's settings: Electric's environment variable names, each also a --flag, so a
// deployment written for Electric configures this service unchanged. Parsing is pure (the
// environment comes in as a lookup function) so every bad value is unit-tested; a bad or missing
// setting is one line of error and exit status 2, before anything starts.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sync/pure/ops_settings.hpp"

namespace es::sync {

enum class LogLevel { Debug, Info, Warning, Error };

struct Config {
    std::string database_url;
    uint16_t port = 3000;
    std::string listen_address;  // empty: every address
    std::string storage_dir = "./persistent";
    std::string stream_id = "default";
    std::string secret;  // empty: none (then insecure is true)
    bool insecure = false;
    std::string jwt_secret;  // empty: no user requests (Authorization: Bearer) are accepted
    uint32_t long_poll_timeout_ms = 20000;
    // Electric's defaults: an SSE response ends after 60 s (caches collapse requests, clients
    // reconnect), with a comment after 21 s of silence; a response holds one log chunk of at
    // most 10 MiB (Electric's LogChunker threshold).
    uint32_t sse_timeout_ms = 60000;
    uint32_t sse_keepalive_interval_ms = 21000;
    uint64_t chunk_bytes_threshold = 10 * 1024 * 1024;
    LogLevel log_level = LogLevel::Info;
    OpsSettings ops;  // retention, limits, shutdown (ops_settings.hpp)

    // The replication slot the service streams, and the prefix of the electric_shapes shapes it
    // owns: both derived from the stream id, so two services on one database never share either.
    std::string slot_name() const;
    std::string shape_prefix() const;
};

// What parsing the command line and the environment gave: settings, a request for help, or
// the one-line error to print before exiting with status 2.
struct ConfigOutcome {
    std::optional<Config> config;
    bool help = false;
    std::string error;
};

using EnvLookup = std::function<const char *(const char *)>;

// Settings from args (argv without the program name) over the environment: a flag wins over
// its variable. Flags are --name=value or --name value; --insecure and --help take no value.
ConfigOutcome parse_config(const std::vector<std::string> &args, const EnvLookup &env);

// The text --help prints: every setting, its variable, flag and default.
std::string config_help();

}  // namespace es::sync
