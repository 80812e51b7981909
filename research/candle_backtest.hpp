// The fast candle backtest behind `enigma optimize` and `enigma walkforward`: the confluence strategy's
// signal score (strategy/signal.hpp, the same SignalScorer the engine's confluence strategy runs) on closed
// candles, with the plan's entry threshold, ROI stop-loss / take-profit and leverage.
//
// Strategy, one decision per closed candle (at its close):
//   * score = SignalScorer(rsi_period, rsi_oversold, rsi_overbought; every other setting at its default,
//     no order-flow term) of the candles so far; no trade until every indicator is past its lookback;
//   * holding: the candle's open beyond the stop or target exits at the open; else low/high touching the
//     stop exits at the stop, touching the target exits at the target (both touched: the stop, the
//     pessimistic reading of a candle); else a score past -/+ min_score against the position exits at the
//     close. stop / target = entry -/+ entry * roi / leverage (long; mirrored for short): the ROI is a
//     fraction of the margin, so at 50x a 0.5 stop-loss ROI is a 1 % price move;
//   * flat (also right after an exit): score >= min_score buys, <= -min_score sells, at the close.
// Sizing: margin = margin_fraction of the equity at entry, notional = margin * leverage; a taker fee of
// fee_rate on the notional at entry and at exit; a loss never exceeds the margin (isolated margin).
// A span's position still open at its last candle is closed at that candle's close.
//
// Sharing across trials: the indicators run once per distinct rsi_period (one SignalScorer pass each);
// oversold/overbought only re-weight the RSI term, so SignalCache builds the score series of each
// (rsi_period, rsi_oversold, rsi_overbought) from that pass, and a trial is then one pass over doubles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "research/param_space.hpp"
#include "strategy/indicators.hpp"
#include "strategy/stats.hpp"

namespace enigma::research {

struct BacktestModel {
  double fee_rate = 0.0004;       // per side, on the notional (Binance USD-M taker, regular tier)
  double margin_fraction = 0.02;  // of the equity, per trade
};

// A half-open range of candle indices [begin, end).
struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
  [[nodiscard]] std::size_t size() const noexcept { return end - begin; }
};

// What a trial reports. Returns are fractions (0.05 = +5 %).
// A trial's summary, separate from strategy/metrics.hpp's full BacktestMetrics on purpose: computed in one pass
// per trial without allocating, and trivially copyable, so MPI ranks exchange it as bytes (mpi_world.hpp).
struct TrialMetrics {
  std::uint32_t trades = 0;
  std::uint32_t wins = 0;
  double net_return = 0.0;     // final equity / initial - 1
  double sharpe = 0.0;         // daily (UTC) returns of the marked-to-market equity, mean / sd * sqrt(365)
  double max_drawdown = 0.0;   // largest peak-to-trough fall of the marked-to-market equity, per candle
  double profit_factor = 0.0;  // gross profit / gross loss of the trades (0 without trades; +inf without losses)
  double gross_profit = 0.0;   // sum of the winning trades' net P&L, as a fraction of the initial equity
  double gross_loss = 0.0;     // minus the sum of the losing trades' net P&L (>= 0)
  [[nodiscard]] double win_rate() const noexcept { return trades == 0 ? 0.0 : static_cast<double>(wins) / trades; }
};

// Running equity statistics (daily Sharpe, drawdown) over a marked-to-market curve, one point per candle.
class EquityStats {
 public:
  explicit EquityStats(std::int64_t first_day, double start_equity = 1.0) noexcept;
  void on_candle(std::int64_t day, double equity) noexcept;
  // Sharpe and drawdown into `m` (the day in progress counts as a last day).
  void finish(TrialMetrics& m) const noexcept;

 private:
  std::int64_t day_;
  double day_start_;  // equity at the end of the previous day
  double last_;
  double peak_;
  double max_dd_ = 0.0;
  std::uint32_t days_ = 0;
  double sum_ = 0.0, sum_sq_ = 0.0;  // of daily returns
};

// Score series per distinct (rsi_period, rsi_oversold, rsi_overbought) of a space, equal bit for bit to a
// SignalScorer configured with them (see above). NaN while not ready.
class SignalCache {
 public:
  SignalCache(const std::vector<strategy::Bar>& bars, const ParamSpace& space);
  [[nodiscard]] const std::vector<double>& scores(const ParamIndex& idx) const noexcept {
    return series_[(idx[0] * n_oversold_ + idx[1]) * n_overbought_ + idx[2]];
  }
  [[nodiscard]] std::size_t series_count() const noexcept { return series_.size(); }
  // Scorer passes run (one per distinct rsi_period).
  [[nodiscard]] std::size_t scorer_passes() const noexcept { return series_.size() / (n_oversold_ * n_overbought_); }

 private:
  std::size_t n_oversold_, n_overbought_;
  std::vector<std::vector<double>> series_;
};

// One round trip of a trial, for the report's price chart: entered at candle entry_index's close, left at
// exit_index (its open, the stop, the target or its close, as the rules above say).
struct TradeFill {
  std::size_t entry_index = 0, exit_index = 0;
  int side = 1;  // +1 long, -1 short
  double entry_price = 0.0, exit_price = 0.0;
};

// Evaluates trials over spans of one candle series. Thread-safe (const after construction).
class CandleBacktest {
 public:
  // Throws enigma::Error when `bars` is empty or the model is invalid.
  CandleBacktest(std::vector<strategy::Bar> bars, ParamSpace space, BacktestModel model);

  // One trial over `span`. `equity_out`, when given, receives the marked-to-market equity after each candle
  // (relative to the span's start, 1.0 = flat). `trades_out`, when given, receives each round trip as
  // (entry candle index, candles held, side), for the random-entry permutation test; `fills_out` each round
  // trip with its prices (report.html). The optimizer's trials pass none of them: no allocation per trial.
  [[nodiscard]] TrialMetrics run(const ParamIndex& idx, Span span, std::vector<double>* equity_out = nullptr,
                                 std::vector<strategy::HeldTrade>* trades_out = nullptr,
                                 std::vector<TradeFill>* fills_out = nullptr) const;

  [[nodiscard]] const std::vector<strategy::Bar>& bars() const noexcept { return bars_; }
  [[nodiscard]] const ParamSpace& space() const noexcept { return space_; }
  [[nodiscard]] const SignalCache& signals() const noexcept { return signals_; }
  // UTC day number of candle i (its open time).
  [[nodiscard]] std::int64_t day(std::size_t i) const noexcept { return days_[i]; }

 private:
  std::vector<strategy::Bar> bars_;
  ParamSpace space_;
  BacktestModel model_;
  std::vector<std::int64_t> days_;
  SignalCache signals_;
};

}  // namespace enigma::research
