// What a shape name may be: 1 to 63 characters of [A-Za-z0-9_-], so it fits PostgreSQL's
// identifier length and needs no quoting in plugin options or in JSON.
#pragma once

#include <string_view>

namespace es {

constexpr size_t kMaxShapeNameLength = 63;

// True when name is a well-formed shape name.
bool is_valid_shape_name(std::string_view name);

}  // namespace es
