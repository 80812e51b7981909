// `enigma live` end to end against a local Binance-USD-M-like venue (Beast, TLS with a self-signed
// certificate made at test time): HTTPS POST/PUT /fapi/v1/listenKey, POST/DELETE/GET /fapi/v1/order with
// the HMAC-SHA256 signature VERIFIED against the test secret (a bad one gets 401 -1022), and a user-data
// WebSocket that pushes ORDER_TRADE_UPDATE NEW then TRADE for accepted limit and market orders. Market
// data is the recorded Binance session replayed by the paper test's server.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "engine/admin.hpp"
#include "engine/key_permissions.hpp"
#include "engine/live_gateway.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "engine/run_output.hpp"
#include "engine/state.hpp"
#include "engine/status.hpp"
#include "feed/capture_reader.hpp"
#include "feed/uring.hpp"
#include "oms/journal.hpp"
#include "oms/signing.hpp"
#include "oms/venues/binance_futures.hpp"
#include "oms/venues/binance_futures_user.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/binance_ws_api_venue.hpp"
#include "tests/support/ws_test_server.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/enigma_process.hpp"
#include "tests/support/fake_binance.hpp"
#include "tests/support/live_suite.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::fresh_path;
using enigma::testing::Child;
using enigma::testing::slurp;
using enigma::testing::wait_for;
namespace {

using enigma::testing::FakeBinance;
using enigma::testing::kEdApiKey;
using enigma::testing::kEdPrivate;
using enigma::testing::kEdPublic;
using enigma::testing::kKey;
using enigma::testing::kSecret;

LiveGatewayOptions gateway_options(const FakeBinance& venue) {
  LiveGatewayOptions g;
  g.rest_url = venue.rest_url();
  g.user_ws_url = venue.ws_url();
  g.api_key = kKey;
  g.tls.ca_file = venue.ca_file();
  g.request_timeout_ns = 2'000'000'000;
  return g;
}

// The bundled replay config with an imbalance strategy that trades often (the test needs orders, not P&L).
// A GTC limit buy of 0.01 BTCUSDT at 60000 with client order id `id` (the gateway tests' order).
oms::OrderSpec limit_buy(const char* id) {
  oms::OrderSpec o{};
  o.req.client_id = risk::ClientOrderId::from(id).value;
  o.req.instrument = 0;
  o.req.side = Side::buy;
  o.req.type = risk::OrderType::limit;
  o.req.tif = risk::TimeInForce::gtc;
  o.req.qty = Qty::parse("0.01").value;
  o.req.price = Price::parse("60000").value;
  return o;
}

// A resting order at this venue (it fills everything else at once): a reduce-only take-profit sell.
oms::OrderSpec take_profit(const char* id, const char* trigger) {
  oms::OrderSpec o = limit_buy(id);
  o.req.type = risk::OrderType::take_profit_market;
  o.req.side = Side::sell;
  o.req.reduce_only = true;
  o.req.stop_price = Price::parse(trigger).value;
  return o;
}

// Drives a started LiveGateway as the OMS would: new orders and cancels encoded and signed into its ring,
// and its reports by "<client id>/<kind>" ("/unknown" for an unknown outcome) with when each first came.
struct GatewayDriver {
  using Clock = std::chrono::steady_clock;
  LiveGateway& gateway;
  oms::binance_futures::Encoder enc;
  std::map<std::string, Clock::time_point> answered;
  char buf[2048];

  GatewayDriver(LiveGateway& g, const InstrumentRegistry& registry) : gateway(g), enc(registry, kKey, oms::Secret(kSecret)) {}
  void pump() {
    GatewayReport g;
    while (gateway.try_pop(g))
      answered.try_emplace(std::string(g.report.client_id.view()) + "/" +
                               (g.unknown ? "unknown" : std::to_string(static_cast<int>(g.report.kind))),
                           Clock::now());
  }
  // A request that cannot be encoded or queued fails the test.
  void send(oms::binance_futures::RestRequest kind, const oms::OrderSpec& o) {
    const auto n = kind == oms::binance_futures::RestRequest::new_order
                       ? enc.encode_new(o, 1723075200000, buf, sizeof buf)
                       : enc.encode_cancel(0, o.req.client_id, 1723075200000, buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE(gateway.try_send(kind, o.req.client_id, 0, std::string_view(buf, n.value), rdtsc()));
  }
};

RunConfig trading_config() {
  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  rc.strategy_config<strategy::ImbalanceTakerConfig>().entry_imbalance = 0.3;
  rc.strategy_config<strategy::ImbalanceTakerConfig>().confirm_updates = 1;
  rc.strategy_config<strategy::ImbalanceTakerConfig>().cooldown_ns = 50'000'000;
  rc.strategy_config<strategy::ImbalanceTakerConfig>().pending_timeout_ns = 50'000'000;  // data time is wall time here: forget refused intents fast
  rc.trading.unknown_query_delay_ns = 100'000'000;
  // A journal segment of 4096 records (1 MiB) instead of 2^16 (16 MiB): a test here journals a few dozen, and
  // a new journal's segment is reserved, prefaulted and scanned at start-up (seconds under a sanitizer).
  rc.trading.journal.max_records = 1 << 12;
  return rc;
}

// The first `n` frames (at most 40000) of the bundled session. It is decompressed once per process (seconds
// under a sanitizer), then each test gets its own copy of the frames it plays.
enigma::testing::RecordedSession recorded_session(std::size_t n) {
  static const enigma::testing::RecordedSession all = enigma::testing::load_binance_session(40000);
  enigma::testing::RecordedSession r;
  r.snapshot = all.snapshot;
  r.frames.assign(all.frames.begin(), all.frames.begin() + static_cast<std::ptrdiff_t>(std::min(n, all.frames.size())));
  return r;
}

}  // namespace

// How orders reach the venue: REST, or the WebSocket API with per-request HMAC signatures or with one
// Ed25519 session.logon per connection.
enum class OrderEntry { rest, ws_api_hmac, ws_api_ed25519 };
std::string order_entry_name(const ::testing::TestParamInfo<OrderEntry>& i) {
  return i.param == OrderEntry::rest ? "Rest" : i.param == OrderEntry::ws_api_hmac ? "WsApiHmac" : "WsApiEd25519";
}

// Gateway options and the order encoder of `entry` (nullptr: REST).
std::unique_ptr<oms::binance_futures::WsApiEncoder> use_order_entry(OrderEntry entry, const FakeBinance& venue,
                                                                     const InstrumentRegistry& registry, LiveGatewayOptions& g) {
  if (entry == OrderEntry::rest) return nullptr;
  g.ws_api_url = venue.ws_api_url();
  if (entry == OrderEntry::ws_api_hmac)
    return std::make_unique<oms::binance_futures::WsApiEncoder>(registry, kKey, oms::Secret(kSecret), oms::binance_futures::WsApiAuth::hmac);
  auto key = std::make_shared<const oms::Ed25519Signer>(oms::Secret(kEdPrivate));
  g.ws_api_logon = [key] { return oms::binance_futures::logon_request(kEdApiKey, *key, 1723075200000); };
  return std::make_unique<oms::binance_futures::WsApiEncoder>(registry, kEdApiKey, oms::Secret(), oms::binance_futures::WsApiAuth::session);
}

// The engine's order entry on the test venue as `enigma live` makes it: REST, or the WebSocket API of `entry`
// (use_order_entry sets the gateway up for it); signed with `secret` (the venue's, or another to see a refusal).
std::unique_ptr<oms::VenueOrderEntry> binance_entry(const InstrumentRegistry& registry, const FakeBinance& venue,
                                                    OrderEntry entry = OrderEntry::rest, const char* secret = kSecret) {
  namespace bf = oms::binance_futures;
  std::optional<bf::WsApiEntry> ws;
  if (entry == OrderEntry::ws_api_hmac) ws = bf::WsApiEntry{bf::WsApiAuth::hmac, kKey};
  if (entry == OrderEntry::ws_api_ed25519) ws = bf::WsApiEntry{bf::WsApiAuth::session, kEdApiKey};
  const std::string host = "127.0.0.1:" + venue.rest_url().substr(venue.rest_url().rfind(':') + 1);
  return std::make_unique<bf::OrderEntry>(registry, kKey, oms::Secret(secret), bf::Config{host}, ws);
}

// Every transport (market data and order connection alike) and every order entry pass the full order-flow
// scenario; the rest of the suite runs on the default (asio, REST) only, to keep CI time.
struct LiveCase {
  feed::Transport transport;
  OrderEntry entry;
};
class EngineLiveEntry : public ::testing::TestWithParam<LiveCase> {};

// Signed orders, venue rejects, an UNKNOWN outcome resolved by query, the kill switch and the dead-man
// timer, for each order entry (ws-fapi has no cancel-all or countdownCancelAll: those stay REST).
TEST_P(EngineLiveEntry, OrdersReachTheVenueSignedAndFillsComeBack) {
  const feed::Transport transport = GetParam().transport;
  const OrderEntry entry = GetParam().entry;
  if (transport == feed::Transport::io_uring && !feed::uring_unavailable_reason().empty())
    GTEST_SKIP() << "this kernel refuses io_uring: " << feed::uring_unavailable_reason();
  set_thread_alloc_counter(+[]() noexcept -> std::uint64_t { return test::thread_allocations_ever(); });  // the gateway thread's
  FakeBinance venue;
  // Orders go entry, stop, take-profit, entry, stop, ...: the first take-profit is refused for margin, the
  // second stop gets a 5xx (the venue has it, resting: UNKNOWN until the query finds it).
  venue.script(3, 400, -2019);
  venue.script(5, 500, -1000);
  // 10000 frames: the scripted orders come within the first ~1500 (release and sanitizer builds alike); the
  // rest keep the market going after the kill until the run ends with the data (every frame is a cost under
  // a sanitizer).
  const enigma::testing::RecordedSession rec = recorded_session(10000);
  ASSERT_FALSE(rec.snapshot.empty());
  enigma::testing::WsTestServerOptions so;
  so.snapshot_body = rec.snapshot;
  enigma::testing::WsTestServer market(rec.frames, so);

  const RunConfig rc = trading_config();
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(rc.make_strategies());
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_path("journal");
  TradingCore core(registry, trading);
  LiveGatewayOptions go = gateway_options(venue);
  go.transport = transport;
  (void)use_order_entry(entry, venue, registry, go);
  LiveGateway gateway(registry, go);
  core.go_live(gateway, binance_entry(registry, venue, entry));
  gateway.start();
  ASSERT_EQ(venue.listen_keys(), 1);
  ASSERT_TRUE(wait_for([&] { return gateway.stream_connected() && venue.stream_open(); }));

  PaperOptions pp;
  pp.ws.transport = transport;
  pp.ws.url = market.url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade");
  pp.ws.tls.ca_file = market.ca_file();
  pp.ws.ping = feed::PingPolicy::binance;
  pp.snapshot_url = "https://127.0.0.1:" + std::to_string(market.port()) + "/fapi/v1/depth?symbol=BTCUSDT&limit=1000";
  pp.max_frames = rec.frames.size();
  std::atomic<std::uint64_t> frames_taken{0};
  pp.ws_frames_taken = &frames_taken;
  pp.run_seconds = 90;  // bound, never reached when the test passes
  SpscRing<AdminCommand> admin(16);
  PipelineOptions po;
  po.venue = Venue::binance_usdm;
  po.progress = false;
  po.admin = &admin;

  std::atomic<bool> stop{false};
  po.stop = &stop;

  PipelineResult r;
  std::thread engine([&] { r = run_live(pp, registry, strategies, core, po, 3'000'000'000); });
  struct Join {  // an early ASSERT return must still end the engine thread
    std::thread& t;
    std::atomic<bool>& stop;
    ~Join() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join{engine, stop};
  ASSERT_TRUE(wait_for([&] { return market.live(); }));
  market.send_next(1);
  ASSERT_TRUE(wait_for([&] { return market.rest_requests() >= 1; }));
  // The engine holds the snapshot (frame + snapshot taken) before more diffs come: see snapshots_taken().
  ASSERT_TRUE(wait_for([&] { return frames_taken.load(std::memory_order_acquire) >= 2; }, 30000));
  // Frames in small bursts until the venue has seen the scripted orders and the UNKNOWN one was queried.
  std::size_t sent = 1;
  while (sent < rec.frames.size() - 2000 && !(venue.posts() >= 5 && venue.queries() >= 1)) {
    market.send_next(200);
    sent += 200;
    wait_for([&] { return market.cursor() == sent; });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(venue.posts(), 5) << "the strategy sent too few orders in " << sent << " frames";
  ASSERT_TRUE(wait_for([&] { return venue.queries() >= 1; }));
  // Kill switch: latch and cancel every working order at the venue (the bracket legs rest there).
  const int cancel_alls_before = venue.cancel_alls();
  ASSERT_TRUE(admin.try_push(AdminCommand{AdminCommandKind::kill, 1}));
  market.send_next(rec.frames.size() - sent);
  engine.join();
  gateway.stop();
  // Information, not an assertion (timing belongs to benchmarks): loopback request latency on this host.
  std::printf("gateway loopback: %llu requests, enqueue->written p50 %lld ns max %lld ns, written->answer p50 %lld ns max %lld ns\n",
              static_cast<unsigned long long>(gateway.write_latency().count()),
              static_cast<long long>(gateway.write_latency().percentile(50)), static_cast<long long>(gateway.write_latency().percentile(100)),
              static_cast<long long>(gateway.answer_latency().percentile(50)), static_cast<long long>(gateway.answer_latency().percentile(100)));

  // Every request arrived with a valid signature and the real key; every order names our id and a timestamp.
  EXPECT_EQ(venue.bad_signatures(), 0);
  for (const auto& b : venue.bodies()) {
    EXPECT_NE(b.find("newClientOrderId=en"), std::string::npos) << b;
    EXPECT_NE(b.find("&timestamp="), std::string::npos) << b;
    // REST bodies start with symbol=; the WebSocket API's signed params are sorted by name.
    EXPECT_EQ(b.rfind("symbol=", 0) == 0, entry == OrderEntry::rest) << b;
  }
  if (entry != OrderEntry::rest) {
    EXPECT_GE(venue.ws_api_requests(), venue.posts() + venue.queries());
    EXPECT_EQ(venue.ws_api_logons(), entry == OrderEntry::ws_api_ed25519 ? 1 : 0);
    EXPECT_EQ(gateway.stats().ws_api_requests.load(), static_cast<std::uint64_t>(venue.ws_api_requests()));
  }
  const TradingCore::Counters& c = core.counters();
  EXPECT_EQ(static_cast<int>(c.orders), venue.posts());
  // Fills from the user-data stream: trades, position and the run's trades.csv.
  ASSERT_GT(core.trades().size(), 0u);
  // Each with the commission the venue charged (its stream's "n": the fill's value at the account's rate).
  for (const auto& tr : core.trades())
    EXPECT_EQ(tr.fee, Notional::parse(venue.orders().at(std::string(tr.client_id.view())).commission).value) << tr.client_id.view();
  EXPECT_GT(gateway.stats().stream_reports.load(), 0u);
  EXPECT_GT(gateway.stats().stream_ignored.load(), 0u);  // ACCOUNT_UPDATE is not an error
  EXPECT_EQ(gateway.stats().stream_errors.load(), 0u);
  Qty net{};
  for (const auto& t : core.trades()) net += t.side == Side::buy ? t.qty : -t.qty;
  EXPECT_EQ(core.position(0).qty, net);
  const std::string dir = fresh_path("run");
  std::filesystem::create_directories(dir);
  // As `enigma live` does after gateway.stop(): the kernel-stamp histograms go into summary.json.
  r.hist.signed_to_kernel.merge(gateway.signed_to_kernel_latency());
  r.hist.tick_to_wire.merge(gateway.tick_to_wire_latency());
  write_run_files(dir, RunSummaryInput{&rc, &registry, &r, &core, "live", "fused"});
  const std::string summary = slurp(dir + "/summary.json");
  // Kernel transmit stamps on either order connection: REST, or the WebSocket API's.
  EXPECT_NE(summary.find("\"tick_to_wire\": {\"count\": " + std::to_string(gateway.tick_to_wire_latency().count())),
            std::string::npos) << summary;
  EXPECT_NE(summary.find("\"signed_to_kernel\": {\"count\": "), std::string::npos);
  std::ifstream csv(dir + "/trades.csv");
  std::string line;
  std::size_t rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, core.trades().size() + 1);  // header + one row per fill
  {
    // Kernel transmit stamps (issue 12): every request that left has one, taken after the bytes were signed;
    // the orders placed while a frame was being handled (fused) have a tick-to-wire, and the kernel sent each
    // of them after it received the frame that caused it. The same over the WebSocket API (each request
    // matched to its stamp by the key of its frame's last byte).
    EXPECT_TRUE(gateway.tx_timestamping());
    const LatencyHistogram& s2k = gateway.signed_to_kernel_latency();
    EXPECT_EQ(s2k.count(), gateway.write_latency().count()) << "a written request without a kernel tx stamp";
    EXPECT_GT(s2k.min_value(), 0);
    const LatencyHistogram& t2w = gateway.tick_to_wire_latency();
    EXPECT_GE(t2w.count(), 1u) << "no order carried the kernel rx stamp of its frame";
    EXPECT_LE(t2w.count(), s2k.count());  // only requests sent from a frame callback, each with its tx stamp
    EXPECT_GT(t2w.min_value(), 0) << "an order left before the frame that caused it arrived";
    std::printf("%s: %llu orders with tick-to-wire p50 %lld ns max %lld ns; signed->kernel tx p50 %lld ns\n",
                std::string(feed::to_string(transport)).c_str(), static_cast<unsigned long long>(t2w.count()),
                static_cast<long long>(t2w.percentile(50)), static_cast<long long>(t2w.max_value()),
                static_cast<long long>(s2k.percentile(50)));
  }
  // The -2019 answer (third POST) is a venue reject of that order, for lack of margin. (Not last_venue_code:
  // a later cancel of an order the venue already closed is refused with -2011, depending on timing.)
  EXPECT_GE(c.venue_rejects, 1u);
  ASSERT_GE(venue.bodies().size(), 3u);
  const std::string third = venue.bodies()[2];
  const std::size_t at = third.find("newClientOrderId=") + 17;
  const auto refused = risk::ClientOrderId::from(third.substr(at, third.find('&', at) - at));
  ASSERT_TRUE(refused.ok()) << third;
  const oms::OrderState* refused_order = core.order(refused.value);
  ASSERT_NE(refused_order, nullptr);
  EXPECT_EQ(refused_order->status, oms::OrderStatus::rejected);
  EXPECT_EQ(refused_order->reason, oms::Reason::insufficient_margin);
  // The 5xx left the order UNKNOWN; the query found it at the venue, so it was resolved (then cancelled).
  EXPECT_GE(c.unknown_outcomes, 1u);
  EXPECT_GE(c.queries, 1u);
  bool unknown_left = false;
  for (const auto& [id, o] : venue.orders()) {
    const auto cid = risk::ClientOrderId::from(id);
    const oms::OrderState* st = core.order(cid.value);
    if (st != nullptr && st->status == oms::OrderStatus::unknown) unknown_left = true;
  }
  EXPECT_FALSE(unknown_left);
  // The kill (on_kill = flatten) cancelled the resting entries (per order, or in batch cancels) - never a cancel-all, which would
  // take the stops with it - closed the position, and nothing is left working or unprotected here.
  EXPECT_EQ(venue.cancel_alls(), cancel_alls_before);
  EXPECT_EQ(c.cancel_alls, 0u);
  EXPECT_EQ(core.working_orders(), 0u);
  EXPECT_EQ(core.unprotected_positions(), 0u);
  EXPECT_EQ(core.position(0).qty, Qty{});
  // The dead-man timer was armed at start (30 s) and disarmed (0) at the clean stop, nothing failed.
  const std::vector<long long> cd = venue.countdowns();
  ASSERT_GE(cd.size(), 2u);
  EXPECT_EQ(cd.front(), 30'000);
  EXPECT_EQ(cd.back(), 0);
  EXPECT_EQ(c.instrument_request_failures, 0u);
  for (const auto& [id, o] : venue.orders()) EXPECT_NE(o.status, "NEW") << id << " still rests at the venue";
  // Nothing allocated on the gateway thread while the requests after the first four went on the wire (the
  // WebSocket API's frames used to be copied into a new string and a queue node each).
  EXPECT_GT(gateway.stats().requests.load(), 8u);
  EXPECT_EQ(gateway.stats().send_allocations.load(), 0u);
}

INSTANTIATE_TEST_SUITE_P(OrderEntries, EngineLiveEntry,
                         ::testing::Values(LiveCase{feed::Transport::asio, OrderEntry::rest},
                                           LiveCase{feed::Transport::busy_poll, OrderEntry::rest},
                                           LiveCase{feed::Transport::io_uring, OrderEntry::rest},
                                           LiveCase{feed::Transport::asio, OrderEntry::ws_api_hmac},
                                           LiveCase{feed::Transport::asio, OrderEntry::ws_api_ed25519},
                                           LiveCase{feed::Transport::io_uring, OrderEntry::ws_api_ed25519}),
                         [](const ::testing::TestParamInfo<LiveCase>& i) {
                           return std::string(feed::to_string(i.param.transport)) + "_" +
                                  order_entry_name({i.param.entry, i.index});
                         });

// Requests that waited for the venue's budget leave signed at the time they leave (issue 17), for every order
// entry: the venue checks timestamps (here against 1 s, -1021 past it) and the budget passes one cancel per
// 2 s window, so the second cancel waits about 2 s. Without the fresh signature the venue refuses it and the
// order stays working. The windows are the gateway's own (the venue's cumulative X-MBX counters are off).
class EngineLiveResign : public ::testing::TestWithParam<OrderEntry> {};

TEST_P(EngineLiveResign, RequestsThatWaitedForTheBudgetAreSignedAgainAsTheyLeave) {
  FakeBinance venue;
  venue.set_rest_limits(true);  // the limit orders rest until cancelled
  venue.set_timestamp_window_ms(1000);
  venue.set_limit_headers(false);
  InstrumentRegistry registry;
  trading_config().fill_registry(registry);
  TradingCoreConfig trading = trading_config().trading;
  trading.journal_path = fresh_path("journal");
  TradingCore core(registry, trading);
  LiveGatewayOptions go = gateway_options(venue);
  constexpr std::int64_t kWindow = 2'000'000'000;
  go.budget = {{kWindow, 1}, {kWindow, 10}, {}, 20};  // cancels weigh 1, new orders 0 (they count as orders)
  auto signer = use_order_entry(GetParam(), venue, registry, go);  // the test's twin of the engine's encoder
  oms::binance_futures::Encoder rest(registry, kKey, oms::Secret(kSecret));
  LiveGateway gateway(registry, go);
  core.go_live(gateway, binance_entry(registry, venue, GetParam()));
  gateway.start();
  ASSERT_TRUE(wait_for([&] { return gateway.stream_connected() && venue.stream_open(); }));
  ASSERT_TRUE(wait_for([&] { return GetParam() != OrderEntry::ws_api_ed25519 || venue.ws_api_logons() == 1; }));
  const auto wall_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  std::map<std::string, GatewayReport> last;
  const auto drain = [&] {
    GatewayReport g;
    while (gateway.try_pop(g)) last[std::string(g.report.client_id.view())] = g;
  };
  // Start right after a window opens (they are aligned to the epoch), so that what overflows it waits ~2 s.
  std::this_thread::sleep_for(std::chrono::milliseconds(kWindow / 1'000'000 - wall_ms() % (kWindow / 1'000'000) + 20));
  char buf[2048];
  const std::vector<std::string> ids{"bnrs1", "bnrs2"};
  for (const std::string& id : ids) {
    const oms::OrderSpec o = limit_buy(id.c_str());
    const auto n = signer ? signer->encode_new(o, wall_ms(), buf, sizeof buf) : rest.encode_new(o, wall_ms(), buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE(gateway.try_send(oms::RestRequest::new_order, o.req.client_id, 0, std::string_view(buf, n.value), rdtsc()));
  }
  ASSERT_TRUE(wait_for([&] {
    drain();
    return last.size() == ids.size();
  }));
  for (const std::string& id : ids) ASSERT_EQ(last[id].report.kind, oms::ExecKind::accepted) << id;
  ASSERT_LT(wall_ms() % (kWindow / 1'000'000), 800) << "the orders took too long: the window rolled";
  // Two cancels signed now: one fits the window, the other waits for the next.
  for (const std::string& id : ids) {
    const auto cid = risk::ClientOrderId::from(id).value;
    const auto n = signer ? signer->encode_cancel(0, cid, wall_ms(), buf, sizeof buf) : rest.encode_cancel(0, cid, wall_ms(), buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE(gateway.try_send(oms::RestRequest::cancel, cid, 0, std::string_view(buf, n.value), rdtsc()));
  }
  ASSERT_TRUE(wait_for([&] { return venue.deletes() + venue.stale_timestamps() == 2; }, 10000)) << "deletes " << venue.deletes();
  EXPECT_EQ(venue.stale_timestamps(), 0) << "a cancel reached the venue with its old timestamp";
  EXPECT_EQ(venue.bad_signatures(), 0);
  ASSERT_TRUE(wait_for([&] {
    drain();
    return last["bnrs1"].report.kind == oms::ExecKind::canceled && last["bnrs2"].report.kind == oms::ExecKind::canceled;
  }));
  EXPECT_GE(gateway.stats().budget_waits.load(), 1u);
  EXPECT_EQ(gateway.stats().resigned.load(), 1u);
  gateway.stop();
}

INSTANTIATE_TEST_SUITE_P(OrderEntries, EngineLiveResign,
                         ::testing::Values(OrderEntry::rest, OrderEntry::ws_api_hmac, OrderEntry::ws_api_ed25519),
                         order_entry_name);

// A REST answer that never comes, for every order-connection transport: after request_timeout the order is
// UNKNOWN (the venue has it; no report may call it rejected), the connection is replaced, and the query by
// client id over the new one finds it resting.
class EngineLiveTimeout : public ::testing::TestWithParam<feed::Transport> {};

TEST_P(EngineLiveTimeout, AnUnansweredOrderIsUnknownUntilQueried) {
  if (GetParam() == feed::Transport::io_uring && !feed::uring_unavailable_reason().empty())
    GTEST_SKIP() << "this kernel refuses io_uring: " << feed::uring_unavailable_reason();
  FakeBinance venue;
  venue.script(1, 0, 0);
  InstrumentRegistry registry;
  trading_config().fill_registry(registry);
  LiveGatewayOptions go = gateway_options(venue);
  go.transport = GetParam();
  go.request_timeout_ns = 300'000'000;
  LiveGateway gateway(registry, go);
  gateway.start();
  oms::binance_futures::Encoder enc(registry, kKey, oms::Secret(kSecret));
  const oms::OrderSpec o = limit_buy("ensilent1");
  char buf[2048];
  const auto n = enc.encode_new(o, 1723075200000, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(gateway.try_send(oms::binance_futures::RestRequest::new_order, o.req.client_id, 0,
                               std::string_view(buf, n.value), rdtsc()));
  // The user stream's NEW event is not sent for a silent answer, so the first report is the gateway's.
  GatewayReport g;
  ASSERT_TRUE(wait_for([&] { return gateway.try_pop(g); }, 10000));
  const auto waited = std::chrono::steady_clock::now() - sent;
  EXPECT_TRUE(g.unknown);
  EXPECT_EQ(g.report.status, oms::OrderStatus::unknown);
  EXPECT_EQ(g.report.client_id, o.req.client_id);
  EXPECT_GE(waited, std::chrono::milliseconds(300)) << "UNKNOWN before the timeout";
  ASSERT_EQ(venue.orders().count("ensilent1"), 1u) << "the venue booked the order";
  const auto q = enc.encode_query(0, o.req.client_id, 1723075200100, buf, sizeof buf);
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(gateway.try_send(oms::binance_futures::RestRequest::query, o.req.client_id, 0, std::string_view(buf, q.value), rdtsc()));
  ASSERT_TRUE(wait_for([&] { return gateway.try_pop(g) && g.report.kind == oms::ExecKind::status; }, 10000));
  gateway.stop();
  EXPECT_FALSE(g.unknown);
  EXPECT_EQ(g.report.status, oms::OrderStatus::accepted);
  EXPECT_EQ(venue.queries(), 1);
  EXPECT_GE(gateway.stats().rest_connects.load(), 2u) << "the silent connection was replaced";
}

// Order entry that does not queue: while one order's answer is slow (the venue books it and stays silent),
// a cancel goes out on the control connection and the next order on a second order connection, both
// answered long before the slow one times out. With one order connection the next order waits for the slow
// answer (what order_connections changes); the cancels still do not, not even one queued behind that
// waiting order. A cancel of an order still waiting for a connection goes after its placement.
TEST(EngineLive, ASlowAnswerHoldsBackNeitherTheNextOrderNorACancel) {
  for (const int order_connections : {2, 1}) {
    SCOPED_TRACE("order_connections = " + std::to_string(order_connections));
    FakeBinance venue;
    venue.script(3, 0, 0);  // the third POST (enslow1): booked, never answered
    InstrumentRegistry registry;
    trading_config().fill_registry(registry);
    LiveGatewayOptions go = gateway_options(venue);
    go.order_connections = order_connections;
    go.request_timeout_ns = 2'000'000'000;
    LiveGateway gateway(registry, go);
    gateway.start();
    ASSERT_TRUE(wait_for([&] { return gateway.stream_connected() && venue.stream_open(); }));
    GatewayDriver drive(gateway, registry);
    using oms::binance_futures::RestRequest;
    // One resting take-profit, answered before the slow order.
    const oms::OrderSpec resting = take_profit("enrest1", "70000");
    drive.send(RestRequest::new_order, resting);
    ASSERT_TRUE(wait_for([&] { drive.pump(); return drive.answered.count("enrest1/0") == 1; }));
    const oms::OrderSpec resting2 = take_profit("enrest2", "70500");
    drive.send(RestRequest::new_order, resting2);
    ASSERT_TRUE(wait_for([&] { drive.pump(); return drive.answered.count("enrest2/0") == 1; }));
    const GatewayDriver::Clock::time_point t0 = GatewayDriver::Clock::now();
    drive.send(RestRequest::new_order, limit_buy("enslow1"));
    const oms::OrderSpec next = take_profit("ennext1", "71000");
    const oms::OrderSpec gone = take_profit("engone1", "72000");
    drive.send(RestRequest::cancel, resting);
    drive.send(RestRequest::new_order, next);
    drive.send(RestRequest::cancel, resting2);  // behind a new order that may wait for a free order connection
    drive.send(RestRequest::new_order, gone);
    drive.send(RestRequest::cancel, gone);  // of an order that may still wait for a connection: after its placement
    ASSERT_TRUE(wait_for([&] {
      drive.pump();
      return drive.answered.count("enslow1/unknown") == 1 && drive.answered.count("ennext1/0") == 1 && drive.answered.count("enrest1/2") == 1 &&
             drive.answered.count("enrest2/2") == 1 && drive.answered.count("engone1/0") == 1 && drive.answered.count("engone1/2") == 1;
    }, 10000)) << "reports: " << drive.answered.size();
    gateway.stop();
    const GatewayDriver::Clock::time_point slow = drive.answered["enslow1/unknown"];
    EXPECT_GE(slow - t0, std::chrono::milliseconds(2000)) << "the slow order is UNKNOWN at its timeout";
    EXPECT_LT(drive.answered["enrest1/2"], slow) << "the cancel waited for the slow order's answer";
    EXPECT_LT(drive.answered["enrest1/2"] - t0, std::chrono::milliseconds(1000));
    EXPECT_LT(drive.answered["enrest2/2"], slow) << "the cancel behind a waiting new order waited for the slow answer";
    EXPECT_LT(drive.answered["enrest2/2"] - t0, std::chrono::milliseconds(1000));
    EXPECT_GT(drive.answered["engone1/2"], drive.answered["engone1/0"]) << "a cancel overtook the placement of its order";
    if (order_connections == 2) {
      EXPECT_LT(drive.answered["ennext1/0"], slow) << "the next order waited for the slow order's answer";
    } else {
      EXPECT_GT(drive.answered["ennext1/0"], slow) << "one order connection: the next order goes after the slow one";
    }
    EXPECT_EQ(venue.orders().at("enrest1").status, "CANCELED");
    EXPECT_EQ(venue.orders().at("enrest2").status, "CANCELED");
    EXPECT_EQ(venue.orders().at("engone1").status, "CANCELED");
    EXPECT_EQ(venue.orders().at("ennext1").status, "NEW");
    EXPECT_EQ(venue.orders().count("enslow1"), 1u);
  }
}

// A reconnect does not stop the gateway thread: the silent order's connection is replaced for the next
// order while the venue takes 1.5 s to accept new connections, and a cancel queued behind that order goes
// out on the (open) control connection and is answered at once.
TEST(EngineLive, AReconnectDoesNotHoldBackACancel) {
  FakeBinance venue;
  venue.script(2, 0, 0);  // the second POST: booked, never answered
  InstrumentRegistry registry;
  trading_config().fill_registry(registry);
  LiveGatewayOptions go = gateway_options(venue);
  go.request_timeout_ns = 300'000'000;
  LiveGateway gateway(registry, go);
  gateway.start();
  ASSERT_TRUE(wait_for([&] { return gateway.stream_connected() && venue.stream_open(); }));
  GatewayDriver drive(gateway, registry);
  using oms::binance_futures::RestRequest;
  const oms::OrderSpec resting = take_profit("enrest3", "70000");
  drive.send(RestRequest::new_order, resting);
  ASSERT_TRUE(wait_for([&] { drive.pump(); return drive.answered.count("enrest3/0") == 1; }));
  drive.send(RestRequest::new_order, limit_buy("ensilent3"));
  ASSERT_TRUE(wait_for([&] { drive.pump(); return drive.answered.count("ensilent3/unknown") == 1; }));  // its connection closed
  venue.delay_handshakes(1500);
  const GatewayDriver::Clock::time_point t0 = GatewayDriver::Clock::now();
  drive.send(RestRequest::new_order, limit_buy("enafter3"));  // needs a new order connection: 1.5 s
  drive.send(RestRequest::cancel, resting);
  ASSERT_TRUE(wait_for([&] { drive.pump(); return drive.answered.count("enafter3/0") == 1 && drive.answered.count("enrest3/2") == 1; }, 10000))
      << "reports: " << drive.answered.size();
  gateway.stop();
  EXPECT_GE(drive.answered["enafter3/0"] - t0, std::chrono::milliseconds(1500)) << "the reconnect did not wait for the venue";
  EXPECT_LT(drive.answered["enrest3/2"] - t0, std::chrono::milliseconds(700)) << "the cancel waited for the other connection's reconnect";
  EXPECT_EQ(venue.orders().at("enrest3").status, "CANCELED");
  EXPECT_GE(gateway.stats().rest_connects.load(), 3u);  // control + order connection at start, the reconnect
}

// [live] gateway_core: the gateway thread (named "enigma-gateway") runs on that CPU only, as the kernel
// reports it in /proc; a core outside the process's affinity mask stops the start with its number. The key
// is read from config and range-checked there.
TEST(EngineLive, TheGatewayThreadIsPinnedToItsCore) {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  ASSERT_EQ(sched_getaffinity(0, sizeof mask, &mask), 0);
  int core = -1;
  for (int c = CPU_SETSIZE - 1; c >= 0 && core < 0; --c)
    if (CPU_ISSET(c, &mask)) core = c;  // the last allowed CPU
  ASSERT_GE(core, 0);
  FakeBinance venue;
  InstrumentRegistry registry;
  trading_config().fill_registry(registry);
  {
    LiveGatewayOptions go = gateway_options(venue);
    go.core = 4000;
    LiveGateway refused(registry, go);
    try {
      refused.start();
      ADD_FAILURE() << "started on core 4000";
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find("core 4000"), std::string::npos) << e.what();
    }
  }
  LiveGatewayOptions go = gateway_options(venue);
  go.core = core;
  LiveGateway gateway(registry, go);
  gateway.start();
  std::string allowed;  // the gateway thread's Cpus_allowed_list
  ASSERT_TRUE(wait_for([&] {
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      if (slurp(task.path().string() + "/comm").rfind("enigma-gateway", 0) != 0) continue;
      std::istringstream status(slurp(task.path().string() + "/status"));
      for (std::string line; std::getline(status, line);)
        if (line.rfind("Cpus_allowed_list:", 0) == 0) allowed = line.substr(line.find_first_not_of(" \t", 18));
    }
    return allowed == std::to_string(core);
  })) << "the gateway thread's allowed CPUs: '" << allowed << "', want " << core;
  gateway.stop();
  const std::string cfg = fresh_path("gateway-core") + ".toml";
  std::ofstream(cfg) << slurp(std::string(ENIGMA_SOURCE_DIR) + "/config/live.toml") << "\n";
  const auto with = [&](const std::string& value) {
    std::string text = slurp(cfg);
    const std::size_t at = text.find("gateway_core = -1");  // the sample's line
    text.replace(at, 17, "gateway_core = " + value);
    const std::string path = cfg + "." + value + ".toml";
    std::ofstream(path) << text;
    return path;
  };
  EXPECT_EQ(RunConfig::load(with("1")).live.gateway_core, 1);
  EXPECT_EQ(RunConfig::load(cfg).live.gateway_core, -1);  // the sample's: not pinned
  try {
    (void)RunConfig::load(with("-2"));
    ADD_FAILURE() << "gateway_core = -2 accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("gateway_core"), std::string::npos) << e.what();
  }
}

// The listenKey keep-alive is an exchange of the control connection like any other request: while the venue
// takes 1 s to answer one, a new order goes out and is answered at once. When the venue has forgotten the
// key (the PUT is answered 400 -1125), a new key is made and the user-data stream reconnects to it.
TEST(EngineLive, TheListenKeyKeepAliveBlocksNoOrderAndARenewedKeyReconnectsTheStream) {
  FakeBinance venue;
  InstrumentRegistry registry;
  trading_config().fill_registry(registry);
  LiveGatewayOptions go = gateway_options(venue);
  go.keepalive_interval_ns = 200'000'000;
  LiveGateway gateway(registry, go);
  gateway.start();
  ASSERT_TRUE(wait_for([&] { return gateway.stream_connected() && venue.stream_open(); }));
  EXPECT_EQ(venue.last_stream_target(), "/ws/lk0123456789abcdef");
  venue.delay_listen_key_answers(1000);
  const int puts = venue.listen_key_puts();
  ASSERT_TRUE(wait_for([&] { return venue.listen_key_puts() > puts; }));  // a PUT waits for its answer now
  GatewayDriver drive(gateway, registry);
  const oms::OrderSpec o = limit_buy("enka1");
  const auto t0 = std::chrono::steady_clock::now();
  drive.send(oms::binance_futures::RestRequest::new_order, o);
  GatewayReport g;
  ASSERT_TRUE(wait_for([&] { return gateway.try_pop(g); }, 5000));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500)) << "the order waited for the keep-alive's answer";
  EXPECT_EQ(g.report.client_id, o.req.client_id);
  EXPECT_FALSE(g.unknown);
  venue.delay_listen_key_answers(0);
  // The stream's new connection takes 1 s to get through its TLS handshake: an order meanwhile is not held.
  venue.delay_handshakes(1000);
  venue.expire_listen_key();
  ASSERT_TRUE(wait_for([&] { return gateway.stats().listen_key_renewals.load() == 1; }));
  const oms::OrderSpec o2 = limit_buy("enka2");
  const auto t1 = std::chrono::steady_clock::now();
  drive.send(oms::binance_futures::RestRequest::new_order, o2);
  const std::string accepted = "enka2/" + std::to_string(static_cast<int>(oms::ExecKind::accepted));
  ASSERT_TRUE(wait_for([&] { return drive.pump(), drive.answered.count(accepted) == 1; }, 5000));
  EXPECT_LT(drive.answered[accepted] - t1, std::chrono::milliseconds(500)) << "the order waited for the stream's reconnect";
  EXPECT_FALSE(gateway.stream_connected());
  ASSERT_TRUE(wait_for([&] { return venue.stream_accepts() == 2 && gateway.stream_connected(); }))
      << "renewals " << gateway.stats().listen_key_renewals.load() << ", stream accepts " << venue.stream_accepts();
  EXPECT_EQ(venue.last_stream_target(), "/ws/lk0123456789abcdef1");
  gateway.stop();
}

// A venue that accepts the TCP connection but never finishes the TLS handshake within connect_timeout: the
// start fails and says it timed out (not the cancellation the timeout caused).
TEST(EngineLive, AConnectThatTimesOutSaysSo) {
  FakeBinance venue;
  venue.delay_handshakes(3000);
  InstrumentRegistry registry;
  trading_config().fill_registry(registry);
  LiveGatewayOptions go = gateway_options(venue);
  go.connect_timeout_ns = 300'000'000;
  LiveGateway gateway(registry, go);
  try {
    gateway.start();
    ADD_FAILURE() << "started against a venue that never finishes its handshake";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect to " + venue.rest_url() + ": connecting to 127.0.0.1:"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(": timed out"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, EngineLiveTimeout,
                         ::testing::Values(feed::Transport::asio, feed::Transport::busy_poll, feed::Transport::io_uring),
                         [](const auto& info) { return std::string(feed::to_string(info.param)); });

TEST(EngineLive, ABadSignatureIsAVenueReject) {
  FakeBinance venue;
  InstrumentRegistry registry;
  trading_config().fill_registry(registry);
  LiveGateway gateway(registry, gateway_options(venue));
  gateway.start();
  oms::binance_futures::Encoder wrong(registry, kKey, oms::Secret("not-the-secret"));
  const oms::OrderSpec o = limit_buy("enbad1");
  char buf[2048];
  const auto n = wrong.encode_new(o, 1723075200000, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(gateway.try_send(oms::binance_futures::RestRequest::new_order, o.req.client_id, 0,
                               std::string_view(buf, n.value), rdtsc()));
  GatewayReport g;
  ASSERT_TRUE(wait_for([&] { return gateway.try_pop(g); }));
  gateway.stop();
  EXPECT_EQ(venue.bad_signatures(), 1);
  EXPECT_EQ(g.report.kind, oms::ExecKind::rejected);
  EXPECT_EQ(g.venue_code, -1022);
  EXPECT_FALSE(g.unknown);
  EXPECT_EQ(g.report.client_id, o.req.client_id);
}

// The same over the WebSocket API: an HMAC signature made with the wrong secret is refused (-1022) by the
// venue's check of the sorted params, and the gateway turns the answer into the order's reject.
TEST(EngineLive, ABadWsApiSignatureIsAVenueReject) {
  FakeBinance venue;
  InstrumentRegistry registry;
  trading_config().fill_registry(registry);
  LiveGatewayOptions go = gateway_options(venue);
  go.ws_api_url = venue.ws_api_url();
  LiveGateway gateway(registry, go);
  gateway.start();
  oms::binance_futures::WsApiEncoder wrong(registry, kKey, oms::Secret("not-the-secret"), oms::binance_futures::WsApiAuth::hmac);
  const oms::OrderSpec o = limit_buy("enbad2");
  char buf[2048];
  const auto n = wrong.encode_new(o, 1723075200000, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(gateway.try_send(oms::binance_futures::RestRequest::new_order, o.req.client_id, 0,
                               std::string_view(buf, n.value), rdtsc()));
  GatewayReport g;
  ASSERT_TRUE(wait_for([&] { return gateway.try_pop(g); }));
  gateway.stop();
  EXPECT_EQ(venue.bad_signatures(), 1);
  EXPECT_EQ(venue.ws_api_requests(), 0);
  EXPECT_EQ(g.report.kind, oms::ExecKind::rejected);
  EXPECT_EQ(g.venue_code, -1022);
  EXPECT_FALSE(g.unknown);
  EXPECT_EQ(g.report.client_id, o.req.client_id);
}

// A session.logon signed with an Ed25519 key the venue does not know is refused, and the gateway does not
// start (no order could go out).
TEST(EngineLive, AnUnknownEd25519KeyStopsTheStart) {
  FakeBinance venue;
  InstrumentRegistry registry;
  trading_config().fill_registry(registry);
  LiveGatewayOptions go = gateway_options(venue);
  go.ws_api_url = venue.ws_api_url();
  go.connect_timeout_ns = 2'000'000'000;
  const std::string dir = fresh_path("ed");
  std::filesystem::create_directories(dir);
  ASSERT_EQ(std::system(("openssl genpkey -algorithm ed25519 -out " + dir + "/k.pem 2>/dev/null").c_str()), 0);
  const std::string pem = slurp(dir + "/k.pem");
  const std::size_t b = pem.find('\n') + 1;
  auto other = std::make_shared<const oms::Ed25519Signer>(oms::Secret(pem.substr(b, pem.find('\n', b) - b)));
  go.ws_api_logon = [other] { return oms::binance_futures::logon_request(kEdApiKey, *other, 1723075200000); };
  LiveGateway gateway(registry, go);
  try {
    gateway.start();
    FAIL() << "started with a refused logon";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("session.logon refused with status 400"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("-1022"), std::string::npos) << e.what();
  }
  EXPECT_EQ(venue.bad_signatures(), 1);
  EXPECT_EQ(venue.ws_api_logons(), 0);
}

// An order.place whose answer is lost with the WebSocket-API connection is UNKNOWN (the venue has it); the
// gateway reconnects (logging on again) and the order.status query over the new connection resolves it.
TEST(EngineLive, AWsApiAnswerLostWithTheConnectionIsUnknownUntilQueried) {
  FakeBinance venue;
  InstrumentRegistry registry;
  trading_config().fill_registry(registry);
  LiveGatewayOptions go = gateway_options(venue);
  auto enc = use_order_entry(OrderEntry::ws_api_ed25519, venue, registry, go);
  LiveGateway gateway(registry, go);
  gateway.start();
  const oms::OrderSpec o = limit_buy("enlost1");
  char buf[2048];
  venue.lose_next_ws_api_answer();
  const auto n = enc->encode_new(o, 1723075200000, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(gateway.try_send(oms::binance_futures::RestRequest::new_order, o.req.client_id, 0, std::string_view(buf, n.value), rdtsc()));
  GatewayReport g;
  ASSERT_TRUE(wait_for([&] { return gateway.try_pop(g); }));
  EXPECT_TRUE(g.unknown);
  EXPECT_EQ(g.report.status, oms::OrderStatus::unknown);
  EXPECT_EQ(g.report.client_id, o.req.client_id);
  ASSERT_EQ(venue.orders().count("enlost1"), 1u) << "the venue booked the order";
  // Logged on again on a new connection; the query by client id finds the order.
  ASSERT_TRUE(wait_for([&] { return venue.ws_api_logons() == 2; }, 10000));
  const std::uint64_t epoch = gateway.resync_epoch();
  EXPECT_GE(epoch, 1u) << "a reconnect tells the OMS to query its working orders";
  const auto q = enc->encode_query(0, o.req.client_id, 1723075200100, buf, sizeof buf);
  ASSERT_TRUE(q.ok());
  // The logon answer may still be on its way: a query refused as not sent is retried.
  for (int attempt = 0; attempt < 50; ++attempt) {
    ASSERT_TRUE(gateway.try_send(oms::binance_futures::RestRequest::query, o.req.client_id, 0, std::string_view(buf, q.value), rdtsc()));
    // The query's answer (or its refusal); the user stream's NEW event for the booked order may come first.
    ASSERT_TRUE(wait_for([&] { return gateway.try_pop(g) && (g.unknown || g.report.kind == oms::ExecKind::status); }));
    if (!g.unknown) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  gateway.stop();
  EXPECT_FALSE(g.unknown);
  EXPECT_EQ(g.report.kind, oms::ExecKind::status);
  // What the venue holds (it fills at once when the user stream was already connected when the order came).
  const std::string at_venue = venue.orders().at("enlost1").status;
  EXPECT_EQ(g.report.status, at_venue == "FILLED" ? oms::OrderStatus::filled : oms::OrderStatus::accepted) << at_venue;
  EXPECT_EQ(venue.queries(), 1) << "exactly one query reached the venue";
  EXPECT_EQ(venue.bad_signatures(), 0);
}

TEST(EngineLive, SendPathDoesNotAllocate) {
  FakeBinance venue;  // never contacted: the gateway is not started, requests only fill its ring
  RunConfig rc = trading_config();
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_path("journal");
  TradingCore core(registry, trading);
  LiveGateway gateway(registry, gateway_options(venue));
  core.go_live(gateway, binance_entry(registry, venue));
  std::vector<PriceLevel> bids, asks;
  for (int i = 0; i < 10; ++i) {
    bids.push_back({Price::from_units(60000 - i), Qty::parse("1").value});
    asks.push_back({Price::from_units(60001 + i), Qty::parse("1").value});
  }
  auto intent = [&](Side side) {
    strategy::OrderIntent in{};
    in.qty = Qty::parse("0.001").value;
    in.instrument = 0;
    in.side = side;
    in.reason = strategy::IntentReason::imbalance_entry;
    in.entry = Price::from_units(60000);
    in.stop = side == Side::buy ? Price::from_units(59900) : Price::from_units(60100);
    in.take_profit = side == Side::buy ? Price::from_units(60200) : Price::from_units(59800);
    return in;
  };
  const std::int64_t t0 = 1'723'075'200'000'000'000;
  ASSERT_TRUE(core.on_intent(intent(Side::buy), bids, asks, t0, rdtsc()));  // warm-up
  std::uint64_t allocs = 0;
  {
    enigma::test::AllocationScope scope;
    const bool sent = core.on_intent(intent(Side::sell), bids, asks, t0 + 1'000'000, rdtsc());
    allocs = scope.count();
    EXPECT_TRUE(sent);
  }
  EXPECT_EQ(allocs, 0u);
  EXPECT_EQ(core.counters().orders, 2u);
  EXPECT_EQ(core.counters().gateway_full, 0u);
}

namespace {

std::set<std::string> journal_ids(const oms::JournalReplay& j) {
  std::set<std::string> ids;
  for (const auto& o : j.orders) ids.insert(std::string(o.client_id().view()));
  return ids;
}

}  // namespace

// A restart is not blind (issue 11 item 1), through the `enigma live` binary: the first engine trades, is
// SIGKILLed with its bracket resting at the venue; while it is down the take-profit fills and someone
// places an order by hand. Each restart on the same state directory queries the venue before trading:
// the stop is still open, the take-profit's fill is found by query and applied, the hand-placed order is
// reported (and cancelled with unknown_orders = "cancel"), position and balance are the venue's, and
// the next client id is one no journal entry holds.
// `enigma live` as a child process against FakeBinance (orders) and the recorded session over the local
// WebSocket server (market data), on one state directory; stop-market legs rest so a bracket stays working.
struct LiveBinary {
  FakeBinance venue;
  enigma::testing::RecordedSession rec = recorded_session(20000);
  std::unique_ptr<enigma::testing::WsTestServer> market;
  std::string root, state;
  std::string order_entry{"rest"};  // [live] order_entry; "ws-api" logs on with the test Ed25519 key

  explicit LiveBinary(const std::string& name, std::string entry = "rest") : order_entry(std::move(entry)) {
    venue.set_rest_stops(true);
    enigma::testing::WsTestServerOptions so;
    so.snapshot_body = rec.snapshot;
    market = std::make_unique<enigma::testing::WsTestServer>(rec.frames, so);
    root = fresh_path(name);
    std::filesystem::create_directories(root);
    state = root + "/state";
    ::setenv("ENIGMA_API_KEY", kKey, 1);
    ::setenv("ENIGMA_API_SECRET", kSecret, 1);
    ::setenv("ENIGMA_ED25519_KEY", kEdPrivate, 1);  // used only with order_entry = "ws-api"
    ::setenv("ENIGMA_ED25519_API_KEY", kEdApiKey, 1);
  }
  std::string write_config(const std::string& unknown_orders) const {
    const std::string path = root + "/live-" + unknown_orders + ".toml";
    std::ofstream f(path);
    // A 1 MiB journal segment (4096 records, not 2^16) and a 4 MiB recording ring (not 64 MiB): a run here
    // journals a few dozen records and records a few thousand frames, and every start reserves and touches
    // both (seconds under a sanitizer).
    std::string base = slurp(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
    const std::string fsync_line = "journal_fsync = \"none\"";
    base.insert(base.find(fsync_line) + fsync_line.size(), "\njournal_segment_records = 4096");
    f << base << "\n[record]\nring_bytes = \"4MiB\"\n\n[feed]\nurl = \""
      << market->url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade") << "\"\nca_file = \"" << market->ca_file()
      << "\"\nsnapshot_url = \"https://127.0.0.1:" << market->port() << "/fapi/v1/depth?symbol=BTCUSDT&limit=1000\"\n"
      << "\n[live]\nrest_url = \"" << venue.rest_url() << "\"\nuser_ws_url = \"" << venue.ws_url()
      << "\"\naccount_api_url = \"" << venue.rest_url() << "\"\nca_file = \"" << venue.ca_file() << "\"\ndrain_ms = 500\nunknown_orders = \"" << unknown_orders << "\"\norder_entry = \"" << order_entry
      << "\"\nws_api_url = \"" << venue.ws_api_url() << "\"\n\n[state]\ndir = \"" << state << "\"\n";
    return path;
  }
  std::vector<std::string> args(const std::string& unknown_orders, const std::string& name) const {
    return {"live", "--confirm", "--config", write_config(unknown_orders), "--runs-dir", root + "/runs-" + name};
  }
  // Our orders resting at the venue (the bracket's stop and take-profit once an entry filled).
  std::vector<FakeBinance::Order> resting_ours() const {
    std::vector<FakeBinance::Order> r;
    for (const auto& [id, o] : venue.orders())
      if (o.status == "NEW" && id.rfind("en", 0) == 0) r.push_back(o);
    return r;
  }
  // Market data in small bursts until an entry filled and its stop and take-profit rest at the venue.
  // How many snapshots the engine runs under root have taken so far (their logs' snapshot_received lines).
  int snapshots_taken() const {
    int n = 0;
    std::error_code ec;
    for (const auto& runs : std::filesystem::directory_iterator(root, ec)) {
      if (!runs.is_directory() || runs.path().filename().string().rfind("runs-", 0) != 0) continue;
      for (const auto& run : std::filesystem::directory_iterator(runs.path(), ec)) {
        if (run.is_symlink() || !run.is_directory()) continue;
        const std::string log = slurp(run.path() / "logs" / "enigma.log");
        for (std::size_t at = log.find("snapshot_received"); at != std::string::npos; at = log.find("snapshot_received", at + 1)) ++n;
      }
    }
    return n;
  }
  void trade_until_bracket_rests(Child& engine) {
    const int snapshots_before = snapshots_taken();
    ASSERT_TRUE(wait_for([&] { return market->live(); }, 30000)) << engine.output();
    market->send_next(1);
    ASSERT_TRUE(wait_for([&] { return market->rest_requests() >= 1; }));
    // The engine holds the snapshot before more diffs come: a slow (sanitizer) build that took it late
    // would overflow its diff buffer, and the test venue's one recorded snapshot can never bridge later diffs.
    ASSERT_TRUE(wait_for([&] { return snapshots_taken() > snapshots_before; }, 30000)) << engine.output();
    std::size_t sent = 1;
    while (sent < rec.frames.size() - 100 && resting_ours().size() < 2) {
      market->send_next(100);
      sent += 100;
      wait_for([&] { return market->cursor() == sent; });
      wait_for([&] { return resting_ours().size() >= 2; }, 20);
    }
    ASSERT_EQ(resting_ours().size(), 2u) << engine.output();
  }
  void bracket_ids(std::string& stop_id, std::string& tp_id) const {
    for (const auto& o : resting_ours()) (o.type == "STOP_MARKET" ? stop_id : tp_id) = o.client_id;
  }
};

// A restart is not blind (issue 11 item 1), through the `enigma live` binary: the first engine trades, is
// SIGKILLed with its bracket resting at the venue; while it is down the take-profit fills and someone
// places an order by hand. Each restart on the same state directory queries the venue before trading:
// the stop is still open, the take-profit's fill is found by query and applied, the hand-placed order is
// reported (and cancelled with unknown_orders = "cancel"), position and balance are the venue's, and
// the next client id is one no journal entry holds.
TEST(EngineLive, RestartReconcilesJournalWithTheVenue) {
  LiveBinary t("live-restart");
  FakeBinance& venue = t.venue;
  venue.set_balance("987.65");
  enigma::testing::WsTestServer& market = *t.market;
  const std::string& root = t.root;
  const std::string& state = t.state;
  auto live = [&](const std::string& unknown_orders, const std::string& name) { return t.args(unknown_orders, name); };
  {
    Child first(live("report", "first"), root + "/first.out");
    t.trade_until_bracket_rests(first);
    if (::testing::Test::HasFatalFailure()) return;
    ASSERT_EQ(::kill(first.pid, SIGKILL), 0);  // no shutdown sequence: the bracket stays at the venue
    EXPECT_EQ(first.wait(), 128 + SIGKILL);
  }
  const oms::JournalReplay before = oms::inspect_journal(state + "/journal.bin").state;
  const std::set<std::string> before_ids = journal_ids(before);
  ASSERT_EQ(before.open_orders().size(), 2u);
  std::string stop_id, tp_id;
  t.bracket_ids(stop_id, tp_id);
  ASSERT_FALSE(stop_id.empty());
  ASSERT_FALSE(tp_id.empty());
  EXPECT_NE(venue.position(), "0");  // the entry filled: a position is open at the venue

  // While the engine is down: the take-profit fills (the position closes), someone trades by hand.
  venue.fill_while_down(tp_id);
  const std::uint64_t manual = venue.add_foreign_order("web_manual_7");
  (void)venue.add_foreign_order("web_manual_8");
  venue.fill_while_down("web_manual_8");  // a hand trade: the venue's position is no longer what we journaled
  const std::string venue_position = venue.position();
  ASSERT_EQ(venue_position, "0.005");

  auto check_common = [&](const std::string& j) {
    EXPECT_NE(j.find("\"open_orders\": 2,"), std::string::npos) << j;  // our stop and the hand-placed order
    EXPECT_NE(j.find("\"matched\": 1,"), std::string::npos) << j;      // the stop
    EXPECT_NE(j.find("{\"symbol\": \"BTCUSDT\", \"venue\": \"" + venue_position + "\""), std::string::npos) << j;
    EXPECT_NE(j.find("\"balance\": \"987.65\""), std::string::npos) << j;
    const auto at = j.find("\"next_client_id\": \"");
    ASSERT_NE(at, std::string::npos);
    const std::string next = j.substr(at + 19, j.find('"', at + 19) - at - 19);
    EXPECT_EQ(before_ids.count(next), 0u) << next;
    EXPECT_EQ(next.rfind("en", 0), 0u) << next;
  };

  // Restart with unknown_orders = "report": the hand-placed order is reported and left working.
  {
    Child second(live("report", "second"), root + "/second.out");
    ASSERT_TRUE(wait_for([&] { return !enigma::testing::venue_reconciliation(root + "/runs-second").empty(); }, 30000)) << second.output();
    const std::string j = enigma::testing::venue_reconciliation(root + "/runs-second");
    check_common(j);
    EXPECT_NE(j.find("{\"symbol\": \"BTCUSDT\", \"venue\": \"0.005\", \"journal\": \"0\""), std::string::npos) << j;
    EXPECT_NE(j.find("{\"client_id\": \"" + tp_id + "\", \"status\": \"FILLED\""), std::string::npos) << j;
    EXPECT_NE(j.find("{\"order_id\": " + std::to_string(manual) + ", \"client_id\": \"web_manual_7\""), std::string::npos) << j;
    EXPECT_NE(j.find("\"canceled\": false"), std::string::npos) << j;
    ASSERT_TRUE(wait_for([&] { return market.connections() >= 2; }, 30000));
    ASSERT_EQ(::kill(second.pid, SIGTERM), 0);
    EXPECT_EQ(second.wait(), 128 + SIGTERM) << second.output();
    // The log (complete once the process ended) names the difference and the venue's unknown order.
    const std::string log = slurp(std::filesystem::path(root) / "runs-second" / "latest" / "logs" / "enigma.log");
    EXPECT_NE(log.find("position BTCUSDT is 0.005 at the venue, 0 in our journal: the venue's is taken"), std::string::npos) << log;
    EXPECT_NE(log.find("client id web_manual_7) BTCUSDT BUY qty=0.005 NEW is open at the venue but not in our journal: reported, left working"),
              std::string::npos) << log;
  }
  EXPECT_EQ(venue.orders().at("web_manual_7").status, "NEW");
  // The take-profit's fill closed the position: its OCO sibling, the stop, was cancelled at the venue.
  EXPECT_EQ(venue.orders().at(stop_id).status, "CANCELED");
  const oms::JournalReplay mid = oms::inspect_journal(state + "/journal.bin").state;
  for (const auto& o : mid.orders) {
    if (std::string(o.client_id().view()) == tp_id) {
      EXPECT_EQ(o.status, oms::OrderStatus::filled);
      // Found by the start-up query, with what the venue charged for it: the answer's cumQuote at the taker
      // rate GET /fapi/v1/commissionRate stated (read before the queries).
      EXPECT_EQ(o.fees, Notional::parse(venue.orders().at(tp_id).commission).value);
    }
  }

  // Restart with unknown_orders = "cancel": reported and cancelled at the venue.
  {
    Child third(live("cancel", "third"), root + "/third.out");
    ASSERT_TRUE(wait_for([&] { return !enigma::testing::venue_reconciliation(root + "/runs-third").empty(); }, 30000)) << third.output();
    const std::string j = enigma::testing::venue_reconciliation(root + "/runs-third");
    EXPECT_NE(j.find("\"client_id\": \"web_manual_7\""), std::string::npos) << j;
    EXPECT_NE(j.find("\"canceled\": true"), std::string::npos) << j;
    EXPECT_NE(j.find("\"balance\": \"987.65\""), std::string::npos) << j;
    ASSERT_TRUE(wait_for([&] { return market.connections() >= 3; }, 30000));
    ASSERT_EQ(::kill(third.pid, SIGTERM), 0);
    EXPECT_EQ(third.wait(), 128 + SIGTERM) << third.output();
  }
  EXPECT_EQ(venue.orders().at("web_manual_7").status, "CANCELED");
  EXPECT_EQ(venue.bad_signatures(), 0);
  // Nothing duplicated: every client id the journal holds is unique, and the first session's are all there.
  const oms::JournalReplay after = oms::inspect_journal(state + "/journal.bin").state;
  EXPECT_EQ(journal_ids(after).size(), after.orders.size());
  for (const auto& id : before_ids) EXPECT_EQ(journal_ids(after).count(id), 1u) << id;

  // Restart with unknown_orders = "adopt": an order placed by hand becomes ours (journaled under its own
  // client id, tracked by the engine), so the engine's stop sequence cancels it like any working entry
  // (the "report" run above showed that the stop sequence leaves orders it does not own alone).
  (void)venue.add_foreign_order("web_manual_9");
  {
    Child fourth(live("adopt", "fourth"), root + "/fourth.out");
    ASSERT_TRUE(wait_for([&] { return !enigma::testing::venue_reconciliation(root + "/runs-fourth").empty(); }, 30000)) << fourth.output();
    const std::string j = enigma::testing::venue_reconciliation(root + "/runs-fourth");
    EXPECT_NE(j.find("\"client_id\": \"web_manual_9\", \"symbol\": \"BTCUSDT\", \"side\": \"BUY\", \"qty\": \"0.005\", "
                     "\"canceled\": false, \"adopted\": true"),
              std::string::npos)
        << j;
    ASSERT_TRUE(wait_for([&] { return market.connections() >= 4; }, 30000));
    ASSERT_EQ(::kill(fourth.pid, SIGTERM), 0);
    EXPECT_EQ(fourth.wait(), 128 + SIGTERM) << fourth.output();
    const std::string log = slurp(std::filesystem::path(root) / "runs-fourth" / "latest" / "logs" / "enigma.log");
    EXPECT_NE(log.find("(client id web_manual_9) BTCUSDT BUY qty=0.005 NEW is open at the venue but not in our journal: adopted"),
              std::string::npos)
        << log;
  }
  EXPECT_EQ(venue.orders().at("web_manual_9").status, "CANCELED");
  const oms::JournalReplay last = oms::inspect_journal(state + "/journal.bin").state;
  bool journaled = false;
  for (const auto& o : last.orders) {
    if (std::string(o.client_id().view()) != "web_manual_9") continue;
    journaled = true;
    EXPECT_EQ(o.status, oms::OrderStatus::canceled);
    EXPECT_EQ(o.spec.req.qty.to_string(), "0.005");
    EXPECT_EQ(o.spec.req.price.to_string(), "50000");
  }
  EXPECT_TRUE(journaled) << "the adopted order is in our journal";
  EXPECT_EQ(venue.bad_signatures(), 0);
}

// Fills missed while the user-data stream was down are found after it reconnects (issue 11 item 1),
// through the `enigma live` binary: with the bracket resting, the stream drops and the take-profit fills
// at the venue with no report pushed; on reconnect the engine queries its two working orders, books the
// fill and cancels the stop (its OCO sibling) at the venue. Nothing is left working, nothing duplicated.
class EngineLiveBinaryEntry : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineLiveBinaryEntry, MissedFillsAreRecoveredAfterTheUserStreamReconnects) {
  LiveBinary t("live-stream-reconnect", GetParam());
  FakeBinance& venue = t.venue;
  Child engine(t.args("report", "one"), t.root + "/one.out");
  t.trade_until_bracket_rests(engine);
  if (::testing::Test::HasFatalFailure()) return;
  std::string stop_id, tp_id;
  t.bracket_ids(stop_id, tp_id);
  ASSERT_FALSE(stop_id.empty());
  ASSERT_FALSE(tp_id.empty());
  const int queries_before = venue.queries();
  const int accepts_before = venue.stream_accepts();
  venue.drop_stream();
  venue.fill_while_down(tp_id);  // the venue pushes nothing for it: only a query can tell
  ASSERT_TRUE(wait_for([&] { return venue.stream_accepts() > accepts_before; }, 20000)) << engine.output();
  ASSERT_TRUE(wait_for([&] { return venue.orders().at(stop_id).status == "CANCELED"; }, 20000))
      << "the engine never learned the take-profit's fill\n" << engine.output();
  EXPECT_GE(venue.queries() - queries_before, 2) << "both working orders are queried";
  EXPECT_EQ(venue.position(), "0");
  ASSERT_EQ(::kill(engine.pid, SIGTERM), 0);
  EXPECT_EQ(engine.wait(), 128 + SIGTERM) << engine.output();
  EXPECT_EQ(venue.commission_rate_queries(), 1);  // start-up: the account's rates for BTCUSDT
  const std::string run = std::filesystem::canonical(t.root + "/runs-one/latest").string();
  const std::string log = slurp(run + "/logs/enigma.log");
  EXPECT_NE(log.find("live user_stream_reconnected"), std::string::npos) << log;
  EXPECT_NE(log.find("reconnect_reconciliation working_orders=2 action=query"), std::string::npos) << log;
  const std::string summary = slurp(run + "/summary.json");
  EXPECT_NE(summary.find("\"reconnect_reconciliations\": 1"), std::string::npos);
  // The key passed the permission check before anything else (logged), and the venue's used-weight header
  // reached summary.json (REST answers carry it; the ws-api order entry still uses REST for the rest).
  EXPECT_EQ(venue.restriction_queries(), 1);
  EXPECT_NE(log.find("api_key_permissions ip_restrict=false"), std::string::npos) << log;
  const std::string weight_key = "\"venue_rate_limits\": {\"used_weight\": ";
  const std::size_t w = summary.find(weight_key);
  ASSERT_NE(w, std::string::npos) << summary;
  const long long weight = std::stoll(summary.substr(w + weight_key.size()));
  EXPECT_GT(weight, 0) << summary;
  EXPECT_LE(weight, venue.used_weight()) << summary;
  const oms::JournalReplay j = oms::inspect_journal(t.state + "/journal.bin").state;
  EXPECT_EQ(journal_ids(j).size(), j.orders.size());
  for (const auto& o : j.orders) {
    const std::string id(o.client_id().view());
    if (id == tp_id) {
      EXPECT_EQ(o.status, oms::OrderStatus::filled);
      // The fill only the query found carries what the venue charged for it (a take-profit market order: the
      // taker rate on its value), priced from the answer's cumQuote at the rate read at start-up.
      const std::string charged = venue.orders().at(tp_id).commission;
      EXPECT_NE(charged, "0");
      EXPECT_EQ(o.fees, Notional::parse(charged).value) << charged;
    } else if (id == stop_id) {
      EXPECT_EQ(o.status, oms::OrderStatus::canceled);
    }
  }
  EXPECT_TRUE(j.open_orders().empty());
  // order_latency.csv: one row per order we sent that the venue answered (kind,client_order_id,send_ns,venue_ns,
  // ack_ns,latency_ns), latency = the venue's answer time - send time, or half the round trip when the venue's
  // time is earlier than our send (clocks apart); both bracket legs are there, every id is one we journaled.
  {
    std::ifstream lat(run + "/order_latency.csv");
    std::string line;
    ASSERT_TRUE(std::getline(lat, line));
    EXPECT_EQ(line, "kind,client_order_id,send_ns,venue_ns,ack_ns,latency_ns");
    const auto ids = journal_ids(j);
    bool stop_seen = false, tp_seen = false;
    while (std::getline(lat, line)) {
      std::vector<std::string> c;
      std::stringstream ss(line);
      for (std::string cell; std::getline(ss, cell, ',');) c.push_back(cell);
      ASSERT_EQ(c.size(), 6u) << line;
      EXPECT_EQ(c[0], "new");
      EXPECT_TRUE(ids.count(c[1])) << line;
      const long long send = std::stoll(c[2]), venue_ns = std::stoll(c[3]), ack = std::stoll(c[4]);
      EXPECT_LE(send, ack) << line;
      EXPECT_EQ(std::stoll(c[5]), venue_ns > 0 && venue_ns >= send ? venue_ns - send : (ack - send) / 2) << line;
      stop_seen |= c[1] == stop_id;
      tp_seen |= c[1] == tp_id;
    }
    EXPECT_TRUE(stop_seen && tp_seen) << slurp(run + "/order_latency.csv");
  }
  EXPECT_EQ(venue.bad_signatures(), 0);
  if (GetParam() == "ws-api") {  // orders, queries and cancels went over the WebSocket API after one Ed25519 logon
    EXPECT_EQ(venue.ws_api_logons(), 1);
    EXPECT_GE(venue.ws_api_requests(), venue.posts() + venue.queries());
    for (const auto& b : venue.bodies()) EXPECT_NE(b.rfind("symbol=", 0), 0u) << b;
    EXPECT_NE(log.find("order_entry=ws-api auth=ed25519-session"), std::string::npos) << log;
  } else {
    EXPECT_EQ(venue.ws_api_connections(), 0);
  }
}
INSTANTIATE_TEST_SUITE_P(OrderEntries, EngineLiveBinaryEntry, ::testing::Values("rest", "ws-api"),
                         [](const auto& i) { return i.param == "rest" ? std::string("Rest") : std::string("WsApiEd25519"); });


namespace {

// `run_live` against FakeBinance (REST order entry) with the recorded session as market data and an admin
// endpoint, for the rate-limit scenarios: the venue's answers, not the test, decide what the engine may send.
struct LiveRateRig {
  FakeBinance venue;
  enigma::testing::RecordedSession rec = recorded_session(40000);
  std::unique_ptr<enigma::testing::WsTestServer> market;
  RunConfig rc = trading_config();
  InstrumentRegistry registry;
  std::unique_ptr<strategy::StrategyStage> strategies;
  std::unique_ptr<TradingCore> core;
  std::unique_ptr<LiveGateway> gateway;
  SpscRing<AdminCommand> admin_ring{16};
  SpscRing<AdminCommand> commands{16};  // the OMS's admin commands (the kill), pushed by the test
  std::unique_ptr<AdminServer> admin;
  std::unique_ptr<StatusPublisher> status;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> frames_taken{0};  // frames + snapshots the engine has handled (its thread stores it)
  PipelineResult r;
  std::thread engine;
  std::size_t sent = 0;

  // `tune`: changes to the trading config before the engine is built.
  explicit LiveRateRig(const oms::RequestBudgetConfig& budget = oms::binance_usdm_budget(),
                       const std::function<void(RunConfig&)>& tune = {}) {
    enigma::testing::WsTestServerOptions so;
    so.snapshot_body = rec.snapshot;
    market = std::make_unique<enigma::testing::WsTestServer>(rec.frames, so);
    if (tune) tune(rc);
    rc.fill_registry(registry);
    strategies = std::make_unique<strategy::StrategyStage>(rc.make_strategies());
    TradingCoreConfig trading = rc.trading;
    trading.journal_path = fresh_path("journal");
    core = std::make_unique<TradingCore>(registry, trading);
    LiveGatewayOptions go = gateway_options(venue);
    go.budget = budget;
    gateway = std::make_unique<LiveGateway>(registry, go);
    admin = std::make_unique<AdminServer>("127.0.0.1", 0, "", admin_ring);
    admin->start();
    status = std::make_unique<StatusPublisher>(*admin, registry, "live", 5'000'000);
  }
  ~LiveRateRig() { finish(); }

  // Starts the engine and lets the first frame (and its REST snapshot) in. With `reconcile`, first the start-up
  // reconciliation `enigma live` runs (open orders, commission rates, positions, balance from the venue).
  // `secret`: what the engine's orders are signed with (another than the venue's to see a refusal).
  bool start(bool reconcile = false, const char* secret = kSecret) {
    const std::string host = "127.0.0.1:" + venue.rest_url().substr(venue.rest_url().rfind(':') + 1);
    core->go_live(*gateway, binance_entry(registry, venue, OrderEntry::rest, secret));
    if (reconcile) {
      oms::binance_futures::Config bc;
      bc.host = host;
      oms::binance_futures::Encoder queries(registry, kKey, oms::Secret(kSecret), bc);
      const std::string dir = fresh_path("run");
      std::filesystem::create_directories(dir);
      (void)reconcile_live(*core, registry, *oms::binance_futures::account_queries(*gateway, queries, registry), UnknownOrderPolicy::report, dir,
                           std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    }
    gateway->start();
    if (!wait_for([&] { return gateway->stream_connected() && venue.stream_open(); })) return false;
    PaperOptions pp;
    pp.ws.url = market->url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade");
    pp.ws.tls.ca_file = market->ca_file();
    pp.snapshot_url = "https://127.0.0.1:" + std::to_string(market->port()) + "/fapi/v1/depth?symbol=BTCUSDT&limit=1000";
    pp.max_frames = rec.frames.size();
    pp.ws_frames_taken = &frames_taken;
    pp.run_seconds = 60;  // bound
    PipelineOptions po;
    po.venue = Venue::binance_usdm;
    po.progress = false;
    po.stop = &stop;
    po.status = status.get();
    po.admin = &commands;
    engine = std::thread([this, pp, po] { r = run_live(pp, registry, *strategies, *core, po, 500'000'000); });
    if (!wait_for([&] { return market->live(); })) return false;
    market->send_next(1);
    sent = 1;
    if (!wait_for([&] { return market->rest_requests() >= 1; })) return false;
    // The engine holds the snapshot (frame + snapshot taken) before more diffs come: a slow (sanitizer) build
    // that took it late would overflow its diff buffer, and the test venue's one recorded snapshot can never
    // bridge later diffs (the book would never sync, and no order would come).
    return wait_for([&] { return frames_taken.load(std::memory_order_acquire) >= 2; }, 30000);
  }
  // Market data in chunks of `chunk` frames, `pause_ms` apart, until `done` or the recording runs out.
  template <class Pred>
  bool feed_until(Pred done, std::size_t chunk, int pause_ms) {
    while (!done() && sent + chunk < rec.frames.size()) {
      market->send_next(chunk);
      sent += chunk;
      wait_for([&] { return market->cursor() == sent; });
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    }
    return done();
  }
  void finish() {
    stop = true;
    if (engine.joinable()) engine.join();
    if (gateway) gateway->stop();
    if (admin) admin->stop();
  }
};

// The shared live-suite cases (tests/support/live_suite.hpp) on a LiveRateRig: the names they use for its
// parts, and what they need to know of FakeBinance.
struct BinanceSuiteRun {
  LiveRateRig& rig;
  FakeBinance& venue = rig.venue;
  enigma::testing::WsTestServer& market = *rig.market;
  std::unique_ptr<TradingCore>& core = rig.core;
  SpscRing<AdminCommand>& admin = rig.commands;
  void finish() { rig.finish(); }
};
struct BinanceSuite {
  static constexpr std::string_view kIdKey = "newClientOrderId=";
  // The venue counts a refused signature before it reads the path: every signed request refused, with the
  // orders it took (stricter than new orders alone).
  static int order_posts(const FakeBinance& v) { return v.posts() + v.bad_signatures(); }
  static void rate_limit_next(FakeBinance& v) {  // the next order: HTTP 429, -1003, Retry-After 1 s
    v.script(v.posts() + 1, 429, -1003);
    v.set_retry_after(1);
  }
  static constexpr bool kResumesWithinSeconds = true;
  static std::string resting_entry(const FakeBinance& v) {
    for (const auto& [id, o] : v.orders())
      if (o.status == "NEW" && o.type == "LIMIT" && !o.reduce_only && id.rfind("en", 0) == 0) return id;
    return {};
  }
  static bool flat(const FakeBinance& v) {
    if (v.position() != "0") return false;
    for (const auto& [id, o] : v.orders())
      if (o.status == "NEW") return false;
    return true;
  }
  static long double fee_paid(const FakeBinance::Fill& f) { return std::stold(f.commission); }
  static std::vector<std::string> client_ids(const FakeBinance& v) {
    std::vector<std::string> ids;
    for (const auto& [id, o] : v.orders()) ids.push_back(id);
    return ids;
  }
};

}  // namespace

// The live suite's continuity case (live_suite.hpp) on Binance USD-M: a -2019 reject is a margin reject, a
// lost order answer (HTTP 500, booked) is UNKNOWN until the query by origClientOrderId, and a resting entry
// filled while the user-data stream was down is booked after the reconnect with the commission Binance
// charged (the order answer has none: its cumQuote at the maker rate from GET /fapi/v1/commissionRate).
TEST(EngineLive, ARejectALostAnswerAndAFillMissedWhileTheStreamWasDown) {
  LiveRateRig rig(oms::binance_usdm_budget(), [](RunConfig& rc) { rc.trading.entry_by_strategy[0].mode = oms::EntryMode::level; });
  rig.venue.set_rest_limits(true);
  rig.venue.set_rest_stops(true);
  rig.venue.set_commission_rates("0.00018", "0.00045");  // not the engine's [sim] defaults
  ASSERT_TRUE(rig.start(/*reconcile=*/true));  // the commission rates, which price a fill only a query finds
  EXPECT_EQ(rig.venue.commission_rate_queries(), 1);
  BinanceSuiteRun t{rig};
  enigma::testing::reject_lost_answer_and_missed_fill<BinanceSuite>(t, *rig.gateway, rig.rec.frames.size(), "binance");
}

// The live suite's rate-limit case (live_suite.hpp) on Binance USD-M: a 429 (-1003) with Retry-After 1 s backs
// new orders off; none reaches the venue meanwhile, and orders flow again after it (the /metrics side of the
// same answer: AVenue429BacksOffNewOrdersThenTheyResume).
TEST(EngineLive, ARateLimitAnswerBacksOffNewOrders) {
  LiveRateRig rig;
  ASSERT_TRUE(rig.start());
  BinanceSuiteRun t{rig};
  enigma::testing::a_rate_limit_answer_backs_off_new_orders<BinanceSuite>(t, *rig.gateway, rig.rec.frames.size());
}

// The live suite's credentials case (live_suite.hpp) on Binance USD-M: orders signed with a secret the venue
// does not know are refused (-1022, the signature does not verify) and raise the emergency stop; no new order
// follows.
TEST(EngineLive, RefusedCredentialsRaiseTheEmergencyStop) {
  // No dead-man timer: its refreshes are signed requests too, and this venue counts every refused signature.
  LiveRateRig rig(oms::binance_usdm_budget(), [](RunConfig& rc) { rc.trading.deadman_countdown_ns = 0; });
  ASSERT_TRUE(rig.start(/*reconcile=*/false, "not-the-venue-secret"));
  BinanceSuiteRun t{rig};
  enigma::testing::refused_credentials_raise_the_emergency_stop<BinanceSuite>(t, rig.rec.frames.size());
}

// A venue's 429 (issue 17 item 3): the entry it refused is a venue reject; for Retry-After (1 s) new orders
// are refused locally (counted, logged), no POST reaches the venue; then orders flow again. The venue's
// used-weight header reaches /metrics (valid Prometheus text) and the run's counters.
TEST(EngineLive, AVenue429BacksOffNewOrdersThenTheyResume) {
  LiveRateRig t;
  t.venue.script(1, 429, -1003);
  t.venue.set_retry_after(1);
  ASSERT_TRUE(t.start());
  ASSERT_TRUE(t.feed_until([&] { return t.venue.posts() >= 1; }, 200, 20)) << "no order in " << t.sent << " frames";
  ASSERT_TRUE(wait_for([&] { return t.gateway->stats().http_429.load() == 1; }));
  // Market data through the back-off: the strategy keeps signalling, the gateway refuses its entries.
  const auto limited = t.venue.limited_at();
  ASSERT_TRUE(t.feed_until([&] { return t.venue.posts() >= 2 && t.gateway->stats().backoff_refusals.load() >= 1; }, 50, 25))
      << "posts " << t.venue.posts() << " refused " << t.gateway->stats().backoff_refusals.load();
  const auto times = t.venue.post_times();
  ASSERT_GE(times.size(), 2u);
  EXPECT_GE(times[1] - limited, std::chrono::seconds(1)) << "a new order reached the venue inside Retry-After";
  // The weight the venue counted (its last header) is what /metrics shows; the engine's own snapshot
  // (published by the OMS thread) is read over HTTP, never from the engine's memory while it runs.
  std::string metrics;
  ASSERT_TRUE(wait_for([&] {
    metrics = enigma::testing::http_get_or_empty(t.admin->port(), "/metrics");
    return t.venue.used_weight() > 0 && metrics.find("enigma_venue_http_429_total 1\n") != std::string::npos &&
           metrics.find("enigma_venue_used_weight " + std::to_string(t.venue.used_weight()) + "\n") != std::string::npos;
  })) << "venue weight " << t.venue.used_weight() << "\n" << metrics;
  const std::string path = fresh_path("metrics") + ".txt";
  std::ofstream(path) << metrics;
  ASSERT_EQ(::access("/usr/bin/promtool", X_OK), 0) << "/usr/bin/promtool is missing: run scripts/setup.sh";
  EXPECT_EQ(std::system(("/usr/bin/promtool check metrics < " + path + " > /dev/null 2>&1").c_str()), 0) << metrics;
  t.finish();
  EXPECT_EQ(t.r.orders.venue_http_429, 1u);
  EXPECT_GE(t.r.orders.venue_rate_refusals, 1u);
  EXPECT_EQ(t.gateway->stats().http_418.load(), 0u);
  EXPECT_EQ(t.core->emergency_count(EmergencyCause::venue_ban), 0u);
}

// A venue's 418 (IP banned): the emergency stop is raised and no order follows, however much market data.
TEST(EngineLive, AVenue418RaisesTheEmergencyStopAndNoOrderFollows) {
  LiveRateRig t;
  t.venue.script(1, 418, -1003);
  t.venue.set_retry_after(120);
  ASSERT_TRUE(t.start());
  ASSERT_TRUE(t.feed_until([&] { return t.venue.posts() >= 1; }, 200, 20)) << "no order in " << t.sent << " frames";
  std::string status;
  ASSERT_TRUE(wait_for([&] {
    status = enigma::testing::http_get_or_empty(t.admin->port(), "/status");
    return status.find("\"lifecycle\":\"emergency_stop\"") != std::string::npos;
  })) << status;
  t.market->send_next(std::min<std::size_t>(4000, t.rec.frames.size() - t.sent));  // more data: no order may follow
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  t.finish();
  EXPECT_EQ(t.core->emergency_count(EmergencyCause::venue_ban), 1u);
  EXPECT_EQ(t.core->lifecycle(), Lifecycle::shutdown);  // the run ended after the emergency stop
  EXPECT_EQ(t.core->risk().state(), risk::TradingState::halted);
  EXPECT_EQ(t.venue.posts(), 1) << "an order reached the venue after its ban";
  EXPECT_EQ(t.gateway->stats().http_418.load(), 1u);
  EXPECT_EQ(t.r.orders.venue_http_418, 1u);
}

// Key permissions (issue 17 item 4), through the `enigma live` binary: a key that can withdraw is refused
// before anything else reaches the venue — exit 3 with the reason, no listen key, no query, no order.
TEST(EngineLive, AKeyThatCanWithdrawIsRefusedAtStart) {
  LiveBinary t("live-withdraw-key");
  enigma::testing::a_key_that_can_withdraw_is_refused<BinanceSuite>(t.venue, t.args("report", "refused"), t.root + "/refused.out");
  EXPECT_NE(enigma::testing::slurp(t.root + "/refused.out").find("(enableWithdrawals"), std::string::npos);
  EXPECT_EQ(t.venue.restriction_queries(), 1);
  EXPECT_EQ(t.venue.listen_keys(), 0);
  EXPECT_EQ(t.venue.open_order_queries(), 0);
  EXPECT_EQ(t.venue.posts(), 0);
}

// Which apiRestrictions answers move funds out (the example answer of Binance's docs, one flag at a time),
// and a missing field is named.
TEST(EngineLive, KeyRestrictionsThatMoveFundsOut) {
  const auto with = [](const char* field) {
    std::string body = R"({"ipRestrict":true,"createTime":1698645219000,"enableReading":true,"enableWithdrawals":false,)"
                       R"("enableInternalTransfer":false,"enableMargin":false,"enableFutures":true,"permitsUniversalTransfer":false,)"
                       R"("enableVanillaOptions":false,"enableSpotAndMarginTrading":false})";
    if (field != nullptr) {
      const std::string off = std::string("\"") + field + "\":false";
      body.replace(body.find(off), off.size(), std::string("\"") + field + "\":true");
    }
    return oms::binance_futures::parse_key_restrictions(body);
  };
  const oms::binance_futures::KeyRestrictions trade_only = with(nullptr);
  EXPECT_TRUE(trade_only.ip_restrict);
  EXPECT_TRUE(trade_only.enable_futures);
  EXPECT_FALSE(trade_only.can_move_funds_out());
  EXPECT_TRUE(with("enableWithdrawals").can_move_funds_out());
  EXPECT_TRUE(with("enableInternalTransfer").can_move_funds_out());
  EXPECT_TRUE(with("permitsUniversalTransfer").can_move_funds_out());
  EXPECT_FALSE(with("enableMargin").can_move_funds_out());
  try {
    (void)oms::binance_futures::parse_key_restrictions(R"({"ipRestrict":false,"enableReading":true,"enableFutures":true,"enableInternalTransfer":false,"permitsUniversalTransfer":false})");
    ADD_FAILURE() << "a missing enableWithdrawals was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'enableWithdrawals'"), std::string::npos) << e.what();
  }
}

// The kill puts every resting entry's cancel on the wire at once (issue 12: kill -> cancels on the wire):
// entries priced at the 9th book level rest at the venue; the kill sends one DELETE /fapi/v1/batchOrders
// naming all of them (not one DELETE each, every one waiting for the answer to the one before), the venue
// verifies its signature and cancels them, and each order is cancelled in the OMS from its own result.
TEST(EngineLive, TheKillCancelsTheRestingEntriesInOneBatch) {
  LiveRateRig t(oms::binance_usdm_budget(), [](RunConfig& rc) { rc.trading.entry_by_strategy[0].mode = oms::EntryMode::level; });
  t.venue.set_rest_limits(true);
  ASSERT_TRUE(t.start());
  const auto resting = [&] {
    std::vector<std::string> ids;
    for (const auto& [id, o] : t.venue.orders())
      if (o.status == "NEW" && o.type == "LIMIT") ids.push_back(id);
    return ids;
  };
  ASSERT_TRUE(t.feed_until([&] { return resting().size() >= 3; }, 100, 20))
      << "only " << resting().size() << " entries rest after " << t.sent << " frames";
  // No frame until the kill is taken: the entries resting now are the ones it must cancel. The engine's own
  // count is its status snapshot (published by the OMS thread after each frame), read over HTTP, never from
  // its memory while it runs: once a snapshot has seen every frame sent (and the REST snapshot), no order is
  // still to come, and every order the OMS sent rests at the venue (none is cancelled, rejected or filled
  // here before the kill).
  std::string status;
  ASSERT_TRUE(wait_for([&] {
    status = enigma::testing::http_get_or_empty(t.admin->port(), "/status");
    const long long frames = enigma::testing::json_number(status, "frames");
    return frames >= static_cast<long long>(t.sent) + t.market->snapshots_served() &&
           enigma::testing::json_number(status, "orders") == static_cast<long long>(resting().size());
  })) << "resting " << resting().size() << ", frames sent " << t.sent << ", status " << status;
  std::vector<std::string> before = resting();
  const int deletes = t.venue.deletes();
  ASSERT_TRUE(t.commands.try_push(AdminCommand{AdminCommandKind::kill, 1}));
  t.market->send_next(1);  // the OMS polls its commands between frames
  // Watched at the venue; the run's stop then waits (drain) until the OMS has taken each cancel's result,
  // and the OMS's side is checked once the run has ended.
  ASSERT_TRUE(wait_for([&] { return resting().empty(); })) << "resting " << resting().size();
  t.finish();
  EXPECT_EQ(t.core->working_orders(), 0u);
  const std::vector<std::vector<std::string>> batches = t.venue.batch_cancels();
  ASSERT_EQ(batches.size(), (before.size() + 9) / 10) << "one batch per 10 entries";
  std::vector<std::string> cancelled;
  for (const auto& b : batches) cancelled.insert(cancelled.end(), b.begin(), b.end());
  std::sort(before.begin(), before.end());
  std::sort(cancelled.begin(), cancelled.end());
  EXPECT_EQ(cancelled, before);
  EXPECT_EQ(t.venue.deletes(), deletes) << "no entry was cancelled on its own";
  EXPECT_EQ(t.venue.bad_signatures(), 0);
  for (const std::string& id : before) {
    const oms::OrderState* o = t.core->order(risk::ClientOrderId::from(id).value);
    ASSERT_NE(o, nullptr) << id;
    EXPECT_EQ(o->status, oms::OrderStatus::canceled) << id;
  }
  EXPECT_EQ(t.core->counters().cancels, before.size());
  // Kill -> each request on the wire, measured by the gateway (kernel tx stamp); the batch is one request.
  const LatencyHistogram& k2w = t.gateway->kill_to_wire_latency();
  EXPECT_EQ(k2w.count(), batches.size());
  EXPECT_GT(k2w.min_value(), 0);
  std::printf("kill -> %zu cancels on the wire in %zu request(s): %lld ns (information, not an assertion)\n", before.size(),
              batches.size(), static_cast<long long>(k2w.max_value()));
  // As `enigma live` does after gateway.stop(): the figure goes into summary.json.
  t.r.hist.kill_to_wire.merge(k2w);
  const std::string dir = fresh_path("run");
  std::filesystem::create_directories(dir);
  write_run_files(dir, RunSummaryInput{&t.rc, &t.registry, &t.r, t.core.get(), "live", "fused"});
  EXPECT_NE(slurp(dir + "/summary.json").find("\"kill_to_wire\": {\"count\": " + std::to_string(batches.size()) + ","),
            std::string::npos);
}

// Cancels, the kill and protective (reduce-only) orders go first (issue 17 item 3): from the answer to the
// first entry on, another session on our IP has spent most of the minute's weight (the venue's header says
// so), past the share new entries may use. The entry's reduce-only stop and take-profit still reach the
// venue, and the kill still cancels both legs and flattens the position.
TEST(EngineLive, TheKillStillCancelsAndFlattensWhenTheVenueWeightIsNearlySpent) {
  oms::RequestBudgetConfig budget = oms::binance_usdm_budget();
  budget.weight.limit = 1000;  // entries may use 800 of it
  LiveRateRig t(budget);
  t.venue.set_rest_stops(true);
  t.venue.set_foreign_weight(900, 1);
  ASSERT_TRUE(t.start());
  const auto resting = [&] {
    int n = 0;
    for (const auto& [id, o] : t.venue.orders()) n += o.status == "NEW" && id.rfind("en", 0) == 0;
    return n;
  };
  ASSERT_TRUE(t.feed_until([&] { return resting() >= 2; }, 100, 20)) << "no bracket rests after " << t.sent << " frames";
  EXPECT_EQ(t.venue.posts(), 3) << "entry, stop, take-profit";
  const int deletes = t.venue.deletes(), posts = t.venue.posts();
  ASSERT_TRUE(t.commands.try_push(AdminCommand{AdminCommandKind::kill, 1}));
  t.market->send_next(1);  // the OMS polls its commands between frames
  ASSERT_TRUE(wait_for([&] { return resting() == 0 && t.venue.position() == Qty{}.to_string(); }))
      << "resting " << resting() << " position " << t.venue.position();
  t.finish();
  EXPECT_GE(t.venue.deletes() - deletes, 2) << "both bracket legs cancelled one by one";
  EXPECT_EQ(t.venue.posts() - posts, 1) << "one reduce-only close";
  EXPECT_GT(t.gateway->stats().used_weight.load(), 800u) << "the venue's weight was past the entries' share";
  EXPECT_EQ(t.gateway->stats().budget_waits.load(), 0u);
  EXPECT_EQ(t.core->position(0).qty, Qty{});
}
