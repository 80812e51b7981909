// Full-pipeline proofs on the bundled real session (Binance USD-M BTCUSDT 2024-08-08):
//  * determinism: the same input and config give identical trades and counters;
//  * zero heap allocations on the pipeline threads after warm-up, in both topologies;
//  * the book the pipeline publishes agrees with the venue's own bookTicker at the same update id.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include <string>

#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/engine_test_support.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::fresh_path;

namespace {

const std::string& kData = enigma::testing::kBinanceSession;

std::uint64_t counting() noexcept { return test::thread_allocations_ever(); }

RunConfig test_config() {
  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  rc.data = {kData};
  return rc;
}

struct ReplayRun {
  PipelineResult result;
  std::vector<TradeRow> trades;
  Notional equity;
};

ReplayRun replay(const RunConfig& rc, Topology topology) {
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(rc.make_strategies());
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_path("journal");
  TradingCore core(registry, trading);
  PipelineOptions po;
  po.venue = rc.venue;
  po.topology = topology;
  po.progress = false;
  po.warmup_frames = 5000;
  // Count allocations on every pipeline thread from the start; the pipeline reads the counter at
  // warm-up and at the end of each thread's run.
  set_thread_alloc_counter(&counting);
  ReplayRun r;
  {
    test::AllocationScope scope;  // enables counting on this (feed) thread
    r.result = run_pipeline(rc.data, registry, strategies, core, po);
  }
  r.trades = core.trades();
  r.equity = core.last_equity();
  return r;
}

}  // namespace

TEST(EngineReplay, FusedRunIsDeterministicAndTrades) {
  const RunConfig rc = test_config();
  const ReplayRun a = replay(rc, Topology::fused);
  const ReplayRun b = replay(rc, Topology::fused);
  EXPECT_EQ(a.result.frames, 93954u);  // every line of the capture
  EXPECT_EQ(a.result.decode_errors, 0u);
  EXPECT_GT(a.result.orders.orders, 0u);
  EXPECT_GT(a.result.orders.fills, 0u);
  ASSERT_EQ(a.trades.size(), b.trades.size());
  for (std::size_t i = 0; i < a.trades.size(); ++i) {
    EXPECT_EQ(a.trades[i].time_ns, b.trades[i].time_ns);
    EXPECT_EQ(a.trades[i].price, b.trades[i].price);
    EXPECT_EQ(a.trades[i].qty, b.trades[i].qty);
    EXPECT_EQ(a.trades[i].client_id, b.trades[i].client_id);
  }
  EXPECT_EQ(a.equity, b.equity);
  EXPECT_EQ(a.result.orders.orders, b.result.orders.orders);
  EXPECT_EQ(a.result.book_checks, b.result.book_checks);
}

TEST(EngineReplay, PublishedBookAgreesWithVenueTopOfBook) {
  const ReplayRun r = replay(test_config(), Topology::fused);
  // The venue's bookTicker at the same update id as our rebuilt book: every comparison must agree.
  EXPECT_GT(r.result.book_checks, 500u);
  EXPECT_EQ(r.result.book_mismatches, 0u);
  EXPECT_EQ(r.result.gaps, 0u);
  EXPECT_EQ(r.result.crossed, 0u);
}

TEST(EngineReplay, NoHotPathAllocationsAfterWarmupFused) {
  const ReplayRun r = replay(test_config(), Topology::fused);
  EXPECT_GT(r.result.orders.orders, 0u);  // the order path ran, not just market data
  EXPECT_EQ(r.result.hot_allocations, 0u);
}

TEST(EngineReplay, PipelinedMatchesFusedOnMarketDataAndAllocatesNothing) {
  const RunConfig rc = test_config();
  const ReplayRun f = replay(rc, Topology::fused);
  const ReplayRun p = replay(rc, Topology::pipelined);
  EXPECT_EQ(p.result.frames, f.result.frames);
  EXPECT_EQ(p.result.events, f.result.events);
  EXPECT_EQ(p.result.book_updates, f.result.book_updates);
  EXPECT_EQ(p.result.book_checks, f.result.book_checks);
  EXPECT_EQ(p.result.hot_allocations, 0u);
  EXPECT_GT(p.result.hist.hop.count(), 0u);  // items really crossed the rings
}
