// Risk limits, fixed before trading starts (RELIABILITY.md: "Position, exposure and credit limits fixed
// before a strategy is deployed"). Validation happens here, once, never per order.
#pragma once

#include <cstdint>

#include "core/fixed_point.hpp"
#include "core/instrument.hpp"
#include "risk/circuit_breaker.hpp"
#include "risk/token_bucket.hpp"

namespace enigma::risk {

// Per-instrument limits and contract facts. An instrument without limits cannot be traded.
struct InstrumentLimits {
  Venue venue{Venue::unknown};            // where it trades (the emergency stop's close orders go there)
  Qty multiplier{Qty::from_units(1)};     // base currency per size unit (0.001 for KuCoin XBTUSDTM); > 0
  Price tick{Price::from_raw(1)};         // price increment: orders off it are refused (off_tick); > 0
  Qty lot{Qty::from_raw(1)};              // size increment: orders off it are refused (off_lot); > 0
  Qty max_order_qty{Qty::from_units(1)};  // per order, in size units; > 0
  Qty max_position_qty{Qty::from_units(1)};  // |position| incl. working orders, in size units; > 0
  Rate taker_fee{Rate::from_raw(6'000'000)};                 // 0.0006 (6 bp); in [0, 0.01]
  Rate maintenance_margin_rate{Rate::from_raw(50'000'000)};  // 0.005 (0.5 %); in [0, 0.5)
  std::uint16_t max_leverage{50};                            // 1..1000
  std::uint8_t group{0};  // correlation group (e.g. every BTC-quoted perpetual), 1..kMaxGroups-1; 0 = none
  // Throws enigma::Error naming the field ("risk.instrument[3].max_order_qty: must be > 0").
  void validate(InstrumentId id) const;
};

struct RiskConfig {
  // Table sizes (ids index fixed arrays).
  std::uint32_t max_instruments{1024};  // instrument ids 0..max_instruments-1; 1..65535
  std::uint16_t max_strategies{64};     // strategy ids 0..max_strategies-1; >= 1
  // Account-wide limits.
  std::uint32_t max_open_orders{256};          // working orders at once (also the kill-switch registry size)
  std::uint32_t max_concurrent_positions{5};   // instruments with a position or working orders; 0 = no limit
  std::uint32_t price_collar_bps{200};         // |limit - reference| / reference; 1..10000
  Notional max_order_notional{Notional::from_units(100'000)};
  Notional max_total_exposure{Notional::from_units(500'000)};  // <= 10^10 currency units
  // Worst-case exposure of each correlation group (instruments with the same InstrumentLimits::group);
  // 0 = no group cap.
  Notional max_group_exposure{};
  static constexpr std::uint8_t kMaxGroups = 16;
  // Rolling correlation of the instruments' returns (risk/correlation.hpp): correlation_window rows of
  // correlation_interval_ns; 0 = off. With it, an opening order's correlated group is its instrument plus
  // every other instrument holding a position or working orders whose correlation with it is at least
  // correlation_threshold: max_group_exposure (when > 0) caps that group's worst-case exposure
  // (correlated_exposure), and with correlation_sizing the entry's size is divided by the group's size.
  std::uint32_t correlation_window{0};
  std::int64_t correlation_interval_ns{60'000'000'000};
  double correlation_threshold{0.8};
  bool correlation_sizing{false};
  // Message budgets (RTS 6: submit, modify and cancel), per venue and per strategy.
  TokenBucketConfig venue_submit{100, 20};
  TokenBucketConfig venue_modify{100, 20};
  TokenBucketConfig venue_cancel{200, 50};
  TokenBucketConfig strategy_submit{20, 5};
  TokenBucketConfig strategy_modify{20, 5};
  TokenBucketConfig strategy_cancel{50, 20};
  // Repeated-execution throttle: this many fills of one strategy within the window disable it until a
  // person re-enables it.
  std::uint32_t max_fills_in_window{50};  // 1..kMaxFillsInWindow
  std::int64_t fill_window_ns{10'000'000'000};
  // Duplicate check: same strategy/instrument/side/price/qty within this window is refused.
  std::int64_t duplicate_window_ns{500'000'000};
  std::uint32_t recent_client_ids{4096};  // client ids remembered for the duplicate-id check; >= 1
  // Loss limits.
  Rate max_daily_drawdown{Rate::from_raw(500'000'000)};  // 0.05 = 5 % of start-of-day equity; (0, 1]
  std::uint32_t max_consecutive_losses{5};               // per strategy; >= 1
  // Leverage safety.
  Rate min_liquidation_buffer{Rate::from_raw(500'000'000)};  // 0.05: stop >= 5 % of the way from liq to entry
  bool require_stop_loss{true};                              // leveraged opening orders must carry one
  Rate break_even_buffer_pct{Rate::from_raw(500'000'000)};   // 0.05 % ROI on top of the fee round trip
  Rate reference_volatility{Rate::from_raw(200'000'000)};    // 0.02: leverage cap starts shrinking above it
  CircuitBreakerConfig breaker{};

  static constexpr std::uint32_t kMaxFillsInWindow = 1024;
  // Throws enigma::Error naming the first invalid field ("risk.max_open_orders: must be >= 1").
  void validate() const;
};

}  // namespace enigma::risk
