// Order state machine driven by normalized execution reports.
//
// Reports may arrive duplicated, out of order or not at all (a dropped websocket message, a reconnect).
// The rules that make apply() idempotent and order-insensitive:
//  * Filled qty is the max cumulative qty ever reported; it never goes down. A report whose cum_qty is
//    above the current filled qty implies fills we missed: the whole difference is booked (priced at the
//    report's last_px, our best estimate), so position qty always equals the order's filled qty.
//  * Terminal states (filled, canceled, rejected, expired) are terminal: a late fill after a cancel is
//    booked to filled qty but never resurrects the order.
//  * Among working states the status only moves forward (accepted never overwrites partially_filled).
//  * UNKNOWN (timeout / 5xx) leaves only through a venue answer: a status query, or any report that
//    proves what happened.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/fixed_point.hpp"
#include "oms/exec_report.hpp"
#include "oms/order_spec.hpp"

namespace enigma::oms {

// One order's full state; trivially copyable so it can be journaled and snapshotted by memcpy.
struct OrderState {
  OrderSpec spec;                   // what was asked for (spec.req.client_id identifies the order)
  VenueOrderId venue_order_id;
  Qty filled;                       // cumulative filled qty (max cum_qty seen)
  Notional filled_notional;         // sum of fill qty x price (average price = notional / filled)
  Notional fees;                    // sum of fees of applied fills (negative = rebates)
  std::uint64_t last_venue_seq{0};
  std::int64_t last_venue_time_ns{0};
  OrderStatus status{OrderStatus::new_order};
  OrderStatus status_before_cancel{OrderStatus::new_order};  // restored when a cancel is rejected
  Reason reason{Reason::none};

  [[nodiscard]] const ClientOrderId& client_id() const noexcept { return spec.req.client_id; }
  [[nodiscard]] Qty remaining() const noexcept { return spec.req.qty - filled; }
};
static_assert(std::is_trivially_copyable_v<OrderState>, "journaled by memcpy");

// What one report did to an order.
struct ApplyResult {
  Qty fill_qty;        // newly booked fill qty (0 for duplicates / stale reports)
  Price fill_px;       // price used for fill_qty
  Notional fill_fee;   // fee booked with it
  bool status_changed{false};
  bool became_terminal{false};
};

// Local transitions (we did something, no venue answer yet).
// new_order -> pending_new; returns false (and does nothing) from any other state.
bool mark_sent(OrderState& o) noexcept;
// working -> pending_cancel (remembering the prior status); false when not working.
bool mark_cancel_sent(OrderState& o) noexcept;
// pending_new / pending_cancel -> unknown after a request timeout or a 5xx answer; false otherwise.
bool mark_unknown(OrderState& o) noexcept;

// Applies one venue report to `o` (see the rules above). Reports for another client id are the caller's
// bug and are ignored (zero result). noexcept, allocation-free.
ApplyResult apply(OrderState& o, const ExecReport& r) noexcept;

}  // namespace enigma::oms
