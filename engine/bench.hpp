// `enigma bench`: the latency benchmark run (DESIGN.md perf). Replays a recorded session through the full
// pipeline at full rate and at recorded pace, in both topologies, and measures in the same run the floor:
// a bare simdjson On-Demand walk of each frame plus one SPSC ring hop per stage boundary. Writes
// runs/bench-<UTC>/ (bench.md, summary.json, per-configuration .hgrm, report.md/.html, host check).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/histogram.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"

namespace enigma::engine {

// Live loopback tick-to-wire for one transport, measured by whoever drives a live run against the local
// TLS venue (market data in, orders out, fills back). All histograms in ns.
struct LiveTransportFigures {
  std::string transport;             // asio | busy_poll | io_uring | ...
  std::uint64_t orders{0};            // orders sent (entries and their protective legs)
  LatencyHistogram signed_to_kernel;  // signed bytes ready -> handed to the kernel
  LatencyHistogram tick_to_wire;      // kernel rx of the frame -> kernel tx of the order
  // The kill switch with entries resting: kills taken, entries they cancelled, and the OMS taking the kill ->
  // kernel tx of each request it sent (with up to 10 entries per instrument, one batch cancel per kill).
  std::uint64_t kills{0};
  std::uint64_t kill_cancels{0};
  LatencyHistogram kill_to_wire;
};
// The bench's live section from those figures (markdown): `method` (how they were measured), one row per
// transport, and the targets judged on the transport with the lowest tick-to-wire p50. With no
// figures, one line saying they were not measured.
[[nodiscard]] std::string format_live_section(const std::vector<LiveTransportFigures>& figures, const std::string& method = {});

struct BenchOptions {
  // Data time replayed at recorded pace per topology (keeps the run < 2 min); 0: no recorded-pace runs.
  std::int64_t recorded_pace_window_ns{20'000'000'000};
  int floor_repeats{7};  // order-path floor: measured this many times (after a warm-up pass); median and spread
  // The live loopback section: called once with the bench's run directory; returns one entry per transport.
  // Empty (default): the report says the live figures were not measured by this bench.
  std::function<std::vector<LiveTransportFigures>(const std::string& run_dir)> live;
  std::string live_method;  // a paragraph on how `live` measured, printed above its table
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

// The order path's floor on the same work the engine did: for each frame that sent an order (OrderFrame,
// collected by a fused replay), the simdjson On-Demand walk of that frame plus encode + HMAC-sign of the
// same order. Measured `repeats` times after one warm-up pass; per repeat the p50/p99 over the frames. The
// cross-core hop (pipelined) is added by the caller from tuning::measure_hop.
struct OrderFloor {
  std::size_t frames{0};
  std::vector<double> p50_ns, p99_ns;  // one per repeat
  double median_p50{0}, min_p50{0}, max_p50{0}, median_p99{0};
};
[[nodiscard]] OrderFloor measure_order_floor(const std::vector<std::string>& files, const RunConfig& rc,
                                             const std::vector<OrderFrame>& order_frames, int repeats);

}  // namespace enigma::engine
