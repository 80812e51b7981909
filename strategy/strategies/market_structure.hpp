// Market-structure strategy (issue 15 item 6): trades the breaks of strategy/market_structure.hpp.
//
// On each closed bar (one timeframe, from trades or venue candles) the features update first (swing points,
// BOS / CHoCH, order blocks, fair-value gaps: each break and each reported gap is a log line), then:
//   an intent is pending (asked for, not filled, fewer than intent_timeout_bars bars ago): nothing;
//   flat, and the bar broke structure with a kind `entry` takes ("choch", "bos" or "both"): a market entry
//     in the break's direction, stop at the break's order block's far edge (an up-break: its low) or, without
//     an order block, at the opposite swing point (an up-break: the tracked swing low); take-profit =
//     close +/- reward_risk x |close - stop|. No entry when that stop is not beyond the close on the losing
//     side (structure_skip log line);
//   holding, and the bar broke structure against the position (any kind), with exit_on_break: a reduce-only
//     market exit of the whole position.
// The OMS holds the bracket. Reasons are signal_entry / signal_exit. No allocation after construction.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/events.hpp"
#include "core/logger.hpp"
#include "strategy/candles.hpp"
#include "strategy/intent.hpp"
#include "strategy/market_structure.hpp"
#include "strategy/order_flow.hpp"
#include "strategy/registry.hpp"
#include "strategy/strategies/common.hpp"

namespace enigma::strategy {

enum class StructureEntry : std::uint8_t { choch, bos, both };

struct MarketStructureStrategyConfig {
  StrategyCommonConfig common{};
  CandleConfig candles{};  // exactly one timeframe (default 60 s)
  BarSource bar_source = BarSource::trades;
  MarketStructureConfig structure{};
  StructureEntry entry = StructureEntry::choch;
  double reward_risk = 2.0;
  bool exit_on_break = true;
  int intent_timeout_bars = 3;

  // [strategy.market_structure]: every key with its default and range; errors name file, line and key.
  void read(config::TableReader& t) {
    read_timeframes(t, candles);
    bar_source = read_bar_source(t, bar_source);
    structure.swing_left = static_cast<int>(t.integer("swing_left", structure.swing_left, 1, 60));
    structure.swing_right = static_cast<int>(t.integer("swing_right", structure.swing_right, 1, 60));
    structure.order_block_lookback =
        static_cast<int>(t.integer("order_block_lookback", structure.order_block_lookback, 1, MarketStructure::kRing - 1));
    structure.fvg_min_pct = t.real("fvg_min_pct", structure.fvg_min_pct, 0.0, 100.0);
    entry = t.choice<StructureEntry>("entry", entry,
                                     {{"choch", StructureEntry::choch}, {"bos", StructureEntry::bos}, {"both", StructureEntry::both}});
    reward_risk = t.real("reward_risk", reward_risk, 0.1, 100.0);
    exit_on_break = t.boolean("exit_on_break", exit_on_break);
    intent_timeout_bars = static_cast<int>(t.integer("intent_timeout_bars", intent_timeout_bars, 1, 1000));
  }
  void validate() const {
    common.validate("market-structure");
    candles.validate();
    if (candles.timeframe_count != 1) throw Error("market-structure config: timeframes_s: exactly one timeframe");
    structure.validate();
    if (!(reward_risk > 0.0)) throw Error("market-structure config: reward_risk: must be > 0");
    if (intent_timeout_bars < 1) throw Error("market-structure config: intent_timeout_bars: must be >= 1");
  }
};

class MarketStructureStrategy {
 public:
  static constexpr std::string_view kName = "market-structure";  // kind = "market-structure"
  static constexpr std::string_view kSummary =
      "swing points, break of structure / change of character, order blocks, fair-value gaps: trade the breaks";
  using Config = MarketStructureStrategyConfig;

  explicit MarketStructureStrategy(const Config& config)
      : config_((config.validate(), config)),
        structure_(config.structure),
        trade_bars_(config.candles),
        candle_bars_(config.candles) {}

  void on_book(const EventHeader&, const BookTop&, IntentBuffer&) noexcept {}
  void on_trade(const EventHeader& h, const Trade& trade, IntentBuffer& out) noexcept {
    if (h.instrument != config_.common.instrument || config_.bar_source != BarSource::trades) return;
    (void)trade_bars_.on_trade(event_time_ns(h), trade.price, trade.qty, trade.aggressor,
                               [&](const ClosedBar& b) { on_bar(b.bar, h.recv_tsc, out); });
  }
  void on_candle(const EventHeader& h, const Candle& candle, IntentBuffer& out) noexcept {
    if (h.instrument != config_.common.instrument || config_.bar_source != BarSource::venue_candles) return;
    (void)candle_bars_.on_candle(h.venue_time_ns, h.aux, candle,
                                 [&](const ClosedBar& b) { on_bar(b.bar, h.recv_tsc, out); });
  }
  void on_fill(const Fill& fill, IntentBuffer&) noexcept {
    if (fill.strategy_id != config_.common.strategy_id || fill.instrument != config_.common.instrument) return;
    position_.on_fill(fill.side, fill.qty);
    pending_bars_ = 0;
  }

  void on_bar(const Bar& bar, std::uint64_t tsc, IntentBuffer& out) noexcept {
    const StructureUpdate u = structure_.update(bar);
    log(u, bar);
    if (pending_bars_ > 0) {
      --pending_bars_;
      return;
    }
    if (u.brk == StructureBreak::none) return;
    const bool up = u.direction == Trend::up;
    const auto& c = config_.common;
    if (!position_.flat()) {
      if (config_.exit_on_break && (up ? position_.short_() : position_.long_())) {
        const Side side = up ? Side::buy : Side::sell;
        out.push(intent(side, IntentReason::signal_exit, true, position_.net().abs(), bar.close, Price{}, Price{}, tsc));
        pending_bars_ = config_.intent_timeout_bars;
      }
      return;
    }
    const bool wanted = config_.entry == StructureEntry::both ||
                        (config_.entry == StructureEntry::choch) == (u.brk == StructureBreak::choch);
    if (!wanted) return;
    const SwingPoint& opposite = up ? structure_.swing_low() : structure_.swing_high();
    const Zone& block = structure_.order_block(u.direction);
    const double stop = u.order_block ? (up ? block.low : block.high) : opposite.valid ? opposite.price : 0.0;
    if (!(up ? stop > 0.0 && stop < bar.close : stop > bar.close)) {
      ENIGMA_LOG_INFO("strategy", "structure_skip strategy={} direction={} close={} stop={} bar_time={}", c.strategy_id,
                      LogLiteral{to_string(u.direction)}, bar.close, stop, bar.time_ns);
      return;
    }
    const double tp = bar.close + (bar.close - stop) * config_.reward_risk;
    const Side side = up ? Side::buy : Side::sell;
    const Rounding passive = up ? Rounding::down : Rounding::up;
    out.push(intent(side, IntentReason::signal_entry, false, c.order_qty, bar.close, price_on_tick(stop, c.tick, passive),
                    price_on_tick(tp, c.tick, Rounding::nearest), tsc));
    pending_bars_ = config_.intent_timeout_bars;
  }

  [[nodiscard]] std::uint16_t id() const noexcept { return config_.common.strategy_id; }
  [[nodiscard]] InstrumentId instrument() const noexcept { return config_.common.instrument; }
  [[nodiscard]] const MarketStructure& structure() const noexcept { return structure_; }
  [[nodiscard]] const PositionTracker& position() const noexcept { return position_; }

 private:
  [[nodiscard]] OrderIntent intent(Side side, IntentReason reason, bool reduce_only, Qty qty, double close, Price stop,
                                   Price tp, std::uint64_t tsc) const noexcept {
    const auto& c = config_.common;  // limit 0: a market order
    return make_intent(c, side, reason, reduce_only, qty, Price{}, price_on_tick(close, c.tick, Rounding::nearest), stop, tp, tsc);
  }

  // One line per break and per reported gap (the swings at debug level).
  void log(const StructureUpdate& u, const Bar& bar) const noexcept {
    const std::uint16_t id = config_.common.strategy_id;
    if (u.swing_high)
      ENIGMA_LOG_DEBUG("strategy", "swing strategy={} kind=high price={} bar_time={}", id, structure_.swing_high().price,
                       structure_.swing_high().time_ns);
    if (u.swing_low)
      ENIGMA_LOG_DEBUG("strategy", "swing strategy={} kind=low price={} bar_time={}", id, structure_.swing_low().price,
                       structure_.swing_low().time_ns);
    if (u.brk != StructureBreak::none) {
      const Zone& b = structure_.order_block(u.direction);
      ENIGMA_LOG_INFO("strategy",
                      "structure_break strategy={} kind={} direction={} level={} close={} bar_time={} "
                      "order_block_low={} order_block_high={} order_block_time={}",
                      id, LogLiteral{to_string(u.brk)}, LogLiteral{to_string(u.direction)}, u.level, bar.close,
                      bar.time_ns, u.order_block ? b.low : 0.0, u.order_block ? b.high : 0.0,
                      u.order_block ? b.time_ns : std::int64_t{0});
    }
    if (u.gap != Trend::none) {
      const Zone& g = structure_.fair_value_gap(u.gap);
      ENIGMA_LOG_INFO("strategy", "fair_value_gap strategy={} direction={} low={} high={} bar_time={}", id,
                      LogLiteral{to_string(u.gap)}, g.low, g.high, bar.time_ns);
    }
  }

  Config config_;
  MarketStructure structure_;
  TradeBarBuilder trade_bars_;
  CandleResampler candle_bars_;
  PositionTracker position_;
  int pending_bars_ = 0;
};

ENIGMA_REGISTER_STRATEGY(MarketStructureStrategy);

}  // namespace enigma::strategy
