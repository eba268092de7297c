// Subset snapshots on a worker thread (see subset_snapshot.hpp).
#include "sync/subset_snapshot.hpp"

#include <nlohmann/json.hpp>

#include "sync/pg_connection.hpp"
#include "sync/pure/stream_message.hpp"
#include "sync/pure/where_params.hpp"

namespace es::sync {

namespace {

bool is_connection_failure(const std::string &sqlstate)
{
    return sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("53", 0) == 0 || sqlstate.rfind("57", 0) == 0 ||
           sqlstate.rfind("40", 0) == 0 || sqlstate.rfind("55", 0) == 0;
}

}  // namespace

SubsetResult query_subset(ConnectionPool &connections, const std::string &name,
                          const ShapeDefinition &definition, const SubsetRequest &subset, uint32_t snapshot_mark)
{
    SubsetResult result;
    std::optional<std::string> where = definition.where;
    if (subset.where) {
        BoundWhere bound = bind_where_params(*subset.where, subset.params);
        if (!bound.error.empty()) {
            result.error_field = "where";
            result.error = bound.error;
            return result;
        }
        // Newlines: a comment at the end of either clause cannot reach the parentheses' other side.
        where = definition.where ? "(" + *definition.where + "\n) AND (" + bound.sql + "\n)" : bound.sql;
    }
    std::string stage = "where";
    try {
        auto lease = connections.take();
        PgConnection &conn = *lease;
        conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
        try {
            conn.exec("SET LOCAL statement_timeout = '30s'");
            conn.exec("SET LOCAL lock_timeout = '5s'");
            conn.exec("SELECT electric_shapes.create_shape($1, $2::pg_catalog.regclass, $3, $4::pg_catalog.text[], $5)",
                      {name, definition.table, where,
                       definition.columns ? std::optional<std::string>(text_array_literal(*definition.columns))
                                          : std::nullopt,
                       definition.replica});
            stage = "order_by";
            std::string order = order_by_sql(subset.order_by);
            // The rows in order, then snapshot-end (Append keeps its branches' order; n makes it
            // explicit).
            std::string sql =
                "WITH snap AS MATERIALIZED (SELECT s, s::pg_catalog.jsonb AS j "
                "                             FROM electric_shapes.shape_snapshot($1) AS s), "
                "     picked AS (SELECT snap.s FROM snap, "
                "                       LATERAL pg_catalog.jsonb_populate_record(NULL::" + definition.table +
                ", snap.j OPERATOR(pg_catalog.->) 'value') AS r "
                "                 WHERE (snap.j OPERATOR(pg_catalog.->) 'headers' OPERATOR(pg_catalog.->>) 'control') IS NULL " +
                (order.empty() ? std::string() : " ORDER BY " + order) +
                "                 LIMIT $2::pg_catalog.int8 OFFSET $3::pg_catalog.int8) "
                "SELECT s FROM (SELECT s, 0 AS part, pg_catalog.row_number() OVER () AS n FROM picked "
                "               UNION ALL "
                "               SELECT s, 1, 0 FROM snap "
                "                WHERE (j OPERATOR(pg_catalog.->) 'headers' OPERATOR(pg_catalog.->>) 'control') = 'snapshot-end') q "
                " ORDER BY part, n";
            auto rows = conn.exec(sql, {name, subset.limit ? std::optional(std::to_string(*subset.limit)) : std::nullopt,
                                        std::to_string(subset.offset.value_or(0))});
            std::string data;
            nlohmann::json metadata;
            for (int i = 0; i < PQntuples(rows.get()); i++) {
                std::string_view line(PQgetvalue(rows.get(), i, 0), static_cast<size_t>(PQgetlength(rows.get(), i, 0)));
                auto message = parse_stream_message(line);
                if (!message)
                    throw PgError("shape_snapshot returned a message the service cannot read");
                if (message->kind == MessageKind::SnapshotEnd) {
                    nlohmann::json doc = nlohmann::json::parse(line);
                    const auto &h = doc["headers"];
                    metadata = {{"xmin", h["xmin"]}, {"xmax", h["xmax"]}, {"xip_list", h["xip_list"]},
                                {"snapshot_mark", snapshot_mark}, {"database_lsn", h["lsn"]}};
                } else if (message->kind == MessageKind::Row) {
                    nlohmann::json doc = nlohmann::json::parse(message->client_json);
                    doc["headers"]["snapshot_mark"] = snapshot_mark;
                    data += data.empty() ? "" : ",";
                    data += doc.dump();
                    result.rows++;
                }
            }
            if (metadata.is_null())
                throw PgError("shape_snapshot returned no snapshot-end message");
            result.body = "{\"metadata\":" + metadata.dump() + ",\"data\":[" + data + "]}";
            result.ok = true;
        } catch (const PgError &e) {
            try {
                conn.exec("ROLLBACK");
            } catch (const std::exception &) {
            }
            if (e.sqlstate.empty() || is_connection_failure(e.sqlstate))
                throw;
            result.error_field = stage;
            result.error = e.what();
            return result;
        }
        conn.exec("ROLLBACK");  // the shape made for the subset goes with it
    } catch (const std::exception &e) {
        result.ok = false;
        result.server_error = true;
        result.error = e.what();
    }
    return result;
}

}  // namespace es::sync
