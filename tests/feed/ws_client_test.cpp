// TLS WebSocket client against the local Beast TLS server (tests/support/ws_test_server), replaying real
// Binance USD-M frames from data/recorder/ and injecting faults. Loopback only; every wait is bounded.
#include "feed/ws_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "feed/capture_reader.hpp"
#include "feed/https_client.hpp"
#include "feed/venues/binance.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/ws_test_server.hpp"

using namespace enigma;
using namespace enigma::feed;
using enigma::testing::ServerFault;
using enigma::testing::WsTestServer;
using enigma::testing::WsTestServerOptions;

namespace {

const std::string kUsdm =
    std::string(ENIGMA_SOURCE_DIR) + "/data/recorder/hftbacktest_usdm_BTCUSDT_20240808_first3000.gz";
const std::string kBullet = std::string(ENIGMA_SOURCE_DIR) + "/data/recorder/kucoin_futures_bullet_public_example.json";
const std::string kSubscribe =
    R"({"method":"SUBSCRIBE","params":["btcusdt@depth@0ms","btcusdt@bookTicker","btcusdt@trade"],"id":1})";

struct Recorded {
  std::vector<std::string> frames;  // WebSocket frames, capture order
  std::string snapshot;             // the REST depth snapshot body
};
const Recorded& recorded() {
  static const Recorded r = [] {
    Recorded out;
    CaptureReader cap(kUsdm);
    CapturedFrame f;
    while (cap.next(f)) {
      if (f.kind == FrameKind::rest_body)
        out.snapshot = std::string(f.payload);
      else
        out.frames.emplace_back(f.payload);
    }
    return out;
  }();
  return r;
}

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

// Collects what the client reports (test thread only in poll mode; guarded for run() mode).
struct Sink {
  std::mutex mu;
  std::vector<std::string> frames;
  std::vector<std::size_t> frame_conn;  // connects count when each frame arrived
  std::vector<WsDisconnect> disconnects;
  std::vector<std::string> reasons;
  std::atomic<int> connects{0};
  std::atomic<int> stale{0};
  std::atomic<std::size_t> nframes{0};
  bool padding_ok = true;
  int slow_frames = 0;  // sleep 2 ms in the first N frames (slow reader)

  static void on_frame(void* ctx, const WsFrame& f) noexcept {
    auto* s = static_cast<Sink*>(ctx);
    if (s->slow_frames > 0) {
      --s->slow_frames;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::lock_guard lk(s->mu);
    s->frames.emplace_back(f.payload);
    s->frame_conn.push_back(static_cast<std::size_t>(s->connects.load()));
    if (f.padded_capacity < f.payload.size() + 64 || f.recv_tsc == 0) s->padding_ok = false;
    ++s->nframes;
  }
  WsHandlers handlers() {
    WsHandlers h;
    h.on_frame = &Sink::on_frame;
    h.ctx = this;
    h.on_connected = [this] { ++connects; };
    h.on_disconnected = [this](const WsDisconnect& d) {
      std::lock_guard lk(mu);
      disconnects.push_back(d);
      reasons.emplace_back(d.reason);
      disconnects.back().reason = reasons.back();
    };
    h.on_stale = [this](std::int64_t) { ++stale; };
    return h;
  }
  std::size_t count() { return nframes.load(); }
};

WsClientOptions binance_options(const WsTestServer& srv) {
  WsClientOptions o;
  o.url = srv.url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade");
  o.subscriptions = {kSubscribe};
  o.ping = PingPolicy::binance;
  o.tls.ca_file = srv.ca_file();
  o.connect_timeout_ns = 3'000'000'000;
  o.backoff.initial_ns = 5'000'000;
  o.backoff.max_ns = 50'000'000;
  o.backoff.seed = 42;
  return o;
}

// Polls the client (busy-poll mode) until `pred` holds or 5 s pass.
template <class Pred>
bool pump_until(WsClient& c, Pred pred, int timeout_ms = 5000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    c.poll_once();
    if (pred()) return true;
  }
  return pred();
}

std::size_t subscriptions_seen(const WsTestServer& srv) {
  std::size_t n = 0;
  for (const auto& t : srv.received()) n += t == kSubscribe;
  return n;
}

}  // namespace

TEST(FeedWsClient, ConnectsSubscribesAndDeliversRealFramesInOrder) {
  const auto& rec = recorded();
  ASSERT_EQ(rec.frames.size(), 2999u);
  WsTestServer srv(rec.frames);
  Sink sink;
  WsClient c(binance_options(srv), sink.handlers());
  c.start();
  ASSERT_TRUE(pump_until(c, [&] { return sink.connects == 1 && subscriptions_seen(srv) == 1; }));
  EXPECT_EQ(c.state(), WsState::connected);
  srv.send_next(500);
  ASSERT_TRUE(pump_until(c, [&] { return sink.count() == 500; }));
  for (std::size_t i = 0; i < 500; ++i) ASSERT_EQ(sink.frames[i], rec.frames[i]) << i;
  EXPECT_TRUE(sink.padding_ok);
  EXPECT_TRUE(c.socket_options().tcp_nodelay);
  EXPECT_EQ(c.stats().frames, 500u);
  ASSERT_EQ(srv.targets().size(), 1u);
  EXPECT_EQ(srv.targets()[0], "/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade");
  std::printf("socket options applied: %s\n", c.socket_options().to_string().c_str());
}

TEST(FeedWsClient, UntrustedSelfSignedCertificateFailsVerification) {
  WsTestServer srv(recorded().frames);
  Sink sink;
  WsClientOptions o = binance_options(srv);
  o.tls.ca_file.clear();  // system store only: the test server's certificate is not trusted
  WsClient c(o, sink.handlers());
  c.start();
  ASSERT_TRUE(pump_until(c, [&] {
    std::lock_guard lk(sink.mu);
    return !sink.disconnects.empty();
  }));
  std::lock_guard lk(sink.mu);
  EXPECT_EQ(sink.disconnects[0].cause, DisconnectCause::tls_failed);
  EXPECT_FALSE(sink.disconnects[0].was_connected);
  EXPECT_NE(sink.reasons[0].find("certificate verify failed"), std::string::npos) << sink.reasons[0];
  EXPECT_NE(sink.reasons[0].find("127.0.0.1"), std::string::npos) << sink.reasons[0];
  EXPECT_EQ(sink.connects, 0);
  EXPECT_EQ(srv.connections(), 0);

  // The HTTPS client refuses the same server with the same cause.
  HttpsOptions system_trust_only;
  HttpsClient https(system_trust_only);
  try {
    (void)https.get(srv.url("/fapi/v1/depth?symbol=BTCUSDT").replace(0, 3, "https"));
    FAIL() << "expected a verification error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos) << e.what();
  }
}

struct FaultCase {
  const char* name;
  DisconnectCause expect;
  Transport transport = Transport::asio;
};

class FeedWsClientFault : public ::testing::TestWithParam<FaultCase> {};

// After each fault the client reconnects, resubscribes, tells the owner (on_connected again) and the frames
// sent after the reconnect arrive in order.
TEST_P(FeedWsClientFault, RecoversAndResumes) {
  const FaultCase fc = GetParam();
  const auto& rec = recorded();
  WsTestServer srv(rec.frames);
  Sink sink;
  WsClientOptions o = binance_options(srv);
  o.max_frame_bytes = 64 * 1024;   // recorded WebSocket frames are far smaller
  o.stale_after_ns = 400'000'000;  // far above any scheduling stall, still a short test
  o.transport = fc.transport;
  WsClient c(o, sink.handlers());
  c.start();
  ASSERT_TRUE(pump_until(c, [&] { return sink.connects == 1 && subscriptions_seen(srv) == 1; }));
  srv.send_next(100);
  ASSERT_TRUE(pump_until(c, [&] { return sink.count() == 100; }));

  const std::string name = fc.name;
  if (name == "reset") {
    srv.fault(ServerFault::reset);
  } else if (name == "drop_without_close") {
    srv.fault(ServerFault::drop_without_close);
  } else if (name == "close_frame") {
    srv.fault(ServerFault::close_frame);
  } else if (name == "oversized") {
    srv.send_raw(std::string(64 * 1024 + 1, 'x'));
  }
  // "silence": nothing is sent; the stale detector must fire.

  ASSERT_TRUE(pump_until(c, [&] { return sink.connects == 2 && subscriptions_seen(srv) == 2; })) << name;
  {
    std::lock_guard lk(sink.mu);
    ASSERT_EQ(sink.disconnects.size(), 1u) << name;
    EXPECT_EQ(sink.disconnects[0].cause, fc.expect) << name << ": " << sink.reasons[0];
    EXPECT_TRUE(sink.disconnects[0].was_connected);
    EXPECT_GT(sink.disconnects[0].retry_in_ns, 0);
    EXPECT_LE(sink.disconnects[0].retry_in_ns, o.backoff.initial_ns);
    if (name == "oversized") {
      EXPECT_NE(sink.reasons[0].find("max_frame_bytes (65536)"), std::string::npos) << sink.reasons[0];
    }
    if (name == "close_frame") {
      EXPECT_NE(sink.reasons[0].find("close code 1001"), std::string::npos) << sink.reasons[0];
    }
  }
  EXPECT_EQ(sink.stale.load(), name == "silence" ? 1 : 0);
  EXPECT_EQ(c.stats().oversized_frames, name == "oversized" ? 1u : 0u);

  srv.send_next(100);
  ASSERT_TRUE(pump_until(c, [&] { return sink.count() == 200; })) << name;
  std::lock_guard lk(sink.mu);
  for (std::size_t i = 0; i < 200; ++i) ASSERT_EQ(sink.frames[i], rec.frames[i]) << name << " frame " << i;
  for (std::size_t i = 100; i < 200; ++i) ASSERT_EQ(sink.frame_conn[i], 2u);
  EXPECT_EQ(srv.connections(), 2);
}

INSTANTIATE_TEST_SUITE_P(Faults, FeedWsClientFault,
                         ::testing::Values(FaultCase{"reset", DisconnectCause::closed_by_peer},
                                           FaultCase{"drop_without_close", DisconnectCause::closed_by_peer},
                                           FaultCase{"close_frame", DisconnectCause::closed_by_peer},
                                           FaultCase{"oversized", DisconnectCause::frame_too_large},
                                           FaultCase{"silence", DisconnectCause::stale},
                                           // busy_poll: a read parked in the socket layer is aborted cleanly
                                           FaultCase{"reset", DisconnectCause::closed_by_peer, Transport::busy_poll},
                                           FaultCase{"close_frame", DisconnectCause::closed_by_peer,
                                                     Transport::busy_poll},
                                           FaultCase{"silence", DisconnectCause::stale, Transport::busy_poll},
                                           // io_uring: a receive still in flight in the ring is cancelled
                                           FaultCase{"reset", DisconnectCause::closed_by_peer, Transport::io_uring},
                                           FaultCase{"close_frame", DisconnectCause::closed_by_peer,
                                                     Transport::io_uring},
                                           FaultCase{"silence", DisconnectCause::stale, Transport::io_uring}),
                         [](const auto& info) {
                           return std::string(info.param.name) +
                                  (info.param.transport == Transport::asio ? "" : "_" + std::string(to_string(info.param.transport)));
                         });

TEST(FeedWsClient, SequenceGapAndInvalidJsonArePassedThroughWithoutDisconnect) {
  const auto& rec = recorded();
  WsTestServer srv(rec.frames);
  Sink sink;
  WsClient c(binance_options(srv), sink.handlers());
  c.start();
  ASSERT_TRUE(pump_until(c, [&] { return sink.connects == 1 && subscriptions_seen(srv) == 1; }));
  const std::string invalid = R"({"stream":"btcusdt@trade","data":{"e":"trade","p":)";
  srv.send_next(50);
  srv.skip(1);  // frame 50 never sent: the decoder/book layer sees the gap, the transport does not invent one
  srv.send_raw(invalid);
  srv.send_next(50);
  ASSERT_TRUE(pump_until(c, [&] { return sink.count() == 101; }));
  EXPECT_EQ(sink.frames[50], invalid);
  for (std::size_t i = 0; i < 50; ++i) ASSERT_EQ(sink.frames[i], rec.frames[i]);
  for (std::size_t i = 0; i < 50; ++i) ASSERT_EQ(sink.frames[51 + i], rec.frames[51 + i]);
  EXPECT_EQ(sink.connects, 1);
  EXPECT_TRUE(sink.disconnects.empty());
  EXPECT_EQ(c.state(), WsState::connected);
}

// Asynchronous mode (run() on its own thread) with a reader slower than the sender: TCP flow control
// holds the sender back; every frame arrives, in order, none dropped.
TEST(FeedWsClient, SlowReaderInAsyncModeLosesNothing) {
  const auto& rec = recorded();
  WsTestServer srv(rec.frames);
  Sink sink;
  sink.slow_frames = 50;
  WsClient c(binance_options(srv), sink.handlers());
  c.start();
  std::thread io([&] { c.run(); });
  auto wait = [&](auto pred) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!pred() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return pred();
  };
  EXPECT_TRUE(wait([&] { return sink.connects == 1 && subscriptions_seen(srv) == 1; }));
  srv.send_next(rec.frames.size());
  EXPECT_TRUE(wait([&] { return sink.count() == rec.frames.size(); }));
  c.stop();
  io.join();
  EXPECT_EQ(c.state(), WsState::stopped);
  std::lock_guard lk(sink.mu);
  ASSERT_EQ(sink.frames.size(), rec.frames.size());
  for (std::size_t i = 0; i < rec.frames.size(); ++i) ASSERT_EQ(sink.frames[i], rec.frames[i]) << i;
  EXPECT_EQ(sink.connects, 1);
  ASSERT_EQ(sink.disconnects.size(), 1u);
  EXPECT_EQ(sink.disconnects[0].cause, DisconnectCause::stopped);
}

TEST(FeedWsClient, BinanceServerPingsAreAnsweredWithPongControlFrames) {
  WsTestServer srv(recorded().frames);
  Sink sink;
  WsClient c(binance_options(srv), sink.handlers());
  c.start();
  ASSERT_TRUE(pump_until(c, [&] { return sink.connects == 1; }));
  for (int i = 0; i < 3; ++i) srv.send_ping();
  ASSERT_TRUE(pump_until(c, [&] { return srv.pongs_received() == 3; }))
      << "pongs received by the server: " << srv.pongs_received()
      << ", pings seen by the client: " << c.stats().server_pings;
  EXPECT_EQ(c.stats().server_pings, 3u);
  EXPECT_EQ(sink.count(), 0u);  // control frames are not data frames
}

TEST(FeedWsClient, KucoinBulletTokenWelcomeAndPingFlow) {
  // The documented bullet-public response with the endpoint pointed at the test server and short timings.
  std::string bullet = slurp(kBullet);
  ASSERT_FALSE(bullet.empty());
  const std::string token =
      bullet.substr(bullet.find("\"token\":\"") + 9,
                    bullet.find('"', bullet.find("\"token\":\"") + 9) - bullet.find("\"token\":\"") - 9);
  auto replace = [&](const std::string& from, const std::string& to) {
    const auto p = bullet.find(from);
    ASSERT_NE(p, std::string::npos) << from;
    bullet.replace(p, from.size(), to);
  };
  replace("wss://ws-api-futures.kucoin.com/", "{ENDPOINT}");
  replace("\"pingInterval\":18000", "\"pingInterval\":40");
  replace("\"pingTimeout\":10000", "\"pingTimeout\":1000");  // generous: the 2-core CI box stalls

  WsTestServerOptions so;
  so.kucoin_welcome = true;
  so.welcome_delay_ms = 50;
  so.bullet_body = bullet;
  WsTestServer srv(recorded().frames, so);
  Sink sink;
  WsClientOptions o;
  o.kucoin_bullet_url = "https://127.0.0.1:" + std::to_string(srv.port()) + "/api/v1/bullet-public";
  o.ping = PingPolicy::kucoin;
  o.connect_id = "enigmaTest1";
  const std::string sub = R"({"id":"1","type":"subscribe","topic":"/contractMarket/level2:XBTUSDTM","response":true})";
  o.subscriptions = {sub};
  o.tls.ca_file = srv.ca_file();
  o.backoff.initial_ns = 5'000'000;
  o.backoff.max_ns = 50'000'000;
  WsClient c(o, sink.handlers());
  c.start();
  ASSERT_TRUE(pump_until(c, [&] { return sink.connects == 1; }));
  EXPECT_EQ(srv.rest_requests(), 1);
  ASSERT_EQ(srv.targets().size(), 1u);
  EXPECT_EQ(srv.targets()[0], "/kucoin?token=" + token + "&connectId=enigmaTest1");
  // Pings every 40 ms, each answered with a pong the client passes on (the decoder reads it).
  auto pings = [&] {
    int n = 0;
    for (const auto& t : srv.received()) n += t.find(R"("type":"ping")") != std::string::npos;
    return n;
  };
  ASSERT_TRUE(pump_until(c, [&] { return pings() >= 3 && sink.count() >= 3; }));
  EXPECT_FALSE(srv.text_before_welcome());
  EXPECT_EQ(srv.received().at(0), sub);  // nothing was sent before the welcome, and the subscription first
  {
    std::lock_guard lk(sink.mu);
    EXPECT_EQ(sink.frames[0], R"({"id":"enigmaTest1","type":"welcome"})");
    EXPECT_NE(sink.frames[1].find(R"("type":"pong")"), std::string::npos);
  }
  EXPECT_EQ(sink.connects, 1);

  // Unanswered pings: dropped after pingTimeout, new token, new connection, subscribed again.
  srv.set_answer_pings(false);
  ASSERT_TRUE(pump_until(c, [&] {
    std::lock_guard lk(sink.mu);
    return !sink.disconnects.empty();
  }));
  srv.set_answer_pings(true);
  {
    std::lock_guard lk(sink.mu);
    EXPECT_EQ(sink.disconnects[0].cause, DisconnectCause::ping_timeout) << sink.reasons[0];
  }
  // on_connected means the subscription is queued on the socket, not that the server has read it yet.
  auto subs = [&] {
    std::size_t n = 0;
    for (const auto& t : srv.received()) n += t == sub;
    return n;
  };
  ASSERT_TRUE(pump_until(c, [&] { return sink.connects == 2 && subs() >= 2; })) << "subscriptions seen: " << subs();
  EXPECT_EQ(srv.rest_requests(), 2);
  EXPECT_EQ(srv.connections(), 2);
  EXPECT_EQ(subs(), 2u);
}

TEST(FeedWsClient, OkxIdlePingAndPongIsConsumed) {
  WsTestServer srv(recorded().frames);
  Sink sink;
  WsClientOptions o = binance_options(srv);
  o.ping = PingPolicy::okx;
  o.okx_idle_ping_ns = 40'000'000;
  o.ping_timeout_ns = 500'000'000;
  WsClient c(o, sink.handlers());
  c.start();
  ASSERT_TRUE(pump_until(c, [&] { return sink.connects == 1; }));
  auto pings = [&] {
    int n = 0;
    for (const auto& t : srv.received()) n += t == "ping";
    return n;
  };
  ASSERT_TRUE(pump_until(c, [&] { return pings() >= 2 && c.stats().pongs_consumed >= 2; }));
  EXPECT_EQ(sink.count(), 0u);  // "pong" is not JSON: consumed by the client
  EXPECT_EQ(sink.connects, 1);
  EXPECT_TRUE(sink.disconnects.empty());
}

// Kraken Futures wants a ping at least every 60 s: a WebSocket ping control frame every ping_interval_ns,
// answered by the server's pong control frame (consumed, not delivered). The pong proves the link, not the
// feed: with no data the stale detector still fires, although pongs kept arriving.
TEST(FeedWsClient, KrakenFuturesPingControlFramesEveryIntervalAndPongsAreNotData) {
  WsTestServer srv(recorded().frames);
  Sink sink;
  WsClientOptions o = binance_options(srv);
  o.ping = PingPolicy::kraken_futures;
  o.ping_interval_ns = 40'000'000;
  o.stale_after_ns = 600'000'000;
  WsClient c(o, sink.handlers());
  c.start();
  ASSERT_TRUE(pump_until(c, [&] { return sink.connects == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(pump_until(c, [&] { return srv.pings_received() >= 3 && c.stats().pongs_consumed >= 3; }));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(ms, 2 * 40.0 * 0.9) << "the third ping comes no sooner than two intervals after the first";
  EXPECT_EQ(sink.count(), 0u);  // control frames only: nothing delivered
  EXPECT_TRUE(sink.disconnects.empty());
  for (const auto& t : srv.received()) EXPECT_EQ(t, kSubscribe);  // no text ping
  ASSERT_TRUE(pump_until(c, [&] {
    std::lock_guard lk(sink.mu);
    return !sink.disconnects.empty();
  }));
  {
    std::lock_guard lk(sink.mu);
    EXPECT_EQ(sink.disconnects[0].cause, DisconnectCause::stale) << sink.reasons[0];
  }
  EXPECT_GE(c.stats().pongs_consumed, 6u) << "pongs kept coming while the feed was silent";
  EXPECT_LE(static_cast<std::uint64_t>(srv.pings_received()), c.stats().pings_sent);
}

TEST(FeedWsClient, BackoffIsExponentialJitteredBoundedAndSeeded) {
  Backoff::Options bo;
  bo.initial_ns = 100;
  bo.max_ns = 1600;
  bo.multiplier = 2.0;
  bo.jitter = 0.5;
  bo.seed = 7;
  Backoff a(bo), b(bo);
  bo.seed = 8;
  Backoff other(bo);
  bool differs = false;
  for (int k = 0; k < 12; ++k) {
    const std::int64_t base = std::min<std::int64_t>(1600, 100LL << k);
    const std::int64_t d = a.next_delay_ns();
    EXPECT_EQ(d, b.next_delay_ns());
    EXPECT_GT(d, base / 2 - 1) << k;
    EXPECT_LE(d, base) << k;
    differs |= d != other.next_delay_ns();
  }
  EXPECT_TRUE(differs);
  a.reset();
  EXPECT_LE(a.next_delay_ns(), 100);
  bo.jitter = 1.5;
  EXPECT_THROW(Backoff bad(bo), Error);
}

namespace {
struct VirtualClock {
  std::atomic<std::int64_t> t{1'000'000'000};
  static std::int64_t now(void* ctx) noexcept { return static_cast<VirtualClock*>(ctx)->t.load(); }
};
}  // namespace

// Reconnect attempts wait for the backoff on the injected clock: no attempt before the delay has passed.
TEST(FeedWsClient, ReconnectWaitsForBackoffOnInjectedClock) {
  std::uint16_t dead_port = 0;
  {
    WsTestServer gone(recorded().frames);
    dead_port = gone.port();
  }  // closed: connecting to it is refused
  VirtualClock vc;
  Sink sink;
  WsClientOptions o;
  o.url = "wss://127.0.0.1:" + std::to_string(dead_port) + "/ws";
  o.backoff.initial_ns = 1'000'000'000;  // 1 s of virtual time
  o.backoff.max_ns = 8'000'000'000;
  o.clock = WsClock{&VirtualClock::now, &vc};
  WsClient c(o, sink.handlers());
  c.start();
  for (int attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_TRUE(pump_until(c, [&] {
      std::lock_guard lk(sink.mu);
      return sink.disconnects.size() == static_cast<std::size_t>(attempt);
    }));
    std::int64_t retry = 0;
    {
      std::lock_guard lk(sink.mu);
      EXPECT_EQ(sink.disconnects.back().cause, DisconnectCause::connect_failed) << sink.reasons.back();
      retry = sink.disconnects.back().retry_in_ns;
    }
    const std::int64_t base = std::int64_t{1'000'000'000} << (attempt - 1);
    EXPECT_LE(retry, base);
    EXPECT_GE(retry, base / 2);
    // Real time passes, virtual time does not: no new attempt.
    for (int i = 0; i < 2000; ++i) c.poll_once();
    EXPECT_EQ(c.stats().connect_attempts, static_cast<std::uint64_t>(attempt));
    EXPECT_EQ(c.state(), WsState::backoff);
    vc.t += retry - 1;
    for (int i = 0; i < 100; ++i) c.poll_once();
    EXPECT_EQ(c.stats().connect_attempts, static_cast<std::uint64_t>(attempt));
    vc.t += 1;
    c.poll_once();
    EXPECT_EQ(c.stats().connect_attempts, static_cast<std::uint64_t>(attempt + 1));
  }
}

// Busy-poll read path after warm-up: no heap allocation per frame (buffers and handler memory reused).
TEST(FeedWsClient, NoAllocationPerFrameAfterWarmUp) {
  const auto& rec = recorded();
  WsTestServer srv(rec.frames);
  struct Counter {
    std::size_t n = 0;
    static void on_frame(void* ctx, const WsFrame&) noexcept { ++static_cast<Counter*>(ctx)->n; }
  } counter;
  WsHandlers h;
  h.on_frame = &Counter::on_frame;
  h.ctx = &counter;
  std::atomic<int> connects{0};
  h.on_connected = [&] { ++connects; };
  WsClient c(binance_options(srv), h);
  c.start();
  ASSERT_TRUE(pump_until(c, [&] { return connects == 1; }));
  srv.send_next(1000);  // warm-up: buffers grow to the largest frame size
  ASSERT_TRUE(pump_until(c, [&] { return counter.n == 1000; }));
  srv.send_next(1000);
  std::uint64_t allocs = 0;
  {
    enigma::test::AllocationScope scope;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (counter.n < 2000 && std::chrono::steady_clock::now() < end) c.poll_once();
    allocs = scope.count();
  }
  ASSERT_EQ(counter.n, 2000u);
  EXPECT_EQ(allocs, 0u) << "allocations while receiving 1000 frames";
}

// Book verification through the client: the owner rebuilds the Binance USD-M book from the replayed frames
// and a REST snapshot fetched over HTTPS after every (re)connect, and checks every bookTicker against the
// rebuilt best bid/ask at the same update id. Faults: reset, close frame, a dropped depth diff (gap).
TEST(FeedWsClient, BinanceBookVerifiesAgainAfterEachFault) {
  const auto& rec = recorded();
  WsTestServerOptions so;
  so.snapshot_body = rec.snapshot;
  WsTestServer srv(rec.frames, so);

  InstrumentRegistry registry;
  binance::Decoder decoder(Venue::binance_usdm, registry, /*auto_register=*/true);
  EventBuffer events;
  // The snapshot names no symbol; decode one BTCUSDT frame first so the instrument exists.
  {
    std::string probe = rec.frames[0];
    probe.append(64, ' ');
    ASSERT_TRUE(decoder.decode(std::string_view(probe.data(), rec.frames[0].size()), probe.size(), 1, events).ok());
  }
  const InstrumentId btc = events[0].h.instrument;
  events.clear();
  binance::BookSync sync(Venue::binance_usdm, btc);
  HttpsOptions ho;
  ho.tls.ca_file = srv.ca_file();
  HttpsClient https(ho);
  const std::string snapshot_url =
      "https://127.0.0.1:" + std::to_string(srv.port()) + "/fapi/v1/depth?symbol=BTCUSDT&limit=1000";

  struct Owner {
    binance::Decoder* decoder;
    binance::BookSync* sync;
    EventBuffer* events;
    std::vector<Bbo> pending;  // bookTickers waiting for their update id to be applied
    std::uint64_t checked = 0, mismatched = 0, published = 0, published_at_gap = 0;
    bool gap = false;
    void feed(const Event& e) {
      const std::uint64_t gaps_before = sync->stats().gaps;
      const SyncResult r = sync->on_event(e);
      if (r.need_snapshot && sync->stats().gaps > gaps_before && !gap) {
        gap = true;
        published_at_gap = published;
      }
      if (!r.book_changed) return;
      ++published;
      const std::uint64_t u = sync->last_seq();
      for (std::size_t i = 0; i < pending.size();) {
        if (pending[i].seq < u) {
          pending.erase(pending.begin() + static_cast<long>(i));  // its diff was covered by the snapshot
        } else if (pending[i].seq == u) {
          compare(pending[i]);
          pending.erase(pending.begin() + static_cast<long>(i));
        } else {
          ++i;
        }
      }
    }
    void compare(const Bbo& q) {
      const auto* bid = sync->book().best_bid();
      const auto* ask = sync->book().best_ask();
      const bool same = bid && ask && bid->price == q.bid_price && bid->qty == q.bid_qty && ask->price == q.ask_price &&
                        ask->qty == q.ask_qty;
      ++checked;
      mismatched += !same;
    }
    // A bookTicker usually precedes the diff with its update id (held until applied); when it follows it,
    // it is compared at once.
    void on_bbo(const Bbo& q) {
      if (sync->synced() && q.seq == sync->last_seq()) {
        compare(q);
      } else if (!sync->synced() || q.seq > sync->last_seq()) {
        pending.push_back(q);
      }
    }
    static void on_frame(void* ctx, const WsFrame& f) noexcept {
      auto* o = static_cast<Owner*>(ctx);
      o->events->clear();
      const DecodeResult r = o->decoder->decode(f.payload, f.padded_capacity, f.recv_tsc, *o->events);
      if (!r.ok()) return;
      for (const Event& e : *o->events) {
        if (e.h.type == EventType::bbo)
          o->on_bbo(e.bbo);
        else
          o->feed(e);
      }
    }
  } owner{&decoder, &sync, &events, {}};

  bool fetch_snapshot = false;
  WsHandlers h;
  h.on_frame = &Owner::on_frame;
  h.ctx = &owner;
  std::atomic<int> connects{0};
  h.on_connected = [&] {
    ++connects;
    // (Re)connected: the book is unknown. Forget it and fetch a snapshot.
    sync.reset();
    owner.pending.clear();
    owner.gap = false;
    fetch_snapshot = true;
  };
  WsClientOptions o = binance_options(srv);
  o.stale_after_ns = 600'000'000;  // above the blocking snapshot fetch on a loaded box
  WsClient c(o, h);
  c.start();

  // One session on a fresh connection: the server restarts its recorded stream (like a new subscription),
  // the owner applies a snapshot fetched over HTTPS, then `n` frames arrive (frame `drop` withheld).
  constexpr std::size_t kNoDrop = ~std::size_t{0};
  auto session = [&](std::size_t n, std::size_t drop) {
    ASSERT_TRUE(pump_until(c, [&] { return fetch_snapshot; }));
    fetch_snapshot = false;
    srv.seek(0);
    const HttpsResponse snap = https.get(snapshot_url);
    ASSERT_EQ(snap.status, 200);
    std::string body = snap.body;
    const std::size_t size = body.size();
    body.append(64, ' ');
    events.clear();
    ASSERT_TRUE(decoder.decode_snapshot(std::string_view(body.data(), size), body.size(), btc, rdtsc(), events).ok());
    for (const Event& e : events) owner.feed(e);
    const std::uint64_t expect = c.stats().frames + (drop < n ? n - 1 : n);
    if (drop < n) {
      srv.send_next(drop);
      srv.skip(1);
      srv.send_next(n - drop - 1);
    } else {
      srv.send_next(n);
    }
    ASSERT_TRUE(pump_until(c, [&] { return c.stats().frames >= expect; }));
  };

  // Frames 0..1499 hold 13 bookTickers whose update id is the last id of an applied diff (counted from the
  // capture with an independent script: snapshot lastUpdateId 5123107852948, diffs with u >= it).
  constexpr std::uint64_t kChecksPerSession = 13;
  session(1500, kNoDrop);
  EXPECT_TRUE(sync.synced());
  EXPECT_EQ(owner.checked, kChecksPerSession);
  EXPECT_EQ(owner.mismatched, 0u);

  for (const char* fault : {"reset", "drop_without_close", "close_frame", "silence"}) {
    const int before = connects.load();
    const std::uint64_t checked_before = owner.checked;
    if (std::string(fault) == "reset") srv.fault(ServerFault::reset);
    if (std::string(fault) == "drop_without_close") srv.fault(ServerFault::drop_without_close);
    if (std::string(fault) == "close_frame") srv.fault(ServerFault::close_frame);
    // "silence": nothing sent; the stale detector reconnects.
    ASSERT_TRUE(pump_until(c, [&] { return connects.load() == before + 1; })) << fault;
    EXPECT_FALSE(sync.synced()) << fault;  // reset on reconnect: nothing published until the snapshot aligns
    session(1500, kNoDrop);
    EXPECT_TRUE(sync.synced()) << fault;
    EXPECT_EQ(owner.checked - checked_before, kChecksPerSession) << fault;
    EXPECT_EQ(owner.mismatched, 0u) << fault;
  }

  // A dropped depth diff (the 100th of the session) on a live connection: the gap is detected, a snapshot
  // is asked for, and nothing is published after it.
  std::size_t drop = 0;
  for (std::size_t depth = 0; depth < 100; ++drop) depth += rec.frames[drop].find("depthUpdate") != std::string::npos;
  --drop;
  srv.fault(ServerFault::reset);
  const std::uint64_t checked_at_start = owner.checked;
  session(1500, drop);
  EXPECT_EQ(drop, 1050u);
  EXPECT_EQ(owner.checked - checked_at_start, 10u);  // the checks before the gap (same script), none after
  EXPECT_TRUE(owner.gap);
  EXPECT_FALSE(sync.synced());
  EXPECT_GT(owner.published_at_gap, 0u);
  EXPECT_EQ(owner.published, owner.published_at_gap);
  EXPECT_EQ(owner.mismatched, 0u);

  // Recovery: a new connection and snapshot verify again.
  const std::uint64_t checked_before = owner.checked;
  srv.fault(ServerFault::reset);
  session(1500, kNoDrop);
  EXPECT_TRUE(sync.synced());
  EXPECT_EQ(owner.checked - checked_before, kChecksPerSession);
  EXPECT_EQ(owner.mismatched, 0u);
}

TEST(FeedHttps, ParseUrlSplitsSchemeHostPortTarget) {
  ParsedUrl u = parse_url("wss://fstream.binance.com/stream?streams=btcusdt@depth@0ms");
  EXPECT_EQ(u.scheme, "wss");
  EXPECT_EQ(u.host, "fstream.binance.com");
  EXPECT_EQ(u.port, "443");
  EXPECT_EQ(u.target, "/stream?streams=btcusdt@depth@0ms");
  u = parse_url("https://127.0.0.1:8443");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, "8443");
  EXPECT_EQ(u.target, "/");
  u = parse_url("wss://ws-api-futures.kucoin.com?token=abc");
  EXPECT_EQ(u.target, "/?token=abc");
  u = parse_url("wss://[::1]:9443/ws");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, "9443");
  EXPECT_THROW((void)parse_url("fstream.binance.com/ws"), Error);
  EXPECT_THROW((void)parse_url("ftp://x/"), Error);
  EXPECT_THROW((void)parse_url("wss:///path"), Error);
}

TEST(FeedHttps, GetAndPostAgainstTheTestServer) {
  WsTestServerOptions so;
  so.snapshot_body = recorded().snapshot;
  so.bullet_body = R"({"code":"200000","data":{"endpoint":"{ENDPOINT}"}})";
  WsTestServer srv({}, so);
  HttpsOptions ho;
  ho.tls.ca_file = srv.ca_file();
  HttpsClient https(ho);
  const std::string base = "https://127.0.0.1:" + std::to_string(srv.port());
  const HttpsResponse snap = https.get(base + "/fapi/v1/depth?symbol=BTCUSDT&limit=1000");
  EXPECT_EQ(snap.status, 200);
  EXPECT_EQ(snap.body, recorded().snapshot);
  const HttpsResponse bullet = https.post(base + "/api/v1/bullet-public", "");
  EXPECT_EQ(bullet.status, 200);
  EXPECT_EQ(bullet.body,
            R"({"code":"200000","data":{"endpoint":"wss://127.0.0.1:)" + std::to_string(srv.port()) + R"(/kucoin"}})");
  EXPECT_EQ(https.get(base + "/nothing").status, 404);
  EXPECT_EQ(srv.rest_requests(), 3);
  try {
    (void)https.get("https://127.0.0.1:1/");
    FAIL() << "expected a connect error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("GET https://127.0.0.1:1/: connecting failed"), std::string::npos) << e.what();
  }
}

// Issue 12: every transport delivers the recorded frames unchanged, each stamped with the kernel's receive
// time (SO_TIMESTAMPING read by our own recvmsg under TLS), and allocates nothing per frame once warm.
class FeedWsTransport : public ::testing::TestWithParam<Transport> {};

TEST_P(FeedWsTransport, DeliversFramesWithKernelRxStampsAndNoAllocation) {
  const auto& rec = recorded();
  WsTestServer srv(rec.frames);
  struct Stamps {
    std::vector<std::string> frames;
    std::vector<std::int64_t> kernel_rx, seen_wall;
    std::size_t n = 0;
    bool record = true;
    static void on_frame(void* ctx, const WsFrame& f) noexcept {
      auto* s = static_cast<Stamps*>(ctx);
      ++s->n;
      if (!s->record) return;
      s->seen_wall.push_back(wall_ns());
      s->kernel_rx.push_back(f.kernel_rx_ns);
      s->frames.emplace_back(f.payload);
    }
  } st;
  st.frames.reserve(600);
  st.kernel_rx.reserve(600);
  st.seen_wall.reserve(600);
  WsHandlers h;
  h.on_frame = &Stamps::on_frame;
  h.ctx = &st;
  std::atomic<int> connects{0};
  h.on_connected = [&] { ++connects; };
  WsClientOptions o = binance_options(srv);
  o.transport = GetParam();
  WsClient c(o, h);
  c.start();
  ASSERT_TRUE(pump_until(c, [&] { return connects == 1; }));
  const SocketOptionReport so = c.socket_options();
  EXPECT_EQ(so.transport, GetParam());
  ASSERT_TRUE(so.rx_timestamping) << so.to_string();
  // The kernel turns software receive stamping on asynchronously (a deferred static key, when this is the first
  // socket on the host asking for it): packets that arrive before that carry no stamp. Frames one at a time
  // until one is stamped (bounded), then the 500 that must all be.
  for (int warm = 0; warm < 100 && (st.kernel_rx.empty() || st.kernel_rx.back() == 0); ++warm) {
    const std::size_t want = st.n + 1;
    srv.send_next(1);
    ASSERT_TRUE(pump_until(c, [&] { return st.n == want; }));
  }
  ASSERT_NE(st.kernel_rx.back(), 0) << "no kernel receive stamp after 100 frames";
  const std::size_t first = st.n;  // recorded frames already played
  st.frames.clear();
  st.kernel_rx.clear();
  st.seen_wall.clear();
  st.n = 0;
  const std::int64_t before_send = wall_ns();
  srv.send_next(500);
  ASSERT_TRUE(pump_until(c, [&] { return st.n == 500; }));
  for (std::size_t i = 0; i < 500; ++i) {
    ASSERT_EQ(st.frames[i], rec.frames[first + i]) << i;
    ASSERT_NE(st.kernel_rx[i], 0) << "frame " << i << " has no kernel receive stamp";
    // The kernel saw the bytes after the server was asked to send them and before our callback ran.
    EXPECT_GE(st.kernel_rx[i], before_send) << i;
    EXPECT_LE(st.kernel_rx[i], st.seen_wall[i]) << i;
    if (i > 0) EXPECT_GE(st.kernel_rx[i], st.kernel_rx[i - 1]) << "kernel stamps go backwards at frame " << i;
  }
  st.record = false;
  srv.send_next(1000);
  std::uint64_t allocs = 0;
  {
    enigma::test::AllocationScope scope;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (st.n < 1500 && std::chrono::steady_clock::now() < end) c.poll_once();
    allocs = scope.count();
  }
  ASSERT_EQ(st.n, 1500u);
  EXPECT_EQ(allocs, 0u) << "allocations while receiving 1000 frames over " << to_string(GetParam());
  // io_uring: the frames came through the ring's receives (at least one per batch the server wrote); the
  // other transports have none.
  if (GetParam() == Transport::io_uring) {
    EXPECT_GT(c.io_uring_receives(), 10u);
    EXPECT_EQ(so.to_string().find("transport=io_uring io_uring=multishot "), 0u) << so.to_string();
  } else {
    EXPECT_EQ(c.io_uring_receives(), 0u);
  }
  std::printf("%s\n", so.to_string().c_str());
}

INSTANTIATE_TEST_SUITE_P(Transports, FeedWsTransport, ::testing::Values(Transport::asio, Transport::busy_poll, Transport::io_uring),
                         [](const auto& info) { return std::string(to_string(info.param)); });
