// JSON string escaping and number checks for the output plugin's hot path (see json_writer.hpp).
#include "electric_shapes/pure/json_writer.hpp"

#include <charconv>

namespace es::json {

namespace {

// True for the bytes that cannot stand as themselves inside a JSON string.
inline bool needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

}  // namespace

void append_string(std::string &out, std::string_view text)
{
    static const char hex[] = "0123456789abcdef";
    out.push_back('"');
    size_t run_start = 0;
    for (size_t i = 0; i < text.size(); i++) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (!needs_escape(c))
            continue;
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
    out.push_back('"');
}

void append_embedded(std::string &out, std::string_view json_text)
{
    size_t start = out.size();
    out.append(json_text);
    for (size_t i = start; i < out.size(); i++) {
        if (out[i] == '\n' || out[i] == '\r')
            out[i] = ' ';
    }
}

void append_uint(std::string &out, uint64_t value)
{
    char digits[24];
    auto result = std::to_chars(digits, digits + sizeof(digits), value);
    out.append(digits, result.ptr - digits);
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
