// A `paper` engine wired to the local TLS WebSocket venue (tests/support/ws_test_server), for the load tests
// (stress, soak): the bundled Binance USD-M session is served frame by frame on the test's command, the
// engine runs on its own thread, and its admin endpoint reports how many frames it has taken in. Also the
// process probes the load tests report: resident memory and open file descriptors.
#pragma once

#include <gtest/gtest.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include "engine/admin.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "engine/status.hpp"
#include "feed/capture_reader.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/ws_test_server.hpp"

namespace enigma::testing {

// Resident set size of this process in bytes (/proc/self/statm), 0 when unreadable. Freed heap memory is
// returned to the kernel first (malloc_trim), so the figure shows what is still in use, not what glibc kept.
inline std::uint64_t rss_bytes() {
  ::malloc_trim(0);
  std::ifstream f("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// Open file descriptors of this process (entries of /proc/self/fd, the directory's own fd not counted).
inline int open_fds() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n - 1;
}

// The busiest second of a capture: WebSocket frames per receive-time second, the largest count.
inline std::uint64_t peak_frames_per_second(const std::string& capture) {
  feed::CaptureReader reader(capture);
  feed::CapturedFrame f;
  std::map<std::int64_t, std::uint64_t> per_second;
  while (reader.next(f))
    if (f.kind == feed::FrameKind::ws_received && f.recv_ns > 0) ++per_second[f.recv_ns / 1'000'000'000];
  std::uint64_t peak = 0;
  for (const auto& [second, n] : per_second) peak = std::max(peak, n);
  return peak;
}

// A positive number from the environment, or `fallback` when unset or not a positive number.
inline double env_seconds(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr) return fallback;
  const double d = std::atof(v);
  return d > 0 ? d : fallback;
}

// One `paper` engine against one local venue. Construct, adjust `paper` / `pipeline` / `trading` if needed,
// then start(); stop() (or the destructor) ends the run and joins the engine thread.
class PaperRig {
 public:
  explicit PaperRig(const RecordedSession& session, const std::string& tag)
      : server_(session.frames, server_options(session)),
        config_(engine::RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml")),
        run_dir_(fresh_path(tag)) {
    config_.fill_registry(registry);
    trading = config_.trading;
    std::filesystem::create_directories(run_dir_);
    trading.journal_path = run_dir_ + "/journal.bin";
    paper.ws.url = server_.url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade");
    paper.ws.tls.ca_file = server_.ca_file();
    paper.ws.ping = feed::PingPolicy::binance;
    paper.ws.backoff.initial_ns = 20'000'000;
    paper.snapshot_url =
        "https://127.0.0.1:" + std::to_string(server_.port()) + "/fapi/v1/depth?symbol=BTCUSDT&limit=1000";
    paper.record.dir = run_dir_;  // the recorder's drop counter is part of "nothing dropped silently"
    paper.ws_frames_taken = &taken_;
    pipeline.venue = Venue::binance_usdm;
    pipeline.progress = false;
    pipeline.stop = &stop_flag_;
  }
  // Removes the run directory (journal, recording: tens of MB per run) once the engine is gone.
  ~PaperRig() {
    stop();
    status_.reset();
    admin_.reset();
    core_.reset();
    std::error_code ec;
    std::filesystem::remove_all(run_dir_, ec);
  }
  PaperRig(const PaperRig&) = delete;
  PaperRig& operator=(const PaperRig&) = delete;

  // Starts the engine thread and waits until the venue's WebSocket is live; false when it never connects.
  bool start() {
    strategies_ = std::make_unique<strategy::StrategyStage>(config_.make_strategies());
    core_ = std::make_unique<engine::TradingCore>(registry, trading);
    admin_ = std::make_unique<engine::AdminServer>("127.0.0.1", 0, "", admin_ring_);
    admin_->start();
    status_ = std::make_unique<engine::StatusPublisher>(*admin_, registry, "paper", 5'000'000);
    pipeline.status = status_.get();
    engine_ = std::thread([this] {
      try {
        result_ = engine::run_paper(paper, registry, *strategies_, *core_, pipeline);
      } catch (const std::exception& e) {
        error_ = e.what();
      }
      done_.store(true);
    });
    return wait_for([&] { return server_.live(); });
  }

  // Sends the first frame and waits for the REST snapshot request that frame triggers, then for the engine
  // to have taken that frame and the snapshot in. Frames sent before the snapshot is in are only buffered:
  // a flood of them (stress, unpaced) overflows that buffer when the fetch waits for a CPU, and every resync
  // then meets this venue's one recorded snapshot again (no book check for the rest of the run).
  bool open_session() {
    const int before = server_.rest_requests();
    const std::uint64_t taken = taken_.load(std::memory_order_acquire);
    server_.send_next(1);
    return wait_for([&] { return server_.rest_requests() > before; }) &&
           wait_for([&] { return taken_.load(std::memory_order_acquire) >= taken + 2; }, 30000);
  }

  // Frames the engine has taken in, from its admin endpoint (-1 while it does not answer).
  long long frames_taken() const { return json_number(http_get_or_empty(admin_->port(), "/status"), "frames"); }
  std::uint16_t admin_port() const { return admin_->port(); }
  // The engine thread has returned (max_frames, run_seconds, stop or an exception).
  bool engine_done() const { return done_.load(); }

  // Ends the run (the engine stops after its current frame) and joins it; idempotent.
  const engine::PipelineResult& stop() {
    stop_flag_.store(true);
    if (engine_.joinable()) engine_.join();
    if (admin_) admin_->stop();
    return result_;
  }
  // Joins an engine that ends by itself (paper.max_frames); bounded by paper.run_seconds.
  const engine::PipelineResult& join() {
    if (engine_.joinable()) engine_.join();
    if (admin_) admin_->stop();
    return result_;
  }

  WsTestServer& server() { return server_; }
  engine::TradingCore& core() { return *core_; }
  const std::string& error() const { return error_; }  // what ended the engine thread by an exception
  const std::string& run_dir() const { return run_dir_; }

  InstrumentRegistry registry;
  engine::TradingCoreConfig trading;
  engine::PaperOptions paper;
  engine::PipelineOptions pipeline;

 private:
  static WsTestServerOptions server_options(const RecordedSession& session) {
    WsTestServerOptions o;
    o.snapshot_body = session.snapshot;
    return o;
  }

  WsTestServer server_;
  engine::RunConfig config_;
  std::string run_dir_;
  std::unique_ptr<strategy::StrategyStage> strategies_;
  std::unique_ptr<engine::TradingCore> core_;
  SpscRing<engine::AdminCommand> admin_ring_{16};
  std::unique_ptr<engine::AdminServer> admin_;
  std::unique_ptr<engine::StatusPublisher> status_;
  std::atomic<bool> stop_flag_{false};
  std::atomic<bool> done_{false};
  std::atomic<std::uint64_t> taken_{0};  // WebSocket frames + REST snapshots the engine took in (paper.ws_frames_taken)
  std::thread engine_;
  engine::PipelineResult result_;
  std::string error_;
};

}  // namespace enigma::testing
