// The shapes catalog table (electric_shapes.shape_catalog): its column numbers and how to find it.
// Shared by the SQL API, which writes it, and the output plugin, which reads and follows it.
#pragma once

#include "electric_shapes/postgres.hpp"

extern "C" {
#include "utils/relcache.h"
#include "utils/snapshot.h"
}

namespace es::catalog {

constexpr const char *kSchema = "electric_shapes";
constexpr const char *kTable = "shape_catalog";

// Column numbers of shape_catalog, as created by the extension script.
enum Column : int16 {
    Name = 1,
    Relation = 2,
    WhereClause = 3,
    FilterNode = 4,
    ColumnNumbers = 5,
    Replica = 6,
    Owner = 7,
    CreatedAt = 8,
    NeedsFullIdentity = 9,
    IndexColumn = 10,
    IndexOperator = 11,
    IndexCollation = 12,
    IndexValues = 13,
    Signature = 14,
    Broken = 15,
    StoredApart = 16,
    ColumnCount = 16,
};

// The catalog of the pieces of values too large for a shape_catalog row.
constexpr const char *kPartsTable = "shape_catalog_parts";

// Column numbers of shape_catalog_parts.
enum PartsColumn : int16 {
    PartName = 1,
    PartField = 2,
    PartNumber = 3,
    PartChunk = 4,
    PartsColumnCount = 4,
};

// The most bytes of a value one row of shape_catalog_parts holds: small enough that the row stays
// below TOAST_TUPLE_TARGET_MAIN uncompressed, so PostgreSQL never moves a piece out of line.
constexpr int kPartBytes = 7000;

// The most bytes of a where_clause create_shape accepts.
constexpr int kMaxWhereClauseBytes = 1024 * 1024;

// False when index, an index of a catalog table opened while decoding, is not there to read:
// the historic snapshot shows the index's file as it was, and a VACUUM FULL, CLUSTER or REINDEX
// since has replaced it. (PostgreSQL follows a rewritten user catalog table to its new file, so
// its rows stay readable, but not the table's indexes.) Always true outside decoding.
bool index_readable(::Relation index);

// True when stored_apart, a row's stored_apart value (an int2[]), lists column.
bool is_stored_apart(Datum stored_apart, int16 column);

// The text of a value kept apart: the shape's pieces for that column, read through snapshot
// (NULL: the catalog snapshot of the moment, which while decoding is the historic one), joined.
// Allocated in the current memory context. An error when a piece is missing.
text *read_apart(const char *name, int16 column, Snapshot snapshot);

// The catalog table's OID, or InvalidOid when the extension is not installed in this database.
Oid table_oid();

// The parts table's OID, or InvalidOid when there is none: the extension is not installed, or
// its catalog is still that of version 0.1.0 (the library is newer than the installed script
// until ALTER EXTENSION electric_shapes UPDATE).
Oid parts_table_oid();

// False when the catalog table is gone now, though the historic snapshot of the change being
// decoded still shows it: the extension was dropped since, its file with it, and neither its
// rows nor its relation can be read any more.
bool still_exists(Oid catalog);

}  // namespace es::catalog
