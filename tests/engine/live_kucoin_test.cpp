// `enigma live` on KuCoin Futures (issue 17 item 1) against a local KuCoin Futures venue (Beast, TLS with a
// self-signed certificate made at test time, tests/support/fake_kucoin_futures.hpp) that verifies every
// KC-API-SIGN and the v2 passphrase, keeps its own order book per account and pushes /contractMarket/tradeOrders
// order changes on the private stream it opens after the bullet-private token flow. Market data is the
// KuCoin Futures level2 dialect of the paper tests' venue (market_data_venue.hpp), over its own bullet-public
// flow. The engine is driven as `enigma live` drives it: TradingCore::go_live (oms::kucoin_futures::OrderEntry), LiveGateway,
// reconcile_live, run_live.
#include <gtest/gtest.h>

#include <atomic>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/logger.hpp"
#include "engine/admin.hpp"
#include "engine/key_permissions.hpp"
#include "engine/live_gateway.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "engine/state.hpp"
#include "oms/venues/kucoin_futures.hpp"
#include "oms/venues/kucoin_futures_user.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/enigma_process.hpp"
#include "tests/support/fake_kucoin_futures.hpp"
#include "tests/support/live_suite.hpp"
#include "tests/support/market_data_venue.hpp"
#include "tests/support/ws_test_server.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::Dialect;
using enigma::testing::FakeKucoinFutures;
using enigma::testing::fresh_path;
using enigma::testing::kKucoinKey;
using enigma::testing::kKucoinPassphrase;
using enigma::testing::kKucoinSecret;
using enigma::testing::MarketDataVenue;
using enigma::testing::wait_for;

namespace {

constexpr std::size_t kUpdates = 20000;

// The bundled KuCoin Futures paper config (XBTUSDTM in whole contracts of 0.001 BTC) with an imbalance
// strategy that trades often (the test needs orders, not P&L) and no dead-man timer (KuCoin Futures has none).
RunConfig kucoin_config() {
  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/paper-kucoin-futures.toml");
  rc.strategy_config<strategy::ImbalanceTakerConfig>().entry_imbalance = 0.2;
  rc.strategy_config<strategy::ImbalanceTakerConfig>().confirm_updates = 1;
  rc.strategy_config<strategy::ImbalanceTakerConfig>().cooldown_ns = 20'000'000;
  rc.strategy_config<strategy::ImbalanceTakerConfig>().pending_timeout_ns = 50'000'000;
  rc.trading.unknown_query_delay_ns = 100'000'000;
  rc.trading.deadman_countdown_ns = 0;
  return rc;
}

std::string host_of(const FakeKucoinFutures& venue) {
  return "127.0.0.1:" + venue.rest_url().substr(venue.rest_url().rfind(':') + 1);
}

// The engine's order entry, signed with `secret` (the venue's, or another to see a refusal).
std::unique_ptr<oms::VenueOrderEntry> kucoin_entry(const InstrumentRegistry& registry, const char* secret,
                                                   const FakeKucoinFutures& venue) {
  return std::make_unique<oms::kucoin_futures::OrderEntry>(registry, kKucoinKey, oms::Secret(secret),
                                                           oms::Secret(kKucoinPassphrase), oms::kucoin_futures::Config{host_of(venue)});
}

// The gateway as `enigma live` sets it up for KuCoin Futures, with its own signer for the bullet-private POST.
struct KucoinLink {
  std::shared_ptr<oms::kucoin_futures::Encoder> signer;
  std::unique_ptr<LiveGateway> gateway;

  // `requests_per_3s`: the trading plan's cap on requests per 3 s window ([live] requests_per_3s).
  KucoinLink(const FakeKucoinFutures& venue, const InstrumentRegistry& registry, std::uint32_t requests_per_3s = 75) {
    oms::kucoin_futures::Config kc;
    kc.host = host_of(venue);
    signer = std::make_shared<oms::kucoin_futures::Encoder>(registry, kKucoinKey, oms::Secret(kKucoinSecret),
                                                            oms::Secret(kKucoinPassphrase), kc);
    LiveGatewayOptions go;
    go.venue = Venue::kucoin_futures;
    go.rest_url = venue.rest_url();
    go.api_key = kKucoinKey;
    go.stream_token_url = venue.rest_url() + "/api/v1/bullet-private";
    go.stream_token_headers = [s = signer] {
      const auto now = std::chrono::system_clock::now().time_since_epoch();
      return s->signed_headers("POST", "/api/v1/bullet-private", "",
                               std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
    };
    go.tls.ca_file = venue.ca_file();
    go.request_timeout_ns = 2'000'000'000;
    go.stream_token_cost = {10, 1};  // as the venue's own access() (oms/venues/kucoin_futures_user.cpp)
    go.budget = oms::kucoin_futures_private_budget();
    go.budget.orders_short.limit = requests_per_3s;
    gateway = std::make_unique<LiveGateway>(registry, go);
  }
};

// A GTC limit buy of `lots` XBTUSDTM contracts at `price`, as the OMS would send it.
oms::OrderSpec limit_buy(const char* id, std::int64_t lots, const char* price) {
  oms::OrderSpec o{};
  o.req.client_id = risk::ClientOrderId::from(id).value;
  o.req.instrument = 0;
  o.req.venue = Venue::kucoin_futures;
  o.req.side = Side::buy;
  o.req.type = risk::OrderType::limit;
  o.req.tif = risk::TimeInForce::gtc;
  o.req.qty = Qty::from_units(lots);
  o.req.price = Price::parse(price).value;
  o.req.leverage = 1;
  return o;
}

std::int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// `run_live` against the KuCoin Futures test venue: market data from the local TLS server in KuCoin's dialect,
// orders signed by the engine with `secret` (the gateway's own signer, for the private stream's token, has the
// venue's). The engine's state is its thread's until finish(); the destructor finishes (an early ASSERT too).
struct KucoinLiveRun {
  FakeKucoinFutures venue;
  const MarketDataVenue md{Dialect::kucoin_futures, kUpdates};
  enigma::testing::WsTestServer market{md.frames(), md.server_options()};
  InstrumentRegistry registry;
  std::unique_ptr<strategy::StrategyStage> strategies;
  std::unique_ptr<TradingCore> core;
  std::unique_ptr<KucoinLink> link;
  SpscRing<AdminCommand> admin{16};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> taken{0};  // market-data frames the engine took
  PipelineResult r;
  std::thread engine;

  // `tweak` changes the suite's config before the engine is built (e.g. resting entries).
  explicit KucoinLiveRun(void (*tweak)(RunConfig&) = nullptr) {
    venue.set_mark("50000");
    RunConfig rc = kucoin_config();
    if (tweak) tweak(rc);
    rc.fill_registry(registry);
    strategies = std::make_unique<strategy::StrategyStage>(rc.make_strategies());
    TradingCoreConfig trading = rc.trading;
    trading.journal_path = fresh_path("journal");
    core = std::make_unique<TradingCore>(registry, trading);
    link = std::make_unique<KucoinLink>(venue, registry);
  }
  ~KucoinLiveRun() { finish(); }
  LiveGateway& gateway() { return *link->gateway; }

  // As `enigma live` starts: start-up reconciliation (open orders, positions, fee rates, balance), the gateway
  // (its private stream connected), then the engine, then the first frame and its snapshot.
  bool start(const char* secret) {
    core->go_live(gateway(), kucoin_entry(registry, secret, venue));
    const std::string dir = fresh_path("run");
    std::filesystem::create_directories(dir);
    (void)reconcile_live(*core, registry, *oms::kucoin_futures::account_queries(gateway(), *link->signer, registry), UnknownOrderPolicy::cancel,
                         dir, wall_now_ns());
    gateway().start();
    if (!wait_for([&] { return gateway().stream_connected() && venue.stream_open(); })) return false;
    PaperOptions pp;
    const std::string base = "https://127.0.0.1:" + std::to_string(market.port());
    pp.ws.kucoin_bullet_url = base + md.bullet_path();
    pp.ws.subscriptions = md.subscriptions();
    pp.ws.ping = md.ping();
    pp.ws.tls.ca_file = market.ca_file();
    pp.snapshot_url = base + md.snapshot_path();
    pp.run_seconds = 90;  // bound, never reached when the test passes
    pp.ws_frames_taken = &taken;
    PipelineOptions po;
    po.venue = Venue::kucoin_futures;
    po.traded = 0;
    po.progress = false;
    po.admin = &admin;
    po.stop = &stop;
    engine = std::thread([this, pp, po] { r = run_live(pp, registry, *strategies, *core, po, 3'000'000'000); });
    if (!wait_for([&] { return market.live(); }, 20000)) return false;
    market.send_next(1);
    return wait_for([&] { return taken.load() >= 1 && market.snapshots_served() >= 1; }, 20000);
  }
  void finish() {
    stop = true;
    if (engine.joinable()) engine.join();
    gateway().stop();
  }
};

// What the shared live-suite cases (tests/support/live_suite.hpp) need to know of the KuCoin test venue.
struct KucoinSuite {
  static constexpr std::string_view kIdKey = "\"clientOid\":\"";
  static int order_posts(const FakeKucoinFutures& v) { return v.requests("POST /api/v1/orders"); }
  static void rate_limit_next(FakeKucoinFutures& v) { v.rate_limit_next(1); }  // HTTP 429, 429000
  // The 429 says the pool of the venue's 30 s window is spent (gw-ratelimit-remaining 0): new orders wait for
  // the window (up to 30 s), longer than this suite waits; AVenue429BacksOffNewOrdersUntilTheWindowResets and
  // the budget's tests follow that window.
  static constexpr bool kResumesWithinSeconds = false;
  static std::string resting_entry(const FakeKucoinFutures& v) {
    for (const auto& [id, o] : v.orders())
      if (o.active && o.stop.empty() && !o.reduce_only && o.type == "limit" && !o.foreign) return id;
    return {};
  }
  static bool flat(const FakeKucoinFutures& v) {
    if (v.position("XBTUSDTM") != 0) return false;
    for (const auto& [id, o] : v.orders())
      if (o.active) return false;
    return true;
  }
  static long double fee_paid(const FakeKucoinFutures::Fill& f) { return std::stold(f.fee); }
  static std::vector<std::string> client_ids(const FakeKucoinFutures& v) {
    std::vector<std::string> ids;
    for (const auto& [id, o] : v.orders()) ids.push_back(id);
    return ids;
  }
};

}  // namespace

// The live suite's continuity case (live_suite.hpp) on KuCoin Futures: a 300003 reject is a margin reject, a
// lost order answer is UNKNOWN until the query by clientOid, and a resting entry filled while the private
// stream was down is booked after the reconnect with the fee KuCoin charged (the order answer has none: its
// filledValue at the account's maker rate from GET /api/v1/trade-fees, as the venue charges a resting order).
TEST(EngineLiveKucoin, ARejectALostAnswerAndAFillMissedWhileTheStreamWasDown) {
  KucoinLiveRun t([](RunConfig& rc) { rc.trading.entry_by_strategy[0].mode = oms::EntryMode::level; });
  t.venue.set_fee_rates("0.00015", "0.00055");  // not the engine's [sim] defaults (0.0002, 0.0004)
  ASSERT_TRUE(t.start(kKucoinSecret)) << "private stream, engine or first snapshot not up";
  enigma::testing::reject_lost_answer_and_missed_fill<KucoinSuite>(t, t.gateway(), kUpdates, "kucoin");
}

// The live suite's resubscription case (live_suite.hpp) on KuCoin Futures: an entry filled after the private
// stream's reconnect but before the venue acked its subscriptions (tradeOrders, then advancedOrders) is found
// by the query sent on the last ack.
TEST(EngineLiveKucoin, AFillBeforeTheResubscriptionIsFoundByAQuery) {
  KucoinLiveRun t([](RunConfig& rc) { rc.trading.entry_by_strategy[0].mode = oms::EntryMode::level; });
  ASSERT_TRUE(t.start(kKucoinSecret)) << "private stream, engine or first snapshot not up";
  enigma::testing::a_fill_before_the_resubscription_is_found_by_query<KucoinSuite>(t, t.gateway(), kUpdates);
}

// Signed orders reach the venue, its order changes come back as fills, a venue reject (300003, balance
// insufficient) and a request that was never answered (UNKNOWN until the query by clientOid resolves it)
// are resolved, and the kill cancels the resting entries one by one (never a cancel-all, which would take the
// stops with it) and flattens: nothing is left working at the venue.
TEST(EngineLiveKucoin, OrdersReachTheVenueSignedAndFillsComeBack) {
  KucoinLiveRun t;
  t.venue.set_fee_rates("0.00015", "0.00055");  // not the engine's [sim] defaults (0.0002, 0.0004)
  ASSERT_TRUE(t.start(kKucoinSecret)) << "private stream, engine or first snapshot not up";
  EXPECT_EQ(t.venue.bullets(), 1);
  FakeKucoinFutures& venue = t.venue;
  enigma::testing::WsTestServer& market = t.market;
  TradingCore& core = *t.core;
  LiveGateway& gateway = t.gateway();
  // Frames in bursts; the venue refuses an order for margin, and leaves a later request unanswered (it
  // timed out: the order's fate is UNKNOWN until the query by clientOid says the venue never had it).
  std::size_t sent = 1;
  bool rejected = false, lost = false;
  while (sent + 100 < kUpdates && !(lost && venue.queries() >= 1 && venue.bodies().size() >= 6)) {
    if (!rejected && venue.bodies().size() >= 1) {
      venue.reject_next_orders(1);
      rejected = true;
    }
    if (!lost && venue.bodies().size() >= 3) {
      venue.silence_next(1);  // never carried out, never answered: UNKNOWN after request_timeout
      lost = true;
    }
    market.send_next(50);
    sent += 50;
    wait_for([&] { return market.cursor() == sent; });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(venue.bodies().size(), 6u) << "the strategy sent too few orders in " << sent << " frames";
  ASSERT_TRUE(wait_for([&] { return venue.queries() >= 1; }))
      << "orders " << venue.bodies().size() << ", unknown outcomes " << core.counters().unknown_outcomes << ", venue rejects "
      << core.counters().venue_rejects << ", gateway answers " << gateway.stats().answers.load() << ", unknown "
      << gateway.stats().unknown_outcomes.load();
  ASSERT_TRUE(t.admin.try_push(AdminCommand{AdminCommandKind::kill, 1}));
  // Market data goes on (the flattening close is priced from the book).
  market.send_next(kUpdates - sent);
  // Watched at the venue (the engine's own state is its thread's until it has stopped): flat, nothing working;
  // then a moment for the last pushes to reach the engine.
  ASSERT_TRUE(wait_for([&] {
    if (venue.position("XBTUSDTM") != 0) return false;
    for (const auto& [id, o] : venue.orders())
      if (o.active) return false;
    return true;
  }, 10000)) << "the venue still holds a position or a working order after the kill";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  t.finish();

  // Every request was signed with the key, the secret and the passphrase the venue knows.
  EXPECT_EQ(venue.auth_refusals(), 0);
  for (const auto& b : venue.bodies()) {
    EXPECT_NE(b.find("\"clientOid\":\"en"), std::string::npos) << b;
    EXPECT_NE(b.find("\"symbol\":\"XBTUSDTM\""), std::string::npos) << b;
  }
  const TradingCore::Counters& c = core.counters();
  // Every order the engine sent reached the venue, but for the one request the venue swallowed unanswered
  // (when it was an order: the venue keeps no body of it).
  EXPECT_GE(static_cast<std::size_t>(c.orders), venue.bodies().size());
  EXPECT_LE(static_cast<std::size_t>(c.orders), venue.bodies().size() + 1);
  // Fills from the private stream: trades, and a position equal to their sum (now flat after the kill).
  ASSERT_GT(core.trades().size(), 0u);
  EXPECT_GT(gateway.stats().stream_reports.load(), 0u);
  EXPECT_EQ(gateway.stats().stream_errors.load(), 0u);
  Qty net{};
  for (const auto& t : core.trades()) net += t.side == Side::buy ? t.qty : -t.qty;
  EXPECT_EQ(core.position(0).qty, net);
  // KuCoin's stream carries no fee: each fill is charged its value at the account's rate for its side, as
  // GET /api/v1/trade-fees stated at start-up. The venue's own record of its matches gives the expectation.
  long double want_fees = 0, want_maker = 0, got_fees = 0, got_maker = 0;
  for (const auto& m : venue.fills())
    (m.maker ? want_maker : want_fees) += static_cast<long double>(m.size) * 0.001L * std::stold(m.price) * (m.maker ? 0.00015L : 0.00055L);
  want_fees += want_maker;
  for (const auto& t : core.trades()) {
    const long double fee = std::stold(t.fee.to_string());
    got_fees += fee;
    if (t.maker) got_maker += fee;
  }
  EXPECT_EQ(core.trades().size(), venue.fills().size());
  EXPECT_GT(want_fees, 0.0L);
  EXPECT_NEAR(static_cast<double>(got_fees), static_cast<double>(want_fees), 1e-6);
  EXPECT_NEAR(static_cast<double>(got_maker), static_cast<double>(want_maker), 1e-6);
  EXPECT_NEAR(std::stod(core.figures(0).fees.to_string()), static_cast<double>(want_fees), 1e-6);
  // The 300003 answer is a venue reject for margin.
  EXPECT_GE(c.venue_rejects, 1u);
  EXPECT_EQ(c.last_venue_code == 300003 || c.venue_rejects >= 1, true);
  bool margin_reject = false;
  for (const auto& b : venue.bodies()) {
    const std::size_t at = b.find("\"clientOid\":\"") + 13;
    const auto id = risk::ClientOrderId::from(b.substr(at, b.find('"', at) - at));
    ASSERT_TRUE(id.ok()) << b;
    const oms::OrderState* o = core.order(id.value);
    ASSERT_NE(o, nullptr) << b;
    margin_reject = margin_reject || (o->status == oms::OrderStatus::rejected && o->reason == oms::Reason::insufficient_margin);
    EXPECT_NE(o->status, oms::OrderStatus::unknown) << b;  // the unanswered request was resolved by the query
  }
  EXPECT_TRUE(margin_reject);
  EXPECT_GE(c.unknown_outcomes, 1u);
  EXPECT_GE(c.queries, 1u);
  // The kill cancelled order by order (never DELETE /api/v1/orders?symbol=, which takes every order) and
  // flattened; nothing of ours is left working at the venue.
  EXPECT_EQ(venue.cancel_alls(), 0);
  EXPECT_EQ(core.working_orders(), 0u);
  EXPECT_EQ(core.unprotected_positions(), 0u);
  for (const auto& [id, o] : venue.orders()) EXPECT_FALSE(o.active) << id << " still works at the venue";
  EXPECT_EQ(gateway.stats().send_allocations.load(), 0u);
}

// The live suite's rate-limit case (live_suite.hpp) on KuCoin Futures, through run_live: a 429 (429000) backs
// new orders off until gw-ratelimit-reset; none reaches the venue meanwhile.
TEST(EngineLiveKucoin, ARateLimitAnswerBacksOffNewOrders) {
  KucoinLiveRun t;
  ASSERT_TRUE(t.start(kKucoinSecret)) << "private stream, engine or first snapshot not up";
  enigma::testing::a_rate_limit_answer_backs_off_new_orders<KucoinSuite>(t, t.gateway(), kUpdates);
}

// The live suite's credentials case (live_suite.hpp) on KuCoin Futures: orders signed with another secret are
// refused (400005, Invalid KC-API-SIGN) and raise the emergency stop; no new order follows.
TEST(EngineLiveKucoin, RefusedCredentialsRaiseTheEmergencyStop) {
  KucoinLiveRun t;
  ASSERT_TRUE(t.start("not-the-venue-secret")) << "private stream, engine or first snapshot not up";
  enigma::testing::refused_credentials_raise_the_emergency_stop<KucoinSuite>(t, kUpdates);
}

// Start-up reconciliation on KuCoin Futures: our journal is empty; the account holds a position, a balance
// and an order placed by hand. The venue's position and balance replace ours, the foreign order is reported
// and, with unknown_orders = "cancel", cancelled at the venue by its order id.
TEST(EngineLiveKucoin, StartUpTakesTheVenuesPositionBalanceAndCancelsAForeignOrder) {
  FakeKucoinFutures venue;
  venue.set_balance("1234.5");
  venue.set_position("XBTUSDTM", -3, 50010.5);
  venue.set_fee_rates("0.00015", "0.00055");
  const std::string foreign = venue.add_foreign_order("web_manual_1");
  RunConfig rc = kucoin_config();
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_path("journal");
  TradingCore core(registry, trading);
  KucoinLink link(venue, registry);
  core.go_live(*link.gateway, kucoin_entry(registry, kKucoinSecret, venue));
  const std::string dir = fresh_path("run");
  std::filesystem::create_directories(dir);
  const LiveReconciliation out = reconcile_live(core, registry, *oms::kucoin_futures::account_queries(*link.gateway, *link.signer, registry),
                                                UnknownOrderPolicy::cancel, dir, wall_now_ns());
  EXPECT_EQ(out.venue_open_orders, 1u);
  EXPECT_EQ(out.unknown_orders, 1u);
  EXPECT_EQ(out.unknown_canceled, 1u);
  EXPECT_EQ(out.position_differences, 1u);
  EXPECT_EQ(out.balance, Notional::parse("1234.5").value);
  EXPECT_EQ(core.position(0).qty, Qty::from_units(-3));
  EXPECT_FALSE(venue.order("web_manual_1")->active);
  EXPECT_EQ(venue.auth_refusals(), 0);
  const std::string j = enigma::testing::slurp(dir + "/reconciliation.json");
  EXPECT_NE(j.find("{\"order_id\": \"" + foreign + "\", \"client_id\": \"web_manual_1\", \"symbol\": \"XBTUSDTM\", \"side\": \"BUY\""),
            std::string::npos) << j;
  EXPECT_NE(j.find("\"balance\": \"1234.5\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"fee_rates\": [\n      {\"symbol\": \"XBTUSDTM\", \"maker\": \"0.00015\", \"taker\": \"0.00055\"}"), std::string::npos) << j;
}

// The plan's hard limit "no withdrawal API permissions": a KuCoin key with Withdrawal (or FlexTransfers) is
// refused before anything else reaches the venue; a trade-only key passes and its permissions are read.
TEST(EngineLiveKucoin, AKeyThatCanWithdrawIsRefusedAtStart) {
  FakeKucoinFutures venue;
  RunConfig rc = kucoin_config();
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  KucoinLink link(venue, registry);
  feed::TlsOptions tls;
  tls.ca_file = venue.ca_file();
  const auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  const oms::KeyPermissions ok =
      check_key_permissions(venue.rest_url(), oms::kucoin_futures::key_permissions_request(*link.signer, now_ms()), tls, 2'000'000'000);
  EXPECT_NE(ok.log_fields.find("permissions=General,Futures "), std::string::npos) << ok.log_fields;
  EXPECT_EQ(ok.moves_funds_out, "");
  for (const std::string p : {"General,Futures,Withdrawal", "General,FlexTransfers,Futures"}) {
    venue.set_key_permission(p);
    try {
      (void)check_key_permissions(venue.rest_url(), oms::kucoin_futures::key_permissions_request(*link.signer, now_ms()), tls,
                                  2'000'000'000);
      ADD_FAILURE() << p << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("refusing to trade with an API key that can move funds out"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(venue.auth_refusals(), 0);
}

// Order changes pushed while the private stream was down are lost; after it reconnects (a new bullet-private
// token) the engine queries its working orders and books the fill it missed.
TEST(EngineLiveKucoin, AFillMissedWhileThePrivateStreamWasDownIsFoundByQuery) {
  FakeKucoinFutures venue;
  RunConfig rc = kucoin_config();
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  KucoinLink link(venue, registry);
  LiveGateway& gateway = *link.gateway;
  gateway.start();
  ASSERT_TRUE(wait_for([&] { return gateway.stream_connected() && venue.stream_open(); }));
  const oms::OrderSpec o = limit_buy("enkc1", 2, "40000");  // rests
  char buf[2048];
  const auto n = link.signer->encode_new(o, wall_now_ns() / 1'000'000, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(gateway.try_send(oms::RestRequest::new_order, o.req.client_id, 0, std::string_view(buf, n.value), rdtsc()));
  GatewayReport g;
  std::vector<oms::ExecKind> kinds;
  auto drain = [&] {
    while (gateway.try_pop(g))
      if (g.report.client_id == o.req.client_id) kinds.push_back(g.report.kind);
  };
  ASSERT_TRUE(wait_for([&] { drain(); return kinds.size() >= 2; }));  // the answer (accepted) and the "open" push
  const std::uint64_t epoch = gateway.resync_epoch();
  venue.drop_streams();
  ASSERT_TRUE(wait_for([&] { return !gateway.stream_connected(); }));
  ASSERT_TRUE(venue.fill_resting("enkc1"));  // pushed to nobody
  ASSERT_TRUE(wait_for([&] { return gateway.resync_epoch() > epoch && gateway.stream_connected(); }, 10000));
  EXPECT_GE(venue.bullets(), 2);  // a fresh token for the new connection
  // What the OMS does on a new epoch (TradingCore::verify_working): query the working order.
  const auto q = link.signer->encode_query(o.req.client_id, wall_now_ns() / 1'000'000, buf, sizeof buf);
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(gateway.try_send(oms::RestRequest::query, o.req.client_id, 0, std::string_view(buf, q.value), rdtsc()));
  oms::ExecReport status{};
  ASSERT_TRUE(wait_for([&] {
    while (gateway.try_pop(g))
      if (g.report.kind == oms::ExecKind::status) status = g.report;
    return status.kind == oms::ExecKind::status;
  }));
  EXPECT_EQ(status.status, oms::OrderStatus::filled);
  EXPECT_EQ(status.cum_qty, Qty::from_units(2));
  gateway.stop();
}

// KuCoin names an untriggered stop's lifecycle events (advancedOrders: triggered, cancel) by its order id
// only. A stop whose answer was lost (HTTP 500; the venue booked it) is UNKNOWN until the query by clientOid
// resolves it; that answer teaches the gateway the stop's order id, so the trigger reaches the order.
TEST(EngineLiveKucoin, AStopWhoseAnswerWasLostIsFollowedOnceQueried) {
  FakeKucoinFutures venue;
  RunConfig rc = kucoin_config();
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  KucoinLink link(venue, registry);
  LiveGateway& gateway = *link.gateway;
  gateway.start();
  ASSERT_TRUE(wait_for([&] { return gateway.stream_connected() && venue.stream_open() && venue.stop_stream_open(); }));
  oms::OrderSpec o = limit_buy("enst1", 1, "40000");
  o.req.type = risk::OrderType::stop_market;
  o.req.side = Side::sell;
  o.req.price = Price{};
  o.req.stop_price = Price::parse("39000").value;
  venue.lose_next_order_answer(500);
  char buf[2048];
  const auto n = link.signer->encode_new(o, wall_now_ns() / 1'000'000, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(gateway.try_send(oms::RestRequest::new_order, o.req.client_id, 0, std::string_view(buf, n.value), rdtsc()));
  GatewayReport g;
  std::vector<GatewayReport> seen;
  const auto drain = [&] {
    while (gateway.try_pop(g))
      if (g.report.client_id == o.req.client_id) seen.push_back(g);
  };
  ASSERT_TRUE(wait_for([&] { drain(); return !seen.empty(); }));
  ASSERT_TRUE(seen.back().unknown) << "the lost answer must leave the stop UNKNOWN";
  const std::size_t before_query = seen.size();
  const auto q = link.signer->encode_query(o.req.client_id, wall_now_ns() / 1'000'000, buf, sizeof buf);
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(gateway.try_send(oms::RestRequest::query, o.req.client_id, 0, std::string_view(buf, q.value), rdtsc()));
  ASSERT_TRUE(wait_for([&] { drain(); return seen.size() > before_query; }));
  EXPECT_EQ(seen.back().report.kind, oms::ExecKind::status);
  EXPECT_EQ(seen.back().report.status, oms::OrderStatus::accepted);
  ASSERT_TRUE(venue.trigger_stop("enst1"));
  ASSERT_TRUE(wait_for([&] {
    drain();
    return std::any_of(seen.begin(), seen.end(), [](const GatewayReport& r) { return r.report.kind == oms::ExecKind::triggered; });
  })) << "the trigger event never reached the order";
  gateway.stop();
}

// After a restart the gateway knows no order id: start-up reconciliation's open-order lists (the untriggered
// stops are a list of their own) teach it each stop's order id, so a trigger after the restart still reaches
// the order it belongs to.
TEST(EngineLiveKucoin, AStopPlacedBeforeARestartIsFollowedAfterIt) {
  FakeKucoinFutures venue;
  RunConfig rc = kucoin_config();
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  oms::OrderSpec o = limit_buy("enst2", 1, "40000");
  o.req.type = risk::OrderType::stop_market;
  o.req.side = Side::sell;
  o.req.price = Price{};
  o.req.stop_price = Price::parse("39000").value;
  {
    KucoinLink before(venue, registry);
    before.gateway->start();
    char buf[2048];
    const auto n = before.signer->encode_new(o, wall_now_ns() / 1'000'000, buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE(before.gateway->try_send(oms::RestRequest::new_order, o.req.client_id, 0, std::string_view(buf, n.value), rdtsc()));
    GatewayReport g;
    ASSERT_TRUE(wait_for([&] { return before.gateway->try_pop(g) && g.report.kind == oms::ExecKind::accepted; }));
    before.gateway->stop();
  }
  KucoinLink after(venue, registry);
  const auto orders = oms::kucoin_futures::account_queries(*after.gateway, *after.signer, registry)->open_orders();
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].type, "STOP_MARKET");
  after.gateway->start();
  // Both channels: a trigger pushed before the stop-order channel's subscription would reach no one.
  ASSERT_TRUE(wait_for([&] { return after.gateway->stream_connected() && venue.stream_open() && venue.stop_stream_open(); }));
  ASSERT_TRUE(venue.trigger_stop("enst2"));
  GatewayReport g;
  bool triggered = false;
  ASSERT_TRUE(wait_for([&] {
    while (after.gateway->try_pop(g)) triggered = triggered || (g.report.client_id == o.req.client_id && g.report.kind == oms::ExecKind::triggered);
    return triggered;
  })) << "the trigger event never reached the order";
  after.gateway->stop();
}

// The private stream's token (the signed bullet-private POST) is fetched off the gateway thread: while a
// reconnect waits 3 s for a slow token service, a new order still leaves and is answered at once; then the
// token comes and the stream is back.
TEST(EngineLiveKucoin, ASlowTokenDuringAReconnectHoldsNoOrder) {
  FakeKucoinFutures venue;
  RunConfig rc = kucoin_config();
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  KucoinLink link(venue, registry);
  LiveGateway& gateway = *link.gateway;
  gateway.start();
  ASSERT_TRUE(wait_for([&] { return gateway.stream_connected() && venue.stream_open(); }));
  venue.delay_bullets(3000);
  const int bullets = venue.bullets();
  venue.drop_streams();
  ASSERT_TRUE(wait_for([&] { return venue.bullets() > bullets; }, 10000));  // the reconnect's POST is in flight
  const oms::OrderSpec o = limit_buy("enkt1", 1, "40000");
  char buf[2048];
  const auto n = link.signer->encode_new(o, wall_now_ns() / 1'000'000, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(gateway.try_send(oms::RestRequest::new_order, o.req.client_id, 0, std::string_view(buf, n.value), rdtsc()));
  GatewayReport g;
  bool accepted = false;
  ASSERT_TRUE(wait_for([&] {
    while (gateway.try_pop(g)) accepted = accepted || (g.report.client_id == o.req.client_id && g.report.kind == oms::ExecKind::accepted);
    return accepted;
  }, 10000));
  const auto took = std::chrono::steady_clock::now() - sent;
  EXPECT_LT(took, std::chrono::milliseconds(1500)) << "the order waited for the token";
  EXPECT_FALSE(gateway.stream_connected()) << "the token came before the order's answer: nothing was shown";
  ASSERT_TRUE(wait_for([&] { return gateway.stream_connected() && venue.stream_open(); }, 15000));
  gateway.stop();
}

// What a user meets first, through the `enigma live` binary: the bundled config validates with the
// passphrase from the environment and stops for --confirm (exit 3, nothing sent); a missing passphrase and
// Binance-only settings are named; a dead-man timer is refused (KuCoin Futures has none).
TEST(EngineLiveKucoin, TheBinaryValidatesTheConfigAndCredentialsBeforeConfirm) {
  using enigma::testing::run_enigma;
  const std::string dir = fresh_path("live-kucoin-cli");
  std::filesystem::create_directories(dir);
  const std::string bundled = std::string(ENIGMA_SOURCE_DIR) + "/config/live-kucoin-futures.toml";
  const std::string env = "ENIGMA_API_KEY=k ENIGMA_API_SECRET=s ";
  const auto ok = enigma::testing::shell(env + "ENIGMA_API_PASSPHRASE=p " + ENIGMA_BINARY + " live --config " + bundled +
                                         " --runs-dir " + dir + "/runs");
  EXPECT_EQ(ok.code, 3) << ok.text;
  EXPECT_NE(ok.text.find("live trading sends real orders to https://api-futures.kucoin.com"), std::string::npos) << ok.text;
  EXPECT_NE(ok.text.find("Re-run with --confirm"), std::string::npos) << ok.text;
  EXPECT_FALSE(std::filesystem::exists(dir + "/runs")) << "nothing starts before --confirm";

  const auto no_pass = enigma::testing::shell("env -u ENIGMA_API_PASSPHRASE " + env + ENIGMA_BINARY + " live --config " + bundled);
  EXPECT_EQ(no_pass.code, 3) << no_pass.text;
  EXPECT_NE(no_pass.text.find("ENIGMA_API_PASSPHRASE"), std::string::npos) << no_pass.text;

  const std::string text = enigma::testing::slurp(bundled);
  for (const std::string& extra : {std::string("order_entry = \"ws-api\""), std::string("deadman_countdown_ms = 30000")}) {
    const std::string path = dir + "/bad.toml";
    std::ofstream(path) << text << extra << "\n";
    const auto bad = enigma::testing::shell(env + "ENIGMA_API_PASSPHRASE=p " + ENIGMA_BINARY + " live --config " + path);
    EXPECT_EQ(bad.code, 3) << bad.text;
    EXPECT_NE(bad.text.find(extra.substr(0, extra.find(' '))), std::string::npos) << bad.text;
  }
}

// A venue 429 (429000, "Too Many Requests") on KuCoin Futures: the order it refused is a venue reject; new
// orders are then refused locally until the venue's window resets (gw-ratelimit-reset), no POST reaching it,
// and the venue's spent pool (gw-ratelimit-remaining 0) is taken into our count.
TEST(EngineLiveKucoin, AVenue429BacksOffNewOrdersUntilTheWindowResets) {
  FakeKucoinFutures venue;
  RunConfig rc = kucoin_config();
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  KucoinLink link(venue, registry);
  LiveGateway& gateway = *link.gateway;
  gateway.start();
  ASSERT_TRUE(wait_for([&] { return gateway.stream_connected() && venue.stream_open(); }));
  char buf[2048];
  const auto send_new = [&](const char* id, const char* price) {
    const oms::OrderSpec o = limit_buy(id, 1, price);
    const auto n = link.signer->encode_new(o, wall_now_ns() / 1'000'000, buf, sizeof buf);
    return n.ok() && gateway.try_send(oms::RestRequest::new_order, o.req.client_id, 0, std::string_view(buf, n.value), rdtsc());
  };
  std::map<std::string, GatewayReport> last;
  const auto drain = [&] {
    GatewayReport g;
    while (gateway.try_pop(g)) last[std::string(g.report.client_id.view())] = g;
  };
  ASSERT_TRUE(send_new("enrl1", "40000"));  // rests
  ASSERT_TRUE(wait_for([&] { drain(); return last.count("enrl1") != 0; }));
  venue.rate_limit_next(1);
  ASSERT_TRUE(send_new("enrl2", "40000"));
  ASSERT_TRUE(wait_for([&] { drain(); return last.count("enrl2") != 0; }));
  EXPECT_EQ(last["enrl2"].report.kind, oms::ExecKind::rejected);
  EXPECT_EQ(last["enrl2"].venue_code, 429000);
  EXPECT_EQ(gateway.stats().http_429.load(), 1u);
  const int posts = venue.requests("POST /api/v1/orders");
  ASSERT_TRUE(send_new("enrl3", "40000"));  // inside the back-off: refused here
  ASSERT_TRUE(wait_for([&] { drain(); return last.count("enrl3") != 0; }));
  EXPECT_EQ(last["enrl3"].report.kind, oms::ExecKind::rejected);
  EXPECT_EQ(last["enrl3"].report.reason, oms::Reason::rate_limited);
  EXPECT_EQ(gateway.stats().backoff_refusals.load(), 1u);
  EXPECT_EQ(venue.requests("POST /api/v1/orders"), posts);
  // The answer said the venue's pool is spent (gw-ratelimit-remaining 0): our count took it.
  EXPECT_EQ(gateway.stats().used_weight.load(), 2000u);
  EXPECT_EQ(venue.auth_refusals(), 0);
  gateway.stop();
}

// The private stream's token POST (bullet-private) is one of the plan's requests too: a reconnect's token
// takes one of the window's 4 requests, so of three new orders sent in the same 3 s window only two fit a new
// order's share (80 %: 3 of 4 with the token, 2 of 4 left for orders); the third is refused here, not sent.
TEST(EngineLiveKucoin, AReconnectsTokenPostCountsAgainstThePlansRequests) {
  FakeKucoinFutures venue;
  RunConfig rc = kucoin_config();
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  KucoinLink link(venue, registry, 4);
  LiveGateway& gateway = *link.gateway;
  gateway.start();
  ASSERT_TRUE(wait_for([&] { return gateway.stream_connected() && venue.stream_open(); }));
  EXPECT_EQ(gateway.stats().token_requests.load(), 1u);  // the first connect's
  constexpr std::int64_t kWindow = 3'000'000'000;  // windows are aligned to the epoch
  std::this_thread::sleep_for(std::chrono::nanoseconds(kWindow - wall_now_ns() % kWindow + 20'000'000));
  const int bullets = venue.bullets();
  venue.drop_streams();
  ASSERT_TRUE(wait_for([&] { return venue.bullets() > bullets && gateway.stream_connected(); }));
  EXPECT_EQ(gateway.stats().token_requests.load(), 2u);
  std::map<std::string, GatewayReport> last;
  char buf[2048];
  const std::vector<std::string> ids{"entk1", "entk2", "entk3"};
  for (const std::string& id : ids) {
    const oms::OrderSpec o = limit_buy(id.c_str(), 1, "40000");
    const auto n = link.signer->encode_new(o, wall_now_ns() / 1'000'000, buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE(gateway.try_send(oms::RestRequest::new_order, o.req.client_id, 0, std::string_view(buf, n.value), rdtsc()));
  }
  ASSERT_TRUE(wait_for([&] {
    GatewayReport g;
    while (gateway.try_pop(g)) last[std::string(g.report.client_id.view())] = g;
    return last.size() == ids.size();
  }));
  ASSERT_LT(wall_now_ns() % kWindow, 2'500'000'000) << "the reconnect took too long: the window rolled";
  EXPECT_EQ(last["entk1"].report.kind, oms::ExecKind::accepted);
  EXPECT_EQ(last["entk2"].report.kind, oms::ExecKind::accepted);
  EXPECT_EQ(last["entk3"].report.kind, oms::ExecKind::rejected);
  EXPECT_EQ(last["entk3"].report.reason, oms::Reason::rate_limited);
  EXPECT_EQ(gateway.stats().budget_refusals.load(), 1u);
  EXPECT_EQ(venue.requests("POST /api/v1/orders"), 2);
  gateway.stop();
}

// Requests that waited for the trading plan's request window (here 4 per 3 s) leave signed again: the venue
// (here strict: 1 s) would otherwise refuse their old KC-API-TIMESTAMP (400002) and a kill's cancels would
// leave the orders working. The engine installs the signer (TradingCore::go_live, from the order entry).
TEST(EngineLiveKucoin, RequestsThatWaitedForTheBudgetAreSignedAgainAsTheyLeave) {
  // The log a person tails says what waited and why (each window as used/limit@seconds).
  const std::string log_path = fresh_path("log") + ".log";
  LoggerOptions lo;
  lo.path = log_path;
  lo.install_signal_handlers = false;
  Logger logger(lo);
  Logger::set_global(&logger);
  struct Unset {
    ~Unset() { Logger::set_global(nullptr); }
  } unset;
  FakeKucoinFutures venue;
  venue.set_timestamp_window_ms(1000);
  RunConfig rc = kucoin_config();
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_path("journal");
  TradingCore core(registry, trading);
  KucoinLink link(venue, registry, 4);
  LiveGateway& gateway = *link.gateway;
  core.go_live(gateway, kucoin_entry(registry, kKucoinSecret, venue));
  gateway.start();
  ASSERT_TRUE(wait_for([&] { return gateway.stream_connected() && venue.stream_open(); }));
  std::map<std::string, GatewayReport> last;
  const auto drain = [&] {
    GatewayReport g;
    while (gateway.try_pop(g)) last[std::string(g.report.client_id.view())] = g;
  };
  // Start right after a 3 s window opens (the windows are aligned to the epoch), so that what overflows it
  // waits about 3 s, well past the venue's 1 s.
  constexpr std::int64_t kWindow = 3'000'000'000;
  std::this_thread::sleep_for(std::chrono::nanoseconds(kWindow - wall_now_ns() % kWindow + 20'000'000));
  char buf[2048];
  const std::vector<std::string> ids{"enrs1", "enrs2", "enrs3"};
  for (const std::string& id : ids) {  // three new orders: all a new order may take of 4 (20 % is reserved)
    const oms::OrderSpec o = limit_buy(id.c_str(), 1, "40000");
    const auto n = link.signer->encode_new(o, wall_now_ns() / 1'000'000, buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE(gateway.try_send(oms::RestRequest::new_order, o.req.client_id, 0, std::string_view(buf, n.value), rdtsc()));
  }
  ASSERT_TRUE(wait_for([&] {
    drain();
    return last.size() == ids.size();
  }));
  for (const std::string& id : ids) ASSERT_EQ(last[id].report.kind, oms::ExecKind::accepted) << id;
  ASSERT_LT(wall_now_ns() % kWindow, 1'500'000'000) << "the orders took too long: the window rolled";
  // The kill's cancels, signed now: one fits the window, two wait for the next.
  for (const std::string& id : ids) {
    const auto cid = risk::ClientOrderId::from(id).value;
    const auto n = link.signer->encode_cancel(0, cid, wall_now_ns() / 1'000'000, buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE(gateway.try_send(oms::RestRequest::cancel, cid, 0, std::string_view(buf, n.value), rdtsc()));
  }
  ASSERT_TRUE(wait_for([&] {
    for (const std::string& id : ids)
      if (venue.order(id).value_or(FakeKucoinFutures::Order{}).active) return false;
    return true;
  }, 10000)) << "refused as stale: " << venue.refusals("400002");
  EXPECT_GE(gateway.stats().budget_waits.load(), 1u);
  EXPECT_EQ(gateway.stats().resigned.load(), 2u);
  EXPECT_EQ(venue.auth_refusals(), 0);
  gateway.stop();
  logger.flush();
  const std::string log = enigma::testing::slurp(log_path);
  // Three orders and a cancel took the plan's 4 requests of the 3 s window (the weight is the venue's count,
  // its token POST included).
  const std::size_t at = log.find("WARN live venue_budget_exhausted kind=cancel weight=");
  ASSERT_NE(at, std::string::npos) << log;
  EXPECT_NE(log.find("/2000@30s orders_short=4/4@3s orders_long=0/0@0s then=wait_for_next_window\n", at), std::string::npos) << log;
  EXPECT_NE(log.find("INFO live request_resigned id=enrs2 kind=cancel waited_ms="), std::string::npos) << log;
}

// A restart is not blind on KuCoin Futures either, through the `enigma live` binary (the bundled
// config/live-kucoin-futures.toml pointed at the loopback venue and market data): with a key that can withdraw
// it exits 3 before any order (the live suite's key case); then the first engine trades
// until an entry's bracket rests at the venue (both legs untriggered stop orders, which KuCoin lists apart),
// and is SIGKILLed. While it is down the take-profit triggers and fills, and someone places an order by hand.
// The restart on the same state directory reads the venue before trading: the stop-loss still rests
// (matched), the take-profit's fill is found by the query by clientOid, the hand-placed order is cancelled
// (unknown_orders = "cancel"), the venue's flat position replaces our journal's, the fee rates and the
// balance are the account's. Trading then cancels the stop-loss whose sibling filled (nothing is left
// working), and SIGTERM ends the run.
TEST(EngineLiveKucoin, ARestartThroughTheBinaryReconcilesWithTheVenue) {
  using enigma::testing::Child;
  FakeKucoinFutures venue;
  venue.set_mark("50000");
  venue.set_balance("876.5");
  venue.set_fee_rates("0.00015", "0.00055");
  const MarketDataVenue md{Dialect::kucoin_futures, kUpdates};
  enigma::testing::WsTestServer market{md.frames(), md.server_options()};
  const std::string root = fresh_path("live-kucoin-restart");
  std::filesystem::create_directories(root);
  const std::string state = root + "/state";
  ::setenv("ENIGMA_API_KEY", kKucoinKey, 1);
  ::setenv("ENIGMA_API_SECRET", kKucoinSecret, 1);
  ::setenv("ENIGMA_API_PASSPHRASE", kKucoinPassphrase, 1);
  // The bundled config, its hosts replaced by the loopback ones and its strategy made to trade often.
  std::string cfg = enigma::testing::slurp(std::string(ENIGMA_SOURCE_DIR) + "/config/live-kucoin-futures.toml");
  const std::string base = "https://127.0.0.1:" + std::to_string(market.port());
  const auto set = [&](const std::string& from, const std::string& to) {
    const std::size_t at = cfg.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    cfg.replace(at, from.size(), to);
  };
  set("entry_imbalance = 0.6", "entry_imbalance = 0.2");
  set("confirm_updates = 3", "confirm_updates = 1");
  set("cooldown_ms = 2000", "cooldown_ms = 20");
  set("[admin]\nenabled = true", "[admin]\nenabled = false");
  set("bullet_url = \"https://api-futures.kucoin.com/api/v1/bullet-public\"", "bullet_url = \"" + base + md.bullet_path() + "\"\nca_file = \"" + market.ca_file() + "\"");
  set("snapshot_url = \"https://api-futures.kucoin.com/api/v1/level2/snapshot?symbol=XBTUSDTM\"", "snapshot_url = \"" + base + md.snapshot_path() + "\"");
  set("rest_url = \"https://api-futures.kucoin.com\"", "rest_url = \"" + venue.rest_url() + "\"\nca_file = \"" + venue.ca_file() + "\"");
  set("account_api_url = \"https://api.kucoin.com\"", "account_api_url = \"" + venue.rest_url() + "\"");
  set("drain_ms = 3000", "drain_ms = 500");
  set("unknown_orders = \"report\"", "unknown_orders = \"cancel\"\n\n[state]\ndir = \"" + state + "\"");
  const std::string config = root + "/live.toml";
  std::ofstream(config) << cfg;
  const auto args = [&](const std::string& name) {
    return std::vector<std::string>{"live", "--confirm", "--config", config, "--runs-dir", root + "/runs-" + name};
  };
  // Our untriggered stop orders at the venue: the bracket once an entry filled.
  const auto resting_stops = [&] {
    std::vector<FakeKucoinFutures::Order> r;
    for (const auto& [id, o] : venue.orders())
      if (o.active && o.is_stop() && id.rfind("en", 0) == 0) r.push_back(o);
    return r;
  };
  // The plan's hard limit first: a key with Withdrawal is refused before anything is traded.
  enigma::testing::a_key_that_can_withdraw_is_refused<KucoinSuite>(venue, args("withdraw"), root + "/withdraw.out");
  std::string stop_id, tp_id;
  {
    Child first(args("first"), root + "/first.out");
    ASSERT_TRUE(wait_for([&] { return market.live(); }, 30000)) << first.output();
    market.send_next(1);
    ASSERT_TRUE(wait_for([&] { return market.snapshots_served() >= 1; }, 30000)) << first.output();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the snapshot taken before the diffs
    // A bracket resting with its position open. The strategy trades often here: an exit can fill a few ms
    // after the bracket rests (before the engine cancels the bracket), so the state must still hold once the
    // engine has had time to finish the batch that made it, with no frame arriving meanwhile.
    const auto bracket_held = [&] { return resting_stops().size() == 2 && venue.position("XBTUSDTM") != 0; };
    std::size_t sent = 1;
    while (sent + 100 < kUpdates) {
      market.send_next(50);
      sent += 50;
      wait_for([&] { return market.cursor() == sent; });
      if (!wait_for(bracket_held, 20)) continue;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (bracket_held()) break;
    }
    ASSERT_TRUE(bracket_held()) << first.output();
    ASSERT_EQ(::kill(first.pid, SIGKILL), 0);  // no shutdown sequence: the bracket stays at the venue
    EXPECT_EQ(first.wait(), 128 + SIGKILL);
  }
  for (const auto& o : resting_stops()) {
    // A stop-loss triggers against the position (a sell's on the way down); a take-profit with it.
    const bool stop_loss = (o.side == "sell") == (o.stop == "down");
    (stop_loss ? stop_id : tp_id) = o.client_oid;
  }
  ASSERT_FALSE(stop_id.empty());
  ASSERT_FALSE(tp_id.empty());
  ASSERT_NE(venue.position("XBTUSDTM"), 0);
  // While the engine is down: the take-profit triggers and closes the position; someone places an order.
  ASSERT_TRUE(venue.trigger_stop(tp_id));
  ASSERT_EQ(venue.position("XBTUSDTM"), 0);
  const std::string manual = venue.add_foreign_order("web_manual_7");

  Child second(args("second"), root + "/second.out");
  ASSERT_TRUE(wait_for([&] { return !enigma::testing::venue_reconciliation(root + "/runs-second").empty(); }, 30000)) << second.output();
  const std::string j = enigma::testing::venue_reconciliation(root + "/runs-second");
  EXPECT_NE(j.find("\"open_orders\": 2,"), std::string::npos) << j;  // our stop-loss and the hand-placed order
  EXPECT_NE(j.find("\"matched\": 1,"), std::string::npos) << j;      // the stop-loss
  EXPECT_NE(j.find("{\"client_id\": \"" + tp_id + "\", \"status\": \"FILLED\""), std::string::npos) << j;
  EXPECT_NE(j.find("{\"order_id\": \"" + manual + "\", \"client_id\": \"web_manual_7\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"canceled\": true"), std::string::npos) << j;
  EXPECT_NE(j.find("{\"symbol\": \"XBTUSDTM\", \"venue\": \"0\""), std::string::npos) << j;
  EXPECT_NE(j.find("{\"symbol\": \"XBTUSDTM\", \"maker\": \"0.00015\", \"taker\": \"0.00055\"}"), std::string::npos) << j;
  EXPECT_NE(j.find("\"balance\": \"876.5\""), std::string::npos) << j;
  EXPECT_FALSE(venue.order("web_manual_7")->active);
  // The take-profit's fill closed the position: its sibling, the stop-loss, is cancelled at the venue.
  ASSERT_TRUE(wait_for([&] { return !venue.order(stop_id)->active; }, 20000)) << second.output();
  ASSERT_EQ(::kill(second.pid, SIGTERM), 0);
  EXPECT_EQ(second.wait(), 128 + SIGTERM) << second.output();
  for (const auto& [id, o] : venue.orders()) EXPECT_FALSE(o.active) << id << " still works at the venue";
  EXPECT_EQ(venue.auth_refusals(), 0);
  const std::string log = enigma::testing::slurp(std::filesystem::path(root) / "runs-second" / "latest" / "logs" / "enigma.log");
  EXPECT_NE(log.find("fee rates XBTUSDTM maker 0.00015 taker 0.00055"), std::string::npos) << log;
  EXPECT_NE(log.find("position XBTUSDTM is 0 at the venue"), std::string::npos) << log;
}
