// runs.db: every `enigma optimize` / `enigma walkforward` run and each of its trials in one SQLite database
// beside the run folders (<runs-dir>/runs.db), so `enigma runs list|best|compare` answers "which parameters
// did best on which data" across runs. Cold path only.
//
// Tables (one transaction per run; a run that fails before its files are written records nothing):
//   runs(id, dir, command, created_utc, data, candles, method, objective, trials, <7 chosen parameters>,
//        objective_value, train_sharpe, untouched, untouched_sharpe, untouched_max_drawdown, untouched_trades,
//        dsr, pbo, p_value, gates_passed, gates_total)
//   trials(run_id, window, trial, generation, <7 parameters>, feasible, train_trades, train_win_rate,
//          train_profit_factor, train_net_return, train_sharpe, train_max_drawdown, test_<the same>)
// Non-finite numbers are NULL.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "research/optimizer.hpp"
#include "research/param_space.hpp"

struct sqlite3;

namespace enigma::research {

struct RunRecord {
  std::string dir, command, created_utc, data, method, objective;
  std::uint64_t candles = 0, trials = 0;
  ParamSet chosen;
  double objective_value = 0, train_sharpe = 0;
  std::string untouched;  // which span the untouched metrics are of ("test span", "out-of-sample", ...)
  TrialMetrics untouched_metrics;
  double dsr = 0, pbo = 0, p_value = 0;  // NaN when not computed
  int gates_passed = 0, gates_total = 0;
};

// The trials of one set (a walk-forward window, or -1 for optimize's single set).
struct TrialSet {
  int window = -1;
  const std::vector<Trial>* trials = nullptr;
};

class RunsDb {
 public:
  // Opens (creating when absent) `path`; throws enigma::Error naming the file on failure.
  explicit RunsDb(const std::string& path);
  ~RunsDb();
  RunsDb(const RunsDb&) = delete;
  RunsDb& operator=(const RunsDb&) = delete;

  // Records a run and its trials in one transaction; returns the run's id.
  std::int64_t record(const RunRecord& run, const ParamSpace& space, const Selection& sel,
                      const std::vector<TrialSet>& sets);

  // One printable table per query (the `enigma runs` subcommands).
  [[nodiscard]] std::string list();
  // Per data file: the run with the highest objective_value (optionally only runs whose data path contains
  // `data_filter` and of `command`).
  [[nodiscard]] std::string best(const std::string& data_filter, const std::string& command);
  // Two runs side by side: data, method, chosen parameters, metrics and evidence. Throws on an unknown id.
  [[nodiscard]] std::string compare(std::int64_t a, std::int64_t b);

 private:
  void exec(const std::string& sql);
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace enigma::research
