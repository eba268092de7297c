// Pinning output settings for the plugin (see output_settings.hpp). The variables the output
// functions read are set directly and restored afterwards, not through the GUC machinery: a
// GUC_ACTION_SAVE entry would make PostgreSQL walk every setting at the end of each of the
// subtransactions the SQL interface decodes transactions in. Nothing here runs per change.
//
// Restoring is ours, so it must happen before PostgreSQL's own rollback of the settings
// (AtEOXact_GUC), never after it. The plugin state restores them when its memory context goes
// away, but on an error that can be too late: with the SQL interface called from plpgsql, the
// context lives in SPI memory that an aborting (sub)transaction frees only after rolling back
// the settings a SET or SET LOCAL changed in it; writing back the values from before the call
// then undoes that rollback behind SHOW's back (SHOW says one thing, values print another, and
// for good after a SET). So pins made inside a transaction are also restored by transaction and
// subtransaction abort callbacks, which PostgreSQL calls before AtEOXact_GUC. A walsender pins
// outside any transaction (it starts and aborts one per decoded transaction itself), so its pin
// is left to the end of decoding, as before.
#include "electric_shapes/output_settings.hpp"
#include "electric_shapes/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "pgtime.h"
#include "utils/bytea.h"
#include "utils/datetime.h"
#include "utils/float.h"
}

namespace es {

namespace {

// The pins in place that were made inside a transaction, newest first. Pins are made and
// undone in nested order (one per decoding context, and a context ends before the statement
// that made it), so undoing them newest first gives back the oldest one's saved values last.
PinnedSettings *pins_in_transaction = nullptr;
bool callbacks_registered = false;

// Writes back the saved values.
void restore(PinnedSettings *pinned) noexcept
{
    DateStyle = pinned->date_style;
    DateOrder = pinned->date_order;
    IntervalStyle = pinned->interval_style;
    extra_float_digits = pinned->extra_float_digits;
    bytea_output = pinned->bytea_output;
    session_timezone = pinned->time_zone;
    pinned->pinned = false;
}

// Takes pinned off the list of pins made inside a transaction, if it is on it.
void unlink(PinnedSettings *pinned) noexcept
{
    for (PinnedSettings **link = &pins_in_transaction; *link; link = &(*link)->older) {
        if (*link == pinned) {
            *link = pinned->older;
            break;
        }
    }
    pinned->older = nullptr;
}

// Restores, newest first, the pins made in subtransaction `oldest` or later ones. Subtransaction
// ids grow, and the pins on the list were made in subtransactions still open, so these are
// exactly the pins made in the aborting subtransaction or in one inside it.
void restore_since(SubTransactionId oldest) noexcept
{
    while (pins_in_transaction && pins_in_transaction->subtransaction >= oldest) {
        PinnedSettings *pinned = pins_in_transaction;
        pins_in_transaction = pinned->older;
        pinned->older = nullptr;
        restore(pinned);
    }
}

// A transaction abort: called before AtEOXact_GUC, so that its rollback of the settings comes
// after ours and is what stays. Like the subtransaction callback, an entry point PostgreSQL calls
// outside es::guarded(): it only assigns variables, so nothing can raise or throw in it.
void on_transaction_event(XactEvent event, void *) noexcept
{
    if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
        restore_since(InvalidSubTransactionId);
}

// A subtransaction abort (ROLLBACK TO SAVEPOINT, a plpgsql EXCEPTION block catching the error):
// likewise before its AtEOXact_GUC. The subtransactions the SQL interface decodes each
// transaction in are newer than the pin, so their ends, on success too, leave it in place.
void on_subtransaction_event(SubXactEvent event, SubTransactionId subtransaction, SubTransactionId,
                             void *) noexcept
{
    if (event == SUBXACT_EVENT_ABORT_SUB)
        restore_since(subtransaction);
}

}  // namespace

void pin_output_settings(PinnedSettings *pinned)
{
    if (pinned->pinned)
        return;
    pg_tz *utc = pg_tzset("UTC");
    if (!utc)
        elog(ERROR, "could not load time zone UTC");
    if (IsTransactionState() && !callbacks_registered) {
        RegisterXactCallback(on_transaction_event, nullptr);
        RegisterSubXactCallback(on_subtransaction_event, nullptr);
        callbacks_registered = true;
    }
    pinned->date_style = DateStyle;
    pinned->date_order = DateOrder;
    pinned->interval_style = IntervalStyle;
    pinned->extra_float_digits = extra_float_digits;
    pinned->bytea_output = bytea_output;
    pinned->time_zone = session_timezone;
    pinned->pinned = true;
    if (IsTransactionState()) {
        pinned->subtransaction = GetCurrentSubTransactionId();
        pinned->older = pins_in_transaction;
        pins_in_transaction = pinned;
    } else {
        pinned->subtransaction = InvalidSubTransactionId;
        pinned->older = nullptr;
    }
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
    unlink(pinned);
    restore(pinned);
}

}  // namespace es
