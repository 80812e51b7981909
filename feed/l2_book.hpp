// Flat L2 order book for one instrument.
//
// Each side is a sorted array with the best level at the END, so the common update (near the top of
// book) moves only the few elements above it, and best bid/ask are O(1). Capacity is fixed at
// construction; updates never allocate. Level i (0 = best) is data[size-1-i], so reading the 9th level
// (the OMS prices entries there) is one index computation.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/error.hpp"
#include "core/events.hpp"
#include "core/fixed_point.hpp"

namespace enigma::feed {

struct Level {
  Price price;
  Qty qty;
};

class L2Book {
 public:
  // `max_levels_per_side` bounds memory; an insert beyond it returns Errc::capacity (book unchanged).
  explicit L2Book(std::size_t max_levels_per_side = 8192);

  void clear() noexcept {
    nbids_ = 0;
    nasks_ = 0;
  }

  // Sets the quantity at `price`; qty 0 removes the level (removing an absent level is not an error).
  // Negative quantity is rejected with Errc::out_of_range.
  [[nodiscard]] Errc apply(Side side, Price price, Qty qty) noexcept;

  [[nodiscard]] std::size_t depth(Side side) const noexcept { return side == Side::buy ? nbids_ : nasks_; }
  [[nodiscard]] bool empty() const noexcept { return nbids_ == 0 && nasks_ == 0; }
  // nullptr when that side is empty.
  [[nodiscard]] const Level* best_bid() const noexcept { return nbids_ ? &bids_[nbids_ - 1] : nullptr; }
  [[nodiscard]] const Level* best_ask() const noexcept { return nasks_ ? &asks_[nasks_ - 1] : nullptr; }
  // i-th best level of a side (0 = best); requires i < depth(side).
  [[nodiscard]] const Level& level(Side side, std::size_t i) const noexcept {
    return side == Side::buy ? bids_[nbids_ - 1 - i] : asks_[nasks_ - 1 - i];
  }
  // Copies up to n best levels of a side into out (best first); returns how many.
  std::size_t top(Side side, Level* out, std::size_t n) const noexcept;
  // Quantity at an exact price (0 if absent). O(log n).
  [[nodiscard]] Qty qty_at(Side side, Price price) const noexcept;

  // True when best bid >= best ask (crossed or locked); such a book must not be published.
  [[nodiscard]] bool crossed() const noexcept {
    return nbids_ && nasks_ && bids_[nbids_ - 1].price >= asks_[nasks_ - 1].price;
  }

 private:
  // Bids ascending by price (best = highest = last); asks descending (best = lowest = last).
  std::unique_ptr<Level[]> bids_;
  std::unique_ptr<Level[]> asks_;
  std::size_t nbids_{0};
  std::size_t nasks_{0};
  std::size_t cap_;
};

}  // namespace enigma::feed
