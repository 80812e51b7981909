// Indicator-confluence strategy: the signal scorer (signal.hpp) on one or more timeframes.
//
// Bars come from the trade tape (TradeBarBuilder) or from venue candles (CandleResampler), one SignalScorer
// per timeframe. When a bar of the lowest timeframe closes (after any higher bar closing with it):
//   * flat, no intent pending, every timeframe ready, combined direction long/short, and (by default) the
//     timeframes in full alignment -> entry intent (market by default), stop = close -/+ stop_atr_mult * ATR,
//     take-profit = close +/- take_profit_atr_mult * ATR (both on the tick grid); with roi_leverage > 0 the
//     research candle backtest's ROI stops instead (research/candle_backtest.hpp): stop = close -/+ close *
//     stop_loss_roi / roi_leverage, take-profit = close +/- close * take_profit_roi / roi_leverage;
//   * holding a position and the lowest timeframe's direction turns against it -> reduce-only exit of the
//     whole position.
// The order-flow term of the score uses features updated from every book and trade event.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "core/events.hpp"
#include "strategy/candles.hpp"
#include "strategy/indicator_accuracy.hpp"
#include "strategy/intent.hpp"
#include "strategy/order_flow.hpp"
#include "strategy/registry.hpp"
#include "strategy/signal.hpp"
#include "strategy/strategies/common.hpp"

namespace enigma::strategy {

struct ConfluenceConfig {
  StrategyCommonConfig common{};
  SignalConfig signal{};
  CandleConfig candles{};  // the scorer's timeframes, lowest first (default one, 60 s)
  BarSource bar_source = BarSource::trades;
  OrderFlowConfig flow{};
  bool use_order_flow = true;
  bool require_full_alignment = true;
  double stop_atr_mult = 2.0;
  double take_profit_atr_mult = 3.0;
  bool market_orders = true;      // else a limit at the bar close
  int intent_timeout_bars = 3;    // forget a pending intent that got no fill after this many lowest bars
  int accuracy_horizon_bars = 5;  // per-indicator accuracy: a vote is judged by the close this many lowest bars on
  // ROI stops, as `enigma optimize` tunes them (a best.toml included by [strategy.confluence] include): 0 = the
  // ATR multiples above. The ROI is a fraction of the margin at roi_leverage, so 0.5 at 50x is a 1 % price move.
  double roi_leverage = 0.0;
  double stop_loss_roi = 0.0;
  double take_profit_roi = 0.0;

  // regime.<ranging|trending_up|trending_down|volatile>.threshold given (refused with the tuned min_score).
  std::array<bool, kRegimeCount> regime_threshold_set{};

  // [strategy.confluence] with its [.weights] and [.regime] (volatile_atr_pct, trend_adx and per regime
  // [.regime.<name>] threshold, leverage_cap, [.regime.<name>.weights]); the tuned-parameter keys (include = "<best.toml>" or the seven inline) are the
  // engine's (engine/tuned_params.hpp).
  void read(config::TableReader& t);
  void validate() const;  // throws enigma::Error naming the field

 private:
  // A weights table (one key per Component, [0, 130]); `base` set: a regime's table (absent keys keep the base).
  static void read_weights(config::TableReader t, std::array<double, kComponentCount>& into,
                           const std::array<double, kComponentCount>* base);
};

// Per timeframe: closed bars (once the scorer is ready) in each regime and the changes of regime between
// them (the first classification is not a change).
struct RegimeStats {
  std::array<std::uint64_t, kRegimeCount> bars{};
  std::uint64_t changes = 0;
};

// The timeframes combined (combine_timeframes) at each decision with every timeframe ready: how often each
// alignment came, and the changes between them (the first is not a change).
struct AlignmentStats {
  std::array<std::uint64_t, 3> decisions{};  // by Alignment: full, partial, divergent
  std::uint64_t changes = 0;
};

class ConfluenceStrategy {
 public:
  static constexpr std::string_view kName = "confluence";
  static constexpr std::string_view kSummary =
      "indicator-confluence score on one or more bar timeframes, ATR or ROI stops";
  using Config = ConfluenceConfig;
  explicit ConfluenceStrategy(const ConfluenceConfig& config);  // throws enigma::Error

  void on_book(const EventHeader& h, const BookTop& book, IntentBuffer& out) noexcept;
  void on_trade(const EventHeader& h, const Trade& trade, IntentBuffer& out) noexcept;
  void on_candle(const EventHeader& h, const Candle& candle, IntentBuffer& out) noexcept;
  void on_fill(const Fill& fill, IntentBuffer& out) noexcept;
  // A closed bar of timeframe `tf_index` from elsewhere (backtests on candle files); the lowest timeframe
  // (index 0) triggers a decision.
  void on_bar(std::size_t tf_index, const Bar& bar, std::uint64_t trigger_tsc, IntentBuffer& out) noexcept;

  [[nodiscard]] std::uint16_t id() const noexcept { return config_.common.strategy_id; }
  [[nodiscard]] InstrumentId instrument() const noexcept { return config_.common.instrument; }
  [[nodiscard]] const SignalResult& last_signal(std::size_t tf_index) const noexcept { return results_[tf_index]; }
  [[nodiscard]] const PositionTracker& position() const noexcept { return position_; }
  [[nodiscard]] const OrderFlowFeatures& flow() const noexcept { return flow_.features(); }
  // The last entry intent emitted (zeroed before the first): what the engine was asked to price.
  [[nodiscard]] const OrderIntent& last_entry() const noexcept { return last_entry_; }
  // How often each component's vote on a lowest-timeframe bar agreed with the sign of the close-to-close
  // return accuracy_horizon_bars later (metrics.json indicator_accuracy).
  [[nodiscard]] const OnlineComponentAccuracy& accuracy() const noexcept { return accuracy_; }
  [[nodiscard]] const RegimeStats& regime_stats(std::size_t tf_index) const noexcept { return regime_stats_[tf_index]; }
  [[nodiscard]] std::size_t timeframe_count() const noexcept { return scorers_.size(); }
  // The last decision's combined signal (mean score, alignment, confidence) and the run's alignment counts;
  // combined_ready() is false until every timeframe has been ready at a decision.
  [[nodiscard]] const MultiTimeframeSignal& combined() const noexcept { return combined_; }
  [[nodiscard]] bool combined_ready() const noexcept { return combined_ready_; }
  [[nodiscard]] const AlignmentStats& alignment_stats() const noexcept { return alignment_stats_; }
  [[nodiscard]] std::uint32_t timeframe_s(std::size_t tf_index) const noexcept {
    return config_.candles.timeframes_s[tf_index];
  }

 private:
  void score_bar(std::size_t tf_index, const Bar& bar) noexcept;
  void decide(std::uint64_t trigger_tsc, IntentBuffer& out) noexcept;

  ConfluenceConfig config_;
  std::vector<SignalScorer> scorers_;
  std::array<SignalResult, kMaxTimeframes> results_{};
  TradeBarBuilder trade_bars_;
  CandleResampler candle_bars_;
  OrderFlow flow_;
  PositionTracker position_;
  int pending_bars_ = 0;  // > 0 while an intent awaits its fill
  bool lowest_closed_ = false;
  OrderIntent last_entry_{};
  OnlineComponentAccuracy accuracy_;
  std::array<RegimeStats, kMaxTimeframes> regime_stats_{};
  MultiTimeframeSignal combined_{};
  bool combined_ready_ = false;
  AlignmentStats alignment_stats_{};
  std::array<std::array<char, 64>, kRegimeCount> weights_text_{};  // "15/15/10/...": weights_in(r), Component order
  std::array<std::size_t, kRegimeCount> weights_text_len_{};
};

ENIGMA_REGISTER_STRATEGY(ConfluenceStrategy);

}  // namespace enigma::strategy
