#include "research/shards.hpp"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "core/files.hpp"

namespace enigma::research {
namespace {

constexpr std::uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr std::uint64_t kFnvPrime = 1099511628211ULL;

void fnv(std::uint64_t& h, const void* data, std::size_t n) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= kFnvPrime;
  }
}

std::string hex(std::uint64_t h) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  return buf;
}

std::string read_all(const std::string& path, bool& ok) {
  std::ifstream f(path, std::ios::binary);
  ok = static_cast<bool>(f);
  return ok ? std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()) : std::string();
}

// Exactly representable text of a double: %.17g reads back to the same bits (inf and nan as such).
std::string exact(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

constexpr int kMetricFields = 8;
void put_metrics(std::string& out, const TrialMetrics& m) {
  out += "," + std::to_string(m.trades) + "," + std::to_string(m.wins) + "," + exact(m.net_return) + "," +
         exact(m.sharpe) + "," + exact(m.max_drawdown) + "," + exact(m.profit_factor) + "," + exact(m.gross_profit) +
         "," + exact(m.gross_loss);
}
std::string metric_header(const char* side) {
  std::string s;
  for (const char* f :
       {"trades", "wins", "net_return", "sharpe", "max_drawdown", "profit_factor", "gross_profit", "gross_loss"})
    s += std::string(",") + side + "_" + f;
  return s;
}

std::string id_text(ShardId id) { return std::to_string(id.k) + "/" + std::to_string(id.n); }

bool to_u64(const std::string& s, std::uint64_t& v) {
  if (s.empty() || s[0] < '0' || s[0] > '9') return false;
  char* end = nullptr;
  errno = 0;
  v = std::strtoull(s.c_str(), &end, 10);
  return errno == 0 && *end == '\0';
}
bool to_double(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return *end == '\0';
}

struct ReadShard {
  std::string dir;
  ShardHeader h;
};

ReadShard read_header(const std::string& dir) {
  const std::string path = dir + "/shard.txt";
  bool ok = false;
  const std::string text = read_all(path, ok);
  if (!ok) throw Error("shard '" + dir + "': no shard.txt (not a shard directory, or its run did not finish)");
  ReadShard r{dir, {}};
  std::map<std::string, std::string> kv;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const std::size_t sp = line.find(' ');
    if (sp != std::string::npos) kv[line.substr(0, sp)] = line.substr(sp + 1);
  }
  auto bad = [&](const char* key) {
    return Error("shard '" + dir + "': " + path + ": missing or bad '" + key + "' line");
  };
  if (kv["enigma-shard"] != "1") throw bad("enigma-shard");
  r.h.command = kv["command"];
  if (r.h.command.empty()) throw bad("command");
  const auto id = parse_shard(kv["shard"]);
  if (!id) throw bad("shard");
  r.h.id = *id;
  std::uint64_t v = 0;
  if (!to_u64(kv["grid"], r.h.grid)) throw bad("grid");
  if (!to_u64(kv["windows"], v) || v == 0) throw bad("windows");
  r.h.windows = v;
  if (kv["test"] != "0" && kv["test"] != "1") throw bad("test");
  r.h.test = kv["test"] == "1";
  if (!to_u64(kv["candles"], v)) throw bad("candles");
  r.h.candles = v;
  r.h.config_hash = kv["config_hash"];
  r.h.data_hash = kv["data_hash"];
  if (r.h.config_hash.empty()) throw bad("config_hash");
  if (r.h.data_hash.empty()) throw bad("data_hash");
  return r;
}

}  // namespace

std::optional<ShardId> parse_shard(const std::string& text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  std::uint64_t k = 0, n = 0;
  if (!to_u64(text.substr(0, slash), k) || !to_u64(text.substr(slash + 1), n)) return std::nullopt;
  if (n < 1 || n > 100'000 || k >= n) return std::nullopt;
  return ShardId{static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(n)};
}

std::pair<std::uint64_t, std::uint64_t> shard_range(ShardId id, std::uint64_t grid) noexcept {
  // grid * k fits: grids are far below 2^64 / 100000 (every point is one backtest)
  return {grid * id.k / id.n, grid * (id.k + 1) / id.n};
}

std::string config_fingerprint(const std::string& config_path, const std::string& overrides) {
  bool ok = false;
  const std::string text = read_all(config_path, ok);
  if (!ok) throw Error("cannot read '" + config_path + "': " + std::strerror(errno));
  std::uint64_t h = kFnvOffset;
  fnv(h, text.data(), text.size());
  fnv(h, overrides.data(), overrides.size());
  return hex(h);
}

std::string data_fingerprint(const std::vector<strategy::Bar>& bars) {
  std::uint64_t h = kFnvOffset;
  for (const strategy::Bar& b : bars) {
    fnv(h, &b.time_ns, sizeof b.time_ns);
    for (const double x : {b.open, b.high, b.low, b.close, b.volume}) fnv(h, &x, sizeof x);
  }
  return hex(h);
}

void write_shard(const std::string& dir, const ShardHeader& h, const std::vector<std::vector<Trial>>& windows) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("cannot create directory '" + dir + "': " + ec.message());
  std::filesystem::remove(dir + "/shard.txt", ec);  // a rerun: incomplete until its shard.txt is written again
  std::string csv = "window,grid_index" + metric_header("train") + (h.test ? metric_header("test") : "") + "\n";
  for (std::size_t w = 0; w < windows.size(); ++w)
    for (const Trial& t : windows[w]) {
      csv += std::to_string(w) + "," + std::to_string(t.grid_index);
      put_metrics(csv, t.train);
      if (h.test) put_metrics(csv, *t.test);
      csv += "\n";
    }
  write_file_atomic(dir + "/trials.csv", csv);
  write_file_atomic(dir + "/shard.txt", "enigma-shard 1\ncommand " + h.command + "\nshard " + id_text(h.id) +
                                            "\ngrid " + std::to_string(h.grid) + "\nwindows " +
                                            std::to_string(h.windows) + "\ntest " + (h.test ? "1" : "0") +
                                            "\ncandles " + std::to_string(h.candles) + "\nconfig_hash " +
                                            h.config_hash + "\ndata_hash " + h.data_hash + "\n");
}

std::vector<std::vector<Trial>> merge_shards(const std::vector<std::string>& dirs, const ShardHeader& expect,
                                             const ParamSpace& space) {
  if (dirs.empty()) throw Error("--merge: no shard directories given");
  std::vector<ReadShard> shards;
  for (const std::string& d : dirs) shards.push_back(read_header(d));
  const std::uint32_t n = shards.front().h.id.n;
  std::vector<const ReadShard*> by_k(n, nullptr);
  for (const ReadShard& s : shards) {
    const ShardHeader& h = s.h;
    const std::string name = "shard '" + s.dir + "' (" + id_text(h.id) + ")";
    if (h.command != expect.command)
      throw Error(name + " is from `enigma " + h.command + " --shard`, not `enigma " + expect.command + "`");
    if (h.config_hash != expect.config_hash)
      throw Error(name + " is from a different config (config hash " + h.config_hash + "; this merge's config and " +
                  "flags: " + expect.config_hash + ")");
    if (h.data_hash != expect.data_hash || h.candles != expect.candles)
      throw Error(name + " is from different data (" + std::to_string(h.candles) + " candles, data hash " +
                  h.data_hash + "; this merge: " + std::to_string(expect.candles) + " candles, " + expect.data_hash +
                  ")");
    if (h.grid != expect.grid || h.windows != expect.windows || h.test != expect.test)
      throw Error(name + " is from a different run (grid " + std::to_string(h.grid) + ", " + std::to_string(h.windows) +
                  " window(s); this merge: grid " + std::to_string(expect.grid) + ", " +
                  std::to_string(expect.windows) + ")");
    if (h.id.n != n)
      throw Error(name + " splits the run into " + std::to_string(h.id.n) + " shards, but shard '" +
                  shards.front().dir + "' into " + std::to_string(n));
    if (by_k[h.id.k] != nullptr)
      throw Error(name + " is given twice: shard '" + by_k[h.id.k]->dir + "' is " + id_text(h.id) + " too");
    by_k[h.id.k] = &s;
  }
  for (std::uint32_t k = 0; k < n; ++k)
    if (by_k[k] == nullptr) {
      std::string given;
      for (const ReadShard& s : shards) given += (given.empty() ? "" : ", ") + id_text(s.h.id) + " '" + s.dir + "'";
      throw Error("shard " + id_text({k, n}) + " is missing (given: " + given + ")");
    }

  // Every shard's rows: windows in order, its grid points in order in each.
  std::vector<std::vector<Trial>> out(expect.windows);
  for (auto& w : out) w.reserve(expect.grid);
  const std::size_t fields = 2 + kMetricFields * (expect.test ? 2 : 1);
  for (std::uint32_t k = 0; k < n; ++k) {
    const ReadShard& s = *by_k[k];
    const std::string path = s.dir + "/trials.csv";
    bool ok = false;
    const std::string text = read_all(path, ok);
    if (!ok) throw Error("shard '" + s.dir + "': cannot read " + path);
    const auto [from, to] = shard_range(s.h.id, expect.grid);
    std::istringstream in(text);
    std::string line;
    std::getline(in, line);  // header
    std::size_t line_no = 1;
    for (std::size_t w = 0; w < expect.windows; ++w)
      for (std::uint64_t g = from; g < to; ++g) {
        ++line_no;
        auto fail = [&](const std::string& why) {
          return Error("shard '" + s.dir + "': " + path + ":" + std::to_string(line_no) + ": " + why);
        };
        if (!std::getline(in, line))
          throw fail("ends early: window " + std::to_string(w) + " grid index " + std::to_string(g) + " missing");
        std::vector<std::string> cells;
        std::string cell;
        std::istringstream ls(line);
        while (std::getline(ls, cell, ',')) cells.push_back(cell);
        if (cells.size() != fields)
          throw fail(std::to_string(cells.size()) + " fields, " + std::to_string(fields) + " expected");
        std::uint64_t cw = 0, cg = 0;
        if (!to_u64(cells[0], cw) || !to_u64(cells[1], cg) || cw != w || cg != g)
          throw fail("expected window " + std::to_string(w) + " grid index " + std::to_string(g));
        Trial t;
        t.grid_index = g;
        t.idx = space.index_of(g);
        auto metrics = [&](std::size_t at, TrialMetrics& m) {
          std::uint64_t trades = 0, wins = 0;
          if (!to_u64(cells[at], trades) || !to_u64(cells[at + 1], wins) || trades > UINT32_MAX || wins > trades ||
              !to_double(cells[at + 2], m.net_return) || !to_double(cells[at + 3], m.sharpe) ||
              !to_double(cells[at + 4], m.max_drawdown) || !to_double(cells[at + 5], m.profit_factor) ||
              !to_double(cells[at + 6], m.gross_profit) || !to_double(cells[at + 7], m.gross_loss))
            throw fail("bad metric value");
          m.trades = static_cast<std::uint32_t>(trades);
          m.wins = static_cast<std::uint32_t>(wins);
        };
        metrics(2, t.train);
        if (expect.test) {
          TrialMetrics m;
          metrics(2 + kMetricFields, m);
          t.test = m;
        }
        out[w].push_back(t);
      }
    ++line_no;
    if (std::getline(in, line) && !line.empty())
      throw Error("shard '" + s.dir + "': " + path + ":" + std::to_string(line_no) +
                  ": rows beyond the shard's grid points");
  }
  return out;
}

}  // namespace enigma::research
