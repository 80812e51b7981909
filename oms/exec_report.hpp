// Normalized execution reports: what every venue gateway (and the simulated exchange) turns its order
// updates into, so the order state machine sees one format.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "core/events.hpp"
#include "core/fixed_point.hpp"
#include "core/instrument.hpp"
#include "oms/ids.hpp"

namespace enigma::oms {

// Order lifecycle states. Terminal: filled, canceled, rejected, expired.
enum class OrderStatus : std::uint8_t {
  new_order = 0,     // created locally, not sent
  pending_new,       // sent, no answer yet
  accepted,          // acknowledged by the venue, resting
  partially_filled,
  filled,
  pending_cancel,    // cancel sent, no answer yet
  canceled,
  rejected,
  expired,
  unknown,           // timeout or 5xx on a request: resolve by querying the client order id
};
[[nodiscard]] std::string_view to_string(OrderStatus s) noexcept;
[[nodiscard]] constexpr bool is_terminal(OrderStatus s) noexcept {
  return s == OrderStatus::filled || s == OrderStatus::canceled || s == OrderStatus::rejected ||
         s == OrderStatus::expired;
}
// Working = may still trade at the venue (counts against open-order limits, is canceled by a kill switch).
[[nodiscard]] constexpr bool is_working(OrderStatus s) noexcept {
  return s == OrderStatus::pending_new || s == OrderStatus::accepted || s == OrderStatus::partially_filled ||
         s == OrderStatus::pending_cancel || s == OrderStatus::unknown;
}

enum class ExecKind : std::uint8_t {
  accepted = 0,     // venue acknowledged the order
  fill,             // a trade: last_qty at last_px; cum_qty is the venue's cumulative filled qty
  canceled,
  rejected,         // the order was rejected (reason says why)
  expired,          // IOC/FOK remainder, GTD, venue-side expiry
  cancel_rejected,  // our cancel was refused (order already done or unknown)
  triggered,        // a stop / take-profit order's trigger fired (it now works as a market order)
  status,           // answer to a query by client order id: `status` and `cum_qty` are authoritative
};
[[nodiscard]] std::string_view to_string(ExecKind k) noexcept;

enum class Reason : std::uint8_t {
  none = 0,
  post_only_would_cross,
  insufficient_margin,
  fok_unfillable,
  ioc_no_liquidity,
  reduce_only_would_increase,
  slippage_exceeded,
  insufficient_depth,  // the book has fewer levels than the pricing rule needs
  order_not_found,    // query or cancel found no such order (never reached the venue)
  invalid_order,      // qty/price/lot/tick rules
  venue_error,
  timeout,
  canceled_by_oco,    // the other leg of a one-cancels-other pair filled or triggered
  kill_switch,
  rate_limited,       // refused locally: the venue's request budget, its Retry-After or its ban (live)
};
[[nodiscard]] std::string_view to_string(Reason r) noexcept;

struct ExecReport {
  ClientOrderId client_id;
  VenueOrderId venue_order_id;
  Qty cum_qty;                 // venue cumulative filled qty after this report (monotone at the venue)
  Price last_px;               // fill price (fill) / average price (status), zero otherwise
  Qty last_qty;                // this fill's qty (fill), zero otherwise
  Notional fee;                // fill: this fill's fee in quote currency, negative = rebate; status: the
                               // order's cumulative fee at the venue where its answer gives one, or as
                               // priced (fee_priced); 0: none
  std::uint64_t venue_seq;     // venue's per-order or per-stream sequence (informational)
  std::int64_t venue_time_ns;  // venue (or simulated) time
  InstrumentId instrument;
  ExecKind kind;
  OrderStatus status;          // for ExecKind::status: the venue's view; otherwise informational
  Reason reason;
  Side side;
  bool maker;                  // the fill provided liquidity
  // Status only: the venue's answer has no fee (Binance, KuCoin Futures), so the decoder priced the order's
  // whole filled value at the account's rate for the order's liquidity (a limit order rests: maker; any
  // other, taker). Fills missed on the stream then book their share of it, not `fee` less what ours paid
  // (that would charge the missed part at the resting rate for fills that took liquidity on arrival).
  bool fee_priced;
};
static_assert(std::is_trivially_copyable_v<ExecReport>, "reports are copied through rings and journals");
// The journal stores reports as their bytes (oms/journal.cpp): fee_priced took padding, the size is unchanged.
static_assert(sizeof(ExecReport) == 144, "a change of ExecReport's size changes the journal's record format");

}  // namespace enigma::oms
