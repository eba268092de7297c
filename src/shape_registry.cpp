// The shapes of a stream and their compiled filters (see shape_registry.hpp).
#include "electric_shapes/relation_info.hpp"
#include "electric_shapes/shape_catalog.hpp"
#include "electric_shapes/shape_registry.hpp"
#include "electric_shapes/filter_check.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/rel.h"
}

namespace es {

ShapeRegistry::ShapeRegistry(const PluginOptions &options, MemoryContext parent)
    : options_(options), parent_(parent)
{
}

ShapeRegistry::~ShapeRegistry()
{
    // Shape contexts are children of parent_ and go with it.
}

ShapeDefinition ShapeRegistry::read_row(HeapTuple tuple, TupleDesc desc)
{
    Datum values[catalog::ColumnCount];
    bool nulls[catalog::ColumnCount];
    heap_deform_tuple(tuple, desc, values, nulls);

    // PostgreSQL calls first, into plain pointers; C++ objects are made afterwards (boundary rule 2).
    char *name = TextDatumGetCString(values[catalog::Name - 1]);
    Oid relid = DatumGetObjectId(values[catalog::Relation - 1]);
    bool has_filter = !nulls[catalog::FilterNode - 1];
    char *filter = has_filter ? TextDatumGetCString(values[catalog::FilterNode - 1]) : nullptr;
    bool all_columns = nulls[catalog::Columns - 1];
    Datum *column_datums = nullptr;
    int column_count = 0;
    if (!all_columns)
        deconstruct_array(DatumGetArrayTypeP(values[catalog::Columns - 1]), TEXTOID, -1, false,
                          TYPALIGN_INT, &column_datums, nullptr, &column_count);
    char **columns = static_cast<char **>(palloc0(sizeof(char *) * (column_count + 1)));
    for (int i = 0; i < column_count; i++)
        columns[i] = TextDatumGetCString(column_datums[i]);
    char *replica = TextDatumGetCString(values[catalog::Replica - 1]);

    ShapeDefinition definition;
    definition.name = name;
    definition.relid = relid;
    definition.has_filter = has_filter;
    if (has_filter)
        definition.filter_node = filter;
    definition.all_columns = all_columns;
    for (int i = 0; i < column_count; i++)
        definition.columns.emplace_back(columns[i]);
    definition.replica_full = strcmp(replica, "full") == 0;
    return definition;
}

void ShapeRegistry::load(Oid catalog, Snapshot snapshot, const TransactionId *exclude_xids,
                         int exclude_count)
{
    Relation rel = table_open(catalog, AccessShareLock);
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, nullptr);
    HeapTuple tuple;
    while ((tuple = systable_getnext(scan)) != nullptr) {
        TransactionId xmin = HeapTupleHeaderGetXmin(tuple->t_data);
        bool excluded = false;
        for (int i = 0; i < exclude_count; i++)
            excluded = excluded || TransactionIdEquals(xmin, exclude_xids[i]);
        if (!excluded)
            add(read_row(tuple, RelationGetDescr(rel)));
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

bool ShapeRegistry::add(ShapeDefinition definition)
{
    if (!options_.selects(definition.name))
        return false;
    remove(definition.name);
    auto shape = std::make_unique<Shape>();
    shape->definition = std::move(definition);
    Shape *raw = shape.get();
    auto &list = by_relation_[raw->definition.relid];
    auto position = std::lower_bound(list.begin(), list.end(), raw, [](Shape *a, Shape *b) {
        return a->definition.name < b->definition.name;
    });
    list.insert(position, raw);
    by_name_.emplace(raw->definition.name, std::move(shape));
    return true;
}

bool ShapeRegistry::remove(const std::string &name)
{
    auto found = by_name_.find(name);
    if (found == by_name_.end())
        return false;
    Shape *shape = found->second.get();
    auto relation = by_relation_.find(shape->definition.relid);
    if (relation != by_relation_.end()) {
        auto &list = relation->second;
        list.erase(std::remove(list.begin(), list.end(), shape), list.end());
        if (list.empty())
            by_relation_.erase(relation);
    }
    if (shape->context)
        MemoryContextDelete(shape->context);
    by_name_.erase(found);
    return true;
}

const std::vector<Shape *> *ShapeRegistry::shapes_of(Oid relid) const
{
    auto found = by_relation_.find(relid);
    return found == by_relation_.end() ? nullptr : &found->second;
}

bool ShapeRegistry::prepare(Shape *shape, const RelationInfo *info, uint64 generation)
{
    if (shape->compiled_generation != generation) {
        compile(shape, info);
        shape->compiled_generation = generation;
    }
    return !shape->broken;
}

// Compiles the filter and resolves the projection against the relation's current columns.
void ShapeRegistry::compile(Shape *shape, const RelationInfo *info)
{
    if (shape->context)
        MemoryContextReset(shape->context);
    else
        shape->context = AllocSetContextCreate(parent_, "electric_shapes shape", ALLOCSET_SMALL_SIZES);
    shape->filter = nullptr;
    shape->filter_columns = nullptr;
    shape->broken = !resolve_projection(shape, info);
    shape->projection_id = projection_id(shape->projection);

    if (shape->definition.has_filter) {
        MemoryContext old = MemoryContextSwitchTo(shape->context);
        Node *node = static_cast<Node *>(stringToNode(shape->definition.filter_node.c_str()));
        shape->filter_columns = filter_columns(node);
        shape->filter = ExecInitExpr(expression_planner(reinterpret_cast<Expr *>(node)), nullptr);
        MemoryContextSwitchTo(old);
    }
}

// The projection: the named columns (or all), plus the key, in table order. False when a named
// column no longer exists. Calls nothing that can raise a PostgreSQL error.
bool ShapeRegistry::resolve_projection(Shape *shape, const RelationInfo *info)
{
    TupleDesc desc = info->desc;
    std::vector<bool> wanted(desc->natts, shape->definition.all_columns);
    for (AttrNumber key : info->key_columns)
        wanted[key - 1] = true;
    bool complete = true;
    for (const std::string &column : shape->definition.columns) {
        bool found = false;
        for (int i = 0; i < desc->natts && !found; i++) {
            Form_pg_attribute attr = TupleDescAttr(desc, i);
            if (!attr->attisdropped && column == NameStr(attr->attname)) {
                wanted[i] = true;
                found = true;
            }
        }
        complete = complete && found;
    }
    shape->projection.clear();
    for (int i = 0; i < desc->natts; i++) {
        if (wanted[i] && !TupleDescAttr(desc, i)->attisdropped)
            shape->projection.push_back(static_cast<AttrNumber>(i + 1));
    }
    return complete;
}

uint32 ShapeRegistry::projection_id(const std::vector<AttrNumber> &projection)
{
    auto found = projection_ids_.find(projection);
    if (found != projection_ids_.end())
        return found->second;
    uint32 id = static_cast<uint32>(projection_ids_.size());
    projection_ids_.emplace(projection, id);
    return id;
}

}  // namespace es
