// Fixed-capacity output buffer that decoders fill with normalized events, plus the shared result types
// of every venue's decoder and book sync, so the engine can drive any venue the same way.
//
// Venue file pairs (feed/venues/<venue>.{hpp,cpp}) each provide, in namespace enigma::feed::<venue>:
//   class Decoder  { DecodeResult decode(std::string_view frame, std::size_t padded_capacity,
//                                        std::uint64_t recv_tsc, EventBuffer& out) noexcept; ... };
//   class BookSync { SyncResult on_event(const Event& e) noexcept; const L2Book& book() const noexcept; ... };
// and a book-check entry point `BookCheckResult check(const std::vector<std::string>& files, Venue, const BookCheckOptions&)`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/error.hpp"
#include "core/events.hpp"

namespace enigma::feed {

class EventBuffer {
 public:
  explicit EventBuffer(std::size_t capacity = 16384) : events_(new Event[capacity]), cap_(capacity) {}

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
  std::unique_ptr<Event[]> events_;
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
