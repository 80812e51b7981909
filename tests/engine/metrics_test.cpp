// metrics.json through the engine (issue 14): `enigma replay` on the bundled Binance USD-M BTCUSDT capture, then
// every trade metric recomputed here from that run's trades.csv (FIFO round trips written out below, not
// research/'s code) and the equity metrics from its equity.csv; the report shows the table and the plan's gates.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;
using enigma::testing::slurp;

const std::string kSrc = ENIGMA_SOURCE_DIR;

std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(slurp(p));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    rows.push_back(std::move(cells));
  }
  return rows;
}

double num(simdjson::dom::element root, const char* key) {
  double v = NAN;
  simdjson::dom::element e;
  if (root[key].get(e))
    ADD_FAILURE() << "metrics.json has no " << key;
  else if (e.is_double())
    v = double(e.get_double());
  else if (e.is_int64())
    v = static_cast<double>(int64_t(e.get_int64()));
  else if (e.is_uint64())
    v = static_cast<double>(uint64_t(e.get_uint64()));
  return v;  // null stays NaN
}

struct Trip {
  std::int64_t entry_ns, exit_ns;
  double gross, fees;
};

TEST(EngineMetrics, ReplayMetricsJsonMatchesItsOwnTradesAndEquity) {
  const std::string runs = ::testing::TempDir() + "/runs-metrics";
  fs::remove_all(runs);
  const enigma::testing::Out o = enigma::testing::run_enigma(
      "replay --quiet --config " + kSrc + "/config/replay.toml --data " + kSrc +
      "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz --runs-dir " + runs);
  ASSERT_EQ(o.code, 0) << o.text;
  const fs::path dir = fs::canonical(runs + "/latest");
  ASSERT_TRUE(fs::exists(dir / "metrics.json"));
  const std::string text = slurp(dir / "metrics.json");
  simdjson::dom::parser parser;
  simdjson::dom::element m;
  ASSERT_EQ(parser.parse(text).get(m), simdjson::SUCCESS) << text;

  // Round trips by hand: FIFO lots over trades.csv (time_ns,symbol,side,price,qty,fee,liquidity,client_order_id,
  // reason,expected_price); one instrument, multiplier 1. Entry and exit fees go to the trip by quantity. Slippage
  // per leg: qty * (fill - expected) for a buy, qty * (expected - fill) for a sell.
  struct Lot {
    std::int64_t t;
    int side;
    double qty, price, fee_per_qty, expected;
  };
  std::deque<Lot> open;
  std::vector<Trip> trips;
  double slip_cost = 0, slip_notional = 0;
  std::size_t legs = 0;
  auto leg = [&](int side, double qty, double fill, double expected) {
    if (expected <= 0) return;
    ++legs;
    slip_cost += qty * side * (fill - expected);
    slip_notional += qty * expected;
  };
  const auto fills = read_csv(dir / "trades.csv");
  ASSERT_GT(fills.size(), 20u) << "the capture trades: a meaningful check needs round trips";
  for (const auto& f : fills) {
    ASSERT_EQ(f.size(), 10u);
    ASSERT_EQ(f[1], "BTCUSDT");
    const std::int64_t t = std::stoll(f[0]);
    const int side = f[2] == "buy" ? 1 : -1;
    const double price = std::stod(f[3]), fee = std::stod(f[5]), expected = std::stod(f[9]);
    double qty = std::stod(f[4]);
    const double fee_per_qty = fee / qty;
    while (qty > 1e-12 && !open.empty() && open.front().side != side) {
      Lot& lot = open.front();
      const double q = std::min(qty, lot.qty);
      trips.push_back({lot.t, t, lot.side * q * (price - lot.price), (lot.fee_per_qty + fee_per_qty) * q});
      leg(lot.side, q, lot.price, lot.expected);
      leg(side, q, price, expected);
      lot.qty -= q;
      qty -= q;
      if (lot.qty <= 1e-12) open.pop_front();
    }
    if (qty > 1e-12) open.push_back({t, side, qty, price, fee_per_qty, expected});
  }
  std::stable_sort(trips.begin(), trips.end(), [](const Trip& a, const Trip& b) { return a.exit_ns < b.exit_ns; });
  ASSERT_GT(trips.size(), 10u);
  std::size_t wins = 0, losses = 0;
  double won = 0, lost = 0, gross = 0, fees = 0, duration_ns = 0;
  for (const Trip& r : trips) {
    const double net = r.gross - r.fees;  // no funding time falls in this capture: trips carry no funding
    gross += r.gross;
    fees += r.fees;
    duration_ns += static_cast<double>(r.exit_ns - r.entry_ns);
    if (net > 0) ++wins, won += net;
    if (net < 0) ++losses, lost -= net;
  }
  const double n = static_cast<double>(trips.size());
  EXPECT_EQ(num(m, "trades"), n);
  EXPECT_EQ(num(m, "wins"), static_cast<double>(wins));
  EXPECT_EQ(num(m, "losses"), static_cast<double>(losses));
  EXPECT_NEAR(num(m, "win_rate"), static_cast<double>(wins) / n, 1e-12);
  if (lost > 0) {
    EXPECT_NEAR(num(m, "profit_factor"), won / lost, 1e-9);
  } else {
    EXPECT_TRUE(std::isnan(num(m, "profit_factor")) || won > 0);  // null (nothing) or +inf written as null
  }
  EXPECT_NEAR(num(m, "expectancy"), (gross - fees) / n, 1e-9);
  EXPECT_NEAR(num(m, "gross_pnl"), gross, 1e-6);
  EXPECT_NEAR(num(m, "fees"), fees, 1e-6);
  if (gross > 0) {
    EXPECT_NEAR(num(m, "fees_share_of_gross"), fees / gross, 1e-6);
  } else {
    EXPECT_TRUE(std::isnan(num(m, "fees_share_of_gross")));  // null: costs as a share of a loss mean nothing
  }
  EXPECT_NEAR(num(m, "avg_trade_duration_s"), duration_ns / n / 1e9, 1e-6);
  simdjson::dom::element fq;
  ASSERT_EQ(m["fill_quality"].get(fq), simdjson::SUCCESS);
  EXPECT_EQ(num(fq, "legs"), static_cast<double>(legs));
  EXPECT_NEAR(num(fq, "slippage_cost"), slip_cost, 1e-9);
  EXPECT_NEAR(num(fq, "avg_slippage_bps"), slip_cost / slip_notional * 1e4, 1e-6);

  // Equity metrics from equity.csv (time_ns,equity,...; equity printed to the cent, so tolerances allow a cent).
  const auto eq_rows = read_csv(dir / "equity.csv");
  ASSERT_GT(eq_rows.size(), 100u);
  std::vector<std::pair<std::int64_t, double>> curve;
  for (const auto& r : eq_rows) curve.emplace_back(std::stoll(r[0]), std::stod(r[1]));
  double peak = curve[0].second, max_dd = 0;
  for (const auto& [t, e] : curve) {
    peak = std::max(peak, e);
    max_dd = std::max(max_dd, (peak - e) / peak);
  }
  EXPECT_NEAR(num(m, "max_drawdown"), max_dd, 0.01 / curve[0].second);
  // Time in the market over the span of the equity curve (the trips' union; FIFO trips of one instrument never
  // overlap out of order, so a sweep in exit order is the union).
  double in_market = 0;
  std::int64_t cursor = INT64_MIN;
  for (const Trip& r : trips) {
    const std::int64_t from = std::max(r.entry_ns, cursor);
    if (r.exit_ns > from) in_market += static_cast<double>(r.exit_ns - from);
    cursor = std::max(cursor, r.exit_ns);
  }
  const double span = static_cast<double>(curve.back().first - curve.front().first);
  EXPECT_NEAR(num(m, "exposure"), in_market / span, 1e-9);
  // Sharpe: the session is under 30 minutes, so returns are sampled every second (the equity at each second is
  // the last sample at or before it), annualised by sqrt(365 * 86400).
  simdjson::dom::element ret;
  ASSERT_EQ(m["returns"].get(ret), simdjson::SUCCESS);
  EXPECT_EQ(num(ret, "period_s"), 1.0);
  std::vector<double> r;
  std::size_t at = 0;
  double prev = curve[0].second;
  for (std::int64_t k = 1; curve[0].first + k * 1'000'000'000LL <= curve.back().first; ++k) {
    const std::int64_t t = curve[0].first + k * 1'000'000'000LL;
    while (at + 1 < curve.size() && curve[at + 1].first <= t) ++at;
    r.push_back(curve[at].second / prev - 1);
    prev = curve[at].second;
  }
  double mean = 0, var = 0;
  for (double x : r) mean += x;
  mean /= static_cast<double>(r.size());
  for (double x : r) var += (x - mean) * (x - mean);
  var /= static_cast<double>(r.size() - 1);
  const double sharpe = mean / std::sqrt(var) * std::sqrt(365.0 * 86400.0);
  EXPECT_EQ(num(ret, "count"), static_cast<double>(r.size()));
  // Cent rounding of equity.csv moves each per-second return (stdev ~1e-5 here) by at most 1e-6, independently,
  // so the variance moves by well under 1 % and the mean by far less (the rounding telescopes): 1 %.
  EXPECT_NEAR(num(m, "sharpe"), sharpe, 0.01 * std::abs(sharpe));

  // Gates: the plan's thresholds on the values above, and the report lists them as PASS/FAIL lines.
  const std::string md = slurp(dir / "report.md");
  EXPECT_NE(md.find("## Backtest metrics"), std::string::npos);
  const bool win_pass = static_cast<double>(wins) / n > 0.65;
  EXPECT_NE(md.find(std::string(win_pass ? "PASS" : "FAIL") + "  win_rate > 65 %"), std::string::npos) << md;
  EXPECT_NE(md.find(std::string(max_dd < 0.08 ? "PASS" : "FAIL") + "  max_drawdown < 8 %"), std::string::npos) << md;
  EXPECT_NE(md.find(std::string(sharpe > 1.5 ? "PASS" : "FAIL") + "  sharpe > 1.5"), std::string::npos) << md;
  EXPECT_NE(slurp(dir / "report.html").find("Plan gates"), std::string::npos);
  // The imbalance strategy casts no indicator votes.
  ASSERT_TRUE(m["indicator_accuracy"].is_null()) << text;
}

// The confluence strategy's per-indicator accuracy, from a replay of the 6-minute capture on 2-second bars
// judged 3 bars on: every component reported, accuracy = agreed / votes, and no more votes than bars with
// a close 3 bars later (at most 6 min / 2 s - 3). The measure itself is checked bar for bar against the batch
// reference in strategy_metrics_test.
TEST(EngineMetrics, ConfluenceReplayReportsEachIndicatorsAccuracy) {
  const std::string runs = ::testing::TempDir() + "/runs-metrics-confluence";
  fs::remove_all(runs);
  std::string cfg = slurp(kSrc + "/config/replay.toml");
  const auto at = cfg.find("kind = \"imbalance\"");
  ASSERT_NE(at, std::string::npos);
  cfg.replace(at, std::string("kind = \"imbalance\"").size(), "kind = \"confluence\"");
  cfg += "\n[strategy.confluence]\ntimeframes_s = [2]\naccuracy_horizon_bars = 3\n";
  const std::string path = ::testing::TempDir() + "/metrics-confluence.toml";
  std::ofstream(path) << cfg;
  const enigma::testing::Out o = enigma::testing::run_enigma(
      "replay --quiet --config " + path + " --data " + kSrc +
      "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz --runs-dir " + runs);
  ASSERT_EQ(o.code, 0) << o.text;
  const std::string text = slurp(fs::canonical(runs + "/latest") / "metrics.json");
  simdjson::dom::parser parser;
  simdjson::dom::element m;
  ASSERT_EQ(parser.parse(text).get(m), simdjson::SUCCESS) << text;
  simdjson::dom::element ia = m["indicator_accuracy"];
  ASSERT_FALSE(ia.is_null()) << text;
  EXPECT_EQ(ia["horizon_bars"].get_uint64().value(), 3u);
  const std::uint64_t max_votes = 6 * 60 / 2 - 3;
  std::size_t components = 0;
  for (const char* name :
       {"rsi", "macd", "bollinger", "stochastic", "kdj", "ema_trend", "adx", "volume", "divergence", "order_flow"}) {
    simdjson::dom::element c;
    ASSERT_EQ(ia["components"][name].get(c), simdjson::SUCCESS) << name << "\n" << text;
    ++components;
    const std::uint64_t votes = c["votes"].get_uint64().value(), agreed = c["agreed"].get_uint64().value();
    EXPECT_LE(agreed, votes) << name;
    EXPECT_LE(votes, max_votes) << name;
    if (votes > 0) {
      EXPECT_DOUBLE_EQ(c["accuracy"].get_double().value(), static_cast<double>(agreed) / votes) << name;
    }
    if (std::string_view(name) != "divergence" && std::string_view(name) != "adx") {
      EXPECT_GT(votes, 50u) << name << ": votes from the bar the scorer is ready on";
    }
  }
  EXPECT_EQ(components, 10u);
  EXPECT_GT(ia["components"]["order_flow"]["votes"].get_uint64().value(), 0u) << "the engine feeds order flow";
  const std::string md = slurp(fs::canonical(runs + "/latest") / "report.md");
  EXPECT_NE(md.find("| indicator_accuracy.ema_trend | "), std::string::npos) << md;
}

}  // namespace
