// Measurements of this host that decide a core layout (used by `enigma bench` and `enigma tune-report`):
// the one-way latency of a cache line moving between two pinned cores, the cost of reading the clocks, and
// the cost of a first-touch page fault with and without huge pages. Cold path only (they spin and pin).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace enigma::tuning {

// CPUs in this process's affinity mask, ascending.
[[nodiscard]] std::vector<int> affinity_cpus();

// One-way hop between cores `a` and `b`: two threads pinned there bounce a cache line `round_trips`
// times; the result is the median over `repeats` runs of (round-trip time / 2), in ns, and the spread
// (min and max of those runs). ok = false (and `error` says why) when a thread cannot be pinned.
struct HopResult {
  bool ok{false};
  double median_ns{0}, min_ns{0}, max_ns{0};
  std::string error;
};
[[nodiscard]] HopResult measure_hop(int a, int b, int round_trips = 20000, int repeats = 5);

// Topology facts from sysfs: the SMT sibling list and NUMA node of a CPU (-1 where sysfs does not say).
[[nodiscard]] std::vector<int> smt_siblings(int cpu);
[[nodiscard]] int numa_node(int cpu);

// Cost of one call, in ns (median of several batches): rdtsc, clock_gettime(CLOCK_MONOTONIC) (vDSO) and
// clock_gettime(CLOCK_REALTIME).
struct TimerCosts {
  double rdtsc_ns{0}, monotonic_ns{0}, realtime_ns{0};
};
[[nodiscard]] TimerCosts measure_timer_costs();

// First-touch write fault cost per 4 KiB page of fresh anonymous memory, and per 4 KiB of memory asked to
// be backed by transparent huge pages (madvise MADV_HUGEPAGE over `bytes`); huge_ok = false (with the
// reason) where THP is off ("never") or the range did not get huge pages.
struct FaultCosts {
  double small_page_ns_per_4k{0};
  double huge_page_ns_per_4k{0};
  bool huge_ok{false};
  std::string huge_note;
};
[[nodiscard]] FaultCosts measure_fault_costs(std::size_t bytes = 64u << 20);

}  // namespace enigma::tuning
