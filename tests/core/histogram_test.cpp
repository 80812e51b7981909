// LatencyHistogram against percentiles computed here from the sorted raw values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/histogram.hpp"

using enigma::LatencyHistogram;

namespace {

// Nearest-rank percentile of the raw data, then widened to the top of its bucket the way HdrHistogram
// reports it: values below 256 are exact; above, a bucket spans 2^(floor(log2 v) - 7) values.
std::int64_t expected_percentile(std::vector<std::int64_t> sorted, double p) {
  std::sort(sorted.begin(), sorted.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  if (rank == 0) rank = 1;
  const std::int64_t v = sorted[rank - 1];
  if (v < 256) return v;
  const int msb = 63 - __builtin_clzll(static_cast<std::uint64_t>(v));
  const std::int64_t width = std::int64_t{1} << (msb - 7);
  return std::min(v | (width - 1), sorted.back());
}

std::vector<std::int64_t> lcg_latencies(std::size_t n, std::uint64_t seed) {
  // Heavy-tailed: mostly ~1-3 us, a few ms-scale outliers, like a real stage.
  std::vector<std::int64_t> v;
  std::uint64_t x = seed;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::uint64_t r = x >> 33;
    std::int64_t val = 800 + static_cast<std::int64_t>(r % 2000);
    if (r % 1000 == 0) val *= 1000;
    if (r % 97 == 0) val = static_cast<std::int64_t>(r % 200);
    v.push_back(val);
  }
  return v;
}

void check_all_percentiles(const LatencyHistogram& h, const std::vector<std::int64_t>& data) {
  for (double p : {0.0, 1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0})
    EXPECT_EQ(h.percentile(p), expected_percentile(data, p)) << "p" << p;
}

}  // namespace

TEST(Histogram, UniformOneToHundredThousand) {
  auto h = std::make_unique<LatencyHistogram>();
  std::vector<std::int64_t> data;
  for (std::int64_t v = 1; v <= 100'000; ++v) {
    h->record(v);
    data.push_back(v);
  }
  EXPECT_EQ(h->count(), 100'000u);
  EXPECT_EQ(h->min_value(), 1);
  EXPECT_EQ(h->max_value(), 100'000);
  EXPECT_DOUBLE_EQ(h->mean(), 50'000.5);
  check_all_percentiles(*h, data);
  // Relative error bound of 2 significant digits.
  EXPECT_LE(std::abs(h->percentile(50) - 50'000), 50'000 / 100);
}

TEST(Histogram, HeavyTailedDistribution) {
  auto h = std::make_unique<LatencyHistogram>();
  const auto data = lcg_latencies(200'000, 42);
  for (auto v : data) h->record(v);
  check_all_percentiles(*h, data);
  double sum = 0;
  for (auto v : data) sum += static_cast<double>(v);
  EXPECT_NEAR(h->mean(), sum / static_cast<double>(data.size()), 1e-6);
}

TEST(Histogram, SmallValuesAreExact) {
  auto h = std::make_unique<LatencyHistogram>();
  std::vector<std::int64_t> data = {0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233};
  for (auto v : data) h->record(v);
  for (std::size_t i = 0; i < data.size(); ++i) {
    const double p = 100.0 * static_cast<double>(i + 1) / static_cast<double>(data.size());
    EXPECT_EQ(h->percentile(p), data[i]);
  }
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  auto a = std::make_unique<LatencyHistogram>();
  auto b = std::make_unique<LatencyHistogram>();
  auto all = std::make_unique<LatencyHistogram>();
  const auto data = lcg_latencies(50'000, 7);
  for (std::size_t i = 0; i < data.size(); ++i) {
    (i % 2 ? *a : *b).record(data[i]);
    all->record(data[i]);
  }
  a->merge(*b);
  EXPECT_EQ(a->count(), all->count());
  EXPECT_EQ(a->min_value(), all->min_value());
  EXPECT_EQ(a->max_value(), all->max_value());
  EXPECT_DOUBLE_EQ(a->mean(), all->mean());
  check_all_percentiles(*a, data);
  EXPECT_EQ(a->hgrm(), all->hgrm());
  auto empty = std::make_unique<LatencyHistogram>();
  a->merge(*empty);
  EXPECT_EQ(a->count(), all->count());
  EXPECT_EQ(a->min_value(), all->min_value());
}

TEST(Histogram, ClampsOutOfRangeValues) {
  auto h = std::make_unique<LatencyHistogram>();
  h->record(-5);
  EXPECT_EQ(h->min_value(), 0);
  h->record(LatencyHistogram::kMaxValue * 4);
  EXPECT_EQ(h->max_value(), LatencyHistogram::kMaxValue);
  EXPECT_EQ(h->percentile(100), LatencyHistogram::kMaxValue);
  EXPECT_EQ(h->count(), 2u);
  // 60 s in ns is well inside the range and keeps 2 significant digits.
  auto g = std::make_unique<LatencyHistogram>();
  g->record(60'000'000'000LL);
  EXPECT_LE(std::abs(g->percentile(50) - 60'000'000'000LL), 60'000'000'000LL / 128);
}

TEST(Histogram, ResetAndEmpty) {
  auto h = std::make_unique<LatencyHistogram>();
  EXPECT_EQ(h->percentile(99), 0);
  EXPECT_EQ(h->mean(), 0.0);
  h->record(1000);
  h->reset();
  EXPECT_EQ(h->count(), 0u);
  EXPECT_EQ(h->max_value(), 0);
}

// The .hgrm text must have HdrHistogram's shape: header, 4 numeric columns with non-decreasing
// percentile and count, a final 100 % row, and the three footer lines the plotter reads.
TEST(Histogram, HgrmFormatIsParseable) {
  auto h = std::make_unique<LatencyHistogram>();
  const auto data = lcg_latencies(10'000, 3);
  for (auto v : data) h->record(v);
  std::istringstream in(h->hgrm(1000.0));
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  std::istringstream hdr(line);
  std::string c1, c2, c3, c4;
  hdr >> c1 >> c2 >> c3 >> c4;
  EXPECT_EQ(c1, "Value");
  EXPECT_EQ(c2, "Percentile");
  EXPECT_EQ(c3, "TotalCount");
  EXPECT_EQ(c4, "1/(1-Percentile)");
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_TRUE(line.empty());
  double prev_value = -1, prev_pct = -1;
  unsigned long long prev_count = 0;
  int rows = 0;
  bool saw_final = false;
  std::vector<std::string> footer;
  while (std::getline(in, line)) {
    if (line.rfind("#[", 0) == 0) {
      footer.push_back(line);
      continue;
    }
    ASSERT_TRUE(footer.empty()) << "data after footer: " << line;
    std::istringstream row(line);
    double value = 0, pct = 0;
    unsigned long long count = 0;
    ASSERT_TRUE(row >> value >> pct >> count) << line;
    double inv = 0;
    const bool has_inv = static_cast<bool>(row >> inv);
    EXPECT_GE(value, prev_value);
    EXPECT_GE(pct, prev_pct);
    EXPECT_GE(count, prev_count);
    EXPECT_LE(pct, 1.0);
    if (!has_inv) {
      EXPECT_EQ(pct, 1.0);
      EXPECT_EQ(count, data.size());
      EXPECT_NEAR(value, static_cast<double>(h->max_value()) / 1000.0, 0.001);
      saw_final = true;
    } else {
      EXPECT_NEAR(inv, 1.0 / (1.0 - pct), 0.01 * inv + 0.01);
    }
    prev_value = value;
    prev_pct = pct;
    prev_count = count;
    ++rows;
  }
  EXPECT_GT(rows, 20);
  EXPECT_TRUE(saw_final);
  ASSERT_EQ(footer.size(), 3u);
  EXPECT_EQ(footer[0].rfind("#[Mean    = ", 0), 0u);
  EXPECT_NE(footer[0].find("StdDeviation   = "), std::string::npos);
  EXPECT_EQ(footer[1].rfind("#[Max     = ", 0), 0u);
  EXPECT_NE(footer[1].find("Total count    = "), std::string::npos);
  EXPECT_NE(footer[1].find(std::to_string(data.size())), std::string::npos);
  EXPECT_EQ(footer[2].rfind("#[Buckets = ", 0), 0u);
}

TEST(Histogram, PercentileSinceCountsOnlyTheLaterValues) {
  auto h = std::make_unique<enigma::LatencyHistogram>();
  for (int i = 0; i < 1000; ++i) h->record(100);  // before the copy: must not count
  auto before = std::make_unique<enigma::LatencyHistogram>(*h);
  EXPECT_EQ(h->percentile_since(*before, 50), 0) << "nothing recorded since";
  for (int v = 1; v <= 100; ++v) h->record(v);  // values below 128 are exact
  EXPECT_EQ(h->percentile_since(*before, 50), 50);
  EXPECT_EQ(h->percentile_since(*before, 99), 99);
  EXPECT_EQ(h->percentile(50), 100) << "the whole histogram is dominated by the earlier values";
}
