// Whether the replication stream is catching up: its transactions reach the service well after
// they were committed (a backlog after a stop, a burst the service or the walsender fell behind
// on). While it is, a live client that each change would answer on its own is answered less
// often, with more changes at once (Shapes paces its wakes): the same changes in fewer responses,
// each of which costs the service an HTTP response out and a request in, so it catches up sooner.
//
// The lag is measured between two clocks (the server's commit time, the service's clock at
// reading), so it is taken relative to the smallest lag seen lately: a constant offset between
// the clocks cancels out. The stream counts as behind once a commit arrives more than enter_us
// later than that, and stays so until one arrives within leave_us of it (or the stream pauses:
// caught_up()): the last transactions of a backlog are nearly as old as the rest. A service
// started on a backlog sees no smaller lag yet and paces nothing until it has one (missing the
// batching is harmless; pacing a caught-up stream is not).
#pragma once

#include <cstdint>

namespace es::sync {

class CatchUpDetector {
public:
    // enter_us, leave_us: see above; window_us: how long a smallest lag is remembered (between
    // one and two windows).
    explicit CatchUpDetector(int64_t enter_us = 500000, int64_t leave_us = 50000, int64_t window_us = 30000000)
        : enter_us_(enter_us), leave_us_(leave_us), window_us_(window_us)
    {
    }

    // A commit made at commit_us (Unix µs, the server's clock), read at now_us (the service's).
    // True while the stream is behind. A commit without a time (0) changes nothing.
    bool observe(int64_t now_us, int64_t commit_us);

    bool behind() const { return behind_; }
    // The stream paused (nothing to read for a moment): no backlog is left behind it.
    void caught_up() { behind_ = false; }

private:
    const int64_t enter_us_;
    const int64_t leave_us_;
    const int64_t window_us_;
    int64_t window_ = -1;   // now_us / window_us of the current window
    bool have_current_ = false;
    bool have_previous_ = false;
    int64_t current_min_ = 0;   // the smallest lag in the current window
    int64_t previous_min_ = 0;  // and in the window before it
    bool behind_ = false;
};

}  // namespace es::sync
