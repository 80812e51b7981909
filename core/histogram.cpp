#include "core/histogram.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>
#include <sstream>

namespace enigma {

void LatencyHistogram::reset() noexcept {
  counts_.fill(0);
  total_ = 0;
  sum_ = 0;
  max_ = 0;
  min_ = std::numeric_limits<std::int64_t>::max();
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < kCountsLen; ++i) counts_[i] += other.counts_[i];
  if (other.total_ == 0) return;
  total_ += other.total_;
  sum_ += other.sum_;
  if (other.max_ > max_) max_ = other.max_;
  if (other.min_ < min_) min_ = other.min_;
}

void LatencyHistogram::record_n(std::int64_t value, std::uint64_t count) noexcept {
  if (count == 0) return;
  if (value < 0) value = 0;
  if (value > kMaxValue) value = kMaxValue;
  counts_[index_of(value)] += count;
  total_ += count;
  sum_ += static_cast<std::uint64_t>(value) * count;
  if (value > max_) max_ = value;
  if (value < min_) min_ = value;
}

void LatencyHistogram::merge_scaled(const LatencyHistogram& other, double scale) noexcept {
  if (other.total_ == 0) return;
  const std::uint64_t sum_before = sum_;
  for (std::size_t i = 0; i < kCountsLen; ++i) {
    if (other.counts_[i] == 0) continue;
    const double mid = 0.5 * static_cast<double>(lowest_equivalent(i) + highest_equivalent(i));
    record_n(static_cast<std::int64_t>(mid * scale + 0.5), other.counts_[i]);
  }
  // Exact extremes and mean rather than bucket midpoints.
  sum_ = sum_before + static_cast<std::uint64_t>(static_cast<double>(other.sum_) * scale);
  const auto omax = static_cast<std::int64_t>(static_cast<double>(other.max_) * scale + 0.5);
  const auto omin = static_cast<std::int64_t>(static_cast<double>(other.min_) * scale + 0.5);
  if (omax > max_ || max_ == 0) max_ = omax;
  if (omin < min_) min_ = omin;
}

double LatencyHistogram::stddev() const noexcept {
  if (total_ == 0) return 0.0;
  const double m = mean();
  double acc = 0.0;
  for (std::size_t i = 0; i < kCountsLen; ++i) {
    if (counts_[i] == 0) continue;
    // Midpoint of the bucket, as HdrHistogram does.
    const double v = 0.5 * static_cast<double>(lowest_equivalent(i) + highest_equivalent(i));
    acc += static_cast<double>(counts_[i]) * (v - m) * (v - m);
  }
  return std::sqrt(acc / static_cast<double>(total_));
}

std::int64_t LatencyHistogram::percentile(double p) const noexcept {
  if (total_ == 0) return 0;
  if (p < 0) p = 0;
  if (p > 100) p = 100;
  // Rank of the requested percentile (at least 1), then the first bucket whose cumulative count reaches it.
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total_)));
  if (rank == 0) rank = 1;
  std::uint64_t cum = 0;
  for (std::size_t i = 0; i < kCountsLen; ++i) {
    cum += counts_[i];
    if (cum >= rank) {
      const std::int64_t v = highest_equivalent(i);
      return v < max_ ? v : max_;
    }
  }
  return max_;
}

std::int64_t LatencyHistogram::percentile_since(const LatencyHistogram& earlier, double p) const noexcept {
  if (total_ <= earlier.total_) return 0;
  const std::uint64_t n = total_ - earlier.total_;
  if (p < 0) p = 0;
  if (p > 100) p = 100;
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
  if (rank == 0) rank = 1;
  std::uint64_t cum = 0;
  for (std::size_t i = 0; i < kCountsLen; ++i) {
    cum += counts_[i] - earlier.counts_[i];
    if (cum >= rank) {
      const std::int64_t v = highest_equivalent(i);
      return v < max_ ? v : max_;
    }
  }
  return max_;
}

void LatencyHistogram::write_hgrm(std::ostream& out, double unit_ratio, int ticks_per_half_distance) const {
  char line[160];
  std::snprintf(line, sizeof line, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
  out << line;
  if (total_ > 0) {
    // HdrHistogram's percentile iterator: report levels get denser as they approach 100 %.
    double level = 0.0;
    std::uint64_t cum = 0;
    for (std::size_t i = 0; i < kCountsLen && cum < total_; ++i) {
      if (counts_[i] == 0) continue;
      cum += counts_[i];
      const double reached = 100.0 * static_cast<double>(cum) / static_cast<double>(total_);
      const std::int64_t v = std::min(highest_equivalent(i), max_);
      while (level <= reached && cum < total_) {
        const double frac = level / 100.0;
        std::snprintf(line, sizeof line, "%12.3f %2.12f %10llu %14.2f\n", static_cast<double>(v) / unit_ratio, frac,
                      static_cast<unsigned long long>(cum), 1.0 / (1.0 - frac));
        out << line;
        const double half_distance = std::pow(2.0, std::floor(std::log2(100.0 / (100.0 - level))) + 1.0);
        level += 100.0 / (ticks_per_half_distance * half_distance);
      }
      if (cum == total_) {
        std::snprintf(line, sizeof line, "%12.3f %2.12f %10llu\n", static_cast<double>(v) / unit_ratio, 1.0,
                      static_cast<unsigned long long>(cum));
        out << line;
      }
    }
  }
  std::snprintf(line, sizeof line, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", mean() / unit_ratio, stddev() / unit_ratio);
  out << line;
  std::snprintf(line, sizeof line, "#[Max     = %12.3f, Total count    = %12llu]\n",
                static_cast<double>(max_value()) / unit_ratio, static_cast<unsigned long long>(total_));
  out << line;
  std::snprintf(line, sizeof line, "#[Buckets = %12d, SubBuckets     = %12lld]\n", kBucketCount,
                static_cast<long long>(kSubBucketCount));
  out << line;
}

std::string LatencyHistogram::hgrm(double unit_ratio) const {
  std::ostringstream s;
  write_hgrm(s, unit_ratio);
  return s.str();
}

}  // namespace enigma
