// Whether a shape still fits its table after a schema change, and the signature that tells when
// its messages change form. Shared by the catalog's event triggers (check_shapes) and the plugin.
#pragma once

#include "electric_shapes/postgres.hpp"

extern "C" {
#include "access/tupdesc.h"
#include "utils/relcache.h"
}

namespace es {

// Why a shape with this projection (attribute numbers) and filter can no longer be honoured by a
// relation of descriptor desc, or nullptr when it can: a projected or filtered column dropped, or
// the type of a filtered column changed.
const char *shape_problem(TupleDesc desc, const AttrNumber *columns, int column_count, Node *filter);

// The table's qualified name and, in table order, the name and type of every column a shape
// with this projection (or every column) sends. It changes exactly when the form of the shape's
// messages does.
char *shape_signature(Relation rel, bool all_columns, const AttrNumber *columns, int column_count);

}  // namespace es
