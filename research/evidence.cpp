#include "research/evidence.hpp"

#include <cmath>

#include <tbb/parallel_for.h>

#include "core/error.hpp"
#include "strategy/metrics.hpp"

namespace enigma::research {

std::vector<double> daily_returns(const CandleBacktest& bt, Span span, const std::vector<double>& equity) {
  std::vector<double> out;
  if (span.size() == 0 || equity.size() != span.size()) return out;
  std::int64_t day = bt.day(span.begin);
  double day_start = 1.0, last = 1.0;
  for (std::size_t k = 0; k < equity.size(); ++k) {
    const std::int64_t d = bt.day(span.begin + k);
    if (d != day) {
      out.push_back(last / day_start - 1.0);
      day_start = last;
      day = d;
    }
    last = equity[k];
  }
  out.push_back(last / day_start - 1.0);
  return out;
}

DsrEvidence deflated_sharpe_of(const CandleBacktest& bt, const std::vector<Trial>& trials, const Trial& chosen,
                               Span train) {
  DsrEvidence e;
  const double per_day = 1.0 / std::sqrt(365.0);
  e.trials = trials.size();
  e.sharpe = chosen.train.sharpe * per_day;
  double mean = 0;
  for (const Trial& t : trials) mean += t.train.sharpe * per_day;
  mean /= static_cast<double>(trials.size());
  double ss = 0;
  for (const Trial& t : trials) ss += (t.train.sharpe * per_day - mean) * (t.train.sharpe * per_day - mean);
  e.trial_sharpe_variance = trials.size() > 1 ? ss / static_cast<double>(trials.size() - 1) : 0.0;

  std::vector<double> equity;
  (void)bt.run(chosen.idx, train, &equity);
  const std::vector<double> r = daily_returns(bt, train, equity);
  const strategy::ReturnStats rs = strategy::return_stats_of(r, 86'400'000'000'000LL);
  e.observations = r.size();
  // A flat curve has no defined moments; the normal ones (0, 3) keep the formula finite.
  e.skew = std::isfinite(rs.skew) ? rs.skew : 0.0;
  e.kurtosis = std::isfinite(rs.kurtosis) ? rs.kurtosis : 3.0;
  e.result = strategy::deflated_sharpe(e.sharpe, e.trial_sharpe_variance, e.trials, e.observations, e.skew,
                                       e.kurtosis);
  return e;
}

PboEvidence pbo_of(const CandleBacktest& bt, const std::vector<Trial>& trials, Span train, std::uint32_t partitions) {
  PboEvidence e;
  e.partitions = partitions;
  const std::size_t n = trials.size();
  if (n < 2) {
    e.not_computed = "needs at least 2 trials";
    return e;
  }
  std::vector<std::vector<double>> cols(n);
  tbb::parallel_for(std::size_t{0}, n, [&](std::size_t c) {
    std::vector<double> equity;
    (void)bt.run(trials[c].idx, train, &equity);
    cols[c] = daily_returns(bt, train, equity);
  });
  e.rows = cols.front().size();
  if (e.rows / partitions < 2) {
    e.not_computed = std::to_string(e.rows) + " daily returns are too few for " + std::to_string(partitions) +
                     " partitions (2 days each at least; lower pbo_partitions or use more candles)";
    return e;
  }
  std::vector<double> matrix(e.rows * n);
  for (std::size_t c = 0; c < n; ++c)
    for (std::size_t r = 0; r < e.rows; ++r) matrix[r * n + c] = cols[c][r];
  e.result = strategy::probability_of_backtest_overfitting(matrix, e.rows, n, partitions);
  return e;
}

PermutationEvidence permutation_of(const CandleBacktest& bt, const std::vector<Segment>& segments,
                                   const EvidenceConfig& cfg) {
  PermutationEvidence e;
  if (segments.empty()) {
    e.not_computed = "no untouched span";
    return e;
  }
  const std::size_t first = segments.front().span.begin, last = segments.back().span.end;
  std::vector<strategy::HeldTrade> trades;
  for (const Segment& s : segments) (void)bt.run(s.idx, s.span, nullptr, &trades);
  for (auto& t : trades) t.entry_index -= first;
  e.trades = trades.size();
  if (trades.empty()) {
    e.not_computed = "no trades in the untouched span";
    return e;
  }
  std::vector<double> closes;
  closes.reserve(last - first);
  for (std::size_t i = first; i < last; ++i) closes.push_back(bt.bars()[i].close);
  e.result = strategy::random_entry_p_value(closes, trades, cfg.permutations, cfg.seed);
  return e;
}

}  // namespace enigma::research
