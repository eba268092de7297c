// Shape name validation (see shape_name.hpp).
#include "electric_shapes/pure/shape_name.hpp"

namespace es {

bool is_valid_shape_name(std::string_view name)
{
    if (name.empty() || name.size() > kMaxShapeNameLength)
        return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

}  // namespace es
