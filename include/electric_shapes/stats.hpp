// What the output plugin reports about its work, for the statistics views (SPEC section 5).
// With electric_shapes in shared_preload_libraries the counters live in shared memory, written
// only by the walsender (or backend) that currently owns the slot; without the preload, or when
// a slot or shape cannot be tracked, every call does nothing. None of these functions raises an
// error: statistics must never stop a stream.
#pragma once

#include "electric_shapes/postgres.hpp"

extern "C" {
#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
}

namespace es::stats {

// What one emitted message meant to one shape.
enum class Emit { Insert, Update, Delete, MoveIn, MoveOut, MustRefetch };

struct SlotStats;      // one slot's counters; opaque to the plugin
struct ShapeCounters;  // one shape's counters in a stream; opaque to the plugin

// The counters of the slot being decoded; nullptr when statistics are off.
SlotStats *open_slot(const char *slot_name);

// The counters of a shape in the stream of slot, to keep for the rest of the stream; nullptr
// when statistics are off. Its entry in shared memory is claimed when it is first counted.
ShapeCounters *shape_counters(SlotStats *slot, const std::string &shape);

// A change of a table in this database was decoded; emitted when at least one message came of it.
void change_decoded(SlotStats *slot, bool emitted);

// A message of bytes bytes was sent, carrying kind for shape.
void shape_emitted(SlotStats *slot, ShapeCounters *shape, Emit kind, uint64 bytes);

// Bytes written to the consumer, once per message whatever the number of shapes in it.
void bytes_emitted(SlotStats *slot, uint64 bytes);

// A transaction was decoded; emitted when it sent at least one message. The counts of its
// changes and messages (above) reach shared memory here, at its end, in a few atomic adds.
void transaction_decoded(SlotStats *slot, bool emitted, XLogRecPtr commit_lsn, TimestampTz commit_time);

// shape was dropped (its drop decoded): its counters in this slot are released, so that the
// room goes to live shapes, and what the transaction counted for it is forgotten. A shape
// created again under that name starts from zero.
void shape_dropped(SlotStats *slot, const std::string &shape);

// shape's filter raised an error on a row (counted as no match), counted at once.
void filter_error(SlotStats *slot, ShapeCounters *shape);

// The reorder buffer's total spilled bytes so far for this stream.
void spill_bytes(SlotStats *slot, int64 total);

}  // namespace es::stats
