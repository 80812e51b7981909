// The order path (issue 12 part A):
//  * the warm-up dry run sends nothing and counts nothing: a replay that warms every microsecond makes the
//    same orders, fills, trades, rejects and journal as one that never warms, in both topologies, and it
//    allocates nothing on the pipeline threads after warm-up (it runs on them);
//  * a journal segment is pre-faulted writable: appending 2,000 orders (125 fresh 4 KiB pages) takes no
//    page fault on the appending thread;
//  * the applied layout (topology, the CPU each thread is pinned to, idle policy) is logged at start and
//    written to summary.json, by the `enigma` binary;
//  * `enigma tune-report --quick` writes every section and an [engine] block that loads as config.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "engine/bench.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "oms/journal.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/enigma_process.hpp"

using namespace enigma;
using namespace enigma::engine;
namespace fs = std::filesystem;

namespace {

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kData = kSrc + "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";

std::string fresh_dir(const std::string& what) {
  static int n = 0;
  const std::string d =
      ::testing::TempDir() + "/enigma-path-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

using enigma::testing::Out;
using enigma::testing::run_enigma;

std::uint64_t counting() noexcept { return test::thread_allocations_ever(); }

struct Replay {
  PipelineResult result;
  std::vector<TradeRow> trades;
  std::uint64_t warm_runs{0};
  std::uint64_t risk_accepted_rejects{0};
  std::uint64_t journal_records{0};
  std::uint64_t encode_errors{0};
  std::string last_order_bytes;  // the last order request the core encoded and signed
};

// config/replay.toml over `data` (its venue set to `venue`).
Replay replay(Topology topology, std::int64_t warm_interval_ns, const std::string& venue = "binance-usdm",
              const std::string& data = kData) {
  const std::string cfg = fresh_dir("config") + "/replay.toml";
  {
    std::string text = slurp(kSrc + "/config/replay.toml");
    const std::string from = "venue = \"binance-usdm\"";
    text.replace(text.find(from), from.size(), "venue = \"" + venue + "\"");
    std::ofstream(cfg) << text;
  }
  RunConfig rc = RunConfig::load(cfg);
  rc.data = {data};
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(rc.make_strategies());
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_dir("journal") + "/journal.bin";
  TradingCore core(registry, trading);
  PipelineOptions po;
  po.venue = rc.venue;
  po.topology = topology;
  po.progress = false;
  po.warmup_frames = 5000;
  po.warm_interval_ns = warm_interval_ns;
  set_thread_alloc_counter(&counting);
  Replay r;
  {
    test::AllocationScope scope;
    r.result = run_pipeline(rc.data, registry, strategies, core, po);
  }
  r.trades = core.trades();
  r.warm_runs = core.warm_runs();
  std::uint64_t rejects = 0;
  for (int i = 0; i < risk::kRejectReasonCount; ++i)
    rejects += core.risk().reject_count(static_cast<risk::RejectReason>(i));
  r.risk_accepted_rejects = rejects;
  r.journal_records = core.order_manager().journal().records();
  r.encode_errors = core.counters().encode_errors;
  r.last_order_bytes = std::string(core.last_encoded_bytes());
  return r;
}

void expect_same_trading(const Replay& warm, const Replay& cold) {
  EXPECT_EQ(warm.result.orders.orders, cold.result.orders.orders);
  EXPECT_EQ(warm.result.orders.fills, cold.result.orders.fills);
  EXPECT_EQ(warm.result.orders.cancels, cold.result.orders.cancels);
  EXPECT_EQ(warm.result.orders.risk_rejects, cold.result.orders.risk_rejects);
  EXPECT_EQ(warm.risk_accepted_rejects, cold.risk_accepted_rejects);          // the gate counted no dry-run reject
  EXPECT_EQ(warm.journal_records, cold.journal_records);                      // nothing journaled by the dry run
  EXPECT_EQ(warm.result.hist.order.count(), cold.result.hist.order.count());  // no dry run in the histograms
  ASSERT_EQ(warm.trades.size(), cold.trades.size());
  for (std::size_t i = 0; i < warm.trades.size(); ++i) {
    EXPECT_EQ(warm.trades[i].client_id, cold.trades[i].client_id);  // no client id used up by the dry run
    EXPECT_EQ(warm.trades[i].price, cold.trades[i].price);
    EXPECT_EQ(warm.trades[i].qty, cold.trades[i].qty);
  }
}

}  // namespace

TEST(OrderPath, WarmDryRunSendsAndCountsNothingAndAllocatesNothingFused) {
  const Replay cold = replay(Topology::fused, 0);
  const Replay warm = replay(Topology::fused, 1000);  // every microsecond: many dry runs between orders
  EXPECT_EQ(cold.warm_runs, 0u);
  EXPECT_GT(warm.warm_runs, 1000u);
  ASSERT_GT(cold.result.orders.orders, 0u);
  expect_same_trading(warm, cold);
  EXPECT_EQ(warm.result.hot_allocations, 0u);
  // Frames whose own intents sent an order: at least one, never more than the orders.
  EXPECT_GT(warm.result.hist.order_frame.count(), 0u);
  EXPECT_LE(warm.result.hist.order_frame.count(), warm.result.orders.orders);
}

// The order frames' time split by stage (bench.md's "By stage" table, the summary's order_frame.* rows): the
// stages of a frame cover its whole frame-in -> first-order-bytes time and nothing twice, so their means add
// up to order_frame's; and each stage's values are a subset of what the stage histograms recorded for every
// frame (decode, book, signal) or every order (risk, journal, encode), so they lie within those minima and
// maxima.
TEST(OrderPath, OrderFramesSplitByStageAddUpToTheirTotal) {
  const Replay r = replay(Topology::fused, 0);
  const StageHistograms& h = r.result.hist;
  const StageHistograms::OrderFrameStages& s = h.order_stages;
  const std::uint64_t n = h.order_frame.count();
  ASSERT_GT(n, 10u);
  double sum_of_means = 0;
  for (const auto& [name, stage] : StageHistograms::OrderFrameStages::named(s)) {
    EXPECT_EQ(stage->count(), n) << name;
    sum_of_means += stage->mean();
  }
  EXPECT_NEAR(sum_of_means, h.order_frame.mean(), 1.0);
  const std::pair<const LatencyHistogram*, const LatencyHistogram*> subsets[] = {
      {&s.decode, &h.decode}, {&s.book, &h.book}, {&s.signal, &h.signal},
      {&s.risk, &h.risk},     {&s.journal, &h.journal}, {&s.encode, &h.encode}};
  for (const auto& [part, all] : subsets) {
    EXPECT_GE(part->min_value(), all->min_value());
    EXPECT_LE(part->max_value(), all->max_value());
    EXPECT_LE(part->count(), all->count());
  }
  // The pipelined topology leaves the split empty (its stages run on three threads).
  const Replay piped = replay(Topology::pipelined, 0);
  EXPECT_GT(piped.result.hist.order_frame.count(), 0u);
  EXPECT_EQ(piped.result.hist.order_stages.decode.count(), 0u);
}

// Each Binance product's orders are encoded for its own endpoints in a replay (the bytes a live gateway would
// send, timed as the order path's encode stage): spot to POST /api/v3/order at api.binance.com with spot's
// parameter names, USD-M to /fapi/v1/order. Every order of the run encoded (no encode error).
TEST(OrderPath, ReplayEncodesEachBinanceProductsOwnOrderRequest) {
  struct Case {
    std::string venue, data, request;
  };
  const std::string d = kSrc + "/data/binance/";
  for (const Case& c : {Case{"binance-spot", d + "hftbacktest_spot_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz",
                             "POST /api/v3/order HTTP/1.1\r\nHost: api.binance.com\r\n"},
                        Case{"binance-usdm", kData, "POST /fapi/v1/order HTTP/1.1\r\nHost: fapi.binance.com\r\n"}}) {
    SCOPED_TRACE(c.venue);
    const Replay r = replay(Topology::fused, 0, c.venue, c.data);
    ASSERT_GT(r.result.orders.orders, 0u);
    EXPECT_EQ(r.encode_errors, 0u);
    const std::string& bytes = r.last_order_bytes;
    EXPECT_TRUE(bytes.starts_with(c.request)) << bytes.substr(0, 200);
    EXPECT_NE(bytes.find("symbol=BTCUSDT&side="), std::string::npos) << bytes;
    EXPECT_EQ(bytes.find("reduceOnly") != std::string::npos && c.venue == "binance-spot", false) << bytes;
  }
}

TEST(OrderPath, WarmDryRunSendsAndCountsNothingAndAllocatesNothingPipelined) {
  const Replay warm = replay(Topology::pipelined, 1000);
  EXPECT_GT(warm.warm_runs, 0u);  // the OMS thread warms while its ring is empty
  EXPECT_EQ(warm.result.hot_allocations, 0u);
  EXPECT_GT(warm.result.orders.orders, 0u);
  EXPECT_GT(warm.result.hist.order_frame.count(), 0u);
  EXPECT_EQ(warm.risk_accepted_rejects, warm.result.orders.risk_rejects);  // only real orders' rejects counted
}

TEST(OrderPath, JournalAppendsTakeNoPageFault) {
  const std::string path = fresh_dir("fault") + "/journal.bin";
  oms::JournalConfig jc;
  jc.max_records = 4096;  // 1 MiB segment
  oms::Journal j(path, jc);
  oms::OrderSpec o{};
  ASSERT_EQ(j.append_order(o, 1, 1), Errc::ok);  // first call: the code's own pages, not the segment's
  rusage before{}, after{};
  ::getrusage(RUSAGE_THREAD, &before);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(j.append_order(o, static_cast<std::uint64_t>(i + 2), i + 2), Errc::ok);
  ::getrusage(RUSAGE_THREAD, &after);
  // 2,000 records of 256 B cross 125 pages never written before; without the pre-fault each one faults.
  EXPECT_LT(after.ru_minflt - before.ru_minflt, 5) << "minor faults while appending";
  EXPECT_EQ(after.ru_majflt - before.ru_majflt, 0);
}

TEST(OrderPath, ReplayLogsAndSummarizesTheAppliedLayout) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
  int cpu = -1;
  for (int c = CPU_SETSIZE - 1; c >= 0 && cpu < 0; --c)
    if (CPU_ISSET(c, &set)) cpu = c;
  const std::string dir = fresh_dir("layout");
  std::string cfg = slurp(kSrc + "/config/replay.toml");
  cfg = std::regex_replace(cfg, std::regex("idle = \"backoff\""),
                           "idle = \"backoff\"\ncores = [" + std::to_string(cpu) + "]\nwarm_interval_us = 250");
  cfg = std::regex_replace(cfg, std::regex("data = \\[\"data/"), "data = [\"" + kSrc + "/data/");
  std::ofstream(dir + "/replay.toml") << cfg;
  const Out o =
      run_enigma("replay --quiet --config " + dir + "/replay.toml --runs-dir " + dir + "/runs --topology pipelined");
  ASSERT_EQ(o.code, 0) << o.text;
  const std::string want = "topology=pipelined feed=cpu" + std::to_string(cpu) +
                           " strategy=unpinned oms=unpinned idle=backoff mlockall=false warm_interval_us=250";
  EXPECT_NE(slurp(dir + "/runs/latest/summary.json").find("\"layout\": \"" + want + "\""), std::string::npos);
  EXPECT_NE(slurp(dir + "/runs/latest/logs/enigma.log").find("engine_layout mode=replay " + want), std::string::npos);
}

TEST(OrderPath, TuneReportQuickWritesEverySectionAndALoadableEngineBlock) {
  const std::string dir = fresh_dir("tune");
  std::string cfg = slurp(kSrc + "/config/replay.toml");
  cfg = std::regex_replace(cfg, std::regex("data = \\[\"data/"), "data = [\"" + kSrc + "/data/");
  std::ofstream(dir + "/replay.toml") << cfg;
  const Out o = run_enigma("tune-report --quick --config " + dir + "/replay.toml --runs-dir " + dir + "/runs");
  ASSERT_EQ(o.code, 0) << o.text;
  fs::path out;
  for (const auto& e : fs::directory_iterator(dir + "/runs"))
    if (e.path().filename().string().rfind("tune-", 0) == 0) out = e.path();
  ASSERT_FALSE(out.empty()) << o.text;
  const std::string md = slurp(out / "tune-report.md");
  for (const char* section :
       {"## Core-to-core hop (ns, one way)", "## Timers (ns per call)", "## Page faults (first write, ns per 4 KiB)",
        "## Replay order path by layout", "## Recommended [engine] block", "## check-host findings"})
    EXPECT_NE(md.find(section), std::string::npos) << section;
  // The layout table has the unpinned run with its orders (the bundled session sends orders).
  EXPECT_TRUE(std::regex_search(md, std::regex("\\| unpinned-backoff \\| unpinned \\| backoff \\| [1-9][0-9]* \\|")))
      << md;
  // The recommended block replaces the sample config's [engine] table and loads.
  const std::string block = slurp(out / "recommended-engine.toml");
  ASSERT_EQ(block.rfind("[engine]\n", 0), 0u) << block;
  const std::size_t eng = cfg.find("[engine]"), next = cfg.find("\n[", eng + 1);
  const std::string merged = cfg.substr(0, eng) + block + cfg.substr(next + 1);
  const RunConfig rc = RunConfig::parse(merged, "recommended-engine.toml");
  EXPECT_EQ(rc.engine.warm_interval_us, 100);
  if (block.find("cores = [") != std::string::npos) {
    EXPECT_FALSE(rc.engine.cores.empty());
  }
}

// The bench's live loopback section (filled by perf/live/bench_tick_to_wire per transport): a row per
// transport with its percentiles, and the targets judged on the transport with the lowest tick-to-wire p50,
// here io_uring (97 of 100 at 12 us and 3 at 60 us: p50 12 us, p99 60 us; signed -> kernel 1.5 us), by hand.
TEST(OrderPath, BenchLiveSectionJudgesTheTargetsOnTheBestTransport) {
  using enigma::engine::LiveTransportFigures;
  EXPECT_NE(enigma::engine::format_live_section({}).find("Not measured"), std::string::npos);
  LiveTransportFigures asio{"asio", 3, {}, {}};
  for (long long v : {80'000, 90'000, 100'000}) asio.tick_to_wire.record(v), asio.signed_to_kernel.record(50'000);
  LiveTransportFigures uring{"io_uring", 5, {}, {}};
  for (int i = 0; i < 100; ++i) uring.tick_to_wire.record(i < 97 ? 12'000 : 60'000), uring.signed_to_kernel.record(1'500);
  const std::string md = enigma::engine::format_live_section({asio, uring}, "how it was measured");
  EXPECT_NE(md.find("how it was measured"), std::string::npos) << md;
  EXPECT_NE(md.find("| asio | 3 | 3 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| io_uring | 5 | 100 |"), std::string::npos) << md;
  EXPECT_NE(md.find("best transport (io_uring"), std::string::npos) << md;
  EXPECT_NE(md.find("signed -> kernel p50 <= 2000 ns: met"), std::string::npos) << md;
  EXPECT_NE(md.find("tick-to-wire p50 <= 15000 ns: met"), std::string::npos) << md;
  EXPECT_NE(md.find("p99 <= 50000 ns: NOT met"), std::string::npos) << md;
  EXPECT_EQ(md.find("Kill switch"), std::string::npos) << "no kill figures, no kill table";
  // The kill table: asio 10 kills all at 80 us; io_uring 10 kills, 9 at 20 us and one at 70 us. io_uring has
  // the lower p99 (70 us), still over the 50 us target; with all 10 at 20 us it meets it.
  asio.kills = 10, asio.kill_cancels = 30;
  uring.kills = 10, uring.kill_cancels = 40;
  for (int i = 0; i < 10; ++i) asio.kill_to_wire.record(80'000), uring.kill_to_wire.record(i < 9 ? 20'000 : 70'000);
  const std::string kill_md = enigma::engine::format_live_section({asio, uring});
  EXPECT_NE(kill_md.find("| asio | 10 | 30 | 10 |"), std::string::npos) << kill_md;
  EXPECT_NE(kill_md.find("| io_uring | 10 | 40 | 10 |"), std::string::npos) << kill_md;
  EXPECT_NE(kill_md.find("best transport (io_uring, lowest p99): kill -> every cancel on the wire <= 50000 ns: NOT met"),
            std::string::npos) << kill_md;
  uring.kill_to_wire = {};
  for (int i = 0; i < 10; ++i) uring.kill_to_wire.record(20'000);
  EXPECT_NE(enigma::engine::format_live_section({asio, uring}).find("<= 50000 ns: met (p99 "), std::string::npos);
}
