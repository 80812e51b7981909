// strategy/metrics against hand computations on small trade lists and equity curves (numbers worked out in
// the comments).
#include "strategy/metrics.hpp"
#include "core/error.hpp"
#include "strategy/indicator_accuracy.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace enigma::strategy {
namespace {

constexpr std::int64_t kDay = kNsPerDay;
constexpr std::int64_t kHour = 3600 * kNsPerSecond;

// Four round trips, sorted by exit time (days 1, 3, 4, 6):
//   T1 long  2 @ 100 -> 110, days 0..1,   fees 1,   funding 0.5:   gross 20,  net 18.5 (win)
//   T2 short 1 @ 200 -> 210, days 2..3,   fees 0.5, funding -0.25: gross -10, net -10.25 (loss)
//   T3 long  1 @ 50 -> 60,   days 1.5..4, fees 0.5, funding 0:     gross 10,  net 9.5 (win)
//   T4 long  1 @ 10 -> 10,   days 5..6,   fees 0,   funding 0:     gross 0,   net 0 (neither)
// Expected prices: T1 entry 99 (bought 1 above), T1 exit 110 (exact), T2 entry 201 (sold 1 below), T3 exit 61
// (sold 1 below); the others unknown.
std::vector<RoundTrip> sample_trades() {
  return {
      {0, 1 * kDay, +1, 2, 100, 110, 1.0, 0.5, 99, 110},
      {2 * kDay, 3 * kDay, -1, 1, 200, 210, 0.5, -0.25, 201, 0},
      {kDay + kDay / 2, 4 * kDay, +1, 1, 50, 60, 0.5, 0, 0, 61},
      {5 * kDay, 6 * kDay, +1, 1, 10, 10, 0, 0, 0, 0},
  };
}

TEST(TradeStats, HandComputedSample) {
  const auto trades = sample_trades();
  const TradeStats s = trade_stats(trades);
  EXPECT_EQ(s.trades, 4u);
  EXPECT_EQ(s.wins, 2u);    // T1, T3
  EXPECT_EQ(s.losses, 1u);  // T2; T4 at exactly 0 is neither
  EXPECT_DOUBLE_EQ(s.win_rate, 0.5);
  EXPECT_DOUBLE_EQ(s.gross_profit, 28.0);  // 18.5 + 9.5
  EXPECT_DOUBLE_EQ(s.gross_loss, 10.25);
  EXPECT_DOUBLE_EQ(s.profit_factor, 28.0 / 10.25);
  EXPECT_DOUBLE_EQ(s.total_net, 17.75);  // 18.5 - 10.25 + 9.5 + 0
  EXPECT_DOUBLE_EQ(s.expectancy, 17.75 / 4);
  EXPECT_DOUBLE_EQ(s.avg_win, 14.0);
  EXPECT_DOUBLE_EQ(s.avg_loss, -10.25);
  EXPECT_DOUBLE_EQ(s.total_gross, 20.0);  // 20 - 10 + 10 + 0
  EXPECT_DOUBLE_EQ(s.total_fees, 2.0);
  EXPECT_DOUBLE_EQ(s.total_funding, 0.25);
  EXPECT_DOUBLE_EQ(s.fees_share_of_gross, 0.1);        // 2 / 20
  EXPECT_DOUBLE_EQ(s.funding_share_of_gross, 0.0125);  // 0.25 / 20
  // Durations 1 + 1 + 2.5 + 1 = 5.5 days over 4 trades = 1.375 days = 118800 s.
  EXPECT_DOUBLE_EQ(s.avg_duration_s, 118800.0);
  // In the market: [0,1] u [1.5,4] (T2's [2,3] lies inside T3's) u [5,6] = 1 + 2.5 + 1 = 4.5 days. The list is in
  // exit order with entries 0, 2, 1.5, 5: not in entry order, so the general path runs.
  EXPECT_EQ(s.time_in_market_ns, 4 * kDay + kDay / 2);
}

TEST(TradeStats, SameUnionWhenAlreadyInEntryOrder) {
  auto trades = sample_trades();
  std::swap(trades[1], trades[2]);  // entries 0, 1.5, 2, 5
  EXPECT_EQ(trade_stats(trades).time_in_market_ns, 4 * kDay + kDay / 2);
}

TEST(TradeStats, EmptyAndLosslessEdges) {
  const TradeStats none = trade_stats({});
  EXPECT_EQ(none.trades, 0u);
  EXPECT_TRUE(std::isnan(none.win_rate));
  EXPECT_TRUE(std::isnan(none.profit_factor));
  EXPECT_TRUE(std::isnan(none.fees_share_of_gross));
  const std::vector<RoundTrip> one_win{{0, kDay, +1, 1, 10, 12, 0, 0, 0, 0}};
  EXPECT_TRUE(std::isinf(trade_stats(one_win).profit_factor));  // profit and no loss
  // Gross below zero: costs as a share of it would be meaningless.
  const std::vector<RoundTrip> one_loss{{0, kDay, +1, 1, 12, 10, 0.1, 0, 0, 0}};
  EXPECT_TRUE(std::isnan(trade_stats(one_loss).fees_share_of_gross));
}

TEST(FillQualityTest, NotionalWeightedAdverseSlippage) {
  const FillQuality q = fill_quality(sample_trades());
  // Fills with an expected price: T1 entry (buy 2 @ 100 vs 99: +1 adverse), T1 exit (sell 2 @ 110 vs 110: 0),
  // T2 entry (sell 1 @ 200 vs 201: +1 adverse), T3 exit (sell 1 @ 60 vs 61: +1 adverse).
  EXPECT_EQ(q.legs, 4u);
  EXPECT_DOUBLE_EQ(q.slippage_cost, 4.0);  // 2*1 + 0 + 1 + 1
  // Weighted bps = sum(qty * adverse) / sum(qty * expected) * 1e4 = 4 / (198 + 220 + 201 + 61) * 1e4.
  EXPECT_NEAR(q.avg_slippage_bps, 4.0 / 680.0 * 1e4, 1e-9);
  // A fill better than expected is negative slippage.
  const std::vector<RoundTrip> better{{0, 1, +1, 1, 99, 101, 0, 0, 100, 100}};
  EXPECT_DOUBLE_EQ(fill_quality(better).slippage_cost, -2.0);  // bought 1 below, sold 1 above
  EXPECT_TRUE(std::isnan(fill_quality({}).avg_slippage_bps));
}

TEST(RollingWinRate, TrailingWindowByExitTime) {
  const auto trades = sample_trades();  // exits at days 1, 3, 4, 6: win, loss, win, zero
  std::vector<double> out(trades.size());
  rolling_win_rate(trades, 2 * kDay, out);
  // 2-day windows (exit - 2d, exit]: {T1} = 1; {T2} = 0 (T1's exit at day 1 is on the open edge);
  // {T2, T3} = 0.5; {T4} = 0 (T3 exits at day 4, the open edge).
  EXPECT_EQ(out, (std::vector<double>{1.0, 0.0, 0.5, 0.0}));
  // 3-day windows: {T1} 1, {T1,T2} 0.5, {T2,T3} 0.5, {T3,T4} 0.5; only exits >= day 3 have a full window.
  const RollingWinRate r = rolling_win_rate_summary(trades, 3 * kDay, 0);
  EXPECT_DOUBLE_EQ(r.last, 0.5);
  EXPECT_DOUBLE_EQ(r.min_full_window, 0.5);
  // No trade has a full 30-day window: undefined minimum, but the last value is still the overall rate so far.
  const RollingWinRate month = rolling_win_rate_summary(trades, 30 * kDay, 0);
  EXPECT_DOUBLE_EQ(month.last, 0.5);
  EXPECT_TRUE(std::isnan(month.min_full_window));
}

TEST(Drawdown, DepthDurationAndPlace) {
  // Hourly: 100, 110, 99, 104.5, 115, 92, 100. From the 110 peak: 11 (10 %), recovered at hour 4 (3 h below);
  // from the 115 peak: 23 (20 %) at hour 5, still below at the end (hour 6: 2 h).
  const std::vector<EquityPoint> curve{{0, 100},         {1 * kHour, 110}, {2 * kHour, 99}, {3 * kHour, 104.5},
                                       {4 * kHour, 115}, {5 * kHour, 92},  {6 * kHour, 100}};
  const DrawdownStats d = drawdown_stats(curve);
  EXPECT_DOUBLE_EQ(d.max_drawdown, 0.2);
  EXPECT_DOUBLE_EQ(d.max_drawdown_abs, 23.0);
  EXPECT_EQ(d.peak_ns, 4 * kHour);
  EXPECT_EQ(d.trough_ns, 5 * kHour);
  EXPECT_EQ(d.max_duration_ns, 3 * kHour);
}

// Daily equity 100, 110, 99, 108.9, 119.79: returns +10 %, -10 %, +10 %, +10 %, with points in between that the
// daily sampling must skip (it takes the last point at or before each day).
std::vector<EquityPoint> daily_curve() {
  return {{0, 100},       {kDay / 2, 200},   {kDay, 110},         {kDay + kDay / 2, 50},
          {2 * kDay, 99}, {3 * kDay, 108.9}, {3 * kDay + 1, 500}, {4 * kDay, 119.79}};
}

TEST(Returns, SharpeSortinoMomentsOnDailySampling) {
  const ReturnStats r = return_stats(daily_curve(), kDay);
  ASSERT_EQ(r.returns, 4u);
  // mean 0.05; deviations .05 -.15 .05 .05, squares sum .03, sample variance .01, stdev .1.
  EXPECT_NEAR(r.mean, 0.05, 1e-12);
  EXPECT_NEAR(r.stdev, 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(r.periods_per_year, 365.0);
  EXPECT_NEAR(r.sharpe, 0.5 * std::sqrt(365.0), 1e-9);
  // Downside deviation sqrt((0.1^2) / 4) = 0.05 over all four periods: Sortino 1.0 * sqrt(365).
  EXPECT_NEAR(r.sortino, std::sqrt(365.0), 1e-9);
  EXPECT_NEAR(r.annual_return, 0.05 * 365, 1e-9);
  // Three +.1 and one -.1: a two-point distribution with p = 3/4: skew (1 - 2p)/sqrt(p(1-p)) = -1.1547,
  // kurtosis (1 - 3p(1-p))/(p(1-p)) = 2.3333.
  EXPECT_NEAR(r.skew, -0.5 / std::sqrt(0.1875), 1e-9);
  EXPECT_NEAR(r.kurtosis, (1 - 3 * 0.1875) / 0.1875, 1e-9);
  // The same from the returns directly.
  const std::vector<double> rets{0.1, -0.1, 0.1, 0.1};
  EXPECT_NEAR(return_stats_of(rets, kDay).sharpe, r.sharpe, 1e-9);
}

TEST(Returns, StableWhenTheMeanDwarfsTheSpread) {
  // 1000 returns of 0.001 +- 1e-9 alternating: mean 0.001, population variance 1e-18, sample variance
  // 1e-18 * 1000 / 999. Raw power sums would lose the 1e-18 under 1e-6 squared's rounding.
  std::vector<double> rets(1000);
  for (std::size_t i = 0; i < rets.size(); ++i) rets[i] = 0.001 + (i % 2 ? 1e-9 : -1e-9);
  const ReturnStats r = return_stats_of(rets, kDay);
  EXPECT_NEAR(r.stdev, 1e-9 * std::sqrt(1000.0 / 999.0), 1e-15);
  EXPECT_NEAR(r.sharpe / std::sqrt(365.0), 0.001 / (1e-9 * std::sqrt(1000.0 / 999.0)), 1.0);  // ~1e6, to 1e-6
  EXPECT_NEAR(r.skew, 0.0, 1e-6);
  EXPECT_NEAR(r.kurtosis, 1.0, 1e-6);  // a symmetric two-point distribution
}

TEST(Returns, TooFewPeriodsIsUndefined) {
  const std::vector<EquityPoint> curve{{0, 100}, {kDay / 2, 101}};
  const ReturnStats r = return_stats(curve, kDay);
  EXPECT_EQ(r.returns, 0u);
  EXPECT_TRUE(std::isnan(r.sharpe));
  EXPECT_EQ(choose_sampling_period(60 * kDay), kDay);
  EXPECT_EQ(choose_sampling_period(2 * kDay), kHour);  // 48 hours >= 30
  EXPECT_EQ(choose_sampling_period(kHour), 60 * kNsPerSecond);
  EXPECT_EQ(choose_sampling_period(10 * kNsPerSecond), kNsPerSecond);
}

TEST(BuyAndHoldTest, ReturnPnlAndPathDrawdown) {
  // 100 -> 120 -> 90 -> 110: +10 %, 100 on 1000 of equity; the path fell 30 from 120 (25 %).
  const std::vector<PricePoint> prices{{0, 100}, {1, 120}, {2, 90}, {3, 110}};
  const BuyAndHold b = buy_and_hold(prices, 1000);
  EXPECT_NEAR(b.return_frac, 0.1, 1e-12);
  EXPECT_NEAR(b.pnl, 100, 1e-9);
  EXPECT_DOUBLE_EQ(b.max_drawdown, 0.25);
}

TEST(IndicatorAccuracyTest, ShareOfVotesAgreeingWithForwardReturnSign) {
  // Votes +, -, 0, +, -, +, + against forward +, +, (any), -, -, 0, NaN: the zero vote and the NaN return are not
  // counted (5 votes); agreeing: first (+/+) and fifth (-/-); a zero return agrees with neither side: 2 / 5.
  const std::vector<int> votes{1, -1, 0, 1, -1, 1, 1};
  const std::vector<double> fwd{0.02, 0.01, 0.5, -0.03, -0.02, 0.0, std::nan("")};
  const IndicatorAccuracy a = indicator_accuracy(votes, fwd);
  EXPECT_EQ(a.votes, 5u);
  EXPECT_EQ(a.agreed, 2u);
  EXPECT_DOUBLE_EQ(a.accuracy, 0.4);
  // Forward returns over 2 observations: 99/100 - 1, 121/110 - 1, then nothing to look at.
  const std::vector<double> prices{100, 110, 99, 121};
  std::vector<double> out(prices.size());
  forward_returns(prices, 2, out);
  EXPECT_NEAR(out[0], -0.01, 1e-12);
  EXPECT_NEAR(out[1], 0.1, 1e-12);
  EXPECT_TRUE(std::isnan(out[2]) && std::isnan(out[3]));
}

TEST(ComputeMetrics, CalmarExposureAndJson) {
  const auto trades = sample_trades();
  // The daily points only (100, 110, 99, 108.9, 119.79 on days 0..4): the same four returns as above (annual
  // return 0.05 * 365 = 18.25) and a max drawdown of 110 -> 99 = 10 %. (The in-between points would add drawdowns
  // of their own: the 500 spike is a peak.)
  std::vector<EquityPoint> smooth;
  for (const auto& p : daily_curve())
    if (p.time_ns % kDay == 0) smooth.push_back(p);
  const std::vector<PricePoint> prices{{0, 100}, {6 * kDay, 150}};
  const BacktestMetrics m = compute_metrics(trades, smooth, prices, kDay);
  EXPECT_EQ(m.start_ns, 0);
  EXPECT_EQ(m.end_ns, 6 * kDay);  // the prices reach day 6
  EXPECT_NEAR(m.drawdown.max_drawdown, 0.1, 1e-12);
  EXPECT_NEAR(m.calmar, 0.05 * 365 / 0.1, 1e-6);  // annual return 18.25 / 10 %
  EXPECT_NEAR(m.exposure, 4.5 / 6.0, 1e-12);      // 4.5 days in the market over 6
  EXPECT_NEAR(m.buy_and_hold.return_frac, 0.5, 1e-12);
  EXPECT_NEAR(m.buy_and_hold.pnl, 50, 1e-9);  // on the initial 100
  const std::string j = metrics_json(m);
  EXPECT_NE(j.find("\"trades\": 4,"), std::string::npos) << j;
  EXPECT_NE(j.find("\"win_rate\": 0.5,"), std::string::npos) << j;
  EXPECT_NE(j.find("\"max_drawdown\": 0.1"), std::string::npos) << j;
  // Sample trades have no full 30-day window: null, never NaN (not JSON).
  EXPECT_NE(j.find("\"win_rate_30d\": {\"last\": 0.5, \"min_full_window\": null}"), std::string::npos) << j;
  EXPECT_EQ(j.find("nan"), std::string::npos) << j;
  EXPECT_EQ(j.find("inf"), std::string::npos) << j;
}

TEST(Gates, PlanThresholdsStrict) {
  BacktestMetrics m;
  m.trades.win_rate = 0.70;
  m.trades.profit_factor = 2.5;
  m.returns.sharpe = std::nan("");  // too short a run: fails
  m.drawdown.max_drawdown = 0.08;   // exactly 8 % is not below 8 %
  const auto g = evaluate_gates(m);
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(g[0].name, "win_rate");
  EXPECT_EQ(g[0].rule, "> 65 %");
  EXPECT_TRUE(g[0].pass);
  EXPECT_TRUE(g[1].pass);
  EXPECT_FALSE(g[2].pass);
  EXPECT_FALSE(g[3].pass);
  EXPECT_EQ(g[3].rule, "< 8 %");
}

TEST(RoundTripsFromFills, FifoWithFeeAndFundingSplitAndFlip) {
  // buy 2 @ 100 (fee .2, expected 99), buy 1 @ 103 (fee .1); funding .3 after those two fills, while 2 + 1 are
  // open: .2 and .1;
  // sell 4 @ 110 (fee .4 = .1 per unit, expected 111): closes 2 @ 100 and 1 @ 103, opens a 1 short at 110;
  // buy 1 @ 105 (fee .1) closes the short.
  const std::vector<TradeFill> fills{
      {1, +1, 2, 100, 0.2, 99}, {2, +1, 1, 103, 0.1, 0}, {4, -1, 4, 110, 0.4, 111}, {5, +1, 1, 105, 0.1, 0}};
  // Then -.05 received after the third fill (the 1 short alone), and .07 after the last (flat: unattributed).
  const std::vector<FundingPayment> funding{{2, 0.3}, {3, -0.05}, {4, 0.07}};
  FundingLeft left;
  const auto rt = round_trips_from_fills(fills, funding, &left);
  ASSERT_EQ(rt.size(), 3u);
  EXPECT_EQ(rt[0].entry_ns, 1);
  EXPECT_EQ(rt[0].exit_ns, 4);
  EXPECT_EQ(rt[0].side, +1);
  EXPECT_DOUBLE_EQ(rt[0].qty, 2);
  EXPECT_DOUBLE_EQ(rt[0].entry_price, 100);
  EXPECT_DOUBLE_EQ(rt[0].exit_price, 110);
  EXPECT_NEAR(rt[0].fees, 0.4, 1e-12);  // .2 entry + 2 * .1 exit
  EXPECT_NEAR(rt[0].funding, 0.2, 1e-12);
  EXPECT_DOUBLE_EQ(rt[0].expected_entry_price, 99);
  EXPECT_DOUBLE_EQ(rt[0].expected_exit_price, 111);
  EXPECT_DOUBLE_EQ(rt[1].qty, 1);
  EXPECT_DOUBLE_EQ(rt[1].entry_price, 103);
  EXPECT_NEAR(rt[1].fees, 0.2, 1e-12);
  EXPECT_NEAR(rt[1].funding, 0.1, 1e-12);
  EXPECT_EQ(rt[2].side, -1);
  EXPECT_EQ(rt[2].entry_ns, 4);
  EXPECT_EQ(rt[2].exit_ns, 5);
  EXPECT_DOUBLE_EQ(rt[2].entry_price, 110);
  EXPECT_DOUBLE_EQ(rt[2].exit_price, 105);
  EXPECT_NEAR(rt[2].fees, 0.2, 1e-12);
  EXPECT_DOUBLE_EQ(rt[2].expected_entry_price, 111);
  EXPECT_NEAR(rt[2].funding, -0.05, 1e-12);
  EXPECT_NEAR(net_pnl(rt[2]), 5 - 0.2 + 0.05, 1e-12);  // short 1 from 110 to 105, funding received
  EXPECT_NEAR(left.flat, 0.07, 1e-12);
  EXPECT_EQ(left.open, 0.0);
}

TEST(RoundTripsFromFills, FundingOnAPartlyClosedLotStaysWithTheRest) {
  // buy 4; 0.8 paid while 4 are open; sell 1 (takes .2); 0.3 paid on the 3 left; sell 2 (takes 2/3 of .6 + .3);
  // the last 1 stays open with the remaining .3.
  const std::vector<TradeFill> fills{{1, +1, 4, 100, 0, 0}, {3, -1, 1, 101, 0, 0}, {5, -1, 2, 99, 0, 0}};
  const std::vector<FundingPayment> funding{{1, 0.8}, {2, 0.3}};
  FundingLeft left;
  const auto rt = round_trips_from_fills(fills, funding, &left);
  ASSERT_EQ(rt.size(), 2u);
  EXPECT_NEAR(rt[0].funding, 0.2, 1e-12);
  EXPECT_NEAR(rt[1].funding, 0.6, 1e-12);
  EXPECT_NEAR(left.open, 0.3, 1e-12);
  EXPECT_EQ(left.flat, 0.0);
  EXPECT_NEAR(rt[0].funding + rt[1].funding + left.open + left.flat, 0.8 + 0.3, 1e-12);
  // Net = gross - fees (0 here) - funding.
  EXPECT_NEAR(net_pnl(rt[0]), 1 - 0.2, 1e-12);
  EXPECT_NEAR(net_pnl(rt[1]), -2 - 0.6, 1e-12);
}

}  // namespace
}  // namespace enigma::strategy

namespace enigma::strategy {
namespace {

// A steady trend: close_i = 100 * g^i with a +-0.05 zigzag that never makes a bar close against the trend
// (the step is ~0.2, the zigzag changes it by +-0.1), high/low 0.1 around the close, volume 1.
std::vector<strategy::Bar> trend_bars(double growth, std::size_t n) {
  std::vector<strategy::Bar> bars;
  for (std::size_t i = 0; i < n; ++i) {
    const double c = 100 * std::pow(growth, static_cast<double>(i)) + (i % 2 ? 0.05 : -0.05) * (growth > 1 ? 1 : -1);
    bars.push_back({static_cast<std::int64_t>(i) * 60 * kNsPerSecond, c, c + 0.1, c - 0.1, c, 1.0});
  }
  return bars;
}

TEST(ComponentAccuracyTest, TrendFollowersRightMeanReversionWrongInATrend) {
  // In a rising series every forward return is positive (5 bars: about +1 %, far above the zigzag). Every close
  // is up, so RSI is 100: its vote is bearish (mean reversion) on every bar and it is never right; the EMA trend
  // (EMA9 > EMA21) and the OBV term (all volume closed up) vote bullish and are always right. No order-flow input:
  // that component never votes. In a falling series the same holds with the signs swapped.
  for (double growth : {1.002, 1.0 / 1.002}) {
    const auto bars = trend_bars(growth, 300);
    const auto acc = component_accuracy(bars, strategy::SignalConfig{}, 5);
    auto of = [&](strategy::Component c) { return acc[static_cast<std::size_t>(c)].accuracy; };
    EXPECT_GT(of(strategy::Component::rsi).votes, 200u) << growth;
    EXPECT_EQ(of(strategy::Component::rsi).agreed, 0u) << growth;
    EXPECT_GT(of(strategy::Component::ema_trend).votes, 200u) << growth;
    EXPECT_DOUBLE_EQ(of(strategy::Component::ema_trend).accuracy, 1.0) << growth;
    EXPECT_GT(of(strategy::Component::volume).votes, 200u) << growth;
    EXPECT_DOUBLE_EQ(of(strategy::Component::volume).accuracy, 1.0) << growth;
    EXPECT_EQ(of(strategy::Component::order_flow).votes, 0u) << growth;
    EXPECT_TRUE(std::isnan(of(strategy::Component::order_flow).accuracy));
  }
  EXPECT_THROW((void)component_accuracy(trend_bars(1.002, 10), strategy::SignalConfig{}, 0), Error);
}

// The running strategy's form (one bar at a time, a ring of `horizon` bars) against the batch reference above,
// on a seeded random walk where every component votes both ways.
TEST(OnlineComponentAccuracyTest, EqualsTheBatchMeasureBarForBar) {
  std::vector<strategy::Bar> bars;
  std::uint64_t s = 42;
  double c = 100;
  for (std::size_t i = 0; i < 500; ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    c *= 1 + (static_cast<double>(s >> 11) / 9007199254740992.0 - 0.5) * 0.01;
    bars.push_back({static_cast<std::int64_t>(i) * 60 * kNsPerSecond, c, c * 1.001, c * 0.999, c,
                    1.0 + static_cast<double>(i % 7)});
  }
  for (std::size_t horizon : {1u, 5u, 37u}) {
    const auto want = component_accuracy(bars, strategy::SignalConfig{}, horizon);
    OnlineComponentAccuracy online(horizon);
    strategy::SignalScorer scorer(strategy::SignalConfig{});
    for (const auto& b : bars) online.on_bar(scorer.on_bar(b));
    const auto got = online.result();
    std::size_t voting = 0;
    for (std::size_t k = 0; k < strategy::kComponentCount; ++k) {
      EXPECT_EQ(got[k].accuracy.votes, want[k].accuracy.votes) << "component " << k << " horizon " << horizon;
      EXPECT_EQ(got[k].accuracy.agreed, want[k].accuracy.agreed) << "component " << k << " horizon " << horizon;
      if (want[k].accuracy.votes > 0) {
        ++voting;
        EXPECT_DOUBLE_EQ(got[k].accuracy.accuracy, want[k].accuracy.accuracy);
      }
    }
    EXPECT_GE(voting, 8u) << "every bar indicator votes on a random walk";
    EXPECT_EQ(online.horizon(), horizon);
    EXPECT_EQ(online.bars(), bars.size());
  }
  EXPECT_THROW(OnlineComponentAccuracy(0), Error);
}

}  // namespace
}  // namespace enigma::strategy
