// "Is it real?" (issue 14 item 5) for the parameters `enigma optimize` / `enigma walkforward` chose: the
// deflated Sharpe ratio given the trials actually run, the probability of backtest overfitting by CSCV over
// the trials' daily returns, and a random-entry permutation p-value of the untouched (test / out-of-sample)
// result. The math is strategy/stats.hpp; this file feeds it from candle backtests.
//
// Conventions (the same as TrialMetrics::sharpe): a trial's returns are the daily (UTC) returns of its
// marked-to-market equity over the span, the day in progress at the span's end counting as a last day.
// The DSR works per day: observed Sharpe = annualised Sharpe / sqrt(365), the trial Sharpe variance is the
// sample variance of the trials' per-day Sharpes, T = the number of daily returns, skew and kurtosis
// (population, non-excess) of the chosen trial's daily returns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "research/candle_backtest.hpp"
#include "research/optimizer.hpp"
#include "strategy/stats.hpp"

namespace enigma::research {

struct EvidenceConfig {
  std::uint32_t pbo_partitions = 16;  // S of CSCV (even, 2..30)
  std::uint32_t permutations = 2000;  // random-entry draws of the permutation test
  std::uint64_t seed = 1;             // of the permutation test
};

struct DsrEvidence {
  std::size_t trials = 0;               // N
  double sharpe = 0;                    // the chosen trial's Sharpe, per day
  double trial_sharpe_variance = 0;     // of the N trials' per-day Sharpes (sample variance)
  std::size_t observations = 0;         // T: daily returns of the chosen trial
  double skew = 0, kurtosis = 0;        // of those returns
  strategy::DeflatedSharpe result;      // SR0 and DSR
};

struct PboEvidence {
  std::size_t rows = 0;         // daily returns per trial
  std::size_t partitions = 0;   // S
  std::optional<strategy::Pbo> result;
  std::string not_computed;     // why, when result is empty
};

struct PermutationEvidence {
  std::size_t trades = 0;
  std::optional<strategy::PermutationTest> result;
  std::string not_computed;  // why, when result is empty
};

// Daily returns (see above) of an equity curve that `bt.run` produced over `span` (one point per candle,
// starting from 1).
[[nodiscard]] std::vector<double> daily_returns(const CandleBacktest& bt, Span span, const std::vector<double>& equity);

// DSR of `chosen` (selected from `trials` by its train metrics) over `train`.
[[nodiscard]] DsrEvidence deflated_sharpe_of(const CandleBacktest& bt, const std::vector<Trial>& trials,
                                             const Trial& chosen, Span train);

// PBO over the T x N matrix of every trial's daily returns on `train` (the trials re-run in parallel).
[[nodiscard]] PboEvidence pbo_of(const CandleBacktest& bt, const std::vector<Trial>& trials, Span train,
                                 std::uint32_t partitions);

// One piece of an untouched result: these parameters traded over that span.
struct Segment {
  ParamIndex idx{};
  Span span;
};
// The segments' trades (entry at a candle's close, exit `hold` candles later at a close) against random
// entries with the same holding times and sides over the candles from the first segment's start to the last
// one's end (the segments are consecutive).
[[nodiscard]] PermutationEvidence permutation_of(const CandleBacktest& bt, const std::vector<Segment>& segments,
                                                 const EvidenceConfig& cfg);

}  // namespace enigma::research
