// Pre-trade controls: for each one an order that breaks it and one just inside the limit, on injected
// time. Expected values come from the limits set here, not from the gate.
#include "risk/risk_gate.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "tests/support/alloc_counter.hpp"

namespace enigma::risk {
namespace {

Price px(std::string_view s) { return Price::parse(s).value; }
Rate rt(std::string_view s) { return Rate::parse(s).value; }
Qty qt(std::string_view s) { return Qty::parse(s).value; }
ClientOrderId cid(std::string_view s) { return ClientOrderId::from(s).value; }

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'700'000'000 * kSec;

// Generous defaults so each test only tightens the control it exercises.
RiskConfig loose_config() {
  RiskConfig c;
  c.max_instruments = 8;
  c.max_strategies = 4;
  c.max_open_orders = 64;
  c.max_concurrent_positions = 5;
  c.max_order_notional = Notional::from_units(1'000'000);
  c.max_total_exposure = Notional::from_units(10'000'000);
  c.venue_submit = {1000, 1000};
  c.venue_modify = {1000, 1000};
  c.venue_cancel = {1000, 1000};
  c.strategy_submit = {1000, 1000};
  c.strategy_modify = {1000, 1000};
  c.strategy_cancel = {1000, 1000};
  c.duplicate_window_ns = 0;  // off unless a test turns it on
  return c;
}

InstrumentLimits limits(Venue v = Venue::binance_usdm) {
  InstrumentLimits l;
  l.venue = v;
  l.tick = px("0.01");
  l.max_order_qty = qt("10");
  l.max_position_qty = qt("20");
  return l;
}

class GateTest : public ::testing::Test {
 protected:
  void make(const RiskConfig& cfg) {
    gate_ = std::make_unique<RiskGate>(cfg, kT0);
    for (InstrumentId i = 0; i < 4; ++i) gate_->set_instrument(i, limits());
  }
  void SetUp() override { make(loose_config()); }

  // A 1-lot limit buy at the reference price 100, unlevered, with a fresh client id.
  OrderRequest order(Side side = Side::buy, std::string_view qty = "1", std::string_view price = "100") {
    OrderRequest o;
    o.client_id = cid("c" + std::to_string(++seq_));
    o.instrument = 0;
    o.venue = Venue::binance_usdm;
    o.side = side;
    o.type = OrderType::limit;
    o.price = px(price);
    o.reference_price = px("100");
    o.qty = qt(qty);
    return o;
  }
  RejectReason send(const OrderRequest& o, std::int64_t t = kT0) { return gate_->check_and_reserve(o, t).reason; }
  // Opens a filled position of `qty` on instrument 0.
  void fill_position(Side side, std::string_view qty) {
    OrderRequest o = order(side, qty);
    ASSERT_EQ(send(o), RejectReason::none);
    ASSERT_TRUE(gate_->on_fill(o.client_id, px("100"), qt(qty), kT0));
  }

  std::unique_ptr<RiskGate> gate_;
  int seq_ = 0;
};

TEST_F(GateTest, ConfigValidationNamesTheField) {
  RiskConfig c = loose_config();
  c.max_open_orders = 0;
  try {
    RiskGate g(c);
    FAIL() << "accepted max_open_orders = 0";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("risk.max_open_orders"), std::string::npos) << e.what();
  }
  RiskConfig b = loose_config();
  b.breaker.failure_threshold = 0;
  EXPECT_THROW(RiskGate{b}, Error);
  InstrumentLimits l = limits();
  l.max_order_qty = Qty{};
  try {
    gate_->set_instrument(1, l);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("risk.instrument[1].max_order_qty"), std::string::npos) << e.what();
  }
  EXPECT_THROW(gate_->set_instrument(100, limits()), Error);
  // Plan defaults.
  const RiskConfig d;
  EXPECT_EQ(d.max_concurrent_positions, 5u);
  EXPECT_EQ(d.max_daily_drawdown, rt("0.05"));
  EXPECT_EQ(d.max_consecutive_losses, 5u);
  EXPECT_EQ(d.min_liquidation_buffer, rt("0.05"));
  EXPECT_NO_THROW(d.validate());
}

TEST_F(GateTest, RejectsMalformedRequestsAndUnknownInstruments) {
  OrderRequest o = order();
  o.qty = Qty{};
  EXPECT_EQ(send(o), RejectReason::invalid_request);
  o = order();
  o.price = Price{};  // a limit order without a price
  EXPECT_EQ(send(o), RejectReason::invalid_request);
  o = order();
  o.venue = Venue::unknown;
  EXPECT_EQ(send(o), RejectReason::invalid_request);
  o = order();
  o.instrument = 5;  // within the table but never configured
  EXPECT_EQ(send(o), RejectReason::unknown_instrument);
  o = order();
  o.reference_price = Price{};
  EXPECT_EQ(send(o), RejectReason::no_reference_price);
  EXPECT_EQ(gate_->reject_count(RejectReason::invalid_request), 3u);
  EXPECT_EQ(send(order()), RejectReason::none);
  EXPECT_EQ(gate_->accepted_count(), 1u);
}

TEST_F(GateTest, PriceCollar) {
  // 200 bps around 100: 102 and 98 are on the edge, one raw step beyond is out.
  EXPECT_EQ(send(order(Side::buy, "1", "102")), RejectReason::none);
  EXPECT_EQ(send(order(Side::sell, "1", "98")), RejectReason::none);
  EXPECT_EQ(send(order(Side::buy, "1", "102.0000000001")), RejectReason::price_collar);
  EXPECT_EQ(send(order(Side::sell, "1", "97.9999999999")), RejectReason::price_collar);
  // Market orders have no limit price to collar.
  OrderRequest m = order();
  m.type = OrderType::market;
  m.price = Price{};
  EXPECT_EQ(send(m), RejectReason::none);
}

TEST_F(GateTest, MaxOrderQty) {
  EXPECT_EQ(send(order(Side::buy, "10")), RejectReason::none);
  EXPECT_EQ(send(order(Side::buy, "10.0000000001")), RejectReason::max_order_qty);
}

TEST_F(GateTest, MaxOrderNotionalUsesTheMultiplier) {
  RiskConfig c = loose_config();
  c.max_order_notional = Notional::from_units(1000);
  make(c);
  EXPECT_EQ(send(order(Side::buy, "10", "100")), RejectReason::none);  // exactly 1000
  EXPECT_EQ(send(order(Side::buy, "10", "100.01")), RejectReason::max_order_notional);
  // KuCoin-style contract: 0.001 base per lot, so 10000 lots at 100 are 1000.
  InstrumentLimits k = limits(Venue::kucoin_futures);
  k.multiplier = qt("0.001");
  k.max_order_qty = qt("100000");
  k.max_position_qty = qt("100000");
  gate_->set_instrument(1, k);
  OrderRequest o = order(Side::buy, "10000");
  o.instrument = 1;
  o.venue = Venue::kucoin_futures;
  EXPECT_EQ(send(o), RejectReason::none);
  o = order(Side::buy, "10001");
  o.instrument = 1;
  o.venue = Venue::kucoin_futures;
  EXPECT_EQ(send(o), RejectReason::max_order_notional);
}

TEST_F(GateTest, MaxPositionCountsWorkingOrdersAtOnce) {
  // Nothing is filled or acknowledged: orders count as soon as they are sent.
  EXPECT_EQ(send(order(Side::buy, "10")), RejectReason::none);
  EXPECT_EQ(send(order(Side::buy, "10", "100.01")), RejectReason::none);  // 20 = the limit
  EXPECT_EQ(send(order(Side::buy, "0.0001", "100.02")), RejectReason::max_position);
  // The other side is judged on its own worst case.
  EXPECT_EQ(send(order(Side::sell, "10")), RejectReason::none);
}

TEST_F(GateTest, MaxPositionAfterFillsAndReducingOrdersPass) {
  fill_position(Side::buy, "10");
  fill_position(Side::buy, "10");
  EXPECT_EQ(gate_->position(0), qt("20"));
  EXPECT_EQ(send(order(Side::buy, "1", "100.01")), RejectReason::max_position);
  // Selling reduces the long: allowed even at the limit.
  EXPECT_EQ(send(order(Side::sell, "5")), RejectReason::none);
}

TEST_F(GateTest, MaxTotalExposure) {
  RiskConfig c = loose_config();
  c.max_total_exposure = Notional::from_units(3000);
  make(c);
  EXPECT_EQ(send(order(Side::buy, "10")), RejectReason::none);  // 1000
  EXPECT_EQ(send(order(Side::buy, "10", "100.01")), RejectReason::none);  // 2000 at the 100 mark
  OrderRequest o = order(Side::buy, "10");
  o.instrument = 1;
  EXPECT_EQ(send(o), RejectReason::none);  // 3000: the limit
  EXPECT_EQ(gate_->total_exposure(), Notional::from_units(3000));
  o = order(Side::buy, "0.001");
  o.instrument = 2;
  EXPECT_EQ(send(o), RejectReason::max_exposure);
}

TEST_F(GateTest, MaxOpenOrdersReleasedOnCancel) {
  RiskConfig c = loose_config();
  c.max_open_orders = 3;
  make(c);
  OrderRequest first = order();
  EXPECT_EQ(send(first), RejectReason::none);
  EXPECT_EQ(send(order(Side::buy, "1", "100.01")), RejectReason::none);
  EXPECT_EQ(send(order(Side::buy, "1", "100.02")), RejectReason::none);
  EXPECT_EQ(send(order(Side::buy, "1", "100.03")), RejectReason::max_open_orders);
  EXPECT_TRUE(gate_->on_cancel(first.client_id, kT0));
  EXPECT_FALSE(gate_->on_cancel(first.client_id, kT0));  // already final
  EXPECT_EQ(send(order(Side::buy, "1", "100.03")), RejectReason::none);
}

TEST_F(GateTest, MaxConcurrentPositions) {
  RiskConfig c = loose_config();
  c.max_concurrent_positions = 2;
  make(c);
  OrderRequest a = order();
  OrderRequest b = order();
  b.instrument = 1;
  OrderRequest x = order();
  x.instrument = 2;
  EXPECT_EQ(send(a), RejectReason::none);
  EXPECT_EQ(send(b), RejectReason::none);
  EXPECT_EQ(gate_->engaged_instruments(), 2u);
  EXPECT_EQ(send(x), RejectReason::max_positions);
  // A second order on an instrument already engaged is not a new position.
  EXPECT_EQ(send(order(Side::buy, "1", "100.01")), RejectReason::none);
  EXPECT_TRUE(gate_->on_cancel(b.client_id, kT0));
  x.client_id = cid("x2");
  EXPECT_EQ(send(x), RejectReason::none);
}

TEST_F(GateTest, MaxConcurrentPositionsZeroIsNoLimit) {
  RiskConfig c = loose_config();
  c.max_concurrent_positions = 0;
  make(c);
  for (InstrumentId i = 0; i < 3; ++i) {
    OrderRequest o = order();
    o.instrument = i;
    EXPECT_EQ(send(o), RejectReason::none) << i;
  }
  EXPECT_EQ(gate_->engaged_instruments(), 3u);
  EXPECT_EQ(gate_->reject_count(RejectReason::max_positions), 0u);
}

TEST_F(GateTest, VenueMessageBudgetRefillsOnInjectedTime) {
  RiskConfig c = loose_config();
  c.venue_submit = {1, 3};  // 1/s, burst 3
  make(c);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(send(order(Side::buy, "1", "100")), RejectReason::none) << i;
  EXPECT_EQ(send(order(Side::buy, "1", "100")), RejectReason::venue_rate_limit);
  EXPECT_EQ(send(order(Side::buy, "1", "100"), kT0 + kSec - 1), RejectReason::venue_rate_limit);
  EXPECT_EQ(send(order(Side::buy, "1", "100"), kT0 + kSec), RejectReason::none);
  // Another venue has its own budget.
  gate_->set_instrument(1, limits(Venue::okx));
  OrderRequest o = order();
  o.instrument = 1;
  o.venue = Venue::okx;
  EXPECT_EQ(send(o, kT0 + kSec), RejectReason::none);
}

TEST_F(GateTest, StrategyBudgetsSeparateSubmitModifyCancel) {
  RiskConfig c = loose_config();
  c.strategy_submit = {1, 2};
  c.strategy_modify = {1, 1};
  c.strategy_cancel = {1, 1};
  make(c);
  OrderRequest a = order();
  EXPECT_EQ(send(a), RejectReason::none);
  EXPECT_EQ(send(order(Side::buy, "1", "100.01")), RejectReason::none);
  EXPECT_EQ(send(order(Side::buy, "1", "100.02")), RejectReason::strategy_rate_limit);
  OrderRequest other = order(Side::buy, "1", "100.02");
  other.strategy = 1;  // a different strategy is unaffected
  EXPECT_EQ(send(other), RejectReason::none);
  // Submit budget exhausted, modify and cancel budgets are separate.
  EXPECT_EQ(gate_->check_modify(a.client_id, px("99.5"), qt("1"), px("100"), kT0).reason, RejectReason::none);
  EXPECT_EQ(gate_->check_modify(a.client_id, px("99.4"), qt("1"), px("100"), kT0).reason, RejectReason::strategy_rate_limit);
  EXPECT_EQ(gate_->check_cancel(a.client_id, kT0).reason, RejectReason::none);
  EXPECT_EQ(gate_->check_cancel(a.client_id, kT0).reason, RejectReason::strategy_rate_limit);
  EXPECT_EQ(gate_->check_cancel(a.client_id, kT0 + kSec).reason, RejectReason::none);
  EXPECT_EQ(gate_->check_cancel(cid("nope"), kT0 + kSec).reason, RejectReason::unknown_order);
}

TEST_F(GateTest, ModifyIsCheckedAndUpdatesTheReservation) {
  OrderRequest a = order(Side::buy, "10");
  EXPECT_EQ(send(a), RejectReason::none);
  EXPECT_EQ(gate_->check_modify(a.client_id, px("103"), qt("10"), px("100"), kT0).reason, RejectReason::price_collar);
  EXPECT_EQ(gate_->check_modify(a.client_id, px("99"), qt("11"), px("100"), kT0).reason, RejectReason::max_order_qty);
  EXPECT_EQ(gate_->check_modify(a.client_id, px("99"), qt("4"), px("100"), kT0).reason, RejectReason::none);
  EXPECT_EQ(gate_->working_buy(0), qt("4"));
  EXPECT_EQ(send(order(Side::buy, "10", "100.01")), RejectReason::none);  // 14 working
  EXPECT_EQ(gate_->check_modify(a.client_id, px("99"), qt("10"), px("100"), kT0).reason, RejectReason::none);  // 20
  EXPECT_EQ(gate_->check_modify(a.client_id, px("99"), qt("10.001"), px("100"), kT0).reason, RejectReason::max_order_qty);
}

TEST_F(GateTest, RepeatedExecutionThrottleDisablesUntilAPersonReEnables) {
  RiskConfig c = loose_config();
  c.max_fills_in_window = 3;
  c.fill_window_ns = kSec;
  make(c);
  OrderRequest a = order(Side::buy, "9");
  ASSERT_EQ(send(a), RejectReason::none);
  // Three fills spread over more than the window: allowed.
  EXPECT_TRUE(gate_->on_fill(a.client_id, px("100"), qt("1"), kT0));
  EXPECT_TRUE(gate_->on_fill(a.client_id, px("100"), qt("1"), kT0 + kSec / 2));
  EXPECT_TRUE(gate_->on_fill(a.client_id, px("100"), qt("1"), kT0 + kSec + 1));
  EXPECT_EQ(gate_->strategy_block(0), RejectReason::none);
  // The 4th fill makes 3 within one second (t0+0.5 s, t0+1 s+1, t0+1.5 s).
  EXPECT_TRUE(gate_->on_fill(a.client_id, px("100"), qt("1"), kT0 + kSec + kSec / 2));
  EXPECT_EQ(gate_->strategy_block(0), RejectReason::execution_throttle);
  EXPECT_EQ(send(order(Side::buy, "1", "100.01"), kT0 + 2 * kSec), RejectReason::execution_throttle);
  // Closing the long stays possible; another strategy is unaffected.
  EXPECT_EQ(send(order(Side::sell, "4"), kT0 + 2 * kSec), RejectReason::none);
  OrderRequest other = order(Side::buy, "1", "100.02");
  other.strategy = 1;
  EXPECT_EQ(send(other, kT0 + 2 * kSec), RejectReason::none);
  // Time alone does not re-enable it; a person does.
  EXPECT_EQ(send(order(Side::buy, "1", "100.03"), kT0 + 100 * kSec), RejectReason::execution_throttle);
  gate_->enable_strategy(0);
  EXPECT_EQ(send(order(Side::buy, "1", "100.03"), kT0 + 100 * kSec), RejectReason::none);
}

TEST_F(GateTest, DuplicateClientIdAndDuplicateOrder) {
  RiskConfig c = loose_config();
  c.duplicate_window_ns = 500'000'000;
  make(c);
  OrderRequest a = order();
  EXPECT_EQ(send(a), RejectReason::none);
  OrderRequest same_id = order(Side::sell, "2", "99");
  same_id.client_id = a.client_id;
  EXPECT_EQ(send(same_id), RejectReason::duplicate_client_id);
  // Still a duplicate after the first order is gone: ids are never reused.
  gate_->on_cancel(a.client_id, kT0);
  EXPECT_EQ(send(same_id, kT0 + 10 * kSec), RejectReason::duplicate_client_id);
  // Same strategy/instrument/side/price/qty under a new id within 500 ms.
  EXPECT_EQ(send(order(), kT0 + 499'999'999), RejectReason::duplicate_order);
  EXPECT_EQ(send(order(Side::buy, "2"), kT0 + 1), RejectReason::none);  // different qty
  EXPECT_EQ(send(order(), kT0 + 500'000'000), RejectReason::none);     // window passed
}

// A bracket's stop-loss and take-profit legs share side, qty and (zero) limit price: they are two
// orders, not one sent twice. Resending the same leg is still a duplicate.
TEST_F(GateTest, BracketLegsAreNotDuplicatesOfEachOther) {
  RiskConfig c = loose_config();
  c.duplicate_window_ns = 500'000'000;
  make(c);
  fill_position(Side::buy, "2");
  auto leg = [&](OrderType type, std::string_view trigger) {
    OrderRequest o = order(Side::sell, "2");
    o.type = type;
    o.price = Price{};
    o.stop_price = px(trigger);
    o.reduce_only = true;
    return o;
  };
  EXPECT_EQ(send(leg(OrderType::stop_market, "96"), kT0 + 1), RejectReason::none);
  EXPECT_EQ(send(leg(OrderType::take_profit_market, "108"), kT0 + 2), RejectReason::none);
  EXPECT_EQ(send(leg(OrderType::stop_market, "96"), kT0 + 3), RejectReason::duplicate_order);
}

TEST_F(GateTest, DailyDrawdownLatchesReducing) {
  gate_->start_day(Notional::from_units(10'000));
  fill_position(Side::buy, "5");
  gate_->update_equity(Notional::parse("9500.00000001").value, kT0);  // 4.99999.. %
  EXPECT_EQ(gate_->state(), TradingState::active);
  gate_->update_equity(Notional::from_units(9'500), kT0);  // 5 %
  EXPECT_EQ(gate_->state(), TradingState::reducing);
  EXPECT_EQ(gate_->state_cause(), RejectReason::daily_drawdown);
  EXPECT_EQ(send(order(Side::buy, "1", "100.01")), RejectReason::daily_drawdown);
  EXPECT_EQ(send(order(Side::sell, "5")), RejectReason::none);  // reduces the long
  // Recovering equity does not unlatch; a person does.
  gate_->update_equity(Notional::from_units(11'000), kT0);
  EXPECT_EQ(gate_->state(), TradingState::reducing);
  gate_->set_state(TradingState::active);
  EXPECT_EQ(send(order(Side::buy, "1", "100.02")), RejectReason::none);
}

TEST_F(GateTest, TradingStateLatch) {
  OrderRequest a = order();
  ASSERT_EQ(send(a), RejectReason::none);
  gate_->set_state(TradingState::reducing);
  EXPECT_EQ(send(order(Side::buy, "1", "100.01")), RejectReason::reducing_only);
  gate_->set_state(TradingState::halted);
  EXPECT_EQ(send(order(Side::sell, "1")), RejectReason::halted);
  EXPECT_EQ(gate_->check_modify(a.client_id, px("99"), qt("1"), px("100"), kT0).reason, RejectReason::halted);
  EXPECT_EQ(gate_->check_cancel(a.client_id, kT0).reason, RejectReason::none);  // only cancels pass
  // Drawdown while HALTED does not de-escalate to REDUCING.
  gate_->start_day(Notional::from_units(100));
  gate_->update_equity(Notional::from_units(1), kT0);
  EXPECT_EQ(gate_->state(), TradingState::halted);
  gate_->set_state(TradingState::active);
  EXPECT_EQ(send(order(Side::buy, "1", "100.01")), RejectReason::none);
}

TEST_F(GateTest, ConsecutiveLossLimit) {
  for (int i = 0; i < 4; ++i) gate_->on_trade_closed(0, Notional::from_units(-1), kT0);
  gate_->on_trade_closed(0, Notional::from_units(2), kT0);  // a win resets the count
  for (int i = 0; i < 4; ++i) gate_->on_trade_closed(0, Notional::from_units(-1), kT0);
  EXPECT_EQ(send(order()), RejectReason::none);
  gate_->on_trade_closed(0, Notional::from_units(-1), kT0);  // 5th in a row
  EXPECT_EQ(send(order(Side::buy, "1", "100.01")), RejectReason::consecutive_losses);
  gate_->enable_strategy(0);
  EXPECT_EQ(send(order(Side::buy, "1", "100.01")), RejectReason::none);
}

TEST_F(GateTest, LiquidationBufferAndStopLoss) {
  // 50x on 100 with mmr 0.5 %: liquidation 98.5, so the stop must be >= 98.5 + 5 % x 1.5 = 98.575.
  OrderRequest o = order();
  o.leverage = 50;
  EXPECT_EQ(send(o), RejectReason::missing_stop_loss);
  o.client_id = cid("l1");
  o.stop_loss = px("98.575");
  EXPECT_EQ(send(o), RejectReason::none);
  OrderRequest bad = order(Side::buy, "2");
  bad.leverage = 50;
  bad.stop_loss = px("98.5749");
  EXPECT_EQ(send(bad), RejectReason::liquidation_buffer);
  // Short mirrored: liquidation 101.5, stop <= 101.425.
  OrderRequest s = order(Side::sell, "1");
  s.leverage = 50;
  s.stop_loss = px("101.4251");
  EXPECT_EQ(send(s), RejectReason::liquidation_buffer);
  s.stop_loss = px("101.425");
  EXPECT_EQ(send(s), RejectReason::none);
}

TEST_F(GateTest, FeeAdjustedBreakEven) {
  // 50x, taker 0.0006, buffer 0.05 -> 6.05 % ROI = 0.121 % price: a target of 100.121 is the minimum.
  OrderRequest o = order();
  o.leverage = 50;
  o.stop_loss = px("99.99");
  o.take_profit = px("100.1209");
  EXPECT_EQ(send(o), RejectReason::below_break_even);
  o.take_profit = px("100.121");
  EXPECT_EQ(send(o), RejectReason::none);
  OrderRequest s = order(Side::sell, "1");
  s.leverage = 50;
  s.stop_loss = px("100.01");
  s.take_profit = px("99.88");  // 0.12 % = 6.0 % ROI
  EXPECT_EQ(send(s), RejectReason::below_break_even);
}

TEST_F(GateTest, VolatilityAdjustedLeverageCap) {
  gate_->set_volatility(0, rt("0.04"));  // twice the 2 % reference -> 50x becomes 25x
  EXPECT_EQ(gate_->leverage_cap(0), 25);
  OrderRequest o = order();
  o.leverage = 26;
  o.stop_loss = px("99");
  EXPECT_EQ(send(o), RejectReason::leverage_cap);
  o.leverage = 25;
  EXPECT_EQ(send(o), RejectReason::none);
  OrderRequest m = order(Side::buy, "1", "100.01");
  m.leverage = 51;  // above the instrument's own maximum even at low volatility
  m.stop_loss = px("99.5");
  gate_->set_volatility(0, rt("0.01"));
  EXPECT_EQ(send(m), RejectReason::leverage_cap);
}

TEST_F(GateTest, CircuitBreakerBlocksOpeningOrders) {
  RiskConfig c = loose_config();
  c.breaker.failure_threshold = 2;
  c.breaker.cooldown_ns = 10 * kSec;
  make(c);
  fill_position(Side::buy, "3");
  OrderRequest a = order(Side::buy, "1", "100.01");
  OrderRequest b = order(Side::buy, "1", "100.02");
  ASSERT_EQ(send(a), RejectReason::none);
  ASSERT_EQ(send(b), RejectReason::none);
  gate_->on_reject(a.client_id, kT0);
  EXPECT_EQ(send(order(Side::buy, "1", "100.03")), RejectReason::none);
  gate_->on_reject(b.client_id, kT0);
  EXPECT_EQ(gate_->breaker().state(kT0), BreakerState::open);
  EXPECT_EQ(send(order(Side::buy, "1", "100.04")), RejectReason::circuit_open);
  EXPECT_EQ(send(order(Side::sell, "1")), RejectReason::none);  // reducing passes
  // After the cool-down the breaker lets a probe through.
  EXPECT_EQ(send(order(Side::buy, "1", "100.04"), kT0 + 10 * kSec), RejectReason::none);
}

// Instruments 0 and 1 share a correlation group capped at 1500 (hand-computed: unlevered, multiplier 1,
// reference 100, so a 5-lot order is worth 500); instrument 2 is outside it.
TEST_F(GateTest, GroupExposureCapSpansTheGroupOnly) {
  RiskConfig c = loose_config();
  c.max_group_exposure = Notional::from_units(1500);
  gate_ = std::make_unique<RiskGate>(c, kT0);
  InstrumentLimits grouped = limits();
  grouped.group = 1;
  gate_->set_instrument(0, grouped);
  gate_->set_instrument(1, grouped);
  gate_->set_instrument(2, limits());
  OrderRequest a = order(Side::buy, "5");   // group: 500
  ASSERT_EQ(send(a), RejectReason::none);
  OrderRequest b = order(Side::buy, "10");  // group: 1500, at the cap
  b.instrument = 1;
  ASSERT_EQ(send(b), RejectReason::none);
  EXPECT_EQ(gate_->group_exposure(1), Notional::from_units(1500));
  OrderRequest over = order(Side::sell, "1", "100.5");  // instrument 1 again: 1600 > 1500
  over.instrument = 1;
  over.side = Side::buy;
  EXPECT_EQ(send(over), RejectReason::max_group_exposure);
  OrderRequest outside = order(Side::buy, "10");  // instrument 2 has no group: only the account cap applies
  outside.instrument = 2;
  EXPECT_EQ(send(outside), RejectReason::none);
  ASSERT_TRUE(gate_->on_cancel(a.client_id, kT0));  // 500 released: 1000 + 100 fits again
  EXPECT_EQ(send(over), RejectReason::none);
}

TEST_F(GateTest, ProtectiveExitsPassHaltAndKill) {
  fill_position(Side::buy, "2");
  std::array<ClientOrderId, 64> out{};
  (void)gate_->kill_switch().trigger(KillScope::everything(), out);
  gate_->set_state(TradingState::halted);
  EXPECT_EQ(send(order(Side::buy, "1", "100.01")), RejectReason::kill_switch) << "new risk is refused";
  OrderRequest close = order(Side::sell, "2", "100");
  close.type = OrderType::market;
  close.price = Price{};
  close.reduce_only = true;
  EXPECT_EQ(send(close), RejectReason::none) << "a reduce-only close of the long passes";
  OrderRequest wrong_way = order(Side::buy, "1", "100.02");
  wrong_way.reduce_only = true;  // reduce-only but on the position's side: it cannot protect anything
  EXPECT_NE(send(wrong_way), RejectReason::none);
}

TEST_F(GateTest, KillSwitchThroughTheGate) {
  OrderRequest a = order();
  OrderRequest b = order(Side::sell, "1", "100.5");
  ASSERT_EQ(send(a), RejectReason::none);
  ASSERT_EQ(send(b), RejectReason::none);
  std::array<ClientOrderId, 64> out{};
  EXPECT_EQ(gate_->kill_switch().trigger(KillScope::of_instrument(0), out), 2u);
  EXPECT_EQ(send(order(Side::buy, "1", "100.01")), RejectReason::kill_switch);
  OrderRequest other = order();
  other.instrument = 1;
  EXPECT_EQ(send(other), RejectReason::none);  // outside the scope
  EXPECT_EQ(gate_->check_cancel(a.client_id, kT0).reason, RejectReason::none);  // cancels still pass
  gate_->kill_switch().reset();
  EXPECT_EQ(send(order(Side::buy, "1", "100.01")), RejectReason::none);
}

TEST_F(GateTest, FillsMovePositionAndReleaseWorkingQty) {
  OrderRequest a = order(Side::buy, "10");
  ASSERT_EQ(send(a), RejectReason::none);
  EXPECT_TRUE(gate_->on_ack(a.client_id, kT0));
  EXPECT_TRUE(gate_->on_fill(a.client_id, px("100"), qt("4"), kT0));
  EXPECT_EQ(gate_->position(0), qt("4"));
  EXPECT_EQ(gate_->working_buy(0), qt("6"));
  EXPECT_EQ(gate_->open_orders(), 1u);
  EXPECT_TRUE(gate_->on_fill(a.client_id, px("101"), qt("7"), kT0));  // over-fill capped at what is working
  EXPECT_EQ(gate_->position(0), qt("10"));
  EXPECT_EQ(gate_->working_buy(0), qt("0"));
  EXPECT_EQ(gate_->open_orders(), 0u);
  EXPECT_EQ(gate_->total_exposure(), Notional::from_units(1010));  // marked at the last fill, 101
  EXPECT_FALSE(gate_->on_fill(a.client_id, px("101"), qt("1"), kT0));  // final: ignored
}

TEST_F(GateTest, CheckAllocatesNothing) {
  fill_position(Side::buy, "2");
  OrderRequest orders[64];
  for (int i = 0; i < 64; ++i) orders[i] = order(Side::buy, "0.1", i % 2 ? "100.01" : "100");
  test::AllocationScope scope;
  for (int i = 0; i < 64; ++i) {
    (void)gate_->check_and_reserve(orders[i], kT0 + i);
    (void)gate_->check_modify(orders[i].client_id, px("99.9"), qt("0.2"), px("100"), kT0 + i);
    (void)gate_->check_cancel(orders[i].client_id, kT0 + i);
  }
  for (int i = 0; i < 32; ++i) gate_->on_fill(orders[i].client_id, px("100"), qt("0.2"), kT0 + 100);
  for (int i = 32; i < 64; ++i) gate_->on_cancel(orders[i].client_id, kT0 + 100);
  std::array<ClientOrderId, 64> out{};
  (void)gate_->kill_switch().trigger(KillScope::everything(), out);
  EXPECT_EQ(scope.count(), 0u);
  EXPECT_EQ(gate_->position(0), qt("8.4"));  // 2 + 32 x 0.2
}

}  // namespace
}  // namespace enigma::risk
