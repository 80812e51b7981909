// Execution algorithms (issue 15 item 6): `enigma replay` of the bundled Binance USD-M session with the imbalance
// strategy's entries sliced by TWAP or iceberg. The expectations come from a run with execution = "single" (its
// entry times and sides) and the config (order_qty, slices, interval, display_qty, the lot, the 500 us latencies),
// never from the slicing code: the children's quantities are recomputed here and looked up in trades.csv.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/admin.hpp"
#include "engine/pipeline.hpp"
#include "engine/status.hpp"
#include "engine/run_config.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/enigma_process.hpp"

namespace {

using enigma::testing::Out;
using enigma::testing::shell;
using enigma::testing::slurp;
namespace fs = std::filesystem;

constexpr std::int64_t kMs = 1'000'000;
// Quantities in lots of 0.001 (the bundled config's BTCUSDT lot): order_qty "0.01" is 10 lots.
constexpr std::int64_t kOrderLots = 10;

struct Row {
  std::int64_t t;
  bool buy;
  std::int64_t lots;  // qty / 0.001
  std::string reason;
};

// The bundled config with each (from, to) replaced (each must occur once), written to a temp file. Every run
// uses exit_imbalance = 0.59 so the strategy holds its positions a few seconds: long enough for most parents
// to complete.
std::string edited(const std::string& name, std::vector<std::pair<std::string, std::string>> edits) {
  std::string s = slurp(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  edits.emplace_back("entry_imbalance = 0.6\n", "entry_imbalance = 0.6\nexit_imbalance = 0.59\n");
  for (const auto& [from, to] : edits) {
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
  }
  const std::string path = ::testing::TempDir() + "/exec-" + name + ".toml";
  std::ofstream(path) << s;
  return path;
}

std::vector<std::pair<std::string, std::string>> execution(const std::string& keys) {
  return {{"# entry_level = 9 ", keys + "\n# entry_level = 9 "}};
}

struct ReplayRun {
  Out out;
  std::vector<Row> rows;
  std::string summary;
};

// `enigma replay` from the source tree (the config's data path is relative to it).
ReplayRun replay(const std::string& cfg, const std::string& name) {
  const std::string runs = ::testing::TempDir() + "/exec-runs-" + name;
  fs::remove_all(runs);
  ReplayRun r;
  r.out = shell("cd " + std::string(ENIGMA_SOURCE_DIR) + " && " + ENIGMA_BINARY + " replay --quiet --config " + cfg +
                " --runs-dir " + runs);
  if (r.out.code != 0 || !fs::exists(runs)) return r;
  fs::path dir;
  for (const auto& e : fs::directory_iterator(runs)) dir = e.path();
  std::istringstream in(slurp(dir / "trades.csv"));
  std::string line;
  std::getline(in, line);  // time_ns,symbol,side,price,qty,fee,liquidity,client_order_id,reason,expected_price
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
    if (f.size() < 10) continue;
    r.rows.push_back({std::stoll(f[0]), f[2] == "buy", static_cast<std::int64_t>(std::llround(std::stod(f[4]) * 1000)), f[8]});
  }
  r.summary = slurp(dir / "summary.json");
  return r;
}

// A counter of summary.json ("key": N).
std::int64_t counter(const std::string& summary, const std::string& key) {
  const auto at = summary.find("\"" + key + "\": ");
  if (at == std::string::npos) return -1;
  return std::stoll(summary.substr(at + key.size() + 4));
}

// Entries of a run: fills that take the position away from flat (the running position is rebuilt here).
struct Entry {
  std::int64_t t;
  bool buy;
};
std::vector<Entry> entries_of(const std::vector<Row>& rows) {
  std::vector<Entry> out;
  std::int64_t pos = 0;
  for (const Row& r : rows) {
    if (pos == 0) out.push_back({r.t, r.buy});
    pos += r.buy ? r.lots : -r.lots;
  }
  return out;
}

const ReplayRun& single_run() {
  static const ReplayRun r = replay(edited("single", {}), "single");
  return r;
}

}  // namespace

struct TimedResult {
  std::size_t matched{0}, complete{0}, ended_by_exit{0}, unexplained{0};
};

// Children of a timed parent (TWAP, VWAP) in `run` for each entry of the single run: child k of size want(e)[k].
template <class Want>
TimedResult check_timed(const ReplayRun& run, const std::vector<Entry>& entries, int slices, std::int64_t interval, Want want_of) {
  TimedResult res;
  const std::int64_t kInterval = interval;
  const int kSlices = slices;
  const auto& twap = run;
  std::size_t& matched = res.matched;
  std::size_t& complete = res.complete;
  std::size_t& ended_by_exit = res.ended_by_exit;
  std::size_t& unexplained = res.unexplained;
  // Child k leaves at the first event at or after the first child's send time + k x interval and fills
  // 500 us later (order latency): at or after t + k x interval, and before the next frames (< 100 ms).
  constexpr std::int64_t kSlack = 100 * kMs;
  for (const Entry& e : entries) {
    const std::vector<std::int64_t> sizes = want_of(e);
    std::int64_t sum = 0;
    bool ended = false;
    for (int k = 0; k < kSlices; ++k) {
      const std::int64_t lo = e.t + k * kInterval, hi = k == 0 ? e.t + 1 : lo + kSlack;
      const std::int64_t want = sizes[static_cast<std::size_t>(k)];
      const Row* hit = nullptr;
      for (const Row& r : twap.rows)
        if (r.t >= lo && r.t < hi && r.buy == e.buy && r.lots == want && r.reason == "imbalance_entry") hit = &r;
      if (ended) {
        EXPECT_EQ(hit, nullptr) << "a child after its parent ended, entry at " << e.t << " child " << k;
        continue;
      }
      if (hit != nullptr) {
        ++matched;
        sum += hit->lots;
        continue;
      }
      EXPECT_NE(k, 0) << "no first child at the single run's entry time " << e.t;
      // A missing child: its parent ended first, by a fill against the position (strategy exit, stop or
      // take-profit) since the entry, or the risk gate refused the child.
      bool exit_before = false;
      for (const Row& r : twap.rows) exit_before |= r.t > e.t && r.t < hi && r.buy != e.buy;
      (exit_before ? ended_by_exit : unexplained) += 1;
      ended = true;
    }
    if (!ended) {
      EXPECT_EQ(sum, kOrderLots) << "entry at " << e.t;
      ++complete;
    }
  }
  return res;
}

TEST(EngineExecAlgo, TwapSendsEqualChildrenEveryIntervalSummingToTheOrderQty) {
  const ReplayRun& single = single_run();
  ASSERT_EQ(single.out.code, 0) << single.out.text;
  const std::vector<Entry> entries = entries_of(single.rows);
  ASSERT_GE(entries.size(), 20u);
  constexpr int kSlices = 4;
  constexpr std::int64_t kInterval = 1000 * kMs;
  const ReplayRun twap = replay(edited("twap", execution("execution = \"twap\"\nslices = 4\nslice_interval_ms = 1000")), "twap");
  ASSERT_EQ(twap.out.code, 0) << twap.out.text;
  // 0.01 / 4 = 0.0025, down to the lot: 0.002 x 3 and the remainder 0.004 last.
  const std::int64_t child = kOrderLots / kSlices;
  const std::int64_t last = kOrderLots - child * (kSlices - 1);
  const TimedResult res = check_timed(twap, entries, kSlices, kInterval, [&](const Entry&) {
    return std::vector<std::int64_t>{child, child, child, last};
  });
  const std::size_t matched = res.matched, complete = res.complete, ended_by_exit = res.ended_by_exit,
                    unexplained = res.unexplained;
  EXPECT_GE(complete, 10u) << "ended by an exit " << ended_by_exit;
  EXPECT_LE(static_cast<std::int64_t>(unexplained), counter(twap.summary, "risk_rejects"));
  EXPECT_EQ(static_cast<std::int64_t>(matched), counter(twap.summary, "exec_children")) << twap.summary;
  EXPECT_EQ(counter(single.summary, "exec_children"), 0);
}

// VWAP: the TWAP schedule, child k sized by the capture's own trade volume in the k-th quarter of the minute
// before the entry was sent (read here from the raw frames: local receive time, "q"): one lot each, the other
// 6 lots by volume share (down to the lot), the remainder on the last.
TEST(EngineExecAlgo, VwapSizesChildrenByTheTradeTapeOverTheHorizon) {
  const ReplayRun& single = single_run();
  ASSERT_EQ(single.out.code, 0) << single.out.text;
  const std::vector<Entry> entries = entries_of(single.rows);
  const ReplayRun vwap = replay(
      edited("vwap", execution("execution = \"vwap\"\nslices = 4\nslice_interval_ms = 1000\nvwap_horizon_ms = 60000")), "vwap");
  ASSERT_EQ(vwap.out.code, 0) << vwap.out.text;
  const Out z = shell("zcat " + enigma::testing::kBinanceSession + " | grep '\"e\":\"trade\"'");
  ASSERT_EQ(z.code, 0);
  std::vector<std::pair<std::int64_t, std::int64_t>> tape;  // (local ns, qty in lots of 0.001)
  {
    std::istringstream in(z.text);
    for (std::string line; std::getline(in, line);) {
      const auto q = line.find("\"q\":\"");
      ASSERT_NE(q, std::string::npos) << line;
      const std::string qty = line.substr(q + 5, line.find('"', q + 5) - q - 5);
      tape.emplace_back(std::stoll(line.substr(0, line.find(' '))), std::llround(std::stod(qty) * 1000));
    }
  }
  ASSERT_GT(tape.size(), 1000u);
  constexpr std::int64_t kHorizon = 60'000 * kMs;
  std::size_t uneven = 0;
  const auto sizes_for = [&](const Entry& e) {
    const std::int64_t sent = e.t - 500'000;  // the entry left [sim] order_latency_us before its fill
    std::array<std::int64_t, 4> vol{};
    std::int64_t total = 0;
    for (const auto& [t, q] : tape)
      if (t >= sent - kHorizon && t < sent) {
        vol[static_cast<std::size_t>((t - (sent - kHorizon)) * 4 / kHorizon)] += q;
        total += q;
      }
    std::vector<std::int64_t> out;
    if (total == 0) return std::vector<std::int64_t>{2, 2, 2, 4};  // no volume: equal children, as TWAP
    std::int64_t sum = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      out.push_back(1 + 6 * vol[k] / total);
      sum += out.back();
    }
    out.push_back(kOrderLots - sum);
    if (out != std::vector<std::int64_t>{2, 2, 2, 4}) ++uneven;
    return out;
  };
  const TimedResult res = check_timed(vwap, entries, 4, 1000 * kMs, sizes_for);
  EXPECT_GE(res.complete, 10u) << "ended by an exit " << res.ended_by_exit;
  EXPECT_GE(uneven, 10u) << "the profile must shape the children";
  EXPECT_LE(static_cast<std::int64_t>(res.unexplained), counter(vwap.summary, "risk_rejects"));
  EXPECT_EQ(static_cast<std::int64_t>(res.matched), counter(vwap.summary, "exec_children")) << vwap.summary;
  EXPECT_EQ(counter(vwap.summary, "vwap_fallbacks"), 0);
}

TEST(EngineExecAlgo, IcebergSendsEachDisplayedChildAfterThePreviousFilled) {
  const ReplayRun& single = single_run();
  ASSERT_EQ(single.out.code, 0) << single.out.text;
  const std::vector<Entry> entries = entries_of(single.rows);
  const ReplayRun ice = replay(edited("iceberg", execution("execution = \"iceberg\"\ndisplay_qty = \"0.003\"")), "iceberg");
  ASSERT_EQ(ice.out.code, 0) << ice.out.text;
  // 0.01 shown 0.003 at a time: 0.003, 0.003, 0.003, then 0.001.
  const std::vector<std::int64_t> want{3, 3, 3, 1};
  // A child leaves once the previous fill's report is back (500 us feed latency) and fills 500 us later.
  constexpr std::int64_t kAfterFill = 1 * kMs;
  std::size_t matched = 0, complete = 0;
  for (const Entry& e : entries) {
    std::size_t k = 0;
    std::int64_t sum = 0, prev = 0;
    for (const Row& r : ice.rows) {
      if (r.t < e.t) continue;
      if (r.buy != e.buy) break;  // the position is being closed: the parent has ended
      if (k == want.size()) break;
      ASSERT_EQ(r.lots, want[k]) << "entry at " << e.t << " child " << k;
      if (k == 0) EXPECT_EQ(r.t, e.t);
      else EXPECT_GE(r.t, prev + kAfterFill) << "child " << k << " of the entry at " << e.t << " before its predecessor's fill came back";
      prev = r.t;
      sum += r.lots;
      ++k;
    }
    ASSERT_GE(k, 1u) << "no first child at the single run's entry time " << e.t;
    matched += k;
    if (sum == kOrderLots) ++complete;
  }
  EXPECT_GE(complete, 10u);
  EXPECT_EQ(static_cast<std::int64_t>(matched), counter(ice.summary, "exec_children")) << ice.summary;
  EXPECT_EQ(counter(ice.summary, "risk_rejects"), 0) << "children are paced so no bracket leg meets the rate limit";
}

TEST(EngineExecAlgo, ParentsEndingFirstCancelTheirUnsentChildren) {
  // An interval longer than the 6-minute session: every parent's later children are still unsent when it
  // ends (strategy exit, stop, or the end-of-data stop), so each entry is one 0.002 child and 3 never leave.
  const ReplayRun r = replay(edited("twap-long", execution("execution = \"twap\"\nslices = 4\nslice_interval_ms = 600000")), "twap-long");
  ASSERT_EQ(r.out.code, 0) << r.out.text;
  const std::vector<Entry> entries = entries_of(r.rows);
  ASSERT_GT(entries.size(), 0u);
  std::int64_t pos = 0;
  for (const Row& row : r.rows) {
    if (pos == 0 || (pos > 0) == row.buy) EXPECT_EQ(row.lots, 2) << "an entry fill other than the first child at " << row.t;
    pos += row.buy ? row.lots : -row.lots;
  }
  EXPECT_EQ(counter(r.summary, "exec_children"), static_cast<std::int64_t>(entries.size()));
  EXPECT_EQ(counter(r.summary, "exec_children_cancelled"), 3 * static_cast<std::int64_t>(entries.size())) << r.summary;
}

TEST(EngineExecAlgo, BadKeysAreStartUpErrorsNamingTheKey) {
  const auto expect_error = [](const std::string& name, const std::string& keys, const std::vector<std::string>& needles) {
    const Out o = shell("cd " + std::string(ENIGMA_SOURCE_DIR) + " && " + ENIGMA_BINARY + " replay --quiet --config " +
                        edited(name, execution(keys)) + " --runs-dir " + ::testing::TempDir() + "/exec-runs-bad");
    EXPECT_EQ(o.code, 3) << keys << ": " << o.text;
    for (const auto& n : needles) EXPECT_NE(o.text.find(n), std::string::npos) << "missing '" << n << "' in: " << o.text;
  };
  const Out list = enigma::testing::run_enigma("strategies");
  EXPECT_NE(list.text.find("execution = \"single\"  single|twap|iceberg|vwap"), std::string::npos) << list.text;
  expect_error("bad-execution", "execution = \"pov\"", {"execution", "pov"});
  expect_error("vwap-no-horizon", "execution = \"vwap\"\nslices = 4\nslice_interval_ms = 100", {"vwap_horizon_ms", "required"});
  expect_error("horizon-twap", "execution = \"twap\"\nslices = 4\nslice_interval_ms = 100\nvwap_horizon_ms = 1000",
               {"vwap_horizon_ms", "only used with execution = \"vwap\""});
  expect_error("slices-single", "slices = 4", {"slices", "only used with execution = \"twap\""});
  expect_error("twap-no-interval", "execution = \"twap\"\nslices = 4", {"slice_interval_ms", "required"});
  expect_error("twap-tiny", "execution = \"twap\"\nslices = 20\nslice_interval_ms = 100", {"slices", "0.01", "lot 0.001"});
  expect_error("ice-no-display", "execution = \"iceberg\"", {"display_qty", "required"});
  expect_error("ice-off-lot", "execution = \"iceberg\"\ndisplay_qty = \"0.0025\"", {"display_qty", "0.0025", "lot 0.001"});
  expect_error("ice-whole", "execution = \"iceberg\"\ndisplay_qty = \"0.01\"", {"display_qty", "below"});
  expect_error("display-twap", "execution = \"twap\"\nslices = 2\nslice_interval_ms = 100\ndisplay_qty = \"0.002\"",
               {"display_qty", "only used with execution = \"iceberg\""});
}

// The end of the data stops the engine (on_stop): a parent still running then never sends its later children.
// In-process with a 2 s data window: the first entry (0.37 s after the data's first event) has sent the children due before
// the window's last event and no more; the rest are counted as never sent.
TEST(EngineExecAlgo, StopAtTheEndOfTheDataCancelsTheUnsentChildren) {
  using namespace enigma;
  using namespace enigma::engine;
  const auto run = [](const std::string& cfg, std::vector<TradeRow>* trades, TradingCore::Counters* counters) {
    RunConfig rc = RunConfig::load(cfg);
    rc.data = {enigma::testing::kBinanceSession};
    InstrumentRegistry registry;
    rc.fill_registry(registry);
    strategy::StrategyStage strategies(rc.make_strategies());
    TradingCoreConfig trading = rc.trading;
    trading.journal_path = enigma::testing::fresh_path("exec-journal");
    TradingCore core(registry, trading);
    PipelineOptions po;
    po.venue = rc.venue;
    po.progress = false;
    po.data_window_ns = 2'000'000'000;
    const PipelineResult r = run_pipeline(rc.data, registry, strategies, core, po);
    *trades = core.trades();
    *counters = core.counters();
    return r;
  };
  std::vector<TradeRow> single_trades, twap_trades;
  TradingCore::Counters single_c{}, twap_c{};
  (void)run(edited("window-single", {}), &single_trades, &single_c);
  ASSERT_FALSE(single_trades.empty()) << "no entry in the first 2 s";
  const std::int64_t t0 = single_trades.front().time_ns;  // the first entry's fill (sent 500 us before)
  const PipelineResult r =
      run(edited("window-twap", execution("execution = \"twap\"\nslices = 4\nslice_interval_ms = 1000")), &twap_trades, &twap_c);
  // Child k is due at the first child's send time + k x 1 s; only those due by the data's last event leave.
  std::int64_t due = 0;
  for (int k = 0; k < 4; ++k) due += t0 - 500'000 + k * 1000 * kMs <= r.data_end_ns ? 1 : 0;
  ASSERT_GT(due, 0);
  ASSERT_LT(due, 4) << "the window must end while the parent is still running: entry " << t0 - r.data_start_ns << " ns in, data ends " << r.data_end_ns - r.data_start_ns;
  std::int64_t exits = 0;
  for (const TradeRow& t : twap_trades) exits += t.side != single_trades.front().side && t.time_ns <= r.data_end_ns;  // not the end-of-data flatten
  ASSERT_EQ(exits, 0) << "the parent must not end by an exit inside the window (the test's premise)";
  EXPECT_EQ(twap_c.exec_children, static_cast<std::uint64_t>(due));
  EXPECT_EQ(twap_c.exec_children_cancelled, static_cast<std::uint64_t>(4 - due));
  for (const TradeRow& t : twap_trades)
    if (t.side == single_trades.front().side) EXPECT_LE(t.time_ns, r.data_end_ns + 1 * kMs) << "an entry child after the stop";
}

// POST /kill while a TWAP parent runs (recorded pace, a 4 s window): the first entry opens ~0.37 s in, its later
// children are due 1, 2 and 3 s after it; the kill comes as soon as /positions shows the position, so at least
// the last child is still unsent then. The kill latches, ends the parent, and no entry fill follows it.
TEST(EngineExecAlgo, KillCancelsTheUnsentChildren) {
  using namespace enigma;
  using namespace enigma::engine;
  namespace http = boost::beast::http;
  RunConfig rc = RunConfig::load(edited("kill-twap", execution("execution = \"twap\"\nslices = 4\nslice_interval_ms = 1000")));
  rc.data = {enigma::testing::kBinanceSession};
  rc.trading.supervisor.on_kill = StopPolicy::keep_protected;
  rc.trading.supervisor.on_stop = StopPolicy::keep_protected;
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(rc.make_strategies());
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = enigma::testing::fresh_path("exec-kill-journal");
  TradingCore core(registry, trading);
  PipelineOptions po;
  po.venue = rc.venue;
  po.progress = false;
  po.speed = Speed::recorded;
  po.data_window_ns = 4'000'000'000;
  SpscRing<AdminCommand> ring(64);
  AdminServer server("127.0.0.1", 0, "tok", ring);
  server.start();
  StatusPublisher status(server, registry, "replay", 10'000'000);
  po.admin = &ring;
  po.status = &status;
  PipelineResult r;
  std::thread run([&] { r = run_pipeline(rc.data, registry, strategies, core, po); });
  const bool in_position = enigma::testing::wait_for(
      [&] { return enigma::testing::http_get_or_empty(server.port(), "/positions").find("\"symbol\"") != std::string::npos; }, 10000);
  const auto answer = enigma::testing::http_request(server.port(), http::verb::post, "/kill", "tok");
  run.join();
  server.stop();
  ASSERT_TRUE(in_position) << "no position in the first 4 s of data";
  EXPECT_EQ(answer.result_int(), 202) << answer.body();
  EXPECT_TRUE(core.risk().kill_switch().latched());
  const TradingCore::Counters& c = core.counters();
  EXPECT_EQ(c.exec_children + c.exec_children_cancelled, 4u) << "one parent of 4 children";
  EXPECT_GE(c.exec_children_cancelled, 1u) << "the kill came before the last child was due";
  std::int64_t entry_lots = 0;
  for (const TradeRow& t : core.trades())
    if (t.side == core.trades().front().side) entry_lots += t.qty.raw() / (Qty::kScale / 1000);
  // What filled on the entry side is what the children sent: 0.002 each, 0.004 for the last (never sent here).
  EXPECT_EQ(entry_lots, static_cast<std::int64_t>(c.exec_children) * 2) << "children sent " << c.exec_children;
  EXPECT_EQ(core.unprotected_positions(), 0u);
}

// Venue-native iceberg (issue 15 item 6) through `enigma replay` on KuCoin Futures, whose order entry takes
// `iceberg` + `visibleSize` on a GTC limit. The capture is written here in cryptofeed's raw format with the
// venue's own message shapes (REST level2 snapshot, /contractMarket/level2 and /execution): XBTUSDTM, five bid
// levels of 100 contracts at 49999.9 .. 49999.5 and five ask levels of 10 from 50000.0, so the book imbalance
// (450/550) is long from the first book; the third book event completes confirm_updates = 3 and the imbalance
// strategy buys 40 contracts resting at the best bid (entry_pricing = "level", entry_level = 1), showing 2.
// Then sells trade at 49999.9: 100, 3, 100, 1, 1, and one trade through at 49999.8. Worked by hand:
//   native (one order, the sim's iceberg model): 100 clears the queue ahead; of 3 the visible 2 fill and the
//     refill goes behind the level's 100; 100 clears it; 1 + 1 fill the next visible 2 (refill behind 100);
//     the trade through fills the other 36. Fills 2, 1, 1, 36 of one client order id; each pays the taker
//     rate (KuCoin charges iceberg orders as takers): 2 x 0.001 x 49999.9 x 0.0004 = 0.03999992.
//   iceberg_native = false (sliced by the engine): a child leaves when its predecessor's fill report is back
//     (the book frame after the trade that filled it). Child 1 (2) fills on the 3, child 2 rests behind 100
//     and fills 1 + 1, child 3 rests behind 100 and fills its 2 on the trade through: fills 2, 1, 1, 2 of
//     three client order ids at the maker rate (2 x 0.001 x 49999.9 x 0.0002 = 0.01999996).
namespace {

// `partials`: the trades after the queue ahead cleared are 1 and 1 (100 ms apart) and then the trade through,
// for the bracket test below.
std::string kucoin_iceberg_capture(bool partials = false) {
  const std::string ws = "wss://ws-api-futures.kucoin.com/endpoint?token=TOKEN";
  std::ostringstream f;
  f << ws << " <-> 1700000000.000000\n";
  f << "https://api-futures.kucoin.com/api/v1/level2/snapshot?symbol=XBTUSDTM -> 1700000000.100000: "
    << R"({"code":"200000","data":{"sequence":100,"symbol":"XBTUSDTM","bids":[[49999.9,100],[49999.8,100],[49999.7,100],[49999.6,100],[49999.5,100]],)"
    << R"("asks":[[50000,10],[50000.1,10],[50000.2,10],[50000.3,10],[50000.4,10]],"ts":1700000000100000000}})" << "\n";
  // Frames 100 ms apart, each stamped by the venue 1 ms before we received it.
  std::int64_t seq = 100;
  std::int64_t t_ms = 1700000000200;
  std::int64_t venue_ms = 0;
  const auto stamp = [&] {
    char ts[32];
    std::snprintf(ts, sizeof ts, "%lld.%03lld000", static_cast<long long>(t_ms / 1000), static_cast<long long>(t_ms % 1000));
    venue_ms = t_ms - 1;
    t_ms += 100;
    return std::string(ts);
  };
  // Book changes far from the touch (bids stay 100 each at the top five; the asks' sixth level changes).
  int far_size = 5;
  const auto far_change = [&] {
    ++seq;
    f << stamp() << ": "
      << R"({"topic":"/contractMarket/level2:XBTUSDTM","type":"message","subject":"level2","sn":)" << seq
      << R"(,"data":{"sequence":)" << seq << R"(,"change":"50000.9,sell,)" << far_size++ << R"(","timestamp":)" << venue_ms << "}}\n";
  };
  for (int i = 0; i < 4; ++i) far_change();
  const auto trade = [&](const char* price, int size) {
    ++seq;
    f << stamp() << ": "
      << R"({"topic":"/contractMarket/execution:XBTUSDTM","type":"message","subject":"match","sn":)" << seq
      << R"(,"data":{"symbol":"XBTUSDTM","sequence":)" << seq << R"(,"side":"sell","size":)" << size << R"(,"price":")" << price
      << R"(","takerOrderId":"1","makerOrderId":"2","tradeId":")" << seq << R"(","ts":)" << venue_ms * 1'000'000 << "}}\n";
  };
  // A book frame after the fill of each sliced child: the next child leaves then, before the next trade.
  if (partials) {
    for (int size : {100, 1, 1}) trade("49999.9", size);
  } else {
    trade("49999.9", 100);
    trade("49999.9", 3);
    far_change();
    for (int size : {100, 1, 1}) trade("49999.9", size);
  }
  far_change();
  trade("49999.8", 50);
  if (partials) far_change();  // the last fill's report is back (and its legs sent) before the data ends
  const std::string path = ::testing::TempDir() + (partials ? "/kucoin-partials.raw.txt" : "/kucoin-iceberg.raw.txt");
  std::ofstream(path) << f.str();
  return path;
}

struct FillRow {
  std::string id;
  std::int64_t contracts;
  std::string fee;
  std::string liquidity;
  std::string reason;
};

std::vector<FillRow> entry_fills(const std::string& runs) {
  fs::path dir;
  for (const auto& e : fs::directory_iterator(runs)) dir = e.path();
  std::istringstream in(slurp(dir / "trades.csv"));
  std::string line;
  std::getline(in, line);
  std::vector<FillRow> out;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
    if (f.size() < 10 || f[2] != "buy") continue;  // the entry's fills (the end-of-data flatten sells)
    out.push_back({f[7], std::stoll(f[4]), f[5], f[6], f[8]});
  }
  return out;
}

// `execution`: the strategy keys after entry_level (an execution algorithm, or none).
Out kucoin_run(const std::string& name, const std::string& execution, bool partials) {
  const std::string cfg = edited(name, {{"venue = \"binance-usdm\"", "venue = \"kucoin-futures\""},
                                        {"data = [\"data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz\"]",
                                         "data = [\"" + kucoin_iceberg_capture(partials) + "\"]"},
                                        {"symbol = \"BTCUSDT\"", "symbol = \"XBTUSDTM\"\nmultiplier = \"0.001\""},
                                        {"lot = \"0.001\"", "lot = \"1\""},
                                        {"max_order_qty = \"0.05\"", "max_order_qty = \"100\""},
                                        {"max_position_qty = \"0.1\"", "max_position_qty = \"100\""},
                                        {"order_qty = \"0.01\"", "order_qty = \"40\""},
                                        {"entry_pricing = \"intent\"", "entry_pricing = \"level\"\nentry_level = 1\n" + execution}});
  const std::string runs = ::testing::TempDir() + "/exec-runs-" + name;
  fs::remove_all(runs);
  Out o = shell("cd " + std::string(ENIGMA_SOURCE_DIR) + " && " + ENIGMA_BINARY + " replay --quiet --config " + cfg +
                " --runs-dir " + runs);
  if (o.code == 0 && fs::exists(runs)) o.text += slurp(fs::directory_iterator(runs)->path() / "logs" / "enigma.log");
  return o;
}

Out kucoin_replay(const std::string& name, const std::string& display, const std::string& extra) {
  return kucoin_run(name, "execution = \"iceberg\"\ndisplay_qty = \"" + display + "\"\n" + extra, false);
}

}  // namespace

TEST(EngineExecAlgo, KucoinFuturesIcebergIsTheVenuesOwnOrderElseSliced) {
  const std::string native_runs = ::testing::TempDir() + "/exec-runs-kucoin-native";
  const Out native = kucoin_replay("kucoin-native", "2", "");
  ASSERT_EQ(native.code, 0) << native.text;
  const std::vector<FillRow> nf = entry_fills(native_runs);
  ASSERT_EQ(nf.size(), 4u) << native.text;
  const std::int64_t want_native[] = {2, 1, 1, 36};
  for (std::size_t i = 0; i < nf.size(); ++i) {
    EXPECT_EQ(nf[i].contracts, want_native[i]) << i;
    EXPECT_EQ(nf[i].id, nf[0].id) << "one order, refilled by the venue";
    EXPECT_EQ(nf[i].liquidity, "maker") << i;
    EXPECT_EQ(nf[i].reason, "imbalance_entry") << i;
  }
  EXPECT_EQ(std::stod(nf[0].fee), 0.03999992);  // the taker rate on a resting fill
  EXPECT_NE(native.text.find("iceberg_native id=" + nf[0].id + " venue=kucoin-futures qty=40 visible=2"), std::string::npos)
      << native.text;
  const std::string ns = slurp(fs::directory_iterator(native_runs)->path() / "summary.json");
  EXPECT_EQ(counter(ns, "native_icebergs"), 1) << ns;
  // The equal visible parts (1 and 1) get equal bracket legs; neither is refused as a repeat of the other.
  EXPECT_EQ(native.text.find("reason=duplicate_order"), std::string::npos) << native.text;
  EXPECT_EQ(counter(ns, "exec_children"), 0) << ns;

  const std::string sliced_runs = ::testing::TempDir() + "/exec-runs-kucoin-sliced";
  const Out sliced = kucoin_replay("kucoin-sliced", "2", "iceberg_native = false\n");
  ASSERT_EQ(sliced.code, 0) << sliced.text;
  const std::vector<FillRow> sf = entry_fills(sliced_runs);
  ASSERT_EQ(sf.size(), 4u) << sliced.text;
  const std::int64_t want_sliced[] = {2, 1, 1, 2};
  for (std::size_t i = 0; i < sf.size(); ++i) EXPECT_EQ(sf[i].contracts, want_sliced[i]) << i;
  EXPECT_NE(sf[0].id, sf[1].id);
  EXPECT_EQ(sf[1].id, sf[2].id);
  EXPECT_NE(sf[2].id, sf[3].id);
  EXPECT_EQ(std::stod(sf[0].fee), 0.01999996);  // the maker rate
  EXPECT_EQ(sliced.text.find("iceberg_native"), std::string::npos);
  const std::string ss = slurp(fs::directory_iterator(sliced_runs)->path() / "summary.json");
  EXPECT_EQ(counter(ss, "native_icebergs"), 0) << ss;
  EXPECT_EQ(counter(ss, "exec_children"), 3) << ss;

  // 40 showing 1 is below KuCoin's 1/20 minimum visible size: the engine slices it and says why.
  const Out unfit = kucoin_replay("kucoin-unfit", "1", "");
  ASSERT_EQ(unfit.code, 0) << unfit.text;
  EXPECT_NE(unfit.text.find("iceberg_sliced venue=kucoin-futures qty=40 visible=1 why=visible_size_outside_venue_rule"),
            std::string::npos) << unfit.text;
  const std::string us = slurp(fs::directory_iterator(::testing::TempDir() + "/exec-runs-kucoin-unfit")->path() / "summary.json");
  EXPECT_EQ(counter(us, "native_iceberg_unfit"), 1) << us;
  EXPECT_EQ(counter(us, "native_icebergs"), 0) << us;
}

// Each fill of an entry gets its own protective legs. Two equal partial fills of one ordinary resting entry,
// 100 ms apart (inside the risk gate's 500 ms duplicate window), get equal legs: both pairs must go out, or
// half of the position is unprotected. The KuCoin Futures capture above with `partials`: the 40-contract bid
// rests behind 100 at 49999.9; trades of 100 (the queue ahead), 1 and 1, then 50 through the level: fills
// 1, 1 and 38 of one client order id, each followed by a stop and a take-profit of its own size.
TEST(EngineBrackets, EqualPartialFillsOfOneRestingEntryEachGetTheirLegs) {
  const std::string runs = ::testing::TempDir() + "/exec-runs-kucoin-partials";
  const Out o = kucoin_run("kucoin-partials", "", true);
  ASSERT_EQ(o.code, 0) << o.text;
  const std::vector<FillRow> f = entry_fills(runs);
  ASSERT_EQ(f.size(), 3u) << o.text;
  const std::int64_t want[] = {1, 1, 38};
  for (std::size_t i = 0; i < f.size(); ++i) {
    EXPECT_EQ(f[i].contracts, want[i]) << i;
    EXPECT_EQ(f[i].id, f[0].id) << "one resting entry";
  }
  EXPECT_EQ(o.text.find("reason=duplicate_order"), std::string::npos) << o.text;
  // The legs as sent: a stop and a take-profit for each fill, sized like it.
  std::map<std::string, std::vector<std::string>> legs;  // type -> qty of each
  std::istringstream log(o.text);
  for (std::string line; std::getline(log, line);) {
    if (line.find("order_sent") == std::string::npos || line.find("reduce_only=true") == std::string::npos) continue;
    const auto field = [&](const std::string& key) {
      const auto at = line.find(" " + key + "=");
      if (at == std::string::npos) return std::string();
      const auto from = at + key.size() + 2;
      return line.substr(from, line.find(' ', from) - from);
    };
    legs[field("type")].push_back(field("qty"));
  }
  EXPECT_EQ(legs["STOP_MARKET"], (std::vector<std::string>{"1", "1", "38"})) << o.text;
  EXPECT_EQ(legs["TAKE_PROFIT_MARKET"], (std::vector<std::string>{"1", "1", "38"})) << o.text;
}
