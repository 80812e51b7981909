#include "strategy/stats.hpp"

#include <cmath>
#include <limits>
#include <numbers>
#include <random>

#include "core/error.hpp"

namespace enigma::strategy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

double normal_cdf(double x) noexcept { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

double normal_quantile(double p) noexcept {
  if (!(p > 0 && p < 1)) return p == 0 ? -kInf : (p == 1 ? kInf : std::numeric_limits<double>::quiet_NaN());
  // Acklam's rational approximation (relative error < 1.2e-9) ...
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01, -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  constexpr double lo = 0.02425;
  double x;
  if (p < lo) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - lo) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  // ... refined by one Halley step against the exact CDF, which brings it to near machine precision.
  const double e = normal_cdf(x) - p;
  const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

double expected_max_sharpe(double trial_sharpe_variance, std::size_t trials) noexcept {
  if (trials < 2 || !(trial_sharpe_variance > 0)) return 0;  // one trial: nothing was selected
  const double n = static_cast<double>(trials);
  const double gamma = std::numbers::egamma;
  return std::sqrt(trial_sharpe_variance) *
         ((1 - gamma) * normal_quantile(1 - 1 / n) + gamma * normal_quantile(1 - 1 / (n * std::numbers::e)));
}

double probabilistic_sharpe(double sharpe, double benchmark_sharpe, std::size_t observations, double skew,
                            double kurtosis) noexcept {
  if (observations < 2) return std::numeric_limits<double>::quiet_NaN();
  const double denom = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe * sharpe;
  if (!(denom > 0)) return std::numeric_limits<double>::quiet_NaN();
  return normal_cdf((sharpe - benchmark_sharpe) * std::sqrt(static_cast<double>(observations) - 1) / std::sqrt(denom));
}

DeflatedSharpe deflated_sharpe(double sharpe, double trial_sharpe_variance, std::size_t trials,
                               std::size_t observations, double skew, double kurtosis) noexcept {
  DeflatedSharpe d;
  d.expected_max_sharpe = expected_max_sharpe(trial_sharpe_variance, trials);
  d.dsr = probabilistic_sharpe(sharpe, d.expected_max_sharpe, observations, skew, kurtosis);
  return d;
}

namespace {

// Sharpe ratio from a count and the sum and sum of squares of (value - shift); shifting each column by one of
// its own values keeps the sums small, so the variance does not cancel away. Constant series score by the
// sign of their mean.
double sharpe_from_sums(double sum, double sumsq, double n, double shift) noexcept {
  if (n < 1) return 0;
  const double shifted_mean = sum / n;
  const double var = n > 1 ? std::max(0.0, (sumsq - n * shifted_mean * shifted_mean) / (n - 1)) : 0;
  const double mean = shifted_mean + shift;
  if (var == 0) return mean > 0 ? kInf : (mean < 0 ? -kInf : 0);
  return mean / std::sqrt(var);
}

}  // namespace

Pbo probability_of_backtest_overfitting(std::span<const double> returns, std::size_t rows, std::size_t columns,
                                        std::size_t partitions) {
  if (partitions < 2 || partitions % 2 != 0 || partitions > 30)
    throw Error("PBO: the number of partitions must be even and in 2..30, got " + std::to_string(partitions));
  if (columns < 2) throw Error("PBO: needs at least 2 trials (columns), got " + std::to_string(columns));
  if (returns.size() != rows * columns)
    throw Error("PBO: the matrix has " + std::to_string(returns.size()) +
                " values, expected rows x columns = " + std::to_string(rows) + " x " + std::to_string(columns));
  const std::size_t block = rows / partitions;
  if (block < 2)
    throw Error("PBO: " + std::to_string(rows) + " rows are too few for " + std::to_string(partitions) +
                " partitions (2 rows each at least)");

  // Per block and column: sum and sum of squares (of value - the column's first value), so each combination's
  // Sharpe costs S additions.
  std::vector<double> sum(partitions * columns, 0.0), sumsq(partitions * columns, 0.0);
  const std::span<const double> shift = returns.first(columns);
  for (std::size_t s = 0; s < partitions; ++s)
    for (std::size_t r = s * block; r < (s + 1) * block; ++r)
      for (std::size_t c = 0; c < columns; ++c) {
        const double v = returns[r * columns + c] - shift[c];
        sum[s * columns + c] += v;
        sumsq[s * columns + c] += v * v;
      }

  Pbo out;
  std::vector<double> is_score(columns), oos_score(columns);
  const std::size_t half = partitions / 2;
  const double n_half = static_cast<double>(half * block);
  // Every bit mask with S/2 bits set, in increasing order (Gosper's hack): set bits = in-sample blocks.
  const std::uint32_t last = ((1u << half) - 1) << half;
  for (std::uint32_t mask = (1u << half) - 1;;) {
    for (std::size_t c = 0; c < columns; ++c) {
      double is_s = 0, is_q = 0, oos_s = 0, oos_q = 0;
      for (std::size_t s = 0; s < partitions; ++s) {
        if (mask >> s & 1u) {
          is_s += sum[s * columns + c];
          is_q += sumsq[s * columns + c];
        } else {
          oos_s += sum[s * columns + c];
          oos_q += sumsq[s * columns + c];
        }
      }
      is_score[c] = sharpe_from_sums(is_s, is_q, n_half, shift[c]);
      oos_score[c] = sharpe_from_sums(oos_s, oos_q, n_half, shift[c]);
    }
    std::size_t best = 0;
    for (std::size_t c = 1; c < columns; ++c)
      if (is_score[c] > is_score[best]) best = c;
    double below = 0;  // how many trials the IS-best beats out of sample, ties counting half
    for (std::size_t c = 0; c < columns; ++c) {
      if (c == best) continue;
      if (oos_score[c] < oos_score[best])
        below += 1;
      else if (oos_score[c] == oos_score[best])
        below += 0.5;
    }
    const double w = (below + 1) / static_cast<double>(columns + 1);  // rank in 1..N over N + 1
    out.logits.push_back(std::log(w / (1 - w)));
    if (mask == last) break;
    const std::uint32_t t = mask | (mask - 1);
    mask = (t + 1) | (((~t & -~t) - 1) >> (__builtin_ctz(mask) + 1));
  }
  out.combinations = out.logits.size();
  std::size_t overfit = 0;
  for (double l : out.logits) overfit += l <= 0 ? 1 : 0;
  out.pbo = static_cast<double>(overfit) / static_cast<double>(out.combinations);
  return out;
}

namespace {

// Uniform integer in [0, range) from a 64-bit generator by rejection: the same sequence on every platform
// (std::uniform_int_distribution's algorithm is left to the library).
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t range) {
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % range;
  std::uint64_t v;
  do v = rng();
  while (v >= limit);
  return v % range;
}

}  // namespace

PermutationTest random_entry_p_value(std::span<const double> prices, std::span<const HeldTrade> trades,
                                     std::size_t permutations, std::uint64_t seed) {
  const std::size_t n = prices.size();
  std::vector<double> log_price(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!(prices[i] > 0)) throw Error("permutation test: price " + std::to_string(i) + " is not positive");
    log_price[i] = std::log(prices[i]);
  }
  PermutationTest out;
  out.permutations = permutations;
  for (std::size_t k = 0; k < trades.size(); ++k) {
    const HeldTrade& t = trades[k];
    if (t.hold >= n || t.entry_index + t.hold >= n)
      throw Error("permutation test: trade " + std::to_string(k) + " (entry " + std::to_string(t.entry_index) +
                  ", hold " + std::to_string(t.hold) + ") runs past the " + std::to_string(n) + " prices");
    out.observed += t.side * (log_price[t.entry_index + t.hold] - log_price[t.entry_index]);
  }
  std::mt19937_64 rng(seed);
  std::size_t at_least = 0;
  double null_sum = 0;
  for (std::size_t p = 0; p < permutations; ++p) {
    double score = 0;
    for (const HeldTrade& t : trades) {
      const std::size_t e = uniform_below(rng, n - t.hold);
      score += t.side * (log_price[e + t.hold] - log_price[e]);
    }
    null_sum += score;
    if (score >= out.observed) ++at_least;
  }
  out.p_value = static_cast<double>(1 + at_least) / static_cast<double>(1 + permutations);
  out.null_mean =
      permutations ? null_sum / static_cast<double>(permutations) : std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace enigma::strategy
