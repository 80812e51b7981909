// Paper trading end to end against a real local TLS WebSocket server (Beast, self-signed certificate made
// at test time) that replays the recorded Binance USD-M session and serves its REST depth snapshot. The
// connection is dropped mid-session: the engine reconnects, fetches a new snapshot, and its rebuilt book
// agrees with the venue's bookTicker again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <thread>

#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "feed/capture_reader.hpp"
#include "tests/support/ws_test_server.hpp"

using namespace enigma;
using namespace enigma::engine;

namespace {

// A new journal file per run (a journal replays into the OMS at start-up, which a test must not inherit).
std::string fresh_journal() {
  static int n = 0;
  const std::string p = ::testing::TempDir() + "/enigma-journal-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".bin";
  std::remove(p.c_str());
  return p;
}

struct Recorded {
  std::vector<std::string> frames;  // WebSocket payloads in order
  std::string snapshot;             // the REST depth body recorded with them
};

Recorded load(std::size_t n) {
  Recorded r;
  feed::CaptureReader reader(std::string(ENIGMA_SOURCE_DIR) +
                             "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz");
  feed::CapturedFrame f;
  while (reader.next(f) && r.frames.size() < n) {
    if (f.kind == feed::FrameKind::rest_body) r.snapshot = std::string(f.payload);
    else r.frames.emplace_back(f.payload);
  }
  return r;
}

template <class Pred>
bool wait_for(Pred p, int ms = 10000) {
  for (int i = 0; i < ms / 5; ++i) {
    if (p()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace

TEST(EnginePaper, TradesLiveFramesAndRecoversFromADroppedConnection) {
  const Recorded rec = load(6000);
  ASSERT_FALSE(rec.snapshot.empty());
  enigma::testing::WsTestServerOptions so;
  so.snapshot_body = rec.snapshot;
  enigma::testing::WsTestServer server(rec.frames, so);

  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(rc.make_strategies());
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_journal();
  TradingCore core(registry, trading);
  PaperOptions pp;
  pp.ws.url = server.url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade");
  pp.ws.tls.ca_file = server.ca_file();
  pp.ws.ping = feed::PingPolicy::binance;
  pp.ws.backoff.initial_ns = 20'000'000;
  pp.snapshot_url = "https://127.0.0.1:" + std::to_string(server.port()) + "/fapi/v1/depth?symbol=BTCUSDT&limit=1000";
  const std::size_t first = 2000, second = rec.frames.size();
  pp.max_frames = first + second;
  pp.run_seconds = 60;  // bound, never reached when the test passes
  PipelineOptions po;
  po.venue = Venue::binance_usdm;
  po.progress = false;

  PipelineResult r;
  std::thread engine([&] { r = run_paper(pp, registry, strategies, core, po); });
  // Each session: one frame, so the engine asks for the snapshot; the rest once the snapshot was served
  // (a burst delivered before the snapshot would all be buffered and leave nothing to verify after it).
  ASSERT_TRUE(wait_for([&] { return server.live(); }));
  server.send_next(1);
  ASSERT_TRUE(wait_for([&] { return server.rest_requests() >= 1; }));
  server.send_next(first - 1);
  ASSERT_TRUE(wait_for([&] { return server.cursor() == first; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server.fault(enigma::testing::ServerFault::drop_without_close);  // what RFC 6455 calls 1006
  ASSERT_TRUE(wait_for([&] { return server.connections() >= 2 && server.live(); }));
  server.seek(0);  // the venue replays from a point the new snapshot covers
  server.send_next(1);
  ASSERT_TRUE(wait_for([&] { return server.rest_requests() >= 2; }));  // a fresh snapshot after the reconnect
  server.send_next(second - 1);
  engine.join();

  EXPECT_EQ(r.frames, first + second);
  EXPECT_EQ(r.decode_errors, 0u);
  EXPECT_GE(r.reconnects, 1u);
  EXPECT_GT(r.book_checks, 10u);         // venue bookTicker vs our book at the same update id
  EXPECT_EQ(r.book_mismatches, 0u);
  EXPECT_EQ(r.crossed, 0u);
}
