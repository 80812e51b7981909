#include "core/clock.hpp"

#include <time.h>

#include <future>
#include <mutex>
#include <optional>
#include <thread>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace enigma {

std::int64_t wall_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool cpu_has_invariant_tsc() noexcept {
#if defined(__x86_64__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000007u) return false;
  __cpuid(0x80000007u, a, b, c, d);
  return (d & (1u << 8)) != 0;
#else
  return false;
#endif
}

namespace {
std::optional<TscClock>& slot() {
  static std::optional<TscClock> clock;
  return clock;
}
std::mutex& slot_mutex() {
  static std::mutex m;
  return m;
}
// The clocks read back to back between two TSC reads; of several tries the one with the tightest TSC bracket
// wins. On a loaded host a thread can be preempted between two reads for a scheduler quantum (milliseconds),
// which would skew a 50 ms calibration by percent and every log timestamp by tens of milliseconds.
struct ClockSample {
  std::uint64_t tsc;
  std::int64_t mono_ns;
  std::int64_t wall_ns;
};
ClockSample tight_sample() noexcept {
  ClockSample best{};
  std::uint64_t best_gap = ~std::uint64_t{0};
  for (int i = 0; i < 16; ++i) {
    const std::uint64_t a = rdtsc();
    const std::int64_t mono = monotonic_ns();
    const std::int64_t wall = wall_ns();
    const std::uint64_t b = rdtsc();
    if (b >= a && b - a < best_gap) {
      best_gap = b - a;
      best = ClockSample{a + (b - a) / 2, mono, wall};
    }
  }
  return best;
}
}  // namespace

TscClock TscClock::make(int calibration_ms) {
  TscClock c;
  c.invariant_ = cpu_has_invariant_tsc();
  // Calibrate anyway so ticks_to_ns works for histograms even on a non-invariant TSC.
  const ClockSample s0 = tight_sample();
  std::this_thread::sleep_for(std::chrono::milliseconds(calibration_ms));
  const ClockSample s1 = tight_sample();
  if (s1.tsc > s0.tsc && s1.mono_ns > s0.mono_ns) {
    c.ns_per_tick_ = static_cast<double>(s1.mono_ns - s0.mono_ns) / static_cast<double>(s1.tsc - s0.tsc);
  } else {
    c.invariant_ = false;
  }
  c.base_tsc_ = s1.tsc;
  c.base_ns_ = s1.mono_ns;
  c.base_wall_ns_ = s1.wall_ns;
  if (!c.invariant_)
    c.warning_ = "CPU does not report an invariant TSC; timestamps fall back to clock_gettime (slower, ~20-50 ns)";
  return c;
}

void TscClock::calibrate(int calibration_ms) {
  TscClock c = make(calibration_ms);
  std::lock_guard lock(slot_mutex());
  slot() = std::move(c);
}

namespace {
std::future<TscClock>& pending() {  // the calibration start_calibration() began, until instance() takes it
  static std::future<TscClock> f;
  return f;
}
}  // namespace

void TscClock::start_calibration() {
  std::lock_guard lock(slot_mutex());
  if (slot() || pending().valid()) return;
  pending() = std::async(std::launch::async, [] { return make(50); });
}

const TscClock& TscClock::instance() {
  std::lock_guard lock(slot_mutex());
  if (!slot()) slot() = pending().valid() ? pending().get() : make(50);
  return *slot();
}

}  // namespace enigma
