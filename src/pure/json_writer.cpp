// JSON string escaping and number checks for the output plugin's hot path (see json_writer.hpp).
#include "electric_shapes/pure/json_writer.hpp"

#include <cstring>

#include <charconv>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace es::json {

namespace {

// True for the bytes that cannot stand as themselves inside a JSON string.
inline bool needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

}  // namespace

#if defined(__SSE2__)
namespace {

// One bit per byte of the block (bit i for byte i) that must be escaped.
inline unsigned escape_bits(__m128i bytes)
{
    const __m128i last_control = _mm_set1_epi8(0x1f);
    __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(bytes, last_control), last_control);
    __m128i special = _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')),
                                   _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\')));
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(control, special)));
}

}  // namespace
#endif

size_t find_escape(std::string_view text)
{
    const char *data = text.data();
    size_t size = text.size();
#if defined(__SSE2__)
    // Sixteen bytes at a time: every value of every streamed row is scanned here. Loads never
    // reach past the text: a last partial block is read as the final sixteen bytes, overlapping
    // bytes already found clean, and text of 8 to 15 bytes as two overlapping halves.
    if (size >= 16) {
        size_t i = 0;
        for (; i + 16 <= size; i += 16) {
            unsigned bits = escape_bits(_mm_loadu_si128(reinterpret_cast<const __m128i *>(data + i)));
            if (bits != 0)
                return i + static_cast<size_t>(__builtin_ctz(bits));
        }
        if (i < size) {
            size_t last = size - 16;
            unsigned bits = escape_bits(_mm_loadu_si128(reinterpret_cast<const __m128i *>(data + last)));
            if (bits != 0)
                return last + static_cast<size_t>(__builtin_ctz(bits));
        }
        return size;
    }
    if (size >= 8) {
        // The upper half of a 64-bit load is zero, which is a control byte: keep the low 8 bits.
        unsigned head = escape_bits(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(data))) & 0xff;
        if (head != 0)
            return static_cast<size_t>(__builtin_ctz(head));
        unsigned tail = escape_bits(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(data + size - 8))) & 0xff;
        if (tail != 0)
            return size - 8 + static_cast<size_t>(__builtin_ctz(tail));
        return size;
    }
#endif
    for (size_t i = 0; i < size; i++) {
        if (needs_escape(static_cast<unsigned char>(data[i])))
            return i;
    }
    return size;
}

void append_escaped(Buffer &out, std::string_view text)
{
    static const char hex[] = "0123456789abcdef";
    // Most values need no escaping: they are appended whole, after one scan.
    size_t run_start = 0;
    for (size_t i = find_escape(text); i < text.size(); i = run_start + find_escape(text.substr(run_start))) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        out.append(text.data() + run_start, i - run_start);
        run_start = i + 1;
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        default:
            out.append("\\u00");
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
        }
    }
    out.append(text.data() + run_start, text.size() - run_start);
}

void append_quoted(Buffer &out, std::string_view text)
{
    char *target = out.reserve(text.size() + 2);
    target[0] = '"';
    if (!text.empty())
        memcpy(target + 1, text.data(), text.size());
    target[text.size() + 1] = '"';
    out.commit(text.size() + 2);
}

void append_string(Buffer &out, std::string_view text)
{
    if (find_escape(text) == text.size()) {  // the common case: one copy between the quotes
        append_quoted(out, text);
        return;
    }
    out.push_back('"');
    append_escaped(out, text);
    out.push_back('"');
}

size_t utf8_sequence_length(std::string_view text)
{
    auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    auto continuation = [&](size_t i, unsigned char low, unsigned char high) {
        return i < text.size() && byte(i) >= low && byte(i) <= high;
    };
    if (text.empty())
        return 0;
    unsigned char c = byte(0);
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return continuation(1, 0x80, 0xbf) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned char low = c == 0xe0 ? 0xa0 : 0x80;   // no overlong forms
        unsigned char high = c == 0xed ? 0x9f : 0xbf;  // no surrogates
        return continuation(1, low, high) && continuation(2, 0x80, 0xbf) ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned char low = c == 0xf0 ? 0x90 : 0x80;   // no overlong forms
        unsigned char high = c == 0xf4 ? 0x8f : 0xbf;  // nothing above U+10FFFF
        return continuation(1, low, high) && continuation(2, 0x80, 0xbf) &&
                       continuation(3, 0x80, 0xbf)
                   ? 4
                   : 0;
    }
    return 0;
}

namespace {

// Appends text, whose ASCII bytes need no escaping, writing each byte that does not start a
// well-formed UTF-8 sequence as \u00XX.
void append_repaired(Buffer &out, std::string_view text)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < text.size()) {
        size_t run = i;
        while (i < text.size()) {
            size_t n = utf8_sequence_length(text.substr(i));
            if (n == 0)
                break;
            i += n;
        }
        out.append(text.data() + run, i - run);
        if (i < text.size()) {
            unsigned char c = static_cast<unsigned char>(text[i]);
            out.append("\\u00");
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
            i++;
        }
    }
}

}  // namespace

namespace {

// Repairs what was appended to out from start on: escaping and embedding touch ASCII only, so the
// appended text holds the same non-UTF-8 bytes as its source.
void repair_from(Buffer &out, size_t start)
{
    for (size_t i = start; i < out.size(); i++) {
        if (static_cast<unsigned char>(out[i]) >= 0x80) {
            std::string rest(out.view().substr(i));
            out.truncate(i);
            append_repaired(out, rest);
            return;
        }
    }
}

}  // namespace

void append_string_repairing(Buffer &out, std::string_view text)
{
    size_t start = out.size();
    append_string(out, text);
    repair_from(out, start);
}

void append_embedded_repairing(Buffer &out, std::string_view json_text)
{
    size_t start = out.size();
    append_embedded(out, json_text);
    repair_from(out, start);
}

void append_embedded(Buffer &out, std::string_view json_text)
{
    char *target = out.reserve(json_text.size());
    for (size_t i = 0; i < json_text.size(); i++) {
        char c = json_text[i];
        target[i] = c == '\n' || c == '\r' ? ' ' : c;
    }
    out.commit(json_text.size());
}

void append_uint(Buffer &out, uint64_t value)
{
    char *target = out.reserve(20);
    out.commit(static_cast<size_t>(std::to_chars(target, target + 20, value).ptr - target));
}

bool is_json_number(std::string_view text)
{
    // JSON: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    size_t i = 0, n = text.size();
    auto digits = [&]() {
        size_t begin = i;
        while (i < n && text[i] >= '0' && text[i] <= '9')
            i++;
        return i - begin;
    };
    if (i < n && text[i] == '-')
        i++;
    if (i < n && text[i] == '0')
        i++;
    else if (digits() == 0)
        return false;
    if (i < n && text[i] == '.') {
        i++;
        if (digits() == 0)
            return false;
    }
    if (i < n && (text[i] == 'e' || text[i] == 'E')) {
        i++;
        if (i < n && (text[i] == '+' || text[i] == '-'))
            i++;
        if (digits() == 0)
            return false;
    }
    return i == n;
}

}  // namespace es::json
