// Pins the settings that change how values are printed (DateStyle ISO, TimeZone UTC,
// IntervalStyle iso_8601, bytea_output hex, extra_float_digits 1) while the plugin decodes, so
// the stream reads the same whatever the session or server says (SPEC section 3), and gives the
// session its own back on every way out: the end of decoding, and an abort of the
// (sub)transaction the pin was made in, before PostgreSQL rolls back the settings it changed.
#pragma once

#include <cstdint>

struct pg_tz;

namespace es {

struct PinnedSettings {
    bool pinned = false;
    int date_style = 0;
    int date_order = 0;
    int interval_style = 0;
    int extra_float_digits = 0;
    int bytea_output = 0;
    pg_tz *time_zone = nullptr;
    // Made inside a transaction (the SQL interface): the subtransaction it was made in, and the
    // pin made before it in a transaction, if still in place. 0 (InvalidSubTransactionId)
    // outside one (a walsender), where only unpin_output_settings restores.
    std::uint32_t subtransaction = 0;
    PinnedSettings *older = nullptr;
};

// Pins the settings until unpin_output_settings, or until the (sub)transaction it was made in
// aborts, whichever comes first. pinned must stay where it is until unpinned.
void pin_output_settings(PinnedSettings *pinned);

// Restores what pin_output_settings changed; does nothing when nothing is pinned any more.
void unpin_output_settings(PinnedSettings *pinned);

}  // namespace es
