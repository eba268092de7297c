// The client message of a row, without building a document: a shape's initial sync turns every
// row shape_snapshot returns into the message its clients get, and parsing each into an
// nlohmann document only to print it again (parse_stream_message_full) cost more than reading
// the rows from PostgreSQL. The bytes must stay exactly those of the full parse's client_json
// (the stream's copy of a row, the files written before this path existed and the etags of
// their chunks all agree on them): the fast path copies the plugin's text where it is already in
// that form (object keys sorted, no white space, the escapes nlohmann writes) and gives up, for
// the full parse to decide, on anything else (a \u or \/ escape, a fraction or exponent, a
// duplicate or escaped key, text that is not valid JSON or UTF-8, a control message).
//
// The stream's rows (one per change, most of the service's parsing when transactions are small)
// take the same path: while the headers are scanned, the copier also reads the header values
// the full parse takes from a row, with its semantics, and gives up where reading them
// would need more than the raw text (a shape name with an escape or that is not a string).
//
// The same scan, without the copy, reads the headers of any message (read_message_headers): the
// begin and commit of every transaction, two of the three messages of a one-row transaction,
// take it through control_json.hpp rather than an nlohmann document, so that one scanner (the
// one whose forms the row tests already hold to the full parse) decides what every fast path
// reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace es::sync {

// A row's header values, as parse_stream_message_full's StreamMessage has them: "shapes" (its
// string elements; none when it is absent or not an array), "lsn" (an unsigned integer, or a
// string of decimal digits that fits 64 bits, else 0), "op_position" (an unsigned integer, else
// 0) and the first element of "txids" (an unsigned integer, else 0).
struct RowHeaders {
    std::vector<std::string> shapes;
    uint64_t lsn = 0;
    uint64_t op_position = 0;
    uint64_t xid = 0;
};

// The header values of any message: those of RowHeaders, read alike, and the strings "control"
// and "commit_time" as their bytes (nothing when absent, and "commit_time" nothing also when it
// is not a string, as the full parse ignores it then). The views point into the scanned text.
struct MessageHeaders {
    RowHeaders values;
    std::optional<std::string_view> control;
    std::optional<std::string_view> commit_time;
};

// Sets headers to the header values of the message text and returns true; or returns false
// (headers unspecified) when text is not a message (a JSON object whose "headers" member is an
// object) in the fast path's forms, or one of its header values is in a form it does not read:
// those RowHeaders declines, a "control" that is not a string, a "control" or "commit_time"
// string with an escape.
bool read_message_headers(std::string_view text, MessageHeaders &headers);

// Appends to out the client message of the row message text (the plugin's message without its
// "shapes" header, as parse_stream_message_full's client_json gives it) and returns true; or returns
// false with out as it was, when text is not a row message in the form the fast path handles.
// With headers, also sets *headers to the row's header values, and returns false (out as it
// was, *headers unspecified) when one of them is in a form the fast path does not read: a name
// in "shapes" that is not a string or has an escape, an "lsn" string with an escape.
bool append_row_client_json(std::string &out, std::string_view text, RowHeaders *headers = nullptr);

}  // namespace es::sync
