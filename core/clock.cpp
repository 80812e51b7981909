#include "core/clock.hpp"

#include <time.h>

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
}  // namespace

TscClock TscClock::make(int calibration_ms) {
  TscClock c;
  c.invariant_ = cpu_has_invariant_tsc();
  // Calibrate anyway so ticks_to_ns works for histograms even on a non-invariant TSC.
  const std::int64_t n0 = monotonic_ns();
  const std::uint64_t t0 = rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(calibration_ms));
  const std::int64_t n1 = monotonic_ns();
  const std::uint64_t t1 = rdtsc();
  if (t1 > t0 && n1 > n0) {
    c.ns_per_tick_ = static_cast<double>(n1 - n0) / static_cast<double>(t1 - t0);
  } else {
    c.invariant_ = false;
  }
  c.base_tsc_ = t1;
  c.base_ns_ = n1;
  c.base_wall_ns_ = wall_ns();
  if (!c.invariant_)
    c.warning_ = "CPU does not report an invariant TSC; timestamps fall back to clock_gettime (slower, ~20-50 ns)";
  return c;
}

void TscClock::calibrate(int calibration_ms) {
  TscClock c = make(calibration_ms);
  std::lock_guard lock(slot_mutex());
  slot() = std::move(c);
}

const TscClock& TscClock::instance() {
  std::lock_guard lock(slot_mutex());
  if (!slot()) slot() = make(50);
  return *slot();
}

}  // namespace enigma
