#include "research/walkforward.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace enigma::research {

std::vector<Window> walkforward_windows(std::size_t candles, const WalkForwardConfig& cfg) {
  if (!(cfg.train_fraction > 0.0 && cfg.train_fraction < 1.0))
    throw Error("walkforward.train_fraction must be in (0, 1)");
  if (cfg.windows < 1) throw Error("walkforward.windows must be >= 1");
  const double test_fraction = 1.0 - cfg.train_fraction;
  const double unit = static_cast<double>(candles) / (cfg.train_fraction + cfg.windows * test_fraction);
  const auto train_len = static_cast<std::size_t>(std::floor(unit * cfg.train_fraction));
  const auto test_len = static_cast<std::size_t>(std::floor(unit * test_fraction));
  if (train_len < 2 || test_len < 2)
    throw Error("walkforward: " + std::to_string(candles) + " candles are too few for " + std::to_string(cfg.windows) +
                " windows (a train or test span would have under 2 candles)");
  std::vector<Window> out;
  for (std::size_t w = 0; w < cfg.windows; ++w) {
    Window win;
    win.train = {w * test_len, w * test_len + train_len};
    win.test = {win.train.end, win.train.end + test_len};
    out.push_back(win);
  }
  return out;
}

WalkForwardResult run_walkforward(const CandleBacktest& bt, const WalkForwardConfig& cfg, const Selection& sel,
                                  Method method, const GeneticConfig& genetic, const Progress& progress,
                                  const BayesConfig& bayes, const WindowTrials& given) {
  const std::vector<Window> windows = walkforward_windows(bt.bars().size(), cfg);
  WalkForwardResult r;
  const std::uint64_t per_window = method == Method::grid ? bt.space().grid_size()
                                   : method == Method::genetic
                                       ? std::uint64_t{genetic.population} * genetic.generations
                                       : std::min<std::uint64_t>(bayes.trials, bt.space().grid_size());
  const std::uint64_t total = per_window * windows.size();
  double offset = 1.0;  // equity at the end of the previous test span
  double gross_profit = 0.0, gross_loss = 0.0;
  EquityStats oos(bt.day(windows.front().test.begin));
  for (std::size_t w = 0; w < windows.size(); ++w) {
    const Window& win = windows[w];
    Progress window_progress;
    if (progress) window_progress = [&](std::uint64_t done, std::uint64_t) { progress(w * per_window + done, total); };
    std::vector<Trial> trials = given                    ? given(w)
                                : method == Method::grid ? run_grid(bt, win.train, win.test, window_progress)
                                : method == Method::genetic
                                    ? run_genetic(bt, win.train, win.test, sel, genetic, window_progress)
                                    : run_bayes(bt, win.train, win.test, sel, bayes, window_progress);
    WindowResult wr;
    wr.window = win;
    wr.trials = trials.size();
    wr.chosen = trials[best_trial(trials, sel)];
    wr.all = std::move(trials);
    wr.valid = wr.chosen.test->trades >= cfg.min_trades_per_window;
    r.valid_windows += wr.valid ? 1 : 0;
    r.trials += wr.trials;

    // The chosen parameters again on the test span, recording the equity curve for the chained result.
    std::vector<double> eq;
    const TrialMetrics t = bt.run(wr.chosen.idx, win.test, &eq);
    for (std::size_t i = 0; i < eq.size(); ++i) {
      r.oos_equity.push_back(offset * eq[i]);
      oos.on_candle(bt.day(win.test.begin + i), offset * eq[i]);
    }
    r.out_of_sample.trades += t.trades;
    r.out_of_sample.wins += t.wins;
    gross_profit += offset * t.gross_profit;
    gross_loss += offset * t.gross_loss;
    offset *= 1.0 + t.net_return;
    r.windows.push_back(std::move(wr));
  }
  oos.finish(r.out_of_sample);
  r.out_of_sample.net_return = offset - 1.0;
  r.out_of_sample.gross_profit = gross_profit;
  r.out_of_sample.gross_loss = gross_loss;
  r.out_of_sample.profit_factor = gross_loss > 0.0 ? gross_profit / gross_loss : gross_profit > 0.0 ? INFINITY : 0.0;
  return r;
}

}  // namespace enigma::research
