// Writing JSON text straight into a reused buffer: the per-row hot path of the output plugin
// appends escaped strings here instead of building a document object per row.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace es::json {

// Appends text as a JSON string literal, quotes included, escaping what RFC 8259 requires.
void append_string(std::string &out, std::string_view text);

// Appends a JSON document printed by PostgreSQL (json or jsonb output) on a single line: raw
// newlines can only be insignificant white space there, so they become spaces.
void append_embedded(std::string &out, std::string_view json_text);

// Appends an unsigned integer in decimal.
void append_uint(std::string &out, uint64_t value);

// True when text is a finite number in the form PostgreSQL prints numbers, and so is a JSON number.
bool is_json_number(std::string_view text);

}  // namespace es::json
