// The library's identity and its load-time set-up: the module magic block every PostgreSQL library
// carries, and _PG_init, which runs in every process that loads the library (a backend calling an
// SQL function, a walsender decoding with the plugin, the postmaster through
// shared_preload_libraries).
#include "electric_shapes/drop_guard.hpp"
#include "electric_shapes/pg_boundary.hpp"
#include "electric_shapes/stats_module.hpp"

extern "C" {
#include "utils/guc.h"
}

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);

void _PG_init(void)
{
    es::guarded([] {
        es::stats::init_module();
        es::install_drop_guard();
        // Every electric_shapes.* setting is defined above; refuse misspelt ones.
        MarkGUCPrefixReserved("electric_shapes");
    });
}
}
