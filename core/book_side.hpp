// One side of a price-level book: price -> displayed quantity, best level first, fixed capacity.
//
// Why blocks: venues change levels anywhere in a book thousands of levels deep (Binance diffs touch levels
// far from the top all the time). In one flat sorted array each such insert or delete moves every level
// between it and the end (tens of KB at a few thousand levels). Here the levels live in small sorted blocks
// of kBlock entries, chained best block first through a short directory that also holds each block's worst
// price; an update is a binary search of the directory, a vectorized count within one block and a move of
// at most kBlock entries. Reading the top levels touches the first block or two.
//
// Memory comes from a pool allocated in the constructor; no operation allocates. Comparisons use a key
// (-price for bids, price for asks), so "smaller key = better" holds on both sides.
#pragma once

#include <cstddef>
#include <climits>
#include <cstdint>
#include <vector>

#include "core/attributes.hpp"
#include "core/events.hpp"
#include "core/fixed_point.hpp"

namespace enigma {

struct PriceLevel {
  Price price;
  Qty qty;
};

class BookSide {
 public:
  static constexpr std::size_t kBlock = 32;

  // `max_levels` bounds the number of levels; set() of a new level beyond it returns false.
  BookSide(Side side, std::size_t max_levels);
  // Not copyable: a copy's vectors would lose their reserved capacity, and set() would then allocate.
  BookSide(const BookSide&) = delete;
  BookSide& operator=(const BookSide&) = delete;
  BookSide(BookSide&&) noexcept = default;
  BookSide& operator=(BookSide&&) noexcept = default;

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

}  // namespace enigma
