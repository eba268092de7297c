// electric_shapes.shape_snapshot(name, values): a shape's current rows as insert messages in the
// stream's format, then a snapshot-end message describing the snapshot they were read in (SPEC
// section 4).
//
// How it reads:
//  - as the caller (SECURITY INVOKER): privileges and row-level security apply, through an SPI
//    cursor over SELECT <projection> FROM <table> WHERE <filter>, the filter deparsed from the
//    shape's stored, checked node tree;
//  - in the statement's active snapshot: the cursor is read-only, so it reads exactly that
//    snapshot, and the snapshot-end message gives that snapshot's pg_current_snapshot() values.
//    Under REPEATABLE READ (or with an imported snapshot) that is the transaction's snapshot;
//    under READ COMMITTED the statement's. Either way rows and snapshot-end agree;
//  - value per call, batch by batch: a batch of rows is fetched and rendered, then handed out one
//    row per call, so a shape is never held whole in memory (called in the select list, nothing
//    materializes it at all);
//  - with the stream's settings: the query is deparsed, planned and run, and its rows printed,
//    inside a GUC nest level that pins search_path and the settings the stream prints with
//    (pinned_gucs.hpp). The filter then sees what the stream's filter sees (a constant deparsed
//    with extra_float_digits 0 would be another number, and a cast to text prints per DateStyle),
//    and an error or a cancel at any point hands the session its own settings back, since the
//    (sub)transaction abort closes the nest level;
//  - each row rendered by the stream's own code: RowEncoder for key and values, row_message for
//    the layout, ShapeRegistry for the projection.
#include "electric_shapes/filter_check.hpp"
#include "electric_shapes/pg_boundary.hpp"
#include "electric_shapes/pinned_gucs.hpp"
#include "electric_shapes/pure/control_messages.hpp"
#include "electric_shapes/relation_info.hpp"
#include "electric_shapes/row_encoder.hpp"
#include "electric_shapes/row_message.hpp"
#include "electric_shapes/shape_catalog.hpp"
#include "electric_shapes/shape_registry.hpp"
#include "electric_shapes/text_encoding.hpp"

extern "C" {
#include "access/genam.h"
#include "access/table.h"
#include "access/xlog.h"
#include "access/sysattr.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "nodes/readfuncs.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/portal.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
}

namespace es {

namespace {

// Rows fetched from the cursor and rendered at a time.
constexpr long kBatchRows = 1000;

// Everything a running snapshot needs, owned by the function's multi-call memory context.
struct SnapshotState {
    explicit SnapshotState(ValuesMode mode) : encoder(mode) { options.values = mode; }

    PluginOptions options;  // selects the one shape; outlives registry, which refers to it
    std::unique_ptr<RelationCache> relations;
    std::unique_ptr<ShapeRegistry> registry;
    RowEncoder encoder;
    ShapeDefinition definition;
    Shape *shape = nullptr;
    const RelationInfo *info = nullptr;
    std::vector<const std::string *> shape_names;
    std::vector<uint64_t> xip;
    Buffer snapshot_end;

    char *portal_name = nullptr;  // in the multi-call context
    MemoryContext batch_context = nullptr;
    // Rows are returned as text of the database: in its encoding (text_encoding.hpp).
    utf8::DatabaseText database_text{false, 0, InvalidOid};
    bool rows_done = false;
    bool end_sent = false;

    // The current batch: rendered messages, one after the other, and where each ends.
    Buffer batch;
    std::vector<size_t> ends;
    size_t next = 0;
};

// The text of a text argument; an error naming it when null.
char *required_text(FunctionCallInfo fcinfo, int argno, const char *argument)
{
    if (PG_ARGISNULL(argno))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("%s must not be null", argument)));
    return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

ValuesMode values_mode(const char *values)
{
    if (strcmp(values, "text") == 0)
        return ValuesMode::Text;
    if (strcmp(values, "json") == 0)
        return ValuesMode::Json;
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("invalid values mode \"%s\"", values),
                    errhint("Valid values modes are \"text\" and \"json\", as for the stream's "
                            "\"values\" option.")));
    pg_unreachable();
}

// Reads the shape's catalog row as of the active snapshot into state->definition: a shape
// created after that snapshot was taken does not exist for it.
void read_definition(SnapshotState *state, const char *name)
{
    Oid catalog = catalog::table_oid();
    if (!OidIsValid(catalog))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("extension \"electric_shapes\" is not installed in this database"),
                        errhint("Run CREATE EXTENSION electric_shapes.")));
    Relation rel = table_open(catalog, AccessShareLock);
    // The name is searched in the primary key's collation: a btree is searched in the order it
    // was built in (the database's collation), which "C" (ScanKeyInit's) need not be.
    Oid name_index = RelationGetPrimaryKeyIndex(rel);
    Relation index = index_open(name_index, AccessShareLock);
    Oid collation = index->rd_indcollation[0];
    index_close(index, AccessShareLock);
    ScanKeyData key;
    ScanKeyEntryInitialize(&key, 0, catalog::Name, BTEqualStrategyNumber, InvalidOid, collation,
                           F_TEXTEQ, CStringGetTextDatum(name));
    SysScanDesc scan = systable_beginscan(rel, name_index, true, GetActiveSnapshot(), 1, &key);
    HeapTuple tuple = systable_getnext(scan);
    bool found = HeapTupleIsValid(tuple);
    if (found)
        state->definition = ShapeRegistry::read_row(tuple, RelationGetDescr(rel), GetActiveSnapshot());
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    if (!found)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("shape \"%s\" does not exist", name),
                        errhint("See the electric_shapes.shapes view for the shapes there are. A "
                                "shape created after this transaction's snapshot was taken does "
                                "not exist for it: create the shape first.")));
}

// Refuses unless the caller may read every column the snapshot reads: the projection and the
// columns the filter reads.
void check_column_privileges(SnapshotState *state, Relation rel, Bitmapset *filter_columns)
{
    Oid relid = RelationGetRelid(rel);
    if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
        return;
    Bitmapset *needed = nullptr;
    for (AttrNumber attnum : state->shape->projection)
        needed = bms_add_member(needed, attnum);
    int member = -1;
    while ((member = bms_next_member(filter_columns, member)) >= 0) {
        AttrNumber attnum = member + FirstLowInvalidHeapAttributeNumber;
        if (attnum > 0)
            needed = bms_add_member(needed, attnum);
    }
    member = -1;
    while ((member = bms_next_member(needed, member)) >= 0) {
        AttrNumber attnum = static_cast<AttrNumber>(member);
        if (pg_attribute_aclcheck(relid, attnum, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
            continue;
        const char *table = RelationGetRelationName(rel);
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied for column \"%s\" of table %s",
                               NameStr(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attname),
                               table),
                        errdetail("shape_snapshot reads the columns of shape \"%s\" and those its "
                                  "filter reads with the caller's privileges.",
                                  state->shape->definition.name.c_str()),
                        errhint("Ask the table's owner for SELECT on table %s, or on those columns.",
                                table)));
    }
}

// The query that reads the shape's rows: its projection, from its table (the table alone for an
// ordinary table, as the stream does; every partition for a partitioned one), where its filter
// holds. The filter is the stored checked expression, deparsed.
char *shape_query(SnapshotState *state, Relation rel, Node *filter)
{
    StringInfoData query;
    initStringInfo(&query);
    appendStringInfoString(&query, "SELECT ");
    TupleDesc desc = RelationGetDescr(rel);
    bool first = true;
    for (AttrNumber attnum : state->shape->projection) {
        appendStringInfoString(&query, first ? "" : ", ");
        appendStringInfoString(&query, quote_identifier(NameStr(TupleDescAttr(desc, attnum - 1)->attname)));
        first = false;
    }
    appendStringInfo(&query, " FROM %s%s",
                     rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
                     quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
                                                RelationGetRelationName(rel)));
    if (filter) {
        List *context = deparse_context_for(RelationGetRelationName(rel), RelationGetRelid(rel));
        appendStringInfo(&query, " WHERE (%s)", deparse_expression(filter, context, false, false));
    }
    return query.data;
}

// Parses pg_snapshot's text form, xmin:xmax:xip,xip,...
void parse_snapshot(SnapshotState *state, const char *text, uint64 *xmin, uint64 *xmax)
{
    char *end;
    *xmin = strtoull(text, &end, 10);
    *xmax = strtoull(end + 1, &end, 10);
    state->xip.clear();
    while (*end == ':' || *end == ',') {
        if (end[1] == '\0')
            break;
        state->xip.push_back(strtoull(end + 1, &end, 10));
    }
}

// Renders the snapshot-end message: the active snapshot as pg_current_snapshot() shows it, and
// the WAL insert position read after it, past the commit record of every transaction it sees.
void render_snapshot_end(SnapshotState *state)
{
    if (SPI_execute("SELECT pg_catalog.pg_current_snapshot()::pg_catalog.text", true, 1) != SPI_OK_SELECT ||
        SPI_processed != 1)
        elog(ERROR, "could not read the current snapshot");
    char *snapshot = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    uint64 lsn = GetXLogInsertRecPtr();
    uint64 xmin, xmax;
    parse_snapshot(state, snapshot, &xmin, &xmax);
    state->snapshot_end.clear();
    control::append_snapshot_end(state->snapshot_end, xmin, xmax, state->xip, lsn);
}

// Closes the cursor when the calling query stops before the last row (LIMIT, an error elsewhere).
void close_cursor(Datum arg)
{
    Portal portal = GetPortalByName(DatumGetCString(arg));
    if (PortalIsValid(portal))
        SPI_cursor_close(portal);
}

void close_cursor_callback(Datum arg)
{
    guarded([&] { close_cursor(arg); });
}

// First call: checks, the shape, the cursor and the snapshot-end message.
void start_snapshot(FunctionCallInfo fcinfo)
{
    char *name = required_text(fcinfo, 0, "name");
    ValuesMode mode = values_mode(required_text(fcinfo, 1, "values"));
    if (RecoveryInProgress())
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("shape_snapshot cannot run during recovery"),
                        errhint("Take the snapshot on the primary, whose slot streams the shape.")));
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    if (!rsinfo || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_ValuePerCall))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("shape_snapshot must be called where a set of rows is accepted")));

    FuncCallContext *funcctx = SRF_FIRSTCALL_INIT();
    MemoryContext old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
    auto *state = new SnapshotState(mode);
    attach_to_context(funcctx->multi_call_memory_ctx, state);
    funcctx->user_fctx = state;
    state->batch_context = AllocSetContextCreate(funcctx->multi_call_memory_ctx,
                                                 "electric_shapes snapshot batch",
                                                 ALLOCSET_DEFAULT_SIZES);

    read_definition(state, name);
    state->database_text = utf8::database_text();
    state->options.all_shapes = false;
    state->options.shapes.insert(state->definition.name);
    state->relations = std::make_unique<RelationCache>(funcctx->multi_call_memory_ctx);
    state->registry = std::make_unique<ShapeRegistry>(state->options, funcctx->multi_call_memory_ctx);
    Oid relid = state->definition.relid;
    state->registry->add(std::move(state->definition));
    state->shape = state->registry->shapes_of(relid)->front();
    state->shape_names.assign(1, &state->shape->definition.name);

    // The lock taken here is kept to the end of the transaction, as a query's would be.
    Relation rel = try_table_open(relid, AccessShareLock);
    if (!rel)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("the table of shape \"%s\" no longer exists", name)));
    RelationInfo *info = state->relations->get(rel);
    state->info = info;
    bool complete = state->registry->prepare(state->shape, info, info->generation) ==
                    Readiness::Ready;
    Node *filter = state->shape->definition.has_filter
                       ? static_cast<Node *>(stringToNode(state->shape->definition.filter_node.c_str()))
                       : nullptr;
    Bitmapset *read_by_filter = filter ? filter_columns(filter) : nullptr;
    int member = -1;
    while ((member = bms_next_member(read_by_filter, member)) >= 0) {
        AttrNumber attnum = member + FirstLowInvalidHeapAttributeNumber;
        if (attnum > info->desc->natts || (attnum > 0 && TupleDescAttr(info->desc, attnum - 1)->attisdropped))
            complete = false;
    }
    if (!complete)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("shape \"%s\" names columns its table %s no longer has", name,
                               RelationGetRelationName(rel)),
                        errhint("Drop the shape and create it again for the table as it is now.")));
    check_column_privileges(state, rel, read_by_filter);
    int nest_level = pin_stream_settings();
    pin_no_jit();  // the cursor is planned below, inside this pin
    char *query = shape_query(state, rel, filter);
    table_close(rel, NoLock);

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    SPIPlanPtr plan = SPI_prepare(query, 0, nullptr);
    if (!plan)
        elog(ERROR, "could not prepare the query of shape \"%s\": %s", name,
             SPI_result_code_string(SPI_result));
    // Read-only: the cursor reads the active snapshot itself, the one snapshot-end describes.
    Portal portal = SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
    render_snapshot_end(state);
    state->portal_name = MemoryContextStrdup(funcctx->multi_call_memory_ctx, portal->name);
    SPI_finish();
    release_pinned(nest_level);
    RegisterExprContextCallback(rsinfo->econtext, close_cursor_callback,
                                CStringGetDatum(state->portal_name));
    MemoryContextSwitchTo(old);
}

// Fetches and renders the next batch of rows; marks the rows done when the cursor is exhausted.
void fetch_batch(SnapshotState *state)
{
    state->batch.clear();
    state->ends.clear();
    state->next = 0;
    int nest_level = pin_stream_settings();
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    Portal portal = SPI_cursor_find(state->portal_name);
    if (!portal)
        elog(ERROR, "cursor of shape \"%s\" is gone", state->shape->definition.name.c_str());
    SPI_cursor_fetch(portal, true, kBatchRows);
    uint64 count = SPI_processed;
    if (count < static_cast<uint64>(kBatchRows))
        state->rows_done = true;

    MemoryContextReset(state->batch_context);
    MemoryContext old = MemoryContextSwitchTo(state->batch_context);
    const RelationInfo *info = state->info;
    TupleTableSlot *row = info->new_slot;
    const std::vector<AttrNumber> &projection = state->shape->projection;
    for (uint64 i = 0; i < count; i++) {
        HeapTuple tuple = SPI_tuptable->vals[i];
        ExecClearTuple(row);
        for (int a = 0; a < info->desc->natts; a++) {
            row->tts_values[a] = (Datum) 0;
            row->tts_isnull[a] = true;
        }
        for (size_t c = 0; c < projection.size(); c++)
            row->tts_values[projection[c] - 1] =
                SPI_getbinval(tuple, SPI_tuptable->tupdesc, static_cast<int>(c + 1),
                              &row->tts_isnull[projection[c] - 1]);
        ExecStoreVirtualTuple(row);
        state->encoder.start(info, nullptr, row);  // a stored row has every value
        open_row_message(state->batch, RowOperation::Insert, info->relation_json.view(), state->shape_names);
        close_row_message(state->batch, state->encoder, RowOperation::Insert, projection,
                          state->shape->definition.replica_full);
        state->ends.push_back(state->batch.size());
    }
    MemoryContextSwitchTo(old);
    if (state->rows_done)
        SPI_cursor_close(portal);
    SPI_finish();
    release_pinned(nest_level);
}

Datum shape_snapshot_impl(FunctionCallInfo fcinfo)
{
    if (SRF_IS_FIRSTCALL())
        start_snapshot(fcinfo);
    FuncCallContext *funcctx = SRF_PERCALL_SETUP();
    auto *state = static_cast<SnapshotState *>(funcctx->user_fctx);

    if (state->next >= state->ends.size() && !state->rows_done)
        fetch_batch(state);
    if (state->next < state->ends.size()) {
        size_t begin = state->next == 0 ? 0 : state->ends[state->next - 1];
        size_t end = state->ends[state->next++];
        text *message = utf8::database_text_datum(state->database_text, state->batch.data() + begin, end - begin);
        SRF_RETURN_NEXT(funcctx, PointerGetDatum(message));
    }
    if (!state->end_sent) {
        state->end_sent = true;
        text *message = utf8::database_text_datum(state->database_text, state->snapshot_end.data(),
                                                  state->snapshot_end.size());
        SRF_RETURN_NEXT(funcctx, PointerGetDatum(message));
    }
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    UnregisterExprContextCallback(rsinfo->econtext, close_cursor_callback,
                                  CStringGetDatum(state->portal_name));
    SRF_RETURN_DONE(funcctx);
}

}  // namespace

}  // namespace es

extern "C" {

PG_FUNCTION_INFO_V1(shape_snapshot);
// shape_snapshot(name, values): the shape's rows as insert messages, then snapshot-end.
Datum shape_snapshot(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::shape_snapshot_impl(fcinfo); });
}

}
