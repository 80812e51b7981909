// research/bayes.hpp: expected improvement and the Gaussian process against hand computations; run_bayes on
// the bundled BTCUSDT 5 m candles: reproducible per seed, distinct points within the budget, and on a grid of
// 288 points with a quarter of it as the budget, its best against the same number of seeded random points and
// the exhaustive grid's best (run_grid).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "research/bayes.hpp"
#include "research/candle_backtest.hpp"
#include "research/optimizer.hpp"
#include "research/param_space.hpp"
#include "research/walkforward.hpp"
#include "strategy/csv.hpp"

namespace enigma::research {
namespace {

const std::string kCandles =
    std::string(ENIGMA_SOURCE_DIR) + "/data/candles/kheus_spot_BTCUSDT_5m_20250602_20250807.csv.gz";

ParamSpace parse_space(const std::string& toml_text) {
  const config::Document doc = config::Document::parse(toml_text, "test.toml");
  config::TableReader root = doc.root();
  config::TableReader params = root.table("params");
  return read_param_space(params, *doc.table()["params"].as_table());
}

std::vector<strategy::Bar> slice(std::size_t n) {
  std::vector<strategy::Bar> bars = strategy::read_ohlcv_file(kCandles);
  bars.resize(n);
  return bars;
}

// 2 x 2 x 2 x 3 x 2 x 2 x 3 = 288 points (the optimizer test's small space with a third leverage).
ParamSpace space_288() {
  return parse_space(
      "[params]\nrsi_period = [7, 14]\nrsi_oversold = [25, 30]\nrsi_overbought = [70, 75]\n"
      "min_score = {min = 30, max = 50, step = 10}\nstop_loss_roi = [0.3, 1.0]\ntake_profit_roi = [1.0, 3.0]\n"
      "leverage = [25, 50, 100]\n");
}

Eigen::VectorXd point(std::initializer_list<double> v) {
  Eigen::VectorXd x(static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (double d : v) x[i++] = d;
  return x;
}

TEST(ExpectedImprovement, MatchesHandComputedValues) {
  // (mu - best) Phi(z) + sd phi(z): Phi(1) = 0.8413447461, phi(1) = 0.2419707245, phi(0) = 0.3989422804.
  EXPECT_NEAR(expected_improvement(1.0, 1.0, 0.0), 0.8413447461 + 0.2419707245, 1e-9);  // 1.0833154706
  EXPECT_NEAR(expected_improvement(0.0, 1.0, 0.0), 0.3989422804, 1e-9);
  EXPECT_NEAR(expected_improvement(-1.0, 1.0, 0.0), -(1 - 0.8413447461) + 0.2419707245, 1e-9);  // 0.0833154706
  EXPECT_NEAR(expected_improvement(3.0, 2.0, 1.0), 2 * 0.8413447461 + 2 * 0.2419707245, 1e-9);  // z = 1
  // No uncertainty: the plain improvement, never negative.
  EXPECT_EQ(expected_improvement(2.0, 0.0, 1.0), 1.0);
  EXPECT_EQ(expected_improvement(0.5, 0.0, 1.0), 0.0);
  EXPECT_EQ(expected_improvement(1.0, 0.0, 1.0), 0.0);
}

TEST(GaussianProcess, OnePointByHand) {
  const double l = 0.5, s2 = 1.5, noise = 0.1, y0 = 2.0;
  GaussianProcess gp(l, s2, noise);
  Eigen::MatrixXd x(1, 2);
  x << 0.0, 0.0;
  Eigen::VectorXd y(1);
  y << y0;
  gp.fit(x, y);
  // At (0.3, 0.4): |d|^2 = 0.25, k = 1.5 exp(-0.25 / 0.5) = 0.9097959896; mean = k y / (s2 + noise),
  // variance = s2 - k^2 / (s2 + noise).
  const double k = 1.5 * std::exp(-0.5);
  EXPECT_NEAR(k, 0.9097959896, 1e-9);
  const GaussianProcess::Prediction p = gp.predict(point({0.3, 0.4}));
  EXPECT_NEAR(p.mean, k * y0 / (s2 + noise), 1e-12);  // 1.1372449870
  EXPECT_NEAR(p.mean, 1.1372449870, 1e-9);
  EXPECT_NEAR(p.variance, s2 - k * k / (s2 + noise), 1e-12);  // 0.9826691489
  EXPECT_NEAR(gp.kernel(point({0.0, 0.0}), point({0.3, 0.4})), k, 1e-15);
}

TEST(GaussianProcess, InterpolatesWithTinyNoiseAndRevertsToThePriorFarAway) {
  GaussianProcess gp(0.3, 2.0, 1e-10);
  Eigen::MatrixXd x(3, 2);
  x << 0.0, 0.0, 0.5, 0.2, 1.0, 1.0;
  Eigen::VectorXd y(3);
  y << 1.0, -0.5, 2.5;
  gp.fit(x, y);
  for (Eigen::Index i = 0; i < 3; ++i) {
    const GaussianProcess::Prediction p = gp.predict(x.row(i).transpose());
    EXPECT_NEAR(p.mean, y[i], 1e-6) << i;
    EXPECT_LT(p.variance, 1e-6) << i;
  }
  // Far from every point: the zero prior mean and the signal variance.
  const GaussianProcess::Prediction far = gp.predict(point({50.0, -50.0}));
  EXPECT_NEAR(far.mean, 0.0, 1e-12);
  EXPECT_NEAR(far.variance, 2.0, 1e-12);
  // Between the data the variance lies strictly between 0 and the prior's.
  const GaussianProcess::Prediction mid = gp.predict(point({0.25, 0.1}));
  EXPECT_GT(mid.variance, 1e-6);
  EXPECT_LT(mid.variance, 2.0);
}

TEST(GaussianProcess, PredictManyEqualsPredictPerPoint) {
  GaussianProcess gp(0.4, 1.0, 1e-2);
  Eigen::MatrixXd x(4, 3);
  x << 0.0, 0.1, 0.2, 0.9, 0.5, 0.3, 0.4, 0.4, 1.0, 1.0, 0.0, 0.6;
  Eigen::VectorXd y(4);
  y << 0.3, -1.2, 0.8, 1.5;
  gp.fit(x, y);
  Eigen::MatrixXd pts(3, 5);
  pts << 0.0, 0.2, 0.5, 0.9, 3.0, 0.1, 0.7, 0.5, 0.1, 3.0, 0.2, 0.3, 0.5, 0.8, 3.0;
  Eigen::VectorXd mean, var;
  gp.predict_many(pts, mean, var);
  ASSERT_EQ(mean.size(), 5);
  ASSERT_EQ(var.size(), 5);
  for (Eigen::Index j = 0; j < 5; ++j) {
    const GaussianProcess::Prediction p = gp.predict(pts.col(j));
    EXPECT_NEAR(mean[j], p.mean, 1e-12) << j;
    EXPECT_NEAR(var[j], p.variance, 1e-12) << j;
  }
}

TEST(GaussianProcess, RepeatedPointsWithoutNoiseAreRefused) {
  GaussianProcess gp(0.3, 1.0, 0.0);
  Eigen::MatrixXd x(2, 2);
  x << 0.2, 0.2, 0.2, 0.2;
  Eigen::VectorXd y(2);
  y << 1.0, 1.0;
  EXPECT_THROW(gp.fit(x, y), Error);
}

class Bayes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { bt_ = new CandleBacktest(slice(3000), space_288(), BacktestModel{}); }
  static void TearDownTestSuite() {
    delete bt_;
    bt_ = nullptr;
  }
  static inline CandleBacktest* bt_ = nullptr;
  static inline const Selection kSel{Objective::sharpe, 0.1, 5};
  static constexpr Span kTrain{0, 3000};
};

TEST_F(Bayes, SameSeedSameTrialsOtherSeedOthers) {
  BayesConfig cfg;
  cfg.trials = 40;
  cfg.initial = 8;
  cfg.seed = 11;
  const std::vector<Trial> a = run_bayes(*bt_, kTrain, std::nullopt, kSel, cfg);
  const std::vector<Trial> b = run_bayes(*bt_, kTrain, std::nullopt, kSel, cfg);
  ASSERT_EQ(a.size(), 40u);
  ASSERT_EQ(b.size(), 40u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].grid_index, b[i].grid_index) << i;
    EXPECT_EQ(a[i].generation, b[i].generation) << i;
    EXPECT_EQ(a[i].train.sharpe, b[i].train.sharpe) << i;
    EXPECT_EQ(a[i].train.trades, b[i].train.trades) << i;
  }
  cfg.seed = 12;
  const std::vector<Trial> c = run_bayes(*bt_, kTrain, std::nullopt, kSel, cfg);
  std::vector<std::uint64_t> ga, gc;
  for (const Trial& t : a) ga.push_back(t.grid_index);
  for (const Trial& t : c) gc.push_back(t.grid_index);
  EXPECT_NE(ga, gc);
}

TEST_F(Bayes, DistinctPointsWithinTheBudgetAndTheirOwnMetrics) {
  BayesConfig cfg;
  cfg.trials = 50;
  cfg.initial = 10;
  cfg.candidates = 30;  // below the untried count: a random draw of candidates per step
  std::uint64_t last_done = 0, last_total = 0, calls = 0;
  const std::vector<Trial> t =
      run_bayes(*bt_, kTrain, Span{2000, 3000}, kSel, cfg, [&](std::uint64_t d, std::uint64_t n) {
        EXPECT_EQ(d, last_done + 1);
        last_done = d, last_total = n, ++calls;
      });
  ASSERT_EQ(t.size(), 50u);
  EXPECT_EQ(last_done, 50u);
  EXPECT_EQ(last_total, 50u);
  EXPECT_EQ(calls, 50u);
  std::set<std::uint64_t> seen;
  for (std::size_t i = 0; i < t.size(); ++i) {
    EXPECT_TRUE(seen.insert(t[i].grid_index).second) << "repeated grid point " << t[i].grid_index;
    EXPECT_LT(t[i].grid_index, bt_->space().grid_size());
    EXPECT_EQ(t[i].idx, bt_->space().index_of(t[i].grid_index));
    EXPECT_EQ(t[i].generation, i < 10 ? 0u : static_cast<std::uint32_t>(i - 9)) << i;
    // Each trial's metrics are the backtest's for its point, on both spans.
    EXPECT_EQ(t[i].train.sharpe, bt_->run(t[i].idx, kTrain).sharpe);
    ASSERT_TRUE(t[i].test.has_value());
    EXPECT_EQ(t[i].test->net_return, bt_->run(t[i].idx, Span{2000, 3000}).net_return);
  }
}

TEST_F(Bayes, ABudgetAboveTheGridEvaluatesEveryPointOnce) {
  BayesConfig cfg;
  cfg.trials = 1000;
  cfg.initial = 5;
  const std::vector<Trial> t = run_bayes(*bt_, kTrain, std::nullopt, kSel, cfg);
  ASSERT_EQ(t.size(), 288u);
  std::set<std::uint64_t> seen;
  for (const Trial& x : t) seen.insert(x.grid_index);
  EXPECT_EQ(seen.size(), 288u);
}

TEST_F(Bayes, InvalidConfigIsRefused) {
  BayesConfig cfg;
  cfg.length_scale = 0.0;
  EXPECT_THROW((void)run_bayes(*bt_, kTrain, std::nullopt, kSel, cfg), Error);
  cfg = {};
  cfg.noise = 0.0;
  EXPECT_THROW((void)run_bayes(*bt_, kTrain, std::nullopt, kSel, cfg), Error);
  cfg = {};
  cfg.trials = 0;
  EXPECT_THROW((void)run_bayes(*bt_, kTrain, std::nullopt, kSel, cfg), Error);
}

// The best feasible train Sharpe among `trials` (-inf when none is feasible).
double best_sharpe(const std::vector<Trial>& trials, const Selection& sel) {
  double best = -INFINITY;
  for (const Trial& t : trials)
    if (sel.feasible(t.train)) best = std::max(best, t.train.sharpe);
  return best;
}

// A quarter of a 288-point grid (72 trials) over the first 8,000 candles, for seeds 1..10, against 72 distinct
// points drawn at random (Fisher-Yates on std::mt19937_64, the same seeds) and the exhaustive grid's best
// feasible train Sharpe. Measured when written: bayes found the grid's best in 7 of 10 seeds (random: 4), its
// worst seed ranked 7th of 95 feasible points, mean best Sharpe 4.48 vs 3.69. (On other data the surrogate can
// do worse than random: see README.)
TEST(BayesSearch, AQuarterOfTheGridBeatsAsManyRandomPoints) {
  const CandleBacktest bt(slice(8000), space_288(), BacktestModel{});
  const Selection sel{Objective::sharpe, 0.1, 5};
  const Span train{0, 8000};
  const std::vector<Trial> grid = run_grid(bt, train, std::nullopt);
  ASSERT_EQ(grid.size(), 288u);
  std::vector<double> feasible;
  for (const Trial& t : grid)
    if (sel.feasible(t.train)) feasible.push_back(t.train.sharpe);
  ASSERT_GT(feasible.size(), 50u);
  const double grid_best = *std::max_element(feasible.begin(), feasible.end());
  auto rank = [&](double v) {
    return std::count_if(feasible.begin(), feasible.end(), [&](double x) { return x > v; });
  };
  const std::uint32_t budget = 72;
  double bayes_sum = 0, random_sum = 0;
  int bayes_hits = 0, random_hits = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    BayesConfig cfg;
    cfg.trials = budget;
    cfg.initial = 10;
    cfg.seed = seed;
    const double b = best_sharpe(run_bayes(bt, train, std::nullopt, sel, cfg), sel);
    std::vector<Trial> drawn = grid;
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i < budget; ++i) std::swap(drawn[i], drawn[i + rng() % (drawn.size() - i)]);
    drawn.resize(budget);
    const double r = best_sharpe(drawn, sel);
    EXPECT_LE(rank(b), 10) << "seed " << seed << ": bayes best " << b << ", grid best " << grid_best;
    bayes_sum += b, random_sum += r;
    bayes_hits += b == grid_best, random_hits += r == grid_best;
  }
  EXPECT_GE(bayes_sum, random_sum);
  EXPECT_GE(bayes_hits, 6);
  EXPECT_GT(bayes_hits, random_hits);
  std::printf("bayes: grid best found in %d of 10 seeds (random %d); mean best Sharpe %.4f (random %.4f, grid %.4f)\n",
              bayes_hits, random_hits, bayes_sum / 10, random_sum / 10, grid_best);
}

TEST_F(Bayes, WalkForwardRunsTheBudgetPerWindow) {
  BayesConfig cfg;
  cfg.trials = 20;
  cfg.initial = 5;
  WalkForwardConfig wf;
  wf.windows = 3;
  wf.min_trades_per_window = 1;
  const WalkForwardResult r = run_walkforward(*bt_, wf, kSel, Method::bayes, GeneticConfig{}, {}, cfg);
  ASSERT_EQ(r.windows.size(), 3u);
  for (const WindowResult& w : r.windows) EXPECT_EQ(w.trials, 20u);
}

}  // namespace
}  // namespace enigma::research
