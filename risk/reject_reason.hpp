// Why the risk gate refused an order (one code per control, printable for logs and the admin endpoint).
#pragma once

#include <cstdint>
#include <string_view>

namespace enigma::risk {

enum class RejectReason : std::uint8_t {
  none = 0,
  invalid_request,       // qty <= 0, negative price, leverage 0, unknown venue, strategy id out of range
  unknown_instrument,    // no limits configured for the instrument (limits are fixed before trading)
  unknown_order,         // modify/cancel of a client id that is not working
  kill_switch,           // kill switch latched for this order's venue/strategy/instrument
  halted,                // trading state HALTED: only cancels pass
  reducing_only,         // trading state REDUCING (set by a person): only exposure-reducing orders pass
  daily_drawdown,        // REDUCING because the daily drawdown limit was hit
  strategy_disabled,     // strategy disabled by a person
  execution_throttle,    // strategy disabled by the repeated-execution throttle (N fills in a window)
  consecutive_losses,    // strategy disabled after too many losing trades in a row
  circuit_open,          // circuit breaker OPEN: only exposure-reducing orders pass
  duplicate_client_id,   // client order id already used (working or recently sent)
  duplicate_order,       // same strategy/instrument/side/type/price/trigger/qty within the duplicate window
  no_reference_price,    // reference price missing (<= 0)
  price_collar,          // limit price too far from the reference price
  max_order_qty,
  max_order_notional,
  max_position,          // worst-case position (incl. working orders) above the instrument limit
  max_exposure,          // worst-case total exposure above the account limit
  max_open_orders,
  max_positions,         // would open one more concurrent position than allowed
  leverage_cap,          // leverage above the volatility-adjusted cap
  missing_stop_loss,     // leveraged opening order without a planned stop-loss
  liquidation_buffer,    // planned stop too close to the estimated liquidation price
  below_break_even,      // planned target does not cover fees at this leverage plus the buffer
  venue_rate_limit,      // venue message budget (submit/modify/cancel) exhausted
  strategy_rate_limit,   // strategy message budget exhausted
  off_lot,               // quantity is not a multiple of the instrument's lot size
  off_tick,              // limit or trigger price is not a multiple of the instrument's tick
  max_group_exposure,    // worst-case exposure of the instrument's correlation group above its cap
  correlated_exposure,   // worst-case exposure of the instruments now correlated with it above max_group_exposure
};
inline constexpr int kRejectReasonCount = 32;

[[nodiscard]] std::string_view to_string(RejectReason r) noexcept;

struct RiskDecision {
  RejectReason reason{RejectReason::none};
  [[nodiscard]] constexpr bool accepted() const noexcept { return reason == RejectReason::none; }
  constexpr explicit operator bool() const noexcept { return accepted(); }
};

}  // namespace enigma::risk
