// kind = "liquidity-hunter" through the binary: entries and exits exactly at the frames where the wall rules,
// recomputed here from the capture's raw frames (own parser, own book from the REST snapshot and the depth
// diffs, own wall tracking), fire; config errors name the key; `enigma strategies` lists it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/capture_text.hpp"
#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;
using enigma::testing::run_enigma;
using enigma::testing::shell;
using enigma::testing::slurp;
using enigma::testing::e8;
using enigma::testing::replay_config_with;
using enigma::testing::write_temp;

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kData = kSrc + "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";

// The integer value of "key":123 in a frame line (-1 when absent).
std::int64_t number(const std::string& line, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  const auto p = line.find(k);
  if (p == std::string::npos) return -1;
  return std::stoll(line.substr(p + k.size()));
}

// The [["price","qty"],...] array after "key": in a frame line, as e8 pairs.
std::vector<std::pair<std::int64_t, std::int64_t>> levels(const std::string& line, const std::string& key) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  auto p = line.find("\"" + key + "\":[");
  if (p == std::string::npos) return out;
  p += key.size() + 4;
  while (line[p] == '[') {
    const auto a = line.find('"', p) + 1, a_end = line.find('"', a);
    const auto b = line.find('"', a_end + 1) + 1, b_end = line.find('"', b);
    out.emplace_back(e8(line.substr(a, a_end - a)), e8(line.substr(b, b_end - b)));
    p = line.find(']', b_end) + 1;
    if (line[p] == ',') ++p;
  }
  return out;
}

// One input of the rule, in capture order: a trade, or a book update seen as its top levels.
struct Step {
  std::int64_t local_ns;
  bool trade;
  std::int64_t price, qty;                                        // trade (e8)
  std::vector<std::pair<std::int64_t, std::int64_t>> bids, asks;  // book: best first, at most 10 each
};

// The capture as the strategy sees it: every trade, and after each depth diff that the Binance USD-M rules
// apply (REST snapshot, then diffs with u >= lastUpdateId, the first straddling it, each next one's pu = the
// previous u) the top 10 levels of each side. The snapshot frame itself is a book update (with the diffs that
// came before it applied).
std::vector<Step> read_capture() {
  const auto z = shell("zcat " + kData + " | grep -v bookTicker");
  EXPECT_EQ(z.code, 0);
  std::map<std::int64_t, std::int64_t, std::greater<>> bids;
  std::map<std::int64_t, std::int64_t> asks;
  const auto apply = [&](const std::string& line, const char* b, const char* a) {
    for (const auto& [p, q] : levels(line, b)) q == 0 ? (void)bids.erase(p) : (void)(bids[p] = q);
    for (const auto& [p, q] : levels(line, a)) q == 0 ? (void)asks.erase(p) : (void)(asks[p] = q);
  };
  const auto book = [&](std::int64_t t) {
    Step s{t, false, 0, 0, {}, {}};
    for (auto it = bids.begin(); it != bids.end() && s.bids.size() < 10; ++it) s.bids.emplace_back(*it);
    for (auto it = asks.begin(); it != asks.end() && s.asks.size() < 10; ++it) s.asks.emplace_back(*it);
    EXPECT_LT(s.bids[0].first, s.asks[0].first) << "crossed at " << t;
    return s;
  };
  std::vector<Step> steps;
  std::vector<std::string> waiting;  // depth diffs before the snapshot
  std::int64_t snapshot_id = -1, last_u = -1;
  std::istringstream in(z.text);
  for (std::string line; std::getline(in, line);) {
    const std::int64_t t = std::stoll(line.substr(0, line.find(' ')));
    if (line.find("\"e\":\"trade\"") != std::string::npos) {
      steps.push_back({t, true, e8(enigma::testing::frame_field(line, "p")), e8(enigma::testing::frame_field(line, "q")), {}, {}});
    } else if (line.find("\"lastUpdateId\"") != std::string::npos) {
      EXPECT_EQ(snapshot_id, -1) << "one REST snapshot in this capture";
      snapshot_id = number(line, "lastUpdateId");
      apply(line, "bids", "asks");
      last_u = snapshot_id;
      bool first = true;
      for (const std::string& d : waiting) {
        const std::int64_t u = number(d, "u");
        if (u < snapshot_id) continue;
        if (first)
          EXPECT_LE(number(d, "U"), snapshot_id);
        else
          EXPECT_EQ(number(d, "pu"), last_u);
        first = false;
        apply(d, "b", "a");
        last_u = u;
      }
      steps.push_back(book(t));
    } else if (line.find("\"e\":\"depthUpdate\"") != std::string::npos) {
      if (snapshot_id < 0) {
        waiting.push_back(line);
        continue;
      }
      const std::int64_t u = number(line, "u");
      if (u < snapshot_id) continue;
      if (last_u == snapshot_id)
        EXPECT_LE(number(line, "U"), snapshot_id);
      else
        EXPECT_EQ(number(line, "pu"), last_u) << "a gap in the capture's diffs";
      apply(line, "b", "a");
      last_u = u;
      steps.push_back(book(t));
    }
  }
  return steps;
}

TEST(EngineLiquidityHunter, ListedWithItsKeys) {
  const auto o = run_enigma("strategies");
  ASSERT_EQ(o.code, 0) << o.text;
  for (const char* k :
       {"\nliquidity-hunter ", "[strategy.liquidity_hunter]", "depth_levels = 10  [2, 10]", "wall_mult = \"10\"",
        "min_wall_qty = \"10\"", "eat_fraction = \"0.5\"", "pull_fraction = \"0.5\"", "absorb_qty = \"3\"",
        "cooldown_trades = 20", "stop_ticks = 400", "take_profit_ticks = 800"})
    EXPECT_NE(o.text.find(k), std::string::npos) << k << "\n" << o.text;
}

// The header's rule with these settings, worked here on the capture: a wall is a level of the top 10 with
// qty >= 8 and qty >= 8 x the mean of the other 9; one tracked per side (peak Q, traded-at-its-price T).
// Pulled: still behind the touch and (Q - q) - T >= 0.6 Q -> follow the side it held back; absorbed: T >= 2 and
// still a wall -> fade; eaten: a trade through it after T >= 0.5 Q -> follow the break. Signals within 10
// trades of the last intent do nothing; flat -> entry with a bracket 400 / 800 ticks of 0.1 from the last trade
// price, the other side held -> exit; the position is over at a trade at/through its stop or take-profit.
TEST(EngineLiquidityHunter, EntersWhereWallsArePulledEatenOrAbsorb) {
  const std::string cfg = write_temp(
      "lh.toml", replay_config_with(kSrc, "[strategy]\nkind = \"liquidity-hunter\"\ninstrument = 0\norder_qty = \"0.01\"\n\n"
                             "[strategy.liquidity_hunter]\ndepth_levels = 10\nwall_mult = \"8\"\nmin_wall_qty = \"8\"\n"
                             "eat_fraction = \"0.5\"\npull_fraction = \"0.6\"\nabsorb_qty = \"2\"\n"
                             "stop_ticks = 400\ntake_profit_ticks = 800\ncooldown_trades = 10\n"));
  const std::string runs = ::testing::TempDir() + "/runs-lh";
  fs::remove_all(runs);
  const auto o = run_enigma("replay --quiet --config " + cfg + " --data " + kData + " --runs-dir " + runs);
  ASSERT_EQ(o.code, 0) << o.text;
  const fs::path dir = fs::canonical(runs + "/latest");

  const std::vector<Step> steps = read_capture();
  std::size_t trades = 0, books = 0;
  for (const Step& s : steps) (s.trade ? trades : books) += 1;
  ASSERT_GT(trades, 10'000u);
  ASSERT_GT(books, 5'000u);

  const std::int64_t unit = 100'000'000, tick = 10'000'000, stop = 400, tp = 800, cooldown = 10;
  // A wall among `side` (top 10): qty >= 8 and qty x 9 >= 8 x (the other levels' sum).
  const auto wall = [&](const std::vector<std::pair<std::int64_t, std::int64_t>>& side, std::size_t i) {
    std::int64_t others = 0;
    for (std::size_t j = 0; j < side.size(); ++j)
      if (j != i) others += side[j].second;
    const std::int64_t q = side[i].second;
    return side.size() >= 2 && q >= 8 * unit && q * static_cast<std::int64_t>(side.size() - 1) >= 8 * others;
  };
  struct Tracked {
    bool on = false, absorbed = false;
    std::int64_t price = 0, peak = 0, traded = 0;
  };
  Tracked walls[2];  // [0] bids, [1] asks

  std::map<std::int64_t, std::pair<char, bool>> expected;        // local ns -> ('b'/'s', entry?)
  std::map<std::int64_t, std::pair<int, std::int64_t>> entries;  // local ns -> (side, reference price)
  std::map<std::string, std::size_t> kinds;                      // setups found, by kind and side
  std::size_t intents = 0, longs = 0, shorts = 0;
  int holding = 0;
  std::int64_t ref = 0, last_price = 0;
  std::size_t seen = 0, at_intent = 0;
  bool acted = false;
  const auto signal = [&](const Step& s, int dir, const std::string& kind) {
    ++kinds[kind];
    if (seen == 0 || (acted && seen - at_intent < static_cast<std::size_t>(cooldown))) return;
    if (holding == 0) {
      holding = dir;
      ref = last_price;
      EXPECT_EQ(expected.count(s.local_ns), 0u) << "two intents in one frame";
      expected[s.local_ns] = {dir > 0 ? 'b' : 's', true};
      entries[s.local_ns] = {dir, last_price};
      (dir > 0 ? longs : shorts) += 1;
    } else if (holding == -dir) {
      holding = 0;
      EXPECT_EQ(expected.count(s.local_ns), 0u) << "two intents in one frame";
      expected[s.local_ns] = {dir > 0 ? 'b' : 's', false};
    } else {
      return;
    }
    acted = true;
    at_intent = seen;
    ++intents;
  };

  for (const Step& s : steps) {
    if (s.trade) {
      const std::int64_t p = s.price;
      if (holding > 0 && (p <= ref - stop * tick || p >= ref + tp * tick)) holding = 0;
      if (holding < 0 && (p >= ref + stop * tick || p <= ref - tp * tick)) holding = 0;
      last_price = p;
      ++seen;
      for (int side = 0; side < 2; ++side) {
        Tracked& w = walls[side];
        if (!w.on) continue;
        if (p == w.price) {
          w.traded += s.qty;
          continue;
        }
        const bool through = side == 0 ? p < w.price : p > w.price;
        if (!through) continue;
        w.on = false;
        if (2 * w.traded >= w.peak) signal(s, side == 0 ? -1 : 1, side == 0 ? "bid eaten" : "ask eaten");
      }
      continue;
    }
    int dirs[2] = {0, 0};
    std::string names[2];
    for (int side = 0; side < 2; ++side) {
      const auto& lv = side == 0 ? s.bids : s.asks;
      // Whether price a is further from the touch than b.
      const auto further = [side](std::int64_t a, std::int64_t b) { return side == 0 ? a < b : a > b; };
      Tracked& w = walls[side];
      if (w.on) {
        if (lv.empty() || further(w.price, lv.back().first)) {
          w.on = false;
        } else {
          std::int64_t q = 0;
          std::size_t at = lv.size();
          for (std::size_t i = 0; i < lv.size(); ++i)
            if (lv[i].first == w.price) q = lv[i].second, at = i;
          const std::int64_t gone = w.peak - q - w.traded;
          if (further(w.price, lv[0].first) && 10 * gone >= 6 * w.peak) {
            w.on = false;
            dirs[side] = side == 0 ? -1 : 1;
            names[side] = side == 0 ? "bid pulled" : "ask pulled";
          } else {
            if (!w.absorbed && w.traded >= 2 * unit && at < lv.size() && wall(lv, at)) {
              w.absorbed = true;
              dirs[side] = side == 0 ? 1 : -1;
              names[side] = side == 0 ? "bid absorbed" : "ask absorbed";
            }
            w.peak = std::max(w.peak, q);
          }
        }
      }
      if (!w.on) {
        std::size_t pick = lv.size();
        for (std::size_t i = 0; i < lv.size(); ++i)
          if (wall(lv, i) && (pick == lv.size() || lv[i].second > lv[pick].second)) pick = i;
        if (pick < lv.size()) w = Tracked{true, false, lv[pick].first, lv[pick].second, 0};
      }
    }
    for (int side = 0; side < 2; ++side)
      if (dirs[side] != 0) signal(s, dirs[side], names[side]);
  }
  std::string found;
  for (const auto& [k, n] : kinds) found += k + " " + std::to_string(n) + ", ";
  // The capture holds every kind of setup under these settings, and entries both ways.
  for (const char* k : {"bid pulled", "ask pulled", "bid eaten", "ask eaten", "bid absorbed", "ask absorbed"})
    EXPECT_GE(kinds[k], 2u) << k << ": " << found;
  ASSERT_GE(intents, 10u) << found;
  EXPECT_GE(longs, 3u);
  EXPECT_GE(shorts, 3u);

  const std::string summary = slurp(dir / "summary.json");
  EXPECT_NE(summary.find("\"book_updates\": " + std::to_string(books) + ","), std::string::npos)
      << "expected " << books << " book updates\n"
      << summary;
  EXPECT_NE(summary.find("\"signals\": " + std::to_string(intents) + ","), std::string::npos)
      << "expected " << intents << " intents (" << found << ")\n"
      << summary;
  // The engine counts allocations on the hot path after warm-up (the strategy's state is fixed arrays).
  EXPECT_NE(summary.find("\"hot_path_allocations_after_warmup\": 0,"), std::string::npos) << summary;
  // trades.csv: a market order fills [sim] order_latency_us = 500 after the frame that triggered it. A
  // bracket's fill (the stop or the take-profit the OMS holds) carries its entry's reason; its expected price
  // is that entry's level.
  std::size_t filled = 0, brackets = 0;
  for (const auto& c : enigma::testing::read_trades_csv(dir)) {
    const std::string row = c.time_ns + "," + c.side + "," + c.reason + "," + c.expected_price;
    ASSERT_EQ(c.cells, 10u) << row;
    if (c.reason != "signal_entry" && c.reason != "signal_exit") continue;  // the end-of-data flatten
    const std::int64_t at = std::stoll(c.time_ns) - 500'000;
    const auto it = expected.find(at);
    if (it != expected.end()) {
      EXPECT_EQ(it->second.first == 'b' ? "buy" : "sell", c.side) << row;
      EXPECT_EQ(c.reason, it->second.second ? "signal_entry" : "signal_exit") << row;
      ++filled;
      continue;
    }
    // Not at a setup: it must close the last hand-computed entry before it at its stop or take-profit.
    ASSERT_EQ(c.reason, "signal_entry") << "a fill at no hand-computed setup: " << row;
    auto e = entries.upper_bound(at);
    ASSERT_NE(e, entries.begin()) << row;
    --e;
    const auto [side, level_ref] = e->second;
    EXPECT_EQ(c.side, side > 0 ? "sell" : "buy") << row;
    const std::int64_t level = e8(c.expected_price);
    EXPECT_TRUE(level == level_ref - side * stop * tick || level == level_ref + side * tp * tick)
        << level_ref << " " << row;
    ++brackets;
  }
  // Every hand-computed intent filled, or the risk gate refused it (summary.json counts each refusal).
  const auto r = summary.find("\"risk_rejects\": ");
  ASSERT_NE(r, std::string::npos) << summary;
  const std::size_t rejects = std::stoul(summary.substr(r + 16));
  EXPECT_EQ(filled + rejects, intents) << summary;
  EXPECT_LE(rejects, 4u) << summary;
  std::printf(
      "liquidity-hunter: %zu trades, %zu book updates, setups: %s%zu intents (%zu long, %zu short "
      "entries), %zu filled, %zu risk rejects, %zu bracket fills\n",
      trades, books, found.c_str(), intents, longs, shorts, filled, rejects, brackets);
}

TEST(EngineLiquidityHunter, ConfigErrorsNameTheKey) {
  const std::string head =
      "[strategy]\nkind = \"liquidity-hunter\"\norder_qty = \"0.01\"\n\n[strategy.liquidity_hunter]\n";
  for (const auto& [line, key] : std::vector<std::pair<std::string, std::string>>{
           {"depth_levels = 1", "strategy.liquidity_hunter.depth_levels"},
           {"depth_levels = 11", "strategy.liquidity_hunter.depth_levels"},
           {"wall_mult = \"0.5\"", "strategy.liquidity_hunter.wall_mult"},
           {"min_wall_qty = \"-1\"", "strategy.liquidity_hunter.min_wall_qty"},
           {"eat_fraction = \"0\"", "strategy.liquidity_hunter.eat_fraction"},
           {"pull_fraction = \"1.5\"", "strategy.liquidity_hunter.pull_fraction"},
           {"absorb_qty = \"-2\"", "strategy.liquidity_hunter.absorb_qty"},
           {"take_profit_ticks = 0", "strategy.liquidity_hunter.take_profit_ticks"},
           {"cooldown_trades = -1", "strategy.liquidity_hunter.cooldown_trades"},
           {"wall = 10", "strategy.liquidity_hunter.wall"}}) {
    const std::string bad = write_temp("lh-bad.toml", replay_config_with(kSrc, head + line + "\n"));
    const auto o = run_enigma("replay --quiet --config " + bad + " --data " + kData + " --runs-dir " +
                              ::testing::TempDir() + "/runs-lh-bad");
    EXPECT_EQ(o.code, 3) << line << "\n" << o.text;
    EXPECT_NE(o.text.find(key), std::string::npos) << line << "\n" << o.text;
  }
}

}  // namespace
