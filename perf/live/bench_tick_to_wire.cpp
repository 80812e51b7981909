// `enigma bench` plus its live loopback section (issue 12): the same run_bench as `enigma bench --config F`,
// with the section "Live loopback: tick-to-wire per transport" filled by live runs on this host. The local
// TLS venue is test code (tests/support/fake_binance.hpp: signed REST order entry checked against the test
// secret, its own order state, fills on a user-data WebSocket), so it is linked here and not into the
// `enigma` binary. scripts/bench.sh runs this.
//
// Per transport (asio, busy_poll, io_uring where the kernel allows it): `run_live` (the engine's live mode,
// fused) takes the bundled Binance USD-M session from a local TLS WebSocket server (market data in, the REST
// snapshot from the same server), trades it with the replay config's strategy through the TradingCore and
// LiveGateway to the venue (orders out) and takes the fills from the user-data stream (fills back). The
// market and order connections both use the transport. Tick-to-wire is the gateway's own histogram: the
// kernel's receive stamp of the frame that caused an order to the kernel's transmit stamp of that order.
//
//   bench_tick_to_wire --config config/replay.toml [--frames N] [--runs-dir DIR] [--quiet]
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/spsc_ring.hpp"
#include "engine/admin.hpp"
#include "engine/bench.hpp"
#include "engine/live_gateway.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "engine/trading_core.hpp"
#include "feed/uring.hpp"
#include "oms/venues/binance_futures.hpp"
#include "strategy/strategies/imbalance_taker.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/fake_binance.hpp"
#include "tests/support/ws_test_server.hpp"

using namespace enigma;
using namespace enigma::engine;

namespace {

// Waits up to `ms` of wall time for `p`, spinning with a yield (the pacing loop below must not sleep 5 ms).
template <class Pred>
bool spin_until(Pred p, int ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!p()) {
    if (std::chrono::steady_clock::now() > end) return false;
    sched_yield();
  }
  return true;
}

// One live loopback run on `transport`; empty `error` when it produced figures.
struct LoopbackRun {
  LiveTransportFigures figures;
  std::string error;
};

// The engine in live mode (`run_live`, fused) against the local TLS venue and a local market-data server, on
// one transport. `tune` changes the replay config's trading before the engine is built.
struct LoopbackRig {
  enigma::testing::FakeBinance venue;
  std::unique_ptr<enigma::testing::WsTestServer> market;
  RunConfig rc;
  InstrumentRegistry registry;
  std::unique_ptr<strategy::StrategyStage> strategies;
  std::unique_ptr<TradingCore> core;
  std::unique_ptr<LiveGateway> gateway;
  SpscRing<AdminCommand> admin{16};
  std::atomic<std::uint64_t> frames_taken{0};
  std::atomic<bool> stop{false};
  PipelineResult r;
  std::thread engine;
  std::size_t sent = 0;
  std::size_t total = 0;  // frames in the session

  LoopbackRig(const RunConfig& base, feed::Transport transport, const enigma::testing::RecordedSession& rec,
              const std::string& journal_path, const std::function<void(RunConfig&)>& tune = {})
      : rc(base), total(rec.frames.size()) {
    enigma::testing::WsTestServerOptions so;
    so.snapshot_body = rec.snapshot;
    market = std::make_unique<enigma::testing::WsTestServer>(rec.frames, so);
    // Wall time is data time here and the session plays in a few seconds: the strategy's cooldowns are cut so
    // that it trades often enough to give a distribution (the bench needs orders, not P&L).
    auto& st = rc.strategy_config<strategy::ImbalanceTakerConfig>();
    st.entry_imbalance = 0.3;
    st.confirm_updates = 1;
    st.cooldown_ns = 50'000'000;
    st.pending_timeout_ns = 50'000'000;
    if (tune) tune(rc);
    rc.fill_registry(registry);
    strategies = std::make_unique<strategy::StrategyStage>(rc.make_strategies());
    TradingCoreConfig trading = rc.trading;
    trading.journal_path = journal_path;
    std::filesystem::remove_all(trading.journal_path);
    core = std::make_unique<TradingCore>(registry, trading);
    LiveGatewayOptions go;
    go.rest_url = venue.rest_url();
    go.user_ws_url = venue.ws_url();
    go.api_key = enigma::testing::kKey;
    go.tls.ca_file = venue.ca_file();
    go.request_timeout_ns = 2'000'000'000;
    go.transport = transport;
    go.core = static_cast<int>(rc.live.gateway_core);  // [live] gateway_core of the bench's config, if any
    gateway = std::make_unique<LiveGateway>(registry, go);
  }
  ~LoopbackRig() { finish(); }

  // Connects the gateway, starts the engine and lets the first frame and the REST snapshot in; "" or why not.
  std::string start(feed::Transport transport) {
    core->go_live(*gateway, std::make_unique<oms::binance_futures::OrderEntry>(
                                registry, enigma::testing::kKey, oms::Secret(enigma::testing::kSecret),
                                oms::binance_futures::Config{"127.0.0.1:" + venue.rest_url().substr(venue.rest_url().rfind(':') + 1)}));
    gateway->start();
    if (!spin_until([&] { return gateway->stream_connected() && venue.stream_open(); }, 10'000))
      return "the user-data stream did not connect";
    PaperOptions pp;
    pp.ws.transport = transport;
    pp.ws.url = market->url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade");
    pp.ws.tls.ca_file = market->ca_file();
    pp.ws.ping = feed::PingPolicy::binance;
    pp.snapshot_url = "https://127.0.0.1:" + std::to_string(market->port()) + "/fapi/v1/depth?symbol=BTCUSDT&limit=1000";
    pp.ws_frames_taken = &frames_taken;
    pp.run_seconds = 120;  // bound; the run ends on `stop`
    PipelineOptions po;
    po.venue = Venue::binance_usdm;
    po.progress = false;
    po.admin = &admin;
    po.stop = &stop;
    engine = std::thread([this, pp, po] { r = run_live(pp, registry, *strategies, *core, po, 2'000'000'000); });
    if (!spin_until([&] { return market->live(); }, 10'000)) return "the local market-data server stalled";
    market->send_next(1);
    sent = 1;
    // The engine holds the REST snapshot before the diffs that follow it (one frame + the snapshot).
    if (!spin_until([&] { return frames_taken.load(std::memory_order_acquire) >= 2; }, 30'000))
      return "the engine did not take the first frame and the snapshot";
    return {};
  }
  // `n` more frames, written out before this returns; false when the server stalled or the session ended.
  bool send(std::size_t n) {
    n = std::min(n, total - sent);
    if (n == 0) return false;
    market->send_next(n);
    sent += n;
    return spin_until([&] { return market->cursor() == sent && market->queued() == 0; }, 10'000);
  }
  void finish() {
    stop = true;
    if (engine.joinable()) engine.join();
    if (gateway) gateway->stop();
  }
};

LoopbackRun run_loopback(const RunConfig& base, feed::Transport transport, const enigma::testing::RecordedSession& rec,
                         const std::string& run_dir) {
  LoopbackRun out;
  out.figures.transport = std::string(feed::to_string(transport));
  LoopbackRig rig(base, transport, rec, run_dir + "/live-" + out.figures.transport + ".journal");
  out.error = rig.start(transport);
  // The session at about 20 k frames/s in groups of 4, each group written out before the next: an order's
  // frame meets an engine that has caught up, as on a venue feed, not a backlog of thousands of frames.
  bool paced = out.error.empty();
  while (paced && rig.sent < rec.frames.size()) {
    paced = rig.send(4);
    std::this_thread::sleep_for(std::chrono::microseconds(150));
  }
  if (out.error.empty() && !paced) out.error = "the local market-data server stalled";
  spin_until([&] { return rig.frames_taken.load(std::memory_order_acquire) >= rig.sent + 1; }, 10'000);
  rig.finish();

  out.figures.orders = rig.core->counters().orders;
  out.figures.signed_to_kernel.merge(rig.gateway->signed_to_kernel_latency());
  out.figures.tick_to_wire.merge(rig.gateway->tick_to_wire_latency());
  if (out.error.empty() && out.figures.tick_to_wire.count() == 0) out.error = "no order carried a tick-to-wire (no kernel stamps?)";
  if (rig.venue.bad_signatures() != 0) out.error = "the venue refused " + std::to_string(rig.venue.bad_signatures()) + " signature(s)";
  if (out.figures.tick_to_wire.count() != 0)
    std::ofstream(run_dir + "/live-" + out.figures.transport + ".tick_to_wire.hgrm") << out.figures.tick_to_wire.hgrm(1000.0);
  std::fprintf(stderr, "enigma bench: live loopback %s: %llu orders, %llu with tick-to-wire, frames %llu/%zu%s%s\n",
               out.figures.transport.c_str(), static_cast<unsigned long long>(out.figures.orders),
               static_cast<unsigned long long>(out.figures.tick_to_wire.count()),
               static_cast<unsigned long long>(rig.frames_taken.load()), rec.frames.size() + 1, out.error.empty() ? "" : ": ",
               out.error.c_str());
  return out;
}

// The kill switch on `transport`, `kills` times: entries priced at the 9th book level rest at the venue
// (3 or more), POST /kill's command reaches the OMS, every resting entry is cancelled (one batch cancel), then
// the kill is reset and trading resumes until entries rest again. Fills the kill figures of `figures`.
std::string measure_kills(const RunConfig& base, feed::Transport transport, const enigma::testing::RecordedSession& rec,
                          const std::string& run_dir, int kills, LiveTransportFigures& figures) {
  LoopbackRig rig(base, transport, rec, run_dir + "/kill-" + figures.transport + ".journal",
                  [](RunConfig& rc) { rc.trading.entry_by_strategy[0].mode = oms::EntryMode::level; });
  rig.venue.set_rest_limits(true);
  if (std::string e = rig.start(transport); !e.empty()) return e;
  const auto resting = [&] {
    std::size_t n = 0;
    for (const auto& [id, o] : rig.venue.orders()) n += o.status == "NEW" && o.type == "LIMIT";
    return n;
  };
  std::string error;
  for (int k = 0; k < kills && error.empty(); ++k) {
    while (resting() < 3 && error.empty()) {
      if (!rig.send(50)) error = "the session ended after " + std::to_string(k) + " kills";
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!error.empty()) break;
    figures.kill_cancels += resting();
    (void)rig.admin.try_push(AdminCommand{AdminCommandKind::kill, 1});
    rig.send(1);  // the OMS takes its commands between frames
    if (!spin_until([&] { return resting() == 0; }, 10'000)) error = "the kill left entries resting";
    ++figures.kills;
    (void)rig.admin.try_push(AdminCommand{AdminCommandKind::kill_reset, 1});
    (void)rig.admin.try_push(AdminCommand{AdminCommandKind::trading_start, 1});
  }
  rig.finish();
  figures.kill_to_wire.merge(rig.gateway->kill_to_wire_latency());
  if (rig.venue.bad_signatures() != 0) error = "the venue refused " + std::to_string(rig.venue.bad_signatures()) + " signature(s)";
  std::fprintf(stderr, "enigma bench: kill switch %s: %llu kills, %llu entries cancelled in %llu request(s)%s%s\n",
               figures.transport.c_str(), static_cast<unsigned long long>(figures.kills),
               static_cast<unsigned long long>(figures.kill_cancels),
               static_cast<unsigned long long>(figures.kill_to_wire.count()), error.empty() ? "" : ": ", error.c_str());
  return error;
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_tick_to_wire --config FILE [--frames N] [--recorded-seconds S] [--runs-dir DIR] [--quiet]\n"
               "  `enigma bench --config FILE` plus live loopback runs against the local TLS test venue, one per\n"
               "  transport (asio, busy_poll, io_uring): tick-to-wire (kernel rx of a frame -> kernel tx of its order)\n"
               "  in the bench report's live section. --frames: frames of the bundled session per run (default 30000);\n"
               "  --recorded-seconds: data time of the recorded-pace replays (default 20; 0: none, as enigma bench's);\n"
               "  --runs-dir: where the bench's run directory is made (default: the config's, runs)\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config;
  std::size_t frames = 30'000;
  std::string runs_dir;
  long long recorded_seconds = 20;
  bool quiet = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      config = argv[++i];
    } else if (a == "--frames" && i + 1 < argc) {
      char* end = nullptr;
      const unsigned long long v = std::strtoull(argv[++i], &end, 10);
      if (end == argv[i] || *end != '\0' || v < 1000) {
        std::fprintf(stderr, "bench_tick_to_wire: --frames wants a number >= 1000, got '%s'\n", argv[i]);
        return 2;
      }
      frames = v;
    } else if (a == "--recorded-seconds" && i + 1 < argc) {
      char* end = nullptr;
      recorded_seconds = std::strtoll(argv[++i], &end, 10);
      if (end == argv[i] || *end != '\0' || recorded_seconds < 0 || recorded_seconds > 3600) {
        std::fprintf(stderr, "bench_tick_to_wire: --recorded-seconds wants 0..3600, got '%s'\n", argv[i]);
        return 2;
      }
    } else if (a == "--runs-dir" && i + 1 < argc) {
      runs_dir = argv[++i];
    } else if (a == "--quiet") {
      quiet = true;
    } else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else {
      std::fprintf(stderr, "bench_tick_to_wire: unknown argument '%s'\n", a.c_str());
      return usage();
    }
  }
  if (config.empty()) return usage();
  RunConfig rc;
  try {
    rc = RunConfig::load(config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_tick_to_wire: %s\n", e.what());
    return 3;
  }
  if (!runs_dir.empty()) rc.runs_dir = runs_dir;
  BenchOptions bo;
  bo.recorded_pace_window_ns = recorded_seconds * 1'000'000'000LL;
  bo.live = [&rc, frames](const std::string& run_dir) {
    const enigma::testing::RecordedSession rec = enigma::testing::load_binance_session(frames);
    std::vector<LiveTransportFigures> out;
    for (const feed::Transport t : {feed::Transport::asio, feed::Transport::busy_poll, feed::Transport::io_uring}) {
      if (t == feed::Transport::io_uring && !feed::uring_unavailable_reason().empty()) {
        std::fprintf(stderr, "enigma bench: live loopback io_uring skipped: %s\n", feed::uring_unavailable_reason().c_str());
        continue;
      }
      LoopbackRun run = run_loopback(rc, t, rec, run_dir);
      if (!run.error.empty()) continue;
      (void)measure_kills(rc, t, rec, run_dir, 20, run.figures);  // its figures stay empty on failure
      out.push_back(std::move(run.figures));
    }
    return out;
  };
  bo.live_method = "Each transport: one `run_live` (fused, the config's [engine] layout) against the local TLS test venue "
                   "(tests/support/fake_binance.hpp: signed REST orders verified, fills on its user-data stream), the first " +
                   std::to_string(frames) +
                   " frames of the bundled Binance USD-M session played by a local TLS WebSocket server in groups of 4 "
                   "every ~150 us, the market and order connections on that transport. `with tick-to-wire`: the orders sent "
                   "while their frame was handled (a bracket's legs go out on fills and are not counted there). Every "
                   "thread of the run (engine, gateway, both servers' io threads, the pacing thread) shares this host's "
                   "CPUs; on a 2-core VM the spinning transports compete with the servers for them.";
  try {
    return run_bench(rc, quiet, bo);
  } catch (const std::exception& e) {  // a data file that cannot be read, a run directory that cannot be made
    std::fprintf(stderr, "bench_tick_to_wire: %s\n", e.what());
    return 3;
  }
}
