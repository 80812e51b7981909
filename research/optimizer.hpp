// Trial search over a ParamSpace: exhaustive grid (oneTBB parallel_for, each trial writes its own slot, so
// the results do not depend on the thread count) and a seeded genetic algorithm (same seed, same trials).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "research/candle_backtest.hpp"
#include "research/param_space.hpp"

namespace enigma::research {

enum class Objective : std::uint8_t { sharpe, net_return, profit_factor, win_rate };
[[nodiscard]] std::string_view to_string(Objective o) noexcept;
[[nodiscard]] double objective_value(Objective o, const TrialMetrics& m) noexcept;

struct Selection {
  Objective objective = Objective::sharpe;
  double max_drawdown = 0.08;     // constraint: a trial above it is infeasible
  std::uint32_t min_trades = 30;  // constraint: a trial with fewer trades is infeasible
  [[nodiscard]] bool feasible(const TrialMetrics& m) const noexcept {
    return m.max_drawdown <= max_drawdown && m.trades >= min_trades;
  }
};

struct GeneticConfig {
  std::uint32_t population = 40;
  std::uint32_t generations = 25;
  double mutation_rate = 0.15;  // per gene: move to a neighbouring value of that parameter
  std::uint32_t elite = 2;      // best individuals copied unchanged into the next generation
  std::uint32_t tournament = 3;
  std::uint64_t seed = 1;
};

struct Trial {
  ParamIndex idx{};
  std::uint64_t grid_index = 0;  // position in the space's grid order
  std::uint32_t generation = 0;  // genetic: the generation that first evaluated it; grid: 0
  TrialMetrics train{};
  std::optional<TrialMetrics> test;  // when a test span was given
};

// Called from the calling thread between batches: (trials done, trials total).
using Progress = std::function<void(std::uint64_t, std::uint64_t)>;

// Every point of the grid, in grid order, evaluated on `train` (and `test` when given).
[[nodiscard]] std::vector<Trial> run_grid(const CandleBacktest& bt, Span train, std::optional<Span> test,
                                          const Progress& progress = {});
// Grid points [from, to) only, in grid order (a `--shard K/N` run's share; research/shards.hpp).
[[nodiscard]] std::vector<Trial> run_grid_part(const CandleBacktest& bt, Span train, std::optional<Span> test,
                                               std::uint64_t from, std::uint64_t to, const Progress& progress = {});

// Genetic search; returns every distinct point evaluated, in order of first evaluation. Fitness: feasible
// trials rank above infeasible ones, then by the objective, then the lower grid index (a total order, so
// the run is reproducible). Throws enigma::Error on an invalid config.
[[nodiscard]] std::vector<Trial> run_genetic(const CandleBacktest& bt, Span train, std::optional<Span> test,
                                             const Selection& sel, const GeneticConfig& cfg,
                                             const Progress& progress = {});

// True when a ranks above b under `sel` (see run_genetic).
[[nodiscard]] bool better(const Trial& a, const Trial& b, const Selection& sel) noexcept;
// Index of the best trial (requires a non-empty list).
[[nodiscard]] std::size_t best_trial(const std::vector<Trial>& trials, const Selection& sel) noexcept;

}  // namespace enigma::research
