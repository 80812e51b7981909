// Is a backtest result real? Deflated Sharpe ratio, probability of backtest overfitting (CSCV) and a
// random-entry permutation p-value (issue 14 item 5).
//
// Sharpe ratios here are per observation (NOT annualised): mean / sample stdev of the return series the
// trials were scored on. To use annualised figures divide by sqrt(periods per year) first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace enigma::strategy {

[[nodiscard]] double normal_cdf(double x) noexcept;
// Inverse of normal_cdf for p in (0, 1) (Acklam's rational approximation refined by one Halley step).
[[nodiscard]] double normal_quantile(double p) noexcept;

// Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", eq. for the expected maximum Sharpe ratio of
// N independent trials whose Sharpe ratios have variance `trial_sharpe_variance`:
//   SR0 = sqrt(V) * ((1 - gamma) * Z^-1(1 - 1/N) + gamma * Z^-1(1 - 1/(N e)))   (gamma: Euler-Mascheroni)
[[nodiscard]] double expected_max_sharpe(double trial_sharpe_variance, std::size_t trials) noexcept;
// Probabilistic Sharpe ratio: P(true SR > benchmark) given the observed SR over `observations` returns with
// skewness `skew` and kurtosis `kurtosis` (not excess; normal = 3):
//   PSR = Z( (SR - SR*) sqrt(T - 1) / sqrt(1 - skew SR + (kurtosis - 1)/4 SR^2) )
[[nodiscard]] double probabilistic_sharpe(double sharpe, double benchmark_sharpe, std::size_t observations, double skew,
                                          double kurtosis) noexcept;
struct DeflatedSharpe {
  double expected_max_sharpe = 0;  // SR0, per observation
  double dsr = 0;                  // PSR(SR0): probability the selected strategy's true Sharpe is > 0 after N trials
};
[[nodiscard]] DeflatedSharpe deflated_sharpe(double sharpe, double trial_sharpe_variance, std::size_t trials,
                                             std::size_t observations, double skew, double kurtosis) noexcept;

// Probability of backtest overfitting by combinatorially symmetric cross-validation (Bailey, Borwein,
// López de Prado, Zhu 2015). `returns` is a T x N matrix, row-major (row = period, column = trial).
// Rows are cut into `partitions` (S, even, >= 2) contiguous blocks of floor(T/S) rows (the remainder rows at
// the end are dropped); for every one of the C(S, S/2) choices of S/2 blocks as in-sample (the rest
// out-of-sample) each trial is scored by its Sharpe ratio (mean / sample stdev; a constant column scores its
// mean's sign * inf, 0 for all zeros), the in-sample best trial n* is found (lowest index on ties), its
// out-of-sample rank r in 1..N (1 = worst; ties count as half below), w = r / (N + 1), logit = ln(w / (1 - w)).
// PBO = share of logits <= 0.
struct Pbo {
  double pbo = 0;
  std::size_t combinations = 0;
  std::vector<double> logits;  // one per combination, in the order of the combinations enumerated
};
[[nodiscard]] Pbo probability_of_backtest_overfitting(std::span<const double> returns, std::size_t rows,
                                                      std::size_t columns, std::size_t partitions);

// A strategy's trades on a price series: entry at prices[entry_index], exit `hold` observations later,
// side +1 long / -1 short. Its score is the sum of side * ln(prices[exit] / prices[entry]).
struct HeldTrade {
  std::size_t entry_index = 0;
  std::size_t hold = 0;
  int side = 1;
};
// Permutation p-value against random entries with the same holding times and sides: each of `permutations`
// draws moves every trade to an entry chosen uniformly among the indices where it fits (0..n-1-hold), from a
// std::mt19937_64 seeded with `seed` (reduced by rejection sampling, so results are the same on every
// platform). p = (1 + #{random score >= observed}) / (1 + permutations).
struct PermutationTest {
  double observed = 0;
  double p_value = 0;
  std::size_t permutations = 0;
  double null_mean = 0;  // mean random score
};
[[nodiscard]] PermutationTest random_entry_p_value(std::span<const double> prices, std::span<const HeldTrade> trades,
                                                   std::size_t permutations, std::uint64_t seed);

}  // namespace enigma::strategy
