#include "research/candle_backtest.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <tbb/parallel_for.h>

#include "core/error.hpp"
#include "strategy/signal.hpp"

namespace enigma::research {
namespace {

std::int64_t utc_day(std::int64_t time_ns) noexcept {
  const std::int64_t q = time_ns / strategy::kNanosPerDay;
  return time_ns % strategy::kNanosPerDay < 0 ? q - 1 : q;
}

}  // namespace

// ---- EquityStats ----------------------------------------------------------------------------------------

EquityStats::EquityStats(std::int64_t first_day, double start_equity) noexcept
    : day_(first_day), day_start_(start_equity), last_(start_equity), peak_(start_equity) {}

void EquityStats::on_candle(std::int64_t day, double equity) noexcept {
  if (day != day_) {  // the previous day ended with the previous candle
    const double r = last_ / day_start_ - 1.0;
    sum_ += r;
    sum_sq_ += r * r;
    ++days_;
    day_start_ = last_;
    day_ = day;
  }
  last_ = equity;
  if (equity > peak_) peak_ = equity;
  const double dd = 1.0 - equity / peak_;
  if (dd > max_dd_) max_dd_ = dd;
}

void EquityStats::finish(TrialMetrics& m) const noexcept {
  const double r = last_ / day_start_ - 1.0;
  const double n = static_cast<double>(days_) + 1.0;
  const double sum = sum_ + r, sum_sq = sum_sq_ + r * r;
  m.max_drawdown = max_dd_;
  m.sharpe = 0.0;
  if (n < 2.0) return;
  const double mean = sum / n;
  const double var = (sum_sq - n * mean * mean) / (n - 1.0);  // sample variance
  if (var > 1e-30) m.sharpe = mean / std::sqrt(var) * std::sqrt(365.0);
}

// ---- SignalCache ----------------------------------------------------------------------------------------

SignalCache::SignalCache(const std::vector<strategy::Bar>& bars, const ParamSpace& space)
    : n_oversold_(space.of(Param::rsi_oversold).size()), n_overbought_(space.of(Param::rsi_overbought).size()) {
  using strategy::Component;
  constexpr std::size_t kRsi = static_cast<std::size_t>(Component::rsi);
  static_assert(kRsi == 0, "the RSI term must come first: the scorer sums the terms in Component order");
  constexpr std::size_t kRest = strategy::kComponentCount - 1;
  const std::vector<double>& periods = space.of(Param::rsi_period);
  const std::size_t n = bars.size();

  // One scorer pass per RSI period (the only indicator parameter in the space; the divergence term follows
  // RSI swings, so it depends on the period too). Kept per candle: the RSI value, readiness and every other
  // term; oversold/overbought only change the RSI term.
  struct PeriodPass {
    std::vector<double> rsi;
    std::vector<double> rest;  // kRest terms per candle, in Component order
    std::vector<std::uint8_t> ready;
  };
  std::vector<PeriodPass> passes(periods.size());
  const strategy::SignalConfig defaults;
  tbb::parallel_for(std::size_t{0}, periods.size(), [&](std::size_t k) {
    strategy::SignalConfig cfg;
    cfg.rsi_period = static_cast<int>(periods[k]);
    cfg.use_regime_threshold = false;  // the trial's min_score is the threshold
    strategy::SignalScorer scorer(cfg);
    strategy::Rsi rsi(cfg.rsi_period);  // the scorer's own RSI, fed the same closes
    PeriodPass& out = passes[k];
    out.rsi.resize(n);
    out.rest.resize(n * kRest);
    out.ready.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const strategy::SignalResult r = scorer.on_bar(bars[i], nullptr);
      rsi.update(bars[i].close);
      out.rsi[i] = rsi.value();
      out.ready[i] = r.ready ? 1 : 0;
      for (std::size_t c = 0; c < kRest; ++c) out.rest[i * kRest + c] = r.contributions[c + 1];
    }
  });

  // The score of each (period, oversold, overbought), summed as SignalScorer::evaluate sums it (same order,
  // same clamp), so it equals that scorer's score bit for bit.
  const double w_rsi = defaults.weights[kRsi];
  series_.resize(periods.size() * n_oversold_ * n_overbought_);
  tbb::parallel_for(std::size_t{0}, series_.size(), [&](std::size_t k) {
    const PeriodPass& pass = passes[k / (n_oversold_ * n_overbought_)];
    const double oversold = space.of(Param::rsi_oversold)[(k / n_overbought_) % n_oversold_];
    const double overbought = space.of(Param::rsi_overbought)[k % n_overbought_];
    std::vector<double>& out = series_[k];
    out.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (!pass.ready[i]) {
        out[i] = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      double sum = 0.0;
      sum += w_rsi * strategy::level_score(pass.rsi[i], oversold, overbought);
      for (std::size_t c = 0; c < kRest; ++c) sum += pass.rest[i * kRest + c];
      out[i] = std::clamp(sum, -strategy::kMaxSignalScore, strategy::kMaxSignalScore);
    }
  });
}

// ---- CandleBacktest -------------------------------------------------------------------------------------

CandleBacktest::CandleBacktest(std::vector<strategy::Bar> bars, ParamSpace space, BacktestModel model)
    : bars_((bars.empty() ? throw Error("candle backtest: no candles") : void(), std::move(bars))),
      space_(std::move(space)),
      model_((!(model.fee_rate >= 0.0 && model.fee_rate < 0.1)
                  ? throw Error("candle backtest: fee_rate must be in [0, 0.1)")
              : !(model.margin_fraction > 0.0 && model.margin_fraction <= 1.0)
                  ? throw Error("candle backtest: margin_fraction must be in (0, 1]")
                  : void(),
              model)),
      signals_(bars_, space_) {
  days_.reserve(bars_.size());
  for (const auto& b : bars_) days_.push_back(utc_day(b.time_ns));
}

TrialMetrics CandleBacktest::run(const ParamIndex& idx, Span span, std::vector<double>* equity_out,
                                 std::vector<strategy::HeldTrade>* trades_out,
                                 std::vector<TradeFill>* fills_out) const {
  TrialMetrics m;
  if (span.begin >= span.end || span.end > bars_.size()) return m;
  const std::vector<double>& score = signals_.scores(idx);
  const ParamSet p = space_.at(idx);
  const double min_score = p[Param::min_score];
  const double stop_move = p[Param::stop_loss_roi] / p[Param::leverage];
  const double target_move = p[Param::take_profit_roi] / p[Param::leverage];
  const double fee = model_.fee_rate;

  double equity = 1.0;  // realised
  int dir = 0;          // +1 long, -1 short, 0 flat
  double entry = 0.0, notional = 0.0, margin = 0.0, entry_fee = 0.0, stop = 0.0, target = 0.0;
  double gross_profit = 0.0, gross_loss = 0.0;
  std::size_t entry_i = 0;
  std::size_t i = span.begin;  // the candle being processed

  auto unrealised = [&](double px) {
    const double pnl = notional * dir * (px / entry - 1.0);
    return pnl < -margin ? -margin : pnl;  // isolated margin: the loss stops at the margin
  };
  auto close_at = [&](double px) {
    const double exit_fee = notional * (px / entry) * fee;
    const double pnl = unrealised(px) - exit_fee;
    equity += pnl;
    const double trade = pnl - entry_fee;
    ++m.trades;
    if (trades_out) trades_out->push_back({entry_i, i - entry_i, dir});
    if (fills_out) fills_out->push_back({entry_i, i, dir, entry, px});
    if (trade > 0.0) {
      ++m.wins;
      gross_profit += trade;
    } else {
      gross_loss -= trade;
    }
    dir = 0;
  };
  auto open_at = [&](int d, double px) {
    dir = d;
    entry = px;
    entry_i = i;
    margin = equity * model_.margin_fraction;
    notional = margin * p[Param::leverage];
    entry_fee = notional * fee;
    equity -= entry_fee;
    stop = px * (1.0 - d * stop_move);
    target = px * (1.0 + d * target_move);
  };

  EquityStats stats(days_[span.begin]);
  if (equity_out) equity_out->reserve(equity_out->size() + span.size());
  for (; i < span.end; ++i) {
    const strategy::Bar& b = bars_[i];
    if (dir > 0 && i > entry_i) {
      if (b.open <= stop || b.open >= target)
        close_at(b.open);
      else if (b.low <= stop)
        close_at(stop);
      else if (b.high >= target)
        close_at(target);
    } else if (dir < 0 && i > entry_i) {
      if (b.open >= stop || b.open <= target)
        close_at(b.open);
      else if (b.high >= stop)
        close_at(stop);
      else if (b.low <= target)
        close_at(target);
    }
    const double s = score[i];
    const bool last = i + 1 == span.end;
    if (dir != 0 && (last || (dir > 0 ? s <= -min_score : s >= min_score))) close_at(b.close);  // NaN: false
    if (dir == 0 && !last) {  // an entry on the last candle would only pay fees
      if (s >= min_score)
        open_at(+1, b.close);
      else if (s <= -min_score)
        open_at(-1, b.close);
    }
    const double mtm = dir == 0 ? equity : equity + unrealised(b.close);
    stats.on_candle(days_[i], mtm);
    if (equity_out) equity_out->push_back(mtm);
  }
  stats.finish(m);
  m.net_return = equity - 1.0;
  m.gross_profit = gross_profit;
  m.gross_loss = gross_loss;
  m.profit_factor = gross_loss > 0.0     ? gross_profit / gross_loss
                    : gross_profit > 0.0 ? std::numeric_limits<double>::infinity()
                                         : 0.0;
  return m;
}

}  // namespace enigma::research
