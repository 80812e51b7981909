// One side of a price-level book: price -> displayed quantity, best level first, fixed capacity.
//
// Two stores, one order. Most of a venue's updates land near the top (in the bundled Binance BTCUSDT
// session half of all diff levels are within 400 ticks of the best, 88 % within 3,000), yet the book is
// thousands of levels deep. BookSide keeps the part of the side near the top in a ladder: one slot per
// price tick over kLadder ticks from base_, an occupancy bitmap beside it, so an update there is a
// division, one slot and one bit (no search, no move). Everything worse than the ladder's last slot lives
// in LevelBlocks, the sorted-block store below. Every level in the ladder is better than every level in
// the blocks, so best-first reads walk the ladder's bitmap and then the blocks.
//
// The tick is learned, not configured: the ladder starts once kLearnLevels levels are known, on the
// greatest common divisor of their prices' differences, and a price off that grid later makes the grid
// finer (a rebuild). A price better than the ladder's first slot, or a best that has drifted deep into
// it, moves the window (a rebuild). Rebuilds move levels between the two stores and are rare (a move of
// the best by kLadder / 8 ticks); prices too large for the arithmetic keep every level in the blocks.
//
// Why blocks for the rest: venues change levels anywhere in a book thousands of levels deep. In one flat
// sorted array each such insert or delete moves every level between it and the end (tens of KB at a few
// thousand levels). In LevelBlocks the levels live in small sorted blocks of kBlock entries, chained best
// block first through a short directory that also holds each block's worst price; an update is a binary
// search of the directory, a vectorized count within one block and a move of at most kBlock entries.
//
// Memory comes from pools allocated in the constructor; no operation allocates. Comparisons use a key
// (-price for bids, price for asks), so "smaller key = better" holds on both sides.
#pragma once

#include <cstddef>
#include <climits>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#include "core/attributes.hpp"
#include "core/events.hpp"
#include "core/fixed_point.hpp"

namespace enigma {

struct PriceLevel {
  Price price;
  Qty qty;
};

// The sorted-block store (see the top of this file): BookSide's levels beyond its ladder, and all of them
// until the ladder has a grid.
class LevelBlocks {
 public:
  static constexpr std::size_t kBlock = 32;

  // `max_levels` bounds the number of levels; set() of a new level beyond it returns false.
  LevelBlocks(Side side, std::size_t max_levels);
  // Not copyable: a copy's vectors would lose their reserved capacity, and set() would then allocate.
  LevelBlocks(const LevelBlocks&) = delete;
  LevelBlocks& operator=(const LevelBlocks&) = delete;
  LevelBlocks(LevelBlocks&&) noexcept = default;
  LevelBlocks& operator=(LevelBlocks&&) noexcept = default;

  // Sets the quantity at `price`; qty <= 0 removes the level (removing an absent one is a no-op). Returns
  // the quantity that was there before (zero when absent) through `old`. False only when a new level does
  // not fit (at max_levels, or the block pool is exhausted); the side is then unchanged.
  bool set(Price price, Qty qty, Qty* old = nullptr) noexcept;
  // Removes the worst level (no-op when empty).
  void pop_worst() noexcept;
  void clear() noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t max_levels() const noexcept { return max_levels_; }
  [[nodiscard]] Side side() const noexcept { return side_; }
  // nullptr when empty.
  [[nodiscard]] const PriceLevel* best() const noexcept { return size_ ? &pool_[dir_[0]].lv[0] : nullptr; }
  [[nodiscard]] const PriceLevel* worst() const noexcept {
    if (size_ == 0) return nullptr;
    const Block& b = pool_[dir_[ndir_ - 1]];
    return &b.lv[b.n - 1];
  }
  // i-th best level (0 = best); requires i < size(). O(i / kBlock).
  [[nodiscard]] const PriceLevel& level(std::size_t i) const noexcept {
    for (std::size_t k = 0;; ++k) {
      const Block& b = pool_[dir_[k]];
      if (i < b.n) return b.lv[i];
      i -= b.n;
    }
  }
  // Quantity at exactly `price` (zero when absent).
  [[nodiscard]] Qty qty_at(Price price) const noexcept;
  // True when `a` is a better price than `b` on this side.
  [[nodiscard]] bool better(Price a, Price b) const noexcept { return key(a) < key(b); }

  // Calls fn(const PriceLevel&) for each level best first while fn returns true.
  template <class Fn>
  void for_each(Fn&& fn) const noexcept {
    for (std::size_t k = 0; k < ndir_; ++k) {
      const Block& b = pool_[dir_[k]];
      for (std::uint32_t i = 0; i < b.n; ++i)
        if (!fn(b.lv[i])) return;
    }
  }

 private:
  // keys[] mirrors lv[].price as search keys, padded with kEmpty past n: the position of a key is the count
  // of keys below it, a fixed-length compare-and-add loop the compiler vectorizes (no dependent loads, no
  // branches), which beat a binary search over the block by 2x.
  static constexpr std::int64_t kEmpty = INT64_MAX;
  struct Block {
    Block() { for (auto& k : keys) k = kEmpty; }
    std::uint32_t n{0};
    alignas(64) std::int64_t keys[kBlock];
    PriceLevel lv[kBlock];  // best first
  };

  [[nodiscard]] ENIGMA_ALWAYS_INLINE std::int64_t key(Price p) const noexcept { return sign_ * p.raw(); }
  // Directory position of the block that holds (or would hold) `k`.
  [[nodiscard]] std::size_t find_block(std::int64_t k) const noexcept;
  // Position in block `b` of the first level whose key is >= k.
  [[nodiscard]] std::uint32_t find_in_block(const Block& b, std::int64_t k) const noexcept;
  // An empty block: a recycled one, else the next never-used one; kNoBlock when the pool is exhausted.
  [[nodiscard]] std::uint32_t take_block() noexcept;
  static constexpr std::uint32_t kNoBlock = UINT32_MAX;
  void insert_dir(std::size_t at, std::uint32_t block) noexcept;
  void erase_dir(std::size_t at) noexcept;
  void erase_at(std::size_t d, std::uint32_t i) noexcept;
  // Appends levels [from, from + count) of `src` to the end of `dst` and clears them from `src`'s tail
  // (src must end at from + count).
  static void move_tail(Block& src, std::uint32_t from, Block& dst) noexcept;
  void refresh_worst(std::size_t d) noexcept {
    const Block& b = pool_[dir_[d]];
    worst_key_[d] = key(b.lv[b.n - 1].price);
  }

  std::int64_t sign_;
  Side side_;
  std::size_t max_levels_;
  std::size_t size_{0};
  std::size_t ndir_{0};
  std::size_t blocks_;                     // the pool's size: pool_'s reserved capacity
  // Reserved for blocks_ blocks but constructed on first use (take_block): a deep book's pool costs no
  // memset or page fault until its levels exist (a snapshot of 1,000 levels touches ~130 of 2,050 blocks).
  std::vector<Block> pool_;
  std::vector<std::uint32_t> free_;        // recycled empty block ids (stack)
  std::vector<std::uint32_t> dir_;         // block ids, best block first
  std::vector<std::int64_t> worst_key_;    // key of each directory block's worst level (searched)
};

class BookSide {
 public:
  static constexpr std::size_t kLadder = 4096;     // ticks the ladder covers (64 KiB of slots a side)
  static constexpr std::size_t kLearnLevels = 16;  // levels seen before the tick is guessed

  // `max_levels` bounds the number of levels; set() of a new level beyond it returns false.
  BookSide(Side side, std::size_t max_levels);
  BookSide(const BookSide&) = delete;
  BookSide& operator=(const BookSide&) = delete;
  BookSide(BookSide&&) noexcept = default;
  BookSide& operator=(BookSide&&) noexcept = default;

  // Sets the quantity at `price`; qty <= 0 removes the level (removing an absent one is a no-op). Returns
  // the quantity that was there before (zero when absent) through `old`. False only when a new level does
  // not fit (at max_levels, or the block pool is exhausted); the side is then unchanged. `price` is any
  // Price but INT64_MIN raw (which no parse or arithmetic of Fixed makes: its negation, a bid's key, overflows).
  bool set(Price price, Qty qty, Qty* old = nullptr) noexcept {
    std::int64_t d;
    if (!__builtin_sub_overflow(key(price), base_, &d) && static_cast<std::uint64_t>(d) < span_) [[likely]] {
      const std::uint64_t j = static_cast<std::uint64_t>(d) / step_;
      if (j * step_ == static_cast<std::uint64_t>(d)) [[likely]] return set_near(j, price, qty, old);
    }
    return set_slow(price, qty, old);
  }
  // Removes the worst level (no-op when empty).
  void pop_worst() noexcept;
  void clear() noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return near_ + far_.size(); }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] std::size_t max_levels() const noexcept { return max_levels_; }
  [[nodiscard]] Side side() const noexcept { return side_; }
  // nullptr when empty.
  [[nodiscard]] const PriceLevel* best() const noexcept { return near_ ? &slots_[best_] : far_.best(); }
  [[nodiscard]] const PriceLevel* worst() const noexcept;
  // i-th best level (0 = best); requires i < size(). Walks the ladder's bitmap (dense near the top).
  [[nodiscard]] const PriceLevel& level(std::size_t i) const noexcept;
  // Quantity at exactly `price` (zero when absent).
  [[nodiscard]] Qty qty_at(Price price) const noexcept;
  // True when `a` is a better price than `b` on this side.
  [[nodiscard]] bool better(Price a, Price b) const noexcept { return key(a) < key(b); }
  // The ladder's price step as a raw Price (0 while it has none): what the side learned its tick to be.
  [[nodiscard]] std::int64_t ladder_step() const noexcept { return span_ ? static_cast<std::int64_t>(step_) : 0; }
  // Levels held in the ladder (the rest are in the blocks).
  [[nodiscard]] std::size_t ladder_levels() const noexcept { return near_; }
  // Window moves on the same grid (slots shifted) and full rebuilds (a new grid, or a far jump).
  [[nodiscard]] std::uint64_t ladder_slides() const noexcept { return slides_; }
  [[nodiscard]] std::uint64_t ladder_rebuilds() const noexcept { return rebuilds_; }

  // Calls fn(const PriceLevel&) for each level best first while fn returns true.
  template <class Fn>
  void for_each(Fn&& fn) const noexcept {
    if (near_ != 0) {
      for (std::size_t w = best_ >> 6; w < kWords; ++w) {
        for (std::uint64_t m = used_[w]; m != 0; m &= m - 1)
          if (!fn(slots_[(w << 6) + static_cast<std::size_t>(__builtin_ctzll(m))])) return;
      }
    }
    far_.for_each(fn);
  }

 private:
  static constexpr std::size_t kWords = kLadder / 64;
  static constexpr std::size_t kMargin = kLadder / 8;  // free slots left better than the best on a rebuild

  [[nodiscard]] ENIGMA_ALWAYS_INLINE std::int64_t key(Price p) const noexcept { return sign_ * p.raw(); }
  [[nodiscard]] bool ladder_on() const noexcept { return span_ != 0; }
  bool set_near(std::uint64_t j, Price price, Qty qty, Qty* old) noexcept {
    std::uint64_t& w = used_[j >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (j & 63);
    PriceLevel& s = slots_[j];
    const bool had = (w & bit) != 0;
    if (old) *old = had ? s.qty : Qty{};
    if (qty.raw() <= 0) {
      if (had) {
        w &= ~bit;
        --near_;
        if (j == best_) best_ = next_used(j);
      }
      return true;
    }
    if (had) {
      s.qty = qty;
      return true;
    }
    if (size() >= max_levels_) return false;
    s = PriceLevel{price, qty};
    w |= bit;
    ++near_;
    if (j < best_) best_ = j;
    return true;
  }
  // Off the ladder: learning the tick, a finer grid, a move of the window, or a level for the blocks.
  bool set_slow(Price price, Qty qty, Qty* old) noexcept;
  // far_.set under the side's limit (max_levels over the ladder and the blocks together).
  bool far_set(Price price, Qty qty, Qty* old) noexcept;
  // Every level into the blocks, then the ladder on `step` from `base` (<= every key) takes back those
  // that fit. step 0: no ladder.
  void rebuild(std::uint64_t step, std::int64_t base) noexcept;
  // The key kMargin steps better than `k` (false when the arithmetic does not fit).
  [[nodiscard]] bool base_before(std::int64_t k, std::uint64_t step, std::int64_t& base) const noexcept;
  // Moves the ladder's levels at slots >= from into the blocks.
  void move_to_blocks(std::size_t from) noexcept;
  // Moves the window `by` slots (< 0: toward better keys) on the same grid.
  void slide(std::int64_t by) noexcept;
  // Moves the blocks' best levels into the window while they fit.
  void take_from_blocks() noexcept;
  // First occupied slot after j / from j on (kLadder when none).
  [[nodiscard]] std::size_t next_used(std::size_t j) const noexcept;
  [[nodiscard]] std::size_t next_used_from(std::size_t j) const noexcept;
  [[nodiscard]] std::size_t last_used() const noexcept;

  std::int64_t sign_;
  Side side_;
  std::size_t max_levels_;
  // The ladder: slot j holds the level whose key is base_ + j * step_ when bit j of used_ is set.
  std::int64_t base_{0};
  std::uint64_t step_{1};
  std::uint64_t span_{0};                 // kLadder * step_; 0: no ladder (learning, or prices out of range)
  std::size_t near_{0};                   // levels in the ladder
  std::size_t best_{kLadder};             // first occupied slot (kLadder when the ladder is empty)
  // kLadder slots in raw storage, not constructed: a slot is written before it is read (used_ says which),
  // so the pages of a side whose ladder is never used stay untouched (the simulator keeps a book for every
  // instrument of the registry).
  struct RawDelete {
    void operator()(PriceLevel* p) const noexcept { ::operator delete(p); }
  };
  std::unique_ptr<PriceLevel[], RawDelete> slots_;
  std::unique_ptr<std::uint64_t[]> used_;
  // Learning the tick: gcd of the keys' distances from the first key seen.
  std::int64_t first_key_{0};
  std::uint64_t grid_{0};
  bool has_first_{false};
  bool ladder_off_{false};                // prices too large for the ladder's arithmetic: blocks only
  std::uint64_t slides_{0};
  std::uint64_t rebuilds_{0};
  LevelBlocks far_;
};

}  // namespace enigma
