// The shapes of a stream and their compiled filters (see shape_registry.hpp).
#include "electric_shapes/relation_info.hpp"
#include "electric_shapes/shape_catalog.hpp"
#include "electric_shapes/shape_registry.hpp"
#include "electric_shapes/filter_check.hpp"
#include "electric_shapes/shape_validity.hpp"
#include "electric_shapes/pg_boundary.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "optimizer/optimizer.h"
#include "storage/bufmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
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

namespace {

// A text datum's bytes, without copying unless it is compressed.
std::string_view text_of(Datum value)
{
    text *t = DatumGetTextPP(value);
    return std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

}  // namespace

ShapeDefinition ShapeRegistry::read_row(HeapTuple tuple, TupleDesc desc, Snapshot snapshot)
{
    // Sized by the tuple's descriptor: a catalog made by another version of the extension may
    // have fewer columns (those missing read as NULL) or more.
    Datum row_values[catalog::ColumnCount];
    bool row_nulls[catalog::ColumnCount];
    Datum *values = row_values;
    bool *nulls = row_nulls;
    if (desc->natts > catalog::ColumnCount) {
        values = static_cast<Datum *>(palloc(sizeof(Datum) * desc->natts));
        nulls = static_cast<bool *>(palloc(sizeof(bool) * desc->natts));
    }
    memset(nulls, true, sizeof(bool) * Max(desc->natts, static_cast<int>(catalog::ColumnCount)));
    heap_deform_tuple(tuple, desc, values, nulls);

    // PostgreSQL calls first, into plain views; C++ objects are made afterwards (boundary rule 2).
    std::string_view name = text_of(values[catalog::Name - 1]);
    Oid relid = DatumGetObjectId(values[catalog::Relation - 1]);
    if (nulls[catalog::FilterNode - 1] && !nulls[catalog::StoredApart - 1] &&
        catalog::is_stored_apart(values[catalog::StoredApart - 1], catalog::FilterNode)) {
        values[catalog::FilterNode - 1] = PointerGetDatum(catalog::read_apart(
            text_to_cstring(DatumGetTextPP(values[catalog::Name - 1])), catalog::FilterNode, snapshot));
        nulls[catalog::FilterNode - 1] = false;
    }
    bool has_filter = !nulls[catalog::FilterNode - 1];
    std::string_view filter = has_filter ? text_of(values[catalog::FilterNode - 1]) : std::string_view();
    bool all_columns = nulls[catalog::ColumnNumbers - 1];
    Datum *column_datums = nullptr;
    int column_count = 0;
    if (!all_columns)
        deconstruct_array(DatumGetArrayTypeP(values[catalog::ColumnNumbers - 1]), INT2OID,
                          sizeof(int16), true, TYPALIGN_SHORT, &column_datums, nullptr, &column_count);
    std::string_view replica = text_of(values[catalog::Replica - 1]);
    std::string_view signature = text_of(values[catalog::Signature - 1]);
    bool broken = !nulls[catalog::Broken - 1];
    bool indexed = !nulls[catalog::IndexColumn - 1];

    ShapeDefinition definition;
    definition.name = name;
    definition.relid = relid;
    definition.has_filter = has_filter;
    if (has_filter)
        definition.filter_node = filter;
    definition.all_columns = all_columns;
    for (int i = 0; i < column_count; i++)
        definition.columns.push_back(DatumGetInt16(column_datums[i]));
    definition.replica_full = replica == "full";
    definition.signature = signature;
    definition.broken = broken;
    if (indexed)
        definition.index_column = DatumGetInt16(values[catalog::IndexColumn - 1]);
    return definition;
}

void ShapeRegistry::load(Oid catalog, Snapshot snapshot)
{
    Relation rel = table_open(catalog, AccessShareLock);
    loading_ = true;
    if (!options_.all_shapes)
        shapes_.reserve(options_.shapes.size());
    // A stream of a few shapes among many looks them up by name; one of many reads them all.
    // (Not through an index replaced since the snapshot: see catalog::index_readable.)
    Oid name_index = RelationGetPrimaryKeyIndex(rel);
    bool by_name = !options_.all_shapes && OidIsValid(name_index) &&
                   options_.shapes.size() <= static_cast<size_t>(RelationGetNumberOfBlocks(rel));
    if (by_name) {
        Relation index = index_open(name_index, AccessShareLock);
        by_name = catalog::index_readable(index);
        index_close(index, AccessShareLock);
    }
    if (by_name)
        load_by_name(rel, name_index, snapshot);
    else
        load_all(rel, snapshot);
    table_close(rel, AccessShareLock);
    loading_ = false;
}

// Reads every row of the catalog, keeping the selected shapes.
void ShapeRegistry::load_all(Relation rel, Snapshot snapshot)
{
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, nullptr);
    HeapTuple tuple;
    while ((tuple = systable_getnext(scan)) != nullptr) {
        // Only selected shapes are read whole.
        bool isnull;
        std::string_view name = text_of(heap_getattr(tuple, catalog::Name, RelationGetDescr(rel), &isnull));
        if (options_.selects(name))
            add(read_row(tuple, RelationGetDescr(rel), snapshot));
    }
    systable_endscan(scan);
}

// Looks the selected shapes up one by one through the catalog's primary key (their names).
void ShapeRegistry::load_by_name(Relation rel, Oid name_index, Snapshot snapshot)
{
    Relation index = index_open(name_index, AccessShareLock);
    Oid collation = index->rd_indcollation[0];
    index_close(index, AccessShareLock);
    for (const std::string &name : options_.shapes) {
        ScanKeyData key;
        ScanKeyEntryInitialize(&key, 0, catalog::Name, BTEqualStrategyNumber, InvalidOid, collation,
                               F_TEXTEQ, CStringGetTextDatum(name.c_str()));
        SysScanDesc scan = systable_beginscan(rel, name_index, true, snapshot, 1, &key);
        if (HeapTuple tuple = systable_getnext(scan))
            add(read_row(tuple, RelationGetDescr(rel), snapshot));
        systable_endscan(scan);
    }
}

Shape *ShapeRegistry::add(ShapeDefinition definition)
{
    // A load has checked the selection already, and the catalog's names are unique.
    // A shape that failed in this stream stays failed when its catalog row changes.
    Failure failure = Failure::None;
    bool failure_announced = false;
    std::string failure_message;
    if (!loading_) {
        if (!options_.selects(definition.name))
            return nullptr;
        if (Shape *before = named(definition.name)) {
            failure = before->failure;
            failure_announced = before->failure_announced;
            failure_message = std::move(before->failure_message);
        }
        remove(definition.name);
    }
    auto shape = std::make_unique<Shape>();
    shape->definition = std::move(definition);
    shape->failure = failure;
    shape->failure_announced = failure_announced;
    shape->failure_message = std::move(failure_message);
    Shape *raw = shape.get();
    auto &relation = by_relation_[raw->definition.relid];
    if (!relation)
        relation = std::make_unique<RelationShapes>(parent_);
    // Kept in name order only when something asks for it (shapes_of): most streams never need
    // it (the index orders what a change may match), and 10,000 shapes take a while to sort.
    relation->all.push_back(raw);
    relation->index.add(raw);
    raw->registry_position = shapes_.size();
    shapes_.push_back(std::move(shape));
    if (names_indexed_)
        by_name_.emplace(raw->definition.name, raw);
    return raw;
}

Shape *ShapeRegistry::named(std::string_view name) const
{
    if (!names_indexed_) {
        by_name_.reserve(shapes_.size());
        for (const auto &shape : shapes_)
            by_name_.emplace(shape->definition.name, shape.get());
        names_indexed_ = true;
    }
    auto found = by_name_.find(name);
    return found == by_name_.end() ? nullptr : found->second;
}

bool ShapeRegistry::remove(const std::string &name)
{
    Shape *shape = named(name);
    if (!shape)
        return false;
    auto relation = by_relation_.find(shape->definition.relid);
    if (relation != by_relation_.end()) {
        relation->second->all.remove(shape);
        relation->second->index.remove(shape);
        if (relation->second->all.empty())
            by_relation_.erase(relation);
    }
    if (shape->context)
        MemoryContextDelete(shape->context);
    by_name_.erase(shape->definition.name);
    // The last shape takes its place in shapes_.
    size_t position = shape->registry_position;
    shapes_[position] = std::move(shapes_.back());
    shapes_[position]->registry_position = position;
    shapes_.pop_back();
    return true;
}

std::vector<std::string> ShapeRegistry::names() const
{
    std::vector<std::string> result;
    result.reserve(shapes_.size());
    for (const auto &shape : shapes_)
        result.push_back(shape->definition.name);
    std::sort(result.begin(), result.end());
    return result;
}

bool ShapeRegistry::has_shapes(Oid relid) const
{
    return by_relation_.find(relid) != by_relation_.end();
}

const std::vector<Shape *> *ShapeRegistry::shapes_of(Oid relid)
{
    auto found = by_relation_.find(relid);
    if (found == by_relation_.end())
        return nullptr;
    return &found->second->all.sorted();
}

const std::vector<Shape *> &ShapeRegistry::candidates(Oid relid, TupleDesc desc, HeapTuple old_row,
                                                      HeapTuple new_row)
{
    return by_relation_.at(relid)->index.candidates(desc, old_row, new_row);
}

Readiness ShapeRegistry::prepare(Shape *shape, const RelationInfo *info, uint64 generation)
{
    if (shape->failure != Failure::None)
        return shape->failure_announced ? Readiness::Broken : Readiness::Failed;
    if (shape->compiled_generation == generation)
        return shape->broken ? Readiness::Broken : Readiness::Ready;
    bool announced = shape->broken || shape->definition.broken;
    compile(shape, info);
    shape->compiled_generation = generation;
    if (shape->failure != Failure::None)
        return Readiness::Failed;
    if (shape->broken)
        return announced ? Readiness::Broken : Readiness::NewlyBroken;
    return Readiness::Ready;
}

const Shape *ShapeRegistry::find(const std::string &name) const
{
    return named(name);
}

namespace {

struct PlanCall {
    Node *node;
    ExprState *filter;
};

// Plans and prepares a filter for evaluation; runs inside pg_try.
void plan_filter(void *arg)
{
    auto *call = static_cast<PlanCall *>(arg);
    call->filter = ExecInitExpr(expression_planner(reinterpret_cast<Expr *>(call->node)), nullptr);
}

}  // namespace

// Compiles the filter and resolves the projection against the relation's current columns.
void ShapeRegistry::compile(Shape *shape, const RelationInfo *info)
{
    if (shape->context)
        MemoryContextReset(shape->context);
    else
        shape->context = AllocSetContextCreate(parent_, "electric_shapes shape", ALLOCSET_SMALL_SIZES);
    shape->filter = nullptr;
    shape->filter_columns = nullptr;
    shape->broken = shape->definition.broken;
    // Tests check that a change of another relation does not recompile a shape.
    elog(DEBUG1, "electric_shapes: compiling shape \"%s\"", shape->definition.name.c_str());
    if (shape->broken)
        return;

    MemoryContext old = MemoryContextSwitchTo(shape->context);
    Node *node = shape->definition.has_filter
                     ? static_cast<Node *>(stringToNode(shape->definition.filter_node.c_str()))
                     : nullptr;
    const std::vector<AttrNumber> &columns = shape->definition.columns;
    const std::vector<AttrNumber> &key = info->key_columns;
    char *message = nullptr;
    if (shape_problem(info->desc, columns.data(), static_cast<int>(columns.size()), node) ||
        key_problem(shape->definition.signature.c_str(), key.data(), static_cast<int>(key.size()))) {
        shape->broken = true;
    } else if (node) {
        shape->filter_columns = filter_columns(node);
        // Folding the filter's constants can raise a data error (create_shape refuses such
        // filters, but a catalog written by an older version may hold one): that breaks this
        // shape alone. Anything else (a cancel, out of memory) propagates.
        PlanCall call{node, nullptr};
        if (pg_try(plan_filter, &call, &message))
            shape->filter = call.filter;
    }
    MemoryContextSwitchTo(old);
    if (message) {
        shape->failure = Failure::Compile;
        shape->failure_message = message;
        return;
    }
    if (!shape->broken) {
        resolve_projection(shape, info);
        shape->projection_id = projection_id(shape->projection);
    }
}

// The projection: the listed columns (or all), plus the key, in table order. Calls nothing that
// can raise a PostgreSQL error.
void ShapeRegistry::resolve_projection(Shape *shape, const RelationInfo *info)
{
    TupleDesc desc = info->desc;
    std::vector<bool> wanted(desc->natts, shape->definition.all_columns);
    for (AttrNumber key : info->key_columns)
        wanted[key - 1] = true;
    for (AttrNumber column : shape->definition.columns)
        wanted[column - 1] = true;
    shape->projection.clear();
    for (int i = 0; i < desc->natts; i++) {
        if (wanted[i] && !TupleDescAttr(desc, i)->attisdropped)
            shape->projection.push_back(static_cast<AttrNumber>(i + 1));
    }
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
