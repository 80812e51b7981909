// Liquidity hunter (issue 15 item 4): large resting orders ("walls") in the visible book, and what happens to
// them: eaten by trades and broken (follow the break), pulled without trading (follow the side the wall was
// holding back), or absorbing trades while it holds (fade off the wall).
//
// The book is the top `depth_levels` levels of each side (best first) that on_book shows; n = how many there are.
// A level of qty q on a side is a wall when q >= min_wall_qty and q * (n - 1) >= wall_mult * (sum of the other
// n - 1 levels' qty), i.e. q is at least wall_mult times their mean (n >= 2). Each side tracks at most one wall,
// by price P, with Q = the most qty seen at P while tracked and T = the qty of the trades printed at exactly P
// since it was first seen. On a book update, for each side (bids first):
//   tracked, P behind the last of the n levels (or the side is empty): out of sight, forgotten, no signal;
//   tracked, q = the qty at P among the n levels (0 when no level is at P):
//     pulled:   P is behind the best level (best bid > P for a bid wall, best ask < P for an ask wall: levels in
//               front still stand, so no trade can have reached it) and (Q - q) - T >= pull_fraction * Q: the
//               qty left without trading -> signal away from the wall's side (bid wall: sell, ask wall: buy);
//               forgotten. (Not at the touch: Binance's trade stream often lags the depth diff that shows the
//               same trade, so a drop at the touch cannot be told from a fill when it is seen.)
//     absorbed: otherwise, not yet absorbed, absorb_qty > 0, T >= absorb_qty and the level at P is still a wall
//               -> signal off the wall (bid wall: buy, ask wall: sell); once per wall, which stays tracked;
//     then Q = max(Q, q);
//   untracked (also just forgotten): the largest wall among the n levels (the nearer the touch on a tie) starts
//   being tracked (Q = its qty, T = 0).
// The bid side's signal, then the ask side's, acts (below).
// On a trade of the instrument at price p, for each tracked wall (bid first): p == P adds the trade's qty to T;
// p through P (below a bid wall, above an ask wall) ends it: eaten when T >= eat_fraction * Q -> signal in the
// break's direction (bid wall: sell, ask wall: buy); forgotten either way.
// A signal while fewer than `cooldown_trades` trades have printed since the last intent does nothing; before the
// first trade there is no reference price and a signal does nothing. Otherwise, flat: a market entry of
// order_qty on its side, stop / take-profit stop_ticks / take_profit_ticks from the reference price (the last
// trade's price; the OMS holds the bracket); holding the opposite side: a reduce-only market exit; holding its
// side: nothing. "Holding" is what it asked for, followed on the tape alone: a position counts as closed at the
// first later trade priced at or through its stop or take-profit, or at the exit intent. Every reason is
// signal_entry / signal_exit. Exact fixed-point throughout (128-bit products); fixed state, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/events.hpp"
#include "strategy/intent.hpp"
#include "strategy/order_flow.hpp"
#include "strategy/registry.hpp"
#include "strategy/strategies/common.hpp"

namespace enigma::strategy {

struct LiquidityHunterConfig {
  StrategyCommonConfig common{};  // id, instrument, order_qty, tick, lot: filled by the engine
  // The keys of [strategy.liquidity_hunter], default first, then the range:
  int depth_levels = 10;                   // 10, [2, 10]: book levels per side looked at (the engine shows 10)
  Rate wall_mult = Rate::from_units(10);   // "10", [1, 1e6]: a wall is this many times the others' mean qty
  Qty min_wall_qty = Qty::from_units(10);  // "10", [0, 1e6]: and at least this large
  Rate eat_fraction = Rate::from_raw(Rate::kScale / 2);   // "0.5", (0, 1]: of its peak traded before the break
  Rate pull_fraction = Rate::from_raw(Rate::kScale / 2);  // "0.5", (0, 1]: of its peak gone without trading
  Qty absorb_qty = Qty::from_units(3);   // "3", [0, 1e6]: traded at a standing wall; 0 = no absorption signals
  std::int64_t stop_ticks = 400;         // 400, [1, 1e7]: stop this many ticks against the reference price
  std::int64_t take_profit_ticks = 800;  // 800, [1, 1e7]: take-profit this many ticks in favour
  std::int64_t cooldown_trades = 20;     // 20, [0, 1e9]: trades after an intent during which signals do nothing
  static constexpr int kMaxDepth = 10;

  // [strategy.liquidity_hunter]: every key with its default and range; errors name file, line and key.
  void read(config::TableReader& t) {
    depth_levels = static_cast<int>(t.integer("depth_levels", depth_levels, 2, kMaxDepth));
    wall_mult = t.decimal<Rate>("wall_mult", wall_mult, Rate::from_units(1), Rate::from_units(1'000'000));
    min_wall_qty = t.decimal<Qty>("min_wall_qty", min_wall_qty, Qty{}, Qty::from_units(1'000'000));
    eat_fraction = t.decimal<Rate>("eat_fraction", eat_fraction, Rate::from_raw(1), Rate::from_units(1));
    pull_fraction = t.decimal<Rate>("pull_fraction", pull_fraction, Rate::from_raw(1), Rate::from_units(1));
    absorb_qty = t.decimal<Qty>("absorb_qty", absorb_qty, Qty{}, Qty::from_units(1'000'000));
    stop_ticks = t.integer("stop_ticks", stop_ticks, 1, 10'000'000);
    take_profit_ticks = t.integer("take_profit_ticks", take_profit_ticks, 1, 10'000'000);
    cooldown_trades = t.integer("cooldown_trades", cooldown_trades, 0, 1'000'000'000);
  }
  void validate() const {
    common.validate("liquidity-hunter");
    if (depth_levels < 2 || depth_levels > kMaxDepth)
      throw Error("liquidity-hunter config: depth_levels: must be in [2, 10]");
    if (wall_mult < Rate::from_units(1)) throw Error("liquidity-hunter config: wall_mult: must be at least 1");
    if (min_wall_qty.raw() < 0) throw Error("liquidity-hunter config: min_wall_qty: must be 0 or above");
    if (eat_fraction.raw() <= 0 || eat_fraction > Rate::from_units(1))
      throw Error("liquidity-hunter config: eat_fraction: must be in (0, 1]");
    if (pull_fraction.raw() <= 0 || pull_fraction > Rate::from_units(1))
      throw Error("liquidity-hunter config: pull_fraction: must be in (0, 1]");
    if (absorb_qty.raw() < 0) throw Error("liquidity-hunter config: absorb_qty: must be 0 or above");
    if (stop_ticks < 1 || take_profit_ticks < 1)
      throw Error("liquidity-hunter config: stop_ticks, take_profit_ticks: must be at least 1");
    if (cooldown_trades < 0) throw Error("liquidity-hunter config: cooldown_trades: must be 0 or above");
  }
};

class LiquidityHunter {
 public:
  static constexpr std::string_view kName = "liquidity-hunter";  // kind = "liquidity-hunter"
  static constexpr std::string_view kSummary =
      "book walls: follow one eaten through or pulled without trading, fade one absorbing trades while it holds";
  using Config = LiquidityHunterConfig;

  explicit LiquidityHunter(const Config& config) : config_((config.validate(), config)) {}

  void on_candle(const EventHeader&, const Candle&, IntentBuffer&) noexcept {}
  void on_fill(const Fill&, IntentBuffer&) noexcept {}

  void on_book(const EventHeader& h, const BookTop& book, IntentBuffer& out) noexcept {
    if (h.instrument != config_.common.instrument) return;
    const int bid_signal = update_side(walls_[0], book.bids, false);
    const int ask_signal = update_side(walls_[1], book.asks, true);
    if (bid_signal != 0) act(h, bid_signal, out);
    if (ask_signal != 0) act(h, ask_signal, out);
  }

  void on_trade(const EventHeader& h, const Trade& trade, IntentBuffer& out) noexcept {
    if (h.instrument != config_.common.instrument) return;
    const std::int64_t p = trade.price.raw();
    // The bracket the OMS holds: a trade at or through the stop or take-profit closes the position.
    if ((holding_ > 0 && (p <= stop_ || p >= take_profit_)) || (holding_ < 0 && (p >= stop_ || p <= take_profit_)))
      holding_ = 0;
    last_price_ = p;
    ++trades_;
    int signals[2] = {0, 0};
    for (int s = 0; s < 2; ++s) {
      Wall& w = walls_[s];
      if (!w.tracked) continue;
      const bool ask = s == 1;
      if (p == w.price) {
        w.traded += trade.qty.raw();
      } else if (ask ? p > w.price : p < w.price) {
        if (at_least(w.traded, config_.eat_fraction, w.peak)) signals[s] = ask ? 1 : -1;
        w.tracked = false;
      }
    }
    for (const int s : signals)
      if (s != 0) act(h, s, out);
  }

  [[nodiscard]] std::uint16_t id() const noexcept { return config_.common.strategy_id; }
  [[nodiscard]] InstrumentId instrument() const noexcept { return config_.common.instrument; }

 private:
  struct Wall {
    bool tracked = false;
    bool absorbed = false;    // its absorption signal was given
    std::int64_t price = 0;   // raw fixed-point
    std::int64_t peak = 0;    // Q: most qty seen at the price while tracked (raw)
    std::int64_t traded = 0;  // T: trade qty at exactly the price since tracked (raw)
  };

  // a >= fraction * b, exactly (fraction in Rate's scale).
  [[nodiscard]] static bool at_least(std::int64_t a, Rate fraction, std::int64_t b) noexcept {
    return static_cast<int128>(a) * Rate::kScale >= static_cast<int128>(fraction.raw()) * b;
  }

  // Whether levels[i] is a wall among levels[0, n): q >= min_wall_qty and q * (n - 1) >= wall_mult * others.
  [[nodiscard]] bool is_wall(const PriceLevel* levels, std::size_t n, std::size_t i, int128 total) const noexcept {
    const std::int64_t q = levels[i].qty.raw();
    if (n < 2 || q < config_.min_wall_qty.raw()) return false;
    const int128 others = total - q;
    return static_cast<int128>(q) * static_cast<int128>(n - 1) * Rate::kScale >=
           static_cast<int128>(config_.wall_mult.raw()) * others;
  }

  // One side's book update (see the header comment); returns +1 buy, -1 sell or 0.
  int update_side(Wall& w, std::span<const PriceLevel> side, bool ask) noexcept {
    const std::size_t n = side.size() < static_cast<std::size_t>(config_.depth_levels)
                              ? side.size()
                              : static_cast<std::size_t>(config_.depth_levels);
    const PriceLevel* lv = side.data();
    int128 total = 0;
    for (std::size_t i = 0; i < n; ++i) total += lv[i].qty.raw();
    // "behind" = further from the touch than: lower for bids, higher for asks.
    const auto behind = [ask](std::int64_t a, std::int64_t b) noexcept { return ask ? a > b : a < b; };
    int signal = 0;
    if (w.tracked) {
      if (n == 0 || behind(w.price, lv[n - 1].price.raw())) {
        w.tracked = false;  // out of sight
      } else {
        std::int64_t q = 0;
        std::size_t at = n;
        for (std::size_t i = 0; i < n; ++i)
          if (lv[i].price.raw() == w.price) q = lv[i].qty.raw(), at = i;
        if (behind(w.price, lv[0].price.raw()) && at_least(w.peak - q - w.traded, config_.pull_fraction, w.peak)) {
          signal = ask ? 1 : -1;  // pulled
          w.tracked = false;
        } else {
          if (!w.absorbed && config_.absorb_qty.raw() > 0 && w.traded >= config_.absorb_qty.raw() && at < n &&
              is_wall(lv, n, at, total)) {
            signal = ask ? -1 : 1;  // absorbed
            w.absorbed = true;
          }
          if (q > w.peak) w.peak = q;
        }
      }
    }
    if (!w.tracked) {
      std::size_t best = n;
      for (std::size_t i = 0; i < n; ++i)
        if (is_wall(lv, n, i, total) && (best == n || lv[i].qty.raw() > lv[best].qty.raw())) best = i;
      if (best < n) w = Wall{true, false, lv[best].price.raw(), lv[best].qty.raw(), 0};
    }
    return signal;
  }

  void act(const EventHeader& h, int signal, IntentBuffer& out) noexcept {
    if (trades_ == 0) return;  // no reference price yet
    if (acted_ && trades_ - last_intent_ < static_cast<std::uint64_t>(config_.cooldown_trades)) return;
    const StrategyCommonConfig& c = config_.common;
    const Side side = signal > 0 ? Side::buy : Side::sell;
    if (holding_ == 0) {
      const Price ref = Price::from_raw(last_price_);
      OrderIntent i = market_intent(config_.common, h, side, IntentReason::signal_entry, false);
      i.entry = ref;
      i.stop = ref - c.tick * (config_.stop_ticks * signal);
      i.take_profit = ref + c.tick * (config_.take_profit_ticks * signal);
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
    last_intent_ = trades_;
  }


  Config config_;
  Wall walls_[2]{};              // [0] bid side, [1] ask side
  std::uint64_t trades_ = 0;     // trades of the instrument seen
  std::int64_t last_price_ = 0;  // the last trade's price, raw
  int holding_ = 0;              // +1 long, -1 short, 0 flat (as asked, see above)
  std::int64_t stop_ = 0;        // the held position's bracket, raw prices
  std::int64_t take_profit_ = 0;
  bool acted_ = false;             // an intent was sent (last_intent_ is set)
  std::uint64_t last_intent_ = 0;  // trades_ at the last intent
};

ENIGMA_REGISTER_STRATEGY(LiquidityHunter);

}  // namespace enigma::strategy
