#include "core/book_side.hpp"

#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace enigma {

namespace {
// Two neighbouring blocks that fit in this many levels together are merged after a delete, so blocks stay
// at least about a third full and the pool (sized for an average of kBlock / 4 per block) never runs out
// before max_levels in practice. Below kBlock so that a merge is not undone by the next insert's split.
constexpr std::uint32_t kMerge = BookSide::kBlock * 3 / 4;
}  // namespace

BookSide::BookSide(Side side, std::size_t max_levels)
    : sign_(side == Side::buy ? -1 : 1), side_(side), max_levels_(max_levels) {
  blocks_ = max_levels / (kBlock / 4) + 2;
  pool_.reserve(blocks_);
  dir_.resize(blocks_);
  worst_key_.resize(blocks_);
  free_.reserve(blocks_);
}

std::uint32_t BookSide::take_block() noexcept {
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
std::size_t BookSide::find_block(std::int64_t k) const noexcept {
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

std::uint32_t BookSide::find_in_block(const Block& b, std::int64_t k) const noexcept {
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

void BookSide::move_tail(Block& src, std::uint32_t from, Block& dst) noexcept {
  const std::uint32_t count = src.n - from;
  std::memcpy(dst.keys + dst.n, src.keys + from, count * sizeof(std::int64_t));
  std::memcpy(dst.lv + dst.n, src.lv + from, count * sizeof(PriceLevel));
  for (std::uint32_t i = from; i < src.n; ++i) src.keys[i] = kEmpty;
  dst.n += count;
  src.n = from;
}

void BookSide::insert_dir(std::size_t at, std::uint32_t block) noexcept {
  std::memmove(dir_.data() + at + 1, dir_.data() + at, (ndir_ - at) * sizeof(dir_[0]));
  std::memmove(worst_key_.data() + at + 1, worst_key_.data() + at, (ndir_ - at) * sizeof(worst_key_[0]));
  dir_[at] = block;
  ++ndir_;
  refresh_worst(at);
}

void BookSide::erase_dir(std::size_t at) noexcept {
  std::memmove(dir_.data() + at, dir_.data() + at + 1, (ndir_ - at - 1) * sizeof(dir_[0]));
  std::memmove(worst_key_.data() + at, worst_key_.data() + at + 1, (ndir_ - at - 1) * sizeof(worst_key_[0]));
  --ndir_;
}

void BookSide::erase_at(std::size_t d, std::uint32_t i) noexcept {
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

bool BookSide::set(Price price, Qty qty, Qty* old) noexcept {
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

void BookSide::pop_worst() noexcept {
  if (size_ == 0) return;
  erase_at(ndir_ - 1, pool_[dir_[ndir_ - 1]].n - 1);
}

void BookSide::clear() noexcept {
  for (std::size_t d = 0; d < ndir_; ++d) {
    Block& b = pool_[dir_[d]];
    for (std::uint32_t i = 0; i < b.n; ++i) b.keys[i] = kEmpty;
    b.n = 0;
    free_.push_back(dir_[d]);
  }
  ndir_ = 0;
  size_ = 0;
}

Qty BookSide::qty_at(Price price) const noexcept {
  if (ndir_ == 0) return Qty{};
  const std::int64_t k = key(price);
  const Block& b = pool_[dir_[find_block(k)]];
  const std::uint32_t i = find_in_block(b, k);
  return i < b.n && b.lv[i].price == price ? b.lv[i].qty : Qty{};
}

}  // namespace enigma
