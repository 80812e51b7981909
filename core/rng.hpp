// splitmix64: a fixed, documented generator, so the same seed gives the same sequence on every standard
// library (std::uniform_int_distribution and std::normal_distribution are implementation-defined). Used by
// the simulated exchange's latency draws (oms/latency_model) and the genetic and bayes searches (research/).
// Header-only, no state beyond one word: safe on the hot path (no allocation, no syscall).
#pragma once

#include <cstdint>

namespace enigma {

struct SplitMix64 {
  std::uint64_t s;
  std::uint64_t next() noexcept {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }              // [0, n)
  double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
};

}  // namespace enigma
