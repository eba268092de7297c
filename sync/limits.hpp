// The limit on concurrent shape requests (ELECTRIC_MAX_CONCURRENT_REQUESTS, as Electric counts
// them): initial syncs (offset=-1, which read whole snapshots) and all other shape requests
// (catch-ups and held long-polls) separately, so a burst of new clients cannot starve the live
// ones. A request over the limit gets 503 with retry-after at once, before any work, as
// Electric's overload answer; the official client waits and retries. The other limits (shapes,
// log size) act on shapes, in shapes.cpp and retention.cpp.
#pragma once

#include <memory>

#include "sync/http_response.hpp"
#include "sync/pure/ops_settings.hpp"

namespace es::sync {

// A place among the concurrent requests, held until the response is written (released when the
// returned object goes), or null when the limit is reached.
std::shared_ptr<void> admit_shape_request(const OpsSettings &settings, bool initial);

// 503 {"message":...} with retry-after, never cached.
Response overloaded_response(bool initial);

}  // namespace es::sync
