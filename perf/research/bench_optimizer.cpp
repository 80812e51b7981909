// The candle optimizer's speed: one trial over all 19,133 bundled BTCUSDT 5 m candles, and the trading
// plan's whole grid (8,640 parameter sets) with oneTBB limited to 1 and to 2 threads. Wall time (UseRealTime):
// the ratio of the two grid lines is the thread speed-up, meaningful only on otherwise idle cores.
#include <benchmark/benchmark.h>

#include <tbb/global_control.h>

#include <string>

#include "core/config.hpp"
#include "research/candle_backtest.hpp"
#include "research/optimizer.hpp"
#include "research/param_space.hpp"
#include "strategy/csv.hpp"

namespace {

using namespace enigma;
using namespace enigma::research;

const CandleBacktest& plan_backtest() {
  static const CandleBacktest bt = [] {
    const config::Document doc = config::Document::parse(
        "[params]\nrsi_period = [7, 14, 21]\nrsi_oversold = [20, 25, 30]\nrsi_overbought = [70, 75, 80]\n"
        "min_score = {min = 40, max = 70, step = 10}\nstop_loss_roi = [0.3, 0.5, 0.75, 1.0]\n"
        "take_profit_roi = {min = 1.0, max = 3.0, step = 0.5}\nleverage = {min = 25, max = 100, step = 25}\n",
        "bench");
    config::TableReader root = doc.root();
    config::TableReader params = root.table("params");
    ParamSpace space = read_param_space(params, *doc.table()["params"].as_table());
    return CandleBacktest(strategy::read_ohlcv_file(std::string(ENIGMA_SOURCE_DIR) +
                                                    "/data/candles/kheus_spot_BTCUSDT_5m_20250602_20250807.csv.gz"),
                          std::move(space), BacktestModel{});
  }();
  return bt;
}

void BM_OneTrial(benchmark::State& state) {
  const CandleBacktest& bt = plan_backtest();
  const Span all{0, bt.bars().size()};
  std::uint64_t k = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(bt.run(bt.space().index_of(k), all));
    k = (k + 97) % bt.space().grid_size();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(all.size()));  // candles
}
BENCHMARK(BM_OneTrial);

void BM_PlanGrid(benchmark::State& state) {
  const CandleBacktest& bt = plan_backtest();
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(run_grid(bt, {0, bt.bars().size()}, std::nullopt));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(bt.space().grid_size()));  // trials
}
BENCHMARK(BM_PlanGrid)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
