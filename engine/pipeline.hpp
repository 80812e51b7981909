// The market-data -> order pipeline over recorded frames, in either topology (DESIGN.md):
//   fused      one thread: decode -> book -> strategy -> risk -> encode -> (simulated) exchange
//   pipelined  feed thread (decode + book) -> SPSC ring -> strategy thread -> SPSC ring -> OMS thread
//              (risk + encode + exchange), fills back to the strategy thread through a third ring.
// Stages are plain objects; each thread owns its histograms, merged after the run (off the hot path).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/histogram.hpp"
#include "core/instrument.hpp"
#include "core/config.hpp"
#include "core/stage_runner.hpp"
#include "engine/trading_core.hpp"
#include "feed/capture_reader.hpp"
#include "feed/recorder.hpp"
#include "feed/ws_client.hpp"
#include "strategy/strategy.hpp"

namespace enigma::engine {

enum class Speed : std::uint8_t { max, recorded };

struct PipelineOptions {
  Venue venue{Venue::binance_usdm};
  InstrumentId traded{0};              // paper/live: the instrument our own REST snapshot request is for
                                       // (replayed bodies are mapped by URL symbol or their file's one symbol)
  Topology topology{Topology::fused};
  Speed speed{Speed::max};
  IdlePolicy idle{IdlePolicy::backoff};
  std::vector<int> cores;              // pipelined: feed, strategy, oms; fused: the one thread (empty: unpinned)
  std::size_t ring_capacity{1 << 14};
  bool progress{true};                 // progress lines on stderr for long runs
  bool cancel_on_stop{true};           // cancel working orders at the end of the data / on SIGINT
  std::uint64_t warmup_frames{2000};   // allocation accounting starts after these (zero-allocation proof)
  SpscRing<AdminCommand>* admin{nullptr};  // polled every iteration on the OMS side when set
  std::int64_t data_window_ns{0};      // > 0: only the first this-many ns of data (bench at recorded pace)
  const std::atomic<bool>* stop{nullptr};  // set by SIGINT/SIGTERM: stop intake after the current frame
  class StatusPublisher* status{nullptr};  // admin endpoint: a live snapshot from the OMS side, at its interval
  // Set by SIGUSR1: the replay writes one status line (frames so far, orders, fills) to the log and stderr
  // at the next frame boundary and clears it.
  std::atomic<bool>* status_request{nullptr};
  bool strict{false};  // replay --strict: a bad capture line or a damaged file is an error (exit 3), not skipped
  // A `heartbeat` log line every this many ns of the run's clock (data time in a replay, wall time in
  // paper/live), from the thread that owns the trading core; 0 = none. [log] heartbeat_s.
  std::int64_t heartbeat_ns{1'000'000'000};
};

// Every histogram is in TSC ticks while recording; results() converts to nanoseconds.
struct StageHistograms {
  LatencyHistogram decode;  // frame bytes -> normalized events
  LatencyHistogram book;    // events -> verified book (sync + apply)
  LatencyHistogram signal;  // book/trade -> strategy intents
  LatencyHistogram risk;    // intent -> risk decision
  LatencyHistogram journal; // open position + journal the order before it leaves
  LatencyHistogram encode;  // order -> signed venue bytes
  LatencyHistogram order;   // frame in -> order bytes out
  LatencyHistogram frame;   // frame in -> all our stages done (every frame, order or not)
  LatencyHistogram hop;     // pipelined: time an item waits in a ring (one per stage boundary)
};

// One instrument's book over the run (the summary's per-instrument lines).
struct InstrumentBookStats {
  std::string symbol;
  std::uint64_t updates{0};     // book changes published to the strategies
  std::uint64_t snapshots{0};   // depth snapshots applied (REST bodies, or the venue's in-stream snapshots)
  std::uint64_t checks{0}, mismatches{0};  // venue top-of-book quotes compared at the same update id / differing
  std::uint64_t quotes_uncompared{0};      // venue quotes with an update id our book never stood at while held
  std::uint64_t gaps{0}, resyncs{0};
  bool synced{false};           // at the end of the data
};

struct PipelineResult {
  // frames: frames actually processed. frames_in_input: replay only, frames in the input files (after the
  // data window); a stopped replay processed fewer. 0 for live feeds, whose input has no end.
  std::uint64_t frames{0}, frames_in_input{0};
  std::string fatal_error;  // the engine ended the run itself (disk full: path and bytes); set by the command
  std::string interrupted;  // "SIGTERM" / "SIGINT" when a signal ended the run (set by the command); else empty
  std::uint64_t events{0}, decode_errors{0}, control_frames{0}, ignored_frames{0};
  std::uint64_t book_updates{0}, gaps{0}, resyncs{0}, crossed{0};
  std::uint64_t duplicates{0};  // book updates already applied (the same data twice), dropped by the book syncs
  std::uint64_t bad_lines{0};   // replay: capture lines skipped as unreadable (feed::CaptureReader)
  std::uint64_t book_checks{0}, book_mismatches{0};  // venue BBO vs our book at the same update id
  std::uint64_t quotes_uncompared{0};  // venue BBOs never compared: our book passed their id without standing at it
  std::uint64_t unmapped_snapshots{0};  // REST depth bodies whose symbol neither URL nor file names: not applied
  std::vector<InstrumentBookStats> books;  // every instrument that had book data, by instrument id
  double read_seconds{0};  // 0: a streaming replay reads and decompresses during the run (in wall_seconds)
  std::uint64_t trades_seen{0}, intents{0}, intents_dropped{0}, ring_full_spins{0};
  std::uint64_t hot_allocations{0};  // heap allocations on pipeline threads after warm-up (must be 0)
  std::uint64_t reconnects{0};       // paper/live: WebSocket reconnects
  std::uint64_t snapshot_failures{0};  // paper/live: REST snapshot requests that failed (5xx, refused); retried
  bool recorded{false};              // paper/live: the session was recorded ([record]); `recording` says how
  feed::SessionRecordingStats recording;
  double wall_seconds{0};
  std::int64_t data_start_ns{0}, data_end_ns{0};
  StageHistograms hist;  // nanoseconds
  TradingCore::Counters orders{};
};

// Loads frames from the capture files (merged by receive time), then runs them through the pipeline.
// `strategies` and `core` are owned by the caller (their state is read after the run).
PipelineResult run_pipeline(const std::vector<std::string>& files, InstrumentRegistry& registry,
                            strategy::StrategyStage& strategies, TradingCore& core, const PipelineOptions& opt);

struct PaperOptions {
  feed::WsClientOptions ws;   // url, subscriptions, ping policy, TLS (CA file), stale detector
  std::string snapshot_url;   // REST depth snapshot fetched after every (re)connect and resync
  double run_seconds{0};      // 0: until stop
  std::uint64_t max_frames{0};  // 0: no limit (tests)
  // [record]: every frame received (WebSocket frames, REST snapshot bodies, connects) with its receive time,
  // written by a writer thread. `record.dir` empty: the session is not recorded. The URLs are filled in
  // from `ws.url` and `snapshot_url`.
  feed::SessionRecorderOptions record;
};

// Paper trading: live frames from the venue's WebSocket through the same fused pipeline, against the
// simulated exchange. Blocks until `opt.stop`, `run_seconds` or `max_frames`.
PipelineResult run_paper(const PaperOptions& popt, InstrumentRegistry& registry, strategy::StrategyStage& strategies,
                         TradingCore& core, const PipelineOptions& opt);

// Live trading: run_paper's market-data loop with `core` already switched to live order entry
// (TradingCore::go_live, its gateway started). When the loop ends (stop, run_seconds, max_frames) every
// working order is cancelled through the gateway (opt.cancel_on_stop) and reports are drained until no
// order is working or `drain_ns` passed; orders still working then are left in the summary's counters.
PipelineResult run_live(const PaperOptions& popt, InstrumentRegistry& registry, strategy::StrategyStage& strategies,
                        TradingCore& core, const PipelineOptions& opt, std::int64_t drain_ns);

// Converts the run's histograms to nanoseconds and copies the order counters (end of any run).
void finish_result(PipelineResult& r, const TradingCore& core);

// Hooks for the zero-allocation proof: the engine binary's tests install a counting operator new and
// report the count of the calling thread here. Default: always 0 (no counter installed).
using ThreadAllocCounter = std::uint64_t (*)() noexcept;
void set_thread_alloc_counter(ThreadAllocCounter fn) noexcept;

}  // namespace enigma::engine
