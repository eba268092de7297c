// Pinning settings for a span of work through the GUC machinery (see pinned_gucs.hpp). Unlike the
// output plugin's direct assignment of the print settings (output_settings.cpp), a pin made here
// is undone by PostgreSQL itself when the (sub)transaction aborts, so nothing of ours has to run
// on the error path, and the settings' GUC values (what SHOW reports) change with them.
#include "electric_shapes/pinned_gucs.hpp"
#include "electric_shapes/postgres.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace es {

namespace {

// Sets one setting for the current nest level, as SET would inside a function with a SET clause.
void pin(const char *name, const char *value)
{
    (void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

}  // namespace

int pin_search_path()
{
    int level = NewGUCNestLevel();
    pin("search_path", "pg_catalog, pg_temp");
    return level;
}

int pin_stream_settings()
{
    int level = pin_search_path();
    pin("DateStyle", "ISO, YMD");
    pin("TimeZone", "UTC");
    pin("IntervalStyle", "iso_8601");
    pin("extra_float_digits", "1");
    pin("bytea_output", "hex");
    return level;
}

void pin_no_jit()
{
    pin("jit", "off");
}

void release_pinned(int nest_level)
{
    AtEOXact_GUC(true, nest_level);
}

}  // namespace es
