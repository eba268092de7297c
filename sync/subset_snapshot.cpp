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

// A composite primary key's picked rows are matched by a disjunction of one conjunction per
// row: past this many rows, planning that costs more than rendering the rows would.
constexpr uint64_t kMostCompositePicks = 1000;

// The rows of a limited subset, picked by the database before any is rendered. Of the rows of
// where (the shape made just before, in the same transaction, holds them), the table's rows are
// ordered, offset and limited in SQL, as an index can serve them, and the shape is made again
// with a where clause matching exactly those rows by primary key, so that its snapshot renders
// only them; returns true. Rendering every row of a shape only to keep the first 50 (the newest
// messages of a long conversation, TanStack DB's on-demand load) cost seconds per request.
//
// The where is the one create_shape has just parsed and checked as a single expression of the
// table's columns, built-in operators and immutable built-in functions; it is evaluated with
// only pg_catalog on the search path, so a function of another schema can never be chosen over
// the built-in one the check accepted. Returns false, leaving the shape as it was, for a table
// without a primary key, a key of a type that is not built in, or any error in this step (undone
// to the savepoint before it): the caller then renders, orders and limits every row, as before,
// and reports an error in the order as before.
bool pick_rows(PgConnection &conn, const std::string &name, const ShapeDefinition &definition,
               const std::optional<std::string> &where, const std::string &order, uint64_t limit, uint64_t offset)
{
    // The key's columns and types, and the table's name as it reads with pg_catalog alone on
    // the search path.
    auto key = conn.exec(
        "SELECT pg_catalog.quote_ident(a.attname::pg_catalog.text), pg_catalog.format_type(a.atttypid, a.atttypmod), "
        "       a.atttypid OPERATOR(pg_catalog.<) 16384, pg_catalog.format('%I.%I', n.nspname, c.relname) "
        "  FROM pg_catalog.pg_index i "
        "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indrelid "
        "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
        "  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid "
        "       AND a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey::pg_catalog.int2[]) "
        " WHERE i.indrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass AND i.indisprimary "
        " ORDER BY pg_catalog.array_position(i.indkey::pg_catalog.int2[], a.attnum)",
        {definition.table});
    int columns = PQntuples(key.get());
    std::string table = columns ? PQgetvalue(key.get(), 0, 3) : "";
    if (columns == 0 || (columns > 1 && limit > kMostCompositePicks))
        return false;
    std::vector<std::optional<std::string>> params;
    std::string keys, match;
    for (int i = 0; i < columns; i++) {
        if (std::string(PQgetvalue(key.get(), i, 2)) != "t")
            return false;
        std::string column = PQgetvalue(key.get(), i, 0);  // quoted
        params.push_back(column);
        params.push_back(std::string(PQgetvalue(key.get(), i, 1)));
        keys += (i ? ", " : "") + column + " AS k" + std::to_string(i);
        match += (i ? " AND " : "") + std::string("%s OPERATOR(pg_catalog.=) %L::%s");
    }
    std::string picked =
        "(SELECT " + keys + " FROM " + table + " AS r" + (where ? " WHERE (" + *where + "\n)" : std::string()) +
        (order.empty() ? std::string() : " ORDER BY " + order) + " LIMIT " + std::to_string(limit) + " OFFSET " +
        std::to_string(offset) + ") AS p";
    std::string sql;
    if (columns == 1) {
        sql = "SELECT pg_catalog.format('%s OPERATOR(pg_catalog.=) ANY (%L::%s[])', $1::pg_catalog.text, "
              "COALESCE(pg_catalog.array_agg(p.k0)::pg_catalog.text, '{}'), $2::pg_catalog.text) FROM " +
              picked;
    } else {
        std::string args;
        for (int i = 0; i < columns; i++)
            args += ", $" + std::to_string(2 * i + 1) + "::pg_catalog.text, p.k" + std::to_string(i) + ", $" +
                    std::to_string(2 * i + 2) + "::pg_catalog.text";
        sql = "SELECT COALESCE(pg_catalog.string_agg(pg_catalog.format('(" + match + ")'" + args +
              "), ' OR '), 'false') FROM " + picked;
    }
    conn.exec("SAVEPOINT pick_rows");
    try {
        conn.exec("SET LOCAL search_path = pg_catalog, pg_temp");
        auto result = conn.exec(sql, params);
        std::string rows = PQgetvalue(result.get(), 0, 0);
        // The shape again, of exactly those rows.
        conn.exec("SELECT electric_shapes.drop_shape($1)", {name});
        std::string narrowed = where ? "(" + *where + "\n) AND (" + rows + ")" : rows;
        conn.exec("SELECT electric_shapes.create_shape($1, $2::pg_catalog.regclass, $3, $4::pg_catalog.text[], $5)",
                  {name, table, narrowed,
                   definition.columns ? std::optional<std::string>(text_array_literal(*definition.columns))
                                      : std::nullopt,
                   definition.replica});
        conn.exec("RELEASE SAVEPOINT pick_rows");
        return true;
    } catch (const PgError &e) {
        if (e.sqlstate.empty() || is_connection_failure(e.sqlstate))
            throw;
        conn.exec("ROLLBACK TO SAVEPOINT pick_rows");
        return false;
    }
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
            // Picked by the database: the rows rendered are the ones returned, and only
            // ordered (and limited, for a key shared by rows) below.
            bool picked = subset.limit && pick_rows(conn, name, definition, where, order, *subset.limit,
                                                    subset.offset.value_or(0));
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
                                        std::to_string(picked ? 0 : subset.offset.value_or(0))});
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
