// Market-structure features (strategy/market_structure.hpp) on nine hand-made bars whose swing points, BOS /
// CHoCH, order blocks and fair-value gaps are worked out by hand in the comments; the strategy's entry, stop,
// take-profit and exit on those bars; no allocation over the bundled 66 days of 5-minute candles.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "strategy/csv.hpp"
#include "strategy/strategies/market_structure.hpp"
#include "strategy/strategy.hpp"
#include "tests/support/alloc_counter.hpp"

namespace {

using namespace enigma;
using namespace enigma::strategy;

constexpr std::int64_t kMin = 60'000'000'000;

// o, h, l, c of bars 0..8 (one minute apart).
std::vector<Bar> hand_bars() {
  const double v[9][4] = {{10, 11, 9, 10.5},      {10.5, 12, 10, 11.5},   {11.5, 11.8, 10.8, 11},
                          {11, 11.2, 9.5, 9.8},   {9.8, 10.5, 9.6, 10.2}, {10.2, 12.5, 10.1, 12.4},
                          {12.4, 12.6, 11.9, 12}, {12, 12.1, 11, 11.2},   {11.2, 11.5, 9, 9.2}};
  std::vector<Bar> bars;
  for (int i = 0; i < 9; ++i) bars.push_back({i * kMin, v[i][0], v[i][1], v[i][2], v[i][3], 1.0});
  return bars;
}

TEST(MarketStructure, HandWorkedBars) {
  MarketStructureConfig cfg;
  cfg.swing_left = 1;
  cfg.swing_right = 1;
  MarketStructure ms(cfg);
  const auto bars = hand_bars();
  std::vector<StructureUpdate> u;
  for (const Bar& b : bars) u.push_back(ms.update(b));

  // Bar 2 confirms bar 1's high 12 (above 11 and 11.8); bar 1's low 10 is not below bar 0's 9.
  EXPECT_TRUE(u[2].swing_high);
  EXPECT_FALSE(u[2].swing_low);
  // Bar 4 confirms bar 3's low 9.5 (below 10.8 and 9.6), and makes a down gap: high(4) 10.5 < low(2) 10.8.
  EXPECT_TRUE(u[4].swing_low);
  EXPECT_EQ(u[4].gap, Trend::down);
  // Bar 5 closes 12.4 above the swing high 12 with no trend yet: BOS up. The last bar before it that closed down
  // is bar 3 (11 -> 9.8): order block [9.5, 11.2]. Its high 12.5 reaches the down gap's high 10.8: filled.
  EXPECT_EQ(u[5].brk, StructureBreak::bos);
  EXPECT_EQ(u[5].direction, Trend::up);
  EXPECT_DOUBLE_EQ(u[5].level, 12.0);
  ASSERT_TRUE(u[5].order_block);
  EXPECT_DOUBLE_EQ(ms.order_block(Trend::up).low, 9.5);  // still 9.5 after bar 8? checked below
  // Bar 6: up gap, low(6) 11.9 > high(4) 10.5: zone [10.5, 11.9]; no break (12 is broken, close 12 > 9.5).
  EXPECT_EQ(u[6].gap, Trend::up);
  EXPECT_EQ(u[6].brk, StructureBreak::none);
  // Bar 7 confirms bar 6's high 12.6 (above 12.5 and 12.1).
  EXPECT_TRUE(u[7].swing_high);
  EXPECT_EQ(u[7].brk, StructureBreak::none);
  // Bar 8 closes 9.2 below the swing low 9.5 while the trend is up: CHoCH down. Last up-close bar before it:
  // bar 5 (10.2 -> 12.4), order block [10.1, 12.5]. Down gap: high(8) 11.5 < low(6) 11.9: zone [11.5, 11.9].
  EXPECT_EQ(u[8].brk, StructureBreak::choch);
  EXPECT_EQ(u[8].direction, Trend::down);
  EXPECT_DOUBLE_EQ(u[8].level, 9.5);
  EXPECT_EQ(u[8].gap, Trend::down);
  EXPECT_EQ(ms.trend(), Trend::down);
  for (int i : {0, 1, 2, 3, 4, 6, 7}) EXPECT_EQ(u[i].brk, StructureBreak::none) << i;
  for (int i : {0, 1, 2, 3, 5, 7}) EXPECT_EQ(u[i].gap, Trend::none) << i;

  const Zone& down_block = ms.order_block(Trend::down);
  EXPECT_DOUBLE_EQ(down_block.low, 10.1);
  EXPECT_DOUBLE_EQ(down_block.high, 12.5);
  EXPECT_EQ(down_block.time_ns, 5 * kMin);
  EXPECT_TRUE(down_block.active);
  const Zone& down_gap = ms.fair_value_gap(Trend::down);
  EXPECT_DOUBLE_EQ(down_gap.low, 11.5);
  EXPECT_DOUBLE_EQ(down_gap.high, 11.9);
  EXPECT_TRUE(down_gap.active);
  // Bar 8's low 9 reaches the up gap's low 10.5 and the up order block's low 9.5: both filled.
  EXPECT_DOUBLE_EQ(ms.fair_value_gap(Trend::up).low, 10.5);
  EXPECT_DOUBLE_EQ(ms.fair_value_gap(Trend::up).high, 11.9);
  EXPECT_FALSE(ms.fair_value_gap(Trend::up).active);
  EXPECT_DOUBLE_EQ(ms.order_block(Trend::up).high, 11.2);
  EXPECT_FALSE(ms.order_block(Trend::up).active);
  EXPECT_DOUBLE_EQ(ms.swing_high().price, 12.6);
  EXPECT_DOUBLE_EQ(ms.swing_low().price, 9.5);
  EXPECT_TRUE(ms.swing_low().broken);
}

TEST(MarketStructure, FairValueGapBelowTheMinimumIsNotReported) {
  MarketStructureConfig cfg;
  cfg.swing_left = cfg.swing_right = 1;
  cfg.fvg_min_pct = 3.0;  // bar 4's gap is 0.3 on a close of 10.2 (2.9 %), bar 6's 1.4 on 12 (11.7 %)
  MarketStructure ms(cfg);
  const auto bars = hand_bars();
  std::vector<StructureUpdate> u;
  for (const Bar& b : bars) u.push_back(ms.update(b));
  EXPECT_EQ(u[4].gap, Trend::none);
  EXPECT_EQ(u[6].gap, Trend::up);
}

TEST(MarketStructure, ConfigErrorsNameTheField) {
  MarketStructureConfig cfg;
  cfg.swing_left = 0;
  try {
    MarketStructure ms(cfg);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("swing_left"), std::string::npos) << e.what();
  }
  cfg = {};
  cfg.order_block_lookback = MarketStructure::kRing;
  EXPECT_THROW(MarketStructure{cfg}, Error);
}

TEST(MarketStructureStrategy, EntersOnTheBreakWithTheOrderBlockStopAndExitsOnTheChangeOfCharacter) {
  MarketStructureStrategyConfig cfg;
  cfg.common.instrument = 0;
  cfg.common.order_qty = Qty::from_units(1);
  cfg.common.tick = Price::from_raw(Price::kScale / 100);
  cfg.structure.swing_left = cfg.structure.swing_right = 1;
  cfg.entry = StructureEntry::both;
  cfg.reward_risk = 2.0;
  MarketStructureStrategy s(cfg);
  const auto bars = hand_bars();
  IntentBuffer out;
  for (int i = 0; i < 5; ++i) s.on_bar(bars[i], 0, out);
  EXPECT_EQ(out.size(), 0u);
  // Bar 5: BOS up while flat: buy at market, stop at the order block's low 9.5, take-profit 12.4 + 2 x 2.9.
  s.on_bar(bars[5], 0, out);
  ASSERT_EQ(out.size(), 1u);
  const OrderIntent entry = out[0];
  EXPECT_EQ(entry.side, Side::buy);
  EXPECT_FALSE(entry.reduce_only);
  EXPECT_TRUE(entry.limit.is_zero());
  EXPECT_EQ(entry.stop, Price::from_raw(Price::kScale * 95 / 10));
  EXPECT_EQ(entry.take_profit, Price::from_raw(Price::kScale * 182 / 10));
  EXPECT_EQ(entry.reason, IntentReason::signal_entry);
  out.clear();
  Fill f{};
  f.side = Side::buy;
  f.qty = Qty::from_units(1);
  f.instrument = 0;
  f.strategy_id = 0;
  s.on_fill(f, out);
  s.on_bar(bars[6], 0, out);
  s.on_bar(bars[7], 0, out);
  EXPECT_EQ(out.size(), 0u);
  // Bar 8: CHoCH down against the long: reduce-only sell of the whole position.
  s.on_bar(bars[8], 0, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].side, Side::sell);
  EXPECT_TRUE(out[0].reduce_only);
  EXPECT_EQ(out[0].qty, Qty::from_units(1));
  EXPECT_EQ(out[0].reason, IntentReason::signal_exit);
}

TEST(MarketStructureStrategy, ChochOnlyIgnoresTheFirstBreak) {
  MarketStructureStrategyConfig cfg;
  cfg.common.instrument = 0;
  cfg.structure.swing_left = cfg.structure.swing_right = 1;
  MarketStructureStrategy s(cfg);  // entry = "choch" (default)
  const auto bars = hand_bars();
  IntentBuffer out;
  for (int i = 0; i < 8; ++i) s.on_bar(bars[i], 0, out);
  EXPECT_EQ(out.size(), 0u);  // bar 5's break is a BOS
  // Bar 8's CHoCH down while flat: sell, stop at the down order block's high 12.5, take-profit 9.2 - 2 x 3.3.
  s.on_bar(bars[8], 0, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].side, Side::sell);
  EXPECT_EQ(out[0].stop, Price::from_raw(Price::kScale * 125 / 10));
  EXPECT_EQ(out[0].take_profit, Price::from_raw(Price::kScale * 26 / 10));
}

TEST(MarketStructure, NoAllocationOverTheBundledCandles) {
  const std::string path = std::string(ENIGMA_SOURCE_DIR) + "/data/candles/kheus_spot_BTCUSDT_5m_20250602_20250807.csv.gz";
  const std::vector<Bar> bars = read_ohlcv_file(path);
  ASSERT_GT(bars.size(), 19'000u);
  MarketStructureStrategyConfig cfg;
  cfg.common.instrument = 0;
  cfg.entry = StructureEntry::both;
  MarketStructureStrategy s(cfg);
  IntentBuffer out;
  std::size_t intents = 0;
  enigma::test::AllocationScope scope;
  for (const Bar& b : bars) {
    s.on_bar(b, 0, out);
    intents += out.size();
    out.clear();
  }
  EXPECT_EQ(scope.count(), 0u);
  EXPECT_GT(intents, 100u);
  EXPECT_GT(s.structure().bars(), 19'000u);
}

}  // namespace
