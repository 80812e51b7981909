// Walk-forward analysis: rolling train/test windows over one candle series; each window's parameters are
// optimised on its train span only and then evaluated, untouched, on its test span (the candles right after).
//
// Windows (n candles, train fraction f, k windows): the test spans are consecutive and do not overlap, and
// window w's train span ends where its test span starts:
//   L = n / (f + k * (1 - f)),  train_len = floor(L * f),  test_len = floor(L * (1 - f)),
//   window w: train = [w * test_len, w * test_len + train_len), test = [train end, train end + test_len).
// So the out-of-sample result covers k * test_len candles in one piece; any rounding remainder (< k + 1
// candles) is left at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "research/bayes.hpp"
#include "research/candle_backtest.hpp"
#include "research/optimizer.hpp"

namespace enigma::research {

enum class Method : std::uint8_t { grid, genetic, bayes };

struct WalkForwardConfig {
  double train_fraction = 0.7;
  std::uint32_t windows = 5;
  std::uint32_t min_trades_per_window = 50;  // a window whose test span has fewer trades is not valid
};

struct Window {
  Span train;
  Span test;
};

// The windows over `candles` candles. Throws enigma::Error (naming the field) when the config is invalid
// or a span would be empty.
[[nodiscard]] std::vector<Window> walkforward_windows(std::size_t candles, const WalkForwardConfig& cfg);

struct WindowResult {
  Window window;
  Trial chosen;            // the best train trial, with its test metrics
  std::vector<Trial> all;  // every trial of the window, train and test metrics (trials.csv)
  std::uint64_t trials = 0;
  bool valid = false;  // test trades >= min_trades_per_window
};

struct WalkForwardResult {
  std::vector<WindowResult> windows;
  TrialMetrics out_of_sample;      // the test spans chained (each starts flat with the previous one's equity)
  std::vector<double> oos_equity;  // marked-to-market equity per test candle, chained, starting from 1
  std::uint32_t valid_windows = 0;
  std::uint64_t trials = 0;  // trials run in all windows
};

// Window w's trials (train and test metrics) already evaluated elsewhere: `enigma walkforward --merge` hands
// in the shards' trials (research/shards.hpp) instead of running the search.
using WindowTrials = std::function<std::vector<Trial>(std::size_t w)>;

// Progress counts trials over all windows. With `given`, each window's trials come from it (no search runs).
[[nodiscard]] WalkForwardResult run_walkforward(const CandleBacktest& bt, const WalkForwardConfig& cfg,
                                                const Selection& sel, Method method, const GeneticConfig& genetic,
                                                const Progress& progress = {}, const BayesConfig& bayes = {},
                                                const WindowTrials& given = {});

}  // namespace enigma::research
