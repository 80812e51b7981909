#include "research/runs_db.hpp"

#include <sqlite3.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.hpp"

namespace enigma::research {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY, dir TEXT NOT NULL, command TEXT NOT NULL, created_utc TEXT NOT NULL, data TEXT NOT NULL,
  candles INTEGER NOT NULL, method TEXT NOT NULL, objective TEXT NOT NULL, trials INTEGER NOT NULL,
  rsi_period REAL, rsi_oversold REAL, rsi_overbought REAL, min_score REAL, stop_loss_roi REAL,
  take_profit_roi REAL, leverage REAL,
  objective_value REAL, train_sharpe REAL, untouched TEXT, untouched_sharpe REAL, untouched_max_drawdown REAL,
  untouched_trades INTEGER, dsr REAL, pbo REAL, p_value REAL, gates_passed INTEGER, gates_total INTEGER);
CREATE TABLE IF NOT EXISTS trials (
  run_id INTEGER NOT NULL REFERENCES runs(id), window INTEGER NOT NULL, trial INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  rsi_period REAL, rsi_oversold REAL, rsi_overbought REAL, min_score REAL, stop_loss_roi REAL,
  take_profit_roi REAL, leverage REAL, feasible INTEGER NOT NULL,
  train_trades INTEGER, train_win_rate REAL, train_profit_factor REAL, train_net_return REAL, train_sharpe REAL,
  train_max_drawdown REAL,
  test_trades INTEGER, test_win_rate REAL, test_profit_factor REAL, test_net_return REAL, test_sharpe REAL,
  test_max_drawdown REAL);
CREATE INDEX IF NOT EXISTS trials_by_run ON trials(run_id, window);
)sql";

// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql, const std::string& path) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
      throw Error("runs database '" + path + "': " + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  void real(int i, double v) {
    if (std::isfinite(v))
      sqlite3_bind_double(s_, i, v);
    else
      sqlite3_bind_null(s_, i);
  }
  void integer(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void text(int i, const std::string& v) { sqlite3_bind_text(s_, i, v.c_str(), -1, SQLITE_TRANSIENT); }
  void null(int i) { sqlite3_bind_null(s_, i); }
  // SQLITE_ROW or SQLITE_DONE; anything else throws.
  int step(const std::string& path) {
    const int rc = sqlite3_step(s_);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw Error("runs database '" + path + "': " + sqlite3_errmsg(db_));
    return rc;
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  [[nodiscard]] std::string col(int i) const {
    const unsigned char* t = sqlite3_column_text(s_, i);
    return t ? reinterpret_cast<const char*>(t) : "null";
  }
  [[nodiscard]] int columns() const { return sqlite3_column_count(s_); }
  [[nodiscard]] std::string name(int i) const { return sqlite3_column_name(s_, i); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

void bind_metrics(Stmt& st, int first, const TrialMetrics& m) {
  st.integer(first, m.trades);
  st.real(first + 1, m.win_rate());
  st.real(first + 2, m.profit_factor);
  st.real(first + 3, m.net_return);
  st.real(first + 4, m.sharpe);
  st.real(first + 5, m.max_drawdown);
}

// The query's rows as an aligned text table (header first).
std::string table(Stmt& st, const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header;
  for (int i = 0; i < st.columns(); ++i) header.push_back(st.name(i));
  rows.push_back(header);
  while (st.step(path) == SQLITE_ROW) {
    std::vector<std::string> r;
    for (int i = 0; i < st.columns(); ++i) r.push_back(st.col(i));
    rows.push_back(std::move(r));
  }
  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::string out;
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out += "\n";
  }
  if (rows.size() == 1) out += "(no runs)\n";
  return out;
}

}  // namespace

RunsDb::RunsDb(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("cannot open runs database '" + path + "': " + why);
  }
  sqlite3_busy_timeout(db_, 10'000);  // another optimize writing its run: wait for it
  try {
    exec(kSchema);
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

RunsDb::~RunsDb() { sqlite3_close(db_); }

void RunsDb::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string why = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error("runs database '" + path_ + "': " + why);
  }
}

std::int64_t RunsDb::record(const RunRecord& run, const ParamSpace& space, const Selection& sel,
                            const std::vector<TrialSet>& sets) {
  exec("BEGIN IMMEDIATE");
  try {
    Stmt r(db_,
           "INSERT INTO runs (dir, command, created_utc, data, candles, method, objective, trials, rsi_period, "
           "rsi_oversold, rsi_overbought, min_score, stop_loss_roi, take_profit_roi, leverage, objective_value, "
           "train_sharpe, untouched, untouched_sharpe, untouched_max_drawdown, untouched_trades, dsr, pbo, p_value, "
           "gates_passed, gates_total) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
           path_);
    r.text(1, run.dir);
    r.text(2, run.command);
    r.text(3, run.created_utc);
    r.text(4, run.data);
    r.integer(5, static_cast<std::int64_t>(run.candles));
    r.text(6, run.method);
    r.text(7, run.objective);
    r.integer(8, static_cast<std::int64_t>(run.trials));
    for (std::size_t p = 0; p < kParamCount; ++p) r.real(9 + static_cast<int>(p), run.chosen.v[p]);
    r.real(16, run.objective_value);
    r.real(17, run.train_sharpe);
    r.text(18, run.untouched);
    r.real(19, run.untouched_metrics.sharpe);
    r.real(20, run.untouched_metrics.max_drawdown);
    r.integer(21, run.untouched_metrics.trades);
    r.real(22, run.dsr);
    r.real(23, run.pbo);
    r.real(24, run.p_value);
    r.integer(25, run.gates_passed);
    r.integer(26, run.gates_total);
    r.step(path_);
    const std::int64_t id = sqlite3_last_insert_rowid(db_);

    Stmt t(db_, "INSERT INTO trials VALUES (?,?,?,?, ?,?,?,?,?,?,?, ?, ?,?,?,?,?,?, ?,?,?,?,?,?)", path_);
    for (const TrialSet& set : sets) {
      for (const Trial& tr : *set.trials) {
        t.integer(1, id);
        t.integer(2, set.window);
        t.integer(3, static_cast<std::int64_t>(tr.grid_index));
        t.integer(4, tr.generation);
        const ParamSet p = space.at(tr.idx);
        for (std::size_t k = 0; k < kParamCount; ++k) t.real(5 + static_cast<int>(k), p.v[k]);
        t.integer(12, sel.feasible(tr.train) ? 1 : 0);
        bind_metrics(t, 13, tr.train);
        if (tr.test) {
          bind_metrics(t, 19, *tr.test);
        } else {
          for (int k = 19; k <= 24; ++k) t.null(k);
        }
        t.step(path_);
        t.reset();
      }
    }
    exec("COMMIT");
    return id;
  } catch (...) {
    char* err = nullptr;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, &err);
    sqlite3_free(err);
    throw;
  }
}

std::string RunsDb::list() {
  Stmt st(
      db_,
      "SELECT id, created_utc, command, method, trials, objective, printf('%.4g', objective_value) AS objective_value, "
      "untouched, printf('%.4g', untouched_sharpe) AS untouched_sharpe, printf('%.4g', dsr) AS dsr, "
      "gates_passed || '/' || gates_total AS gates, data FROM runs ORDER BY id",
      path_);
  return table(st, path_);
}

std::string RunsDb::best(const std::string& data_filter, const std::string& command) {
  // Per data file, the run whose chosen parameters scored highest (ties: the earlier run).
  Stmt st(
      db_,
      "SELECT r.id, r.data, r.command, r.method, r.objective, printf('%.6g', r.objective_value) AS objective_value, "
      "r.rsi_period, r.rsi_oversold, r.rsi_overbought, r.min_score, r.stop_loss_roi, r.take_profit_roi, "
      "r.leverage, printf('%.4g', r.untouched_sharpe) AS untouched_sharpe, r.gates_passed || '/' || r.gates_total "
      "AS gates FROM runs r WHERE instr(r.data, ?1) > 0 AND (?2 = '' OR r.command = ?2) AND r.id = (SELECT "
      "q.id FROM runs q WHERE q.data = r.data AND (?2 = '' OR q.command = ?2) ORDER BY q.objective_value DESC, "
      "q.id LIMIT 1) ORDER BY r.data",
      path_);
  st.text(1, data_filter);
  st.text(2, command);
  return table(st, path_);
}

std::string RunsDb::compare(std::int64_t a, std::int64_t b) {
  std::vector<std::vector<std::string>> cols;  // per run: its column values
  std::vector<std::string> names;
  for (const std::int64_t id : {a, b}) {
    Stmt st(db_, "SELECT * FROM runs WHERE id = ?1", path_);
    st.integer(1, id);
    if (st.step(path_) != SQLITE_ROW)
      throw Error("runs database '" + path_ + "': no run with id " + std::to_string(id));
    std::vector<std::string> v;
    names.clear();
    for (int i = 0; i < st.columns(); ++i) {
      names.push_back(st.name(i));
      v.push_back(st.col(i));
    }
    cols.push_back(std::move(v));
  }
  std::size_t w = 0;
  for (const auto& n : names) w = std::max(w, n.size());
  std::size_t w1 = 0;
  for (const auto& v : cols[0]) w1 = std::max(w1, v.size());
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += names[i] + std::string(w - names[i].size() + 2, ' ') + cols[0][i] +
           std::string(w1 - cols[0][i].size() + 2, ' ') + cols[1][i];
    if (cols[0][i] != cols[1][i] && names[i] != "id" && names[i] != "dir" && names[i] != "created_utc") out += "   *";
    out += "\n";
  }
  return out;
}

}  // namespace enigma::research
