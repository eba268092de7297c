// Database text into UTF-8 JSON (see text_encoding.hpp).
#include "electric_shapes/pure/json_writer.hpp"
#include "electric_shapes/text_encoding.hpp"

extern "C" {
#include "mb/pg_wchar.h"
}

namespace es::utf8 {

Encoding database_encoding()
{
    switch (GetDatabaseEncoding()) {
    case PG_UTF8:
        return Encoding::Utf8;
    case PG_SQL_ASCII:
        return Encoding::SqlAscii;
    default:
        return Encoding::Other;
    }
}

const char *to_utf8(const char *text, Encoding encoding)
{
    if (encoding != Encoding::Other)
        return text;
    size_t len = 0;
    bool ascii = true;
    for (const char *p = text; *p; p++, len++)
        ascii = ascii && !IS_HIGHBIT_SET(*p);
    if (ascii)
        return text;  // ASCII is the same in every server encoding
    return pg_server_to_any(text, static_cast<int>(len), PG_UTF8);
}

void append_json_string(Buffer &out, std::string_view text, Encoding encoding)
{
    if (encoding == Encoding::SqlAscii)
        json::append_string_repairing(out, text);
    else
        json::append_string(out, text);
}

}  // namespace es::utf8
