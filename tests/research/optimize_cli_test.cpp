// `enigma optimize` and `enigma walkforward` through the binary, on the first 3,000 bundled BTCUSDT 5 m
// candles and a small grid: trials.csv byte-identical for 1 and 2 threads, best.toml holding the best
// feasible row of trials.csv, the genetic search reproducible per seed, walkforward.csv's window
// boundaries against a hand computation and its choice made on the train span only, and bad TOML refused with exit 3
// naming the key; metrics.json's evidence (DSR recomputed here from trials.csv, PBO, p-value) and the plan's
// gates against the CSV.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>
#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;

using enigma::testing::Out;
using enigma::testing::run_enigma;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  return rows;
}

std::size_t column(const std::vector<std::string>& header, const std::string& name) {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  ADD_FAILURE() << "no column " << name;
  return 0;
}

// The number after `"key": ` in the first `"section": {...}` of a metrics.json text (section "" = anywhere);
// NaN when absent or null.
double json_number(const std::string& text, const std::string& section, const std::string& key) {
  std::size_t from = 0;
  if (!section.empty()) {
    from = text.find("\"" + section + "\": {");
    if (from == std::string::npos) return NAN;
    from += section.size() + 5;  // past the section's opening brace
  }
  const std::size_t at = text.find("\"" + key + "\": ", from);
  if (at == std::string::npos) return NAN;
  const char* p = text.c_str() + at + key.size() + 4;
  char* end = nullptr;
  const double v = std::strtod(p, &end);
  return end == p ? NAN : v;
}

// Standard normal CDF and its inverse by bisection: independent of strategy/stats.cpp's rational approximation.
double phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double phi_inv(double p) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (phi(mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// Bailey & López de Prado (2014): the deflated Sharpe ratio of the selected per-period Sharpe `sr` among the
// trials' per-period Sharpes `trials`, over T returns with skewness g3 and kurtosis g4.
double deflated_sharpe_by_formula(const std::vector<double>& trials, double sr, double T, double g3, double g4) {
  const double n = static_cast<double>(trials.size());
  double mean = 0;
  for (double x : trials) mean += x / n;
  double var = 0;
  for (double x : trials) var += (x - mean) * (x - mean) / (n - 1);
  const double gamma = 0.5772156649015329;
  const double sr0 = std::sqrt(var) * ((1 - gamma) * phi_inv(1 - 1 / n) + gamma * phi_inv(1 - 1 / (n * std::exp(1.0))));
  return phi((sr - sr0) * std::sqrt(T - 1) / std::sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr * sr));
}

std::vector<std::string> gate_lines(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);)
    if (l.rfind("gate ", 0) == 0) lines.push_back(l);
  return lines;
}

class OptimizeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("enigma_optimize_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_config(const std::string& name, const std::string& extra_optimize,
                           const std::string& params = kParams, const std::string& tail = "") {
    const fs::path p = dir_ / name;
    std::ofstream(p) << "[optimize]\ndata = \"" << ENIGMA_SOURCE_DIR
                     << "/data/candles/kheus_spot_BTCUSDT_5m_20250602_20250807.csv.gz\"\nmax_candles = 3000\n"
                     << "min_trades = 5\nmax_drawdown = 0.1\n"
                     << extra_optimize << "\n[optimize.params]\n"
                     << params << tail;
    return p.string();
  }
  // The one run directory a command left under `runs` (beside runs.db).
  fs::path only_run(const std::string& runs) {
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir_ / runs))
      if (e.is_directory()) found.push_back(e.path());  // not runs.db
    EXPECT_EQ(found.size(), 1u);
    return found.empty() ? fs::path() : found[0];
  }

  static inline const std::string kParams =
      "rsi_period = [7, 14]\nrsi_oversold = [25, 30]\nrsi_overbought = [70, 75]\n"
      "min_score = {min = 30, max = 50, step = 10}\nstop_loss_roi = [0.3, 1.0]\ntake_profit_roi = [1.0, 3.0]\n"
      "leverage = [25, 100]\n";
  fs::path dir_;
};

TEST_F(OptimizeCli, GridTrialsAreByteIdenticalForOneAndTwoThreadsAndBestIsTheTopRow) {
  const std::string cfg = write_config("grid.toml", "train_fraction = 0.7");
  const Out a = run_enigma("optimize --config " + cfg + " --threads 1 --runs-dir " + (dir_ / "r1").string());
  ASSERT_EQ(a.code, 0) << a.text;
  const Out b = run_enigma("optimize --config " + cfg + " --threads 2 --runs-dir " + (dir_ / "r2").string());
  ASSERT_EQ(b.code, 0) << b.text;
  EXPECT_NE(a.text.find("optimize: 192/192 trials (100%)"), std::string::npos) << a.text;  // progress line
  EXPECT_NE(a.text.find("ETA"), std::string::npos);
  EXPECT_NE(a.text.find("timing: "), std::string::npos);
  const std::string t1 = slurp(only_run("r1") / "trials.csv");
  const std::string t2 = slurp(only_run("r2") / "trials.csv");
  ASSERT_FALSE(t1.empty());
  EXPECT_EQ(t1, t2);
  EXPECT_NE(only_run("r1").filename().string().find("-optimize"), std::string::npos);

  // The best feasible row by train Sharpe (the first of equals), found here from the CSV alone.
  const auto rows = csv_rows(t1);
  ASSERT_EQ(rows.size(), 1u + 192u);
  const auto& h = rows[0];
  const std::size_t feasible = column(h, "feasible"), sharpe = column(h, "train_sharpe");
  (void)column(h, "test_sharpe");  // the untouched 30 % is reported too
  std::size_t best = 0;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    if (rows[r][feasible] != "1") continue;
    if (best == 0 || std::stod(rows[r][sharpe]) > std::stod(rows[best][sharpe])) best = r;
  }
  ASSERT_NE(best, 0u) << "no feasible trial";
  const std::string best_toml = slurp(only_run("r1") / "best.toml");
  EXPECT_NE(best_toml.find("# Chosen by `enigma optimize` (method grid, 192 trials, 1 threads)"), std::string::npos)
      << best_toml;
  for (const char* p :
       {"rsi_period", "rsi_oversold", "rsi_overbought", "min_score", "stop_loss_roi", "take_profit_roi", "leverage"})
    EXPECT_NE(best_toml.find(std::string(p) + " = " + rows[best][column(h, p)] + "\n"), std::string::npos) << p << "\n"
                                                                                                           << best_toml;
  EXPECT_NE(best_toml.find("Sharpe " + rows[best][sharpe]), std::string::npos) << best_toml;
}

TEST_F(OptimizeCli, GeneticIsReproducibleForOneSeed) {
  const std::string cfg = write_config("ga.toml", "[optimize.genetic]\npopulation = 10\ngenerations = 5");
  const Out a = run_enigma("optimize --config " + cfg + " --method genetic --seed 7 --threads 2 --runs-dir " +
                           (dir_ / "a").string());
  ASSERT_EQ(a.code, 0) << a.text;
  const Out b = run_enigma("optimize --config " + cfg + " --method genetic --seed 7 --threads 1 --runs-dir " +
                           (dir_ / "b").string());
  ASSERT_EQ(b.code, 0) << b.text;
  const Out c =
      run_enigma("optimize --config " + cfg + " --method genetic --seed 8 --runs-dir " + (dir_ / "c").string());
  ASSERT_EQ(c.code, 0) << c.text;
  const std::string ta = slurp(only_run("a") / "trials.csv");
  EXPECT_EQ(ta, slurp(only_run("b") / "trials.csv"));
  EXPECT_NE(ta, slurp(only_run("c") / "trials.csv"));
  EXPECT_NE(slurp(only_run("a") / "best.toml").find("method genetic, seed 7"), std::string::npos);
}

// `--method bayes --trials N`: N distinct rows in trials.csv, best.toml names the method and seed, the same
// seed gives the same trials.csv for 1 and 2 threads (candidates above the grid: every untried point is scored,
// in more than one block of predict_many); [optimize.bayes] trials applies without the flag.
TEST_F(OptimizeCli, BayesRunsTheRequestedTrialsReproducibly) {
  const std::string cfg = write_config("bo.toml", "[optimize.bayes]\ninitial = 6\ncandidates = 300\ntrials = 17");
  const Out a = run_enigma("optimize --config " + cfg + " --method bayes --trials 30 --seed 5 --threads 1 --runs-dir " +
                           (dir_ / "a").string());
  ASSERT_EQ(a.code, 0) << a.text;
  EXPECT_NE(a.text.find("optimize: 30/30 trials (100%)"), std::string::npos) << a.text;
  const Out b = run_enigma("optimize --config " + cfg + " --method bayes --trials 30 --seed 5 --threads 2 --runs-dir " +
                           (dir_ / "b").string());
  ASSERT_EQ(b.code, 0) << b.text;
  const std::string ta = slurp(only_run("a") / "trials.csv");
  EXPECT_EQ(ta, slurp(only_run("b") / "trials.csv"));
  const auto rows = csv_rows(ta);
  ASSERT_EQ(rows.size(), 31u);  // header + 30 trials
  const std::size_t trial = column(rows[0], "trial");
  std::vector<std::string> points;
  for (std::size_t r = 1; r < rows.size(); ++r) points.push_back(rows[r][trial]);
  std::sort(points.begin(), points.end());
  EXPECT_EQ(std::unique(points.begin(), points.end()), points.end()) << "a grid point evaluated twice";
  const std::string best_toml = slurp(only_run("a") / "best.toml");
  EXPECT_NE(best_toml.find("# Chosen by `enigma optimize` (method bayes, seed 5, 30 trials, 1 threads)"),
            std::string::npos)
      << best_toml;
  // Without --trials, [optimize.bayes] trials; the method from --method.
  const Out c = run_enigma("optimize --config " + cfg + " --method bayes --runs-dir " + (dir_ / "c").string());
  ASSERT_EQ(c.code, 0) << c.text;
  EXPECT_EQ(csv_rows(slurp(only_run("c") / "trials.csv")).size(), 18u);
  EXPECT_NE(slurp(only_run("c") / "best.toml").find("(method bayes, seed 1, 17 trials"), std::string::npos);
  // A bad key in [optimize.bayes] is refused naming it.
  const std::string bad = write_config("bad.toml", "[optimize.bayes]\nlength_scale = 0");
  const Out d = run_enigma("optimize --config " + bad + " --method bayes --runs-dir " + (dir_ / "d").string());
  EXPECT_EQ(d.code, 3) << d.text;
  EXPECT_NE(d.text.find("length_scale"), std::string::npos) << d.text;
}

TEST_F(OptimizeCli, WalkForwardWindowsMatchAHandComputation) {
  const std::string cfg = write_config(
      "wf.toml", "", kParams, "\n[walkforward]\ntrain_fraction = 0.7\nwindows = 5\nmin_trades_per_window = 3\n");
  const Out o = run_enigma("walkforward --config " + cfg + " --threads 2 --runs-dir " + (dir_ / "w").string());
  ASSERT_EQ(o.code, 0) << o.text;
  const fs::path run_dir = only_run("w");
  const auto rows = csv_rows(slurp(run_dir / "walkforward.csv"));
  ASSERT_EQ(rows.size(), 1u + 5u + 1u);  // header, 5 windows, the out-of-sample row
  // 3000 candles: L = 3000 / (0.7 + 5 * 0.3) = 1363.6..., train = floor(954.5) = 954, test = floor(409.09) = 409;
  // window w trains on [409 w, 409 w + 954) and tests on the next 409 candles.
  const auto& h = rows[0];
  for (std::size_t w = 0; w < 5; ++w) {
    const auto& r = rows[1 + w];
    EXPECT_EQ(r[column(h, "train_begin")], std::to_string(409 * w));
    EXPECT_EQ(r[column(h, "train_end")], std::to_string(409 * w + 954));
    EXPECT_EQ(r[column(h, "test_begin")], std::to_string(409 * w + 954));
    EXPECT_EQ(r[column(h, "test_end")], std::to_string(409 * w + 954 + 409));
    EXPECT_EQ(r[column(h, "trials")], "192");
    EXPECT_EQ(r[column(h, "valid")], std::stoi(r[column(h, "test_trades")]) >= 3 ? "1" : "0");
  }
  const auto& oos = rows[6];
  ASSERT_EQ(oos.size(), h.size());
  EXPECT_EQ(oos[0], "oos");
  EXPECT_EQ(oos[column(h, "test_begin")], "954");
  EXPECT_EQ(oos[column(h, "test_end")], "2999");
  int trades = 0;
  double chained = 1.0;
  for (std::size_t w = 1; w <= 5; ++w) {
    trades += std::stoi(rows[w][column(h, "test_trades")]);
    chained *= 1.0 + std::stod(rows[w][column(h, "test_net_return")]);
  }
  EXPECT_EQ(oos[column(h, "test_trades")], std::to_string(trades));
  EXPECT_NEAR(std::stod(oos[column(h, "test_net_return")]), chained - 1.0, 1e-8);
  // trials.csv: every window's 192 trials; each window chose its best feasible train Sharpe (first of equals),
  // whatever the test columns say.
  const auto trials = csv_rows(slurp(run_dir / "trials.csv"));
  ASSERT_EQ(trials.size(), 1u + 5u * 192u);
  const auto& th = trials[0];
  for (std::size_t w = 0; w < 5; ++w) {
    std::size_t best = 0;
    for (std::size_t r = 1; r < trials.size(); ++r) {
      if (trials[r][column(th, "window")] != std::to_string(w) || trials[r][column(th, "feasible")] != "1") continue;
      if (best == 0 ||
          std::stod(trials[r][column(th, "train_sharpe")]) > std::stod(trials[best][column(th, "train_sharpe")]))
        best = r;
    }
    ASSERT_NE(best, 0u) << "window " << w << " has no feasible trial";
    for (const char* p :
         {"rsi_period", "min_score", "stop_loss_roi", "take_profit_roi", "leverage", "test_trades", "test_net_return"})
      EXPECT_EQ(rows[1 + w][column(h, p)], trials[best][column(th, p)]) << "window " << w << " " << p;
  }
  // One equity row per out-of-sample candle.
  EXPECT_EQ(csv_rows(slurp(run_dir / "oos_equity.csv")).size(), 1u + 5u * 409u);
  EXPECT_NE(slurp(run_dir / "best.toml").find("[optimize.params]"), std::string::npos);
}

TEST_F(OptimizeCli, EvidenceInMetricsJsonMatchesTrialsCsvAndGatesArePrinted) {
  const std::string cfg =
      write_config("ev.toml", "train_fraction = 0.7\npbo_partitions = 4\npermutations = 500\npermutation_seed = 3");
  const Out o = run_enigma("optimize --config " + cfg + " --threads 2 --quiet --runs-dir " + (dir_ / "e").string());
  ASSERT_EQ(o.code, 0) << o.text;
  const fs::path run_dir = only_run("e");
  const std::string json = slurp(run_dir / "metrics.json");
  const auto rows = csv_rows(slurp(run_dir / "trials.csv"));
  ASSERT_EQ(rows.size(), 1u + 192u);
  const auto& h = rows[0];
  const std::size_t feasible = column(h, "feasible"), sharpe = column(h, "train_sharpe");
  std::size_t best = 0;
  std::vector<double> per_day;  // every trial's train Sharpe, per day
  for (std::size_t r = 1; r < rows.size(); ++r) {
    per_day.push_back(std::stod(rows[r][sharpe]) / std::sqrt(365.0));
    if (rows[r][feasible] != "1") continue;
    if (best == 0 || std::stod(rows[r][sharpe]) > std::stod(rows[best][sharpe])) best = r;
  }
  ASSERT_NE(best, 0u);

  // DSR: N = 192 trials actually run; the trial Sharpes from the CSV; T, skew and kurtosis of the chosen
  // trial's daily returns as metrics.json states them (2,100 train candles of 5 m = 7.3 days: 8 daily returns).
  EXPECT_EQ(json_number(json, "deflated_sharpe", "trials"), 192);
  const double T = json_number(json, "deflated_sharpe", "observations");
  EXPECT_EQ(T, 8);
  const double g3 = json_number(json, "deflated_sharpe", "skew"), g4 = json_number(json, "deflated_sharpe", "kurtosis");
  const double sr = std::stod(rows[best][sharpe]) / std::sqrt(365.0);
  EXPECT_NEAR(json_number(json, "deflated_sharpe", "sharpe_per_day"), sr, 1e-8);
  const double dsr = json_number(json, "deflated_sharpe", "dsr");
  EXPECT_NEAR(dsr, deflated_sharpe_by_formula(per_day, sr, T, g3, g4), 1e-6) << json;
  EXPECT_GE(g4, 1.0);  // kurtosis >= 1 + skew^2 for any sample
  EXPECT_GE(g4 + 1e-9, 1.0 + g3 * g3);

  // PBO: S = 4 partitions of the 8 daily returns, C(4, 2) = 6 combinations; a share of them.
  EXPECT_EQ(json_number(json, "pbo", "partitions"), 4);
  EXPECT_EQ(json_number(json, "pbo", "rows"), 8);
  EXPECT_EQ(json_number(json, "pbo", "combinations"), 6);
  const double pbo = json_number(json, "pbo", "pbo");
  EXPECT_NEAR(pbo * 6, std::round(pbo * 6), 1e-9) << json;
  EXPECT_GE(pbo, 0.0);
  EXPECT_LE(pbo, 1.0);

  // p-value of the test span's trades: (1 + k) / (1 + 500), the trade count that of the chosen trial's test span.
  const double p = json_number(json, "permutation", "p_value");
  EXPECT_NEAR(p * 501, std::round(p * 501), 1e-6) << json;
  EXPECT_GE(p, 1.0 / 501);
  EXPECT_LE(p, 1.0);
  EXPECT_EQ(json_number(json, "permutation", "trades"), std::stod(rows[best][column(h, "test_trades")]));
  EXPECT_EQ(json_number(json, "permutation", "seed"), 3);

  // best.toml's header carries the objective and the evidence, in the numbers of metrics.json.
  const std::string best_toml = slurp(run_dir / "best.toml");
  auto num10 = [](double x) {
    char b[40];
    std::snprintf(b, sizeof b, "%.10g", x);
    return std::string(b);
  };
  EXPECT_NE(best_toml.find("# objective (sharpe, train span): " + rows[best][sharpe] + "\n"), std::string::npos)
      << best_toml;
  EXPECT_NE(best_toml.find("# evidence: deflated Sharpe ratio " + num10(dsr) + " (192 trials"), std::string::npos)
      << best_toml;
  EXPECT_NE(best_toml.find("; PBO " + num10(pbo) + " (CSCV, S = 4)"), std::string::npos) << best_toml;
  EXPECT_NE(best_toml.find("; p-value " + num10(p) + " (test span"), std::string::npos) << best_toml;

  // The plan's gates, from the chosen trial's test columns in trials.csv.
  const double test_sharpe = std::stod(rows[best][column(h, "test_sharpe")]);
  const double test_dd = std::stod(rows[best][column(h, "test_max_drawdown")]);
  const auto gates = gate_lines(o.text);
  ASSERT_EQ(gates.size(), 4u) << o.text;
  EXPECT_EQ(gates[0].rfind(std::string("gate sharpe > 1.5: ") + (test_sharpe > 1.5 ? "PASS" : "FAIL"), 0), 0u)
      << gates[0];
  EXPECT_EQ(gates[1].rfind("gate walk-forward valid: FAIL (not run by optimize", 0), 0u) << gates[1];
  EXPECT_EQ(gates[2].rfind(std::string("gate p < 0.05: ") + (p < 0.05 ? "PASS" : "FAIL"), 0), 0u) << gates[2];
  EXPECT_EQ(gates[3].rfind(std::string("gate max drawdown < 8%: ") + (test_dd < 0.08 ? "PASS" : "FAIL"), 0), 0u)
      << gates[3];
  EXPECT_NE(json.find(std::string("{\"gate\": \"sharpe > 1.5\", \"pass\": ") + (test_sharpe > 1.5 ? "true" : "false")),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"all_gates_pass\": false"), std::string::npos);

  // Same seed, same p-value; without a test span there is none, and the gate says so.
  const Out again =
      run_enigma("optimize --config " + cfg + " --threads 1 --quiet --runs-dir " + (dir_ / "e2").string());
  ASSERT_EQ(again.code, 0) << again.text;
  EXPECT_EQ(json_number(slurp(only_run("e2") / "metrics.json"), "permutation", "p_value"), p);
  const Out whole = run_enigma("optimize --config " + write_config("whole.toml", "pbo_partitions = 4") +
                               " --quiet --runs-dir " + (dir_ / "e3").string());
  ASSERT_EQ(whole.code, 0) << whole.text;
  EXPECT_NE(whole.text.find("gate p < 0.05: FAIL (no p-value: no untouched span"), std::string::npos) << whole.text;
  EXPECT_NE(slurp(only_run("e3") / "metrics.json").find("\"p_value\": null"), std::string::npos);
}

// Every `<tag ... class='<cls>...' data-<attr>='v'` value in the page, in order.
std::vector<std::string> attr_values(const std::string& html, const std::string& cls, const std::string& attr) {
  std::vector<std::string> out;
  for (std::size_t p = html.find("class='" + cls); p != std::string::npos; p = html.find("class='" + cls, p + 1)) {
    const std::size_t a = html.find("data-" + attr + "='", p);
    if (a == std::string::npos) break;
    const std::size_t b = a + attr.size() + 7, e = html.find('\'', b);
    out.push_back(html.substr(b, e - b));
  }
  return out;
}

// report.html draws what trials.csv, best.toml and metrics.json say: one histogram count per trial, the chosen
// trial's Sharpe and the deflated threshold (SR0 per day x sqrt(365)) marked, and each slice cell the train
// Sharpe of the trial with those two parameters and the chosen values of the other five.
TEST_F(OptimizeCli, ReportHtmlDrawsTheTrialsTheChosenPointAndTheDeflatedThreshold) {
  const std::string cfg = write_config("rep.toml", "train_fraction = 0.7\npbo_partitions = 4\npermutations = 200");
  const Out o = run_enigma("optimize --config " + cfg + " --threads 2 --quiet --runs-dir " + (dir_ / "rep").string());
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("report.html"), std::string::npos) << o.text;
  const fs::path run_dir = only_run("rep");
  const std::string html = slurp(run_dir / "report.html");
  ASSERT_FALSE(html.empty());
  const auto rows = csv_rows(slurp(run_dir / "trials.csv"));
  ASSERT_EQ(rows.size(), 1u + 192u);
  const auto& h = rows[0];
  const std::size_t feasible = column(h, "feasible"), sharpe = column(h, "train_sharpe");
  std::size_t best = 0, finite = 0;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    if (std::isfinite(std::stod(rows[r][sharpe]))) ++finite;
    if (rows[r][feasible] != "1") continue;
    if (best == 0 || std::stod(rows[r][sharpe]) > std::stod(rows[best][sharpe])) best = r;
  }
  ASSERT_NE(best, 0u);

  std::size_t drawn = 0;
  for (const std::string& c : attr_values(html, "bin", "count")) drawn += std::stoul(c);
  EXPECT_EQ(drawn, finite);
  EXPECT_EQ(attr_values(html, "chosen", "value"), std::vector<std::string>{rows[best][sharpe]});
  // The price chart: the chosen parameters' round trips on the train span and on the test span.
  EXPECT_EQ(attr_values(html, "entry", "candle").size(),
            std::stoul(rows[best][column(h, "train_trades")]) + std::stoul(rows[best][column(h, "test_trades")]));
  EXPECT_EQ(attr_values(html, "exit", "candle").size(), attr_values(html, "entry", "candle").size());
  const auto threshold = attr_values(html, "deflated-threshold", "value");
  ASSERT_EQ(threshold.size(), 1u);
  const double sr0 = json_number(slurp(run_dir / "metrics.json"), "deflated_sharpe", "expected_max_sharpe");
  EXPECT_NEAR(std::stod(threshold[0]), sr0 * std::sqrt(365.0), 1e-6 * std::abs(sr0 * std::sqrt(365.0)));

  // Slices, the varying parameters two by two (the seventh with the sixth): 2x2, 2x3, 2x2, 2x2 cells, row-major.
  const std::vector<std::pair<std::string, std::string>> pairs{{"rsi_period", "rsi_oversold"},
                                                               {"rsi_overbought", "min_score"},
                                                               {"stop_loss_roi", "take_profit_roi"},
                                                               {"take_profit_roi", "leverage"}};
  const std::vector<std::string> cells = attr_values(html, "cell", "value");
  ASSERT_EQ(cells.size(), 4u + 6u + 4u + 4u);
  const std::vector<std::string> names{"rsi_period",    "rsi_oversold",    "rsi_overbought", "min_score",
                                       "stop_loss_roi", "take_profit_roi", "leverage"};
  std::size_t k = 0;
  for (const auto& [a, b] : pairs) {
    // The distinct values of a and b in trials.csv, ascending (the grid's order).
    auto values_of = [&](const std::string& p) {
      std::vector<double> v;
      for (std::size_t r = 1; r < rows.size(); ++r) v.push_back(std::stod(rows[r][column(h, p)]));
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
      return v;
    };
    for (double va : values_of(a))
      for (double vb : values_of(b)) {
        std::string want;
        for (std::size_t r = 1; r < rows.size(); ++r) {
          bool match = std::stod(rows[r][column(h, a)]) == va && std::stod(rows[r][column(h, b)]) == vb;
          for (const std::string& n : names)
            if (n != a && n != b && rows[r][column(h, n)] != rows[best][column(h, n)]) match = false;
          if (match) want = rows[r][sharpe];
        }
        ASSERT_LT(k, cells.size());
        EXPECT_EQ(cells[k], want) << a << " " << va << " x " << b << " " << vb;
        ++k;
      }
  }
}

// report.html of a walk-forward (issue 14 item 9): the drawdown of the chained out-of-sample equity and each
// window's largest drawdown, recomputed here from oos_equity.csv (running peak from 1); the window boundaries at
// walkforward.csv's test_begin; the price chart's round trips: as many per window as its test_trades, each
// entered at its candle's close (the bundled data file read here) and left inside the window at a price within
// its exit candle's low..high, one trade at a time.
TEST_F(OptimizeCli, WalkForwardReportDrawsDrawdownWindowBoundariesAndTrades) {
  const std::string cfg =
      write_config("wfr.toml", "pbo_partitions = 2\npermutations = 100", kParams,
                   "\n[walkforward]\ntrain_fraction = 0.7\nwindows = 3\nmin_trades_per_window = 3\n");
  const Out o = run_enigma("walkforward --config " + cfg + " --threads 2 --quiet --runs-dir " + (dir_ / "w").string());
  ASSERT_EQ(o.code, 0) << o.text;
  const fs::path run_dir = only_run("w");
  const std::string html = slurp(run_dir / "report.html");
  const auto wf = csv_rows(slurp(run_dir / "walkforward.csv"));
  ASSERT_EQ(wf.size(), 1u + 3u + 1u);
  const auto& h = wf[0];
  const auto eq = csv_rows(slurp(run_dir / "oos_equity.csv"));
  ASSERT_GT(eq.size(), 1u);

  // Drawdown from the running peak (starting at 1), overall and per window.
  double peak = 1.0, overall = 0.0;
  std::vector<double> per_window(3, 0.0);
  for (std::size_t r = 1; r < eq.size(); ++r) {
    const double e = std::stod(eq[r][column(eq[0], "equity")]);
    peak = std::max(peak, e);
    const double dd = 1.0 - e / peak;
    overall = std::max(overall, dd);
    const std::size_t w = std::stoul(eq[r][column(eq[0], "window")]);
    ASSERT_LT(w, 3u);
    per_window[w] = std::max(per_window[w], dd);
  }
  const auto drawn_max = attr_values(html, "drawdown", "max");
  ASSERT_EQ(drawn_max.size(), 1u) << "no drawdown chart";
  EXPECT_NEAR(std::stod(drawn_max[0]), overall, 1e-8);
  EXPECT_NEAR(std::stod(drawn_max[0]), std::stod(wf[4][column(h, "test_max_drawdown")]), 1e-8);  // the oos row
  const auto marks = attr_values(html, "window-mark", "candle");
  const auto mark_dd = attr_values(html, "window-mark", "max-drawdown");
  ASSERT_EQ(marks.size(), 3u);
  ASSERT_EQ(mark_dd.size(), 3u);
  for (std::size_t w = 0; w < 3; ++w) {
    EXPECT_EQ(marks[w], wf[1 + w][column(h, "test_begin")]) << "window " << w;
    EXPECT_NEAR(std::stod(mark_dd[w]), per_window[w], 1e-8) << "window " << w;
  }

  // The candles themselves, from the bundled file (datetime,open,high,low,close,volume).
  const Out raw = enigma::testing::shell(std::string("zcat ") + ENIGMA_SOURCE_DIR +
                                         "/data/candles/kheus_spot_BTCUSDT_5m_20250602_20250807.csv.gz | head -n 3001");
  const auto candles = csv_rows(raw.text);
  ASSERT_EQ(candles.size(), 3001u);
  auto bar = [&](std::size_t i, int field) { return std::stod(candles[1 + i][field]); };  // 2 high, 3 low, 4 close

  const auto price_first = attr_values(html, "price", "first"), price_last = attr_values(html, "price", "last");
  ASSERT_EQ(price_first.size(), 1u);
  EXPECT_EQ(price_first[0], wf[1][column(h, "test_begin")]);
  EXPECT_EQ(std::stoul(price_last.at(0)), std::stoul(wf[3][column(h, "test_end")]) - 1);
  const auto entry_at = attr_values(html, "entry", "candle"), entry_px = attr_values(html, "entry", "price");
  const auto exit_at = attr_values(html, "exit", "candle"), exit_px = attr_values(html, "exit", "price");
  ASSERT_EQ(entry_at.size(), exit_at.size());
  std::size_t k = 0, last_exit = 0;
  for (std::size_t w = 0; w < 3; ++w) {
    const std::size_t begin = std::stoul(wf[1 + w][column(h, "test_begin")]);
    const std::size_t end = std::stoul(wf[1 + w][column(h, "test_end")]);
    const int trades = std::stoi(wf[1 + w][column(h, "test_trades")]);
    for (int t = 0; t < trades; ++t, ++k) {
      ASSERT_LT(k, entry_at.size()) << "window " << w << " draws fewer trades than its test_trades";
      const std::size_t in = std::stoul(entry_at[k]), out = std::stoul(exit_at[k]);
      EXPECT_GE(in, begin);
      EXPECT_GE(in, last_exit) << "trade " << k << " overlaps the previous one";
      EXPECT_GT(out, in);
      EXPECT_LT(out, end);
      EXPECT_NEAR(std::stod(entry_px[k]), bar(in, 4), 1e-6) << "trade " << k << " enters at its candle's close";
      const double x = std::stod(exit_px[k]);
      EXPECT_GE(x, bar(out, 3) - 1e-6) << "trade " << k;
      EXPECT_LE(x, bar(out, 2) + 1e-6) << "trade " << k;
      last_exit = out;
    }
  }
  EXPECT_EQ(k, entry_at.size()) << "more trades drawn than walkforward.csv counts";
  EXPECT_GT(k, 0u);
}

TEST_F(OptimizeCli, WalkForwardEvidenceUsesTheDeployedWindowAndTheOutOfSampleTrades) {
  const std::string cfg =
      write_config("wfe.toml", "pbo_partitions = 2\npermutations = 300", kParams,
                   "\n[walkforward]\ntrain_fraction = 0.7\nwindows = 5\nmin_trades_per_window = 3\n");
  const Out o = run_enigma("walkforward --config " + cfg + " --threads 2 --quiet --runs-dir " + (dir_ / "w").string());
  ASSERT_EQ(o.code, 0) << o.text;
  const fs::path run_dir = only_run("w");
  const std::string json = slurp(run_dir / "metrics.json");
  const auto wf = csv_rows(slurp(run_dir / "walkforward.csv"));
  ASSERT_EQ(wf.size(), 7u);
  const auto& wh = wf[0];
  const auto trials = csv_rows(slurp(run_dir / "trials.csv"));
  const auto& th = trials[0];
  // DSR over window 4's 192 trials (the deployed parameters were chosen among them).
  std::vector<double> per_day;
  std::size_t best = 0;
  for (std::size_t r = 1; r < trials.size(); ++r) {
    if (trials[r][column(th, "window")] != "4") continue;
    per_day.push_back(std::stod(trials[r][column(th, "train_sharpe")]) / std::sqrt(365.0));
    if (trials[r][column(th, "feasible")] != "1") continue;
    if (best == 0 ||
        std::stod(trials[r][column(th, "train_sharpe")]) > std::stod(trials[best][column(th, "train_sharpe")]))
      best = r;
  }
  ASSERT_EQ(per_day.size(), 192u);
  ASSERT_NE(best, 0u);
  EXPECT_EQ(json_number(json, "deflated_sharpe", "trials"), 192);
  // report.html: the deployed window's trials in the histogram, its chosen Sharpe marked, the out-of-sample equity.
  const std::string html = slurp(run_dir / "report.html");
  std::size_t drawn = 0;
  for (const std::string& c : attr_values(html, "bin", "count")) drawn += std::stoul(c);
  EXPECT_EQ(drawn, 192u);
  EXPECT_EQ(attr_values(html, "chosen", "value"), std::vector<std::string>{trials[best][column(th, "train_sharpe")]});
  EXPECT_NE(html.find("<polyline class='equity'"), std::string::npos);
  const double sr = std::stod(trials[best][column(th, "train_sharpe")]) / std::sqrt(365.0);
  EXPECT_NEAR(json_number(json, "deflated_sharpe", "dsr"),
              deflated_sharpe_by_formula(per_day, sr, json_number(json, "deflated_sharpe", "observations"),
                                         json_number(json, "deflated_sharpe", "skew"),
                                         json_number(json, "deflated_sharpe", "kurtosis")),
              1e-6)
      << json;
  EXPECT_EQ(json_number(json, "pbo", "combinations"), 2);  // C(2, 1)
  // The permutation test takes every window's out-of-sample trades.
  EXPECT_EQ(json_number(json, "permutation", "trades"), std::stod(wf[6][column(wh, "test_trades")]));
  const double p = json_number(json, "permutation", "p_value");
  EXPECT_NEAR(p * 301, std::round(p * 301), 1e-6);
  // Gates from walkforward.csv's out-of-sample row and window validity.
  int valid = 0;
  for (std::size_t w = 1; w <= 5; ++w) valid += wf[w][column(wh, "valid")] == "1" ? 1 : 0;
  const double oos_sharpe = std::stod(wf[6][column(wh, "test_sharpe")]);
  const auto gates = gate_lines(o.text);
  ASSERT_EQ(gates.size(), 4u) << o.text;
  EXPECT_EQ(
      gates[0].rfind(
          std::string("gate sharpe > 1.5: ") + (oos_sharpe > 1.5 ? "PASS" : "FAIL") + " (out-of-sample Sharpe", 0),
      0u)
      << gates[0];
  EXPECT_EQ(gates[1], std::string("gate walk-forward valid: ") + (valid == 5 ? "PASS" : "FAIL") + " (" +
                          std::to_string(valid) + " of 5 windows valid)");
  EXPECT_EQ(gates[2].rfind(std::string("gate p < 0.05: ") + (p < 0.05 ? "PASS" : "FAIL"), 0), 0u) << gates[2];
  EXPECT_NE(slurp(run_dir / "best.toml").find("# evidence: deflated Sharpe ratio "), std::string::npos);
}

// One number from runs.db, read here with SQLite's own API (not through the engine's code).
double db_number(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  double v = NAN;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
      v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return v;
}

// Every optimize / walkforward run lands in <runs-dir>/runs.db with each of its trials; `enigma runs list`,
// `best` and `compare` answer from it. Expectations from the runs' own trials.csv and best.toml.
TEST_F(OptimizeCli, RunsDbRecordsEveryRunAndTrialAndAnswersBestAndCompare) {
  const std::string cfg =
      write_config("db.toml",
                   "train_fraction = 0.7\npbo_partitions = 4\npermutations = 100\n[optimize.genetic]\npopulation = 8\n"
                   "generations = 3",
                   kParams, "\n[walkforward]\ntrain_fraction = 0.7\nwindows = 3\nmin_trades_per_window = 3\n");
  const std::string runs = (dir_ / "db").string();
  for (const std::string cmd : {"optimize --method grid", "optimize --method genetic --seed 3", "walkforward"}) {
    const Out o = run_enigma(cmd + " --config " + cfg + " --quiet --runs-dir " + runs);
    ASSERT_EQ(o.code, 0) << o.text;
    EXPECT_NE(o.text.find("recorded as run"), std::string::npos) << o.text;
  }
  const fs::path db = dir_ / "db" / "runs.db";
  ASSERT_TRUE(fs::exists(db));
  EXPECT_EQ(db_number(db, "SELECT count(*) FROM runs"), 3);
  std::vector<fs::path> dirs;  // run folders in creation order (names sort by time, then -1, -2)
  for (const auto& e : fs::directory_iterator(dir_ / "db"))
    if (e.is_directory()) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end(), [&](const fs::path& a, const fs::path& b) {
    return db_number(db, "SELECT id FROM runs WHERE dir = '" + a.string() + "'") <
           db_number(db, "SELECT id FROM runs WHERE dir = '" + b.string() + "'");
  });
  ASSERT_EQ(dirs.size(), 3u);

  // Each run's trials: as many as its trials.csv rows, and one trial's train Sharpe as the CSV prints it.
  for (int id = 1; id <= 3; ++id) {
    const auto rows = csv_rows(slurp(dirs[id - 1] / "trials.csv"));
    const auto& h = rows[0];
    EXPECT_EQ(db_number(db, "SELECT count(*) FROM trials WHERE run_id = " + std::to_string(id)),
              static_cast<double>(rows.size() - 1))
        << dirs[id - 1];
    const auto& last = rows.back();
    const std::string where = " WHERE run_id = " + std::to_string(id) + " AND trial = " + last[column(h, "trial")] +
                              (id == 3 ? " AND window = " + last[column(h, "window")] : std::string());
    const double want = std::stod(last[column(h, "train_sharpe")]);
    EXPECT_NEAR(db_number(db, "SELECT train_sharpe FROM trials" + where), want, 1e-9 * std::max(1.0, std::abs(want)));
  }
  EXPECT_EQ(db_number(db, "SELECT count(DISTINCT window) FROM trials WHERE run_id = 3"), 3);

  // `runs best`: per data file the highest chosen objective; here the larger of the runs' best.toml values.
  auto objective_of = [&](const fs::path& d) {
    const std::string t = slurp(d / "best.toml");
    const std::size_t at = t.find("train span): ");
    return at == std::string::npos ? NAN : std::stod(t.substr(at + 13));
  };
  int want_best = 1;
  for (int id = 2; id <= 3; ++id)
    if (objective_of(dirs[id - 1]) > objective_of(dirs[want_best - 1])) want_best = id;
  const Out best = run_enigma("runs best --runs-dir " + runs);
  ASSERT_EQ(best.code, 0) << best.text;
  const std::size_t nl = best.text.find('\n');
  ASSERT_NE(nl, std::string::npos);
  EXPECT_EQ(best.text.substr(nl + 1, best.text.find(' ', nl + 1) - nl - 1), std::to_string(want_best)) << best.text;
  EXPECT_EQ(std::count(best.text.begin(), best.text.end(), '\n'), 2) << best.text;  // header + one data file

  const Out list = run_enigma("runs list --runs-dir " + runs);
  ASSERT_EQ(list.code, 0) << list.text;
  EXPECT_EQ(std::count(list.text.begin(), list.text.end(), '\n'), 4) << list.text;
  EXPECT_NE(list.text.find("walkforward"), std::string::npos);
  const Out cmp = run_enigma("runs compare 1 2 --runs-dir " + runs);
  ASSERT_EQ(cmp.code, 0) << cmp.text;
  EXPECT_NE(cmp.text.find("grid"), std::string::npos);
  EXPECT_NE(cmp.text.find("genetic   *"), std::string::npos) << cmp.text;
  EXPECT_EQ(run_enigma("runs compare 1 9 --runs-dir " + runs).code, 3);
  const Out none = run_enigma("runs list --runs-dir " + (dir_ / "absent").string());
  EXPECT_EQ(none.code, 3);
  EXPECT_NE(none.text.find("no runs database"), std::string::npos) << none.text;
}

TEST_F(OptimizeCli, BadTomlExitsThreeNamingTheKey) {
  struct Case {
    std::string params, extra, expect;
  };
  const Case cases[] = {
      {"rsi_perod = [7, 14]\n", "", "optimize.params.rsi_perod"},
      {"leverage = {min = 25, max = 100}\n", "", "optimize.params.leverage': a range needs min, max and step"},
      {"stop_loss_roi = [0.3, 1.5]\n", "", "optimize.params.stop_loss_roi': value 1.5 out of range"},
      {kParams, "objective = \"sortino\"", "optimize.objective"},
      {kParams, "fee_rate = -0.1", "optimize.fee_rate"},
      {kParams, "pbo_partitions = 5", "optimize.pbo_partitions"},
  };
  for (const Case& c : cases) {
    const std::string cfg = write_config("bad.toml", c.extra, c.params);
    const Out o = run_enigma("optimize --config " + cfg + " --runs-dir " + (dir_ / "bad").string());
    EXPECT_EQ(o.code, 3) << o.text;
    EXPECT_NE(o.text.find(c.expect), std::string::npos) << o.text;
    EXPECT_NE(o.text.find("bad.toml:"), std::string::npos) << o.text;
  }
  EXPECT_FALSE(fs::exists(dir_ / "bad"));  // nothing written before the config is valid
  const Out wf =
      run_enigma("walkforward --config " + write_config("badwf.toml", "", kParams, "\n[walkforward]\nwindows = 0\n") +
                 " --runs-dir " + (dir_ / "bad").string());
  EXPECT_EQ(wf.code, 3) << wf.text;
  EXPECT_NE(wf.text.find("walkforward.windows"), std::string::npos) << wf.text;
}

// best.toml is what a replay, paper or live config includes: `[strategy.confluence] include = "best.toml"` runs the
// engine's confluence strategy with the chosen parameters. The include trades exactly as the same seven values
// written inline (read back here from best.toml's text), differently from the defaults; the ROI stop the engine
// sends equals the entry bar's close less close * stop_loss_roi / leverage on the tick grid, recomputed here from
// the run's own take-profit (both come from the same close); a key given both ways, a missing file and a partial
// inline set exit 3 naming the key.
TEST_F(OptimizeCli, BestTomlIncludedByAReplayConfigDrivesTheConfluenceStrategy) {
  // A small space whose every point trades on the 6-minute session below (a low min_score).
  const std::string cfg = write_config("grid.toml", "train_fraction = 0.7",
                                       "rsi_period = [7]\nrsi_oversold = [30]\nrsi_overbought = [70]\nmin_score = [30]\n"
                                       "stop_loss_roi = [0.5]\ntake_profit_roi = [1.5, 2.5]\nleverage = [25, 50]\n");
  const Out opt = run_enigma("optimize --config " + cfg + " --quiet --runs-dir " + (dir_ / "opt").string());
  ASSERT_EQ(opt.code, 0) << opt.text;
  const fs::path best = only_run("opt") / "best.toml";
  const std::string best_text = slurp(best);
  std::string inline_keys;
  std::map<std::string, double> value;
  {
    std::istringstream in(best_text.substr(best_text.find("[optimize.params]\n") + 18));
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      inline_keys += line + "\n";
      value[line.substr(0, line.find(" = "))] = std::stod(line.substr(line.find(" = ") + 3));
    }
  }
  ASSERT_EQ(value.size(), 7u) << best_text;

  std::string base = slurp(fs::path(ENIGMA_SOURCE_DIR) / "config/replay.toml");
  base.replace(base.find("kind = \"imbalance\""), 18, "kind = \"confluence\"");
  const std::string data = std::string(ENIGMA_SOURCE_DIR) +
                           "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";
  // 5 s bars: the bundled 6-minute session is too short for 60 s bars to get past the indicators' lookbacks.
  auto replay = [&](const std::string& name, const std::string& confluence) {
    const fs::path p = dir_ / (name + ".toml");
    std::ofstream(p) << base << "\n[strategy.confluence]\ntimeframes_s = [5]\n" << confluence;
    return run_enigma("replay --quiet --config " + p.string() + " --data " + data + " --runs-dir " +
                      (dir_ / name).string());
  };
  // A replay's run directory (its runs dir also holds the `latest` link).
  auto run_dir = [&](const std::string& name) { return dir_ / name / "latest"; };
  auto trades = [&](const std::string& name) { return slurp(run_dir(name) / "trades.csv"); };
  const Out inc = replay("inc", "include = \"" + best.string() + "\"\n");
  ASSERT_EQ(inc.code, 0) << inc.text;
  const Out inl = replay("inline", inline_keys);
  ASSERT_EQ(inl.code, 0) << inl.text;
  const Out def = replay("default", "");
  ASSERT_EQ(def.code, 0) << def.text;
  const std::string t_inc = trades("inc");
  ASSERT_GT(csv_rows(t_inc).size(), 1u) << inc.text;  // it traded
  EXPECT_EQ(t_inc, trades("inline"));
  EXPECT_NE(t_inc, trades("default"));

  // The first bracket in the run's log: stop and take-profit trigger prices.
  const std::string log = slurp(run_dir("inc") / "logs/enigma.log");
  auto trigger_of = [&](const std::string& type) {
    const std::size_t at = log.find("type=" + type);
    EXPECT_NE(at, std::string::npos) << type;
    const std::size_t st = log.find("stop=", at);
    return std::stod(log.substr(st + 5));
  };
  const double stop = trigger_of("STOP_MARKET"), tp = trigger_of("TAKE_PROFIT_MARKET");
  const bool long_entry = log.find("side=buy type=MARKET") < log.find("side=sell type=MARKET");
  const double lev = value["leverage"], sl = value["stop_loss_roi"], tpr = value["take_profit_roi"];
  // tp = close * (1 +/- tpr / lev) on the 0.1 tick (nearest), so the close is within half a tick of this:
  const double close = tp / (1.0 + (long_entry ? 1 : -1) * tpr / lev);
  const double expect_stop = close * (1.0 - (long_entry ? 1 : -1) * sl / lev);
  EXPECT_NEAR(stop, expect_stop, 0.1 + 0.05 * (1.0 + sl / lev)) << log.substr(0, 2000);

  struct Bad {
    std::string confluence, expect;
  };
  const Bad bad[] = {
      {"include = \"" + best.string() + "\"\nmin_score = 40\n", "strategy.confluence.min_score': min_score is set here and by include"},
      {"include = \"" + (dir_ / "nope.toml").string() + "\"\n", "strategy.confluence.include'"},
      {"rsi_period = 7\n", "is missing"},
  };
  for (const Bad& b : bad) {
    const Out o = replay("bad", b.confluence);
    EXPECT_EQ(o.code, 3) << o.text;
    EXPECT_NE(o.text.find(b.expect), std::string::npos) << o.text;
  }
}

TEST_F(OptimizeCli, HelpNamesTheOptions) {
  for (const char* cmd : {"optimize", "walkforward"}) {
    const Out o = run_enigma(std::string(cmd) + " --help");
    EXPECT_EQ(o.code, 0);
    for (const char* opt : {"--config", "--method", "--threads", "--seed", "--runs-dir"})
      EXPECT_NE(o.text.find(opt), std::string::npos) << cmd << " " << opt;
  }
}

}  // namespace
