// Server-sent events for live_sse=true, the pure parts: a response body (a JSON array of
// messages) as `data:` frames, one message each, as Electric's SSE encoder frames them; and the
// offsets an SSE client resumes from.
//
// After an up-to-date on an SSE stream the client does not keep the response's offset: it
// resumes from "<global_last_seen_lsn>_0" (client helpers.ts getOffset). A shape's messages sit
// at (commit LSN, op_position from 0), so "<L>_0" with L the last commit's LSN would send that
// commit's messages after the first one again. The up-to-date of an SSE stream therefore carries
// L + 1 (as Electric, the shape's own position, not the service's): past the last message sent
// and not past any to come, since a later commit's LSN is past L's whole commit record. The
// offset "<L+1>_0" lies past the shape's last offset, so it is accepted as the shape's end, not
// refused as out of bounds; it depends on the shape's log only, so it stays valid across
// restarts of the service and of PostgreSQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sync/pure/log_offset.hpp"

namespace es::sync {

// The top-level elements of a JSON array, as slices of it; nothing when it is not an array of
// complete values (strings with escapes, nested objects and arrays are skipped correctly).
std::optional<std::vector<std::string_view>> json_array_elements(std::string_view array);

// "data: <message>\n\n" for each message of a JSON array body; nothing when it is malformed.
std::optional<std::string> sse_data_frames(std::string_view array);

// The position an SSE up-to-date carries for a shape whose log ends at last (1 for 0_inf: every
// real commit LSN is above it).
uint64_t sse_resume_lsn(const LogOffset &last);

// Whether a client offset past the shape's last offset is the resume position of an SSE stream
// ("<sse_resume_lsn>_0") rather than out of bounds.
bool is_sse_resume_offset(const LogOffset &offset, const LogOffset &last);

}  // namespace es::sync
