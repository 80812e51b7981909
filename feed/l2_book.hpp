// L2 order book for one instrument: two core::BookSide (a tick ladder near the top, sorted blocks of levels
// behind it; best first), so an update near the top is one slot and one bit, one deep in the book a couple
// of short searches and a move of at most LevelBlocks::kBlock levels, and best bid/ask are O(1). Capacity is
// fixed at construction; updates never allocate. The OMS prices entries at the 9th level: level(side, i)
// walks the ladder's occupancy bits.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/book_side.hpp"
#include "core/error.hpp"
#include "core/events.hpp"
#include "core/fixed_point.hpp"

namespace enigma::feed {

using Level = PriceLevel;

class L2Book {
 public:
  // `max_levels_per_side` bounds memory; an insert beyond it returns Errc::capacity (book unchanged).
  explicit L2Book(std::size_t max_levels_per_side = 8192);

  void clear() noexcept {
    bids_.clear();
    asks_.clear();
  }

  // Sets the quantity at `price`; qty 0 removes the level (removing an absent level is not an error).
  // Negative quantity is rejected with Errc::out_of_range; a new level beyond capacity with Errc::capacity
  // (book unchanged).
  [[nodiscard]] Errc apply(Side side, Price price, Qty qty) noexcept {
    if (qty.raw() < 0) [[unlikely]] return Errc::out_of_range;
    return (side == Side::buy ? bids_ : asks_).set(price, qty) ? Errc::ok : Errc::capacity;
  }

  [[nodiscard]] std::size_t depth(Side side) const noexcept { return side == Side::buy ? bids_.size() : asks_.size(); }
  [[nodiscard]] bool empty() const noexcept { return bids_.empty() && asks_.empty(); }
  // nullptr when that side is empty.
  [[nodiscard]] const Level* best_bid() const noexcept { return bids_.best(); }
  [[nodiscard]] const Level* best_ask() const noexcept { return asks_.best(); }
  // i-th best level of a side (0 = best); requires i < depth(side).
  [[nodiscard]] const Level& level(Side side, std::size_t i) const noexcept {
    return side == Side::buy ? bids_.level(i) : asks_.level(i);
  }
  // Copies up to n best levels of a side into out (best first); returns how many.
  std::size_t top(Side side, Level* out, std::size_t n) const noexcept;
  // Quantity at an exact price (0 if absent). O(log n).
  [[nodiscard]] Qty qty_at(Side side, Price price) const noexcept {
    return side == Side::buy ? bids_.qty_at(price) : asks_.qty_at(price);
  }

  // True when best bid >= best ask (crossed or locked); such a book must not be published.
  [[nodiscard]] bool crossed() const noexcept {
    return !bids_.empty() && !asks_.empty() && bids_.best()->price >= asks_.best()->price;
  }

 private:
  BookSide bids_;
  BookSide asks_;
};

}  // namespace enigma::feed
