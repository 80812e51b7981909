// kind = "volume-profile" through the binary: entries and exits exactly at the trades where the value-area
// breakout / rejection rules of strategy/strategies/volume_profile.hpp, recomputed here from the capture's raw
// trade frames (own parser, a std::map profile rebuilt naively), fire; config errors name the key;
// `enigma strategies` lists it.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
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

struct Tape {
  std::int64_t local_ns;
  std::int64_t price;  // e8
  std::int64_t qty;    // e8
  std::int64_t venue_ns;  // the venue's trade time T (the engine stamps trades with it)
  std::int64_t day;       // its UTC day
};

std::vector<Tape> read_tape() {
  const auto z = shell("zcat " + kData + " | grep '\"e\":\"trade\"'");
  EXPECT_EQ(z.code, 0);
  std::vector<Tape> tape;
  std::istringstream in(z.text);
  for (std::string line; std::getline(in, line);) {
    const std::string p = enigma::testing::frame_field(line, "p"), q = enigma::testing::frame_field(line, "q"), t = enigma::testing::frame_field(line, "T"), e = enigma::testing::frame_field(line, "E");
    EXPECT_FALSE(p.empty() || q.empty() || t.empty() || e.empty()) << line;
    if (p.empty() || q.empty() || t.empty() || e.empty()) return {};
    // Event and trade time fall on the same UTC day, so either may stamp the trade.
    const std::int64_t day = std::stoll(t) / 86'400'000;
    EXPECT_EQ(day, std::stoll(e) / 86'400'000) << line;
    tape.push_back({std::stoll(line.substr(0, line.find(' '))), e8(p), e8(q), std::stoll(t) * 1'000'000, day});
  }
  return tape;
}

struct Params {
  bool session = false;
  std::int64_t bucket_ticks, window, max_buckets, breakout_ticks, rejection_trades, cooldown;
  std::int64_t cooldown_ms = 1000, value_area_pct = 70, hvn_pct = 0, lvn_pct = 100;
  std::int64_t stop = 400, tp = 800;
};

struct Expected {
  std::map<std::int64_t, std::pair<char, bool>> intents;         // local ns -> ('b'/'s', entry?)
  std::map<std::int64_t, std::pair<int, std::int64_t>> entries;  // local ns -> (side, entry trade price)
  std::size_t breakouts = 0, rejections = 0, longs = 0, shorts = 0, max_span = 0;
  std::int64_t min_gap_ns = INT64_MAX;  // the shortest time between two intents
};

// The README's rules, on a std::map profile recomputed from scratch at every trade.
Expected expect(const std::vector<Tape>& tape, const Params& x) {
  const std::int64_t tick = 10'000'000, w = x.bucket_ticks * tick;  // tick 0.1 in e8
  Expected r;
  std::map<std::int64_t, std::int64_t> prof;  // bucket -> volume (e8), only buckets with trades
  std::deque<std::pair<std::int64_t, std::int64_t>> window;
  std::size_t in_profile = 0;
  std::int64_t day = -1;
  enum { inside, above, below, unarmed } where = unarmed;
  bool broke = false;
  std::size_t start = 0;
  int holding = 0;
  std::int64_t ref = 0;
  long last = -1;  // the trade of the last intent
  for (std::size_t i = 0; i < tape.size(); ++i) {
    const std::int64_t p = tape[i].price, b = p / w;
    if (holding > 0 && (p <= ref - x.stop * tick || p >= ref + x.tp * tick)) holding = 0;
    if (holding < 0 && (p >= ref + x.stop * tick || p <= ref - x.tp * tick)) holding = 0;
    if (x.session && tape[i].day != day) prof.clear(), in_profile = 0, day = tape[i].day;
    int signal = 0;
    bool is_breakout = false;
    if (in_profile < static_cast<std::size_t>(x.window)) {
      where = unarmed;
    } else {
      std::int64_t total = 0, poc = 0, poc_vol = -1;
      for (const auto& [k, v] : prof) {
        total += v;
        if (v > poc_vol) poc = k, poc_vol = v;
      }
      const std::int64_t first = prof.begin()->first, lastb = prof.rbegin()->first;
      auto vol = [&](std::int64_t k) {
        const auto f = prof.find(k);
        return f == prof.end() ? std::int64_t{0} : f->second;
      };
      std::int64_t lo = poc, hi = poc, in = poc_vol;
      while (in * 100 < x.value_area_pct * total) {
        const std::int64_t up = hi < lastb ? vol(hi + 1) : -1, down = lo > first ? vol(lo - 1) : -1;
        if (up > down) {
          in += up, ++hi;
        } else if (down > up) {
          in += down, --lo;
        } else {
          in += up + down, ++hi, --lo;
        }
      }
      const std::int64_t val = lo * w, vah = (hi + 1) * w;
      const auto now = p >= vah ? above : p < val ? below : inside;
      if (now == inside) {
        if ((where == above || where == below) && !broke && i - start <= static_cast<std::size_t>(x.rejection_trades) &&
            vol(b) * 100 >= x.hvn_pct * poc_vol)
          signal = where == above ? -1 : 1;
        where = inside;
      } else {
        if (where == inside) {
          where = now, start = i, broke = false;
        } else if (where != now) {
          where = unarmed;
        }
        const std::int64_t k = x.breakout_ticks * tick;
        if (where == now && !broke && (now == above ? p >= vah + k : p < val - k)) {
          broke = true;
          if (vol(b) * 100 <= x.lvn_pct * poc_vol) signal = now == above ? 1 : -1, is_breakout = true;
        }
      }
    }
    prof[b] += tape[i].qty;
    ++in_profile;
    if (!x.session) {
      window.emplace_back(b, tape[i].qty);
      if (window.size() > static_cast<std::size_t>(x.window)) {
        const auto [ob, oq] = window.front();
        window.pop_front();
        if ((prof[ob] -= oq) == 0) prof.erase(ob);
        --in_profile;
      }
    }
    r.max_span = std::max<std::size_t>(r.max_span, prof.rbegin()->first - prof.begin()->first + 1);
    if (signal == 0 || (last >= 0 && (static_cast<long>(i) - last <= x.cooldown ||
                                      tape[i].venue_ns - tape[static_cast<std::size_t>(last)].venue_ns <
                                          x.cooldown_ms * 1'000'000)))
      continue;
    const std::int64_t at = tape[i].local_ns;
    if (holding == 0) {
      holding = signal;
      ref = p;
      r.intents[at] = {signal > 0 ? 'b' : 's', true};
      r.entries[at] = {signal, p};
      (signal > 0 ? r.longs : r.shorts) += 1;
      (is_breakout ? r.breakouts : r.rejections) += 1;
    } else if (holding == -signal) {
      holding = 0;
      r.intents[at] = {signal > 0 ? 'b' : 's', false};
    } else {
      continue;
    }
    if (last >= 0) r.min_gap_ns = std::min(r.min_gap_ns, at - tape[static_cast<std::size_t>(last)].local_ns);
    last = static_cast<long>(i);
  }
  return r;
}

// Replays the capture with `table` and checks every entry and exit fill against `e`; returns the run dir.
fs::path check_run(const std::string& name, const std::string& table, const Params& x, const Expected& e) {
  const std::string cfg =
      write_temp(name + ".toml", replay_config_with(kSrc, "[strategy]\nkind = \"volume-profile\"\ninstrument = 0\norder_qty = \"0.01\"\n\n"
                                        "[strategy.volume_profile]\n" + table));
  const std::string runs = ::testing::TempDir() + "/runs-" + name;
  fs::remove_all(runs);
  const auto o = run_enigma("replay --quiet --config " + cfg + " --data " + kData + " --runs-dir " + runs);
  EXPECT_EQ(o.code, 0) << o.text;
  if (o.code != 0) return {};
  const fs::path dir = fs::canonical(runs + "/latest");
  const std::string summary = slurp(dir / "summary.json");
  EXPECT_NE(summary.find("\"signals\": " + std::to_string(e.intents.size()) + ","), std::string::npos)
      << "expected " << e.intents.size() << " intents\n"
      << summary;
  // trades.csv: a market order fills [sim] order_latency_us = 500 after the trade that triggered it; a bracket's
  // fill (the stop or take-profit the OMS holds) carries its entry's reason and has that entry's level.
  const std::int64_t tick = 10'000'000;
  std::map<std::int64_t, std::string> filled;  // hand-computed intent time -> the order that filled it
  for (const auto& c : enigma::testing::read_trades_csv(dir)) {
    const std::string row = c.time_ns + "," + c.side + "," + c.reason + "," + c.expected_price;
    EXPECT_EQ(c.cells, 10u) << row;
    if (c.reason != "signal_entry" && c.reason != "signal_exit") continue;  // the end-of-data flatten
    const std::int64_t at = std::stoll(c.time_ns) - 500'000;
    const auto it = e.intents.find(at);
    if (it != e.intents.end()) {
      EXPECT_EQ(it->second.first == 'b' ? "buy" : "sell", c.side) << row;
      EXPECT_EQ(c.reason, it->second.second ? "signal_entry" : "signal_exit") << row;
      // A market order may fill at several book levels: one row each, one order.
      EXPECT_TRUE(filled.emplace(at, c.client_order_id).first->second == c.client_order_id) << row;
      continue;
    }
    // Not at a setup: it must close the last hand-computed entry before it at its stop or take-profit.
    EXPECT_EQ(c.reason, "signal_entry") << "a fill at no hand-computed setup: " << row;
    auto en = e.entries.upper_bound(at);
    EXPECT_NE(en, e.entries.begin()) << row;
    if (en == e.entries.begin()) continue;
    --en;
    const auto [side, ref] = en->second;
    EXPECT_EQ(c.side, side > 0 ? "sell" : "buy") << row;
    const std::int64_t level = e8(c.expected_price);
    EXPECT_TRUE(level == ref - side * x.stop * tick || level == ref + side * x.tp * tick) << ref << " " << row;
  }
  // Intents more than the risk gate's duplicate window (500 ms) apart: it has no reason to refuse a repeat.
  EXPECT_GT(e.min_gap_ns, 500'000'000) << "intents closer than the duplicate window";
  // Every hand-computed intent reached the venue and filled.
  for (const auto& [at, intent] : e.intents)
    EXPECT_TRUE(filled.count(at)) << "no fill for the " << (intent.second ? "entry" : "exit") << " at " << at;
  EXPECT_EQ(filled.size(), e.intents.size()) << summary;
  std::printf("volume-profile %s: %zu intents (%zu breakout, %zu rejection entries; %zu long, %zu short), %zu filled, "
              "widest span %zu buckets; run %s\n",
              name.c_str(), e.intents.size(), e.breakouts, e.rejections, e.longs, e.shorts, filled.size(), e.max_span,
              dir.c_str());
  return dir;
}

TEST(EngineVolumeProfile, ListedWithItsKeys) {
  const auto o = run_enigma("strategies");
  ASSERT_EQ(o.code, 0) << o.text;
  for (const char* k : {"\nvolume-profile ", "[strategy.volume_profile]", "window_trades = 2000  [10, 4096]",
                        "bucket_ticks = 10", "max_buckets = 1024", "value_area", "hvn_fraction", "lvn_fraction",
                        "breakout_ticks = 5", "rejection_trades = 20", "cooldown_trades = 50", "cooldown_ms = 1000", "stop_ticks = 400",
                        "take_profit_ticks = 800", "profile"})
    EXPECT_NE(o.text.find(k), std::string::npos) << k << "\n" << o.text;
}

// A rolling profile of the last 500 trades in $1 buckets (10 ticks of 0.1), value area 70 %: a breakout is the
// first trade of an excursion at >= 5 ticks beyond VAH/VAL, a rejection a return inside within 5 trades of its
// start. Signals within 50 trades or 1 s (venue time) of the last intent are ignored; the bracket is 400 / 800
// ticks.
TEST(EngineVolumeProfile, RollingProfileTradesTheCapturesSetups) {
  const auto tape = read_tape();
  ASSERT_GT(tape.size(), 10'000u);
  Params x;
  x.bucket_ticks = 10, x.window = 500, x.max_buckets = 1024, x.breakout_ticks = 5, x.rejection_trades = 5,
  x.cooldown = 50, x.cooldown_ms = 1000;
  const Expected e = expect(tape, x);
  ASSERT_LE(e.max_span, 1024u);  // the profile never restarts for its span
  EXPECT_GE(e.breakouts, 3u);
  EXPECT_GE(e.rejections, 3u);
  EXPECT_GE(e.longs, 2u);
  EXPECT_GE(e.shorts, 2u);
  check_run("vp-rolling",
            "profile = \"rolling\"\nbucket_ticks = 10\nwindow_trades = 500\nbreakout_ticks = 5\nrejection_trades = 5\n"
            "cooldown_trades = 50\ncooldown_ms = 1000\nstop_ticks = 400\ntake_profit_ticks = 800\n",
            x, e);
}

// The session (UTC day) profile in $0.5 buckets, used after 1000 trades, with the HVN / LVN filters on: a
// breakout trade's bucket must hold <= 30 % of the POC's volume, a rejection trade's >= 20 %; value area 80 %;
// breakout 2 ticks, rejection within 10 trades, cooldown 50 trades or 1 s. The bracket is 2000 / 4000 ticks: a
// breakout trade can print far through the book (a 400-tick stop from it would sit on the wrong side of the
// book's price, and the OMS refuses such a position).
TEST(EngineVolumeProfile, SessionProfileWithNodeFilters) {
  const auto tape = read_tape();
  ASSERT_GT(tape.size(), 10'000u);
  Params x;
  x.session = true, x.bucket_ticks = 5, x.window = 1000, x.max_buckets = 1024, x.breakout_ticks = 2,
  x.rejection_trades = 10, x.cooldown = 50, x.cooldown_ms = 1000, x.value_area_pct = 80, x.hvn_pct = 20, x.lvn_pct = 30,
  x.stop = 2000, x.tp = 4000;
  const Expected e = expect(tape, x);
  ASSERT_LE(e.max_span, 1024u);
  EXPECT_GE(e.intents.size(), 5u);
  EXPECT_GE(e.breakouts, 3u);
  // Without the filters the same profile gives more setups: the filters act.
  Params off = x;
  off.hvn_pct = 0, off.lvn_pct = 100;
  const Expected all = expect(tape, off);
  EXPECT_NE(all.intents.size(), e.intents.size());
  std::printf("volume-profile session: %zu intents with the node filters, %zu without\n", e.intents.size(),
              all.intents.size());
  check_run("vp-session",
            "profile = \"session\"\nbucket_ticks = 5\nwindow_trades = 1000\nbreakout_ticks = 2\nrejection_trades = 10\n"
            "cooldown_trades = 50\ncooldown_ms = 1000\nvalue_area = \"0.8\"\nhvn_fraction = \"0.2\"\nlvn_fraction = \"0.3\"\n"
            "stop_ticks = 2000\ntake_profit_ticks = 4000\n",
            x, e);
}

TEST(EngineVolumeProfile, ConfigErrorsNameTheKey) {
  const std::string head = "[strategy]\nkind = \"volume-profile\"\norder_qty = \"0.01\"\n\n[strategy.volume_profile]\n";
  for (const auto& [line, key] : std::vector<std::pair<std::string, std::string>>{
           {"window_trades = 5", "strategy.volume_profile.window_trades"},
           {"window_trades = 5000", "strategy.volume_profile.window_trades"},
           {"bucket_ticks = 0", "strategy.volume_profile.bucket_ticks"},
           {"max_buckets = 5000", "strategy.volume_profile.max_buckets"},
           {"value_area = \"0\"", "strategy.volume_profile.value_area"},
           {"value_area = \"1.2\"", "strategy.volume_profile.value_area"},
           {"hvn_fraction = \"-0.1\"", "strategy.volume_profile.hvn_fraction"},
           {"lvn_fraction = \"2\"", "strategy.volume_profile.lvn_fraction"},
           {"profile = \"weekly\"", "strategy.volume_profile.profile"},
           {"rejection_trades = 0", "strategy.volume_profile.rejection_trades"},
           {"breakout_ticks = -1", "strategy.volume_profile.breakout_ticks"},
           {"cooldown_ms = -5", "strategy.volume_profile.cooldown_ms"},
           {"poc_ticks = 3", "strategy.volume_profile.poc_ticks"}}) {
    const std::string bad = write_temp("vp-bad.toml", replay_config_with(kSrc, head + line + "\n"));
    const auto o = run_enigma("replay --quiet --config " + bad + " --data " + kData + " --runs-dir " +
                              ::testing::TempDir() + "/runs-vp-bad");
    EXPECT_EQ(o.code, 3) << line << "\n" << o.text;
    EXPECT_NE(o.text.find(key), std::string::npos) << line << "\n" << o.text;
  }
}

}  // namespace
