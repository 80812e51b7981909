// Kraken market data: spot WebSocket v2 (wss://ws.kraken.com/v2) and Kraken Futures WebSocket v1
// (wss://futures.kraken.com/ws/v1), decoders into normalized events, book sync and `book-check`.
//
// Spot v2 (Venue::kraken_spot), `{"channel":..,"type":..,"data":[..]}`:
//   book   snapshot|update  BookBatch + BookLevels (bids then asks) per data element, has_checksum with the
//                           venue's CRC32 (unsigned on the wire, stored as its int32 bit pattern), seq 0
//                           (spot v2 has no sequence numbers: the checksum is the integrity check).
//                           h.aux = price decimals | qty decimals << 8 | subscribed depth << 16 (see below)
//   trade  update           one Trade per element (trade_id = trade_id); `snapshot` (recent history) ignored
//   ticker snapshot|update  Bbo (bid/bid_qty/ask/ask_qty; seq 0: no book sequence)
//   heartbeat, status, {"method":...} answers   MessageKind::control (a failed subscribe: control + skip)
// Prices and sizes arrive as JSON numbers printed with the pair's full precision ("45281.0",
// "0.10000000"); the checksum hashes exactly that text without '.' and leading zeros
// (https://docs.kraken.com/exchange/guides/websockets/book-checksum-v2), so the decoder reports the
// number of fractional digits it saw (aux bits 0-7 price, 8-15 qty) and the sync rebuilds the text from
// the fixed-point levels. The depth of the subscription (aux bits 16-31, 0 = not seen) comes from the
// subscribe answer {"method":"subscribe","result":{"channel":"book","depth":N,"symbol":..}}.
//
// Futures v1 (Venue::kraken_futures), `{"feed":..,"product_id":..}`:
//   book_snapshot    BookBatch snapshot (seq = seq) + levels
//   book             BookBatch delta (seq = first_seq = seq) + one level (side "buy" = bid, "sell" = ask)
//   trade            Trade (trade_id = FNV-1a of `uid`, a UUID); trade_snapshot (history) ignored
//   ticker_lite      Bbo (bid/ask, sizes 0: the feed has none; seq 0)
//   heartbeat, {"event":"info"|"subscribed"|"alert"...}   control; {"event":"error"} control + skip
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
#include "feed/venues/snapshots_in_stream.hpp"
#include "feed/l2_book.hpp"

namespace enigma::feed::kraken {

// Kraken spot v2: {"method":"subscribe","params":{"channel":"book",...}}; Kraken Futures v1: {"event":"subscribe","feed":"book",...}. (feed/venues/book_subscription.hpp)
inline constexpr BookSubscription kBookSubscription{{"\"method\"", "\"event\""}, {"\"book\""}};

// Depths a spot `book` subscription may ask for (docs: 10, 25, 100, 500, 1000; default 10).
inline constexpr std::uint32_t kSpotDepths[] = {10, 25, 100, 500, 1000};
// The checksum covers the best 10 levels of each side whatever the subscribed depth.
inline constexpr std::size_t kChecksumLevels = 10;

// aux of a spot book BookBatch.
[[nodiscard]] constexpr std::uint32_t pack_book_aux(unsigned price_decimals, unsigned qty_decimals,
                                                    std::uint32_t depth) noexcept {
  return (price_decimals & 0xFFu) | (qty_decimals & 0xFFu) << 8 | (depth & 0xFFFFu) << 16;
}
[[nodiscard]] constexpr unsigned aux_price_decimals(std::uint32_t aux) noexcept { return aux & 0xFFu; }
[[nodiscard]] constexpr unsigned aux_qty_decimals(std::uint32_t aux) noexcept { return (aux >> 8) & 0xFFu; }
[[nodiscard]] constexpr std::uint32_t aux_depth(std::uint32_t aux) noexcept { return aux >> 16; }

class Decoder {
 public:
  // `venue` is kraken_spot or kraken_futures (else enigma::Error). With `auto_register`, unknown symbols
  // are added to the registry on first sight (cold); without it their messages are MessageKind::ignored.
  // `validate_json`: each frame is first checked by a reused DOM parser (simdjson On-Demand must not walk
  // malformed JSON); turn it off only for input known to be valid.
  Decoder(Venue venue, InstrumentRegistry& registry, bool auto_register = false, bool validate_json = true);

  // Decodes one frame (`padded_capacity` readable bytes from frame.data(), >= size + 64). On failure
  // nothing is left appended; a malformed book message asks for resync, anything else is skipped.
  [[nodiscard]] DecodeResult decode(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                                    EventBuffer& out) noexcept;

  [[nodiscard]] Venue venue() const noexcept { return venue_; }

 private:
  struct CacheEntry {
    Symbol symbol;
    InstrumentId id{kInvalidInstrument};
    std::uint32_t depth{0};  // spot: subscribed book depth from the subscribe answer (0 = not seen)
  };
  static constexpr std::size_t kCacheSize = 512;
  CacheEntry* lookup(std::string_view symbol) noexcept;
  [[nodiscard]] DecodeResult decode_spot(simdjson::ondemand::object root, std::uint64_t recv_tsc,
                                         EventBuffer& out) noexcept;
  [[nodiscard]] DecodeResult decode_futures(simdjson::ondemand::object root, std::uint64_t recv_tsc,
                                            EventBuffer& out) noexcept;
  [[nodiscard]] DecodeResult spot_method(simdjson::ondemand::object root) noexcept;

  Venue venue_;
  InstrumentRegistry& registry_;
  bool auto_register_;
  bool validate_json_;
  simdjson::ondemand::parser parser_;
  simdjson::dom::parser validator_;
  std::unique_ptr<CacheEntry[]> cache_;
};

// Kraken spot book checksum: CRC32 (IEEE) of, for the best 10 asks (low to high) then the best 10 bids
// (high to low), price then qty written with `price_decimals` / `qty_decimals` fractional digits, the
// '.' removed and leading zeros stripped. Returned unsigned, as the venue sends it.
[[nodiscard]] std::uint32_t book_checksum(const L2Book& book, unsigned price_decimals, unsigned qty_decimals) noexcept;

// Book sync for one instrument of either product:
//  * spot: a snapshot rebuilds the book; an update applies only while synced. After every message the
//    book is cut to the subscribed depth (the venue sends no delete for levels pushed out of scope; depth
//    from the subscribe answer, else the smallest allowed depth that holds the snapshot), then its CRC32
//    must equal the message's checksum and the book must not be crossed. A failure unpublishes the book
//    and returns need_snapshot (the venue sends a new snapshot on resubscription).
//  * futures: a snapshot rebuilds the book; each update's seq must be the previous seq + 1 (a lower or
//    equal seq is a duplicate, dropped; a higher one is a gap: resync), and the book must not be crossed.
// Updates received before a snapshot are dropped.
class BookSync {
 public:
  BookSync(Venue venue, InstrumentId instrument, std::size_t max_levels_per_side = 8192);

  [[nodiscard]] SyncResult on_event(const Event& e) noexcept;
  [[nodiscard]] const L2Book& book() const noexcept { return book_; }
  [[nodiscard]] SyncState state() const noexcept { return state_; }
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return last_seq_; }
  // Spot: the depth the book is kept to (0 before the first snapshot).
  [[nodiscard]] std::uint32_t depth() const noexcept { return depth_; }
  // Spot: fractional digits the venue prints for this pair (what the checksum text uses).
  [[nodiscard]] unsigned price_decimals() const noexcept { return price_decimals_; }
  [[nodiscard]] unsigned qty_decimals() const noexcept { return qty_decimals_; }
  void reset() noexcept;

  [[nodiscard]] std::uint64_t checksums_checked() const noexcept { return checksums_checked_; }
  [[nodiscard]] std::uint64_t checksum_mismatches() const noexcept { return checksum_mismatches_; }
  // Futures: updates whose seq continued the chain (each one is a sequence check that passed).
  [[nodiscard]] std::uint64_t sequence_checks() const noexcept { return sequence_checks_; }
  [[nodiscard]] std::uint64_t gaps() const noexcept { return gaps_; }
  [[nodiscard]] std::uint64_t resyncs() const noexcept { return resyncs_; }
  [[nodiscard]] std::uint64_t duplicates() const noexcept { return duplicates_; }

 private:
  enum class Pending : std::uint8_t { none, snapshot, apply, drop };
  [[nodiscard]] SyncResult finish() noexcept;
  [[nodiscard]] SyncResult lose_sync(Errc why) noexcept;
  void truncate_to_depth() noexcept;

  Venue venue_;
  InstrumentId instrument_;
  L2Book book_;
  SyncState state_{SyncState::awaiting_snapshot};
  Pending pending_{Pending::none};
  std::uint32_t remaining_{0};
  BookBatch cur_{};
  std::uint32_t cur_aux_{0};
  Errc apply_error_{Errc::ok};
  std::uint64_t last_seq_{0};
  unsigned price_decimals_{0};
  unsigned qty_decimals_{0};
  std::uint32_t depth_{0};
  std::uint64_t checksums_checked_{0};
  std::uint64_t checksum_mismatches_{0};
  std::uint64_t sequence_checks_{0};
  std::uint64_t gaps_{0};
  std::uint64_t resyncs_{0};
  std::uint64_t duplicates_{0};
};

// `enigma book-check --venue kraken-spot|kraken-futures`: rebuilds every book in the captures.
// Spot: checked = CRC32 checksums compared (every snapshot and update), mismatched = those that differed.
// Futures (no checksum on that feed): checked = updates whose seq continued the chain after a snapshot,
// mismatched = updates that left the book crossed or locked; gaps = seq breaks.
[[nodiscard]] BookCheckResult check(const std::vector<std::string>& files, Venue venue, const BookCheckOptions& opt);

// What the engine builds for this venue (the members are described in feed/venues/venue_list.hpp).
struct Feed : SnapshotsInStream<kraken::Decoder> {
  using Decoder = kraken::Decoder;
  using BookSync = kraken::BookSync;
  static constexpr bool takes_venue = true;
  static constexpr bool snapshot_by_instrument = false;
  static constexpr const BookSubscription& book_subscription = kBookSubscription;
  static constexpr auto book_check = &check;
  static constexpr bool quotes_share_book_seq = false;  // its tickers carry no book sequence
};

}  // namespace enigma::feed::kraken
