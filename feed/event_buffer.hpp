// Fixed-capacity output buffer that decoders fill with normalized events, plus the shared result types
// of every venue's decoder and book sync, so the engine can drive any venue the same way.
//
// Venue file pairs (feed/venues/<venue>.{hpp,cpp}) each provide, in namespace enigma::feed::<venue>:
//   class Decoder  { DecodeResult decode(std::string_view frame, std::size_t padded_capacity,
//                                        std::uint64_t recv_tsc, EventBuffer& out) noexcept; ... };
//   class BookSync { SyncResult on_event(const Event& e) noexcept; const L2Book& book() const noexcept; ... };
// and a book-check entry point `BookCheckResult check(const std::vector<std::string>& files, Venue, const BookCheckOptions&)`.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "core/error.hpp"
#include "core/events.hpp"
#include "core/prefault.hpp"

namespace enigma::feed {

class EventBuffer {
 public:
  // The slots are raw storage, not constructed: Event is an implicit-lifetime aggregate, and push() hands
  // out a slot the decoder fills. Their pages are mapped here, up to the first 2 MiB (32,768 events), in
  // one call rather than a fault at the first write to each page (constructing them wrote 2 MB, ~6 ms of
  // faults on the shared VM); beyond that (book-check's large buffers) they fault when a frame reaches them.
  explicit EventBuffer(std::size_t capacity = 16384)
      : events_(static_cast<Event*>(::operator new[](capacity * sizeof(Event), std::align_val_t{alignof(Event)}))), cap_(capacity) {
    prefault_writable(events_.get(), std::min<std::size_t>(capacity, kPrefaultEvents) * sizeof(Event));
  }
  static constexpr std::size_t kPrefaultEvents = 32768;

  // Next free slot, or nullptr when full (the decoder then reports Errc::capacity).
  [[nodiscard]] Event* push() noexcept { return size_ < cap_ ? &events_[size_++] : nullptr; }
  void clear() noexcept { size_ = 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }
  [[nodiscard]] const Event* begin() const noexcept { return events_.get(); }
  [[nodiscard]] const Event* end() const noexcept { return events_.get() + size_; }
  [[nodiscard]] const Event& operator[](std::size_t i) const noexcept { return events_[i]; }
  // Drops events pushed after `n` (a decoder rolls back a half-written message on failure).
  void truncate(std::size_t n) noexcept { if (n < size_) size_ = n; }

 private:
  struct Free {
    void operator()(Event* p) const noexcept { ::operator delete[](p, std::align_val_t{alignof(Event)}); }
  };
  std::unique_ptr<Event[], Free> events_;
  std::size_t cap_;
  std::size_t size_{0};
};

enum class MessageKind : std::uint8_t {
  market_data,  // produced events
  control,      // welcome / pong / subscription ack / heartbeat: no events, not an error
  ignored,      // a valid message of a kind this decoder does not turn into events
};

struct DecodeResult {
  Errc error{Errc::ok};
  ErrorAction action{ErrorAction::none};  // what to do when error != ok
  MessageKind kind{MessageKind::market_data};
  std::uint32_t events{0};                // events appended to the buffer

  [[nodiscard]] bool ok() const noexcept { return error == Errc::ok; }
};

// Hostile recorded input: no venue sends a price <= 0 or a negative size, yet both parse as decimals.
// Checks the events a decoder appended from `first` on; a frame carrying one becomes Errc::out_of_range
// with nothing left in `out` (action resync when it held book levels: that diff is lost, so is the book;
// skip otherwise). Book levels and trades need a price > 0; venue quotes (Bbo), candles and MarkFunding
// use zero for an empty side or an absent field (OKX option tickers), so there only a negative value is
// rejected. Sizes are never negative. Hot path: a short scan, no allocation.
[[nodiscard]] inline DecodeResult reject_impossible_values(DecodeResult r, EventBuffer& out, std::size_t first) noexcept {
  if (!r.ok()) return r;
  for (std::size_t i = first; i < out.size(); ++i) {
    const Event& e = out[i];
    bool bad = false;
    bool book = false;
    switch (e.h.type) {
      case EventType::book_level:
        bad = e.level.price.raw() <= 0 || e.level.qty.raw() < 0;
        book = true;
        break;
      case EventType::trade: bad = e.trade.price.raw() <= 0 || e.trade.qty.raw() < 0; break;
      case EventType::bbo:
        bad = e.bbo.bid_price.raw() < 0 || e.bbo.ask_price.raw() < 0 || e.bbo.bid_qty.raw() < 0 || e.bbo.ask_qty.raw() < 0;
        break;
      case EventType::candle:
        bad = e.candle.open.raw() < 0 || e.candle.high.raw() < 0 || e.candle.low.raw() < 0 || e.candle.close.raw() < 0 ||
              e.candle.volume.raw() < 0;
        break;
      case EventType::mark: bad = e.mark.mark_price.raw() < 0 || e.mark.index_price.raw() < 0; break;
      default: break;
    }
    if (bad) [[unlikely]] {
      for (std::size_t k = i + 1; k < out.size() && !book; ++k) book = out[k].h.type == EventType::book_level;
      for (std::size_t k = first; k < i && !book; ++k) book = out[k].h.type == EventType::book_level;
      out.truncate(first);
      return DecodeResult{Errc::out_of_range, book ? ErrorAction::resync : ErrorAction::skip, r.kind, 0};
    }
  }
  return r;
}

enum class SyncState : std::uint8_t {
  awaiting_snapshot,  // buffering diffs until a snapshot arrives (or is fetched)
  synced,             // book verified and publishable
};

struct SyncResult {
  bool book_changed{false};     // the published book changed (only while synced)
  bool need_snapshot{false};    // a gap / crossed book / bad checksum: caller must fetch a snapshot (resync)
  Errc error{Errc::ok};         // why a resync was asked for
};

}  // namespace enigma::feed
