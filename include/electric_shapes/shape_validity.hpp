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

// The table's qualified name, in table order the name and type of every column a shape with
// this projection (or every column) sends, and the attribute numbers of the primary key. It
// changes exactly when the form of the shape's messages does.
// Why a shape whose signature was made with one primary key can no longer be honoured by a
// table whose primary key is now key (attribute numbers, none when it has no primary key), or
// nullptr when the key is the same: every message's key is made of the key's values, so with
// the key dropped every row would have the same key, and with other columns the consumer's
// rows would no longer be found by their keys.
const char *key_problem(const char *signature, const AttrNumber *key, int key_count);

char *shape_signature(Relation rel, bool all_columns, const AttrNumber *columns, int column_count);

// Whether two signatures of one shape describe messages of the same form. A signature written
// before keys were recorded (version 0.1.0) that gains its key part, as the update to 0.2.0
// writes it, is the same form: nothing its consumers hold changes.
bool same_form(const char *before, const char *after);

}  // namespace es
