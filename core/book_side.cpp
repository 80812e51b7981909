#include "core/book_side.hpp"

#include <cstring>
#include <numeric>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace enigma {

namespace {
// |d| without overflow (INT64_MIN included).
std::uint64_t magnitude(std::int64_t d) noexcept {
  return d < 0 ? 0 - static_cast<std::uint64_t>(d) : static_cast<std::uint64_t>(d);
}

// Two neighbouring blocks that fit in this many levels together are merged after a delete, so blocks stay
// at least about a third full and the pool (sized for an average of kBlock / 4 per block) never runs out
// before max_levels in practice. Below kBlock so that a merge is not undone by the next insert's split.
constexpr std::uint32_t kMerge = LevelBlocks::kBlock * 3 / 4;
}  // namespace

LevelBlocks::LevelBlocks(Side side, std::size_t max_levels)
    : sign_(side == Side::buy ? -1 : 1), side_(side), max_levels_(max_levels) {
  blocks_ = max_levels / (kBlock / 4) + 2;
  pool_.reserve(blocks_);
  dir_.resize(blocks_);
  worst_key_.resize(blocks_);
  free_.reserve(blocks_);
}

std::uint32_t LevelBlocks::take_block() noexcept {
  if (!free_.empty()) {
    const std::uint32_t id = free_.back();
    free_.pop_back();
    return id;
  }
  if (pool_.size() == blocks_) return kNoBlock;
  pool_.emplace_back();  // within the reserved capacity: constructs in place, never reallocates
  return static_cast<std::uint32_t>(pool_.size() - 1);
}

// Both searches count the keys below k rather than bisect: diff streams land at unpredictable depths, and
// a chain of dependent loads and mispredicted compares cost more than a vectorized pass over a few hundred
// keys.
std::size_t LevelBlocks::find_block(std::int64_t k) const noexcept {
  if (k <= worst_key_[0]) return 0;  // the top block: most updates
  // Halve a deep directory (branch-free) down to a window of 32, then count within it.
  const std::int64_t* base = worst_key_.data();
  std::size_t n = ndir_;
  while (n > 32) {
    const std::size_t half = n / 2;
    base = base[half - 1] < k ? base + half : base;
    n -= half;
  }
  std::size_t below = static_cast<std::size_t>(base - worst_key_.data());
  for (std::size_t d = 0; d < n; ++d) below += base[d] < k ? 1 : 0;
  return below < ndir_ ? below : ndir_ - 1;  // worse than every level: the last block
}

std::uint32_t LevelBlocks::find_in_block(const Block& b, std::int64_t k) const noexcept {
#if defined(__AVX512F__)
  // Four 8-key compares into masks and one popcount: the compiler's own vectorization of the loop below
  // sums the lanes with a chain of shuffles that cost more than the compares.
  static_assert(kBlock == 32);
  const __m512i kk = _mm512_set1_epi64(k);
  const std::uint32_t m = _mm512_cmplt_epi64_mask(_mm512_load_si512(b.keys + 0), kk) |
                          (static_cast<std::uint32_t>(_mm512_cmplt_epi64_mask(_mm512_load_si512(b.keys + 8), kk)) << 8) |
                          (static_cast<std::uint32_t>(_mm512_cmplt_epi64_mask(_mm512_load_si512(b.keys + 16), kk)) << 16) |
                          (static_cast<std::uint32_t>(_mm512_cmplt_epi64_mask(_mm512_load_si512(b.keys + 24), kk)) << 24);
  return static_cast<std::uint32_t>(__builtin_popcount(m));
#else
  std::uint32_t below = 0;
  for (std::uint32_t i = 0; i < kBlock; ++i) below += b.keys[i] < k ? 1u : 0u;
  return below;
#endif
}

void LevelBlocks::move_tail(Block& src, std::uint32_t from, Block& dst) noexcept {
  const std::uint32_t count = src.n - from;
  std::memcpy(dst.keys + dst.n, src.keys + from, count * sizeof(std::int64_t));
  std::memcpy(dst.lv + dst.n, src.lv + from, count * sizeof(PriceLevel));
  for (std::uint32_t i = from; i < src.n; ++i) src.keys[i] = kEmpty;
  dst.n += count;
  src.n = from;
}

void LevelBlocks::insert_dir(std::size_t at, std::uint32_t block) noexcept {
  std::memmove(dir_.data() + at + 1, dir_.data() + at, (ndir_ - at) * sizeof(dir_[0]));
  std::memmove(worst_key_.data() + at + 1, worst_key_.data() + at, (ndir_ - at) * sizeof(worst_key_[0]));
  dir_[at] = block;
  ++ndir_;
  refresh_worst(at);
}

void LevelBlocks::erase_dir(std::size_t at) noexcept {
  std::memmove(dir_.data() + at, dir_.data() + at + 1, (ndir_ - at - 1) * sizeof(dir_[0]));
  std::memmove(worst_key_.data() + at, worst_key_.data() + at + 1, (ndir_ - at - 1) * sizeof(worst_key_[0]));
  --ndir_;
}

void LevelBlocks::erase_at(std::size_t d, std::uint32_t i) noexcept {
  Block& b = pool_[dir_[d]];
  std::memmove(b.keys + i, b.keys + i + 1, (b.n - i - 1) * sizeof(std::int64_t));
  std::memmove(b.lv + i, b.lv + i + 1, (b.n - i - 1) * sizeof(PriceLevel));
  --b.n;
  b.keys[b.n] = kEmpty;
  --size_;
  if (b.n == 0) {
    free_.push_back(dir_[d]);
    erase_dir(d);
    return;
  }
  if (i == b.n) refresh_worst(d);
  if (d + 1 < ndir_ && b.n + pool_[dir_[d + 1]].n <= kMerge) {
    move_tail(pool_[dir_[d + 1]], 0, b);
    free_.push_back(dir_[d + 1]);
    erase_dir(d + 1);
    refresh_worst(d);
  } else if (d > 0 && pool_[dir_[d - 1]].n + b.n <= kMerge) {
    move_tail(b, 0, pool_[dir_[d - 1]]);
    free_.push_back(dir_[d]);
    erase_dir(d);
    refresh_worst(d - 1);
  }
}

bool LevelBlocks::set(Price price, Qty qty, Qty* old) noexcept {
  const std::int64_t k = key(price);
  if (ndir_ == 0) {
    if (old) *old = Qty{};
    if (qty.raw() <= 0) return true;
    if (max_levels_ == 0) return false;
    const std::uint32_t id = take_block();
    if (id == kNoBlock) return false;
    pool_[id].n = 1;
    pool_[id].keys[0] = k;
    pool_[id].lv[0] = PriceLevel{price, qty};
    insert_dir(0, id);
    size_ = 1;
    return true;
  }
  std::size_t d = find_block(k);
  std::uint32_t i = find_in_block(pool_[dir_[d]], k);
  Block* b = &pool_[dir_[d]];
  const bool found = i < b->n && b->keys[i] == k;  // the key, not lv[i]: one cache line fewer
  if (old) *old = found ? b->lv[i].qty : Qty{};
  if (qty.raw() <= 0) {
    if (found) erase_at(d, i);
    return true;
  }
  if (found) {
    b->lv[i].qty = qty;
    return true;
  }
  if (size_ >= max_levels_) return false;
  if (b->n == kBlock) {  // split: the worse half moves to a new block right after this one
    const std::uint32_t id = take_block();
    if (id == kNoBlock) [[unlikely]] return false;
    constexpr std::uint32_t half = kBlock / 2;
    Block& upper = pool_[id];
    move_tail(*b, half, upper);
    refresh_worst(d);
    insert_dir(d + 1, id);
    if (i > half) {
      ++d;
      i -= half;
      b = &upper;
    }
  }
  std::memmove(b->keys + i + 1, b->keys + i, (b->n - i) * sizeof(std::int64_t));
  std::memmove(b->lv + i + 1, b->lv + i, (b->n - i) * sizeof(PriceLevel));
  b->keys[i] = k;
  b->lv[i] = PriceLevel{price, qty};
  ++b->n;
  ++size_;
  if (i == b->n - 1) refresh_worst(d);
  return true;
}

void LevelBlocks::pop_worst() noexcept {
  if (size_ == 0) return;
  erase_at(ndir_ - 1, pool_[dir_[ndir_ - 1]].n - 1);
}

void LevelBlocks::clear() noexcept {
  for (std::size_t d = 0; d < ndir_; ++d) {
    Block& b = pool_[dir_[d]];
    for (std::uint32_t i = 0; i < b.n; ++i) b.keys[i] = kEmpty;
    b.n = 0;
    free_.push_back(dir_[d]);
  }
  ndir_ = 0;
  size_ = 0;
}

Qty LevelBlocks::qty_at(Price price) const noexcept {
  if (ndir_ == 0) return Qty{};
  const std::int64_t k = key(price);
  const Block& b = pool_[dir_[find_block(k)]];
  const std::uint32_t i = find_in_block(b, k);
  return i < b.n && b.lv[i].price == price ? b.lv[i].qty : Qty{};
}

// ---- BookSide: the ladder in front of the blocks ----------------------------------------------------------

BookSide::BookSide(Side side, std::size_t max_levels)
    : sign_(side == Side::buy ? -1 : 1),
      side_(side),
      max_levels_(max_levels),
      slots_(static_cast<PriceLevel*>(::operator new(kLadder * sizeof(PriceLevel)))),  // PriceLevel: implicit-lifetime
      used_(new std::uint64_t[kWords]()),
      far_(side, max_levels) {}

std::size_t BookSide::next_used(std::size_t j) const noexcept {
  std::size_t w = j >> 6;
  std::uint64_t m = (j & 63) == 63 ? 0 : used_[w] & (~std::uint64_t{0} << ((j & 63) + 1));
  while (m == 0) {
    if (++w == kWords) return kLadder;
    m = used_[w];
  }
  return (w << 6) + static_cast<std::size_t>(__builtin_ctzll(m));
}

std::size_t BookSide::next_used_from(std::size_t j) const noexcept {
  return j == 0 ? ((used_[0] & 1) ? 0 : next_used(0)) : next_used(j - 1);
}

std::size_t BookSide::last_used() const noexcept {
  for (std::size_t w = kWords; w-- > 0;)
    if (used_[w] != 0) return (w << 6) + 63 - static_cast<std::size_t>(__builtin_clzll(used_[w]));
  return kLadder;
}

bool BookSide::base_before(std::int64_t k, std::uint64_t step, std::int64_t& base) const noexcept {
  std::int64_t back;
  if (step > static_cast<std::uint64_t>(INT64_MAX) / kLadder) return false;  // kLadder * step must fit
  if (__builtin_mul_overflow(static_cast<std::int64_t>(step), static_cast<std::int64_t>(kMargin), &back)) return false;
  if (__builtin_sub_overflow(k, back, &base)) return false;
  // Keys up to kLadder steps past the base must not overflow either.
  std::int64_t end;
  return !__builtin_add_overflow(base, static_cast<std::int64_t>(step * kLadder), &end);
}

void BookSide::move_to_blocks(std::size_t from) noexcept {
  // In any order: the blocks sort them.
  for (std::size_t w = from >> 6; w < kWords; ++w) {
    const std::uint64_t leaving = w == from >> 6 ? used_[w] & (~std::uint64_t{0} << (from & 63)) : used_[w];
    for (std::uint64_t m = leaving; m != 0; m &= m - 1) {
      const PriceLevel& l = slots_[(w << 6) + static_cast<std::size_t>(__builtin_ctzll(m))];
      (void)far_.set(l.price, l.qty);  // fits: the blocks hold max_levels and the total never exceeds it
      --near_;
    }
    used_[w] &= ~leaving;
  }
  if (near_ == 0) best_ = kLadder;
}

void BookSide::slide(std::int64_t by) noexcept {
  const std::size_t n = static_cast<std::size_t>(by < 0 ? -by : by);
  const std::size_t q = n >> 6, r = n & 63;
  std::uint64_t bits[kWords];
  if (by < 0) {
    // Toward better keys: the last n slots leave the window, into the blocks (better than all there).
    move_to_blocks(kLadder - n);
    std::memmove(static_cast<void*>(slots_.get() + n), slots_.get(), (kLadder - n) * sizeof(PriceLevel));
    for (std::size_t w = 0; w < kWords; ++w) {  // bit j -> j + n
      const std::uint64_t hi = w >= q ? used_[w - q] << r : 0;
      const std::uint64_t lo = r != 0 && w >= q + 1 ? used_[w - q - 1] >> (64 - r) : 0;
      bits[w] = hi | lo;
    }
  } else {
    // Toward worse keys: the first n slots are empty (the window starts at or before the best).
    std::memmove(static_cast<void*>(slots_.get()), slots_.get() + n, (kLadder - n) * sizeof(PriceLevel));
    for (std::size_t w = 0; w < kWords; ++w) {  // bit j -> j - n
      const std::uint64_t lo = w + q < kWords ? used_[w + q] >> r : 0;
      const std::uint64_t hi = r != 0 && w + q + 1 < kWords ? used_[w + q + 1] << (64 - r) : 0;
      bits[w] = lo | hi;
    }
  }
  std::memcpy(used_.get(), bits, sizeof bits);
  base_ += by * static_cast<std::int64_t>(step_);
  best_ = near_ ? next_used_from(0) : kLadder;
  take_from_blocks();
}

void BookSide::take_from_blocks() noexcept {
  // From the blocks' front, as far as the window reaches.
  while (!far_.empty()) {
    const PriceLevel l = *far_.best();
    // base_ <= every key, so the unsigned difference is the distance.
    const std::uint64_t d = static_cast<std::uint64_t>(key(l.price)) - static_cast<std::uint64_t>(base_);
    if (d >= span_) break;
    const std::size_t j = static_cast<std::size_t>(d / step_);
    (void)far_.set(l.price, Qty{});
    slots_[j] = l;
    used_[j >> 6] |= std::uint64_t{1} << (j & 63);
    ++near_;
    if (j < best_) best_ = j;
  }
}

void BookSide::rebuild(std::uint64_t step, std::int64_t base) noexcept {
  // The same grid, a window moved by less than its length: slots move, and only the levels that cross
  // the window's end change store.
  if (span_ != 0 && step == step_) {
    const std::int64_t by = (base - base_) / static_cast<std::int64_t>(step_);
    if (by * static_cast<std::int64_t>(step_) == base - base_ && by > -static_cast<std::int64_t>(kLadder) &&
        by < static_cast<std::int64_t>(kLadder)) {
      ++slides_;
      slide(by);
      return;
    }
  }
  ++rebuilds_;
  move_to_blocks(0);
  if (step == 0) {
    span_ = 0;
    return;
  }
  step_ = step;
  base_ = base;
  span_ = step * kLadder;
  take_from_blocks();
}

bool BookSide::far_set(Price price, Qty qty, Qty* old) noexcept {
  // The blocks check their own count; the side's limit is on both stores together.
  if (qty.raw() > 0 && size() >= max_levels_ && far_.qty_at(price).raw() == 0) {
    if (old) *old = Qty{};
    return false;
  }
  return far_.set(price, qty, old);
}

bool BookSide::set_slow(Price price, Qty qty, Qty* old) noexcept {
  const std::int64_t k = key(price);
  if (!ladder_on()) {
    const bool ok = far_set(price, qty, old);
    if (!ok || qty.raw() <= 0 || ladder_off_) return ok;
    // Learning the tick: every key so far is first_key_ plus a multiple of grid_.
    if (!has_first_) {
      first_key_ = k;
      has_first_ = true;
      return ok;
    }
    std::int64_t d;
    if (__builtin_sub_overflow(k, first_key_, &d)) {
      ladder_off_ = true;
      return ok;
    }
    grid_ = std::gcd(grid_, magnitude(d));
    std::int64_t base;
    if (far_.size() >= kLearnLevels && grid_ != 0) {
      if (base_before(key(far_.best()->price), grid_, base)) rebuild(grid_, base);
      else ladder_off_ = true;
    }
    return ok;
  }
  std::int64_t d;
  if (__builtin_sub_overflow(k, base_, &d)) {  // a price the ladder's arithmetic cannot place: blocks only
    ladder_off_ = true;
    rebuild(0, 0);
    return far_set(price, qty, old);
  }
  const bool on_grid = d % static_cast<std::int64_t>(step_) == 0;
  // A level off the grid or better than the ladder's first slot is absent (every level is on the grid,
  // none is better than base_): removing it changes nothing.
  if ((!on_grid || d < 0) && qty.raw() <= 0) {
    if (old) *old = Qty{};
    return true;
  }
  if (!on_grid || d < 0 || near_ == 0 || best_ > kLadder / 2) {
    // A finer grid, a window that starts better, or one whose best has drifted deep (or out): rebuild
    // around the better of this level and the current best, then place it.
    if (!on_grid || size() < max_levels_) {
      const std::uint64_t step = on_grid ? step_ : std::gcd(step_, magnitude(d));
      std::int64_t from = k;
      if (const PriceLevel* b = best(); b != nullptr && key(b->price) < from) from = key(b->price);
      std::int64_t base;
      if (!base_before(from, step, base)) {
        ladder_off_ = true;
        rebuild(0, 0);
        return far_set(price, qty, old);
      }
      rebuild(step, base);
      std::int64_t nd;
      if (!__builtin_sub_overflow(k, base_, &nd) && static_cast<std::uint64_t>(nd) < span_)
        return set_near(static_cast<std::uint64_t>(nd) / step_, price, qty, old);
    }
  }
  return far_set(price, qty, old);  // worse than the ladder's last slot (or a new level at capacity)
}

void BookSide::pop_worst() noexcept {
  if (!far_.empty()) {
    far_.pop_worst();
    return;
  }
  if (near_ == 0) return;
  const std::size_t j = last_used();
  used_[j >> 6] &= ~(std::uint64_t{1} << (j & 63));
  --near_;
  if (j == best_) best_ = kLadder;
}

void BookSide::clear() noexcept {
  for (std::size_t w = 0; w < kWords; ++w) used_[w] = 0;
  near_ = 0;
  best_ = kLadder;
  far_.clear();
}

const PriceLevel* BookSide::worst() const noexcept {
  if (!far_.empty()) return far_.worst();
  return near_ ? &slots_[last_used()] : nullptr;
}

const PriceLevel& BookSide::level(std::size_t i) const noexcept {
  if (i >= near_) return far_.level(i - near_);
  std::size_t w = best_ >> 6;
  std::uint64_t m = used_[w];
  for (;;) {
    const auto c = static_cast<std::size_t>(__builtin_popcountll(m));
    if (i < c) break;
    i -= c;
    m = used_[++w];
  }
  for (; i != 0; --i) m &= m - 1;
  return slots_[(w << 6) + static_cast<std::size_t>(__builtin_ctzll(m))];
}

Qty BookSide::qty_at(Price price) const noexcept {
  std::int64_t d;
  if (!__builtin_sub_overflow(key(price), base_, &d) && static_cast<std::uint64_t>(d) < span_) {
    const std::uint64_t j = static_cast<std::uint64_t>(d) / step_;
    if (j * step_ != static_cast<std::uint64_t>(d)) return Qty{};
    return (used_[j >> 6] >> (j & 63)) & 1 ? slots_[j].qty : Qty{};
  }
  return far_.qty_at(price);
}

}  // namespace enigma
