// LatencyHistogram::record cost (values spread over 4 decades so every bucket path is taken).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "core/histogram.hpp"

namespace {

void BM_HistogramRecord(benchmark::State& state) {
  auto h = std::make_unique<enigma::LatencyHistogram>();
  std::vector<std::int64_t> values(4096);
  std::uint64_t x = 88172645463325252ULL;
  for (auto& v : values) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v = static_cast<std::int64_t>(50 + x % 2'000'000);
  }
  std::size_t i = 0;
  for (auto _ : state) {
    h->record(values[i]);
    i = (i + 1) & 4095;
  }
  benchmark::DoNotOptimize(h->count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecord);

}  // namespace
