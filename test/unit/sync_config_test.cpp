// Unit tests of the sync service's settings: defaults, environment, flags over environment,
// and the one-line error of every bad or missing value.
#include "sync/pure/config.hpp"

#include <gtest/gtest.h>

#include <map>

namespace {

using es::sync::ConfigOutcome;
using es::sync::parse_config;

ConfigOutcome parse(std::vector<std::string> args, std::map<std::string, std::string> env)
{
    return parse_config(args, [&env](const char *name) -> const char * {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
}

const std::map<std::string, std::string> kMinimal = {{"DATABASE_URL", "postgres://x/db"},
                                                     {"ELECTRIC_INSECURE", "true"}};

TEST(SyncConfig, Defaults)
{
    auto outcome = parse({}, kMinimal);
    ASSERT_TRUE(outcome.config) << outcome.error;
    const auto &c = *outcome.config;
    EXPECT_EQ(c.database_url, "postgres://x/db");
    EXPECT_EQ(c.port, 3000);
    EXPECT_EQ(c.listen_address, "");
    EXPECT_EQ(c.storage_dir, "./persistent");
    EXPECT_EQ(c.stream_id, "default");
    EXPECT_EQ(c.long_poll_timeout_ms, 20000u);
    EXPECT_EQ(c.sse_timeout_ms, 60000u);  // Electric's sse_timeout, keepalive_interval, LogChunker threshold
    EXPECT_EQ(c.sse_keepalive_interval_ms, 21000u);
    EXPECT_EQ(c.chunk_bytes_threshold, 10u * 1024 * 1024);
    EXPECT_TRUE(c.insecure);
    EXPECT_EQ(c.log_level, es::sync::LogLevel::Info);
    EXPECT_EQ(c.slot_name(), "electric_shapes_slot_default");
    EXPECT_EQ(c.shape_prefix(), "ess_default_");
}

TEST(SyncConfig, EnvironmentAndFlags)
{
    auto env = kMinimal;
    env["ELECTRIC_PORT"] = "4000";
    env["ELECTRIC_STORAGE_DIR"] = "/var/lib/s";
    env["ELECTRIC_REPLICATION_STREAM_ID"] = "blue_1";
    env["ELECTRIC_LONG_POLL_TIMEOUT"] = "500";
    env["LOG_LEVEL"] = "DEBUG";
    env["ELECTRIC_LISTEN_ADDRESS"] = "::1";
    env["ELECTRIC_SSE_TIMEOUT"] = "9000";
    env["ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD"] = "4096";
    auto outcome = parse({"--port=5000", "--storage-dir", "/tmp/x", "--secret=s3", "--sse-keepalive-interval=700"}, env);
    ASSERT_TRUE(outcome.config) << outcome.error;
    const auto &c = *outcome.config;
    EXPECT_EQ(c.port, 5000);  // the flag wins over the variable
    EXPECT_EQ(c.storage_dir, "/tmp/x");
    EXPECT_EQ(c.stream_id, "blue_1");
    EXPECT_EQ(c.long_poll_timeout_ms, 500u);
    EXPECT_EQ(c.log_level, es::sync::LogLevel::Debug);
    EXPECT_EQ(c.listen_address, "::1");
    EXPECT_EQ(c.secret, "s3");
    EXPECT_EQ(c.sse_timeout_ms, 9000u);
    EXPECT_EQ(c.sse_keepalive_interval_ms, 700u);
    EXPECT_EQ(c.chunk_bytes_threshold, 4096u);
}

TEST(SyncConfig, SecretWithoutInsecure)
{
    auto outcome = parse({"--database-url=x", "--secret=abc"}, {});
    ASSERT_TRUE(outcome.config) << outcome.error;
    EXPECT_FALSE(outcome.config->insecure);
    outcome = parse({"--database-url=x", "--insecure"}, {});
    ASSERT_TRUE(outcome.config) << outcome.error;
    EXPECT_TRUE(outcome.config->insecure);
}

TEST(SyncConfig, Help)
{
    auto outcome = parse({"--port=junk", "--help"}, {});
    EXPECT_TRUE(outcome.help);
    std::string help = es::sync::config_help();
    for (const char *name : {"DATABASE_URL", "ELECTRIC_PORT", "ELECTRIC_LISTEN_ADDRESS", "ELECTRIC_STORAGE_DIR",
                             "ELECTRIC_REPLICATION_STREAM_ID", "ELECTRIC_SECRET", "ELECTRIC_INSECURE",
                             "ELECTRIC_LONG_POLL_TIMEOUT", "LOG_LEVEL", "--database-url", "--insecure"})
        EXPECT_NE(help.find(name), std::string::npos) << name;
}

struct BadCase {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string error;
};

TEST(SyncConfig, BadValuesAreOneLineErrors)
{
    auto with = [](const char *name, const char *value) {
        auto env = kMinimal;
        env[name] = value;
        return env;
    };
    std::vector<BadCase> cases = {
        {{}, {{"ELECTRIC_INSECURE", "true"}},
         "DATABASE_URL (--database-url) is required: the PostgreSQL database to sync from"},
        {{}, {{"DATABASE_URL", "x"}},
         "ELECTRIC_SECRET (--secret) is required, or ELECTRIC_INSECURE=true (--insecure) to serve shapes "
         "without one"},
        {{}, {{"DATABASE_URL", "x"}, {"ELECTRIC_INSECURE", "false"}},
         "ELECTRIC_SECRET (--secret) is required, or ELECTRIC_INSECURE=true (--insecure) to serve shapes "
         "without one"},
        {{}, with("ELECTRIC_PORT", "0"), "invalid ELECTRIC_PORT (--port) \"0\": expected a port number from 1 to 65535"},
        {{}, with("ELECTRIC_PORT", "65536"),
         "invalid ELECTRIC_PORT (--port) \"65536\": expected a port number from 1 to 65535"},
        {{"--port=3x"}, kMinimal, "invalid ELECTRIC_PORT (--port) \"3x\": expected a port number from 1 to 65535"},
        {{}, with("ELECTRIC_INSECURE", "maybe"),
         "invalid ELECTRIC_INSECURE (--insecure) \"maybe\": expected true or false"},
        {{}, with("ELECTRIC_REPLICATION_STREAM_ID", "Blue"),
         "invalid ELECTRIC_REPLICATION_STREAM_ID (--replication-stream-id) \"Blue\": expected 1 to 31 "
         "characters of a-z, 0-9 and _"},
        {{}, with("ELECTRIC_REPLICATION_STREAM_ID", "a234567890123456789012345678901x"),
         "invalid ELECTRIC_REPLICATION_STREAM_ID (--replication-stream-id) \"a234567890123456789012345678901x\": "
         "expected 1 to 31 characters of a-z, 0-9 and _"},
        {{}, with("ELECTRIC_LONG_POLL_TIMEOUT", "-5"),
         "invalid ELECTRIC_LONG_POLL_TIMEOUT (--long-poll-timeout) \"-5\": expected milliseconds from 1 to 3600000"},
        {{}, with("ELECTRIC_LONG_POLL_TIMEOUT", "0"),
         "invalid ELECTRIC_LONG_POLL_TIMEOUT (--long-poll-timeout) \"0\": expected milliseconds from 1 to 3600000"},
        {{}, with("ELECTRIC_SSE_TIMEOUT", "0"),
         "invalid ELECTRIC_SSE_TIMEOUT (--sse-timeout) \"0\": expected milliseconds from 1 to 3600000"},
        {{"--sse-keepalive-interval=soon"}, kMinimal,
         "invalid ELECTRIC_SSE_KEEPALIVE_INTERVAL (--sse-keepalive-interval) \"soon\": expected milliseconds from 1 "
         "to 3600000"},
        {{}, with("ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD", "10MB"),
         "invalid ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD (--chunk-bytes-threshold) \"10MB\": expected bytes from 1 to "
         "1073741824"},
        {{}, with("LOG_LEVEL", "loud"),
         "invalid LOG_LEVEL (--log-level) \"loud\": expected debug, info, warning or error"},
        {{}, with("ELECTRIC_LISTEN_ADDRESS", "localhost"),
         "invalid ELECTRIC_LISTEN_ADDRESS (--listen-address) \"localhost\": expected an IPv4 or IPv6 address"},
        {{}, with("ELECTRIC_STORAGE_DIR", ""),
         "invalid ELECTRIC_STORAGE_DIR (--storage-dir) \"\": expected a directory"},
        {{"--bogus=1"}, kMinimal, "unknown argument \"--bogus=1\" (see --help)"},
        {{"--port"}, kMinimal, "--port needs a value (see --help)"},
    };
    for (const auto &c : cases) {
        auto outcome = parse(c.args, c.env);
        EXPECT_FALSE(outcome.config);
        EXPECT_EQ(outcome.error, c.error);
        EXPECT_EQ(outcome.error.find('\n'), std::string::npos);
    }
}

TEST(SyncConfig, HugeValueIsShortenedInTheError)
{
    auto env = kMinimal;
    env["ELECTRIC_PORT"] = std::string(10000, '9');
    auto outcome = parse({}, env);
    EXPECT_FALSE(outcome.config);
    EXPECT_LT(outcome.error.size(), 200u);
}

}  // namespace
