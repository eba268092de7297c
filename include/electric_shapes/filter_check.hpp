// Turning a shape's where_clause text into a checked boolean expression over one relation.
// The text is parsed and analyzed by PostgreSQL itself and then held to the rules of SPEC section
// 2: what a PostgreSQL 15 publication row filter allows, plus enum types and domains over
// built-in types. Nothing in the text is executed.
#pragma once

#include "electric_shapes/postgres.hpp"

extern "C" {
#include "nodes/bitmapset.h"
#include "utils/relcache.h"
}

namespace es {

// Parses, analyzes and checks where_clause against relation; raises an error naming the problem.
// Returns the analyzed expression, allocated in the current memory context.
Node *compile_where_clause(Relation relation, const char *where_clause);

// The columns an analyzed filter reads, as attribute numbers offset by
// FirstLowInvalidHeapAttributeNumber (pull_varattnos convention).
Bitmapset *filter_columns(Node *filter);

}  // namespace es
