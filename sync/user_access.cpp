// Users' access to shapes (see user_access.hpp).
#include "sync/user_access.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <list>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "sync/log.hpp"
#include "sync/pg_connection.hpp"
#include "sync/pure/where_params.hpp"
#include "sync/shapes.hpp"

namespace es::sync {

namespace asio = boost::asio;

namespace {

constexpr size_t kMaxCachedAnswers = 100000;  // bounded: a full cache is emptied, not grown
constexpr auto kVisibilityWait = std::chrono::seconds(10);  // see Asker::ask
constexpr int kMaxAskAgain = 5;              // answers overtaken by membership changes

std::string json_text(const nlohmann::json &value)
{
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// What the database answered for one user and shape definition.
struct Answer {
    bool allowed = false;
    std::string reason;
    std::string hint;
    std::vector<std::string> depends_on;  // oids of the membership relations the answer read
};

// The question: a user and a shape definition (params bound, as the shape logic binds them).
struct Question {
    BearerUser user;
    std::string table;
    std::optional<std::string> where;
    std::optional<std::vector<std::string>> columns;
    std::string key;  // the cache key: claims and definition
};

// A worker's result: an answer, or the response that ends the request.
struct Outcome {
    std::optional<Answer> answer;
    Response failure;
};

Response forbidden(const std::string &reason, const std::string &hint)
{
    nlohmann::json body = {{"message", "Forbidden"}, {"reason", reason}};
    if (!hint.empty())
        body["hint"] = hint;
    return json_error(403, json_text(body));
}

Response must_refetch(const std::string &handle)
{
    Response r;
    r.status = 409;
    r.set("content-type", "application/json");
    r.set("cache-control", "no-store");
    // A handle the client has not seen, so that it refetches from the start (and is asked again).
    r.set("electric-handle", (handle.empty() ? std::string("revoked") : handle + "-revoked"));
    r.body = "[" + must_refetch_message() + "]";
    return r;
}

// Keeps a user's response out of shared caches (see user_access.hpp).
void make_private(Response &r)
{
    r.own();
    for (auto &[name, value] : r.headers) {
        if (name != "cache-control")
            continue;
        std::string out;
        std::stringstream in(value);
        std::string part;
        while (std::getline(in, part, ',')) {
            size_t b = part.find_first_not_of(' ');
            part = b == std::string::npos ? "" : part.substr(b);
            if (part.empty() || part.rfind("s-maxage", 0) == 0)
                continue;
            if (part == "public")
                part = "private";
            out += out.empty() ? part : ", " + part;
        }
        value = out;
    }
    r.set("vary", "authorization");
}

// The blocking part, on the worker thread with its own connection: the question asked as the
// user, in a transaction that is rolled back (it changes nothing), and the membership relations
// followed by the service's own shapes before an answer that reads them is trusted.
class Asker {
public:
    Asker(const Config &config) : config_(config) {}

    // wait_xid: the last membership change the stream showed (0: none). The stream can show a
    // commit before the server makes it visible to other sessions (its record is flushed, and a
    // synchronous commit then waits for a standby, before the transaction leaves the process
    // array); an answer read in that window would still see the user as a member. So the
    // question waits until that transaction is visible.
    Outcome ask(const Question &q, uint64_t wait_xid)
    {
        if (wait_xid != 0 && !wait_until_visible(wait_xid))
            return unavailable("Unable to check access: a membership change is not visible to the database's "
                               "sessions yet");
        Outcome first = ask_once(q);
        if (!first.answer)
            return first;
        bool followed_now = false;
        for (const std::string &oid : first.answer->depends_on)
            if (!followed_.count(oid)) {
                if (!follow(oid))
                    return unavailable("Unable to follow the membership table " + oid);
                followed_now = true;
            }
        // Asked again after the followers exist: a change committed between the first answer
        // and their creation is in this answer.
        return followed_now ? ask_once(q) : first;
    }

private:
    // True once the transaction with 32-bit id xid32 is visible to a new snapshot; false after
    // kVisibilityWait, or when the server cannot be asked.
    bool wait_until_visible(uint64_t xid32)
    {
        auto deadline = std::chrono::steady_clock::now() + kVisibilityWait;
        try {
            PgConnection &c = connection();
            // The full (epoch-qualified) id: the xid is below any later snapshot's xmax, so it has
            // xmax's epoch when its low 32 bits are not above xmax's, else the epoch before.
            PgResult next = c.exec("SELECT pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::pg_catalog.text");
            uint64_t xmax = std::stoull(PQgetvalue(next.get(), 0, 0));
            uint64_t epoch = xmax >> 32;
            if (xid32 > (xmax & 0xffffffffULL) && epoch > 0)
                epoch--;
            std::string full = std::to_string((epoch << 32) | (xid32 & 0xffffffffULL));
            for (;;) {
                PgResult r = c.exec(
                    "SELECT pg_catalog.pg_visible_in_snapshot($1::pg_catalog.xid8, pg_catalog.pg_current_snapshot())",
                    {full});
                if (std::string(PQgetvalue(r.get(), 0, 0)) == "t")
                    return true;
                if (std::chrono::steady_clock::now() >= deadline) {
                    log::warning("membership change not visible", "\"xid\":" + full);
                    return false;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
        } catch (const std::exception &e) {
            rollback();
            conn_.reset();
            log::warning("user access check failed", "\"error\":" + log::quote(e.what()));
            return false;
        }
    }

    Outcome unavailable(const std::string &message)
    {
        Outcome o;
        o.failure = json_error(503, json_text({{"message", message}}));
        o.failure.set("retry-after", "1");
        return o;
    }

    PgConnection &connection()
    {
        if (conn_ && PQstatus(conn_->get()) != CONNECTION_OK)
            conn_.reset();
        if (!conn_)
            conn_ = std::make_unique<PgConnection>(config_.database_url);
        return *conn_;
    }

    void rollback()
    {
        if (conn_ && PQstatus(conn_->get()) == CONNECTION_OK)
            PQclear(PQexec(conn_->get(), "ROLLBACK"));
    }

    Outcome ask_once(const Question &q)
    {
        Outcome o;
        const char *step = "connect";
        try {
            PgConnection &c = connection();
            c.exec("BEGIN");
            step = "role";
            c.exec("SELECT pg_catalog.set_config('role', $1, true)", {q.user.role});
            step = "authenticate";
            c.exec("SELECT FROM electric_shapes.authenticate($1, $2)", {q.user.token, config_.jwt_secret});
            step = "ask";
            PgResult r = c.exec(
                "SELECT allowed, reason, hint, pg_catalog.array_to_string(depends_on::pg_catalog.oid[], ',') "
                "FROM electric_shapes.shape_access($1::pg_catalog.text::pg_catalog.regclass, $2, $3::pg_catalog.text[])",
                {q.table, q.where,
                 q.columns ? std::optional<std::string>(text_array_literal(*q.columns)) : std::nullopt});
            rollback();
            Answer a;
            a.allowed = std::string(PQgetvalue(r.get(), 0, 0)) == "t";
            a.reason = PQgetvalue(r.get(), 0, 1);
            a.hint = PQgetisnull(r.get(), 0, 2) ? "" : PQgetvalue(r.get(), 0, 2);
            std::stringstream oids(PQgetvalue(r.get(), 0, 3));
            std::string oid;
            while (std::getline(oids, oid, ','))
                if (!oid.empty())
                    a.depends_on.push_back(oid);
            o.answer = std::move(a);
            return o;
        } catch (const PgError &e) {
            rollback();
            std::string state = e.sqlstate;
            if (state.empty() || state.rfind("08", 0) == 0 || state.rfind("53", 0) == 0 ||
                state.rfind("57", 0) == 0 || state.rfind("58", 0) == 0 || state.rfind("XX", 0) == 0) {
                log::warning("user access check failed", "\"error\":" + log::quote(e.what()));
                conn_.reset();
                return unavailable(std::string("Unable to check access: ") + e.what());
            }
            if (std::string(step) == "role") {
                o.failure = forbidden("the token's role claim \"" + q.user.role + "\" cannot be used: " + e.what(),
                                      "Sign tokens whose role claim names a role the service's database user "
                                      "is a member of.");
            } else if (state.rfind("28", 0) == 0) {
                o.failure = unauthorized_response(e.what());
            } else {
                std::string field = state == "42P01" ? "table" : state == "42703" ? "columns" : "where";
                o.failure = invalid_request(field, e.what());
            }
            return o;
        } catch (const std::exception &e) {
            rollback();
            conn_.reset();
            return unavailable(std::string("Unable to check access: ") + e.what());
        }
    }

    // An electric_shapes shape of every row of the relation, owned by the service (not in the
    // prefix of the shapes it serves, so they are never taken for one of those).
    bool follow(const std::string &oid)
    {
        try {
            PgConnection &c = connection();
            c.exec("SELECT electric_shapes.create_shape($1, $2::pg_catalog.oid::pg_catalog.regclass) "
                   "WHERE NOT EXISTS (SELECT FROM electric_shapes.shapes WHERE name = $1)",
                   {follower_prefix(config_) + oid, oid});
            followed_.insert(oid);
            log::info("following membership table", "\"relation\":" + oid);
            return true;
        } catch (const std::exception &e) {
            rollback();
            log::warning("could not follow membership table", "\"relation\":" + oid + ",\"error\":" + log::quote(e.what()));
            return false;
        }
    }

public:
    // The follower of oid was dropped (by someone else, or with its table): made again when an
    // answer reads the table next.
    void forget(const std::string &oid) { followed_.erase(oid); }

    static std::string follower_prefix(const Config &config) { return "esa_" + config.stream_id + "_"; }

private:
    const Config &config_;
    std::unique_ptr<PgConnection> conn_;
    std::set<std::string> followed_;
};

}  // namespace

Response unauthorized_response(const std::string &reason)
{
    Response r = json_error(401, json_text({{"message", "Unauthorized"}, {"reason", reason}}));
    r.set("www-authenticate", "Bearer error=\"invalid_token\"");
    return r;
}

struct UserAccess::Impl : std::enable_shared_from_this<UserAccess::Impl> {
    // A request admitted and not answered yet.
    struct Hold {
        Question question;
        std::string handle;
        std::vector<std::string> depends_on;
        Responder respond;
        bool done = false;
        bool asking = false;                 // asked again after a membership change
        std::optional<Response> pending;     // what the shape logic answered meanwhile
        std::unique_ptr<asio::steady_timer> expiry;
    };
    using HoldPtr = std::shared_ptr<Hold>;

    asio::io_context &io;
    const Config &config;
    Shapes &shapes;
    asio::thread_pool worker{1};
    Asker asker;  // used on the worker thread only
    std::map<std::string, Answer> answers;
    std::list<HoldPtr> holds;
    uint64_t generation = 0;  // membership changes seen
    uint64_t latest_change_xid = 0;  // the transaction of the last one (32-bit id)

    Impl(asio::io_context &io_, const Config &config_, Shapes &shapes_)
        : io(io_), config(config_), shapes(shapes_), asker(config_)
    {
    }

    // Asks on the worker; done(outcome) on the event loop. An answer overtaken by a membership
    // change while it was asked is asked again.
    void ask(Question q, std::function<void(Outcome, bool cacheable)> done, int attempt = 0)
    {
        uint64_t started = generation;
        uint64_t wait_xid = latest_change_xid;
        auto self = shared_from_this();
        asio::post(worker, [self, q = std::move(q), done = std::move(done), started, attempt, wait_xid]() mutable {
            Outcome outcome = self->asker.ask(q, wait_xid);
            asio::post(self->io, [self, q = std::move(q), done = std::move(done), outcome = std::move(outcome),
                                  started, attempt]() mutable {
                if (self->generation != started && outcome.answer && attempt < kMaxAskAgain) {
                    self->ask(std::move(q), std::move(done), attempt + 1);
                    return;
                }
                done(std::move(outcome), self->generation == started);
            });
        });
    }

    void remember(const std::string &key, const Answer &answer)
    {
        if (answers.size() >= kMaxCachedAnswers)
            answers.clear();
        answers[key] = answer;
    }

    void admit(const Question &q, const Answer &answer, const ShapeRequest &request, Responder respond,
               const std::function<void(const ShapeRequest &, Responder)> &serve)
    {
        auto hold = std::make_shared<Hold>();
        hold->question = q;
        hold->handle = request.handle;
        hold->depends_on = answer.depends_on;
        Responder client = respond;  // knows whether the client left (Responder::then below)
        hold->respond = std::move(respond);
        holds.push_back(hold);
        if (q.user.exp) {
            // The token's end ends a held request: 401, as the next request with it would get.
            double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
            auto left = std::chrono::milliseconds(static_cast<int64_t>(std::max(0.0, *q.user.exp - now) * 1000));
            hold->expiry = std::make_unique<asio::steady_timer>(io, left);
            std::weak_ptr<Impl> weak = shared_from_this();
            hold->expiry->async_wait([weak, hold](const boost::system::error_code &ec) {
                auto self = weak.lock();
                if (!ec && self)
                    self->finish(hold, unauthorized_response("JWT has expired"));
            });
        }
        std::weak_ptr<Impl> weak = shared_from_this();
        serve(request, client.then([weak, hold](Response r) {
            auto self = weak.lock();
            if (!self || hold->done)
                return;
            if (hold->asking) {
                hold->pending = std::move(r);
                return;
            }
            self->finish(hold, std::move(r));
        }));
    }

    void finish(const HoldPtr &hold, Response r)
    {
        if (hold->done)
            return;
        hold->done = true;
        if (hold->expiry)
            hold->expiry->cancel();
        holds.remove(hold);
        make_private(r);
        Responder respond = std::move(hold->respond);
        respond(std::move(r));
    }

    // Membership relation oid changed: its answers go; the requests held on them are asked again.
    void changed(const std::set<std::string> &oids)
    {
        generation++;
        auto reads = [&](const std::vector<std::string> &depends) {
            for (const auto &d : depends)
                if (oids.count(d))
                    return true;
            return false;
        };
        for (auto it = answers.begin(); it != answers.end();)
            it = reads(it->second.depends_on) ? answers.erase(it) : std::next(it);
        std::map<std::string, std::vector<HoldPtr>> again;
        for (const HoldPtr &hold : holds)
            if (!hold->asking && reads(hold->depends_on)) {
                hold->asking = true;
                again[hold->question.key].push_back(hold);
            }
        for (auto &[key, group] : again) {
            Question q = group.front()->question;
            ask(q, [self = shared_from_this(), group = std::move(group), key = key](Outcome outcome, bool cacheable) {
                if (outcome.answer && outcome.answer->allowed) {
                    if (cacheable)
                        self->remember(key, *outcome.answer);
                    for (const HoldPtr &hold : group) {
                        hold->asking = false;
                        hold->depends_on = outcome.answer->depends_on;
                        if (hold->pending) {
                            Response r = std::move(*hold->pending);
                            hold->pending.reset();
                            self->finish(hold, std::move(r));
                        }
                    }
                    return;
                }
                if (outcome.answer && cacheable)
                    self->remember(key, *outcome.answer);
                for (const HoldPtr &hold : group) {
                    log::info("access lost: held request ends", "\"sub\":" + log::quote(hold->question.user.sub));
                    self->finish(hold, outcome.answer ? must_refetch(hold->handle) : outcome.failure);
                }
            });
        }
    }
};

UserAccess::UserAccess(asio::io_context &io, const Config &config, Shapes &shapes)
    : impl_(std::make_shared<Impl>(io, config, shapes))
{
    shapes.set_stream_observer([this](const StreamMessage &message) { on_stream_message(message); });
}

UserAccess::~UserAccess()
{
    impl_->shapes.set_stream_observer(nullptr);
    impl_->worker.join();
}

void UserAccess::authorize(const ShapeRequest &request, const BearerUser &user, Responder respond,
                           std::function<void(const ShapeRequest &, Responder)> serve)
{
    if (user.role.empty()) {
        respond(forbidden("the token has no role claim",
                          "Sign tokens with a role claim naming the database role the user's reads run as "
                          "(as PostgREST does), for example {\"sub\": \"alice\", \"role\": \"chat_app\"}."));
        return;
    }
    Question q;
    q.user = user;
    q.table = request.table;
    if (request.where) {
        BoundWhere bound = bind_where_params(*request.where, request.params);
        if (!bound.error.empty()) {
            respond(invalid_request("where", bound.error));
            return;
        }
        q.where = bound.sql;
    }
    q.columns = request.columns;
    nlohmann::json key = {user.claims, q.table, q.where ? nlohmann::json(*q.where) : nlohmann::json(),
                          q.columns ? nlohmann::json(*q.columns) : nlohmann::json()};
    q.key = json_text(key);

    auto cached = impl_->answers.find(q.key);
    if (cached != impl_->answers.end()) {
        if (cached->second.allowed)
            impl_->admit(q, cached->second, request, std::move(respond), serve);
        else
            respond(forbidden(cached->second.reason, cached->second.hint));
        return;
    }
    impl_->ask(q, [impl = impl_, q, request, respond = std::move(respond), serve = std::move(serve)](
                      Outcome outcome, bool cacheable) mutable {
        if (!outcome.answer) {
            respond(std::move(outcome.failure));
            return;
        }
        if (cacheable)
            impl->remember(q.key, *outcome.answer);
        if (outcome.answer->allowed)
            impl->admit(q, *outcome.answer, request, std::move(respond), serve);
        else
            respond(forbidden(outcome.answer->reason, outcome.answer->hint));
    });
}

void UserAccess::on_stream_message(const StreamMessage &message)
{
    std::string prefix = Asker::follower_prefix(impl_->config);
    std::set<std::string> oids;
    for (const std::string &name : message.shapes)
        if (name.rfind(prefix, 0) == 0)
            oids.insert(name.substr(prefix.size()));
    if (oids.empty())
        return;
    if (message.xid != 0)
        impl_->latest_change_xid = message.xid;
    if (message.kind == MessageKind::ShapeDropped)
        asio::post(impl_->worker, [impl = impl_, oids]() {
            for (const std::string &oid : oids)
                impl->asker.forget(oid);
        });
    impl_->changed(oids);
}

}  // namespace es::sync
