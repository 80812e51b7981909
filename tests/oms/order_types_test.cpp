// Brackets with one-cancels-other exits, take-profit ladders, order splitting, and entry pricing at the
// 9th level of a real Binance USD-M book with the slippage guard.
#include <gtest/gtest.h>

#include <array>

#include "oms/entry_pricing.hpp"
#include "oms/order_types.hpp"
#include "tests/oms/depth_fixture.hpp"

namespace enigma::oms {
namespace {

Price P(std::string_view s) { return Price::parse(s).value; }
Qty Q(std::string_view s) { return Qty::parse(s).value; }

OrderRequest entry_request(Side side) {
  OrderRequest r{};
  r.instrument = 0;
  r.venue = Venue::binance_usdm;
  r.side = side;
  r.type = OrderType::limit;
  r.tif = TimeInForce::post_only;
  r.price = P("100");
  r.reference_price = P("100");
  r.qty = Q("3");
  r.leverage = 10;
  return r;
}

TEST(OmsBracket, LongBracketHasReduceOnlyExitsInOneOcoGroup) {
  ClientIdGenerator ids("br", 1);
  const auto b = make_bracket({entry_request(Side::buy), P("99"), P("102"), 7, 3}, ids);
  ASSERT_TRUE(b.ok());
  const Bracket& x = b.value;
  EXPECT_EQ(x.entry.req.client_id.view(), "br1");
  EXPECT_EQ(x.entry.req.side, Side::buy);
  EXPECT_EQ(x.entry.req.stop_loss, P("99"));
  EXPECT_EQ(x.stop_loss.req.client_id.view(), "br2");
  EXPECT_EQ(x.stop_loss.req.type, OrderType::stop_market);
  EXPECT_EQ(x.stop_loss.req.side, Side::sell);
  EXPECT_EQ(x.stop_loss.req.stop_price, P("99"));
  EXPECT_TRUE(x.stop_loss.req.reduce_only);
  EXPECT_EQ(x.stop_loss.req.qty, Q("3"));
  EXPECT_EQ(x.take_profit.req.client_id.view(), "br3");
  EXPECT_EQ(x.take_profit.req.type, OrderType::take_profit_market);
  EXPECT_EQ(x.take_profit.req.stop_price, P("102"));
  EXPECT_TRUE(x.take_profit.req.reduce_only);
  EXPECT_EQ(x.stop_loss.oco_group, 7u);
  EXPECT_EQ(x.take_profit.oco_group, 7u);
  EXPECT_EQ(x.take_profit.position_id, 3u);
}

TEST(OmsBracket, InvalidLevelsAreRejected) {
  ClientIdGenerator ids("br", 1);
  EXPECT_EQ(make_bracket({entry_request(Side::buy), P("101"), P("102"), 7, 0}, ids).error, Errc::out_of_range);
  EXPECT_EQ(make_bracket({entry_request(Side::buy), P("99"), P("98"), 7, 0}, ids).error, Errc::out_of_range);
  EXPECT_EQ(make_bracket({entry_request(Side::buy), P("99"), P("102"), 0, 0}, ids).error, Errc::out_of_range);
  EXPECT_EQ(make_bracket({entry_request(Side::sell), P("99"), P("98"), 7, 0}, ids).error, Errc::out_of_range);
  const auto s = make_bracket({entry_request(Side::sell), P("101"), P("98"), 7, 0}, ids);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value.stop_loss.req.side, Side::buy);
  const auto no_tp = make_bracket({entry_request(Side::buy), P("99"), Price{}, 0, 0}, ids);
  ASSERT_TRUE(no_tp.ok());
  EXPECT_FALSE(no_tp.value.has_take_profit());
}

ExecReport rep(const ClientOrderId& id, ExecKind k, Qty cum = {}) {
  ExecReport r{};
  r.client_id = id;
  r.kind = k;
  r.cum_qty = cum;
  return r;
}

TEST(OmsOco, FillOfOneLegCancelsTheOtherOnce) {
  ClientIdGenerator ids("oc", 1);
  const Bracket b = make_bracket({entry_request(Side::buy), P("99"), P("102"), 9, 0}, ids).value;
  OcoTracker oco(4);
  ASSERT_EQ(oco.link(9, b.stop_loss.req.client_id, b.take_profit.req.client_id), Errc::ok);
  EXPECT_FALSE(oco.on_report(rep(b.stop_loss.req.client_id, ExecKind::accepted)).has_value());
  const auto c = oco.on_report(rep(b.take_profit.req.client_id, ExecKind::fill, Q("1")));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(*c, b.stop_loss.req.client_id);
  EXPECT_FALSE(oco.on_report(rep(b.take_profit.req.client_id, ExecKind::fill, Q("3"))).has_value());
  EXPECT_EQ(oco.live_pairs(), 0u);
}

TEST(OmsOco, TriggerCancelsSiblingAndDeadLegRetiresPair) {
  OcoTracker oco(2);
  const ClientOrderId a = ClientOrderId::from("a").value;
  const ClientOrderId b = ClientOrderId::from("b").value;
  const ClientOrderId c = ClientOrderId::from("c").value;
  const ClientOrderId d = ClientOrderId::from("d").value;
  ASSERT_EQ(oco.link(1, a, b), Errc::ok);
  ASSERT_EQ(oco.link(2, c, d), Errc::ok);
  EXPECT_EQ(oco.link(3, a, d), Errc::capacity);
  EXPECT_EQ(oco.link(0, a, d), Errc::out_of_range);
  const auto x = oco.on_report(rep(a, ExecKind::triggered));
  ASSERT_TRUE(x.has_value());
  EXPECT_EQ(*x, b);
  // Canceling one leg ourselves must not cancel the position's other exit.
  EXPECT_FALSE(oco.on_report(rep(d, ExecKind::canceled)).has_value());
  EXPECT_FALSE(oco.on_report(rep(c, ExecKind::fill, Q("1"))).has_value());
  EXPECT_EQ(oco.live_pairs(), 0u);
}

TEST(OmsLadder, SplitsAcrossLevelsWithRemainderOnLast) {
  std::array<Qty, 3> out{};
  ASSERT_EQ(take_profit_ladder(Q("10"), Q("1"), out), Errc::ok);
  EXPECT_EQ(out[0], Q("3"));
  EXPECT_EQ(out[1], Q("3"));
  EXPECT_EQ(out[2], Q("4"));
  ASSERT_EQ(take_profit_ladder(Q("0.011"), Q("0.001"), out), Errc::ok);
  EXPECT_EQ(out[0], Q("0.003"));
  EXPECT_EQ(out[1], Q("0.003"));
  EXPECT_EQ(out[2], Q("0.005"));
  EXPECT_EQ(take_profit_ladder(Q("2"), Q("1"), out), Errc::out_of_range);        // a level would get 0
  EXPECT_EQ(take_profit_ladder(Q("10.5"), Q("1"), out), Errc::out_of_range);     // not a multiple of lot
  EXPECT_EQ(take_profit_ladder(Q("10"), Q("1"), std::span<Qty>{}), Errc::out_of_range);
}

TEST(OmsSplit, ChildOrdersOfMaxSize) {
  std::array<Qty, 8> out{};
  auto n = split_order(Q("25"), Q("10"), Q("1"), out);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(n.value, 3u);
  EXPECT_EQ(out[0], Q("10"));
  EXPECT_EQ(out[1], Q("10"));
  EXPECT_EQ(out[2], Q("5"));
  n = split_order(Q("21"), Q("7.5"), Q("1"), out);  // max rounds down to the lot: 7
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value, 3u);
  EXPECT_EQ(out[2], Q("7"));
  EXPECT_EQ(split_order(Q("100"), Q("10"), Q("1"), out).error, Errc::capacity);
  EXPECT_EQ(split_order(Q("1"), Q("0.5"), Q("1"), out).error, Errc::out_of_range);
}

TEST(OmsEntryPricing, NinthLevelOfRealBinanceBook) {
  const test::Depth d = test::load_depth(test::kSushiDepth);
  ASSERT_GE(d.bids.size(), 9u);
  EntryPricingConfig cfg{};
  cfg.max_slippage = Rate::parse("0.002").value;
  // bids[8] = 7.6010, asks[8] = 7.6200, mid = (7.6110 + 7.6120) / 2 = 7.6115
  EntryQuote q = entry_price(Side::buy, d.bids, d.asks, cfg);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.price, P("7.6010"));
  EXPECT_EQ(q.mid, P("7.6115"));
  q = entry_price(Side::sell, d.bids, d.asks, cfg);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.price, P("7.6200"));
  // 0.0105 / 7.6115 = 0.138 % for the long, 0.0085 / 7.6115 = 0.112 % for the short.
  cfg.max_slippage = Rate::parse("0.0012").value;
  EXPECT_EQ(entry_price(Side::buy, d.bids, d.asks, cfg).reason, Reason::slippage_exceeded);
  EXPECT_TRUE(entry_price(Side::sell, d.bids, d.asks, cfg).ok());
  cfg.max_slippage = Rate::parse("0.0011").value;
  EXPECT_EQ(entry_price(Side::sell, d.bids, d.asks, cfg).reason, Reason::slippage_exceeded);
  EXPECT_EQ(to_string(Reason::slippage_exceeded), "SLIPPAGE_EXCEEDED");
}

TEST(OmsEntryPricing, ShallowBookIsRefused) {
  const test::Depth d = test::load_depth(test::kSushiDepth);
  const std::span<const PriceLevel> eight(d.bids.data(), 8);
  EXPECT_EQ(entry_price(Side::buy, eight, d.asks, {}).reason, Reason::insufficient_depth);
  EXPECT_TRUE(entry_price(Side::sell, eight, d.asks, {}).ok());
  EXPECT_EQ(entry_price(Side::sell, d.bids, {}, {}).reason, Reason::insufficient_depth);
}

}  // namespace
}  // namespace enigma::oms
