// Text from the database (values, relation, schema and column names) on its way into the
// stream's JSON, which is always UTF-8 whatever the database encoding:
//  - UTF8: written as it is (the hot path does no conversion at all);
//  - SQL_ASCII: the database holds whatever bytes it was given; well-formed UTF-8 passes
//    through and each other byte is written as \u00XX (json::append_string_repairing);
//  - any other encoding: converted with pg_server_to_any(..., PG_UTF8). That raises an ERROR only
//    where PostgreSQL has no conversion into UTF-8 at all (MULE_INTERNAL) or a character has no
//    Unicode equivalent; the server encodings in use (LATIN*, WIN*, EUC_*, ...) all convert.
// The database encoding is classified once (per stream, per relation build), not per value.
//
// Where that UTF-8 goes out as text of the database (the SQL interface: pg_logical_slot_get_changes
// returns text in the database encoding, which PostgreSQL then converts to the client's, and
// shape_snapshot's rows), it is converted back into the database encoding, or the client would
// get UTF-8 bytes read as, say, LATIN1 ("cafÃ©"). A character the database encoding cannot hold
// (none, when the text came from the database; kept as a safeguard) becomes a JSON \u escape:
// non-ASCII characters only ever appear inside JSON strings, so the message stays valid JSON
// with the same value. The walsender stream is not text of the database: it stays UTF-8.
#pragma once

#include "electric_shapes/pure/buffer.hpp"
#include "electric_shapes/postgres.hpp"

extern "C" {
#include "lib/stringinfo.h"
}

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

// How UTF-8 output becomes text of the database. Plain data: lives in palloc'd structs.
struct DatabaseText {
    bool convert;   // false: UTF-8 is fine as it is (UTF8 and SQL_ASCII databases)
    int encoding;   // the database encoding
    Oid procedure;  // conversion from UTF-8 into it; InvalidOid: none, every non-ASCII is escaped
};

// The conversion for the current database. Looks the conversion up in the catalog: call where
// catalog access is allowed (a transaction is open).
DatabaseText database_text();

// Appends UTF-8 text to out, in the database encoding when conversion.convert.
void append_database_text(StringInfo out, const DatabaseText &conversion, const char *text, size_t len);

// UTF-8 text as a text datum of the database, in the current memory context.
text *database_text_datum(const DatabaseText &conversion, const char *text, size_t len);

}  // namespace es::utf8
