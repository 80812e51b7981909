// `bench_tick_to_wire` (perf/live/bench_tick_to_wire.cpp) run as a person runs it (scripts/bench.sh), on the
// first 2000 frames of the bundled Binance USD-M session: the bench report's live loopback section has a row
// per transport, each row's order count is what that run's journal holds, its tick-to-wire sample count and
// maximum are those of the run's histogram file, its percentiles are ordered, and the kill-switch table
// has kills that each cancelled resting entries. Figures themselves are machine-dependent: not asserted.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "oms/journal.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/enigma_process.hpp"

namespace {

using enigma::testing::fresh_path;
using enigma::testing::slurp;

// The cells of the markdown table row that starts with "| <first> |".
std::vector<std::string> row(const std::string& md, const std::string& first, std::size_t from = 0) {
  const std::size_t at = md.find("\n| " + first + " |", from);
  if (at == std::string::npos) return {};
  const std::string line = md.substr(at + 1, md.find('\n', at + 1) - at - 1);
  std::vector<std::string> cells;
  std::stringstream ss(line.substr(1));
  for (std::string c; std::getline(ss, c, '|');) cells.push_back(c.substr(c.find_first_not_of(' '), c.find_last_not_of(' ') - c.find_first_not_of(' ') + 1));
  return cells;
}

}  // namespace

TEST(TickToWireBench, TheLiveLoopbackSectionAgreesWithTheRunsOwnRecords) {
  const std::string runs = fresh_path("ttw-bench");
  const auto out = enigma::testing::shell(std::string(ENIGMA_TICK_TO_WIRE_BENCH) + " --config config/replay.toml --frames 2000 --recorded-seconds 0 --quiet --runs-dir " + runs);
  ASSERT_EQ(out.code, 0) << out.text;
  const std::filesystem::path dir = std::filesystem::path(runs) / "latest";
  const std::string md = slurp(dir / "bench.md");
  const std::size_t live = md.find("## Live loopback: tick-to-wire per transport");
  ASSERT_NE(live, std::string::npos) << md;
  const std::size_t kill = md.find("### Kill switch", live);
  ASSERT_NE(kill, std::string::npos) << md;
  std::vector<std::string> transports{"asio", "busy_poll"};
  if (out.text.find("live loopback io_uring skipped") == std::string::npos) transports.push_back("io_uring");
  for (const std::string& t : transports) {
    SCOPED_TRACE(t);
    // | transport | orders | with tick-to-wire | signed -> kernel p50 | p99 | tick-to-wire p50 | p90 | p99 | p99.9 | max |
    const std::vector<std::string> r = row(md.substr(0, kill), t, live);
    ASSERT_EQ(r.size(), 10u) << md;
    const std::uint64_t orders = std::stoull(r[1]), with_ttw = std::stoull(r[2]);
    EXPECT_GT(orders, 0u);
    EXPECT_GT(with_ttw, 0u);
    EXPECT_LE(with_ttw, orders);  // a bracket's legs go out on fills, with no frame behind them
    // Every order the run counted is in its journal.
    const enigma::oms::JournalInspection j = enigma::oms::inspect_journal((dir / ("live-" + t + ".journal")).string());
    EXPECT_FALSE(j.damage.has_value());
    EXPECT_EQ(j.state.orders.size(), orders);
    // Percentiles in order, all positive; the histogram file holds the same samples (its values in us).
    std::vector<double> p;
    for (std::size_t i = 5; i < 10; ++i) p.push_back(std::stod(r[i]));
    EXPECT_GT(p[0], 0);
    for (std::size_t i = 1; i < p.size(); ++i) EXPECT_LE(p[i - 1], p[i]) << r[i + 5];
    const std::string h = slurp(dir / ("live-" + t + ".tick_to_wire.hgrm"));
    std::smatch m;
    ASSERT_TRUE(std::regex_search(h, m, std::regex("Max\\s*=\\s*([0-9.]+), Total count\\s*=\\s*([0-9]+)"))) << h;
    EXPECT_EQ(std::stoull(m[2].str()), with_ttw);
    EXPECT_NEAR(std::stod(m[1].str()) * 1000.0, p[4], 1.0);
    // | transport | kills | entries cancelled | requests | kill -> wire p50 | p90 | p99 | max |
    const std::vector<std::string> k = row(md, t, kill);
    ASSERT_EQ(k.size(), 8u) << md;
    EXPECT_GT(std::stoull(k[1]), 0u);
    EXPECT_GE(std::stoull(k[2]), std::stoull(k[1]));  // each kill found entries resting
    EXPECT_GT(std::stod(k[4]), 0);
  }
  EXPECT_NE(md.find("Targets, best transport ("), std::string::npos) << md;
  // --recorded-seconds 0: the full-rate replays only (the recorded-pace pair would take 2 x 20 s here).
  EXPECT_NE(md.find("Recorded-pace runs: not run"), std::string::npos) << md;
  EXPECT_EQ(md.find("| fused-recorded |"), std::string::npos) << md;
  EXPECT_NE(md.find("| fused-max |"), std::string::npos) << md;
  EXPECT_NE(out.text.find("frames 2001/2001"), std::string::npos) << out.text;
}

// A data file it cannot read is a clear error, not an abort.
TEST(TickToWireBench, AMissingDataFileIsAClearError) {
  const std::string root = fresh_path("ttw-bad");
  std::filesystem::create_directories(root);
  const std::string cfg = root + "/bad.toml";
  std::string text = slurp(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  const std::size_t at = text.find("data/binance/");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 13, "data/binance/missing-");
  std::ofstream(cfg) << text;
  const auto out = enigma::testing::shell(std::string(ENIGMA_TICK_TO_WIRE_BENCH) + " --config " + cfg + " --quiet --runs-dir " + root + "/runs");
  EXPECT_EQ(out.code, 3) << out.text;
  EXPECT_NE(out.text.find("bench_tick_to_wire: cannot open 'data/binance/missing-"), std::string::npos) << out.text;
}
