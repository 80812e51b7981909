// report.html of `enigma optimize` and `enigma walkforward`: what a person looks at before trusting tuned
// parameters. Sections: the headline and the plan's gates; the distribution of the trials' train Sharpe with
// the chosen trial and the deflated threshold marked (the best annualised Sharpe that as many trials without
// skill would be expected to show: SR0 of the deflated Sharpe ratio); 2-D slices of the objective through the
// chosen point (the other parameters at their chosen values), the varying parameters taken two by two;
// for a walk-forward, the chained out-of-sample equity and its drawdown with the window boundaries marked; the
// candles' closes with the chosen parameters' round trips marked (entries and exits). Inline SVG, no script: it
// opens from the run folder.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "research/optimizer.hpp"
#include "research/param_space.hpp"

namespace enigma::research {

struct ResearchReport {
  std::string title;                                          // "enigma optimize" / "enigma walkforward"
  std::vector<std::pair<std::string, std::string>> headline;  // label, value
  std::vector<std::string> gate_lines;                        // "PASS  sharpe ..." lines
  const ParamSpace* space = nullptr;
  const std::vector<Trial>* trials = nullptr;  // the trials the chosen point was selected among
  const Trial* chosen = nullptr;
  Selection selection;
  double deflated_threshold = 0;  // annualised SR0; not finite: not marked
  std::vector<double> equity;     // walk-forward: out-of-sample equity per candle (empty: no chart)
  // Walk-forward: the candle index of equity[0] and each window's first test candle (boundaries marked).
  std::size_t equity_first_candle = 0;
  std::vector<std::size_t> window_starts;
  // Price chart: the closes over price_span with `fills` marked (bars null: no chart).
  const std::vector<strategy::Bar>* bars = nullptr;
  Span price_span;
  std::string price_caption;
  std::vector<TradeFill> fills;
};

// The page's HTML. Each histogram bar carries data-count (its trials), each slice cell data-value (the
// objective there, "" where no trial ran), the drawdown line data-max, each window mark data-window,
// data-candle and data-max-drawdown (the largest drawdown from the running peak, which starts at 1, within
// the window), each entry mark data-candle, data-price and data-side, each exit mark data-candle and
// data-price, so tests can read what is drawn.
[[nodiscard]] std::string research_report_html(const ResearchReport& r);

}  // namespace enigma::research
