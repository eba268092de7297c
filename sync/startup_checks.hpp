// What the service checks before it serves anything, so a misconfigured server is reported in
// words a user can act on instead of as a replication error later: wal_level, the plugin
// allowed by output_plugin_libraries, the extension in the database; then its slot, created
// when absent and refused when it belongs to another plugin.
#pragma once

#include <stdexcept>
#include <string>

#include "sync/pure/config.hpp"

namespace es::sync {

struct StartupError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws StartupError with the message to print. Returns the slot's confirmed_flush_lsn.
uint64_t check_server_and_slot(const Config &config);

// Parses PostgreSQL's text form of an LSN, "16/B374D848".
uint64_t parse_lsn(const std::string &text);

}  // namespace es::sync
