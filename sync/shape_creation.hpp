// Making a shape: the blocking SQL that runs on a worker thread, off the event loop, with a
// connection of its own: resolve the table, electric_shapes.create_shape (so PostgreSQL parses
// and checks the where clause and columns), read the column types for electric-schema, and write
// shape_snapshot's rows to the shape's snapshot file. Everything it produces is on disk, fsynced,
// before it reports success; on failure after create_shape it drops the shape again.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sync/pg_connection.hpp"
#include "sync/pure/stream_message.hpp"

namespace es::sync {

// What a client asked for, with params[n] already bound into where.
struct ShapeDefinition {
    std::string table;
    std::optional<std::string> where;
    std::optional<std::vector<std::string>> columns;
    std::string replica = "default";
    // "changes_only" (Electric's log mode, part of the shape's identity): no initial rows, the
    // log from the shape's creation on; else "full".
    std::string log = "full";

    // Equal for requests that must share a shape.
    std::string key() const;
    std::string to_json() const;
};

struct CreationResult {
    bool ok = false;
    std::string error_field;  // table, where or columns: the input PostgreSQL refused
    std::string error;        // PostgreSQL's message, or the service's
    bool server_error = false;  // the database or the disk failed, not the request
    SnapshotBounds bounds;
    std::string schema_json;  // the electric-schema header
    uint64_t rows = 0;
    // Where the snapshot file's chunks start, and its length last (snapshot_chunk_bounds's
    // form), found while writing it; empty for a changes_only shape.
    std::vector<uint64_t> snapshot_chunks;
};

// The table a client named, as one spelling: "items", "public.items" and "\"items\"" are one
// table and so one shape. Resolved with the service's search_path.
struct TableResolution {
    bool ok = false;
    bool server_error = false;  // the database failed, not the request
    std::string table;          // schema.table, each quoted where needed
    std::string error;
};
TableResolution resolve_table(ConnectionPool &connections, const std::string &table);

// Called on the creating thread each time a snapshot chunk is complete in the file (its bytes
// written, not yet fsynced): the electric-schema header, and where the chunks cut so far start
// (chunk k, from starts[k] to starts[k + 1], is complete for every k + 1 < starts.size()).
using SnapshotProgress = std::function<void(const std::string &schema_json, const std::vector<uint64_t> &starts)>;

// Creates shape name for definition and fills dir (which it creates), its snapshot cut into
// chunks of chunk_bytes, telling progress of each chunk done. Never throws.
CreationResult create_shape_with_snapshot(ConnectionPool &connections, const std::string &name,
                                          const ShapeDefinition &definition, const std::string &dir,
                                          const std::string &handle, uint64_t chunk_bytes,
                                          const SnapshotProgress &progress);

// Drops shape name if it exists (if_exists). Never throws; logs.
void drop_owned_shape(ConnectionPool &connections, const std::string &name);

}  // namespace es::sync
