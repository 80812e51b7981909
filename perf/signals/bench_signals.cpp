// Full signal computation per event, incremental vs naive recomputation, on real data (data/candles/).
//
//   BM_SignalIncremental     one closed bar -> every scorer indicator updated once (RSI, MACD, BB, slow
//                            Stochastic, KDJ, EMA 9/21, ADX, ATR, OBV, three divergence detectors) + scoring
//                            (contributions, regime, direction, confidence), with order-flow features.
//   BM_SignalNaiveWindow/W   what a naive implementation does per event: rebuild the same indicators from
//                            scratch over the last W bars (reset + W updates) and score. W = 100 covers the
//                            longest lookback (MACD 34) plus room for the EMA seeds to converge; W = 300 is
//                            closer to what divergence look-backs of 60 bars with Wilder warm-up need.
//   BM_ConfluenceOnTrade     the confluence strategy per real Binance trade: order-flow update + 1 s / 1 m bar
//                            building, and scoring + decision whenever a bar closes.
//   BM_OrderFlowOnTrade, BM_TradeBarBuilder: the per-trade pieces alone.
// Run: build/<dir>/perf/bench_signals --benchmark_min_time=0.5
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "strategy/candles.hpp"
#include "strategy/order_flow.hpp"
#include "strategy/signal.hpp"
#include "strategy/strategies/confluence.hpp"

namespace {

using namespace enigma;
using namespace enigma::strategy;

std::vector<std::string> read_gz_lines(const std::string& path) {
  std::vector<std::string> lines;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) std::abort();
  char buf[1 << 16];
  while (gzgets(f, buf, sizeof buf) != nullptr) {
    std::string s(buf);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    lines.push_back(std::move(s));
  }
  gzclose(f);
  return lines;
}

const std::vector<Bar>& bars() {
  static const std::vector<Bar> v = [] {
    std::vector<Bar> out;
    const auto lines = read_gz_lines(std::string(ENIGMA_SOURCE_DIR) +
                                     "/data/candles/coinbase_BTC-USD_4h_ohlcv_20160518_20251028.csv.gz");
    for (std::size_t i = 1; i < lines.size(); ++i) {
      const char* p = lines[i].c_str();
      char* end = nullptr;
      Bar b{};
      b.time_ns = std::strtoll(p, &end, 10) * 1'000'000'000;
      b.open = std::strtod(end + 1, &end);
      b.high = std::strtod(end + 1, &end);
      b.low = std::strtod(end + 1, &end);
      b.close = std::strtod(end + 1, &end);
      b.volume = std::strtod(end + 1, &end);
      out.push_back(b);
    }
    return out;
  }();
  return v;
}

std::string_view field(std::string_view l, std::string_view key) {
  const std::size_t at = l.find(key);
  std::size_t b = at + key.size();
  if (l[b] == '"') ++b;
  std::size_t e = b;
  while (l[e] != '"' && l[e] != ',' && l[e] != '}') ++e;
  return l.substr(b, e - b);
}

struct TapeTrade {
  EventHeader h;
  Trade t;
};

const std::vector<TapeTrade>& tape() {
  static const std::vector<TapeTrade> v = [] {
    std::vector<TapeTrade> out;
    for (const auto& l : read_gz_lines(std::string(ENIGMA_SOURCE_DIR) +
                                       "/data/candles/binance_usdm_BTCUSDT_trades_20240808.txt.gz")) {
      TapeTrade x{};
      x.h.recv_tsc = std::strtoull(l.c_str(), nullptr, 10);
      x.h.venue_time_ns = std::strtoll(std::string(field(l, "\"T\":")).c_str(), nullptr, 10) * 1'000'000;
      x.h.instrument = 1;
      x.h.type = EventType::trade;
      x.t.price = Price::parse(field(l, "\"p\":")).value;
      x.t.qty = Qty::parse(field(l, "\"q\":")).value;
      x.t.aggressor = field(l, "\"m\":") == "true" ? Side::sell : Side::buy;
      out.push_back(x);
    }
    return out;
  }();
  return v;
}

OrderFlowFeatures some_flow() {
  OrderFlowFeatures f;
  f.book_valid = true;
  f.book_imbalance = 0.2;
  f.trade_imbalance = -0.1;
  return f;
}

void BM_SignalIncremental(benchmark::State& state) {
  const auto& b = bars();
  SignalScorer scorer;
  const OrderFlowFeatures flow = some_flow();
  for (std::size_t i = 0; i < 200; ++i) scorer.update(b[i]);  // past every lookback
  std::size_t i = 200;
  for (auto _ : state) {
    SignalResult r = scorer.on_bar(b[i], &flow);
    benchmark::DoNotOptimize(r);
    if (++i == b.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignalIncremental);

void BM_SignalNaiveWindow(benchmark::State& state) {
  const auto& b = bars();
  const std::size_t window = static_cast<std::size_t>(state.range(0));
  SignalScorer scorer;
  const OrderFlowFeatures flow = some_flow();
  std::size_t i = window;
  for (auto _ : state) {
    scorer.reset();
    for (std::size_t k = i + 1 - window; k < i; ++k) scorer.update(b[k]);
    SignalResult r = scorer.on_bar(b[i], &flow);
    benchmark::DoNotOptimize(r);
    if (++i == b.size()) i = window;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignalNaiveWindow)->Arg(100)->Arg(300);

void BM_ConfluenceOnTrade(benchmark::State& state) {
  const auto& t = tape();
  ConfluenceConfig cfg;
  cfg.common.instrument = 1;
  cfg.candles.timeframes_s = {1, 60};
  cfg.candles.timeframe_count = 2;
  cfg.signal.use_regime_threshold = false;
  cfg.signal.signal_threshold = 20.0;
  std::size_t i = 0;
  std::int64_t lap_offset = 0;  // the tape replays forward in time lap after lap
  const std::int64_t lap = t.back().h.venue_time_ns - t.front().h.venue_time_ns + 1'000'000'000;
  ConfluenceStrategy s(cfg);
  IntentBuffer out;
  for (auto _ : state) {
    EventHeader h = t[i].h;
    h.venue_time_ns += lap_offset;
    out.clear();
    s.on_trade(h, t[i].t, out);
    benchmark::DoNotOptimize(out);
    if (++i == t.size()) {
      i = 0;
      lap_offset += lap;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConfluenceOnTrade);

void BM_OrderFlowOnTrade(benchmark::State& state) {
  const auto& t = tape();
  OrderFlow f(OrderFlowConfig{});
  std::size_t i = 0;
  std::int64_t lap_offset = 0;
  const std::int64_t lap = t.back().h.venue_time_ns - t.front().h.venue_time_ns + 1'000'000'000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.on_trade(t[i].h.venue_time_ns + lap_offset, t[i].t));
    if (++i == t.size()) {
      i = 0;
      lap_offset += lap;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OrderFlowOnTrade);

void BM_TradeBarBuilder(benchmark::State& state) {
  const auto& t = tape();
  CandleConfig cfg;
  cfg.timeframes_s = {1, 60, 3600};
  cfg.timeframe_count = 3;
  TradeBarBuilder b(cfg);
  std::size_t i = 0;
  std::int64_t lap_offset = 0;
  const std::int64_t lap = t.back().h.venue_time_ns - t.front().h.venue_time_ns + 1'000'000'000;
  double sink = 0.0;
  for (auto _ : state) {
    (void)b.on_trade(t[i].h.venue_time_ns + lap_offset, t[i].t.price, t[i].t.qty, t[i].t.aggressor,
                     [&](const ClosedBar& c) { sink += c.bar.close; });
    if (++i == t.size()) {
      i = 0;
      lap_offset += lap;
    }
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TradeBarBuilder);

}  // namespace
