// kind = "market-structure" (issue 15 item 6) through `enigma backtest` on the bundled 66 days of 5-minute
// BTCUSDT candles: every structure_break and fair_value_gap line of the log equals what this test derives from
// the CSV itself (its own parser, integer prices, a plain scan by the rules of strategy/market_structure.hpp);
// every order the strategy placed at a bar close follows a logged break in its direction, and every break
// that the strategy should act on (flat and a CHoCH: entry; holding against the break: exit), judged by the
// position this test rebuilds from trades.csv, got its order.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/support/capture_text.hpp"
#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;
using enigma::testing::e8;
using enigma::testing::first_run_dir;
using enigma::testing::log_fields;
using enigma::testing::read_trades_csv;
using enigma::testing::run_enigma;
using enigma::testing::shell;
using enigma::testing::slurp;
using enigma::testing::with_strategy_tables;

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kCandles = kSrc + "/data/candles/kheus_spot_BTCUSDT_5m_20250602_20250807.csv.gz";
constexpr std::int64_t kBarNs = 300'000'000'000;
// Orders placed at a candle's close fill here (the candle's close time 299.999 s + 500 us order latency).
constexpr std::int64_t kDecisionFillOffsetNs = 299'999'500'000;

std::string tmp(const std::string& name) {
  const fs::path p = fs::path(::testing::TempDir()) / ("market-structure-" + std::to_string(::getpid())) / name;
  fs::create_directories(p.parent_path());
  return p.string();
}

// config/backtest.toml with a market-structure strategy on 5-minute candles, plus `keys` in its table.
std::string config_with(const std::string& name, const std::string& keys) {
  const std::string cfg = tmp(name);
  std::ofstream(cfg) << with_strategy_tables(slurp(kSrc + "/config/backtest.toml"), R"([strategy]
kind = "market-structure"
instrument = 0
order_qty = "0.01"

[strategy.market_structure]
bar_source = "venue-candles"
timeframes_s = [300]
)" + keys + "\n" +
                                  // No heartbeat / position lines (~108,000 over 66 days of data time): the log
                                  // ring then holds every line even if the logger thread is starved.
                                  "\n[log]\nheartbeat_s = 0\n");
  return cfg;
}

struct Candle {
  std::int64_t t, o, h, l, c;  // start ns; prices e8
};

std::vector<Candle> read_candles() {
  const auto z = shell("zcat '" + kCandles + "'");
  EXPECT_EQ(z.code, 0);
  std::vector<Candle> out;
  std::istringstream in(z.text);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cell;
    std::stringstream ss(line);
    for (std::string s; std::getline(ss, s, ',');) cell.push_back(s);
    EXPECT_EQ(cell.size(), 6u) << line;
    if (cell.size() != 6) return {};
    std::tm tm{};
    EXPECT_NE(strptime(cell[0].c_str(), "%Y-%m-%d %H:%M:%S", &tm), nullptr) << line;
    out.push_back({static_cast<std::int64_t>(timegm(&tm)) * 1'000'000'000, e8(cell[1]), e8(cell[2]), e8(cell[3]), e8(cell[4])});
  }
  return out;
}

// (bar_time, kind, direction, level, close, order block low, high, time) and (bar_time, direction, low, high).
using Break = std::tuple<std::int64_t, std::string, std::string, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>;
using Gap = std::tuple<std::int64_t, std::string, std::int64_t, std::int64_t>;

// The rules of strategy/market_structure.hpp, swing_left = swing_right = 3, lookback 20, gaps >= 0.1 % of the
// close, on the whole series at once.
void derive(const std::vector<Candle>& k, std::vector<Break>& breaks, std::vector<Gap>& gaps) {
  const std::size_t L = 3, R = 3, lookback = 20;
  bool have_high = false, have_low = false, high_broken = false, low_broken = false;
  std::int64_t high = 0, low = 0;
  std::string trend = "none";
  for (std::size_t i = 0; i < k.size(); ++i) {
    if (i >= L + R) {
      const std::size_t c = i - R;
      bool is_high = true, is_low = true;
      for (std::size_t j = c - L; j <= c + R; ++j) {
        if (j == c) continue;
        if (!(k[c].h > k[j].h)) is_high = false;
        if (!(k[c].l < k[j].l)) is_low = false;
      }
      if (is_high) have_high = true, high_broken = false, high = k[c].h;
      if (is_low) have_low = true, low_broken = false, low = k[c].l;
    }
    std::string dir;
    std::int64_t level = 0;
    if (have_high && !high_broken && k[i].c > high) {
      dir = "up", level = high, high_broken = true;
    } else if (have_low && !low_broken && k[i].c < low) {
      dir = "down", level = low, low_broken = true;
    }
    if (!dir.empty()) {
      const std::string kind = trend == "none" || trend == dir ? "bos" : "choch";
      trend = dir;
      std::int64_t ob_low = 0, ob_high = 0, ob_time = 0;
      for (std::size_t b = i; b-- > 0 && i - b <= lookback;) {
        if (dir == "up" ? k[b].c < k[b].o : k[b].c > k[b].o) {
          ob_low = k[b].l, ob_high = k[b].h, ob_time = k[b].t;
          break;
        }
      }
      breaks.emplace_back(k[i].t, kind, dir, level, k[i].c, ob_low, ob_high, ob_time);
    }
    if (i >= 2) {
      const Candle& a = k[i - 2];
      if (k[i].l > a.h && (k[i].l - a.h) * 1000 >= k[i].c) gaps.emplace_back(k[i].t, "up", a.h, k[i].l);
      else if (k[i].h < a.l && (a.l - k[i].h) * 1000 >= k[i].c) gaps.emplace_back(k[i].t, "down", k[i].h, a.l);
    }
  }
}

TEST(EngineMarketStructure, LoggedStructureMatchesTheCandlesAndEveryBreakIsTradedByTheRules) {
  const std::string cfg = config_with("ms.toml", "fvg_min_pct = 0.1");
  const std::string runs = tmp("runs");
  const auto r = run_enigma("backtest --quiet --config '" + cfg + "' --runs-dir '" + runs + "'");
  ASSERT_EQ(r.code, 0) << r.text;
  const fs::path run = first_run_dir(runs);

  std::vector<Break> logged_breaks;
  std::vector<Gap> logged_gaps;
  std::istringstream log(slurp(run / "logs" / "enigma.log"));
  std::size_t skips = 0;
  std::set<std::int64_t> rejected;  // bars whose order the risk gate refused (its line follows the break's)
  for (std::string line; std::getline(log, line);) {
    if (line.find(" INFO strategy structure_skip ") != std::string::npos) ++skips;
    if (line.find(" INFO risk risk_reject ") != std::string::npos && !logged_breaks.empty())
      rejected.insert(std::get<0>(logged_breaks.back()));
    if (line.find(" INFO strategy structure_break ") != std::string::npos) {
      auto f = log_fields(line);
      logged_breaks.emplace_back(std::stoll(f.at("bar_time")), f.at("kind"), f.at("direction"), e8(f.at("level")),
                                 e8(f.at("close")), e8(f.at("order_block_low")), e8(f.at("order_block_high")),
                                 std::stoll(f.at("order_block_time")));
    } else if (line.find(" INFO strategy fair_value_gap ") != std::string::npos) {
      auto f = log_fields(line);
      logged_gaps.emplace_back(std::stoll(f.at("bar_time")), f.at("direction"), e8(f.at("low")), e8(f.at("high")));
    }
  }
  EXPECT_EQ(slurp(run / "logs" / "enigma.log").find("log_dropped"), std::string::npos) << "the log lost lines";
  const std::vector<Candle> candles = read_candles();
  ASSERT_GT(candles.size(), 19'000u);
  std::vector<Break> breaks;
  std::vector<Gap> gaps;
  derive(candles, breaks, gaps);
  std::size_t chochs = 0;
  for (const auto& b : breaks) chochs += std::get<1>(b) == "choch";
  std::printf("breaks %zu (choch %zu), fair-value gaps %zu, skips %zu\n", breaks.size(), chochs, gaps.size(), skips);
  EXPECT_EQ(skips, 0u) << "every break of this run has its stop beyond the close (the checks below assume it)";
  ASSERT_GT(chochs, 100u);
  ASSERT_GT(gaps.size(), 100u);
  EXPECT_EQ(logged_breaks.size(), breaks.size());
  for (std::size_t i = 0; i < std::min(breaks.size(), logged_breaks.size()); ++i)
    ASSERT_EQ(logged_breaks[i], breaks[i]) << "break " << i << " at bar " << std::get<0>(breaks[i]);
  EXPECT_EQ(logged_gaps.size(), gaps.size());
  for (std::size_t i = 0; i < std::min(gaps.size(), logged_gaps.size()); ++i)
    ASSERT_EQ(logged_gaps[i], gaps[i]) << "gap " << i;

  // Orders at a bar close (the strategy's) versus the breaks, with the position rebuilt from every fill.
  const auto rows = read_trades_csv(run);
  std::map<std::int64_t, std::pair<std::string, std::int64_t>> decisions;  // bar time -> (side, qty e8)
  for (const auto& row : rows) {
    const std::int64_t t = std::stoll(row.time_ns);
    if (t % kBarNs == kDecisionFillOffsetNs) decisions[t - kDecisionFillOffsetNs] = {row.side, e8(row.qty)};
  }
  std::map<std::int64_t, const Break*> by_bar;
  for (const auto& b : breaks) by_bar[std::get<0>(b)] = &b;
  for (const auto& [bar, d] : decisions) {
    const auto b = by_bar.find(bar);
    ASSERT_NE(b, by_bar.end()) << "an order at the close of bar " << bar << " without a break";
    EXPECT_EQ(d.first, std::get<2>(*b->second) == "up" ? "buy" : "sell") << bar;
  }
  // An intent that never fills (refused by the risk gate) keeps the strategy waiting intent_timeout_bars = 3
  // bars, during which it does nothing.
  std::map<std::int64_t, std::size_t> index;
  for (std::size_t i = 0; i < candles.size(); ++i) index[candles[i].t] = i;
  std::size_t entries = 0, exits = 0, refused = 0, row = 0, waiting_until = 0;
  std::int64_t position = 0;  // e8, from every fill before the bar's decision
  for (const auto& b : breaks) {
    const std::int64_t bar = std::get<0>(b), decide = bar + kDecisionFillOffsetNs;
    for (; row < rows.size() && std::stoll(rows[row].time_ns) < decide; ++row)
      position += (rows[row].side == "buy" ? 1 : -1) * e8(rows[row].qty);
    const bool up = std::get<2>(b) == "up";
    const auto d = decisions.find(bar);
    const std::size_t at = index.at(bar);
    if (at <= waiting_until && waiting_until != 0) {
      EXPECT_EQ(d, decisions.end()) << "an order at bar " << bar << " while an earlier intent was pending";
      continue;
    }
    const bool acts = (position == 0 && std::get<1>(b) == "choch") || (position != 0 && (position > 0) != up);
    if (acts && rejected.count(bar) != 0) {
      EXPECT_EQ(d, decisions.end()) << bar;
      waiting_until = at + 3;
      ++refused;
      continue;
    }
    if (position == 0 && std::get<1>(b) == "choch" && skips == 0) {
      ASSERT_NE(d, decisions.end()) << "no entry on the CHoCH of bar " << bar;
      EXPECT_EQ(d->second.second, e8("0.01"));
      ++entries;
    } else if (position != 0 && (position > 0) != up) {
      ASSERT_NE(d, decisions.end()) << "no exit on the break against the position at bar " << bar;
      EXPECT_EQ(d->second.second, position > 0 ? position : -position);
      ++exits;
    } else if (skips == 0) {
      EXPECT_EQ(d, decisions.end()) << "an order at bar " << bar << " that no rule asks for";
    }
  }
  std::printf("entries %zu, exits %zu, refused by the risk gate %zu, orders at a bar close %zu\n", entries, exits, refused,
              decisions.size());
  EXPECT_EQ(refused, rejected.size());
  EXPECT_EQ(entries + exits, decisions.size());
  EXPECT_GT(entries, 100u);
  EXPECT_GT(exits, 10u);
}

TEST(EngineMarketStructure, BadKeysExit3NamingTheKey) {
  const std::string cfg = config_with("bad.toml", "entry = \"sometimes\"");
  const auto r = run_enigma("backtest --quiet --config '" + cfg + "' --runs-dir '" + tmp("bad-runs") + "'");
  EXPECT_EQ(r.code, 3) << r.text;
  EXPECT_NE(r.text.find("entry"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("sometimes"), std::string::npos) << r.text;
}

}  // namespace
