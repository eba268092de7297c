// The HTTP side, after Beast's advanced_server and http_server_async examples: one acceptor on
// the event loop, one small session object per connection, a timeout on every read and write
// (a slow or silent client costs a socket, never a thread), keep-alive, and routing to the
// health check and the shape API. A long-poll holds its session with no timer of the socket's
// own: the shape's long-poll timeout answers it.
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>

#include "sync/pure/config.hpp"

namespace es::sync {

class Shapes;

class HttpServer {
public:
    HttpServer(boost::asio::io_context &io, const Config &config, Shapes &shapes, std::function<bool()> streaming);
    ~HttpServer();
    // Binds and listens; throws std::runtime_error with a message when it cannot.
    void start();
    void stop();
    // SIGTERM: stops accepting, closes idle connections, and closes the others once their
    // response is written (held live requests are answered by Shapes::drain).
    void drain();
    size_t open_connections() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace es::sync
