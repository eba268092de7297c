// Parsing and validation of the output plugin's options (see plugin_options.hpp).
#include "electric_shapes/pure/plugin_options.hpp"

#include <unordered_set>

#include <algorithm>
#include <cctype>

#include "electric_shapes/pure/errors.hpp"
#include "electric_shapes/pure/shape_name.hpp"

namespace es {

namespace {

constexpr const char *kInvalidParameterValue = "22023";

// Lower-cases ASCII letters, as PostgreSQL's parse_bool does before comparing.
std::string lowercase(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// Removes leading and trailing blanks.
std::string trim(const std::string &text)
{
    size_t begin = text.find_first_not_of(" \t\n\r");
    if (begin == std::string::npos)
        return {};
    size_t end = text.find_last_not_of(" \t\n\r");
    return text.substr(begin, end - begin + 1);
}

// Quotes text for an error message, shortened so a huge value cannot flood the log.
std::string quoted(const std::string &text)
{
    constexpr size_t kShown = 64;
    if (text.size() <= kShown)
        return "\"" + text + "\"";
    return "\"" + text.substr(0, kShown) + "...\"";
}

UserError bad_value(const std::string &option, const std::string &value, const std::string &hint)
{
    return UserError(kInvalidParameterValue,
                     "invalid value for option \"" + option + "\": " + quoted(value), hint);
}

// A boolean option: absent value means true, otherwise PostgreSQL's boolean spellings.
bool parse_bool_option(const std::string &option, const std::optional<std::string> &value)
{
    if (!value)
        return true;
    std::string v = lowercase(trim(*value));
    if (v == "true" || v == "on" || v == "yes" || v == "1" || v == "t" || v == "y")
        return true;
    if (v == "false" || v == "off" || v == "no" || v == "0" || v == "f" || v == "n")
        return false;
    throw bad_value(option, *value, "Use a boolean: true or false.");
}

// The "shapes" option: comma-separated, well-formed shape names.
void parse_shapes_option(const std::optional<std::string> &value, PluginOptions &options)
{
    if (!value || trim(*value).empty())
        throw UserError(kInvalidParameterValue, "option \"shapes\" needs at least one shape name",
                        "Give comma-separated shape names, or leave the option out to stream every shape.");
    options.all_shapes = false;
    size_t start = 0;
    while (start <= value->size()) {
        size_t comma = value->find(',', start);
        if (comma == std::string::npos)
            comma = value->size();
        std::string name = trim(value->substr(start, comma - start));
        if (!is_valid_shape_name(name))
            throw UserError(kInvalidParameterValue,
                            "invalid shape name " + quoted(name) + " in option \"shapes\"",
                            "A shape name is 1 to 63 characters of letters, digits, '_' and '-'.");
        options.shapes.insert(std::move(name));
        start = comma + 1;
    }
}

}  // namespace

PluginOptions parse_plugin_options(const std::vector<RawOption> &raw)
{
    PluginOptions options;
    std::unordered_set<std::string> seen;
    for (const auto &[name, value] : raw) {
        if (!seen.insert(name).second)
            throw UserError(kInvalidParameterValue, "option " + quoted(name) + " is given more than once",
                            "Give each option once.");
        if (name == "shapes") {
            parse_shapes_option(value, options);
        } else if (name == "include-transaction") {
            options.include_transaction = parse_bool_option(name, value);
        } else if (name == "values") {
            std::string v = value ? lowercase(trim(*value)) : std::string();
            if (v == "text")
                options.values = ValuesMode::Text;
            else if (v == "json")
                options.values = ValuesMode::Json;
            else
                throw bad_value(name, value.value_or(""), "Valid values are \"text\" and \"json\".");
        } else {
            throw UserError(kInvalidParameterValue, "unrecognized option " + quoted(name),
                            "Valid options are \"shapes\", \"include-transaction\" and \"values\".");
        }
    }
    return options;
}

}  // namespace es
