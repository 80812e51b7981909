// OrderManager end to end against the simulated exchange on a real Binance USD-M book: a long bracket
// (entry + stop-loss + take-profit, exits one-cancels-other), a restart from the journal in the middle,
// and the take-profit closing the position while its sibling stop is canceled.
#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <vector>

#include "oms/order_manager.hpp"
#include "oms/order_types.hpp"
#include "oms/sim_exchange.hpp"
#include "tests/oms/depth_fixture.hpp"

namespace enigma::oms {
namespace {

Price P(std::string_view s) { return Price::parse(s).value; }
Qty Q(std::string_view s) { return Qty::parse(s).value; }

Event make_event(EventType t) {
  Event e;
  e.h.type = t;
  e.h.instrument = 0;
  e.h.venue = Venue::binance_usdm;
  return e;
}

struct OmFixture : ::testing::Test {
  InstrumentRegistry registry{4};
  std::string path;
  void SetUp() override {
    InstrumentSpec s{};
    s.venue = Venue::binance_usdm;
    s.symbol = Symbol("SUSHIUSDT");
    s.kind = InstrumentKind::linear_perpetual;
    ASSERT_TRUE(registry.add(s).ok());
    path = ::testing::TempDir() + "oms_manager_" + std::to_string(::getpid()) + ".journal";
    std::remove(path.c_str());
  }
  void TearDown() override { std::remove(path.c_str()); }
  OrderManagerConfig config() const {
    OrderManagerConfig c{};
    c.max_orders = 64;
    c.max_positions = 8;
    c.max_oco_pairs = 8;
    c.journal_path = path;
    c.journal = JournalConfig{4096, FsyncPolicy::none, 0};
    return c;
  }
  void load_book(SimExchange& sim) {
    const test::Depth d = test::load_depth(test::kSushiDepth);
    Event b = make_event(EventType::book_batch);
    b.batch.kind = BookBatchKind::snapshot;
    b.batch.level_count = static_cast<std::uint32_t>(d.bids.size() + d.asks.size());
    sim.on_event(b, 0);
    for (const PriceLevel& l : d.bids) {
      Event e = make_event(EventType::book_level);
      e.level = BookLevel{l.price, l.qty, Side::buy};
      sim.on_event(e, 0);
    }
    for (const PriceLevel& l : d.asks) {
      Event e = make_event(EventType::book_level);
      e.level = BookLevel{l.price, l.qty, Side::sell};
      sim.on_event(e, 0);
    }
  }
  // Delivers every pending sim report to the manager; returns the OCO cancels it asked for.
  std::vector<ClientOrderId> pump(SimExchange& sim, OrderManager& om, std::int64_t now) {
    std::vector<ClientOrderId> cancels;
    std::array<ExecReport, 32> buf{};
    for (std::size_t n; (n = sim.poll_reports(now, buf)) > 0;) {
      for (std::size_t i = 0; i < n; ++i) {
        const ReportOutcome out = om.on_report(buf[i], now);
        EXPECT_NE(out.order, nullptr) << buf[i].client_id.view();
        if (out.cancel_sibling) cancels.push_back(*out.cancel_sibling);
      }
    }
    return cancels;
  }
};

TEST(OmsOrderTable, DuplicatesCapacityAndPurge) {
  OrderTable t(2);
  OrderSpec a{};
  a.req.client_id = ClientOrderId::from("a").value;
  a.req.qty = Qty::from_units(1);
  OrderSpec b = a;
  b.req.client_id = ClientOrderId::from("b").value;
  OrderSpec c = a;
  c.req.client_id = ClientOrderId::from("c").value;
  ASSERT_TRUE(t.add(a).ok());
  EXPECT_EQ(t.add(a).error, Errc::out_of_range);
  ASSERT_TRUE(t.add(b).ok());
  EXPECT_EQ(t.add(c).error, Errc::capacity);
  t.find(a.req.client_id)->status = OrderStatus::filled;
  EXPECT_EQ(t.purge_terminal(), 1u);
  EXPECT_EQ(t.find(a.req.client_id), nullptr);
  ASSERT_NE(t.find(b.req.client_id), nullptr);
  EXPECT_TRUE(t.add(c).ok());
}

TEST_F(OmFixture, BracketAcrossRestartTakeProfitCancelsStop) {
  ClientIdGenerator ids("om", 1);
  SimConfig sc{};
  sc.fees[static_cast<std::size_t>(Venue::binance_usdm)] = SimFees{Rate::parse("0.0002").value, Rate::parse("0.0004").value};
  SimExchange sim(registry, sc);
  load_book(sim);
  ClientOrderId sl_id;
  ClientOrderId tp_id;
  std::uint32_t pid = 0;
  {
    OrderManager om(config());
    auto pos = om.open_position(0, Side::buy, P("7.6115"), P("7.5900"), 1);
    ASSERT_TRUE(pos.ok());
    pid = pos.value->id;
    OrderRequest entry{};
    entry.instrument = 0;
    entry.venue = Venue::binance_usdm;
    entry.side = Side::buy;
    entry.type = OrderType::limit;
    entry.tif = TimeInForce::ioc;
    entry.price = P("7.6130");
    entry.reference_price = P("7.6115");
    entry.qty = Q("100");
    entry.leverage = 5;
    const auto b = make_bracket({entry, P("7.5900"), P("7.6500"), 1, pid}, ids);
    ASSERT_TRUE(b.ok());
    sl_id = b.value.stop_loss.req.client_id;
    tp_id = b.value.take_profit.req.client_id;
    for (const OrderSpec* s : {&b.value.entry, &b.value.stop_loss, &b.value.take_profit}) {
      ASSERT_TRUE(om.submit(*s, ids.next_counter(), 2).ok());
      ASSERT_EQ(sim.submit(*s, 2), Errc::ok);
    }
    EXPECT_EQ(om.position(pid)->state, PositionState::pending);
    sim.advance(3);
    EXPECT_TRUE(pump(sim, om, 3).empty());
    const Position* p = om.position(pid);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->state, PositionState::open);
    EXPECT_EQ(p->qty, Q("100"));
    EXPECT_EQ(p->avg_entry(), P("7.6120"));  // 100 of the 297 at the best ask
    EXPECT_EQ(om.find(b.value.entry.req.client_id)->status, OrderStatus::filled);
    EXPECT_EQ(om.find(sl_id)->status, OrderStatus::accepted);
    EXPECT_EQ(om.trail_stop(pid, P("7.6000"), 4), Errc::ok);
  }  // the process stops here

  OrderManager om(config());
  // Restart: the finished entry is history; the position and both live exits come back.
  EXPECT_EQ(om.orders().size(), 2u);
  EXPECT_EQ(om.next_client_counter(), ids.next_counter());
  const Position* p = om.position(pid);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->state, PositionState::trailing);
  EXPECT_EQ(p->qty, Q("100"));
  EXPECT_EQ(p->stop_price, P("7.6000"));
  ASSERT_NE(om.find(tp_id), nullptr);
  EXPECT_EQ(om.find(tp_id)->status, OrderStatus::accepted);

  // The take-profit triggers; the OCO pairing (rebuilt from the journal) asks to cancel the stop.
  Event t = make_event(EventType::trade);
  t.trade = Trade{P("7.6500"), Q("1"), 1, Side::buy};
  sim.on_event(t, 10);
  const std::vector<ClientOrderId> cancels = pump(sim, om, 10);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0], sl_id);
  ASSERT_EQ(om.cancel(sl_id, 11), Errc::ok);
  EXPECT_EQ(om.find(sl_id)->status, OrderStatus::pending_cancel);
  ASSERT_EQ(sim.cancel(sl_id, 11), Errc::ok);
  sim.advance(11);
  EXPECT_TRUE(pump(sim, om, 11).empty());
  EXPECT_EQ(om.find(tp_id)->status, OrderStatus::filled);
  EXPECT_EQ(om.find(sl_id)->status, OrderStatus::canceled);
  EXPECT_EQ(om.position(pid)->state, PositionState::closed);
  EXPECT_EQ(om.position(pid)->qty, Qty{});
  EXPECT_EQ(sim.position(0).qty, Qty{});
  EXPECT_EQ(om.journal_errors(), 0u);
}

TEST_F(OmFixture, SubmitRefusesUnknownPositionAndDuplicateIds) {
  OrderManager om(config());
  OrderSpec s{};
  s.req.client_id = ClientOrderId::from("x1").value;
  s.req.qty = Q("1");
  s.position_id = 42;
  EXPECT_EQ(om.submit(s, 2, 0).error, Errc::not_found);
  s.position_id = 0;
  ASSERT_TRUE(om.submit(s, 2, 0).ok());
  EXPECT_EQ(om.submit(s, 2, 0).error, Errc::out_of_range);
  EXPECT_EQ(om.on_timeout(s.req.client_id, 1), Errc::ok);
  EXPECT_EQ(om.find(s.req.client_id)->status, OrderStatus::unknown);
  EXPECT_EQ(om.cancel(ClientOrderId::from("nope").value, 1), Errc::not_found);
  EXPECT_THROW(OrderManager(OrderManagerConfig{}), Error);
}

}  // namespace
}  // namespace enigma::oms
