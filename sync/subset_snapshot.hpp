// Subset snapshots (Electric's subset__* requests, TanStack DB's on-demand loads): some of a
// shape's rows, read on a worker thread in one REPEATABLE READ transaction that is always rolled
// back. In it, electric_shapes.create_shape makes a shape of the shape's where AND the subset's
// where (so the subset's where gets exactly the checks a shape's where gets, by PostgreSQL and the
// plugin, before any SQL of the service's own uses it). With a limit, the rows are picked on the
// table first (ordered, offset and limited by PostgreSQL, see pick_rows) and the shape narrowed to
// their keys. shape_snapshot reads its rows as the stream's messages with the snapshot they were
// read in, and the rows are ordered (by the table's row type rebuilt from each message, so values
// order by their types), offset and limited in SQL. The rollback leaves nothing behind, not even
// the shape.
//
// The snapshot's xmin/xmax/xip_list and database_lsn (the WAL insert position past every commit
// the snapshot sees) go to the client, which skips a later change of a row the subset holds when
// its transaction is visible in that snapshot, and stops checking once the stream passes
// database_lsn.
//
// Cost: a where the table's replica identity does not cover makes create_shape set REPLICA
// IDENTITY FULL inside the transaction (rolled back with it; it locks the table meanwhile, and
// needs the table's owner), unless the table already has it, as every table of a filtered shape
// does.
#pragma once

#include <cstdint>
#include <string>

#include "sync/pure/subset_request.hpp"
#include "sync/shape_creation.hpp"

namespace es::sync {

struct SubsetResult {
    bool ok = false;
    bool server_error = false;  // the database failed, not the request
    std::string error_field;    // where or order_by
    std::string error;
    std::string body;  // {"metadata":{...},"data":[...]}
    uint64_t rows = 0;
};

// Never throws. name: a shape name of the service's own, used only inside the transaction.
SubsetResult query_subset(ConnectionPool &connections, const std::string &name,
                          const ShapeDefinition &definition, const SubsetRequest &subset, uint32_t snapshot_mark);

}  // namespace es::sync
