// kind = "cvd-divergence" through the binary: entries and exits exactly at the trades where the divergence rule,
// recomputed here from the capture's raw trade frames (own parser, own window scan), fires; config errors
// name the key; `enigma strategies` lists it.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
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
  std::int64_t delta;  // e8 quantity, + buyer aggressor, - seller aggressor ("m":true: the buyer was the maker)
};

TEST(EngineCvdDivergence, ListedWithItsKeys) {
  const auto o = run_enigma("strategies");
  ASSERT_EQ(o.code, 0) << o.text;
  for (const char* k : {"\ncvd-divergence ", "[strategy.cvd_divergence]", "window_trades = 200  [2, 2048]",
                        "min_divergence", "large_trade_qty", "cooldown_trades = 50", "stop_ticks = 400",
                        "take_profit_ticks = 800"})
    EXPECT_NE(o.text.find(k), std::string::npos) << k << "\n" << o.text;
}

// Over the last N = 150 trades before each trade: H, L their highest/lowest price and cvd(H), cvd(L) the CVD
// after the latest trade at that price. Short when a trade prints above H while the CVD is at least 0.2 below
// cvd(H) and a seller-initiated trade of >= 1 is in the window or is this trade; long the mirror. Signals within
// 20 trades of the last intent are ignored; an opposite signal exits; a position is also over at the first later
// trade at/through its stop (400 ticks of 0.1) or take-profit (800 ticks).
TEST(EngineCvdDivergence, EntersWhereTheCaptureDiverges) {
  const std::string cfg = write_temp(
      "cvd.toml", replay_config_with(kSrc, "[strategy]\nkind = \"cvd-divergence\"\ninstrument = 0\norder_qty = \"0.01\"\n\n"
                              "[strategy.cvd_divergence]\nwindow_trades = 150\nmin_divergence = \"0.2\"\n"
                              "large_trade_qty = \"1\"\nstop_ticks = 400\ntake_profit_ticks = 800\n"
                              "cooldown_trades = 20\n"));
  const std::string runs = ::testing::TempDir() + "/runs-cvd";
  fs::remove_all(runs);
  const auto o = run_enigma("replay --quiet --config " + cfg + " --data " + kData + " --runs-dir " + runs);
  ASSERT_EQ(o.code, 0) << o.text;
  const fs::path dir = fs::canonical(runs + "/latest");

  const auto z = shell("zcat " + kData + " | grep '\"e\":\"trade\"'");
  ASSERT_EQ(z.code, 0);
  std::vector<Tape> tape;
  std::istringstream in(z.text);
  for (std::string line; std::getline(in, line);) {
    const std::string p = enigma::testing::frame_field(line, "p"), q = enigma::testing::frame_field(line, "q");
    ASSERT_FALSE(p.empty() || q.empty()) << line;
    const bool buyer_maker = line.find("\"m\":true") != std::string::npos;
    ASSERT_TRUE(buyer_maker || line.find("\"m\":false") != std::string::npos) << line;
    tape.push_back({std::stoll(line.substr(0, line.find(' '))), e8(p), buyer_maker ? -e8(q) : e8(q)});
  }
  ASSERT_GT(tape.size(), 10'000u);

  const std::size_t n = 150;
  const std::int64_t min_div = 20'000'000, large = 100'000'000, tick = 10'000'000, stop = 400, tp = 800,
                     cooldown = 20;
  std::vector<std::int64_t> cvd(tape.size());
  std::map<std::int64_t, std::pair<char, bool>> expected;      // local ns -> ('b'/'s', entry?)
  std::map<std::int64_t, std::pair<int, std::int64_t>> entries;  // local ns -> (side, entry trade price)
  std::size_t intents = 0, shorts = 0, longs = 0;
  int holding = 0;
  std::int64_t ref = 0;  // entry trade price of the position
  long last = -1'000'000;
  std::int64_t running = 0;
  for (std::size_t i = 0; i < tape.size(); ++i) {
    const std::int64_t p = tape[i].price;
    if (holding > 0 && (p <= ref - stop * tick || p >= ref + tp * tick)) holding = 0;
    if (holding < 0 && (p >= ref + stop * tick || p <= ref - tp * tick)) holding = 0;
    running += tape[i].delta;
    cvd[i] = running;
    if (i < n) continue;
    // The window, oldest first: >= keeps the latest trade at the extreme.
    std::int64_t hi = tape[i - n].price, lo = hi, cvd_hi = cvd[i - n], cvd_lo = cvd_hi;
    bool big_sell = tape[i].delta <= -large, big_buy = tape[i].delta >= large;
    for (std::size_t j = i - n; j < i; ++j) {
      if (tape[j].price >= hi) hi = tape[j].price, cvd_hi = cvd[j];
      if (tape[j].price <= lo) lo = tape[j].price, cvd_lo = cvd[j];
      big_sell = big_sell || tape[j].delta <= -large;
      big_buy = big_buy || tape[j].delta >= large;
    }
    int s = 0;
    if (p > hi && running <= cvd_hi - min_div && big_sell) s = -1;
    if (p < lo && running >= cvd_lo + min_div && big_buy) s = 1;
    if (s == 0 || static_cast<long>(i) - last <= cooldown) continue;
    if (holding == 0) {
      holding = s;
      ref = p;
      expected[tape[i].local_ns] = {s > 0 ? 'b' : 's', true};
      entries[tape[i].local_ns] = {s, p};
      (s > 0 ? longs : shorts) += 1;
    } else if (holding == -s) {
      holding = 0;
      expected[tape[i].local_ns] = {s > 0 ? 'b' : 's', false};
    } else {
      continue;
    }
    last = static_cast<long>(i);
    ++intents;
  }
  // The capture holds divergences of both directions under these settings.
  ASSERT_GE(intents, 5u);
  EXPECT_GE(shorts, 2u);
  EXPECT_GE(longs, 2u);

  const std::string summary = slurp(dir / "summary.json");
  EXPECT_NE(summary.find("\"signals\": " + std::to_string(intents) + ","), std::string::npos)
      << "expected " << intents << " intents\n"
      << summary;
  // trades.csv: time_ns,symbol,side,price,qty,fee,liquidity,client_order_id,reason,expected_price. A market order
  // fills [sim] order_latency_us = 500 after the trade that triggered it. A bracket's fill (the stop or the
  // take-profit the OMS holds) carries its entry's reason; its expected price is that entry's level.
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
    // Not at a divergence: it must close the last hand-computed entry before it at its stop or take-profit.
    ASSERT_EQ(c.reason, "signal_entry") << "a fill at no hand-computed divergence: " << row;
    auto e = entries.upper_bound(at);
    ASSERT_NE(e, entries.begin()) << row;
    --e;
    const auto [side, ref] = e->second;
    EXPECT_EQ(c.side, side > 0 ? "sell" : "buy") << row;
    const std::int64_t level = e8(c.expected_price);
    EXPECT_TRUE(level == ref - side * stop * tick || level == ref + side * tp * tick) << ref << " " << row;
    ++brackets;
  }
  // Every hand-computed intent filled, or the risk gate refused it (summary.json counts each refusal).
  const auto r = summary.find("\"risk_rejects\": ");
  ASSERT_NE(r, std::string::npos) << summary;
  const std::size_t rejects = std::stoul(summary.substr(r + 16));
  EXPECT_EQ(filled + rejects, intents) << summary;
  EXPECT_LE(rejects, 2u) << summary;
  std::printf("cvd-divergence: %zu trades, %zu intents (%zu long, %zu short entries), %zu filled, %zu risk rejects, "
              "%zu bracket fills\n",
              tape.size(), intents, longs, shorts, filled, rejects, brackets);
}

TEST(EngineCvdDivergence, ConfigErrorsNameTheKey) {
  const std::string head = "[strategy]\nkind = \"cvd-divergence\"\norder_qty = \"0.01\"\n\n[strategy.cvd_divergence]\n";
  for (const auto& [line, key] : std::vector<std::pair<std::string, std::string>>{
           {"window_trades = 1", "strategy.cvd_divergence.window_trades"},
           {"window_trades = 5000", "strategy.cvd_divergence.window_trades"},
           {"min_divergence = \"0\"", "strategy.cvd_divergence.min_divergence"},
           {"large_trade_qty = \"-1\"", "strategy.cvd_divergence.large_trade_qty"},
           {"stop_ticks = 0", "strategy.cvd_divergence.stop_ticks"},
           {"cooldown_trades = -1", "strategy.cvd_divergence.cooldown_trades"},
           {"window = 10", "strategy.cvd_divergence.window"}}) {
    const std::string bad = write_temp("cvd-bad.toml", replay_config_with(kSrc, head + line + "\n"));
    const auto o = run_enigma("replay --quiet --config " + bad + " --data " + kData + " --runs-dir " +
                              ::testing::TempDir() + "/runs-cvd-bad");
    EXPECT_EQ(o.code, 3) << line << "\n" << o.text;
    EXPECT_NE(o.text.find(key), std::string::npos) << line << "\n" << o.text;
  }
}

}  // namespace
