// The client message of a row, without building a document: a shape's initial sync turns every
// row shape_snapshot returns into the message its clients get, and parsing each into an
// nlohmann document only to print it again (parse_stream_message) cost more than reading the
// rows from PostgreSQL. The bytes must stay exactly those of parse_stream_message's client_json
// (the stream's copy of a row, the files written before this path existed and the etags of
// their chunks all agree on them): the fast path copies the plugin's text where it is already in
// that form (object keys sorted, no white space, the escapes nlohmann writes) and gives up, for
// the full parse to decide, on anything else (a \u or \/ escape, a fraction or exponent, a
// duplicate or escaped key, text that is not valid JSON or UTF-8, a control message).
#pragma once

#include <string>
#include <string_view>

namespace es::sync {

// Appends to out the client message of the row message text (the plugin's message without its
// "shapes" header, as parse_stream_message's client_json gives it) and returns true; or returns
// false with out as it was, when text is not a row message in the form the fast path handles.
bool append_row_client_json(std::string &out, std::string_view text);

}  // namespace es::sync
