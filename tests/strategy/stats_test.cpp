// strategy/stats: the deflated Sharpe ratio against Bailey & López de Prado (2014)'s worked example and a direct
// implementation of its formulas written here; PBO (CSCV) on matrices whose answer is known; the random-entry
// permutation p-value on price paths where the null distribution can be counted by hand.
#include "strategy/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "core/error.hpp"

namespace enigma::strategy {
namespace {

// The test's own inverse normal CDF: bisection on erfc, slow and obviously right.
double bisect_quantile(double p) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

TEST(Normal, QuantileMatchesBisectionAndKnownValues) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(normal_quantile(0.99), 2.326347874040841, 1e-12);
  for (double p : {1e-12, 1e-6, 0.01, 0.02425, 0.3, 0.5, 0.7, 0.97575, 0.999999})
    EXPECT_NEAR(normal_quantile(p), bisect_quantile(p), 1e-9) << p;
}

TEST(DeflatedSharpeTest, PaperWorkedExample) {
  // Bailey & López de Prado (2014), section "A numerical example": an annualised SR of 2.5 over 5 years of daily
  // returns (T = 1250, 250 days a year), skewness -3, kurtosis 10, selected among N = 100 trials whose annualised
  // Sharpe ratios have variance 1/2. They find SR0 = 0.1132 (non-annualised) and DSR = 0.9004.
  const double sr = 2.5 / std::sqrt(250.0);
  const double v = 0.5 / 250.0;
  const DeflatedSharpe d = deflated_sharpe(sr, v, 100, 1250, -3, 10);
  EXPECT_NEAR(d.expected_max_sharpe, 0.1132, 5e-5);
  EXPECT_NEAR(d.dsr, 0.9004, 5e-4);
}

TEST(DeflatedSharpeTest, DirectFormula) {
  // SR0 = sqrt(V) ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e))); DSR = Z((SR - SR0) sqrt(T - 1) /
  // sqrt(1 - skew SR + (kurt - 1)/4 SR^2)), written with this file's quantile.
  const double g = 0.5772156649015329;
  for (std::size_t n : {2u, 10u, 1000u, 8640u}) {
    const double v = 0.003, sr = 0.12, skew = -0.7, kurt = 5.5;
    const std::size_t t = 900;
    const double sr0 =
        std::sqrt(v) * ((1 - g) * bisect_quantile(1 - 1.0 / n) + g * bisect_quantile(1 - 1.0 / (n * std::numbers::e)));
    const double z = (sr - sr0) * std::sqrt(t - 1.0) / std::sqrt(1 - skew * sr + (kurt - 1) / 4 * sr * sr);
    const DeflatedSharpe d = deflated_sharpe(sr, v, n, t, skew, kurt);
    EXPECT_NEAR(d.expected_max_sharpe, sr0, 1e-9) << n;
    EXPECT_NEAR(d.dsr, 0.5 * std::erfc(-z / std::sqrt(2.0)), 1e-9) << n;
  }
  // More trials raise the bar: the same Sharpe is less convincing.
  EXPECT_GT(deflated_sharpe(0.1, 0.002, 10, 1000, 0, 3).dsr, deflated_sharpe(0.1, 0.002, 1000, 1000, 0, 3).dsr);
  // With normal returns and no selection (one trial), DSR is the PSR against 0: Z(SR sqrt(T - 1) / sqrt(1 + SR^2/2)).
  EXPECT_NEAR(deflated_sharpe(0.1, 0.002, 1, 401, 0, 3).dsr,
              0.5 * std::erfc(-(0.1 * 20 / std::sqrt(1.005)) / std::sqrt(2.0)), 1e-12);
}

// T x N matrix in row-major order from f(row, column).
template <class F>
std::vector<double> matrix(std::size_t rows, std::size_t cols, F f) {
  std::vector<double> m(rows * cols);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) m[r * cols + c] = f(r, c);
  return m;
}

TEST(Pbo, SkillThatPersistsIsNeverOverfit) {
  // Column c returns 0.1 c +/- 1 alternating: every block (even length) has mean 0.1 c and the same spread, so the
  // ranking by Sharpe is the same in and out of sample: the IS-best (last column) is OOS-best, rank N, logit ln N.
  const std::size_t rows = 64, cols = 5;
  const auto m = matrix(rows, cols, [](std::size_t r, std::size_t c) { return 0.1 * c + (r % 2 ? 1.0 : -1.0); });
  const Pbo p = probability_of_backtest_overfitting(m, rows, cols, 8);
  EXPECT_EQ(p.combinations, 70u);  // C(8, 4)
  EXPECT_DOUBLE_EQ(p.pbo, 0.0);
  for (double l : p.logits) EXPECT_NEAR(l, std::log(5.0), 1e-12);
}

TEST(Pbo, SkillThatReversesIsAlwaysOverfit) {
  // Column c has block means +c/8 in even blocks and -c/8 in odd ones (binary fractions: every sum below is exact,
  // so ties are real ties). In-sample mean = c/8 (e - o) / 4 with
  // e, o the even and odd blocks chosen; out of sample it is exactly the negative. e > o: the IS-best (last column)
  // is OOS-worst (rank 1, logit ln(1/5)); e < o: the IS-best is column 0 (Sharpe 0, the rest negative), which is
  // OOS-worst again; e = o: all means 0, column 0 wins ties in sample and sits at the median out of sample
  // (w = 1/2, logit 0, counted as overfit). So PBO = 1.
  const std::size_t rows = 64, cols = 5, block = 8;
  const auto m = matrix(rows, cols, [&](std::size_t r, std::size_t c) {
    const double sign = (r / block) % 2 == 0 ? 1.0 : -1.0;
    return sign * 0.125 * static_cast<double>(c) + (r % 2 ? 1.0 : -1.0);
  });
  const Pbo p = probability_of_backtest_overfitting(m, rows, cols, 8);
  EXPECT_DOUBLE_EQ(p.pbo, 1.0);
  // C(4,2)^2 = 36 of the 70 combinations have e = o (logit 0); the other 34 have logit ln(1/5).
  std::size_t zero = 0;
  for (double l : p.logits) {
    if (l == 0)
      ++zero;
    else
      EXPECT_NEAR(l, std::log(1.0 / 5.0), 1e-12);
  }
  EXPECT_EQ(zero, 36u);
}

TEST(Pbo, PureNoiseIsACoinFlip) {
  // With i.i.d. noise columns the OOS rank of the IS-best is uniform on 1..N; with N = 10 (even) the logit is <= 0
  // exactly when the rank is <= 5: probability 1/2. One matrix's PBO is an average of strongly dependent
  // combinations, so we average 200 independent seeded matrices: each PBO lies in [0, 1] (variance <= 1/4), the mean
  // has a standard deviation <= 0.5 / sqrt(200) = 0.035, and 0.15 is more than 4 of those.
  std::mt19937_64 rng(20260601);
  std::normal_distribution<double> noise(0, 0.01);
  const std::size_t rows = 160, cols = 10;
  double sum = 0;
  for (int k = 0; k < 200; ++k) {
    const auto m = matrix(rows, cols, [&](std::size_t, std::size_t) { return noise(rng); });
    sum += probability_of_backtest_overfitting(m, rows, cols, 8).pbo;
  }
  EXPECT_NEAR(sum / 200, 0.5, 0.15);
}

TEST(Pbo, RejectsBadShapes) {
  const std::vector<double> m(40, 0.0);
  EXPECT_THROW((void)probability_of_backtest_overfitting(m, 10, 4, 3), Error);  // odd S
  EXPECT_THROW((void)probability_of_backtest_overfitting(m, 10, 4, 8), Error);  // blocks of 1 row
  EXPECT_THROW((void)probability_of_backtest_overfitting(m, 11, 4, 2), Error);  // 40 != 11 x 4
  EXPECT_THROW((void)probability_of_backtest_overfitting(m, 40, 1, 2), Error);  // one trial
}

TEST(Permutation, OneJumpCaughtByTheStrategy) {
  // Flat at 100, then 110 from index 50 on (100 prices). A long held 1 step from index 49 catches the jump:
  // observed ln 1.1. A random entry for a 1-step hold is uniform on 0..98 (99 places); only 49 scores ln 1.1, the
  // rest 0. So P(random >= observed) = 1/99: of 9999 draws about 101 (binomial sd 10), p = (1 + k) / 10000 within
  // 4 sd: [0.0062, 0.0142].
  std::vector<double> prices(100, 100.0);
  for (std::size_t i = 50; i < prices.size(); ++i) prices[i] = 110.0;
  const std::vector<HeldTrade> trades{{49, 1, +1}};
  const PermutationTest t = random_entry_p_value(prices, trades, 9999, 7);
  EXPECT_NEAR(t.observed, std::log(1.1), 1e-12);
  EXPECT_GT(t.p_value, 0.0062);
  EXPECT_LT(t.p_value, 0.0142);
  EXPECT_NEAR(t.null_mean, std::log(1.1) / 99, std::log(1.1) / 99 * 0.4);
  // Seeded: the same seed gives the same answer.
  EXPECT_EQ(random_entry_p_value(prices, trades, 9999, 7).p_value, t.p_value);
  // Short across the same jump loses ln 1.1; every random entry does at least as well: p = 1.
  const std::vector<HeldTrade> wrong_way{{49, 1, -1}};
  EXPECT_DOUBLE_EQ(random_entry_p_value(prices, wrong_way, 999, 7).p_value, 1.0);
}

TEST(Permutation, SteadyTrendGivesNoEdgeOverRandomEntries) {
  // Geometric growth 1 % a step: every long held h steps earns h ln 1.01 wherever it starts, so every random score
  // equals the observed one and p = (1 + 500) / (1 + 500) = 1.
  std::vector<double> prices(200);
  for (std::size_t i = 0; i < prices.size(); ++i) prices[i] = 100 * std::pow(1.01, static_cast<double>(i));
  const std::vector<HeldTrade> trades{{10, 5, +1}, {100, 20, +1}};
  const PermutationTest t = random_entry_p_value(prices, trades, 500, 1);
  EXPECT_NEAR(t.observed, 25 * std::log(1.01), 1e-9);
  // Floating sums of different logs can differ in the last bits; allow that by checking the p-value's range.
  EXPECT_GT(t.p_value, 0.5);
}

TEST(Permutation, RejectsTradesPastTheEnd) {
  const std::vector<double> prices{100, 101, 102};
  const std::vector<HeldTrade> trades{{1, 2, +1}};
  EXPECT_THROW((void)random_entry_p_value(prices, trades, 10, 1), Error);
}

}  // namespace
}  // namespace enigma::strategy
