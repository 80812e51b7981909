// Live trading on Bybit V5 linear perpetuals through `run_live` (the engine's live mode, fused) against the
// local Bybit venue (tests/support/fake_bybit.hpp: X-BAPI-SIGN checked on every request, its own order book,
// fills with Bybit's fees on its private stream after the auth op) with market data from the local TLS
// WebSocket server in Bybit's dialect. Every wait is bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/admin.hpp"
#include "engine/live_gateway.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "oms/venues/bybit_linear.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/enigma_process.hpp"
#include "tests/support/fake_bybit.hpp"
#include "tests/support/live_suite.hpp"
#include "tests/support/market_data_venue.hpp"
#include "tests/support/ws_test_server.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::Dialect;
using enigma::testing::FakeBybit;
using enigma::testing::fresh_path;
using enigma::testing::kBybitKey;
using enigma::testing::kBybitSecret;
using enigma::testing::MarketDataVenue;
using enigma::testing::wait_for;

namespace {

constexpr std::size_t kUpdates = 20000;

// The bundled Bybit paper config (BTCUSDT, lot 0.001) with an imbalance strategy that trades often (the test
// needs orders, not P&L) and no dead-man timer (Bybit's DCP is a window set by enigma live: see the DCP test).
RunConfig bybit_config() {
  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/paper-bybit.toml");
  rc.strategy_config<strategy::ImbalanceTakerConfig>().entry_imbalance = 0.2;
  rc.strategy_config<strategy::ImbalanceTakerConfig>().confirm_updates = 1;
  rc.strategy_config<strategy::ImbalanceTakerConfig>().cooldown_ns = 20'000'000;
  rc.strategy_config<strategy::ImbalanceTakerConfig>().pending_timeout_ns = 50'000'000;
  rc.trading.unknown_query_delay_ns = 100'000'000;
  rc.trading.deadman_countdown_ns = 0;
  return rc;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// `run_live` against the Bybit test venue: the gateway as `enigma live` would set it up, orders signed by
// the engine with `secret`. The engine's state is its thread's until finish().
struct BybitLiveRun {
  FakeBybit venue;
  const MarketDataVenue md{Dialect::bybit, kUpdates};
  enigma::testing::WsTestServer market{md.frames(), md.server_options()};
  InstrumentRegistry registry;
  std::unique_ptr<strategy::StrategyStage> strategies;
  std::unique_ptr<TradingCore> core;
  std::shared_ptr<oms::bybit_linear::Encoder> signer;  // the gateway's, for the private stream's auth op
  std::unique_ptr<LiveGateway> gateway;
  SpscRing<AdminCommand> admin{16};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> taken{0};
  PipelineResult r;
  std::thread engine;

  // `tweak` changes the suite's config before the engine is built (e.g. resting entries).
  explicit BybitLiveRun(void (*tweak)(RunConfig&) = nullptr) {
    venue.set_mark("50000");
    RunConfig rc = bybit_config();
    if (tweak) tweak(rc);
    rc.fill_registry(registry);
    strategies = std::make_unique<strategy::StrategyStage>(rc.make_strategies());
    TradingCoreConfig trading = rc.trading;
    trading.journal_path = fresh_path("journal");
    core = std::make_unique<TradingCore>(registry, trading);
    oms::bybit_linear::Config bc;
    bc.host = host();
    signer = std::make_shared<oms::bybit_linear::Encoder>(registry, kBybitKey, oms::Secret(kBybitSecret), bc);
    LiveGatewayOptions go;
    go.venue = Venue::bybit;
    go.rest_url = venue.rest_url();
    go.user_ws_url = venue.private_ws_url();
    go.api_key = kBybitKey;
    go.stream_login = [s = signer] { return s->auth_message(wall_ms() + 10'000); };
    go.tls.ca_file = venue.ca_file();
    go.request_timeout_ns = 2'000'000'000;
    go.budget = oms::bybit_linear_budget();
    gateway = std::make_unique<LiveGateway>(registry, go);
  }
  ~BybitLiveRun() { finish(); }
  std::string host() const { return "127.0.0.1:" + std::to_string(venue.port()); }

  bool start(const char* secret) {
    core->go_live(*gateway, std::make_unique<oms::bybit_linear::OrderEntry>(registry, kBybitKey, oms::Secret(secret),
                                                                          oms::bybit_linear::Config{host()}));
    gateway->start();
    if (!wait_for([&] { return gateway->stream_connected() && venue.stream_open() && venue.ws_auths() >= 1; })) return false;
    PaperOptions pp;
    pp.ws.url = market.url(md.ws_path());
    pp.ws.subscriptions = md.subscriptions();
    pp.ws.ping = md.ping();
    pp.ws.tls.ca_file = market.ca_file();
    pp.run_seconds = 90;  // bound, never reached when the test passes
    pp.ws_frames_taken = &taken;
    PipelineOptions po;
    po.venue = Venue::bybit;
    po.traded = 0;
    po.progress = false;
    po.admin = &admin;
    po.stop = &stop;
    engine = std::thread([this, pp, po] { r = run_live(pp, registry, *strategies, *core, po, 3'000'000'000); });
    if (!wait_for([&] { return market.live(); }, 20000)) return false;
    market.send_next(1);
    return wait_for([&] { return taken.load() >= 1; }, 20000);
  }
  void finish() {
    stop = true;
    if (engine.joinable()) engine.join();
    gateway->stop();
  }
};

// What the shared live-suite cases (tests/support/live_suite.hpp) need to know of the Bybit test venue.
struct BybitSuite {
  static constexpr std::string_view kIdKey = "\"orderLinkId\":\"";
  static int order_posts(const FakeBybit& v) { return v.requests("POST /v5/order/create"); }
  static void rate_limit_next(FakeBybit& v) { v.rate_limit_next(1); }  // retCode 10006, reset in 1 s
  static constexpr bool kResumesWithinSeconds = true;
  static std::string resting_entry(const FakeBybit& v) {
    for (const auto& o : v.orders())
      if (o.open() && !o.untriggered() && !o.reduce_only && o.order_type == "Limit") return o.order_link_id;
    return {};
  }
  static bool flat(const FakeBybit& v) {
    if (v.position("BTCUSDT") != "0") return false;
    for (const auto& o : v.orders())
      if (o.open()) return false;
    return true;
  }
  static long double fee_paid(const FakeBybit::Fill& f) { return std::stold(f.fee); }  // execFee: positive = paid
  static std::vector<std::string> client_ids(const FakeBybit& v) {
    std::vector<std::string> ids;
    for (const auto& o : v.orders()) ids.push_back(o.order_link_id);
    return ids;
  }
};

}  // namespace

// Signed orders reach the venue and its executions come back as fills with Bybit's own fees (the stream
// carries execFee), a venue reject (110007, insufficient balance) is a reject for margin, and the kill
// cancels the resting entries and flattens: nothing is left working at the venue, the position is flat.
TEST(EngineLiveBybit, OrdersReachTheVenueSignedAndFillsComeBackWithTheirFees) {
  BybitLiveRun t;
  ASSERT_TRUE(t.start(kBybitSecret)) << "private stream, engine or first frame not up";
  FakeBybit& venue = t.venue;
  std::size_t sent = 1;
  bool rejected = false, limited = false;
  while (sent + 100 < kUpdates &&
         !(rejected && limited && venue.rate_limited() >= 1 && venue.fills().size() >= 3 && venue.bodies().size() >= 6)) {
    if (!rejected && venue.bodies().size() >= 1) {
      venue.reject_next_orders(1);
      rejected = true;
    }
    if (rejected && !limited && venue.bodies().size() >= 3) {
      venue.rate_limit_next(1);  // Bybit's limit answer: HTTP 200, retCode 10006
      limited = true;
    }
    t.market.send_next(50);
    sent += 50;
    wait_for([&] { return t.market.cursor() == sent; });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(venue.bodies().size(), 6u) << "the strategy sent too few orders in " << sent << " frames";
  ASSERT_GE(venue.fills().size(), 1u);
  ASSERT_TRUE(enigma::testing::kill_until_flat<BybitSuite>(t, sent, kUpdates))
      << "the venue still holds a position (" << venue.position("BTCUSDT") << ") or a working order after the kill";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  t.finish();

  EXPECT_EQ(venue.bad_signatures(), 0);
  for (const auto& b : venue.bodies()) EXPECT_NE(b.find("\"orderLinkId\":\"en"), std::string::npos) << b;
  const TradingCore& core = *t.core;
  // Every execution at the venue is a trade of the engine's, with the venue's fee (execFee) to the digit.
  ASSERT_EQ(core.trades().size(), venue.fills().size());
  const auto [venue_fees, our_fees] = enigma::testing::fee_totals<BybitSuite>(venue, core);
  std::printf("bybit: %zu orders at the venue, %zu executions, fees %.8Lf (venue) %.8Lf (engine), %llu venue rejects\n",
              venue.bodies().size(), venue.fills().size(), venue_fees, our_fees,
              static_cast<unsigned long long>(core.counters().venue_rejects));
  EXPECT_GT(venue_fees, 0.0L);
  EXPECT_NEAR(static_cast<double>(our_fees), static_cast<double>(venue_fees), 1e-9);
  Qty net{};
  for (const auto& tr : core.trades()) net += tr.side == Side::buy ? tr.qty : -tr.qty;
  EXPECT_EQ(core.position(0).qty, net);
  EXPECT_EQ(net, Qty{});
  EXPECT_GE(core.counters().venue_rejects, 1u);
  EXPECT_EQ(core.working_orders(), 0u);
  EXPECT_EQ(t.gateway->stats().stream_errors.load(), 0u);
  EXPECT_GT(t.gateway->stats().stream_reports.load(), 0u);
  EXPECT_EQ(t.gateway->stats().send_allocations.load(), 0u);
  // The 10006 answer backs new orders off as a 429 does, and the X-Bapi-Limit headers are read: the last
  // answer's used count (limit - status, the request itself included) is at least 1.
  EXPECT_GE(t.gateway->stats().http_429.load(), 1u);
  EXPECT_GE(t.gateway->stats().order_count_short.load(), 1u);
}

// The live suite's continuity case (live_suite.hpp) on Bybit: a 110007 reject is a margin reject, a lost
// order answer is UNKNOWN until the query by orderLinkId, and a resting entry filled while the private stream
// was down is booked after the reconnect with the venue's execFee (cumExecFee of the query's answer).
TEST(EngineLiveBybit, ARejectALostAnswerAndAFillMissedWhileTheStreamWasDown) {
  BybitLiveRun t([](RunConfig& rc) { rc.trading.entry_by_strategy[0].mode = oms::EntryMode::level; });
  ASSERT_TRUE(t.start(kBybitSecret)) << "private stream, engine or first frame not up";
  enigma::testing::reject_lost_answer_and_missed_fill<BybitSuite>(t, *t.gateway, kUpdates, "bybit");
}

// The live suite's resubscription case (live_suite.hpp) on Bybit: an entry filled after the private stream's
// reconnect but before the venue answered its subscribe op is found by the query sent on that answer.
TEST(EngineLiveBybit, AFillBeforeTheResubscriptionIsFoundByAQuery) {
  BybitLiveRun t([](RunConfig& rc) { rc.trading.entry_by_strategy[0].mode = oms::EntryMode::level; });
  ASSERT_TRUE(t.start(kBybitSecret)) << "private stream, engine or first frame not up";
  enigma::testing::a_fill_before_the_resubscription_is_found_by_query<BybitSuite>(t, *t.gateway, kUpdates);
}

// The live suite's rate-limit case (live_suite.hpp) on Bybit: a 10006 answer backs new orders off until its
// X-Bapi-Limit-Reset-Timestamp; none reaches the venue meanwhile, and orders flow again after it.
TEST(EngineLiveBybit, ARateLimitAnswerBacksOffNewOrders) {
  BybitLiveRun t;
  ASSERT_TRUE(t.start(kBybitSecret)) << "private stream, engine or first frame not up";
  enigma::testing::a_rate_limit_answer_backs_off_new_orders<BybitSuite>(t, *t.gateway, kUpdates);
}

// The live suite's credentials case (live_suite.hpp) on Bybit: orders signed with a secret the venue does not
// know are refused (10004, signature error) and raise the emergency stop; no new order follows.
TEST(EngineLiveBybit, RefusedCredentialsRaiseTheEmergencyStop) {
  BybitLiveRun t;
  ASSERT_TRUE(t.start("not-the-secret-the-venue-knows-00000")) << "private stream, engine or first frame not up";
  enigma::testing::refused_credentials_raise_the_emergency_stop<BybitSuite>(t, kUpdates);
}

// `enigma live` with the bundled config/live-bybit.toml pointed at the loopback venue and market data: it
// refuses without --confirm; a key that can withdraw is refused before any order (exit 3); with --confirm it
// reads the key's permissions, reconciles (the venue's balance), trades (orders signed, executions back), and
// SIGTERM ends it with the kill sequence: flat, nothing working at the venue.
namespace {
// config/live-bybit.toml pointed at the loopback venue and market data, trading often, its state under `root`;
// `deadman_ms` replaces [live] deadman_countdown_ms (Bybit's DCP window). Written to <root>/live.toml, whose path
// is returned.
std::string binary_config(const FakeBybit& venue, const MarketDataVenue& md, const enigma::testing::WsTestServer& market,
                          const std::string& root, const std::string& deadman_ms = "0") {
  std::filesystem::create_directories(root);
  ::setenv("ENIGMA_API_KEY", kBybitKey, 1);
  ::setenv("ENIGMA_API_SECRET", kBybitSecret, 1);
  std::string cfg = enigma::testing::slurp(std::string(ENIGMA_SOURCE_DIR) + "/config/live-bybit.toml");
  const auto set = [&](const std::string& from, const std::string& to) {
    const std::size_t at = cfg.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) cfg.replace(at, from.size(), to);
  };
  set("entry_imbalance = 0.6", "entry_imbalance = 0.2");
  set("confirm_updates = 3", "confirm_updates = 1");
  set("cooldown_ms = 2000", "cooldown_ms = 20");
  set("[admin]\nenabled = true", "[admin]\nenabled = false");
  set("url = \"wss://stream.bybit.com/v5/public/linear\"", "url = \"" + market.url(md.ws_path()) + "\"\nca_file = \"" + market.ca_file() + "\"");
  set("rest_url = \"https://api.bybit.com\"", "rest_url = \"" + venue.rest_url() + "\"\nca_file = \"" + venue.ca_file() + "\"");
  set("user_ws_url = \"wss://stream.bybit.com/v5/private\"", "user_ws_url = \"" + venue.private_ws_url() + "\"");
  set("account_api_url = \"https://api.bybit.com\"", "account_api_url = \"" + venue.rest_url() + "\"");
  set("drain_ms = 3000", "drain_ms = 500");
  set("deadman_countdown_ms = 0 ", "deadman_countdown_ms = " + deadman_ms + " ");
  set("unknown_orders = \"report\"", "unknown_orders = \"report\"\n\n[state]\ndir = \"" + root + "/state\"");
  const std::string config = root + "/live.toml";
  std::ofstream(config) << cfg;
  return config;
}
// The binary's run against the Bybit test venue: marked at 50000 with a 765.4 USDT wallet, the market data's
// server, and config/live-bybit.toml pointed at both with its state under a fresh `root`.
struct BybitBinary {
  FakeBybit venue;
  const MarketDataVenue md{Dialect::bybit, kUpdates};
  enigma::testing::WsTestServer market{md.frames(), md.server_options()};
  std::string root, config;
  explicit BybitBinary(const std::string& name) : root(fresh_path(name)) {
    venue.set_mark("50000");
    venue.set_balance("765.4");
    config = binary_config(venue, md, market, root);
  }
  // `enigma live --confirm` on this config, its run directories under root/runs-<name>.
  std::vector<std::string> args(const std::string& name) const {
    return {"live", "--confirm", "--config", config, "--runs-dir", root + "/runs-" + name};
  }
};
}  // namespace

TEST(EngineLiveBybit, TheBinaryTradesOnBybitAndStopsFlat) {
  using enigma::testing::Child;
  BybitBinary b("live-bybit-binary");
  FakeBybit& venue = b.venue;
  enigma::testing::WsTestServer& market = b.market;
  const std::string& root = b.root;
  const std::string& config = b.config;

  const auto unconfirmed = enigma::testing::run_enigma("live --config " + config + " --runs-dir " + root + "/runs-0");
  EXPECT_EQ(unconfirmed.code, 3) << unconfirmed.text;
  EXPECT_NE(unconfirmed.text.find("Re-run with --confirm"), std::string::npos) << unconfirmed.text;
  enigma::testing::a_key_that_can_withdraw_is_refused<BybitSuite>(
      venue, {"live", "--confirm", "--config", config, "--runs-dir", root + "/runs-1"}, root + "/withdraw.out");
  EXPECT_EQ(venue.bodies().size(), 0u);

  Child engine({"live", "--confirm", "--config", config, "--runs-dir", root + "/runs-2"}, root + "/engine.out");
  ASSERT_TRUE(wait_for([&] { return market.live(); }, 30000)) << engine.output();
  std::size_t sent = 0;
  while (sent + 100 < kUpdates && venue.fills().size() < 2) {
    market.send_next(50);
    sent += 50;
    wait_for([&] { return market.cursor() == sent; });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(venue.fills().size(), 2u) << engine.output();
  ASSERT_EQ(::kill(engine.pid, SIGTERM), 0);
  EXPECT_EQ(engine.wait(), 128 + SIGTERM) << engine.output();
  EXPECT_EQ(venue.position("BTCUSDT"), "0") << "the stop sequence flattens";
  for (const auto& o : venue.orders()) EXPECT_FALSE(o.open()) << o.order_link_id << " still works at the venue";
  EXPECT_EQ(venue.bad_signatures(), 0);
  const std::string log = enigma::testing::slurp(std::filesystem::path(root) / "runs-2" / "latest" / "logs" / "enigma.log");
  EXPECT_NE(log.find("auth=bybit-hmac"), std::string::npos) << log;
  EXPECT_NE(log.find("wallet balance 765.4 USDT"), std::string::npos) << log;
  EXPECT_NE(log.find("api_key_permissions"), std::string::npos) << log;
}

// A restart is not blind on Bybit, through the `enigma live` binary (config/live-bybit.toml pointed at the
// loopback venue): the first engine trades until an entry's bracket rests at the venue (stop-loss and
// take-profit, both untriggered conditionals) and is SIGKILLed. While it is down the take-profit triggers
// and fills. The restart on the same state directory reads the venue before trading: the stop-loss
// still rests (matched), the take-profit's fill is found by the query by orderLinkId, the venue's flat
// position replaces our journal's, the balance is the account's (its fees and P&L). Trading then cancels the stop-loss whose
// sibling filled, and SIGTERM ends the run with nothing working and no position at the venue.
TEST(EngineLiveBybit, ARestartThroughTheBinaryReconcilesWithTheVenue) {
  using enigma::testing::Child;
  BybitBinary b("live-bybit-restart");
  FakeBybit& venue = b.venue;
  enigma::testing::WsTestServer& market = b.market;
  const std::string& root = b.root;
  // The engine's resting protective legs at the venue, both untriggered conditionals: {stop-loss,
  // take-profit} order link ids. A stop-loss triggers against the position: a buy's above the mark (50000).
  const auto bracket = [&] {
    std::pair<std::string, std::string> b;
    for (const auto& o : venue.orders()) {
      if (!o.untriggered() || !o.reduce_only || o.order_link_id.rfind("en", 0) != 0) continue;
      const bool stop_loss = (o.side == "Buy") == (o.trigger_price > *enigma::testing::bybit_fake::parse_dec("50000"));
      (stop_loss ? b.first : b.second) = o.order_link_id;
    }
    return b;
  };
  std::pair<std::string, std::string> legs;
  enigma::testing::trade_until_bracket_then_kill(b.args("first"), root + "/first.out", market, kUpdates, bracket,
                                                 [&] { return venue.position("BTCUSDT") != "0"; }, legs);
  if (::testing::Test::HasFatalFailure()) return;
  const std::string& stop_id = legs.first;
  const std::string& tp_id = legs.second;
  ASSERT_NE(venue.position("BTCUSDT"), "0");
  ASSERT_TRUE(venue.trigger_stop(tp_id));  // while the engine is down: the take-profit closes the position
  ASSERT_EQ(venue.position("BTCUSDT"), "0");

  Child second(b.args("second"), root + "/second.out");
  ASSERT_TRUE(wait_for([&] { return !enigma::testing::venue_reconciliation(root + "/runs-second").empty(); }, 30000))
      << second.output();
  const std::string j = enigma::testing::venue_reconciliation(root + "/runs-second");
  EXPECT_NE(j.find("\"open_orders\": 1,"), std::string::npos) << j;  // our stop-loss
  EXPECT_NE(j.find("\"matched\": 1,"), std::string::npos) << j;
  EXPECT_NE(j.find("{\"client_id\": \"" + tp_id + "\", \"status\": \"FILLED\""), std::string::npos) << j;
  EXPECT_NE(j.find("{\"symbol\": \"BTCUSDT\", \"venue\": \"0\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"balance\": \"" + venue.wallet_balance() + "\""), std::string::npos) << j;  // after the fees and P&L
  // The take-profit's fill closed the position: its sibling, the stop-loss, is cancelled at the venue.
  ASSERT_TRUE(wait_for([&] { return !venue.order(stop_id)->open(); }, 20000)) << second.output();
  ASSERT_EQ(::kill(second.pid, SIGTERM), 0);
  EXPECT_EQ(second.wait(), 128 + SIGTERM) << second.output();
  EXPECT_EQ(venue.position("BTCUSDT"), "0");
  for (const auto& o : venue.orders()) EXPECT_FALSE(o.open()) << o.order_link_id << " still works at the venue";
  EXPECT_EQ(venue.bad_signatures(), 0);
}

// Bybit's dead-man switch through the binary: [live] deadman_countdown_ms = 3000 sets the DCP window (3 s,
// derivatives) before any order and the private stream subscribes to "dcp". When the engine dies (SIGKILL:
// no kill sequence, no cancels), the venue itself cancels every working order once the stream has been gone
// for the window. A window Bybit does not take is refused at start (exit 3).
TEST(EngineLiveBybit, ADeadEnginesOrdersAreCancelledByBybitsDcp) {
  using enigma::testing::Child;
  FakeBybit venue;
  venue.set_mark("50000");
  const MarketDataVenue md{Dialect::bybit, kUpdates};
  enigma::testing::WsTestServer market{md.frames(), md.server_options()};
  const std::string root = fresh_path("live-bybit-dcp");
  const std::string bad = binary_config(venue, md, market, root + "/bad", "2500");
  const auto refused = enigma::testing::run_enigma("live --confirm --config " + bad + " --runs-dir " + root + "/runs-0");
  EXPECT_EQ(refused.code, 3) << refused.text;
  EXPECT_NE(refused.text.find("whole seconds from 3 to 300"), std::string::npos) << refused.text;
  EXPECT_EQ(venue.bodies().size(), 0u);

  const std::string config = binary_config(venue, md, market, root, "3000");
  Child engine({"live", "--confirm", "--config", config, "--runs-dir", root + "/runs-1"}, root + "/engine.out");
  ASSERT_TRUE(wait_for([&] { return market.live(); }, 30000)) << engine.output();
  EXPECT_EQ(venue.dcp_window("DERIVATIVES"), 3) << "the window is set before trading";
  const auto working = [&] {
    std::size_t n = 0;
    for (const auto& o : venue.orders()) n += o.open() ? 1 : 0;
    return n;
  };
  std::size_t sent = 0;
  while (sent + 100 < kUpdates && working() == 0) {
    market.send_next(50);
    sent += 50;
    wait_for([&] { return market.cursor() == sent; });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(working(), 1u) << "no order rested at the venue in " << sent << " frames\n" << engine.output();
  ASSERT_EQ(::kill(engine.pid, SIGKILL), 0);
  EXPECT_EQ(engine.wait(), 128 + SIGKILL);
  const std::size_t left_working = working();
  EXPECT_GE(left_working, 1u) << "a killed engine cancels nothing itself";
  ASSERT_TRUE(wait_for([&] { return venue.dcp_trips() == 1 && working() == 0; }, 10000))
      << working() << " order(s) still working " << venue.dcp_trips() << " DCP trip(s) after the window";
  EXPECT_EQ(venue.bad_signatures(), 0);
  const std::string log = enigma::testing::slurp(std::filesystem::path(root) / "runs-1" / "latest" / "logs" / "enigma.log");
  EXPECT_NE(log.find("dead-man switch armed: Bybit DCP window 3 s"), std::string::npos) << log;
}
