// Finding the shapes catalog table (see shape_catalog.hpp).
#include "electric_shapes/shape_catalog.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "utils/lsyscache.h"
}

namespace es::catalog {

Oid table_oid()
{
    Oid schema = get_namespace_oid(kSchema, true);
    if (!OidIsValid(schema))
        return InvalidOid;
    return get_relname_relid(kTable, schema);
}

}  // namespace es::catalog
