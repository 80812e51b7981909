// The market-data -> order pipeline over recorded frames, in either topology (DESIGN.md):
//   fused      one thread: decode -> book -> strategy -> risk -> encode -> (simulated) exchange
//   pipelined  feed thread (decode + book) -> SPSC ring -> strategy thread -> SPSC ring -> OMS thread
//              (risk + encode + exchange), fills back to the strategy thread through a third ring.
// Stages are plain objects; each thread owns its histograms, merged after the run (off the hot path).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/book_side.hpp"
#include "core/histogram.hpp"
#include "core/instrument.hpp"
#include "core/config.hpp"
#include "core/stage_runner.hpp"
#include "engine/trading_core.hpp"
#include "feed/book_check.hpp"
#include "feed/capture_reader.hpp"
#include "feed/recorder.hpp"
#include "feed/ws_client.hpp"
#include "strategy/strategy.hpp"

namespace enigma::engine {

enum class Speed : std::uint8_t { max, recorded };

// One frame whose own intents sent an order (replay): its index among the replayed market-data frames and
// the first order it sent. The bench's order-path floor re-does exactly this work (decode walk + encode/sign).
struct OrderFrame {
  std::uint32_t frame{0};
  oms::OrderSpec spec{};
};

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
  // [engine] warm_interval_us: TradingCore::warm_order_path at most this often (TSC time) on the thread that
  // owns the trading core — between frames in fused, when the OMS ring is empty in pipelined; 0 = never.
  std::int64_t warm_interval_ns{100'000};
  // Replay: each frame that sent an order is appended here while it has spare capacity (the caller reserves
  // it: nothing is allocated on the hot path). nullptr: not collected.
  std::vector<OrderFrame>* order_frames{nullptr};
  // Replay: per-file read options (one per file; `enigma backtest` names each candle / funding CSV's
  // instrument here). Empty: every file is a capture read with `strict`.
  std::vector<feed::CaptureReadOptions> file_options;
  // Replay: each file's venue, for a run over several venues of one feed family (same_feed_family): Binance
  // spot and USD-M captures together, each instrument keyed by venue and symbol. Empty: every file is `venue`.
  std::vector<Venue> file_venues;
};

// Whether one replay can read captures of both venues (one decoder family: binance-spot/-usdm/-coinm,
// kucoin-spot/-futures, kraken-spot/-futures).
[[nodiscard]] bool same_feed_family(Venue a, Venue b);

// Every histogram is in TSC ticks while recording; results() converts to nanoseconds.
struct StageHistograms {
  LatencyHistogram decode;  // frame bytes -> normalized events
  LatencyHistogram book;    // events -> verified book (sync + apply)
  LatencyHistogram signal;  // book/trade -> strategy intents
  LatencyHistogram risk;    // intent -> risk decision
  LatencyHistogram journal; // open position + journal the order before it leaves
  LatencyHistogram encode;  // order -> signed venue bytes
  LatencyHistogram order;   // frame in -> order bytes out (every order; a bracket leg counts from the fill's poll)
  LatencyHistogram order_frame;  // frames whose own intents sent an order: frame in -> that frame's first order bytes
  // order_frame split by stage (fused; pipelined leaves them empty): frame in -> decoded -> book applied ->
  // strategies done -> the first order's risk check begins (entry pricing, sizing) -> risk decided ->
  // journaled -> encoded and signed. Per frame the seven add up to its order_frame value.
  struct OrderFrameStages {
    LatencyHistogram decode, book, signal, pricing, risk, journal, encode;
    // The stages of `s` (const or not) in path order, by name.
    template <class Self>
    [[nodiscard]] static auto named(Self& s) noexcept {
      using H = std::conditional_t<std::is_const_v<Self>, const LatencyHistogram, LatencyHistogram>;
      return std::array<std::pair<const char*, H*>, 7>{{{"decode", &s.decode}, {"book", &s.book}, {"signal", &s.signal},
                                                        {"pricing", &s.pricing}, {"risk", &s.risk}, {"journal", &s.journal},
                                                        {"encode", &s.encode}}};
    }
  } order_stages;
  LatencyHistogram frame;   // frame in -> all our stages done (every frame, order or not)
  LatencyHistogram hop;     // pipelined: time an item waits in a ring (one per stage boundary)
  // live (from the gateway's kernel tx timestamps): signed bytes -> kernel tx, and kernel rx of the frame ->
  // kernel tx of the order it caused (tick-to-wire).
  LatencyHistogram signed_to_kernel;
  LatencyHistogram tick_to_wire;
  LatencyHistogram kill_to_wire;  // live: the OMS taking a kill -> kernel tx of each request it sent
};

// One instrument's book over the run (the summary's per-instrument lines).
struct InstrumentBookStats {
  std::string symbol;
  std::string venue;
  std::uint64_t updates{0};     // book changes published to the strategies
  std::uint64_t snapshots{0};   // depth snapshots applied (REST bodies, or the venue's in-stream snapshots)
  std::uint64_t checks{0}, mismatches{0};  // venue top-of-book quotes compared at the same update id / differing
  std::uint64_t quotes_uncompared{0};      // venue quotes with an update id our book never stood at while held
  std::uint64_t gaps{0}, resyncs{0};
  bool synced{false};           // at the end of the data
  // The registry's spec: tick and lot, and where they came from (config, exchange-info, or data: first seen
  // in the capture, unset).
  std::string tick, lot, spec;
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
  std::uint64_t snapshots_fetched{0};  // paper/live: REST snapshots received (on the fetcher thread) and applied
  std::uint64_t resubscribes{0};       // paper/live: book resubscriptions sent after a gap or checksum failure
  // paper/live: the traded instrument's book when the run ended (top levels, best first) and whether it
  // was synced then; what a test compares with the venue's own book.
  std::vector<PriceLevel> final_bids, final_asks;
  bool final_book_synced{false};
  bool recorded{false};              // paper/live: the session was recorded ([record]); `recording` says how
  feed::SessionRecordingStats recording;
  double wall_seconds{0};
  std::int64_t data_start_ns{0}, data_end_ns{0};
  StageHistograms hist;  // nanoseconds
  TradingCore::Counters orders{};
};

// Loads frames from the capture files (merged by receive time), then runs them through the pipeline.
// `strategies` and `core` are owned by the caller (their state is read after the run).
// The market-data frames of `files` in the order run_pipeline replays them (OrderFrame::frame indexes
// this). `readers` own the frames' bytes.
std::vector<feed::CapturedFrame> load_market_frames(const std::vector<std::string>& files,
                                                    std::vector<std::unique_ptr<feed::CaptureReader>>& readers, bool strict);

PipelineResult run_pipeline(const std::vector<std::string>& files, InstrumentRegistry& registry,
                            strategy::StrategyStage& strategies, TradingCore& core, const PipelineOptions& opt);

// `enigma book-check`: rebuilds `venue`'s books from `files` and verifies them (feed::<venue>::check).
[[nodiscard]] feed::BookCheckResult book_check(Venue venue, const std::vector<std::string>& files, const feed::BookCheckOptions& opt);

// The text frames that make a venue send a fresh book snapshot on the live connection, derived from the
// run's subscriptions: for each book subscription its unsubscribe, then the subscription again. OKX
// (`books*` channels, "op"), Bybit (`orderbook.*` topics, "op"), Coinbase (`level2` / `l2_data`, "type"),
// Kraken spot v2 (`book` channel, "method") and Kraken Futures (`book` feed, "event"); empty for venues
// whose snapshot is a REST request (Binance, KuCoin) and for subscriptions that name no book channel. Each
// venue's rule is its kBookSubscription (feed/venues/<venue>.hpp).
[[nodiscard]] std::vector<std::string> book_resubscribe_frames(Venue venue, const std::vector<std::string>& subscriptions);

struct PaperOptions {
  feed::WsClientOptions ws;   // url, subscriptions, ping policy, TLS (CA file), stale detector
  // REST depth snapshot fetched after every (re)connect and resync, on a fetcher thread (the trading thread
  // never waits on it; the book buffers diffs until the body arrives).
  std::string snapshot_url;
  // Sent on the live connection after a gap or checksum failure (no reconnect) when the venue carries its
  // snapshots in the stream; empty: book_resubscribe_frames(venue, ws.subscriptions).
  std::vector<std::string> resubscribe;
  double run_seconds{0};      // 0: until stop
  std::uint64_t max_frames{0};  // 0: no limit (tests)
  // Tests: WebSocket frames plus REST snapshots taken in so far, stored after each one; null: none.
  std::atomic<std::uint64_t>* ws_frames_taken{nullptr};
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
// This thread's heap allocations so far by that counter (0 when none is set).
[[nodiscard]] std::uint64_t thread_allocations() noexcept;

}  // namespace enigma::engine
