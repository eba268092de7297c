// Users of the sync service (SPEC section 9): a request with a verified bearer token gets a
// shape only when the database says, as that user, that every row the shape can hold is theirs
// to read (electric_shapes.shape_access, run on a connection of this class's own worker thread,
// never on the event loop).
//
// Answers are cached per (claims, shape definition). An answer that read membership tables
// (shape_access's depends_on) is only cached once the service follows those tables: it owns an
// electric_shapes shape of every row of each (named esa_<stream id>_<relation oid>, outside the
// prefix of the shapes it serves), created before the answer is asked again, so every change
// committed after the answer reaches the service through the same stream as the data. A change
// to such a table drops the answers that read it; each request held on one of them (a live
// request, or one waiting for its shape) is asked about again, and whatever the shape logic
// answers meanwhile waits for that answer: when access is gone, the request ends with 409 and a
// must-refetch (the client drops the rows it shows and asks again), and the next request is 403.
// A held request whose token expires ends with 401.
//
// Token-authorized responses are private: cache-control "public" becomes "private", s-maxage is
// dropped, and "vary: authorization" is added, so no shared cache gives one user's response to
// another.
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>

#include "sync/http_response.hpp"
#include "sync/pure/bearer_token.hpp"
#include "sync/pure/config.hpp"
#include "sync/pure/shape_request.hpp"
#include "sync/pure/stream_message.hpp"

namespace es::sync {

class Shapes;

class UserAccess {
public:
    // Follows the stream through shapes (Shapes::set_stream_observer).
    UserAccess(boost::asio::io_context &io, const Config &config, Shapes &shapes);
    ~UserAccess();

    // Calls serve(request, respond') when user may have the shape, where respond' keeps the
    // response private and ends with 409 when access is lost while the request is held;
    // otherwise answers 403 (or 400/503) itself.
    void authorize(const ShapeRequest &request, const BearerUser &user, Responder respond,
                   std::function<void(const ShapeRequest &, Responder)> serve);

    // A message of the stream (Shapes passes every row and must-refetch).
    void on_stream_message(const StreamMessage &message);

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

// The 401 of a request whose token is missing, malformed, expired, of a refused algorithm or
// not signed with JWT_SECRET.
Response unauthorized_response(const std::string &reason);

}  // namespace es::sync
