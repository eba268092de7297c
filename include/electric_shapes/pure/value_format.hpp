// Text output of the commonest column types, written without PostgreSQL and byte for byte as
// PostgreSQL's own output functions print them (int2out, int4out, int8out, oidout, and
// timestamp_out / timestamptz_out under the plugin's pinned DateStyle ISO and TimeZone UTC). The
// plugin writes most values of most rows through here, into a small buffer it reuses, instead of
// calling an output function that allocates a C string it must then measure and free.
#pragma once

#include <cstddef>
#include <cstdint>

namespace es::format {

// Room every function here needs in its output buffer.
constexpr size_t kMaxText = 32;

// Writes value in decimal ("-12"); returns the length. No terminating NUL.
size_t signed_integer(int64_t value, char *out);

// Writes value in decimal; returns the length. No terminating NUL.
size_t unsigned_integer(uint64_t value, char *out);

// Writes a PostgreSQL timestamp (microseconds since 2000-01-01 00:00:00) as
// "YYYY-MM-DD HH:MM:SS[.ffffff]", the fraction without trailing zeros, followed by "+00" when
// utc_offset is set (a timestamptz in time zone UTC). Returns the length, or 0 without writing
// anything for the values left to PostgreSQL: infinities and dates before 0001-01-01.
size_t iso_timestamp(int64_t microseconds, bool utc_offset, char *out);

}  // namespace es::format
