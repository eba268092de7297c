// The electric-cursor of a live response, computed as Electric does (plug/utils.ex,
// get_next_interval_timestamp): the end of the current long-poll interval counted from
// 2024-10-09T00:00:00Z, and strictly greater than the cursor the client sent, so that a CDN
// that coalesces requests by URL never answers a new long-poll with an old one's response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace es::sync {

// now_unix_seconds: the time now; timeout_ms: the long-poll timeout; previous: the request's
// cursor parameter ("" or junk count as 0); jitter: a random number from 1 to 3600, used only
// when the interval end is not past the previous cursor.
std::string next_live_cursor(int64_t now_unix_seconds, uint32_t timeout_ms, std::string_view previous,
                             uint32_t jitter);

}  // namespace es::sync
