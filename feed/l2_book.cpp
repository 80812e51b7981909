#include "feed/l2_book.hpp"

#include <cstring>

namespace enigma::feed {

L2Book::L2Book(std::size_t max_levels_per_side)
    : bids_(new Level[max_levels_per_side]), asks_(new Level[max_levels_per_side]), cap_(max_levels_per_side) {}

namespace {
// Position of `price` in a side array ordered so that the best level is last. `better(a, b)` is true
// when a is closer to the top of book than b. Searching from the top first would be faster for
// top-heavy updates, but binary search keeps the worst case at log2(8192) = 13 steps.
template <class Better>
std::size_t lower_pos(const Level* a, std::size_t n, Price price, Better better) noexcept {
  // First index whose price is not worse-than `price` (i.e. array is sorted worst..best).
  std::size_t lo = 0, hi = n;
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (better(price, a[mid].price)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

template <class Better>
Errc apply_side(Level* a, std::size_t& n, std::size_t cap, Price price, Qty qty, Better better) noexcept {
  const std::size_t i = lower_pos(a, n, price, better);
  const bool found = i < n && a[i].price == price;
  if (qty.is_zero()) {
    if (found) {
      std::memmove(a + i, a + i + 1, (n - i - 1) * sizeof(Level));
      --n;
    }
    return Errc::ok;
  }
  if (found) {
    a[i].qty = qty;
    return Errc::ok;
  }
  if (n == cap) [[unlikely]] return Errc::capacity;
  std::memmove(a + i + 1, a + i, (n - i) * sizeof(Level));
  a[i] = Level{price, qty};
  ++n;
  return Errc::ok;
}

constexpr auto kBidBetter = [](Price x, Price y) noexcept { return x > y; };
constexpr auto kAskBetter = [](Price x, Price y) noexcept { return x < y; };
}  // namespace

Errc L2Book::apply(Side side, Price price, Qty qty) noexcept {
  if (qty.raw() < 0) [[unlikely]] return Errc::out_of_range;
  if (side == Side::buy) return apply_side(bids_.get(), nbids_, cap_, price, qty, kBidBetter);
  return apply_side(asks_.get(), nasks_, cap_, price, qty, kAskBetter);
}

std::size_t L2Book::top(Side side, Level* out, std::size_t n) const noexcept {
  const std::size_t d = depth(side);
  const std::size_t k = n < d ? n : d;
  for (std::size_t i = 0; i < k; ++i) out[i] = level(side, i);
  return k;
}

Qty L2Book::qty_at(Side side, Price price) const noexcept {
  const Level* a = side == Side::buy ? bids_.get() : asks_.get();
  const std::size_t n = depth(side);
  const std::size_t i = side == Side::buy ? lower_pos(a, n, price, kBidBetter) : lower_pos(a, n, price, kAskBetter);
  return i < n && a[i].price == price ? a[i].qty : Qty{};
}

}  // namespace enigma::feed
