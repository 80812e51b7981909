#include "feed/l2_book.hpp"

namespace enigma::feed {

L2Book::L2Book(std::size_t max_levels_per_side)
    : bids_(Side::buy, max_levels_per_side), asks_(Side::sell, max_levels_per_side) {}

std::size_t L2Book::top(Side side, Level* out, std::size_t n) const noexcept {
  const BookSide& s = side == Side::buy ? bids_ : asks_;
  std::size_t k = 0;
  s.for_each([&](const Level& l) noexcept {
    if (k == n) return false;
    out[k++] = l;
    return true;
  });
  return k;
}

}  // namespace enigma::feed
