// Pinning output settings for the plugin (see output_settings.hpp). The variables the output
// functions read are set directly and restored afterwards, not through the GUC machinery: a
// GUC_ACTION_SAVE entry would make PostgreSQL walk every setting at the end of each of the
// subtransactions the SQL interface decodes transactions in. The plugin state restores them when
// its memory context goes away, so they are restored on error paths too.
#include "electric_shapes/output_settings.hpp"
#include "electric_shapes/postgres.hpp"

extern "C" {
#include "pgtime.h"
#include "utils/bytea.h"
#include "utils/datetime.h"
#include "utils/float.h"
}

namespace es {

void pin_output_settings(PinnedSettings *pinned)
{
    if (pinned->pinned)
        return;
    pg_tz *utc = pg_tzset("UTC");
    if (!utc)
        elog(ERROR, "could not load time zone UTC");
    pinned->date_style = DateStyle;
    pinned->date_order = DateOrder;
    pinned->interval_style = IntervalStyle;
    pinned->extra_float_digits = extra_float_digits;
    pinned->bytea_output = bytea_output;
    pinned->time_zone = session_timezone;
    pinned->pinned = true;
    DateStyle = USE_ISO_DATES;
    DateOrder = DATEORDER_YMD;
    IntervalStyle = INTSTYLE_ISO_8601;
    extra_float_digits = 1;
    bytea_output = BYTEA_OUTPUT_HEX;
    session_timezone = utc;
}

void unpin_output_settings(PinnedSettings *pinned)
{
    if (!pinned->pinned)
        return;
    DateStyle = pinned->date_style;
    DateOrder = pinned->date_order;
    IntervalStyle = pinned->interval_style;
    extra_float_digits = pinned->extra_float_digits;
    bytea_output = pinned->bytea_output;
    session_timezone = pinned->time_zone;
    pinned->pinned = false;
}

}  // namespace es
