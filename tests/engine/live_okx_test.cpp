// Live trading on OKX V5 USDT swaps through `run_live` (the engine's live mode, fused) and the `enigma live`
// binary against the local OKX venue (tests/support/fake_okx.hpp: OK-ACCESS-SIGN checked on every request, its
// own order book, fills with OKX's fees on its private stream after the login op) with market data from the
// local TLS WebSocket server in OKX's dialect. Every wait is bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/admin.hpp"
#include "engine/live_gateway.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "oms/venues/okx_swap.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/enigma_process.hpp"
#include "tests/support/fake_okx.hpp"
#include "tests/support/live_suite.hpp"
#include "tests/support/market_data_venue.hpp"
#include "tests/support/ws_test_server.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::Dialect;
using enigma::testing::FakeOkx;
using enigma::testing::fresh_path;
using enigma::testing::kOkxKey;
using enigma::testing::kOkxPassphrase;
using enigma::testing::kOkxSecret;
using enigma::testing::MarketDataVenue;
using enigma::testing::wait_for;

namespace {

constexpr std::size_t kUpdates = 20000;
const std::string kInst = "BTC-USDT-SWAP";

// The bundled OKX paper config (BTC-USDT-SWAP, 1 contract = 0.01 BTC) with an imbalance strategy that trades
// often (the test needs orders, not P&L) and OKX's client ids and dead-man countdown (10 s) as `enigma live`
// sets them.
RunConfig okx_config() {
  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/paper-okx.toml");
  rc.strategy_config<strategy::ImbalanceTakerConfig>().entry_imbalance = 0.2;
  rc.strategy_config<strategy::ImbalanceTakerConfig>().confirm_updates = 1;
  rc.strategy_config<strategy::ImbalanceTakerConfig>().cooldown_ns = 20'000'000;
  rc.strategy_config<strategy::ImbalanceTakerConfig>().pending_timeout_ns = 50'000'000;
  rc.trading.unknown_query_delay_ns = 100'000'000;
  rc.trading.deadman_countdown_ns = 10'000'000'000;
  rc.trading.client_id_epoch = 1'796'268'227;  // a session's ids: <prefix><time base 36>X<n>
  return rc;
}

std::int64_t wall_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

oms::okx_swap::Config okx_encoder_config(const FakeOkx& venue) {
  oms::okx_swap::Config oc;
  oc.host = "127.0.0.1:" + std::to_string(venue.port());
  return oc;
}

std::string business_url(const FakeOkx& venue) {
  std::string u = venue.private_ws_url();
  u.replace(u.rfind("/private"), 8, "/business");
  return u;
}

// `run_live` against the OKX test venue: the gateway as `enigma live` would set it up, orders signed by the
// engine with `secret`. The engine's state is its thread's until finish().
struct OkxLiveRun {
  FakeOkx venue;
  const MarketDataVenue md{Dialect::okx, kUpdates};
  enigma::testing::WsTestServer market{md.frames(), md.server_options()};
  InstrumentRegistry registry;
  std::unique_ptr<strategy::StrategyStage> strategies;
  std::unique_ptr<TradingCore> core;
  std::shared_ptr<oms::okx_swap::Encoder> signer;  // the gateway's, for the private streams' login
  std::unique_ptr<LiveGateway> gateway;
  SpscRing<AdminCommand> admin{16};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> taken{0};
  PipelineResult r;
  std::thread engine;

  // `tweak` changes the suite's config before the engine is built (e.g. resting entries).
  explicit OkxLiveRun(void (*tweak)(RunConfig&) = nullptr) {
    venue.set_mark(kInst, "50000");
    RunConfig rc = okx_config();
    if (tweak) tweak(rc);
    rc.fill_registry(registry);
    strategies = std::make_unique<strategy::StrategyStage>(rc.make_strategies());
    TradingCoreConfig trading = rc.trading;
    trading.journal_path = fresh_path("journal");
    core = std::make_unique<TradingCore>(registry, trading);
    signer = std::make_shared<oms::okx_swap::Encoder>(registry, kOkxKey, oms::Secret(kOkxSecret), oms::Secret(kOkxPassphrase),
                                                      okx_encoder_config(venue));
    LiveGatewayOptions go;
    go.venue = Venue::okx;
    go.rest_url = venue.rest_url();
    go.user_ws_url = venue.private_ws_url();
    go.second_stream_url = business_url(venue);
    go.api_key = kOkxKey;
    go.stream_login = [s = signer] { return s->login_message(wall_s()); };
    go.tls.ca_file = venue.ca_file();
    go.request_timeout_ns = 2'000'000'000;
    go.budget = oms::okx_swap_budget();
    gateway = std::make_unique<LiveGateway>(registry, go);
  }
  ~OkxLiveRun() { finish(); }

  bool start(const char* secret) {
    core->go_live(*gateway, std::make_unique<oms::okx_swap::OrderEntry>(registry, kOkxKey, oms::Secret(secret), oms::Secret(kOkxPassphrase),
                                                                      okx_encoder_config(venue)));
    gateway->start();
    if (!wait_for([&] { return gateway->stream_connected() && venue.stream_open() && venue.ws_logins() >= 2; })) return false;
    PaperOptions pp;
    pp.ws.url = market.url(md.ws_path());
    pp.ws.subscriptions = md.subscriptions();
    pp.ws.ping = md.ping();
    pp.ws.tls.ca_file = market.ca_file();
    pp.run_seconds = 90;  // bound, never reached when the test passes
    pp.ws_frames_taken = &taken;
    PipelineOptions po;
    po.venue = Venue::okx;
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

// The algoClOrdIds of the venue's live (untriggered, not cancelled) algo orders.
std::vector<std::string> live_algos(const FakeOkx& venue) {
  std::vector<std::string> ids;
  for (const auto& a : venue.algos())
    if (a.live()) ids.push_back(a.algo_cl_ord_id);
  return ids;
}

std::size_t working(const FakeOkx& venue) { return venue.open_orders().size() + live_algos(venue).size(); }

// What the shared live-suite cases (tests/support/live_suite.hpp) need to know of the OKX test venue.
struct OkxSuite {
  static constexpr std::string_view kIdKey = "\"clOrdId\":\"";
  static int order_posts(const FakeOkx& v) { return v.requests("POST /api/v5/trade/order"); }
  static void rate_limit_next(FakeOkx& v) { v.rate_limit_next(1); }  // HTTP 429, 50011
  static constexpr bool kResumesWithinSeconds = true;
  static std::string resting_entry(const FakeOkx& v) {
    for (const auto& o : v.orders())
      if (o.open() && !o.reduce_only && o.ord_type == "limit" && o.algo_id.empty()) return o.cl_ord_id;
    return {};
  }
  static bool flat(const FakeOkx& v) { return v.position(kInst) == "0" && v.open_orders().empty(); }
  static long double fee_paid(const FakeOkx::Fill& f) { return -std::stold(f.fee); }  // OKX: negative = charged
  static std::vector<std::string> client_ids(const FakeOkx& v) {
    std::vector<std::string> ids;
    for (const auto& o : v.orders())
      if (!o.cl_ord_id.empty()) ids.push_back(o.cl_ord_id);  // a triggered stop's order is named by algoClOrdId
    return ids;
  }
};

}  // namespace

// Signed orders reach the venue and its fills come back with OKX's own fees (fillFee, sign flipped: positive =
// paid), a 429 (50011) backs new orders off, the dead-man countdown (cancel-all-after) is armed while trading and
// disarmed at the end, and the kill cancels the resting entries and flattens: nothing is left working at the
// venue, the position is flat.
TEST(EngineLiveOkx, OrdersReachTheVenueSignedAndFillsComeBackWithTheirFees) {
  OkxLiveRun t;
  ASSERT_TRUE(t.start(kOkxSecret)) << "private streams, engine or first frame not up";
  FakeOkx& venue = t.venue;
  std::size_t sent = 1;
  bool limited = false;
  while (sent + 100 < kUpdates && !(limited && venue.rate_limited() >= 1 && venue.fills().size() >= 3 && venue.bodies().size() >= 6)) {
    if (!limited && venue.bodies().size() >= 3) {
      venue.rate_limit_next(1);
      limited = true;
    }
    t.market.send_next(50);
    sent += 50;
    wait_for([&] { return t.market.cursor() == sent; });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(venue.bodies().size(), 6u) << "the strategy sent too few orders in " << sent << " frames";
  ASSERT_GE(venue.fills().size(), 1u);
  EXPECT_TRUE(venue.countdown_armed()) << "cancel-all-after is refreshed while trading";
  EXPECT_EQ(venue.countdown_timeout_s(), 10);
  ASSERT_TRUE(enigma::testing::kill_until_flat<OkxSuite>(t, sent, kUpdates))
      << "the venue still holds a position (" << venue.position(kInst) << ") or a working order after the kill";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  t.finish();

  EXPECT_EQ(venue.bad_signatures(), 0);
  // Every order the venue holds is the engine's: its session id, letters and digits only (<prefix><time>X<n>),
  // or empty on the market order a triggered stop placed (named by algoClOrdId).
  for (const auto& o : venue.orders())
    EXPECT_TRUE(o.cl_ord_id.rfind("entpg9fnX", 0) == 0 || (o.cl_ord_id.empty() && o.algo_cl_ord_id.rfind("entpg9fnX", 0) == 0))
        << o.cl_ord_id << " / " << o.algo_cl_ord_id;
  const TradingCore& core = *t.core;
  // Every fill at the venue is a trade of the engine's, with the venue's fee to the digit (OKX: negative =
  // charged; the engine's positive = paid).
  ASSERT_EQ(core.trades().size(), venue.fills().size());
  const auto [venue_fees, our_fees] = enigma::testing::fee_totals<OkxSuite>(venue, core);
  const std::size_t algos_live = live_algos(venue).size();
  std::printf("okx: %zu requests at the venue, %zu fills, %zu stops (algo orders, %zu still live), fees %.8Lf (venue) "
              "%.8Lf (engine), %d rate-limited\n",
              venue.bodies().size(), venue.fills().size(), venue.algos().size(), algos_live, venue_fees, our_fees,
              venue.rate_limited());
  // The entries' brackets went out as algo orders (order-algo), and none is left live once the position is flat.
  EXPECT_GE(venue.algos().size(), 2u);
  EXPECT_EQ(algos_live, 0u);
  EXPECT_GT(venue_fees, 0.0L);
  EXPECT_NEAR(static_cast<double>(our_fees), static_cast<double>(venue_fees), 1e-9);
  Qty net{};
  for (const auto& tr : core.trades()) net += tr.side == Side::buy ? tr.qty : -tr.qty;
  EXPECT_EQ(core.position(0).qty, net);
  EXPECT_EQ(net, Qty{});
  EXPECT_EQ(core.working_orders(), 0u);
  EXPECT_GE(t.gateway->stats().http_429.load(), 1u);
  EXPECT_EQ(t.gateway->stats().stream_errors.load(), 0u);
  EXPECT_GT(t.gateway->stats().stream_reports.load(), 0u);
  EXPECT_EQ(t.gateway->stats().send_allocations.load(), 0u);
  EXPECT_GE(core.counters().deadman_refreshes, 2u);
  EXPECT_FALSE(venue.countdown_armed()) << "a clean stop disarms cancel-all-after";
  // Only the injected 429: the disarm waits out OKX's one cancel-all-after per second after the last refresh.
  EXPECT_EQ(venue.rate_limited(), 1);
}

// A refused cancel-all-after leaves the account without its dead-man switch: OKX takes one per second, so
// the first one of an engine restarted within a second of the last is refused (429, 50011). The engine sends
// it again within 1.5 s, not a third of the countdown (here 30 s / 3) later.
TEST(EngineLiveOkx, ARefusedDeadManSwitchIsArmedAgainWithinSeconds) {
  OkxLiveRun t([](RunConfig& rc) { rc.trading.deadman_countdown_ns = 30'000'000'000; });
  FakeOkx& venue = t.venue;
  venue.rate_limit_next(1);  // the first signed REST request: the first cancel-all-after
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(t.start(kOkxSecret)) << "private streams, engine or first frame not up";
  ASSERT_TRUE(wait_for([&] { return venue.rate_limited() == 1; }, 5000));
  EXPECT_FALSE(venue.countdown_armed());
  // 1.5 s in the engine, 1.75-2.5 s measured here (release, TSan); the next refresh would come 10 s later.
  ASSERT_TRUE(wait_for([&] { return venue.countdown_armed(); }, 6000)) << "the dead-man switch stayed unarmed";
  const double armed_after_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(venue.countdown_timeout_s(), 30);
  t.finish();
  EXPECT_GE(t.core->counters().instrument_request_failures, 1u);
  EXPECT_GE(t.core->counters().deadman_refreshes, 2u);
  std::printf("okx: dead-man switch armed %.2f s after the start, after one refusal\n", armed_after_s);
}

// The live suite's continuity case (live_suite.hpp) on OKX: a 51008 reject is a margin reject, a lost
// order answer is UNKNOWN until the query by clOrdId, and a resting entry filled while the private streams
// were down is booked after the reconnect with the venue's fillFee (the query answer's "fee").
TEST(EngineLiveOkx, ARejectALostAnswerAndAFillMissedWhileTheStreamWasDown) {
  OkxLiveRun t([](RunConfig& rc) { rc.trading.entry_by_strategy[0].mode = oms::EntryMode::level; });
  ASSERT_TRUE(t.start(kOkxSecret)) << "private streams, engine or first frame not up";
  enigma::testing::reject_lost_answer_and_missed_fill<OkxSuite>(t, *t.gateway, kUpdates, "okx");
}

// The live suite's resubscription case (live_suite.hpp) on OKX: an entry filled after the private streams'
// reconnect but before the venue answered the "orders" subscription is found by the query sent on that answer.
TEST(EngineLiveOkx, AFillBeforeTheResubscriptionIsFoundByAQuery) {
  OkxLiveRun t([](RunConfig& rc) { rc.trading.entry_by_strategy[0].mode = oms::EntryMode::level; });
  ASSERT_TRUE(t.start(kOkxSecret)) << "private streams, engine or first frame not up";
  enigma::testing::a_fill_before_the_resubscription_is_found_by_query<OkxSuite>(t, *t.gateway, kUpdates);
}

// OKX pushes a stop's state on a connection of its own (/ws/v5/business, orders-algo). A stop the venue cancels
// while only that connection is down (the orders connection stays up: nothing else asks for a query) is found
// once the channel is subscribed again, by the query of the working orders that follows; the push is lost.
TEST(EngineLiveOkx, AStopCancelledWhileTheAlgoStreamWasDownIsFoundByAQuery) {
  enigma::testing::CaseLog log;  // outlives the engine: the canceled stop is read from the engine's log line
  OkxLiveRun t;
  ASSERT_TRUE(t.start(kOkxSecret)) << "private streams, engine or first frame not up";
  FakeOkx& venue = t.venue;
  std::size_t sent = 1;
  // A protected position: its exits are decided on frames, and none is sent until the end.
  while (sent + 200 < kUpdates && (live_algos(venue).empty() || venue.position(kInst) == "0"))
    enigma::testing::feed_frames(t, sent, 10);
  ASSERT_FALSE(live_algos(venue).empty()) << "no protected position in " << sent << " frames";
  const std::string stop = live_algos(venue).front();
  const int logins = venue.ws_logins();
  const int queries = venue.requests("GET /api/v5/trade/order-algo");
  venue.drop_streams(/*business_only=*/true);
  ASSERT_TRUE(venue.cancel_algo_by_venue(stop));  // its push goes to nobody
  ASSERT_TRUE(wait_for([&] { return venue.ws_logins() > logins; }, 10000)) << "the business stream never came back";
  EXPECT_TRUE(wait_for([&] { return log.contains("order_status id=" + stop + " status=CANCELED"); }, 10000))
      << "the engine never learned that its stop " << stop << " was cancelled\n" << log.tail(40);
  EXPECT_GT(venue.requests("GET /api/v5/trade/order-algo"), queries);
  t.finish();
  EXPECT_GE(t.core->counters().reconnect_reconciliations, 1u);
  EXPECT_EQ(venue.bad_signatures(), 0);
}

// A stop that fires while both private streams are down: the fill of the market order it placed is pushed to
// nobody. After the reconnect the engine's query of the stop answers "effective" with that order's id; the
// engine asks for that order and books its fill with the venue's fee, and cancels the bracket's other leg.
TEST(EngineLiveOkx, AStopThatFiredWhileTheStreamsWereDownIsBookedFromTheOrderItPlaced) {
  enigma::testing::CaseLog log;
  OkxLiveRun t;
  ASSERT_TRUE(t.start(kOkxSecret)) << "private streams, engine or first frame not up";
  FakeOkx& venue = t.venue;
  std::size_t sent = 1;
  // A protected position (both legs live): its exits are decided on frames, and none is sent until the end.
  while (sent + 200 < kUpdates && (live_algos(venue).size() < 2 || venue.position(kInst) == "0"))
    enigma::testing::feed_frames(t, sent, 10);
  ASSERT_EQ(live_algos(venue).size(), 2u) << "no protected position in " << sent << " frames";
  const std::string stop = live_algos(venue).front();
  const std::uint64_t connects = t.gateway->stats().stream_connects.load();
  venue.drop_streams();
  ASSERT_TRUE(wait_for([&] { return !t.gateway->stream_connected(); }));
  ASSERT_TRUE(venue.trigger_algo(stop));  // its order fills: pushed to nobody
  ASSERT_EQ(venue.position(kInst), "0");
  ASSERT_TRUE(wait_for([&] { return t.gateway->stream_connected() && t.gateway->stats().stream_connects.load() > connects; }, 10000));
  EXPECT_TRUE(wait_for([&] { return live_algos(venue).empty(); }, 10000)) << "the other leg is still live\n" << log.tail(40);
  EXPECT_TRUE(log.contains("stop_fired id=" + stop + " "));
  t.finish();
  const TradingCore& core = *t.core;
  ASSERT_EQ(core.trades().size(), venue.fills().size()) << log.tail(40);
  const auto [venue_fees, our_fees] = enigma::testing::fee_totals<OkxSuite>(venue, core);
  EXPECT_NEAR(static_cast<double>(our_fees), static_cast<double>(venue_fees), 1e-9);
  EXPECT_EQ(core.position(0).qty, Qty{});
  const oms::OrderState* s = t.core->order(risk::ClientOrderId::from(stop).value);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status, oms::OrderStatus::filled);
  EXPECT_EQ(core.working_orders(), 0u) << enigma::testing::working_orders_text(*t.core);
  EXPECT_EQ(venue.bad_signatures(), 0);
}

// A cancel the venue refuses as "already filled, canceled or does not exist" (51400) leaves the order's fate
// to a push. Here that push was lost (the venue cancelled the entry while its stream wrote nothing, the
// connection up: no reconnect, so no reconnect query): the engine queries the order and learns it was cancelled.
TEST(EngineLiveOkx, ACancelRefusedForAnOrderAlreadyGoneIsSettledByAQuery) {
  enigma::testing::CaseLog log;  // outlives the engine: the query's answer is read from the engine's log line
  OkxLiveRun t([](RunConfig& rc) { rc.trading.entry_by_strategy[0].mode = oms::EntryMode::level; });
  ASSERT_TRUE(t.start(kOkxSecret)) << "private streams, engine or first frame not up";
  FakeOkx& venue = t.venue;
  std::size_t sent = 1;
  std::string entry;
  while (sent + 200 < kUpdates && (entry = OkxSuite::resting_entry(venue)).empty()) enigma::testing::feed_frames(t, sent, 20);
  ASSERT_FALSE(entry.empty()) << "no resting entry in " << sent << " frames";
  const int connects = venue.ws_logins();
  venue.set_stream_silent(true);
  ASSERT_TRUE(venue.cancel_by_venue(entry));  // its push is lost
  venue.set_stream_silent(false);
  ASSERT_TRUE(t.admin.try_push(AdminCommand{AdminCommandKind::kill, 1}));  // cancels the entry: 51400
  EXPECT_TRUE(wait_for([&] { return log.contains("order_status id=" + entry + " status=CANCELED"); }, 10000))
      << "the engine never learned that its entry " << entry << " was cancelled\n" << log.tail(40);
  EXPECT_TRUE(log.contains("cancel_rejected id=" + entry + " reason=ORDER_NOT_FOUND"));
  EXPECT_EQ(venue.ws_logins(), connects) << "the streams reconnected: their query, not the refused cancel's, settled it";
  t.finish();
  EXPECT_EQ(t.core->working_orders(), 0u) << enigma::testing::working_orders_text(*t.core);
  // The settled order no longer counts against the risk limits (nor is it a kill switch's to cancel).
  EXPECT_EQ(t.core->risk().kill_switch().orders().size(), 0u);
  EXPECT_EQ(venue.bad_signatures(), 0);
}

// The live suite's rate-limit case (live_suite.hpp) on OKX: a 429 (50011) backs new orders off until OKX's
// 2 s window rolls; none reaches the venue meanwhile, and orders flow again after it.
TEST(EngineLiveOkx, ARateLimitAnswerBacksOffNewOrders) {
  OkxLiveRun t;
  ASSERT_TRUE(t.start(kOkxSecret)) << "private streams, engine or first frame not up";
  enigma::testing::a_rate_limit_answer_backs_off_new_orders<OkxSuite>(t, *t.gateway, kUpdates);
}

// The live suite's credentials case (live_suite.hpp) on OKX: requests signed with a secret the venue does not
// know are refused (50113, invalid signature) and raise the emergency stop; no new order follows.
TEST(EngineLiveOkx, RefusedCredentialsRaiseTheEmergencyStop) {
  OkxLiveRun t;
  ASSERT_TRUE(t.start("NOT0THE0SECRET0THE0VENUE0KNOWS00")) << "private streams, engine or first frame not up";
  enigma::testing::refused_credentials_raise_the_emergency_stop<OkxSuite>(t, kUpdates);
}

namespace {
// config/live-okx.toml pointed at the loopback venue and market data, trading often, its state under `root`;
// `deadman_ms` replaces [live] deadman_countdown_ms. Written to <root>/live.toml, whose path is returned.
std::string binary_config(const FakeOkx& venue, const MarketDataVenue& md, const enigma::testing::WsTestServer& market,
                          const std::string& root, const std::string& deadman_ms = "30000") {
  std::filesystem::create_directories(root);
  ::setenv("ENIGMA_API_KEY", kOkxKey, 1);
  ::setenv("ENIGMA_API_SECRET", kOkxSecret, 1);
  ::setenv("ENIGMA_API_PASSPHRASE", kOkxPassphrase, 1);
  std::string cfg = enigma::testing::slurp(std::string(ENIGMA_SOURCE_DIR) + "/config/live-okx.toml");
  const auto set = [&](const std::string& from, const std::string& to) {
    const std::size_t at = cfg.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) cfg.replace(at, from.size(), to);
  };
  set("entry_imbalance = 0.6", "entry_imbalance = 0.2");
  set("confirm_updates = 3", "confirm_updates = 1");
  set("cooldown_ms = 2000", "cooldown_ms = 20");
  set("[admin]\nenabled = true", "[admin]\nenabled = false");
  set("url = \"wss://ws.okx.com:8443/ws/v5/public\"", "url = \"" + market.url(md.ws_path()) + "\"\nca_file = \"" + market.ca_file() + "\"");
  set("rest_url = \"https://www.okx.com\"", "rest_url = \"" + venue.rest_url() + "\"\nca_file = \"" + venue.ca_file() + "\"");
  set("user_ws_url = \"wss://ws.okx.com:8443/ws/v5/private\"", "user_ws_url = \"" + venue.private_ws_url() + "\"");
  set("account_api_url = \"https://www.okx.com\"", "account_api_url = \"" + venue.rest_url() + "\"");
  set("drain_ms = 3000", "drain_ms = 500");
  set("deadman_countdown_ms = 30000 ", "deadman_countdown_ms = " + deadman_ms + " ");
  set("unknown_orders = \"report\"", "unknown_orders = \"report\"\n\n[state]\ndir = \"" + root + "/state\"");
  const std::string config = root + "/live.toml";
  std::ofstream(config) << cfg;
  return config;
}
// The binary's run against the OKX test venue: marked at 50000 with a 765.4 USDT balance, the market data's
// server, and config/live-okx.toml pointed at both with its state under a fresh `root`.
struct OkxBinary {
  FakeOkx venue;
  const MarketDataVenue md{Dialect::okx, kUpdates};
  enigma::testing::WsTestServer market{md.frames(), md.server_options()};
  std::string root, config;
  explicit OkxBinary(const std::string& name) : root(fresh_path(name)) {
    venue.set_mark(kInst, "50000");
    venue.set_balance("765.4");
    config = binary_config(venue, md, market, root);
  }
  // `enigma live --confirm` on this config, its run directories under root/runs-<name>.
  std::vector<std::string> args(const std::string& name) const {
    return {"live", "--confirm", "--config", config, "--runs-dir", root + "/runs-" + name};
  }
};
}  // namespace

// `enigma live` with the bundled config/live-okx.toml pointed at the loopback venue and market data: it refuses
// without --confirm; a key that can withdraw, and an account in long/short position mode, are refused before
// any order (exit 3); with --confirm it reads the account config, reconciles (the venue's balance), trades
// (orders signed, fills back), and SIGTERM ends it with the kill sequence: flat, nothing working at the venue.
TEST(EngineLiveOkx, TheBinaryTradesOnOkxAndStopsFlat) {
  using enigma::testing::Child;
  OkxBinary b("live-okx-binary");
  FakeOkx& venue = b.venue;
  enigma::testing::WsTestServer& market = b.market;
  const std::string& root = b.root;
  const std::string& config = b.config;

  const auto unconfirmed = enigma::testing::run_enigma("live --config " + config + " --runs-dir " + root + "/runs-0");
  EXPECT_EQ(unconfirmed.code, 3) << unconfirmed.text;
  EXPECT_NE(unconfirmed.text.find("Re-run with --confirm"), std::string::npos) << unconfirmed.text;
  enigma::testing::a_key_that_can_withdraw_is_refused<OkxSuite>(
      venue, {"live", "--confirm", "--config", config, "--runs-dir", root + "/runs-1"}, root + "/withdraw.out");
  venue.set_pos_mode("long_short_mode");
  const auto hedge = enigma::testing::run_enigma("live --confirm --config " + config + " --runs-dir " + root + "/runs-2");
  EXPECT_EQ(hedge.code, 3) << hedge.text;
  EXPECT_NE(hedge.text.find("needs net mode"), std::string::npos) << hedge.text;
  venue.set_pos_mode("net_mode");
  EXPECT_EQ(venue.bodies().size(), 0u);

  Child engine({"live", "--confirm", "--config", config, "--runs-dir", root + "/runs-3"}, root + "/engine.out");
  ASSERT_TRUE(wait_for([&] { return market.live(); }, 30000)) << engine.output();
  std::size_t sent = 0;
  while (sent + 100 < kUpdates && venue.fills().size() < 2) {
    market.send_next(50);
    sent += 50;
    wait_for([&] { return market.cursor() == sent; });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(venue.fills().size(), 2u) << engine.output();
  EXPECT_TRUE(venue.countdown_armed());
  EXPECT_EQ(venue.countdown_timeout_s(), 30);
  ASSERT_EQ(::kill(engine.pid, SIGTERM), 0);
  EXPECT_EQ(engine.wait(), 128 + SIGTERM) << engine.output();
  EXPECT_EQ(venue.position(kInst), "0") << "the stop sequence flattens";
  EXPECT_EQ(venue.open_orders().size(), 0u) << "nothing works at the venue after the stop";
  EXPECT_EQ(venue.bad_signatures(), 0);
  for (const auto& o : venue.orders())
    if (!o.cl_ord_id.empty()) EXPECT_EQ(o.cl_ord_id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), std::string::npos) << o.cl_ord_id;
  const std::string log = enigma::testing::slurp(std::filesystem::path(root) / "runs-3" / "latest" / "logs" / "enigma.log");
  EXPECT_NE(log.find("auth=okx-hmac"), std::string::npos) << log;
  EXPECT_NE(log.find("api_key_permissions"), std::string::npos) << log;
  EXPECT_NE(log.find("765.4"), std::string::npos) << "the venue's balance replaces the configured one\n" << log;
}

// A restart is not blind on OKX, through the `enigma live` binary (config/live-okx.toml pointed at the loopback
// venue): the first engine trades until an entry's bracket rests at the venue (stop-loss and take-profit, both
// live algo orders) and is SIGKILLed. While it is down the take-profit triggers and the order it placed fills.
// The restart on the same state directory reads the venue before trading: the stop-loss still rests (matched),
// the take-profit's fill is found by the query (its algo order's answer names the order it placed, whose answer
// has the fill), the journal's position closes as the venue's is, the balance is the account's (its fees and
// P&L). The stop-loss whose sibling filled is then cancelled at the venue, and SIGTERM ends the run with nothing
// working and no position at the venue.
TEST(EngineLiveOkx, ARestartThroughTheBinaryReconcilesWithTheVenue) {
  using enigma::testing::Child;
  OkxBinary b("live-okx-restart");
  FakeOkx& venue = b.venue;
  enigma::testing::WsTestServer& market = b.market;
  const std::string& root = b.root;
  // The engine's live protective legs at the venue, each an algo order of one leg: {stop-loss, take-profit}
  // algoClOrdIds.
  const auto bracket = [&] {
    std::pair<std::string, std::string> b;
    for (const auto& a : venue.algos()) {
      if (!a.live() || !a.reduce_only || a.algo_cl_ord_id.rfind("en", 0) != 0) continue;
      (a.sl_trigger_px.empty() ? b.second : b.first) = a.algo_cl_ord_id;
    }
    return b;
  };
  std::pair<std::string, std::string> legs;
  enigma::testing::trade_until_bracket_then_kill(b.args("first"), root + "/first.out", market, kUpdates, bracket,
                                                 [&] { return venue.position(kInst) != "0"; }, legs);
  if (::testing::Test::HasFatalFailure()) return;
  const std::string& stop_id = legs.first;
  const std::string& tp_id = legs.second;
  ASSERT_NE(venue.position(kInst), "0");
  ASSERT_TRUE(venue.trigger_algo(tp_id));  // while the engine is down: the take-profit closes the position
  ASSERT_EQ(venue.position(kInst), "0");
  const std::string tp_order = venue.algo(tp_id)->ord_id;  // the market order the take-profit placed
  ASSERT_EQ(venue.order_by_id(tp_order)->state, "filled");

  Child second(b.args("second"), root + "/second.out");
  ASSERT_TRUE(wait_for([&] { return !enigma::testing::venue_reconciliation(root + "/runs-second").empty(); }, 30000))
      << second.output();
  const std::string j = enigma::testing::venue_reconciliation(root + "/runs-second");
  EXPECT_NE(j.find("\"open_orders\": 1,"), std::string::npos) << j;  // our stop-loss
  EXPECT_NE(j.find("\"matched\": 1,"), std::string::npos) << j;
  EXPECT_NE(j.find("{\"client_id\": \"" + tp_id + "\", \"status\": \"FILLED\", \"filled\": \"" +
                   venue.order_by_id(tp_order)->acc_fill_sz_str() + "\"}"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find("{\"symbol\": \"" + kInst + "\", \"venue\": \"0\", \"journal\": \"0\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"balance\": \"" + venue.cash_balance() + "\""), std::string::npos) << j;  // after the fees and P&L
  const auto asked = [&](const std::string& target) {
    for (const auto& r : venue.request_log())
      if (r.method == "GET" && r.target == target) return true;
    return false;
  };
  EXPECT_TRUE(asked("/api/v5/trade/order-algo?algoClOrdId=" + tp_id));
  EXPECT_TRUE(asked("/api/v5/trade/order?instId=" + kInst + "&ordId=" + tp_order));
  // The take-profit's fill closed the position: its sibling, the stop-loss, is cancelled at the venue.
  ASSERT_TRUE(wait_for([&] { return venue.algo(stop_id)->state == "canceled"; }, 20000)) << second.output();
  ASSERT_EQ(::kill(second.pid, SIGTERM), 0);
  EXPECT_EQ(second.wait(), 128 + SIGTERM) << second.output();
  EXPECT_EQ(venue.position(kInst), "0");
  EXPECT_EQ(working(venue), 0u) << "nothing works at the venue after the stop";
  EXPECT_EQ(venue.bad_signatures(), 0);
  const std::string log = enigma::testing::slurp(std::filesystem::path(root) / "runs-second" / "latest" / "logs" / "enigma.log");
  EXPECT_NE(log.find("venue: our order " + stop_id + " is open at the venue"), std::string::npos) << log;
  EXPECT_NE(log.find("venue: our order " + tp_id + " was no longer open at the venue: FILLED"), std::string::npos) << log;
}

// OKX's dead-man switch through the binary: cancel-all-after is refreshed while the engine runs; when it dies
// (SIGKILL: no kill sequence, no cancels) the countdown runs out and the venue cancels every working order.
// The countdown's seconds are shortened at the venue (set_countdown_scale), not in the engine.
TEST(EngineLiveOkx, ADeadEnginesOrdersAreCancelledByCancelAllAfter) {
  using enigma::testing::Child;
  FakeOkx venue;
  venue.set_mark(kInst, "50000");
  venue.set_countdown_scale(100);  // one countdown second lasts 100 ms: the 10 s countdown runs out in 1 s
  const MarketDataVenue md{Dialect::okx, kUpdates};
  enigma::testing::WsTestServer market{md.frames(), md.server_options()};
  const std::string root = fresh_path("live-okx-deadman");
  const std::string bad = binary_config(venue, md, market, root + "/bad", "5000");
  const auto refused = enigma::testing::run_enigma("live --confirm --config " + bad + " --runs-dir " + root + "/runs-0");
  EXPECT_EQ(refused.code, 3) << refused.text;
  EXPECT_NE(refused.text.find("whole seconds from 10 to 120"), std::string::npos) << refused.text;

  const std::string config = binary_config(venue, md, market, root, "10000");
  Child engine({"live", "--confirm", "--config", config, "--runs-dir", root + "/runs-1"}, root + "/engine.out");
  ASSERT_TRUE(wait_for([&] { return market.live(); }, 30000)) << engine.output();
  std::size_t sent = 0;
  while (sent + 100 < kUpdates && working(venue) == 0) {
    market.send_next(50);
    sent += 50;
    wait_for([&] { return market.cursor() == sent; });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(working(venue), 1u) << "no order rested at the venue in " << sent << " frames\n" << engine.output();
  ASSERT_EQ(::kill(engine.pid, SIGKILL), 0);
  EXPECT_EQ(engine.wait(), 128 + SIGKILL);
  EXPECT_GE(working(venue), 1u) << "a killed engine cancels nothing itself";
  ASSERT_TRUE(wait_for([&] { return venue.countdown_trips() >= 1 && working(venue) == 0; }, 10000))
      << working(venue) << " order(s) still working after the countdown";
  EXPECT_EQ(venue.bad_signatures(), 0);
}
