// Writing JSON text straight into a reused buffer: the per-row hot path of the output plugin
// appends escaped strings here instead of building a document object per row.
#pragma once

#include <cstdint>
#include <string_view>

#include "electric_shapes/pure/buffer.hpp"

namespace es::json {

// The position of the first byte of text that must be escaped in a JSON string (a quote, a
// backslash or a control character), or text.size() when there is none.
size_t find_escape(std::string_view text);

// Appends text escaped as RFC 8259 requires inside a JSON string literal, without the quotes.
void append_escaped(Buffer &out, std::string_view text);

// Appends text between quotes as it is: for text known to hold nothing to escape (numbers,
// timestamps the plugin wrote itself).
void append_quoted(Buffer &out, std::string_view text);

// Appends text as a JSON string literal, quotes included, escaping what RFC 8259 requires.
void append_string(Buffer &out, std::string_view text);

// Appends a JSON document printed by PostgreSQL (json or jsonb output) on a single line: raw
// newlines can only be insignificant white space there, so they become spaces.
void append_embedded(Buffer &out, std::string_view json_text);

// Length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF) that starts text, or 0 when text does not start with one.
size_t utf8_sequence_length(std::string_view text);

// Like append_string, for text that may hold bytes that are not UTF-8 (a SQL_ASCII database
// stores whatever bytes it was given): well-formed UTF-8 is written as itself, and each byte that
// is not part of a well-formed sequence is written as \u00XX, the Latin-1 character of that byte.
// The output is then always valid UTF-8 JSON, and distinct byte strings stay distinct unless
// they differ only in a byte and the UTF-8 encoding of the same Latin-1 character.
void append_string_repairing(Buffer &out, std::string_view text);

// Like append_embedded, repairing bytes that are not UTF-8 as append_string_repairing does (a
// json document can hold such bytes only inside its strings, where \u00XX is a valid escape).
void append_embedded_repairing(Buffer &out, std::string_view json_text);

// Appends an unsigned integer in decimal.
void append_uint(Buffer &out, uint64_t value);

// True when text is a finite number in the form PostgreSQL prints numbers, and so is a JSON number.
bool is_json_number(std::string_view text);

}  // namespace es::json
