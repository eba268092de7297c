// Parsing of the sync service's settings (see config.hpp).
#include "sync/pure/config.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <map>

#include "sync/pure/log_offset.hpp"

namespace es::sync {

namespace {

// One setting: its environment variable and flag, and whether the flag stands alone.
struct Setting {
    const char *env;
    const char *flag;
    bool is_switch;
    const char *help;
};

const Setting kSettings[] = {
    {"DATABASE_URL", "--database-url", false,
     "PostgreSQL connection string (URI or key=value); required"},
    {"ELECTRIC_PORT", "--port", false, "HTTP port (default 3000)"},
    {"ELECTRIC_LISTEN_ADDRESS", "--listen-address", false,
     "IP address to listen on (default: every address)"},
    {"ELECTRIC_STORAGE_DIR", "--storage-dir", false,
     "directory of the shape logs (default ./persistent)"},
    {"ELECTRIC_REPLICATION_STREAM_ID", "--replication-stream-id", false,
     "names the slot and the shapes this service owns: 1 to 31 of [a-z0-9_] (default \"default\")"},
    {"ELECTRIC_SECRET", "--secret", false,
     "API secret every request must carry as ?secret= (or api_secret=)"},
    {"ELECTRIC_INSECURE", "--insecure", true,
     "true to serve without a secret (one of the secret or this is required)"},
    {"JWT_SECRET", "--jwt-secret", false,
     "HMAC secret (at least 32 bytes) of the users' tokens: a request with Authorization: Bearer <token> "
     "gets the shapes the database lets that user read"},
    {"ELECTRIC_LONG_POLL_TIMEOUT", "--long-poll-timeout", false,
     "milliseconds a live request waits for changes (default 20000)"},
    {"ELECTRIC_SSE_TIMEOUT", "--sse-timeout", false,
     "milliseconds a live_sse response stays open before the client reconnects (default 60000)"},
    {"ELECTRIC_SSE_KEEPALIVE_INTERVAL", "--sse-keepalive-interval", false,
     "milliseconds of silence after which a live_sse response gets a keep-alive comment (default 21000)"},
    {"ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD", "--chunk-bytes-threshold", false,
     "bytes of messages a response holds at most (one chunk; a larger message is a chunk alone) "
     "(default 10485760)"},
    {"LOG_LEVEL", "--log-level", false, "debug, info, warning or error (default info)"},
};

// A value for the error line: quoted and shortened, so a huge value cannot flood the terminal.
std::string shown(const std::string &value)
{
    constexpr size_t kShown = 64;
    return "\"" + (value.size() <= kShown ? value : value.substr(0, kShown) + "...") + "\"";
}

std::string lower(std::string text)
{
    for (char &c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// A decimal integer in [min, max] and nothing else, or nothing.
std::optional<uint64_t> parse_uint(const std::string &text, uint64_t min, uint64_t max)
{
    std::optional<uint64_t> value = parse_decimal(text);
    if (!value || *value < min || *value > max)
        return std::nullopt;
    return value;
}

std::optional<bool> parse_bool(const std::string &text)
{
    std::string v = lower(text);
    if (v == "true" || v == "1" || v == "yes" || v == "on")
        return true;
    if (v == "false" || v == "0" || v == "no" || v == "off" || v.empty())
        return false;
    return std::nullopt;
}

bool valid_stream_id(const std::string &id)
{
    if (id.empty() || id.size() > 31)
        return false;
    for (char c : id)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

bool valid_ip_address(const std::string &text)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// The error line for setting s: it names both ways to give it.
std::string bad(const Setting &s, const std::string &value, const std::string &expected)
{
    return std::string("invalid ") + s.env + " (" + s.flag + ") " + shown(value) + ": " + expected;
}

}  // namespace

std::string Config::slot_name() const { return "electric_shapes_slot_" + stream_id; }

std::string Config::shape_prefix() const { return "ess_" + stream_id + "_"; }

ConfigOutcome parse_config(const std::vector<std::string> &all_args, const EnvLookup &env)
{
    ConfigOutcome outcome;
    // The operational settings are parsed on their own (ops_settings.cpp); the rest here.
    OpsSettings ops;
    std::vector<std::string> args;
    if (std::string error = take_ops_settings(all_args, env, ops, args); !error.empty()) {
        outcome.error = error;
        return outcome;
    }
    std::map<std::string, std::string> values;  // env name => value
    for (const Setting &s : kSettings) {
        const char *v = env ? env(s.env) : nullptr;
        if (v)
            values[s.env] = v;
    }
    for (size_t i = 0; i < args.size(); i++) {
        const std::string &arg = args[i];
        if (arg == "--help" || arg == "-h") {
            outcome.help = true;
            return outcome;
        }
        std::string name = arg, value;
        bool has_value = false;
        size_t eq = arg.find('=');
        if (eq != std::string::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            has_value = true;
        }
        const Setting *setting = nullptr;
        for (const Setting &s : kSettings)
            if (name == s.flag)
                setting = &s;
        if (!setting) {
            outcome.error = "unknown argument " + shown(arg) + " (see --help)";
            return outcome;
        }
        if (!has_value) {
            if (setting->is_switch) {
                value = "true";
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                outcome.error = std::string(setting->flag) + " needs a value (see --help)";
                return outcome;
            }
        }
        values[setting->env] = value;
    }

    Config config;
    auto find = [&](const char *env) -> const std::string * {
        auto it = values.find(env);
        return it == values.end() ? nullptr : &it->second;
    };
    auto setting = [](const char *env) -> const Setting & {
        for (const Setting &s : kSettings)
            if (std::string(env) == s.env)
                return s;
        return kSettings[0];
    };

    const std::string *v = find("DATABASE_URL");
    if (!v || v->empty()) {
        outcome.error = "DATABASE_URL (--database-url) is required: the PostgreSQL database to sync from";
        return outcome;
    }
    config.database_url = *v;
    if ((v = find("ELECTRIC_PORT"))) {
        auto port = parse_uint(*v, 1, 65535);
        if (!port) {
            outcome.error = bad(setting("ELECTRIC_PORT"), *v, "expected a port number from 1 to 65535");
            return outcome;
        }
        config.port = static_cast<uint16_t>(*port);
    }
    if ((v = find("ELECTRIC_LISTEN_ADDRESS")) && !v->empty()) {
        if (!valid_ip_address(*v)) {
            outcome.error = bad(setting("ELECTRIC_LISTEN_ADDRESS"), *v, "expected an IPv4 or IPv6 address");
            return outcome;
        }
        config.listen_address = *v;
    }
    if ((v = find("ELECTRIC_STORAGE_DIR"))) {
        if (v->empty()) {
            outcome.error = bad(setting("ELECTRIC_STORAGE_DIR"), *v, "expected a directory");
            return outcome;
        }
        config.storage_dir = *v;
    }
    if ((v = find("ELECTRIC_REPLICATION_STREAM_ID"))) {
        if (!valid_stream_id(*v)) {
            outcome.error = bad(setting("ELECTRIC_REPLICATION_STREAM_ID"), *v,
                                "expected 1 to 31 characters of a-z, 0-9 and _");
            return outcome;
        }
        config.stream_id = *v;
    }
    if ((v = find("ELECTRIC_SECRET")))
        config.secret = *v;
    if ((v = find("ELECTRIC_INSECURE"))) {
        auto insecure = parse_bool(*v);
        if (!insecure) {
            outcome.error = bad(setting("ELECTRIC_INSECURE"), *v, "expected true or false");
            return outcome;
        }
        config.insecure = *insecure;
    }
    if ((v = find("JWT_SECRET"))) {
        // RFC 7518 section 3.2: an HMAC key at least as long as the hash (32 bytes for HS256).
        if (v->size() < 32) {
            outcome.error = std::string("invalid JWT_SECRET (--jwt-secret): expected at least 32 bytes, got ") +
                            std::to_string(v->size());
            return outcome;
        }
        config.jwt_secret = *v;
    }
    if (config.secret.empty() && !config.insecure && config.jwt_secret.empty()) {
        outcome.error = "ELECTRIC_SECRET (--secret) is required, or ELECTRIC_INSECURE=true (--insecure) "
                        "to serve shapes without one";
        return outcome;
    }
    if ((v = find("ELECTRIC_LONG_POLL_TIMEOUT"))) {
        auto ms = parse_uint(*v, 1, 3600000);
        if (!ms) {
            outcome.error = bad(setting("ELECTRIC_LONG_POLL_TIMEOUT"), *v,
                                "expected milliseconds from 1 to 3600000");
            return outcome;
        }
        config.long_poll_timeout_ms = static_cast<uint32_t>(*ms);
    }
    for (auto [name, field] : {std::pair{"ELECTRIC_SSE_TIMEOUT", &config.sse_timeout_ms},
                               std::pair{"ELECTRIC_SSE_KEEPALIVE_INTERVAL", &config.sse_keepalive_interval_ms}}) {
        if ((v = find(name))) {
            auto ms = parse_uint(*v, 1, 3600000);
            if (!ms) {
                outcome.error = bad(setting(name), *v, "expected milliseconds from 1 to 3600000");
                return outcome;
            }
            *field = static_cast<uint32_t>(*ms);
        }
    }
    if ((v = find("ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD"))) {
        auto bytes = parse_uint(*v, 1, 1073741824);
        if (!bytes) {
            outcome.error = bad(setting("ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD"), *v,
                                "expected bytes from 1 to 1073741824");
            return outcome;
        }
        config.chunk_bytes_threshold = *bytes;
    }
    if ((v = find("LOG_LEVEL"))) {
        std::string level = lower(*v);
        if (level == "debug")
            config.log_level = LogLevel::Debug;
        else if (level == "info")
            config.log_level = LogLevel::Info;
        else if (level == "warning" || level == "warn")
            config.log_level = LogLevel::Warning;
        else if (level == "error")
            config.log_level = LogLevel::Error;
        else {
            outcome.error = bad(setting("LOG_LEVEL"), *v, "expected debug, info, warning or error");
            return outcome;
        }
    }
    config.ops = ops;
    outcome.config = std::move(config);
    return outcome;
}

std::string config_help()
{
    std::string text =
        "electric-shapes-sync: ElectricSQL's HTTP shape API (v1) served from the electric_shapes\n"
        "logical decoding plugin, for Electric's clients unchanged.\n\n"
        "Usage: electric-shapes-sync [--flag=value ...]\n\n"
        "Each setting is an environment variable or a flag; a flag wins.\n";
    for (const Setting &s : kSettings) {
        std::string left = std::string("  ") + s.flag + (s.is_switch ? "" : "=VALUE");
        text += left + std::string(left.size() < 32 ? 32 - left.size() : 1, ' ') + s.env + "\n";
        text += std::string(6, ' ') + s.help + "\n";
    }
    text += ops_settings_help();
    text += "  --help                        this text\n";
    return text;
}

}  // namespace es::sync
