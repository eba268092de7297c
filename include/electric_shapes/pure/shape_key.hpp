// ElectricSQL row keys: "schema"."table"/"pk1"/"pk2". A '/' inside a key value is doubled so
// that parts stay separable; a NULL part is written as an unquoted _.
#pragma once

#include <string_view>

#include "electric_shapes/pure/buffer.hpp"

namespace es::key {

// Appends "schema"."table", the prefix every key of a relation shares.
void append_relation(Buffer &out, std::string_view schema, std::string_view table);

// Appends /"value" (with '/' doubled), or /_ when is_null.
void append_part(Buffer &out, std::string_view value, bool is_null);

// Appends what append_part appends, escaped for the inside of a JSON string (its quotes become
// \"): a key is written into a message part by part, without building it first.
void append_escaped_part(Buffer &out, std::string_view value, bool is_null);

}  // namespace es::key
