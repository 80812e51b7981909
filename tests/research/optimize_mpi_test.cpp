// `mpirun --oversubscribe -np 2 enigma optimize|walkforward` (issue 14): the trials spread over two ranks give a
// trials.csv (and walkforward.csv) byte-identical to the single-process run, one run folder, two ranks reported.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;
using enigma::testing::Out;
using enigma::testing::shell;
using enigma::testing::slurp;

// The run folders a command left under `runs` (runs.db aside).
std::vector<fs::path> run_dirs(const fs::path& runs) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(runs))
    if (e.is_directory()) out.push_back(e.path());
  return out;
}

class OptimizeMpi : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("enigma_optimize_mpi_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    cfg_ = (dir_ / "mpi.toml").string();
    std::ofstream(cfg_) << "[optimize]\ndata = \"" << ENIGMA_SOURCE_DIR
                        << "/data/candles/kheus_spot_BTCUSDT_5m_20250602_20250807.csv.gz\"\nmax_candles = 4000\n"
                        << "min_trades = 5\nmax_drawdown = 0.1\ntrain_fraction = 0.7\npermutations = 100\n"
                        << "[optimize.genetic]\npopulation = 12\ngenerations = 4\nseed = 9\n"
                        << "[optimize.params]\nrsi_period = [7, 14, 21]\nrsi_oversold = [25, 30]\n"
                        << "min_score = {min = 30, max = 60, step = 10}\nstop_loss_roi = [0.3, 1.0]\n"
                        << "take_profit_roi = [1.0, 3.0]\nleverage = [25, 100]\n"
                        << "[walkforward]\ntrain_fraction = 0.7\nwindows = 3\nmin_trades_per_window = 3\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The command once as one process and once under mpirun with two ranks; the files that must match.
  void same_outputs(const std::string& command, const std::vector<std::string>& files) {
    const std::string one = (dir_ / (command.substr(0, 5) + "-single")).string();
    const std::string two = (dir_ / (command.substr(0, 5) + "-mpi")).string();
    const Out a =
        shell(std::string(ENIGMA_BINARY) + " " + command + " --config " + cfg_ + " --quiet --runs-dir " + one);
    ASSERT_EQ(a.code, 0) << a.text;
    EXPECT_NE(a.text.find("on 1 rank(s)"), std::string::npos) << a.text;
    // --allow-run-as-root: CI containers run as root; --oversubscribe: two ranks on however many cores.
    const Out b = shell("timeout 120 mpirun --oversubscribe --allow-run-as-root -np 2 " + std::string(ENIGMA_BINARY) +
                        " " + command + " --threads 1 --config " + cfg_ + " --quiet --runs-dir " + two);
    ASSERT_EQ(b.code, 0) << b.text;
    EXPECT_NE(b.text.find("on 2 rank(s) x 1 threads"), std::string::npos) << b.text;
    const auto d1 = run_dirs(one), d2 = run_dirs(two);
    ASSERT_EQ(d1.size(), 1u);
    ASSERT_EQ(d2.size(), 1u) << "rank 1 must not write a run of its own";
    for (const std::string& f : files) {
      const std::string x = slurp(d1[0] / f);
      ASSERT_FALSE(x.empty()) << f;
      EXPECT_EQ(x, slurp(d2[0] / f)) << command << ": " << f << " differs";
    }
  }

  fs::path dir_;
  std::string cfg_;
};

TEST_F(OptimizeMpi, GridOnTwoRanksIsByteIdentical) { same_outputs("optimize --method grid", {"trials.csv"}); }

TEST_F(OptimizeMpi, GeneticOnTwoRanksIsByteIdentical) { same_outputs("optimize --method genetic", {"trials.csv"}); }

TEST_F(OptimizeMpi, WalkForwardOnTwoRanksIsByteIdentical) {
  same_outputs("walkforward --method grid", {"trials.csv", "walkforward.csv", "oos_equity.csv"});
}

}  // namespace
