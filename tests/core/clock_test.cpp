// Clock sources: calibration sanity and monotonicity (no timing thresholds beyond sanity bounds).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/clock.hpp"

using namespace enigma;

TEST(Clock, WallClockIsEpochNanoseconds) {
  const std::int64_t now = wall_ns();
  EXPECT_GT(now, 1'700'000'000LL * 1'000'000'000LL);  // after Nov 2023
  EXPECT_LT(now, 4'100'000'000LL * 1'000'000'000LL);
}

TEST(Clock, MonotonicSourcesNeverGoBack) {
  std::int64_t prev_mono = monotonic_ns();
  std::uint64_t prev_tsc = rdtsc();
  const TscClock& clk = TscClock::instance();
  std::int64_t prev_now = clk.now_ns();
  for (int i = 0; i < 100'000; ++i) {
    const std::int64_t m = monotonic_ns();
    const std::uint64_t t = rdtsc();
    const std::int64_t n = clk.now_ns();
    ASSERT_GE(m, prev_mono);
    ASSERT_GE(t, prev_tsc);
    ASSERT_GE(n, prev_now);
    prev_mono = m;
    prev_tsc = t;
    prev_now = n;
  }
}

TEST(Clock, CalibrationIsSane) {
  const TscClock& clk = TscClock::instance();
  // Any x86 TSC in service runs between 0.5 and 6 GHz.
  EXPECT_GT(clk.ticks_per_ns(), 0.5);
  EXPECT_LT(clk.ticks_per_ns(), 6.0);
  EXPECT_EQ(clk.invariant(), cpu_has_invariant_tsc() && clk.warning().empty());
  if (!clk.invariant()) {
    EXPECT_FALSE(clk.warning().empty()) << "a fallback must say so";
  }
  // Round trip of the conversion within 0.1 %.
  const std::uint64_t ticks = clk.ns_to_ticks(1'000'000'000);
  EXPECT_NEAR(static_cast<double>(clk.ticks_to_ns(ticks)), 1e9, 1e6);
}

TEST(Clock, TscTracksMonotonicOverASleep) {
  const TscClock& clk = TscClock::instance();
  const std::int64_t m0 = monotonic_ns();
  const std::uint64_t t0 = rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::int64_t m1 = monotonic_ns();
  const std::uint64_t t1 = rdtsc();
  const double tsc_ns = static_cast<double>(clk.ticks_to_ns(t1 - t0));
  const double mono_ns = static_cast<double>(m1 - m0);
  // Both measured the same interval; the calibrated TSC must agree within 2 %.
  EXPECT_NEAR(tsc_ns / mono_ns, 1.0, 0.02);
}

TEST(Clock, TscToWallMatchesWallClock) {
  const TscClock& clk = TscClock::instance();
  const std::int64_t w = wall_ns();
  const std::int64_t from_tsc = clk.tsc_to_wall_ns(rdtsc());
  EXPECT_LT(std::llabs(from_tsc - w), 50'000'000LL) << "within 50 ms (NTP slew since calibration allowed)";
}
