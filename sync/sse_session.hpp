// live=true&live_sse=true: a shape's changes as server-sent events, as Electric serves them
// (shapes/api.ex stream_sse_events): 200 with content-type text/event-stream and the live
// headers, then `data: <message>` frames, each batch ending with an up-to-date, a `: keep-alive`
// comment after a silence, and the end of the response after the SSE timeout (so caches collapse
// requests and clients reconnect), on a rotation or deletion of the shape (the client's next
// request gets the 409), or when the client leaves.
//
// The stream is a loop of the shape's own long-polls (Shapes::handle_get with live=true), so it
// shares their exactness, waiting and rotation; the next poll starts once the previous batch is
// written, so a slow reader holds back its own stream and nothing else. Unlike Electric, a
// request behind the shape's end gets its catch-up as the first frames of a stream that stays
// open (Electric answers it with a short response, and a client seeing three short responses in
// a row gives up SSE).
#pragma once

#include <boost/beast/core/tcp_stream.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sync/http_response.hpp"
#include "sync/pure/config.hpp"
#include "sync/pure/shape_request.hpp"

namespace es::sync {

class Shapes;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Called once when an SSE stream ends (its timeout, a rotation, the client gone), with the
// status it was answered with and the shape's handle: the request is logged then, with the
// stream's whole duration.
using SseFinished = std::function<void(unsigned status, const std::string &handle)>;

// Serves request (live and live_sse). Its first answer is a catch-up of the same request: a
// response other than 200 (409, 400, 503) goes to reply like any response. Otherwise
// take_stream hands over the connection, which gets the headers (with extra_headers: CORS) and
// the events, and is closed when the stream ends; then finished is called.
void serve_sse(Shapes &shapes, const Config &config, const ShapeRequest &request, HeaderList extra_headers,
               Responder reply, std::function<boost::beast::tcp_stream()> take_stream, SseFinished finished);

}  // namespace es::sync
