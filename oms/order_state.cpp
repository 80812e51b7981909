#include "oms/order_state.hpp"

namespace enigma::oms {

std::string_view to_string(OrderStatus s) noexcept {
  switch (s) {
    case OrderStatus::new_order: return "NEW";
    case OrderStatus::pending_new: return "PENDING_NEW";
    case OrderStatus::accepted: return "ACCEPTED";
    case OrderStatus::partially_filled: return "PARTIALLY_FILLED";
    case OrderStatus::filled: return "FILLED";
    case OrderStatus::pending_cancel: return "PENDING_CANCEL";
    case OrderStatus::canceled: return "CANCELED";
    case OrderStatus::rejected: return "REJECTED";
    case OrderStatus::expired: return "EXPIRED";
    case OrderStatus::unknown: return "UNKNOWN";
  }
  return "?";
}

std::string_view to_string(ExecKind k) noexcept {
  switch (k) {
    case ExecKind::accepted: return "accepted";
    case ExecKind::fill: return "fill";
    case ExecKind::canceled: return "canceled";
    case ExecKind::rejected: return "rejected";
    case ExecKind::expired: return "expired";
    case ExecKind::cancel_rejected: return "cancel_rejected";
    case ExecKind::triggered: return "triggered";
    case ExecKind::status: return "status";
  }
  return "?";
}

std::string_view to_string(Reason r) noexcept {
  switch (r) {
    case Reason::none: return "none";
    case Reason::post_only_would_cross: return "POST_ONLY_WOULD_CROSS";
    case Reason::insufficient_margin: return "INSUFFICIENT_MARGIN";
    case Reason::fok_unfillable: return "FOK_UNFILLABLE";
    case Reason::ioc_no_liquidity: return "IOC_NO_LIQUIDITY";
    case Reason::reduce_only_would_increase: return "REDUCE_ONLY_WOULD_INCREASE";
    case Reason::slippage_exceeded: return "SLIPPAGE_EXCEEDED";
    case Reason::insufficient_depth: return "INSUFFICIENT_DEPTH";
    case Reason::order_not_found: return "ORDER_NOT_FOUND";
    case Reason::invalid_order: return "INVALID_ORDER";
    case Reason::venue_error: return "VENUE_ERROR";
    case Reason::timeout: return "TIMEOUT";
    case Reason::canceled_by_oco: return "CANCELED_BY_OCO";
    case Reason::kill_switch: return "KILL_SWITCH";
    case Reason::rate_limited: return "RATE_LIMITED";
  }
  return "?";
}

namespace {

// Progress among non-terminal states; a report never moves an order backwards in this order.
constexpr int working_rank(OrderStatus s) noexcept {
  switch (s) {
    case OrderStatus::new_order: return 0;
    case OrderStatus::pending_new: return 1;
    case OrderStatus::unknown: return 1;
    case OrderStatus::accepted: return 2;
    case OrderStatus::partially_filled: return 3;
    case OrderStatus::pending_cancel: return 4;
    default: return 5;
  }
}

// The working status an order has at the venue given its fills so far.
constexpr OrderStatus live_status(const OrderState& o) noexcept {
  return o.filled.raw() > 0 ? OrderStatus::partially_filled : OrderStatus::accepted;
}

// The status `r` implies for `o` (which is not terminal), before the filled-qty override.
OrderStatus target_status(const OrderState& o, const ExecReport& r) noexcept {
  const OrderStatus cur = o.status;
  switch (r.kind) {
    case ExecKind::accepted:
    case ExecKind::triggered:
    case ExecKind::fill: {
      if (cur == OrderStatus::pending_cancel) return cur;  // our cancel is still in flight
      const OrderStatus live = live_status(o);
      return working_rank(live) > working_rank(cur) ? live : cur;
    }
    case ExecKind::canceled: return OrderStatus::canceled;
    case ExecKind::rejected: return OrderStatus::rejected;
    case ExecKind::expired: return OrderStatus::expired;
    case ExecKind::cancel_rejected:
      if (cur != OrderStatus::pending_cancel) return cur;
      // An order whose fate was UNKNOWN (or never answered) stays so: the refusal of its cancel does not say
      // the venue has it, and only a query may settle it (a cancel of an order the venue never received is
      // refused too).
      if (o.status_before_cancel == OrderStatus::unknown || o.status_before_cancel == OrderStatus::pending_new)
        return o.status_before_cancel;
      // The order is still live (if it is in fact done, the done report follows and wins).
      return live_status(o);
    case ExecKind::status: {
      if (r.reason == Reason::order_not_found) {
        // Never reached the venue: safe to treat as rejected only if nothing ever filled.
        if ((cur == OrderStatus::pending_new || cur == OrderStatus::unknown) && o.filled.raw() == 0) {
          return OrderStatus::rejected;
        }
        return cur;
      }
      if (is_terminal(r.status)) return r.status;
      if (cur == OrderStatus::pending_cancel) return cur;
      const OrderStatus live = live_status(o);
      return working_rank(live) > working_rank(cur) || cur == OrderStatus::unknown ? live : cur;
    }
  }
  return cur;
}

}  // namespace

bool mark_sent(OrderState& o) noexcept {
  if (o.status != OrderStatus::new_order) return false;
  o.status = OrderStatus::pending_new;
  return true;
}

bool mark_cancel_sent(OrderState& o) noexcept {
  if (!is_working(o.status) || o.status == OrderStatus::pending_cancel) return false;
  o.status_before_cancel = o.status;
  o.status = OrderStatus::pending_cancel;
  return true;
}

bool mark_unknown(OrderState& o) noexcept {
  if (o.status != OrderStatus::pending_new && o.status != OrderStatus::pending_cancel) return false;
  o.status = OrderStatus::unknown;
  o.reason = Reason::timeout;
  return true;
}

ApplyResult apply(OrderState& o, const ExecReport& r) noexcept {
  ApplyResult res{};
  if (!(r.client_id == o.client_id())) [[unlikely]] return res;
  if (o.venue_order_id.empty() && !r.venue_order_id.empty()) o.venue_order_id = r.venue_order_id;
  if (r.venue_seq > o.last_venue_seq) o.last_venue_seq = r.venue_seq;
  if (r.venue_time_ns > o.last_venue_time_ns) o.last_venue_time_ns = r.venue_time_ns;

  // Quantity first: cumulative qty only grows; a jump past our count books the missed fills too.
  if (r.cum_qty > o.filled) {
    const Qty delta = r.cum_qty - o.filled;
    o.filled = r.cum_qty;
    res.fill_qty = delta;
    res.fill_px = r.last_px;
    if (const auto n = notional_of(r.last_px, delta); n.ok()) o.filled_notional += n.value;
    if (r.kind == ExecKind::fill) {
      res.fill_fee = r.fee;
      o.fees += r.fee;
    } else if (r.kind == ExecKind::status && r.fee.raw() != 0) {
      // A status past our count (fills missed on the stream, found by a query): the missed fills carry their
      // fee too. The venue's cumulative fee less what our fills already paid; or, priced by the decoder
      // (fee_priced), the missed quantity's share of the priced fee of the whole filled quantity.
      res.fill_fee = r.fee_priced ? Notional::from_raw(static_cast<std::int64_t>(div_round(
                                        static_cast<int128>(r.fee.raw()) * delta.raw(), r.cum_qty.raw(), Rounding::nearest)))
                                  : r.fee - o.fees;
      o.fees += res.fill_fee;
    }
  }

  const OrderStatus before = o.status;
  if (!is_terminal(before)) {
    OrderStatus next = target_status(o, r);
    // A fully filled order is FILLED whatever report told us so (a dropped final fill, a status answer).
    if (!is_terminal(next) && o.filled >= o.spec.req.qty && o.spec.req.qty.raw() > 0) next = OrderStatus::filled;
    if (next != before) {
      o.status = next;
      if (next == OrderStatus::rejected || next == OrderStatus::canceled || next == OrderStatus::expired) {
        o.reason = r.reason;
      }
      if (next != OrderStatus::unknown && o.reason == Reason::timeout && !is_terminal(next)) o.reason = Reason::none;
      res.status_changed = true;
      res.became_terminal = is_terminal(next);
    }
  }
  return res;
}

}  // namespace enigma::oms
