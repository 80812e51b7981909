// libFuzzer: BookSide (tick ladder + sorted blocks) against a std::map, under prices a venue could send.
//
// Each 10-byte step: a side, a price, a quantity. The price is either near a mid that wanders and jumps (on a
// tick that the input can make finer, so the ladder learns, slides and rebuilds) or any 64-bit value (so its
// overflow guards and the blocks-only fallback run). Invariants after every step: set() agrees with the
// reference on success and on the old quantity, a refused set is a new level at capacity, and size, best,
// worst and the quantity at the price match; every 64 steps every level, best first.
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>

#include "core/book_side.hpp"

namespace {

using namespace enigma;

struct Reference {
  Side side;
  std::map<std::int64_t, std::int64_t> m;  // price raw -> qty raw
  std::int64_t best() const { return side == Side::buy ? m.rbegin()->first : m.begin()->first; }
  std::int64_t worst() const { return side == Side::buy ? m.begin()->first : m.rbegin()->first; }
};

void check_all(const BookSide& s, const Reference& r) {
  if (s.size() != r.m.size()) std::abort();
  auto walk = [&](auto it, auto end) {
    std::size_t i = 0;
    s.for_each([&](const PriceLevel& l) {
      if (it == end || l.price.raw() != it->first || l.qty.raw() != it->second) std::abort();
      if (s.level(i).price.raw() != it->first) std::abort();
      ++it;
      ++i;
      return true;
    });
    if (it != end) std::abort();
  };
  if (r.side == Side::buy) walk(r.m.rbegin(), r.m.rend());
  else walk(r.m.begin(), r.m.end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kCap = 300;
  BookSide bids(Side::buy, kCap), asks(Side::sell, kCap);
  Reference rb{Side::buy, {}}, ra{Side::sell, {}};
  std::int64_t mid = 1'000'000, tick = 1'000'000'000;  // raw units; the tick can only get finer
  for (std::size_t pos = 0, step = 0; pos + 10 <= size; pos += 10, ++step) {
    const std::uint8_t op = data[pos];
    BookSide& s = op & 1 ? asks : bids;
    Reference& r = op & 1 ? ra : rb;
    std::int64_t raw;
    if (op & 2) {
      std::memcpy(&raw, data + pos + 1, sizeof raw);  // any value a decoder could produce
      if (raw == INT64_MIN) continue;                  // not a Price: parse() never makes it (BookSide::set)
    } else {
      if (op & 4) mid += static_cast<std::int8_t>(data[pos + 1]) * std::int64_t{64};     // a jump
      if (op & 8) tick = std::max<std::int64_t>(1, tick / (2 + (data[pos + 2] & 7)));    // a finer tick
      const std::int64_t dist = static_cast<std::int64_t>(data[pos + 3] | (data[pos + 4] << 8)) % 5000;
      const std::int64_t ticks = r.side == Side::buy ? mid - dist : mid + dist;
      if (__builtin_mul_overflow(ticks, tick, &raw)) continue;
    }
    const Price p = Price::from_raw(raw);
    const std::int64_t q = (data[pos + 9] & 3) == 0 ? 0 : static_cast<std::int64_t>(data[pos + 9]) * 1000;
    const auto it = r.m.find(raw);
    const std::int64_t before = it == r.m.end() ? 0 : it->second;
    Qty old{};
    const bool ok = s.set(p, Qty::from_raw(q), &old);
    if (ok) {
      if (old.raw() != before) std::abort();
      if (q == 0) r.m.erase(raw);
      else r.m[raw] = q;
    } else if (q == 0 || before != 0 || r.m.size() < kCap) {
      std::abort();  // only a new level at capacity may be refused
    }
    if (s.size() != r.m.size() || s.qty_at(p).raw() != (ok ? q : before)) std::abort();
    if (r.m.empty() ? s.best() != nullptr || s.worst() != nullptr
                    : s.best()->price.raw() != r.best() || s.worst()->price.raw() != r.worst())
      std::abort();
    if (step % 64 == 63) check_all(s, r);
    if ((op & 0xf0) == 0xf0 && !r.m.empty()) {  // the sim exchange's overflow rule: drop the worst
      r.m.erase(r.worst());
      s.pop_worst();
    }
  }
  check_all(bids, rb);
  check_all(asks, ra);
  return 0;
}
