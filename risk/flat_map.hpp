// Fixed-capacity open-addressing map from a non-zero 64-bit hash to a 32-bit value (linear probing,
// backward-shift deletion, so no tombstones build up). Allocated once; lookups and updates never
// allocate. Used for client-order-id tables where the key is ClientOrderId::hash().
#pragma once

#include <cstdint>
#include <vector>

namespace enigma::risk::detail {

class FlatMap64 {
 public:
  // Room for at least `max_entries` at <= 50 % load.
  explicit FlatMap64(std::uint32_t max_entries) {
    std::uint32_t cap = 16;
    while (cap < max_entries * 2) cap <<= 1;
    keys_.assign(cap, 0);
    values_.assign(cap, 0);
    mask_ = cap - 1;
  }

  // Pointer to the value for `key`, or nullptr.
  [[nodiscard]] std::uint32_t* find(std::uint64_t key) noexcept {
    for (std::uint32_t i = slot_of(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == 0) return nullptr;
    }
  }
  [[nodiscard]] bool contains(std::uint64_t key) noexcept { return find(key) != nullptr; }
  // Inserts or overwrites. The caller keeps size() <= max_entries (the table never fills).
  void insert(std::uint64_t key, std::uint32_t value) noexcept {
    std::uint32_t i = slot_of(key);
    while (keys_[i] != 0 && keys_[i] != key) i = (i + 1) & mask_;
    if (keys_[i] == 0) ++size_;
    keys_[i] = key;
    values_[i] = value;
  }
  // Removes `key` if present; shifts later entries of the probe run back so lookups stay correct.
  bool erase(std::uint64_t key) noexcept {
    std::uint32_t i = slot_of(key);
    while (keys_[i] != key) {
      if (keys_[i] == 0) return false;
      i = (i + 1) & mask_;
    }
    std::uint32_t hole = i;
    for (std::uint32_t j = (hole + 1) & mask_; keys_[j] != 0; j = (j + 1) & mask_) {
      const std::uint32_t home = slot_of(keys_[j]);
      // Move j into the hole unless its home lies cyclically in (hole, j].
      const bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!stays) {
        keys_[hole] = keys_[j];
        values_[hole] = values_[j];
        hole = j;
      }
    }
    keys_[hole] = 0;
    --size_;
    return true;
  }
  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }

 private:
  [[nodiscard]] std::uint32_t slot_of(std::uint64_t key) const noexcept {
    return static_cast<std::uint32_t>((key * 0x9E3779B97F4A7C15ULL) >> 32) & mask_;
  }
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> values_;
  std::uint32_t mask_{0};
  std::uint32_t size_{0};
};

}  // namespace enigma::risk::detail
