// ELECTRIC_SHAPE_RETENTION: a shape nobody asked for within the retention time (no request, no
// held live request) is removed with its files and its catalog row (drop_shape), so shapes that
// clients stopped using do not cost decoding, disk and memory forever. Its clients, if any come
// back, get 409 and refetch, as after a rotation. A timer checks a few times per retention
// period (at least every minute); the time of the last request is kept in memory, so a restart
// gives every restored shape a full retention period again.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "sync/pure/config.hpp"

namespace es::sync {

class Shapes;

class Retention {
public:
    Retention(boost::asio::io_context &io, const Config &config, Shapes &shapes);
    void start();  // does nothing when retention is off
    void stop();

private:
    void schedule();

    const Config &config_;
    Shapes &shapes_;
    boost::asio::steady_timer timer_;
};

}  // namespace es::sync
