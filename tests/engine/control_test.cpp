// The control plane, proven by driving the engine (run_pipeline over the bundled real session, commands
// through the real admin endpoint over HTTP), not the parts:
//  * the daily-drawdown and consecutive-loss limits raise the emergency stop in a replay, which ends flat;
//  * the consecutive-loss stop fires exactly at the first streak of losing round trips that the test
//    computes itself from the run's fills;
//  * kill (flatten / keep_protected), halt and POST /emergency mid-position, in both topologies, leave no
//    position without its stop;
//  * /status shows frames growing during a recorded-pace replay and, at the end, the run's own totals.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>

#include "engine/admin.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "engine/status.hpp"
#include "tests/support/engine_test_support.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::fresh_path;
using enigma::testing::wait_for;
namespace http = boost::beast::http;

namespace {

RunConfig base_config() {
  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  rc.data = {enigma::testing::kBinanceSession};
  return rc;
}

struct Engine {
  InstrumentRegistry registry;
  std::unique_ptr<strategy::StrategyStage> strategies;
  std::unique_ptr<TradingCore> core;
  PipelineOptions po;

  Engine(const RunConfig& rc, Topology topology) {
    rc.fill_registry(registry);
    strategies = std::make_unique<strategy::StrategyStage>(rc.make_strategies());
    TradingCoreConfig trading = rc.trading;
    trading.journal_path = fresh_path("control-journal");
    core = std::make_unique<TradingCore>(registry, trading);
    po.venue = rc.venue;
    po.topology = topology;
    po.progress = false;
  }
  PipelineResult run(const RunConfig& rc) { return run_pipeline(rc.data, registry, *strategies, *core, po); }
};

// Round trips recomputed from the fills alone (cash flow of each flat-to-flat trip, before fees).
std::vector<double> round_trips(const std::vector<TradeRow>& trades) {
  std::vector<double> trips;
  double pos = 0, cash = 0;
  for (const auto& t : trades) {
    const double q = t.qty.to_double() * (t.side == Side::buy ? 1 : -1);
    cash -= q * t.price.to_double();
    pos += q;
    if (std::abs(pos) < 1e-12) {
      trips.push_back(cash);
      pos = 0;
      cash = 0;
    }
  }
  return trips;
}

TEST(EngineControl, DailyDrawdownRaisesTheEmergencyStopAndEndsFlat) {
  for (Topology topo : {Topology::fused, Topology::pipelined}) {
    SCOPED_TRACE(std::string(to_string(topo)));
    RunConfig baseline_rc = base_config();
    Engine baseline(baseline_rc, topo);
    const PipelineResult base = baseline.run(baseline_rc);

    RunConfig rc = base_config();
    rc.trading.risk.max_daily_drawdown = Rate::from_raw(1);  // the first dip below the day's start trips it
    Engine e(rc, topo);
    const PipelineResult r = e.run(rc);
    EXPECT_EQ(e.core->emergency_count(EmergencyCause::daily_drawdown), 1u);
    EXPECT_EQ(r.orders.emergency_stops, 1u);
    EXPECT_EQ(e.core->position(0).qty, Qty{}) << "the emergency flattens";
    EXPECT_EQ(e.core->unprotected_positions(), 0u);
    EXPECT_EQ(e.core->lifecycle(), Lifecycle::shutdown);
    EXPECT_EQ(e.core->risk().state(), risk::TradingState::halted);
    EXPECT_LT(r.orders.orders, base.orders.orders) << "no new entries after the stop";
    EXPECT_GT(e.core->risk().reject_count(risk::RejectReason::kill_switch) + e.core->risk().reject_count(risk::RejectReason::halted), 0u);
  }
}

TEST(EngineControl, ConsecutiveLossStopFiresAtTheFirstLosingStreak) {
  // A run without the limit shows the session's losing streaks (from its fills alone) ...
  RunConfig free_rc = base_config();
  free_rc.trading.risk.max_consecutive_losses = 1000;
  Engine free_run(free_rc, Topology::fused);
  (void)free_run.run(free_rc);
  const std::vector<double> free_trips = round_trips(free_run.core->trades());
  std::size_t longest = 0, streak = 0;
  for (double p : free_trips) longest = std::max(longest, streak = p < 0 ? streak + 1 : 0);
  ASSERT_GE(longest, 2u) << "the bundled session needs a losing streak for this test";
  // ... so a limit equal to the longest streak must stop the engine exactly where that streak first ends.
  RunConfig rc = base_config();
  rc.trading.risk.max_consecutive_losses = static_cast<std::uint32_t>(longest);
  Engine e(rc, Topology::fused);
  const PipelineResult r = e.run(rc);
  const std::vector<double> trips = round_trips(e.core->trades());
  std::size_t fire_at = 0;
  streak = 0;
  for (std::size_t i = 0; i < free_trips.size() && fire_at == 0; ++i) {
    streak = free_trips[i] < 0 ? streak + 1 : 0;
    if (streak == longest) fire_at = i + 1;
  }
  EXPECT_EQ(e.core->emergency_count(EmergencyCause::consecutive_losses), 1u);
  EXPECT_EQ(trips.size(), fire_at) << "no round trip after the stop";
  for (std::size_t i = 0; i < std::min(trips.size(), fire_at); ++i) EXPECT_DOUBLE_EQ(trips[i], free_trips[i]) << "trip " << i;
  EXPECT_EQ(r.orders.round_trips, trips.size());
  std::size_t losing = 0;
  for (double p : trips) losing += p < 0;
  EXPECT_EQ(r.orders.losing_trips, losing);
  EXPECT_EQ(e.core->position(0).qty, Qty{});
}

// Invariant: a position without a working stop. A submit budget of one order a second lets the entry out but
// refuses its stop leg (strategy_rate_limit), so the position is unprotected; after the grace the engine
// runs the emergency sequence and ends flat.
TEST(EngineControl, APositionWithoutItsStopRaisesTheEmergencyStop) {
  for (Topology topo : {Topology::fused, Topology::pipelined}) {
    SCOPED_TRACE(std::string(to_string(topo)));
    RunConfig rc = base_config();
    rc.trading.risk.strategy_submit = {1, 1};
    rc.trading.risk.max_consecutive_losses = 1000;
    Engine e(rc, topo);
    const PipelineResult r = e.run(rc);
    EXPECT_GT(e.core->risk().reject_count(risk::RejectReason::strategy_rate_limit), 0u);
    EXPECT_EQ(e.core->emergency_count(EmergencyCause::invariant), 1u);
    EXPECT_EQ(r.orders.emergency_stops, 1u);
    EXPECT_GE(r.orders.flatten_orders, 1u);
    EXPECT_EQ(e.core->position(0).qty, Qty{});
    EXPECT_EQ(e.core->unprotected_positions(), 0u);
  }
}

// The plan's other hard limits, in a replay: a per-day entry cap and the market-move breaker.
TEST(EngineControl, TradesPerDayAndMarketMoveLimitNewEntries) {
  {
    RunConfig rc = base_config();
    rc.trading.supervisor.max_trades_per_day = 3;
    rc.trading.risk.max_consecutive_losses = 1000;
    Engine e(rc, Topology::fused);
    const PipelineResult r = e.run(rc);
    std::size_t entries = 0;  // entry orders = orders that are not reduce-only; the bundled session is one day
    for (const auto& t : e.core->trades()) entries += t.reason == strategy::IntentReason::imbalance_entry;
    EXPECT_GT(r.orders.trades_per_day_rejects, 0u);
    EXPECT_LE(entries, 3u * 2) << "three entries (partial fills may split one into rows)";
    EXPECT_EQ(r.orders.emergency_stops, 0u);
  }
  {
    // A 0.01 % move within 60 s happens many times in the session: each pauses entries for 300 s.
    RunConfig rc = base_config();
    rc.trading.supervisor.market_move = Rate::from_raw(Rate::kScale / 10000);
    rc.trading.risk.max_consecutive_losses = 1000;
    Engine base_e(base_config(), Topology::fused);
    const PipelineResult base = base_e.run(base_config());
    Engine e(rc, Topology::fused);
    const PipelineResult r = e.run(rc);
    EXPECT_GT(r.orders.market_move_pauses, 0u);
    EXPECT_GT(r.orders.market_move_rejects, 0u);
    EXPECT_LT(r.orders.orders, base.orders.orders);
  }
}

// [[instrument]] group + [risk] max_group_exposure reach the engine's gate: a cap below one order's
// worth (0.01 BTC at ~61,800 = ~618) refuses every entry of the group; without the group the same run trades.
TEST(EngineControl, GroupExposureCapFromTheConfigRefusesEntries) {
  std::ifstream in(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto insert_after = [&](const std::string& anchor, const std::string& line) {
    const auto at = text.find(anchor);
    ASSERT_NE(at, std::string::npos) << anchor;
    text.insert(text.find('\n', at) + 1, line + "\n");
  };
  insert_after("symbol = \"BTCUSDT\"", "group = \"btc-perps\"");
  insert_after("[risk]", "max_group_exposure = \"100\"");
  RunConfig rc = RunConfig::parse(text, "group-test.toml");
  rc.data = {enigma::testing::kBinanceSession};
  ASSERT_EQ(rc.trading.limits.at(0).group, 1);
  Engine e(rc, Topology::fused);
  const PipelineResult r = e.run(rc);
  EXPECT_GT(e.core->risk().reject_count(risk::RejectReason::max_group_exposure), 0u);
  EXPECT_EQ(r.orders.orders, 0u);
  EXPECT_EQ(r.orders.fills, 0u);
}

// ---- commands over HTTP during a recorded-pace replay ---------------------------------------------------

using enigma::testing::json_number;
const auto request = [](std::uint16_t port, http::verb verb, const std::string& target, const std::string& token = "") {
  return enigma::testing::http_request(port, verb, target, token);
};

enum class Command { kill_flatten, kill_keep_protected, halt, emergency };

struct CommandCase {
  Topology topology;
  Command command;
};

class EngineControlCommands : public ::testing::TestWithParam<CommandCase> {};

TEST_P(EngineControlCommands, NoPositionIsLeftWithoutItsStop) {
  const CommandCase c = GetParam();
  RunConfig rc = base_config();
  rc.trading.risk.max_consecutive_losses = 1000;  // only the command under test stops trading
  rc.trading.supervisor.on_kill = c.command == Command::kill_keep_protected ? StopPolicy::keep_protected : StopPolicy::flatten;
  rc.trading.supervisor.on_stop = c.command == Command::kill_flatten ? StopPolicy::flatten : StopPolicy::keep_protected;
  Engine e(rc, c.topology);
  e.po.speed = Speed::recorded;
  e.po.data_window_ns = 12'000'000'000;  // the first entry fills ~7.4 s into the session, its exit ~1.4 s later
  SpscRing<AdminCommand> ring(64);
  AdminServer server("127.0.0.1", 0, "tok", ring);
  server.start();
  StatusPublisher status(server, e.registry, "replay", 10'000'000);
  e.po.admin = &ring;
  e.po.status = &status;
  std::atomic<bool> stop{false};
  e.po.stop = &stop;

  PipelineResult r;
  std::thread run([&] { r = e.run(rc); });
  // Frames grow while the replay runs.
  long long frames_a = -1, frames_b = -1;
  const auto status_frames = [&] { return json_number(enigma::testing::http_get_or_empty(server.port(), "/status"), "frames"); };
  ASSERT_TRUE(wait_for([&] { return (frames_a = status_frames()) > 0; }));
  ASSERT_TRUE(wait_for([&] { return (frames_b = status_frames()) > frames_a; }));
  // Wait for an open position, then send the command while it is open.
  const bool in_position = wait_for([&] { return enigma::testing::http_get_or_empty(server.port(), "/positions").find("\"symbol\"") != std::string::npos; }, 20000);
  const char* target = c.command == Command::halt ? "/trading/stop" : c.command == Command::emergency ? "/emergency" : "/kill";
  const auto answer = request(server.port(), http::verb::post, target, "tok");
  // Once /status shows the command's effect (and a flattening one has closed the position), one more second
  // of market data (no entry may follow, the protective legs are acknowledged), then the run ends: the rest
  // of the 12 s window would only cost CI time (the end-of-run stop policy keeps what is protected).
  const bool flattens = c.command == Command::kill_flatten || c.command == Command::emergency;
  const std::string effect = c.command == Command::halt        ? "\"trading_state\":\"halted\""
                             : c.command == Command::emergency ? "\"emergency\":{\"stops\":1"
                                                               : "\"kill_switch\":true";
  (void)wait_for([&] {
    if (enigma::testing::http_get_or_empty(server.port(), "/status").find(effect) == std::string::npos) return false;
    return !flattens || enigma::testing::http_get_or_empty(server.port(), "/positions").find("\"symbol\"") == std::string::npos;
  }, 10000);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  stop = true;
  run.join();
  server.stop();
  ASSERT_TRUE(in_position) << "no position opened in the first 12 s of data";
  EXPECT_EQ(answer.result_int(), 202) << answer.body();  // accepted: the OMS acts on its next iteration

  EXPECT_EQ(e.core->unprotected_positions(), 0u) << "every position is flat or has its stop working";
  const auto& k = r.orders;
  switch (c.command) {
    case Command::kill_flatten:
      EXPECT_TRUE(e.core->risk().kill_switch().latched());
      EXPECT_GE(k.flatten_orders, 1u) << "the kill closed the open position";
      EXPECT_EQ(e.core->position(0).qty, Qty{});
      break;
    case Command::kill_keep_protected:
      EXPECT_TRUE(e.core->risk().kill_switch().latched());
      EXPECT_EQ(k.flatten_orders, 0u) << "keep_protected never closes";
      break;
    case Command::halt:
      EXPECT_EQ(e.core->risk().state(), risk::TradingState::halted);
      EXPECT_EQ(k.flatten_orders, 0u);
      break;
    case Command::emergency:
      EXPECT_EQ(e.core->emergency_count(EmergencyCause::admin), 1u);
      EXPECT_EQ(e.core->position(0).qty, Qty{}) << "the emergency sequence flattens";
      break;
  }
  // The published snapshot at the end equals the run's own totals.
  StatusSnapshot last{};
  FeedView fv;
  fv.frames = r.frames;
  status.fill(last, *e.core, fv, false);
  const std::string body = AdminServer::status_json(last);
  EXPECT_EQ(json_number(body, "orders"), static_cast<long long>(k.orders));
  EXPECT_EQ(json_number(body, "fills"), static_cast<long long>(k.fills));
}

std::string case_name(const ::testing::TestParamInfo<CommandCase>& info) {
  static const char* const kCommand[] = {"KillFlatten", "KillKeepProtected", "Halt", "Emergency"};
  return std::string(info.param.topology == Topology::fused ? "Fused" : "Pipelined") + kCommand[static_cast<int>(info.param.command)];
}

INSTANTIATE_TEST_SUITE_P(Commands, EngineControlCommands,
                         ::testing::Values(CommandCase{Topology::fused, Command::kill_flatten},
                                           CommandCase{Topology::fused, Command::kill_keep_protected},
                                           CommandCase{Topology::fused, Command::halt},
                                           CommandCase{Topology::fused, Command::emergency},
                                           CommandCase{Topology::pipelined, Command::kill_flatten},
                                           CommandCase{Topology::pipelined, Command::halt}),
                         case_name);

}  // namespace
