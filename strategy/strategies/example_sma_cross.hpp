// Example strategy (README "Add a strategy"): a moving-average cross of trade prices, long only.
//
// Every trade of its instrument enters a window of the last `slow` trade prices. Once the window is full, the
// fast mean (last `fast` prices) against the slow mean (all `slow`) gives a side: above, below or equal.
//   side turns from below to above (equal keeps the last side) and not holding -> market buy of order_qty,
//     stop = price - stop_ticks, take-profit = price + take_profit_ticks;
//   side turns from above to below and holding -> reduce-only market sell of order_qty.
// "Holding" is what it asked for, not its fills: the intents follow from the trade tape alone.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/events.hpp"
#include "strategy/intent.hpp"
#include "strategy/registry.hpp"

namespace enigma::strategy {

struct SmaCrossConfig {
  StrategyCommonConfig common{};  // id, instrument, order_qty, tick, lot: filled by the engine
  int fast = 5;                   // trades in the fast mean
  int slow = 20;                  // trades in the slow mean (at most kMaxWindow)
  std::int64_t stop_ticks = 2000;
  std::int64_t take_profit_ticks = 4000;
  static constexpr int kMaxWindow = 1024;

  // [strategy.sma_cross]: every key with its default and range; errors name file, line and key.
  void read(config::TableReader& t) {
    fast = static_cast<int>(t.integer("fast", fast, 1, kMaxWindow - 1));
    slow = static_cast<int>(t.integer("slow", slow, 2, kMaxWindow));
    stop_ticks = t.integer("stop_ticks", stop_ticks, 1, 10'000'000);
    take_profit_ticks = t.integer("take_profit_ticks", take_profit_ticks, 1, 10'000'000);
    if (fast >= slow) t.fail("fast", "fast must be below slow");
  }
  void validate() const {
    common.validate("sma-cross");
    if (fast < 1 || fast >= slow || slow > kMaxWindow) throw Error("sma-cross config: fast: must be in [1, slow)");
  }
};

class SmaCross {
 public:
  static constexpr std::string_view kName = "sma-cross";  // kind = "sma-cross"
  static constexpr std::string_view kSummary = "example: fast/slow moving-average cross of trade prices, long only";
  using Config = SmaCrossConfig;

  explicit SmaCross(const Config& config) : config_((config.validate(), config)) {}

  void on_book(const EventHeader&, const BookTop&, IntentBuffer&) noexcept {}
  void on_candle(const EventHeader&, const Candle&, IntentBuffer&) noexcept {}
  void on_fill(const Fill&, IntentBuffer&) noexcept {}
  void on_trade(const EventHeader& h, const Trade& trade, IntentBuffer& out) noexcept {
    if (h.instrument != config_.common.instrument) return;
    prices_[count_ % Config::kMaxWindow] = trade.price.raw();
    ++count_;
    if (count_ < static_cast<std::uint64_t>(config_.slow)) return;
    // fast mean vs slow mean, exactly: sum_fast * slow vs sum_slow * fast on the fixed-point prices.
    __int128 sum_fast = 0;
    __int128 sum_slow = 0;
    for (int i = 1; i <= config_.slow; ++i) {
      const std::int64_t p = prices_[(count_ - static_cast<std::uint64_t>(i)) % Config::kMaxWindow];
      sum_slow += p;
      if (i <= config_.fast) sum_fast += p;
    }
    const __int128 diff = sum_fast * config_.slow - sum_slow * config_.fast;
    const int side = diff > 0 ? 1 : (diff < 0 ? -1 : side_);
    const bool up = side_ < 0 && side > 0;
    const bool down = side_ > 0 && side < 0;
    side_ = side;
    const StrategyCommonConfig& c = config_.common;
    if (up && !holding_) {
      OrderIntent i = intent(h, Side::buy, IntentReason::signal_entry, false);
      i.entry = trade.price;
      i.stop = trade.price - c.tick * config_.stop_ticks;
      i.take_profit = trade.price + c.tick * config_.take_profit_ticks;
      holding_ = out.push(i);
    } else if (down && holding_) {
      holding_ = !out.push(intent(h, Side::sell, IntentReason::signal_exit, true));
    }
  }

  [[nodiscard]] std::uint16_t id() const noexcept { return config_.common.strategy_id; }
  [[nodiscard]] InstrumentId instrument() const noexcept { return config_.common.instrument; }

 private:
  // A market order (limit 0) of order_qty for this strategy and instrument.
  [[nodiscard]] OrderIntent intent(const EventHeader& h, Side side, IntentReason reason,
                                   bool reduce_only) const noexcept {
    OrderIntent i{};
    i.trigger_tsc = h.recv_tsc;
    i.qty = config_.common.order_qty;
    i.instrument = config_.common.instrument;
    i.strategy_id = config_.common.strategy_id;
    i.side = side;
    i.reason = reason;
    i.reduce_only = reduce_only;
    return i;
  }

  Config config_;
  std::array<std::int64_t, Config::kMaxWindow> prices_{};  // ring of the last trade prices (raw fixed-point)
  std::uint64_t count_ = 0;
  int side_ = 0;  // +1 fast above slow, -1 below, 0 not yet known
  bool holding_ = false;
};

ENIGMA_REGISTER_STRATEGY(SmaCross);

}  // namespace enigma::strategy
