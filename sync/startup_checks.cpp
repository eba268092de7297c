// Startup checks (see startup_checks.hpp).
#include "sync/startup_checks.hpp"

#include <cstdio>

#include "sync/log.hpp"
#include "sync/pg_connection.hpp"

namespace es::sync {

uint64_t parse_lsn(const std::string &text)
{
    unsigned int hi = 0, lo = 0;
    if (std::sscanf(text.c_str(), "%X/%X", &hi, &lo) != 2)
        return 0;
    return (static_cast<uint64_t>(hi) << 32) | lo;
}

uint64_t check_server_and_slot(const Config &config)
{
    try {
        PgConnection conn(config.database_url);
        auto settings = conn.exec(
            "SELECT pg_catalog.current_setting('wal_level'), "
            "pg_catalog.current_setting('output_plugin_libraries', true), "
            "(SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'electric_shapes'), "
            "pg_catalog.current_database()");
        std::string wal_level = PQgetvalue(settings.get(), 0, 0);
        if (wal_level != "logical")
            throw StartupError("the server's wal_level is " + wal_level +
                               ": set wal_level = logical in postgresql.conf and restart PostgreSQL");
        if (!PQgetisnull(settings.get(), 0, 1)) {
            std::string libraries = PQgetvalue(settings.get(), 0, 1);
            if (libraries.find("electric_shapes") == std::string::npos)
                throw StartupError("the server's output_plugin_libraries (\"" + libraries +
                                   "\") does not allow electric_shapes: add it, as output_plugin_libraries = '" +
                                   libraries + ", electric_shapes', and reload PostgreSQL");
        }
        if (PQgetisnull(settings.get(), 0, 2))
            throw StartupError("the extension electric_shapes is not installed in database \"" +
                               std::string(PQgetvalue(settings.get(), 0, 3)) +
                               "\": run CREATE EXTENSION electric_shapes there");

        std::string slot = config.slot_name();
        auto existing = conn.exec(
            "SELECT plugin, slot_type, confirmed_flush_lsn::text, database = pg_catalog.current_database() "
            "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
            {slot});
        if (PQntuples(existing.get()) == 0) {
            auto created = conn.exec(
                "SELECT lsn::text FROM pg_catalog.pg_create_logical_replication_slot($1, 'electric_shapes')",
                {slot});
            log::info("created replication slot", "\"slot\":" + log::quote(slot));
            return parse_lsn(PQgetvalue(created.get(), 0, 0));
        }
        std::string plugin = PQgetvalue(existing.get(), 0, 0);
        if (plugin != "electric_shapes" || std::string(PQgetvalue(existing.get(), 0, 3)) != "t")
            throw StartupError("replication slot \"" + slot + "\" exists for plugin \"" + plugin +
                               "\" or another database: drop it, or choose another ELECTRIC_REPLICATION_STREAM_ID");
        return parse_lsn(PQgetvalue(existing.get(), 0, 2));
    } catch (const PgError &e) {
        throw StartupError(e.what());
    }
}

}  // namespace es::sync
