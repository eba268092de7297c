// Catch-up detection from commit lags (see catch_up.hpp).
#include "sync/pure/catch_up.hpp"

#include <algorithm>

namespace es::sync {

bool CatchUpDetector::observe(int64_t now_us, int64_t commit_us)
{
    if (commit_us <= 0)
        return behind_;
    int64_t lag = now_us - commit_us;
    int64_t window = now_us / window_us_;
    if (window != window_) {
        // The window before is kept only if it is the one just ended.
        have_previous_ = have_current_ && window == window_ + 1;
        previous_min_ = current_min_;
        have_current_ = false;
        window_ = window;
    }
    // The floor is the smallest lag before this commit: a first commit has nothing to compare
    // with, and counts as on time.
    bool have_floor = have_current_ || have_previous_;
    int64_t floor = have_current_ && have_previous_ ? std::min(current_min_, previous_min_)
                    : have_current_                 ? current_min_
                                                    : previous_min_;
    behind_ = have_floor && lag - floor > (behind_ ? leave_us_ : enter_us_);
    current_min_ = have_current_ ? std::min(current_min_, lag) : lag;
    have_current_ = true;
    return behind_;
}

}  // namespace es::sync
