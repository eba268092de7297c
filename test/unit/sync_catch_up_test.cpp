// Unit test of the catch-up detection that paces live responses while the stream is behind: a
// lag counts relative to the smallest recent one, so an offset between the server's and the
// service's clocks changes nothing; the stream is behind once a commit is more than 500 ms later
// than that floor and stays so until one is within 50 ms of it or the stream pauses; a service
// that has seen no small lag yet paces nothing.
#include "sync/pure/catch_up.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using es::sync::CatchUpDetector;

constexpr int64_t kMs = 1000;
constexpr int64_t kSecond = 1000 * kMs;
constexpr int64_t kStart = 1796175542 * kSecond;  // a Unix time in µs

// Commits every 10 ms, each read lag µs after it was made, by the clock skew apart; the last
// observation.
bool live(CatchUpDetector &d, int64_t from, int count, int64_t lag, int64_t skew)
{
    bool behind = false;
    for (int i = 0; i < count; i++) {
        int64_t commit = from + i * 10 * kMs;
        behind = d.observe(commit + lag + skew, commit);
    }
    return behind;
}

TEST(SyncCatchUp, LiveStreamIsNotBehindWhateverTheClockOffset)
{
    for (int64_t skew : {int64_t(0), 3 * kSecond, -3 * kSecond, 50 * kMs}) {
        CatchUpDetector d;
        EXPECT_FALSE(live(d, kStart, 500, 2 * kMs, skew)) << skew;
        // A commit late by less than the threshold (a busy walsender) is not a backlog.
        EXPECT_FALSE(d.observe(kStart + 6 * kSecond + 400 * kMs + skew, kStart + 6 * kSecond)) << skew;
        EXPECT_FALSE(d.observe(kStart + 6 * kSecond + 502 * kMs + skew, kStart + 6 * kSecond + 100 * kMs)) << skew;
    }
}

TEST(SyncCatchUp, BacklogIsBehindUntilItsLagIsBackNearTheFloor)
{
    for (int64_t skew : {int64_t(0), 3 * kSecond, -3 * kSecond}) {
        CatchUpDetector d;
        live(d, kStart, 100, 1 * kMs, skew);
        // Stopped for 5 s: 500 commits made meanwhile, read from t = 6 s, 1 ms apart; the
        // last ones are younger than the threshold to enter, but still behind.
        int64_t resumed = kStart + 6 * kSecond;
        int behind = 0;
        for (int i = 0; i < 500; i++) {
            int64_t commit = kStart + kSecond + i * 10 * kMs;
            behind += d.observe(resumed + i * kMs + skew, commit);
        }
        EXPECT_EQ(behind, 500) << skew;
        int64_t t = resumed + kSecond;
        EXPECT_TRUE(d.observe(t + 120 * kMs + skew, t)) << skew;
        EXPECT_TRUE(d.observe(t + 10 * kMs + 52 * kMs + skew, t + 10 * kMs)) << skew;
        // Within 50 ms of the floor (1 ms): caught up.
        EXPECT_FALSE(d.observe(t + 20 * kMs + 51 * kMs + skew, t + 20 * kMs)) << skew;
        EXPECT_FALSE(d.behind());
        // Not behind again until a commit is more than 500 ms late.
        EXPECT_FALSE(d.observe(t + 30 * kMs + 300 * kMs + skew, t + 30 * kMs)) << skew;
        EXPECT_TRUE(d.observe(t + 40 * kMs + 502 * kMs + skew, t + 40 * kMs)) << skew;
    }
}

TEST(SyncCatchUp, APauseOfTheStreamEndsIt)
{
    CatchUpDetector d;
    live(d, kStart, 10, 1 * kMs, 0);
    EXPECT_TRUE(d.observe(kStart + 10 * kSecond, kStart + 5 * kSecond));
    d.caught_up();
    EXPECT_FALSE(d.behind());
    // The next commit 300 ms late: below the threshold to enter again.
    EXPECT_FALSE(d.observe(kStart + 11 * kSecond + 300 * kMs, kStart + 11 * kSecond));
}

TEST(SyncCatchUp, StartedOnABacklogPacesNothingUntilItHasAFloor)
{
    CatchUpDetector d;
    // The first commit read is 60 s old, the next ones ever younger: no smaller lag to compare.
    for (int i = 0; i < 1000; i++)
        EXPECT_FALSE(d.observe(kStart + i * kMs, kStart - 60 * kSecond + i * 2 * kMs)) << i;
}

TEST(SyncCatchUp, TheFloorIsForgottenAfterTwoWindows)
{
    CatchUpDetector d(500 * kMs, 50 * kMs, 30 * kSecond);
    live(d, kStart, 10, 1 * kMs, 0);
    // 29 s later (the next window at most): still remembered, a 2 s lag is behind.
    EXPECT_TRUE(d.observe(kStart + 29 * kSecond + 2 * kSecond, kStart + 29 * kSecond));
    // 70 s after the live commits, two windows on: the floor is this commit's own lag.
    CatchUpDetector e(500 * kMs, 50 * kMs, 30 * kSecond);
    live(e, kStart, 10, 1 * kMs, 0);
    EXPECT_FALSE(e.observe(kStart + 70 * kSecond + 2 * kSecond, kStart + 70 * kSecond));
    EXPECT_FALSE(e.observe(kStart + 70 * kSecond + 2010 * kMs, kStart + 70 * kSecond + 10 * kMs));
    EXPECT_TRUE(e.observe(kStart + 70 * kSecond + 2530 * kMs, kStart + 70 * kSecond + 20 * kMs));
}

TEST(SyncCatchUp, CommitsWithoutATimeChangeNothing)
{
    CatchUpDetector d;
    live(d, kStart, 10, 1 * kMs, 0);
    EXPECT_TRUE(d.observe(kStart + 10 * kSecond, kStart + 5 * kSecond));
    EXPECT_TRUE(d.observe(kStart + 10 * kSecond, 0));
    EXPECT_TRUE(d.behind());
}

}  // namespace
