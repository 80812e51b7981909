// Normalized hot-path events: one cache line each, trivially copyable, carried through SpscRing.
//
// Every event carries the venue, instrument id, the venue's own time and the local receive TSC of the
// frame that produced it, so each stage can stamp latency against frame arrival. Book data arrives as
// a BookBatch (snapshot or delta header with the venue's sequence numbers) followed by `level_count`
// BookLevel events, so a book-sync stage can validate sequence before applying any level.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

#include "core/attributes.hpp"
#include "core/fixed_point.hpp"
#include "core/instrument.hpp"

namespace enigma {

enum class Side : std::uint8_t { buy = 0, sell = 1 };  // for book levels: buy = bid, sell = ask
[[nodiscard]] constexpr Side opposite(Side s) noexcept { return s == Side::buy ? Side::sell : Side::buy; }

enum class EventType : std::uint8_t {
  none = 0,
  book_batch,   // BookBatch: start of a snapshot or of one venue diff message
  book_level,   // BookLevel: one price level; qty 0 deletes it
  trade,        // Trade
  bbo,          // Bbo: venue best bid/offer (bookTicker, tickerV2, bbo-tbt)
  candle,       // Candle: venue candle (aux = interval in seconds)
  mark,         // MarkFunding: mark/index price and funding
  status,       // Status: feed state changes (gap, resync, stale, connection)
};

enum class BookBatchKind : std::uint8_t { snapshot = 0, delta = 1 };

struct BookBatch {
  std::uint64_t seq;        // the venue's last update id covered by this batch (Binance u, KuCoin sequence)
  std::uint64_t first_seq;  // first update id in the batch (Binance U); equals seq when the venue has one id
  std::uint64_t prev_seq;   // the venue's "previous update id" (Binance pu, OKX prevSeqId); 0 if none
  std::uint32_t level_count;
  std::int32_t checksum;    // OKX CRC32 (signed, as sent); valid when has_checksum
  BookBatchKind kind;
  bool has_prev_seq;
  bool has_checksum;
};

struct BookLevel {
  Price price;
  Qty qty;  // 0 removes the level
  Side side;
};

struct Trade {
  Price price;
  Qty qty;
  std::uint64_t trade_id;
  Side aggressor;  // side of the taker
};

struct Bbo {
  std::uint64_t seq;  // venue update id the quote reflects (Binance bookTicker u, KuCoin ticker sequence)
  Price bid_price;
  Qty bid_qty;
  Price ask_price;
  Qty ask_qty;
};

struct Candle {  // start time in header.venue_time_ns, interval seconds in header.aux
  Price open;
  Price high;
  Price low;
  Price close;
  Qty volume;
};

struct MarkFunding {
  Price mark_price;   // zero when not present
  Price index_price;  // zero when not present
  Rate funding_rate;  // zero when not present
  std::int64_t next_funding_time_ns;
};

enum class StatusCode : std::uint8_t {
  connected,
  disconnected,
  gap,             // expected/got carry the sequence numbers
  resync_started,
  resync_done,
  stale_feed,      // no data for the configured time while connected
};

struct Status {
  std::uint64_t expected;
  std::uint64_t got;
  StatusCode code;
};

struct EventHeader {
  std::uint64_t recv_tsc;      // TSC when the frame that caused this event was received
  std::int64_t venue_time_ns;  // venue timestamp (ns since epoch), 0 if the venue gave none
  InstrumentId instrument;
  Venue venue;
  EventType type;
  std::uint32_t aux;           // per-type extra: candle interval seconds
};
static_assert(sizeof(EventHeader) == 24, "header layout is part of the 64-byte budget");

struct alignas(kCacheLine) Event {
  EventHeader h;
  union {
    BookBatch batch;
    BookLevel level;
    Trade trade;
    Bbo bbo;
    Candle candle;
    MarkFunding mark;
    Status status;
  };

  Event() noexcept : h{}, bbo{} {}
};

static_assert(sizeof(Event) == kCacheLine, "one event per cache line (DESIGN.md hot-path rule)");
static_assert(std::is_trivially_copyable_v<Event>, "events are copied by memcpy through rings");
static_assert(std::is_trivially_destructible_v<Event>, "EventStorage (below) frees events without destroying them");
static_assert(sizeof(Candle) <= 40 && sizeof(Bbo) <= 40 && sizeof(BookBatch) <= 40, "payload budget is 40 bytes");

// Fixed event storage that is allocated but not written: Event's constructor zeroes it, so `new Event[n]`
// makes every page of a worst-case buffer resident up front (a Binance book sync's 65,536-event snapshot
// buffer is 4 MiB per instrument, nearly all of it never used). Storage from here becomes resident only
// where events are stored. Event is trivially copyable with a trivial destructor (an implicit-lifetime
// type), so assigning into the raw storage is defined; a slot holds no event until one is stored.
struct EventStorageDelete {
  void operator()(Event* p) const noexcept { ::operator delete(p, std::align_val_t{kCacheLine}); }
};
using EventStorage = std::unique_ptr<Event[], EventStorageDelete>;
[[nodiscard]] inline EventStorage make_event_storage(std::size_t n) {
  return EventStorage(static_cast<Event*>(::operator new(n * sizeof(Event), std::align_val_t{kCacheLine})));
}

}  // namespace enigma
