#include "engine/pipeline.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <concepts>
#include <thread>
#include <type_traits>

#include <time.h>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/logger.hpp"
#include "core/prefault.hpp"
#include "core/spsc_ring.hpp"
#include "engine/heartbeat.hpp"
#include "engine/status.hpp"
#include "feed/event_buffer.hpp"
#include "feed/frame_stream.hpp"
#include "feed/https_client.hpp"
#include "feed/ws_client.hpp"
#include "feed/venues/venue_list.hpp"

namespace enigma::engine {

namespace {

std::atomic<ThreadAllocCounter> g_alloc_counter{nullptr};
std::uint64_t thread_allocs() noexcept { return thread_allocations(); }

constexpr std::size_t kTopLevels = 10;  // the OMS prices entries at the 9th level

// Venue constructors differ only in whether they take the Venue (one class serves several products).
template <class D>
struct VenueDecoder : D {
  VenueDecoder(Venue v, InstrumentRegistry& r) : D(v, r, true) {}
};
template <class D>
struct SingleVenueDecoder : D {
  SingleVenueDecoder(Venue, InstrumentRegistry& r) : D(r, true) {}
};
template <class S>
struct VenueSync : S {
  VenueSync(Venue v, InstrumentId id) : S(v, id) {}
};
template <class S>
struct SingleVenueSync : S {
  SingleVenueSync(Venue, InstrumentId id) : S(id) {}
};

// Every venue's book sync answers to the same names, so the pipeline needs no per-venue adapter for them.
template <class S>
concept VenueBookSync = requires(const S& s) {
  { s.gaps() } -> std::same_as<std::uint64_t>;
  { s.resyncs() } -> std::same_as<std::uint64_t>;
  { s.duplicates() } -> std::same_as<std::uint64_t>;
  { s.state() } -> std::same_as<feed::SyncState>;
  s.book();
};

// The sequence a venue's top-of-book quotes share with its book (0: none, so no same-sequence comparison).
template <class F, class S>
std::uint64_t synced_seq(const S& s) noexcept {
  if constexpr (F::quotes_share_book_seq) return s.last_seq();
  else return 0;
}
// Coinbase numbers a connection's messages, so its decoder drops repeats; the other venues' syncs do.
template <class D>
std::uint64_t decoder_duplicates(const D& d) noexcept {
  if constexpr (requires { d.duplicates(); }) return d.duplicates();
  else return 0;
}

// Top of book handed to strategies and to entry pricing (one PriceLevel type all the way).
struct BookView {
  std::array<PriceLevel, kTopLevels> bids, asks;
  std::uint32_t nb{0}, na{0};

  void load(const feed::L2Book& b) noexcept {
    nb = static_cast<std::uint32_t>(b.top(Side::buy, bids.data(), kTopLevels));
    na = static_cast<std::uint32_t>(b.top(Side::sell, asks.data(), kTopLevels));
  }
  [[nodiscard]] strategy::BookTop top() const noexcept { return {{bids.data(), nb}, {asks.data(), na}}; }
  [[nodiscard]] std::span<const PriceLevel> bid_span() const noexcept { return {bids.data(), nb}; }
  [[nodiscard]] std::span<const PriceLevel> ask_span() const noexcept { return {asks.data(), na}; }
  [[nodiscard]] Price mid() const noexcept {
    return nb && na ? Price::from_raw((bids[0].price.raw() + asks[0].price.raw()) / 2) : Price{};
  }
};

// ---- feed stage: decode + book sync + venue BBO verification ------------------------------------------
template <class F>
class FeedStage {
  using Decoder = typename F::Decoder;
  using Sync = typename F::Sync;

 public:
  // file_venues: replay, each file's venue when the files are of several venues of one family (Binance
  // spot and USD-M captures in one run); empty, or Venue::unknown for a file: `venue`.
  FeedStage(Venue venue, InstrumentRegistry& registry, InstrumentId traded, const std::vector<Venue>& file_venues = {})
      : decoder_(venue, registry), registry_(registry), venue_(venue), traded_(traded), buf_(1 << 15) {
    syncs_.resize(1024);
    held_.reserve(1024);  // 1.3 MB: mapped in one call before the resize writes it
    prefault_writable(held_.data(), held_.capacity() * sizeof(HeldQuotes));
    held_.resize(1024);
    per_.resize(1024);
    file_book_.assign(kTrackedFiles, kInvalidInstrument);
    file_venue_.assign(kTrackedFiles, venue);
    file_decoder_.assign(kTrackedFiles, &decoder_);
    if (file_venues.size() > kTrackedFiles) throw Error("more than " + std::to_string(kTrackedFiles) + " input files of several venues");
    for (std::size_t i = 0; i < file_venues.size(); ++i) {
      const Venue v = file_venues[i];
      if (v == Venue::unknown || v == venue) continue;
      auto it = std::find_if(other_decoders_.begin(), other_decoders_.end(), [&](const auto& d) { return d.first == v; });
      if (it == other_decoders_.end()) it = other_decoders_.insert(other_decoders_.end(), {v, std::make_unique<Decoder>(v, registry)});
      file_venue_[i] = v;
      file_decoder_[i] = it->second.get();
    }
  }

  struct Output {
    std::uint32_t events{0};
    InstrumentId changed{kInvalidInstrument};  // instrument whose published book changed in this frame
    std::uint64_t decoded_tsc{0};              // when the frame was decoded (the book's start)
    std::uint64_t done_tsc{0};                 // when the feed stage finished (the next stage's start)
  };

  // Decodes one frame and applies its book events. Allocation-free once every instrument has a sync
  // (created on first sight; warm-up covers it).
  Output on_frame(const feed::CapturedFrame& f, std::uint64_t tsc, PipelineResult& r, StageHistograms& h) noexcept {
    Output out;
    buf_.clear();
    const InstrumentId snap = f.kind == feed::FrameKind::rest_body ? snapshot_instrument(f) : traded_;
    if (F::snapshot_by_instrument && snap == kInvalidInstrument) [[unlikely]] {
      // Never guessed: applying another symbol's depth would corrupt a book that then passes no check.
      ++r.unmapped_snapshots;
      ENIGMA_LOG_WARN("feed", "rest_snapshot_skipped line={} file={} reason=no_symbol_in_url_and_file_carries_{}", f.line_no, f.source,
                      LogLiteral{file_book(f.source) == kAmbiguousInstrument ? "several_symbols" : "no_depth_yet"});
      out.decoded_tsc = out.done_tsc = rdtsc();  // nothing decoded: the stage ends here
      return out;
    }
    Decoder& decoder = f.source < file_decoder_.size() ? *file_decoder_[f.source] : decoder_;
    const feed::DecodeResult d = F::decode(decoder, f, tsc, snap, buf_);
    const std::uint64_t t1 = rdtsc();
    out.decoded_tsc = t1;
    h.decode.record(static_cast<std::int64_t>(t1 - tsc));
    if (!d.ok()) {
      ++r.decode_errors;
      out.done_tsc = t1;
      return out;
    }
    if (d.kind == feed::MessageKind::control) ++r.control_frames;
    if (d.kind == feed::MessageKind::ignored) ++r.ignored_frames;
    out.events = static_cast<std::uint32_t>(buf_.size());
    r.events += buf_.size();
    for (const Event& e : buf_) {
      const InstrumentId id = e.h.instrument;
      if (e.h.type == EventType::status && id == kInvalidInstrument) [[unlikely]] {
        status_to_all(e, r);  // e.g. Coinbase: a break in the connection's sequence_num, every book unknown
        continue;
      }
      if (id >= syncs_.size()) continue;
      if (e.h.type == EventType::book_batch || e.h.type == EventType::book_level) {
        if (f.kind == feed::FrameKind::ws_received) note_file_book(f.source, id);
        if (e.h.type == EventType::book_batch && e.batch.kind == BookBatchKind::snapshot) ++per_[id].snapshots;
        Sync& s = sync(id);
        const bool was_synced = s.state() == feed::SyncState::synced;
        const feed::SyncResult sr = s.on_event(e);
        if (!was_synced && s.state() == feed::SyncState::synced) [[unlikely]]  // a person tailing the log sees trading resume
          ENIGMA_LOG_INFO("feed", "book_synced instrument={} resyncs={}", id, r.resyncs);
        if (sr.need_snapshot && sr.error != Errc::ok) {  // not the initial snapshot request
          ++r.resyncs;
          ++per_[id].resyncs;
          ENIGMA_LOG_WARN("feed", "book_resync instrument={} error={} resyncs={}", id, LogLiteral{to_string(sr.error)}, r.resyncs);
        }
        if (sr.book_changed) {
          if (s.book().crossed()) {
            ++r.crossed;
          } else {
            out.changed = id;
            ++per_[id].updates;
          }
        }
      } else if (e.h.type == EventType::bbo) {
        HeldQuotes& h = held_[id];
        if (h.count == kHeldQuotes) {  // the book is far behind the quotes (not synced): the oldest gives way
          ++r.quotes_uncompared;
          ++per_[id].uncompared;
          h.pop();
        }
        h.push(e.bbo);
        has_bbo_ = true;
      } else if (e.h.type == EventType::trade) {
        ++r.trades_seen;
      }
    }
    if (has_bbo_) verify_bbo(r);
    // rdtsc costs ~16 ns on a VM: each stage boundary is stamped once and shared by both neighbours.
    out.done_tsc = rdtsc();
    h.book.record(static_cast<std::int64_t>(out.done_tsc - t1));
    return out;
  }

  [[nodiscard]] const feed::EventBuffer& events() const noexcept { return buf_; }
  [[nodiscard]] const feed::L2Book& book(InstrumentId id) noexcept { return sync(id).book(); }
  [[nodiscard]] bool synced(InstrumentId id) noexcept { return sync(id).state() == feed::SyncState::synced; }
  // A venue status for every instrument: each book decides (a gap asks for a snapshot: counted as a resync).
  void status_to_all(const Event& e, PipelineResult& r) noexcept {
    for (auto& s : syncs_) {
      if (!s) continue;
      const feed::SyncResult sr = s->on_event(e);
      if (sr.need_snapshot && sr.error != Errc::ok) {
        ++r.resyncs;
        ENIGMA_LOG_WARN("feed", "book_resync instrument=all error={} resyncs={}", LogLiteral{to_string(sr.error)}, r.resyncs);
      }
    }
  }
  // A new WebSocket connection: every book is unknown until the new connection's snapshot (REST or the
  // one the subscription brings); decoders with per-connection state forget it (Coinbase numbers each
  // connection's messages from 1, Bybit re-sends its ticker snapshots).
  void on_connected() noexcept {
    if constexpr (requires { decoder_.reset(); }) decoder_.reset();
    for (auto& s : syncs_)
      if (s) s->reset();
  }
  // The instrument's top levels and sync state into the result (end of a paper/live run; cold).
  void final_book(InstrumentId id, PipelineResult& r) {
    if (id >= syncs_.size() || !syncs_[id]) return;
    const feed::L2Book& b = syncs_[id]->book();
    r.final_bids.resize(kTopLevels);
    r.final_asks.resize(kTopLevels);
    r.final_bids.resize(b.top(Side::buy, r.final_bids.data(), kTopLevels));
    r.final_asks.resize(b.top(Side::sell, r.final_asks.data(), kTopLevels));
    r.final_book_synced = syncs_[id]->state() == feed::SyncState::synced;
  }
  // End of the run (cold): totals and one line per instrument that had book data.
  void collect(PipelineResult& r) const {
    for (InstrumentId id = 0; id < syncs_.size(); ++id) {
      const auto& s = syncs_[id];
      if (!s) continue;
      r.gaps += s->gaps();
      r.duplicates += s->duplicates();
      const PerInstrument& p = per_[id];
      // A quote still held at the end was waiting for an id the data never reached.
      const std::uint64_t held = held_[id].count;
      r.quotes_uncompared += held;
      if (id < registry_.size()) {
        const InstrumentSpec& spec = registry_.get(id);
        const bool known = spec.source != SpecSource::seen;
        r.books.push_back(InstrumentBookStats{std::string(spec.symbol.view()), std::string(to_string(spec.venue)), p.updates, p.snapshots, p.checks,
                                              p.mismatches, p.uncompared + held, s->gaps(), p.resyncs,
                                              s->state() == feed::SyncState::synced, known ? spec.tick.to_string() : "",
                                              known ? spec.lot.to_string() : "", std::string(to_string(spec.source))});
      }
    }
    r.duplicates += decoder_duplicates(decoder_);
    for (const auto& d : other_decoders_) r.duplicates += decoder_duplicates(*d.second);
  }

 private:
  Sync& sync(InstrumentId id) noexcept {
    if (!syncs_[id]) [[unlikely]]  // first sight: cold. The book's rules are its instrument's venue's (spot or futures).
      syncs_[id] = std::make_unique<Sync>(id < registry_.size() ? registry_.get(id).venue : venue_, id);
    return *syncs_[id];
  }
  // Which instrument a REST depth body belongs to when the body does not say (Binance): the URL's
  // `symbol=` when the capture recorded it; else the one symbol whose depth stream the body's own file
  // carries (an hftbacktest capture is one file per symbol); paper's own request is for the traded
  // instrument. Otherwise none: a file with several symbols and no URL cannot say whose snapshot it is.
  InstrumentId snapshot_instrument(const feed::CapturedFrame& f) const noexcept {
    if (const auto p = f.url.find("symbol="); p != std::string_view::npos) {
      std::string_view sym = f.url.substr(p + 7);
      sym = sym.substr(0, sym.find('&'));
      const Venue v = f.source < file_venue_.size() ? file_venue_[f.source] : venue_;
      if (const auto id = registry_.find(v, sym)) return *id;
      return kInvalidInstrument;
    }
    if (f.source == feed::kLiveSource) return traded_;
    const InstrumentId id = file_book(f.source);
    return id == kAmbiguousInstrument ? kInvalidInstrument : id;
  }
  [[nodiscard]] InstrumentId file_book(std::uint16_t source) const noexcept {
    return source < file_book_.size() ? file_book_[source] : kInvalidInstrument;
  }
  void note_file_book(std::uint16_t source, InstrumentId id) noexcept {
    if (source >= file_book_.size()) return;
    InstrumentId& fb = file_book_[source];
    if (fb == kInvalidInstrument) fb = id;
    else if (fb != id) fb = kAmbiguousInstrument;
  }

  // A venue quote usually arrives before the depth frame with the same update id: hold it (with the ones
  // after it) until our book reaches that id, compare, and count it as not compared once the book has
  // moved past it without standing at it.
  void verify_bbo(PipelineResult& r) noexcept {
    has_bbo_ = false;
    for (InstrumentId id = 0; id < registry_.size() && id < held_.size(); ++id) {
      HeldQuotes& h = held_[id];
      if (h.count == 0) continue;
      if (!syncs_[id] || syncs_[id]->state() != feed::SyncState::synced) {
        has_bbo_ = true;
        continue;
      }
      const std::uint64_t at = synced_seq<F>(*syncs_[id]);
      if (at == 0) {  // the venue's book has no id its quotes share (Coinbase legacy): nothing to compare at
        r.quotes_uncompared += h.count;
        per_[id].uncompared += h.count;
        h.count = 0;
        continue;
      }
      for (; h.count != 0; h.pop()) {
        const Bbo& q = h.front();
        if (at < q.seq) {
          has_bbo_ = true;
          break;
        }
        settle_quote(r, id, q, at);
      }
    }
  }

  void settle_quote(PipelineResult& r, InstrumentId id, const Bbo& q, std::uint64_t at) noexcept {
    {
      if (at == q.seq) {
        const feed::L2Book& b = syncs_[id]->book();
        const auto* bid = b.best_bid();
        const auto* ask = b.best_ask();
        ++r.book_checks;
        ++per_[id].checks;
        if (!bid || !ask || bid->price != q.bid_price || bid->qty != q.bid_qty || ask->price != q.ask_price || ask->qty != q.ask_qty) {
          ++r.book_mismatches;
          ++per_[id].mismatches;
        }
      } else {
        ++r.quotes_uncompared;  // the book passed the quote's id inside one diff (or before the quote came)
        ++per_[id].uncompared;
      }
    }
  }

  Decoder decoder_;
  InstrumentRegistry& registry_;
  Venue venue_;
  InstrumentId traded_;
  feed::EventBuffer buf_;
  std::vector<std::unique_ptr<Sync>> syncs_;
  // Venue quotes per instrument waiting for our book to reach their update id, oldest first (fixed size:
  // bookTickers outrun the depth diffs by a few quotes, not by this many).
  static constexpr std::uint8_t kHeldQuotes = 32;
  struct HeldQuotes {
    std::array<Bbo, kHeldQuotes> q{};
    std::uint8_t head{0}, count{0};
    [[nodiscard]] const Bbo& front() const noexcept { return q[head]; }
    void pop() noexcept {
      head = static_cast<std::uint8_t>((head + 1) % kHeldQuotes);
      --count;
    }
    void push(const Bbo& b) noexcept {
      q[(head + count) % kHeldQuotes] = b;
      ++count;
    }
  };
  std::vector<HeldQuotes> held_;
  bool has_bbo_{false};
  struct PerInstrument {
    std::uint64_t updates{0}, snapshots{0}, checks{0}, mismatches{0}, uncompared{0}, resyncs{0};
  };
  std::vector<PerInstrument> per_;
  // Per capture file: the one instrument whose depth stream it carries (kAmbiguousInstrument: several).
  static constexpr std::size_t kTrackedFiles = 1024;
  static constexpr InstrumentId kAmbiguousInstrument = kInvalidInstrument - 1;
  std::vector<InstrumentId> file_book_;
  // Per capture file: its venue and the decoder that reads it (decoder_, or one of other_decoders_).
  std::vector<Venue> file_venue_;
  std::vector<Decoder*> file_decoder_;
  std::vector<std::pair<Venue, std::unique_ptr<Decoder>>> other_decoders_;
};

// A replay's frames: the market-data frames of the files merged by receive time, streamed from a reader
// thread (feed::FrameStream). `first` was taken before the run (no frames is an error before any stage
// starts); an error the stream raises mid-run (--strict) ends the loop and is rethrown once the stages stop.
struct ReplaySource {
  feed::FrameStream& stream;
  const feed::CapturedFrame* first;
  std::exception_ptr error;
  bool exhausted{false};  // every frame of the input (within the data window) was read
  bool stopped_before_one{false};  // the stop came with a frame read but not processed
};

// Progress on stderr: a line per million frames, and, when the input's size on disk is known, at most one a
// second with the share read and an ETA (the clock is read every 4096 frames only).
class Progress {
 public:
  Progress(bool on, const feed::FrameStream* stream) : on_(on), stream_(stream), start_(std::chrono::steady_clock::now()), last_(start_) {}
  void tick(std::size_t done) {
    if (!on_) return;
    const bool million = done >= next_;
    if (!million && (done & 4095) != 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (!million && now - last_ < std::chrono::seconds(1)) return;
    const double f = stream_ ? stream_->fraction_read() : -1;
    if (!million && f <= 0) return;
    if (million) next_ = done + 1'000'000;
    last_ = now;
    const double s = std::chrono::duration<double>(now - start_).count();
    if (f > 0 && f < 1)
      std::fprintf(stderr, "  replay: %zu frames  %.1fs  %.0f%% read  ETA %.0fs\n", done, s, f * 100, s * (1 - f) / f);
    else
      std::fprintf(stderr, "  replay: %zu frames  %.1fs\n", done, s);
  }

 private:
  bool on_;
  const feed::FrameStream* stream_;
  std::size_t next_{1};
  std::chrono::steady_clock::time_point start_, last_;
};

// The warm-up dry run's interval in TSC ticks (0: off).
std::uint64_t warm_interval_ticks(const PipelineOptions& opt) noexcept {
  if (opt.warm_interval_ns <= 0) return 0;
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(static_cast<double>(opt.warm_interval_ns) / TscClock::instance().ns_per_tick()));
}

bool stop_requested(const PipelineOptions& opt) noexcept { return opt.stop && opt.stop->load(std::memory_order_relaxed); }

// Recorded pace: waits until the frame's offset from the first frame has passed on the monotonic clock.
// Returns false, without waiting further, once the stop flag is set (a 30 s gap in the data must not
// delay SIGTERM). With idle = backoff a wait longer than 1 ms sleeps in slices of at most 50 ms and spins
// only the last 100 us (sleep wake-ups overshoot by ~50 us); idle = spin busy-polls throughout.
bool pace(const PipelineOptions& opt, std::int64_t first_ns, std::int64_t frame_ns, std::int64_t start_mono) noexcept {
  if (stop_requested(opt)) [[unlikely]] return false;
  if (opt.speed != Speed::recorded || frame_ns == 0) return true;
  constexpr std::int64_t kSleepAbove = 1'000'000, kSpinTail = 100'000, kMaxSlice = 50'000'000;
  const std::int64_t due = start_mono + (frame_ns - first_ns);
  for (std::int64_t left = due - monotonic_ns(); left > 0; left = due - monotonic_ns()) {
    if (stop_requested(opt)) return false;
    if (opt.idle == IdlePolicy::backoff && left > kSleepAbove) {
      const std::int64_t ns = std::min(left - kSpinTail, kMaxSlice);
      const timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      ::nanosleep(&ts, nullptr);
    } else {
      cpu_relax();
    }
  }
  return true;
}

// The replay loop both topologies share: stop flag, recorded pace, status requests, progress, the frames
// actually processed (r.frames, r.data_end_ns) and the calling thread's allocations after warm-up
// (returned). `on_frame(f)` is the topology's per-frame work; `on_status(frames_done)` writes the status
// line between two frames (a safe point: no frame is half done on this thread).
template <class OnFrame, class OnStatus>
std::uint64_t drive_frames(ReplaySource& frames, const PipelineOptions& opt, PipelineResult& r, OnFrame&& on_frame,
                           OnStatus&& on_status) {
  Progress progress(opt.progress, &frames.stream);
  const std::int64_t start_mono = monotonic_ns();
  const std::int64_t first_ns = frames.first->recv_ns;
  const std::int64_t window_end = opt.data_window_ns > 0 ? first_ns + opt.data_window_ns : INT64_MAX;
  std::int64_t last_ns = first_ns;
  std::uint64_t allocs_at_warmup = 0;
  std::size_t done = 0;
  for (const feed::CapturedFrame* next = frames.first;; ++done) {
    if (done > 0) {
      try {
        next = frames.stream.next();
      } catch (...) {  // cold: a --strict error on the reader thread
        frames.error = std::current_exception();
        break;
      }
    }
    if (!next || next->recv_ns > window_end) {
      frames.exhausted = true;
      break;
    }
    const feed::CapturedFrame& f = *next;
    if (done == opt.warmup_frames) allocs_at_warmup = thread_allocs();
    if (!pace(opt, first_ns, f.recv_ns, start_mono)) [[unlikely]] {
      frames.stopped_before_one = true;
      break;
    }
    if (opt.status_request && opt.status_request->load(std::memory_order_relaxed)) [[unlikely]] {
      opt.status_request->store(false, std::memory_order_relaxed);
      on_status(done);
    }
    on_frame(f);
    last_ns = f.recv_ns;
    progress.tick(done + 1);
  }
  r.frames = done;
  r.data_end_ns = last_ns;
  return done > opt.warmup_frames ? thread_allocs() - allocs_at_warmup : 0;
}

// SIGUSR1's status line, on the log and stderr (cold: only on request).
// Frames done so far (a streaming replay does not know the input's total ahead).
ENIGMA_COLD void write_status(std::uint64_t frames_done, const TradingCore::Counters* c) noexcept {
  if (c) {
    ENIGMA_LOG_INFO("engine", "status: frames {} orders {} fills {}", frames_done, c->orders, c->fills);
    std::fprintf(stderr, "enigma status: frames %llu orders %llu fills %llu\n", (unsigned long long)frames_done,
                 (unsigned long long)c->orders, (unsigned long long)c->fills);
  } else {
    ENIGMA_LOG_INFO("engine", "status: frames {} (pipelined: orders and fills are counted on the OMS thread, in the summary)",
                    frames_done);
    std::fprintf(stderr, "enigma status: frames %llu (pipelined: orders and fills in the summary)\n",
                 (unsigned long long)frames_done);
  }
}

void fill_to_strategies(void* ctx, const strategy::Fill& f) noexcept {
  auto* s = static_cast<std::pair<strategy::StrategyStage*, strategy::IntentBuffer*>*>(ctx);
  s->first->on_fill(f, *s->second);
}

// One type per venue family (feed::<venue>::Feed, feed/venues/venue_list.hpp): its decoder and book sync
// wrapped to one constructor shape.
template <class V>
struct VenueFeed {
  static_assert(VenueBookSync<typename V::BookSync>);
  using Decoder =
      std::conditional_t<V::takes_venue, VenueDecoder<typename V::Decoder>, SingleVenueDecoder<typename V::Decoder>>;
  using Sync = std::conditional_t<V::takes_venue, VenueSync<typename V::BookSync>, SingleVenueSync<typename V::BookSync>>;
  static constexpr bool snapshot_by_instrument = V::snapshot_by_instrument;
  static constexpr const feed::BookSubscription& book_subscription = V::book_subscription;
  static constexpr auto book_check = V::book_check;
  static constexpr bool quotes_share_book_seq = V::quotes_share_book_seq;
  static constexpr auto decode = V::decode;
};

// ---- fused topology -----------------------------------------------------------------------------------
// Every stage on the calling thread, one frame at a time; shared by replay (frames from files) and paper
// mode (frames from the WebSocket client).
template <class F>
class FusedEngine {
 public:
  FusedEngine(InstrumentRegistry& registry, strategy::StrategyStage& strategies, TradingCore& core, const PipelineOptions& opt,
              PipelineResult& r)
      : feed_(opt.venue, registry, opt.traded, opt.file_venues), strategies_(strategies), core_(core), opt_(opt), r_(r),
        fill_ctx_{&strategies, &fill_intents_}, heartbeat_(opt.heartbeat_ns, registry), warm_ticks_(warm_interval_ticks(opt)) {
    // engine.cores in the fused topology: the one thread that runs every stage (checked at start-up).
    if (!opt.cores.empty()) pin_current_thread(opt.cores[0]);
    // This thread runs every stage: its log records go through its own ring (no shared queue).
    if (Logger* lg = Logger::global()) lg->register_hot_thread();
  }

  void on_frame(const feed::CapturedFrame& f, std::uint64_t t0) noexcept {
    const std::int64_t now = f.recv_ns;
    const auto out = feed_.on_frame(f, t0, r_, r_.hist);
    ++view_status_.frames;
    if (const auto& ev = feed_.events(); ev.size() != 0) heartbeat_.note_feed_lag(now - ev[ev.size() - 1].h.venue_time_ns);
    view_status_.last_frame_tsc = t0;
    // Strategy stage: trades and candles as they come, then one book update per frame.
    const std::uint64_t t2 = out.done_tsc;
    intents_.clear();
    bool strategy_ran = false;
    for (const Event& e : feed_.events()) {
      if (e.h.type == EventType::trade || e.h.type == EventType::candle) {
        strategies_.on_event(e, intents_);
        strategy_ran = true;
      }
    }
    if (out.changed != kInvalidInstrument) {
      ++r_.book_updates;
      view_.load(feed_.book(out.changed));
      EventHeader h{};
      h.recv_tsc = t0;
      h.venue_time_ns = now;
      h.instrument = out.changed;
      h.venue = opt_.venue;
      h.type = EventType::book_batch;
      strategies_.on_book(h, view_.top(), intents_);
      strategy_ran = true;
    }
    // The signal stage is stamped when a strategy ran (a venue quote alone feeds none); otherwise the
    // feed stage's stamp is the frame's end. With no intent, the signal stamp is.
    std::uint64_t t3 = t2;
    if (strategy_ran) {
      t3 = rdtsc();
      r_.hist.signal.record(static_cast<std::int64_t>(t3 - t2));
    }
    sent_order_ = false;
    for (const auto& in : intents_.view())
      if (core_.on_intent(in, view_.bid_span(), view_.ask_span(), now, t0)) sent_order_ = true;
    if (const TradingCore::OrderStamps& o = core_.first_order_stamps(); sent_order_ && o.frame_tsc == t0) [[unlikely]]
      record_order_frame(o, out.decoded_tsc, t2, t3);
    r_.intents += intents_.size();
    r_.hist.frame.record(static_cast<std::int64_t>((intents_.size() ? rdtsc() : t3) - t0));
    // The exchange side (not part of our latency): market data, reports, fills back to strategies.
    for (const Event& e : feed_.events()) core_.on_market(e, now);
    if (out.changed != kInvalidInstrument) core_.mark(out.changed, view_.mid(), now);
    service(now, t0);
  }

  // A frame whose own intents sent an order: frame in -> its first order's bytes, whole and by stage.
  void record_order_frame(const TradingCore::OrderStamps& o, std::uint64_t decoded, std::uint64_t book_done,
                          std::uint64_t strategies_done) noexcept {
    auto ticks = [](std::uint64_t from, std::uint64_t to) { return static_cast<std::int64_t>(to - from); };
    StageHistograms::OrderFrameStages& s = r_.hist.order_stages;
    r_.hist.order_frame.record(ticks(o.frame_tsc, o.encoded));
    s.decode.record(ticks(o.frame_tsc, decoded));
    s.book.record(ticks(decoded, book_done));
    s.signal.record(ticks(book_done, strategies_done));
    s.pricing.record(ticks(strategies_done, o.risk_begin));
    s.risk.record(ticks(o.risk_begin, o.risk_end));
    s.journal.record(ticks(o.risk_end, o.journaled));
    s.encode.record(ticks(o.journaled, o.encoded));
  }

  // Between frames of a live feed (paper/live): execution reports, fills back to strategies, admin
  // commands, so a kill or a fill is handled even while the market is quiet.
  void on_idle(std::int64_t now_ns) noexcept { service(now_ns, rdtsc()); }
  // Paper: heartbeats on the wall clock also while the market is quiet (its idle service runs on data time).
  void heartbeat(std::int64_t wall_now_ns) noexcept { heartbeat_.maybe_beat(wall_now_ns, view_status_.frames, r_.hist.frame, core_); }

  void finish() {
    r_.intents_dropped = intents_.dropped() + fill_intents_.dropped();
    feed_.collect(r_);
  }
  [[nodiscard]] FeedStage<F>& feed() noexcept { return feed_; }
  // Whether the last on_frame's own intents sent an order (core().last_encoded() is its last one).
  [[nodiscard]] bool sent_order() const noexcept { return sent_order_; }

 private:
  void service(std::int64_t now, std::uint64_t cause_tsc) noexcept {
    fill_intents_.clear();
    core_.poll(now, &fill_to_strategies, &fill_ctx_);
    for (const auto& in : fill_intents_.view()) (void)core_.on_intent(in, view_.bid_span(), view_.ask_span(), now, cause_tsc);
    AdminCommand cmd;
    if (opt_.admin)
      while (opt_.admin->try_pop(cmd)) core_.on_admin(cmd, now);
    heartbeat_.maybe_beat(now, view_status_.frames, r_.hist.frame, core_);
    // After this frame's own work, never before it: the dry run keeps the order path in cache for the next one.
    if (warm_ticks_ != 0 && cause_tsc - last_warm_tsc_ >= warm_ticks_) {
      (void)core_.warm_order_path(now);
      last_warm_tsc_ = cause_tsc;
    }
    if (opt_.status != nullptr) {
      view_status_.events = r_.events;
      view_status_.book_updates = r_.book_updates;
      view_status_.resyncs = r_.resyncs;
      view_status_.stages = &r_.hist;
      opt_.status->maybe_publish(core_, view_status_, true);
      opt_.status->maybe_publish_signals(strategies_);
    }
  }

 public:
  // What the status snapshot shows of the feed (paper sets the connection fields).
  FeedView& status_view() noexcept { return view_status_; }

 private:
  FeedStage<F> feed_;
  strategy::StrategyStage& strategies_;
  TradingCore& core_;
  const PipelineOptions& opt_;
  PipelineResult& r_;
  strategy::IntentBuffer intents_;
  strategy::IntentBuffer fill_intents_;  // intents strategies emit while told about fills
  BookView view_;
  std::pair<strategy::StrategyStage*, strategy::IntentBuffer*> fill_ctx_;
  FeedView view_status_;
  Heartbeat heartbeat_;
  bool sent_order_{false};
  std::uint64_t warm_ticks_;         // warm_order_path interval (0: off)
  std::uint64_t last_warm_tsc_{0};
};

template <class F>
void run_fused(ReplaySource& frames, InstrumentRegistry& registry,
               strategy::StrategyStage& strategies, TradingCore& core, const PipelineOptions& opt, PipelineResult& r) {
  FusedEngine<F> engine(registry, strategies, core, opt, r);
  std::uint32_t frame_index = 0;  // the frame's place in the merged input (the bench's floor replays the same frames)
  r.hot_allocations = drive_frames(frames, opt, r, [&](const feed::CapturedFrame& f) {
    engine.on_frame(f, rdtsc());
    if (opt.order_frames != nullptr && engine.sent_order() && opt.order_frames->size() < opt.order_frames->capacity()) [[unlikely]]
      opt.order_frames->push_back({frame_index, core.last_encoded()});
    ++frame_index;
  },
                                   [&](std::uint64_t done) { write_status(done, &core.counters()); });
  engine.finish();
}

// ---- pipelined topology -------------------------------------------------------------------------------
struct MarketMsg {  // feed -> strategy
  enum Kind : std::uint8_t { event, book, frame_end } kind;
  std::uint64_t frame_tsc;
  std::uint64_t sent_tsc;
  std::int64_t now_ns;
  Event ev;
  std::uint32_t nb, na;
  std::array<PriceLevel, kTopLevels> bids, asks;
};

struct OmsMsg {  // strategy -> oms
  enum Kind : std::uint8_t { event, intent, frame_end } kind;
  std::uint64_t frame_tsc;
  std::uint64_t sent_tsc;
  std::int64_t now_ns;
  Event ev;
  strategy::OrderIntent order_intent;
  InstrumentId book_instrument;  // instrument of bids/asks (kInvalidInstrument: no book yet)
  std::uint32_t nb, na;
  std::array<PriceLevel, kTopLevels> bids, asks;
};

template <class T>
void push_spin(SpscRing<T>& ring, const T& v, std::uint64_t& spins) noexcept {
  while (!ring.try_push(v)) {
    ++spins;  // back-pressure: never drop, count it
    cpu_relax();
  }
}

template <class F>
void run_pipelined(ReplaySource& frames, InstrumentRegistry& registry,
                   strategy::StrategyStage& strategies, TradingCore& core, const PipelineOptions& opt, PipelineResult& r) {
  auto market = std::make_unique<SpscRing<MarketMsg>>(opt.ring_capacity);
  auto orders = std::make_unique<SpscRing<OmsMsg>>(opt.ring_capacity);
  auto fills = std::make_unique<SpscRing<strategy::Fill>>(1024);
  std::atomic<bool> feed_done{false}, strategy_done{false};
  PipelineResult strat_r, oms_r;
  std::uint64_t strat_allocs = 0, oms_allocs = 0;

  // Strategy thread.
  struct StrategyLoop {
    SpscRing<MarketMsg>* in;
    SpscRing<OmsMsg>* out;
    SpscRing<strategy::Fill>* fills;
    strategy::StrategyStage* strategies;
    std::atomic<bool>* upstream_done;
    std::atomic<bool>* done;
    PipelineResult* r;
    std::uint64_t warm_frames;
    std::uint64_t frames{0};
    std::uint64_t allocs_start{0};
    std::uint64_t* allocs;
    strategy::IntentBuffer intents;
    OmsMsg om{};
    MarketMsg m{};
    StatusPublisher* status{nullptr};  // the heatmap's scores are read here, where the strategies live
    bool operator()() noexcept {
      bool work = false;
      strategy::Fill f;
      // Fill-driven intents join the buffer and go out with the next frame_end. A fill can arrive between
      // two messages of one frame, so the buffer may already hold that frame's intents: never clear it here.
      while (fills->try_pop(f)) {
        const std::size_t before = intents.size();
        strategies->on_fill(f, intents);
        r->intents += intents.size() - before;
        work = true;
      }
      if (!in->try_pop(m)) {
        if (upstream_done->load(std::memory_order_acquire) && in->empty_approx() && !done->load()) {
          *allocs = thread_allocs() - allocs_start;
          done->store(true, std::memory_order_release);
        }
        return work;
      }
      const std::uint64_t t = rdtsc();
      r->hist.hop.record(static_cast<std::int64_t>(t - m.sent_tsc));
      switch (m.kind) {
        case MarketMsg::event:
          if (m.ev.h.type == EventType::trade || m.ev.h.type == EventType::candle) {
            const std::size_t before = intents.size();
            strategies->on_event(m.ev, intents);
            r->intents += intents.size() - before;  // counted where produced: every one must reach the OMS
          }
          om.kind = OmsMsg::event;
          om.ev = m.ev;
          om.now_ns = m.now_ns;
          om.frame_tsc = m.frame_tsc;
          om.sent_tsc = rdtsc();
          push_spin(*out, om, r->ring_full_spins);
          break;
        case MarketMsg::book: {
          EventHeader h{};
          h.recv_tsc = m.frame_tsc;
          h.venue_time_ns = m.now_ns;
          h.instrument = m.ev.h.instrument;
          h.type = EventType::book_batch;
          const std::size_t before = intents.size();
          strategies->on_book(h, {{m.bids.data(), m.nb}, {m.asks.data(), m.na}}, intents);
          r->intents += intents.size() - before;
          om.book_instrument = m.ev.h.instrument;
          om.nb = m.nb;
          om.na = m.na;
          om.bids = m.bids;
          om.asks = m.asks;
          break;
        }
        case MarketMsg::frame_end:
          r->hist.signal.record(static_cast<std::int64_t>(rdtsc() - t));
          for (const auto& in_ : intents.view()) {
            om.kind = OmsMsg::intent;
            om.order_intent = in_;
            om.now_ns = m.now_ns;
            om.frame_tsc = m.frame_tsc;
            om.sent_tsc = rdtsc();
            push_spin(*out, om, r->ring_full_spins);
          }
          intents.clear();
          om.kind = OmsMsg::frame_end;
          om.now_ns = m.now_ns;
          om.sent_tsc = rdtsc();
          push_spin(*out, om, r->ring_full_spins);
          if (++frames == warm_frames) allocs_start = thread_allocs();
          if (status != nullptr) status->maybe_publish_signals(*strategies);
          break;
      }
      return true;
    }
  } sloop{market.get(), orders.get(), fills.get(), &strategies, &feed_done, &strategy_done, &strat_r,
          opt.warmup_frames, 0, 0, &strat_allocs, {}, {}, {}, opt.status};

  // OMS thread.
  struct OmsLoop {
    SpscRing<OmsMsg>* in;
    SpscRing<strategy::Fill>* fills;
    TradingCore* core;
    SpscRing<AdminCommand>* admin;
    std::atomic<bool>* upstream_done;
    std::atomic<bool> done{false};
    PipelineResult* r;
    std::uint64_t warm_frames;
    std::uint64_t frames{0};
    std::uint64_t allocs_start{0};
    std::uint64_t* allocs;
    StatusPublisher* status{nullptr};
    FeedView status_view{};
    OmsMsg m{};
    // The log's heartbeat runs here, where the trading core is; its frame latency is frame in -> this
    // thread done with the frame (queueing included), recorded in this thread's own histogram.
    Heartbeat* heartbeat{nullptr};
    std::uint64_t warm_ticks{0};      // warm_order_path interval (0: off), run while the ring is empty
    std::uint64_t last_warm_tsc{0};
    std::uint64_t last_order_frame_tsc{0};
    static void to_ring(void* ctx, const strategy::Fill& f) noexcept {
      auto* ring = static_cast<SpscRing<strategy::Fill>*>(ctx);
      while (!ring->try_push(f)) cpu_relax();
    }
    bool operator()() noexcept {
      AdminCommand cmd;
      if (admin) while (admin->try_pop(cmd)) core->on_admin(cmd, m.now_ns);
      if (!in->try_pop(m)) {
        if (upstream_done->load(std::memory_order_acquire) && in->empty_approx() && !done.load()) {
          *allocs = thread_allocs() - allocs_start;
          done.store(true, std::memory_order_release);
        }
        if (warm_ticks != 0 && m.now_ns != 0) {
          const std::uint64_t now_tsc = rdtsc();
          if (now_tsc - last_warm_tsc >= warm_ticks) {
            (void)core->warm_order_path(m.now_ns);
            last_warm_tsc = now_tsc;
          }
        }
        return false;
      }
      r->hist.hop.record(static_cast<std::int64_t>(rdtsc() - m.sent_tsc));
      switch (m.kind) {
        case OmsMsg::event:
          core->on_market(m.ev, m.now_ns);
          if (heartbeat) heartbeat->note_feed_lag(m.now_ns - m.ev.h.venue_time_ns);
          break;
        case OmsMsg::intent:
          if (core->on_intent(m.order_intent, {m.bids.data(), m.nb}, {m.asks.data(), m.na}, m.now_ns, m.frame_tsc) &&
              m.frame_tsc != last_order_frame_tsc) {
            last_order_frame_tsc = m.frame_tsc;  // the frame's first order only
            r->hist.order_frame.record(static_cast<std::int64_t>(core->last_encoded_tsc() - m.frame_tsc));
          }
          break;
        case OmsMsg::frame_end:
          if (m.nb && m.na) core->mark(m.book_instrument, Price::from_raw((m.bids[0].price.raw() + m.asks[0].price.raw()) / 2), m.now_ns);
          core->poll(m.now_ns, &OmsLoop::to_ring, fills);
          if (++frames == warm_frames) allocs_start = thread_allocs();
          if (status != nullptr) {  // the OMS thread's own view: frames it has seen end, no feed histograms
            status_view.frames = frames;
            status_view.last_frame_tsc = m.frame_tsc;
            status->maybe_publish(*core, status_view, true);
          }
          if (heartbeat) {
            r->hist.frame.record(static_cast<std::int64_t>(rdtsc() - m.frame_tsc));
            heartbeat->maybe_beat(m.now_ns, frames, r->hist.frame, *core);
          }
          break;
      }
      return true;
    }
  } oloop{orders.get(), fills.get(), &core, opt.admin, &strategy_done, {}, &oms_r, opt.warmup_frames, 0, 0, &oms_allocs, opt.status, {}, {}};

  Heartbeat heartbeat(opt.heartbeat_ns, registry);
  if (opt.heartbeat_ns > 0) oloop.heartbeat = &heartbeat;
  oloop.warm_ticks = warm_interval_ticks(opt);
  auto core_at = [&](std::size_t i) { return i < opt.cores.size() ? opt.cores[i] : -1; };
  StageRunner strat_runner, oms_runner;
  strat_runner.start(StageOptions{"enigma-strategy", core_at(1), false, 50, false, opt.idle}, sloop);
  oms_runner.start(StageOptions{"enigma-oms", core_at(2), false, 50, false, opt.idle}, oloop);
  if (core_at(0) >= 0) pin_current_thread(core_at(0));

  FeedStage<F> feed(opt.venue, registry, opt.traded, opt.file_venues);
  BookView view;
  MarketMsg m{};
  const std::uint64_t feed_allocs = drive_frames(frames, opt, r, [&](const feed::CapturedFrame& f) {
    const std::uint64_t t0 = rdtsc();
    const auto out = feed.on_frame(f, t0, r, r.hist);
    m.frame_tsc = t0;
    m.now_ns = f.recv_ns;
    m.kind = MarketMsg::event;
    for (const Event& e : feed.events()) {
      m.ev = e;
      m.sent_tsc = rdtsc();
      push_spin(*market, m, r.ring_full_spins);
    }
    if (out.changed != kInvalidInstrument) {
      ++r.book_updates;
      view.load(feed.book(out.changed));
      m.kind = MarketMsg::book;
      m.ev.h.instrument = out.changed;
      m.nb = view.nb;
      m.na = view.na;
      m.bids = view.bids;
      m.asks = view.asks;
      m.sent_tsc = rdtsc();
      push_spin(*market, m, r.ring_full_spins);
    }
    m.kind = MarketMsg::frame_end;
    m.sent_tsc = rdtsc();
    push_spin(*market, m, r.ring_full_spins);
    r.hist.frame.record(static_cast<std::int64_t>(rdtsc() - t0));
  }, [&](std::uint64_t done) { write_status(done, nullptr); });
  feed_done.store(true, std::memory_order_release);
  while (!oloop.done.load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::microseconds(100));
  strat_runner.stop();
  oms_runner.stop();
  feed.collect(r);
  r.hot_allocations = feed_allocs + strat_allocs + oms_allocs;
  r.hist.signal.merge(strat_r.hist.signal);
  r.hist.hop.merge(strat_r.hist.hop);
  r.hist.hop.merge(oms_r.hist.hop);
  r.hist.order_frame.merge(oms_r.hist.order_frame);
  r.intents += strat_r.intents;
  r.ring_full_spins += strat_r.ring_full_spins;
  r.intents_dropped = sloop.intents.dropped();
}

template <class F>
void run_topology(ReplaySource& frames, InstrumentRegistry& registry,
                  strategy::StrategyStage& strategies, TradingCore& core, const PipelineOptions& opt, PipelineResult& r) {
  if (opt.topology == Topology::fused) run_fused<F>(frames, registry, strategies, core, opt, r);
  else run_pipelined<F>(frames, registry, strategies, core, opt, r);
}

// Converts a histogram recorded in TSC ticks into nanoseconds (bucket by bucket, at its midpoint).
LatencyHistogram ticks_to_ns(const LatencyHistogram& ticks, double ns_per_tick) {
  LatencyHistogram out;
  out.merge_scaled(ticks, ns_per_tick);
  return out;
}

// ---- paper: REST snapshots on their own thread ---------------------------------------------------------
// The trading thread asks for a snapshot and keeps polling the WebSocket (the book buffers diffs per the
// venue's rules meanwhile); the GET runs here and its body is handed back through `take()`. One request at
// a time; cold path (a mutex and a heap body are fine: this is per resync, not per frame).
class SnapshotFetcher {
 public:
  struct Result {
    std::string body;     // padded with CaptureReader::kPadding spaces (simdjson parses in place)
    std::size_t size{0};  // body bytes without the padding
    std::string failure;  // empty: HTTP 200 and a body
    std::uint64_t tag{0}; // what request() was given (the connection the request was made for)
  };

  SnapshotFetcher(std::string url, const feed::TlsOptions& tls) : url_(std::move(url)) {
    feed::HttpsOptions ho;
    ho.tls = tls;
    https_ = std::make_unique<feed::HttpsClient>(ho);
    thread_ = std::thread([this] { loop(); });
  }
  ~SnapshotFetcher() {
    {
      std::lock_guard lk(mu_);
      quit_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  SnapshotFetcher(const SnapshotFetcher&) = delete;
  SnapshotFetcher& operator=(const SnapshotFetcher&) = delete;

  [[nodiscard]] bool busy() const noexcept { return busy_.load(std::memory_order_acquire); }
  // Starts a GET unless one is in flight (then false).
  bool request(std::uint64_t tag) {
    if (busy()) return false;
    {
      std::lock_guard lk(mu_);
      tag_ = tag;
      requested_ = true;
      busy_.store(true, std::memory_order_release);
    }
    cv_.notify_one();
    return true;
  }
  // The finished request's result, once (false while none is ready).
  bool take(Result& out) {
    if (!ready_.load(std::memory_order_acquire)) return false;
    std::lock_guard lk(mu_);
    out = std::move(result_);
    ready_.store(false, std::memory_order_relaxed);
    busy_.store(false, std::memory_order_release);
    return true;
  }
  [[nodiscard]] const std::string& url() const noexcept { return url_; }

 private:
  void loop() {
    std::unique_lock lk(mu_);
    for (;;) {
      cv_.wait(lk, [&] { return quit_ || requested_; });
      if (quit_) return;
      requested_ = false;
      Result res;
      res.tag = tag_;
      lk.unlock();
      try {
        feed::HttpsResponse resp = https_->get(url_);
        if (resp.status != 200) {
          res.failure = "HTTP " + std::to_string(resp.status);
        } else {
          res.size = resp.body.size();
          res.body = std::move(resp.body);
          res.body.append(feed::CaptureReader::kPadding, ' ');
        }
      } catch (const std::exception& e) {
        res.failure = e.what();
      }
      lk.lock();
      result_ = std::move(res);
      ready_.store(true, std::memory_order_release);
    }
  }

  std::string url_;
  std::unique_ptr<feed::HttpsClient> https_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool quit_{false}, requested_{false};
  std::uint64_t tag_{0};
  Result result_;
  std::atomic<bool> busy_{false}, ready_{false};
  std::thread thread_;  // last: started once everything above exists
};

// ---- paper: live frames from the WebSocket client ------------------------------------------------------
template <class F>
void run_paper_fused(const PaperOptions& popt, InstrumentRegistry& registry, strategy::StrategyStage& strategies,
                     TradingCore& core, const PipelineOptions& opt, PipelineResult& r) {
  FusedEngine<F> engine(registry, strategies, core, opt, r);
  struct Ctx {
    FusedEngine<F>* engine;
    PipelineResult* r;
    std::int64_t first_ns{0}, last_ns{0};
    std::int64_t data_ns{0};  // receive time of the latest frame processed (WebSocket or snapshot)
    bool want_snapshot{true};
    std::int64_t snapshot_retry_ns{0};  // monotonic: no snapshot request before this (after a failed one)
    std::uint64_t resyncs_seen{0};
    std::uint64_t frames_since_connect{0};
    feed::SessionRecorder* recorder{nullptr};
    std::atomic<std::uint64_t>* frames_taken{nullptr};
    bool want_resubscribe{false};  // a streaming venue's book lost sync: resubscribe on this connection
  } ctx{&engine, &r};
  ctx.frames_taken = popt.ws_frames_taken;
  // Recording is a tap on the frame source (DESIGN.md): the exact bytes and receive times the engine saw,
  // so a replay of the recording meets the same data at the same data times. URL index 1 is the WebSocket,
  // 2 the REST snapshot.
  constexpr std::uint32_t kWsStream = feed::make_stream_id(feed::FrameKind::ws_received, 1);
  constexpr std::uint32_t kConnectStream = feed::make_stream_id(feed::FrameKind::connect, 1);
  constexpr std::uint32_t kSnapshotStream = feed::make_stream_id(feed::FrameKind::rest_body, 2);
  std::unique_ptr<feed::SessionRecorder> recorder;
  if (!popt.record.dir.empty()) {
    feed::SessionRecorderOptions ro = popt.record;
    ro.urls = {popt.ws.url, popt.snapshot_url};
    recorder = std::make_unique<feed::SessionRecorder>(std::move(ro));
    ctx.recorder = recorder.get();
    ENIGMA_LOG_INFO("recorder", "recording the session to {}/{}-NNNN.rec{} (rotate at {} bytes)", popt.record.dir, popt.record.name,
                    popt.record.zstd ? "[.zst once closed]" : "", popt.record.rotate_bytes);
  }
  feed::WsHandlers h;
  h.ctx = &ctx;
  h.on_frame = [](void* c, const feed::WsFrame& w) noexcept {
    auto* x = static_cast<Ctx*>(c);
    feed::CapturedFrame f;
    f.recv_ns = wall_ns();  // data time = local receive time, as the recorder stores it
    f.kind = feed::FrameKind::ws_received;
    f.payload = w.payload;
    f.padded_capacity = w.padded_capacity;
    // A copy into the recorder's ring: no syscall or allocation here; a full ring is counted, not waited on.
    if (x->recorder) (void)x->recorder->record(f.recv_ns, kWsStream, f.payload);
    if (x->first_ns == 0) x->first_ns = f.recv_ns;
    x->last_ns = f.recv_ns;
    x->data_ns = f.recv_ns;
    ++x->r->frames;
    ++x->frames_since_connect;
    x->engine->on_frame(f, w.recv_tsc);
    if (x->frames_taken) x->frames_taken->store(x->r->frames + x->r->snapshots_fetched, std::memory_order_release);
  };
  feed::WsClient* ws_client = nullptr;  // set below: the connected socket's options go in the log line
  h.on_connected = [&ctx, &popt, &ws_client] {
    if (Logger* lg = Logger::global())  // cold: the whole option list, not a record's 31 characters
      lg->write_text(LogLevel::info, "feed",
                     fmt::format("feed_connected reconnect={} frames_before={} {}", ctx.r->frames > 0, ctx.r->frames,
                                 ws_client != nullptr ? ws_client->socket_options().to_string() : std::string()));
    ctx.want_snapshot = true;  // every (re)connect: buffer diffs, then a fresh snapshot aligns the book
    ctx.engine->feed().on_connected();
    ctx.want_resubscribe = false;  // the new connection's subscriptions bring fresh snapshots
    ctx.frames_since_connect = 0;
    if (ctx.recorder) (void)ctx.recorder->record(wall_ns(), kConnectStream, popt.ws.url);  // marks the (re)connect
  };
  h.on_disconnected = [](const feed::WsDisconnect& d) {  // cold: the whole reason, not a record's 31 characters
    if (Logger* lg = Logger::global())
      lg->write_text(LogLevel::warn, "feed", fmt::format("feed_disconnected cause={} was_connected={} retry_ms={} reason={}",
                                                         feed::to_string(d.cause), d.was_connected, d.retry_in_ns / 1'000'000,
                                                         log_quote(d.reason)));
  };
  h.on_stale = [](std::int64_t silent_ns) {
    ENIGMA_LOG_WARN("feed", "feed_stale silent_ms={} action=reconnect", silent_ns / 1'000'000);
  };
  feed::WsClient client(popt.ws, h);
  ws_client = &client;
  std::unique_ptr<SnapshotFetcher> fetcher;
  if (!popt.snapshot_url.empty()) fetcher = std::make_unique<SnapshotFetcher>(popt.snapshot_url, popt.ws.tls);
  const std::vector<std::string> resubscribe =
      popt.resubscribe.empty() ? book_resubscribe_frames(opt.venue, popt.ws.subscriptions) : popt.resubscribe;
  std::int64_t resubscribe_after_ns = 0;  // monotonic: at most two resubscriptions per second (venue limits)
  client.start();
  const std::int64_t deadline = popt.run_seconds > 0 ? monotonic_ns() + static_cast<std::int64_t>(popt.run_seconds * 1e9) : 0;
  Idler idler(opt.idle);
  const std::int64_t started_ns = wall_ns();
  SnapshotFetcher::Result snap;
  while (!(opt.stop && opt.stop->load(std::memory_order_relaxed)) && (deadline == 0 || monotonic_ns() < deadline) &&
         (popt.max_frames == 0 || r.frames < popt.max_frames)) {
    if (client.poll_once() > 0) {
      idler.reset();
    } else {
      const std::int64_t now = wall_ns();
      // The feed-down clock starts with the run: a feed that never delivers is down too.
      core.on_feed_health(client.stats().connects > 0, ctx.last_ns != 0 ? ctx.last_ns : started_ns, now);
      FeedView& fv = engine.status_view();
      fv.reconnects = client.stats().connects > 0 ? client.stats().connects - 1 : 0;
      fv.connected = now - (ctx.last_ns != 0 ? ctx.last_ns : started_ns) < 5'000'000'000;
      // Paper: the simulated exchange runs on data time, as in a replay: an idle poll at the latest frame's
      // receive time hands over nothing that frame's own poll did not, so the session's recording replays to
      // the same orders and fills (a wall-clock poll between frames would deliver a fill before the next
      // frame here and after it in the replay). Live: the venue's reports and request timeouts need the wall clock.
      engine.on_idle(core.live() || ctx.data_ns == 0 ? now : ctx.data_ns);
      engine.heartbeat(now);
      idler.idle();
    }
    // A gap or a checksum failure asked for a resync (cold path, off the per-frame work): a REST venue
    // fetches a new snapshot, a streaming venue resubscribes on the same connection.
    if (r.resyncs != ctx.resyncs_seen) {
      ctx.resyncs_seen = r.resyncs;
      if (fetcher) ctx.want_snapshot = true;
      else if (!resubscribe.empty()) ctx.want_resubscribe = true;
    }
    if (ctx.want_resubscribe && client.state() == feed::WsState::connected && monotonic_ns() >= resubscribe_after_ns) {
      ctx.want_resubscribe = false;
      resubscribe_after_ns = monotonic_ns() + 500'000'000;
      for (const std::string& text : resubscribe) (void)client.send_text(text);
      ++r.resubscribes;
      ENIGMA_LOG_WARN("feed", "book_resubscribe frames={} resyncs={}", resubscribe.size(), r.resyncs);
    }
    if (!fetcher) continue;
    if (ctx.want_snapshot && ctx.frames_since_connect > 0 && !fetcher->busy() && monotonic_ns() >= ctx.snapshot_retry_ns) {
      ctx.want_snapshot = false;
      (void)fetcher->request(client.stats().connects);
    }
    if (!fetcher->take(snap)) continue;
    if (snap.tag != client.stats().connects) {
      ctx.want_snapshot = true;  // asked for before a reconnect: the new connection's diffs need a newer one
      continue;
    }
    if (!snap.failure.empty()) {
      // A venue's 5xx or a refused REST connection is transient: the book stays unsynced (diffs are
      // buffered, an overflow resyncs) and the snapshot is asked for again a second later; never fatal.
      ++r.snapshot_failures;
      ctx.want_snapshot = true;
      ctx.snapshot_retry_ns = monotonic_ns() + 1'000'000'000;
      ENIGMA_LOG_WARN("feed", "snapshot {}: {}; asking again in 1 s", popt.snapshot_url, snap.failure);
      continue;
    }
    ++r.snapshots_fetched;
    ENIGMA_LOG_INFO("feed", "snapshot_received bytes={} connection={}", snap.size, snap.tag);
    feed::CapturedFrame f;
    f.recv_ns = wall_ns();
    f.kind = feed::FrameKind::rest_body;
    f.url = popt.snapshot_url;
    f.source = feed::kLiveSource;  // our own request, for the traded instrument
    f.payload = std::string_view(snap.body.data(), snap.size);
    f.padded_capacity = snap.body.size();
    if (recorder) (void)recorder->record(f.recv_ns, kSnapshotStream, f.payload);
    ctx.data_ns = f.recv_ns;
    engine.on_frame(f, rdtsc());
    if (ctx.frames_taken) ctx.frames_taken->store(r.frames + r.snapshots_fetched, std::memory_order_release);
  }
  client.stop();
  if (recorder) {
    r.recording = recorder->stop();  // drains the ring, closes and compresses the last segment
    r.recorded = true;
    if (r.recording.dropped_frames > 0)
      ENIGMA_LOG_WARN("recorder", "{} frame(s) were not recorded (ring full or write error): the recording is incomplete",
                      r.recording.dropped_frames);
  }
  r.data_start_ns = ctx.first_ns;
  r.data_end_ns = ctx.data_ns;  // the latest frame, WebSocket or snapshot: where a replay of the recording ends
  r.reconnects = client.stats().connects > 0 ? client.stats().connects - 1 : 0;
  engine.feed().final_book(opt.traded, r);
  engine.finish();
}

// Calls fn.template operator()<F>() with the feed types of `venue` (listed in feed/venues/venue_list.hpp).
template <class Fn>
void with_venue_feed(Venue venue, Fn&& fn) {
  feed::with_venue(venue, [&]<class V>() { fn.template operator()<VenueFeed<V>>(); });
}

}  // namespace

bool same_feed_family(Venue a, Venue b) {
  bool same = false;
  with_venue_feed(a, [&]<class A>() { with_venue_feed(b, [&]<class B>() { same = std::is_same_v<A, B>; }); });
  return same;
}

namespace {
// The live-frame loop both paper and live run (the order side differs only inside the trading core).
PipelineResult run_live_frames(const PaperOptions& popt, InstrumentRegistry& registry, strategy::StrategyStage& strategies,
                               TradingCore& core, const PipelineOptions& opt) {
  PipelineResult r;
  const auto t0 = std::chrono::steady_clock::now();
  with_venue_feed(opt.venue, [&]<class F>() { run_paper_fused<F>(popt, registry, strategies, core, opt, r); });
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  finish_result(r, core);
  return r;
}
}  // namespace

std::vector<std::string> book_resubscribe_frames(Venue venue, const std::vector<std::string>& subscriptions) {
  std::vector<std::string> out;
  with_venue_feed(venue, [&]<class F>() { out = feed::book_resubscribe_frames(F::book_subscription, subscriptions); });
  return out;
}

feed::BookCheckResult book_check(Venue venue, const std::vector<std::string>& files, const feed::BookCheckOptions& opt) {
  feed::BookCheckResult r;
  with_venue_feed(venue, [&]<class F>() { r = F::book_check(files, venue, opt); });
  return r;
}

PipelineResult run_paper(const PaperOptions& popt, InstrumentRegistry& registry, strategy::StrategyStage& strategies,
                         TradingCore& core, const PipelineOptions& opt) {
  PipelineResult r = run_live_frames(popt, registry, strategies, core, opt);
  if (opt.cancel_on_stop) {
    // [supervisor] on_stop, as at the end of a replay: the simulated exchange settles the closes and the
    // cancels they cause at the last prices it saw. At the last frame's data time, as the replay of the
    // session's recording stops (an order still in flight then is cancelled there too); after an emergency
    // raised on the wall clock (feed down), at the wall clock, so its closes are settled.
    const std::int64_t now = r.data_end_ns > 0 && r.orders.emergency_stops == 0 ? r.data_end_ns : wall_ns();
    core.stop(now);
    strategy::IntentBuffer sink;
    std::pair<strategy::StrategyStage*, strategy::IntentBuffer*> ctx{&strategies, &sink};
    core.poll(now + 1'000'000'000LL, &fill_to_strategies, &ctx);
    core.poll(now + 60'000'000'000LL, &fill_to_strategies, &ctx);
    r.orders = core.counters();
  }
  return r;
}

PipelineResult run_live(const PaperOptions& popt, InstrumentRegistry& registry, strategy::StrategyStage& strategies,
                        TradingCore& core, const PipelineOptions& opt, std::int64_t drain_ns) {
  PipelineResult r = run_live_frames(popt, registry, strategies, core, opt);
  strategy::IntentBuffer sink;  // intents from fills after the loop are not acted on: we are stopping
  std::pair<strategy::StrategyStage*, strategy::IntentBuffer*> ctx{&strategies, &sink};
  if (opt.cancel_on_stop) core.stop(wall_ns());  // [supervisor] on_stop: flatten or keep the stops working
  const std::int64_t deadline = monotonic_ns() + drain_ns;
  do {
    core.poll(wall_ns(), &fill_to_strategies, &ctx);
    if (core.working_orders() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } while (monotonic_ns() < deadline);
  // Orders kept on purpose, or all settled: the dead-man timer must not cancel anything after we exit.
  // Cancels still unanswered: leave it armed, so the venue cancels those orders when it runs out.
  if (!opt.cancel_on_stop || core.working_orders() == 0) core.disarm_deadman(wall_ns());
  r.orders = core.counters();
  return r;
}

std::vector<feed::CapturedFrame> load_market_frames(const std::vector<std::string>& files,
                                                    std::vector<std::unique_ptr<feed::CaptureReader>>& readers, bool strict) {
  // The whole input in memory (the bench's floor replays chosen frames again): every file read whole and
  // merged by receive time, as the streaming replay merges them.
  std::vector<feed::CapturedFrame> frames = feed::read_merged(files, readers, feed::CaptureReadOptions{.strict = strict});
  std::erase_if(frames, [](const feed::CapturedFrame& f) {
    return f.kind != feed::FrameKind::ws_received && f.kind != feed::FrameKind::rest_body;
  });
  if (frames.empty()) throw Error("no market-data frames in the given files");
  return frames;
}

void set_thread_alloc_counter(ThreadAllocCounter fn) noexcept { g_alloc_counter.store(fn); }

std::uint64_t thread_allocations() noexcept {
  const ThreadAllocCounter f = g_alloc_counter.load(std::memory_order_relaxed);
  return f ? f() : 0;
}

PipelineResult run_pipeline(const std::vector<std::string>& files, InstrumentRegistry& registry,
                            strategy::StrategyStage& strategies, TradingCore& core, const PipelineOptions& opt) {
  // The wall time covers reading and decompressing too: the reader thread overlaps them with the replay.
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<feed::CaptureReadOptions> per_file = opt.file_options;
  if (per_file.empty()) per_file.assign(files.size(), feed::CaptureReadOptions{});
  for (feed::CaptureReadOptions& o : per_file) o.strict = o.strict || opt.strict;
  feed::FrameStream stream(files, std::move(per_file));
  ReplaySource frames{stream, stream.next(), nullptr};
  if (!frames.first) throw Error("no market-data frames in the given files");
  for (std::size_t i = 0; i < opt.file_venues.size(); ++i)
    if (opt.file_venues[i] != Venue::unknown && !same_feed_family(opt.venue, opt.file_venues[i]))
      throw Error(files[i] + ": a " + std::string(to_string(opt.file_venues[i])) + " file cannot be read in a " +
                  std::string(to_string(opt.venue)) + " run (one run reads one venue family)");
  PipelineResult r;
  r.data_start_ns = frames.first->recv_ns;
  with_venue_feed(opt.venue, [&]<class F>() { run_topology<F>(frames, registry, strategies, core, opt, r); });
  if (frames.error) std::rethrow_exception(frames.error);
  r.bad_lines = stream.bad_lines();
  if (r.bad_lines != 0) ENIGMA_LOG_WARN("feed", "{} bad capture lines skipped (the first ones are quoted on stderr)", r.bad_lines);
  // Frames in the input: a replay stopped early (a signal) reads the rest to count them (cold: the stream only,
  // no stage; about a second per few million frames), so the summary can say how far it got.
  r.frames_in_input = r.frames + (frames.stopped_before_one ? 1 : 0);
  if (!frames.exhausted) {
    const std::int64_t window_end = opt.data_window_ns > 0 ? r.data_start_ns + opt.data_window_ns : INT64_MAX;
    try {
      for (const feed::CapturedFrame* f = stream.next(); f && f->recv_ns <= window_end; f = stream.next()) ++r.frames_in_input;
    } catch (const Error&) {  // a --strict error past the stop: the run was stopped before it mattered
    }
  }
  if (opt.cancel_on_stop) {
    // [supervisor] on_stop: entries cancelled; flatten closes at the last book, then the stops are cancelled
    // once flat (two polls: the closes' fills, then the cancels they cause); keep_protected leaves the stops.
    core.stop(r.data_end_ns);
    strategy::IntentBuffer sink;
    std::pair<strategy::StrategyStage*, strategy::IntentBuffer*> ctx{&strategies, &sink};
    core.poll(r.data_end_ns + 1'000'000'000LL, &fill_to_strategies, &ctx);
    core.poll(r.data_end_ns + 60'000'000'000LL, &fill_to_strategies, &ctx);
  }
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  finish_result(r, core);
  return r;
}

void finish_result(PipelineResult& r, const TradingCore& core) {
  // Histograms were recorded in TSC ticks (cheapest on the hot path); convert once here.
  const double npt = TscClock::instance().ns_per_tick();
  StageHistograms& h = r.hist;
  h.decode = ticks_to_ns(h.decode, npt);
  h.book = ticks_to_ns(h.book, npt);
  h.signal = ticks_to_ns(h.signal, npt);
  h.frame = ticks_to_ns(h.frame, npt);
  h.hop = ticks_to_ns(h.hop, npt);
  h.risk = ticks_to_ns(core.hist_risk, npt);
  h.journal = ticks_to_ns(core.hist_journal, npt);
  h.encode = ticks_to_ns(core.hist_encode, npt);
  h.order = ticks_to_ns(core.hist_order, npt);
  h.order_frame = ticks_to_ns(h.order_frame, npt);
  for (const auto& [name, s] : StageHistograms::OrderFrameStages::named(h.order_stages)) *s = ticks_to_ns(*s, npt);
  r.orders = core.counters();
}

}  // namespace enigma::engine
