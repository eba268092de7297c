// Error responses (see http_response.hpp).
#include "sync/http_response.hpp"

#include <nlohmann/json.hpp>

namespace es::sync {

void Response::own()
{
    if (!shared)
        return;
    std::shared_ptr<const Response> from = std::move(shared);
    status = from->status;
    headers = from->headers;
    commit_unix_us = from->commit_unix_us;
    streamed = from->streamed;
    body.clear();
    body_source = std::move(from);
}

Response Response::sharing(std::shared_ptr<const Response> prepared)
{
    Response r;
    r.status = prepared->status;
    r.shared = std::move(prepared);
    return r;
}

Response json_error(unsigned status, const std::string &body)
{
    Response r;
    r.status = status;
    r.set("content-type", "application/json");
    r.set("cache-control", "no-store");
    r.set("surrogate-control", "no-store");
    r.body = body;
    return r;
}

Response invalid_request(const std::string &field, const std::string &message)
{
    nlohmann::json body = {{"message", "Invalid request"}, {"errors", {{field, {message}}}}};
    // Messages quote the client's input, which need not be UTF-8: replace, never throw.
    return json_error(400, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace es::sync
