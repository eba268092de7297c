// Concurrent request limits (see limits.hpp).
#include "sync/limits.hpp"

#include "sync/metrics.hpp"

namespace es::sync {

namespace {

uint32_t g_in_flight[2] = {0, 0};  // [existing, initial]; event loop thread only

}  // namespace

std::shared_ptr<void> admit_shape_request(const OpsSettings &settings, bool initial)
{
    uint32_t limit = initial ? settings.max_initial_requests : settings.max_existing_requests;
    uint32_t &count = g_in_flight[initial ? 1 : 0];
    if (count >= limit) {
        metrics::request_refused(initial ? "initial" : "existing");
        return nullptr;
    }
    count++;
    return std::shared_ptr<void>(&count, [](void *p) { --*static_cast<uint32_t *>(p); });
}

Response overloaded_response(bool initial)
{
    Response r = json_error(503, std::string("{\"message\":\"Too many concurrent ") +
                                     (initial ? "initial" : "live and catch-up") +
                                     " shape requests; retry later\",\"code\":\"concurrent_request_limit_exceeded\"}");
    r.set("retry-after", "1");
    return r;
}

}  // namespace es::sync
