// Token bucket, circuit breaker, kill switch and the emergency-stop sequence, on injected time.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "risk/circuit_breaker.hpp"
#include "risk/emergency_stop.hpp"
#include "risk/kill_switch.hpp"
#include "risk/risk_gate.hpp"
#include "risk/token_bucket.hpp"

namespace enigma::risk {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'000 * kSec;

Price px(std::string_view s) { return Price::parse(s).value; }
Qty qt(std::string_view s) { return Qty::parse(s).value; }
ClientOrderId cid(std::string_view s) { return ClientOrderId::from(s).value; }

TEST(RiskTokenBucket, RefillsExactlyOnInjectedTime) {
  TokenBucket b({10, 2}, kT0);  // 10/s: one token per 100 ms, burst 2
  ASSERT_TRUE(b.can_take(kT0));
  b.take();
  ASSERT_TRUE(b.can_take(kT0));
  b.take();
  EXPECT_FALSE(b.can_take(kT0));
  EXPECT_FALSE(b.can_take(kT0 + 99'999'999));
  EXPECT_TRUE(b.can_take(kT0 + 100'000'000));
  b.take();
  // Time going backwards adds nothing.
  EXPECT_FALSE(b.can_take(kT0));
  // A long gap fills to the burst, not beyond.
  EXPECT_TRUE(b.can_take(kT0 + 3600 * kSec));
  EXPECT_EQ(b.available(), 2);
}

TEST(RiskCircuitBreaker, Transitions) {
  CircuitBreakerConfig c;
  c.failure_threshold = 3;
  c.cooldown_ns = 30 * kSec;
  CircuitBreaker br(c);
  br.record_failure(kT0);
  br.record_failure(kT0);
  br.record_success(kT0);  // breaks the run
  br.record_failure(kT0);
  br.record_failure(kT0);
  EXPECT_EQ(br.state(kT0), BreakerState::closed);
  br.record_failure(kT0 + 1);
  EXPECT_EQ(br.state(kT0 + 1), BreakerState::open);
  EXPECT_EQ(br.state(kT0 + 1 + 30 * kSec - 1), BreakerState::open);
  EXPECT_EQ(br.state(kT0 + 1 + 30 * kSec), BreakerState::half_open);
  // A failure in HALF_OPEN reopens with a fresh cool-down.
  br.record_failure(kT0 + 40 * kSec);
  EXPECT_EQ(br.state(kT0 + 40 * kSec + 29 * kSec), BreakerState::open);
  EXPECT_EQ(br.state(kT0 + 70 * kSec), BreakerState::half_open);
  br.record_success(kT0 + 70 * kSec);
  EXPECT_EQ(br.state(kT0 + 70 * kSec), BreakerState::closed);
  EXPECT_EQ(to_string(BreakerState::half_open), "HALF_OPEN");
}

TEST(RiskCircuitBreaker, LossRateTrigger) {
  CircuitBreakerConfig c;
  c.loss_window_trades = 10;
  c.max_loss_rate = Rate::parse("0.7").value;
  CircuitBreaker br(c);
  // 4 wins then 6 losses: 60 % of the last 10, below the 70 % trigger.
  for (int i = 0; i < 10; ++i) br.record_trade(i >= 4, kT0);
  EXPECT_EQ(br.state(kT0), BreakerState::closed);
  // One more loss pushes the oldest win out: 7 of 10 -> OPEN.
  br.record_trade(true, kT0);
  EXPECT_EQ(br.state(kT0), BreakerState::open);
  // A partial window never trips it, however bad.
  CircuitBreaker fresh(c);
  for (int i = 0; i < 9; ++i) fresh.record_trade(true, kT0);
  EXPECT_EQ(fresh.state(kT0), BreakerState::closed);
}

TEST(RiskKillSwitch, ScopesLatchAndReset) {
  KillSwitch ks(16);
  auto add = [&](std::string_view id, Venue v, StrategyId s, InstrumentId i) {
    WorkingOrder w;
    w.id = cid(id);
    w.hash = w.id.hash();
    w.venue = v;
    w.strategy = s;
    w.instrument = i;
    w.remaining = qt("1");
    ASSERT_TRUE(ks.orders().add(w));
  };
  add("a", Venue::binance_usdm, 0, 1);
  add("b", Venue::binance_usdm, 1, 2);
  add("c", Venue::kucoin_futures, 1, 3);
  add("d", Venue::kucoin_futures, 2, 3);
  std::array<ClientOrderId, 16> out{};
  auto ids = [&](std::size_t n) {
    std::vector<std::string> v;
    for (std::size_t i = 0; i < n; ++i) v.emplace_back(out[i].view());
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_FALSE(ks.latched());
  std::size_t n = ks.trigger(KillScope::of_venue(Venue::kucoin_futures), out);
  EXPECT_EQ(ids(n), (std::vector<std::string>{"c", "d"}));
  EXPECT_TRUE(ks.blocks(Venue::kucoin_futures, 0, 9));
  EXPECT_FALSE(ks.blocks(Venue::binance_usdm, 1, 2));
  n = ks.trigger(KillScope::of_strategy(1), out);
  EXPECT_EQ(ids(n), (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE(ks.blocks(Venue::binance_usdm, 1, 2));
  EXPECT_FALSE(ks.blocks(Venue::binance_usdm, 0, 1));
  n = ks.trigger(KillScope::of_instrument(1), out);
  EXPECT_EQ(ids(n), (std::vector<std::string>{"a"}));
  // Only a person's reset unlatches.
  EXPECT_TRUE(ks.latched());
  ks.reset();
  EXPECT_FALSE(ks.blocks(Venue::kucoin_futures, 2, 3));
  n = ks.trigger(KillScope::everything(), out);
  EXPECT_EQ(ids(n), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_TRUE(ks.blocks(Venue::okx, 3, 7));
  // A short output span still reports how many are in scope.
  std::array<ClientOrderId, 2> small{};
  EXPECT_EQ(ks.trigger(KillScope::everything(), small), 4u);
  // Removal keeps the registry consistent.
  EXPECT_TRUE(ks.orders().remove(cid("a")));
  EXPECT_FALSE(ks.orders().remove(cid("a")));
  EXPECT_NE(ks.orders().find(cid("d")), nullptr);
  EXPECT_EQ(ks.orders().size(), 3u);
}

TEST(RiskKillSwitch, TooManyScopesWidensToEverything) {
  KillSwitch ks(4);
  std::array<ClientOrderId, 4> out{};
  for (InstrumentId i = 0; i < KillSwitch::kMaxLatchedScopes; ++i) ks.trigger(KillScope::of_instrument(i), out);
  EXPECT_FALSE(ks.blocks(Venue::okx, 0, 100));
  ks.trigger(KillScope::of_instrument(100), out);
  EXPECT_TRUE(ks.blocks(Venue::okx, 0, 200));  // fail safe: everything
}

TEST(RiskKillSwitch, RegistryChurnKeepsIndexConsistent) {
  KillSwitch ks(128);
  std::vector<std::string> live;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 100; ++i) {
      WorkingOrder w;
      w.id = cid("r" + std::to_string(round) + "-" + std::to_string(i));
      w.hash = w.id.hash();
      if (ks.orders().size() < ks.orders().capacity()) {
        ASSERT_TRUE(ks.orders().add(w));
        live.emplace_back(w.id.view());
      }
    }
    // Remove every other live order.
    std::vector<std::string> keep;
    for (std::size_t i = 0; i < live.size(); ++i) {
      if (i % 2 == 0) {
        ASSERT_TRUE(ks.orders().remove(cid(live[i])));
      } else {
        keep.push_back(live[i]);
      }
    }
    live = keep;
    ASSERT_EQ(ks.orders().size(), live.size());
    for (const auto& id : live) ASSERT_NE(ks.orders().find(cid(id)), nullptr) << id;
  }
}

class RecordingActions : public EmergencyActions {
 public:
  void halt_signals() override { steps.push_back("halt"); }
  void cancel_orders(std::span<const ClientOrderId> ids) override {
    steps.push_back("cancel");
    for (const auto& id : ids) cancels.emplace_back(id.view());
  }
  void close_positions(std::span<const OrderRequest> c) override {
    steps.push_back("close");
    closes.assign(c.begin(), c.end());
  }
  void persist_state() override { steps.push_back("persist"); }
  void raise_alert(std::string_view reason) override {
    steps.push_back("alert");
    alert = std::string(reason);
  }
  std::vector<std::string> steps, cancels;
  std::vector<OrderRequest> closes;
  std::string alert;
};

TEST(RiskEmergencyStop, RunsThePlanSequenceInOrder) {
  RiskConfig cfg;
  cfg.max_instruments = 4;
  cfg.max_strategies = 2;
  cfg.duplicate_window_ns = 0;
  RiskGate gate(cfg, kT0);
  InstrumentLimits l;
  l.venue = Venue::kucoin_futures;
  l.max_order_qty = qt("10");
  l.max_position_qty = qt("10");
  gate.set_instrument(0, l);
  l.venue = Venue::binance_usdm;
  gate.set_instrument(1, l);
  auto send = [&](std::string_view id, InstrumentId inst, Side side, std::string_view qty) {
    OrderRequest o;
    o.client_id = cid(id);
    o.instrument = inst;
    o.venue = inst == 0 ? Venue::kucoin_futures : Venue::binance_usdm;
    o.side = side;
    o.price = px("100");
    o.reference_price = px("100");
    o.qty = qt(qty);
    EXPECT_TRUE(gate.check_and_reserve(o, kT0).accepted()) << id;
  };
  send("long", 0, Side::buy, "3");
  ASSERT_TRUE(gate.on_fill(cid("long"), px("100"), qt("3"), kT0));
  send("short", 1, Side::sell, "2");
  ASSERT_TRUE(gate.on_fill(cid("short"), px("100"), qt("2"), kT0));
  send("resting1", 0, Side::buy, "1");
  send("resting2", 1, Side::sell, "1");
  {  // the long's protective stop: reduce-only, it keeps working until the position is flat
    OrderRequest o;
    o.client_id = cid("stop1");
    o.instrument = 0;
    o.venue = Venue::kucoin_futures;
    o.side = Side::sell;
    o.type = OrderType::stop_market;
    o.stop_price = px("95");
    o.reference_price = px("100");
    o.qty = qt("3");
    o.reduce_only = true;
    ASSERT_TRUE(gate.check_and_reserve(o, kT0).accepted());
  }

  EmergencyStop stop(gate);
  RecordingActions act;
  EXPECT_EQ(stop.run(act, "feed stale 5 s", kT0 + kSec), 2u);
  EXPECT_EQ(act.steps, (std::vector<std::string>{"halt", "cancel", "close", "persist", "alert"}));
  ASSERT_EQ(stop.completed().size(), kEmergencyStepCount);
  EXPECT_EQ(stop.completed()[0], EmergencyStep::halt_signals);
  EXPECT_EQ(stop.completed()[4], EmergencyStep::raise_alert);
  std::sort(act.cancels.begin(), act.cancels.end());
  EXPECT_EQ(act.cancels, (std::vector<std::string>{"resting1", "resting2"}));  // not the stop
  ASSERT_EQ(act.closes.size(), 2u);
  EXPECT_EQ(act.closes[0].side, Side::sell);  // closes the 3-lot long
  EXPECT_EQ(act.closes[0].qty, qt("3"));
  EXPECT_EQ(act.closes[0].venue, Venue::kucoin_futures);
  EXPECT_EQ(act.closes[0].type, OrderType::market);
  EXPECT_TRUE(act.closes[0].reduce_only);
  EXPECT_EQ(act.closes[1].side, Side::buy);
  EXPECT_EQ(act.closes[1].qty, qt("2"));
  EXPECT_EQ(act.alert, "feed stale 5 s");
  // Afterwards nothing new passes, and the close fills flatten the book.
  EXPECT_EQ(gate.state(), TradingState::halted);
  EXPECT_TRUE(gate.kill_switch().latched());
  EXPECT_TRUE(gate.on_fill(act.closes[0].client_id, px("99"), qt("3"), kT0 + 2 * kSec));
  EXPECT_TRUE(gate.on_fill(act.closes[1].client_id, px("99"), qt("2"), kT0 + 2 * kSec));
  EXPECT_TRUE(gate.position(0).is_zero());
  EXPECT_TRUE(gate.position(1).is_zero());
}

}  // namespace
}  // namespace enigma::risk
