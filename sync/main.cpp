// electric-shapes-sync: ElectricSQL's HTTP shape API served from the electric_shapes plugin's
// stream (SPEC section 8). Startup order: settings (exit 2 on a bad one), server checks and the
// slot, shapes read back from disk, then HTTP and the stream on one event loop, so a request
// never sees a half-started service. SIGINT and SIGTERM stop it gracefully: no new connection,
// held live requests answered (up-to-date), logs fsynced, the slot confirmed past them, exit 0;
// within ELECTRIC_SHUTDOWN_TIMEOUT, after which open connections are cut.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "sync/http_server.hpp"
#include "sync/log.hpp"
#include "sync/metrics.hpp"
#include "sync/pure/config.hpp"
#include "sync/replication_stream.hpp"
#include "sync/retention.hpp"
#include "sync/shapes.hpp"
#include "sync/startup_checks.hpp"

using namespace es::sync;

namespace {

// Every held long-poll is an open socket. The usual soft limit of 1024 descriptors would refuse
// connections (accept fails with EMFILE) long before memory or the event loop runs out, so the
// soft limit is raised to the hard one, as nginx and PostgreSQL's own postmaster do; the hard
// limit stays the administrator's choice. Returns the soft limit in force.
rlim_t raise_descriptor_limit()
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 0;
    if (limit.rlim_cur < limit.rlim_max) {
        struct rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            return raised.rlim_cur;
    }
    return limit.rlim_cur;
}

}  // namespace

int main(int argc, char **argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    ConfigOutcome outcome = parse_config(args, [](const char *name) { return std::getenv(name); });
    if (outcome.help) {
        std::cout << config_help();
        return 0;
    }
    if (!outcome.config) {
        std::cerr << "electric-shapes-sync: " << outcome.error << "\n";
        return 2;
    }
    const Config config = *outcome.config;
    log::set_level(config.log_level);
    rlim_t descriptors = raise_descriptor_limit();

    try {
        uint64_t confirmed = check_server_and_slot(config);
        boost::asio::io_context io;
        log::Batching log_batching([&io]() { boost::asio::post(io, [] { log::flush(); }); });
        Shapes shapes(io, config, confirmed);
        shapes.restore();
        ReplicationStream stream(io, config, shapes, confirmed);
        HttpServer server(io, config, shapes, [&stream]() { return stream.streaming(); });
        metrics::set_sources({[&shapes]() -> uint64_t { return shapes.count(); },
                              [&shapes]() { return shapes.log_bytes(); },
                              [&stream]() { return stream.server_wal_end(); },
                              [&stream]() { return stream.confirmed_lsn(); },
                              [&stream]() { return stream.streaming(); }});
        Retention retention(io, config, shapes);
        server.start();
        stream.start();
        retention.start();
        log::info("listening", "\"port\":" + std::to_string(config.port) + ",\"slot\":" + log::quote(config.slot_name()) +
                                   ",\"max_open_files\":" +
                                   (descriptors == RLIM_INFINITY ? std::string("\"unlimited\"") : std::to_string(descriptors)));

        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        boost::asio::steady_timer drain_timer(io);
        auto deadline = std::chrono::steady_clock::now();
        std::function<void()> wait_for_connections = [&]() {
            // Until every answered connection is closed, or the bound.
            if (server.open_connections() == 0 || std::chrono::steady_clock::now() >= deadline) {
                log::info("stopped", "\"open_connections\":" + std::to_string(server.open_connections()));
                io.stop();
                return;
            }
            drain_timer.expires_after(std::chrono::milliseconds(20));
            drain_timer.async_wait([&](const boost::system::error_code &) { wait_for_connections(); });
        };
        signals.async_wait([&](const boost::system::error_code &, int signal) {
            log::info("stopping", "\"signal\":" + std::to_string(signal));
            deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config.ops.shutdown_timeout_ms);
            retention.stop();
            server.drain();
            shapes.drain();
            stream.finish();
            wait_for_connections();
        });
        io.run();
    } catch (const StartupError &e) {
        std::cerr << "electric-shapes-sync: " << e.what() << "\n";
        return 1;
    } catch (const std::exception &e) {
        std::cerr << "electric-shapes-sync: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
