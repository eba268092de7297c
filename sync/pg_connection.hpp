// libpq for the service's SQL: a connection and results that free themselves, and errors that
// keep PostgreSQL's SQLSTATE and message, because an invalid shape is answered with PostgreSQL's
// own words (SPEC section 8).
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <mutex>
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

// Connections kept between the worker threads' jobs. A new connection costs PostgreSQL a backend
// (fork, authentication, its catalog caches filled again): 10 to 25 ms, more than making a
// small shape takes on a connection that has done it before. A job takes one and hands it back
// when it is done; it goes back to the pool only if it is idle (no transaction open, no result
// left unread), so a job that stopped half way never leaves its state to the next one.
class ConnectionPool {
public:
    ConnectionPool(std::string url, size_t max_idle) : url_(std::move(url)), max_idle_(max_idle) {}
    ConnectionPool(const ConnectionPool &) = delete;
    ConnectionPool &operator=(const ConnectionPool &) = delete;

    class Lease {
    public:
        Lease(ConnectionPool &pool, std::unique_ptr<PgConnection> conn) : pool_(&pool), conn_(std::move(conn)) {}
        Lease(Lease &&) = default;
        Lease &operator=(Lease &&) = delete;
        ~Lease();
        PgConnection &operator*() const { return *conn_; }
        PgConnection *operator->() const { return conn_.get(); }

    private:
        ConnectionPool *pool_;
        std::unique_ptr<PgConnection> conn_;
    };

    // An idle connection that still answers, else a new one. Throws PgError.
    Lease take();

private:
    void give_back(std::unique_ptr<PgConnection> conn);

    const std::string url_;
    const size_t max_idle_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<PgConnection>> idle_;
};

// PostgreSQL's message of a failed result: the primary message (and detail) without the
// "ERROR:" prefix and trailing newline.
PgError error_of(const PGresult *result, PGconn *conn);

// A text[] literal of names: {"a","b"} with quotes and backslashes escaped.
std::string text_array_literal(const std::vector<std::string> &items);

}  // namespace es::sync
