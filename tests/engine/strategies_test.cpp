// Strategies as plug-ins, through the binary: the registry's listing, the README's example strategy trading
// where the moving averages of the recorded trades cross (recomputed here from the data file), the README's
// code block equal to the strategy file, and a new strategy file picked up by the registry generator.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;
using enigma::testing::run_enigma;
using enigma::testing::shell;
using enigma::testing::slurp;

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kData = kSrc + "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";

// config/replay.toml with its [strategy] tables replaced by `strategy` (everything from [strategy] to [risk]).
std::string config_with(const std::string& strategy) {
  const std::string text = enigma::testing::with_strategy_tables(slurp(kSrc + "/config/replay.toml"), strategy);
  EXPECT_FALSE(text.empty()) << "config/replay.toml lost its [strategy] or [risk] table";
  return text;
}

std::string write(const std::string& name, const std::string& text) {
  const std::string p = ::testing::TempDir() + "/" + name;
  std::ofstream(p) << text;
  return p;
}

// A decimal string as an integer in units of 1e-8 ("61800.3" -> 6180030000000).
std::int64_t e8(const std::string& s) {
  const auto dot = s.find('.');
  std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  frac.resize(8, '0');
  return std::stoll(s.substr(0, dot)) * 100'000'000 + std::stoll(frac);
}

TEST(EngineStrategies, ListedByTheRegistry) {
  const auto o = run_enigma("strategies");
  ASSERT_EQ(o.code, 0) << o.text;
  // Every bundled kind and the example, each with its table and the example's keys at its defaults.
  for (const char* k : {"\nimbalance ", "\nconfluence ", "\nmean-reversion ", "\nsma-cross ", "[strategy.sma_cross]",
                        "[strategy.mean_reversion]", "fast = 5  [1, 1023]", "slow = 20  [2, 1024]", "stop_ticks = 2000",
                        "take_profit_ticks = 4000", "depth = 5  [1, 50]"})
    EXPECT_NE(o.text.find(k), std::string::npos) << k << "\n" << o.text;
  const auto h = run_enigma("replay --help");
  ASSERT_EQ(h.code, 0) << h.text;
  EXPECT_NE(h.text.find("sma-cross"), std::string::npos) << h.text;
  EXPECT_NE(h.text.find("mean-reversion"), std::string::npos) << h.text;
}

// The example trades where the data says: every fill of an entry (exit) is a market order sent at a trade where
// the 100-trade mean crossed above (below) the 1000-trade mean, [sim] order_latency_us = 500 later; the run's
// intent count is the number of crosses the rules act on.
TEST(EngineStrategies, ExampleSmaCrossTradesAtTheCrossesOfTheData) {
  const std::string cfg =
      write("sma.toml", config_with("[strategy]\nkind = \"sma-cross\"\ninstrument = 0\norder_qty = \"0.01\"\n\n"
                                    "[strategy.sma_cross]\nfast = 100\nslow = 1000\nstop_ticks = 30000\n"
                                    "take_profit_ticks = 60000\n"));
  const std::string runs = ::testing::TempDir() + "/runs-sma";
  fs::remove_all(runs);
  const auto o = run_enigma("replay --quiet --config " + cfg + " --data " + kData + " --runs-dir " + runs);
  ASSERT_EQ(o.code, 0) << o.text;
  const fs::path dir = fs::canonical(runs + "/latest");

  // By hand: the recorded trades (local receive time, price), the two means over the last 100 and 1000 prices,
  // a side that only changes on a strict inequality, entries on a cross up while not holding, exits on a
  // cross down while holding.
  const auto z = shell("zcat " + kData + " | grep '\"e\":\"trade\"'");
  ASSERT_EQ(z.code, 0);
  std::vector<std::pair<std::int64_t, std::int64_t>> trades;  // (local ns, price e8)
  std::istringstream in(z.text);
  for (std::string line; std::getline(in, line);) {
    const auto p = line.find("\"p\":\"");
    ASSERT_NE(p, std::string::npos) << line;
    trades.emplace_back(std::stoll(line.substr(0, line.find(' '))),
                        e8(line.substr(p + 5, line.find('"', p + 5) - p - 5)));
  }
  ASSERT_GT(trades.size(), 10'000u);
  const int fast = 100, slow = 1000;
  std::map<std::int64_t, char> expected;  // send time -> 'b' entry / 's' exit
  std::size_t intents = 0;
  int side = 0;
  bool holding = false;
  for (std::size_t i = slow - 1; i < trades.size(); ++i) {
    __int128 sf = 0, ss = 0;
    for (std::size_t j = i + 1 - slow; j <= i; ++j) {
      ss += trades[j].second;
      if (j + fast > i) sf += trades[j].second;
    }
    const __int128 d = sf * slow - ss * fast;
    const int s = d > 0 ? 1 : (d < 0 ? -1 : side);
    if (side < 0 && s > 0 && !holding) {
      expected[trades[i].first] = 'b';
      holding = true;
      ++intents;
    } else if (side > 0 && s < 0 && holding) {
      expected[trades[i].first] = 's';
      holding = false;
      ++intents;
    }
    side = s;
  }
  ASSERT_GE(intents, 10u);  // enough crosses in the 6 minutes to mean something

  const std::string summary = slurp(dir / "summary.json");
  EXPECT_NE(summary.find("\"signals\": " + std::to_string(intents) + ","), std::string::npos)
      << "expected " << intents << " intents\n"
      << summary;
  // trades.csv: time_ns,symbol,side,price,qty,fee,liquidity,client_order_id,reason,expected_price
  std::size_t entries = 0, exits = 0;
  for (const auto& c : enigma::testing::read_trades_csv(dir)) {
    const std::string row = c.time_ns + "," + c.side + "," + c.reason;
    ASSERT_EQ(c.cells, 10u) << row;
    if (c.reason != "signal_entry" && c.reason != "signal_exit") continue;  // the end-of-data flatten
    const auto it = expected.find(std::stoll(c.time_ns) - 500'000);
    ASSERT_NE(it, expected.end()) << "a fill at no hand-computed cross: " << row;
    EXPECT_EQ(it->second == 'b' ? "buy" : "sell", c.side) << row;
    EXPECT_EQ(c.reason, it->second == 'b' ? "signal_entry" : "signal_exit") << row;
    (c.reason == "signal_entry" ? entries : exits) += 1;
  }
  EXPECT_GE(entries, intents / 4) << "most crosses fill";
  EXPECT_GE(exits, intents / 4);
}

TEST(EngineStrategies, ExampleConfigErrorsNameTheKey) {
  const std::string bad = write(
      "sma-bad.toml",
      config_with(
          "[strategy]\nkind = \"sma-cross\"\norder_qty = \"0.01\"\n\n[strategy.sma_cross]\nfast = 30\nslow = 20\n"));
  const auto o = run_enigma("replay --quiet --config " + bad + " --data " + kData + " --runs-dir " +
                            ::testing::TempDir() + "/runs-bad");
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("strategy.sma_cross.fast"), std::string::npos) << o.text;
  const std::string unknown = write("kind-bad.toml", config_with("[strategy]\nkind = \"sma-crosss\"\n"));
  const auto u = run_enigma("replay --quiet --config " + unknown + " --data " + kData + " --runs-dir " +
                            ::testing::TempDir() + "/runs-bad");
  EXPECT_EQ(u.code, 3) << u.text;
  EXPECT_NE(u.text.find("strategy.kind"), std::string::npos) << u.text;
  EXPECT_NE(u.text.find("sma-cross"), std::string::npos) << u.text;  // the registered kinds are listed
}

// The README's "Add a strategy" code block is the file, byte for byte (the docs cannot drift from the code
// that every build compiles).
TEST(EngineStrategies, ReadmeExampleIsTheStrategyFile) {
  const std::string file = slurp(kSrc + "/strategy/strategies/example_sma_cross.hpp");
  ASSERT_FALSE(file.empty());
  const std::string readme = slurp(kSrc + "/README.md");
  EXPECT_NE(readme.find("```cpp\n" + file + "```\n"), std::string::npos)
      << "README.md's example block differs from strategy/strategies/example_sma_cross.hpp";
}

// Adding a strategy is adding a file: a copy of strategy/strategies/ plus one new header with a registration
// line, run through the generator CMake runs at configure time, lists it with the bundled ones.
TEST(EngineStrategies, NewHeaderEntersTheGeneratedRegistry) {
  const fs::path dir = fs::path(::testing::TempDir()) / "registry-src";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(kSrc + "/strategy/strategies"))
    fs::copy(e.path(), dir / e.path().filename());
  std::ofstream(dir / "zz_breakout.hpp") << "#pragma once\nnamespace enigma::strategy {\nstruct Breakout {};\n"
                                         << "ENIGMA_REGISTER_STRATEGY(Breakout);\n}\n";
  std::ofstream(dir / "notes.hpp") << "// ENIGMA_REGISTER_STRATEGY(NotAtLineStart);\n";
  const std::string out = (dir / "registered.hpp").string();
  const auto r =
      shell(std::string(ENIGMA_CMAKE) + " -DSTRATEGY_DIR=" + dir.string() +
            " -DINCLUDE_PREFIX=strategy/strategies -DOUT=" + out + " -P " + kSrc + "/cmake/strategy_registry.cmake");
  ASSERT_EQ(r.code, 0) << r.text;
  const std::string gen = slurp(out);
  for (const char* k :
       {"#include \"strategy/strategies/zz_breakout.hpp\"", "#include \"strategy/strategies/example_sma_cross.hpp\"",
        "ConfluenceStrategy,", "SmaCross,", "ImbalanceTaker,", "MeanReversionStrategy,", "Breakout>;"})
    EXPECT_NE(gen.find(k), std::string::npos) << k << "\n" << gen;
  EXPECT_EQ(gen.find("NotAtLineStart"), std::string::npos) << gen;
  EXPECT_EQ(gen.find("notes.hpp"), std::string::npos) << gen;
}

}  // namespace
