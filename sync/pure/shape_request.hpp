// The query string of GET /v1/shape, parsed and checked as Electric's params.ex does: what a
// shape is (table, where, params[n], columns, replica) and where the client is in its log
// (offset, handle, live, cursor). A bad parameter gives the field and the message Electric
// would give, for a 400 {"message":"Invalid request","errors":{field:[message]}}.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sync/pure/log_offset.hpp"
#include "sync/pure/subset_request.hpp"

namespace es::sync {

struct ShapeRequest {
    std::string table;
    std::optional<std::string> where;
    std::map<unsigned, std::string> params;
    std::optional<std::vector<std::string>> columns;  // identifiers as PostgreSQL folds them
    std::string replica = "default";
    LogOffset offset;
    bool offset_now = false;  // offset=now: no data, the shape's current end (offset is 0_inf)
    std::string handle;
    bool live = false;
    bool live_sse = false;
    std::string cursor;
    std::string log = "full";
    std::optional<SubsetRequest> subset;  // subset__* parameters (or a POST body): a subset snapshot
    std::string secret;  // secret or api_secret
    bool has_secret = false;
    std::string request_id;  // set by the HTTP layer: shape events name the request that caused them
};

struct ShapeRequestOutcome {
    std::optional<ShapeRequest> request;
    std::string field;  // the bad parameter
    std::string error;  // its message
};

// Percent-decodes a query string component ('+' is a space, as URLSearchParams encodes it).
// Returns nothing on a malformed escape.
std::optional<std::string> url_decode(std::string_view text);

// Splits a query string into decoded key/value pairs, in order.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);

// Parses the columns parameter: identifiers separated by commas, each bare (folded to lower
// case, as PostgreSQL folds it) or double-quoted with "" for a quote (the client quotes every
// name). Nothing when malformed or empty.
std::optional<std::vector<std::string>> parse_columns(std::string_view text);

ShapeRequestOutcome parse_shape_request(std::string_view query);

}  // namespace es::sync
