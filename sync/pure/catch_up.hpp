// Whether the replication stream is catching up: its transactions reach the service well after
// they were committed (a backlog after a stop, a burst the service falls behind on). While it
// is, a live client that each change would answer on its own is answered less often, with more
// changes at once (Shapes paces its wakes): the same changes in fewer responses, each of which
// costs the service an HTTP response out and a request in, so it catches up sooner.
//
// The lag is measured between two clocks (the server's commit time, the service's clock at
// reading), so it is taken relative to the smallest lag seen lately: a constant offset between
// the clocks cancels out. A service started on a backlog sees no smaller lag yet and paces
// nothing until it has one (missing the batching is harmless; pacing a caught-up stream is not).
#pragma once

#include <cstdint>

namespace es::sync {

class CatchUpDetector {
public:
    // behind_us: how much later than the smallest recent lag a commit must arrive to count as
    // caught up in a backlog; window_us: how long a smallest lag is remembered (between one and
    // two windows).
    explicit CatchUpDetector(int64_t behind_us = 100000, int64_t window_us = 30000000)
        : behind_us_(behind_us), window_us_(window_us)
    {
    }

    // A commit made at commit_us (Unix µs, the server's clock), read at now_us (the service's).
    // True while the stream is behind. A commit without a time (0) changes nothing.
    bool observe(int64_t now_us, int64_t commit_us);

    bool behind() const { return behind_; }

private:
    const int64_t behind_us_;
    const int64_t window_us_;
    int64_t window_ = -1;   // now_us / window_us of the current window
    bool have_current_ = false;
    bool have_previous_ = false;
    int64_t current_min_ = 0;   // the smallest lag in the current window
    int64_t previous_min_ = 0;  // and in the window before it
    bool behind_ = false;
};

}  // namespace es::sync
