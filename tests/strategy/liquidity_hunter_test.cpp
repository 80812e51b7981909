// kind = "liquidity-hunter" on hand-built books and trades: each rule of its header (pulled behind the touch,
// not at it; eaten only after enough traded at the wall; absorbed once while it stands; out of sight; the
// reference price, cooldown and bracket), worked by hand, and no allocation on any call.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "strategy/strategies/liquidity_hunter.hpp"
#include "tests/support/alloc_counter.hpp"

namespace enigma::strategy {
namespace {

constexpr InstrumentId kBtc = 3;

Price px(const char* s) { return Price::parse(s).value; }
Qty qx(const char* s) { return Qty::parse(s).value; }

// Walls of >= 5 and >= 5 x the mean of the other 3 of the top 4; eaten at half the peak traded, pulled at half
// the peak gone, absorbed at 3 traded; no cooldown unless a test sets one; bracket 10 / 20 ticks of 0.1.
LiquidityHunterConfig config() {
  LiquidityHunterConfig c;
  c.common.strategy_id = 2;
  c.common.instrument = kBtc;
  c.common.order_qty = qx("0.01");
  c.common.tick = px("0.1");
  c.depth_levels = 4;
  c.wall_mult = Rate::from_units(5);
  c.min_wall_qty = Qty::from_units(5);
  c.absorb_qty = Qty::from_units(3);
  c.stop_ticks = 10;
  c.take_profit_ticks = 20;
  c.cooldown_trades = 0;
  return c;
}

struct Lvl {
  const char* price;
  const char* qty;
};

// One strategy, fed as the engine feeds it; `out` holds what the last call asked for.
struct Harness {
  LiquidityHunter s{config()};
  IntentBuffer out;
  std::uint64_t tsc = 0;
  std::uint64_t allocations = 0;

  explicit Harness(const LiquidityHunterConfig& c = config()) : s(c) {}

  EventHeader header(EventType type) {
    EventHeader h{};
    h.recv_tsc = ++tsc;
    h.instrument = kBtc;
    h.type = type;
    return h;
  }
  void book(std::initializer_list<Lvl> bids, std::initializer_list<Lvl> asks) {
    std::vector<PriceLevel> b, a;
    for (const Lvl& l : bids) b.push_back({px(l.price), qx(l.qty)});
    for (const Lvl& l : asks) a.push_back({px(l.price), qx(l.qty)});
    out.clear();
    const EventHeader h = header(EventType::book_batch);
    test::AllocationScope scope;
    s.on_book(h, BookTop{b, a}, out);
    allocations += scope.count();
  }
  void trade(const char* price, const char* qty, Side aggressor) {
    out.clear();
    const EventHeader h = header(EventType::trade);
    const Trade t{px(price), qx(qty), tsc, aggressor};
    test::AllocationScope scope;
    s.on_trade(h, t, out);
    allocations += scope.count();
  }
};

// Asks far from the bids, no wall among them.
constexpr std::initializer_list<Lvl> kAsks = {{"100.1", "1"}, {"100.2", "1"}, {"100.3", "1"}, {"100.4", "1"}};

TEST(StrategyLiquidityHunter, BidWallPulledBehindTheTouchSells) {
  Harness t;
  t.trade("100.0", "0.5", Side::sell);                                            // the reference price
  t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "20"}, {"99.7", "1"}}, kAsks);  // 20 >= 5 x 1: tracked
  EXPECT_TRUE(t.out.empty());
  // 20 -> 11: 9 gone, under half of the peak: nothing.
  t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "11"}, {"99.7", "1"}}, kAsks);
  EXPECT_TRUE(t.out.empty());
  // 20 -> 10: half the peak gone without a trade at 99.8, levels in front still stand: pulled -> sell.
  t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "10"}, {"99.7", "1"}}, kAsks);
  ASSERT_EQ(t.out.size(), 1u);
  const OrderIntent& i = t.out[0];
  EXPECT_EQ(i.side, Side::sell);
  EXPECT_EQ(i.reason, IntentReason::signal_entry);
  EXPECT_FALSE(i.reduce_only);
  EXPECT_TRUE(i.limit.is_zero());
  EXPECT_EQ(i.qty, qx("0.01"));
  EXPECT_EQ(i.strategy_id, 2);
  EXPECT_EQ(i.entry, px("100.0"));
  EXPECT_EQ(i.stop, px("101.0"));        // 10 ticks above the last trade
  EXPECT_EQ(i.take_profit, px("98.0"));  // 20 below
  EXPECT_EQ(i.trigger_tsc, t.tsc);
  EXPECT_EQ(t.allocations, 0u);
}

TEST(StrategyLiquidityHunter, TradesAtTheWallExplainItsDrop) {
  LiquidityHunterConfig c = config();
  c.absorb_qty = Qty{};  // no absorption signals (the 7 left after 4 traded would be one)
  Harness t(c);
  t.trade("100.0", "0.5", Side::sell);
  t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "20"}, {"99.7", "1"}}, kAsks);
  t.trade("99.8", "4", Side::sell);  // 4 traded at the wall (a sweep)
  // 20 -> 7: 13 gone, 4 of them traded: 9 unexplained < 10: no pull.
  t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "7"}, {"99.7", "1"}}, kAsks);
  EXPECT_TRUE(t.out.empty());
  // 20 -> 6: 10 unexplained: pulled.
  t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "6"}, {"99.7", "1"}}, kAsks);
  ASSERT_EQ(t.out.size(), 1u);
  EXPECT_EQ(t.out[0].side, Side::sell);
}

TEST(StrategyLiquidityHunter, AWallAtTheTouchIsNeverPulledAndBreaksWithoutEnoughTraded) {
  Harness t;
  t.trade("100.1", "0.5", Side::buy);
  t.book({{"100.0", "20"}, {"99.9", "1"}, {"99.8", "1"}, {"99.7", "1"}}, kAsks);  // wall at the best bid
  t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "1"}, {"99.7", "1"}}, kAsks);   // 19 gone at the touch
  EXPECT_TRUE(t.out.empty());
  t.trade("100.0", "9.9", Side::sell);  // 9.9 traded at it: under half of 20
  t.trade("99.9", "0.1", Side::sell);   // through it: broken, not eaten
  EXPECT_TRUE(t.out.empty());
  t.trade("99.8", "0.1", Side::sell);
  EXPECT_TRUE(t.out.empty());
  EXPECT_EQ(t.allocations, 0u);
}

TEST(StrategyLiquidityHunter, AskWallEatenThenBrokenBuys) {
  Harness t;
  t.trade("100.0", "0.5", Side::sell);
  const std::initializer_list<Lvl> bids = {{"100.0", "1"}, {"99.9", "1"}, {"99.8", "1"}, {"99.7", "1"}};
  t.book(bids, {{"100.1", "1"}, {"100.2", "20"}, {"100.3", "1"}, {"100.4", "1"}});
  t.trade("100.2", "6", Side::buy);
  t.trade("100.2", "4", Side::buy);  // 10 traded at the wall: half of its peak
  EXPECT_TRUE(t.out.empty());
  t.trade("100.3", "0.2", Side::buy);  // through it: eaten -> buy from this trade's price
  ASSERT_EQ(t.out.size(), 1u);
  EXPECT_EQ(t.out[0].side, Side::buy);
  EXPECT_EQ(t.out[0].reason, IntentReason::signal_entry);
  EXPECT_EQ(t.out[0].entry, px("100.3"));
  EXPECT_EQ(t.out[0].stop, px("99.3"));
  EXPECT_EQ(t.out[0].take_profit, px("102.3"));
  // Its take-profit printed: flat again, so a bid wall pulled now enters short (not an exit).
  t.trade("102.3", "0.1", Side::buy);
  t.book({{"102.2", "1"}, {"102.1", "1"}, {"102.0", "30"}, {"101.9", "1"}}, {{"102.3", "1"}, {"102.4", "1"}});
  t.book({{"102.2", "1"}, {"102.1", "1"}, {"102.0", "1"}, {"101.9", "1"}}, {{"102.3", "1"}, {"102.4", "1"}});
  ASSERT_EQ(t.out.size(), 1u);
  EXPECT_EQ(t.out[0].side, Side::sell);
  EXPECT_EQ(t.out[0].reason, IntentReason::signal_entry);
  EXPECT_EQ(t.allocations, 0u);
}

TEST(StrategyLiquidityHunter, AbsorbingWallFadedOnceThenPulledExits) {
  Harness t;
  t.trade("100.0", "0.5", Side::sell);
  const std::initializer_list<Lvl> wall = {{"100.0", "20"}, {"99.9", "1"}, {"99.8", "1"}, {"99.7", "1"}};
  t.book(wall, kAsks);
  t.trade("100.0", "2", Side::sell);
  t.book(wall, kAsks);  // 2 traded: not yet
  EXPECT_TRUE(t.out.empty());
  t.trade("100.0", "1", Side::sell);
  t.book(wall, kAsks);  // 3 traded and still 20 >= 5 x 1: absorbed -> buy off the wall
  ASSERT_EQ(t.out.size(), 1u);
  EXPECT_EQ(t.out[0].side, Side::buy);
  EXPECT_EQ(t.out[0].reason, IntentReason::signal_entry);
  EXPECT_EQ(t.out[0].entry, px("100.0"));
  t.trade("100.0", "5", Side::sell);
  t.book(wall, kAsks);  // once per wall
  EXPECT_TRUE(t.out.empty());
  // It moves behind the touch and then leaves without trading: pulled -> sell, which exits the long.
  t.book({{"100.1", "1"}, {"100.0", "20"}, {"99.9", "1"}, {"99.8", "1"}}, {{"100.2", "1"}, {"100.3", "1"}});
  t.book({{"100.1", "1"}, {"100.0", "1"}, {"99.9", "1"}, {"99.8", "1"}}, {{"100.2", "1"}, {"100.3", "1"}});
  // 20 - 1 - 8 traded = 11 >= 10: pulled.
  ASSERT_EQ(t.out.size(), 1u);
  EXPECT_EQ(t.out[0].side, Side::sell);
  EXPECT_EQ(t.out[0].reason, IntentReason::signal_exit);
  EXPECT_TRUE(t.out[0].reduce_only);
  EXPECT_EQ(t.allocations, 0u);
}

TEST(StrategyLiquidityHunter, OutOfSightNoReferenceAndCooldownDoNothing) {
  {
    Harness t;  // no trade yet: no reference price, the pull does nothing
    t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "20"}, {"99.7", "1"}}, kAsks);
    t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "1"}, {"99.7", "1"}}, kAsks);
    EXPECT_TRUE(t.out.empty());
  }
  {
    Harness t;  // the wall falls behind the 4 levels looked at: forgotten, its later drop is no pull
    t.trade("100.0", "0.5", Side::sell);
    t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "1"}, {"99.6", "20"}}, kAsks);
    t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "1"}, {"99.7", "1"}, {"99.6", "20"}}, kAsks);  // 5th now
    t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "1"}, {"99.6", "1"}}, kAsks);
    EXPECT_TRUE(t.out.empty());
  }
  {
    LiquidityHunterConfig c = config();
    c.cooldown_trades = 2;
    Harness t(c);
    t.trade("100.0", "0.5", Side::sell);
    t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "20"}, {"99.7", "1"}}, kAsks);
    t.book({{"100.0", "1"}, {"99.9", "1"}, {"99.8", "1"}, {"99.7", "1"}}, kAsks);
    ASSERT_EQ(t.out.size(), 1u);  // short
    // An ask wall pulled one trade later: within the cooldown, nothing; after two trades, the exit.
    t.book({{"100.0", "1"}, {"99.9", "1"}}, {{"100.1", "1"}, {"100.2", "30"}, {"100.3", "1"}, {"100.4", "1"}});
    t.trade("100.0", "0.1", Side::sell);
    t.book({{"100.0", "1"}, {"99.9", "1"}}, {{"100.1", "1"}, {"100.2", "1"}, {"100.3", "1"}, {"100.4", "1"}});
    EXPECT_TRUE(t.out.empty());
    t.book({{"100.0", "1"}, {"99.9", "1"}}, {{"100.1", "1"}, {"100.2", "30"}, {"100.3", "1"}, {"100.4", "1"}});
    t.trade("100.0", "0.1", Side::sell);
    t.book({{"100.0", "1"}, {"99.9", "1"}}, {{"100.1", "1"}, {"100.2", "1"}, {"100.3", "1"}, {"100.4", "1"}});
    ASSERT_EQ(t.out.size(), 1u);
    EXPECT_EQ(t.out[0].side, Side::buy);
    EXPECT_EQ(t.out[0].reason, IntentReason::signal_exit);
  }
}

TEST(StrategyLiquidityHunter, ValidateNamesTheField) {
  for (const auto& [set, key] : std::vector<std::pair<void (*)(LiquidityHunterConfig&), const char*>>{
           {[](LiquidityHunterConfig& c) { c.depth_levels = 11; }, "depth_levels"},
           {[](LiquidityHunterConfig& c) { c.wall_mult = Rate::from_raw(Rate::kScale / 2); }, "wall_mult"},
           {[](LiquidityHunterConfig& c) { c.eat_fraction = Rate{}; }, "eat_fraction"},
           {[](LiquidityHunterConfig& c) { c.pull_fraction = Rate::from_units(2); }, "pull_fraction"},
           {[](LiquidityHunterConfig& c) { c.absorb_qty = Qty::from_raw(-1); }, "absorb_qty"}}) {
    LiquidityHunterConfig c = config();
    set(c);
    try {
      c.validate();
      ADD_FAILURE() << key << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace enigma::strategy
