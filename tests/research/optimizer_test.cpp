// research/: parameter spaces from TOML, the candle backtest's trading rules against an independent
// re-implementation, grid results independent of the thread count, the genetic search reproducible per
// seed, the optimizer's best against a brute-force loop, and walk-forward windows against a hand computation.
#include <gtest/gtest.h>

#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "research/candle_backtest.hpp"
#include "research/optimizer.hpp"
#include "research/param_space.hpp"
#include "research/walkforward.hpp"
#include "strategy/csv.hpp"
#include "strategy/signal.hpp"

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

std::string error_of(const std::string& toml_text) {
  try {
    (void)parse_space(toml_text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<strategy::Bar> slice(std::size_t n) {
  std::vector<strategy::Bar> bars = strategy::read_ohlcv_file(kCandles);
  bars.resize(n);
  return bars;
}

// A small space around the plan's: 2 x 2 x 2 x 3 x 2 x 2 x 2 = 192 points.
ParamSpace small_space() {
  return parse_space(
      "[params]\nrsi_period = [7, 14]\nrsi_oversold = [25, 30]\nrsi_overbought = [70, 75]\n"
      "min_score = {min = 30, max = 50, step = 10}\nstop_loss_roi = [0.3, 1.0]\ntake_profit_roi = [1.0, 3.0]\n"
      "leverage = [25, 100]\n");
}

TEST(ParamSpace, ListsRangesAndDefaults) {
  const ParamSpace s = parse_space(
      "[params]\nrsi_period = [21, 7, 14]\nstop_loss_roi = {min = 0.3, max = 1.0, step = 0.1}\n"
      "leverage = 50\n");
  EXPECT_EQ(s.of(Param::rsi_period), (std::vector<double>{7, 14, 21}));  // sorted
  // 0.3, 0.4, ..., 1.0: eight values, the last exactly 1.0 (max included despite binary rounding).
  EXPECT_EQ(s.of(Param::stop_loss_roi), (std::vector<double>{0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}));
  EXPECT_EQ(s.of(Param::leverage), (std::vector<double>{50}));
  EXPECT_EQ(s.of(Param::min_score), (std::vector<double>{ParamSet{}[Param::min_score]}));  // default
  EXPECT_EQ(s.grid_size(), 3u * 8u);
  // Mixed radix, leverage fastest: trial 9 = rsi_period index 1, stop-loss index 1.
  const ParamIndex idx = s.index_of(9);
  EXPECT_EQ(idx[0], 1u);
  EXPECT_EQ(idx[4], 1u);
}

TEST(ParamSpace, ThePlansGridHas8640Points) {
  const ParamSpace s = parse_space(
      "[params]\nrsi_period = [7, 14, 21]\nrsi_oversold = [20, 25, 30]\nrsi_overbought = [70, 75, 80]\n"
      "min_score = {min = 40, max = 70, step = 10}\nstop_loss_roi = [0.3, 0.5, 0.75, 1.0]\n"
      "take_profit_roi = {min = 1.0, max = 3.0, step = 0.5}\nleverage = {min = 25, max = 100, step = 25}\n");
  EXPECT_EQ(s.grid_size(), 8640u);
}

TEST(ParamSpace, BadInputNamesTheKey) {
  EXPECT_NE(error_of("[params]\nrsi_perod = [7]\n").find("params.rsi_perod"), std::string::npos);
  EXPECT_NE(error_of("[params]\nrsi_perod = [7]\n").find("unknown parameter"), std::string::npos);
  EXPECT_NE(error_of("[params]\nleverage = {min = 25, max = 100}\n")
                .find("params.leverage': a range needs min, max and step"),
            std::string::npos);
  EXPECT_NE(error_of("[params]\nleverage = {min = 25, max = 100, step = 0}\n").find("step must be > 0"),
            std::string::npos);
  EXPECT_NE(error_of("[params]\nrsi_period = [7.5]\n").find("params.rsi_period': value 7.5 out of range"),
            std::string::npos);
  EXPECT_NE(error_of("[params]\nrsi_oversold = [60]\n").find("params.rsi_oversold"), std::string::npos);
  EXPECT_NE(error_of("[params]\nmin_score = \"high\"\n").find("params.min_score': expected a number"),
            std::string::npos);
  EXPECT_NE(error_of("[params]\nmin_score = [40, 40]\n").find("duplicate"), std::string::npos);
  EXPECT_NE(error_of("[params]\nmin_score = []\n").find("empty list"), std::string::npos);
  // The line of the key is in the message.
  EXPECT_NE(error_of("[params]\nrsi_period = [7]\nleverage = [0]\n").find("test.toml:3:"), std::string::npos);
}

// The shared score series (one scorer pass per RSI period, oversold/overbought re-weighted afterwards) equal
// a SignalScorer configured with each triple, bit for bit, readiness included.
TEST(SignalCache, EqualsAScorerPerParameterTriple) {
  const std::vector<strategy::Bar> bars = slice(1500);
  const ParamSpace space = small_space();
  const SignalCache cache(bars, space);
  EXPECT_EQ(cache.scorer_passes(), 2u);
  EXPECT_EQ(cache.series_count(), 8u);
  for (std::uint32_t p = 0; p < 2; ++p)
    for (std::uint32_t lo = 0; lo < 2; ++lo)
      for (std::uint32_t hi = 0; hi < 2; ++hi) {
        strategy::SignalConfig cfg;
        cfg.rsi_period = static_cast<int>(space.of(Param::rsi_period)[p]);
        cfg.rsi_oversold = space.of(Param::rsi_oversold)[lo];
        cfg.rsi_overbought = space.of(Param::rsi_overbought)[hi];
        strategy::SignalScorer scorer(cfg);
        const std::vector<double>& got = cache.scores(ParamIndex{p, lo, hi, 0, 0, 0, 0});
        std::size_t ready = 0;
        for (std::size_t i = 0; i < bars.size(); ++i) {
          const strategy::SignalResult r = scorer.on_bar(bars[i]);
          if (!r.ready) {
            ASSERT_TRUE(std::isnan(got[i])) << i;
            continue;
          }
          ++ready;
          ASSERT_EQ(got[i], r.score) << "period " << cfg.rsi_period << " oversold " << cfg.rsi_oversold
                                     << " overbought " << cfg.rsi_overbought << " candle " << i;
        }
        EXPECT_GT(ready, 1400u);
      }
}

// The trading rules of candle_backtest.hpp written again, plainly, from its header comment: an independent
// expectation for CandleBacktest::run (same score series, which SignalScorer's own tests cover).
struct Expected {
  int trades = 0, wins = 0;
  double equity = 1.0;
};
Expected replay_rules(const std::vector<strategy::Bar>& bars, const std::vector<double>& score, const ParamSet& p,
                      Span span, const BacktestModel& model) {
  Expected e;
  int dir = 0;
  double entry = 0, notional = 0, margin = 0, fee_in = 0;
  std::size_t entered = 0;
  auto exit_at = [&](double px) {
    double pnl = dir * notional * (px - entry) / entry;
    pnl = std::max(pnl, -margin);
    pnl -= notional * px / entry * model.fee_rate;
    e.equity += pnl;
    ++e.trades;
    if (pnl - fee_in > 0) ++e.wins;
    dir = 0;
  };
  for (std::size_t i = span.begin; i < span.end; ++i) {
    const auto& b = bars[i];
    const double lev = p[Param::leverage];
    if (dir != 0 && i > entered) {
      const double stop = entry * (1 - dir * p[Param::stop_loss_roi] / lev);
      const double target = entry * (1 + dir * p[Param::take_profit_roi] / lev);
      const bool open_past_stop = dir > 0 ? b.open <= stop : b.open >= stop;
      const bool open_past_target = dir > 0 ? b.open >= target : b.open <= target;
      const bool touched_stop = dir > 0 ? b.low <= stop : b.high >= stop;
      const bool touched_target = dir > 0 ? b.high >= target : b.low <= target;
      if (open_past_stop || open_past_target)
        exit_at(b.open);
      else if (touched_stop)
        exit_at(stop);
      else if (touched_target)
        exit_at(target);
    }
    const double s = score[i];
    const double m = p[Param::min_score];
    if (dir != 0 && (i + 1 == span.end || (dir > 0 && s <= -m) || (dir < 0 && s >= m))) exit_at(b.close);
    if (dir == 0 && i + 1 < span.end && !std::isnan(s) && std::abs(s) >= m) {
      dir = s > 0 ? 1 : -1;
      entry = b.close;
      entered = i;
      margin = e.equity * model.margin_fraction;
      notional = margin * lev;
      fee_in = notional * model.fee_rate;
      e.equity -= fee_in;
    }
  }
  return e;
}

TEST(CandleBacktest, TradesFollowTheDocumentedRules) {
  const BacktestModel model{0.0004, 0.05};
  const CandleBacktest bt(slice(4000), small_space(), model);
  int total_trades = 0;
  for (std::uint64_t k = 0; k < bt.space().grid_size(); k += 7) {
    const ParamIndex idx = bt.space().index_of(k);
    const Span span{500, 3900};
    const TrialMetrics m = bt.run(idx, span);
    const Expected e = replay_rules(bt.bars(), bt.signals().scores(idx), bt.space().at(idx), span, model);
    ASSERT_EQ(m.trades, static_cast<std::uint32_t>(e.trades)) << "trial " << k;
    ASSERT_EQ(m.wins, static_cast<std::uint32_t>(e.wins)) << "trial " << k;
    ASSERT_NEAR(m.net_return, e.equity - 1.0, 1e-12) << "trial " << k;
    total_trades += e.trades;
  }
  EXPECT_GT(total_trades, 100);  // the comparison saw real trading, not only empty trials
}

// The exits on the candle after an entry, by hand: the first entry of a trial on real candles, then that
// next candle replaced (later candles cannot change earlier scores) so that it gaps past the stop, touches
// both stop and target, or touches the target only. The span ends right after it, so nothing else trades.
TEST(CandleBacktest, ExitOnTheNextCandleByHand) {
  const BacktestModel model{0.0005, 0.1};
  std::vector<strategy::Bar> bars = slice(800);
  const ParamSpace space =
      parse_space("[params]\nmin_score = 30\nstop_loss_roi = 0.5\ntake_profit_roi = 2.0\nleverage = 20\n");
  const ParamIndex idx{};
  const CandleBacktest probe(bars, space, model);
  const std::vector<double>& score = probe.signals().scores(idx);
  std::size_t e = 0;
  while (e < score.size() && !(std::abs(score[e]) >= 30.0)) ++e;
  ASSERT_LT(e + 1, score.size()) << "no entry in the slice";
  const int dir = score[e] > 0 ? 1 : -1;
  const double entry = bars[e].close;
  const double stop = entry * (1 - dir * 0.5 / 20), target = entry * (1 + dir * 2.0 / 20);
  // Margin 10 % of 1.0, notional 2.0; fees 0.05 % of the notional at entry and of its value at exit.
  auto expected_net = [&](double exit_px) {
    const double price_pnl = std::max(2.0 * dir * (exit_px / entry - 1), -0.1);
    return price_pnl - 2.0 * (exit_px / entry) * 0.0005 - 2.0 * 0.0005;
  };
  struct Case {
    const char* what;
    double open, high, low;
    double exit_px;
  };
  const double beyond_stop = entry * (1 - dir * 1.0 / 20), beyond_target = entry * (1 + dir * 3.0 / 20);
  const Case cases[] = {
      {"opens past the stop", beyond_stop, std::max(beyond_stop, entry), std::min(beyond_stop, entry), beyond_stop},
      {"touches both", entry, std::max(beyond_stop, beyond_target), std::min(beyond_stop, beyond_target), stop},
      {"touches the target only", entry, std::max(entry, beyond_target), std::min(entry, beyond_target), target},
  };
  for (const Case& c : cases) {
    std::vector<strategy::Bar> b = bars;
    b[e + 1].open = c.open;
    b[e + 1].high = c.high;
    b[e + 1].low = c.low;
    b[e + 1].close = entry;
    const CandleBacktest bt(b, space, model);
    const TrialMetrics m = bt.run(idx, {0, e + 2});
    EXPECT_EQ(m.trades, 1u) << c.what;
    EXPECT_NEAR(m.net_return, expected_net(c.exit_px), 1e-12) << c.what;
    EXPECT_EQ(m.wins, expected_net(c.exit_px) > 0 ? 1u : 0u) << c.what;
  }
}

TEST(CandleBacktest, EquityStatsDailySharpeAndDrawdown) {
  // Days 0..2 end at 1.0 -> 1.1 -> 0.99 -> 1.089: daily returns +10 %, -10 %, +10 %; the dip inside day 1
  // to 0.88 is the deepest fall from the 1.1 peak (20 %).
  EquityStats st(0);
  st.on_candle(0, 1.05);
  st.on_candle(0, 1.1);
  st.on_candle(1, 0.88);
  st.on_candle(1, 0.99);
  st.on_candle(2, 1.089);
  TrialMetrics m;
  st.finish(m);
  EXPECT_NEAR(m.max_drawdown, 0.2, 1e-12);
  const double mean = 0.1 / 3.0;
  const double sd = std::sqrt(((0.1 - mean) * (0.1 - mean) * 2 + (-0.1 - mean) * (-0.1 - mean)) / 2.0);
  EXPECT_NEAR(m.sharpe, mean / sd * std::sqrt(365.0), 1e-9);
}

void expect_same(const std::vector<Trial>& a, const std::vector<Trial>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    ASSERT_EQ(a[k].grid_index, b[k].grid_index);
    ASSERT_EQ(a[k].train.trades, b[k].train.trades);
    ASSERT_EQ(a[k].train.net_return, b[k].train.net_return);  // bit for bit
    ASSERT_EQ(a[k].train.sharpe, b[k].train.sharpe);
    ASSERT_EQ(a[k].train.max_drawdown, b[k].train.max_drawdown);
  }
}

TEST(Optimizer, GridIsTheSameForOneAndTwoThreads) {
  const CandleBacktest bt(slice(3000), small_space(), BacktestModel{});
  std::vector<Trial> one, two;
  {
    tbb::global_control c(tbb::global_control::max_allowed_parallelism, 1);
    one = run_grid(bt, {0, 3000}, std::nullopt);
  }
  {
    tbb::global_control c(tbb::global_control::max_allowed_parallelism, 2);
    two = run_grid(bt, {0, 3000}, std::nullopt);
  }
  expect_same(one, two);
}

TEST(Optimizer, BestOfTheGridEqualsABruteForceLoop) {
  const CandleBacktest bt(slice(3000), small_space(), BacktestModel{});
  const Selection sel{Objective::sharpe, 0.08, 5};
  const std::vector<Trial> trials = run_grid(bt, {0, 3000}, std::nullopt);
  const Trial& best = trials[best_trial(trials, sel)];

  // Brute force: every combination by nested loops over the value lists, run one by one.
  const ParamSpace& s = bt.space();
  double best_sharpe = -std::numeric_limits<double>::infinity();
  ParamIndex best_idx{};
  bool any_feasible = false;
  ParamIndex i{};
  for (i[0] = 0; i[0] < s.values[0].size(); ++i[0])
    for (i[1] = 0; i[1] < s.values[1].size(); ++i[1])
      for (i[2] = 0; i[2] < s.values[2].size(); ++i[2])
        for (i[3] = 0; i[3] < s.values[3].size(); ++i[3])
          for (i[4] = 0; i[4] < s.values[4].size(); ++i[4])
            for (i[5] = 0; i[5] < s.values[5].size(); ++i[5])
              for (i[6] = 0; i[6] < s.values[6].size(); ++i[6]) {
                const TrialMetrics m = bt.run(i, {0, 3000});
                if (m.trades < 5 || m.max_drawdown > 0.08) continue;
                any_feasible = true;
                if (m.sharpe > best_sharpe) {  // strict: the first of equals wins, as in grid order
                  best_sharpe = m.sharpe;
                  best_idx = i;
                }
              }
  ASSERT_TRUE(any_feasible);
  EXPECT_EQ(best.idx, best_idx);
  EXPECT_EQ(best.train.sharpe, best_sharpe);
}

TEST(Optimizer, GeneticIsReproducibleForOneSeed) {
  const CandleBacktest bt(slice(3000), small_space(), BacktestModel{});
  const Selection sel{Objective::sharpe, 0.08, 5};
  GeneticConfig g;
  g.population = 12;
  g.generations = 6;
  g.seed = 42;
  std::vector<Trial> a, b;
  {
    tbb::global_control c(tbb::global_control::max_allowed_parallelism, 2);
    a = run_genetic(bt, {0, 3000}, std::nullopt, sel, g);
  }
  {
    tbb::global_control c(tbb::global_control::max_allowed_parallelism, 1);
    b = run_genetic(bt, {0, 3000}, std::nullopt, sel, g);
  }
  expect_same(a, b);
  EXPECT_GT(a.size(), 12u);  // later generations explored new points
  EXPECT_LE(a.size(), 72u);  // never more than population x generations
  g.seed = 43;
  const std::vector<Trial> other = run_genetic(bt, {0, 3000}, std::nullopt, sel, g);
  bool differs = other.size() != a.size();
  for (std::size_t k = 0; !differs && k < a.size(); ++k) differs = other[k].grid_index != a[k].grid_index;
  EXPECT_TRUE(differs);
  // The best it found is at least as good as any trial of its first generation.
  const Trial& best = a[best_trial(a, sel)];
  for (const Trial& t : a)
    if (t.generation == 0) {
      EXPECT_FALSE(better(t, best, sel));
    }
}

TEST(WalkForward, WindowsMatchAHandComputation) {
  // 1000 candles, 70/30, 5 windows: L = 1000 / (0.7 + 5 * 0.3) = 454.54..., train 318, test 136.
  const auto w = walkforward_windows(1000, WalkForwardConfig{0.7, 5, 50});
  ASSERT_EQ(w.size(), 5u);
  const std::size_t train_begin[5] = {0, 136, 272, 408, 544};
  for (std::size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(w[k].train.begin, train_begin[k]);
    EXPECT_EQ(w[k].train.end, train_begin[k] + 318);
    EXPECT_EQ(w[k].test.begin, train_begin[k] + 318);
    EXPECT_EQ(w[k].test.end, train_begin[k] + 318 + 136);
  }
  // The bundled 19,133 candles: L = 8696.8..., train 6087, test 2609; the last test ends at 19,132.
  const auto full = walkforward_windows(19133, WalkForwardConfig{});
  EXPECT_EQ(full[0].train.end, 6087u);
  EXPECT_EQ(full[4].test.begin, 4u * 2609u + 6087u);
  EXPECT_EQ(full[4].test.end, 19132u);
  EXPECT_THROW((void)walkforward_windows(10, WalkForwardConfig{}), Error);
  EXPECT_THROW((void)walkforward_windows(1000, WalkForwardConfig{1.0, 5, 50}), Error);
}

TEST(WalkForward, ChainsTheTestSpansAndMarksThinWindowsInvalid) {
  const CandleBacktest bt(slice(3000), small_space(), BacktestModel{});
  const WalkForwardConfig cfg{0.7, 3, 4};
  const Selection sel{Objective::sharpe, 0.5, 1};
  const WalkForwardResult r = run_walkforward(bt, cfg, sel, Method::grid, GeneticConfig{});
  ASSERT_EQ(r.windows.size(), 3u);
  double chained = 1.0;
  std::uint32_t trades = 0, valid = 0;
  for (const WindowResult& w : r.windows) {
    // The chosen trial is the train-span best, and its test metrics are a fresh run on the test span.
    const std::vector<Trial> grid = run_grid(bt, w.window.train, std::nullopt);
    EXPECT_EQ(w.chosen.grid_index, grid[best_trial(grid, sel)].grid_index);
    const TrialMetrics t = bt.run(w.chosen.idx, w.window.test);
    EXPECT_EQ(w.chosen.test->net_return, t.net_return);
    EXPECT_EQ(w.valid, t.trades >= 4);
    chained *= 1.0 + t.net_return;
    trades += t.trades;
    valid += t.trades >= 4 ? 1 : 0;
  }
  EXPECT_NEAR(r.out_of_sample.net_return, chained - 1.0, 1e-12);
  EXPECT_EQ(r.out_of_sample.trades, trades);
  EXPECT_EQ(r.valid_windows, valid);
  EXPECT_EQ(r.oos_equity.size(), 3 * r.windows[0].window.test.size());
  EXPECT_NEAR(r.oos_equity.back(), chained, 1e-12);
}

}  // namespace
}  // namespace enigma::research
