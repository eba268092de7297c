// Pins the settings that change how values are printed (DateStyle ISO, TimeZone UTC,
// IntervalStyle iso_8601, bytea_output hex, extra_float_digits 1) while the plugin decodes, so
// the stream reads the same whatever the session or server says (SPEC section 3).
#pragma once

namespace es {

struct PinnedSettings {
    int nest_level = 0;  // GUC nest level to restore, when pinned inside a transaction
};

// Pins the settings: inside a transaction (SQL interface) until unpin_output_settings or the
// transaction's end; outside one (walsender) for the rest of the process, which is ours.
void pin_output_settings(PinnedSettings *pinned);

// Restores what pin_output_settings changed inside a transaction.
void unpin_output_settings(PinnedSettings *pinned);

}  // namespace es
