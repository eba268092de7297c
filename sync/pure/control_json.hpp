// The begin and commit of a transaction without a document: every transaction of the stream has
// both, so a one-row transaction is three messages of which two are these, and parsing them into
// an nlohmann document (parse_stream_message_full) was a visible share of the service's CPU per
// change. They are read by the scan of row_json.hpp (read_message_headers), and what they give
// must be exactly the full parse's StreamMessage, every field: the kind, "lsn", "txids"[0],
// "shapes", "op_position" and, for a commit, "commit_time" as Unix µs (commit_time.hpp).
// Anything else (another control message, a form the scan does not read) is declined, for the
// full parse to decide.
#pragma once

#include <string_view>

#include "sync/pure/stream_message.hpp"

namespace es::sync {

// Sets message to the begin or commit message text as parse_stream_message_full gives it, and
// returns true; or returns false (message unspecified) when text is not a begin or commit in
// the forms the fast path reads. The plugin writes them (control_messages.hpp) as
// {"headers":{"control":"begin","lsn":"L","txids":[X]}} and
// {"headers":{"control":"commit","lsn":"L","txids":[X],"commit_time":"T"}}; any member order,
// white space or extra member in the scan's forms is read too.
bool read_transaction_control(std::string_view text, StreamMessage &message);

}  // namespace es::sync
