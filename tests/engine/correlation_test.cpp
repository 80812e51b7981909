// Rolling correlation of returns (issue 15 item 6) through `enigma replay` of the bundled BTCUSDT + ETHUSDT
// portfolio (config/portfolio.toml), 1-second intervals, a 30-interval window, threshold 0.5:
//   * every `correlation` log line (a pair's correlated state changing) is where this test, from the raw trade
//     frames of both captures (its own parser, its own Pearson), finds the state changing, with the same rho;
//   * the correlated-exposure cap (max_group_exposure 800: one entry of either instrument fits, two do not):
//     no entry goes out while the pair is correlated and the other instrument holds a position, and each
//     `correlated_exposure` refusal comes while the pair is correlated and the other instrument is engaged;
//     with the cap off the same replay does send such entries (so the check can fail);
//   * correlation sizing: an entry on an instrument while the pair is correlated and the other is engaged
//     is halved (down to the lot), and only then.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/capture_text.hpp"
#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;
using enigma::testing::e8;
using enigma::testing::first_run_dir;
using enigma::testing::log_fields;
using enigma::testing::run_enigma;
using enigma::testing::shell;
using enigma::testing::slurp;

const std::string kSrc = ENIGMA_SOURCE_DIR;
constexpr std::int64_t kInterval = 1'000'000'000;
constexpr std::size_t kWindow = 30;
constexpr double kThreshold = 0.5;

std::string tmp(const std::string& name) {
  const fs::path p = fs::path(::testing::TempDir()) / ("correlation-" + std::to_string(::getpid())) / name;
  fs::create_directories(p.parent_path());
  return p.string();
}

// config/portfolio.toml with `risk_keys` added to its [risk] table; runs it and returns the run directory.
fs::path replay(const std::string& name, const std::string& risk_keys) {
  std::string text = slurp(kSrc + "/config/portfolio.toml");
  const auto at = text.find("[risk]\n");
  EXPECT_NE(at, std::string::npos);
  text.insert(at + 7, risk_keys);
  const std::string cfg = tmp(name + ".toml");
  std::ofstream(cfg) << text;
  const std::string runs = tmp(name + "-runs");
  const auto r = run_enigma("replay --quiet --config '" + cfg + "' --runs-dir '" + runs + "'");
  EXPECT_EQ(r.code, 0) << r.text;
  return first_run_dir(runs);
}

struct Trade {
  std::int64_t t;  // the capture's receive time (the replay's clock)
  double p;
};

std::vector<Trade> trades(const std::string& file) {
  const auto z = shell("zcat '" + kSrc + "/data/binance/" + file + "' | grep '\"e\":\"trade\"'");
  EXPECT_EQ(z.code, 0);
  std::vector<Trade> out;
  std::istringstream in(z.text);
  for (std::string line; std::getline(in, line);)
    out.push_back({std::stoll(line.substr(0, line.find(' '))), std::stod(enigma::testing::frame_field(line, "p"))});
  return out;
}

struct Change {
  std::int64_t end;
  double rho;
  bool correlated;
  std::uint64_t rows;
};

// The README's rules: closes at every interval end, a row per interval once both have a close, Pearson over the
// last 30 rows; the state is looked at when a trade closes intervals (at the last interval it closed).
std::vector<Change> expected_changes() {
  const auto a = trades("hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz");
  const auto b = trades("hftbacktest_usdm_ETHUSDT_ws_depth_trade_bookTicker_raw_20240808.gz");
  EXPECT_GT(a.size(), 1000u);
  EXPECT_GT(b.size(), 1000u);
  std::set<std::int64_t> has_trade;  // intervals with a trade in them
  for (const auto* v : {&a, &b})
    for (const Trade& t : *v) has_trade.insert(t.t / kInterval);
  const std::int64_t last = std::max(a.back().t, b.back().t);
  std::size_t ia = 0, ib = 0;
  double la = 0, lb = 0, pa = 0, pb = 0;
  std::vector<std::pair<double, double>> rows;
  std::vector<Change> out;
  bool state = false;
  for (std::int64_t end = (std::min(a[0].t, b[0].t) / kInterval + 1) * kInterval; end <= last; end += kInterval) {
    for (; ia < a.size() && a[ia].t < end; ++ia) la = a[ia].p;
    for (; ib < b.size() && b[ib].t < end; ++ib) lb = b[ib].p;
    if (la == 0 || lb == 0) continue;
    if (pa != 0) rows.emplace_back(std::log(la / pa), std::log(lb / pb));
    pa = la, pb = lb;
    if (rows.size() < kWindow || has_trade.count(end / kInterval) == 0) continue;
    double mx = 0, my = 0;
    for (std::size_t r = rows.size() - kWindow; r < rows.size(); ++r) mx += rows[r].first, my += rows[r].second;
    mx /= kWindow, my /= kWindow;
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t r = rows.size() - kWindow; r < rows.size(); ++r) {
      const double x = rows[r].first - mx, y = rows[r].second - my;
      sxy += x * y, sxx += x * x, syy += y * y;
    }
    const double rho = sxy / std::sqrt(sxx * syy);
    if ((rho >= kThreshold) != state) {
      state = !state;
      out.push_back({end, rho, state, rows.size()});
    }
  }
  return out;
}

// The log in order, with the pair's correlated state, positions and working orders per instrument as they stand.
struct Walk {
  bool correlated = false;
  std::int64_t position[2] = {0, 0};            // e8
  std::map<std::string, int> working;            // order id -> instrument
  std::map<std::string, int> instrument_of;      // every sent order
  std::vector<Change> changes;
  bool engaged(int i) const {
    if (position[i] != 0) return true;
    for (const auto& [id, inst] : working)
      if (inst == i) return true;
    return false;
  }
};

template <class OnLine>
Walk walk(const fs::path& run, OnLine&& on_line) {
  Walk w;
  std::istringstream log(slurp(run / "logs" / "enigma.log"));
  for (std::string line; std::getline(log, line);) {
    const auto f = log_fields(line);
    if (line.find(" INFO risk correlation ") != std::string::npos) {
      EXPECT_EQ(f.at("a"), "BTCUSDT");
      EXPECT_EQ(f.at("b"), "ETHUSDT");
      w.correlated = f.at("correlated") == "true";
      w.changes.push_back({std::stoll(f.at("interval_end")), std::stod(f.at("rho")), w.correlated, std::stoull(f.at("rows"))});
      continue;
    }
    on_line(line, f, w);  // before the line changes the state: an order is judged by what stood when it was sent
    if (line.find(" INFO oms order_sent ") != std::string::npos) {
      w.working[f.at("id")] = std::stoi(f.at("instrument"));
      w.instrument_of[f.at("id")] = std::stoi(f.at("instrument"));
    } else if (line.find(" INFO oms fill ") != std::string::npos) {
      const int i = std::stoi(f.at("instrument"));
      w.position[i] += (f.at("side") == "buy" ? 1 : -1) * e8(f.at("qty"));
      if (f.at("status") == "FILLED") w.working.erase(f.at("id"));
    } else if (line.find(" INFO oms order_canceled ") != std::string::npos ||
               line.find(" INFO oms order_rejected ") != std::string::npos) {
      w.working.erase(f.at("id"));
    }
  }
  return w;
}

bool opening(const std::string& line, const std::map<std::string, std::string>& f) {
  return line.find(" INFO oms order_sent ") != std::string::npos && f.at("reduce_only") == "false";
}

TEST(EngineCorrelation, LoggedChangesMatchTheCapturesAndTheCapHolds) {
  const auto expected = expected_changes();
  const std::string keys = "correlation_window = 30\ncorrelation_interval_s = 1\ncorrelation_threshold = 0.5\n";
  std::size_t refusals = 0, entries_while_correlated = 0;
  const fs::path run = replay("cap", keys + "max_group_exposure = \"800\"\n");
  const Walk w = walk(run, [&](const std::string& line, const auto& f, const Walk& s) {
    if (opening(line, f) && s.correlated) {
      const int i = std::stoi(f.at("instrument"));
      EXPECT_EQ(s.position[1 - i], 0) << "an entry while correlated and the other instrument held a position: " << line;
      ++entries_while_correlated;
    }
    if (line.find("reason=correlated_exposure") != std::string::npos) {
      const int i = f.at("qty") == "0.01" ? 0 : 1;  // BTCUSDT orders 0.01, ETHUSDT 0.2
      EXPECT_TRUE(s.correlated) << line;
      EXPECT_TRUE(s.engaged(1 - i)) << line;
      ++refusals;
    }
  });
  std::printf("state changes %zu, refusals %zu, entries while correlated %zu\n", w.changes.size(), refusals,
              entries_while_correlated);
  ASSERT_EQ(w.changes.size(), expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(w.changes[k].end, expected[k].end) << k;
    EXPECT_NEAR(w.changes[k].rho, expected[k].rho, 1e-9) << k;
    EXPECT_EQ(w.changes[k].correlated, expected[k].correlated) << k;
    EXPECT_EQ(w.changes[k].rows, expected[k].rows) << k;
  }
  EXPECT_GE(expected.size(), 4u);
  EXPECT_GE(refusals, 5u);
  EXPECT_NE(slurp(run / "summary.json").find("\"correlated_exposure\": " + std::to_string(refusals)), std::string::npos);

  // The same replay without the cap: entries do go out while correlated with the other instrument holding one.
  std::size_t uncapped = 0;
  (void)walk(replay("nocap", keys), [&](const std::string& line, const auto& f, const Walk& s) {
    if (opening(line, f) && s.correlated && s.position[1 - std::stoi(f.at("instrument"))] != 0) ++uncapped;
  });
  std::printf("without the cap: %zu entries while correlated and the other instrument held a position\n", uncapped);
  EXPECT_GT(uncapped, 0u);
}

TEST(EngineCorrelation, SizingHalvesAnEntryCorrelatedWithAnEngagedInstrument) {
  std::size_t halved = 0, full = 0;
  std::string pending;  // qty_to of the last correlation_sizing line, until its order goes out
  const fs::path run = replay("sizing", "correlation_window = 30\ncorrelation_interval_s = 1\ncorrelation_threshold = 0.5\n"
                              "correlation_sizing = true\n");
  (void)walk(run,
             [&](const std::string& line, const auto& f, const Walk& s) {
               if (line.find(" INFO risk correlation_sizing ") != std::string::npos) {
                 const std::int64_t from = e8(f.at("qty_from")), to = e8(f.at("qty_to"));
                 EXPECT_EQ(to, from / 2 / 100'000 * 100'000) << line;  // half, down to the 0.001 lot
                 EXPECT_EQ(f.at("correlated"), "1") << line;
                 EXPECT_EQ(f.at("refused"), "false") << line;
                 EXPECT_TRUE(s.correlated) << line;
                 const int i = f.at("instrument") == "BTCUSDT" ? 0 : 1;
                 EXPECT_TRUE(s.engaged(1 - i)) << line;
                 pending = f.at("qty_to");
                 ++halved;
               } else if (opening(line, f) && f.at("type") != "STOP_MARKET" && f.at("type") != "TAKE_PROFIT_MARKET") {
                 const int i = std::stoi(f.at("instrument"));
                 if (!pending.empty()) {
                   EXPECT_EQ(f.at("qty"), pending) << line;
                   pending.clear();
                 } else {
                   EXPECT_EQ(f.at("qty"), i == 0 ? "0.01" : "0.2") << line;
                   EXPECT_FALSE(s.correlated && s.position[1 - i] != 0) << "full size while correlated: " << line;
                   ++full;
                 }
               }
             });
  std::printf("entries halved %zu, at full size %zu\n", halved, full);
  EXPECT_GE(halved, 5u);
  EXPECT_GE(full, 5u);
  EXPECT_NE(slurp(run / "summary.json").find("\"correlation_sized\": " + std::to_string(halved)), std::string::npos);
}

TEST(EngineCorrelation, BadKeysExit3NamingTheKey) {
  std::string text = slurp(kSrc + "/config/portfolio.toml");
  text.insert(text.find("[risk]\n") + 7, "correlation_sizing = true\n");
  const std::string cfg = tmp("bad.toml");
  std::ofstream(cfg) << text;
  const auto r = run_enigma("replay --quiet --config '" + cfg + "' --runs-dir '" + tmp("bad-runs") + "'");
  EXPECT_EQ(r.code, 3) << r.text;
  EXPECT_NE(r.text.find("correlation_sizing"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("correlation_window"), std::string::npos) << r.text;
}

}  // namespace
