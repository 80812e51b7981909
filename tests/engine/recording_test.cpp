// Paper records its own session (every WebSocket frame and REST snapshot body with its receive time), and
// the recording replays through run_pipeline to the same book checks and the same trades as the paper run
// that made it: the replay meets the same bytes at the same data times. Paper runs against the local TLS
// WebSocket server playing the bundled Binance USD-M session.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "feed/recorder.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/enigma_process.hpp"
#include "tests/support/ws_test_server.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::Child;
using enigma::testing::fresh_path;
using enigma::testing::slurp;
using enigma::testing::wait_for;

namespace {

// The engine of one run, built from config/replay.toml (the same strategy and simulated exchange for the
// paper run and its replay).
struct Engine {
  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  InstrumentRegistry registry;
  std::unique_ptr<strategy::StrategyStage> strategies;
  std::unique_ptr<TradingCore> core;
  PipelineOptions po;
  Engine() {
    // The session arrives in about a second of wall time (its data time), so the default 2 s cooldown and
    // 5 s pending wait would allow one entry; the comparison wants dozens of trades.
    rc.strategy_config<strategy::ImbalanceTakerConfig>().cooldown_ns = 0;
    rc.strategy_config<strategy::ImbalanceTakerConfig>().stop_ticks =
        5;  // tight stops: positions close (and reopen) within the session
    rc.strategy_config<strategy::ImbalanceTakerConfig>().entry_imbalance = 0.4;
    rc.strategy_config<strategy::ImbalanceTakerConfig>().exit_imbalance = 0.2;
    rc.strategy_config<strategy::ImbalanceTakerConfig>().confirm_updates = 1;
    rc.strategy_config<strategy::ImbalanceTakerConfig>().pending_timeout_ns = 2'000'000;
    // The message budgets count data time, which the burst compresses about 80-fold.
    rc.trading.risk.strategy_submit = {100'000, 1'000};
    rc.trading.risk.strategy_cancel = {100'000, 1'000};
    rc.trading.risk.venue_submit = {100'000, 1'000};
    rc.trading.risk.venue_cancel = {100'000, 1'000};
    rc.fill_registry(registry);
    strategies = std::make_unique<strategy::StrategyStage>(rc.make_strategies());
    TradingCoreConfig trading = rc.trading;
    trading.journal_path = fresh_path("journal");
    core = std::make_unique<TradingCore>(registry, trading);
    po.venue = Venue::binance_usdm;
    po.traded = rc.strategy.common().instrument;
    po.progress = false;
  }
};

struct PaperRun {
  PipelineResult result;
  std::vector<TradeRow> trades;
};

// Paper against the local server for `frames` frames of the bundled session, recorded per `rec`.
PaperRun run_recorded_paper(std::size_t frames, const feed::SessionRecorderOptions& rec) {
  const enigma::testing::RecordedSession session = enigma::testing::load_binance_session(frames);
  enigma::testing::WsTestServerOptions so;
  so.snapshot_body = session.snapshot;
  enigma::testing::WsTestServer server(session.frames, so);
  Engine e;
  PaperOptions pp;
  pp.ws.url = server.url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade");
  pp.ws.tls.ca_file = server.ca_file();
  pp.ws.stale_after_ns = 0;  // the server pauses while the snapshot is served: not a stale feed
  pp.snapshot_url = "https://127.0.0.1:" + std::to_string(server.port()) + "/fapi/v1/depth?symbol=BTCUSDT&limit=1000";
  pp.max_frames = session.frames.size();  // WebSocket frames (the snapshot body is not counted in frames)
  pp.run_seconds = 60;                    // bound, never reached when the test passes
  pp.record = rec;
  std::atomic<std::uint64_t> frames_taken{0};
  pp.ws_frames_taken = &frames_taken;
  PaperRun out;
  std::thread engine([&] { out.result = run_paper(pp, e.registry, *e.strategies, *e.core, e.po); });
  // One frame, so the engine asks for the snapshot; the rest once it was served.
  EXPECT_TRUE(wait_for([&] { return server.live(); }));
  server.send_next(1);
  EXPECT_TRUE(wait_for([&] { return server.rest_requests() >= 1; }));
  // The engine has the snapshot before the rest of the diffs arrive (frame + snapshot taken).
  EXPECT_TRUE(wait_for([&] { return frames_taken.load(std::memory_order_acquire) >= 2; }, 20000));
  // In chunks with pauses between them: the engine idles (and polls the simulated exchange) between frames
  // while orders are in flight, as a live feed makes it do. (With those polls on the wall clock, fills reached
  // the strategy a frame earlier than in the replay and the trades differed; they run on data time now.)
  for (std::size_t sent = 1; sent < session.frames.size();) {
    const std::size_t n = std::min<std::size_t>(200, session.frames.size() - sent);
    server.send_next(n);
    sent += n;
    EXPECT_TRUE(wait_for([&] { return server.cursor() == sent; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  engine.join();
  out.trades = e.core->trades();
  return out;
}

PipelineResult replay(const std::vector<std::string>& files, std::vector<TradeRow>* trades = nullptr) {
  Engine e;
  PipelineResult r = run_pipeline(files, e.registry, *e.strategies, *e.core, e.po);
  if (trades) *trades = e.core->trades();
  return r;
}

std::string fresh_dir(std::string_view what) {
  const std::string d = fresh_path(what);
  std::filesystem::remove_all(d);
  return d;
}

void expect_same_books(const PipelineResult& paper, const PipelineResult& replayed) {
  EXPECT_EQ(replayed.book_checks, paper.book_checks);
  EXPECT_EQ(replayed.book_mismatches, paper.book_mismatches);
  EXPECT_EQ(replayed.gaps, paper.gaps);
  EXPECT_EQ(replayed.crossed, paper.crossed);
  EXPECT_EQ(replayed.resyncs, paper.resyncs);
  EXPECT_EQ(replayed.book_updates, paper.book_updates);
  EXPECT_EQ(replayed.trades_seen, paper.trades_seen);
}

}  // namespace

// Size-rotated, zstd-compressed segments: the replay of all of them equals the paper run.
TEST(EngineRecording, PaperSessionReplaysToTheSameBooksAndTrades) {
  feed::SessionRecorderOptions rec;
  rec.dir = fresh_dir("recording");
  rec.rotate_bytes = 256 << 10;  // the 20k-frame session spans several segments
  rec.zstd = true;
  const PaperRun paper = run_recorded_paper(20000, rec);
  const PipelineResult& p = paper.result;

  ASSERT_TRUE(p.recorded);
  EXPECT_EQ(p.recording.error, "");
  EXPECT_EQ(p.recording.dropped_frames, 0u);
  // Every WebSocket frame, the one snapshot body and the connect marker.
  EXPECT_EQ(p.recording.frames, p.frames + 2);
  ASSERT_GE(p.recording.files.size(), 3u);
  for (const std::string& f : p.recording.files) {
    EXPECT_TRUE(f.ends_with(".rec.zst")) << f;
    EXPECT_TRUE(std::filesystem::exists(f)) << f;
    EXPECT_FALSE(std::filesystem::exists(f.substr(0, f.size() - 4))) << "plain segment left beside " << f;
  }
  // The paper run itself is sound and trades, so the comparison below compares something.
  EXPECT_GT(p.book_checks, 100u);
  EXPECT_EQ(p.book_mismatches, 0u);
  EXPECT_EQ(p.decode_errors, 0u);
  ASSERT_GT(paper.trades.size(), 0u);

  std::vector<TradeRow> trades;
  const PipelineResult r = replay(p.recording.files, &trades);
  EXPECT_EQ(r.frames, p.frames + 1);  // replay counts the snapshot body as a frame, paper does not
  EXPECT_EQ(r.decode_errors, 0u);
  expect_same_books(p, r);
  EXPECT_EQ(r.intents, p.intents);
  EXPECT_EQ(r.orders.orders, p.orders.orders);
  EXPECT_EQ(r.orders.fills, p.orders.fills);
  ASSERT_EQ(trades.size(), paper.trades.size());
  for (std::size_t i = 0; i < trades.size(); ++i) {
    SCOPED_TRACE("trade " + std::to_string(i));
    EXPECT_EQ(trades[i].side, paper.trades[i].side);
    EXPECT_EQ(trades[i].qty, paper.trades[i].qty);
    EXPECT_EQ(trades[i].price, paper.trades[i].price);
    EXPECT_EQ(trades[i].maker, paper.trades[i].maker);
    EXPECT_EQ(trades[i].reason, paper.trades[i].reason);
  }
}

// A recorder that died mid-record leaves a plain segment with a torn tail: the replay plays the valid prefix
// and says so on stderr.
TEST(EngineRecording, ATornRecordingReplaysItsValidPrefixWithAWarning) {
  feed::SessionRecorderOptions rec;
  rec.dir = fresh_dir("recording-torn");
  rec.zstd = false;
  const PaperRun paper = run_recorded_paper(3000, rec);
  const PipelineResult& p = paper.result;
  ASSERT_TRUE(p.recorded);
  ASSERT_EQ(p.recording.files.size(), 1u);
  const std::string seg = p.recording.files[0];
  ASSERT_TRUE(seg.ends_with(".rec")) << seg;
  EXPECT_EQ(std::filesystem::file_size(seg), p.recording.bytes);

  // Cut the last record (a WebSocket frame: the run ends on frames) in half.
  feed::RecordReader reader(seg);
  feed::RecordedFrame f, last;
  while (reader.next(f)) last = f;
  ASSERT_EQ(feed::stream_kind(last.stream_id), feed::FrameKind::ws_received);
  std::filesystem::resize_file(seg, last.offset + feed::kRecordHeaderSize + last.payload.size() / 2);

  ::testing::internal::CaptureStderr();
  const PipelineResult r = replay({seg});
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.frames, p.frames + 1 - 1);  // frames + the snapshot body - the torn record
  EXPECT_NE(err.find("torn last record"), std::string::npos) << err;
  EXPECT_EQ(r.decode_errors, 0u);
  EXPECT_EQ(r.book_mismatches, 0u);
  EXPECT_GT(r.book_checks, 10u);
}

namespace {

// The number after `"key": ` in summary.json text (-1 when absent or not a number).
long long json_number(const std::string& json, const std::string& key) {
  const auto p = json.find("\"" + key + "\": ");
  if (p == std::string::npos) return -1;
  const std::string rest = json.substr(p + key.size() + 4);
  if (rest.empty() || !std::isdigit(static_cast<unsigned char>(rest[0]))) return -1;
  return std::stoll(rest);
}

// Runs `enigma args...` until `until()` holds, then stops it with SIGTERM (`stop` false: lets it end on its
// own); returns the exit status.
template <class Until>
int run_enigma(const std::vector<std::string>& args, const std::string& out, Until&& until, bool stop = true) {
  Child c(args, out);
  if (!until()) ADD_FAILURE() << "enigma did not get there; output:\n" << c.output();
  if (stop) ::kill(c.pid, SIGTERM);
  return c.wait();
}
std::string only_run_dir(const std::string& runs) {
  std::vector<std::string> dirs;
  for (const auto& e : std::filesystem::directory_iterator(runs))
    if (e.is_directory() && !e.is_symlink()) dirs.push_back(e.path().string());
  EXPECT_EQ(dirs.size(), 1u) << runs;
  return dirs.empty() ? std::string() : dirs.front();
}

// The run log of the one run directory under `runs` ("" while there is none yet).
std::string log_of_only_run(const std::string& runs) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(runs, ec))
    if (e.is_directory() && !e.is_symlink()) return slurp(e.path().string() + "/logs/enigma.log");
  return {};
}

}  // namespace

// `enigma paper` with no [record] table records into its run directory (zstd once closed), says so in
// summary.json, and `enigma replay --data` of that file agrees with the paper run's books and fills.
TEST(EngineRecording, ThePaperBinaryRecordsIntoItsRunDirectoryAndTheRecordingReplays) {
  const std::size_t kFrames = 5000;
  const enigma::testing::RecordedSession session = enigma::testing::load_binance_session(kFrames);
  enigma::testing::WsTestServerOptions so;
  so.snapshot_body = session.snapshot;
  enigma::testing::WsTestServer server(session.frames, so);
  const std::string work = fresh_dir("recording-cli");
  std::filesystem::create_directories(work + "/paper");
  std::filesystem::create_directories(work + "/replay");
  const std::string config = work + "/paper.toml";
  {
    std::ofstream c(config);
    c << slurp(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml") << "\n[feed]\nurl = \""
      << server.url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade") << "\"\nca_file = \""
      << server.ca_file() << "\"\nsnapshot_url = \"https://127.0.0.1:" << server.port()
      << "/fapi/v1/depth?symbol=BTCUSDT&limit=1000\"\n"
      << "stale_after_ms = 0\nrun_seconds = 60\n";
  }
  const int paper_rc =
      run_enigma({"paper", "--config", config, "--runs-dir", work + "/paper"}, work + "/paper.out", [&] {
        if (!wait_for([&] { return server.live(); }, 20000)) return false;
        server.send_next(1);
        if (!wait_for([&] { return server.rest_requests() >= 1; })) return false;
        // The engine has the snapshot before the rest of the diffs arrive (a slow sanitizer build may
        // otherwise take the answer after the last frame, and the book never syncs).
        if (!wait_for([&] { return log_of_only_run(work + "/paper").find("snapshot_received") != std::string::npos; },
                      20000))
          return false;
        server.send_next(kFrames - 1);
        if (!wait_for([&] { return server.cursor() == kFrames; })) return false;
        // Sent is not read: a sanitizer build can be seconds behind. The engine has taken every frame once a
        // heartbeat (one a second) counts no new frame after the last was sent.
        auto idle_heartbeats = [&] {
          const std::string log = log_of_only_run(work + "/paper");
          std::size_t n = 0;
          for (std::size_t p = log.find("heartbeat frames=0 "); p != std::string::npos;
               p = log.find("heartbeat frames=0 ", p + 1))
            ++n;
          return n;
        };
        const std::size_t idle_before = idle_heartbeats();
        return wait_for([&] { return idle_heartbeats() > idle_before; }, 60000);
      });
  EXPECT_EQ(paper_rc, 143) << slurp(work + "/paper.out");  // stopped by SIGTERM, as an operator stops paper
  const std::string paper_dir = only_run_dir(work + "/paper");
  const std::string paper = slurp(paper_dir + "/summary.json");
  const std::string seg = paper_dir + "/recording-0001.rec.zst";
  ASSERT_TRUE(std::filesystem::exists(seg)) << paper;
  EXPECT_FALSE(std::filesystem::exists(paper_dir + "/recording-0001.rec"));
  EXPECT_NE(paper.find("\"files\": [\"" + seg + "\"]"), std::string::npos) << paper;
  EXPECT_EQ(json_number(paper, "dropped_frames"), 0) << paper;
  const long long paper_frames = json_number(paper, "frames");
  ASSERT_EQ(paper_frames, static_cast<long long>(kFrames)) << paper;
  EXPECT_NE(paper.find("\"recording\": {\"frames\": " + std::to_string(kFrames + 2)), std::string::npos) << paper;

  const int replay_rc = run_enigma(
      {"replay", "--quiet", "--config", std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml", "--data", seg,
       "--runs-dir", work + "/replay"},
      work + "/replay.out", [] { return true; }, /*stop=*/false);
  EXPECT_EQ(replay_rc, 0) << slurp(work + "/replay.out");
  const std::string replayed = slurp(only_run_dir(work + "/replay") + "/summary.json");
  ASSERT_NE(replayed.find("\"interrupted\": null"), std::string::npos) << replayed;
  EXPECT_EQ(json_number(replayed, "frames"), paper_frames + 1);        // + the snapshot body
  EXPECT_NE(replayed.find("\"recording\": null"), std::string::npos);  // a replay records nothing
  for (const char* key :
       {"book_checks", "book_mismatches", "gaps", "crossed", "resyncs", "trades_seen", "signals", "fills", "cancels"})
    EXPECT_EQ(json_number(replayed, key), json_number(paper, key))
        << key << "\npaper: " << paper << "\nreplay: " << replayed;
  EXPECT_GT(json_number(paper, "book_checks"), 10);
  EXPECT_GT(json_number(paper, "fills"), 0);
}

// [record] keys: defaults, overrides, and errors that name the key.
TEST(EngineRecording, RecordTableIsReadAndCheckedFromTheConfig) {
  const std::string base = slurp(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  const RunConfig d = RunConfig::parse(base, "replay.toml");
  EXPECT_TRUE(d.record.enabled);
  EXPECT_TRUE(d.record.zstd);
  EXPECT_EQ(d.record.rotate_bytes, 256ull << 20);
  const PaperOptions dp = paper_options(d, "/runs/x");
  EXPECT_EQ(dp.record.dir, "/runs/x");  // default: the run directory

  const RunConfig c = RunConfig::parse(
      base + "\n[record]\ndir = \"/data/rec\"\nrotate_bytes = \"1MiB\"\ncompress = \"none\"\nring_bytes = \"1MiB\"\n",
      "t.toml");
  const PaperOptions cp = paper_options(c, "/runs/x");
  EXPECT_EQ(cp.record.dir, "/data/rec");
  EXPECT_EQ(cp.record.rotate_bytes, 1u << 20);
  EXPECT_FALSE(cp.record.zstd);
  EXPECT_EQ(cp.record.ring_bytes, 1u << 20);

  EXPECT_TRUE(
      paper_options(RunConfig::parse(base + "\n[record]\nenabled = false\n", "t.toml"), "/runs/x").record.dir.empty());
  auto error_of = [&](const std::string& table) {
    try {
      (void)RunConfig::parse(base + "\n[record]\n" + table + "\n", "t.toml");
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("compress = \"gzip\"").find("compress"), std::string::npos);
  EXPECT_NE(error_of("ring_bytes = 5000").find("ring_bytes must be a power of two"), std::string::npos);
  EXPECT_NE(error_of("rotate = 5").find("rotate"), std::string::npos);
}
