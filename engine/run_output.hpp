// Files a run leaves behind in runs/<UTC timestamp>/ and the summary printed at the end.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/instrument.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "engine/trading_core.hpp"

namespace enigma::engine {

// Text from outside (paths, error messages, the venue's ids and symbols) inside a JSON string.
[[nodiscard]] std::string json_escape(std::string_view in);

// Creates `<runs_dir>/<prefix><UTC timestamp>/logs/` and returns the run directory. The directory is
// created with one mkdir(2) that must not find it there: a run started in the same second as another
// (another process included) gets `<stamp>-1`, `<stamp>-2`, ... and never shares a directory. Throws
// enigma::Error naming the path when it cannot be created.
[[nodiscard]] std::string make_run_dir(const std::string& runs_dir, const std::string& prefix = "");
// Points `<runs_dir>/latest` at `run_dir` (so `tail -F runs/latest/logs/enigma.log` follows whatever run
// is current). Call it once the run has set up successfully; the link is replaced atomically (rename).
void point_latest_at(const std::string& runs_dir, const std::string& run_dir);
// A run that failed: `<run_dir>/summary.json` says so ({"mode", "failed": true, "error"}) unless the run
// already wrote one, so its directory explains itself and `enigma report` names the error.
void write_failed_summary(const std::string& run_dir, std::string_view mode, std::string_view error);

struct RunSummaryInput {
  const RunConfig* config;
  const InstrumentRegistry* registry;
  const PipelineResult* result;
  const TradingCore* core;
  std::string mode;                                     // replay | paper | live | bench
  std::string topology;                                 // fused | pipelined
  const AlertDispatcher* alerts = nullptr;              // [alerts] enabled: its counts go into summary.json
  const strategy::StrategyStage* strategies = nullptr;  // metrics.json indicator_accuracy (confluence)
};

// The thread layout a run applies, one line (logged at start, `layout` in summary.json): which CPU each
// thread is pinned to (fused: engine; pipelined: feed, strategy, oms; "unpinned" where engine.cores names
// none), the idle policy, mlockall and the warm-up interval.
[[nodiscard]] std::string engine_layout(const EngineConfig& e, std::string_view topology);

// summary.json, metrics.json, trades.csv, round_trips.csv, equity.csv and one <stage>.hgrm per stage with
// samples. Deterministic fields first; wall-clock-dependent ones live under "timing" and "latency_ns".
void write_run_files(const std::string& run_dir, const RunSummaryInput& in);
// metrics.json's text: strategy/metrics over the run's fills (round trips, FIFO per instrument, each charged
// the funding the simulated exchange booked while it was open) and equity curve, instrument 0's mid as the
// buy-and-hold baseline, where the account's funding went (funding_split), the plan's gates.
[[nodiscard]] std::string run_metrics_json(const RunSummaryInput& in);
// Data problems that make a run meaningless without failing it: a configured symbol that never appeared in
// the data, a venue decoder that produced no events. One line each (printed last in the summary, logged).
[[nodiscard]] std::vector<std::string> data_warnings(const RunSummaryInput& in);
// The same warnings in the run's log (the logger truncates long string arguments, so fields go separately).
void log_data_warnings(const RunSummaryInput& in);
// The human summary printed at the end of a run.
[[nodiscard]] std::string format_summary(const RunSummaryInput& in, const std::string& run_dir);

}  // namespace enigma::engine
