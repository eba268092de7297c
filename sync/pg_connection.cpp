// libpq wrappers (see pg_connection.hpp).
#include "sync/pg_connection.hpp"

#include "sync/log.hpp"

namespace es::sync {

namespace {

std::string trimmed(const char *text)
{
    std::string s = text ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

}  // namespace

PgConnection::PgConnection(const std::string &url, bool replication)
{
    std::vector<const char *> keys = {"dbname", "fallback_application_name"};
    std::vector<const char *> values = {url.c_str(), "electric-shapes-sync"};
    if (replication) {
        keys.push_back("replication");
        values.push_back("database");
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    // expand_dbname = 1: dbname holds the whole connection string, as psql takes it.
    conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
        std::string message = conn_ ? trimmed(PQerrorMessage(conn_)) : "out of memory";
        if (conn_)
            PQfinish(conn_);
        conn_ = nullptr;
        throw PgError("could not connect to the database: " + message, "08006");
    }
    // The server's notices (create_shape's NOTICE about replica identity, ...) go to the JSON
    // log, not to stderr as libpq's default prints them: the log stays one JSON object a line.
    PQsetNoticeProcessor(
        conn_, [](void *, const char *message) { log::info("server notice", "\"notice\":" + log::quote(trimmed(message))); },
        nullptr);
}

PgConnection::~PgConnection()
{
    if (conn_)
        PQfinish(conn_);
}

PgResult PgConnection::exec(const std::string &sql, const std::vector<std::optional<std::string>> &params)
{
    std::vector<const char *> values;
    values.reserve(params.size());
    for (const auto &p : params)
        values.push_back(p ? p->c_str() : nullptr);
    PgResult result(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                 nullptr, nullptr, 0));
    ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
        throw error_of(result.get(), conn_);
    return result;
}

ConnectionPool::Lease ConnectionPool::take()
{
    for (;;) {
        std::unique_ptr<PgConnection> conn;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (idle_.empty())
                break;
            conn = std::move(idle_.back());
            idle_.pop_back();
        }
        // The server may have restarted or ended the session while it was idle: an empty query
        // (one round trip) tells, before the job's first statement would fail on it.
        PgResult probe(PQexec(conn->get(), ""));
        if (probe && PQresultStatus(probe.get()) == PGRES_EMPTY_QUERY)
            return Lease(*this, std::move(conn));
    }
    return Lease(*this, std::make_unique<PgConnection>(url_));
}

void ConnectionPool::give_back(std::unique_ptr<PgConnection> conn)
{
    if (PQstatus(conn->get()) != CONNECTION_OK || PQtransactionStatus(conn->get()) != PQTRANS_IDLE)
        return;  // closed here, with its session
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < max_idle_)
        idle_.push_back(std::move(conn));
}

ConnectionPool::Lease::~Lease()
{
    if (conn_)
        pool_->give_back(std::move(conn_));
}

PgError error_of(const PGresult *result, PGconn *conn)
{
    if (!result)
        return PgError(trimmed(PQerrorMessage(conn)), "08006");
    const char *primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    const char *sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    const char *detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
    std::string message = primary ? primary : trimmed(PQresultErrorMessage(result));
    if (detail)
        message += " (" + std::string(detail) + ")";
    return PgError(message, sqlstate ? sqlstate : "");
}

std::string text_array_literal(const std::vector<std::string> &items)
{
    std::string out = "{";
    for (size_t i = 0; i < items.size(); i++) {
        if (i)
            out += ',';
        out += '"';
        for (char c : items[i]) {
            if (c == '"' || c == '\\')
                out += '\\';
            out += c;
        }
        out += '"';
    }
    out += '}';
    return out;
}

}  // namespace es::sync
