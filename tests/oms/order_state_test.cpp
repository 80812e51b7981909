// Order and position state machines: unit transitions plus property tests that shuffle, duplicate and
// drop execution reports (seeded, many iterations) and check the invariants after every report.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "oms/order_state.hpp"
#include "oms/position.hpp"

namespace enigma::oms {
namespace {

Qty lots(std::int64_t n) { return Qty::from_units(n); }
Price px(std::int64_t units) { return Price::from_units(units); }

OrderState make_order(const char* id, Qty qty, Side side = Side::buy) {
  OrderState o{};
  o.spec.req.client_id = ClientOrderId::from(id).value;
  o.spec.req.qty = qty;
  o.spec.req.side = side;
  o.spec.req.instrument = 0;
  return o;
}

ExecReport report(const OrderState& o, ExecKind kind, Qty cum, Qty last = {}, Price last_px = {}) {
  ExecReport r{};
  r.client_id = o.client_id();
  r.kind = kind;
  r.cum_qty = cum;
  r.last_qty = last;
  r.last_px = last_px;
  r.side = o.spec.req.side;
  return r;
}

TEST(OmsOrderState, HappyPathAcceptPartialFill) {
  OrderState o = make_order("A1", lots(10));
  ASSERT_TRUE(mark_sent(o));
  EXPECT_EQ(o.status, OrderStatus::pending_new);
  apply(o, report(o, ExecKind::accepted, {}));
  EXPECT_EQ(o.status, OrderStatus::accepted);
  ApplyResult a = apply(o, report(o, ExecKind::fill, lots(4), lots(4), px(100)));
  EXPECT_EQ(a.fill_qty, lots(4));
  EXPECT_EQ(o.status, OrderStatus::partially_filled);
  a = apply(o, report(o, ExecKind::fill, lots(10), lots(6), px(101)));
  EXPECT_EQ(a.fill_qty, lots(6));
  EXPECT_TRUE(a.became_terminal);
  EXPECT_EQ(o.status, OrderStatus::filled);
  // 4 x 100 + 6 x 101 = 1006
  EXPECT_EQ(o.filled_notional, Notional::from_units(1006));
}

TEST(OmsOrderState, DuplicateFillIsIgnored) {
  OrderState o = make_order("A2", lots(10));
  mark_sent(o);
  const ExecReport f = report(o, ExecKind::fill, lots(3), lots(3), px(100));
  EXPECT_EQ(apply(o, f).fill_qty, lots(3));
  EXPECT_EQ(apply(o, f).fill_qty, Qty{});
  EXPECT_EQ(o.filled, lots(3));
}

TEST(OmsOrderState, LateAcceptDoesNotMoveBackwards) {
  OrderState o = make_order("A3", lots(10));
  mark_sent(o);
  apply(o, report(o, ExecKind::fill, lots(2), lots(2), px(100)));
  apply(o, report(o, ExecKind::accepted, {}));
  EXPECT_EQ(o.status, OrderStatus::partially_filled);
}

TEST(OmsOrderState, DroppedFillImpliedByHigherCumQty) {
  OrderState o = make_order("A4", lots(10));
  mark_sent(o);
  apply(o, report(o, ExecKind::fill, lots(2), lots(2), px(100)));
  // The 2 -> 5 fill was lost; the next report says cum 7 with last 2.
  const ApplyResult a = apply(o, report(o, ExecKind::fill, lots(7), lots(2), px(101)));
  EXPECT_EQ(a.fill_qty, lots(5));
  EXPECT_EQ(o.filled, lots(7));
}

TEST(OmsOrderState, FillAfterCancelCountsButDoesNotResurrect) {
  OrderState o = make_order("A5", lots(10));
  mark_sent(o);
  apply(o, report(o, ExecKind::accepted, {}));
  ASSERT_TRUE(mark_cancel_sent(o));
  EXPECT_EQ(o.status, OrderStatus::pending_cancel);
  apply(o, report(o, ExecKind::canceled, {}));
  EXPECT_EQ(o.status, OrderStatus::canceled);
  const ApplyResult a = apply(o, report(o, ExecKind::fill, lots(3), lots(3), px(100)));
  EXPECT_EQ(a.fill_qty, lots(3));
  EXPECT_FALSE(a.status_changed);
  EXPECT_EQ(o.status, OrderStatus::canceled);
  EXPECT_EQ(o.filled, lots(3));
}

TEST(OmsOrderState, CancelRejectedRestoresLiveStatus) {
  OrderState o = make_order("A6", lots(10));
  mark_sent(o);
  apply(o, report(o, ExecKind::fill, lots(1), lots(1), px(100)));
  ASSERT_TRUE(mark_cancel_sent(o));
  apply(o, report(o, ExecKind::cancel_rejected, lots(1)));
  EXPECT_EQ(o.status, OrderStatus::partially_filled);
}

// An order whose new-order request timed out (UNKNOWN) is cancelled (the position went flat) and the venue
// refuses the cancel: it never had the order. The refusal says nothing of whether it exists, so the order
// stays UNKNOWN, and the query's "not found" then settles it as rejected (it used to read ACCEPTED forever).
TEST(OmsOrderState, ARefusedCancelOfAnUnknownOrderLeavesItUnknownUntilTheQuery) {
  OrderState o = make_order("A9", lots(10));
  mark_sent(o);
  ASSERT_TRUE(mark_unknown(o));
  ASSERT_TRUE(mark_cancel_sent(o));
  ExecReport refused = report(o, ExecKind::cancel_rejected, lots(0));
  refused.reason = Reason::order_not_found;
  apply(o, refused);
  EXPECT_EQ(o.status, OrderStatus::unknown);
  ExecReport not_found = report(o, ExecKind::status, lots(0));
  not_found.status = OrderStatus::unknown;
  not_found.reason = Reason::order_not_found;
  apply(o, not_found);
  EXPECT_EQ(o.status, OrderStatus::rejected);
}

TEST(OmsOrderState, TimeoutGoesUnknownAndQueryResolves) {
  OrderState o = make_order("A7", lots(10));
  mark_sent(o);
  ASSERT_TRUE(mark_unknown(o));
  EXPECT_EQ(o.status, OrderStatus::unknown);
  EXPECT_TRUE(is_working(o.status));
  ExecReport q = report(o, ExecKind::status, lots(4), {}, px(100));
  q.status = OrderStatus::partially_filled;
  const ApplyResult a = apply(o, q);
  EXPECT_EQ(a.fill_qty, lots(4));
  EXPECT_EQ(o.status, OrderStatus::partially_filled);
  EXPECT_EQ(o.reason, Reason::none);
}

// A status that carries the order's cumulative fee (Bybit cumExecFee, OKX fee) books what our fills have
// not paid yet with the missed quantity; a later stream fill of that quantity books nothing twice.
TEST(OmsOrderState, QueryPastOurCountBooksTheVenuesCumulativeFeeLessOurs) {
  OrderState o = make_order("A7f", lots(10));
  mark_sent(o);
  ExecReport f = report(o, ExecKind::fill, lots(4), lots(4), px(100));
  f.fee = Notional::parse("0.4").value;
  EXPECT_EQ(apply(o, f).fill_fee, Notional::parse("0.4").value);
  ExecReport q = report(o, ExecKind::status, lots(10), {}, px(100));
  q.status = OrderStatus::filled;
  q.fee = Notional::parse("1.05").value;  // 0.4 paid on the stream + 0.65 on the 6 lots it missed
  const ApplyResult a = apply(o, q);
  EXPECT_EQ(a.fill_qty, lots(6));
  EXPECT_EQ(a.fill_fee, Notional::parse("0.65").value);
  EXPECT_EQ(o.fees, Notional::parse("1.05").value);
  ExecReport late = report(o, ExecKind::fill, lots(10), lots(6), px(100));
  late.fee = Notional::parse("0.65").value;
  EXPECT_EQ(apply(o, late).fill_fee, Notional{});
  EXPECT_EQ(o.fees, Notional::parse("1.05").value);
  // A status without any fee books the quantity only.
  OrderState p = make_order("A7g", lots(10));
  mark_sent(p);
  ExecReport s = report(p, ExecKind::status, lots(10), {}, px(100));
  s.status = OrderStatus::filled;
  EXPECT_EQ(apply(p, s).fill_fee, Notional{});
  EXPECT_EQ(p.fees, Notional{});
}

// A status whose fee the decoder priced (Binance, KuCoin: the answer has none) books the missed quantity's
// share of it: the 4 lots that took liquidity on arrival paid the taker fee on the stream (0.4); the 6
// missed lots, at the resting (maker) rate the whole 10 lots were priced at (0.2 for 10 lots), pay 0.12 --
// not 0.2 - 0.4, which the venue-cumulative rule above would book.
TEST(OmsOrderState, QueryPastOurCountBooksThePricedFeesShareOfTheMissedQuantity) {
  OrderState o = make_order("A7h", lots(10));
  mark_sent(o);
  ExecReport f = report(o, ExecKind::fill, lots(4), lots(4), px(100));
  f.fee = Notional::parse("0.4").value;
  (void)apply(o, f);
  ExecReport q = report(o, ExecKind::status, lots(10), {}, px(100));
  q.status = OrderStatus::filled;
  q.fee = Notional::parse("0.2").value;
  q.fee_priced = true;
  const ApplyResult a = apply(o, q);
  EXPECT_EQ(a.fill_qty, lots(6));
  EXPECT_EQ(a.fill_fee, Notional::parse("0.12").value);
  EXPECT_EQ(o.fees, Notional::parse("0.52").value);
  // Nothing missed: nothing more to book.
  EXPECT_EQ(apply(o, q).fill_fee, Notional{});
  EXPECT_EQ(o.fees, Notional::parse("0.52").value);
}

TEST(OmsOrderState, QueryNotFoundAfterTimeoutMeansRejected) {
  OrderState o = make_order("A8", lots(10));
  mark_sent(o);
  mark_unknown(o);
  ExecReport q = report(o, ExecKind::status, {});
  q.reason = Reason::order_not_found;
  apply(o, q);
  EXPECT_EQ(o.status, OrderStatus::rejected);
  EXPECT_EQ(o.reason, Reason::order_not_found);
}

TEST(OmsOrderState, QueryAnswerFilledAfterTimeout) {
  OrderState o = make_order("A9", lots(10));
  mark_sent(o);
  mark_unknown(o);
  ExecReport q = report(o, ExecKind::status, lots(10), {}, px(100));
  q.status = OrderStatus::filled;
  apply(o, q);
  EXPECT_EQ(o.status, OrderStatus::filled);
  EXPECT_EQ(o.filled, lots(10));
}

TEST(OmsOrderState, ReportForAnotherOrderIsIgnored) {
  OrderState o = make_order("B1", lots(10));
  OrderState other = make_order("B2", lots(10));
  mark_sent(o);
  const ApplyResult a = apply(o, report(other, ExecKind::fill, lots(5), lots(5), px(1)));
  EXPECT_EQ(a.fill_qty, Qty{});
  EXPECT_EQ(o.filled, Qty{});
}

TEST(OmsPosition, LifecycleSignalToClosed) {
  auto r = open_signal(1, 0, Side::buy, px(100), px(99));
  ASSERT_TRUE(r.ok());
  Position p = r.value;
  EXPECT_EQ(p.state, PositionState::signal);
  EXPECT_EQ(mark_entry_sent(p), Errc::ok);
  EXPECT_EQ(p.state, PositionState::pending);
  EXPECT_EQ(on_entry_fill(p, lots(2), px(100)), Errc::ok);
  EXPECT_EQ(p.state, PositionState::open);
  EXPECT_TRUE(stop_invariant_holds(p));
  EXPECT_EQ(trail_stop(p, px(98)), Errc::stale);  // never loosens
  EXPECT_EQ(trail_stop(p, Price::from_raw(1005000000000)), Errc::ok);  // 100.5
  EXPECT_EQ(p.state, PositionState::trailing);
  EXPECT_EQ(on_exit_fill(p, lots(1), px(101)), Errc::ok);
  EXPECT_EQ(p.state, PositionState::trailing);
  EXPECT_EQ(on_exit_fill(p, lots(1), px(101)), Errc::ok);
  EXPECT_EQ(p.state, PositionState::closed);
  EXPECT_EQ(p.qty, Qty{});
}

TEST(OmsPosition, SignalWithoutValidStopIsRefused) {
  EXPECT_FALSE(open_signal(1, 0, Side::buy, px(100), Price{}).ok());
  EXPECT_FALSE(open_signal(1, 0, Side::buy, px(100), px(101)).ok());   // stop above a long's entry
  EXPECT_FALSE(open_signal(1, 0, Side::sell, px(100), px(99)).ok());   // stop below a short's entry
  EXPECT_TRUE(open_signal(1, 0, Side::sell, px(100), px(101)).ok());
}

TEST(OmsPosition, EntryCanceledWithoutFillsCloses) {
  Position p = open_signal(1, 0, Side::sell, px(100), px(101)).value;
  ASSERT_EQ(mark_entry_sent(p), Errc::ok);
  on_entry_done(p);
  EXPECT_EQ(p.state, PositionState::closed);
  EXPECT_EQ(on_entry_fill(p, lots(1), px(100)), Errc::out_of_range);
}

TEST(OmsPosition, ShortStopTrailsDownOnly) {
  Position p = open_signal(1, 0, Side::sell, px(100), px(102)).value;
  ASSERT_EQ(mark_entry_sent(p), Errc::ok);
  ASSERT_EQ(on_entry_fill(p, lots(1), px(100)), Errc::ok);
  EXPECT_EQ(trail_stop(p, px(103)), Errc::stale);
  EXPECT_EQ(trail_stop(p, px(101)), Errc::ok);
  EXPECT_EQ(p.stop_price, px(101));
}

// ---- property tests --------------------------------------------------------------------------------

struct Lifecycle {
  std::vector<ExecReport> reports;
  OrderStatus final_status;
  Qty final_cum;
};

// A venue-true report sequence: accepted, fills with rising cum qty, then maybe a terminal report.
Lifecycle make_lifecycle(const OrderState& o, std::mt19937_64& rng) {
  Lifecycle lc{};
  lc.reports.push_back(report(o, ExecKind::accepted, {}));
  const std::int64_t total = o.spec.req.qty.raw() / Qty::kScale;
  const int ending = static_cast<int>(rng() % 4);  // 0 filled, 1 canceled, 2 expired, 3 still working
  const std::int64_t to_fill = ending == 0 ? total : static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(total));
  std::int64_t cum = 0;
  while (cum < to_fill) {
    const std::int64_t step = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(to_fill - cum));
    cum += step;
    ExecReport f = report(o, ExecKind::fill, lots(cum), lots(step), px(100 + static_cast<std::int64_t>(rng() % 5)));
    f.fee = Notional::from_raw(static_cast<std::int64_t>(step) * 1000);
    lc.reports.push_back(f);
  }
  lc.final_cum = lots(cum);
  switch (ending) {
    case 0: lc.final_status = OrderStatus::filled; break;
    case 1: lc.reports.push_back(report(o, ExecKind::canceled, lots(cum))); lc.final_status = OrderStatus::canceled; break;
    case 2: lc.reports.push_back(report(o, ExecKind::expired, lots(cum))); lc.final_status = OrderStatus::expired; break;
    default: lc.final_status = cum > 0 ? OrderStatus::partially_filled : OrderStatus::accepted; break;
  }
  for (std::size_t i = 0; i < lc.reports.size(); ++i) lc.reports[i].venue_seq = i + 1;
  return lc;
}

// Shuffle, duplicate (p = 0.3 per report) and drop (p = drop_p per report) a sequence.
std::vector<ExecReport> mangle(const std::vector<ExecReport>& in, double drop_p, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<ExecReport> out;
  for (const ExecReport& r : in) {
    if (u(rng) < drop_p) continue;
    out.push_back(r);
    while (u(rng) < 0.3) out.push_back(r);
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

// Applies `delivered` to `o`, checking the invariants after each report; returns the max cum seen.
void drive(OrderState& o, const std::vector<ExecReport>& delivered, Position& pos, bool is_entry,
           const OrderState* entry) {
  Qty max_cum{};
  OrderStatus terminal_seen = OrderStatus::new_order;
  bool was_terminal = false;
  for (const ExecReport& r : delivered) {
    const ApplyResult a = apply(o, r);
    if (r.cum_qty > max_cum) max_cum = r.cum_qty;
    ASSERT_EQ(o.filled, max_cum) << "filled qty equals the max cum qty seen";
    ASSERT_LE(o.filled, o.spec.req.qty);
    if (was_terminal) {
      ASSERT_EQ(o.status, terminal_seen) << "terminal states are terminal";
    } else if (is_terminal(o.status)) {
      was_terminal = true;
      terminal_seen = o.status;
    }
    if (a.fill_qty.raw() > 0) {
      if (is_entry) {
        ASSERT_EQ(on_entry_fill(pos, a.fill_qty, a.fill_px), Errc::ok);
      } else {
        ASSERT_EQ(on_exit_fill(pos, a.fill_qty, a.fill_px), Errc::ok);
      }
    }
    const Qty expected_pos = is_entry ? o.filled : entry->filled - o.filled;
    ASSERT_EQ(pos.qty, expected_pos) << "position qty equals the sum of fills";
    ASSERT_TRUE(stop_invariant_holds(pos)) << "every OPEN/TRAILING position has a stop";
  }
}

class OmsOrderStateProperty : public ::testing::TestWithParam<double> {};

TEST_P(OmsOrderStateProperty, ShuffledDuplicatedDroppedReportsKeepInvariants) {
  const double drop_p = GetParam();
  std::mt19937_64 rng(20240808 + static_cast<std::uint64_t>(drop_p * 1000));
  for (int iter = 0; iter < 3000; ++iter) {
    const std::int64_t q = 1 + static_cast<std::int64_t>(rng() % 20);
    OrderState entry = make_order("E1", lots(q), Side::buy);
    ASSERT_TRUE(mark_sent(entry));
    Position pos = open_signal(static_cast<std::uint32_t>(iter), 0, Side::buy, px(100), px(95)).value;
    ASSERT_EQ(mark_entry_sent(pos), Errc::ok);

    const Lifecycle lc = make_lifecycle(entry, rng);
    const std::vector<ExecReport> delivered = mangle(lc.reports, drop_p, rng);
    drive(entry, delivered, pos, true, nullptr);
    if (HasFatalFailure()) return;

    Qty max_delivered{};
    for (const ExecReport& r : delivered) max_delivered = std::max(max_delivered, r.cum_qty);
    ASSERT_EQ(entry.filled, max_delivered);
    if (drop_p == 0.0) {
      ASSERT_EQ(entry.filled, lc.final_cum) << "iteration " << iter;
      ASSERT_EQ(entry.status, lc.final_status) << "iteration " << iter;
    }
    if (entry.filled.raw() > 0) {
      ASSERT_TRUE(pos.is_open());
    } else {
      ASSERT_EQ(pos.state, PositionState::pending);
    }
    if (!pos.is_open()) continue;

    // Tighten the stop once in a while: the invariant holds in TRAILING too.
    if (rng() % 2 == 0) {
      ASSERT_EQ(trail_stop(pos, px(97)), Errc::ok);
      ASSERT_EQ(pos.state, PositionState::trailing);
    }

    // Exit the position with a sell whose reports are mangled the same way.
    OrderState exit = make_order("X1", entry.filled, Side::sell);
    ASSERT_TRUE(mark_sent(exit));
    const Lifecycle xl = make_lifecycle(exit, rng);
    drive(exit, mangle(xl.reports, drop_p, rng), pos, false, &entry);
    if (HasFatalFailure()) return;
    if (exit.filled == entry.filled) {
      ASSERT_EQ(pos.state, PositionState::closed);
    } else {
      ASSERT_TRUE(pos.is_open());
      ASSERT_TRUE(pos.has_stop());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(DropRates, OmsOrderStateProperty, ::testing::Values(0.0, 0.2, 0.5));

}  // namespace
}  // namespace enigma::oms
