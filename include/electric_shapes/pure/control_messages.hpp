// The stream's control messages (SPEC section 3): begin, commit, must-refetch and the shape
// lifecycle announcements. Kept apart from row messages so their exact form is unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "electric_shapes/pure/buffer.hpp"

namespace es::control {

// {"headers":{"control":"begin","lsn":"L","txids":[X]}}
void append_begin(Buffer &out, uint64_t lsn, uint64_t txid);

// {"headers":{"control":"commit","lsn":"L","txids":[X],"commit_time":"T"}}
void append_commit(Buffer &out, uint64_t lsn, uint64_t txid, const std::string &commit_time);

// {"headers":{"control":"must-refetch","shapes":[...],"relation":R,"reason":"...","lsn":"L","op_position":N}}
// relation_json is the ready ["schema","table"] array.
void append_must_refetch(Buffer &out, const std::vector<const std::string *> &shapes,
                         std::string_view relation_json, const char *reason, uint64_t lsn,
                         uint64_t op_position);

// {"headers":{"control":"shape-added"|"shape-dropped","shapes":["x"],"lsn":"L","op_position":N}}
void append_lifecycle(Buffer &out, bool added, const std::string &shape, uint64_t lsn,
                      uint64_t op_position);

// {"headers":{"control":"snapshot-end","xmin":"X","xmax":"Y","xip_list":["A","B"],"lsn":"L"}}
// The end of shape_snapshot's rows: the snapshot they were read in (64-bit transaction ids, as
// pg_current_snapshot() shows them, all as decimal strings) and the WAL insert position read
// after it.
void append_snapshot_end(Buffer &out, uint64_t xmin, uint64_t xmax,
                         const std::vector<uint64_t> &xip, uint64_t lsn);

// Appends "lsn":"L" (a decimal string), as every message of a transaction carries it.
void append_lsn(Buffer &out, uint64_t lsn);

// Appends "txids":[X].
void append_txids(Buffer &out, uint64_t txid);

// Appends "shapes":["a","b"] (names are well-formed shape names and need no escaping).
void append_shapes(Buffer &out, const std::vector<const std::string *> &shapes);

// Formats microseconds since 2000-01-01 00:00 UTC (PostgreSQL's epoch) as ISO 8601 in UTC,
// e.g. 2024-05-01T12:30:00.123456Z.
std::string iso8601_utc(int64_t postgres_microseconds);

}  // namespace es::control
