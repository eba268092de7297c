// The electric_shapes logical decoding output plugin: one decoding pass serves every shape, and
// each change becomes the messages its shapes should see (SPEC section 3). The callbacks below
// read top to bottom: startup (options), begin (lazy load of shapes), change (match matrix and
// messages), truncate (must-refetch), commit (catalog changes applied, lifecycle announced).
//
// Errors. A data exception (SQLSTATE class 22) in work done for one shape is that shape's alone:
// its filter on one row counts as no match; planning its filter, hashing its index constants
// or rendering a value it sends breaks it for the rest of the stream (Failure: one must-refetch
// naming the cause, a WARNING, its filter_errors counter), and the other shapes go on. Not scoped
// to a shape, hence raised and ending the stream (which then resumes from the same position):
// decoding the change itself (WAL, TOAST, deforming the tuple, mapping a partition's row to its
// ancestor), which every shape needs; the relation's definition and the shapes catalog, shared
// by every shape of the table; hashing a row's value for the index, shared by every shape indexed
// on that column; writing to the consumer; and every error that is not about data (cancel,
// timeouts, out of memory, stack depth, internal errors), since surviving those would drop rows.
#include "electric_shapes/output_settings.hpp"
#include "electric_shapes/pg_boundary.hpp"
#include "electric_shapes/pure/control_messages.hpp"
#include "electric_shapes/pure/json_writer.hpp"
#include "electric_shapes/relation_info.hpp"
#include "electric_shapes/row_encoder.hpp"
#include "electric_shapes/row_message.hpp"
#include "electric_shapes/shape_catalog.hpp"
#include "electric_shapes/shape_registry.hpp"
#include "electric_shapes/shape_validity.hpp"
#include "electric_shapes/stats.hpp"
#include "electric_shapes/text_encoding.hpp"

extern "C" {
#include "access/transam.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "lib/ilist.h"
#include "nodes/makefuncs.h"
#include "replication/logical.h"
#include "replication/output_plugin.h"
#include "replication/snapbuild.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
}

namespace es {

namespace {

// How often, in changes, progress is reported while nothing is sent (pgoutput uses 100 too).
constexpr int kProgressEveryChanges = 100;

// The shortest time between two warnings about failing filters.
constexpr int kFilterWarningIntervalMs = 10000;

// What a shape gets for a change, in the order messages of one change are sent.
enum class Action { Delete, Insert, Update, RefetchToast, RefetchSchema, RefetchFailure };

// What one change means for one shape.
struct Decision {
    Shape *shape;
    Action action;
    stats::Emit kind;
};

// Shapes that receive the same message.
struct Group {
    Action action = Action::Insert;
    uint32 payload = 0;  // equal payload ids give equal messages for this change
    std::vector<Shape *> shapes;
    std::vector<const std::string *> names;  // of shapes, for the message's shapes header
    std::vector<stats::Emit> kinds;          // what the message is to each shape
    // The message after its headers, when rendered early to compare with other groups'
    // (see merge_equal_payloads); its capacity is kept from change to change.
    Buffer body;
    bool has_body = false;
    size_t merged_into = 0;  // index of the group whose message is byte-identical, or itself

    // Empties the group for reuse, keeping its vectors' capacity.
    void reset(Action new_action, uint32 new_payload)
    {
        action = new_action;
        payload = new_payload;
        has_body = false;
        clear_shapes();
    }
    void clear_shapes()
    {
        shapes.clear();
        names.clear();
        kinds.clear();
    }
    void add(Shape *shape, stats::Emit kind)
    {
        shapes.push_back(shape);
        names.push_back(&shape->definition.name);
        kinds.push_back(kind);
    }
};

// The start of a row message up to its op_position: the same for every message of a transaction
// with the same operation, relation and shapes, so it is written once and then copied.
struct RowHeader {
    XLogRecPtr lsn = InvalidXLogRecPtr;
    const RelationInfo *relation = nullptr;
    uint64 relation_generation = 0;
    std::vector<const std::string *> names;
    Buffer text;
};

// A shape catalog change seen in the current transaction, applied at its commit.
struct CatalogChange {
    enum Kind { Added, Changed, Dropped } kind;
    ShapeDefinition definition;  // name only, for drops
};

struct PluginState {
    // The session's output settings come back with the state's end, also when decoding fails.
    ~PluginState() { unpin_output_settings(&pinned); }

    // Creates the memory contexts and caches, once the options are known.
    void init(MemoryContext parent)
    {
        encoder = RowEncoder(options.values);
        context = AllocSetContextCreate(parent, "electric_shapes", ALLOCSET_DEFAULT_SIZES);
        change_context = AllocSetContextCreate(context, "electric_shapes change", ALLOCSET_DEFAULT_SIZES);
        relations = std::make_unique<RelationCache>(context);
        registry = std::make_unique<ShapeRegistry>(options, context);
    }

    PluginOptions options;
    MemoryContext context = nullptr;
    MemoryContext change_context = nullptr;  // reset after every change
    std::unique_ptr<RelationCache> relations;
    std::unique_ptr<ShapeRegistry> registry;
    RowEncoder encoder{ValuesMode::Text};
    EState *estate = nullptr;
    ExprContext *econtext = nullptr;
    PinnedSettings pinned;
    utf8::DatabaseText database_text{false, 0, InvalidOid};  // for the SQL interface
    stats::SlotStats *stats = nullptr;
    bool loaded = false;
    Oid catalog = InvalidOid;
    int changes_since_progress = 0;
    TimestampTz last_filter_warning = 0;
    uint64 filter_errors_unreported = 0;

    // The transaction being decoded.
    XLogRecPtr lsn = InvalidXLogRecPtr;
    uint64 txid = 0;
    bool begun = false;  // a message of this transaction was sent
    uint64 op_position = 0;
    std::vector<CatalogChange> catalog_changes;

    Buffer txids;  // ,"txids":[X] of the transaction

    // Scratch, reused from change to change.
    Buffer message;
    std::vector<Decision> decisions;
    std::vector<Group> groups;  // the first group_count are this change's
    size_t group_count = 0;
    RowHeader row_headers[3];   // by RowOperation
    Group refetch;              // the shapes of a truncated table
    std::vector<Oid> truncated;
    std::vector<std::string> replaced_shapes;  // of a catalog that was dropped
};

// The plugin state of a decoding context.
PluginState *state_of(LogicalDecodingContext *ctx)
{
    return static_cast<PluginState *>(ctx->output_plugin_private);
}

// The 64-bit transaction id (epoch and xid) of a recent xid, as pg_current_xact_id() shows it.
uint64 full_transaction_id(TransactionId xid)
{
    FullTransactionId next = ReadNextFullTransactionId();
    uint64 epoch = EpochFromFullTransactionId(next);
    if (xid > XidFromFullTransactionId(next) && epoch > 0)
        epoch--;
    return (epoch << 32) | xid;
}

// Reports progress every so many changes, and at every transaction end, so that a stream that
// filters everything out still gets keepalives and lag figures.
void report_progress(LogicalDecodingContext *ctx, PluginState *state, bool skipped_transaction)
{
    if (ctx->end_xact || ++state->changes_since_progress >= kProgressEveryChanges) {
        OutputPluginUpdateProgress(ctx, skipped_transaction);
        state->changes_since_progress = 0;
    }
}

// Writes one message. The SQL interface (the only writer with private state: the walsender has
// none) returns text in the database encoding, so it gets the message in that encoding; the
// walsender stream stays UTF-8 (text_encoding.hpp).
void write_message(LogicalDecodingContext *ctx, PluginState *state, const char *data, size_t size)
{
    OutputPluginPrepareWrite(ctx, true);
    if (ctx->output_writer_private)
        utf8::append_database_text(ctx->out, state->database_text, data, size);
    else
        appendBinaryStringInfo(ctx->out, data, static_cast<int>(size));
    OutputPluginWrite(ctx, true);
}

// Sends state->message as one message, after the transaction's begin message when asked for.
void send(LogicalDecodingContext *ctx, PluginState *state)
{
    if (!state->begun) {
        state->begun = true;
        if (state->options.include_transaction) {
            Buffer &begin = state->message;
            size_t body = begin.size();
            control::append_begin(begin, state->lsn, state->txid);
            write_message(ctx, state, begin.data() + body, begin.size() - body);
            begin.truncate(body);
        }
    }
    write_message(ctx, state, state->message.data(), state->message.size());
    stats::bytes_emitted(state->stats, state->message.size());
}

// The statistics of a shape in this stream, looked up once.
stats::ShapeCounters *counters_of(PluginState *state, Shape *shape)
{
    if (!shape->counters_known) {
        shape->counters = stats::shape_counters(state->stats, shape->definition.name);
        shape->counters_known = true;
    }
    return shape->counters;
}

// Counts the message just sent for each shape of group.
void count_message(PluginState *state, const Group &group)
{
    for (size_t i = 0; i < group.shapes.size(); i++)
        stats::shape_emitted(state->stats, counters_of(state, group.shapes[i]), group.kinds[i],
                             state->message.size());
}

// A copy of a historic snapshot in which the given transactions have not committed: the
// catalog as it was just before they did.
Snapshot snapshot_without(Snapshot snapshot, const TransactionId *xids, int count, MemoryContext context)
{
    auto *copy = static_cast<SnapshotData *>(MemoryContextAlloc(context, sizeof(SnapshotData)));
    *copy = *snapshot;
    copy->xip = static_cast<TransactionId *>(
        MemoryContextAlloc(context, sizeof(TransactionId) * (snapshot->xcnt + 1)));
    copy->xcnt = 0;
    for (uint32 i = 0; i < snapshot->xcnt; i++) {  // stays sorted: the check uses bsearch
        bool excluded = false;
        for (int j = 0; j < count; j++)
            excluded = excluded || TransactionIdEquals(snapshot->xip[i], xids[j]);
        if (!excluded)
            copy->xip[copy->xcnt++] = snapshot->xip[i];
    }
    copy->copied = true;
    copy->active_count = 0;
    copy->regd_count = 0;
    return copy;
}

// Loads the shapes as they were just before this transaction commits: its own catalog changes
// are then followed like any other, at its commit.
void load_shapes(LogicalDecodingContext *ctx, PluginState *state, ReorderBufferTXN *txn)
{
    state->catalog = catalog::table_oid();
    if (!OidIsValid(state->catalog))
        return;  // the extension is not (yet) in this database; look again next transaction
    if (!catalog::still_exists(state->catalog)) {
        // The extension was dropped since: the drop is refused while a slot of this database
        // decodes with the plugin (drop_guard.cpp), so only a drop that got past that guard comes
        // here. The catalog's rows went with its file; go on without its shapes rather than fail
        // here at every attempt. (Catalog rows written before the drop and not yet decoded still
        // stop the slot: PostgreSQL itself cannot open their relation any more.) The next
        // transaction looks for a catalog again.
        ereport(WARNING, (errcode(ERRCODE_UNDEFINED_TABLE),
                          errmsg("the shape catalog of electric_shapes was dropped after this change was made"),
                          errdetail("Changes made while it existed are decoded without its shapes."),
                          errhint("Keep electric_shapes installed while slots decode with it.")));
        state->catalog = InvalidOid;
        return;
    }

    int count = 1 + txn->nsubtxns;
    auto *xids = static_cast<TransactionId *>(
        MemoryContextAlloc(state->change_context, sizeof(TransactionId) * count));
    int n = 0;
    xids[n++] = txn->xid;
    // dlist_foreach and dlist_container rely on C-only builtins, so the list is walked by hand.
    for (dlist_node *node = txn->subtxns.head.next; node && node != &txn->subtxns.head && n < count;
         node = node->next) {
        auto *sub = reinterpret_cast<ReorderBufferTXN *>(reinterpret_cast<char *>(node) -
                                                         offsetof(ReorderBufferTXN, node));
        xids[n++] = sub->xid;
    }
    Snapshot as_of_commit = SnapBuildGetOrBuildSnapshot(ctx->snapshot_builder, txn->xid);
    Snapshot before_commit = snapshot_without(as_of_commit, xids, n, state->change_context);
    MemoryContext old = MemoryContextSwitchTo(state->change_context);
    state->registry->load(state->catalog, before_commit);
    MemoryContextSwitchTo(old);
    state->loaded = true;
    MemoryContextReset(state->change_context);
}

// Follows the extension being dropped or created again under a running stream: the catalog is
// then another table (or none), and the shapes read from the old one are gone. They are
// announced dropped, and the shapes are loaded from the new catalog as at the start of a stream.
// Two syscache lookups per transaction, which hit the cache.
void follow_catalog_replacement(LogicalDecodingContext *ctx, PluginState *state)
{
    if (catalog::table_oid() == state->catalog)
        return;
    state->replaced_shapes = state->registry->names();
    for (const std::string &name : state->replaced_shapes) {
        state->registry->remove(name);
        state->message.clear();
        control::append_lifecycle(state->message, false, name, state->lsn, state->op_position);
        send(ctx, state);
        state->op_position++;
    }
    state->loaded = false;
    state->catalog = InvalidOid;
}

// Remembers an insert or delete of the shapes catalog, to apply at commit.
void note_catalog_change(PluginState *state, Relation relation, ReorderBufferChange *change)
{
    TupleDesc desc = RelationGetDescr(relation);
    switch (change->action) {
    case REORDER_BUFFER_CHANGE_INSERT:
    case REORDER_BUFFER_CHANGE_UPDATE:  // the catalog's event triggers mark shapes broken
        if (change->data.tp.newtuple)
            state->catalog_changes.push_back(
                {change->action == REORDER_BUFFER_CHANGE_INSERT ? CatalogChange::Added
                                                                : CatalogChange::Changed,
                 ShapeRegistry::read_row(&change->data.tp.newtuple->tuple, desc, nullptr)});
        break;
    case REORDER_BUFFER_CHANGE_DELETE:
        if (change->data.tp.oldtuple) {
            // The old key holds the name; a full definition is not needed to drop.
            Datum values[catalog::ColumnCount];
            bool nulls[catalog::ColumnCount];
            heap_deform_tuple(&change->data.tp.oldtuple->tuple, desc, values, nulls);
            char *name = TextDatumGetCString(values[catalog::Name - 1]);
            CatalogChange dropped{CatalogChange::Dropped, {}};
            dropped.definition.name = name;
            state->catalog_changes.push_back(std::move(dropped));
        }
        break;
    default:
        break;
    }
}

// Fills slot with a decoded tuple.
void store_row(TupleTableSlot *slot, HeapTuple tuple, TupleDesc desc)
{
    ExecClearTuple(slot);
    heap_deform_tuple(tuple, desc, slot->tts_values, slot->tts_isnull);
    ExecStoreVirtualTuple(slot);
}

// Replaces unchanged TOAST values of an update's new row by the old row's values where the WAL
// has them; marks the others unknown to the encoder. (Only an update's new row can hold them: the
// reorder buffer puts the TOAST of inserted values back into the rows.)
void resolve_unchanged_toast(PluginState *state, const RelationInfo *info, TupleTableSlot *old_row,
                             TupleTableSlot *new_row)
{
    if (!new_row)
        return;
    for (AttrNumber attnum : info->varlena_columns) {
        int i = attnum - 1;
        if (new_row->tts_isnull[i] || !VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(new_row->tts_values[i])))
            continue;
        bool old_has_it = old_row && !old_row->tts_isnull[i] &&
                          !VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(old_row->tts_values[i]));
        if (old_has_it)
            new_row->tts_values[i] = old_row->tts_values[i];
        else
            state->encoder.mark_unknown(attnum);
    }
}

enum class Match { No, Yes, Unknown };

struct FilterCall {
    ExprState *filter;
    ExprContext *econtext;
    Datum result;
    bool isnull;
};

// Evaluates a filter; runs inside es::pg_try.
void evaluate_filter(void *arg)
{
    auto *call = static_cast<FilterCall *>(arg);
    call->result = ExecEvalExprSwitchContext(call->filter, call->econtext, &call->isnull);
}

// Logs a failing filter, at most once per interval, counting what it did not log.
void warn_filter_error(PluginState *state, Shape *shape, const char *message)
{
    stats::filter_error(state->stats, counters_of(state, shape));
    state->filter_errors_unreported++;
    TimestampTz now = GetCurrentTimestamp();
    if (state->last_filter_warning != 0 &&
        !TimestampDifferenceExceeds(state->last_filter_warning, now, kFilterWarningIntervalMs))
        return;
    ereport(WARNING,
            (errcode(ERRCODE_DATA_EXCEPTION),
             errmsg("filter of shape \"%s\" failed on a row, which counts as no match: %s",
                    shape->definition.name.c_str(), message),
             errdetail("%llu filter errors since the last such warning.",
                       (unsigned long long) state->filter_errors_unreported),
             errhint("Fix the shape's where_clause; the stream and the other shapes go on.")));
    state->last_filter_warning = now;
    state->filter_errors_unreported = 0;
}

// The must-refetch reason of a shape's failure.
const char *failure_reason(Failure failure)
{
    switch (failure) {
    case Failure::Compile:
        return "filter-error";
    case Failure::Index:
        return "index-error";
    case Failure::Render:
        return "render-error";
    case Failure::None:
        break;
    }
    return "error";
}

// What each failure is, for the WARNING.
const char *failure_description(Failure failure)
{
    switch (failure) {
    case Failure::Compile:
        return "its filter could not be planned";
    case Failure::Index:
        return "the constants of its filter could not be indexed";
    case Failure::Render:
        return "a value it sends could not be rendered";
    case Failure::None:
        break;
    }
    return "it failed";
}

// Logs a shape's failure and counts it in its filter_errors; once per shape and stream, when its
// must-refetch is sent.
void warn_failure(PluginState *state, Shape *shape)
{
    shape->failure_announced = true;
    stats::filter_error(state->stats, counters_of(state, shape));
    ereport(WARNING,
            (errcode(ERRCODE_DATA_EXCEPTION),
             errmsg("shape \"%s\" is broken for this stream: %s: %s", shape->definition.name.c_str(),
                    failure_description(shape->failure), shape->failure_message.c_str()),
             errdetail("Its consumers got must-refetch (reason \"%s\") and get nothing more for it "
                       "from this stream; the other shapes go on.",
                       failure_reason(shape->failure)),
             errhint("Fix the data or the shape's definition, then drop the shape and create it "
                     "again; consumers refetch it from a new stream.")));
}

// Announces a shape's failure: a must-refetch decision for this change, a WARNING and the
// shape's error counter. The shape sends nothing more in this stream; the others go on.
void announce_failure(PluginState *state, Shape *shape)
{
    warn_failure(state, shape);
    state->decisions.push_back({shape, Action::RefetchFailure, stats::Emit::MustRefetch});
}

// Marks a shape failed by an error of its own in this change, and announces it.
void fail_shape(PluginState *state, Shape *shape, Failure failure, const char *message)
{
    shape->failure = failure;
    shape->failure_message = message ? message : "unknown error";
    announce_failure(state, shape);
}

// Tests a row against a shape's filter; an error in the filter counts as no match. A new row
// may hold unknown (unchanged TOAST) values: a filter reading one cannot be evaluated.
Match matches(PluginState *state, Shape *shape, TupleTableSlot *row, bool is_new_row)
{
    if (!row)
        return Match::No;
    if (!shape->filter)
        return Match::Yes;
    int column = -1;
    bool may_be_unknown = is_new_row && state->encoder.any_unknown();
    while (may_be_unknown && (column = bms_next_member(shape->filter_columns, column)) >= 0) {
        AttrNumber attnum = column + FirstLowInvalidHeapAttributeNumber;
        if (attnum > 0 && state->encoder.unknown(attnum))
            return Match::Unknown;
    }
    FilterCall call{shape->filter, state->econtext, (Datum) 0, true};
    state->econtext->ecxt_scantuple = row;
    char *message = nullptr;
    if (!pg_try(evaluate_filter, &call, &message)) {
        warn_filter_error(state, shape, message);
        return Match::No;
    }
    return (!call.isnull && DatumGetBool(call.result)) ? Match::Yes : Match::No;
}

// The decisions of SPEC section 3's match matrix for one shape and one change.
void decide(PluginState *state, Shape *shape, ReorderBufferChangeType action, TupleTableSlot *old_row,
            TupleTableSlot *new_row, bool key_changed, const char *key_error)
{
    auto add = [&](Action a, stats::Emit kind) { state->decisions.push_back({shape, a, kind}); };

    if (action == REORDER_BUFFER_CHANGE_INSERT) {
        if (matches(state, shape, new_row, true) == Match::Yes)
            add(Action::Insert, stats::Emit::Insert);
        return;
    }
    if (action == REORDER_BUFFER_CHANGE_DELETE) {
        if (matches(state, shape, old_row, false) == Match::Yes)
            add(Action::Delete, stats::Emit::Delete);
        return;
    }

    // An update. Without an old row the key and every column the filter reads (the replica
    // identity) are unchanged, so the old row matched exactly when the new one does.
    Match after = matches(state, shape, new_row, true);
    Match before = old_row ? matches(state, shape, old_row, false) : after;
    if (after == Match::Unknown) {
        add(Action::RefetchToast, stats::Emit::MustRefetch);
        return;
    }
    bool was = before == Match::Yes, is = after == Match::Yes;
    if (key_error && (was || is)) {
        fail_shape(state, shape, Failure::Render, key_error);  // its message needs the key
        return;
    }
    bool needs_whole_row = is && (!was || key_changed);
    if (needs_whole_row && state->encoder.misses_values(shape->projection)) {
        add(Action::RefetchToast, stats::Emit::MustRefetch);
        return;
    }
    if (key_changed) {
        if (was)
            add(Action::Delete, stats::Emit::Delete);
        if (is)
            add(Action::Insert, stats::Emit::Insert);
    } else if (!was && is) {
        add(Action::Insert, stats::Emit::MoveIn);
    } else if (was && !is) {
        add(Action::Delete, stats::Emit::MoveOut);
    } else if (was && is) {
        // Comparing values may render them, which may fail (rule 3 of pg_boundary.hpp; by rule 2
        // nothing on the frames in between has a destructor).
        bool any_changed = false;
        char *message = nullptr;
        auto compare = [&] {
            for (AttrNumber attnum : shape->projection)
                any_changed = any_changed || (!state->encoder.unknown(attnum) && state->encoder.changed(attnum));
        };
        if (!pg_try_call(compare, &message)) {
            fail_shape(state, shape, Failure::Render, message);
            return;
        }
        if (any_changed)
            add(Action::Update, stats::Emit::Update);
    }
}

// The payload id of a decision: shapes whose messages for this change are equal share it.
uint32 payload_of(const Decision &decision)
{
    const Shape *shape = decision.shape;
    bool full = shape->definition.replica_full;
    switch (decision.action) {
    case Action::RefetchToast:
    case Action::RefetchSchema:
        return 0;  // the same for every shape
    case Action::RefetchFailure:
        return static_cast<uint32>(shape->failure);  // the reason names the failure
    case Action::Delete:
        return full ? 1 + shape->projection_id : 0;  // replica default sends the key alone
    case Action::Insert:
        return 1 + shape->projection_id;  // the whole projected row, whatever the replica mode
    case Action::Update:
        return 1 + 2 * shape->projection_id + (full ? 1 : 0);
    }
    return 0;
}

// The first of the first count groups with the given action and payload id, or count.
size_t find_group(const std::vector<Group> &groups, size_t count, Action action, uint32 payload)
{
    size_t i = 0;
    while (i < count && !(groups[i].action == action && groups[i].payload == payload))
        i++;
    return i;
}

bool is_row_action(Action action)
{
    return action == Action::Delete || action == Action::Insert || action == Action::Update;
}

// The row message of a group after its headers ("},"key":...}"), from its first shape: every
// shape of a group renders the same.
void render_body(PluginState *state, const Group &group, Buffer &out)
{
    RowOperation operation = group.action == Action::Delete   ? RowOperation::Delete
                             : group.action == Action::Insert ? RowOperation::Insert
                                                              : RowOperation::Update;
    const Shape *shape = group.shapes.front();
    close_row_message(out, state->encoder, operation, shape->projection, shape->definition.replica_full);
}

// Payload ids tell apart projections and replica modes, not contents: shapes with different
// columns can still get byte-identical messages (an update changing only columns both project),
// and SPEC section 3 sends one message per distinct payload. So when several groups of one change
// share an action, their bodies are rendered and compared, and groups with equal bytes become
// one, its shapes in name order. Only groups of the same change are compared, and the common case
// (one group per action) renders nothing early. Returns the new group count.
size_t merge_equal_payloads(PluginState *state, size_t count)
{
    std::vector<Group> &groups = state->groups;
    bool any_merged = false;
    for (size_t j = 0; j < count; j++) {
        Group &group = groups[j];
        group.merged_into = j;
        if (!is_row_action(group.action))
            continue;
        for (size_t i = 0; i < j && group.merged_into == j; i++) {
            Group &earlier = groups[i];
            if (earlier.action != group.action || earlier.merged_into != i)
                continue;
            bool rendered = true;
            for (Group *g : {&earlier, &group}) {
                if (!g->has_body) {
                    // A data error here belongs to the group: it stays apart, and rendering it
                    // for its message (render_isolated) fails its shapes alone.
                    g->body.clear();
                    g->has_body = pg_try_call([&] { render_body(state, *g, g->body); }, nullptr);
                }
                rendered = rendered && g->has_body;
            }
            if (rendered && earlier.body.view() == group.body.view()) {
                group.merged_into = i;
                any_merged = true;
            }
        }
    }
    if (!any_merged)
        return count;

    // Regroup the decisions, which come in shape name order, so that every group stays sorted.
    for (size_t i = 0; i < count; i++)
        groups[i].clear_shapes();
    for (const Decision &decision : state->decisions) {
        size_t at = find_group(groups, count, decision.action, payload_of(decision));
        groups[groups[at].merged_into].add(decision.shape, decision.kind);
    }
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (groups[i].shapes.empty())
            continue;
        if (kept != i)
            std::swap(groups[kept], groups[i]);
        kept++;
    }
    return kept;
}

// Groups decisions into messages: one per distinct (action, payload), shapes sorted, deletes
// first so that a key change reads as delete-then-insert.
void group_decisions(PluginState *state)
{
    std::vector<Group> &groups = state->groups;
    size_t count = 0;
    for (const Decision &decision : state->decisions) {
        uint32 payload = payload_of(decision);
        size_t at = find_group(groups, count, decision.action, payload);
        if (at == count) {
            if (count == groups.size())
                groups.emplace_back();
            groups[count++].reset(decision.action, payload);
        }
        groups[at].add(decision.shape, decision.kind);
    }
    count = merge_equal_payloads(state, count);
    std::sort(groups.begin(), groups.begin() + count, [](const Group &a, const Group &b) {
        if (a.action != b.action)
            return a.action < b.action;
        return *a.names.front() < *b.names.front();
    });
    state->group_count = count;
}

// The cached start of a row message (see RowHeader), rewritten when what it says changes.
const Buffer &row_header(PluginState *state, const RelationInfo *info, RowOperation operation,
                         const std::vector<const std::string *> &names)
{
    RowHeader &header = state->row_headers[static_cast<int>(operation)];
    uint64 generation = info->generation;
    if (header.lsn != state->lsn || header.relation != info || header.relation_generation != generation ||
        header.names != names) {
        header.text.clear();
        open_row_message(header.text, operation, info->relation_json.view(), names);
        header.text.push_back(',');
        control::append_lsn(header.text, state->lsn);
        header.text.append(",\"op_position\":");
        header.lsn = state->lsn;
        header.relation = info;
        header.relation_generation = generation;
        header.names = names;
    }
    return header.text;
}

// Writes the message of a group into state->message (all shapes of a group render the same).
void render(PluginState *state, const RelationInfo *info, Group &group)
{
    Buffer &out = state->message;
    out.clear();
    if (group.action == Action::RefetchToast || group.action == Action::RefetchSchema ||
        group.action == Action::RefetchFailure) {
        const char *reason = group.action == Action::RefetchToast    ? "unchanged-toast"
                             : group.action == Action::RefetchSchema ? "schema-change"
                                                                     : failure_reason(group.shapes.front()->failure);
        control::append_must_refetch(out, group.names, info->relation_json.view(), reason, state->lsn,
                                     state->op_position);
        return;
    }
    RowOperation operation = group.action == Action::Delete   ? RowOperation::Delete
                             : group.action == Action::Insert ? RowOperation::Insert
                                                              : RowOperation::Update;
    out.append(row_header(state, info, operation, group.names).view());
    json::append_uint(out, state->op_position);
    out.append(state->txids.view());
    if (group.has_body)
        out.append(group.body.view());
    else
        render_body(state, group, out);
}

// Drops from a group the shapes that failed in this change after it was formed: they get
// nothing after their must-refetch.
void drop_failed(Group &group)
{
    size_t kept = 0;
    for (size_t i = 0; i < group.shapes.size(); i++) {
        if (group.action != Action::RefetchFailure && group.shapes[i]->failure != Failure::None)
            continue;
        group.shapes[kept] = group.shapes[i];
        group.names[kept] = group.names[i];
        group.kinds[kept] = group.kinds[i];
        kept++;
    }
    group.shapes.resize(kept);
    group.names.resize(kept);
    group.kinds.resize(kept);
}

// Renders a group's message into state->message; false when there is nothing to send. A data
// error while rendering (an output function failing on the value, a character the stream's
// encoding cannot hold) belongs to the shapes of this group, which send the same values: they
// get must-refetch (reason render-error) instead, and fail for the rest of the stream.
bool render_isolated(PluginState *state, const RelationInfo *info, Group &group)
{
    drop_failed(group);
    if (group.shapes.empty())
        return false;
    char *message = nullptr;
    if (pg_try_call([&] { render(state, info, group); }, &message))
        return true;
    for (size_t i = 0; i < group.shapes.size(); i++) {
        Shape *shape = group.shapes[i];
        shape->failure = Failure::Render;
        shape->failure_message = message;
        group.kinds[i] = stats::Emit::MustRefetch;
        warn_failure(state, shape);
    }
    state->message.clear();
    control::append_must_refetch(state->message, group.names, info->relation_json.view(),
                                 failure_reason(Failure::Render), state->lsn, state->op_position);
    return true;
}

// Turns one change into the messages of shapes on the table info describes: the changed table
// itself, or a partitioned ancestor, the rows then converted to the ancestor's columns.
bool process_change(LogicalDecodingContext *ctx, PluginState *state, RelationInfo *info,
                    ReorderBufferChangeType action, HeapTuple old_tuple, HeapTuple new_tuple)
{
    uint64 generation = info->generation;  // this relation's: other relations' changes do not count
    if (action == REORDER_BUFFER_CHANGE_DELETE && !old_tuple)
        return false;  // REPLICA IDENTITY NOTHING: no key to send
    // The index reads only the columns it needs: a change no shape can match ends here.
    const std::vector<Shape *> &candidates =
        state->registry->candidates(info->relid, info->desc, old_tuple, new_tuple);
    if (candidates.empty())
        return false;
    TupleTableSlot *old_row = old_tuple ? info->old_slot : nullptr;
    TupleTableSlot *new_row = new_tuple ? info->new_slot : nullptr;
    if (old_row)
        store_row(old_row, old_tuple, info->desc);
    if (new_row)
        store_row(new_row, new_tuple, info->desc);
    state->encoder.start(info, old_row, new_row);
    if (action == REORDER_BUFFER_CHANGE_UPDATE)
        resolve_unchanged_toast(state, info, old_row, new_row);
    // Comparing the keys may render them; an error there fails the shapes that would send this
    // row (decide), not the others.
    bool key_changed = false;
    char *key_error = nullptr;
    if (action == REORDER_BUFFER_CHANGE_UPDATE)
        pg_try_call([&] { key_changed = state->encoder.key_changed(); }, &key_error);

    state->decisions.clear();
    for (Shape *shape : candidates) {
        switch (state->registry->prepare(shape, info, generation)) {
        case Readiness::Ready:
            decide(state, shape, action, old_row, new_row, key_changed, key_error);
            break;
        case Readiness::NewlyBroken:
            state->decisions.push_back({shape, Action::RefetchSchema, stats::Emit::MustRefetch});
            break;
        case Readiness::Failed:
            announce_failure(state, shape);
            break;
        case Readiness::Broken:
            break;
        }
    }
    if (state->decisions.empty())
        return false;

    group_decisions(state);
    bool sent = false;
    for (size_t i = 0; i < state->group_count; i++) {
        Group &group = state->groups[i];
        if (!render_isolated(state, info, group))
            continue;
        sent = true;
        send(ctx, state);
        count_message(state, group);
        state->op_position++;
    }
    return sent;
}

// A row of a partition in the columns of an ancestor, in the change context.
HeapTuple to_ancestor(HeapTuple tuple, TupleConversionMap *map)
{
    if (!tuple || !map)
        return tuple;
    return execute_attr_map_tuple(tuple, map);
}

// Routes a change of a partition to the shapes of its partitioned ancestors, reported under the
// ancestor's name and filtered in its column numbering.
bool route_to_ancestors(LogicalDecodingContext *ctx, PluginState *state, Relation relation,
                        ReorderBufferChange *change)
{
    // The partition's own entry is made only when a shaped ancestor needs its rows converted:
    // partitions of unshaped tables cost the cache only their list of ancestors.
    RelationInfo *partition = nullptr;
    bool emitted = false;
    for (Oid ancestor : state->relations->ancestors(RelationGetRelid(relation))) {
        if (!state->registry->has_shapes(ancestor))
            continue;
        if (!partition)
            partition = state->relations->get(relation);
        Relation ancestor_relation = RelationIdGetRelation(ancestor);
        if (!RelationIsValid(ancestor_relation))
            continue;
        RelationInfo *target = state->relations->get(ancestor_relation);
        RelationClose(ancestor_relation);
        TupleConversionMap *map = state->relations->conversion(partition, target);
        HeapTuple old_tuple = to_ancestor(change->data.tp.oldtuple ? &change->data.tp.oldtuple->tuple : nullptr, map);
        HeapTuple new_tuple = to_ancestor(change->data.tp.newtuple ? &change->data.tp.newtuple->tuple : nullptr, map);
        emitted = process_change(ctx, state, target, change->action, old_tuple, new_tuple) || emitted;
    }
    return emitted;
}

// Sends must-refetch (reason truncate) for every shape of relid, once per truncate.
void refetch_truncated(LogicalDecodingContext *ctx, PluginState *state, Oid relid,
                       std::vector<Oid> &done)
{
    const std::vector<Shape *> *shapes = state->registry->shapes_of(relid);
    if (!shapes || std::find(done.begin(), done.end(), relid) != done.end())
        return;
    done.push_back(relid);
    Relation relation = RelationIdGetRelation(relid);
    if (!RelationIsValid(relation))
        return;
    const RelationInfo *info = state->relations->get(relation);
    RelationClose(relation);
    Group &group = state->refetch;
    group.reset(Action::RefetchSchema, 0);
    for (Shape *shape : *shapes)
        group.add(shape, stats::Emit::MustRefetch);
    state->message.clear();
    control::append_must_refetch(state->message, group.names, info->relation_json.view(), "truncate",
                                 state->lsn, state->op_position);
    send(ctx, state);
    count_message(state, group);
    state->op_position++;
}

// The options, read from what the server hands over and validated.
PluginOptions read_options(LogicalDecodingContext *ctx)
{
    std::vector<RawOption> raw;
    ListCell *cell;
    foreach (cell, ctx->output_plugin_options) {
        DefElem *elem = lfirst_node(DefElem, cell);
        if (elem->arg)
            raw.emplace_back(elem->defname, std::string(strVal(elem->arg)));
        else
            raw.emplace_back(elem->defname, std::nullopt);
    }
    return parse_plugin_options(raw);
}

// Applies a transaction's shape catalog changes at its commit, announcing those of selected
// shapes: creations and drops, and shapes the catalog marked broken (must-refetch).
void apply_catalog_changes(LogicalDecodingContext *ctx, PluginState *state)
{
    for (CatalogChange &catalog_change : state->catalog_changes) {
        state->message.clear();
        const std::string &name = catalog_change.definition.name;  // read before any move
        Oid relid = catalog_change.definition.relid;
        bool broken = catalog_change.definition.broken;
        switch (catalog_change.kind) {
        case CatalogChange::Added: {
            const Shape *shape = state->registry->add(std::move(catalog_change.definition));
            if (!shape)
                continue;
            control::append_lifecycle(state->message, true, shape->definition.name, state->lsn,
                                      state->op_position);
            break;
        }
        case CatalogChange::Dropped:
            stats::shape_dropped(state->stats, name);  // its statistics make room for live shapes
            if (!state->registry->remove(name))
                continue;
            control::append_lifecycle(state->message, false, name, state->lsn, state->op_position);
            break;
        case CatalogChange::Changed: {
            // Marked broken, or its messages change form: consumers must refetch, unless this
            // stream already told them (it found the shape broken or failed on its own).
            const Shape *before = state->registry->find(name);
            bool announced = before && (before->failure_announced || before->broken || before->definition.broken);
            bool must_refetch = before && !announced &&
                                (!same_form(before->definition.signature.c_str(),
                                            catalog_change.definition.signature.c_str()) ||
                                 broken);
            Shape *shape = state->registry->add(std::move(catalog_change.definition));
            if (!shape || !must_refetch)
                continue;
            Relation relation = RelationIdGetRelation(relid);
            if (!RelationIsValid(relation))
                continue;
            const RelationInfo *info = state->relations->get(relation);
            RelationClose(relation);
            control::append_must_refetch(state->message, {&shape->definition.name},
                                         info->relation_json.view(), "schema-change", state->lsn,
                                         state->op_position);
            stats::shape_emitted(state->stats, counters_of(state, shape), stats::Emit::MustRefetch,
                                 state->message.size());
            break;
        }
        }
        send(ctx, state);
        state->op_position++;
    }
    state->catalog_changes.clear();
}

// ---- callbacks ---------------------------------------------------------------------------

// Parses the options and sets up the plugin state, owned by the decoding context.
void startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt, bool is_init)
{
    auto *state = new PluginState();
    attach_to_context(ctx->context, state);
    ctx->output_plugin_private = state;
    state->options = read_options(ctx);
    state->init(ctx->context);
    opt->output_type = OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
    opt->receive_rewrites = false;
    if (is_init)
        return;

    MemoryContext old = MemoryContextSwitchTo(state->context);
    state->estate = CreateExecutorState();
    state->econtext = GetPerTupleExprContext(state->estate);
    MemoryContextSwitchTo(old);
    pin_output_settings(&state->pinned);
    // The SQL interface starts inside a transaction, where the conversion can be looked up.
    if (IsTransactionState())
        state->database_text = utf8::database_text();
    state->stats = stats::open_slot(NameStr(ctx->slot->data.name));
}

// Restores the session's settings; the state itself goes with the decoding context.
void shutdown(LogicalDecodingContext *ctx)
{
    PluginState *state = state_of(ctx);
    if (state)
        unpin_output_settings(&state->pinned);
}

// Starts a transaction: its identity, and the shapes if not loaded yet.
void begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
    PluginState *state = state_of(ctx);
    state->lsn = txn->final_lsn;
    state->txid = full_transaction_id(txn->xid);
    state->txids.clear();
    state->txids.push_back(',');
    control::append_txids(state->txids, state->txid);
    state->begun = false;
    state->op_position = 0;
    state->catalog_changes.clear();
    if (state->loaded)
        follow_catalog_replacement(ctx, state);
    if (!state->loaded)
        load_shapes(ctx, state, txn);
}

// One change: catalog changes are noted, changes of shaped tables (or of partitions of shaped
// tables) become messages.
void change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, Relation relation,
            ReorderBufferChange *change)
{
    PluginState *state = state_of(ctx);
    bool emitted = false;
    if (state->loaded) {
        MemoryContext old = MemoryContextSwitchTo(state->change_context);
        Oid relid = RelationGetRelid(relation);
        if (relid == state->catalog) {
            note_catalog_change(state, relation, change);
        } else {
            if (state->registry->has_shapes(relid)) {
                HeapTuple old_tuple = change->data.tp.oldtuple ? &change->data.tp.oldtuple->tuple : nullptr;
                HeapTuple new_tuple = change->data.tp.newtuple ? &change->data.tp.newtuple->tuple : nullptr;
                emitted = process_change(ctx, state, state->relations->get(relation), change->action,
                                         old_tuple, new_tuple);
            }
            if (relation->rd_rel->relispartition)
                emitted = route_to_ancestors(ctx, state, relation, change) || emitted;
        }
        MemoryContextSwitchTo(old);
        MemoryContextReset(state->change_context);
        ResetExprContext(state->econtext);
    }
    stats::change_decoded(state->stats, emitted);
    report_progress(ctx, state, false);
}

// TRUNCATE of shaped tables (or of partitions of shaped tables): their shapes must refetch.
void truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, int nrelations,
              Relation relations[], ReorderBufferChange *change)
{
    PluginState *state = state_of(ctx);
    if (!state->loaded)
        return;
    std::vector<Oid> &done = state->truncated;
    done.clear();
    for (int i = 0; i < nrelations; i++) {
        refetch_truncated(ctx, state, RelationGetRelid(relations[i]), done);
        if (relations[i]->rd_rel->relispartition) {
            for (Oid ancestor : state->relations->ancestors(RelationGetRelid(relations[i])))
                refetch_truncated(ctx, state, ancestor, done);
        }
    }
    report_progress(ctx, state, false);
}

// Ends a transaction: applies its shape catalog changes, then its commit message.
void commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, XLogRecPtr commit_lsn)
{
    PluginState *state = state_of(ctx);
    apply_catalog_changes(ctx, state);
    if (state->begun && state->options.include_transaction) {
        state->message.clear();
        control::append_commit(state->message, state->lsn, state->txid,
                               control::iso8601_utc(txn->xact_time.commit_time));
        send(ctx, state);
    }
    stats::transaction_decoded(state->stats, state->begun, state->lsn, txn->xact_time.commit_time);
    state->relations->trim();  // between changes: no cache entry is in use
    if (ctx->reorder)
        stats::spill_bytes(state->stats, ctx->reorder->spillBytes);
    report_progress(ctx, state, !state->begun);
}

}  // namespace

}  // namespace es

extern "C" {

// Each callback runs its C++ body behind the error boundary.
static void es_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt, bool is_init)
{
    es::guarded([&] { es::startup(ctx, opt, is_init); });
}

static void es_shutdown(LogicalDecodingContext *ctx)
{
    es::guarded([&] { es::shutdown(ctx); });
}

static void es_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
    es::guarded([&] { es::begin(ctx, txn); });
}

static void es_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, Relation relation,
                      ReorderBufferChange *change)
{
    es::guarded([&] { es::change(ctx, txn, relation, change); });
}

static void es_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, int nrelations,
                        Relation relations[], ReorderBufferChange *change)
{
    es::guarded([&] { es::truncate(ctx, txn, nrelations, relations, change); });
}

static void es_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, XLogRecPtr commit_lsn)
{
    es::guarded([&] { es::commit(ctx, txn, commit_lsn); });
}

// The output plugin's entry point: PostgreSQL looks it up by name when a slot uses the plugin.
extern PGDLLEXPORT void _PG_output_plugin_init(OutputPluginCallbacks *cb);

void _PG_output_plugin_init(OutputPluginCallbacks *cb)
{
    cb->startup_cb = es_startup;
    cb->begin_cb = es_begin;
    cb->change_cb = es_change;
    cb->truncate_cb = es_truncate;
    cb->commit_cb = es_commit;
    cb->shutdown_cb = es_shutdown;
}

}
