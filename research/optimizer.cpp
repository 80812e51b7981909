#include "research/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <tbb/parallel_for.h>

#include "core/error.hpp"
#include "research/mpi_world.hpp"
#include "research/rng.hpp"

namespace enigma::research {
namespace {

// Trials per progress batch: big enough to keep both cores busy, small enough for a live ETA.
constexpr std::uint64_t kBatch = 512;

std::uint64_t grid_index_of(const ParamSpace& s, const ParamIndex& idx) noexcept {
  std::uint64_t k = 0;
  for (std::size_t i = 0; i < kParamCount; ++i) k = k * s.values[i].size() + idx[i];
  return k;
}

// Under mpirun this rank evaluates its share of [from, to) and the ranks exchange results (mpi_world.hpp).
void evaluate(const CandleBacktest& bt, Span train, const std::optional<Span>& test, std::vector<Trial>& trials,
              std::size_t from, std::size_t to) {
  const mpi::Share mine = mpi::share_of(from, to);
  tbb::parallel_for(mine.from, mine.to, [&](std::size_t k) {
    Trial& t = trials[k];  // each trial writes only its own slot
    t.train = bt.run(t.idx, train);
    if (test) t.test = bt.run(t.idx, *test);
  });
  mpi::allgather(trials, from, to, test.has_value());
}

}  // namespace

std::string_view to_string(Objective o) noexcept {
  switch (o) {
    case Objective::sharpe:
      return "sharpe";
    case Objective::net_return:
      return "net_return";
    case Objective::profit_factor:
      return "profit_factor";
    case Objective::win_rate:
      return "win_rate";
  }
  return "?";
}

double objective_value(Objective o, const TrialMetrics& m) noexcept {
  switch (o) {
    case Objective::sharpe:
      return m.sharpe;
    case Objective::net_return:
      return m.net_return;
    case Objective::profit_factor:
      return m.profit_factor;
    case Objective::win_rate:
      return m.win_rate();
  }
  return 0.0;
}

bool better(const Trial& a, const Trial& b, const Selection& sel) noexcept {
  const bool fa = sel.feasible(a.train), fb = sel.feasible(b.train);
  if (fa != fb) return fa;
  const double va = objective_value(sel.objective, a.train), vb = objective_value(sel.objective, b.train);
  if (va != vb) return va > vb;
  return a.grid_index < b.grid_index;
}

std::size_t best_trial(const std::vector<Trial>& trials, const Selection& sel) noexcept {
  std::size_t best = 0;
  for (std::size_t k = 1; k < trials.size(); ++k)
    if (better(trials[k], trials[best], sel)) best = k;
  return best;
}

std::vector<Trial> run_grid(const CandleBacktest& bt, Span train, std::optional<Span> test, const Progress& progress) {
  return run_grid_part(bt, train, test, 0, bt.space().grid_size(), progress);
}

std::vector<Trial> run_grid_part(const CandleBacktest& bt, Span train, std::optional<Span> test, std::uint64_t first,
                                 std::uint64_t last, const Progress& progress) {
  const ParamSpace& space = bt.space();
  if (first > last || last > space.grid_size()) throw Error("grid part out of range");
  const std::uint64_t n = last - first;
  std::vector<Trial> trials(n);
  for (std::uint64_t k = 0; k < n; ++k) {
    trials[k].idx = space.index_of(first + k);
    trials[k].grid_index = first + k;
  }
  for (std::uint64_t from = 0; from < n; from += kBatch) {
    const std::uint64_t to = std::min(n, from + kBatch);
    evaluate(bt, train, test, trials, from, to);
    if (progress) progress(to, n);
  }
  return trials;
}

std::vector<Trial> run_genetic(const CandleBacktest& bt, Span train, std::optional<Span> test, const Selection& sel,
                               const GeneticConfig& cfg, const Progress& progress) {
  if (cfg.population < 2) throw Error("genetic: population must be >= 2");
  if (cfg.generations < 1) throw Error("genetic: generations must be >= 1");
  if (cfg.elite >= cfg.population) throw Error("genetic: elite must be below population");
  if (cfg.tournament < 1) throw Error("genetic: tournament must be >= 1");
  if (!(cfg.mutation_rate >= 0.0 && cfg.mutation_rate <= 1.0)) throw Error("genetic: mutation_rate must be in [0, 1]");
  const ParamSpace& space = bt.space();
  SplitMix64 rng{cfg.seed};
  std::vector<Trial> trials;                            // every distinct point, first evaluation order
  std::unordered_map<std::uint64_t, std::size_t> seen;  // grid index -> position in `trials`
  const std::uint64_t total = static_cast<std::uint64_t>(cfg.population) * cfg.generations;

  // Evaluates the new points of a generation (in parallel), returns each individual's trial position.
  auto evaluate_generation = [&](const std::vector<ParamIndex>& pop, std::uint32_t gen) {
    std::vector<std::size_t> pos(pop.size());
    const std::size_t first_new = trials.size();
    for (std::size_t i = 0; i < pop.size(); ++i) {
      const std::uint64_t g = grid_index_of(space, pop[i]);
      const auto [it, inserted] = seen.emplace(g, trials.size());
      if (inserted) trials.push_back(Trial{pop[i], g, gen, {}, std::nullopt});
      pos[i] = it->second;
    }
    evaluate(bt, train, test, trials, first_new, trials.size());
    return pos;
  };

  std::vector<ParamIndex> pop(cfg.population);
  for (auto& ind : pop)
    for (std::size_t d = 0; d < kParamCount; ++d)
      ind[d] = static_cast<std::uint32_t>(rng.below(space.values[d].size()));

  for (std::uint32_t gen = 0;; ++gen) {
    std::vector<std::size_t> pos = evaluate_generation(pop, gen);
    if (progress) progress(static_cast<std::uint64_t>(gen + 1) * cfg.population, total);
    if (gen + 1 == cfg.generations) break;
    // Rank the population (a total order: reproducible).
    std::vector<std::size_t> order(pop.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return better(trials[pos[a]], trials[pos[b]], sel); });
    auto pick = [&] {  // tournament: the best of `tournament` random individuals
      std::size_t best = rng.below(pop.size());
      for (std::uint32_t t = 1; t < cfg.tournament; ++t) {
        const std::size_t c = rng.below(pop.size());
        if (better(trials[pos[c]], trials[pos[best]], sel)) best = c;
      }
      return pop[best];
    };
    std::vector<ParamIndex> next;
    next.reserve(pop.size());
    for (std::uint32_t e = 0; e < cfg.elite; ++e) next.push_back(pop[order[e]]);
    while (next.size() < pop.size()) {
      const ParamIndex a = pick(), b = pick();
      ParamIndex child{};
      for (std::size_t d = 0; d < kParamCount; ++d) {
        child[d] = (rng.next() & 1) ? a[d] : b[d];  // uniform crossover
        const std::uint32_t n = static_cast<std::uint32_t>(space.values[d].size());
        if (n > 1 && rng.unit() < cfg.mutation_rate) {  // step to a neighbouring value
          if (child[d] == 0)
            child[d] = 1;
          else if (child[d] == n - 1)
            child[d] = n - 2;
          else if (rng.next() & 1)
            ++child[d];
          else
            --child[d];
        }
      }
      next.push_back(child);
    }
    pop = std::move(next);
  }
  return trials;
}

}  // namespace enigma::research
