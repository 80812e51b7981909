// Binance market data: USD-M futures, COIN-M futures and spot.
//
// Decoder: combined-stream envelopes `{"stream":..,"data":{..}}` and bare payloads of `depthUpdate`
// (U/u, plus pu on futures), `trade`, `aggTrade`, `bookTicker` (spot has no "e"), `kline`,
// `markPriceUpdate`, and the REST depth snapshot `{"lastUpdateId":..,"bids":..,"asks":..}`.
// BookSync: the documented local-book procedure (RELIABILITY.md, Binance "How to manage a local order
// book correctly"): buffer diffs, apply a snapshot, drop diffs it already covers, require the first
// applied diff to straddle the snapshot id, then require an unbroken chain (futures: pu == previous u;
// spot: U == previous u + 1). Any break, or a crossed book, asks for a snapshot and stops publishing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "core/events.hpp"
#include "core/instrument.hpp"
#include "feed/book_check.hpp"
#include "feed/capture_reader.hpp"
#include "feed/event_buffer.hpp"
#include "feed/venues/book_subscription.hpp"
#include "feed/venues/symbol_cache.hpp"
#include "feed/l2_book.hpp"

namespace enigma::feed::binance {

// Binance resyncs a book from a REST depth snapshot, not by resubscribing. (feed/venues/book_subscription.hpp)
inline constexpr BookSubscription kBookSubscription{};

// True for binance_usdm, binance_coinm (diffs carry pu) ; false for binance_spot.
[[nodiscard]] constexpr bool is_futures(Venue v) noexcept {
  return v == Venue::binance_usdm || v == Venue::binance_coinm;
}

class Decoder {
 public:
  // `venue` must be one of binance_usdm / binance_coinm / binance_spot (throws enigma::Error otherwise).
  // Symbols are looked up in `registry`; with `auto_register` an unknown symbol is added once (default
  // spec, cold, first sight only), otherwise its messages are reported as MessageKind::ignored.
  Decoder(Venue venue, InstrumentRegistry& registry, bool auto_register = false);

  // Decodes one WebSocket frame (envelope or bare payload) and appends its events to `out`.
  // `padded_capacity` >= frame.size() + simdjson::SIMDJSON_PADDING readable bytes from frame.data().
  // Results: market_data with events; control (subscription ack `{"result":null,"id":..}`); ignored
  // (other event types, unknown symbols); errors: not JSON / malformed -> skip; malformed depth diff ->
  // resync (the book is unknown after a lost diff); `{"error":..}` reply -> fatal; buffer full -> capacity
  // + resync. On any error nothing of this frame is left in `out`.
  // A bare REST depth snapshot is decoded for `snapshot_instrument()` (see set_snapshot_instrument).
  [[nodiscard]] DecodeResult decode(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                                    EventBuffer& out) noexcept;

  // Decodes a REST depth snapshot body for `instrument` (the body does not name its symbol).
  [[nodiscard]] DecodeResult decode_snapshot(std::string_view body, std::size_t padded_capacity,
                                             InstrumentId instrument, std::uint64_t recv_tsc,
                                             EventBuffer& out) noexcept;

  // Instrument used when decode() meets a bare REST snapshot (kInvalidInstrument: such a frame is skipped).
  void set_snapshot_instrument(InstrumentId id) noexcept { snapshot_instrument_ = id; }
  [[nodiscard]] InstrumentId snapshot_instrument() const noexcept { return snapshot_instrument_; }
  [[nodiscard]] Venue venue() const noexcept { return venue_; }

  // Frames are first read by a strict one-pass scanner (feed/venues/json_scan.hpp) and only frames outside
  // its JSON subset by simdjson On-Demand; both give the same events. false: simdjson for every frame (the
  // differential fuzz target and the benchmarks compare the two).
  void set_scanner(bool on) noexcept { scan_first_ = on; }
  // Frames the scanner decoded (the others went to simdjson).
  [[nodiscard]] std::uint64_t scanned_frames() const noexcept { return scanned_frames_; }

 private:
  [[nodiscard]] DecodeResult decode_impl(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                                         InstrumentId forced, EventBuffer& out) noexcept;

  simdjson::ondemand::parser parser_;
  SymbolCache symbols_;
  Venue venue_;
  bool futures_;
  bool scan_first_{true};
  std::uint64_t scanned_frames_{0};
  InstrumentId snapshot_instrument_{kInvalidInstrument};
};

struct BookSyncStats {
  std::uint64_t gaps{0};           // chain breaks and snapshots that do not align with the buffered diffs
  std::uint64_t resyncs{0};        // snapshots asked for after a failed check (gap, crossed, capacity)
  std::uint64_t crossed{0};        // applied diffs that left the book crossed or locked
  std::uint64_t dropped_stale{0};  // diffs already covered by the snapshot
  std::uint64_t duplicates{0};     // diffs (u <= last applied u) and snapshots already in the book, dropped
  std::uint64_t buffer_overflows{0};
};

class BookSync {
 public:
  // One instrument of one Binance venue. `buffer_events` bounds the diffs (batch + level events) held
  // while waiting for a snapshot; on overflow the buffer restarts and the next snapshot will ask again.
  BookSync(Venue venue, InstrumentId instrument, std::size_t max_levels_per_side = 8192,
           std::size_t buffer_events = 1u << 16);

  // Feeds one decoded event (other instruments' events and non-book events are ignored).
  // book_changed: the last level of an applied batch (or of an aligned snapshot) has been applied and the
  // book is verified (synced, not crossed). need_snapshot: the caller must fetch a REST snapshot; error
  // says why (ok for the initial request, sequence_gap, crossed_book or capacity for a resync).
  [[nodiscard]] SyncResult on_event(const Event& e) noexcept;

  // Forget the book and buffered diffs (e.g. after a reconnect); awaits a snapshot.
  void reset() noexcept;

  [[nodiscard]] const L2Book& book() const noexcept { return book_; }
  [[nodiscard]] SyncState state() const noexcept { return state_; }
  [[nodiscard]] bool synced() const noexcept { return state_ == SyncState::synced; }
  // Last update id applied to the book (valid while synced).
  // The venue's update id (u) of the last diff or snapshot in the book.
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return last_u_; }
  // The counters every venue's book sync names alike (feed/venues: last_seq, gaps, resyncs, duplicates).
  [[nodiscard]] std::uint64_t gaps() const noexcept { return stats_.gaps; }
  [[nodiscard]] std::uint64_t resyncs() const noexcept { return stats_.resyncs; }
  [[nodiscard]] std::uint64_t duplicates() const noexcept { return stats_.duplicates; }
  [[nodiscard]] const BookSyncStats& stats() const noexcept { return stats_; }
  [[nodiscard]] InstrumentId instrument() const noexcept { return instrument_; }

 private:
  enum class Mode : std::uint8_t { idle, applying, applying_snapshot, buffering, dropping };

  SyncResult on_batch(const Event& e) noexcept;
  SyncResult finish_batch() noexcept;
  SyncResult finish_snapshot() noexcept;
  // Accepts or rejects a delta header against the current chain; true when its levels should be applied.
  [[nodiscard]] bool continues_chain(const BookBatch& b) const noexcept;
  [[nodiscard]] bool straddles_snapshot(const BookBatch& b) const noexcept;
  [[nodiscard]] bool covered_by_snapshot(const BookBatch& b) const noexcept;
  SyncResult fail(Errc why) noexcept;
  void buffer(const Event& e) noexcept;

  L2Book book_;
  EventStorage buf_;  // untouched until diffs are buffered
  std::size_t buf_cap_;
  std::size_t buf_size_{0};
  InstrumentId instrument_;
  bool futures_;
  SyncState state_{SyncState::awaiting_snapshot};
  Mode mode_{Mode::idle};
  bool snapshot_requested_{false};
  bool awaiting_first_diff_{false};  // synced from a snapshot, next diff must straddle its id
  std::uint32_t remaining_{0};       // levels still to come in the current batch
  std::uint64_t last_u_{0};
  std::uint64_t snapshot_id_{0};
  BookSyncStats stats_{};
};

// `enigma book-check --venue binance-usdm|binance-coinm|binance-spot`: replays the files (frames merged
// by receive time), rebuilds every symbol's book from its REST snapshot and diffs, and compares best
// bid/ask price and size with every bookTicker whose update id equals an applied diff's last id (a
// bookTicker usually arrives before the diff with its id, so it is held until that id is applied).
// A REST snapshot's symbol comes from its URL (`symbol=`) or, when the capture has a single symbol,
// from that symbol. Throws enigma::Error for unreadable files.
[[nodiscard]] BookCheckResult check(const std::vector<std::string>& files, Venue venue, const BookCheckOptions& opt);

// What the engine builds for this venue (the members are described in feed/venues/venue_list.hpp).
struct Feed {
  using Decoder = binance::Decoder;
  using BookSync = binance::BookSync;
  static constexpr bool takes_venue = true;
  static constexpr bool snapshot_by_instrument = true;
  static constexpr const BookSubscription& book_subscription = kBookSubscription;
  static constexpr auto book_check = &check;
  static constexpr bool quotes_share_book_seq = true;
  // A REST depth body names no symbol: the pipeline says whose it is (`traded`, from the request's URL).
  static DecodeResult decode(Decoder& d, const CapturedFrame& f, std::uint64_t tsc, InstrumentId traded,
                             EventBuffer& out) noexcept {
    if (f.kind == FrameKind::rest_body) return d.decode_snapshot(f.payload, f.padded_capacity, traded, tsc, out);
    return d.decode(f.payload, f.padded_capacity, tsc, out);
  }
};

}  // namespace enigma::feed::binance
