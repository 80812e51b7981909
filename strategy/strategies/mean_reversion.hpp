// Mean-reversion strategy: RSI extremes confirmed by a close outside the Bollinger Bands.
//
// On each closed bar (one timeframe, built from trades or taken from venue candles):
//   flat: RSI < oversold and close < lower band -> buy;  RSI > overbought and close > upper band -> sell.
//         Limit at the close by default; stop = close -/+ stop_atr_mult * ATR; take-profit = middle band.
//   long and close >= middle band, or short and close <= middle band -> reduce-only exit.
#pragma once

#include <cstdint>

#include "core/events.hpp"
#include "strategy/candles.hpp"
#include "strategy/indicators.hpp"
#include "strategy/intent.hpp"
#include "strategy/order_flow.hpp"
#include "strategy/registry.hpp"
#include "strategy/strategies/common.hpp"

namespace enigma::strategy {

struct MeanReversionConfig {
  StrategyCommonConfig common{};
  CandleConfig candles{};  // exactly one timeframe
  BarSource bar_source = BarSource::trades;
  int rsi_period = 14;
  double rsi_oversold = 30.0;
  double rsi_overbought = 70.0;
  int bb_period = 20;
  double bb_sigma = 2.0;
  int atr_period = 14;
  double stop_atr_mult = 1.5;
  bool market_orders = false;
  int intent_timeout_bars = 3;

  void read(config::TableReader& t);  // [strategy.mean_reversion]
  void validate() const;              // throws enigma::Error naming the field
};

class MeanReversionStrategy {
 public:
  static constexpr std::string_view kName = "mean-reversion";
  static constexpr std::string_view kSummary =
      "RSI extremes confirmed by a close outside the Bollinger Bands, exit at the middle band";
  using Config = MeanReversionConfig;
  explicit MeanReversionStrategy(const MeanReversionConfig& config);  // throws enigma::Error

  void on_book(const EventHeader& h, const BookTop& book, IntentBuffer& out) noexcept {}
  void on_trade(const EventHeader& h, const Trade& trade, IntentBuffer& out) noexcept;
  void on_candle(const EventHeader& h, const Candle& candle, IntentBuffer& out) noexcept;
  void on_fill(const Fill& fill, IntentBuffer& out) noexcept;
  void on_bar(const Bar& bar, std::uint64_t trigger_tsc, IntentBuffer& out) noexcept;

  [[nodiscard]] std::uint16_t id() const noexcept { return config_.common.strategy_id; }
  [[nodiscard]] InstrumentId instrument() const noexcept { return config_.common.instrument; }
  [[nodiscard]] const PositionTracker& position() const noexcept { return position_; }
  [[nodiscard]] const Rsi& rsi() const noexcept { return rsi_; }
  [[nodiscard]] const BollingerBands& bands() const noexcept { return bb_; }

 private:
  void emit(Side side, IntentReason reason, bool reduce_only, Qty qty, double close, double stop, double tp,
            std::uint64_t tsc, IntentBuffer& out) noexcept;

  MeanReversionConfig config_;
  Rsi rsi_;
  BollingerBands bb_;
  Atr atr_;
  TradeBarBuilder trade_bars_;
  CandleResampler candle_bars_;
  PositionTracker position_;
  int pending_bars_ = 0;
};

ENIGMA_REGISTER_STRATEGY(MeanReversionStrategy);

}  // namespace enigma::strategy
