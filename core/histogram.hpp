// Log-linear latency histogram (HdrHistogram layout, 2 significant digits).
//
// Values are non-negative integers (nanoseconds by convention) from 1 to 2^40 (~18 minutes, well past
// the 60 s the engine needs). Bucket b covers [2^(b+7), 2^(b+8)) split into 128 equal sub-buckets, so
// relative error is < 1/128 (0.78 %). Memory is fixed at construction (~36 KB); record() is a handful
// of integer instructions and one increment — no allocation, no branch on the value's range except the
// clamp. Each stage owns its histogram; merge() combines them off the hot path.
#pragma once

#include <array>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "core/attributes.hpp"

namespace enigma {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 8;                          // 256 sub-buckets: >= 2 significant digits
  static constexpr std::int64_t kSubBucketCount = 1 << kSubBucketBits;
  static constexpr std::int64_t kSubBucketHalf = kSubBucketCount / 2;
  static constexpr int kMaxValueBits = 40;                          // highest trackable ~1.1e12 ns
  static constexpr std::int64_t kMaxValue = (std::int64_t{1} << kMaxValueBits) - 1;
  static constexpr int kBucketCount = kMaxValueBits - kSubBucketBits + 1;
  static constexpr std::size_t kCountsLen = static_cast<std::size_t>((kBucketCount + 1) * kSubBucketHalf);

  LatencyHistogram() noexcept { reset(); }

  // Records one value; values above kMaxValue are clamped to it (and counted in max_value()).
  ENIGMA_ALWAYS_INLINE void record(std::int64_t value) noexcept {
    if (value < 0) [[unlikely]] value = 0;
    if (value > kMaxValue) [[unlikely]] value = kMaxValue;
    ++counts_[index_of(value)];
    ++total_;
    sum_ += static_cast<std::uint64_t>(value);
    if (value > max_) max_ = value;
    if (value < min_) min_ = value;
  }

  // Records `count` occurrences of one value (same clamping as record()).
  void record_n(std::int64_t value, std::uint64_t count) noexcept;
  void merge(const LatencyHistogram& other) noexcept;
  // Adds `other` with every value multiplied by `scale` (e.g. TSC ticks -> ns). Each bucket moves as a
  // whole at its midpoint, so the result keeps the 2-digit precision; min/max/mean scale exactly.
  void merge_scaled(const LatencyHistogram& other, double scale) noexcept;
  void reset() noexcept;

  [[nodiscard]] std::uint64_t count() const noexcept { return total_; }
  [[nodiscard]] std::int64_t max_value() const noexcept { return total_ ? max_ : 0; }
  [[nodiscard]] std::int64_t min_value() const noexcept { return total_ ? min_ : 0; }
  [[nodiscard]] double mean() const noexcept { return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0.0; }
  [[nodiscard]] double stddev() const noexcept;
  // Value at percentile p in [0, 100]: the highest value equivalent to the bucket holding that rank
  // (HdrHistogram's convention), clamped to the recorded max.
  [[nodiscard]] std::int64_t percentile(double p) const noexcept;
  // Percentile of the values recorded since `earlier` (a copy of this histogram taken before): for
  // per-interval figures without a second record() per value. 0 when nothing was recorded since.
  [[nodiscard]] std::int64_t percentile_since(const LatencyHistogram& earlier, double p) const noexcept;

  // HdrHistogram percentile-distribution text (.hgrm), readable by its plotter. Values are divided by
  // `unit_ratio` (1000 prints microseconds for nanosecond data).
  void write_hgrm(std::ostream& out, double unit_ratio = 1000.0, int ticks_per_half_distance = 5) const;
  [[nodiscard]] std::string hgrm(double unit_ratio = 1000.0) const;

  // Bucket geometry, exposed for tests.
  [[nodiscard]] static constexpr std::size_t index_of(std::int64_t v) noexcept {
    // Bucket = how far the highest set bit sits above the sub-bucket range.
    const int msb = 63 - __builtin_clzll(static_cast<std::uint64_t>(v) | static_cast<std::uint64_t>(kSubBucketCount - 1));
    const int bucket = msb - (kSubBucketBits - 1);
    const std::int64_t sub = v >> bucket;  // in [kSubBucketHalf, kSubBucketCount) for bucket > 0
    return static_cast<std::size_t>((static_cast<std::int64_t>(bucket) + 1) * kSubBucketHalf + (sub - kSubBucketHalf));
  }
  [[nodiscard]] static constexpr std::int64_t lowest_equivalent(std::size_t index) noexcept {
    const std::int64_t i = static_cast<std::int64_t>(index);
    const std::int64_t bucket = i / kSubBucketHalf - 1;
    const std::int64_t sub = i % kSubBucketHalf + kSubBucketHalf;
    if (bucket < 0) return sub - kSubBucketHalf;  // the first half-bucket holds values 0..127 exactly
    return sub << bucket;
  }
  [[nodiscard]] static constexpr std::int64_t highest_equivalent(std::size_t index) noexcept {
    const std::int64_t i = static_cast<std::int64_t>(index);
    const std::int64_t bucket = i / kSubBucketHalf - 1;
    if (bucket <= 0) return lowest_equivalent(index);
    return lowest_equivalent(index) + (std::int64_t{1} << bucket) - 1;
  }

 private:
  std::array<std::uint64_t, kCountsLen> counts_;
  std::uint64_t total_{0};
  std::uint64_t sum_{0};
  std::int64_t max_{0};
  std::int64_t min_{0};
};

}  // namespace enigma
