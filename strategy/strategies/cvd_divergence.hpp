// CVD divergence (issue 15 item 4): price makes a new extreme that the cumulative volume delta does not
// confirm, with large trades against the move: a fade of the move.
//
// CVD is the running sum over the instrument's trades of +qty (buyer was the aggressor) or -qty (seller).
// On every trade, once `window_trades` trades came before it, with H / L the highest / lowest price of those
// `window_trades` previous trades and cvd(H) / cvd(L) the CVD just after the most recent of them at H / L:
//   bearish: price > H and CVD now <= cvd(H) - min_divergence, and (large_trade_qty = 0 or a seller-initiated
//            trade of qty >= large_trade_qty among this trade and the window) -> signal sell;
//   bullish: price < L and CVD now >= cvd(L) + min_divergence, and (large_trade_qty = 0 or such a
//            buyer-initiated trade) -> signal buy.
// A signal within `cooldown_trades` trades after the last intent does nothing. Otherwise, flat: a market entry
// of order_qty on its side, stop / take-profit stop_ticks / take_profit_ticks from the trade price (the OMS
// holds the bracket); holding the opposite side: a reduce-only market exit; holding its side: nothing.
// "Holding" is what it asked for, followed on the tape alone: a position counts as closed at the first later
// trade priced at or through its stop or take-profit, or at the exit intent. Exact fixed-point throughout.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/events.hpp"
#include "strategy/intent.hpp"
#include "strategy/registry.hpp"
#include "strategy/strategies/common.hpp"

namespace enigma::strategy {

struct CvdDivergenceConfig {
  StrategyCommonConfig common{};  // id, instrument, order_qty, tick, lot: filled by the engine
  int window_trades = 200;        // previous trades whose price high/low a new extreme must beat
  Qty min_divergence = Qty::from_raw(Qty::kScale / 2);  // CVD this far short of the previous extreme's (0.5)
  Qty large_trade_qty = Qty{};    // a trade against the move at least this large must be in the window; 0 = off
  std::int64_t stop_ticks = 400;
  std::int64_t take_profit_ticks = 800;
  std::int64_t cooldown_trades = 50;  // trades after an intent during which signals do nothing
  static constexpr int kMaxWindow = 2048;

  // [strategy.cvd_divergence]: every key with its default and range; errors name file, line and key.
  void read(config::TableReader& t) {
    window_trades = static_cast<int>(t.integer("window_trades", window_trades, 2, kMaxWindow));
    min_divergence = t.decimal<Qty>("min_divergence", min_divergence, Qty::from_raw(1), Qty::from_units(1'000'000));
    large_trade_qty = t.decimal<Qty>("large_trade_qty", large_trade_qty, Qty{}, Qty::from_units(1'000'000));
    stop_ticks = t.integer("stop_ticks", stop_ticks, 1, 10'000'000);
    take_profit_ticks = t.integer("take_profit_ticks", take_profit_ticks, 1, 10'000'000);
    cooldown_trades = t.integer("cooldown_trades", cooldown_trades, 0, 1'000'000'000);
  }
  void validate() const {
    common.validate("cvd-divergence");
    if (window_trades < 2 || window_trades > kMaxWindow)
      throw Error("cvd-divergence config: window_trades: must be in [2, 2048]");
    if (min_divergence.raw() <= 0) throw Error("cvd-divergence config: min_divergence: must be above 0");
    if (large_trade_qty.raw() < 0) throw Error("cvd-divergence config: large_trade_qty: must be 0 or above");
    if (stop_ticks < 1 || take_profit_ticks < 1)
      throw Error("cvd-divergence config: stop_ticks, take_profit_ticks: must be at least 1");
    if (cooldown_trades < 0) throw Error("cvd-divergence config: cooldown_trades: must be 0 or above");
  }
};

class CvdDivergence {
 public:
  static constexpr std::string_view kName = "cvd-divergence";  // kind = "cvd-divergence"
  static constexpr std::string_view kSummary =
      "fade a new price high/low of the last N trades that cumulative volume delta does not confirm";
  using Config = CvdDivergenceConfig;

  explicit CvdDivergence(const Config& config) : config_((config.validate(), config)) {}

  void on_book(const EventHeader&, const BookTop&, IntentBuffer&) noexcept {}
  void on_candle(const EventHeader&, const Candle&, IntentBuffer&) noexcept {}
  void on_fill(const Fill&, IntentBuffer&) noexcept {}
  void on_trade(const EventHeader& h, const Trade& trade, IntentBuffer& out) noexcept {
    if (h.instrument != config_.common.instrument) return;
    const std::int64_t p = trade.price.raw();
    const std::int64_t q = trade.qty.raw();
    const bool sold = trade.aggressor == Side::sell;
    // The bracket the OMS holds: a trade at or through the stop or take-profit closes the position.
    if ((holding_ > 0 && (p <= stop_ || p >= take_profit_)) || (holding_ < 0 && (p >= stop_ || p <= take_profit_)))
      holding_ = 0;
    cvd_ += sold ? -q : q;

    int signal = 0;  // -1 bearish divergence, +1 bullish
    const auto n = static_cast<std::uint64_t>(config_.window_trades);
    if (count_ >= n) {
      // The previous n trades, most recent first: the first strict new max/min is the latest trade at it.
      std::int64_t high = 0, low = 0;
      std::int64_t cvd_high = 0, cvd_low = 0;
      const std::int64_t large = config_.large_trade_qty.raw();
      bool large_sell = large == 0 || (sold && q >= large);  // this trade or one in the window
      bool large_buy = large == 0 || (!sold && q >= large);
      for (std::uint64_t i = 1; i <= n; ++i) {
        const Slot& s = ring_[(count_ - i) % Config::kMaxWindow];
        if (i == 1 || s.price > high) high = s.price, cvd_high = s.cvd;
        if (i == 1 || s.price < low) low = s.price, cvd_low = s.cvd;
        if (s.delta <= -large) large_sell = true;
        if (s.delta >= large) large_buy = true;
      }
      const std::int64_t min_div = config_.min_divergence.raw();
      if (p > high && cvd_ <= cvd_high - min_div && large_sell)
        signal = -1;
      else if (p < low && cvd_ >= cvd_low + min_div && large_buy)
        signal = 1;
    }
    ring_[count_ % Config::kMaxWindow] = Slot{p, cvd_, sold ? -q : q};
    const std::uint64_t index = count_++;

    if (signal == 0 || (acted_ && index - last_intent_ <= static_cast<std::uint64_t>(config_.cooldown_trades)))
      return;
    const StrategyCommonConfig& c = config_.common;
    const Side side = signal > 0 ? Side::buy : Side::sell;
    if (holding_ == 0) {
      OrderIntent i = market_intent(config_.common, h, side, IntentReason::signal_entry, false);
      i.entry = trade.price;
      i.stop = trade.price - c.tick * (config_.stop_ticks * signal);
      i.take_profit = trade.price + c.tick * (config_.take_profit_ticks * signal);
      if (!out.push(i)) return;
      holding_ = signal;
      stop_ = i.stop.raw();
      take_profit_ = i.take_profit.raw();
    } else if (holding_ == -signal) {
      if (!out.push(market_intent(config_.common, h, side, IntentReason::signal_exit, true))) return;
      holding_ = 0;
    } else {
      return;
    }
    acted_ = true;
    last_intent_ = index;
  }

  [[nodiscard]] std::uint16_t id() const noexcept { return config_.common.strategy_id; }
  [[nodiscard]] InstrumentId instrument() const noexcept { return config_.common.instrument; }

 private:
  struct Slot {
    std::int64_t price;  // raw fixed-point
    std::int64_t cvd;    // raw fixed-point quantity, just after this trade
    std::int64_t delta;  // +qty buyer-initiated, -qty seller-initiated
  };


  Config config_;
  std::array<Slot, Config::kMaxWindow> ring_{};  // the last trades of the instrument
  std::uint64_t count_ = 0;                      // trades seen
  std::int64_t cvd_ = 0;                         // cumulative volume delta, raw quantity
  int holding_ = 0;                              // +1 long, -1 short, 0 flat (as asked, see above)
  std::int64_t stop_ = 0;                        // the held position's bracket, raw prices
  std::int64_t take_profit_ = 0;
  bool acted_ = false;  // an intent was sent (last_intent_ is set)
  std::uint64_t last_intent_ = 0;
};

ENIGMA_REGISTER_STRATEGY(CvdDivergence);

}  // namespace enigma::strategy
