// KuCoin Futures and KuCoin spot: WebSocket/REST decoders into normalized events, level-2 book sync,
// the bullet-public token parser for the WebSocket client, and the `book-check` entry point.
//
// One Decoder type serves both products (the envelope {type, topic, subject, data} is shared); the
// `Venue` passed at construction (kucoin_futures or kucoin_spot) stamps the events and selects symbol
// lookups. Messages and what they become:
//   futures /contractMarket/level2          BookBatch delta (seq = first_seq = sequence) + 1 BookLevel
//   futures /contractMarket/level2Depth5/50 BookBatch snapshot with h.aux = depth (partial top-N, not
//                                           a full-book snapshot: BookSync ignores it) + levels
//   futures /contractMarket/tickerV2,ticker Bbo (seq = sequence)
//   futures /contractMarket/execution       Trade
//   futures /contractMarket/limitCandle, /contractMarket/candle    Candle (h.aux = interval seconds)
//   futures /contract/instrument            MarkFunding (mark.index.price or funding.rate; h.aux =
//                                           granularity seconds)
//   futures REST /api/v1/level2/snapshot    BookBatch snapshot (h.aux = 0) + levels (decode_snapshot)
//   spot /market/level2 (trade.l2update)    BookBatch delta (first_seq = sequenceStart, seq = sequenceEnd)
//                                           + one BookLevel per change whose price is not "0"; each
//                                           level's h.aux = change sequence - sequenceStart, so BookSync
//                                           can skip changes already in the snapshot
//   spot /market/ticker (trade.ticker)      Bbo (seq = sequence)
//   spot /market/match (trade.l3match)      Trade
//   spot /market/candles                    Candle
//   spot REST /api/v3/market/orderbook/level2   BookBatch snapshot + levels (decode_snapshot; the body
//                                           has no symbol, the caller passes the one it requested)
//   welcome / pong / ack                    MessageKind::control, no events
//   error                                   control + error: auth codes (401, 403) fatal, others skip;
//                                           details in last_control()
// Quantities with more than 10 decimals (KuCoin spot's 0.00019434546 BCHSV-USDT snapshot level) are
// rounded UP to Qty's 10 decimals, so a resting level never turns into a deletion, and counted in
// rounded_levels(); prices are never rounded (a price the book cannot hold exactly fails the message).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "core/error.hpp"
#include "core/events.hpp"
#include "core/instrument.hpp"
#include "feed/book_check.hpp"
#include "feed/capture_reader.hpp"
#include "feed/event_buffer.hpp"
#include "feed/venues/book_subscription.hpp"
#include "feed/venues/symbol_cache.hpp"
#include "feed/l2_book.hpp"

namespace enigma::feed::kucoin {

// KuCoin resyncs a book from a REST snapshot (level2 has no snapshot in the stream), not by resubscribing. (feed/venues/book_subscription.hpp)
inline constexpr BookSubscription kBookSubscription{};

// What the bullet-public (or bullet-private) REST response says about connecting: the token to put in
// the WebSocket URL, the first instance server, and the keep-alive timing.
struct BulletInfo {
  std::string token;
  std::string endpoint;
  int ping_interval_ms{0};
  int ping_timeout_ms{0};
};

// Cold path. Throws enigma::Error (naming the field and why) when the body is not JSON, `code` is not
// "200000", or token / instanceServers[0].endpoint / pingInterval / pingTimeout are missing or invalid.
[[nodiscard]] BulletInfo parse_bullet(std::string_view body);

// Last control frame seen by a Decoder (welcome, pong, ack, error), for the WebSocket session.
struct ControlFrame {
  enum class Type : std::uint8_t { none, welcome, pong, ack, error, other };
  Type type{Type::none};
  int code{0};              // error code of an error frame (e.g. 401), else 0
  char id[48]{};            // frame id (welcome session id / echo of the request id), truncated
  char message[96]{};       // error text, truncated
};

class Decoder {
 public:
  // `venue` must be Venue::kucoin_futures or Venue::kucoin_spot (throws enigma::Error otherwise).
  // With `auto_register`, symbols missing from the registry are added on first sight (tick and lot left
  // at their smallest values); without it messages for unknown symbols are MessageKind::ignored.
  //
  // Market-data pushes are read in one pass in document order (decode_push), the data object with the
  // topic found at the frame's tail and checked against the envelope. Every other frame takes the slow path,
  // which looks fields up by name. `validate_json`: simdjson 3.0.1 On-Demand can crash when such lookups
  // skip over malformed-but-balanced JSON (found by fuzz_kucoin_decoder), so by default a frame that takes
  // the slow path is first checked by a reused DOM parser (no allocation after construction); pass false
  // only for input already known to be valid JSON.
  Decoder(Venue venue, InstrumentRegistry& registry, bool auto_register = false, bool validate_json = true);

  // Decodes one WebSocket frame; `padded_capacity` readable bytes must start at frame.data()
  // (>= frame.size() + simdjson::SIMDJSON_PADDING). Appends events to `out`; on failure rolls back
  // what it appended. Errors: bad_format (not JSON: skip), missing_field / wrong_type / number errors
  // (skip, or resync for book messages), capacity (`out` full: resync for book messages, else skip),
  // unknown_message never (unknown topics are MessageKind::ignored).
  [[nodiscard]] DecodeResult decode(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                                    EventBuffer& out) noexcept;

  // Decodes a REST level-2 snapshot body (`{"code":"200000","data":{...}}`) into a full-book snapshot.
  // `symbol` names the instrument when the body has none (spot); the body's own symbol wins otherwise.
  // Failure actions are resync (the snapshot is needed to sync).
  [[nodiscard]] DecodeResult decode_snapshot(std::string_view body, std::size_t padded_capacity,
                                             std::string_view symbol, std::uint64_t recv_tsc,
                                             EventBuffer& out) noexcept;

  [[nodiscard]] const ControlFrame& last_control() const noexcept { return control_; }
  // Book quantities rounded up to 10 decimals so far (see the file comment).
  [[nodiscard]] std::uint64_t rounded_levels() const noexcept { return rounded_levels_; }
  [[nodiscard]] Venue venue() const noexcept { return venue_; }

  // Market-data pushes (futures level2, spot l2update, tickers, trades) are first read by a strict one-pass
  // scanner (feed/venues/json_scan.hpp) and only frames outside its JSON subset by simdjson; both give the
  // same events. false: simdjson for every frame (the differential fuzz target and the tests compare the two).
  void set_scanner(bool on) noexcept { scan_first_ = on; }
  // Frames the scanner decoded (the others went to simdjson).
  [[nodiscard]] std::uint64_t scanned_frames() const noexcept { return scanned_frames_; }

 private:
  // The scanner's read of a push: true when it decoded the frame (`r` says how); false, with nothing left in
  // `out`, when simdjson must read it.
  bool scan_push(std::string_view frame, std::uint64_t recv_tsc, EventBuffer& out, DecodeResult& r) noexcept;

  // The one-pass read of a push {"type":"message","topic":..,"subject":..,"data":{..}}: true when it decoded
  // the frame (`r` says how); false, with nothing left in `out`, when the frame needs decode_message.
  bool decode_push(std::string_view frame, simdjson::ondemand::document& doc, std::uint64_t recv_tsc, EventBuffer& out,
                   DecodeResult& r) noexcept;
  // The slow path: any frame, its envelope looked up by name (control frames, other field orders).
  DecodeResult decode_message(simdjson::ondemand::document& doc, std::uint64_t recv_tsc, EventBuffer& out) noexcept;
  // A push's data object (nullptr: the push has none), read in document order.
  DecodeResult decode_data(simdjson::ondemand::value* data, std::string_view topic, std::string_view subject,
                           std::uint64_t recv_tsc, EventBuffer& out) noexcept;
  DecodeResult decode_snapshot_data(simdjson::ondemand::object data, std::string_view symbol,
                                    std::uint64_t recv_tsc, EventBuffer& out) noexcept;

  Venue venue_;
  SymbolCache symbols_;
  bool validate_json_;
  simdjson::ondemand::parser parser_;
  simdjson::dom::parser validator_;
  ControlFrame control_{};
  std::uint64_t rounded_levels_{0};
  bool scan_first_{true};
  std::uint64_t scanned_frames_{0};
};

// Level-2 book sync for one instrument (KuCoin Futures and spot share one rule, because a futures
// increment is a spot update whose range is a single sequence):
//  * before a snapshot, deltas are buffered (fixed capacity);
//  * a full snapshot (BookBatch snapshot with h.aux == 0) resets the book to sequence S, then buffered
//    deltas are replayed under the rule below;
//  * a delta [first, last] with last <= S is stale and dropped (duplicates land here; a full snapshot
//    with sequence <= S while synced is a duplicate too and is dropped); first > S + 1 is
//    a gap: the book is unpublished (state awaiting_snapshot), need_snapshot is returned, and deltas are
//    buffered again; otherwise its changes with sequence > S are applied and S = last;
//  * a crossed book after a message, a malformed batch, or a full buffer also ask for a snapshot.
// book_changed is reported once per applied message, on the event that completes it, only while synced.
class BookSync {
 public:
  BookSync(Venue venue, InstrumentId instrument, std::size_t max_levels_per_side = 8192,
           std::size_t buffer_events = 65536);

  [[nodiscard]] SyncResult on_event(const Event& e) noexcept;
  [[nodiscard]] const L2Book& book() const noexcept { return book_; }
  [[nodiscard]] SyncState state() const noexcept { return state_; }
  // Sequence the book reflects (meaningful while synced).
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return last_seq_; }
  // Forget the book and the buffer and wait for a snapshot (after a reconnect).
  void reset() noexcept;

  [[nodiscard]] std::uint64_t gaps() const noexcept { return gaps_; }
  [[nodiscard]] std::uint64_t resyncs() const noexcept { return resyncs_; }
  [[nodiscard]] std::uint64_t stale_dropped() const noexcept { return stale_dropped_; }
  // Messages dropped because the book already holds them (the same capture twice, overlapping captures,
  // a repeated line): deltas with last <= S once a delta has been applied after the snapshot (before
  // that, a delta the snapshot covers is merely stale), and full snapshots with sequence <= S while synced.
  [[nodiscard]] std::uint64_t duplicates() const noexcept { return duplicates_; }
  [[nodiscard]] std::uint64_t snapshots_applied() const noexcept { return snapshots_; }

 private:
  enum class Pending : std::uint8_t { none, snapshot, apply, buffer, drop };
  enum class Verdict : std::uint8_t { apply, stale, gap };

  [[nodiscard]] Verdict judge(const BookBatch& b) const noexcept;
  [[nodiscard]] SyncResult finish_batch() noexcept;
  [[nodiscard]] SyncResult finish_snapshot() noexcept;
  [[nodiscard]] SyncResult lose_sync(Errc why, bool is_gap) noexcept;
  [[nodiscard]] bool buffer_push(const Event& e) noexcept;
  [[nodiscard]] Errc apply_level(const Event& e, std::uint64_t first_seq) noexcept;

  Venue venue_;
  InstrumentId instrument_;
  L2Book book_;
  EventStorage buffer_;  // untouched until diffs are buffered
  std::size_t buffer_cap_;
  std::size_t buffered_{0};
  bool buffer_overflowed_{false};
  SyncState state_{SyncState::awaiting_snapshot};
  std::uint64_t last_seq_{0};
  Pending pending_{Pending::none};
  std::uint32_t remaining_{0};
  std::uint64_t cur_first_{0};
  std::uint64_t cur_seq_{0};
  Errc apply_error_{Errc::ok};
  std::uint64_t gaps_{0};
  std::uint64_t resyncs_{0};
  std::uint64_t stale_dropped_{0};
  std::uint64_t duplicates_{0};
  bool delta_applied_{false};  // a delta has been applied since the last snapshot (see duplicates())
  std::uint64_t snapshots_{0};
};

// Rebuilds every book found in the files (WebSocket captures plus REST level-2 snapshot captures, merged
// by receive time) and compares the venue's ticker (spot trade.ticker, futures tickerV2/ticker) with the
// book at the same sequence: best bid/ask price and size. `venue` is kucoin_spot or kucoin_futures.
// Cold path; throws enigma::Error for unreadable files.
[[nodiscard]] BookCheckResult check(const std::vector<std::string>& files, Venue venue, const BookCheckOptions& opt);

// What the engine builds for this venue (the members are described in feed/venues/venue_list.hpp).
struct Feed {
  using Decoder = kucoin::Decoder;
  using BookSync = kucoin::BookSync;
  static constexpr bool takes_venue = true;
  static constexpr bool snapshot_by_instrument = false;
  static constexpr const BookSubscription& book_subscription = kBookSubscription;
  static constexpr auto book_check = &check;
  static constexpr bool quotes_share_book_seq = true;
  // A REST snapshot's symbol is in its URL (`symbol=`).
  static DecodeResult decode(Decoder& d, const CapturedFrame& f, std::uint64_t tsc, InstrumentId /*traded*/,
                             EventBuffer& out) noexcept {
    if (f.kind == FrameKind::rest_body) {
      std::string_view sym;
      if (const auto p = f.url.find("symbol="); p != std::string_view::npos) {
        sym = f.url.substr(p + 7);
        sym = sym.substr(0, sym.find('&'));
      }
      return d.decode_snapshot(f.payload, f.padded_capacity, sym, tsc, out);
    }
    return d.decode(f.payload, f.padded_capacity, tsc, out);
  }
};

}  // namespace enigma::feed::kucoin
