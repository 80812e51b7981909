// Price::parse (scalar and SIMD) vs std::from_chars(double) on the same real venue strings (data/core/decimal_strings.txt).
#include <benchmark/benchmark.h>

#include <charconv>
#include <fstream>
#include <string>
#include <vector>

#include "core/fixed_point.hpp"

namespace {

const std::vector<std::string>& prices() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> out;
    std::ifstream in(std::string(ENIGMA_SOURCE_DIR) + "/data/core/decimal_strings.txt");
    for (std::string line; std::getline(in, line);)
      if (enigma::Price::parse(line).ok()) out.push_back(line);  // the few 11-digit sizes are not prices
    return out;
  }();
  return v;
}

// One string per iteration: the reported time is per price.
void BM_PriceParse(benchmark::State& state) {
  const auto& p = prices();
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = enigma::Price::parse(p[i]);
    benchmark::DoNotOptimize(r);
    if (++i == p.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PriceParse);

// The decoders' SIMD path over the same strings, each in a buffer with 16 readable bytes.
void BM_PriceParsePadded(benchmark::State& state) {
  static const std::vector<std::string> padded = [] {
    std::vector<std::string> out;
    for (const auto& s : prices()) out.push_back(s + std::string(16, ' '));
    return out;
  }();
  const auto& p = prices();
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = enigma::Price::parse_padded(std::string_view(padded[i].data(), p[i].size()));
    benchmark::DoNotOptimize(r);
    if (++i == p.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PriceParsePadded);

void BM_FromCharsDouble(benchmark::State& state) {
  const auto& p = prices();
  std::size_t i = 0;
  for (auto _ : state) {
    double d = 0;
    auto r = std::from_chars(p[i].data(), p[i].data() + p[i].size(), d);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(d);
    if (++i == p.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FromCharsDouble);

}  // namespace
