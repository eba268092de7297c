// HTTP server (see http_server.hpp).
#include "sync/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <openssl/crypto.h>

#include "sync/http_response.hpp"
#include "sync/limits.hpp"
#include "sync/log.hpp"
#include "sync/metrics.hpp"
#include "sync/pure/etag.hpp"
#include "sync/pure/shape_request.hpp"
#include "sync/request_log.hpp"
#include "sync/shapes.hpp"
#include "sync/sse_session.hpp"
#include "sync/user_access.hpp"

namespace es::sync {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIoTimeout = std::chrono::seconds(30);
constexpr size_t kMaxHeaderBytes = 64 * 1024;  // a where clause travels in the URL
constexpr size_t kKeptOutputBytes = 16 * 1024;  // a connection's response buffer kept between responses
constexpr size_t kStreamedPieceBytes = 256 * 1024;  // of a streamed body, read and written at a time

const char *kExposedHeaders =
    "electric-cursor,electric-handle,electric-has-data,electric-offset,electric-schema,electric-up-to-date,"
    "electric-internal-known-error,retry-after,x-request-id";

bool secret_matches(const std::string &given, const std::string &expected)
{
    return given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

Response health(bool streaming)
{
    Response r;
    r.status = streaming ? 200 : 202;
    r.set("content-type", "application/json");
    r.set("cache-control", "no-cache, no-store, must-revalidate");
    r.body = streaming ? "{\"status\":\"active\"}" : "{\"status\":\"waiting\"}";
    return r;
}

}  // namespace

// One connection: read a request, answer it (now or when the shape logic calls back), repeat.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, const Config &config, Shapes &shapes, UserAccess &access,
            std::function<bool()> streaming)
        : stream_(std::move(socket)), config_(config), shapes_(shapes), access_(access), streaming_(std::move(streaming))
    {
        metrics::connection_opened();
    }
    ~Session() { metrics::connection_closed(); }

    void run() { read(); }

    // SIGTERM: an idle connection closes now, a busy one after its response.
    void drain()
    {
        draining_ = true;
        if (!busy_)
            close();
    }

private:
    void read()
    {
        parser_.emplace();
        parser_->header_limit(kMaxHeaderBytes);
        parser_->body_limit(64 * 1024);
        stream_.expires_after(kIoTimeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec)
    {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
            ec == asio::error::connection_reset) {
            close();
            return;
        }
        record_ = {"", "", "", std::chrono::steady_clock::now(), ""};
        busy_ = true;
        answered_ = false;
        if (ec) {
            record_.id = request_id_for({});
            // Junk or oversized headers: answer 400 and close, as far as the socket allows.
            Response r = json_error(400, "{\"message\":\"Bad request: " + ec.message() + "\"}");
            keep_alive_ = false;
            send(std::move(r), http::verb::get, {});
            return;
        }
        request_ = parser_->release();
        keep_alive_ = request_.keep_alive();
        std::string target(request_.target());
        record_.id = request_id_for(request_["x-request-id"]);
        record_.method = std::string(request_.method_string());
        record_.path = target.substr(0, target.find('?'));
        stream_.expires_never();  // a long-poll waits on the shape's timer, not the socket's
        route();
    }

    void route()
    {
        std::string target(request_.target());
        size_t question = target.find('?');
        std::string path = target.substr(0, question);
        std::string query = question == std::string::npos ? "" : target.substr(question + 1);
        http::verb method = request_.method();
        std::string origin(request_[http::field::origin]);
        bool shape_path = path == "/v1/shape";
        std::string if_none_match(request_[http::field::if_none_match]);
        auto gone = std::make_shared<bool>(false);
        client_gone_ = gone;
        auto answer = [self = shared_from_this(), gone, method, origin, shape_path, if_none_match](Response r) {
            if (*gone)
                return;  // the connection closed while the request was held (watch_client)
            if (r.status == 200 && !if_none_match.empty()) {
                bool matches = false;
                for (const auto &[name, value] : r.content().headers)
                    matches |= name == "etag" && etag_matches(value, if_none_match);
                if (matches) {
                    // The other headers stay, the body goes (not copied first: a snapshot
                    // chunk's is megabytes, and a browser revalidates every chunk it has).
                    Response not_modified;
                    not_modified.status = 304;
                    not_modified.headers = r.content().headers;
                    not_modified.commit_unix_us = r.content().commit_unix_us;
                    r = std::move(not_modified);
                }
            }
            asio::dispatch(self->stream_.get_executor(), [self, r = std::move(r), method, origin, shape_path]() mutable {
                self->send(std::move(r), method, origin, shape_path);
            });
        };
        Responder reply(std::move(answer), gone);
        if (method == http::verb::options) {
            Response r;
            r.status = 204;
            r.set("access-control-max-age", "86400");
            std::string requested(request_["access-control-request-headers"]);
            std::string allowed;
            for (const char *h : {"authorization", "if-none-match", "traceparent"})
                if (beast::iequals(requested, h) || requested.find(h) != std::string::npos)
                    allowed += allowed.empty() ? h : std::string(",") + h;
            if (!allowed.empty())
                r.set("access-control-allow-headers", allowed);
            reply(std::move(r));
            return;
        }
        if (method != http::verb::get && method != http::verb::head &&
            !((method == http::verb::delete_ || method == http::verb::post) && shape_path)) {
            reply(json_error(405, "{\"message\":\"Method not allowed\"}"));
            return;
        }
        if (path == "/metrics") {
            Response r;
            r.set("content-type", "text/plain; version=0.0.4; charset=utf-8");
            r.set("cache-control", "no-store");
            r.body = metrics::render();
            reply(std::move(r));
            return;
        }
        if (path == "/v1/health" || path == "/health") {
            reply(health(streaming_()));
            return;
        }
        if (path == "/") {
            Response r;
            reply(std::move(r));
            return;
        }
        if (!shape_path) {
            reply(json_error(404, "{\"message\":\"Not found\"}"));
            return;
        }
        // A DELETE names a definition (and optionally a handle), not a position in its log.
        ShapeRequestOutcome parsed =
            parse_shape_request(method == http::verb::delete_ ? "offset=-1&" + query : query);
        // A request with the secret is a trusted proxy; one with a bearer token (and JWT_SECRET
        // set) is a user, whose shapes the database decides (user_access.hpp). Both are checked
        // before anything about the shape is said.
        std::optional<BearerUser> user;
        std::string authorization(request_[http::field::authorization]);
        bool proxy = false;
        if (!config_.secret.empty()) {
            proxy = parsed.request && parsed.request->has_secret && secret_matches(parsed.request->secret, config_.secret);
            if (auto pairs = parse_query(query); pairs && !proxy)
                for (auto &[k, v] : *pairs)
                    if ((k == "secret" || k == "api_secret") && secret_matches(v, config_.secret))
                        proxy = true;
        }
        if (!proxy && !config_.jwt_secret.empty() && !authorization.empty()) {
            double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
            BearerOutcome verified = verify_bearer(authorization, config_.jwt_secret, now);
            if (!verified.user) {
                reply(unauthorized_response(verified.error));
                return;
            }
            user = std::move(verified.user);
        } else if (!proxy && !config_.secret.empty()) {
            reply(json_error(401, "{\"message\":\"Unauthorized - Invalid API secret\"}"));
            return;
        } else if (!proxy && !config_.jwt_secret.empty()) {
            reply(unauthorized_response("a bearer token (Authorization: Bearer <token>) or the API secret is required"));
            return;
        }
        if (!parsed.request) {
            reply(invalid_request(parsed.field, parsed.error));
            return;
        }
        if (method == http::verb::delete_ && user) {
            reply(json_error(403, "{\"message\":\"Forbidden\",\"reason\":\"users may not delete shapes\"}"));
            return;
        }
        if (method == http::verb::delete_) {
            // The parser drops the handle of an offset=-1 request; a DELETE keeps it.
            if (auto pairs = parse_query(query))
                for (auto &[k, v] : *pairs)
                    if (k == "handle")
                        parsed.request->handle = v;
            shapes_.handle_delete(*parsed.request, std::move(reply));
            return;
        }
        parsed.request->request_id = record_.id;
        bool initial = parsed.request->offset.before_all;
        admission_ = admit_shape_request(config_.ops, initial);
        if (!admission_) {
            reply(overloaded_response(initial));
            return;
        }
        if (parsed.request->live && !parsed.request->live_sse) {  // an SSE stream leaves the session
            live_ = true;
            metrics::live_request_started();
        }
        if (method == http::verb::post) {  // a subset snapshot, its parameters in the body
            SubsetOutcome subset = parse_subset_body(request_.body());
            if (!subset.subset) {
                reply(invalid_request("subset", subset.field + " " + subset.error));
                return;
            }
            parsed.request->subset = std::move(subset.subset);
        }
        if (parsed.request->live_sse && user) {
            // A user's live request is a long-poll, so that a lost access ends it (user_access.hpp).
            reply(invalid_request("live_sse", "is not available with a bearer token; users' live requests are long-polls"));
            return;
        }
        if (parsed.request->live_sse && method == http::verb::get) {
            HeaderList cors = {{"access-control-allow-origin", origin.empty() ? "*" : origin},
                               {"access-control-allow-methods", "GET, POST, HEAD, DELETE, OPTIONS"},
                               {"access-control-expose-headers", kExposedHeaders},
                               {"electric-server", "electric-shapes-sync"}};
            serve_sse(shapes_, config_, *parsed.request, std::move(cors), std::move(reply),
                      [self = shared_from_this()]() { return std::move(self->stream_); },
                      [record = record_](unsigned status, const std::string &handle) mutable {
                          record.handle = handle;
                          request_finished(record, status);
                      });
            return;
        }
        if (user)
            access_.authorize(*parsed.request, *user, std::move(reply),
                              [this, self = shared_from_this()](const ShapeRequest &request, Responder respond) {
                                  shapes_.handle_get(request, std::move(respond));
                              });
        else
            shapes_.handle_get(*parsed.request, std::move(reply));
        if (live_ && !answered_)
            watch_client();
    }

    // A held long-poll whose client closes the connection (a tab closed, a crowd of clients
    // gone at once): the socket turns readable at its end. Noticed here, the request ends at
    // once, logged with status 499 (nginx's "client closed request"), its place among the
    // concurrent requests freed, and the shapes skip it (Responder::client_gone) instead of
    // answering it at the next change or at its timeout.
    // A peek, not a wait for readability: Asio re-arms the descriptor in epoll (one epoll_ctl)
    // for every wait, while a read joins the registration the socket has; a change to a shape
    // a thousand clients follow starts a thousand of these.
    void watch_client()
    {
        stream_.socket().async_receive(
            asio::buffer(&peeked_, 1), tcp::socket::message_peek,
            [self = shared_from_this(), gone = client_gone_](beast::error_code ec, size_t n) {
                if (ec == asio::error::operation_aborted || *gone || self->client_gone_ != gone || self->answered_)
                    return;  // answered meanwhile: a later request has a watch of its own
                if (!ec && n > 0)
                    return;  // the next request, sent before this one's answer: read after it
                *gone = true;  // the end of the stream, or a reset
                self->finished(499, 0);
                self->close();
            });
    }

    void send(Response response, http::verb method, const std::string &origin, bool shape_path = false)
    {
        answered_ = true;
        const Response &r = response.content();
        record_.handle.clear();
        for (const auto &[name, value] : r.headers)
            if (name == "electric-handle")
                record_.handle = value;
        if (draining_)
            keep_alive_ = false;
        // A large body (a snapshot chunk, a catch-up over a large transaction) is written from
        // the response itself, after the headers, in one gathered write: copying megabytes into
        // out_ cost a fresh buffer's page faults and a copy per response, more than the send.
        std::shared_ptr<const StreamedBody> streamed = method != http::verb::head ? r.streamed : nullptr;
        bool body_apart = !streamed && method != http::verb::head && r.body_text().size() > kKeptOutputBytes;
        serialize(r, method, origin, shape_path, !body_apart);
        unsigned status = r.status;
        int64_t commit_us = r.commit_unix_us;
        if (streamed) {
            write_streamed(std::move(streamed), 0, status, commit_us);
            return;
        }
        std::shared_ptr<const Response> body_owner;  // r is not used past here: it may be moved
        if (body_apart)
            body_owner = response.shared ? response.shared : std::make_shared<const Response>(std::move(response));
        std::array<asio::const_buffer, 2> buffers = {
            asio::buffer(out_), body_owner ? asio::buffer(body_owner->body_text()) : asio::const_buffer()};
        stream_.expires_after(kIoTimeout);
        asio::async_write(stream_, buffers,
                          [self = shared_from_this(), status, commit_us,
                           body_owner = std::move(body_owner)](beast::error_code ec, size_t) {
                              self->written(ec, status, commit_us);
                          });
    }

    // A response is out (or its write failed): the next request is read, or the connection
    // closed.
    void written(beast::error_code ec, unsigned status, int64_t commit_us)
    {
        if (out_.capacity() > kKeptOutputBytes)
            std::string().swap(out_);  // a streamed body's pieces
        finished(status, ec ? 0 : commit_us);
        if (ec || !keep_alive_ || draining_) {
            close();
            return;
        }
        read();
    }

    // The headers already in out_, then a streamed body a piece at a time: each piece read into
    // out_ once the one before it is written, so a slow client holds one piece of the service's
    // memory, not the body.
    void write_streamed(std::shared_ptr<const StreamedBody> body, uint64_t at, unsigned status, int64_t commit_us)
    {
        size_t before = out_.size();
        size_t n = 0;
        if (at < body->size()) {
            // No more than the body still needs: most chunks are a few kilobytes.
            size_t piece = static_cast<size_t>(std::min<uint64_t>(kStreamedPieceBytes, body->size() - at));
            out_.resize(before + piece);
            try {
                n = body->read(at, &out_[before], piece);
            } catch (const std::exception &e) {
                // The headers may be out: the client gets a short body, sees the connection close
                // and asks again.
                log::error("could not read a response body", "\"error\":" + log::quote(e.what()));
                finished(status, 0);
                close();
                return;
            }
            out_.resize(before + n);
        }
        bool last = at + n >= body->size();
        stream_.expires_after(kIoTimeout);
        asio::async_write(stream_, asio::buffer(out_),
                          [self = shared_from_this(), body = std::move(body), next = at + n, last, status,
                           commit_us](beast::error_code ec, size_t) mutable {
                              self->out_.clear();
                              if (!ec && !last)
                                  self->write_streamed(std::move(body), next, status, commit_us);
                              else
                                  self->written(ec, status, commit_us);
                          });
    }

    // The response as bytes into out_, in one buffer: one write, usually one send, per response.
    // A thousand clients of one shape get a thousand responses for each change, so this is the
    // service's hottest path; Beast's serializer walks its header list as a buffer sequence and
    // costs several times the string built here, and out_ keeps its capacity from one response
    // to the next (a fresh kilobyte per response also makes malloc consolidate its free lists
    // each time). The same bytes as that serializer wrote: the shape's headers in their order,
    // then CORS and the service's own, then Content-Length (none for 204 and 304, which have no
    // body; a HEAD's says what a GET would carry).
    void serialize(const Response &r, http::verb method, const std::string &origin, bool shape_path,
                   bool with_body)
    {
        std::string &out = out_;
        out.clear();
        const std::string &body = r.body_text();
        size_t size = (with_body ? body.size() : 0) + 512 + std::strlen(kExposedHeaders);
        for (const auto &[name, value] : r.headers)
            size += name.size() + value.size() + 4;
        out.reserve(size);
        out += "HTTP/1.1 ";
        out += std::to_string(r.status);
        out += ' ';
        std::string_view reason = http::obsolete_reason(static_cast<http::status>(r.status));
        out.append(reason.data(), reason.size());
        out += "\r\n";
        auto field = [&out](std::string_view name, std::string_view value) {
            out.append(name.data(), name.size());
            out += ": ";
            out.append(value.data(), value.size());
            out += "\r\n";
        };
        for (const auto &[name, value] : r.headers)
            field(name, value);
        field("access-control-allow-origin", origin.empty() ? std::string_view("*") : std::string_view(origin));
        field("access-control-allow-methods", shape_path ? "GET, POST, HEAD, DELETE, OPTIONS" : "GET, HEAD");
        field("access-control-expose-headers", kExposedHeaders);
        field("electric-server", "electric-shapes-sync");
        field("x-request-id", record_.id);
        if (!keep_alive_)
            field("Connection", "close");
        bool bodiless = r.status == 204 || r.status == 304 || r.status < 200;
        if (!bodiless)
            field("Content-Length", std::to_string(r.streamed ? r.streamed->size() : body.size()));
        out += "\r\n";
        if (with_body && method != http::verb::head && !bodiless)
            out += body;
    }

    // The request is answered: logged, counted, its place among the concurrent ones freed.
    void finished(unsigned status, int64_t commit_us)
    {
        request_finished(record_, status);
        metrics::response_written(commit_us);
        admission_.reset();
        if (live_)
            metrics::live_request_ended();
        live_ = false;
        busy_ = false;
    }

    void close()
    {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.close();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::string out_;  // the response being written (serialize)
    std::optional<http::request_parser<http::string_body>> parser_;
    http::request<http::string_body> request_;
    bool keep_alive_ = true;
    bool busy_ = false;      // between a request read and its response written
    bool draining_ = false;  // SIGTERM: close after the response in progress
    bool live_ = false;
    bool answered_ = false;  // the request being handled has its response (send)
    std::shared_ptr<bool> client_gone_;  // the request's Responder flag (watch_client)
    char peeked_ = 0;  // watch_client's peek lands here, and stays in the socket
    RequestRecord record_;
    std::shared_ptr<void> admission_;  // this request's place among the concurrent ones
    const Config &config_;
    Shapes &shapes_;
    UserAccess &access_;
    std::function<bool()> streaming_;
};

struct HttpServer::Impl {
    asio::io_context &io;
    const Config &config;
    Shapes &shapes;
    std::function<bool()> streaming;
    UserAccess access;
    tcp::acceptor acceptor;
    std::vector<std::weak_ptr<Session>> sessions;  // for the drain on SIGTERM
    asio::steady_timer accept_retry;

    Impl(asio::io_context &io_, const Config &config_, Shapes &shapes_, std::function<bool()> streaming_)
        : io(io_), config(config_), shapes(shapes_), streaming(std::move(streaming_)), access(io_, config_, shapes_),
          acceptor(io_), accept_retry(io_)
    {
    }

    void accept()
    {
        acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted)
                return;
            if (!ec) {
                auto session = std::make_shared<Session>(std::move(socket), config, shapes, access, streaming);
                sessions.erase(std::remove_if(sessions.begin(), sessions.end(),
                                              [](const std::weak_ptr<Session> &w) { return w.expired(); }),
                               sessions.end());
                sessions.push_back(session);
                session->run();
            } else if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
                       ec == asio::error::no_memory ||
                       ec == boost::system::errc::too_many_files_open_in_system) {
                // Out of descriptors or memory: the connection stays queued, so accepting again
                // at once fails again at once and spins a core until a held connection ends.
                // Try again shortly instead.
                accept_retry.expires_after(std::chrono::milliseconds(100));
                accept_retry.async_wait([this](const boost::system::error_code &wait_ec) {
                    if (!wait_ec && acceptor.is_open())
                        accept();
                });
                return;
            }
            accept();
        });
    }
};

HttpServer::HttpServer(asio::io_context &io, const Config &config, Shapes &shapes, std::function<bool()> streaming)
    : impl_(std::make_unique<Impl>(io, config, shapes, std::move(streaming)))
{
}

HttpServer::~HttpServer() = default;

void HttpServer::start()
{
    const Config &config = impl_->config;
    tcp::acceptor &acceptor = impl_->acceptor;
    beast::error_code ec;
    asio::ip::address address;
    if (config.listen_address.empty())
        address = asio::ip::address_v6::any();
    else
        address = asio::ip::make_address(config.listen_address, ec);
    tcp::endpoint endpoint(address, config.port);
    acceptor.open(endpoint.protocol(), ec);
    if (ec && config.listen_address.empty()) {  // no IPv6 here: every IPv4 address then
        endpoint = tcp::endpoint(asio::ip::address_v4::any(), config.port);
        ec.clear();
        acceptor.open(endpoint.protocol(), ec);
    }
    if (!ec && endpoint.address().is_v6() && config.listen_address.empty())
        acceptor.set_option(asio::ip::v6_only(false), ec);
    if (!ec)
        acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
        acceptor.bind(endpoint, ec);
    if (!ec)
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error("could not listen on port " + std::to_string(config.port) + ": " + ec.message());
    impl_->accept();
}

void HttpServer::stop()
{
    beast::error_code ignored;
    impl_->accept_retry.cancel();
    impl_->acceptor.close(ignored);
}

void HttpServer::drain()
{
    stop();
    for (auto &weak : impl_->sessions)
        if (auto session = weak.lock())
            session->drain();
}

size_t HttpServer::open_connections() const
{
    size_t open = 0;
    for (auto &weak : impl_->sessions)
        open += weak.expired() ? 0 : 1;
    return open;
}

}  // namespace es::sync
