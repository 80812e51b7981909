// `enigma optimize` and `enigma walkforward` through the binary, on the first 3,000 bundled BTCUSDT 5 m
// candles and a small grid: trials.csv byte-identical for 1 and 2 threads, best.toml holding the best
// feasible row of trials.csv, the genetic search reproducible per seed, walkforward.csv's window
// boundaries against a hand computation and its choice made on the train span only, and bad TOML refused with exit 3
// naming the key.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Out {
  int code;
  std::string text;
};

Out run(const std::string& args) {
  const std::string cmd = std::string(ENIGMA_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string text;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) text.append(buf.data(), n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, text};
}

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
  // The one run directory a command left under `runs`.
  fs::path only_run(const std::string& runs) {
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir_ / runs)) found.push_back(e.path());
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
  const Out a = run("optimize --config " + cfg + " --threads 1 --runs-dir " + (dir_ / "r1").string());
  ASSERT_EQ(a.code, 0) << a.text;
  const Out b = run("optimize --config " + cfg + " --threads 2 --runs-dir " + (dir_ / "r2").string());
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
  const Out a =
      run("optimize --config " + cfg + " --method genetic --seed 7 --threads 2 --runs-dir " + (dir_ / "a").string());
  ASSERT_EQ(a.code, 0) << a.text;
  const Out b =
      run("optimize --config " + cfg + " --method genetic --seed 7 --threads 1 --runs-dir " + (dir_ / "b").string());
  ASSERT_EQ(b.code, 0) << b.text;
  const Out c = run("optimize --config " + cfg + " --method genetic --seed 8 --runs-dir " + (dir_ / "c").string());
  ASSERT_EQ(c.code, 0) << c.text;
  const std::string ta = slurp(only_run("a") / "trials.csv");
  EXPECT_EQ(ta, slurp(only_run("b") / "trials.csv"));
  EXPECT_NE(ta, slurp(only_run("c") / "trials.csv"));
  EXPECT_NE(slurp(only_run("a") / "best.toml").find("method genetic, seed 7"), std::string::npos);
}

TEST_F(OptimizeCli, WalkForwardWindowsMatchAHandComputation) {
  const std::string cfg = write_config(
      "wf.toml", "", kParams, "\n[walkforward]\ntrain_fraction = 0.7\nwindows = 5\nmin_trades_per_window = 3\n");
  const Out o = run("walkforward --config " + cfg + " --threads 2 --runs-dir " + (dir_ / "w").string());
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
  };
  for (const Case& c : cases) {
    const std::string cfg = write_config("bad.toml", c.extra, c.params);
    const Out o = run("optimize --config " + cfg + " --runs-dir " + (dir_ / "bad").string());
    EXPECT_EQ(o.code, 3) << o.text;
    EXPECT_NE(o.text.find(c.expect), std::string::npos) << o.text;
    EXPECT_NE(o.text.find("bad.toml:"), std::string::npos) << o.text;
  }
  EXPECT_FALSE(fs::exists(dir_ / "bad"));  // nothing written before the config is valid
  const Out wf =
      run("walkforward --config " + write_config("badwf.toml", "", kParams, "\n[walkforward]\nwindows = 0\n") +
          " --runs-dir " + (dir_ / "bad").string());
  EXPECT_EQ(wf.code, 3) << wf.text;
  EXPECT_NE(wf.text.find("walkforward.windows"), std::string::npos) << wf.text;
}

TEST_F(OptimizeCli, HelpNamesTheOptions) {
  for (const char* cmd : {"optimize", "walkforward"}) {
    const Out o = run(std::string(cmd) + " --help");
    EXPECT_EQ(o.code, 0);
    for (const char* opt : {"--config", "--method", "--threads", "--seed", "--runs-dir"})
      EXPECT_NE(o.text.find(opt), std::string::npos) << cmd << " " << opt;
  }
}

}  // namespace
