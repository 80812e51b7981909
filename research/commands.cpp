#include "research/commands.hpp"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include <sys/stat.h>

#include <tbb/global_control.h>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "research/candle_backtest.hpp"
#include "research/download.hpp"
#include "research/evidence.hpp"
#include "research/mpi_world.hpp"
#include "research/optimizer.hpp"
#include "research/param_space.hpp"
#include "research/report.hpp"
#include "research/runs_db.hpp"
#include "research/shards.hpp"
#include "research/walkforward.hpp"
#include "strategy/csv.hpp"

namespace enigma::research {
namespace {

struct Args {
  std::string config;
  std::string method;    // empty: from config
  unsigned threads = 0;  // 0: every core
  std::optional<std::uint64_t> seed;
  std::optional<std::uint32_t> trials;  // bayes budget
  std::string runs_dir;
  bool quiet = false;
  std::string shard;               // "K/N": evaluate this share of the grid, write a shard directory
  std::vector<std::string> merge;  // shard directories to merge into one run
};
Args g_optimize, g_walkforward;
CLI::App* g_optimize_cmd = nullptr;
CLI::App* g_walkforward_cmd = nullptr;

// Everything read from the config file.
struct Setup {
  std::string data;
  std::size_t max_candles = 0;  // 0: all
  Method method = Method::grid;
  Selection selection;
  GeneticConfig genetic;
  BayesConfig bayes;
  BacktestModel model;
  double train_fraction = 1.0;  // optimize: below 1, the rest of the candles is an untouched test span
  std::string runs_dir = "runs";
  WalkForwardConfig walkforward;
  EvidenceConfig evidence;
  ParamSpace space = ParamSpace::defaults();
};

Setup read_setup(const Args& a) {
  Setup s;
  const config::Document doc = config::Document::load_file(a.config);
  config::TableReader root = doc.root();
  config::TableReader opt = root.table("optimize");
  s.data = opt.string("data", std::nullopt);
  s.max_candles = static_cast<std::size_t>(opt.integer("max_candles", 0, 0));
  s.method = opt.choice<Method>("method", Method::grid,
                                {{"grid", Method::grid}, {"genetic", Method::genetic}, {"bayes", Method::bayes}});
  s.selection.objective = opt.choice<Objective>("objective", Objective::sharpe,
                                                {{"sharpe", Objective::sharpe},
                                                 {"net_return", Objective::net_return},
                                                 {"profit_factor", Objective::profit_factor},
                                                 {"win_rate", Objective::win_rate}});
  s.selection.max_drawdown = opt.real("max_drawdown", 0.08, 0.0, 1.0);
  s.selection.min_trades = static_cast<std::uint32_t>(opt.integer("min_trades", 30, 0, 1'000'000));
  s.model.fee_rate = opt.real("fee_rate", 0.0004, 0.0, 0.1);
  s.model.margin_fraction = opt.real("margin_fraction", 0.02, 1e-6, 1.0);
  s.train_fraction = opt.real("train_fraction", 1.0, 0.05, 1.0);
  s.runs_dir = opt.string("runs_dir", "runs");
  s.evidence.pbo_partitions = static_cast<std::uint32_t>(opt.integer("pbo_partitions", 16, 2, 30));
  if (s.evidence.pbo_partitions % 2 != 0) opt.fail("pbo_partitions", "must be even");
  s.evidence.permutations = static_cast<std::uint32_t>(opt.integer("permutations", 2000, 1, 10'000'000));
  s.evidence.seed = static_cast<std::uint64_t>(opt.integer("permutation_seed", 1, 0));
  if (auto g = opt.optional_table("genetic")) {
    s.genetic.population = static_cast<std::uint32_t>(g->integer("population", 40, 2, 100'000));
    s.genetic.generations = static_cast<std::uint32_t>(g->integer("generations", 25, 1, 100'000));
    s.genetic.mutation_rate = g->real("mutation_rate", 0.15, 0.0, 1.0);
    s.genetic.elite = static_cast<std::uint32_t>(g->integer("elite", 2, 0, 100'000));
    s.genetic.tournament = static_cast<std::uint32_t>(g->integer("tournament", 3, 1, 1'000));
    s.genetic.seed = static_cast<std::uint64_t>(g->integer("seed", 1, 0));
    if (s.genetic.elite >= s.genetic.population) g->fail("elite", "must be below population");
    g->finish();
  }
  if (auto b = opt.optional_table("bayes")) {
    s.bayes.trials = static_cast<std::uint32_t>(b->integer("trials", 200, 1, 100'000));
    s.bayes.initial = static_cast<std::uint32_t>(b->integer("initial", 20, 1, 100'000));
    s.bayes.candidates = static_cast<std::uint32_t>(b->integer("candidates", 2000, 1, 10'000'000));
    s.bayes.length_scale = b->real("length_scale", 0.25, 1e-6, 100.0);
    s.bayes.noise = b->real("noise", 1e-2, 1e-9, 100.0);
    s.bayes.seed = static_cast<std::uint64_t>(b->integer("seed", 1, 0));
    b->finish();
  }
  if (auto p = opt.optional_table("params")) {
    const toml::table* raw = doc.table()["optimize"]["params"].as_table();
    s.space = read_param_space(*p, *raw);
    p->finish();
  }
  opt.finish();
  if (auto w = root.optional_table("walkforward")) {
    s.walkforward.train_fraction = w->real("train_fraction", 0.7, 0.0, 1.0);
    if (!(s.walkforward.train_fraction > 0.0 && s.walkforward.train_fraction < 1.0))
      w->fail("train_fraction", "must be in (0, 1)");
    s.walkforward.windows = static_cast<std::uint32_t>(w->integer("windows", 5, 1, 1'000));
    s.walkforward.min_trades_per_window =
        static_cast<std::uint32_t>(w->integer("min_trades_per_window", 50, 0, 1'000'000));
    w->finish();
  }
  root.finish();
  // Command-line overrides.
  if (a.method == "grid") s.method = Method::grid;
  if (a.method == "genetic") s.method = Method::genetic;
  if (a.method == "bayes") s.method = Method::bayes;
  if (a.trials) s.bayes.trials = *a.trials;
  if (a.seed) s.genetic.seed = s.bayes.seed = *a.seed;
  if (!a.runs_dir.empty()) s.runs_dir = a.runs_dir;
  return s;
}

std::vector<strategy::Bar> load_candles(const Setup& s) {
  std::vector<strategy::Bar> bars = strategy::read_ohlcv_file(s.data);
  if (s.max_candles > 0 && bars.size() > s.max_candles) bars.resize(s.max_candles);
  if (bars.size() < 100) throw Error(s.data + ": " + std::to_string(bars.size()) + " candles; at least 100 needed");
  return bars;
}

void mkdir_p(const std::string& path) {
  std::string cur;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
        throw Error("cannot create directory '" + cur + "': " + std::strerror(errno));
    }
    if (i < path.size()) cur += path[i];
  }
}

// `<runs_dir>/<UTC stamp>-<what>`, created by one mkdir that must not find it (`-1`, `-2`, ... when taken).
std::string make_output_dir(const std::string& runs_dir, const std::string& what) {
  mkdir_p(runs_dir);
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  const std::string base = runs_dir + "/" + stamp + "-" + what;
  std::string dir = base;
  for (int n = 1; ::mkdir(dir.c_str(), 0755) != 0; ++n) {
    if (errno != EEXIST || n > 9999) throw Error("cannot create directory '" + dir + "': " + std::strerror(errno));
    dir = base + "-" + std::to_string(n);
  }
  return dir;
}

std::string utc_text(std::int64_t ns) {
  const std::time_t t = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string num(double x) {
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", x);
  return buf;
}

constexpr const char* kMetricColumns = "trades,win_rate,profit_factor,net_return,sharpe,max_drawdown";
std::string metric_cells(const TrialMetrics& m) {
  return std::to_string(m.trades) + "," + num(m.win_rate()) + "," + num(m.profit_factor) + "," + num(m.net_return) +
         "," + num(m.sharpe) + "," + num(m.max_drawdown);
}
std::string param_columns() {
  std::string s;
  for (const auto n : kParamNames) s += std::string(s.empty() ? "" : ",") + std::string(n);
  return s;
}
std::string param_cells(const ParamSet& p) {
  std::string s;
  for (std::size_t i = 0; i < kParamCount; ++i) s += (i ? "," : "") + num(p.v[i]);
  return s;
}
std::string metric_text(const TrialMetrics& m) {
  return "trades " + std::to_string(m.trades) + ", win rate " + num(m.win_rate()) + ", profit factor " +
         num(m.profit_factor) + ", net return " + num(m.net_return) + ", Sharpe " + num(m.sharpe) + ", max drawdown " +
         num(m.max_drawdown);
}

std::ofstream open_out(const std::string& path) {
  std::ofstream f(path);
  if (!f) throw Error("cannot write '" + path + "': " + std::strerror(errno));
  return f;
}
void close_out(std::ofstream& f, const std::string& path) {
  f.close();
  if (!f) throw Error("writing '" + path + "' failed: " + std::strerror(errno));
}

// trials.csv: one row per trial (a `window` column first when `sets` names windows), train metrics, and test
// metrics when `with_test`.
void write_trials_csv(const std::string& path, const ParamSpace& space, const Selection& sel,
                      const std::vector<std::pair<std::string, const std::vector<Trial>*>>& sets, bool with_test) {
  std::ofstream f = open_out(path);
  const bool windowed = !sets.front().first.empty();
  if (windowed) f << "window,";
  f << "trial,generation," << param_columns() << ",feasible";
  for (const char* side : {"train", "test"}) {
    if (std::string(side) == "test" && !with_test) break;
    const std::string cols = kMetricColumns;
    for (std::size_t p = 0, q; p != std::string::npos; p = q == std::string::npos ? q : q + 1) {
      q = cols.find(',', p);
      f << "," << side << "_" << cols.substr(p, q == std::string::npos ? q : q - p);
    }
  }
  f << "\n";
  for (const auto& [window, trials] : sets) {
    for (const Trial& t : *trials) {
      if (windowed) f << window << ",";
      f << t.grid_index << "," << t.generation << "," << param_cells(space.at(t.idx)) << ","
        << (sel.feasible(t.train) ? 1 : 0) << "," << metric_cells(t.train);
      if (with_test && t.test) f << "," << metric_cells(*t.test);
      f << "\n";
    }
  }
  close_out(f, path);
}

// Progress with ETA on stderr, at most about once a second (and at the end).
class ProgressLine {
 public:
  // `unit`: what is counted ("trials" for the grid; "individuals" for the genetic search, whose repeated
  // points are evaluated once, so trials.csv can have fewer rows).
  ProgressLine(const char* what, const char* unit, bool quiet)
      : what_(what), unit_(unit), quiet_(quiet), start_(Clock::now()), last_(start_) {}
  void operator()(std::uint64_t done, std::uint64_t total) {
    if (quiet_) return;
    const auto now = Clock::now();
    if (done < total && now - last_ < std::chrono::seconds(1)) return;
    last_ = now;
    const double el = seconds(now);
    const double eta = done == 0 ? 0.0 : el / static_cast<double>(done) * static_cast<double>(total - done);
    std::fprintf(stderr, "%s: %llu/%llu %s (%.0f%%), %.1f s elapsed, ETA %.1f s\n", what_,
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), unit_,
                 total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0, el, eta);
  }
  [[nodiscard]] double elapsed() const { return seconds(Clock::now()); }

 private:
  using Clock = std::chrono::steady_clock;
  [[nodiscard]] double seconds(Clock::time_point t) const { return std::chrono::duration<double>(t - start_).count(); }
  const char* what_;
  const char* unit_;
  bool quiet_;
  Clock::time_point start_, last_;
};

unsigned thread_count(const Args& a) {
  if (a.threads > 0) return a.threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

std::string evidence_header(const Setup& s, const std::vector<strategy::Bar>& bars, const char* command,
                            std::uint64_t trials, unsigned threads) {
  std::string h;
  h += "# Chosen by `enigma " + std::string(command) + "` (method " +
       (s.method == Method::grid      ? std::string("grid")
        : s.method == Method::genetic ? "genetic, seed " + std::to_string(s.genetic.seed)
                                      : "bayes, seed " + std::to_string(s.bayes.seed)) +
       ", " + std::to_string(trials) + " trials, " + std::to_string(threads) + " threads)\n";
  h += "# data: " + s.data + ", " + std::to_string(bars.size()) + " candles " + utc_text(bars.front().time_ns) +
       " .. " + utc_text(bars.back().time_ns) + "\n";
  h += "# objective: " + std::string(to_string(s.selection.objective)) +
       "; constraints: max_drawdown <= " + num(s.selection.max_drawdown) +
       ", trades >= " + std::to_string(s.selection.min_trades) + "\n";
  h += "# model: fee_rate " + num(s.model.fee_rate) + " per side, margin_fraction " + num(s.model.margin_fraction) +
       "\n";
  return h;
}

// ---- "Is it real?": evidence, the plan's gates, metrics.json ----------------------------------------------

// JSON number: non-finite values are null.
std::string jnum(double x) { return std::isfinite(x) ? num(x) : "null"; }
std::string jstr(const std::string& v) {
  std::string o = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

struct Gate {
  std::string name;
  bool pass = false;
  std::string detail;
};

struct Evidence {
  DsrEvidence dsr;
  PboEvidence pbo;
  PermutationEvidence perm;
  std::string untouched;  // which span the Sharpe / drawdown / p-value gates read
  TrialMetrics untouched_metrics;
  std::vector<Gate> gates;
  [[nodiscard]] bool all_pass() const {
    for (const Gate& g : gates)
      if (!g.pass) return false;
    return true;
  }
};

// The trading plan's gates: Sharpe > 1.5 and max drawdown < 8 % on the untouched span, a valid walk-forward
// (every window with enough test trades), p < 0.05 on the permutation test.
std::vector<Gate> plan_gates(const Evidence& e, std::optional<std::pair<std::uint32_t, std::size_t>> wf_valid) {
  std::vector<Gate> g;
  const TrialMetrics& m = e.untouched_metrics;
  g.push_back({"sharpe > 1.5", m.sharpe > 1.5, e.untouched + " Sharpe " + num(m.sharpe)});
  if (wf_valid)
    g.push_back({"walk-forward valid", wf_valid->first == wf_valid->second,
                 std::to_string(wf_valid->first) + " of " + std::to_string(wf_valid->second) + " windows valid"});
  else
    g.push_back({"walk-forward valid", false, "not run by optimize: run `enigma walkforward`"});
  if (e.perm.result)
    g.push_back({"p < 0.05", e.perm.result->p_value < 0.05,
                 e.untouched + " permutation p-value " + num(e.perm.result->p_value)});
  else
    g.push_back({"p < 0.05", false, "no p-value: " + e.perm.not_computed});
  g.push_back({"max drawdown < 8%", m.max_drawdown < 0.08, e.untouched + " max drawdown " + num(m.max_drawdown)});
  return g;
}

std::string evidence_comment(const Evidence& e) {
  std::string h = "# evidence: deflated Sharpe ratio " + num(e.dsr.result.dsr) + " (" + std::to_string(e.dsr.trials) +
                  " trials, per-day Sharpe " + num(e.dsr.sharpe) + " vs expected max " +
                  num(e.dsr.result.expected_max_sharpe) + ")";
  h += "; PBO " + (e.pbo.result ? num(e.pbo.result->pbo) + " (CSCV, S = " + std::to_string(e.pbo.partitions) + ")"
                                : "not computed: " + e.pbo.not_computed);
  h += "; p-value " + (e.perm.result ? num(e.perm.result->p_value) + " (" + e.untouched + ", " +
                                           std::to_string(e.perm.trades) + " trades vs random entries)"
                                     : "not computed: " + e.perm.not_computed);
  h += "\n# gates: ";
  for (std::size_t i = 0; i < e.gates.size(); ++i)
    h += (i ? ", " : "") + e.gates[i].name + " " + (e.gates[i].pass ? "PASS" : "FAIL");
  return h + "\n";
}

void print_gates(const Evidence& e) {
  std::printf("evidence: DSR %s (%zu trials), PBO %s, p-value %s\n", num(e.dsr.result.dsr).c_str(), e.dsr.trials,
              e.pbo.result ? num(e.pbo.result->pbo).c_str() : "n/a",
              e.perm.result ? num(e.perm.result->p_value).c_str() : "n/a");
  for (const Gate& g : e.gates)
    std::printf("gate %s: %s (%s)\n", g.name.c_str(), g.pass ? "PASS" : "FAIL", g.detail.c_str());
}

// report.html: the evidence as a headline, the gates, the trials' Sharpe with the deflated threshold, slices of
// the objective around the chosen point (research/report.hpp).
void write_report_html(const std::string& dir, const char* command, const std::string& header, const ParamSpace& space,
                       const std::vector<Trial>& trials, const Trial& chosen, const Selection& sel, const Evidence& e,
                       ResearchReport charts) {
  ResearchReport r = std::move(charts);  // the equity, drawdown and price charts' data
  r.title = std::string("enigma ") + command;
  // The best.toml header's lines ("# key: value" or "# text"), then the chosen parameters.
  std::istringstream lines(header + evidence_comment(e));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# ", 0) == 0) line.erase(0, 2);
    const std::size_t colon = line.find(": ");
    if (colon != std::string::npos && colon < 40)
      r.headline.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    else
      r.headline.emplace_back("", line);
  }
  const ParamSet p = space.at(chosen.idx);
  std::string params;
  for (std::size_t i = 0; i < kParamCount; ++i)
    params += (i ? ", " : "") + std::string(kParamNames[i]) + " " + num(p.v[i]);
  r.headline.emplace_back("chosen parameters", params);
  for (const Gate& g : e.gates) r.gate_lines.push_back((g.pass ? "PASS  " : "FAIL  ") + g.name + " (" + g.detail + ")");
  r.space = &space;
  r.trials = &trials;
  r.chosen = &chosen;
  r.selection = sel;
  r.deflated_threshold = e.dsr.result.expected_max_sharpe * std::sqrt(365.0);  // per-day SR0, annualised as trials are
  write_file_atomic(dir + "/report.html", research_report_html(r));
}

// The run and its trials into <runs-dir>/runs.db (research/runs_db.hpp); the path is printed.
void record_run(const Setup& s, const std::string& dir, const char* command, std::size_t candles, std::uint64_t trials,
                const ParamSet& chosen, const TrialMetrics& chosen_train, const Evidence& e, const ParamSpace& space,
                const std::vector<TrialSet>& sets) {
  RunRecord r;
  r.dir = dir;
  r.command = command;
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  r.created_utc = stamp;
  r.data = s.data;
  r.candles = candles;
  r.method = s.method == Method::grid ? "grid" : s.method == Method::genetic ? "genetic" : "bayes";
  r.objective = std::string(to_string(s.selection.objective));
  r.trials = trials;
  r.chosen = chosen;
  r.objective_value = objective_value(s.selection.objective, chosen_train);
  r.train_sharpe = chosen_train.sharpe;
  r.untouched = e.untouched;
  r.untouched_metrics = e.untouched_metrics;
  r.dsr = e.dsr.result.dsr;
  r.pbo = e.pbo.result ? e.pbo.result->pbo : std::nan("");
  r.p_value = e.perm.result ? e.perm.result->p_value : std::nan("");
  for (const Gate& g : e.gates) r.gates_passed += g.pass ? 1 : 0;
  r.gates_total = static_cast<int>(e.gates.size());
  const std::string path = s.runs_dir + "/runs.db";
  const std::int64_t id = RunsDb(path).record(r, space, s.selection, sets);
  std::printf("  recorded as run %lld in %s (`enigma runs list --runs-dir %s`)\n", static_cast<long long>(id),
              path.c_str(), s.runs_dir.c_str());
}

std::string metrics_json_text(const TrialMetrics& m) {
  return "{\"trades\": " + std::to_string(m.trades) + ", \"win_rate\": " + jnum(m.win_rate()) +
         ", \"profit_factor\": " + jnum(m.profit_factor) + ", \"net_return\": " + jnum(m.net_return) +
         ", \"sharpe\": " + jnum(m.sharpe) + ", \"max_drawdown\": " + jnum(m.max_drawdown) + "}";
}

void write_metrics_json(const std::string& path, const char* command, const Setup& s, const ParamSet& chosen,
                        std::size_t trials, const Evidence& e, const std::string& extra) {
  std::ofstream f = open_out(path);
  f << "{\n  \"command\": " << jstr(command) << ",\n  \"trials\": " << trials
    << ",\n  \"objective\": " << jstr(std::string(to_string(s.selection.objective))) << ",\n  \"chosen_params\": {";
  for (std::size_t i = 0; i < kParamCount; ++i)
    f << (i ? ", " : "") << jstr(std::string(kParamNames[i])) << ": " << jnum(chosen.v[i]);
  f << "},\n" << extra;
  f << "  \"untouched_span\": " << jstr(e.untouched) << ",\n  \"untouched\": " << metrics_json_text(e.untouched_metrics)
    << ",\n";
  const DsrEvidence& d = e.dsr;
  f << "  \"deflated_sharpe\": {\"trials\": " << d.trials << ", \"sharpe_per_day\": " << jnum(d.sharpe)
    << ", \"trial_sharpe_variance\": " << jnum(d.trial_sharpe_variance) << ", \"observations\": " << d.observations
    << ", \"skew\": " << jnum(d.skew) << ", \"kurtosis\": " << jnum(d.kurtosis)
    << ", \"expected_max_sharpe\": " << jnum(d.result.expected_max_sharpe) << ", \"dsr\": " << jnum(d.result.dsr)
    << "},\n";
  f << "  \"pbo\": {\"partitions\": " << e.pbo.partitions << ", \"rows\": " << e.pbo.rows
    << ", \"combinations\": " << (e.pbo.result ? e.pbo.result->combinations : 0)
    << ", \"pbo\": " << (e.pbo.result ? jnum(e.pbo.result->pbo) : "null")
    << ", \"not_computed\": " << (e.pbo.result ? "null" : jstr(e.pbo.not_computed)) << "},\n";
  f << "  \"permutation\": {\"span\": " << jstr(e.untouched) << ", \"trades\": " << e.perm.trades
    << ", \"permutations\": " << s.evidence.permutations << ", \"seed\": " << s.evidence.seed
    << ", \"observed\": " << (e.perm.result ? jnum(e.perm.result->observed) : "null")
    << ", \"null_mean\": " << (e.perm.result ? jnum(e.perm.result->null_mean) : "null")
    << ", \"p_value\": " << (e.perm.result ? jnum(e.perm.result->p_value) : "null")
    << ", \"not_computed\": " << (e.perm.result ? "null" : jstr(e.perm.not_computed)) << "},\n";
  f << "  \"gates\": [";
  for (std::size_t i = 0; i < e.gates.size(); ++i)
    f << (i ? ", " : "") << "{\"gate\": " << jstr(e.gates[i].name)
      << ", \"pass\": " << (e.gates[i].pass ? "true" : "false") << ", \"detail\": " << jstr(e.gates[i].detail) << "}";
  f << "],\n  \"all_gates_pass\": " << (e.all_pass() ? "true" : "false") << "\n}\n";
  close_out(f, path);
}

void write_params_table(std::ofstream& f, const ParamSet& p) {
  f << "[optimize.params]\n";
  for (std::size_t i = 0; i < kParamCount; ++i) f << kParamNames[i] << " = " << num(p.v[i]) << "\n";
}

// ---- Shards (research/shards.hpp) ---------------------------------------------------------------------------

// --shard / --merge split the grid only: exit 2 (usage) for genetic and bayes, whose next points depend on the
// results so far.
bool refuse_unsplittable(const Args& a, const Setup& s, const char* command) {
  if ((a.shard.empty() && a.merge.empty()) || s.method == Method::grid) return false;
  std::fprintf(stderr,
               "enigma %s: %s splits the grid only; method %s is sequential (each next point depends on the results "
               "so far): run it in one process (oneTBB) or under mpirun\n",
               command, a.shard.empty() ? "--merge" : "--shard", s.method == Method::genetic ? "genetic" : "bayes");
  return true;
}

ShardHeader shard_header(const Args& a, const char* command, const CandleBacktest& bt, std::size_t windows, bool test) {
  ShardHeader h;
  h.command = command;
  h.grid = bt.space().grid_size();
  h.windows = windows;
  h.test = test;
  h.candles = bt.bars().size();
  h.config_hash = config_fingerprint(a.config, "method grid");
  h.data_hash = data_fingerprint(bt.bars());
  return h;
}

// Writes <runs-dir>/shard-K-of-N/ and says how to merge it.
int finish_shard(const Args& a, const Setup& s, ShardHeader h, const std::vector<std::vector<Trial>>& parts) {
  h.id = *parse_shard(a.shard);
  const auto [from, to] = shard_range(h.id, h.grid);
  const std::string dir = s.runs_dir + "/shard-" + std::to_string(h.id.k) + "-of-" + std::to_string(h.id.n);
  write_shard(dir, h, parts);
  std::printf("%s --shard %u/%u: grid points [%llu, %llu) of %llu in %zu window(s) on %zu candles\n", h.command.c_str(),
              h.id.k, h.id.n, static_cast<unsigned long long>(from), static_cast<unsigned long long>(to),
              static_cast<unsigned long long>(h.grid), h.windows, h.candles);
  std::printf("  output: %s/trials.csv, %s/shard.txt (then: enigma %s --config %s --merge <every shard directory>)\n",
              dir.c_str(), dir.c_str(), h.command.c_str(), a.config.c_str());
  return 0;
}

int cmd_optimize() {
  const Args& a = g_optimize;
  const Setup s = read_setup(a);
  if (refuse_unsplittable(a, s, "optimize")) return 2;
  mpi::init_if_launched();  // under mpirun: this rank evaluates its share of every batch
  const unsigned threads = thread_count(a);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  ProgressLine progress("optimize", s.method == Method::genetic ? "individuals" : "trials",
                        a.quiet || mpi::rank() != 0);
  std::vector<strategy::Bar> bars = load_candles(s);
  const std::size_t n = bars.size();
  const CandleBacktest bt(std::move(bars), s.space, s.model);
  const double prep_s = progress.elapsed();

  const std::size_t train_end =
      s.train_fraction >= 1.0 ? n : static_cast<std::size_t>(std::floor(n * s.train_fraction));
  const Span train{0, train_end};
  const std::optional<Span> test = train_end < n ? std::optional<Span>(Span{train_end, n}) : std::nullopt;
  auto report = [&](std::uint64_t d, std::uint64_t t) { progress(d, t); };
  const bool sharded = !a.shard.empty() || !a.merge.empty();
  const ShardHeader shard = sharded ? shard_header(a, "optimize", bt, 1, test.has_value()) : ShardHeader{};
  if (!a.shard.empty()) {
    const auto [from, to] = shard_range(*parse_shard(a.shard), shard.grid);
    const std::vector<std::vector<Trial>> part{run_grid_part(bt, train, test, from, to, report)};
    return mpi::rank() == 0 ? finish_shard(a, s, shard, part) : 0;
  }
  std::vector<Trial> trials = !a.merge.empty()           ? std::move(merge_shards(a.merge, shard, bt.space())[0])
                              : s.method == Method::grid ? run_grid(bt, train, test, report)
                              : s.method == Method::genetic
                                  ? run_genetic(bt, train, test, s.selection, s.genetic, report)
                                  : run_bayes(bt, train, test, s.selection, s.bayes, report);
  const double total_s = progress.elapsed();
  if (mpi::rank() != 0) return 0;  // every rank holds every trial; rank 0 writes the outputs
  if (!a.merge.empty())
    std::printf("optimize --merge: %zu shards checked, %zu trials\n", a.merge.size(), trials.size());
  const Trial& best = trials[best_trial(trials, s.selection)];
  std::uint64_t feasible = 0;
  for (const Trial& t : trials) feasible += s.selection.feasible(t.train) ? 1 : 0;

  Evidence ev;
  ev.dsr = deflated_sharpe_of(bt, trials, best, train);
  ev.pbo = pbo_of(bt, trials, train, s.evidence.pbo_partitions);
  if (test) {
    ev.untouched = "test span";
    ev.untouched_metrics = *best.test;
    ev.perm = permutation_of(bt, {{best.idx, *test}}, s.evidence);
  } else {
    ev.untouched = "train span (in-sample: no test span, train_fraction = 1)";
    ev.untouched_metrics = best.train;
    ev.perm.not_computed = "no untouched span (set [optimize] train_fraction below 1)";
  }
  ev.gates = plan_gates(ev, std::nullopt);

  const std::string dir = make_output_dir(s.runs_dir, "optimize");
  write_trials_csv(dir + "/trials.csv", bt.space(), s.selection, {{std::string(), &trials}}, test.has_value());
  {
    const std::string path = dir + "/best.toml";
    std::ofstream f = open_out(path);
    f << evidence_header(s, bt.bars(), "optimize", trials.size(), threads);
    f << "# train span: candles [0, " << train.end << "): " << metric_text(best.train) << "\n";
    if (best.test)
      f << "# test span: candles [" << test->begin << ", " << test->end << "): " << metric_text(*best.test) << "\n";
    f << "# feasible trials: " << feasible << " of " << trials.size()
      << (feasible == 0 ? " (none met the constraints: this is the best infeasible one)" : "") << "\n";
    f << "# objective (" << to_string(s.selection.objective)
      << ", train span): " << num(objective_value(s.selection.objective, best.train)) << "\n";
    f << evidence_comment(ev);
    write_params_table(f, bt.space().at(best.idx));
    close_out(f, path);
  }
  std::printf("optimize: %zu trials (%llu feasible) on %zu candles, best trial %llu: %s\n", trials.size(),
              static_cast<unsigned long long>(feasible), n, static_cast<unsigned long long>(best.grid_index),
              param_cells(bt.space().at(best.idx)).c_str());
  std::printf("  train: %s\n", metric_text(best.train).c_str());
  if (best.test) std::printf("  test:  %s\n", metric_text(*best.test).c_str());
  write_metrics_json(dir + "/metrics.json", "optimize", s, bt.space().at(best.idx), trials.size(), ev,
                     "  \"train\": " + metrics_json_text(best.train) + ",\n" +
                         (best.test ? "  \"test\": " + metrics_json_text(*best.test) + ",\n" : std::string()));
  {
    ResearchReport charts;  // the chosen parameters' round trips, on the train span and the test span
    charts.bars = &bt.bars();
    charts.price_span = {0, n};
    (void)bt.run(best.idx, train, nullptr, nullptr, &charts.fills);
    if (test) (void)bt.run(best.idx, *test, nullptr, nullptr, &charts.fills);
    charts.price_caption = "Closes of all " + std::to_string(n) + " candles; the chosen parameters' round trips" +
                           (test ? " on the train span [0, " + std::to_string(train.end) + ") and the test span [" +
                                       std::to_string(test->begin) + ", " + std::to_string(test->end) + ")"
                                 : std::string(" on the train span"));
    write_report_html(dir, "optimize", evidence_header(s, bt.bars(), "optimize", trials.size(), threads), bt.space(),
                      trials, best, s.selection, ev, std::move(charts));
  }
  std::printf("  output: %s/trials.csv, %s/best.toml, %s/metrics.json, %s/report.html\n", dir.c_str(), dir.c_str(),
              dir.c_str(), dir.c_str());
  record_run(s, dir, "optimize", n, trials.size(), bt.space().at(best.idx), best.train, ev, bt.space(),
             {{-1, &trials}});
  std::printf(
      "timing: %.3f s total on %d rank(s) x %u threads (%.3f s loading candles, %zu scorer passes and %zu signal "
      "series, %.3f s trials, %.0f trials/s)\n",
      total_s, mpi::size(), threads, prep_s, bt.signals().scorer_passes(), bt.signals().series_count(),
      total_s - prep_s, static_cast<double>(trials.size()) / std::max(1e-9, total_s - prep_s));
  print_gates(ev);
  return 0;
}

int cmd_walkforward() {
  const Args& a = g_walkforward;
  const Setup s = read_setup(a);
  if (refuse_unsplittable(a, s, "walkforward")) return 2;
  mpi::init_if_launched();  // under mpirun: this rank evaluates its share of every batch
  const unsigned threads = thread_count(a);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  ProgressLine progress("walkforward", s.method == Method::genetic ? "individuals" : "trials",
                        a.quiet || mpi::rank() != 0);
  std::vector<strategy::Bar> bars = load_candles(s);
  const std::size_t n = bars.size();
  // Checked before the signal series are computed: a bad window config fails at once.
  const std::vector<Window> windows = walkforward_windows(n, s.walkforward);
  const CandleBacktest bt(std::move(bars), s.space, s.model);
  const double prep_s = progress.elapsed();
  const bool sharded = !a.shard.empty() || !a.merge.empty();
  const ShardHeader shard = sharded ? shard_header(a, "walkforward", bt, windows.size(), true) : ShardHeader{};
  if (!a.shard.empty()) {  // this share of every window's grid, on its train and test spans
    const auto [from, to] = shard_range(*parse_shard(a.shard), shard.grid);
    std::vector<std::vector<Trial>> parts;
    for (std::size_t w = 0; w < windows.size(); ++w)
      parts.push_back(run_grid_part(
          bt, windows[w].train, windows[w].test, from, to,
          [&](std::uint64_t d, std::uint64_t) { progress(w * (to - from) + d, windows.size() * (to - from)); }));
    return mpi::rank() == 0 ? finish_shard(a, s, shard, parts) : 0;
  }
  std::vector<std::vector<Trial>> merged;
  if (!a.merge.empty()) {
    merged = merge_shards(a.merge, shard, bt.space());
    std::printf("walkforward --merge: %zu shards checked, %llu trials in each of %zu windows\n", a.merge.size(),
                static_cast<unsigned long long>(shard.grid), windows.size());
  }
  WindowTrials given;
  if (!a.merge.empty()) given = [&](std::size_t w) { return std::move(merged[w]); };
  const WalkForwardResult r = run_walkforward(
      bt, s.walkforward, s.selection, s.method, s.genetic, [&](std::uint64_t d, std::uint64_t t) { progress(d, t); },
      s.bayes, given);
  const double total_s = progress.elapsed();
  if (mpi::rank() != 0) return 0;  // every rank holds every trial; rank 0 writes the outputs

  // Evidence: DSR and PBO of the deployed (last) window's selection among its trials on its train span; the
  // permutation test over the chained out-of-sample trades of every window.
  const WindowResult& deployed = r.windows.back();
  Evidence ev;
  ev.dsr = deflated_sharpe_of(bt, deployed.all, deployed.chosen, deployed.window.train);
  ev.pbo = pbo_of(bt, deployed.all, deployed.window.train, s.evidence.pbo_partitions);
  std::vector<Segment> segments;
  for (const WindowResult& wr : r.windows) segments.push_back({wr.chosen.idx, wr.window.test});
  ev.perm = permutation_of(bt, segments, s.evidence);
  ev.untouched = "out-of-sample";
  ev.untouched_metrics = r.out_of_sample;
  ev.gates = plan_gates(ev, std::make_pair(r.valid_windows, r.windows.size()));

  const std::string dir = make_output_dir(s.runs_dir, "walkforward");
  const auto& B = bt.bars();
  {
    const std::string path = dir + "/walkforward.csv";
    std::ofstream f = open_out(path);
    f << "window,train_begin,train_end,test_begin,test_end,train_from,test_from,test_to,trials,valid,"
      << param_columns();
    for (const char* side : {"train", "test"}) {
      std::string cols = kMetricColumns;
      for (std::size_t p = 0, q; p != std::string::npos; p = q == std::string::npos ? q : q + 1) {
        q = cols.find(',', p);
        f << "," << side << "_" << cols.substr(p, q == std::string::npos ? q : q - p);
      }
    }
    f << "\n";
    for (std::size_t w = 0; w < r.windows.size(); ++w) {
      const WindowResult& wr = r.windows[w];
      f << w << "," << wr.window.train.begin << "," << wr.window.train.end << "," << wr.window.test.begin << ","
        << wr.window.test.end << "," << utc_text(B[wr.window.train.begin].time_ns) << ","
        << utc_text(B[wr.window.test.begin].time_ns) << "," << utc_text(B[wr.window.test.end - 1].time_ns) << ","
        << wr.trials << "," << (wr.valid ? 1 : 0) << "," << param_cells(bt.space().at(wr.chosen.idx)) << ","
        << metric_cells(wr.chosen.train) << "," << metric_cells(*wr.chosen.test) << "\n";
    }
    const Window& first = r.windows.front().window;
    const Window& last = r.windows.back().window;
    // The concatenated out-of-sample result: test metrics only (each window has its own parameters).
    f << "oos,,," << first.test.begin << "," << last.test.end << ",," << utc_text(B[first.test.begin].time_ns) << ","
      << utc_text(B[last.test.end - 1].time_ns) << "," << r.trials << ","
      << (r.valid_windows == r.windows.size() ? 1 : 0)
      << std::string(kParamCount + 7, ',')  // no params or train metrics
      << metric_cells(r.out_of_sample) << "\n";
    close_out(f, path);
  }
  {
    std::vector<std::pair<std::string, const std::vector<Trial>*>> sets;
    for (std::size_t w = 0; w < r.windows.size(); ++w) sets.emplace_back(std::to_string(w), &r.windows[w].all);
    write_trials_csv(dir + "/trials.csv", bt.space(), s.selection, sets, true);
  }
  {
    const std::string path = dir + "/oos_equity.csv";
    std::ofstream f = open_out(path);
    f << "time,window,equity\n";
    std::size_t k = 0;
    for (std::size_t w = 0; w < r.windows.size(); ++w)
      for (std::size_t i = r.windows[w].window.test.begin; i < r.windows[w].window.test.end; ++i)
        f << utc_text(B[i].time_ns) << "," << w << "," << num(r.oos_equity[k++]) << "\n";
    close_out(f, path);
  }
  {
    // The last window's parameters: the most recent data chose them, so they are the ones to deploy.
    const WindowResult& last = r.windows.back();
    const std::string path = dir + "/best.toml";
    std::ofstream f = open_out(path);
    f << evidence_header(s, B, "walkforward", r.trials, threads);
    f << "# walk-forward: " << r.windows.size() << " windows, train fraction " << num(s.walkforward.train_fraction)
      << ", " << r.valid_windows << " valid (>= " << s.walkforward.min_trades_per_window << " test trades)\n";
    f << "# out-of-sample (test spans chained): " << metric_text(r.out_of_sample) << "\n";
    f << "# these are window " << r.windows.size() - 1
      << "'s parameters; its train span: " << metric_text(last.chosen.train)
      << "; its test span: " << metric_text(*last.chosen.test) << "\n";
    f << "# objective (" << to_string(s.selection.objective) << ", window " << r.windows.size() - 1
      << " train span): " << num(objective_value(s.selection.objective, last.chosen.train)) << "\n";
    f << evidence_comment(ev);
    write_params_table(f, bt.space().at(last.chosen.idx));
    close_out(f, path);
  }
  for (std::size_t w = 0; w < r.windows.size(); ++w) {
    const WindowResult& wr = r.windows[w];
    std::printf("window %zu: train [%zu, %zu) test [%zu, %zu) %s params %s\n  test: %s\n", w, wr.window.train.begin,
                wr.window.train.end, wr.window.test.begin, wr.window.test.end, wr.valid ? "valid" : "NOT VALID",
                param_cells(bt.space().at(wr.chosen.idx)).c_str(), metric_text(*wr.chosen.test).c_str());
  }
  std::printf("out-of-sample: %s\n%u of %zu windows valid (>= %u test trades each)\n",
              metric_text(r.out_of_sample).c_str(), r.valid_windows, r.windows.size(),
              s.walkforward.min_trades_per_window);
  write_metrics_json(dir + "/metrics.json", "walkforward", s, bt.space().at(deployed.chosen.idx), r.trials, ev,
                     "  \"windows\": " + std::to_string(r.windows.size()) +
                         ",\n  \"valid_windows\": " + std::to_string(r.valid_windows) +
                         ",\n  \"evidence_window\": " + std::to_string(r.windows.size() - 1) +
                         ",\n  \"evidence_window_trials\": " + std::to_string(deployed.all.size()) +
                         ",\n  \"out_of_sample\": " + metrics_json_text(r.out_of_sample) + ",\n");
  {
    ResearchReport charts;  // each window's chosen parameters on its test span
    charts.equity = r.oos_equity;
    charts.equity_first_candle = r.windows.front().window.test.begin;
    charts.bars = &B;
    charts.price_span = {r.windows.front().window.test.begin, r.windows.back().window.test.end};
    for (const WindowResult& wr : r.windows) {
      charts.window_starts.push_back(wr.window.test.begin);
      (void)bt.run(wr.chosen.idx, wr.window.test, nullptr, nullptr, &charts.fills);
    }
    charts.price_caption = "Closes over the out-of-sample candles [" + std::to_string(charts.price_span.begin) + ", " +
                           std::to_string(charts.price_span.end) +
                           "); each window's chosen parameters' round trips on its test span";
    write_report_html(dir, "walkforward", evidence_header(s, B, "walkforward", r.trials, threads), bt.space(),
                      deployed.all, deployed.chosen, s.selection, ev, std::move(charts));
  }
  std::printf("  output: %s/walkforward.csv, trials.csv, oos_equity.csv, best.toml, metrics.json, report.html\n",
              dir.c_str());
  {
    std::vector<TrialSet> sets;
    for (std::size_t w = 0; w < r.windows.size(); ++w) sets.push_back({static_cast<int>(w), &r.windows[w].all});
    record_run(s, dir, "walkforward", n, r.trials, bt.space().at(deployed.chosen.idx), deployed.chosen.train, ev,
               bt.space(), sets);
  }
  std::printf(
      "timing: %.3f s total on %d rank(s) x %u threads (%.3f s loading candles, %zu scorer passes and %zu signal "
      "series, %.3f s for %llu trials, %.0f trials/s)\n",
      total_s, mpi::size(), threads, prep_s, bt.signals().scorer_passes(), bt.signals().series_count(),
      total_s - prep_s, static_cast<unsigned long long>(r.trials),
      static_cast<double>(r.trials) / std::max(1e-9, total_s - prep_s));
  print_gates(ev);
  return 0;
}

void add_common(CLI::App* c, Args& a) {
  c->add_option("--config", a.config, "TOML with [optimize] (data, objective, constraints) and [optimize.params]")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--method", a.method, "grid | genetic | bayes (default from config: [optimize] method, else grid)")
      ->check(CLI::IsMember({"grid", "genetic", "bayes"}));
  c->add_option("--threads", a.threads, "oneTBB worker threads (default: every core); results do not depend on it")
      ->check(CLI::Range(1u, 1024u));
  c->add_option(
      "--seed", a.seed,
      "Genetic / bayes search seed (default from config: [optimize.genetic] or [optimize.bayes] seed, else 1)");
  c->add_option("--trials", a.trials,
                "Bayes: trials to evaluate (default from config: [optimize.bayes] trials, else 200)")
      ->check(CLI::Range(1u, 100'000u));
  c->add_option("--runs-dir", a.runs_dir, "Where <UTC>-optimize/ or <UTC>-walkforward/ is created (default: runs)");
  c->add_flag("--quiet", a.quiet, "No progress lines");
  CLI::Option* shard =
      c->add_option("--shard", a.shard,
                    "K/N (0 <= K < N): evaluate only grid points [G*K/N, G*(K+1)/N) of the G-point grid (in every "
                    "walk-forward window) and write <runs-dir>/shard-K-of-N/ for --merge; grid only (scripts/slurm/)")
          ->check(CLI::Validator(
              [](std::string& v) {
                return parse_shard(v) ? std::string() : std::string("must be K/N with 0 <= K < N");
              },
              "K/N"));
  c->add_option("--merge", a.merge,
                "Shard directories of one --shard run (each K of N exactly once, same config and data): write the "
                "run folder and runs.db entry a single process writes, from their trials")
      ->excludes(shard);
}

struct RunsArgs {
  std::string runs_dir = "runs";
  std::string data, command;
  std::vector<std::int64_t> ids;
};
RunsArgs g_runs;
CLI::App* g_runs_cmd = nullptr;
CLI::App* g_runs_list = nullptr;
CLI::App* g_runs_best = nullptr;
CLI::App* g_runs_compare = nullptr;

int cmd_runs() {
  const std::string path = g_runs.runs_dir + "/runs.db";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw Error("no runs database at '" + path +
                "' (`enigma optimize` and `enigma walkforward` create it; --runs-dir)");
  RunsDb db(path);
  if (g_runs_list->parsed()) std::fputs(db.list().c_str(), stdout);
  if (g_runs_best->parsed()) std::fputs(db.best(g_runs.data, g_runs.command).c_str(), stdout);
  if (g_runs_compare->parsed()) std::fputs(db.compare(g_runs.ids.at(0), g_runs.ids.at(1)).c_str(), stdout);
  return 0;
}

struct DownloadArgs {
  std::string venue = "binance-usdm";
  std::string symbol, interval = "5m", from, to, out = "data/downloads", base_url, ca_file, what = "candles";
  int retries = 5;
  bool quiet = false;
};
DownloadArgs g_download;
CLI::App* g_download_cmd = nullptr;

int cmd_download() {
  const DownloadArgs& a = g_download;
  DownloadOptions o;
  o.venue = a.venue == "kucoin-futures" ? DownloadVenue::kucoin_futures : DownloadVenue::binance_usdm;
  o.symbol = a.symbol;
  o.interval = a.interval;
  o.from_ms = *parse_utc_ms(a.from);  // the option's check parsed it already
  if (a.to.empty()) {
    // Now, so only closed candles are asked for (the one still open ends after now).
    const std::int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    const std::int64_t step = *interval_ms(a.interval);
    o.to_ms = now_ms / step * step;
  } else {
    o.to_ms = *parse_utc_ms(a.to);
  }
  if (o.to_ms <= o.from_ms) {
    std::fprintf(stderr, "enigma download: --to (%s) must be after --from (%s)\n", utc_datetime(o.to_ms).c_str(),
                 utc_datetime(o.from_ms).c_str());
    return 2;
  }
  o.out_dir = a.out;
  o.base_url = a.base_url;
  o.ca_file = a.ca_file;
  o.what = a.what == "funding" ? DownloadWhat::funding : a.what == "both" ? DownloadWhat::both : DownloadWhat::candles;
  o.max_retries = a.retries;
  o.progress = !a.quiet;
  const DownloadReport r = run_download(o);
  auto span = [](const SeriesReport& s) {
    return s.rows == 0 ? std::string("no rows") : utc_datetime(s.first_ms) + " .. " + utc_datetime(s.last_ms);
  };
  if (r.candles) {
    const SeriesReport& s = *r.candles;
    std::printf(
        "candles: %s: %llu rows, %s (had %llu; fetched %llu in %llu requests; %llu duplicates dropped; %zu gap%s)\n",
        s.path.c_str(), static_cast<unsigned long long>(s.rows), span(s).c_str(),
        static_cast<unsigned long long>(s.had), static_cast<unsigned long long>(s.fetched),
        static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.duplicates), s.gaps.size(),
        s.gaps.size() == 1 ? "" : "s");
    for (const DownloadGap& g : s.gaps)
      std::printf("gap: %s .. %s (%llu candles missing)\n", utc_datetime(g.first_ms).c_str(),
                  utc_datetime(g.last_ms).c_str(), static_cast<unsigned long long>(g.missing));
  }
  if (r.funding) {
    const SeriesReport& s = *r.funding;
    std::printf("funding: %s: %llu rows, %s (had %llu; fetched %llu in %llu requests; %llu duplicates dropped)\n",
                s.path.c_str(), static_cast<unsigned long long>(s.rows), span(s).c_str(),
                static_cast<unsigned long long>(s.had), static_cast<unsigned long long>(s.fetched),
                static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.duplicates));
  }
  if (r.rate_limited + r.retried > 0)
    std::printf("venue: %llu rate-limit waits (429), %llu retries (5xx / connection)\n",
                static_cast<unsigned long long>(r.rate_limited), static_cast<unsigned long long>(r.retried));
  return 0;
}

void add_download(CLI::App& app) {
  CLI::App* c = g_download_cmd = app.add_subcommand(
      "download",
      "Fetch candles (klines) and funding-rate history from a venue's public REST API into "
      "<out>/<venue>_<SYMBOL>_<interval>.csv and <out>/<venue>_<SYMBOL>_funding.csv; a second run fetches only "
      "what the files lack; gaps are reported with their times");
  DownloadArgs& a = g_download;
  auto utc_check = CLI::Validator(
      [](std::string& s) {
        return parse_utc_ms(s) ? std::string()
                               : "'" + s + "' is not a UTC date/time (2025-06-02, 2025-06-02T04:50:00Z)";
      },
      "UTC");
  c->add_option("--venue", a.venue,
                "binance-usdm (GET /fapi/v1/klines, /fapi/v1/fundingRate) | kucoin-futures "
                "(GET /api/v1/kline/query, /api/v1/contract/funding-rates); default binance-usdm")
      ->check(CLI::IsMember({"binance-usdm", "kucoin-futures"}));
  c->add_option("--symbol", a.symbol, "The venue's symbol (BTCUSDT on Binance, XBTUSDTM on KuCoin Futures)")
      ->required();
  c->add_option("--interval", a.interval, "Candle interval: 1m, 5m, 15m, 1h, 4h, 1d (default 5m)")
      ->check(CLI::IsMember({"1m", "5m", "15m", "1h", "4h", "1d"}));
  c->add_option("--from", a.from,
                "First candle / funding time wanted, UTC: 2025-06-02, \"2025-06-02 04:50\", "
                "2025-06-02T04:50:00Z")
      ->required()
      ->check(utc_check);
  c->add_option("--to", a.to, "End of the range, UTC, exclusive (default: now; only closed candles)")->check(utc_check);
  c->add_option("--out", a.out, "Output folder (default data/downloads; created when missing)");
  c->add_option(
       "--base-url", a.base_url,
       "The venue's REST base URL (default https://fapi.binance.com or https://api-futures.kucoin.com); https only")
      ->check(CLI::Validator(
          [](std::string& s) { return s.rfind("https://", 0) == 0 ? std::string() : "--base-url must be https://..."; },
          "HTTPS URL"));
  c->add_option("--ca-file", a.ca_file, "PEM file of extra trust anchors for the venue's certificate (tests)")
      ->check(CLI::ExistingFile);
  c->add_option("--what", a.what, "candles | funding | both (default candles)")
      ->check(CLI::IsMember({"candles", "funding", "both"}));
  c->add_option("--retries", a.retries, "Retries per request after a 5xx answer or a failed connection (default 5)")
      ->check(CLI::Range(0, 100));
  c->add_flag("--quiet", a.quiet, "No progress lines");
}

}  // namespace

void register_commands(CLI::App& app) {
  g_optimize_cmd =
      app.add_subcommand("optimize",
                         "Tune the candle strategy's parameters (grid on oneTBB, seeded genetic or bayes); writes "
                         "runs/<UTC>-optimize/ trials.csv, best.toml, metrics.json and report.html");
  add_common(g_optimize_cmd, g_optimize);
  g_walkforward_cmd = app.add_subcommand(
      "walkforward",
      "Rolling walk-forward: optimise on each train span, evaluate untouched on the next test span; writes "
      "runs/<UTC>-walkforward/ walkforward.csv, trials.csv, oos_equity.csv, best.toml, metrics.json and report.html");
  add_common(g_walkforward_cmd, g_walkforward);
  g_runs_cmd = app.add_subcommand(
      "runs", "Query runs.db, where every optimize / walkforward run and its trials are recorded: list, best, compare");
  g_runs_cmd->require_subcommand(1);
  g_runs_cmd->add_option("--runs-dir", g_runs.runs_dir, "The folder holding runs.db (default: runs)");
  g_runs_list = g_runs_cmd->add_subcommand("list", "Every recorded run: command, method, objective, evidence, gates");
  g_runs_best = g_runs_cmd->add_subcommand(
      "best", "Per data file, the run whose chosen parameters scored highest on its objective, with those parameters");
  g_runs_best->add_option("--data", g_runs.data, "Only data paths containing this text");
  g_runs_best->add_option("--command", g_runs.command, "Only runs of this command")
      ->check(CLI::IsMember({"optimize", "walkforward"}));
  g_runs_compare = g_runs_cmd->add_subcommand("compare", "Two runs side by side (differences marked *)");
  g_runs_compare->add_option("ids", g_runs.ids, "Two run ids (from `enigma runs list`)")->required()->expected(2);
  for (CLI::App* sub : {g_runs_list, g_runs_best, g_runs_compare}) sub->fallthrough();  // --runs-dir after the verb
  add_download(app);
}

std::optional<int> run_selected_command(CLI::App&) {
  if (g_optimize_cmd && g_optimize_cmd->parsed()) return cmd_optimize();
  if (g_walkforward_cmd && g_walkforward_cmd->parsed()) return cmd_walkforward();
  if (g_runs_cmd && g_runs_cmd->parsed()) return cmd_runs();
  if (g_download_cmd && g_download_cmd->parsed()) return cmd_download();
  return std::nullopt;
}

}  // namespace enigma::research
