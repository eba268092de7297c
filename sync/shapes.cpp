// The service's shapes (see shapes.hpp).
#include "sync/shapes.hpp"

#include <boost/asio/post.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "sync/log.hpp"
#include "sync/metrics.hpp"
#include "sync/pg_connection.hpp"
#include "sync/pure/commit_time.hpp"
#include "sync/pure/live_cursor.hpp"
#include "sync/pure/sse.hpp"
#include "sync/pure/where_params.hpp"
#include "sync/request_log.hpp"
#include "sync/subset_snapshot.hpp"

namespace es::sync {

namespace asio = boost::asio;
namespace fs = std::filesystem;

struct Shapes::Shape {
    enum class State { Creating, Ready, Failed, Gone };
    std::string key, handle, name, dir;
    ShapeDefinition definition;
    State state = State::Creating;
    SnapshotBounds bounds;
    std::string schema_json;
    // Shared with a running fsync round, which keeps the file open if the shape goes meanwhile.
    std::shared_ptr<ShapeLog> log;
    LogOffset last_appended = LogOffset::snapshot_end();
    std::vector<Staged> pending;  // committed messages waiting for the snapshot
    uint64_t hold_lsn = 0;        // while Creating: the slot is not confirmed past this
    std::string rotated_to;       // when Gone: the handle of the shape that replaced it
    bool deleted = false;         // when Gone: dropped by DELETE /v1/shape
    CreationResult failure;
    // In arrival order, so the long-polls' deadlines (arrival + the same timeout) only grow
    // along it: one timer per shape, armed for the first, expires them (expire_waiters).
    std::list<std::shared_ptr<Waiter>> waiters;
    std::unique_ptr<boost::asio::steady_timer> wait_timer;
    std::optional<std::chrono::steady_clock::time_point> wait_timer_at;  // when armed
    std::chrono::steady_clock::time_point last_used = std::chrono::steady_clock::now();  // retention
    std::vector<uint64_t> snapshot_chunks;  // snapshot_chunk_bounds, once a client asked
    // While Creating: where the snapshot's chunks cut so far start (SnapshotProgress); those
    // followed by a cut are complete in the file and served before the shape is ready.
    std::vector<uint64_t> early_chunks;
    // The snapshot chunk responses being written, by request offset and whether the shape was
    // being created: every client that asks for a chunk meanwhile gets the same one
    // (shared_chunk_response).
    std::map<std::pair<std::string, bool>, std::weak_ptr<const Response>> chunk_responses;
    bool paced = false;  // in paced_: its waiters are woken at the next pace tick
};

struct Shapes::Waiter {
    ShapeRequest request;
    Responder respond;
    // A long-poll's: when it ends up-to-date at its offset if nothing came. None for a request
    // waiting for its shape to be created.
    std::optional<std::chrono::steady_clock::time_point> deadline;
    bool done = false;
    // Answered, or its client left (Responder::client_gone): nothing to do for it any more.
    bool ended() const { return done || respond.client_gone(); }
};

namespace {

Response must_refetch_response(const std::string &handle)
{
    Response r;
    r.status = 409;
    r.set("content-type", "application/json");
    if (!handle.empty())
        r.set("electric-handle", handle);
    // As Electric: a redirect to a new handle is cached a minute, one without a handle a second.
    r.set("cache-control", handle.empty() ? "public, max-age=1, must-revalidate" : "public, max-age=60, must-revalidate");
    r.body = "[" + must_refetch_message() + "]";
    return r;
}

Response creation_failure_response(const CreationResult &failure)
{
    if (failure.server_error) {
        Response r = json_error(503, nlohmann::json({{"message", "Unable to create the shape: " + failure.error}})
                                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        r.set("retry-after", "1");
        return r;
    }
    return invalid_request(failure.error_field, failure.error);
}


uint32_t cursor_jitter()
{
    static std::mt19937 rng(std::random_device{}());
    return std::uniform_int_distribution<uint32_t>(1, 3600)(rng);
}

}  // namespace

Shapes::Shapes(asio::io_context &io, const Config &config, uint64_t confirmed_lsn)
    : io_(io), config_(config), connections_(config.database_url, kWorkers), workers_(kWorkers),
      shapes_dir_(config.storage_dir + "/shapes"),
      durable_lsn_(confirmed_lsn), last_seen_lsn_(confirmed_lsn), committed_lsn_(confirmed_lsn)
{
}

Shapes::~Shapes()
{
    syncer_.join();
    workers_.join();
}

std::string Shapes::new_handle(const std::string &key)
{
    uint64_t micros = static_cast<uint64_t>(unix_now_us());
    if (micros <= last_handle_micros_)
        micros = last_handle_micros_ + 1;
    last_handle_micros_ = micros;
    return std::to_string(std::hash<std::string>{}(key) % 100000000) + "-" + std::to_string(micros);
}

void Shapes::restore()
{
    fs::create_directories(shapes_dir_);
    // Before any log is read: what the last run's journal holds goes back into the logs.
    size_t replayed = Journal::recover(config_.storage_dir);
    if (replayed)
        log::info("journal replayed", "\"records\":" + std::to_string(replayed));
    journal_ = std::make_unique<Journal>(config_.storage_dir);
    PgConnection conn(config_.database_url);
    std::string prefix = config_.shape_prefix();
    auto owned_result = conn.exec(
        "SELECT name FROM electric_shapes.shapes WHERE pg_catalog.left(name, pg_catalog.length($1)) = $1", {prefix});
    std::set<std::string> owned;
    for (int i = 0; i < PQntuples(owned_result.get()); i++)
        owned.insert(PQgetvalue(owned_result.get(), i, 0));

    for (const auto &entry : fs::directory_iterator(shapes_dir_)) {
        std::string dir = entry.path().string();
        std::ifstream in(dir + "/shape.json");
        nlohmann::json meta = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
        if (meta.is_discarded() || !meta.is_object() || !meta.contains("name") ||
            !owned.count(meta.value("name", std::string()))) {
            // A snapshot a crash interrupted, or a shape dropped behind the service's back.
            log::info("removing incomplete shape files", "\"dir\":" + log::quote(dir));
            fs::remove_all(entry.path());
            continue;
        }
        auto shape = std::make_shared<Shape>();
        shape->handle = meta["handle"].get<std::string>();
        shape->name = meta["name"].get<std::string>();
        shape->dir = dir;
        const auto &d = meta["definition"];
        shape->definition.table = d["table"].get<std::string>();
        if (!d["where"].is_null())
            shape->definition.where = d["where"].get<std::string>();
        if (!d["columns"].is_null())
            shape->definition.columns = d["columns"].get<std::vector<std::string>>();
        shape->definition.replica = d["replica"].get<std::string>();
        shape->definition.log = d.value("log", std::string("full"));
        shape->key = shape->definition.key();
        shape->schema_json = meta["schema"].get<std::string>();
        shape->bounds.xmin = meta["xmin"].get<uint64_t>();
        shape->bounds.xmax = meta["xmax"].get<uint64_t>();
        for (uint64_t x : meta["xip"])
            shape->bounds.xip.insert(x);
        shape->log = std::make_unique<ShapeLog>(dir, config_.chunk_bytes_threshold);
        shape->last_appended = shape->log->last_offset();
        shape->state = Shape::State::Ready;
        owned.erase(shape->name);
        size_t dash = shape->handle.find('-');
        if (dash != std::string::npos)
            last_handle_micros_ = std::max<uint64_t>(last_handle_micros_, std::stoull(shape->handle.substr(dash + 1)));
        by_key_[shape->key] = shape;
        by_name_[shape->name] = shape;
        shape_event("restored", shape->handle, "", "startup", "\"messages\":" + std::to_string(shape->log->size()));
    }
    // Whatever the logs hold now is shown to clients: the lines a killed service had written
    // but not yet made durable are made so before anyone reads them.
    std::vector<const ShapeLog *> logs;
    for (const auto &[key, shape] : by_key_)
        logs.push_back(shape->log.get());
    sync_logs(logs);
    for (const auto &name : owned) {
        log::info("dropping shape without files", "\"shape\":" + log::quote(name));
        conn.exec("SELECT electric_shapes.drop_shape($1, true)", {name});
    }
}

Shapes::ShapePtr Shapes::start_shape(const ShapeDefinition &definition, const std::string &key,
                                     const std::string &request_id, const std::string &cause)
{
    if (config_.ops.max_shapes && !by_key_.count(key) && by_key_.size() >= config_.ops.max_shapes)
        evict_least_recently_used();
    auto shape = std::make_shared<Shape>();
    shape->key = key;
    shape->definition = definition;
    shape->handle = new_handle(key);
    shape->name = config_.shape_prefix() + shape->handle;
    shape->dir = shapes_dir_ + "/" + shape->handle;
    shape->hold_lsn = confirmable_lsn();
    creating_.push_back(shape);
    by_key_[key] = shape;
    by_name_[shape->name] = shape;
    shape_event("created", shape->handle, request_id, cause, "\"definition\":" + definition.to_json());
    asio::post(workers_, [this, shape, name = shape->name, definition,
                          dir = shape->dir, handle = shape->handle, chunk_bytes = config_.chunk_bytes_threshold]() {
        auto progress = [this, shape](const std::string &schema_json, const std::vector<uint64_t> &starts) {
            asio::post(io_, [this, shape, schema_json, starts]() { snapshot_progress(shape, schema_json, starts); });
        };
        CreationResult result = create_shape_with_snapshot(connections_, name, definition, dir, handle, chunk_bytes, progress);
        asio::post(io_, [this, shape, result = std::move(result)]() mutable {
            finish_creation(shape, std::move(result));
        });
    });
    return shape;
}

void Shapes::snapshot_progress(const ShapePtr &shape, const std::string &schema_json,
                               const std::vector<uint64_t> &starts)
{
    if (shape->state != Shape::State::Creating)
        return;
    shape->schema_json = schema_json;
    shape->early_chunks = starts;
    wake(shape);  // the requests for a chunk now complete get it; the others wait on
}

bool Shapes::early_chunk(const ShapePtr &shape, const ShapeRequest &request) const
{
    if (request.subset || request.offset_now || shape->definition.log == "changes_only")
        return false;
    size_t k;
    if (request.offset.before_all)
        k = 0;
    else if (request.offset.tx == 0 && request.offset.op != LogOffset::kInf)
        k = static_cast<size_t>(request.offset.op) + 1;
    else
        return false;
    return k + 1 < shape->early_chunks.size();
}

void Shapes::finish_creation(const ShapePtr &shape, CreationResult result)
{
    if (shape->state == Shape::State::Gone) {
        discard(shape);
        return;
    }
    if (!result.ok) {
        log::info("shape refused", "\"handle\":" + log::quote(shape->handle) + ",\"error\":" + log::quote(result.error));
        shape->state = Shape::State::Failed;
        shape->failure = std::move(result);
        shape->pending.clear();
        auto it = by_key_.find(shape->key);
        if (it != by_key_.end() && it->second == shape)
            by_key_.erase(it);
        by_name_.erase(shape->name);
        wake(shape);
        return;
    }
    try {
        shape->bounds = result.bounds;
        shape->schema_json = result.schema_json;
        shape->snapshot_chunks = std::move(result.snapshot_chunks);
        shape->log = std::make_unique<ShapeLog>(shape->dir, config_.chunk_bytes_threshold);
        for (const Staged &m : shape->pending) {
            if (visible_in_snapshot(shape->bounds, m.xid) || !(shape->last_appended < m.offset))
                continue;
            shape->log->append(m.offset, *m.json);
            shape->last_appended = m.offset;
        }
        shape->pending.clear();
        shape->log->sync();
        shape->state = Shape::State::Ready;
        log::info("shape ready", "\"handle\":" + log::quote(shape->handle) + ",\"rows\":" + std::to_string(result.rows));
    } catch (const std::exception &e) {
        result.ok = false;
        result.server_error = true;
        result.error = e.what();
        shape->state = Shape::State::Gone;  // its files cannot be trusted: drop it whole
        shape->failure = result;
        by_key_.erase(shape->key);
        by_name_.erase(shape->name);
        discard(shape);
    }
    wake(shape);
}

void Shapes::discard(const ShapePtr &shape)
{
    shape->log.reset();
    asio::post(workers_, [this, name = shape->name, dir = shape->dir]() {
        drop_owned_shape(connections_, name);
        std::error_code ignored;
        fs::remove_all(dir, ignored);
    });
}

void Shapes::resolve(const ShapeRequest &request, Responder respond,
                     std::function<void(const ShapeDefinition &, const std::string &, Responder)> next)
{
    ShapeDefinition definition;
    definition.table = request.table;
    if (request.where) {
        BoundWhere bound = bind_where_params(*request.where, request.params);
        if (!bound.error.empty()) {
            respond(invalid_request("where", bound.error));
            return;
        }
        definition.where = bound.sql;
    }
    definition.columns = request.columns;
    definition.replica = request.replica;
    definition.log = request.log;
    auto known = tables_.find(request.table);
    if (known != tables_.end()) {
        definition.table = known->second;
        next(definition, definition.key(), std::move(respond));
        return;
    }
    asio::post(workers_, [this, definition, respond = std::move(respond), next = std::move(next)]() mutable {
        TableResolution resolved = resolve_table(connections_, definition.table);
        asio::post(io_, [this, definition = std::move(definition), respond = std::move(respond),
                         next = std::move(next), resolved = std::move(resolved)]() mutable {
            if (!resolved.ok) {
                if (resolved.server_error) {
                    Response r = json_error(503, nlohmann::json({{"message", "Unable to resolve the table: " + resolved.error}})
                                                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
                    r.set("retry-after", "1");
                    respond(std::move(r));
                } else {
                    respond(invalid_request("table", resolved.error));
                }
                return;
            }
            if (tables_.size() >= 10000)  // spellings are client input: bound what is kept
                tables_.clear();
            tables_[definition.table] = resolved.table;
            definition.table = resolved.table;
            next(definition, definition.key(), std::move(respond));
        });
    });
}

void Shapes::handle_get(const ShapeRequest &request, Responder respond)
{
    resolve(request, std::move(respond),
            [this, request](const ShapeDefinition &definition, const std::string &key, Responder respond) {
                dispatch(definition, key, request, std::move(respond));
            });
}

void Shapes::dispatch(const ShapeDefinition &definition, const std::string &key, const ShapeRequest &request,
                      Responder respond)
{
    auto it = by_key_.find(key);
    ShapePtr shape = it != by_key_.end() ? it->second : start_shape(definition, key, request.request_id, "request");
    shape->last_used = std::chrono::steady_clock::now();
    if (!request.offset.before_all && !request.offset_now && request.handle != shape->handle) {
        respond(must_refetch_response(shape->handle));
        return;
    }
    serve(shape, request, std::move(respond));
}

void Shapes::handle_delete(const ShapeRequest &request, Responder respond)
{
    resolve(request, std::move(respond),
            [this, request](const ShapeDefinition &, const std::string &key, Responder respond) {
                auto it = by_key_.find(key);
                if (it == by_key_.end() || (!request.handle.empty() && request.handle != it->second->handle)) {
                    respond(json_error(404, "{\"message\":\"Shape not found\"}"));
                    return;
                }
                remove_shape(it->second, "delete", request.request_id);
                Response r;
                r.status = 202;
                respond(std::move(r));
            });
}

void Shapes::serve(const ShapePtr &shape, const ShapeRequest &request, Responder respond, WakeBatch *batch)
{
    switch (shape->state) {
    case Shape::State::Creating:
        // A snapshot chunk already complete in the file is served while the rest is read (the
        // same response as once the shape is ready: the cuts do not depend on when). Should
        // the creation fail after all, the client's next request gets 409 and a new handle.
        if (early_chunk(shape, request)) {
            try {
                respond(request.live ? shape_response(shape, request) : shared_chunk_response(shape, request));
            } catch (const std::exception &e) {
                log::error("could not read shape snapshot", "\"handle\":" + log::quote(shape->handle) +
                                                                ",\"error\":" + log::quote(e.what()));
                respond(json_error(500, "{\"error\":\"Internal server error\"}"));
            }
            return;
        }
        wait(shape, request, std::move(respond), false);
        return;
    case Shape::State::Failed:
        respond(creation_failure_response(shape->failure));
        return;
    case Shape::State::Gone:
        if (shape->deleted)
            respond(must_refetch_response(""));  // the next request makes the shape again
        else if (shape->rotated_to.empty())
            respond(creation_failure_response(shape->failure));
        else
            respond(must_refetch_response(shape->rotated_to));
        return;
    case Shape::State::Ready:
        break;
    }
    if (request.subset) {
        serve_subset(shape, request, std::move(respond));
        return;
    }
    try {
        if (!request.offset.before_all && !request.offset_now) {
            LogOffset last = shape->log->last_offset();
            if (last < request.offset && !is_sse_resume_offset(request.offset, last)) {
                respond(invalid_request("offset", "out of bounds for this shape"));
                return;
            }
            // A live long-poll waits for the next change; while the stream catches up, also
            // one that has changes to get (it came back from a paced response and more came
            // meanwhile): they are paced as those the rounds wake, else each paced response
            // would be followed at once by a small one.
            bool has_changes = request.offset < last;
            if (request.live && !draining_ && (!has_changes || (catching_up_ && !batch && !request.live_sse))) {
                wait(shape, request, std::move(respond), true);
                if (has_changes)
                    pace(shape);
                return;
            }
        }
        if (!request.live && snapshot_chunk_request(shape, request)) {
            respond(shared_chunk_response(shape, request));
            return;
        }
        if (batch && request.live && !request.offset.before_all && !request.offset_now) {
            auto key = std::make_tuple(request.offset.tx, request.offset.op, request.live_sse,
                                       request.live_sse ? std::string() : request.cursor);
            auto it = batch->responses.find(key);
            if (it == batch->responses.end())
                it = batch->responses
                         .emplace(key, std::make_shared<const Response>(shape_response(shape, request, &batch->reads)))
                         .first;
            respond(Response::sharing(it->second));
            return;
        }
        respond(shape_response(shape, request, batch ? &batch->reads : nullptr));
    } catch (const std::exception &e) {
        log::error("could not read shape log", "\"handle\":" + log::quote(shape->handle) + ",\"error\":" + log::quote(e.what()));
        respond(json_error(500, "{\"error\":\"Internal server error\"}"));
    }
}

void Shapes::serve_subset(const ShapePtr &shape, const ShapeRequest &request, Responder respond)
{
    // The response's offset: the client's own, or for a client without one yet (-1, now) the
    // log's end now, before the subset's snapshot is taken, so that every change up to it is in
    // that snapshot and every change after it comes through the log.
    LogOffset offset =
        request.offset.before_all || request.offset_now ? shape->log->last_offset() : request.offset;
    static std::mt19937 rng(std::random_device{}());
    uint32_t mark = std::uniform_int_distribution<uint32_t>(1, INT32_MAX)(rng);
    std::string name = config_.shape_prefix() + "subset-" + std::to_string(++subsets_);
    asio::post(workers_, [this, shape, name, mark, offset, definition = shape->definition,
                          subset = *request.subset, respond = std::move(respond)]() mutable {
        SubsetResult result = query_subset(connections_, name, definition, subset, mark);
        asio::post(io_, [shape, offset, result = std::move(result), respond = std::move(respond)]() mutable {
            if (!result.ok && result.server_error) {
                Response r = json_error(503, nlohmann::json({{"message", "Unable to read the subset: " + result.error}})
                                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
                r.set("retry-after", "1");
                respond(std::move(r));
                return;
            }
            if (!result.ok) {
                nlohmann::json body = {{"message", "Invalid request"},
                                       {"errors", {{"subset", {{result.error_field, result.error}}}}}};
                respond(json_error(400, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
                return;
            }
            Response r;
            r.set("content-type", "application/json");
            r.set("cache-control", "no-cache");
            r.set("electric-snapshot", "true");
            r.set("electric-handle", shape->handle);
            r.set("electric-schema", shape->schema_json);
            r.set("electric-offset", offset.str());
            r.body = std::move(result.body);
            respond(std::move(r));
        });
    });
}

bool Shapes::snapshot_chunk_request(const ShapePtr &shape, const ShapeRequest &request)
{
    if (request.offset_now || request.subset)
        return false;
    if (request.offset.before_all)
        return shape->definition.log != "changes_only";
    return request.offset.tx == 0 && request.offset.op != LogOffset::kInf;
}

Response Shapes::shared_chunk_response(const ShapePtr &shape, const ShapeRequest &request) const
{
    auto key = std::make_pair(request.offset.str(), shape->state == Shape::State::Creating);
    std::shared_ptr<const Response> response = shape->chunk_responses[key].lock();
    if (!response) {
        response = std::make_shared<const Response>(shape_response(shape, request));
        shape->chunk_responses[key] = response;
    }
    return Response::sharing(std::move(response));
}

Response Shapes::shape_response(const ShapePtr &shape, const ShapeRequest &request, LogReads *reads) const
{
    Response r;
    r.set("content-type", "application/json");
    r.set("electric-handle", shape->handle);
    LogOffset offset = request.offset;
    bool has_data = false;
    if (request.offset_now) {
        // No data: where the log ends now, up to date there.
        offset = shape->log->last_offset();
        uint64_t seen = std::max(last_seen_lsn_, offset.op == LogOffset::kInf ? 0 : offset.tx);
        r.body = "[" + up_to_date_message(seen) + "]";
        r.set("electric-up-to-date", "");
        r.set("cache-control", "public, max-age=60, stale-while-revalidate=300");
    } else if (request.offset.before_all && shape->definition.log == "changes_only") {
        // No rows: the client starts at the log's current end (snapshot-end still gives the
        // snapshot the log starts after, as Electric's changes_only initial response does).
        r.body = "[" + snapshot_end_message(shape->bounds) + "]";
        offset = shape->log->last_offset();
        r.set("cache-control", "public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746");
    } else if (snapshot_chunk_request(shape, request)) {
        // The snapshot, one chunk per response: -1 is chunk 0, "0_k" asks for chunk k + 1; the
        // last chunk ends with snapshot-end at 0_inf (a snapshot of one chunk: -1 -> 0_inf).
        // While the shape is created, the chunks complete so far (early_chunk checked k): none
        // of them is the last.
        bool creating = shape->state == Shape::State::Creating;
        if (!creating && shape->snapshot_chunks.empty())
            shape->snapshot_chunks = snapshot_chunk_bounds(shape->dir, config_.chunk_bytes_threshold);
        const std::vector<uint64_t> &bounds = creating ? shape->early_chunks : shape->snapshot_chunks;
        size_t chunks = bounds.size() - 1;
        size_t k = request.offset.before_all ? 0 : static_cast<size_t>(request.offset.op) + 1;
        if (k >= chunks)
            return invalid_request("offset", "out of bounds for this shape");
        bool last_chunk = !creating && k + 1 == chunks;
        std::string tail = last_chunk ? snapshot_end_message(shape->bounds) : std::string();
        // Read from the file as it is written out: a client that reads slowly holds a piece of
        // the chunk, not megabytes. A live request (there is no reason for one here) gets it in
        // memory, as an SSE stream reads its body as a whole.
        if (request.live)
            r.body = snapshot_chunk_body(shape->dir, bounds[k], bounds[k + 1], tail);
        else
            r.streamed = streamed_file_messages(shape->dir + "/snapshot.jsonl", bounds[k], bounds[k + 1], tail);
        offset = last_chunk ? LogOffset::snapshot_end() : LogOffset::at(0, k);
        has_data = true;
        r.set("cache-control", request.offset.before_all
                                   ? "public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746"
                                   : "public, max-age=60, stale-while-revalidate=300");
    } else {
        LogOffset last = request.offset;
        std::string own;
        const std::string *read = &own;
        // Messages read from the file for this request alone are streamed from it, as snapshot
        // chunks are, past kStreamedLogBytes (smaller ones are read with the log's own
        // descriptor, not a file opened per response): a client catching up slowly on a large
        // transaction holds a piece of it.
        // Those of a wake batch are read once for all its requests, and an SSE stream reads its
        // body as a whole: both in memory.
        std::optional<ShapeLog::FileRange> range;
        if (reads) {
            auto [it, fresh] = reads->try_emplace({request.offset.tx, request.offset.op});
            auto &[shared, shared_last] = it->second;
            if (fresh) {
                shared_last = last;
                shared = shape->log->read_after(request.offset, shared_last);
            }
            read = &shared;
            last = shared_last;
        } else if (request.live_sse || !(range = shape->log->file_range_after(request.offset, last, kStreamedLogBytes))) {
            own = shape->log->read_after(request.offset, last);
        }
        const std::string &messages = *read;
        has_data = range || !messages.empty();
        offset = last;
        std::string tail;
        if (last == shape->log->last_offset() || !has_data) {
            // At the log's end: up to date. A chunk before the end is not (the client asks on).
            uint64_t seen = std::max(last_seen_lsn_, offset.op == LogOffset::kInf ? 0 : offset.tx);
            if (request.live_sse)  // an SSE client resumes from "<seen>_0" (see pure/sse.hpp)
                seen = sse_resume_lsn(shape->log->last_offset());
            tail = up_to_date_message(seen);
            r.set("electric-up-to-date", "");
        }
        if (range)
            r.streamed = streamed_file_messages(shape->log->path(), range->begin, range->end, tail);
        else
            r.body = "[" + messages + (messages.empty() || tail.empty() ? "" : ",") + tail + "]";
        if (has_data && offset.op != LogOffset::kInf)
            r.commit_unix_us = metrics::commit_time_of(offset.tx);
        r.set("cache-control", request.live ? "public, max-age=5, stale-while-revalidate=5"
                                            : "public, max-age=60, stale-while-revalidate=300");
    }
    r.set("electric-offset", offset.str());
    r.set("electric-has-data", has_data ? "true" : "false");
    if (request.live) {
        int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
        r.set("electric-cursor", next_live_cursor(now, config_.long_poll_timeout_ms, request.cursor, cursor_jitter()));
    } else {
        r.set("electric-schema", shape->schema_json);
    }
    std::string etag =
        shape->handle + ":" + (request.offset_now ? std::string("now") : request.offset.str()) + ":" + offset.str();
    if (!has_data)
        etag += ":" + std::to_string(unix_now_us());  // a response with no change never revalidates
    r.set("etag", "\"" + etag + "\"");
    return r;
}

void Shapes::wait(const ShapePtr &shape, const ShapeRequest &request, Responder respond, bool for_data)
{
    // Those whose clients left, at the front of the line, go now rather than at their timeout.
    while (!shape->waiters.empty() && shape->waiters.front()->ended())
        shape->waiters.pop_front();
    auto waiter = std::make_shared<Waiter>();
    waiter->request = request;
    waiter->respond = std::move(respond);
    if (for_data)
        waiter->deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.long_poll_timeout_ms);
    shape->waiters.push_back(waiter);
    if (waiter->deadline)
        arm_wait_timer(shape, *waiter->deadline);
}

void Shapes::arm_wait_timer(const ShapePtr &shape, std::chrono::steady_clock::time_point at)
{
    // A timer armed no later than at expires this waiter in its turn. One armed for a waiter a
    // wake answered since fires early and re-arms for the first still waiting.
    if (shape->wait_timer_at && *shape->wait_timer_at <= at)
        return;
    if (!shape->wait_timer)
        shape->wait_timer = std::make_unique<asio::steady_timer>(io_);
    shape->wait_timer->expires_at(at);
    shape->wait_timer_at = at;
    std::weak_ptr<Shape> weak_shape = shape;
    shape->wait_timer->async_wait([this, weak_shape](const boost::system::error_code &ec) {
        if (ec)
            return;  // re-armed, or the shape is gone (its waiters were answered then)
        if (ShapePtr shape = weak_shape.lock()) {
            shape->wait_timer_at.reset();
            expire_waiters(shape);
        }
    });
}

void Shapes::expire_waiters(const ShapePtr &shape)
{
    auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<Waiter>> expired;
    for (auto it = shape->waiters.begin(); it != shape->waiters.end();) {
        const auto &waiter = *it;
        if (waiter->ended()) {
            it = shape->waiters.erase(it);
        } else if (!waiter->deadline) {
            ++it;
        } else if (*waiter->deadline <= now) {
            expired.push_back(waiter);
            it = shape->waiters.erase(it);
        } else {
            arm_wait_timer(shape, *waiter->deadline);  // the first still waiting: later ones follow it
            break;
        }
    }
    for (auto &waiter : expired) {
        waiter->done = true;
        if (shape->state != Shape::State::Ready) {
            serve(shape, waiter->request, std::move(waiter->respond));
            continue;
        }
        // Nothing new within the timeout: up-to-date at the same offset.
        try {
            waiter->respond(shape_response(shape, waiter->request));
        } catch (const std::exception &e) {
            waiter->respond(json_error(500, "{\"error\":\"Internal server error\"}"));
        }
    }
}

void Shapes::wake(const ShapePtr &shape)
{
    auto waiters = std::move(shape->waiters);
    shape->waiters.clear();
    WakeBatch batch;
    for (auto &waiter : waiters) {
        if (waiter->ended())
            continue;
        waiter->done = true;
        serve(shape, waiter->request, std::move(waiter->respond), &batch);
    }
}

void Shapes::wake_or_pace(const ShapePtr &shape)
{
    if (!catching_up_ || shape->waiters.empty())
        wake(shape);
    else
        pace(shape);
}

void Shapes::pace(const ShapePtr &shape)
{
    if (shape->paced)
        return;
    shape->paced = true;
    paced_.push_back(shape);
    if (paced_.size() > 1)
        return;  // the timer is armed for the first one
    pace_timer_.expires_after(kCatchUpWakeInterval);
    pace_timer_.async_wait([this](const boost::system::error_code &ec) {
        if (!ec)
            wake_paced();
    });
}

void Shapes::wake_paced()
{
    auto shapes = std::move(paced_);
    paced_.clear();
    for (auto &shape : shapes) {
        shape->paced = false;
        wake(shape);
    }
}

void Shapes::set_catching_up(bool behind)
{
    catching_up_ = behind;
    if (!behind && !paced_.empty()) {
        pace_timer_.cancel();
        wake_paced();
    }
}

void Shapes::rotate(ShapePtr shape, const std::string &cause)
{
    if (shape->state == Shape::State::Gone || shape->state == Shape::State::Failed)
        return;
    bool creating = shape->state == Shape::State::Creating;
    ShapePtr replacement = start_shape(shape->definition, shape->key, "", cause);
    shape_event("rotated", shape->handle, "", cause, "\"new_handle\":" + log::quote(replacement->handle));
    shape->state = Shape::State::Gone;
    shape->rotated_to = replacement->handle;
    shape->pending.clear();
    by_name_.erase(shape->name);
    dirty_.erase(std::remove(dirty_.begin(), dirty_.end(), shape), dirty_.end());
    if (!creating)
        discard(shape);  // else finish_creation discards it once its worker is done
    wake(shape);
}

void Shapes::on_begin()
{
    in_transaction_ = true;
}

void Shapes::on_row(StreamMessage &&message)
{
    if (observer_)
        observer_(message);
    std::shared_ptr<const std::string> json;
    LogOffset offset = LogOffset::at(message.lsn, message.op_position);
    for (const auto &name : message.shapes) {
        auto it = by_name_.find(name);
        if (it == by_name_.end())
            continue;
        if (!json)
            json = std::make_shared<const std::string>(std::move(message.client_json));
        transaction_.push_back({it->second, offset, message.xid, json});
    }
}

void Shapes::on_commit(uint64_t commit_lsn, uint64_t end_lsn)
{
    for (Staged &m : transaction_) {
        const ShapePtr &shape = m.shape;
        if (shape->state == Shape::State::Creating) {
            shape->pending.push_back(m);
        } else if (shape->state == Shape::State::Ready) {
            if (visible_in_snapshot(shape->bounds, m.xid) || !(shape->last_appended < m.offset))
                continue;
            shape->log->append(m.offset, *m.json);
            shape->last_appended = m.offset;
            if (std::find(dirty_.begin(), dirty_.end(), shape) == dirty_.end())
                dirty_.push_back(shape);
        }
    }
    transaction_.clear();
    in_transaction_ = false;
    last_seen_lsn_ = std::max(last_seen_lsn_, commit_lsn);
    committed_lsn_ = std::max(committed_lsn_, end_lsn);
}

void Shapes::on_must_refetch(const StreamMessage &message)
{
    if (observer_)
        observer_(message);
    for (const auto &name : message.shapes) {
        auto it = by_name_.find(name);
        if (it != by_name_.end())
            rotate(it->second);
    }
}

void Shapes::on_stream_reset()
{
    transaction_.clear();
    in_transaction_ = false;
}

// One fsync round: the logs dirty when it started, each with the count of its entries then (the
// ones it makes visible), and the end of the transactions whose appends it covers.
struct Shapes::SyncRound {
    struct Item {
        ShapePtr shape;
        std::shared_ptr<ShapeLog> log;
        size_t count;
        ShapeLog::Unwritten bytes;  // what the log gained: written and journaled by the round
    };
    std::vector<Item> items;
    uint64_t lsn = 0;
    std::mutex mutex;
    std::condition_variable finished_cv;
    bool finished = false;  // the fsyncs are done (under mutex)
    std::exception_ptr error;
    bool completed = false;  // complete_round ran (on the loop)
};

void Shapes::flush()
{
    if (round_)
        return;  // its completion starts the next round with what was appended meanwhile
    if (dirty_.empty()) {
        durable_lsn_ = std::max(durable_lsn_, committed_lsn_);
        return;
    }
    start_round();
}

void Shapes::start_round()
{
    auto round = std::make_shared<SyncRound>();
    round->lsn = committed_lsn_;  // every append of the transactions up to here is in dirty_
    auto dirty = std::move(dirty_);
    dirty_.clear();
    round->items.reserve(dirty.size());
    for (auto &shape : dirty)
        if (shape->log)
            round->items.push_back({shape, shape->log, shape->log->appended(), shape->log->take_unwritten()});
    round_ = round;
    asio::post(syncer_, [this, round]() {
        std::vector<Journal::Range> ranges;
        ranges.reserve(round->items.size());
        for (const auto &item : round->items)
            ranges.push_back({item.log, item.bytes.position, &item.bytes.bytes});
        std::exception_ptr error;
        try {
            journal_->commit(ranges);  // one fdatasync for every log of the round
        } catch (...) {
            error = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(round->mutex);
            round->error = error;
            round->finished = true;
        }
        round->finished_cv.notify_all();
        asio::post(io_, [this, round]() { complete_round(round); });
    });
}

void Shapes::wait_round(SyncRound &round)
{
    std::unique_lock<std::mutex> lock(round.mutex);
    round.finished_cv.wait(lock, [&]() { return round.finished; });
}

void Shapes::complete_round(const std::shared_ptr<SyncRound> &round)
{
    if (round->completed)
        return;  // sync_and_notify completed it already
    round->completed = true;
    if (round_ == round)
        round_.reset();
    if (round->error) {
        // Without its log on disk the service cannot go on exactly: stop, and let a restart
        // resume from the slot, which was not confirmed past this data.
        try {
            std::rethrow_exception(round->error);
        } catch (const std::exception &e) {
            log::error("could not sync a shape log", "\"error\":" + log::quote(e.what()));
        }
        std::abort();
    }
    for (auto &item : round->items)
        if (item.shape->log == item.log) {  // else rotated or removed meanwhile: its data went with it
            item.log->mark_visible(item.count);
            item.log->keep_recent(std::move(item.bytes));
        }
    durable_lsn_ = std::max(durable_lsn_, round->lsn);
    if (dirty_.empty())  // nothing appended since: every processed transaction is on disk
        durable_lsn_ = std::max(durable_lsn_, committed_lsn_);
    for (auto &item : round->items)
        wake_or_pace(item.shape);
    // ELECTRIC_MAX_SHAPE_LOG_SIZE: once its clients have the changes, a shape whose log grew past
    // the limit starts over from a new snapshot (its clients refetch, 409).
    if (config_.ops.max_shape_log_bytes)
        for (auto &item : round->items)
            if (item.shape->state == Shape::State::Ready && item.shape->log &&
                item.shape->log->bytes() > config_.ops.max_shape_log_bytes)
                rotate(item.shape, "log size limit");
    if (!dirty_.empty() && !round_)
        start_round();
    if (durable_observer_)
        durable_observer_();
}

uint64_t Shapes::sync_and_notify()
{
    for (;;) {
        if (!round_) {
            if (dirty_.empty()) {
                durable_lsn_ = std::max(durable_lsn_, committed_lsn_);
                break;
            }
            start_round();
        }
        auto round = round_;
        wait_round(*round);
        complete_round(round);  // may start the next round with what is still dirty
    }
    // Stopping: the logs synced and the journal emptied, so that the next start replays
    // nothing. No round runs now, so the journal is the loop's to use.
    try {
        if (journal_)
            journal_->checkpoint();
    } catch (const std::exception &e) {
        log::error("could not checkpoint the journal", "\"error\":" + log::quote(e.what()));
    }
    return confirmable_lsn();
}

void Shapes::on_idle_position(uint64_t wal_end)
{
    if (in_transaction_ || !transaction_.empty() || !dirty_.empty() || round_)
        return;
    committed_lsn_ = std::max(committed_lsn_, wal_end);
    durable_lsn_ = std::max(durable_lsn_, wal_end);
}

uint64_t Shapes::confirmable_lsn() const
{
    uint64_t lsn = durable_lsn_;
    creating_.erase(std::remove_if(creating_.begin(), creating_.end(),
                                   [](const ShapePtr &shape) { return shape->state != Shape::State::Creating; }),
                    creating_.end());
    for (const ShapePtr &shape : creating_)
        lsn = std::min(lsn, shape->hold_lsn);
    return lsn;
}

}  // namespace es::sync

namespace es::sync {

// Removal of a shape the service serves (DELETE, retention, the shape limit): its catalog row
// and files go (discard), held requests and later requests on its handle get 409.
void Shapes::remove_shape(ShapePtr shape, const std::string &cause, const std::string &request_id)
{
    shape_event("removed", shape->handle, request_id, cause);
    bool creating = shape->state == Shape::State::Creating;
    shape->state = Shape::State::Gone;
    shape->deleted = true;
    shape->pending.clear();
    auto it = by_key_.find(shape->key);
    if (it != by_key_.end() && it->second == shape)
        by_key_.erase(it);
    by_name_.erase(shape->name);
    dirty_.erase(std::remove(dirty_.begin(), dirty_.end(), shape), dirty_.end());
    if (!creating)
        discard(shape);  // else finish_creation discards it once its worker is done
    wake(shape);
}

size_t Shapes::remove_unused(std::chrono::steady_clock::time_point cutoff)
{
    std::vector<ShapePtr> unused;
    for (const auto &[key, shape] : by_key_)
        if (shape->state == Shape::State::Ready && shape->waiters.empty() && shape->last_used < cutoff)
            unused.push_back(shape);
    for (auto &shape : unused)
        remove_shape(shape, "retention", "");
    return unused.size();
}

void Shapes::evict_least_recently_used()
{
    ShapePtr oldest;
    for (const auto &[key, shape] : by_key_)
        if (shape->state == Shape::State::Ready && (!oldest || shape->last_used < oldest->last_used))
            oldest = shape;
    if (oldest)
        remove_shape(oldest, "shape limit", "");
}

uint64_t Shapes::log_bytes() const
{
    uint64_t bytes = 0;
    for (const auto &[name, shape] : by_name_)
        if (shape->log)
            bytes += shape->log->bytes();
    return bytes;
}

void Shapes::drain()
{
    draining_ = true;
    sync_and_notify();
    std::vector<ShapePtr> held;
    for (const auto &[key, shape] : by_key_)
        if (!shape->waiters.empty())
            held.push_back(shape);
    for (auto &shape : held) {
        if (shape->state != Shape::State::Creating) {
            wake(shape);  // live requests: up-to-date at their offset, as Electric ends them
            continue;
        }
        auto waiters = std::move(shape->waiters);
        shape->waiters.clear();
        for (auto &waiter : waiters) {
            if (waiter->done)
                continue;
            waiter->done = true;
            Response r = json_error(503, "{\"message\":\"The service is shutting down; retry\"}");
            r.set("retry-after", "1");
            waiter->respond(std::move(r));
        }
    }
}

}  // namespace es::sync
