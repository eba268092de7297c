// Database text into UTF-8 JSON (see text_encoding.hpp).
#include "electric_shapes/pure/json_writer.hpp"
#include "electric_shapes/text_encoding.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
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

DatabaseText database_text()
{
    DatabaseText conversion{false, GetDatabaseEncoding(), InvalidOid};
    if (database_encoding() != Encoding::Other)
        return conversion;
    conversion.convert = true;
    conversion.procedure = FindDefaultConversionProc(PG_UTF8, conversion.encoding);
    return conversion;
}

namespace {

// Source bytes handed to the conversion function at a time: bounds the room reserved for it.
constexpr size_t kConversionChunk = 64 * 1024;

// Appends a character as a JSON \u escape (a surrogate pair beyond the BMP).
void append_unicode_escape(StringInfo out, pg_wchar code)
{
    if (code > 0xFFFF) {
        code -= 0x10000;
        appendStringInfo(out, "\\u%04x\\u%04x", 0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF));
    } else {
        appendStringInfo(out, "\\u%04x", code);
    }
}

}  // namespace

void append_database_text(StringInfo out, const DatabaseText &conversion, const char *text, size_t len)
{
    if (!conversion.convert) {
        appendBinaryStringInfo(out, text, static_cast<int>(len));
        return;
    }
    auto *p = reinterpret_cast<const unsigned char *>(text);
    const unsigned char *end = p + len;
    while (p < end) {
        const unsigned char *ascii = p;
        while (p < end && !IS_HIGHBIT_SET(*p))
            p++;
        if (p > ascii)
            appendBinaryStringInfo(out, reinterpret_cast<const char *>(ascii), static_cast<int>(p - ascii));
        if (p == end)
            break;
        // A chunk from here that ends between two characters.
        const unsigned char *stop = p + std::min(static_cast<size_t>(end - p), kConversionChunk);
        while (stop < end && stop > p && (*stop & 0xC0) == 0x80)
            stop--;
        int converted = 0;
        if (OidIsValid(conversion.procedure)) {
            int srclen = static_cast<int>(stop - p);
            int room = (srclen + 1) * MAX_CONVERSION_GROWTH + 1;
            enlargeStringInfo(out, room);
            char *dest = out->data + out->len;
            // noError: stops before the first character it cannot convert, returning how far it got.
            converted = pg_do_encoding_conversion_buf(conversion.procedure, PG_UTF8, conversion.encoding,
                                                      const_cast<unsigned char *>(p), srclen,
                                                      reinterpret_cast<unsigned char *>(dest), room, true);
            out->len += static_cast<int>(strlen(dest));
        }
        p += converted;
        if (p < stop) {
            // A character the database encoding cannot hold (or, never in practice, bad UTF-8).
            int length = pg_utf_mblen(p);
            if (length <= end - p && pg_utf8_islegal(p, length)) {
                append_unicode_escape(out, utf8_to_unicode(p));
                p += length;
            } else {
                append_unicode_escape(out, 0xFFFD);
                p++;
            }
        }
    }
}

text *database_text_datum(const DatabaseText &conversion, const char *text, size_t len)
{
    if (!conversion.convert)
        return cstring_to_text_with_len(text, static_cast<int>(len));
    StringInfoData buffer;
    initStringInfo(&buffer);
    appendStringInfoSpaces(&buffer, VARHDRSZ);
    append_database_text(&buffer, conversion, text, len);
    SET_VARSIZE(buffer.data, buffer.len);
    return reinterpret_cast<::text *>(buffer.data);
}

}  // namespace es::utf8
