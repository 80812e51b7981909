// Divergence, regime and signal scoring on real Coinbase BTC-USD 4h candles (data/candles/).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "strategy/divergence.hpp"
#include "strategy/indicators.hpp"
#include "strategy/regime.hpp"
#include "strategy/signal.hpp"
#include "tests/strategy/signal_data.hpp"

namespace enigma::strategy {
namespace {

std::vector<Bar> coinbase_bars() {
  std::vector<Bar> bars;
  for (const auto& r : test::read_coinbase_4h()) {
    bars.push_back(Bar{r.time_s * 1'000'000'000, std::stod(r.open), std::stod(r.high), std::stod(r.low),
                       std::stod(r.close), std::stod(r.volume)});
  }
  return bars;
}

std::size_t index_of(const std::vector<Bar>& bars, std::int64_t time_s) {
  for (std::size_t i = 0; i < bars.size(); ++i) {
    if (bars[i].time_ns == time_s * 1'000'000'000) return i;
  }
  return bars.size();
}

TEST(StrategyDivergence, SwingPointsOnACraftedSeries) {
  SwingDetector s(2, 2);
  // lows 5 4 3 4 5 3 3 4 5 with 2 bars each side: index 2 (3 below 5, 4 before; not above 4, 5 after) and
  // index 5 (below 4, 5 before; the equal low at 6 after it is allowed); index 6 is not (ties 5 before it).
  const double lows[] = {5, 4, 3, 4, 5, 3, 3, 4, 5};
  std::vector<std::int64_t> pivots;
  for (double l : lows) {
    auto r = s.update(l + 10, l, 0.0);
    if (r.is_low) pivots.push_back(r.bar);
  }
  EXPECT_EQ(pivots, (std::vector<std::int64_t>{2, 5}));
  EXPECT_THROW(SwingDetector(0, 3), Error);
  EXPECT_THROW(SwingDetector(3, kMaxSwingSide + 1), Error);
}

// Regular bullish divergence between price and RSI(14) on Coinbase BTC-USD 4h, found and checked by hand:
// the candles and a TA-Lib-convention RSI were printed around 2025-08-29 .. 2025-09-02 (a separate Python
// recomputation, Wilder smoothing seeded with the SMA of the first 14 changes):
//   bar 20341 2025-08-30 00:00  low 107369.69  RSI 34.27   <- swing low (5 bars each side are higher)
//   bar 20354 2025-09-01 04:00  low 107250.00  RSI 49.08   <- swing low, lower low, RSI higher low
// Between them the lows stay above 107369.69 except 20353 (107392.76, not lower) and no other bar is a
// 5/5 pivot low. The second pivot is confirmed five bars later, at bar 20359 (2025-09-02 00:00).
TEST(StrategyDivergence, RegularBullishPriceVsRsiOnRealCandles) {
  const auto bars = coinbase_bars();
  const std::size_t first = index_of(bars, 1756512000);   // 2025-08-30 00:00 UTC
  const std::size_t second = index_of(bars, 1756699200);  // 2025-09-01 04:00 UTC
  ASSERT_EQ(first, 20341u);
  ASSERT_EQ(second, 20354u);
  EXPECT_EQ(bars[first].low, 107369.69);
  EXPECT_EQ(bars[second].low, 107250.00);

  Rsi rsi(14);
  DivergenceDetector det(DivergenceConfig{5, 5, 60});
  bool found = false;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    rsi.update(bars[i].close);
    const auto u = det.update(bars[i].high, bars[i].low, rsi.ready() ? rsi.value() : std::nan(""));
    if (i == second + 5) {
      ASSERT_EQ(u.bullish.kind, DivergenceKind::regular_bullish);
      EXPECT_EQ(u.bullish.pivot_bar, static_cast<std::int64_t>(second));
      EXPECT_EQ(u.bullish.prev_pivot_bar, static_cast<std::int64_t>(first));
      EXPECT_NEAR(u.bullish.indicator, 49.08, 0.005);
      EXPECT_NEAR(u.bullish.prev_indicator, 34.27, 0.005);
      found = true;
    }
    // Nothing is reported about the second low before it is confirmed (no look-ahead).
    if (i >= second && i < second + 5) {
      EXPECT_EQ(u.bullish.kind, DivergenceKind::none) << i;
    }
  }
  EXPECT_TRUE(found);
}

TEST(StrategyDivergence, HiddenAndBearishKindsOnCraftedSwings) {
  DivergenceDetector det(DivergenceConfig{1, 1, 20});
  // (high, low, indicator): swing highs at bars 1 and 5, swing lows at bars 3 and 7.
  struct P { double h, l, ind; };
  const P seq[] = {{10, 9, 50}, {12, 11, 70}, {10, 9, 50}, {8, 5, 30}, {10, 9, 50}, {13, 11, 60}, {10, 9, 50},
                   {9, 6, 20}, {10, 9, 50}};
  std::vector<DivergenceKind> kinds;
  for (const P& p : seq) {
    auto u = det.update(p.h, p.l, p.ind);
    if (u.bullish.kind != DivergenceKind::none) kinds.push_back(u.bullish.kind);
    if (u.bearish.kind != DivergenceKind::none) kinds.push_back(u.bearish.kind);
  }
  // highs 12 -> 13 with indicator 70 -> 60: regular bearish; lows 5 -> 6 with 30 -> 20: hidden bullish.
  EXPECT_EQ(kinds, (std::vector<DivergenceKind>{DivergenceKind::regular_bearish, DivergenceKind::hidden_bullish}));
}

// ATR(14) / close on the 2020-03-12 crash (checked with the same Python recomputation): 2020-03-10 00:00
// 2.31 %, 2020-03-13 00:00 10.01 % (ATR 538.71 on close 5380.63), still 6.2 % on 2020-03-19 00:00; a calm
// week, 2023-07-05 00:00, is at 0.99 %.
TEST(StrategyRegime, VolatileOnTheMarch2020CrashNotOnACalmWeek) {
  const auto bars = coinbase_bars();
  SignalScorer scorer;
  const std::size_t before = index_of(bars, 1583798400);  // 2020-03-10 00:00
  const std::size_t crash = index_of(bars, 1584057600);   // 2020-03-13 00:00
  const std::size_t after = index_of(bars, 1584576000);   // 2020-03-19 00:00
  const std::size_t calm = index_of(bars, 1688515200);    // 2023-07-05 00:00
  ASSERT_LT(calm, bars.size());
  for (std::size_t i = 0; i <= calm; ++i) {
    const SignalResult r = scorer.on_bar(bars[i]);
    if (i == before) {
      EXPECT_NE(r.regime, Regime::volatile_);
    }
    if (i == crash || i == after) {
      EXPECT_EQ(r.regime, Regime::volatile_) << i;
      EXPECT_EQ(r.threshold, 60.0);
      EXPECT_EQ(r.leverage_cap, 2.0);
    }
    if (i == crash) {
      EXPECT_NEAR(r.atr / r.close * 100.0, 10.01, 0.01);
    }
    if (i == calm) {
      EXPECT_NE(r.regime, Regime::volatile_);
    }
  }
}

TEST(StrategyRegime, ClassificationRules) {
  const RegimeConfig cfg;
  RegimeInputs in{100.0, 1.0, 30.0, 30.0, 10.0, true, true};
  EXPECT_EQ(classify_regime(in, cfg), Regime::trending_up);
  in.plus_di = 5.0;
  EXPECT_EQ(classify_regime(in, cfg), Regime::trending_down);
  in.adx = 20.0;
  EXPECT_EQ(classify_regime(in, cfg), Regime::ranging);
  in.atr = 3.01;  // 3.01 % > 3 %
  EXPECT_EQ(classify_regime(in, cfg), Regime::volatile_);
  in.atr = 3.0;   // exactly 3 % is not above
  EXPECT_EQ(classify_regime(in, cfg), Regime::ranging);
  in.adx_ready = in.atr_ready = false;
  in.atr = 50.0;
  EXPECT_EQ(classify_regime(in, cfg), Regime::ranging);
  RegimeConfig bad;
  bad.adjustments[1].leverage_cap = 0.0;
  EXPECT_THROW(bad.validate(), Error);
}

TEST(StrategySignal, ScoreStaysInBoundsOverNineYearsOfCandles) {
  const auto bars = coinbase_bars();
  SignalScorer scorer;
  const SignalConfig& cfg = scorer.config();
  EXPECT_DOUBLE_EQ(cfg.weight_sum(), 130.0);
  OrderFlowFeatures flow;
  flow.book_valid = true;
  std::size_t longs = 0, shorts = 0, ready = 0;
  double max_abs = 0.0;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    flow.book_imbalance = std::sin(static_cast<double>(i));  // any values in [-1, 1]
    flow.trade_imbalance = std::cos(static_cast<double>(i));
    const SignalResult r = scorer.on_bar(bars[i], &flow);
    ASSERT_GE(r.score, -130.0);
    ASSERT_LE(r.score, 130.0);
    ASSERT_GE(r.confidence, 0.0);
    ASSERT_LE(r.confidence, 100.0);
    double sum = 0.0;
    for (std::size_t k = 0; k < kComponentCount; ++k) {
      ASSERT_LE(std::fabs(r.contributions[k]), cfg.weights[k] + 1e-12) << to_string(static_cast<Component>(k));
      sum += r.contributions[k];
    }
    ASSERT_NEAR(r.score, sum, 1e-9);
    ready += r.ready;
    longs += r.direction == Direction::long_;
    shorts += r.direction == Direction::short_;
    max_abs = std::max(max_abs, std::fabs(r.score));
    if (r.direction == Direction::long_) {
      ASSERT_GE(r.score, r.threshold);
    }
    if (r.direction == Direction::short_) {
      ASSERT_LE(r.score, -r.threshold);
    }
  }
  // Ready once every lookback has passed (ADX needs 28 bars, MACD 34).
  EXPECT_EQ(ready, bars.size() - 33);
  EXPECT_GT(longs, 100u);
  EXPECT_GT(shorts, 100u);
  // Strong confluence does happen, though trend and mean-reversion terms rarely all agree: over nine years
  // the largest |score| is about half the range.
  EXPECT_GT(max_abs, 55.0);
}

TEST(StrategySignal, ScoreIsMonotonicInEachInput) {
  const auto bars = coinbase_bars();
  SignalScorer scorer;
  for (std::size_t i = 0; i < 2000; ++i) scorer.update(bars[i]);
  // Order flow: more buying pressure never lowers the score.
  OrderFlowFeatures f;
  f.book_valid = true;
  double prev = -1e9;
  for (double x = -1.0; x <= 1.0; x += 0.1) {
    f.book_imbalance = x;
    f.trade_imbalance = x;
    const double s = scorer.evaluate(&f).score;
    EXPECT_GE(s, prev - 1e-12);
    prev = s;
  }
  EXPECT_NEAR(scorer.evaluate(&f).contribution(Component::order_flow), 10.0, 1e-9);
  // A lower close on an otherwise identical history gives a score at least as bullish on the oscillators
  // (RSI, Bollinger %b, Stochastic, KDJ are all mean-reversion terms).
  SignalScorer a = scorer, b = scorer;
  Bar bar = bars[2000];
  const SignalResult ra = a.on_bar(bar);
  bar.close = bar.low;
  const SignalResult rb = b.on_bar(bar);
  for (Component c : {Component::rsi, Component::bollinger, Component::stochastic, Component::kdj}) {
    EXPECT_GE(rb.contribution(c), ra.contribution(c)) << to_string(c);
  }
}

TEST(StrategySignal, TrendTermsFollowASustainedRealTrend) {
  // 2020-10-08 .. 2020-11-18: BTC rose from ~10,900 to ~17,800 on Coinbase, a textbook uptrend.
  const auto bars = coinbase_bars();
  SignalScorer scorer;
  const std::size_t end = index_of(bars, 1605657600);  // 2020-11-18 00:00
  ASSERT_LT(end, bars.size());
  SignalResult r;
  for (std::size_t i = 0; i <= end; ++i) r = scorer.on_bar(bars[i]);
  EXPECT_GT(r.contribution(Component::ema_trend), 0.0);
  EXPECT_GT(r.contribution(Component::adx), 0.0);
}

TEST(StrategySignal, AlignmentAndCombination) {
  using D = Direction;
  const D full[] = {D::long_, D::long_, D::long_};
  const D partial[] = {D::long_, D::neutral, D::long_};
  const D divergent[] = {D::long_, D::neutral, D::short_};
  EXPECT_EQ(alignment_of(full), Alignment::full);
  EXPECT_EQ(alignment_of(partial), Alignment::partial);
  EXPECT_EQ(alignment_of(divergent), Alignment::divergent);

  SignalResult a, b;
  a.score = 60;
  a.direction = D::long_;
  a.threshold = 30;
  a.confidence = 80;
  b = a;
  b.score = -40;
  b.direction = D::short_;
  const SignalResult two_long[] = {a, a};
  const SignalResult mixed[] = {a, b};
  const auto m1 = combine_timeframes(two_long);
  EXPECT_EQ(m1.alignment, Alignment::full);
  EXPECT_EQ(m1.direction, D::long_);
  EXPECT_DOUBLE_EQ(m1.confidence, 80.0);
  const auto m2 = combine_timeframes(mixed);
  EXPECT_EQ(m2.alignment, Alignment::divergent);
  EXPECT_EQ(m2.direction, D::neutral);
  EXPECT_DOUBLE_EQ(m2.confidence, 80.0 * 0.3);
}

TEST(StrategySignal, ConfigValidation) {
  SignalConfig c;
  c.weights[0] = 16;  // sum 131 > 130
  EXPECT_THROW(SignalScorer{c}, Error);
  c = {};
  c.weights[3] = -1;
  EXPECT_THROW(c.validate(), Error);
  c = {};
  c.ema_fast = 30;
  EXPECT_THROW(c.validate(), Error);
  c = {};
  c.rsi_period = 0;
  EXPECT_THROW(SignalScorer{c}, Error);  // named by the indicator's constructor
  c = {};
  c.divergence.max_bars_between = 3;
  EXPECT_THROW(c.validate(), Error);
}

// Regime weights, by hand: closes rising by 1 every bar (high/low +-0.5) have no losses, so RSI(14) = 100 and
// its term is -w (full overbought). With volatile_atr_pct tiny every bar past the ATR lookback is VOLATILE
// (ATR 1.5 on ~120); the volatile regime keeps only rsi = 7, so the score is -7 (the base weight would give
// -15), every other term is 0, and confidence = 100 * sqrt(7 / 7) * 1 = 100.
TEST(StrategySignal, RegimeWeightsReplaceTheBaseWeightsInTheirRegime) {
  SignalConfig c;
  c.regime.volatile_atr_pct = 0.001;
  auto& vw = c.regime_weights[static_cast<std::size_t>(Regime::volatile_)];
  vw.fill(0.0);
  vw[static_cast<std::size_t>(Component::rsi)] = 7.0;
  SignalScorer scorer(c);
  SignalScorer base{SignalConfig{}};
  SignalResult r, b;
  for (int i = 0; i < 40; ++i) {
    const double close = 100.0 + i;
    const Bar bar{i * 60'000'000'000LL, close - 1.0, close + 0.5, close - 0.5, close, 10.0};
    r = scorer.on_bar(bar);
    b = base.on_bar(bar);
  }
  EXPECT_EQ(r.regime, Regime::volatile_);
  EXPECT_DOUBLE_EQ(r.contribution(Component::rsi), -7.0);
  EXPECT_DOUBLE_EQ(b.contribution(Component::rsi), -15.0);
  for (std::size_t k = 1; k < kComponentCount; ++k) EXPECT_EQ(r.contributions[k], 0.0) << k;
  EXPECT_DOUBLE_EQ(r.score, -7.0);
  EXPECT_DOUBLE_EQ(r.confidence, 100.0);
  EXPECT_EQ(scorer.weights(Regime::volatile_)[0], 7.0);
  EXPECT_EQ(scorer.weights(Regime::ranging)[0], 15.0) << "other regimes keep the base weights";
}

// On nine years of real candles: a Bollinger weight of 0 in TRENDING_UP only. On those bars every term but
// Bollinger equals the base scorer's and the score is their sum; on every other bar the two scorers agree.
TEST(StrategySignal, ARegimeWeightActsOnlyInItsRegime) {
  SignalConfig c;
  c.regime_weights[static_cast<std::size_t>(Regime::trending_up)][static_cast<std::size_t>(Component::bollinger)] = 0.0;
  SignalScorer scorer(c);
  SignalScorer base{SignalConfig{}};
  const std::size_t bb = static_cast<std::size_t>(Component::bollinger);
  int trending_with_bollinger = 0;
  for (const Bar& bar : coinbase_bars()) {
    const SignalResult r = scorer.on_bar(bar);
    const SignalResult b = base.on_bar(bar);
    ASSERT_EQ(r.regime, b.regime);
    if (r.regime == Regime::trending_up) {
      trending_with_bollinger += b.contributions[bb] != 0.0;
      EXPECT_EQ(r.contributions[bb], 0.0);
      double sum = 0.0;
      for (std::size_t k = 0; k < kComponentCount; ++k) {
        if (k != bb) {
          EXPECT_EQ(r.contributions[k], b.contributions[k]);
        }
        sum += r.contributions[k];
      }
      EXPECT_NEAR(r.score, std::clamp(sum, -130.0, 130.0), 1e-9);
      EXPECT_NEAR(r.score, b.score - b.contributions[bb], 1e-9);
    } else {
      EXPECT_EQ(r.score, b.score);
    }
  }
  EXPECT_GT(trending_with_bollinger, 100);
}

TEST(StrategySignal, RegimeWeightValidation) {
  SignalConfig c;
  c.regime_weights[1][0] = 16;  // trending up: 16 + 115 = 131 > 130
  EXPECT_THROW(SignalScorer{c}, Error);
  c = {};
  c.regime_weights[2][3] = -0.5;  // only the "base" marker (-1) may be negative
  EXPECT_THROW(c.validate(), Error);
  c = {};
  c.regime_weights[3].fill(0.0);  // nothing left to score with
  EXPECT_THROW(c.validate(), Error);
  c.regime_weights[3][5] = 130.0;
  EXPECT_NO_THROW(c.validate());
}

}  // namespace
}  // namespace enigma::strategy
