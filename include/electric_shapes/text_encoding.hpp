// Text from the database (values, relation, schema and column names) on its way into the
// stream's JSON, which is always UTF-8 whatever the database encoding:
//  - UTF8: written as it is (the hot path does no conversion at all);
//  - SQL_ASCII: the database holds whatever bytes it was given; well-formed UTF-8 passes
//    through and each other byte is written as \u00XX (json::append_string_repairing);
//  - any other encoding: converted with pg_server_to_any(..., PG_UTF8). That raises an ERROR only
//    where PostgreSQL has no conversion into UTF-8 at all (MULE_INTERNAL) or a character has no
//    Unicode equivalent; the server encodings in use (LATIN*, WIN*, EUC_*, ...) all convert.
// The database encoding is classified once (per stream, per relation build), not per value.
#pragma once

#include "electric_shapes/pure/buffer.hpp"
#include "electric_shapes/postgres.hpp"

namespace es::utf8 {

enum class Encoding { Utf8, SqlAscii, Other };

// The class of the current database's encoding.
Encoding database_encoding();

// text (in the database encoding) as UTF-8: itself for Utf8 and SqlAscii, and for ASCII-only
// text; otherwise a conversion allocated in the current memory context. May ereport, so no C++
// object with a destructor may be alive in the calling frames (pg_boundary.hpp, rule 2).
const char *to_utf8(const char *text, Encoding encoding);

// Appends text (UTF-8, or raw bytes for SqlAscii) as a JSON string literal.
void append_json_string(Buffer &out, std::string_view text, Encoding encoding);

}  // namespace es::utf8
