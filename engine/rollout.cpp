#include "engine/rollout.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include <simdjson.h>

#include "core/error.hpp"
#include "core/files.hpp"

namespace enigma::engine {

namespace {

constexpr std::int64_t kDayNs = 86'400'000'000'000;

std::string path_of(const std::string& dir) { return dir + "/rollout.json"; }

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

template <class F>
F parse_decimal(std::string_view text, const std::string& file, const char* key) {
  const auto v = F::parse(text);
  if (!v.ok()) throw Error(file + ": bad \"" + key + "\" '" + std::string(text) + "'");
  return v.value;
}

}  // namespace

std::string_view to_string(RolloutStage s) noexcept {
  switch (s) {
    case RolloutStage::paper: return "paper";
    case RolloutStage::pct10: return "10%";
    case RolloutStage::pct50: return "50%";
    case RolloutStage::full: return "100%";
  }
  return "?";
}

bool parse_rollout_stage(std::string_view text, RolloutStage& out) noexcept {
  for (const auto s : {RolloutStage::paper, RolloutStage::pct10, RolloutStage::pct50, RolloutStage::full}) {
    if (to_string(s) == text) {
      out = s;
      return true;
    }
  }
  return false;
}

Rate rollout_scale(RolloutStage s) noexcept {
  switch (s) {
    case RolloutStage::pct10: return Rate::from_raw(Rate::kScale / 10);
    case RolloutStage::pct50: return Rate::from_raw(Rate::kScale / 2);
    default: return Rate::from_units(1);
  }
}

RolloutState read_rollout(const std::string& state_dir) {
  const std::string file = path_of(state_dir);
  std::ifstream in(file);
  if (!in) throw Error(file + ": no rollout state (a paper or live run with a [rollout] table creates it)");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS || !doc.is_object()) throw Error(file + ": not a JSON object");
  auto str = [&](simdjson::dom::element e, const char* key) {
    std::string_view v;
    if (e[key].get(v) != simdjson::SUCCESS) throw Error(file + ": missing or non-string \"" + key + "\"");
    return v;
  };
  auto num = [&](simdjson::dom::element e, const char* key) {
    std::int64_t v = 0;
    if (e[key].get(v) != simdjson::SUCCESS) throw Error(file + ": missing or non-integer \"" + key + "\"");
    return v;
  };
  RolloutState s;
  if (!parse_rollout_stage(str(doc, "stage"), s.stage)) throw Error(file + ": unknown \"stage\" '" + std::string(str(doc, "stage")) + "'");
  s.since_ns = num(doc, "since_ns");
  s.runs = static_cast<std::uint64_t>(num(doc, "runs"));
  s.trades = static_cast<std::uint64_t>(num(doc, "trades"));
  s.wins = static_cast<std::uint64_t>(num(doc, "wins"));
  s.emergency_stops = static_cast<std::uint64_t>(num(doc, "emergency_stops"));
  s.pnl = parse_decimal<Notional>(str(doc, "pnl"), file, "pnl");
  s.max_drawdown = parse_decimal<Rate>(str(doc, "max_drawdown"), file, "max_drawdown");
  simdjson::dom::element g;
  if (doc["gates"].get(g) != simdjson::SUCCESS) throw Error(file + ": missing \"gates\"");
  s.gates.min_days = num(g, "min_days");
  s.gates.min_trades = static_cast<std::uint64_t>(num(g, "min_trades"));
  s.gates.min_pnl = parse_decimal<Notional>(str(g, "min_pnl"), file, "gates.min_pnl");
  s.gates.max_drawdown = parse_decimal<Rate>(str(g, "max_drawdown"), file, "gates.max_drawdown");
  s.gates.min_win_rate = parse_decimal<Rate>(str(g, "min_win_rate"), file, "gates.min_win_rate");
  bool no_emergency = true;
  if (g["no_emergency"].get(no_emergency) != simdjson::SUCCESS) throw Error(file + ": missing \"gates.no_emergency\"");
  s.gates.no_emergency = no_emergency;
  return s;
}

RolloutState load_rollout(const std::string& state_dir, const RolloutConfig& cfg, std::int64_t now_ns) {
  std::ifstream probe(path_of(state_dir));
  if (!probe) {
    RolloutState s;
    s.stage = cfg.initial;
    s.since_ns = now_ns;
    s.gates = cfg.gates;
    return s;
  }
  RolloutState s = read_rollout(state_dir);
  s.gates = cfg.gates;  // the configuration of this run is what the next promote checks
  return s;
}

void save_rollout(const std::string& state_dir, const RolloutState& s) {
  std::ostringstream o;
  o << "{\n  \"stage\": \"" << to_string(s.stage) << "\",\n  \"since_ns\": " << s.since_ns << ",\n  \"runs\": " << s.runs
    << ",\n  \"trades\": " << s.trades << ",\n  \"wins\": " << s.wins << ",\n  \"emergency_stops\": " << s.emergency_stops
    << ",\n  \"pnl\": \"" << s.pnl.to_string() << "\",\n  \"max_drawdown\": \"" << s.max_drawdown.to_string()
    << "\",\n  \"gates\": {\"min_days\": " << s.gates.min_days << ", \"min_trades\": " << s.gates.min_trades
    << ", \"min_pnl\": \"" << s.gates.min_pnl.to_string() << "\", \"max_drawdown\": \"" << s.gates.max_drawdown.to_string()
    << "\", \"min_win_rate\": \"" << s.gates.min_win_rate.to_string() << "\", \"no_emergency\": "
    << (s.gates.no_emergency ? "true" : "false") << "}\n}\n";
  write_file_atomic(path_of(state_dir), o.str());
}

std::string failing_gates(const RolloutState& s, std::int64_t now_ns) {
  std::string out;
  const std::string at = std::string(to_string(s.stage));
  const std::int64_t days = (now_ns - s.since_ns) / kDayNs;
  if (s.stage == RolloutStage::full) out += "already at 100%: there is no next stage\n";
  if (days < s.gates.min_days) out += "days at " + at + ": " + std::to_string(days) + " < " + std::to_string(s.gates.min_days) + "\n";
  if (s.trades < s.gates.min_trades)
    out += "round trips at " + at + ": " + std::to_string(s.trades) + " < " + std::to_string(s.gates.min_trades) + "\n";
  if (s.pnl < s.gates.min_pnl) out += "net P&L at " + at + ": " + s.pnl.to_string() + " < " + s.gates.min_pnl.to_string() + "\n";
  if (s.max_drawdown > s.gates.max_drawdown)
    out += "max drawdown at " + at + ": " + s.max_drawdown.to_string() + " > " + s.gates.max_drawdown.to_string() + "\n";
  const double win_rate = s.trades == 0 ? 0.0 : static_cast<double>(s.wins) / static_cast<double>(s.trades);
  if (win_rate < s.gates.min_win_rate.to_double()) {
    char line[128];
    std::snprintf(line, sizeof line, "win rate at %s: %.4f < %s\n", at.c_str(), win_rate, s.gates.min_win_rate.to_string().c_str());
    out += line;
  }
  if (s.gates.no_emergency && s.emergency_stops != 0)
    out += "emergency stops at " + at + ": " + std::to_string(s.emergency_stops) + " (none allowed)\n";
  return out;
}

int rollout_command(std::string_view action, const std::string& state_dir) {
  RolloutState s = read_rollout(state_dir);
  const std::int64_t now = wall_ns();
  std::printf("rollout: %s at stage %s for %lld day(s): %llu run(s), %llu round trip(s), %llu win(s), net P&L %s, max drawdown %s, "
              "emergency stops %llu\n",
              state_dir.c_str(), std::string(to_string(s.stage)).c_str(), static_cast<long long>((now - s.since_ns) / kDayNs),
              static_cast<unsigned long long>(s.runs), static_cast<unsigned long long>(s.trades),
              static_cast<unsigned long long>(s.wins), s.pnl.to_string().c_str(), s.max_drawdown.to_string().c_str(),
              static_cast<unsigned long long>(s.emergency_stops));
  const std::string failing = failing_gates(s, now);
  if (action == "status") {
    std::printf("%s", failing.empty() ? "every gate passes: `enigma rollout promote` moves it on\n" : ("gates not met:\n" + failing).c_str());
    return 0;
  }
  if (!failing.empty()) {
    std::fprintf(stderr, "rollout promote refused:\n%s", failing.c_str());
    return 1;
  }
  const RolloutStage from = s.stage;
  RolloutState next;
  next.stage = static_cast<RolloutStage>(static_cast<int>(s.stage) + 1);
  next.since_ns = now;
  next.gates = s.gates;
  save_rollout(state_dir, next);
  std::printf("rollout: promoted %s -> %s (orders now at %s of their size)\n", std::string(to_string(from)).c_str(),
              std::string(to_string(next.stage)).c_str(), std::string(to_string(next.stage)).c_str());
  return 0;
}

}  // namespace enigma::engine
