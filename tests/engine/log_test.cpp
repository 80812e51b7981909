// engine_log_test: `enigma replay` on the default session (config/replay.toml), fused and pipelined. Every line of the run's
// logs/enigma.log must parse with the schema README documents ("Log format") — parsed here by its own
// reader, not the logger's — and the log must tell the run's story: one order_sent per order, one fill per
// fill (the same fills, in the same order, as trades.csv), one risk_reject per risk reject with its reason
// and the order's values, heartbeats at the configured data-time interval, counts equal to summary.json.
#include <gtest/gtest.h>

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/enigma_process.hpp"

namespace fs = std::filesystem;
using enigma::testing::Child;
using enigma::testing::slurp;

namespace {

const std::string kSrc = ENIGMA_SOURCE_DIR;

struct LogLine {
  std::string ts, level, component, event;
  std::vector<std::pair<std::string, std::string>> fields;  // values unquoted and unescaped
  [[nodiscard]] std::string get(std::string_view key) const {
    for (const auto& [k, v] : fields)
      if (k == key) return v;
    return "<missing " + std::string(key) + ">";
  }
};

bool is_name(std::string_view s, bool allow_dot) {
  if (s.empty() || s[0] < 'a' || s[0] > 'z') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (allow_dot && c == '.'))) return false;
  return true;
}

bool is_timestamp(std::string_view s) {  // YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddddddddZ";
  if (s.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (kShape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != kShape[i]) return false;
  return true;
}

// README "Log format", text form:
//   <timestamp> <LEVEL> <component> <event>( <key>=<value>)*
//   value: a run of characters other than space, '"' and '\', or "..." with \" \\ \n \r \t \u00XX escapes.
std::optional<LogLine> parse_text(std::string_view line) {
  LogLine l;
  auto word = [&]() {
    const auto sp = line.find(' ');
    std::string w(line.substr(0, sp));
    line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    return w;
  };
  l.ts = word();
  l.level = word();
  l.component = word();
  const auto ev_end = line.find(' ');
  l.event = std::string(line.substr(0, ev_end));
  line = ev_end == std::string_view::npos ? std::string_view{} : line.substr(ev_end);
  if (!is_timestamp(l.ts) || !is_name(l.component, false) || !is_name(l.event, true)) return std::nullopt;
  if (l.level != "TRACE" && l.level != "DEBUG" && l.level != "INFO" && l.level != "WARN" && l.level != "ERROR") return std::nullopt;
  while (!line.empty()) {
    if (line[0] != ' ') return std::nullopt;
    line.remove_prefix(1);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos || !is_name(line.substr(0, eq), true)) return std::nullopt;
    std::string key(line.substr(0, eq)), value;
    line.remove_prefix(eq + 1);
    if (!line.empty() && line[0] == '"') {
      std::size_t i = 1;
      for (;; ++i) {
        if (i >= line.size()) return std::nullopt;
        const char c = line[i];
        if (c == '"') break;
        if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
        if (c != '\\') {
          value.push_back(c);
          continue;
        }
        if (++i >= line.size()) return std::nullopt;
        switch (line[i]) {
          case '"': value.push_back('"'); break;
          case '\\': value.push_back('\\'); break;
          case 'n': value.push_back('\n'); break;
          case 'r': value.push_back('\r'); break;
          case 't': value.push_back('\t'); break;
          case 'u':
            if (i + 4 >= line.size()) return std::nullopt;
            value.push_back(static_cast<char>(std::stoi(std::string(line.substr(i + 1, 4)), nullptr, 16)));
            i += 4;
            break;
          default: return std::nullopt;
        }
      }
      line.remove_prefix(i + 1);
    } else {
      std::size_t i = 0;
      while (i < line.size() && line[i] != ' ' && line[i] != '"' && line[i] != '\\' && static_cast<unsigned char>(line[i]) > 0x20) ++i;
      if (i == 0 || (i < line.size() && line[i] != ' ')) return std::nullopt;
      value = std::string(line.substr(0, i));
      line.remove_prefix(i);
    }
    l.fields.emplace_back(std::move(key), std::move(value));
  }
  return l;
}

// README "Log format", JSON form: one object per line; ts, level, component, event first, then the fields
// (numbers and booleans as JSON values, everything else strings).
std::optional<LogLine> parse_json(const std::string& line) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(line).get(doc) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::object obj;
  if (doc.get(obj) != simdjson::SUCCESS) return std::nullopt;
  LogLine l;
  std::size_t i = 0;
  for (auto [key, value] : obj) {
    std::string v;
    if (value.is_string()) {
      v = std::string(std::string_view(value));
    } else if (value.is_bool() || value.is_number()) {
      v = simdjson::minify(value);
    } else {
      return std::nullopt;
    }
    static constexpr std::string_view kHead[] = {"ts", "level", "component", "event"};
    if (i < 4) {
      if (key != kHead[i] || !value.is_string()) return std::nullopt;
      (i == 0 ? l.ts : i == 1 ? l.level : i == 2 ? l.component : l.event) = v;
    } else {
      if (!is_name(key, true)) return std::nullopt;
      l.fields.emplace_back(std::string(key), v);
    }
    ++i;
  }
  if (i < 4 || !is_timestamp(l.ts) || !is_name(l.component, false) || !is_name(l.event, true)) return std::nullopt;
  return l;
}

struct RunLog {
  fs::path dir;
  std::vector<LogLine> lines;
  simdjson::dom::parser parser;
  simdjson::dom::element summary;
  // summary.json's `key` in `section` ("" = top level).
  std::uint64_t summary_u64(std::string_view section, const char* key) {
    return section.empty() ? std::uint64_t(summary[key]) : std::uint64_t(summary[section][key]);
  }
  [[nodiscard]] std::size_t count(std::string_view event) const {
    std::size_t n = 0;
    for (const auto& l : lines) n += l.event == event;
    return n;
  }
};

// Runs `enigma replay` with `config`; fills `run` with the parsed log (every line must parse) and summary.
void replay(const std::string& name, const std::string& config, const std::vector<std::string>& extra, RunLog& run, bool json) {
  const std::string runs = ::testing::TempDir() + "/enigma-log-" + name + "-" + std::to_string(::getpid());
  fs::remove_all(runs);
  std::vector<std::string> args{"replay", "--config", config, "--quiet", "--runs-dir", runs};
  args.insert(args.end(), extra.begin(), extra.end());
  Child c(args, runs + ".out");
  ASSERT_EQ(c.wait(), 0) << c.output();
  run.dir = fs::canonical(fs::path(runs) / "latest");
  std::ifstream in(run.dir / "logs" / "enigma.log");
  std::size_t n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    auto parsed = json ? parse_json(line) : parse_text(line);
    ASSERT_TRUE(parsed.has_value()) << "line " << n + 1 << " does not follow the schema: " << line;
    run.lines.push_back(std::move(*parsed));
  }
  ASSERT_GT(n, 0u);
  ASSERT_EQ(run.parser.load((run.dir / "summary.json").string()).get(run.summary), simdjson::SUCCESS);
}

std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    rows.push_back(std::move(cells));
  }
  return rows;
}

double num(const std::string& s) { return std::stod(s); }

}  // namespace

TEST(EngineLog, DefaultReplayLogsEveryOrderFillAndHeartbeat) {
  RunLog run;
  ASSERT_NO_FATAL_FAILURE(replay("default", kSrc + "/config/replay.toml", {}, run, /*json=*/false));

  // Counts against summary.json.
  const std::uint64_t orders = run.summary_u64("orders", "orders");
  EXPECT_GT(orders, 100u) << "the default session trades";
  EXPECT_EQ(run.count("order_sent"), orders);
  EXPECT_EQ(run.count("fill"), run.summary_u64("orders", "fills"));
  EXPECT_EQ(run.count("risk_reject"), run.summary_u64("orders", "risk_rejects"));
  EXPECT_EQ(run.count("pricing_reject"), run.summary_u64("orders", "pricing_rejects"));
  EXPECT_EQ(run.count("order_rejected"), run.summary_u64("orders", "venue_rejects"));
  // Every order sent is acknowledged by the simulated exchange (no venue rejects in this session).
  EXPECT_EQ(run.count("order_ack"), orders);

  // The fills are trades.csv's, in its order: client id, side, price, quantity, fee.
  const auto trades = read_csv(run.dir / "trades.csv");
  std::vector<const LogLine*> fills;
  for (const auto& l : run.lines)
    if (l.event == "fill") fills.push_back(&l);
  ASSERT_EQ(fills.size(), trades.size());
  for (std::size_t i = 0; i < fills.size(); ++i) {
    const LogLine& f = *fills[i];
    const auto& t = trades[i];  // time_ns,symbol,side,price,qty,fee,liquidity,client_order_id,reason
    ASSERT_GE(t.size(), 8u);
    EXPECT_EQ(f.get("id"), t[7]) << "fill " << i;
    EXPECT_EQ(f.get("side"), t[2]) << "fill " << i;
    EXPECT_EQ(num(f.get("price")), num(t[3])) << "fill " << i;
    EXPECT_EQ(num(f.get("qty")), num(t[4])) << "fill " << i;
    EXPECT_EQ(num(f.get("fee")), num(t[5])) << "fill " << i;
    EXPECT_EQ(f.get("maker"), t[6] == "maker" ? "true" : "false") << "fill " << i;
  }

  // Heartbeats: one per data second (beats fall on a 1 s grid from the first frame; a gap in the data gives
  // one beat, not several), each with the interval's figures; their frame counts add up to at most the run's.
  const double span_s = static_cast<double>(run.summary_u64("", "data_end_ns") - run.summary_u64("", "data_start_ns")) / 1e9;
  std::uint64_t beat_frames = 0, last_orders = 0;
  std::size_t beats = 0;
  for (const auto& l : run.lines) {
    if (l.event != "heartbeat") continue;
    ++beats;
    EXPECT_EQ(l.level, "INFO");
    beat_frames += std::stoull(l.get("frames"));
    const std::uint64_t o = std::stoull(l.get("orders"));
    EXPECT_GE(o, last_orders) << "orders so far never decrease";
    last_orders = o;
    EXPECT_LE(std::stoll(l.get("frame_p50_ns")), std::stoll(l.get("frame_p99_ns")));
    EXPECT_LE(std::stoll(l.get("order_p50_ns")), std::stoll(l.get("order_p99_ns")));
    EXPECT_GE(num(l.get("drawdown")), 0.0);
    for (const char* k : {"frames_per_s", "positions", "equity", "pnl", "feed_lag_us", "fills"}) EXPECT_NE(l.get(k)[0], '<') << k;
  }
  EXPECT_LE(static_cast<double>(beats), span_s);
  EXPECT_GE(static_cast<double>(beats), 0.9 * span_s) << "about one beat per data second over " << span_s << " s";
  EXPECT_LE(beat_frames, run.summary_u64("feed", "frames"));
  EXPECT_GT(static_cast<double>(beat_frames), 0.9 * static_cast<double>(run.summary_u64("feed", "frames")));
  EXPECT_LE(last_orders, orders);

  // The volume stays sane: no per-frame lines.
  EXPECT_LT(run.lines.size(), run.summary_u64("feed", "frames") / 20);
}

TEST(EngineLog, JsonLogReconcilesRiskRejectsWithTheirReasonAndValues) {
  // The same session with a per-order notional limit (100 USDT) below the strategy's order (0.01 BTC at
  // ~61,800 USDT): every entry is refused by the risk gate (max_order_notional); a heartbeat every 10 data
  // seconds.
  std::string cfg = slurp(kSrc + "/config/replay.toml");
  const std::string limit = "max_order_notional = \"10000\"";
  ASSERT_NE(cfg.find(limit), std::string::npos);
  cfg.replace(cfg.find(limit), limit.size(), "max_order_notional = \"100\"");
  cfg += "\n[log]\nheartbeat_s = 10\n";
  const std::string path = ::testing::TempDir() + "/enigma-log-rejects-" + std::to_string(::getpid()) + ".toml";
  std::ofstream(path) << cfg;

  RunLog run;
  ASSERT_NO_FATAL_FAILURE(replay("json", path, {"--log-format", "json"}, run, /*json=*/true));
  const std::uint64_t rejects = run.summary_u64("orders", "risk_rejects");
  EXPECT_GT(rejects, 10u);
  EXPECT_EQ(std::uint64_t(run.summary["risk_rejects_by_reason"]["max_order_notional"]), rejects);
  EXPECT_EQ(run.count("risk_reject"), rejects);
  EXPECT_EQ(run.count("order_sent"), run.summary_u64("orders", "orders"));
  EXPECT_EQ(run.count("fill"), run.summary_u64("orders", "fills"));
  for (const auto& l : run.lines) {
    if (l.event != "risk_reject") continue;
    EXPECT_EQ(l.component, "risk");
    EXPECT_EQ(l.get("reason"), "max_order_notional");
    // The values the gate compared: qty x reference price against the 100 USDT limit.
    EXPECT_EQ(l.get("qty"), "0.01");
    EXPECT_GT(num(l.get("qty")) * num(l.get("ref")), 100.0) << "the logged values exceed the limit";
    EXPECT_EQ(num(l.get("limit")), 100.0) << "the configured limit they were compared with";
    EXPECT_GT(num(l.get("ref")), 50000.0);
  }
  const double span_s = static_cast<double>(run.summary_u64("", "data_end_ns") - run.summary_u64("", "data_start_ns")) / 1e9;
  const auto beats = static_cast<double>(run.count("heartbeat"));
  EXPECT_LE(beats, span_s / 10);
  EXPECT_GE(beats, 0.9 * span_s / 10 - 1);
}

TEST(EngineLog, PipelinedReplayLogsTheSameOrdersAndItsHeartbeats) {
  // The pipelined topology: the OMS thread logs the orders and the heartbeat (every 10 data seconds here).
  std::string cfg = slurp(kSrc + "/config/replay.toml");
  cfg += "\n[log]\nheartbeat_s = 10\n";
  const std::string path = ::testing::TempDir() + "/enigma-log-pipelined-" + std::to_string(::getpid()) + ".toml";
  std::ofstream(path) << cfg;
  RunLog run;
  ASSERT_NO_FATAL_FAILURE(replay("pipelined", path, {"--topology", "pipelined"}, run, /*json=*/false));
  EXPECT_GT(run.summary_u64("orders", "orders"), 0u);
  EXPECT_EQ(run.count("order_sent"), run.summary_u64("orders", "orders"));
  EXPECT_EQ(run.count("fill"), run.summary_u64("orders", "fills"));
  EXPECT_EQ(run.count("risk_reject"), run.summary_u64("orders", "risk_rejects"));
  const double span_s = static_cast<double>(run.summary_u64("", "data_end_ns") - run.summary_u64("", "data_start_ns")) / 1e9;
  const auto beats = static_cast<double>(run.count("heartbeat"));
  EXPECT_LE(beats, span_s / 10);
  EXPECT_GE(beats, 0.9 * span_s / 10 - 1);
  for (const auto& l : run.lines) {
    if (l.event != "heartbeat") continue;
    EXPECT_GT(std::stoll(l.get("frame_p50_ns")), 0) << "frame latency measured on the OMS thread";
  }
}
