// Shape creation on a worker thread (see shape_creation.hpp).
#include "sync/shape_creation.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "sync/log.hpp"
#include "sync/pg_connection.hpp"
#include "sync/pure/log_chunks.hpp"
#include "sync/pure/row_json.hpp"
#include "sync/shape_log.hpp"

namespace es::sync {

namespace {

constexpr int kCreateAttempts = 5;  // create_shape cancelled by a deadlock or serialization failure

// The column types of the shape's relation as Electric's electric-schema header gives them:
// {col: {type, dims?, not_null?, pk_index?}}, for arrays the element type and dims.
const char *kSchemaQuery =
    "SELECT a.attname, "
    "       CASE WHEN t.typcategory = 'A' THEN et.typname ELSE t.typname END, "
    "       CASE WHEN t.typcategory = 'A' THEN GREATEST(a.attndims, 1) ELSE 0 END, "
    "       a.attnotnull, "
    "       (SELECT k.n - 1 FROM pg_catalog.pg_index i, "
    "               LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(att, n) "
    "         WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.att = a.attnum) "
    "  FROM pg_catalog.pg_attribute a "
    "  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
    "  LEFT JOIN pg_catalog.pg_type et ON et.oid = t.typelem "
    " WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped "
    "   AND ($2::pg_catalog.text[] IS NULL OR a.attname = ANY ($2::pg_catalog.text[])) "
    " ORDER BY a.attnum";

std::string schema_json(PgConnection &conn, const std::string &oid, const std::string &name)
{
    auto columns = conn.exec("SELECT columns::pg_catalog.text FROM electric_shapes.shapes WHERE name = $1", {name});
    std::optional<std::string> selected;
    if (PQntuples(columns.get()) == 1 && !PQgetisnull(columns.get(), 0, 0))
        selected = PQgetvalue(columns.get(), 0, 0);
    auto result = conn.exec(kSchemaQuery, {oid, selected});
    nlohmann::json schema = nlohmann::json::object();
    for (int i = 0; i < PQntuples(result.get()); i++) {
        nlohmann::json column = {{"type", PQgetvalue(result.get(), i, 1)}};
        int dims = std::atoi(PQgetvalue(result.get(), i, 2));
        if (dims > 0)
            column["dims"] = dims;
        if (std::string(PQgetvalue(result.get(), i, 3)) == "t")
            column["not_null"] = true;
        if (!PQgetisnull(result.get(), i, 4))
            column["pk_index"] = std::atoi(PQgetvalue(result.get(), i, 4));
        schema[PQgetvalue(result.get(), i, 0)] = column;
    }
    return schema.dump();
}

// A changes_only shape: no rows (an empty snapshot file), and the snapshot current once the
// shape exists as the bounds, so that exactly the transactions the plugin streams for the shape
// and this snapshot does not see are its log (as for a full shape; Electric also takes the
// snapshot and skips only the rows).
SnapshotBounds write_empty_snapshot(PgConnection &conn, const std::string &dir)
{
    std::string path = dir + "/snapshot.jsonl";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::fsync(fd) != 0) {
        int saved = errno;
        if (fd >= 0)
            ::close(fd);
        throw StorageError("could not create \"" + path + "\": " + std::strerror(saved));
    }
    ::close(fd);
    auto result = conn.exec(
        "SELECT pg_catalog.pg_snapshot_xmin(s)::pg_catalog.text, pg_catalog.pg_snapshot_xmax(s)::pg_catalog.text, "
        "       ARRAY(SELECT pg_catalog.pg_snapshot_xip(s))::pg_catalog.text[]::pg_catalog.text "
        "  FROM pg_catalog.pg_current_snapshot() AS s",
        {});
    SnapshotBounds bounds;
    bounds.xmin = std::stoull(PQgetvalue(result.get(), 0, 0));
    bounds.xmax = std::stoull(PQgetvalue(result.get(), 0, 1));
    std::string xip = PQgetvalue(result.get(), 0, 2);  // {1,2,3}
    for (size_t i = 1; i + 1 < xip.size();) {
        size_t comma = xip.find(',', i);
        if (comma == std::string::npos)
            comma = xip.size() - 1;
        bounds.xip.insert(std::stoull(xip.substr(i, comma - i)));
        i = comma + 1;
    }
    return bounds;
}

// Streams shape_snapshot's rows into dir/snapshot.jsonl (row by row: a large shape never sits
// in memory), fsyncs it, and returns the snapshot-end bounds.
SnapshotBounds write_snapshot(PgConnection &conn, const std::string &name, const std::string &dir, uint64_t chunk_bytes,
                              uint64_t &rows, std::vector<uint64_t> &snapshot_chunks,
                              const std::function<void(const std::vector<uint64_t> &)> &chunk_done)
{
    std::string path = dir + "/snapshot.jsonl";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        throw StorageError("could not create \"" + path + "\": " + std::strerror(errno));
    std::string buffer;
    uint64_t written = 0;  // bytes of the file before buffer
    // Where the snapshot's chunks start, cut as snapshot_chunk_bounds cuts the file, so that
    // the first response need not read the file through once more to find them.
    ChunkCutter chunks(chunk_bytes);
    snapshot_chunks.assign(1, 0);
    auto flush = [&]() {
        size_t done = 0;
        while (done < buffer.size()) {
            ssize_t n = ::write(fd, buffer.data() + done, buffer.size() - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                throw StorageError("could not write \"" + path + "\": " + std::strerror(errno));
            done += static_cast<size_t>(n);
        }
        written += buffer.size();
        buffer.clear();
    };
    PGconn *pg = conn.get();
    std::optional<SnapshotBounds> bounds;
    try {
        const char *values[] = {name.c_str()};
        // The function in the select list, not in FROM: a set-returning function in FROM runs to
        // its end into a tuplestore (spilled to a temporary file past work_mem) before the first
        // row is sent; in the select list its rows stream as it renders them, batch by batch,
        // and the service writes (and serves) the first chunks while PostgreSQL reads the rest.
        if (!PQsendQueryParams(pg, "SELECT electric_shapes.shape_snapshot($1)", 1, nullptr, values,
                               nullptr, nullptr, 0) ||
            !PQsetSingleRowMode(pg))
            throw PgError(PQerrorMessage(pg));
        std::optional<PgError> error;
        while (PGresult *raw = PQgetResult(pg)) {
            PgResult result(raw);
            ExecStatusType status = PQresultStatus(raw);
            if (status == PGRES_SINGLE_TUPLE) {
                std::string_view line(PQgetvalue(raw, 0, 0), static_cast<size_t>(PQgetlength(raw, 0, 0)));
                // Nearly every line is a row the fast path copies as it is; the rest (the
                // snapshot-end message, values in forms it leaves alone) take the full parse,
                // which gives the same bytes (see pure/row_json.hpp).
                size_t before = buffer.size();
                // A row's line is in the buffer from before on.
                auto row_added = [&]() {
                    buffer += '\n';
                    rows++;
                    if (chunks.starts_chunk(buffer.size() - before)) {
                        // The chunk before this row is complete: in the file, and told, so
                        // that its first client gets it while the rest is read.
                        snapshot_chunks.push_back(written + before);
                        flush();
                        chunk_done(snapshot_chunks);
                    } else if (buffer.size() > (1 << 20)) {
                        flush();
                    }
                };
                if (append_row_client_json(buffer, line)) {
                    row_added();
                    continue;
                }
                // The fast path declined the line: parse_stream_message would only try it again.
                auto message = parse_stream_message_full(line);
                if (!message)
                    error = PgError("shape_snapshot returned a message the service cannot read");
                else if (message->kind == MessageKind::Row) {
                    buffer += message->client_json;
                    row_added();
                } else if (message->kind == MessageKind::SnapshotEnd) {
                    bounds = SnapshotBounds{message->xmin, message->xmax, {message->xip.begin(), message->xip.end()}};
                }
            } else if (status != PGRES_TUPLES_OK && !error) {
                error = error_of(raw, pg);
            }
        }
        if (error)
            throw *error;
        if (!bounds)
            throw PgError("shape_snapshot returned no snapshot-end message");
        flush();
        snapshot_chunks.push_back(written);
        if (::fsync(fd) != 0)
            throw StorageError("could not fsync \"" + path + "\": " + std::strerror(errno));
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    return *bounds;
}

}  // namespace

std::string ShapeDefinition::key() const
{
    nlohmann::json k = {table, where ? nlohmann::json(*where) : nlohmann::json(),
                        columns ? nlohmann::json(*columns) : nlohmann::json(), replica};
    if (log != "full")  // full shapes keep the key they had before log modes existed
        k.push_back(log);
    return k.dump();
}

std::string ShapeDefinition::to_json() const
{
    nlohmann::json j = {{"table", table}, {"replica", replica}};
    j["where"] = where ? nlohmann::json(*where) : nlohmann::json();
    j["columns"] = columns ? nlohmann::json(*columns) : nlohmann::json();
    j["log"] = log;
    return j.dump();
}

TableResolution resolve_table(ConnectionPool &connections, const std::string &table)
{
    TableResolution result;
    try {
        auto conn = connections.take();
        try {
            auto resolved = conn->exec(
                "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c "
                "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                " WHERE c.oid = pg_catalog.to_regclass($1)",
                {table});
            if (PQntuples(resolved.get()) == 0) {
                result.error = "relation \"" + table + "\" does not exist";
                return result;
            }
            result.table = PQgetvalue(resolved.get(), 0, 0);
            result.ok = true;
        } catch (const PgError &e) {
            if (e.sqlstate.rfind("08", 0) == 0)
                throw;
            result.error = e.what();  // not a relation name
        }
    } catch (const std::exception &e) {
        result.server_error = true;
        result.error = e.what();
    }
    return result;
}

CreationResult create_shape_with_snapshot(ConnectionPool &connections, const std::string &name,
                                          const ShapeDefinition &definition, const std::string &dir,
                                          const std::string &handle, uint64_t chunk_bytes,
                                          const SnapshotProgress &progress)
{
    CreationResult result;
    bool created = false;
    std::optional<ConnectionPool::Lease> conn;
    try {
        conn.emplace(connections.take());
        std::string oid;
        try {
            auto resolved = (*conn)->exec(
                "SELECT c.oid::pg_catalog.text FROM pg_catalog.pg_class c "
                " WHERE c.oid = pg_catalog.to_regclass($1)",
                {definition.table});
            if (PQntuples(resolved.get()) == 0) {
                result.error_field = "table";
                result.error = "relation \"" + definition.table + "\" does not exist";
                return result;
            }
            oid = PQgetvalue(resolved.get(), 0, 0);
        } catch (const PgError &e) {
            if (e.sqlstate.rfind("08", 0) == 0)
                throw;
            result.error_field = "table";
            result.error = e.what();
            return result;
        }
        // Two first requests for shapes of one table run create_shape at once: each may need
        // to set the table's replica identity, an ALTER TABLE whose lock upgrade deadlocks
        // against the other's. PostgreSQL cancels one of them (class 40, transaction rollback);
        // by then the other has set the identity, so running it again succeeds. Neither the
        // client nor its where clause is at fault: it is retried, and after the last attempt it
        // is a server error (503, retry later), not a refused shape.
        try {
            for (int attempt = 1;; attempt++) {
                try {
                    (*conn)->exec("SELECT electric_shapes.create_shape($1, $2::pg_catalog.oid::pg_catalog.regclass, "
                                  "$3, $4::pg_catalog.text[], $5)",
                                  {name, oid, definition.where,
                                   definition.columns
                                       ? std::optional<std::string>(text_array_literal(*definition.columns))
                                       : std::nullopt,
                                   definition.replica});
                    created = true;
                    break;
                } catch (const PgError &e) {
                    if (e.sqlstate.rfind("40", 0) != 0 || attempt == kCreateAttempts)
                        throw;
                    std::this_thread::sleep_for(std::chrono::milliseconds(10 * attempt));
                }
            }
        } catch (const PgError &e) {
            if (e.sqlstate.rfind("08", 0) == 0 || e.sqlstate.rfind("53", 0) == 0 || e.sqlstate.rfind("57", 0) == 0 ||
                e.sqlstate.rfind("40", 0) == 0)
                throw;
            result.error_field = definition.where ? "where" : definition.columns ? "columns" : "table";
            result.error = e.what();
            return result;
        }
        result.schema_json = schema_json(**conn, oid, name);
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
            throw StorageError("could not create directory \"" + dir + "\": " + std::strerror(errno));
        result.bounds = definition.log == "changes_only" ? write_empty_snapshot(**conn, dir)
                                                          : write_snapshot(**conn, name, dir, chunk_bytes, result.rows,
                                                                           result.snapshot_chunks,
                                                                           [&](const std::vector<uint64_t> &starts) {
                                                                               progress(result.schema_json, starts);
                                                                           });
        nlohmann::json meta = {{"handle", handle},
                               {"name", name},
                               {"definition", nlohmann::json::parse(definition.to_json())},
                               {"schema", result.schema_json},
                               {"xmin", result.bounds.xmin},
                               {"xmax", result.bounds.xmax},
                               {"xip", std::vector<uint64_t>(result.bounds.xip.begin(), result.bounds.xip.end())}};
        write_file_atomically(dir + "/shape.json", meta.dump());
        result.ok = true;
        return result;
    } catch (const std::exception &e) {
        result.server_error = true;
        result.error = e.what();
    }
    conn.reset();  // back to the pool if it is idle, else closed
    if (created)
        drop_owned_shape(connections, name);
    return result;
}

void drop_owned_shape(ConnectionPool &connections, const std::string &name)
{
    try {
        auto conn = connections.take();
        conn->exec("SELECT electric_shapes.drop_shape($1, true)", {name});
    } catch (const std::exception &e) {
        log::warning("could not drop shape", "\"shape\":" + log::quote(name) + ",\"error\":" + log::quote(e.what()));
    }
}

}  // namespace es::sync
