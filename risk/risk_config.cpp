#include "risk/risk_config.hpp"

#include <string>

#include "core/error.hpp"
#include "core/instrument.hpp"
#include "risk/order_request.hpp"
#include "risk/reject_reason.hpp"

namespace enigma::risk {

namespace {

[[noreturn]] void fail(const std::string& field, std::string_view why) {
  throw Error(field + ": " + std::string(why));
}

void check_bucket(const TokenBucketConfig& b, const char* name) {
  const std::string field = std::string("risk.") + name;
  if (b.per_second == 0) fail(field + ".per_second", "must be >= 1");
  if (b.burst == 0) fail(field + ".burst", "must be >= 1");
  if (b.burst > 1'000'000) fail(field + ".burst", "must be <= 1000000");
}

constexpr std::int64_t kMaxNotionalUnits = 10'000'000'000;  // 1e10: keeps limits inside the exposure arithmetic

}  // namespace

void InstrumentLimits::validate(InstrumentId id) const {
  const std::string p = "risk.instrument[" + std::to_string(id) + "].";
  if (multiplier.raw() <= 0) fail(p + "multiplier", "must be > 0");
  if (tick.raw() <= 0) fail(p + "tick", "must be > 0");
  if (lot.raw() <= 0) fail(p + "lot", "must be > 0");
  if (group >= RiskConfig::kMaxGroups) fail(p + "group", "must be < " + std::to_string(RiskConfig::kMaxGroups));
  if (max_order_qty.raw() <= 0) fail(p + "max_order_qty", "must be > 0");
  if (max_position_qty.raw() <= 0) fail(p + "max_position_qty", "must be > 0");
  if (taker_fee.raw() < 0 || taker_fee.raw() > Rate::kScale / 100) fail(p + "taker_fee", "must be in [0, 0.01]");
  if (maintenance_margin_rate.raw() < 0 || maintenance_margin_rate.raw() >= Rate::kScale / 2) {
    fail(p + "maintenance_margin_rate", "must be in [0, 0.5)");
  }
  if (max_leverage < 1 || max_leverage > 1000) fail(p + "max_leverage", "must be in 1..1000");
}

void RiskConfig::validate() const {
  if (max_instruments < 1 || max_instruments > 65535) fail("risk.max_instruments", "must be in 1..65535");
  if (max_strategies < 1) fail("risk.max_strategies", "must be >= 1");
  if (max_open_orders < 1 || max_open_orders > (1u << 24)) fail("risk.max_open_orders", "must be in 1..16777216");
  if (correlation_window == 1 || correlation_window > 100'000) fail("risk.correlation_window", "must be 0 (off) or in 2..100000");
  if (correlation_interval_ns <= 0) fail("risk.correlation_interval_s", "must be > 0");
  if (!(correlation_threshold >= -1.0 && correlation_threshold <= 1.0)) fail("risk.correlation_threshold", "must be in [-1, 1]");
  if (correlation_sizing && correlation_window == 0) fail("risk.correlation_sizing", "needs correlation_window > 0");
  if (price_collar_bps < 1 || price_collar_bps > 10'000) fail("risk.price_collar_bps", "must be in 1..10000");
  if (max_order_notional.raw() <= 0 || max_order_notional > Notional::from_units(kMaxNotionalUnits)) {
    fail("risk.max_order_notional", "must be in (0, 1e10]");
  }
  if (max_total_exposure.raw() <= 0 || max_total_exposure > Notional::from_units(kMaxNotionalUnits)) {
    fail("risk.max_total_exposure", "must be in (0, 1e10]");
  }
  check_bucket(venue_submit, "venue_submit");
  check_bucket(venue_modify, "venue_modify");
  check_bucket(venue_cancel, "venue_cancel");
  check_bucket(strategy_submit, "strategy_submit");
  check_bucket(strategy_modify, "strategy_modify");
  check_bucket(strategy_cancel, "strategy_cancel");
  if (max_fills_in_window < 1 || max_fills_in_window > kMaxFillsInWindow) {
    fail("risk.max_fills_in_window", "must be in 1.." + std::to_string(kMaxFillsInWindow));
  }
  if (fill_window_ns <= 0) fail("risk.fill_window_ns", "must be > 0");
  if (duplicate_window_ns < 0) fail("risk.duplicate_window_ns", "must be >= 0");
  if (recent_client_ids < 1 || recent_client_ids > (1u << 24)) fail("risk.recent_client_ids", "must be in 1..16777216");
  if (max_daily_drawdown.raw() <= 0 || max_daily_drawdown.raw() > Rate::kScale) {
    fail("risk.max_daily_drawdown", "must be in (0, 1]");
  }
  if (max_consecutive_losses < 1) fail("risk.max_consecutive_losses", "must be >= 1");
  if (min_liquidation_buffer.raw() < 0 || min_liquidation_buffer.raw() >= Rate::kScale) {
    fail("risk.min_liquidation_buffer", "must be in [0, 1)");
  }
  if (break_even_buffer_pct.raw() < 0 || break_even_buffer_pct > Rate::from_units(100)) {
    fail("risk.break_even_buffer_pct", "must be in [0, 100]");
  }
  if (reference_volatility.raw() <= 0) fail("risk.reference_volatility", "must be > 0");
  breaker.validate();  // names its own fields (risk.breaker.*)
}

std::string_view to_string(OrderType t) noexcept {
  switch (t) {
    case OrderType::limit: return "LIMIT";
    case OrderType::market: return "MARKET";
    case OrderType::stop_market: return "STOP_MARKET";
    case OrderType::take_profit_market: return "TAKE_PROFIT_MARKET";
    case OrderType::trailing_stop: return "TRAILING_STOP";
  }
  return "?";
}

std::string_view to_string(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::gtc: return "GTC";
    case TimeInForce::ioc: return "IOC";
    case TimeInForce::fok: return "FOK";
    case TimeInForce::post_only: return "POST_ONLY";
  }
  return "?";
}

std::string_view to_string(RejectReason r) noexcept {
  switch (r) {
    case RejectReason::none: return "none";
    case RejectReason::invalid_request: return "invalid_request";
    case RejectReason::unknown_instrument: return "unknown_instrument";
    case RejectReason::unknown_order: return "unknown_order";
    case RejectReason::kill_switch: return "kill_switch";
    case RejectReason::halted: return "halted";
    case RejectReason::reducing_only: return "reducing_only";
    case RejectReason::daily_drawdown: return "daily_drawdown";
    case RejectReason::strategy_disabled: return "strategy_disabled";
    case RejectReason::execution_throttle: return "execution_throttle";
    case RejectReason::consecutive_losses: return "consecutive_losses";
    case RejectReason::circuit_open: return "circuit_open";
    case RejectReason::duplicate_client_id: return "duplicate_client_id";
    case RejectReason::duplicate_order: return "duplicate_order";
    case RejectReason::no_reference_price: return "no_reference_price";
    case RejectReason::price_collar: return "price_collar";
    case RejectReason::max_order_qty: return "max_order_qty";
    case RejectReason::max_order_notional: return "max_order_notional";
    case RejectReason::max_position: return "max_position";
    case RejectReason::max_exposure: return "max_exposure";
    case RejectReason::max_open_orders: return "max_open_orders";
    case RejectReason::max_positions: return "max_positions";
    case RejectReason::leverage_cap: return "leverage_cap";
    case RejectReason::missing_stop_loss: return "missing_stop_loss";
    case RejectReason::liquidation_buffer: return "liquidation_buffer";
    case RejectReason::below_break_even: return "below_break_even";
    case RejectReason::off_lot: return "off_lot";
    case RejectReason::off_tick: return "off_tick";
    case RejectReason::max_group_exposure: return "max_group_exposure";
    case RejectReason::correlated_exposure: return "correlated_exposure";
    case RejectReason::venue_rate_limit: return "venue_rate_limit";
    case RejectReason::strategy_rate_limit: return "strategy_rate_limit";
  }
  return "?";
}

}  // namespace enigma::risk
