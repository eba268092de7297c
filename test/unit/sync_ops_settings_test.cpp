// Unit tests of the sync service's operational settings: defaults, durations and sizes,
// Electric's JSON form of ELECTRIC_MAX_CONCURRENT_REQUESTS, flags over the environment, and the
// one-line error of every bad value, through parse_config as the service calls it.
#include "sync/pure/config.hpp"

#include <gtest/gtest.h>

#include <map>

namespace {

using es::sync::ConfigOutcome;
using es::sync::parse_config;
using es::sync::parse_duration_ms;
using es::sync::parse_size_bytes;

ConfigOutcome parse(std::vector<std::string> args, std::map<std::string, std::string> env)
{
    env.emplace("DATABASE_URL", "postgres://x/db");
    env.emplace("ELECTRIC_INSECURE", "true");
    return parse_config(args, [&env](const char *name) -> const char * {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
}

TEST(SyncOpsSettings, Defaults)
{
    auto outcome = parse({}, {});
    ASSERT_TRUE(outcome.config) << outcome.error;
    const auto &ops = outcome.config->ops;
    EXPECT_EQ(ops.shape_retention_ms, 0u);
    EXPECT_EQ(ops.max_initial_requests, 300u);
    EXPECT_EQ(ops.max_existing_requests, 10000u);
    EXPECT_EQ(ops.max_shapes, 0u);
    EXPECT_EQ(ops.max_shape_log_bytes, 0u);
    EXPECT_EQ(ops.shutdown_timeout_ms, 10000u);
}

TEST(SyncOpsSettings, DurationsAndSizes)
{
    EXPECT_EQ(parse_duration_ms("1500"), 1500);
    EXPECT_EQ(parse_duration_ms("1500ms"), 1500);
    EXPECT_EQ(parse_duration_ms("30s"), 30000);
    EXPECT_EQ(parse_duration_ms("10m"), 600000);
    EXPECT_EQ(parse_duration_ms("2h"), 7200000);
    EXPECT_EQ(parse_duration_ms("7d"), 604800000);
    EXPECT_EQ(parse_duration_ms("367d"), -1);
    EXPECT_EQ(parse_duration_ms("s"), -1);
    EXPECT_EQ(parse_duration_ms("-1s"), -1);
    EXPECT_EQ(parse_duration_ms("1.5s"), -1);
    EXPECT_EQ(parse_duration_ms("99999999999999s"), -1);
    EXPECT_EQ(parse_size_bytes("1048576"), 1048576);
    EXPECT_EQ(parse_size_bytes("64MB"), 64000000);
    EXPECT_EQ(parse_size_bytes("512KiB"), 524288);
    EXPECT_EQ(parse_size_bytes("2GiB"), 2147483648LL);
    EXPECT_EQ(parse_size_bytes("2TB"), -1);
    EXPECT_EQ(parse_size_bytes("64 MB"), -1);
}

TEST(SyncOpsSettings, EnvironmentAndFlags)
{
    auto outcome = parse({"--shape-retention", "2s", "--max-shapes=3", "--port", "3001"},
                         {{"ELECTRIC_SHAPE_RETENTION", "1h"},
                          {"ELECTRIC_MAX_CONCURRENT_REQUESTS", "{\"initial\": 5, \"existing\": 7}"},
                          {"ELECTRIC_MAX_SHAPE_LOG_SIZE", "1MiB"},
                          {"ELECTRIC_SHUTDOWN_TIMEOUT", "3s"}});
    ASSERT_TRUE(outcome.config) << outcome.error;
    const auto &ops = outcome.config->ops;
    EXPECT_EQ(ops.shape_retention_ms, 2000u);
    EXPECT_EQ(ops.max_shapes, 3u);
    EXPECT_EQ(ops.max_initial_requests, 5u);
    EXPECT_EQ(ops.max_existing_requests, 7u);
    EXPECT_EQ(ops.max_shape_log_bytes, 1048576u);
    EXPECT_EQ(ops.shutdown_timeout_ms, 3000u);
    EXPECT_EQ(outcome.config->port, 3001);

    outcome = parse({"--max-concurrent-requests", "{\"initial\":2}"}, {});
    ASSERT_TRUE(outcome.config) << outcome.error;
    EXPECT_EQ(outcome.config->ops.max_initial_requests, 2u);
    EXPECT_EQ(outcome.config->ops.max_existing_requests, 10000u);
    outcome = parse({"--max-concurrent-requests=9"}, {});
    ASSERT_TRUE(outcome.config) << outcome.error;
    EXPECT_EQ(outcome.config->ops.max_initial_requests, 9u);
    EXPECT_EQ(outcome.config->ops.max_existing_requests, 9u);
}

TEST(SyncOpsSettings, BadValuesAreOneLineErrors)
{
    EXPECT_EQ(parse({}, {{"ELECTRIC_SHAPE_RETENTION", "soon"}}).error,
              "invalid ELECTRIC_SHAPE_RETENTION (--shape-retention) \"soon\": expected a time such as 30s, 10m, 2h "
              "or 7d (at most a year), or 0");
    EXPECT_EQ(parse({"--max-concurrent-requests", "{\"initial\":0}"}, {}).error,
              "invalid ELECTRIC_MAX_CONCURRENT_REQUESTS (--max-concurrent-requests) \"{\"initial\":0}\": expected "
              "{\"initial\":N,\"existing\":M} with N and M from 1 to 1000000");
    EXPECT_FALSE(parse({}, {{"ELECTRIC_MAX_CONCURRENT_REQUESTS", "{\"other\":3}"}}).config);
    EXPECT_FALSE(parse({}, {{"ELECTRIC_MAX_CONCURRENT_REQUESTS", "[1]"}}).config);
    EXPECT_EQ(parse({}, {{"ELECTRIC_MAX_SHAPES", "-1"}}).error,
              "invalid ELECTRIC_MAX_SHAPES (--max-shapes) \"-1\": expected a number of shapes from 0 (no limit) to "
              "10000000");
    EXPECT_FALSE(parse({}, {{"ELECTRIC_MAX_SHAPE_LOG_SIZE", "lots"}}).config);
    EXPECT_FALSE(parse({}, {{"ELECTRIC_SHUTDOWN_TIMEOUT", "0"}}).config);
    EXPECT_EQ(parse({"--max-shapes"}, {}).error, "--max-shapes needs a value (see --help)");
    EXPECT_NE(es::sync::config_help().find("ELECTRIC_SHAPE_RETENTION"), std::string::npos);
}

}  // namespace
