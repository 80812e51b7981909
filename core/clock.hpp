// Time sources.
//
//  * rdtsc(): raw invariant TSC, ~7 ns, no syscall; stamps frames and stages on the hot path.
//  * TscClock: converts TSC ticks to nanoseconds using a calibration against CLOCK_MONOTONIC_RAW taken
//    once at start-up. When the CPU does not advertise an invariant TSC (CPUID 0x80000007 EDX bit 8),
//    calibration falls back to clock_gettime for now_ns() and says so through `warning()`.
//  * wall_ns(): CLOCK_REALTIME nanoseconds for venue timestamps and log lines.
#pragma once

#include <cstdint>
#include <string>

#include "core/attributes.hpp"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace enigma {

[[nodiscard]] ENIGMA_ALWAYS_INLINE std::uint64_t rdtsc() noexcept {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(__builtin_readcyclecounter());
#endif
}

[[nodiscard]] std::int64_t wall_ns() noexcept;       // CLOCK_REALTIME
[[nodiscard]] std::int64_t monotonic_ns() noexcept;  // CLOCK_MONOTONIC_RAW

[[nodiscard]] bool cpu_has_invariant_tsc() noexcept;

class TscClock {
 public:
  // Calibrates over `calibration_ms` of wall time (cold path; sleeps).
  static void calibrate(int calibration_ms = 50);
  // Process-wide instance, calibrated on first use (waiting for a calibration start_calibration() began).
  [[nodiscard]] static const TscClock& instance();
  // Begins the process-wide calibration on its own thread, so that the 50 ms it sleeps overlap the caller's
  // start-up instead of adding to it; instance() then waits only for what is left of it. Idempotent.
  static void start_calibration();

  [[nodiscard]] bool invariant() const noexcept { return invariant_; }
  [[nodiscard]] double ns_per_tick() const noexcept { return ns_per_tick_; }
  [[nodiscard]] double ticks_per_ns() const noexcept { return 1.0 / ns_per_tick_; }
  // Non-empty when the TSC is not trustworthy and the clock falls back to clock_gettime.
  [[nodiscard]] const std::string& warning() const noexcept { return warning_; }

  [[nodiscard]] std::int64_t ticks_to_ns(std::uint64_t ticks) const noexcept {
    return static_cast<std::int64_t>(static_cast<double>(ticks) * ns_per_tick_);
  }
  [[nodiscard]] std::uint64_t ns_to_ticks(std::int64_t ns) const noexcept {
    return static_cast<std::uint64_t>(static_cast<double>(ns) / ns_per_tick_);
  }
  // Monotonic nanoseconds from the TSC (or clock_gettime when not invariant).
  [[nodiscard]] std::int64_t now_ns() const noexcept {
    if (!invariant_) [[unlikely]] return monotonic_ns();
    return base_ns_ + static_cast<std::int64_t>(static_cast<double>(rdtsc() - base_tsc_) * ns_per_tick_);
  }
  // Wall-clock time of a TSC stamp (for log lines written off the hot path).
  [[nodiscard]] std::int64_t tsc_to_wall_ns(std::uint64_t tsc) const noexcept {
    return base_wall_ns_ + static_cast<std::int64_t>(static_cast<double>(static_cast<std::int64_t>(tsc - base_tsc_)) * ns_per_tick_);
  }

 private:
  TscClock() = default;
  static TscClock make(int calibration_ms);
  double ns_per_tick_{1.0};
  std::uint64_t base_tsc_{0};
  std::int64_t base_ns_{0};
  std::int64_t base_wall_ns_{0};
  bool invariant_{false};
  std::string warning_;
};

}  // namespace enigma
