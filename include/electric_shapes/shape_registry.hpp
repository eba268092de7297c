// The shapes a stream serves, as the plugin sees them at the current decoding position.
//
// Definitions are read from the committed catalog when the stream starts (through the snapshot
// builder's snapshot just before the first decoded commit, so a shape created by a transaction
// that committed earlier is known even to transactions that began before it); after that the
// plugin follows inserts, updates and deletes of the catalog as it decodes them, applied at their
// transaction's commit. Only shapes selected by the `shapes` option are kept.
#pragma once

#include <map>

#include "electric_shapes/pure/plugin_options.hpp"
#include "electric_shapes/pure/positioned_list.hpp"
#include "electric_shapes/postgres.hpp"
#include "electric_shapes/shape.hpp"
#include "electric_shapes/shape_index.hpp"

extern "C" {
#include "access/htup.h"
#include "nodes/execnodes.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"
}

namespace es {

struct RelationInfo;

// What preparing a shape for a change found.
enum class Readiness {
    Ready,        // compiled and usable
    Broken,       // cannot be honoured; already announced
    NewlyBroken,  // found unable to be honoured here (not marked in the catalog): must refetch
    Failed,       // met an error of its own (shape->failure), not announced yet
};

class ShapeRegistry {
public:
    ShapeRegistry(const PluginOptions &options, MemoryContext parent);
    ~ShapeRegistry();

    // Loads the definitions visible to snapshot.
    void load(Oid catalog, Snapshot snapshot);

    // Reads one catalog tuple into a definition (PostgreSQL allocations in the current context).
    // A filter kept apart is read from the parts catalog through snapshot (NULL: the catalog
    // snapshot of the moment, the historic one while decoding a change).
    static ShapeDefinition read_row(HeapTuple tuple, TupleDesc desc, Snapshot snapshot);

    // Adds a selected shape, replacing one of the same name; nullptr when not selected.
    Shape *add(ShapeDefinition definition);

    // Removes a shape; false when it was not there.
    bool remove(const std::string &name);

    // The shape of that name; null when none.
    const Shape *find(const std::string &name) const;

    // True when the relation has shapes.
    bool has_shapes(Oid relid) const;

    // The shapes of a relation, sorted by name; null when none.
    const std::vector<Shape *> *shapes_of(Oid relid);

    // The shapes of a relation (descriptor desc) that may match a change with these rows,
    // sorted by name.
    const std::vector<Shape *> &candidates(Oid relid, TupleDesc desc, HeapTuple old_row, HeapTuple new_row);

    // Makes sure shape is compiled against the relation's current definition.
    Readiness prepare(Shape *shape, const RelationInfo *info, uint64 generation);

    size_t size() const { return shapes_.size(); }

    // The names of the shapes, sorted.
    std::vector<std::string> names() const;

private:
    Shape *named(std::string_view name) const;
    void load_all(Relation rel, Snapshot snapshot);
    void load_by_name(Relation rel, Oid name_index, Snapshot snapshot);
    void compile(Shape *shape, const RelationInfo *info);
    static void resolve_projection(Shape *shape, const RelationInfo *info);
    uint32 projection_id(const std::vector<AttrNumber> &projection);

    const PluginOptions &options_;
    MemoryContext parent_;
    // The shapes, in no order; each knows its position. By name only once something asks: a
    // stream that never sees its shapes' catalog rows change never builds the map.
    std::vector<std::unique_ptr<Shape>> shapes_;
    mutable std::unordered_map<std::string_view, Shape *> by_name_;
    mutable bool names_indexed_ = false;
    struct RelationShapes {
        explicit RelationShapes(MemoryContext context) : index(context) {}
        PositionedList<Shape, &Shape::relation_position, ByName> all;
        ShapeIndex index;
    };
    std::unordered_map<Oid, std::unique_ptr<RelationShapes>> by_relation_;
    std::map<std::vector<AttrNumber>, uint32> projection_ids_;
    bool loading_ = false;  // in load(): shapes are selected and unique already
};

}  // namespace es
