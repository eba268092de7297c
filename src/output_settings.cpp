// Pinning output settings for the plugin (see output_settings.hpp). The pattern is
// postgres_fdw's set_transmission_modes: a new GUC nest level with GUC_ACTION_SAVE entries.
#include "electric_shapes/output_settings.hpp"
#include "electric_shapes/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/guc.h"
}

namespace es {

namespace {

struct Setting {
    const char *name;
    const char *value;
};

constexpr Setting kPinned[] = {
    {"DateStyle", "ISO"},          {"TimeZone", "UTC"},      {"IntervalStyle", "iso_8601"},
    {"bytea_output", "hex"},       {"extra_float_digits", "1"},
};

}  // namespace

void pin_output_settings(PinnedSettings *pinned)
{
    bool in_transaction = IsTransactionState();
    GucAction action = GUC_ACTION_SET;
    if (in_transaction) {
        pinned->nest_level = NewGUCNestLevel();
        action = GUC_ACTION_SAVE;
    }
    for (const Setting &setting : kPinned)
        (void) set_config_option(setting.name, setting.value, PGC_USERSET, PGC_S_SESSION, action,
                                 true, ERROR, false);
}

void unpin_output_settings(PinnedSettings *pinned)
{
    if (pinned->nest_level > 0 && IsTransactionState())
        AtEOXact_GUC(true, pinned->nest_level);
    pinned->nest_level = 0;
}

}  // namespace es
