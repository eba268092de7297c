// The equality term of a shape's filter that the shape index looks the shape up by: column =
// constant, constant = column, column IN (constants), alone or ANDed with anything else.
//
// The term is read from the stored, analyzed filter (its nodeToString form), whose constants are
// the binary values the parser made of the user's text, under the creator's settings, once. The
// index hashes those values as they are: a constant turned back into text would be printed under
// one session's DateStyle, IntervalStyle or extra_float_digits and read under another's, and be
// a different value, or no value at all.
#pragma once

#include "electric_shapes/postgres.hpp"

extern "C" {
#include "access/attnum.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
}

namespace es {

struct IndexTerm {
    AttrNumber column = InvalidAttrNumber;
    Oid column_type = InvalidOid;  // the column's type as the filter was analyzed for
    Oid equality = InvalidOid;     // hashable equality operator, column on its left
    Oid collation = InvalidOid;    // the comparison's collation
    List *values = NIL;            // the non-null constants (Const *), of concrete types
};

// Finds the first indexable term of an analyzed filter; false when it has none.
bool find_index_term(Node *filter, IndexTerm *term);

// The term's constants as text, printed under fixed settings (those of the stream's text
// values), for people reading the catalog: the same text whoever created the shape.
ArrayType *index_values_text(const IndexTerm &term);

}  // namespace es
