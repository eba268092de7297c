// electric-cursor (see live_cursor.hpp).
#include "sync/pure/live_cursor.hpp"
#include "sync/pure/log_offset.hpp"

namespace es::sync {

namespace {

constexpr int64_t kCursorEpoch = 1728432000;  // 2024-10-09T00:00:00Z

// Electric parses the previous cursor as an integer and takes 0 when it is not one.
int64_t parse_previous(std::string_view text)
{
    if (text.size() > 18)
        return 0;
    return static_cast<int64_t>(parse_decimal(text).value_or(0));
}

}  // namespace

std::string next_live_cursor(int64_t now_unix_seconds, uint32_t timeout_ms, std::string_view previous,
                             uint32_t jitter)
{
    int64_t interval = timeout_ms / 1000;
    if (interval == 0)
        return "0";
    int64_t seconds = now_unix_seconds - kCursorEpoch;
    int64_t next = (seconds <= 0 ? 0 : (seconds + interval - 1) / interval) * interval;
    int64_t prev = parse_previous(previous);
    if (next <= prev)
        next = prev + static_cast<int64_t>(jitter);
    return std::to_string(next);
}

}  // namespace es::sync
