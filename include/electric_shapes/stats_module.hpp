// Setting up the statistics module when the library is loaded (see stats.hpp for what the plugin
// reports and SPEC section 5 for the views).
#pragma once

namespace es::stats {

// Defines the electric_shapes.* settings of the statistics and health checks, and, when the
// library is being loaded through shared_preload_libraries, asks for the shared memory the
// counters live in. Called once per process from _PG_init.
void init_module();

}  // namespace es::stats
