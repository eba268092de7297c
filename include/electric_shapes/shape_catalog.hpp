// The shapes catalog table (electric_shapes.shape_catalog): its column numbers and how to find it.
// Shared by the SQL API, which writes it, and the output plugin, which reads and follows it.
#pragma once

#include "electric_shapes/postgres.hpp"

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
    ColumnCount = 15,
};

// The catalog table's OID, or InvalidOid when the extension is not installed in this database.
Oid table_oid();

// False when the catalog table is gone now, though the historic snapshot of the change being
// decoded still shows it: the extension was dropped since, its file with it, and neither its
// rows nor its relation can be read any more.
bool still_exists(Oid catalog);

}  // namespace es::catalog
