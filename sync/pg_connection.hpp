// libpq for the service's SQL: a connection and results that free themselves, and errors that
// keep PostgreSQL's SQLSTATE and message, because an invalid shape is answered with PostgreSQL's
// own words (SPEC section 8).
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace es::sync {

struct PgError : std::runtime_error {
    std::string sqlstate;
    PgError(const std::string &message, std::string sqlstate_ = {})
        : std::runtime_error(message), sqlstate(std::move(sqlstate_))
    {
    }
};

struct PgResultDeleter {
    void operator()(PGresult *r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

class PgConnection {
public:
    // Connects; replication=database when replication is true. Throws PgError.
    explicit PgConnection(const std::string &url, bool replication = false);
    ~PgConnection();
    PgConnection(const PgConnection &) = delete;
    PgConnection &operator=(const PgConnection &) = delete;

    PGconn *get() const { return conn_; }

    // Runs sql with text parameters (nullopt is NULL); throws PgError unless the status is
    // PGRES_TUPLES_OK or PGRES_COMMAND_OK.
    PgResult exec(const std::string &sql, const std::vector<std::optional<std::string>> &params = {});

private:
    PGconn *conn_ = nullptr;
};

// PostgreSQL's message of a failed result: the primary message (and detail) without the
// "ERROR:" prefix and trailing newline.
PgError error_of(const PGresult *result, PGconn *conn);

// A text[] literal of names: {"a","b"} with quotes and backslashes escaped.
std::string text_array_literal(const std::vector<std::string> &items);

}  // namespace es::sync
