// Order-book-imbalance taker: crosses the spread when resting size is heavily one-sided.
//
// On each book update of its instrument (top-N levels):
//   flat, no intent pending, not cooling down, spread <= max_spread_bps, and the top-`depth` imbalance
//   >= entry_imbalance (<= -entry_imbalance) for `confirm_updates` consecutive updates -> buy (sell) with a
//   marketable limit `slippage_ticks` through the far touch; stop / take-profit suggestions in ticks from it.
//   long and imbalance <= -exit_imbalance, or short and imbalance >= exit_imbalance -> reduce-only exit at
//   the far touch (+ slippage).
// After every intent it waits `cooldown_ns` (book time) before the next one.
#pragma once

#include <cstdint>

#include "core/events.hpp"
#include "strategy/intent.hpp"
#include "strategy/order_flow.hpp"
#include "strategy/registry.hpp"
#include "strategy/strategies/common.hpp"

namespace enigma::strategy {

struct ImbalanceTakerConfig {
  StrategyCommonConfig common{};
  std::uint32_t depth = 5;
  double entry_imbalance = 0.6;
  double exit_imbalance = 0.0;   // in [0, entry_imbalance)
  std::uint32_t confirm_updates = 3;
  double max_spread_bps = 5.0;
  std::int64_t cooldown_ns = 1'000'000'000;
  std::int64_t pending_timeout_ns = 5'000'000'000;  // forget an unfilled intent after this long
  std::uint32_t slippage_ticks = 1;
  std::uint32_t stop_ticks = 50;
  std::uint32_t take_profit_ticks = 50;

  void read(config::TableReader& t);  // [strategy.imbalance]
  void validate() const;  // throws enigma::Error naming the field
};

class ImbalanceTaker {
 public:
  static constexpr std::string_view kName = "imbalance";
  static constexpr std::string_view kSummary = "top-of-book imbalance taker: crosses the spread when resting size is one-sided";
  using Config = ImbalanceTakerConfig;
  explicit ImbalanceTaker(const ImbalanceTakerConfig& config);  // throws enigma::Error

  void on_book(const EventHeader& h, const BookTop& book, IntentBuffer& out) noexcept;
  void on_trade(const EventHeader& h, const Trade& trade, IntentBuffer& out) noexcept {}
  void on_candle(const EventHeader& h, const Candle& candle, IntentBuffer& out) noexcept {}
  void on_fill(const Fill& fill, IntentBuffer& out) noexcept;

  [[nodiscard]] std::uint16_t id() const noexcept { return config_.common.strategy_id; }
  [[nodiscard]] InstrumentId instrument() const noexcept { return config_.common.instrument; }
  [[nodiscard]] const PositionTracker& position() const noexcept { return position_; }
  [[nodiscard]] double last_imbalance() const noexcept { return last_imbalance_; }

 private:
  ImbalanceTakerConfig config_;
  PositionTracker position_;
  double last_imbalance_ = 0.0;
  std::uint32_t streak_ = 0;  // consecutive updates beyond the entry threshold (signed by side)
  int streak_side_ = 0;
  std::int64_t cooldown_until_ns_ = 0;
  std::int64_t pending_until_ns_ = 0;  // an intent awaits its fill until then
};

ENIGMA_REGISTER_STRATEGY(ImbalanceTaker);

}  // namespace enigma::strategy
