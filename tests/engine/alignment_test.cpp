// Multi-timeframe alignment of the confluence strategy (issue 15 item 3) through `enigma backtest` on the
// bundled 5-minute BTCUSDT candles with timeframes 5 m, 15 m and 1 h: every alignment_change line in the log
// is followed by one mtf_score line per timeframe, and the test re-derives from those lines, by the README's
// rules, each timeframe's direction (score >= threshold: long, <= -threshold: short, else neutral) and the
// alignment (long and short: divergent; any neutral: partial; else full); the changes chain (from = the
// previous to); summary.json's "alignment" counts the changes, ends on the last logged alignment and holds
// one score per timeframe; report.md and report.html carry the heatmap row.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <regex>
#include <set>
#include <thread>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/engine_test_support.hpp"
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

// The admin endpoint during the same backtest (the alignment reaches the admin snapshot, issue 15 item 3):
// GET /api/signals, polled while `enigma backtest` runs with publish_ms = 10, carries a "confluence mtf"
// cell once the three timeframes are ready. In every such answer its score is the mean of the three
// timeframe cells' scores published with it (the README's rule, computed here) and its alignment is one the
// run logged (alignment_change ... to=).
TEST(EngineAlignment, TheAdminSignalsCarryTheCombinedCellWhileTheBacktestRuns) {
  std::uint16_t port = 0;
  {  // a free loopback port (the kernel's choice), released for the engine
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port = ntohs(a.sin_port);
    ::close(fd);
  }
  std::string text = slurp(kSrc + "/config/backtest.toml");
  text.replace(text.find("timeframes_s = [300]"), 20, "timeframes_s = [300, 900, 3600]");
  text.replace(text.find("\"data/"), 6, "\"" + kSrc + "/data/");  // the child runs outside the source tree
  const std::string cfg = tmp("mtf-admin.toml");
  std::ofstream(cfg) << text << "\n[log]\nheartbeat_s = 0\n\n[admin]\nenabled = true\naddress = \"127.0.0.1\"\nport = " << port
                     << "\npublish_ms = 10\n";
  const std::string runs = tmp("runs-admin");
  enigma::testing::Child child({"backtest", "--quiet", "--config", cfg, "--runs-dir", runs}, tmp("admin.out"));

  const std::regex cell_re(R"re("column":"([^"]+)","score":([-+0-9.eE]+),"norm":[^,]+,"ready":(true|false)(,"alignment":"([a-z]+)")?)re");
  struct Seen {
    double tf_mean;
    double mtf;
    std::string alignment;
  };
  std::vector<Seen> seen;
  int status = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    int st = 0;
    if (::waitpid(child.pid, &st, WNOHANG) == child.pid) {
      child.pid = -1;
      status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    const std::string body = enigma::testing::http_get_or_empty(port, "/api/signals");
    if (body.find("\"confluence mtf\"") == std::string::npos) continue;
    double sum = 0;
    int tfs = 0;
    Seen s{0, 0, ""};
    for (std::sregex_iterator it(body.begin(), body.end(), cell_re), end; it != end; ++it) {
      const std::string column = (*it)[1];
      if (column == "confluence mtf") {
        if ((*it)[3] != "true") break;
        s.mtf = std::stod((*it)[2]);
        s.alignment = (*it)[5];
      } else if (column.starts_with("confluence ")) {
        sum += std::stod((*it)[2]);
        ++tfs;
      }
    }
    if (s.alignment.empty() || tfs != 3) continue;
    s.tf_mean = sum / 3;
    seen.push_back(s);
  }
  ASSERT_EQ(status, 0) << child.output();

  std::set<std::string> logged;
  std::istringstream log(slurp(first_run_dir(runs) / "logs" / "enigma.log"));
  for (std::string line; std::getline(log, line);)
    if (line.find(" INFO strategy alignment_change ") != std::string::npos) logged.insert(log_fields(line).at("to"));
  std::printf("admin /api/signals answers with the combined cell: %zu\n", seen.size());
  ASSERT_GE(seen.size(), 1u) << "no answer carried a ready 'confluence mtf' cell";
  for (const Seen& s : seen) {
    EXPECT_NEAR(s.mtf, s.tf_mean, 1e-9);
    EXPECT_TRUE(logged.contains(s.alignment)) << s.alignment;
  }
}

}  // namespace
