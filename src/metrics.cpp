// electric_shapes.metrics(): the statistics views and health checks in Prometheus text exposition
// format 0.0.4, for a scraper that runs one SQL query (postgres_exporter, a sidecar with psql).
// Counters end in _total, sizes are in bytes and times in seconds since the epoch.
#include "electric_shapes/pure/prometheus_text.hpp"
#include "electric_shapes/pg_boundary.hpp"
#include "electric_shapes/pinned_gucs.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
}

namespace es {

namespace {

using prometheus::Type;

// One value column of a query: the metric it feeds.
struct Metric {
    const char *name;
    Type type;
    const char *help;
};

// A query whose first label_count columns are label values (text) and whose other columns are
// int8 or float8 values, one metric each; a NULL value gives no sample.
struct Export {
    const char *sql;
    int label_count;
    const char *labels[2];
    Metric metrics[20];
    int metric_count;
};

const Export kExports[] = {
    {"SELECT enabled::int4::int8, max_tracked_slots::int8, tracked_slots::int8, untracked_slots,"
     "       max_tracked_shapes::int8, tracked_shapes, untracked_shapes"
     "  FROM electric_shapes.stats_capacity()",
     0,
     {},
     {{"electric_shapes_statistics_enabled", Type::Gauge,
       "1 when electric_shapes is in shared_preload_libraries and keeps statistics, else 0."},
      {"electric_shapes_tracked_slots_limit", Type::Gauge, "electric_shapes.max_tracked_slots."},
      {"electric_shapes_tracked_slots", Type::Gauge, "Replication slots whose statistics are kept."},
      {"electric_shapes_untracked_slots_total", Type::Counter,
       "Slot streams that could not be tracked because max_tracked_slots was reached."},
      {"electric_shapes_tracked_shapes_limit", Type::Gauge, "electric_shapes.max_tracked_shapes."},
      {"electric_shapes_tracked_shapes", Type::Gauge, "(slot, shape) pairs whose statistics are kept."},
      {"electric_shapes_untracked_shapes_total", Type::Counter,
       "Shapes that could not be tracked in a stream because max_tracked_shapes was reached."}},
     7},
    {"SELECT slot_name, active::int4::int8, lag_bytes::float8, retained_wal_bytes::float8,"
     "       safe_wal_size::float8, changes_decoded, changes_emitted, changes_filtered,"
     "       txns_decoded, txns_emitted, bytes_emitted, spill_bytes,"
     "       pg_catalog.pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::float8,"
     "       pg_catalog.pg_wal_lsn_diff(last_commit_lsn, '0/0')::float8,"
     "       extract(epoch FROM last_commit_at)::float8, extract(epoch FROM stats_reset)::float8"
     "  FROM electric_shapes.slot_stats",
     1,
     {"slot"},
     {{"electric_shapes_slot_active", Type::Gauge, "1 when a consumer holds the slot, else 0."},
      {"electric_shapes_slot_lag_bytes", Type::Gauge,
       "WAL between the current position and what the consumer confirmed."},
      {"electric_shapes_slot_retained_wal_bytes", Type::Gauge, "WAL the slot keeps from being removed."},
      {"electric_shapes_slot_safe_wal_size_bytes", Type::Gauge,
       "WAL that can still be written before the slot is lost (only with max_slot_wal_keep_size)."},
      {"electric_shapes_slot_changes_decoded_total", Type::Counter, "Row changes decoded."},
      {"electric_shapes_slot_changes_emitted_total", Type::Counter,
       "Row changes that sent at least one message."},
      {"electric_shapes_slot_changes_filtered_total", Type::Counter,
       "Row changes that no selected shape wanted."},
      {"electric_shapes_slot_transactions_decoded_total", Type::Counter, "Transactions decoded."},
      {"electric_shapes_slot_transactions_emitted_total", Type::Counter,
       "Transactions that sent at least one message."},
      {"electric_shapes_slot_emitted_bytes_total", Type::Counter, "Bytes of messages sent."},
      {"electric_shapes_slot_spilled_bytes_total", Type::Counter,
       "Bytes of decoded transactions spilled to disk."},
      {"electric_shapes_slot_confirmed_flush_lsn_bytes", Type::Gauge,
       "Position the consumer confirmed, as a byte offset in the WAL."},
      {"electric_shapes_slot_last_commit_lsn_bytes", Type::Gauge,
       "Commit position of the last decoded transaction, as a byte offset in the WAL."},
      {"electric_shapes_slot_last_commit_timestamp_seconds", Type::Gauge,
       "Commit time of the last decoded transaction."},
      {"electric_shapes_slot_stats_reset_timestamp_seconds", Type::Gauge,
       "When the slot's statistics started or were last reset."}},
     15},
    {"SELECT slot_name, wal_status, 1::int8 FROM electric_shapes.slot_stats WHERE wal_status IS NOT NULL",
     2,
     {"slot", "wal_status"},
     {{"electric_shapes_slot_wal_status", Type::Gauge,
       "1 for the slot's current wal_status (reserved, extended, unreserved or lost)."}},
     1},
    {"SELECT slot_name, shape, inserts, updates, deletes, move_ins, move_outs, must_refetches,"
     "       filter_errors, bytes, pg_catalog.pg_wal_lsn_diff(last_lsn, '0/0')::float8,"
     "       extract(epoch FROM last_emit_at)::float8"
     "  FROM electric_shapes.shape_stats",
     2,
     {"slot", "shape"},
     {{"electric_shapes_shape_inserts_total", Type::Counter, "Insert messages sent, move-ins included."},
      {"electric_shapes_shape_updates_total", Type::Counter, "Update messages sent."},
      {"electric_shapes_shape_deletes_total", Type::Counter, "Delete messages sent, move-outs included."},
      {"electric_shapes_shape_move_ins_total", Type::Counter,
       "Inserts sent because an updated row started to match."},
      {"electric_shapes_shape_move_outs_total", Type::Counter,
       "Deletes sent because an updated row stopped matching."},
      {"electric_shapes_shape_must_refetches_total", Type::Counter, "must-refetch messages sent."},
      {"electric_shapes_shape_filter_errors_total", Type::Counter,
       "Rows on which the shape's filter raised an error (counted as no match)."},
      {"electric_shapes_shape_emitted_bytes_total", Type::Counter, "Bytes of messages sent to the shape."},
      {"electric_shapes_shape_last_lsn_bytes", Type::Gauge,
       "Commit position of the last message sent to the shape, as a byte offset in the WAL."},
      {"electric_shapes_shape_last_emit_timestamp_seconds", Type::Gauge,
       "When the last message was sent to the shape."}},
     10},
    {"SELECT check_name, CASE WHEN status OPERATOR(pg_catalog.=) 'ok' THEN 0"
     "                        WHEN status OPERATOR(pg_catalog.=) 'warning' THEN 1 ELSE 2 END::int8"
     "  FROM electric_shapes.health",
     1,
     {"check"},
     {{"electric_shapes_health_status", Type::Gauge,
       "Result of each electric_shapes.health check: 0 ok, 1 warning, 2 error."}},
     1},
};

// The builder and its output, owned by a memory context so that no C++ object lives on the stack
// while PostgreSQL functions run (pg_boundary.hpp, rule 2).
struct Exposition {
    prometheus::TextBuilder builder;
    std::string text;
};

void declare_all(Exposition *out)
{
    for (const Export &e : kExports)
        for (int i = 0; i < e.metric_count; i++)
            out->builder.declare(e.metrics[i].name, e.metrics[i].type, e.metrics[i].help);
}

void add_sample(Exposition *out, const Export &e, const char *const *label_values, int metric,
                bool is_integer, Datum value)
{
    prometheus::Labels labels;
    for (int i = 0; i < e.label_count; i++)
        labels.emplace_back(e.labels[i], label_values[i]);
    if (is_integer)
        out->builder.add(e.metrics[metric].name, labels, static_cast<int64_t>(DatumGetInt64(value)));
    else
        out->builder.add(e.metrics[metric].name, labels, DatumGetFloat8(value));
}

void finish(Exposition *out) { out->text = out->builder.text(); }

// Runs one export's query and adds its samples.
void run_export(Exposition *out, const Export &e)
{
    if (SPI_execute(e.sql, true, 0) != SPI_OK_SELECT)
        elog(ERROR, "metrics query failed: %s", e.sql);
    TupleDesc desc = SPI_tuptable->tupdesc;
    for (uint64 row = 0; row < SPI_processed; row++) {
        HeapTuple tuple = SPI_tuptable->vals[row];
        const char *label_values[2] = {"", ""};
        bool isnull;
        for (int i = 0; i < e.label_count; i++) {
            Datum value = SPI_getbinval(tuple, desc, i + 1, &isnull);
            label_values[i] = isnull ? "" : TextDatumGetCString(value);
        }
        for (int m = 0; m < e.metric_count; m++) {
            int column = e.label_count + m + 1;
            Datum value = SPI_getbinval(tuple, desc, column, &isnull);
            if (isnull)
                continue;
            bool is_integer = SPI_gettypeid(desc, column) == INT8OID;
            add_sample(out, e, label_values, m, is_integer, value);
        }
    }
}

Datum metrics_impl(FunctionCallInfo fcinfo)
{
    MemoryContext caller = CurrentMemoryContext;
    auto *out = new Exposition();
    attach_to_context(caller, out);
    declare_all(out);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    // Our statement texts, parsed with our search path: a monitoring role calling metrics() with
    // another schema first in its path must not run that schema's operators.
    int nest_level = pin_search_path();
    for (const Export &e : kExports)
        run_export(out, e);
    release_pinned(nest_level);
    SPI_finish();
    finish(out);
    PG_RETURN_TEXT_P(cstring_to_text_with_len(out->text.data(), static_cast<int>(out->text.size())));
}

}  // namespace

}  // namespace es

extern "C" {

PG_FUNCTION_INFO_V1(metrics);
// metrics(): Prometheus text exposition of the statistics and health checks.
Datum metrics(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::metrics_impl(fcinfo); });
}

}
