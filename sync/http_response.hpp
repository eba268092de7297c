// A response as the shape logic produces it, before the HTTP layer adds CORS and sends it: the
// shape logic stays free of Beast, and the HTTP session free of shape rules.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace es::sync {

// A body read piece by piece as it is written out (a snapshot chunk, from its file): a response
// of megabytes holds one piece in memory at a time, not all of it, however slowly its client
// reads.
class StreamedBody {
public:
    virtual ~StreamedBody() = default;
    virtual uint64_t size() const = 0;
    // Up to max bytes of the body from position at into out; how many (0 only past the end).
    // Throws std::runtime_error when the bytes cannot be read.
    virtual size_t read(uint64_t at, char *out, size_t max) const = 0;
};

struct Response {
    unsigned status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // Instead of body: the body read as it is written (then body is empty).
    std::shared_ptr<const StreamedBody> streamed;
    // For /metrics: the commit time (Unix µs) of the newest transaction whose change this
    // response carries, 0 when it carries none.
    int64_t commit_unix_us = 0;
    // One response for many requests, held instead of headers, body and commit time of its own:
    // a change to a shape that a thousand clients follow wakes a thousand long-polls at the same
    // offset, and building (and copying) the same response for each cost more than sending it.
    // Read a response through content(); call own() before changing one.
    std::shared_ptr<const Response> shared;
    // After own(): the response whose body this one's is, instead of a copy (a snapshot chunk's
    // megabytes are not copied to change a header). Read a body through body_text().
    std::shared_ptr<const Response> body_source;
    // The body as one chunk of server-sent events (sse_session.cpp), made by the first SSE
    // stream that sends this response, for the others that share it: a change to a shape a
    // thousand streams follow is framed once, not a thousand times. Only the event loop's
    // thread touches it.
    mutable std::shared_ptr<const std::string> sse_chunk;

    void set(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
    const Response &content() const { return shared ? *shared : *this; }
    const std::string &body_text() const { return body_source ? body_source->body_text() : body; }
    // The shared content's status and headers, of its own to change; its body stays the shared
    // one's.
    void own();
    static Response sharing(std::shared_ptr<const Response> prepared);
};

// How a request is answered, and whether its client is still there to be answered: the HTTP
// session sets client_gone when the connection of a held request closes, so that the shapes and
// users' holds skip it instead of building and writing a response nobody reads (after a crowd
// of clients left, the next change would otherwise be answered to every one of them).
class Responder {
public:
    Responder() = default;
    template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Responder> &&
                                                      std::is_invocable_v<F &, Response>>>
    Responder(F fn) : fn_(std::move(fn))
    {
    }
    Responder(std::function<void(Response)> fn, std::shared_ptr<const bool> gone)
        : fn_(std::move(fn)), gone_(std::move(gone))
    {
    }

    void operator()(Response r) const { fn_(std::move(r)); }
    bool client_gone() const { return gone_ && *gone_; }
    // Another way of answering the same client (a wrapper that adds to the response): it still
    // knows whether the client left.
    Responder then(std::function<void(Response)> fn) const { return Responder(std::move(fn), gone_); }

private:
    std::function<void(Response)> fn_;
    std::shared_ptr<const bool> gone_;
};

// A 4xx/5xx with a JSON body and the cache headers Electric gives errors.
Response json_error(unsigned status, const std::string &body);
// 400 {"message":"Invalid request","errors":{field:[message]}}, as Electric's params errors.
Response invalid_request(const std::string &field, const std::string &message);

}  // namespace es::sync
