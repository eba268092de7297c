// The layout of a row message, written in one place for the stream and for shape_snapshot so
// that a consumer reads both the same way:
//   {"headers":{"operation":"insert","relation":["s","t"],"shapes":["a"]<more headers>},
//    "key":"...","value":{...}[,"old_value":{...}]}
// The caller opens the message, appends its own headers (the stream adds lsn, op_position and
// txids; a snapshot row adds none), then closes it with the key and values from a RowEncoder.
#pragma once

#include "electric_shapes/row_encoder.hpp"
#include "electric_shapes/postgres.hpp"

namespace es {

enum class RowOperation { Delete, Insert, Update };

// Appends {"headers":{"operation":..,"relation":..,"shapes":[..], leaving the headers open.
void open_row_message(Buffer &out, RowOperation operation, std::string_view relation_json,
                      const std::vector<const std::string *> &shapes);

// Closes the headers and appends the key and the value objects of the encoder's current change:
// a delete's old key (the whole old row with replica full), an insert's whole projected row, an
// update's key and changed columns (with replica full: the whole new row and old_value).
void close_row_message(Buffer &out, RowEncoder &encoder, RowOperation operation,
                       const std::vector<AttrNumber> &projection, bool replica_full);

}  // namespace es
