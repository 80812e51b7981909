// Single-producer single-consumer ring of trivially copyable elements.
//
// Capacity is a power of two fixed at construction (one allocation, at start-up). Producer and consumer
// indices live on their own cache lines, and each side keeps a cached copy of the other's index so the
// common case touches no shared line (the rigtorp/SPSCQueue layout). Indices grow monotonically; the
// slot is index & mask.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>

#include "core/attributes.hpp"

namespace enigma {

template <class T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "ring elements are copied with memcpy semantics");

 public:
  // `capacity` must be a power of two >= 2; validated here, never per message.
  explicit SpscRing(std::size_t capacity) : mask_(capacity - 1) {
    if (capacity < 2 || (capacity & (capacity - 1)) != 0)
      throw std::invalid_argument("SpscRing capacity must be a power of two >= 2");
    slots_ = static_cast<T*>(::operator new(capacity * sizeof(T), std::align_val_t{kCacheLine}));
  }
  ~SpscRing() { ::operator delete(slots_, std::align_val_t{kCacheLine}); }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }

  // Producer side. Returns false when full (back-pressure; the caller decides to count, spin or drop).
  [[nodiscard]] ENIGMA_ALWAYS_INLINE bool try_push(const T& v) noexcept {
    const std::size_t w = write_.load(std::memory_order_relaxed);
    if (w - read_cache_ > mask_) [[unlikely]] {
      read_cache_ = read_.load(std::memory_order_acquire);
      if (w - read_cache_ > mask_) return false;
    }
    slots_[w & mask_] = v;
    // Release publishes the slot contents before the consumer can see the new index.
    write_.store(w + 1, std::memory_order_release);
    return true;
  }

  // Pushes up to n elements; returns how many were pushed (one index publication for the batch).
  [[nodiscard]] std::size_t try_push_batch(const T* items, std::size_t n) noexcept {
    const std::size_t w = write_.load(std::memory_order_relaxed);
    std::size_t free = capacity() - (w - read_cache_);
    if (free < n) {
      read_cache_ = read_.load(std::memory_order_acquire);
      free = capacity() - (w - read_cache_);
    }
    const std::size_t k = n < free ? n : free;
    for (std::size_t i = 0; i < k; ++i) slots_[(w + i) & mask_] = items[i];
    if (k != 0) write_.store(w + k, std::memory_order_release);
    return k;
  }

  // Consumer side. Returns false when empty.
  [[nodiscard]] ENIGMA_ALWAYS_INLINE bool try_pop(T& out) noexcept {
    const std::size_t r = read_.load(std::memory_order_relaxed);
    if (r == write_cache_) [[unlikely]] {
      write_cache_ = write_.load(std::memory_order_acquire);
      if (r == write_cache_) return false;
    }
    out = slots_[r & mask_];
    // Release tells the producer the slot may be reused only after we copied it out.
    read_.store(r + 1, std::memory_order_release);
    return true;
  }

  // Pops up to max elements into out; returns how many.
  [[nodiscard]] std::size_t try_pop_batch(T* out, std::size_t max) noexcept {
    const std::size_t r = read_.load(std::memory_order_relaxed);
    std::size_t avail = write_cache_ - r;
    if (avail < max) {
      write_cache_ = write_.load(std::memory_order_acquire);
      avail = write_cache_ - r;
    }
    const std::size_t k = max < avail ? max : avail;
    for (std::size_t i = 0; i < k; ++i) out[i] = slots_[(r + i) & mask_];
    if (k != 0) read_.store(r + k, std::memory_order_release);
    return k;
  }

  // Consumer-side peek without removing; nullptr when empty. Pair with pop_front().
  [[nodiscard]] const T* front() noexcept {
    const std::size_t r = read_.load(std::memory_order_relaxed);
    if (r == write_cache_) {
      write_cache_ = write_.load(std::memory_order_acquire);
      if (r == write_cache_) return nullptr;
    }
    return &slots_[r & mask_];
  }
  void pop_front() noexcept { read_.store(read_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

  // Approximate (exact when called from either side with the other idle).
  [[nodiscard]] std::size_t size_approx() const noexcept {
    return write_.load(std::memory_order_acquire) - read_.load(std::memory_order_acquire);
  }
  [[nodiscard]] bool empty_approx() const noexcept { return size_approx() == 0; }

 private:
  // Producer-owned line: its index and its cached view of the consumer's index.
  alignas(kCacheLine) std::atomic<std::size_t> write_{0};
  std::size_t read_cache_{0};
  // Consumer-owned line.
  alignas(kCacheLine) std::atomic<std::size_t> read_{0};
  std::size_t write_cache_{0};
  // Read-only after construction; own line so neither side's writes invalidate it.
  alignas(kCacheLine) T* slots_{nullptr};
  std::size_t mask_;
};

}  // namespace enigma
