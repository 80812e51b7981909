// Simulated exchange on a real Binance USD-M book (SUSHIUSDT REST snapshot): taker walks, post-only,
// queue position (conservative and proportional), partial fills, fees, latency, margin, funding, stop
// triggers, reduce-only, and determinism.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include "oms/sim_exchange.hpp"
#include "oms/order_state.hpp"
#include "tests/oms/depth_fixture.hpp"
#include "tests/support/alloc_counter.hpp"

namespace enigma::oms {
namespace {

Price P(std::string_view s) { return Price::parse(s).value; }
Qty Q(std::string_view s) { return Qty::parse(s).value; }
Notional N(std::string_view s) { return Notional::parse(s).value; }

constexpr std::int64_t kMs = 1'000'000;

Event header(EventType t, std::int64_t ts) {
  Event e;
  e.h.type = t;
  e.h.instrument = 0;
  e.h.venue = Venue::binance_usdm;
  e.h.venue_time_ns = ts;
  return e;
}
Event level(Side side, Price p, Qty q, std::int64_t ts = 0) {
  Event e = header(EventType::book_level, ts);
  e.level = BookLevel{p, q, side};
  return e;
}
Event trade(Price p, Qty q, Side aggressor, std::int64_t ts = 0) {
  Event e = header(EventType::trade, ts);
  e.trade = Trade{p, q, 1, aggressor};
  return e;
}

struct SimFixture : ::testing::Test {
  InstrumentRegistry registry{4};
  SimConfig cfg{};
  std::vector<ExecReport> reports;
  std::uint64_t next_id = 1;

  void SetUp() override {
    InstrumentSpec s{};
    s.venue = Venue::binance_usdm;
    s.symbol = Symbol("SUSHIUSDT");
    s.kind = InstrumentKind::linear_perpetual;
    s.tick = P("0.001");
    s.lot = Q("1");
    ASSERT_TRUE(registry.add(s).ok());
    cfg.fees[static_cast<std::size_t>(Venue::binance_usdm)] = SimFees{Rate::parse("0.0002").value,
                                                                      Rate::parse("0.0004").value};
    cfg.initial_balance = Notional::from_units(100'000);
  }

  // Feeds the real snapshot as a BookBatch + one BookLevel per level.
  void load_book(SimExchange& sim, std::int64_t t = 0) {
    const test::Depth d = test::load_depth(test::kSushiDepth);
    Event b = header(EventType::book_batch, t);
    b.batch = BookBatch{600859605926, 600859605926, 0, static_cast<std::uint32_t>(d.bids.size() + d.asks.size()), 0,
                        BookBatchKind::snapshot, false, false};
    sim.on_event(b, t);
    for (const PriceLevel& l : d.bids) sim.on_event(level(Side::buy, l.price, l.qty), t);
    for (const PriceLevel& l : d.asks) sim.on_event(level(Side::sell, l.price, l.qty), t);
  }

  OrderSpec order(Side side, OrderType type, TimeInForce tif, std::string_view qty, std::string_view price = "0") {
    OrderSpec o{};
    o.req.client_id = ClientOrderId::from("sim" + std::to_string(next_id++)).value;
    o.req.instrument = 0;
    o.req.venue = Venue::binance_usdm;
    o.req.side = side;
    o.req.type = type;
    o.req.tif = tif;
    o.req.qty = Q(qty);
    o.req.price = P(price);
    o.req.leverage = 10;
    return o;
  }

  std::vector<ExecReport> drain(SimExchange& sim, std::int64_t now = INT64_MAX / 2) {
    std::vector<ExecReport> out(256);
    out.resize(sim.poll_reports(now, out));
    return out;
  }
};

TEST_F(SimFixture, MarketOrderWalksTheBookWithTakerFees) {
  SimExchange sim(registry, cfg);
  load_book(sim);
  const OrderSpec o = order(Side::buy, OrderType::market, TimeInForce::gtc, "500");
  ASSERT_EQ(sim.submit(o, 1), Errc::ok);
  sim.advance(1);
  const auto r = drain(sim);
  // asks: 297 @ 7.6120, 177 @ 7.6130, 758 @ 7.6140
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].kind, ExecKind::accepted);
  EXPECT_EQ(r[1].last_qty, Q("297"));
  EXPECT_EQ(r[1].last_px, P("7.6120"));
  EXPECT_EQ(r[2].last_qty, Q("177"));
  EXPECT_EQ(r[2].last_px, P("7.6130"));
  EXPECT_EQ(r[3].last_qty, Q("26"));
  EXPECT_EQ(r[3].last_px, P("7.6140"));
  EXPECT_EQ(r[3].cum_qty, Q("500"));
  EXPECT_EQ(r[3].status, OrderStatus::filled);
  EXPECT_FALSE(r[1].maker);
  // 0.0004 x (2260.764 + 1347.501 + 197.964)
  EXPECT_EQ(r[1].fee, N("0.9043056"));
  EXPECT_EQ(sim.account().fees_paid, N("1.5224916"));
  EXPECT_EQ(sim.position(0).qty, Q("500"));
  EXPECT_EQ(sim.position(0).entry_notional, N("3806.229"));
  // Our fill consumed displayed liquidity: 758 - 26 left at 7.6140.
  EXPECT_EQ(sim.level_qty(0, Side::sell, P("7.6140")), Q("732"));
  EXPECT_EQ(sim.level_qty(0, Side::sell, P("7.6120")), Qty{});
}

TEST_F(SimFixture, PostOnlyThatWouldCrossIsRejected) {
  SimExchange sim(registry, cfg);
  load_book(sim);
  ASSERT_EQ(sim.submit(order(Side::buy, OrderType::limit, TimeInForce::post_only, "10", "7.6120"), 0), Errc::ok);
  ASSERT_EQ(sim.submit(order(Side::buy, OrderType::limit, TimeInForce::post_only, "10", "7.6110"), 0), Errc::ok);
  sim.advance(0);
  const auto r = drain(sim);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].kind, ExecKind::rejected);
  EXPECT_EQ(r[0].reason, Reason::post_only_would_cross);
  EXPECT_EQ(r[1].kind, ExecKind::accepted);
}

TEST_F(SimFixture, QueuePositionTradesConsumeAheadThenFillUsPartially) {
  SimExchange sim(registry, cfg);
  load_book(sim);
  const OrderSpec o = order(Side::buy, OrderType::limit, TimeInForce::gtc, "10", "7.6110");
  ASSERT_EQ(sim.submit(o, 0), Errc::ok);
  sim.advance(0);
  EXPECT_EQ(sim.queue_ahead(o.req.client_id), Q("6"));  // displayed at 7.6110 at placement
  sim.on_event(trade(P("7.6110"), Q("4"), Side::sell), 1);
  EXPECT_EQ(sim.queue_ahead(o.req.client_id), Q("2"));
  sim.on_event(trade(P("7.6110"), Q("5"), Side::sell), 2);  // 2 ahead, then 3 to us
  sim.on_event(level(Side::buy, P("7.6110"), Qty{}), 3);     // the level empties (the trades + us)
  sim.on_event(trade(P("7.6100"), Q("100"), Side::sell), 4);  // trades through our price: rest fills
  const auto r = drain(sim);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1].kind, ExecKind::fill);
  EXPECT_EQ(r[1].last_qty, Q("3"));
  EXPECT_EQ(r[1].status, OrderStatus::partially_filled);
  EXPECT_TRUE(r[1].maker);
  EXPECT_EQ(r[1].fee, N("0.0045666"));  // 3 x 7.611 x 0.0002
  EXPECT_EQ(r[2].last_qty, Q("7"));
  EXPECT_EQ(r[2].last_px, P("7.6110"));
  EXPECT_EQ(r[2].cum_qty, Q("10"));
  EXPECT_EQ(r[2].status, OrderStatus::filled);
}

// A KuCoin Futures native iceberg: 10 showing 3 behind the 6 displayed at 7.6110. Trades at the price fill at
// most the visible part; each refill goes behind the level's displayed qty again (6: the feed has not updated
// it), and every fill pays the taker rate (the venue's rule for iceberg orders). Worked by hand:
//   sell 4: 6 ahead -> 2;  sell 5: 2 ahead, 3 to us (visible 3 used: refill 3, 6 ahead);
//   sell 8: 6 ahead, 2 to us (visible 1 left);  sell 1: 1 to us (refill min(3, 4) = 3, 6 ahead);
//   a trade through the price fills the last 4.
TEST_F(SimFixture, NativeIcebergFillsItsVisiblePartThenRequeuesAtTakerFees) {
  cfg.fees[static_cast<std::size_t>(Venue::kucoin_futures)] = SimFees{Rate::parse("0.0002").value, Rate::parse("0.0006").value};
  SimExchange sim(registry, cfg);
  load_book(sim);
  OrderSpec o = order(Side::buy, OrderType::limit, TimeInForce::gtc, "10", "7.6110");
  o.req.venue = Venue::kucoin_futures;
  o.display_qty = Q("3");
  ASSERT_EQ(sim.submit(o, 0), Errc::ok);
  sim.advance(0);
  EXPECT_EQ(sim.queue_ahead(o.req.client_id), Q("6"));
  sim.on_event(trade(P("7.6110"), Q("4"), Side::sell), 1);
  sim.on_event(trade(P("7.6110"), Q("5"), Side::sell), 2);
  EXPECT_EQ(sim.queue_ahead(o.req.client_id), Q("6"));  // the refill is behind the level
  sim.on_event(trade(P("7.6110"), Q("8"), Side::sell), 3);
  sim.on_event(trade(P("7.6110"), Q("1"), Side::sell), 4);
  EXPECT_EQ(sim.iceberg_refills(), 2u);
  sim.on_event(trade(P("7.6100"), Q("100"), Side::sell), 5);
  const auto r = drain(sim);
  ASSERT_EQ(r.size(), 5u);
  const char* want[] = {"3", "2", "1", "4"};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r[i + 1].kind, ExecKind::fill) << i;
    EXPECT_EQ(r[i + 1].last_qty, Q(want[i])) << i;
    EXPECT_EQ(r[i + 1].last_px, P("7.6110")) << i;
    EXPECT_TRUE(r[i + 1].maker) << i;  // it rested ...
  }
  EXPECT_EQ(r[1].fee, N("0.0136998"));  // ... yet pays the taker rate: 3 x 7.611 x 0.0006
  EXPECT_EQ(r[4].status, OrderStatus::filled);
  EXPECT_EQ(sim.account().fees_paid, N("0.045666"));  // 10 x 7.611 x 0.0006

  // The same order without display_qty takes the whole 3 + 8 + 1 the trades leave it, at the maker rate.
  SimExchange plain(registry, cfg);
  load_book(plain);
  o.display_qty = Qty{};
  o.req.client_id = ClientOrderId::from("plain").value;
  ASSERT_EQ(plain.submit(o, 0), Errc::ok);
  plain.advance(0);
  for (const char* q : {"4", "5", "8"}) plain.on_event(trade(P("7.6110"), Q(q), Side::sell), 1);
  const auto pr = drain(plain);
  ASSERT_EQ(pr.size(), 3u);
  EXPECT_EQ(pr[1].last_qty, Q("3"));
  EXPECT_EQ(pr[2].last_qty, Q("7"));
  EXPECT_EQ(plain.account().fees_paid, N("0.015222"));  // 10 x 7.611 x 0.0002
  EXPECT_EQ(plain.iceberg_refills(), 0u);
}

TEST_F(SimFixture, ConservativeQueueIgnoresCancelsProportionalOptionDoesNot) {
  for (const bool proportional : {false, true}) {
    cfg.cancels_proportional_from_ahead = proportional;
    SimExchange sim(registry, cfg);
    load_book(sim);
    const OrderSpec o = order(Side::buy, OrderType::limit, TimeInForce::gtc, "10", "7.6080");
    ASSERT_EQ(sim.submit(o, 0), Errc::ok);
    sim.advance(0);
    ASSERT_EQ(sim.queue_ahead(o.req.client_id), Q("161"));
    sim.on_event(level(Side::buy, P("7.6080"), Q("261")), 1);  // 100 join behind us
    EXPECT_EQ(sim.queue_ahead(o.req.client_id), Q("161"));
    sim.on_event(level(Side::buy, P("7.6080"), Q("211")), 2);  // 50 cancel, from where is unknown
    const double ahead = sim.queue_ahead(o.req.client_id).to_double();
    if (proportional) {
      EXPECT_NEAR(ahead, 161.0 - 50.0 * 161.0 / 261.0, 1e-9);
    } else {
      EXPECT_EQ(ahead, 161.0);
    }
    // Displayed qty below our queue proves that many left from ahead: the conservative model drops to it.
    sim.on_event(level(Side::buy, P("7.6080"), Q("40")), 3);
    if (proportional) {
      EXPECT_NEAR(sim.queue_ahead(o.req.client_id).to_double(), ahead - 171.0 * ahead / 211.0, 1e-8);
    } else {
      EXPECT_EQ(sim.queue_ahead(o.req.client_id), Q("40"));
    }
  }
}

TEST_F(SimFixture, TradeExplainedLevelDropIsNotCountedAsCancel) {
  cfg.cancels_proportional_from_ahead = true;
  SimExchange sim(registry, cfg);
  load_book(sim);
  const OrderSpec o = order(Side::buy, OrderType::limit, TimeInForce::gtc, "10", "7.6080");
  ASSERT_EQ(sim.submit(o, 0), Errc::ok);
  sim.advance(0);
  sim.on_event(level(Side::buy, P("7.6080"), Q("261")), 1);
  sim.on_event(trade(P("7.6080"), Q("60"), Side::sell), 2);  // 60 of the 161 ahead trade
  EXPECT_EQ(sim.queue_ahead(o.req.client_id), Q("101"));
  sim.on_event(level(Side::buy, P("7.6080"), Q("201")), 3);  // the venue reflects that trade
  EXPECT_EQ(sim.queue_ahead(o.req.client_id), Q("101"));
}

TEST_F(SimFixture, OrderAndReportLatencyOnInjectedTime) {
  cfg.order_latency_ns = 1 * kMs;
  cfg.feed_latency_ns = 2 * kMs;
  SimExchange sim(registry, cfg);
  load_book(sim);
  const OrderSpec o = order(Side::buy, OrderType::limit, TimeInForce::gtc, "10", "7.6000");
  ASSERT_EQ(sim.submit(o, 10 * kMs), Errc::ok);
  // A trade at our price before the order arrives must not touch it.
  sim.on_event(trade(P("7.6000"), Q("5000"), Side::sell), 10 * kMs + 500'000);
  EXPECT_TRUE(drain(sim).empty());
  sim.advance(11 * kMs);  // arrives now: queue ahead = displayed 3995
  EXPECT_EQ(sim.queue_ahead(o.req.client_id), Q("3995"));
  std::vector<ExecReport> out(4);
  EXPECT_EQ(sim.poll_reports(13 * kMs - 1, out), 0u);
  ASSERT_EQ(sim.poll_reports(13 * kMs, out), 1u);
  EXPECT_EQ(out[0].kind, ExecKind::accepted);
  EXPECT_EQ(out[0].venue_time_ns, 11 * kMs);
}

TEST_F(SimFixture, FokAndIocOutcomes) {
  SimExchange sim(registry, cfg);
  load_book(sim);
  // FOK for 500 limited at 7.6130 (only 297 + 177 = 474 available): expires untouched.
  ASSERT_EQ(sim.submit(order(Side::buy, OrderType::limit, TimeInForce::fok, "500", "7.6130"), 0), Errc::ok);
  // IOC for 500 at 7.6130: takes 474, the rest expires.
  ASSERT_EQ(sim.submit(order(Side::buy, OrderType::limit, TimeInForce::ioc, "500", "7.6130"), 0), Errc::ok);
  sim.advance(0);
  const auto r = drain(sim);
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[1].kind, ExecKind::expired);
  EXPECT_EQ(r[1].reason, Reason::fok_unfillable);
  EXPECT_EQ(r[3].last_qty, Q("297"));
  EXPECT_EQ(r[4].last_qty, Q("177"));
  EXPECT_EQ(r[5].kind, ExecKind::expired);
  EXPECT_EQ(r[5].cum_qty, Q("474"));
  EXPECT_EQ(sim.position(0).qty, Q("474"));
}

TEST_F(SimFixture, InsufficientMarginAndReduceOnlyRejections) {
  cfg.initial_balance = Notional::from_units(100);
  SimExchange sim(registry, cfg);
  load_book(sim);
  OrderSpec big = order(Side::buy, OrderType::limit, TimeInForce::gtc, "100", "7.6000");
  big.req.leverage = 1;  // needs 760
  OrderSpec ok = order(Side::buy, OrderType::limit, TimeInForce::gtc, "100", "7.6000");  // 10x: 76
  OrderSpec reduce = order(Side::sell, OrderType::market, TimeInForce::gtc, "1");
  reduce.req.reduce_only = true;  // nothing to reduce
  ASSERT_EQ(sim.submit(big, 0), Errc::ok);
  ASSERT_EQ(sim.submit(ok, 0), Errc::ok);
  ASSERT_EQ(sim.submit(reduce, 0), Errc::ok);
  sim.advance(0);
  const auto r = drain(sim);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].reason, Reason::insufficient_margin);
  EXPECT_EQ(r[1].kind, ExecKind::accepted);
  EXPECT_EQ(r[2].kind, ExecKind::rejected);
  EXPECT_EQ(r[2].reason, Reason::reduce_only_would_increase);
  EXPECT_EQ(sim.free_margin(), N("24"));  // 100 - 76 reserved
}

TEST_F(SimFixture, FundingFromMarkFundingEvents) {
  SimExchange sim(registry, cfg);
  load_book(sim);
  ASSERT_EQ(sim.submit(order(Side::buy, OrderType::market, TimeInForce::gtc, "100"), 0), Errc::ok);
  sim.advance(0);
  const Notional balance_before = sim.account().balance;
  Event m = header(EventType::mark, 1000);
  m.mark = MarkFunding{P("7.6"), P("7.6"), Rate::parse("0.0001").value, 8 * 3600 * 1'000'000'000LL};
  sim.on_event(m, 1000);
  sim.advance(8 * 3600 * 1'000'000'000LL - 1);
  EXPECT_EQ(sim.account().funding_paid, Notional{});
  sim.advance(8 * 3600 * 1'000'000'000LL);
  EXPECT_EQ(sim.account().funding_paid, N("0.076"));  // 100 x 7.6 x 0.0001, long pays
  EXPECT_EQ(sim.account().balance, balance_before - N("0.076"));
  sim.on_event(m, 8 * 3600 * 1'000'000'000LL + 5);  // a repeat of the paid time schedules nothing
  sim.advance(9 * 3600 * 1'000'000'000LL);
  EXPECT_EQ(sim.position(0).funding, N("0.076"));
}

TEST_F(SimFixture, FundingFromConfiguredScheduleShortReceives) {
  cfg.funding_interval_ns = 8 * 3600 * 1'000'000'000LL;
  cfg.scheduled_funding_rate = Rate::parse("0.0001").value;
  SimExchange sim(registry, cfg);
  load_book(sim, 1);
  ASSERT_EQ(sim.submit(order(Side::sell, OrderType::market, TimeInForce::gtc, "100"), 1), Errc::ok);
  sim.advance(2);
  sim.on_event(trade(P("7.6"), Q("1"), Side::sell), 3);
  sim.advance(cfg.funding_interval_ns);
  EXPECT_EQ(sim.account().funding_paid, -N("0.076"));
  sim.advance(2 * cfg.funding_interval_ns);
  EXPECT_EQ(sim.account().funding_paid, -N("0.152"));
}

TEST_F(SimFixture, FundingPaymentsAreKeptWithTheFillsBeforeThemAndOnlyWhileAPositionIsOpen) {
  cfg.funding_interval_ns = 8 * 3600 * 1'000'000'000LL;
  cfg.scheduled_funding_rate = Rate::parse("0.0001").value;
  cfg.max_funding_rows = 1;  // the second payment is summed, not kept
  SimExchange sim(registry, cfg);
  load_book(sim, 1);
  sim.advance(cfg.funding_interval_ns);  // flat: nothing paid, nothing kept
  EXPECT_TRUE(sim.funding_payments().empty());
  ASSERT_EQ(sim.submit(order(Side::sell, OrderType::market, TimeInForce::gtc, "100"), cfg.funding_interval_ns + 1), Errc::ok);
  sim.advance(cfg.funding_interval_ns + 2);
  std::uint64_t fills = 0;  // the sell's fill reports (it walks the bids)
  for (const ExecReport& r : drain(sim)) fills += r.kind == ExecKind::fill;
  ASSERT_GE(fills, 1u);
  sim.on_event(trade(P("7.6"), Q("1"), Side::sell), cfg.funding_interval_ns + 3);
  sim.advance(2 * cfg.funding_interval_ns);
  ASSERT_EQ(sim.funding_payments().size(), 1u);
  const SimFundingPayment& p = sim.funding_payments()[0];
  EXPECT_EQ(p.time_ns, 2 * cfg.funding_interval_ns);
  EXPECT_EQ(p.fills_before, fills);
  EXPECT_EQ(p.instrument, 0);
  EXPECT_EQ(p.position, -Q("100"));
  EXPECT_EQ(p.price, P("7.6"));
  EXPECT_EQ(p.amount, -N("0.076"));  // 100 x 7.6 x 0.0001, the short receives
  sim.advance(3 * cfg.funding_interval_ns);
  EXPECT_EQ(sim.funding_payments().size(), 1u);
  EXPECT_EQ(sim.unkept_funding(), -N("0.076"));
  EXPECT_EQ(sim.account().funding_paid, -N("0.152"));
}

TEST_F(SimFixture, StopLossTriggersOnTradeAndClosesReduceOnly) {
  SimExchange sim(registry, cfg);
  load_book(sim);
  ASSERT_EQ(sim.submit(order(Side::buy, OrderType::market, TimeInForce::gtc, "100"), 0), Errc::ok);
  OrderSpec sl = order(Side::sell, OrderType::stop_market, TimeInForce::gtc, "100");
  sl.req.stop_price = P("7.6050");
  sl.req.reduce_only = true;
  OrderSpec tp = order(Side::sell, OrderType::take_profit_market, TimeInForce::gtc, "100");
  tp.req.stop_price = P("7.7");
  tp.req.reduce_only = true;
  ASSERT_EQ(sim.submit(sl, 0), Errc::ok);
  ASSERT_EQ(sim.submit(tp, 0), Errc::ok);
  sim.advance(0);
  drain(sim);
  sim.on_event(trade(P("7.6060"), Q("1"), Side::sell), 1);
  EXPECT_TRUE(drain(sim).empty());
  sim.on_event(trade(P("7.6050"), Q("1"), Side::sell), 2);
  const auto r = drain(sim);
  ASSERT_GE(r.size(), 2u);
  EXPECT_EQ(r[0].kind, ExecKind::triggered);
  EXPECT_EQ(r[0].client_id, sl.req.client_id);
  // Sells into bids: 6 @ 7.6110, 94 of 161 @ 7.6080.
  EXPECT_EQ(r[1].last_qty, Q("6"));
  EXPECT_EQ(r[2].last_qty, Q("94"));
  EXPECT_EQ(r[2].status, OrderStatus::filled);
  EXPECT_EQ(sim.position(0).qty, Qty{});
  // The take-profit (not yet canceled by the OMS) can no longer trade: reduce-only past flat expires.
  sim.on_event(trade(P("7.7"), Q("1"), Side::buy), 3);
  const auto t = drain(sim);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].kind, ExecKind::triggered);
  EXPECT_EQ(t[1].kind, ExecKind::expired);
  EXPECT_EQ(t[1].cum_qty, Qty{});
}

TEST_F(SimFixture, TrailingStopFollowsTheHighAndFiresOnTheCallback) {
  SimExchange sim(registry, cfg);
  load_book(sim);
  ASSERT_EQ(sim.submit(order(Side::buy, OrderType::market, TimeInForce::gtc, "100"), 0), Errc::ok);
  OrderSpec trail = order(Side::sell, OrderType::trailing_stop, TimeInForce::gtc, "100");
  trail.req.stop_price = P("7.62");  // activation
  trail.req.reduce_only = true;
  trail.callback_rate = Rate::parse("0.01").value;
  ASSERT_EQ(sim.submit(trail, 0), Errc::ok);
  sim.advance(0);
  drain(sim);
  sim.on_event(trade(P("7.61"), Q("1"), Side::sell), 1);  // not active yet: a 1 % drop from here is no trigger
  sim.on_event(trade(P("7.53"), Q("1"), Side::sell), 2);
  EXPECT_TRUE(drain(sim).empty());
  sim.on_event(trade(P("7.63"), Q("1"), Side::buy), 3);   // activates
  sim.on_event(trade(P("7.70"), Q("1"), Side::buy), 4);   // new high: trigger at 7.623
  sim.on_event(trade(P("7.63"), Q("1"), Side::sell), 5);
  EXPECT_TRUE(drain(sim).empty());
  sim.on_event(trade(P("7.623"), Q("1"), Side::sell), 6);
  const auto r = drain(sim);
  ASSERT_GE(r.size(), 2u);
  EXPECT_EQ(r[0].kind, ExecKind::triggered);
  EXPECT_EQ(r.back().status, OrderStatus::filled);
  EXPECT_EQ(sim.position(0).qty, Qty{});
}

TEST_F(SimFixture, BboOnlyInstrumentTradesAgainstTheQuote) {
  SimExchange sim(registry, cfg);
  Event q = header(EventType::bbo, 0);
  q.bbo = Bbo{1, P("7.6110"), Q("6"), P("7.6120"), Q("297")};
  sim.on_event(q, 0);
  ASSERT_EQ(sim.submit(order(Side::buy, OrderType::market, TimeInForce::gtc, "300"), 0), Errc::ok);
  const OrderSpec bid = order(Side::buy, OrderType::limit, TimeInForce::gtc, "5", "7.6110");
  ASSERT_EQ(sim.submit(bid, 0), Errc::ok);
  sim.advance(0);
  const auto r = drain(sim);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[1].last_qty, Q("297"));  // only the quoted size is there
  EXPECT_EQ(r[2].kind, ExecKind::expired);
  EXPECT_EQ(r[2].cum_qty, Q("297"));
  EXPECT_EQ(sim.queue_ahead(bid.req.client_id), Q("6"));
}

TEST_F(SimFixture, CancelRestingAndCancelUnknown) {
  SimExchange sim(registry, cfg);
  load_book(sim);
  const OrderSpec o = order(Side::buy, OrderType::limit, TimeInForce::gtc, "10", "7.6000");
  ASSERT_EQ(sim.submit(o, 0), Errc::ok);
  ASSERT_EQ(sim.cancel(o.req.client_id, 1), Errc::ok);
  ASSERT_EQ(sim.cancel(ClientOrderId::from("nope").value, 1), Errc::ok);
  sim.advance(1);
  const auto r = drain(sim);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1].kind, ExecKind::canceled);
  EXPECT_EQ(r[2].kind, ExecKind::cancel_rejected);
  EXPECT_EQ(r[2].reason, Reason::order_not_found);
  EXPECT_EQ(sim.free_margin(), sim.account().balance);  // reservation released
}

TEST_F(SimFixture, SameInputsGiveIdenticalReports) {
  auto run = [&] {
    next_id = 1;
    SimExchange sim(registry, cfg);
    load_book(sim);
    (void)sim.submit(order(Side::buy, OrderType::limit, TimeInForce::gtc, "50", "7.6080"), 0);
    (void)sim.submit(order(Side::sell, OrderType::market, TimeInForce::gtc, "30"), 0);
    for (int i = 0; i < 20; ++i) {
      sim.on_event(trade(P("7.6080"), Q("20"), Side::sell), 1 + i);
    }
    return drain(sim);
  };
  const auto a = run();
  const auto b = run();
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GT(a.size(), 3u);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(ExecReport)));
}

TEST_F(SimFixture, MatchingAndStateMachinePathAllocateNothing) {
  SimExchange sim(registry, cfg);
  load_book(sim);
  std::vector<OrderSpec> orders;
  for (int i = 0; i < 50; ++i) {
    orders.push_back(order(i % 2 ? Side::buy : Side::sell, OrderType::limit, TimeInForce::gtc, "5",
                           i % 2 ? "7.6080" : "7.6150"));
  }
  const OrderSpec market = order(Side::buy, OrderType::market, TimeInForce::gtc, "3");
  std::vector<OrderState> states(orders.size());
  for (std::size_t i = 0; i < orders.size(); ++i) states[i].spec = orders[i];
  std::array<ExecReport, 64> out{};
  enigma::test::AllocationScope scope;
  for (const OrderSpec& o : orders) ASSERT_EQ(sim.submit(o, 1), Errc::ok);
  ASSERT_EQ(sim.submit(market, 1), Errc::ok);
  sim.advance(1);
  for (int i = 0; i < 40; ++i) {
    sim.on_event(trade(P("7.6080"), Q("30"), Side::sell), 2 + i);
    sim.on_event(level(Side::buy, P("7.6080"), Q("100")), 2 + i);
    sim.on_event(trade(P("7.6150"), Q("30"), Side::buy), 2 + i);
  }
  ASSERT_EQ(sim.cancel(orders[0].req.client_id, 50), Errc::ok);
  sim.advance(50);
  std::size_t total = 0;
  for (std::size_t n; (n = sim.poll_reports(100, out)) > 0;) {
    total += n;
    for (std::size_t k = 0; k < n; ++k) {
      for (OrderState& st : states) {
        if (st.client_id() == out[k].client_id) (void)apply(st, out[k]);
      }
    }
  }
  EXPECT_EQ(scope.count(), 0u);
  EXPECT_GT(total, orders.size() + 1);  // more than the acknowledgements: fills happened
}

}  // namespace
}  // namespace enigma::oms
