// OKX v5 public WebSocket: decoders into normalized events, order-book sync with sequence ids and the
// CRC32 checksum, and the `book-check` entry point.
//
// Messages and what they become (`{"arg":{"channel","instId"},["action"],"data":[...]}`):
//   books, books-l2-tbt, books50-l2-tbt   BookBatch snapshot|delta + BookLevels (bids then asks).
//                                         seq = first_seq = seqId (0 when absent, as in 2022 captures),
//                                         prev_seq = prevSeqId when present and >= 0 (has_prev_seq),
//                                         checksum when present (has_checksum)
//   books5                                BookBatch snapshot with h.aux = 5 (partial top-5: BookSync
//                                         ignores it) + levels
//   bbo-tbt                               Bbo (seq = seqId or 0)
//   tickers                               Bbo (seq 0: OKX tickers carry no book sequence)
//   trades                                one Trade per element (trade_id = tradeId)
//   mark-price / funding-rate             MarkFunding (h.aux = 0)
//   {"event":"subscribe"|...}, "pong"     MessageKind::control; "error" events: login/auth codes
//                                         (60004-60011, 60024) fatal, others skip
// Each `data` element of a book message becomes its own BookBatch (OKX sends one per message today).
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
#include "feed/venues/symbol_cache.hpp"
#include "feed/l2_book.hpp"

namespace enigma::feed::okx {

// OKX: {"op":"subscribe","args":[{"channel":"books",...}]} (books, books5, books50-l2-tbt, ...). (feed/venues/book_subscription.hpp)
inline constexpr BookSubscription kBookSubscription{{"\"op\""}, {"\"books"}};

class Decoder {
 public:
  // With `auto_register`, unknown instIds are added to the registry on first sight; without it their
  // messages are MessageKind::ignored.
  // Channel pushes are read in one pass in document order; every other frame (events, other field orders)
  // takes the slow path, which looks fields up by name. `validate_json`: see kucoin::Decoder (simdjson 3.0.1
  // On-Demand can crash when such lookups skip malformed JSON, so a frame that takes the slow path is first
  // checked by a reused DOM parser unless the input is known to be valid JSON).
  explicit Decoder(InstrumentRegistry& registry, bool auto_register = false, bool validate_json = true);

  // Decodes one frame (`padded_capacity` readable bytes from frame.data(), >= size + 64). On failure
  // nothing is left appended. Book messages that fail ask for resync; others are skipped.
  [[nodiscard]] DecodeResult decode(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                                    EventBuffer& out) noexcept;

  // Code of the last {"event":"error"} frame (0 if none yet).
  [[nodiscard]] int last_error_code() const noexcept { return last_error_code_; }

  // Book pushes (books, books-l2-tbt, books50-l2-tbt, books5) are first read by a strict one-pass scanner
  // (feed/venues/json_scan.hpp) and only frames outside its JSON subset by simdjson; both give the same events.
  // false: simdjson for every frame (the differential fuzz target and the tests compare the two).
  void set_scanner(bool on) noexcept { scan_first_ = on; }
  // Frames the scanner decoded (the others went to simdjson).
  [[nodiscard]] std::uint64_t scanned_frames() const noexcept { return scanned_frames_; }

 private:
  // The scanner's read of a book push: true when it decoded the frame (`r` says how); false, with nothing
  // left in `out`, when simdjson must read it.
  bool scan_push(std::string_view frame, std::uint64_t recv_tsc, EventBuffer& out, DecodeResult& r) noexcept;
  // decode() without the price/size sanity check (reject_impossible_values) it applies afterwards.
  [[nodiscard]] DecodeResult decode_unchecked(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                                              EventBuffer& out) noexcept;
  // The one-pass read of a channel push {"arg":{..},"action":..,"data":[..]}: true when it decoded the frame
  // (`r` says how); false, with nothing left in `out`, when the frame needs the slow path (by name).
  bool decode_push(simdjson::ondemand::document& doc, std::uint64_t recv_tsc, EventBuffer& out, DecodeResult& r) noexcept;
  // A push's data array (nullptr: none) for its channel, instrument and action (nullptr: none).
  DecodeResult decode_data(std::string_view channel, std::string_view inst, const std::string_view* action,
                           simdjson::ondemand::value* data, std::uint64_t recv_tsc, EventBuffer& out) noexcept;

  SymbolCache symbols_;
  bool validate_json_;
  simdjson::ondemand::parser parser_;
  simdjson::dom::parser validator_;
  int last_error_code_{0};
  bool scan_first_{true};
  std::uint64_t scanned_frames_{0};
};

// OKX checksum of a book: CRC32 over "bid1px:bid1sz:ask1px:ask1sz:bid2px:..." for the best 25 levels
// of each side (a side that runs out simply stops contributing), as a signed 32-bit integer. Prices and
// sizes are written in shortest canonical decimal form (this reproduces OKX's checksums on the
// recorded data: the venue sends its numbers without trailing zeros).
[[nodiscard]] std::int32_t book_checksum(const L2Book& book) noexcept;
// The text book_checksum() hashes, written into `buf` (kChecksumTextCapacity bytes); returns its length.
inline constexpr std::size_t kChecksumTextCapacity = 50 * 48 + 64;
std::size_t book_checksum_text(const L2Book& book, char* buf) noexcept;

// book_checksum() for a book that changes a few levels at a time: each level's "price:size:" text is kept
// in a direct-mapped cache keyed by its exact fixed-point price and size, so an update formats only the
// levels it changed and the rest is copied; then one CRC32 over the text. Same result as book_checksum()
// for every book. Fixed size (32 KiB), allocated once.
class ChecksumCache {
 public:
  ChecksumCache();
  [[nodiscard]] std::int32_t checksum(const L2Book& book) noexcept;
  // The text checksum() hashes (as book_checksum_text).
  std::size_t text(const L2Book& book, char* buf) noexcept;

 private:
  struct Entry {
    std::int64_t price{-1};  // no level has a negative price: never matches
    std::int64_t qty{-1};
    std::uint32_t len{0};
    char text[44];  // "price:size:" (at most 21 + 1 + 21 + 1)
  };
  static_assert(sizeof(Entry) == 64);
  static constexpr std::size_t kEntries = 512;
  std::unique_ptr<Entry[]> entries_;
};

// Book sync for one instrument:
//  * a full snapshot (BookBatch snapshot, h.aux == 0) resets the book (also after maintenance, when
//    seqId may go backwards) and must match its checksum when one is sent;
//  * an update is applied only while synced and only if prevSeqId equals the previous seqId (when the
//    venue sends sequence ids); after it the checksum, when sent, must match and the book must not be
//    crossed. Any failure unpublishes the book (awaiting_snapshot) and returns need_snapshot; OKX sends
//    a fresh snapshot on resubscription. Updates received before a snapshot are dropped.
class BookSync {
 public:
  BookSync(InstrumentId instrument, std::size_t max_levels_per_side = 8192);

  [[nodiscard]] SyncResult on_event(const Event& e) noexcept;
  [[nodiscard]] const L2Book& book() const noexcept { return book_; }
  [[nodiscard]] SyncState state() const noexcept { return state_; }
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return last_seq_; }
  void reset() noexcept;

  [[nodiscard]] std::uint64_t checksums_checked() const noexcept { return checksums_checked_; }
  [[nodiscard]] std::uint64_t checksum_mismatches() const noexcept { return checksum_mismatches_; }
  [[nodiscard]] std::uint64_t gaps() const noexcept { return gaps_; }
  [[nodiscard]] std::uint64_t resyncs() const noexcept { return resyncs_; }
  // Messages dropped because the book already holds them (needs seqIds: 2022 captures have none).
  [[nodiscard]] std::uint64_t duplicates() const noexcept { return duplicates_; }

 private:
  enum class Pending : std::uint8_t { none, snapshot, apply, drop };
  [[nodiscard]] SyncResult finish() noexcept;
  [[nodiscard]] SyncResult lose_sync(Errc why) noexcept;

  InstrumentId instrument_;
  L2Book book_;
  ChecksumCache checksum_cache_;
  SyncState state_{SyncState::awaiting_snapshot};
  std::uint64_t last_seq_{0};
  Pending pending_{Pending::none};
  std::uint32_t remaining_{0};
  BookBatch cur_{};
  Errc apply_error_{Errc::ok};
  std::uint64_t checksums_checked_{0};
  std::uint64_t checksum_mismatches_{0};
  std::uint64_t gaps_{0};
  std::uint64_t resyncs_{0};
  std::uint64_t duplicates_{0};
  std::uint64_t last_snapshot_seq_{0};
};

// Rebuilds every `books` book in the captures and verifies each message's checksum (and seqIds when
// present): checked = checksums compared, mismatched = those that differed. `venue` must be okx.
[[nodiscard]] BookCheckResult check(const std::vector<std::string>& files, Venue venue, const BookCheckOptions& opt);

// What the engine builds for this venue (the members are described in feed/venues/venue_list.hpp).
struct Feed : SnapshotsInStream<okx::Decoder> {
  using Decoder = okx::Decoder;
  using BookSync = okx::BookSync;
  static constexpr bool takes_venue = false;
  static constexpr bool snapshot_by_instrument = false;
  static constexpr const BookSubscription& book_subscription = kBookSubscription;
  static constexpr auto book_check = &check;
  static constexpr bool quotes_share_book_seq = true;
};

}  // namespace enigma::feed::okx
