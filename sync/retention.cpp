// Removal of shapes nobody asks for (see retention.hpp).
#include "sync/retention.hpp"

#include <algorithm>

#include "sync/shapes.hpp"

namespace es::sync {

Retention::Retention(boost::asio::io_context &io, const Config &config, Shapes &shapes)
    : config_(config), shapes_(shapes), timer_(io)
{
}

void Retention::start()
{
    if (config_.ops.shape_retention_ms)
        schedule();
}

void Retention::stop() { timer_.cancel(); }

void Retention::schedule()
{
    // A shape goes at most a quarter of the retention time late.
    auto period = std::chrono::milliseconds(std::clamp<uint64_t>(config_.ops.shape_retention_ms / 4, 50, 60000));
    timer_.expires_after(period);
    timer_.async_wait([this](const boost::system::error_code &ec) {
        if (ec)
            return;
        shapes_.remove_unused(std::chrono::steady_clock::now() -
                              std::chrono::milliseconds(config_.ops.shape_retention_ms));
        schedule();
    });
}

}  // namespace es::sync
