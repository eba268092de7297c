// Server-sent events of a shape (see sse_session.hpp).
#include "sync/sse_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <random>
#include <sstream>

#include "sync/log.hpp"
#include "sync/pure/live_cursor.hpp"
#include "sync/pure/sse.hpp"
#include "sync/shapes.hpp"

namespace es::sync {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto kWriteTimeout = std::chrono::seconds(30);

const std::string *header(const Response &r, const std::string &name)
{
    for (const auto &[n, v] : r.content().headers)
        if (n == name)
            return &v;
    return nullptr;
}

uint32_t cursor_jitter()
{
    static std::mt19937 rng(std::random_device{}());
    return std::uniform_int_distribution<uint32_t>(1, 3600)(rng);
}

// One HTTP/1.1 chunk of a chunked body.
std::string chunk(const std::string &data)
{
    std::ostringstream size;
    size << std::hex << data.size();
    return size.str() + "\r\n" + data + "\r\n";
}

class SseStream : public std::enable_shared_from_this<SseStream> {
public:
    SseStream(beast::tcp_stream stream, Shapes &shapes, const Config &config, ShapeRequest request,
              SseFinished finished)
        : stream_(std::move(stream)), shapes_(shapes), config_(config), request_(std::move(request)),
          finished_(std::move(finished)), timeout_(stream_.get_executor()), keepalive_(stream_.get_executor())
    {
    }

    void start(const Response &first, const HeaderList &extra_headers)
    {
        http::response<http::empty_body> head{http::status::ok, 11};
        head.set(http::field::content_type, "text/event-stream");
        head.set(http::field::cache_control,
                 "public, max-age=" + std::to_string(std::max<uint32_t>(1, config_.sse_timeout_ms / 1000 - 1)));
        head.keep_alive(true);
        if (const std::string *handle = header(first, "electric-handle")) {
            head.set("electric-handle", *handle);
            handle_ = *handle;
        }
        // Where the client stands before the first frame: if the stream breaks before an
        // up-to-date, it resumes from here.
        head.set("electric-offset", request_.offset.str());
        int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
        std::string cursor = next_live_cursor(now, config_.long_poll_timeout_ms, request_.cursor, cursor_jitter());
        head.set("electric-cursor", cursor);
        request_.cursor = cursor;
        for (const auto &[name, value] : extra_headers)
            head.set(name, value);
        head.chunked(true);
        std::ostringstream text;
        text << head.base();
        enqueue(text.str());
        last_write_ = std::chrono::steady_clock::now();

        timeout_.expires_after(std::chrono::milliseconds(config_.sse_timeout_ms));
        timeout_.async_wait([self = shared_from_this()](const boost::system::error_code &ec) {
            if (!ec)
                self->end();
        });
        schedule_keepalive(std::chrono::milliseconds(config_.sse_keepalive_interval_ms));
        watch_client();
        request_.live = true;
        take_batch(first);
    }

private:
    // A response of the shape: its messages as frames; a 409 or an error ends the stream.
    void take_batch(const Response &response)
    {
        const Response &r = response.content();
        if (ending_)
            return;
        if (r.status != 200) {
            end();
            return;
        }
        const std::string *offset = header(r, "electric-offset");
        auto parsed = offset ? parse_log_offset(*offset) : std::nullopt;
        if (!parsed) {
            end();
            return;
        }
        request_.offset = *parsed;
        const std::string *has_data = header(r, "electric-has-data");
        if (has_data && *has_data == "true") {
            if (!r.sse_chunk) {
                auto frames = sse_data_frames(r.body_text());
                if (!frames) {
                    log::error("unreadable response body for an SSE stream", "");
                    end();
                    return;
                }
                r.sse_chunk = std::make_shared<const std::string>(chunk(*frames));
            }
            enqueue(r.sse_chunk);
        }
        // Else a long-poll that timed out: Electric sends nothing then, only keep-alives.
        if (!writing_)
            poll();
        else
            poll_after_write_ = true;
    }

    void poll()
    {
        if (ending_)
            return;
        // Its long-poll knows when the stream closed (Responder::client_gone): a change after
        // that does not answer it.
        shapes_.handle_get(request_, Responder(
                                         [self = shared_from_this()](Response r) {
                                             asio::dispatch(self->stream_.get_executor(), [self, r = std::move(r)]() {
                                                 self->take_batch(r);
                                             });
                                         },
                                         closed_));
    }

    void schedule_keepalive(std::chrono::milliseconds after)
    {
        keepalive_.expires_after(after);
        keepalive_.async_wait([self = shared_from_this()](const boost::system::error_code &ec) {
            if (ec || self->ending_)
                return;
            auto interval = std::chrono::milliseconds(self->config_.sse_keepalive_interval_ms);
            auto silent = std::chrono::steady_clock::now() - self->last_write_;
            if (silent >= interval) {
                self->enqueue(chunk(": keep-alive\n\n"));
                self->schedule_keepalive(interval);
            } else {
                self->schedule_keepalive(std::chrono::duration_cast<std::chrono::milliseconds>(interval - silent));
            }
        });
    }

    // The client sends nothing more on this connection; a read that ends means it has gone.
    void watch_client()
    {
        stream_.socket().async_read_some(asio::buffer(sink_), [self = shared_from_this()](
                                                                   const boost::system::error_code &ec, size_t) {
            if (ec) {
                self->close();
                return;
            }
            self->watch_client();
        });
    }

    void enqueue(std::string bytes) { enqueue(std::make_shared<const std::string>(std::move(bytes))); }

    void enqueue(std::shared_ptr<const std::string> bytes)
    {
        if (*closed_)
            return;
        queue_.push_back(std::move(bytes));
        if (!writing_)
            write_next();
    }

    void write_next()
    {
        if (queue_.empty() || *closed_) {
            writing_ = false;
            if (ending_) {
                close();
            } else if (poll_after_write_) {
                poll_after_write_ = false;
                poll();
            }
            return;
        }
        writing_ = true;
        last_write_ = std::chrono::steady_clock::now();
        stream_.expires_after(kWriteTimeout);
        asio::async_write(stream_, asio::buffer(*queue_.front()),
                          [self = shared_from_this()](const boost::system::error_code &ec, size_t) {
                              if (ec) {
                                  self->close();
                                  return;
                              }
                              self->queue_.pop_front();
                              self->write_next();
                          });
    }

    // The last chunk, then the connection closes: the client reconnects from its offset.
    void end()
    {
        if (ending_)
            return;
        ending_ = true;
        timeout_.cancel();
        keepalive_.cancel();
        enqueue("0\r\n\r\n");
    }

    void close()
    {
        if (*closed_)
            return;
        *closed_ = true;
        ending_ = true;
        if (finished_)
            finished_(200, handle_);
        timeout_.cancel();
        keepalive_.cancel();
        // The queue stays: a write in progress still refers to its front until it completes
        // (aborted by the close).
        boost::system::error_code ignored;
        stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        stream_.close();
    }

    beast::tcp_stream stream_;
    Shapes &shapes_;
    const Config &config_;
    ShapeRequest request_;
    SseFinished finished_;
    std::string handle_;
    // Shared with its long-polls' Responders (client_gone).
    std::shared_ptr<bool> closed_ = std::make_shared<bool>(false);
    asio::steady_timer timeout_, keepalive_;
    std::deque<std::shared_ptr<const std::string>> queue_;  // shared: a change's chunk is one for all
    std::array<char, 512> sink_{};
    std::chrono::steady_clock::time_point last_write_;
    bool writing_ = false, ending_ = false, poll_after_write_ = false;
};

}  // namespace

void serve_sse(Shapes &shapes, const Config &config, const ShapeRequest &request, HeaderList extra_headers,
               Responder reply, std::function<beast::tcp_stream()> take_stream, SseFinished finished)
{
    // The catch-up answers at once: what the client lacks, or nothing when it is at the end.
    ShapeRequest catch_up = request;
    catch_up.live = false;
    shapes.handle_get(catch_up, [&shapes, &config, request, extra_headers = std::move(extra_headers),
                                 reply = std::move(reply), take_stream = std::move(take_stream),
                                 finished = std::move(finished)](Response r) mutable {
        if (r.status != 200) {
            reply(std::move(r));
            return;
        }
        auto sse = std::make_shared<SseStream>(take_stream(), shapes, config, request, std::move(finished));
        sse->start(r, extra_headers);
    });
}

}  // namespace es::sync
