// Settings pinned through PostgreSQL's own GUC machinery for the span of one piece of work: SQL
// this library builds and runs (search_path), and the rows shape_snapshot reads and prints (the
// settings that change how values are read and printed).
//
// Each pin opens a GUC nest level (NewGUCNestLevel) and sets the values with GUC_ACTION_SAVE;
// release_pinned closes it (AtEOXact_GUC). When an error or a cancel interrupts the work before
// that, the (sub)transaction abort rolls every open nest level back, so the session's settings
// come back on every path, and SHOW always tells what is in force.
#pragma once

namespace es {

// Pins search_path to "pg_catalog, pg_temp" (pg_temp last, so no temporary object can shadow a
// catalog one) and returns the nest level to give release_pinned. Every statement that runs with
// rights other than the caller's, and every statement text this library builds, is parsed and
// run inside such a pin: an operator or function name in it can then only be PostgreSQL's own.
int pin_search_path();

// Pins search_path as pin_search_path does and the settings the stream prints values with
// (DateStyle ISO, YMD; TimeZone UTC; IntervalStyle iso_8601; extra_float_digits 1; bytea_output
// hex), so that SQL evaluated and values printed inside the pin see what the stream sees.
int pin_stream_settings();

// Turns JIT compilation off in the current pin (call it after one). A shape's query is planned
// for one run, and compiling a filter of tens of thousands of terms takes LLVM minutes.
void pin_no_jit();

// Closes the nest level a pin opened, restoring what it changed.
void release_pinned(int nest_level);

}  // namespace es
