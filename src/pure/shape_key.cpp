// Building ElectricSQL row keys (see shape_key.hpp).
#include "electric_shapes/pure/shape_key.hpp"

namespace es::key {

void append_relation(std::string &out, std::string_view schema, std::string_view table)
{
    out.push_back('"');
    out.append(schema);
    out.append("\".\"");
    out.append(table);
    out.push_back('"');
}

void append_part(std::string &out, std::string_view value, bool is_null)
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

}  // namespace es::key
