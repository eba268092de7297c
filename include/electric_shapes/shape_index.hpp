// The shapes of one relation, indexed by the equality term of their filters (column = constant,
// column IN (...)), so that finding the shapes a change may match costs about the same with one
// such shape or a hundred thousand. Shapes without such a term are candidates for every change.
// Shapes are added and removed one at a time; nothing is rebuilt from scratch.
//
// A hash function is only ever applied to values of the type it was chosen for: the constants
// are hashed as the filter holds them (see index_term.hpp), and a row's value only while its
// column still has the type the shapes were analyzed for (ALTER COLUMN ... TYPE keeps a column's
// number, and text's hash function reading an int4 crashes the server).
#pragma once

#include <unordered_map>

#include "electric_shapes/pure/hash_multimap.hpp"
#include "electric_shapes/pure/positioned_list.hpp"
#include "electric_shapes/postgres.hpp"
#include "electric_shapes/shape.hpp"

extern "C" {
#include "access/htup.h"
#include "access/tupdesc.h"
}

namespace es {

class ShapeIndex {
public:
    // context holds the hash functions' state for the index's lifetime.
    explicit ShapeIndex(MemoryContext context) : context_(context) {}

    // Adds a shape; it is hashed into the index at the next lookup (hashing calls PostgreSQL).
    void add(Shape *shape);

    // Removes a shape, in constant time.
    void remove(Shape *shape);

    // The shapes that may match a change with these rows (either may be null) of a relation
    // with descriptor desc, sorted by name. Only the indexed columns of the rows are read.
    const std::vector<Shape *> &candidates(TupleDesc desc, HeapTuple old_row, HeapTuple new_row);

private:
    // One indexed column: the shapes by the hash of the value their term compares it with.
    struct Column {
        AttrNumber attnum;
        Oid type;           // the column's type when its shapes' filters were analyzed
        Oid hash_function;  // hashes the column's values, compatibly with the constants' hashes
        Oid collation;
        FmgrInfo hash;
        HashMultimap<Shape> shapes;
    };

    // What hashing through an equality operator needs, looked up once per operator: shapes
    // are indexed by the thousand when a stream starts.
    struct Equality {
        bool hashable = false;
        Oid left_type = InvalidOid;    // the operator's declared input types (maybe polymorphic)
        Oid right_type = InvalidOid;
        Oid column_hash = InvalidOid;  // hashes values of the left (column) type
        FmgrInfo value_hash;           // hashes values of the right (constant) type
    };

    Equality &equality_of(Oid equality_operator);
    void index_pending();
    bool index_shape(Shape *shape);
    int column_for(AttrNumber attnum, Oid type, Oid hash_function, Oid collation);
    void add_hits(Column &column, TupleDesc desc, HeapTuple row);

    MemoryContext context_;
    using List = PositionedList<Shape, &Shape::index_list_position, ByName>;
    List unindexed_;  // candidates for every change; sorted by name when one is looked up
    List pending_;    // added since the last lookup
    std::vector<std::unique_ptr<Column>> columns_;
    std::unordered_map<Oid, Equality> equalities_;
    uint64 epoch_ = 0;                // marks shapes already found in one lookup
    std::vector<Shape *> hits_;
    std::vector<Shape *> candidates_;
};

}  // namespace es
