// The commit time of the plugin's commit message as the service reads it: the start of the
// commit-to-response latency it measures. One reader, because both the full parse and the
// control messages' fast path (control_json.hpp) take it from the same text and must agree.
#pragma once

#include <cstdint>
#include <string_view>

namespace es::sync {

// "2026-12-02T01:39:02.123456Z" (the plugin's commit_time, control::iso8601_utc) as Unix µs;
// 0 when it is not that form (not measured rather than a wrong time).
int64_t commit_time_unix_us(std::string_view text);

// The service's clock in the same unit (Unix µs): what commit times are compared with.
int64_t unix_now_us();

}  // namespace es::sync
