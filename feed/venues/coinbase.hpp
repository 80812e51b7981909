// Coinbase market data: Advanced Trade (`level2` channel, delivered as "l2_data"; `market_trades`; `ticker`;
// heartbeats/subscriptions) and the legacy Exchange feed (`snapshot`, `l2update`, `match`/`last_match`,
// `ticker`, `subscriptions`, `heartbeat`, `error`).
//
// Sequencing: Advanced Trade numbers every message of a connection with `sequence_num`; the decoder checks
// it is contiguous and, on a break, emits a Status{gap} event (instrument kInvalidInstrument = every book of
// the connection) before the message's own events, so each BookSync stops publishing until a new snapshot
// (resubscribe). The legacy level2 feed has no sequence: only the crossed-book check applies.
#pragma once

#include <cstddef>
#include <cstdint>
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
#include "feed/venues/snapshots_in_stream.hpp"
#include "feed/venues/symbol_cache.hpp"
#include "feed/l2_book.hpp"

namespace enigma::feed::coinbase {

// Coinbase: {"type":"subscribe","channels":["level2"],...} (Exchange) or {"type":"subscribe","channel":"level2"} (Advanced Trade). (feed/venues/book_subscription.hpp)
inline constexpr BookSubscription kBookSubscription{{"\"type\""}, {"\"level2\"", "\"l2_data\"", "\"level2_batch\""}};

// "2021-04-17T16:43:37.075687Z" -> ns since epoch; Errc::bad_format if it is not that shape.
[[nodiscard]] Result<std::int64_t> parse_time(std::string_view s) noexcept;

class Decoder {
 public:
  // Product ids are looked up in `registry` under Venue::coinbase; with `auto_register` an unknown product is
  // added once (cold, first sight), otherwise its messages are reported as MessageKind::ignored.
  explicit Decoder(InstrumentRegistry& registry, bool auto_register = false);

  // snapshot / l2_data snapshot -> BookBatch(snapshot) + levels; l2update / l2_data update -> BookBatch(delta)
  // + levels (seq = sequence_num for Advanced Trade, 0 for legacy); match/last_match/market_trades -> Trade
  // (legacy "side" is the maker's, so the aggressor is the opposite side); ticker -> Bbo (sizes 0 when the
  // legacy ticker has none). Control: subscriptions, heartbeat(s). Legacy {"type":"error"} -> fatal.
  // Malformed book message -> resync; other malformed or non-JSON -> skip.
  [[nodiscard]] DecodeResult decode(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                                    EventBuffer& out) noexcept;

  // New connection: the next sequence_num starts a new chain.
  void reset() noexcept { have_seq_ = false; }
  [[nodiscard]] std::uint64_t gaps() const noexcept { return seq_gaps_; }
  // Advanced Trade messages dropped because their sequence_num was already seen (reported as ignored).
  [[nodiscard]] std::uint64_t duplicates() const noexcept { return duplicates_; }

  // The legacy feed's book messages are first read by a strict one-pass scanner (feed/venues/json_scan.hpp);
  // every other frame, and any the scanner cannot take, by simdjson On-Demand; both give the same events.
  // false: simdjson for every frame (the differential fuzz target and the benchmarks compare the two).
  void set_scanner(bool on) noexcept { scan_first_ = on; }
  // Frames the scanner decoded (the others went to simdjson).
  [[nodiscard]] std::uint64_t scanned_frames() const noexcept { return scanned_frames_; }

 private:
  // decode() without the price/size sanity check (reject_impossible_values) it applies afterwards.
  [[nodiscard]] DecodeResult decode_unchecked(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                                              EventBuffer& out) noexcept;
  struct EventCtx;
  [[nodiscard]] Errc parse_at_event(simdjson::ondemand::object ev, EventCtx& c, EventBuffer& out) noexcept;

  simdjson::ondemand::parser parser_;
  SymbolCache symbols_;
  bool have_seq_{false};
  std::uint64_t last_seq_{0};
  std::uint64_t seq_gaps_{0};
  std::uint64_t duplicates_{0};
  bool scan_first_{true};
  std::uint64_t scanned_frames_{0};
};

struct BookSyncStats {
  std::uint64_t gaps{0};
  std::uint64_t resyncs{0};
  std::uint64_t crossed{0};
  std::uint64_t applied{0};
};

class BookSync {
 public:
  explicit BookSync(InstrumentId instrument, std::size_t max_levels_per_side = 65536);

  // Feeds one decoded event. Snapshot -> rebuild; deltas apply only while synced; a crossed or locked book
  // after a message, or a Status{gap} for this instrument or for every instrument (kInvalidInstrument),
  // asks for a snapshot (need_snapshot) and stops publishing until one arrives.
  [[nodiscard]] SyncResult on_event(const Event& e) noexcept;
  void reset() noexcept;

  [[nodiscard]] const L2Book& book() const noexcept { return book_; }
  [[nodiscard]] SyncState state() const noexcept { return state_; }
  [[nodiscard]] bool synced() const noexcept { return state_ == SyncState::synced; }
  [[nodiscard]] const BookSyncStats& stats() const noexcept { return stats_; }
  // The counters every venue's book sync names alike; Coinbase's decoder drops repeated messages (by their
  // connection sequence number), so the sync sees none.
  [[nodiscard]] std::uint64_t gaps() const noexcept { return stats_.gaps; }
  [[nodiscard]] std::uint64_t resyncs() const noexcept { return stats_.resyncs; }
  [[nodiscard]] std::uint64_t duplicates() const noexcept { return 0; }
  [[nodiscard]] InstrumentId instrument() const noexcept { return instrument_; }

 private:
  enum class Mode : std::uint8_t { idle, applying, dropping };
  SyncResult fail(Errc why) noexcept;
  SyncResult finish() noexcept;

  L2Book book_;
  InstrumentId instrument_;
  SyncState state_{SyncState::awaiting_snapshot};
  Mode mode_{Mode::idle};
  bool snapshot_requested_{false};
  std::uint32_t remaining_{0};
  BookSyncStats stats_{};
};

// `enigma book-check --venue coinbase`: rebuilds each product's book; checked = book messages applied and
// verified not crossed, mismatched = messages that left a book crossed or locked, gaps = sequence_num breaks.
// The legacy ticker carries no book sequence, so its agreement with the book at arrival is only a loose
// indication: reported in notes as "ticker agreement (arrival order): A/N", never counted as a mismatch.
[[nodiscard]] BookCheckResult check(const std::vector<std::string>& files, Venue venue, const BookCheckOptions& opt);

// What the engine builds for this venue (the members are described in feed/venues/venue_list.hpp).
struct Feed : SnapshotsInStream<coinbase::Decoder> {
  using Decoder = coinbase::Decoder;
  using BookSync = coinbase::BookSync;
  static constexpr bool takes_venue = false;
  static constexpr bool snapshot_by_instrument = false;
  static constexpr const BookSubscription& book_subscription = kBookSubscription;
  static constexpr auto book_check = &check;
  static constexpr bool quotes_share_book_seq = false;  // Coinbase legacy's quotes have no update id
};

}  // namespace enigma::feed::coinbase
