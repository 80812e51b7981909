// A grid sweep as a Slurm job array (issue 14 item 7), without Slurm: scripts/slurm/optimize.sbatch run by bash
// once per array task with the SLURM_ARRAY_* variables Slurm would set (N = 3), then scripts/slurm/merge.sbatch.
// The merged run folder must be byte-identical to a single-process run (trials.csv, best.toml, metrics.json,
// report.html; walkforward.csv and oos_equity.csv for walkforward); each shard holds exactly its share of the grid
// (80 points: [0, 26), [26, 53), [53, 80) by the floor(80 k / 3) rule); a missing shard, a duplicated one and
// one from a different config are refused with exit 3 naming it; genetic and bad K/N are usage errors (exit 2).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;
using enigma::testing::Out;
using enigma::testing::run_enigma;
using enigma::testing::shell;
using enigma::testing::slurp;

std::vector<fs::path> run_dirs(const fs::path& runs) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(runs))
    if (e.is_directory() && e.path().filename().string().rfind("slurm-", 0) != 0) out.push_back(e.path());
  return out;
}

std::size_t lines_of(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n' ? 1 : 0;
  return n;
}

class OptimizeSlurm : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("enigma_optimize_slurm_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    cfg_ = write_config("sweep.toml", "0.1");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // 2 x 5 x 2 x 2 x 2 = 80 grid points on the first 3,000 bundled candles.
  std::string write_config(const std::string& name, const std::string& max_drawdown) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << "[optimize]\ndata = \"" << ENIGMA_SOURCE_DIR
                     << "/data/candles/kheus_spot_BTCUSDT_5m_20250602_20250807.csv.gz\"\nmax_candles = 3000\n"
                     << "min_trades = 5\nmax_drawdown = " << max_drawdown
                     << "\ntrain_fraction = 0.7\npbo_partitions = 4\npermutations = 100\n"
                     << "[optimize.params]\nrsi_period = [7, 14]\nmin_score = {min = 30, max = 70, step = 10}\n"
                     << "stop_loss_roi = [0.3, 1.0]\ntake_profit_roi = [1.0, 3.0]\nleverage = [25, 100]\n"
                     << "[walkforward]\ntrain_fraction = 0.7\nwindows = 3\nmin_trades_per_window = 3\n";
    return p.string();
  }

  // Array task `task` of 3 (array job 4242), as Slurm would start it.
  Out array_task(const std::string& command, const std::string& cfg, const fs::path& runs, int task) {
    return shell("env SLURM_ARRAY_JOB_ID=4242 SLURM_ARRAY_TASK_ID=" + std::to_string(task) +
                 " SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=0 SLURM_CPUS_PER_TASK=1 ENIGMA=" ENIGMA_BINARY
                 " bash " ENIGMA_SOURCE_DIR "/scripts/slurm/optimize.sbatch " +
                 command + " " + cfg + " " + runs.string() + " --quiet");
  }
  Out merge(const std::string& command, const fs::path& runs) {
    return shell("env SLURM_CPUS_PER_TASK=1 ENIGMA=" ENIGMA_BINARY " bash " ENIGMA_SOURCE_DIR
                 "/scripts/slurm/merge.sbatch " +
                 command + " " + cfg_ + " " + runs.string() + " 4242 --quiet");
  }

  // Single process, then the array and the merge; the files that must match byte for byte.
  void same_outputs(const std::string& command, const std::vector<std::string>& files) {
    const fs::path one = dir_ / (command + "-single"), sharded = dir_ / (command + "-slurm");
    const Out a = run_enigma(command + " --config " + cfg_ + " --threads 1 --quiet --runs-dir " + one.string());
    ASSERT_EQ(a.code, 0) << a.text;
    for (int k = 0; k < 3; ++k) {
      const Out s = array_task(command, cfg_, sharded, k);
      ASSERT_EQ(s.code, 0) << s.text;
    }
    // Each shard's rows: its grid points (floor(80 k / 3)) in every window (1 for optimize, 3 for walkforward).
    const std::size_t windows = command == "walkforward" ? 3 : 1;
    const std::size_t share[3] = {26, 27, 27};
    for (int k = 0; k < 3; ++k) {
      const fs::path shard = sharded / "slurm-4242" / ("shard-" + std::to_string(k) + "-of-3");
      EXPECT_EQ(lines_of(slurp(shard / "trials.csv")), 1 + windows * share[k]) << shard;
      EXPECT_NE(slurp(shard / "shard.txt").find("shard " + std::to_string(k) + "/3\n"), std::string::npos);
    }
    const Out m = merge(command, sharded);
    ASSERT_EQ(m.code, 0) << m.text;
    const auto d1 = run_dirs(one), d2 = run_dirs(sharded);
    ASSERT_EQ(d1.size(), 1u);
    ASSERT_EQ(d2.size(), 1u);
    EXPECT_NE(d2[0].filename().string().find("-" + command), std::string::npos);
    for (const std::string& f : files) {
      const std::string x = slurp(d1[0] / f);
      ASSERT_FALSE(x.empty()) << f;
      EXPECT_EQ(x, slurp(d2[0] / f)) << command << ": " << f << " differs";
    }
    EXPECT_TRUE(fs::exists(sharded / "runs.db"));  // the merge records the run
  }

  fs::path dir_;
  std::string cfg_;
};

TEST_F(OptimizeSlurm, OptimizeArrayThenMergeIsByteIdenticalToOneProcess) {
  same_outputs("optimize", {"trials.csv", "best.toml", "metrics.json", "report.html"});
}

TEST_F(OptimizeSlurm, WalkForwardArrayThenMergeIsByteIdenticalToOneProcess) {
  same_outputs("walkforward",
               {"trials.csv", "walkforward.csv", "oos_equity.csv", "best.toml", "metrics.json", "report.html"});
}

TEST_F(OptimizeSlurm, MissingDuplicatedAndForeignShardsAreRefusedNamingTheShard) {
  const fs::path runs = dir_ / "runs", job = runs / "slurm-4242";
  for (int k = 0; k < 3; ++k) ASSERT_EQ(array_task("optimize", cfg_, runs, k).code, 0);

  // Missing: shard 1 moved away.
  fs::rename(job / "shard-1-of-3", dir_ / "kept-1");
  Out o = merge("optimize", runs);
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("shard 1/3 is missing"), std::string::npos) << o.text;
  fs::rename(dir_ / "kept-1", job / "shard-1-of-3");

  // Duplicated: a copy of shard 0 beside it.
  fs::copy(job / "shard-0-of-3", job / "shard-0-of-3-again");
  o = merge("optimize", runs);
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("shard-0-of-3-again"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("given twice"), std::string::npos) << o.text;
  fs::remove_all(job / "shard-0-of-3-again");

  // Foreign: shard 1 from a config that differs in one constraint.
  const std::string other = write_config("other.toml", "0.2");
  ASSERT_EQ(array_task("optimize", other, dir_ / "other", 1).code, 0);
  fs::remove_all(job / "shard-1-of-3");
  fs::rename(dir_ / "other" / "slurm-4242" / "shard-1-of-3", job / "shard-1-of-3");
  o = merge("optimize", runs);
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("shard '" + (job / "shard-1-of-3").string() + "' (1/3) is from a different config"),
            std::string::npos)
      << o.text;
  EXPECT_TRUE(run_dirs(runs).empty()) << "a refused merge writes no run folder";

  // A walkforward merge does not take optimize shards.
  fs::remove_all(job / "shard-1-of-3");
  ASSERT_EQ(array_task("optimize", cfg_, runs, 1).code, 0);
  o = merge("walkforward", runs);
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("not `enigma walkforward`"), std::string::npos) << o.text;
}

// scripts/slurm/submit.sh against a stand-in sbatch on PATH that runs each job at once (the array's tasks with
// the SLURM_ARRAY_* values Slurm would set): the array is 0-2, the merge job depends on the array job (afterok),
// and the merged run holds all 80 trials.
TEST_F(OptimizeSlurm, SubmitShSubmitsTheArrayAndAMergeThatWaitsForIt) {
  const fs::path bin = dir_ / "bin", log = dir_ / "sbatch.log", runs = dir_ / "submitted";
  fs::create_directories(bin);
  std::ofstream(bin / "sbatch")
      << "#!/usr/bin/env bash\n"
         "echo \"$*\" >> \"$SBATCH_LOG\"\n"
         "id=$((1000 + $(wc -l < \"$SBATCH_LOG\")))\n"
         "array=\n"
         "while [[ $1 == --* ]]; do case $1 in --array=*) array=${1#--array=} ;; esac; shift; done\n"
         "if [ -n \"$array\" ]; then\n"
         "  lo=${array%-*} hi=${array#*-}\n"
         "  for ((t = lo; t <= hi; t++)); do\n"
         "    SLURM_ARRAY_JOB_ID=$id SLURM_ARRAY_TASK_ID=$t SLURM_ARRAY_TASK_MIN=$lo \\\n"
         "      SLURM_ARRAY_TASK_COUNT=$((hi - lo + 1)) bash \"$@\" >> \"$SBATCH_LOG.out\" 2>&1 || exit 1\n"
         "  done\n"
         "else\n"
         "  bash \"$@\" >> \"$SBATCH_LOG.out\" 2>&1 || exit 1\n"
         "fi\n"
         "echo \"$id\"\n";
  fs::permissions(bin / "sbatch", fs::perms::owner_all);
  const Out o = shell("env PATH=" + bin.string() + ":$PATH SBATCH_LOG=" + log.string() +
                      " SLURM_CPUS_PER_TASK=1 ENIGMA=" ENIGMA_BINARY " bash " ENIGMA_SOURCE_DIR
                      "/scripts/slurm/submit.sh 3 optimize " +
                      cfg_ + " " + runs.string() + " --quiet");
  ASSERT_EQ(o.code, 0) << o.text << slurp(log.string() + ".out");
  EXPECT_NE(o.text.find("array job 1001"), std::string::npos) << o.text;
  const std::string calls = slurp(log);
  EXPECT_NE(calls.find("--array=0-2 " ENIGMA_SOURCE_DIR "/scripts/slurm/optimize.sbatch optimize " + cfg_),
            std::string::npos)
      << calls;
  EXPECT_NE(calls.find("--dependency=afterok:1001 " ENIGMA_SOURCE_DIR "/scripts/slurm/merge.sbatch optimize " + cfg_ +
                       " " + runs.string() + " 1001"),
            std::string::npos)
      << calls;
  const auto merged = run_dirs(runs);
  ASSERT_EQ(merged.size(), 1u) << slurp(log.string() + ".out");
  EXPECT_EQ(lines_of(slurp(merged[0] / "trials.csv")), 1u + 80u);
}

TEST_F(OptimizeSlurm, SequentialMethodsAndBadShardsAreUsageErrors) {
  Out o = run_enigma("optimize --config " + cfg_ + " --method genetic --shard 0/3 --runs-dir " + (dir_ / "g").string());
  EXPECT_EQ(o.code, 2) << o.text;
  EXPECT_NE(o.text.find("method genetic is sequential"), std::string::npos) << o.text;
  o = run_enigma("walkforward --config " + cfg_ + " --method bayes --merge x --runs-dir " + (dir_ / "g").string());
  EXPECT_EQ(o.code, 2) << o.text;
  for (const char* bad : {"3/3", "1", "a/3", "0/0"}) {
    o = run_enigma("optimize --config " + cfg_ + " --shard " + bad + " --runs-dir " + (dir_ / "g").string());
    EXPECT_EQ(o.code, 2) << bad << ": " << o.text;
  }
  o = run_enigma("optimize --config " + cfg_ + " --shard 0/2 --merge x");
  EXPECT_EQ(o.code, 2) << o.text;
  EXPECT_FALSE(fs::exists(dir_ / "g"));
  // The sbatch script outside a job array.
  o = shell("env -u SLURM_ARRAY_JOB_ID -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_COUNT bash " ENIGMA_SOURCE_DIR
            "/scripts/slurm/optimize.sbatch optimize " +
            cfg_ + " " + (dir_ / "g").string());
  EXPECT_EQ(o.code, 2) << o.text;
  EXPECT_NE(o.text.find("SLURM_ARRAY_JOB_ID is not set"), std::string::npos) << o.text;
}

}  // namespace
