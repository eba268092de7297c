// The shapes a stream serves, as the plugin sees them at the current decoding position.
//
// Definitions are read from the committed catalog when the stream starts (through the snapshot
// builder's snapshot as of the first decoded commit, so a shape created by a transaction that
// committed before it is known even to transactions that began earlier); after that the plugin
// follows inserts and deletes of the catalog as it decodes them, applied at their transaction's
// commit. Only shapes selected by the `shapes` option are kept.
#pragma once

#include "electric_shapes/postgres.hpp"
#include "electric_shapes/pure/plugin_options.hpp"

#include <map>

extern "C" {
#include "access/htup.h"
#include "nodes/execnodes.h"
#include "utils/snapshot.h"
}

namespace es {

struct RelationInfo;

// One catalog row, as decoded or scanned.
struct ShapeDefinition {
    std::string name;
    Oid relid = InvalidOid;
    bool has_filter = false;
    std::string filter_node;  // nodeToString of the checked expression
    bool all_columns = true;
    std::vector<std::string> columns;
    bool replica_full = false;
};

struct Shape {
    ShapeDefinition definition;
    // Compiled against the relation's current descriptor; redone when the relation changes.
    uint64 compiled_generation = UINT64_MAX;
    bool broken = false;                // cannot be compiled against the relation any more
    ExprState *filter = nullptr;        // null: every row matches
    Bitmapset *filter_columns = nullptr;
    std::vector<AttrNumber> projection;  // attribute numbers in table order, key included
    uint32 projection_id = 0;            // equal projections share an id
    MemoryContext context = nullptr;     // holds filter state
};

class ShapeRegistry {
public:
    ShapeRegistry(const PluginOptions &options, MemoryContext parent);
    ~ShapeRegistry();

    // Loads the definitions visible to snapshot, leaving out rows written by exclude_xids.
    void load(Oid catalog, Snapshot snapshot, const TransactionId *exclude_xids, int exclude_count);

    // Reads one catalog tuple into a definition (PostgreSQL allocations in the current context).
    static ShapeDefinition read_row(HeapTuple tuple, TupleDesc desc);

    // Adds a selected shape; false when not selected. Replaces a shape of the same name.
    bool add(ShapeDefinition definition);

    // Removes a shape; false when it was not there.
    bool remove(const std::string &name);

    // The shapes of a relation, sorted by name; null when none.
    const std::vector<Shape *> *shapes_of(Oid relid) const;

    // Makes sure shape is compiled against info; returns false when it is broken.
    bool prepare(Shape *shape, const RelationInfo *info, uint64 generation);

    size_t size() const { return by_name_.size(); }

private:
    void compile(Shape *shape, const RelationInfo *info);
    static bool resolve_projection(Shape *shape, const RelationInfo *info);
    uint32 projection_id(const std::vector<AttrNumber> &projection);

    const PluginOptions &options_;
    MemoryContext parent_;
    std::unordered_map<std::string, std::unique_ptr<Shape>> by_name_;
    std::unordered_map<Oid, std::vector<Shape *>> by_relation_;
    std::map<std::vector<AttrNumber>, uint32> projection_ids_;
};

}  // namespace es
