// `enigma bench`: the latency benchmark run (DESIGN.md perf). Replays a recorded session through the full
// pipeline at full rate and at recorded pace, in both topologies, and measures in the same run the floor:
// a bare simdjson On-Demand walk of each frame plus one SPSC ring hop per stage boundary. Writes
// runs/bench-<UTC>/ (bench.md, summary.json, per-configuration .hgrm, report.md/.html, host check).
#pragma once

#include "engine/run_config.hpp"

namespace enigma::engine {

struct BenchOptions {
  std::int64_t recorded_pace_window_ns{20'000'000'000};  // data replayed at recorded pace (keeps the run < 2 min)
};

// Returns the process exit code.
int run_bench(const RunConfig& rc, bool quiet, const BenchOptions& opt = {});

// The floor for one frame, in TSC ticks: On-Demand walk of every value + `hops` SPSC push/pop pairs.
// Exposed for tests.
struct FloorResult {
  LatencyHistogram walk_plus_hops;  // ns
  std::uint64_t frames{0};
};
[[nodiscard]] FloorResult measure_floor(const std::vector<std::string>& files, int hops);

}  // namespace enigma::engine
