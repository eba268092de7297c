// Finding the shapes catalog table (see shape_catalog.hpp).
#include "electric_shapes/shape_catalog.hpp"

extern "C" {
#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace es::catalog {

Oid table_oid()
{
    Oid schema = get_namespace_oid(kSchema, true);
    if (!OidIsValid(schema))
        return InvalidOid;
    return get_relname_relid(kTable, schema);
}

bool still_exists(Oid catalog)
{
    // Read pg_class as it is now, not through the historic snapshot decoding runs in: that one
    // still shows a catalog dropped since, whose file is gone.
    ::Relation pg_class = table_open(RelationRelationId, AccessShareLock);  // not Column::Relation
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_class_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(catalog));
    SysScanDesc scan = systable_beginscan(pg_class, ClassOidIndexId, true,
                                          GetNonHistoricCatalogSnapshot(RelationRelationId), 1, &key);
    bool exists = HeapTupleIsValid(systable_getnext(scan));
    systable_endscan(scan);
    table_close(pg_class, AccessShareLock);
    return exists;
}

}  // namespace es::catalog
