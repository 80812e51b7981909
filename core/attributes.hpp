// Compiler hints used across the hot path (STYLE.md item 8).
#pragma once

#include <cstddef>

#define ENIGMA_HOT __attribute__((hot))
#define ENIGMA_COLD __attribute__((cold, noinline))
#define ENIGMA_ALWAYS_INLINE inline __attribute__((always_inline))
#define ENIGMA_ASSUME(cond)        \
  do {                             \
    if (!(cond)) __builtin_unreachable(); \
  } while (0)

// Debug-only invariant checks: compiled out of release builds, never a bare assert on the hot path.
#if defined(ENIGMA_DEV_CHECKS)
#include <cstdio>
#include <cstdlib>
#define ENIGMA_DEV_CHECK(cond)                                                          \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "ENIGMA_DEV_CHECK failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
#else
#define ENIGMA_DEV_CHECK(cond) ((void)0)
#endif

namespace enigma {
// One x86 cache line; 128 would also cover adjacent-line prefetch, but 64 keeps events one line each.
inline constexpr std::size_t kCacheLine = 64;
}  // namespace enigma
