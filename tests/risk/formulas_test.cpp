// Every formula with the original plan's worked numbers (expected values written by hand, not by the
// code under test), plus rounding to tick on prices that do not divide evenly.
#include "risk/formulas.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace enigma::risk {
namespace {

Price px(std::string_view s) { return Price::parse(s).value; }
Rate rt(std::string_view s) { return Rate::parse(s).value; }
Qty qt(std::string_view s) { return Qty::parse(s).value; }

TEST(RiskFormulas, BreakEvenRoiPlanExample) {
  // Plan: taker 0.0006 at 50x with buffer 0.05 -> 6.05 %.
  EXPECT_EQ(break_even_roi_pct(rt("0.0006"), 50, rt("0.05")), rt("6.05"));
  EXPECT_EQ(break_even_roi_pct(rt("0.0006"), 100, rt("0.05")), rt("12.05"));
  EXPECT_EQ(break_even_roi_pct(rt("0.0002"), 1, rt("0")), rt("0.04"));
}

TEST(RiskFormulas, InverseLeverageScalingPlanExample) {
  // Plan: base 0.5 % -> 0.5 % at 100x, 1.0 % at 50x, 2.0 % at 25x.
  EXPECT_EQ(leverage_scaled_risk_pct(rt("0.5"), 100), rt("0.5"));
  EXPECT_EQ(leverage_scaled_risk_pct(rt("0.5"), 50), rt("1.0"));
  EXPECT_EQ(leverage_scaled_risk_pct(rt("0.5"), 25), rt("2.0"));
  // 0.5 x 100 / 30 = 1.6666666666..: rounding is explicit.
  EXPECT_EQ(leverage_scaled_risk_pct(rt("0.5"), 30), rt("1.6666666666"));
  EXPECT_EQ(leverage_scaled_risk_pct(rt("0.5"), 30, Rounding::nearest), rt("1.6666666667"));
}

TEST(RiskFormulas, StopLossPricePlanExample) {
  // Plan: entry 100, SL ROI 0.5 %, 50x -> 99.99 for a long (mirrored: 100.01 for a short).
  auto sl = stop_loss_price(px("100"), rt("0.5"), 50, Side::buy, px("0.01"), Rounding::up);
  ASSERT_TRUE(sl.ok());
  EXPECT_EQ(sl.value, px("99.99"));
  auto ss = stop_loss_price(px("100"), rt("0.5"), 50, Side::sell, px("0.01"), Rounding::down);
  ASSERT_TRUE(ss.ok());
  EXPECT_EQ(ss.value, px("100.01"));
}

TEST(RiskFormulas, StopLossRoundsToTickInTheNamedDirection) {
  // 67321.5 x (1 - 0.5/50/100) = 67314.76785 on a 0.1 tick.
  EXPECT_EQ(stop_loss_price(px("67321.5"), rt("0.5"), 50, Side::buy, px("0.1"), Rounding::up).value, px("67314.8"));
  EXPECT_EQ(stop_loss_price(px("67321.5"), rt("0.5"), 50, Side::buy, px("0.1"), Rounding::down).value, px("67314.7"));
  // Short: 67321.5 x 1.0001 = 67328.23215.
  EXPECT_EQ(stop_loss_price(px("67321.5"), rt("0.5"), 50, Side::sell, px("0.1"), Rounding::down).value, px("67328.2"));
  EXPECT_EQ(stop_loss_price(px("100"), rt("0.5"), 0, Side::buy, px("0.01"), Rounding::up).error, Errc::out_of_range);
}

TEST(RiskFormulas, RoiOfAMove) {
  EXPECT_EQ(roi_pct(px("100"), px("100.03"), 50, Side::buy), rt("1.5"));
  EXPECT_EQ(roi_pct(px("100"), px("99.97"), 50, Side::sell), rt("1.5"));
  EXPECT_EQ(roi_pct(px("100"), px("99.99"), 50, Side::buy), rt("-0.5"));
}

TEST(RiskFormulas, StaircaseTrailingStopLong) {
  // Activation 1 % ROI, step 0.5 %, distance 0.5 %, entry 100 at 50x (1 % ROI = 0.02 price).
  const TrailingStopParams p{rt("1.0"), rt("0.5"), rt("0.5")};
  const Price initial = px("99.99");  // the plan's stop-loss
  // ROI 0.5 %: below activation, the stop stays.
  EXPECT_EQ(trailing_stop(p, px("100"), px("100.01"), initial, 50, Side::buy, px("0.01")), initial);
  // ROI 1.5 %: level 1.5, stop at entry x (1 + 1.0/50/100) = 100.02.
  const Price s1 = trailing_stop(p, px("100"), px("100.03"), initial, 50, Side::buy, px("0.01"));
  EXPECT_EQ(s1, px("100.02"));
  // ROI 1.25 %: level 1.0 -> candidate 100.01, but the stop never untrails.
  EXPECT_EQ(trailing_stop(p, px("100"), px("100.025"), s1, 50, Side::buy, px("0.01")), px("100.02"));
  // ROI 2.45 %: floor to level 2.0 -> 100 x (1 + 1.5/5000) = 100.03.
  const Price s2 = trailing_stop(p, px("100"), px("100.049"), s1, 50, Side::buy, px("0.01"));
  EXPECT_EQ(s2, px("100.03"));
  // ROI 3.0 %: level 3.0 -> 100.05.
  EXPECT_EQ(trailing_stop(p, px("100"), px("100.06"), s2, 50, Side::buy, px("0.01")), px("100.05"));
}

TEST(RiskFormulas, StaircaseTrailingStopShortMirrors) {
  const TrailingStopParams p{rt("1.0"), rt("0.5"), rt("0.5")};
  const Price s1 = trailing_stop(p, px("100"), px("99.97"), px("100.01"), 50, Side::sell, px("0.01"));
  EXPECT_EQ(s1, px("99.98"));
  // ROI falls back to 1.25 %: candidate 99.99 is worse, the stop stays at 99.98.
  EXPECT_EQ(trailing_stop(p, px("100"), px("99.975"), s1, 50, Side::sell, px("0.01")), px("99.98"));
  // No stop yet (0): the candidate is taken.
  EXPECT_EQ(trailing_stop(p, px("100"), px("99.97"), Price{}, 50, Side::sell, px("0.01")), px("99.98"));
}

TEST(RiskFormulas, TrailingStopRoundsAwayFromTheMarket) {
  // Entry 67321.5, 50x, ROI 1.5 % -> level 1.5, stop 67321.5 x 1.0002 = 67334.9643 -> down to 67334.9 (long).
  const TrailingStopParams p{rt("1.0"), rt("0.5"), rt("0.5")};
  const Price price = px("67341.7");  // (67341.7-67321.5)/67321.5*5000 = 1.5002 %
  EXPECT_EQ(trailing_stop(p, px("67321.5"), price, Price{}, 50, Side::buy, px("0.1")), px("67334.9"));
}

TEST(RiskFormulas, PositionSizeFromRiskAndStopDistance) {
  // 10 000 equity, 1 % risk = 100; stop 600 away -> 0.1666.. BTC -> 0.166 on a 0.001 lot.
  auto q = position_size(Notional::from_units(10'000), rt("1"), px("30000"), px("29400"), qt("1"), qt("0.001"));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.value, qt("0.166"));
  // Same trade in KuCoin XBTUSDTM lots (multiplier 0.001 BTC per lot): 166.67 -> 166 lots.
  auto k = position_size(Notional::from_units(10'000), rt("1"), px("30000"), px("29400"), qt("0.001"), qt("1"));
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k.value, qt("166"));
  // Plan numbers combined: 1.0 % at 50x, entry 100 with the 99.99 stop -> 100 / 0.01 = 10000 units.
  auto p = position_size(Notional::from_units(10'000), leverage_scaled_risk_pct(rt("0.5"), 50), px("100"),
                         px("99.99"), qt("1"), qt("1"));
  EXPECT_EQ(p.value, qt("10000"));
  EXPECT_EQ(position_size(Notional::from_units(1), rt("1"), px("1"), px("1"), qt("1"), qt("1")).error, Errc::out_of_range);
}

TEST(RiskFormulas, KellyFraction) {
  // p = 0.55, b = 1.5: f* = 0.55 - 0.45/1.5 = 0.25; half Kelly -> 12.5 %.
  auto k = kelly_risk_pct(rt("0.55"), rt("1.5"), rt("0.5"));
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k.value, rt("12.5"));
  // No edge: p = 0.4, b = 1 -> f* < 0 -> 0.
  EXPECT_EQ(kelly_risk_pct(rt("0.4"), rt("1"), rt("1")).value, rt("0"));
  EXPECT_EQ(kelly_risk_pct(rt("0.5"), rt("0"), rt("1")).error, Errc::out_of_range);
  // Kelly feeds position sizing: 12.5 % of 10 000 over a 600 stop -> 2.083.. -> 2.083 on a 0.001 lot.
  EXPECT_EQ(position_size(Notional::from_units(10'000), k.value, px("30000"), px("29400"), qt("1"), qt("0.001")).value,
            qt("2.083"));
}

TEST(RiskFormulas, IsolatedMarginLiquidationPrice) {
  // 100 at 50x, mmr 0.5 %: long 100 x (1 - 0.02 + 0.005) = 98.5; short 101.5.
  EXPECT_EQ(liquidation_price(px("100"), 50, rt("0.005"), Side::buy, px("0.01")).value, px("98.5"));
  EXPECT_EQ(liquidation_price(px("100"), 50, rt("0.005"), Side::sell, px("0.01")).value, px("101.5"));
  // 67321.5 at 100x, mmr 0.4 %: long x 0.994 = 66917.571 -> up to 66917.6; short x 1.006 = 67725.429 -> 67725.4.
  EXPECT_EQ(liquidation_price(px("67321.5"), 100, rt("0.004"), Side::buy, px("0.1")).value, px("66917.6"));
  EXPECT_EQ(liquidation_price(px("67321.5"), 100, rt("0.004"), Side::sell, px("0.1")).value, px("67725.4"));
}

TEST(RiskFormulas, VolatilityAdjustedLeverageCap) {
  EXPECT_EQ(volatility_leverage_cap(50, rt("0.02"), rt("0.04")), 25);
  EXPECT_EQ(volatility_leverage_cap(50, rt("0.02"), rt("0.03")), 33);
  EXPECT_EQ(volatility_leverage_cap(50, rt("0.02"), rt("0.01")), 50);
  EXPECT_EQ(volatility_leverage_cap(50, rt("0.02"), rt("0")), 50);
  EXPECT_EQ(volatility_leverage_cap(50, rt("0.02"), rt("10")), 1);
}

}  // namespace
}  // namespace enigma::risk
