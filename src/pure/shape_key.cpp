// Building ElectricSQL row keys (see shape_key.hpp).
#include "electric_shapes/pure/shape_key.hpp"

#include "electric_shapes/pure/json_writer.hpp"

namespace es::key {

void append_relation(Buffer &out, std::string_view schema, std::string_view table)
{
    out.push_back('"');
    out.append(schema);
    out.append("\".\"");
    out.append(table);
    out.push_back('"');
}

void append_part(Buffer &out, std::string_view value, bool is_null)
{
    out.push_back('/');
    if (is_null) {
        out.push_back('_');
        return;
    }
    out.push_back('"');
    for (char c : value) {
        out.push_back(c);
        if (c == '/')
            out.push_back('/');
    }
    out.push_back('"');
}

void append_escaped_part(Buffer &out, std::string_view value, bool is_null)
{
    if (is_null) {
        out.append("/_");
        return;
    }
    out.append("/\\\"");
    if (json::find_escape(value) == value.size() && value.find('/') == std::string_view::npos) {
        out.append(value);  // the common case: nothing to double or escape
    } else {
        // '/' needs no JSON escape and escapes never produce one, so doubling and escaping
        // commute: each slash-separated piece is escaped on its own.
        size_t start = 0;
        for (size_t slash = value.find('/'); slash != std::string_view::npos; slash = value.find('/', start)) {
            json::append_escaped(out, value.substr(start, slash - start));
            out.append("//");
            start = slash + 1;
        }
        json::append_escaped(out, value.substr(start));
    }
    out.append("\\\"");
}

}  // namespace es::key
