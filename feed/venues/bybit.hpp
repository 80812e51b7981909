// Bybit v5 public market data: `orderbook.{depth}.{symbol}` snapshot/delta, `publicTrade.{symbol}`,
// `tickers.{symbol}`, and the op replies (subscribe ack, pong).
//
// Book rules (Bybit v5 docs, "Orderbook"): a snapshot replaces the local book; deltas follow with the update
// id `u` increasing by one; a message with u == 1 is a snapshot after a service restart whatever its type
// says. The book arrives entirely over the WebSocket, so a resync means resubscribing (the venue then sends
// a snapshot).
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

namespace enigma::feed::bybit {

// Bybit V5: {"op":"subscribe","args":["orderbook.50.BTCUSDT"]}. (feed/venues/book_subscription.hpp)
inline constexpr BookSubscription kBookSubscription{{"\"op\""}, {"orderbook."}};

class Decoder {
 public:
  // Symbols are looked up in `registry` under Venue::bybit; with `auto_register` an unknown symbol is added
  // once (cold, first sight), otherwise its messages are reported as MessageKind::ignored.
  explicit Decoder(InstrumentRegistry& registry, bool auto_register = false);

  // Decodes one frame. orderbook -> BookBatch (seq = first_seq = u, kind snapshot when type is "snapshot"
  // or u == 1) + BookLevels; publicTrade -> one Trade per element (trade id: numeric value of "i" or its
  // FNV-1a hash for UUIDs); tickers -> Bbo (seq = cross sequence "cs") once bid1/ask1 price and size are
  // known (ticker deltas carry only changed fields, merged here per instrument) and MarkFunding when the
  // message has mark/index/funding fields. Subscription acks and pongs -> control; a failed op reply
  // ("success":false) -> fatal; not JSON / malformed -> skip; malformed orderbook -> resync.
  [[nodiscard]] DecodeResult decode(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                                    EventBuffer& out) noexcept;

  // Forget merged ticker state (after a reconnect: the venue re-sends ticker snapshots).
  void reset() noexcept;

  // Ticker merge state is kept for instrument ids below this bound; larger ids get unmerged tickers
  // (a Bbo only when one message carries all four fields).
  static constexpr std::size_t kMaxMergedInstruments = 1024;

 private:
  // decode() without the price/size sanity check (reject_impossible_values) it applies afterwards.
  [[nodiscard]] DecodeResult decode_unchecked(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                                              EventBuffer& out) noexcept;
  struct TickerState {
    Price bid_px{}, ask_px{}, mark{}, index{};
    Qty bid_qty{}, ask_qty{};
    Rate funding{};
    std::int64_t next_funding_ns{0};
    std::uint32_t have{0};
  };

  simdjson::ondemand::parser parser_;
  SymbolCache symbols_;
  std::vector<TickerState> tickers_;
};

struct BookSyncStats {
  std::uint64_t gaps{0};
  std::uint64_t resyncs{0};
  std::uint64_t crossed{0};
  std::uint64_t snapshots{0};
  std::uint64_t applied{0};  // batches (snapshots and deltas) applied and verified
  std::uint64_t duplicates{0};  // batches already in the book (u <= last applied u), dropped
};

class BookSync {
 public:
  BookSync(InstrumentId instrument, std::size_t max_levels_per_side = 8192);

  // Feeds one decoded event (others' and non-book events are ignored). book_changed: a snapshot or delta
  // was fully applied and the book verified; need_snapshot: resubscribe (error: sequence_gap, crossed_book,
  // capacity; ok for the first delta seen before any snapshot). Deltas are dropped until a snapshot.
  [[nodiscard]] SyncResult on_event(const Event& e) noexcept;
  void reset() noexcept;

  [[nodiscard]] const L2Book& book() const noexcept { return book_; }
  [[nodiscard]] SyncState state() const noexcept { return state_; }
  [[nodiscard]] bool synced() const noexcept { return state_ == SyncState::synced; }
  // The venue's update id (u) of the last diff or snapshot in the book.
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return last_u_; }
  // The counters every venue's book sync names alike (feed/venues: last_seq, gaps, resyncs, duplicates).
  [[nodiscard]] std::uint64_t gaps() const noexcept { return stats_.gaps; }
  [[nodiscard]] std::uint64_t resyncs() const noexcept { return stats_.resyncs; }
  [[nodiscard]] std::uint64_t duplicates() const noexcept { return stats_.duplicates; }
  [[nodiscard]] const BookSyncStats& stats() const noexcept { return stats_; }
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
  std::uint64_t last_u_{0};
  std::uint64_t last_snapshot_u_{0};
  BookSyncStats stats_{};
};

// `enigma book-check --venue bybit`: replays the files, rebuilds each symbol's book and verifies every
// message: checked = orderbook messages applied with a continuous `u` and a book that is not crossed,
// mismatched = messages that left the book crossed or locked, gaps = breaks in `u`. Notes give per-symbol
// levels per side at the end. Throws enigma::Error for unreadable files.
[[nodiscard]] BookCheckResult check(const std::vector<std::string>& files, Venue venue, const BookCheckOptions& opt);

// What the engine builds for this venue (the members are described in feed/venues/venue_list.hpp).
struct Feed : SnapshotsInStream<bybit::Decoder> {
  using Decoder = bybit::Decoder;
  using BookSync = bybit::BookSync;
  static constexpr bool takes_venue = false;
  static constexpr bool snapshot_by_instrument = false;
  static constexpr const BookSubscription& book_subscription = kBookSubscription;
  static constexpr auto book_check = &check;
  static constexpr bool quotes_share_book_seq = true;
};

}  // namespace enigma::feed::bybit
