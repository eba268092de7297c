// The output plugin's options, parsed and validated in one place. Input is what the server hands
// over (pg_recvlogical -o name[=value], or the SQL interface's variadic pairs); a value may be
// absent. Any problem is an es::UserError with SQLSTATE 22023 naming the option.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "electric_shapes/pure/name_set.hpp"

namespace es {

enum class ValuesMode { Text, Json };

struct PluginOptions {
    bool all_shapes = true;                 // no "shapes" option: every shape
    NameSet shapes;                         // else: these names (some may not exist yet)
    bool include_transaction = false;
    ValuesMode values = ValuesMode::Text;

    // True when the shape called name is selected by these options.
    bool selects(std::string_view name) const { return all_shapes || shapes.contains(name); }
};

using RawOption = std::pair<std::string, std::optional<std::string>>;

// Parses and validates the options; throws es::UserError on the first bad one.
PluginOptions parse_plugin_options(const std::vector<RawOption> &raw);

}  // namespace es
