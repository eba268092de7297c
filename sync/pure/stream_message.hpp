// The plugin's messages as the service reads them (SPEC section 3 and 4): a line of the stream
// or of shape_snapshot is parsed once, and becomes the message clients get, the same for every
// shape it is for: the plugin's "shapes" header is dropped (it names the service's internal
// shapes, and Electric's messages have no such header), the rest is Electric's format already.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace es::sync {

enum class MessageKind { Row, Begin, Commit, MustRefetch, ShapeDropped, SnapshotEnd, Other };

struct StreamMessage {
    MessageKind kind = MessageKind::Other;
    std::vector<std::string> shapes;
    uint64_t lsn = 0;
    uint64_t op_position = 0;
    uint64_t xid = 0;  // txids[0]: a 32-bit transaction id
    std::string client_json;  // the message for clients (rows only)
    int64_t commit_unix_us = 0;  // commit: its commit_time (Unix µs), 0 when absent or unreadable
    // snapshot-end
    uint64_t xmin = 0, xmax = 0;
    std::vector<uint64_t> xip;
};

// Parses one message; nothing when it is not the JSON the plugin writes. A row is read by the
// fast path of row_json.hpp when it takes it (the stream's rows, one per change, are most of
// the service's parsing), a begin or commit by that of control_json.hpp (two per transaction),
// the rest by the full parse; the result is the same either way.
std::optional<StreamMessage> parse_stream_message(std::string_view text);

// The full parse alone (an nlohmann document of every message): what parse_stream_message
// gives, by definition, for every text; the tests compare the fast path with it.
std::optional<StreamMessage> parse_stream_message_full(std::string_view text);

// The snapshot a shape's initial rows were read in: its 64-bit xmin, xmax and in-progress list.
struct SnapshotBounds {
    uint64_t xmin = 0, xmax = 0;
    std::set<uint64_t> xip;
};

// True when the transaction with 32-bit id xid is visible in the snapshot (its changes are in
// the shape's initial rows, so the stream's copy must be skipped): xid < xmin, or xid < xmax
// and not in progress. The 32-bit id is widened to the 64-bit id nearest to xmax.
bool visible_in_snapshot(const SnapshotBounds &snapshot, uint64_t xid32);

// Control messages in Electric's form.
std::string up_to_date_message(uint64_t global_last_seen_lsn);
std::string must_refetch_message();
std::string snapshot_end_message(const SnapshotBounds &snapshot);

}  // namespace es::sync
