// `enigma tune-report`: measures this host for the engine's core layout — the core-to-core hop matrix
// (cache-line ping-pong, SMT siblings and NUMA nodes marked), timer and rdtsc cost, first-touch page-fault
// cost with and without huge pages, and the replay order path under each idle policy and pinning layout it
// can try — then recommends a layout and writes it as an [engine] config block, beside the check-host
// findings. Writes runs/tune-<UTC>/ (tune-report.md, recommended-engine.toml). Bounded: < 60 s by default.
#pragma once

#include <string>

#include "engine/run_config.hpp"

namespace enigma::engine {

struct TuneReportOptions {
  bool quick{false};          // fewer round trips, smaller fault probe, fewer layouts (tests, CI): a few seconds
  double budget_seconds{45};  // the hop matrix stops measuring (and says so) past this share of the run
};

// Returns the process exit code; throws enigma::Error on I/O failure.
int run_tune_report(const RunConfig& rc, const TuneReportOptions& opt);

}  // namespace enigma::engine
