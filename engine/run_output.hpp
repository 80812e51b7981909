// Files a run leaves behind in runs/<UTC timestamp>/ and the summary printed at the end.
#pragma once

#include <string>
#include <vector>

#include "core/instrument.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "engine/trading_core.hpp"

namespace enigma::engine {

// Creates `<runs_dir>/<prefix><UTC timestamp>/logs/` and points `<runs_dir>/latest` at it (so
// `tail -F runs/latest/logs/enigma.log` follows whatever run is current). Returns the run directory.
[[nodiscard]] std::string make_run_dir(const std::string& runs_dir, const std::string& prefix = "");

struct RunSummaryInput {
  const RunConfig* config;
  const InstrumentRegistry* registry;
  const PipelineResult* result;
  const TradingCore* core;
  std::string mode;      // replay | paper | live | bench
  std::string topology;  // fused | pipelined
};

// summary.json, trades.csv, equity.csv and one <stage>.hgrm per stage with samples. Deterministic
// fields first; wall-clock-dependent ones live under "timing" and "latency_ns".
void write_run_files(const std::string& run_dir, const RunSummaryInput& in);
// Data problems that make a run meaningless without failing it: a configured symbol that never appeared in
// the data, a venue decoder that produced no events. One line each (printed last in the summary, logged).
[[nodiscard]] std::vector<std::string> data_warnings(const RunSummaryInput& in);
// The same warnings in the run's log (the logger truncates long string arguments, so fields go separately).
void log_data_warnings(const RunSummaryInput& in);
// The human summary printed at the end of a run.
[[nodiscard]] std::string format_summary(const RunSummaryInput& in, const std::string& run_dir);

}  // namespace enigma::engine
