// A shape as a stream keeps it: its catalog definition, and what the stream compiled and
// indexed of it. Shared by the registry, which owns shapes, and the index, which finds them.
#pragma once

#include "electric_shapes/postgres.hpp"

extern "C" {
#include "nodes/bitmapset.h"
#include "nodes/execnodes.h"
}

namespace es {

namespace stats {
struct ShapeCounters;
}

// An error of a shape's own that a stream met. The shape is then broken for the rest of that
// stream (consumers get one must-refetch and must refetch or recreate the shape); the other
// shapes and tables go on. Only data exceptions (pg_try) are taken for such failures.
enum class Failure : uint8 {
    None,
    Compile,  // planning its filter (constant folding) failed
    Index,    // hashing the constants of its index term failed
    Render,   // a value the shape sends (or its key) could not be rendered
};

// Which of the shape index's lists holds a shape that is not (yet) in its hash table.
enum class IndexList : uint8 { None, Pending, Unindexed };

// One catalog row, as decoded or scanned.
struct ShapeDefinition {
    std::string name;
    Oid relid = InvalidOid;
    bool has_filter = false;
    std::string filter_node;  // nodeToString of the checked expression
    bool all_columns = true;
    std::vector<AttrNumber> columns;  // the projection's attribute numbers, unless all_columns
    bool replica_full = false;
    std::string signature;  // changes when the form of the shape's messages does
    bool broken = false;    // marked in the catalog as no longer honoured
    // The column of the filter's equality term, if it has one; the term itself is read from the
    // filter when the shape is indexed.
    AttrNumber index_column = InvalidAttrNumber;
};

struct Shape {
    ShapeDefinition definition;
    // Compiled against the relation's current descriptor; redone when the relation changes.
    uint64 compiled_generation = UINT64_MAX;
    bool broken = false;                // cannot be compiled against the relation any more
    Failure failure = Failure::None;    // sticky for the rest of the stream
    bool failure_announced = false;     // its must-refetch was sent
    std::string failure_message;
    ExprState *filter = nullptr;        // null: every row matches
    Bitmapset *filter_columns = nullptr;
    std::vector<AttrNumber> projection;  // attribute numbers in table order, key included
    uint32 projection_id = 0;            // equal projections share an id
    MemoryContext context = nullptr;     // holds filter state
    // Where the relation's ShapeIndex keeps it: an indexed column (index_position, the hashes it
    // is kept under), or one of its lists (index_list).
    int index_position = -1;
    std::vector<uint32> index_hashes;
    IndexList index_list = IndexList::None;
    size_t index_list_position = 0;
    uint64 seen = 0;
    size_t registry_position = 0;  // in the registry's list of shapes
    size_t relation_position = 0;  // in its relation's list
    // Its statistics in this stream, looked up at its first message.
    stats::ShapeCounters *counters = nullptr;
    bool counters_known = false;
};

// Orders shapes by name: the order of the shapes list of every message. A function object, so
// that sorting thousands of shapes at a stream's start inlines the comparison.
struct ByName {
    bool operator()(const Shape *a, const Shape *b) const { return a->definition.name < b->definition.name; }
};
inline constexpr ByName by_name{};

}  // namespace es
