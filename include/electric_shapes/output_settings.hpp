// Pins the settings that change how values are printed (DateStyle ISO, TimeZone UTC,
// IntervalStyle iso_8601, bytea_output hex, extra_float_digits 1) while the plugin decodes, so
// the stream reads the same whatever the session or server says (SPEC section 3).
#pragma once

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
};

// Pins the settings until unpin_output_settings.
void pin_output_settings(PinnedSettings *pinned);

// Restores what pin_output_settings changed; does nothing when nothing is pinned.
void unpin_output_settings(PinnedSettings *pinned);

}  // namespace es
