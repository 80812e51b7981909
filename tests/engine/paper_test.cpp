// Paper trading end to end against a real local TLS WebSocket server (Beast, self-signed certificate made
// at test time) that replays the recorded Binance USD-M session and serves its REST depth snapshot. The
// connection is dropped mid-session: the engine reconnects, fetches a new snapshot, and its rebuilt book
// agrees with the venue's bookTicker again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <thread>

#include "engine/admin.hpp"
#include "engine/pipeline.hpp"
#include "engine/status.hpp"
#include "engine/run_config.hpp"
#include "feed/capture_reader.hpp"
#include "feed/uring.hpp"
#include "tests/support/ws_test_server.hpp"
#include "tests/support/engine_test_support.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::fresh_path;
using enigma::testing::wait_for;

// Every market-data transport trades the same session and recovers from the same dropped connection.
class EnginePaperTransport : public ::testing::TestWithParam<feed::Transport> {};

TEST_P(EnginePaperTransport, TradesLiveFramesAndRecoversFromADroppedConnection) {
  if (GetParam() == feed::Transport::io_uring && !feed::uring_unavailable_reason().empty())
    GTEST_SKIP() << "this kernel refuses io_uring: " << feed::uring_unavailable_reason();
  const enigma::testing::RecordedSession rec = enigma::testing::load_binance_session(6000);
  ASSERT_FALSE(rec.snapshot.empty());
  enigma::testing::WsTestServerOptions so;
  so.snapshot_body = rec.snapshot;
  enigma::testing::WsTestServer server(rec.frames, so);

  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(rc.make_strategies());
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_path("journal");
  TradingCore core(registry, trading);
  PaperOptions pp;
  pp.ws.url = server.url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade");
  pp.ws.tls.ca_file = server.ca_file();
  pp.ws.ping = feed::PingPolicy::binance;
  pp.ws.backoff.initial_ns = 20'000'000;
  pp.ws.transport = GetParam();
  pp.snapshot_url = "https://127.0.0.1:" + std::to_string(server.port()) + "/fapi/v1/depth?symbol=BTCUSDT&limit=1000";
  const std::size_t first = 2000, second = rec.frames.size();
  pp.max_frames = first + second;
  pp.run_seconds = 60;  // bound, never reached when the test passes
  PipelineOptions po;
  po.venue = Venue::binance_usdm;
  po.progress = false;

  // The engine's own status snapshot says how many frames it has taken in (a slow build, e.g. under TSan,
  // reads behind the server's cursor).
  SpscRing<AdminCommand> ring(16);
  AdminServer admin("127.0.0.1", 0, "", ring);
  admin.start();
  StatusPublisher status(admin, registry, "paper", 5'000'000);
  po.status = &status;
  const auto frames_taken = [&] {
    return enigma::testing::json_number(enigma::testing::http_get_or_empty(admin.port(), "/status"), "frames");
  };

  PipelineResult r;
  std::thread engine([&] { r = run_paper(pp, registry, strategies, core, po); });
  // Each session: one frame, so the engine asks for the snapshot; the rest once the snapshot was served
  // (a burst delivered before the snapshot would all be buffered and leave nothing to verify after it).
  // Waiting for the request alone was not enough under TSan: a slow snapshot answer let the burst overflow
  // the diff buffer, the engine asked again, and the second session's wait then passed before its own.
  ASSERT_TRUE(wait_for([&] { return server.live(); }));
  server.send_next(1);
  ASSERT_TRUE(wait_for([&] { return server.snapshots_served() >= 1; }));
  server.send_next(first - 1);
  ASSERT_TRUE(wait_for([&] { return server.cursor() == first; }));
  ASSERT_TRUE(wait_for([&] { return frames_taken() >= static_cast<long long>(first); }, 30000)) << "the engine took in " << frames_taken();
  server.fault(enigma::testing::ServerFault::drop_without_close);  // what RFC 6455 calls 1006
  ASSERT_TRUE(wait_for([&] { return server.connections() >= 2 && server.live(); }));
  const int served = server.snapshots_served();
  server.seek(0);  // the venue replays from a point the new snapshot covers
  server.send_next(1);
  ASSERT_TRUE(wait_for([&] { return server.snapshots_served() > served; }));  // a fresh snapshot after the reconnect
  server.send_next(second - 1);
  engine.join();

  EXPECT_EQ(r.frames, first + second);
  EXPECT_EQ(r.decode_errors, 0u);
  EXPECT_GE(r.reconnects, 1u);
  EXPECT_GT(r.book_checks, 10u);         // venue bookTicker vs our book at the same update id
  EXPECT_EQ(r.book_mismatches, 0u);
  EXPECT_EQ(r.crossed, 0u);
}

INSTANTIATE_TEST_SUITE_P(Transports, EnginePaperTransport,
                         ::testing::Values(feed::Transport::asio, feed::Transport::busy_poll, feed::Transport::io_uring),
                         [](const auto& info) { return std::string(feed::to_string(info.param)); });

// The feed goes quiet while connected: after [supervisor] feed_down_s without a frame the engine runs its
// emergency sequence (and, at the stop, leaves nothing unprotected).
TEST(EnginePaper, AFeedDownLongerThanTheLimitRaisesTheEmergencyStop) {
  const enigma::testing::RecordedSession rec = enigma::testing::load_binance_session(3000);
  enigma::testing::WsTestServerOptions so;
  so.snapshot_body = rec.snapshot;
  enigma::testing::WsTestServer server(rec.frames, so);
  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(rc.make_strategies());
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_path("journal");
  trading.supervisor.feed_down_ns = 1'000'000'000;
  TradingCore core(registry, trading);
  PaperOptions pp;
  pp.ws.url = server.url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade");
  pp.ws.tls.ca_file = server.ca_file();
  pp.ws.stale_after_ns = 0;  // the engine's own feed-down limit is under test, not the reconnect
  pp.snapshot_url = "https://127.0.0.1:" + std::to_string(server.port()) + "/fapi/v1/depth?symbol=BTCUSDT&limit=1000";
  pp.run_seconds = 30;  // bound
  PipelineOptions po;
  po.venue = Venue::binance_usdm;
  po.progress = false;
  std::atomic<bool> stop{false};
  po.stop = &stop;
  PipelineResult r;
  std::thread engine([&] { r = run_paper(pp, registry, strategies, core, po); });
  ASSERT_TRUE(wait_for([&] { return server.live(); }));
  server.send_next(1);
  ASSERT_TRUE(wait_for([&] { return server.rest_requests() >= 1; }));
  server.send_next(999);
  ASSERT_TRUE(wait_for([&] { return server.cursor() == 1000; }));
  // Silence for 2.5 s against a 1 s limit (the check runs between frames on the engine's thread).
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  stop.store(true);
  engine.join();
  EXPECT_EQ(r.frames, 1000u);
  EXPECT_EQ(core.emergency_count(EmergencyCause::feed_down), 1u);
  EXPECT_EQ(core.unprotected_positions(), 0u);
  EXPECT_EQ(core.position(0).qty, Qty{});
}
