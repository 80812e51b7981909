// Paper trading for every venue with a market-data decoder (issue 13 item 4), through run_paper against the
// local TLS venue (tests/support/market_data_venue.hpp) speaking each venue's dialect: a lost message (a
// sequence gap; on Kraken spot, which has no sequence numbers, a checksum that no longer matches), an OKX or
// Kraken checksum failure, a dropped connection and a silent feed. After a gap the engine recovers on the
// SAME connection (OKX/Bybit/Coinbase/Kraken spot and Futures resubscribe, Binance/KuCoin fetch a REST
// snapshot on the fetcher thread); a drop and a silence reconnect; and at the end the engine's book equals
// the venue's own book (computed by the test venue, not by the engine's code).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/market_data_venue.hpp"
#include "tests/support/ws_test_server.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::Dialect;
using enigma::testing::MarketDataVenue;
using enigma::testing::wait_for;

namespace {

constexpr std::size_t kUpdates = 400;

// The engine's final levels against the venue's, level by level (price and size).
void expect_levels(const std::vector<PriceLevel>& got, const std::vector<PriceLevel>& want, const char* side) {
  ASSERT_EQ(got.size(), want.size()) << side;
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].price, want[i].price) << side << " level " << i;
    EXPECT_EQ(got[i].qty, want[i].qty) << side << " level " << i;
  }
}

struct Faults {
  bool checksum = false;    // OKX, Kraken: one update whose checksum does not match the book
  bool heartbeats = false;  // Kraken: heartbeats alone (no book data) for longer than the stale limit
};

void run_venue(Dialect dialect, Faults faults = {}) {
  const MarketDataVenue venue(dialect, kUpdates);
  enigma::testing::WsTestServer server(venue.frames(), venue.server_options());

  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  ASSERT_EQ(rc.instruments.size(), 1u);
  rc.instruments[0].spec = venue.spec();  // the one traded instrument, on this venue
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(rc.make_strategies());
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = enigma::testing::fresh_path("journal");
  TradingCore core(registry, trading);

  PaperOptions pp;
  const std::string base = "https://127.0.0.1:" + std::to_string(server.port());
  if (!venue.bullet_path().empty()) pp.ws.kucoin_bullet_url = base + venue.bullet_path();
  else pp.ws.url = server.url(venue.ws_path());
  pp.ws.subscriptions = venue.subscriptions();
  pp.ws.ping = venue.ping();
  pp.ws.tls.ca_file = server.ca_file();
  pp.ws.backoff.initial_ns = 20'000'000;
  pp.ws.stale_after_ns = 1'000'000'000;  // the silence below is 1 s + ; OKX/KuCoin/Bybit pings come later
  // Kraken Futures: a ping control frame every 200 ms (the venue's pong is no data: the silence still shows).
  constexpr std::int64_t kKrakenPingNs = 200'000'000;
  if (dialect == Dialect::kraken_futures) pp.ws.ping_interval_ns = kKrakenPingNs;
  if (!venue.snapshot_path().empty()) pp.snapshot_url = base + venue.snapshot_path();
  pp.run_seconds = 60;  // bound, never reached when the test passes
  PipelineOptions po;
  po.venue = venue.venue();
  po.traded = 0;
  po.progress = false;
  std::atomic<bool> stop{false};
  po.stop = &stop;

  std::atomic<std::uint64_t> taken{0};
  pp.ws_frames_taken = &taken;
  // Every frame the venue wrote has been taken in by the engine (acks, stream snapshots and welcomes included).
  // Every REST request the venue answered is a snapshot the engine applies (no 5xx here; a body asked for
  // before a reconnect would be dropped, and no reconnect happens while one is in flight below).
  const auto caught_up = [&] {
    return server.queued() == 0 && taken.load() == server.frames_written() + static_cast<std::uint64_t>(server.snapshots_served());
  };
  // The server runs commands on its own thread: each send/skip waits until it has run (so caught_up and
  // cursor() describe the frames after it, never the ones before).
  std::size_t at = 0;
  const auto send = [&](std::size_t n) {
    at = std::min(at + n, kUpdates);
    server.send_next(n);
    ASSERT_TRUE(wait_for([&] { return server.cursor() == at; }));
  };
  const auto skip = [&](std::size_t n) {
    at += n;
    server.skip(n);
    ASSERT_TRUE(wait_for([&] { return server.cursor() == at; }));
  };

  PipelineResult r;
  const auto started = std::chrono::steady_clock::now();
  std::thread engine([&] { r = run_paper(pp, registry, strategies, core, po); });
  struct JoinOnExit {  // a failed ASSERT returns early: stop the engine before its state goes away
    std::atomic<bool>& stop;
    std::thread& t;
    ~JoinOnExit() {
      stop.store(true);
      if (t.joinable()) t.join();
    }
  } join_on_exit{stop, engine};
  const auto where = [&] {
    return "engine frames " + std::to_string(taken.load()) +
           ", venue wrote " + std::to_string(server.frames_written()) + ", connections " + std::to_string(server.connections()) +
           ", snapshots served " + std::to_string(server.snapshots_served());
  };
  // Subscriptions the venue has received (an unsubscribe does not match: `"subscribe"` with its quote).
  const auto subscribes = [&] {
    const auto rx = server.received();
    return std::count_if(rx.begin(), rx.end(), [](const std::string& t) { return t.find("\"subscribe\"") != std::string::npos; });
  };
  const auto unsubscribes = [&] {
    const auto rx = server.received();
    return std::count_if(rx.begin(), rx.end(), [](const std::string& t) { return t.find("\"unsubscribe\"") != std::string::npos; });
  };
  const long per_connect = static_cast<long>(pp.ws.subscriptions.size());
  long expected_subscribes = 0;
  // A (re)connection is complete once the venue has its subscriptions (and so has sent the stream's
  // snapshot); frames sent before would be dropped by the book, not lost, but would race the snapshot.
  const auto connected = [&](int connections) {
    expected_subscribes += per_connect;
    return wait_for([&] { return server.connections() >= connections && server.live() && subscribes() >= expected_subscribes; }, 15000);
  };
  const bool streams_snapshots = pp.snapshot_url.empty();
  // REST venues: the n-th snapshot has been served (the fetch after a connect or a gap is under way).
  const auto served = [&](int n) { return streams_snapshots || wait_for([&] { return server.snapshots_served() >= n; }); };
  ASSERT_TRUE(connected(1)) << where();
  send(1);
  ASSERT_TRUE(served(1)) << where();
  send(99);
  ASSERT_TRUE(wait_for(caught_up, 20000)) << where();

  // 1. A lost message: recovered on the same connection.
  long expected_unsubscribes = 0;
  const auto recovered = [&] {
    if (streams_snapshots) {  // the venue answered the resubscription with a snapshot at its cursor
      ++expected_unsubscribes;
      ++expected_subscribes;
      if (!wait_for([&] { return unsubscribes() >= expected_unsubscribes && subscribes() >= expected_subscribes; })) return false;
    }
    return wait_for(caught_up, 20000);
  };
  if (dialect == Dialect::kraken_spot) {
    // Kraken spot has no sequence numbers: a loss is seen when the next update's checksum (best 10 levels)
    // disagrees, so the lost diff is one that changes them (a deeper one goes unnoticed on the venue too).
    for (int i = 0; i < 50 && !venue.loss_shows_in_checksum(at); ++i) send(1);
    ASSERT_TRUE(venue.loss_shows_in_checksum(at));
    ASSERT_TRUE(wait_for(caught_up, 20000)) << where();
  }
  skip(1);
  send(1);
  ASSERT_TRUE(served(2)) << where();
  ASSERT_TRUE(recovered()) << where();
  send(99);
  ASSERT_TRUE(wait_for(caught_up, 20000)) << where();
  EXPECT_EQ(server.connections(), 1) << "a gap must not cost a reconnect";

  // 2. OKX: an update whose checksum does not match (the venue's data is wrong, not lost).
  if (faults.checksum) {
    server.send_raw(venue.corrupt_checksum(at));
    skip(1);
    ASSERT_TRUE(recovered()) << where();
    send(40);
    ASSERT_TRUE(wait_for(caught_up, 20000)) << where();
    EXPECT_EQ(server.connections(), 1) << "a checksum failure must not cost a reconnect";
  }

  // Kraken: no book data for 1.5 s (stale limit 1 s) but its heartbeat channel every 250 ms: no reconnect.
  if (faults.heartbeats) {
    for (int i = 0; i < 6; ++i) {
      server.send_raw(R"({"channel":"heartbeat"})");
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    ASSERT_TRUE(wait_for(caught_up, 20000)) << where();
    EXPECT_EQ(server.connections(), 1) << "heartbeats are data for the stale detector";
  }

  // 3. The connection drops (no close frame): reconnect, resubscribe, new snapshot.
  server.fault(enigma::testing::ServerFault::drop_without_close);
  ASSERT_TRUE(connected(2)) << where();
  send(50);
  ASSERT_TRUE(served(3)) << where();
  ASSERT_TRUE(wait_for(caught_up, 20000)) << where();

  // 4. The venue goes silent while connected: stale after 1 s, reconnect.
  ASSERT_TRUE(connected(3)) << where();
  send(kUpdates);  // the rest
  ASSERT_TRUE(served(4)) << where();
  ASSERT_TRUE(wait_for(caught_up, 20000)) << where();
  stop.store(true);
  engine.join();
  const double ran_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  EXPECT_EQ(r.decode_errors, 0u);
  EXPECT_EQ(r.crossed, 0u);
  EXPECT_GE(r.reconnects, 2u) << where();
  EXPECT_GE(r.resyncs, faults.checksum ? 2u : 1u);
  // Kraken: the venue's checksums (computed by the test venue) and the engine's agree on every other update.
  if (dialect == Dialect::kraken_spot) EXPECT_EQ(r.resyncs, 2u) << "the lost diff and the corrupt checksum only";
  if (dialect == Dialect::kraken_futures) {
    EXPECT_EQ(r.resyncs, 1u) << "the skipped seq only";
    // One ping per interval on a live connection (the first an interval after each connect): at least a
    // quarter of the intervals that passed (a loaded CI box), never more than one per interval.
    const int pings = server.pings_received();
    const double intervals = ran_s * 1e9 / static_cast<double>(kKrakenPingNs);
    EXPECT_GE(pings, std::max(3, static_cast<int>(intervals / 4))) << "ran " << ran_s << " s";
    EXPECT_LE(pings, static_cast<int>(intervals) + 1) << "ran " << ran_s << " s";
  }
  if (pp.snapshot_url.empty()) {
    EXPECT_GE(r.resubscribes, faults.checksum ? 2u : 1u);
    if (dialect == Dialect::kraken_spot) {  // Kraken v2's unsubscribe: the subscription's params, method unsubscribe
      const auto rx = server.received();
      EXPECT_NE(std::find(rx.begin(), rx.end(),
                          std::string(R"({"method":"unsubscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":100}})")),
                rx.end());
    }
    if (dialect == Dialect::kraken_futures) {  // Futures v1: the book feed's event unsubscribe; heartbeat kept
      const auto rx = server.received();
      EXPECT_EQ(std::count(rx.begin(), rx.end(), std::string(R"({"event":"unsubscribe","feed":"book","product_ids":["PF_XBTUSD"]})")), 1);
      EXPECT_EQ(unsubscribes(), 1);
    }
  } else {
    EXPECT_EQ(r.resubscribes, 0u);
    EXPECT_GE(r.snapshots_fetched, 4u);  // first connect, the gap, two reconnects
  }
  // The book agrees with the venue's own book after everything.
  ASSERT_TRUE(r.final_book_synced);
  expect_levels(r.final_bids, venue.bids_after(kUpdates, 10), "bid");
  expect_levels(r.final_asks, venue.asks_after(kUpdates, 10), "ask");
}

}  // namespace

TEST(EnginePaperVenues, BinanceRefetchesTheSnapshotOffTheTradingThread) { run_venue(Dialect::binance_usdm); }
TEST(EnginePaperVenues, BinanceCoinmRefetchesItsSnapshot) { run_venue(Dialect::binance_coinm); }
TEST(EnginePaperVenues, BinanceSpotSeesAGapWithoutPuAndRefetches) { run_venue(Dialect::binance_spot); }
TEST(EnginePaperVenues, KucoinSpotFromTheBulletTokenFlow) { run_venue(Dialect::kucoin_spot); }
TEST(EnginePaperVenues, OkxResubscribesAfterAGapAndAChecksumFailure) { run_venue(Dialect::okx, Faults{.checksum = true}); }
TEST(EnginePaperVenues, BybitResubscribesAfterAGap) { run_venue(Dialect::bybit); }
TEST(EnginePaperVenues, CoinbaseResubscribesAfterAGap) { run_venue(Dialect::coinbase); }
TEST(EnginePaperVenues, KrakenResubscribesAfterAGapAndAChecksumFailure) {
  run_venue(Dialect::kraken_spot, Faults{.checksum = true, .heartbeats = true});
}
TEST(EnginePaperVenues, KucoinFuturesFromTheBulletTokenFlow) { run_venue(Dialect::kucoin_futures); }
TEST(EnginePaperVenues, KrakenFuturesResubscribesAfterAGap) { run_venue(Dialect::kraken_futures); }

// `enigma paper --config config/paper-binance-coinm.toml` / `paper-binance-spot.toml` from the config alone:
// each product's own stream host and REST depth endpoint (dstream + /dapi/v1/depth, stream.binance.com +
// /api/v3/depth), the instrument on that venue, and a configuration the engine accepts for paper.
TEST(EnginePaperVenues, BinanceCoinmAndSpotConfigsUseTheirProductsEndpoints) {
  struct Case {
    std::string file;
    Venue venue;
    std::string symbol, url, snapshot;
    InstrumentKind kind;
  };
  for (const Case& c :
       {Case{"paper-binance-coinm.toml", Venue::binance_coinm, "BTCUSD_PERP",
             "wss://dstream.binance.com/stream?streams=btcusd_perp@depth@100ms/btcusd_perp@bookTicker/btcusd_perp@aggTrade",
             "https://dapi.binance.com/dapi/v1/depth?symbol=BTCUSD_PERP&limit=1000", InstrumentKind::inverse_perpetual},
        Case{"paper-binance-spot.toml", Venue::binance_spot, "BTCUSDT",
             "wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker/btcusdt@trade",
             "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000", InstrumentKind::spot}}) {
    SCOPED_TRACE(c.file);
    const RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/" + c.file);
    EXPECT_EQ(rc.venue, c.venue);
    ASSERT_EQ(rc.instruments.size(), 1u);
    EXPECT_EQ(rc.instruments[0].spec.symbol.view(), c.symbol);
    EXPECT_EQ(rc.instruments[0].spec.venue, c.venue);
    EXPECT_EQ(rc.instruments[0].spec.kind, c.kind);
    const PaperOptions p = paper_options(rc);
    EXPECT_EQ(p.ws.url, c.url);
    EXPECT_EQ(p.snapshot_url, c.snapshot);
    EXPECT_EQ(p.ws.ping, feed::PingPolicy::binance);
  }
}

// `enigma paper --config config/paper-kraken-spot.toml` from the config alone: Kraken spot v2's endpoint, no
// REST snapshot, no client ping (heartbeats), and the frames sent after a checksum failure are the `book`
// subscription's unsubscribe then the subscription again (Kraken v2: same params, method "unsubscribe"),
// never the trade subscription's. Kraken Futures v1 the same way with "event".
TEST(EnginePaperVenues, KrakenSpotConfigResubscribesItsBookChannel) {
  const RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/paper-kraken-spot.toml");
  EXPECT_EQ(rc.venue, Venue::kraken_spot);
  const PaperOptions p = paper_options(rc);
  EXPECT_EQ(p.ws.url, "wss://ws.kraken.com/v2");
  EXPECT_TRUE(p.snapshot_url.empty());
  EXPECT_EQ(p.ws.ping, feed::PingPolicy::none);
  EXPECT_TRUE(p.resubscribe.empty());  // derived from the subscriptions at run time
  const std::string book = R"({"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":25}})";
  ASSERT_EQ(p.ws.subscriptions.size(), 2u);
  EXPECT_EQ(p.ws.subscriptions[0], book);
  EXPECT_EQ(book_resubscribe_frames(rc.venue, p.ws.subscriptions),
            (std::vector<std::string>{R"({"method":"unsubscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":25}})", book}));
  const std::string futures_book = R"({"event":"subscribe","feed":"book","product_ids":["PF_XBTUSD"]})";
  EXPECT_EQ(book_resubscribe_frames(Venue::kraken_futures,
                                    {futures_book, R"({"event":"subscribe","feed":"trade","product_ids":["PF_XBTUSD"]})"}),
            (std::vector<std::string>{R"({"event":"unsubscribe","feed":"book","product_ids":["PF_XBTUSD"]})", futures_book}));
}

// `enigma paper --config config/paper-kraken-futures.toml` from the config alone: Kraken Futures v1's
// endpoint, no REST snapshot, a ping control frame every 30 s (the venue wants one at least every 60 s), the
// heartbeat feed subscribed, and after a seq gap only the `book` feed is unsubscribed and subscribed again.
TEST(EnginePaperVenues, KrakenFuturesConfigPingsAndResubscribesItsBookFeed) {
  const RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/paper-kraken-futures.toml");
  EXPECT_EQ(rc.venue, Venue::kraken_futures);
  ASSERT_EQ(rc.instruments.size(), 1u);
  EXPECT_EQ(rc.instruments[0].spec.symbol.view(), "PF_XBTUSD");
  const PaperOptions p = paper_options(rc);
  EXPECT_EQ(p.ws.url, "wss://futures.kraken.com/ws/v1");
  EXPECT_TRUE(p.snapshot_url.empty());
  EXPECT_EQ(p.ws.ping, feed::PingPolicy::kraken_futures);
  EXPECT_EQ(p.ws.ping_interval_ns, 30'000'000'000);
  EXPECT_GT(p.ws.stale_after_ns, 0);
  const std::string book = R"({"event":"subscribe","feed":"book","product_ids":["PF_XBTUSD"]})";
  ASSERT_EQ(p.ws.subscriptions.size(), 3u);
  EXPECT_EQ(p.ws.subscriptions[0], book);
  EXPECT_EQ(p.ws.subscriptions[2], R"({"event":"subscribe","feed":"heartbeat"})");
  EXPECT_EQ(book_resubscribe_frames(rc.venue, p.ws.subscriptions),
            (std::vector<std::string>{R"({"event":"unsubscribe","feed":"book","product_ids":["PF_XBTUSD"]})", book}));
}

// Bybit closes a connection that sends no ping: the engine sends {"op":"ping"} on its interval and the
// venue's pong keeps the connection (and counts as data for the stale detector).
TEST(EnginePaperVenues, BybitPingsOnItsInterval) {
  const MarketDataVenue venue(Dialect::bybit, 10);
  enigma::testing::WsTestServer server(venue.frames(), venue.server_options());
  feed::WsClientOptions o;
  o.url = server.url(venue.ws_path());
  o.subscriptions = venue.subscriptions();
  o.ping = feed::PingPolicy::bybit;
  o.ping_interval_ns = 100'000'000;
  o.tls.ca_file = server.ca_file();
  feed::WsHandlers h;
  feed::WsClient client(o, h);
  client.start();
  std::atomic<bool> done{false};
  std::thread io([&] {
    while (!done.load()) {
      (void)client.poll_once();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  const auto pings = [&] {
    const auto rx = server.received();
    return std::count(rx.begin(), rx.end(), std::string(R"({"op":"ping"})"));
  };
  EXPECT_TRUE(wait_for([&] { return pings() >= 3; }, 10000));
  done.store(true);
  io.join();
  EXPECT_EQ(server.connections(), 1);
  EXPECT_GE(client.stats().pings_sent, 3u);
}

// The REST snapshot is fetched off the trading thread: while the venue takes 3 s to answer, the engine
// keeps taking in the WebSocket's diffs (buffered by the book), then applies the snapshot and the buffered
// diffs after it, and its book is the venue's.
TEST(EnginePaperVenues, ASlowSnapshotDoesNotStopTheFeed) {
  const MarketDataVenue venue(Dialect::binance_usdm, 100);
  enigma::testing::WsTestServerOptions so = venue.server_options();
  so.rest_delay_ms = 3000;
  enigma::testing::WsTestServer server(venue.frames(), so);
  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  rc.instruments[0].spec = venue.spec();
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(rc.make_strategies());
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = enigma::testing::fresh_path("journal");
  TradingCore core(registry, trading);
  PaperOptions pp;
  pp.ws.url = server.url(venue.ws_path());
  pp.ws.tls.ca_file = server.ca_file();
  pp.ws.stale_after_ns = 0;
  pp.snapshot_url = "https://127.0.0.1:" + std::to_string(server.port()) + venue.snapshot_path();
  pp.run_seconds = 30;  // bound
  std::atomic<std::uint64_t> taken{0};
  pp.ws_frames_taken = &taken;
  PipelineOptions po;
  po.venue = venue.venue();
  po.progress = false;
  std::atomic<bool> stop{false};
  po.stop = &stop;
  PipelineResult r;
  std::thread engine([&] { r = run_paper(pp, registry, strategies, core, po); });
  ASSERT_TRUE(wait_for([&] { return server.live(); }));
  server.send_next(1);
  ASSERT_TRUE(wait_for([&] { return server.snapshots_served() == 1; }));  // the GET is in, its answer 3 s away
  server.send_next(99);
  // All 100 diffs are taken in well before the snapshot can have arrived (a blocked thread would take
  // none of them for 3 s).
  const bool fed_while_fetching = wait_for([&] { return taken.load() >= 100; }, 2000);
  EXPECT_TRUE(fed_while_fetching);
  EXPECT_TRUE(wait_for([&] { return taken.load() == 101; }, 10000));  // ... and then the snapshot
  stop.store(true);
  engine.join();
  EXPECT_EQ(r.frames, 100u);
  EXPECT_EQ(r.snapshots_fetched, 1u);
  ASSERT_TRUE(r.final_book_synced);
  expect_levels(r.final_bids, venue.bids_after(100, 10), "bid");
  expect_levels(r.final_asks, venue.asks_after(100, 10), "ask");
}
