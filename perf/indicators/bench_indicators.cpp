// ns per update for each indicator: `incremental/<name>` feeds one bar to a long-lived indicator;
// `naive/<name>` does what a from-scratch implementation does for the same bar: start over (reset()) and
// replay the bars the value depends on. For windowed indicators that is exactly their window
// (TA-Lib lookback + 1 bars); for recursive ones (EMA, RSI, MACD, ATR, ADX, SAR, OBV, KDJ, Keltner,
// SuperTrend), whose value depends on the whole history, it is the last 250 bars (a typical "load 250
// candles and recompute" bot; fewer bars would not even reproduce the value).
// Data: the 20,695 Coinbase BTC-USD 4h candles of data/indicators, cycled.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "strategy/csv.hpp"
#include "strategy/indicator_table.hpp"
#include "strategy/indicators.hpp"

namespace {

using namespace enigma::strategy;

constexpr int kHistoryWindow = 250;  // replay length for recursive indicators

const std::vector<Bar>& bars() {
  static const std::vector<Bar> data = read_ohlcv_file(
      std::string(ENIGMA_SOURCE_DIR) + "/data/indicators/talib_0.4.0_oracle_coinbase_BTC-USD_4h.csv.gz");
  return data;
}

template <class I>
void feed(I& indicator, const Bar& bar) {
  if constexpr (requires { indicator.update(bar); }) {
    indicator.update(bar);
  } else {
    indicator.update(bar.close);
  }
}

// One bar per iteration into a long-lived indicator.
template <class I, class Read>
void incremental(benchmark::State& state, I indicator, Read read) {
  const std::vector<Bar>& data = bars();
  std::size_t i = 0;
  for (auto _ : state) {
    feed(indicator, data[i]);
    benchmark::DoNotOptimize(read(indicator));
    if (++i == data.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// One bar per iteration, recomputed from scratch over the `window` bars ending at it.
template <class I, class Read>
void naive(benchmark::State& state, I indicator, Read read, int window) {
  const std::vector<Bar>& data = bars();
  const std::size_t first = static_cast<std::size_t>(window);
  std::size_t i = first;
  for (auto _ : state) {
    indicator.reset();
    for (std::size_t j = i + 1 - first; j <= i; ++j) feed(indicator, data[j]);
    benchmark::DoNotOptimize(read(indicator));
    if (++i == data.size()) i = first;
  }
  state.SetItemsProcessed(state.iterations());
}

template <class I, class Read>
void add(const std::string& name, I indicator, Read read, int window) {
  benchmark::RegisterBenchmark(("incremental/" + name).c_str(),
                               [=](benchmark::State& s) { incremental(s, indicator, read); });
  benchmark::RegisterBenchmark(("naive/" + name).c_str(),
                               [=](benchmark::State& s) { naive(s, indicator, read, window); });
}

const auto value = [](const auto& i) { return i.value(); };

}  // namespace

int main(int argc, char** argv) {
  std::fprintf(stderr, "loaded %zu candles\n", bars().size());
  add("SMA_20", Sma(20), value, 20);
  add("EMA_12", Ema(12), value, kHistoryWindow);
  add("WMA_20", Wma(20), value, 20);
  add("RSI_14", Rsi(14), value, kHistoryWindow);
  add(
      "MACD_12_26_9", Macd(12, 26, 9), [](const Macd& m) { return m.hist(); }, kHistoryWindow);
  add(
      "BBANDS_20_2", BollingerBands(20, 2.0), [](const BollingerBands& b) { return b.upper(); }, 20);
  add(
      "STOCH_14_3_3", StochasticSlow(14, 3, 3), [](const StochasticSlow& s) { return s.d(); }, 18);
  add(
      "STOCHF_9_3", StochasticFast(9, 3), [](const StochasticFast& s) { return s.d(); }, 11);
  add(
      "KDJ_9_3_3", Kdj(9, 3, 3), [](const Kdj& k) { return k.j(); }, kHistoryWindow);
  add("WILLR_14", WilliamsR(14), value, 14);
  add("TRANGE", TrueRange(), value, 2);
  add("ATR_14", Atr(14), value, kHistoryWindow);
  add("OBV", Obv(), value, kHistoryWindow);
  add("CCI_20", Cci(20), value, 20);
  add("ADX_14", Adx(14), value, kHistoryWindow);
  add("MFI_14", Mfi(14), value, 15);
  add("ROC_10", Roc(10), value, 11);
  add("MOM_10", Momentum(10), value, 11);
  add("SAR_0.02_0.2", ParabolicSar(0.02, 0.2), value, kHistoryWindow);
  add("MEDPRICE", MedPrice(), value, 1);
  add("AO_5_34", AwesomeOscillator(5, 34), value, 34);
  add(
      "VWAP_rolling_20", Vwap(20), [](const Vwap& v) { return v.rolling(); }, 20);
  add(
      "KELTNER_20_10_2", KeltnerChannels(20, 10, 2.0), [](const KeltnerChannels& k) { return k.upper(); },
      kHistoryWindow);
  add(
      "SUPERTREND_10_3", SuperTrend(10, 3.0), [](const SuperTrend& s) { return s.value(); }, kHistoryWindow);
  add(
      "ICHIMOKU_9_26_52", Ichimoku(9, 26, 52), [](const Ichimoku& i) { return i.senkou_b(); }, 78);
  add(
      "PIVOTS_daily", PivotPoints(), [](const PivotPoints& p) { return p.pp(); }, 12);
  // The whole `enigma indicators` row (31 columns) per bar.
  add(
      "ALL_31_COLUMNS", IndicatorRow(),
      [](const IndicatorRow& r) {
        std::array<double, kIndicatorColumns.size()> v;
        std::array<bool, kIndicatorColumns.size()> d;
        r.read(v, d);
        return v[7] + v[21];
      },
      kHistoryWindow);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
