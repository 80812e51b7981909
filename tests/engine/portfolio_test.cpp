// A portfolio through the `enigma` binary: two strategy instances ([[strategy]]) on BTCUSDT and ETHUSDT
// replayed together. Expectations come from the run's own fills (trades.csv), recomputed here by hand: fills
// and cash flow per symbol, position intervals per symbol; never from the figures under test.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;
using enigma::testing::Out;
using enigma::testing::run_enigma;
using enigma::testing::slurp;

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kBtc = kSrc + "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";
const std::string kEth = kSrc + "/data/binance/hftbacktest_usdm_ETHUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";
const std::string kConfig = kSrc + "/config/portfolio.toml";

std::vector<std::vector<std::string>> read_csv(const fs::path& p, std::vector<std::string>* header = nullptr) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(slurp(p));
  std::string line;
  std::getline(in, line);
  if (header != nullptr) {
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) header->push_back(cell);
  }
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    rows.push_back(std::move(cells));
  }
  return rows;
}

// The portfolio config with `from` replaced by `to` (first occurrence), written to a temp file.
std::string edited(const std::string& name, const std::string& from, const std::string& to) {
  std::string text = slurp(kConfig);
  const std::size_t p = text.find(from);
  if (p == std::string::npos) {
    ADD_FAILURE() << "config/portfolio.toml has no '" << from << "'";
    return kConfig;
  }
  text.replace(p, from.size(), to);
  const std::string path = ::testing::TempDir() + "/portfolio-" + name + ".toml";
  std::ofstream(path) << text;
  return path;
}

struct ReplayRun {
  Out out;
  fs::path dir;
  std::string summary;
};

ReplayRun replay(const std::string& name, const std::string& config) {
  ReplayRun r;
  const std::string runs = ::testing::TempDir() + "/runs-portfolio-" + name;
  fs::remove_all(runs);
  r.out =
      run_enigma("replay --quiet --config " + config + " --data " + kBtc + " --data " + kEth + " --runs-dir " + runs);
  std::error_code ec;
  r.dir = fs::canonical(runs + "/latest", ec);
  if (!ec) r.summary = slurp(r.dir / "summary.json");
  return r;
}

double as_double(simdjson::dom::element e) {
  if (e.is_double()) return double(e.get_double());
  if (e.is_int64()) return static_cast<double>(int64_t(e.get_int64()));
  if (e.is_uint64()) return static_cast<double>(uint64_t(e.get_uint64()));
  return NAN;
}

// Per symbol from trades.csv (time_ns,symbol,side,price,qty,fee,...): fills, cash flow (sells +, buys -) less
// fees, and the final position.
struct BySymbol {
  long long fills{0};
  double cash{0};
  double position{0};
};

std::map<std::string, BySymbol> tally(const std::vector<std::vector<std::string>>& trades) {
  std::map<std::string, BySymbol> out;
  for (const auto& f : trades) {
    BySymbol& b = out[f.at(1)];
    const double px = std::stod(f.at(3)), qty = std::stod(f.at(4)), fee = std::stod(f.at(5));
    const bool buy = f.at(2) == "buy";
    ++b.fills;
    b.cash += (buy ? -1 : 1) * px * qty - fee;
    b.position += buy ? qty : -qty;
  }
  return out;
}

TEST(EnginePortfolio, TradesBothInstrumentsAndTheirPnlSumsToThePortfolio) {
  const ReplayRun r = replay("both", kConfig);
  ASSERT_EQ(r.out.code, 0) << r.out.text;
  const auto trades = read_csv(r.dir / "trades.csv");
  const auto by = tally(trades);
  ASSERT_TRUE(by.count("BTCUSDT")) << "no BTCUSDT fill";
  ASSERT_TRUE(by.count("ETHUSDT")) << "no ETHUSDT fill";
  EXPECT_GT(by.at("BTCUSDT").fills, 0);
  EXPECT_GT(by.at("ETHUSDT").fills, 0);

  simdjson::dom::parser parser;
  simdjson::dom::element s;
  ASSERT_EQ(parser.parse(r.summary).get(s), simdjson::SUCCESS) << r.summary;
  EXPECT_EQ(std::string_view(s["strategy"].get_string().value()), "imbalance+imbalance");
  const double net = as_double(s["pnl"]["net_pnl"].value());
  const double funding_total = as_double(s["pnl"]["funding"].value());
  simdjson::dom::array insts = s["instruments"].get_array().value();
  ASSERT_EQ(insts.size(), 2u);
  double sum_net = 0, sum_funding = 0;
  for (simdjson::dom::element e : insts) {
    const std::string sym(std::string_view(e["symbol"].get_string().value()));
    const BySymbol& b = by.at(sym);
    // The end of the data flattens (on_stop = "flatten"): each symbol's fills net to zero, so its P&L is its
    // cash flow less fees and funding.
    EXPECT_NEAR(b.position, 0.0, 1e-9) << sym;
    EXPECT_EQ(static_cast<long long>(as_double(e["fills"].value())), b.fills) << sym;
    const double funding = as_double(e["funding"].value());
    EXPECT_NEAR(as_double(e["net_pnl"].value()), b.cash - funding, 0.02) << sym;
    sum_net += as_double(e["net_pnl"].value());
    sum_funding += funding;
  }
  EXPECT_NEAR(sum_funding, funding_total, 0.011);
  EXPECT_NEAR(sum_net, net, 0.021);  // cents: each figure is rounded to the cent
  // And by hand, independently of the per-instrument figures: all cash flows less all funding.
  EXPECT_NEAR(by.at("BTCUSDT").cash + by.at("ETHUSDT").cash - funding_total, net, 0.02);

  // Per strategy instance: each trades its own instrument.
  simdjson::dom::array strategies = s["strategies"].get_array().value();
  ASSERT_EQ(strategies.size(), 2u);
  const char* expected_symbol[] = {"BTCUSDT", "ETHUSDT"};
  std::size_t k = 0;
  for (simdjson::dom::element e : strategies) {
    EXPECT_EQ(static_cast<std::size_t>(as_double(e["id"].value())), k);
    const std::string sym(std::string_view(e["symbol"].get_string().value()));
    EXPECT_EQ(sym, expected_symbol[k]);
    EXPECT_EQ(static_cast<long long>(as_double(e["fills"].value())), by.at(sym).fills);
    EXPECT_GT(as_double(e["orders"].value()), 0);
    ++k;
  }

  // equity.csv: the portfolio equity, then one pnl_<symbol> column each; they sum to equity - initial.
  std::vector<std::string> header;
  const auto eq = read_csv(r.dir / "equity.csv", &header);
  ASSERT_EQ(header.size(), 6u);
  EXPECT_EQ(header[4], "pnl_BTCUSDT");
  EXPECT_EQ(header[5], "pnl_ETHUSDT");
  ASSERT_GT(eq.size(), 100u);
  for (const auto& row : eq) {
    ASSERT_EQ(row.size(), 6u);
    EXPECT_NEAR(std::stod(row[4]) + std::stod(row[5]), std::stod(row[1]) - 10000.0, 0.021) << row[0];
  }

  // metrics.json by instrument, and the human outputs name both.
  simdjson::dom::parser mp;
  simdjson::dom::element m;
  ASSERT_EQ(mp.parse(slurp(r.dir / "metrics.json")).get(m), simdjson::SUCCESS);
  EXPECT_EQ(m["by_instrument"].get_array().value().size(), 2u);
  for (const std::string& f : {std::string("report.md"), std::string("report.html")}) {
    const std::string text = slurp(r.dir / f);
    EXPECT_NE(text.find("Per instrument and strategy"), std::string::npos) << f;
    EXPECT_NE(text.find("ETHUSDT"), std::string::npos) << f;
  }
  EXPECT_NE(r.out.text.find("ETHUSDT      strategy 1 imbalance"), std::string::npos) << r.out.text;
}

TEST(EnginePortfolio, OneConcurrentPositionNeverOverlapsAndCountsTheRejects) {
  const ReplayRun r = replay("one", edited("one", "max_concurrent_positions = 2", "max_concurrent_positions = 1"));
  ASSERT_EQ(r.out.code, 0) << r.out.text;
  // Position intervals per symbol from the fills: [first fill off flat, fill back to flat).
  struct Interval {
    std::string sym;
    std::int64_t from, to;
  };
  std::vector<Interval> intervals;
  std::map<std::string, std::pair<double, std::int64_t>> open;  // position, since
  for (const auto& f : read_csv(r.dir / "trades.csv")) {
    auto& [pos, since] = open[f.at(1)];
    const std::int64_t t = std::stoll(f.at(0));
    const double before = pos;
    pos += (f.at(2) == "buy" ? 1 : -1) * std::stod(f.at(4));
    if (std::abs(pos) < 1e-9) pos = 0;
    if (before == 0 && pos != 0) since = t;
    if (before != 0 && pos == 0) intervals.push_back({f.at(1), since, t});
    if (before != 0 && pos != 0 && (before > 0) != (pos > 0)) {  // flipped: one closed, another opened
      intervals.push_back({f.at(1), since, t});
      since = t;
    }
  }
  for (const auto& [sym, p] : open)
    if (p.first != 0) intervals.push_back({sym, p.second, INT64_MAX});
  std::map<std::string, int> per_symbol;
  for (const auto& i : intervals) ++per_symbol[i.sym];
  EXPECT_GT(per_symbol["BTCUSDT"] + per_symbol["ETHUSDT"], 1) << "too few positions for the check to mean anything";
  for (std::size_t a = 0; a < intervals.size(); ++a)
    for (std::size_t b = a + 1; b < intervals.size(); ++b) {
      if (intervals[a].sym == intervals[b].sym) continue;
      EXPECT_FALSE(intervals[a].from < intervals[b].to && intervals[b].from < intervals[a].to)
          << intervals[a].sym << " [" << intervals[a].from << ", " << intervals[a].to << ") overlaps "
          << intervals[b].sym << " [" << intervals[b].from << ", " << intervals[b].to << ")";
    }
  // The entries it refused are counted by reason, in summary.json and on stdout.
  simdjson::dom::parser parser;
  simdjson::dom::element s;
  ASSERT_EQ(parser.parse(r.summary).get(s), simdjson::SUCCESS) << r.summary;
  simdjson::dom::element n;
  ASSERT_EQ(s["risk_rejects_by_reason"]["max_positions"].get(n), simdjson::SUCCESS) << r.summary;
  EXPECT_GT(as_double(n), 0);
  EXPECT_NE(r.out.text.find("max_positions="), std::string::npos) << r.out.text;
}

TEST(EnginePortfolio, BadStrategyEntriesAreStartupErrorsNamingTheEntry) {
  // An instrument index with no [[instrument]].
  Out o = run_enigma("replay --config " + edited("noinst", "instrument = 1          # ETHUSDT", "instrument = 2"));
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("strategy[1].instrument"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("no [[instrument]] with index 2"), std::string::npos) << o.text;
  // Two instances with one id.
  o = run_enigma("replay --config " + edited("dupid", "id = 1\n", "id = 0\n"));
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("strategy[1].id"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("already used by [[strategy]] #1"), std::string::npos) << o.text;
  // Two instances on one instrument.
  o = run_enigma("replay --config " + edited("dupinst", "instrument = 1          # ETHUSDT\norder_qty = \"0.2\"",
                                             "instrument = 0\norder_qty = \"0.01\""));
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("strategy[1].instrument"), std::string::npos) << o.text;
  // An unknown key inside an entry's parameter table is named with its entry.
  o = run_enigma("replay --config " + edited("typo", "take_profit_ticks = 800   #", "take_profit_tick = 800   #"));
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("strategy[1].imbalance.take_profit_tick"), std::string::npos) << o.text;
}

std::uint64_t counting() noexcept { return enigma::test::thread_allocations_ever(); }

class EnginePortfolioAlloc : public ::testing::TestWithParam<enigma::Topology> {};

TEST_P(EnginePortfolioAlloc, NoHotPathAllocationsAfterWarmup) {
  using namespace enigma;
  using namespace enigma::engine;
  RunConfig rc = RunConfig::load(kConfig);
  rc.data = {kBtc, kEth};
  ASSERT_EQ(rc.make_strategies().size(), 2u);
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(rc.make_strategies());
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = enigma::testing::fresh_path("portfolio-journal");
  TradingCore core(registry, trading);
  PipelineOptions po;
  po.venue = rc.venue;
  po.topology = GetParam();
  po.progress = false;
  po.warmup_frames = 5000;
  set_thread_alloc_counter(&counting);
  PipelineResult r;
  {
    test::AllocationScope scope;
    r = run_pipeline(rc.data, registry, strategies, core, po);
  }
  EXPECT_GT(core.figures(0).orders, 0u);  // both order paths ran, not just market data
  EXPECT_GT(core.figures(1).orders, 0u);
  EXPECT_EQ(r.hot_allocations, 0u);
}
INSTANTIATE_TEST_SUITE_P(Topologies, EnginePortfolioAlloc,
                         ::testing::Values(enigma::Topology::fused, enigma::Topology::pipelined));

}  // namespace
