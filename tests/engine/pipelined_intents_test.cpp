// Every intent a strategy produces is acted on by the OMS, in both topologies. The pipelined strategy
// thread used to clear its intent buffer when a fill arrived between two messages of a frame, dropping
// the intents that frame's events had already produced; the OMS then saw fewer intents than the
// strategies emitted.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "tests/support/engine_test_support.hpp"

using namespace enigma;
using namespace enigma::engine;

namespace {

// Eager imbalance takers on the bundled session: each enters on the first one-sided update and forgets an
// unfilled intent after 1 ms, so intents and fills keep crossing between the strategy and OMS threads.
// Behind them sit many takers that never trade (a confirmation streak no book reaches): they make each
// book update take long enough on the strategy thread that the OMS, meanwhile, finishes the previous frame
// and sends its fills back, which the strategy thread then reads between this frame's book message and its
// frame end, the window the old code cleared. Fills produce no intents (ImbalanceTaker::on_fill only books
// the position), so every intent counted comes from a frame and must reach the OMS before the run ends.
// A sanitizer build already makes each of them far slower: under ASan, 994 of them took 380 s against 1.3 s in
// release (the walk over them is bound by ASan's shadow-memory loads). There 100 give about the per-update
// time that 994 give in release (the suite: 2.3 s under ASan, 14 s under TSan).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::uint16_t kLastIdleId = 106;
#else
constexpr std::uint16_t kLastIdleId = 1000;
#endif

std::vector<strategy::AnyStrategy> eager_strategies(const RunConfig& rc) {
  std::vector<strategy::AnyStrategy> out;
  for (std::uint16_t id = 7; id <= kLastIdleId; ++id) {
    strategy::ImbalanceTakerConfig c = rc.strategy_config<strategy::ImbalanceTakerConfig>();
    c.common.strategy_id = id;
    c.confirm_updates = 1u << 30;  // never
    c.depth = 10;
    out.emplace_back(std::in_place_type<strategy::ImbalanceTaker>, c);
  }
  for (std::uint16_t id = 1; id <= 6; ++id) {
    strategy::ImbalanceTakerConfig c = rc.strategy_config<strategy::ImbalanceTakerConfig>();
    c.common.strategy_id = id;
    c.entry_imbalance = 0.2;
    c.exit_imbalance = 0.1;
    c.confirm_updates = 1;
    c.cooldown_ns = 0;
    c.pending_timeout_ns = 1'000'000;
    c.max_spread_bps = 50.0;
    out.emplace_back(std::in_place_type<strategy::ImbalanceTaker>, c);
  }
  return out;
}

struct Counts {
  std::uint64_t produced, acted_on, fills, dropped;
};

Counts run(Topology topology) {
  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(eager_strategies(rc));
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = enigma::testing::fresh_path("intents-journal");
  TradingCore core(registry, trading);
  PipelineOptions po;
  po.venue = rc.venue;
  po.topology = topology;
  po.progress = false;
  po.cancel_on_stop = false;
  const PipelineResult r = run_pipeline({enigma::testing::kBinanceSession}, registry, strategies, core, po);
  return {r.intents, core.counters().intents, core.counters().fills, r.intents_dropped};
}

}  // namespace

TEST(EnginePipelinedIntents, EveryProducedIntentReachesTheOmsPipelined) {
  const Counts c = run(Topology::pipelined);
  ASSERT_GT(c.fills, 20u) << c.produced;  // fills really flowed back while frames were in flight
  EXPECT_EQ(c.dropped, 0u);
  EXPECT_EQ(c.acted_on, c.produced) << "fills " << c.fills;
}

TEST(EnginePipelinedIntents, EveryProducedIntentReachesTheOmsFused) {
  const Counts c = run(Topology::fused);
  ASSERT_GT(c.fills, 20u);
  EXPECT_EQ(c.dropped, 0u);
  EXPECT_EQ(c.acted_on, c.produced) << "fills " << c.fills;
}
