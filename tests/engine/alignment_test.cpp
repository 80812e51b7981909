// Multi-timeframe alignment of the confluence strategy (issue 15 item 3) through `enigma backtest` on the
// bundled 5-minute BTCUSDT candles with timeframes 5 m, 15 m and 1 h: every alignment_change line in the log
// is followed by one mtf_score line per timeframe, and the test re-derives from those lines, by the README's
// rules, each timeframe's direction (score >= threshold: long, <= -threshold: short, else neutral) and the
// alignment (long and short: divergent; any neutral: partial; else full); the changes chain (from = the
// previous to); summary.json's "alignment" counts the changes, ends on the last logged alignment and holds
// one score per timeframe; report.md and report.html carry the heatmap row.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;
using enigma::testing::first_run_dir;
using enigma::testing::log_fields;
using enigma::testing::run_enigma;
using enigma::testing::slurp;

const std::string kSrc = ENIGMA_SOURCE_DIR;

std::string tmp(const std::string& name) {
  const fs::path p = fs::path(::testing::TempDir()) / ("alignment-" + std::to_string(::getpid())) / name;
  fs::create_directories(p.parent_path());
  return p.string();
}

std::string direction(double score, double threshold) {
  return score >= threshold ? "long" : score <= -threshold ? "short" : "neutral";
}

std::string alignment(const std::vector<std::string>& dirs) {
  bool l = false, s = false, n = false;
  for (const auto& d : dirs) l |= d == "long", s |= d == "short", n |= d == "neutral";
  return l && s ? "divergent" : n ? "partial" : "full";
}

TEST(EngineAlignment, EveryLoggedAlignmentFollowsFromItsTimeframesAndTheSummaryAndReportAgree) {
  std::string text = slurp(kSrc + "/config/backtest.toml");
  const std::string from = "timeframes_s = [300]";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), "timeframes_s = [300, 900, 3600]");
  const std::string cfg = tmp("mtf.toml");
  // No heartbeat / position lines (~108,000 over 66 days of data time): the log ring then holds every line
  // even if the logger thread is starved.
  std::ofstream(cfg) << text << "\n[log]\nheartbeat_s = 0\n";
  const std::string runs = tmp("runs");
  const auto r = run_enigma("backtest --quiet --config '" + cfg + "' --runs-dir '" + runs + "'");
  ASSERT_EQ(r.code, 0) << r.text;
  const fs::path run = first_run_dir(runs);

  std::istringstream log(slurp(run / "logs" / "enigma.log"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(log, line);)
    if (line.find(" INFO strategy alignment_change ") != std::string::npos || line.find(" INFO strategy mtf_score ") != std::string::npos)
      lines.push_back(line);
  std::size_t changes = 0;
  std::string last = "none";
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    ASSERT_NE(lines[i].find(" alignment_change "), std::string::npos) << lines[i];
    const auto c = log_fields(lines[i]);
    ASSERT_EQ(c.at("timeframes"), "3") << lines[i];
    EXPECT_EQ(c.at("from"), last) << lines[i];
    std::vector<std::string> dirs;
    const std::vector<std::string> tfs = {"300", "900", "3600"};
    for (const std::string& tf : tfs) {
      ASSERT_LT(++i, lines.size());
      const auto m = log_fields(lines[i]);
      ASSERT_NE(lines[i].find(" mtf_score "), std::string::npos) << lines[i];
      EXPECT_EQ(m.at("timeframe_s"), tf) << lines[i];
      const std::string d = direction(std::stod(m.at("score")), std::stod(m.at("threshold")));
      EXPECT_EQ(m.at("direction"), d) << lines[i];
      dirs.push_back(d);
    }
    EXPECT_EQ(c.at("to"), alignment(dirs)) << lines[i - 3];
    ++seen[c.at("to")];
    if (last != "none") ++changes;
    last = c.at("to");
  }
  std::printf("alignment changes %zu: to full %zu, partial %zu, divergent %zu\n", changes, seen["full"], seen["partial"],
              seen["divergent"]);
  EXPECT_GE(changes, 10u) << "66 days of 5-minute bars on three timeframes";
  EXPECT_GE(seen["full"], 1u);
  EXPECT_GE(seen["partial"], 1u);

  const std::string j = slurp(run / "summary.json");
  const std::size_t a = j.find("\"alignment\": [{\"strategy_id\": 0, \"symbol\": \"BTCUSDT\", \"ready\": true");
  ASSERT_NE(a, std::string::npos) << j.substr(0, 3000);
  auto num = [&](const std::string& key) { return std::stoull(j.substr(j.find("\"" + key + "\": ", a) + key.size() + 4)); };
  EXPECT_EQ(num("changes"), changes);
  EXPECT_NE(j.find("\"alignment\": \"" + last + "\"", a), std::string::npos) << j.substr(a, 600);
  const std::uint64_t decisions = num("full") + num("partial") + num("divergent");
  EXPECT_GE(decisions, changes + 1);  // a decision on every lowest-timeframe bar once all three are ready
  for (const char* tf : {"300", "900", "3600"})
    EXPECT_NE(j.find("{\"timeframe_s\": " + std::string(tf) + ", \"score\": ", a), std::string::npos) << tf;

  const std::string md = slurp(run / "report.md");
  EXPECT_NE(md.find("## Multi-timeframe signals (confluence, last decision)"), std::string::npos);
  EXPECT_NE(md.find("| instrument | 5 m | 15 m | 1 h | combined | alignment |"), std::string::npos) << md.substr(0, 2000);
  EXPECT_NE(md.find("| BTCUSDT (strategy 0) |"), std::string::npos);
  EXPECT_NE(md.find(" | " + last + " | "), std::string::npos);
  EXPECT_NE(slurp(run / "report.html").find("<h2>Multi-timeframe signals"), std::string::npos);
}

}  // namespace
