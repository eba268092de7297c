// Parsing of the operational settings (see ops_settings.hpp).
#include "sync/pure/ops_settings.hpp"

#include <map>

#include <nlohmann/json.hpp>

namespace es::sync {

namespace {

struct OpsSetting {
    const char *env;
    const char *flag;
    const char *help;
};

const OpsSetting kOpsSettings[] = {
    {"ELECTRIC_SHAPE_RETENTION", "--shape-retention",
     "remove a shape (files and catalog row) nobody asked for within this time: 30s, 10m, 2h, 7d\n"
     "      or milliseconds; 0 keeps shapes (default 0)"},
    {"ELECTRIC_MAX_CONCURRENT_REQUESTS", "--max-concurrent-requests",
     "{\"initial\":N,\"existing\":M}: concurrent initial (offset=-1) and other shape requests,\n"
     "      held long-polls included; above it 503 with retry-after (default initial 300, existing 10000)"},
    {"ELECTRIC_MAX_SHAPES", "--max-shapes",
     "most shapes kept; a new one removes the least recently asked-for one, whose clients\n"
     "      refetch (409); 0 is no limit (default 0)"},
    {"ELECTRIC_MAX_SHAPE_LOG_SIZE", "--max-shape-log-size",
     "a shape whose log of changes grows past this (bytes, or 64MB, 512MiB ...) is rotated:\n"
     "      a new snapshot, its clients refetch (409); 0 is no limit (default 0)"},
    {"ELECTRIC_SHUTDOWN_TIMEOUT", "--shutdown-timeout",
     "SIGTERM: the longest the service takes to answer held requests and exit (default 10s)"},
};

std::string shown(const std::string &value)
{
    constexpr size_t kShown = 64;
    return "\"" + (value.size() <= kShown ? value : value.substr(0, kShown) + "...") + "\"";
}

std::string bad(const OpsSetting &s, const std::string &value, const std::string &expected)
{
    return std::string("invalid ") + s.env + " (" + s.flag + ") " + shown(value) + ": " + expected;
}

// Digits then a unit from units; -1 when malformed or above max.
int64_t number_with_unit(const std::string &text, const std::map<std::string, int64_t> &units, int64_t max)
{
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
        digits++;
    if (digits == 0 || digits > 13)
        return -1;
    auto unit = units.find(text.substr(digits));
    if (unit == units.end())
        return -1;
    int64_t value = std::stoll(text.substr(0, digits));
    if (value > max / unit->second)
        return -1;
    return value * unit->second;
}

// A whole number in [min, max] as JSON or text, or -1.
int64_t count_value(const nlohmann::json &value, int64_t min, int64_t max)
{
    if (!value.is_number_unsigned())
        return -1;
    uint64_t v = value.get<uint64_t>();
    return v < static_cast<uint64_t>(min) || v > static_cast<uint64_t>(max) ? -1 : static_cast<int64_t>(v);
}

}  // namespace

int64_t parse_duration_ms(const std::string &text)
{
    static const std::map<std::string, int64_t> units = {
        {"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    return number_with_unit(text, units, 366LL * 86400000);
}

int64_t parse_size_bytes(const std::string &text)
{
    static const std::map<std::string, int64_t> units = {
        {"", 1},           {"B", 1},          {"kB", 1000},          {"KB", 1000},
        {"MB", 1000000},   {"GB", 1000000000}, {"KiB", 1024},        {"MiB", 1024 * 1024},
        {"GiB", 1024LL * 1024 * 1024}};
    return number_with_unit(text, units, 1024LL * 1024 * 1024 * 1024);
}

std::string take_ops_settings(const std::vector<std::string> &args,
                              const std::function<const char *(const char *)> &env, OpsSettings &settings,
                              std::vector<std::string> &rest)
{
    std::map<std::string, std::string> values;
    for (const OpsSetting &s : kOpsSettings)
        if (const char *v = env ? env(s.env) : nullptr)
            values[s.env] = v;
    for (size_t i = 0; i < args.size(); i++) {
        const std::string &arg = args[i];
        size_t eq = arg.find('=');
        std::string name = arg.substr(0, eq);
        const OpsSetting *setting = nullptr;
        for (const OpsSetting &s : kOpsSettings)
            if (name == s.flag)
                setting = &s;
        if (!setting) {
            rest.push_back(arg);
            continue;
        }
        if (eq != std::string::npos)
            values[setting->env] = arg.substr(eq + 1);
        else if (i + 1 < args.size())
            values[setting->env] = args[++i];
        else
            return std::string(setting->flag) + " needs a value (see --help)";
    }

    for (const OpsSetting &s : kOpsSettings) {
        auto found = values.find(s.env);
        if (found == values.end())
            continue;
        const std::string &v = found->second;
        std::string env_name = s.env;
        if (env_name == "ELECTRIC_SHAPE_RETENTION") {
            int64_t ms = parse_duration_ms(v);
            if (ms < 0)
                return bad(s, v, "expected a time such as 30s, 10m, 2h or 7d (at most a year), or 0");
            settings.shape_retention_ms = static_cast<uint64_t>(ms);
        } else if (env_name == "ELECTRIC_MAX_CONCURRENT_REQUESTS") {
            nlohmann::json doc = nlohmann::json::parse(v, nullptr, false);
            const char *expected = "expected {\"initial\":N,\"existing\":M} with N and M from 1 to 1000000";
            if (doc.is_number_unsigned()) {  // one number for both
                int64_t n = count_value(doc, 1, 1000000);
                if (n < 0)
                    return bad(s, v, expected);
                settings.max_initial_requests = settings.max_existing_requests = static_cast<uint32_t>(n);
                continue;
            }
            if (!doc.is_object())
                return bad(s, v, expected);
            for (auto it = doc.begin(); it != doc.end(); ++it) {
                int64_t n = count_value(it.value(), 1, 1000000);
                if (n < 0 || (it.key() != "initial" && it.key() != "existing"))
                    return bad(s, v, expected);
                (it.key() == "initial" ? settings.max_initial_requests : settings.max_existing_requests) =
                    static_cast<uint32_t>(n);
            }
        } else if (env_name == "ELECTRIC_MAX_SHAPES") {
            int64_t n = number_with_unit(v, {{"", 1}}, 10000000);
            if (n < 0)
                return bad(s, v, "expected a number of shapes from 0 (no limit) to 10000000");
            settings.max_shapes = static_cast<uint32_t>(n);
        } else if (env_name == "ELECTRIC_MAX_SHAPE_LOG_SIZE") {
            int64_t n = parse_size_bytes(v);
            if (n < 0)
                return bad(s, v, "expected a size such as 1048576, 64MB or 512MiB (at most 1TiB), or 0");
            settings.max_shape_log_bytes = static_cast<uint64_t>(n);
        } else if (env_name == "ELECTRIC_SHUTDOWN_TIMEOUT") {
            int64_t ms = parse_duration_ms(v);
            if (ms < 1 || ms > 3600000)
                return bad(s, v, "expected a time from 1ms to 1h, such as 10s");
            settings.shutdown_timeout_ms = static_cast<uint32_t>(ms);
        }
    }
    return "";
}

std::string ops_settings_help()
{
    std::string text;
    for (const OpsSetting &s : kOpsSettings) {
        std::string left = std::string("  ") + s.flag + "=VALUE";
        text += left + std::string(left.size() < 32 ? 32 - left.size() : 1, ' ') + s.env + "\n";
        text += std::string(6, ' ') + s.help + "\n";
    }
    return text;
}

}  // namespace es::sync
