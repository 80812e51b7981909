// Staged rollout (README "Staged rollout"): a paper or live account moves paper -> 10% -> 50% -> 100%, every
// order's size scaled by its stage, and only by `enigma rollout promote STATE_DIR`, which checks the gates.
// The stage and what the account did at it live in `<state dir>/rollout.json`, updated at the end of every
// paper/live run (a run killed by SIGKILL adds nothing: its evidence is lost, never invented).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/fixed_point.hpp"

namespace enigma::engine {

enum class RolloutStage : std::uint8_t { paper, pct10, pct50, full };
[[nodiscard]] std::string_view to_string(RolloutStage s) noexcept;       // "paper" | "10%" | "50%" | "100%"
[[nodiscard]] bool parse_rollout_stage(std::string_view text, RolloutStage& out) noexcept;
// Every order's size is multiplied by this (paper: 1, it trades on the simulated exchange only).
[[nodiscard]] Rate rollout_scale(RolloutStage s) noexcept;

// What a stage must show before `promote` moves the account on.
struct RolloutGates {
  std::int64_t min_days{7};           // whole days since the stage began
  std::uint64_t min_trades{20};       // closed round trips at the stage
  Notional min_pnl{};                 // net P&L at the stage (quote currency) at least this
  Rate max_drawdown{Rate::from_raw(Rate::kScale / 20)};  // worst run drawdown / its starting equity (0.05 = 5 %)
  Rate min_win_rate{Rate::from_raw(Rate::kScale / 2)};   // winning round trips / round trips
  bool no_emergency{true};            // no emergency stop at the stage
};

// [rollout]: absent = off (orders at full size, `live` never refused).
struct RolloutConfig {
  bool enabled{false};
  RolloutStage initial{RolloutStage::paper};  // the stage of an account with no rollout.json yet
  RolloutGates gates;
};

struct RolloutState {
  RolloutStage stage{RolloutStage::paper};
  std::int64_t since_ns{0};           // wall time the stage began
  std::uint64_t runs{0}, trades{0}, wins{0}, emergency_stops{0};
  Notional pnl{};
  Rate max_drawdown{};                // worst run at the stage
  RolloutGates gates;                 // as configured by the last run (promote checks these)
};

// `<dir>/rollout.json`, or a fresh state at `cfg.initial` from `now_ns` when there is none. Throws
// enigma::Error naming the file and the field when it exists but cannot be read.
[[nodiscard]] RolloutState load_rollout(const std::string& state_dir, const RolloutConfig& cfg, std::int64_t now_ns);
// Like load_rollout, but a missing file is an error (for `enigma rollout`).
[[nodiscard]] RolloutState read_rollout(const std::string& state_dir);
// Written atomically (temporary file + rename).
void save_rollout(const std::string& state_dir, const RolloutState& s);

// The gates `s` does not meet at `now_ns`, one line each ("days at 10%: 2 < 7"); empty when promotable.
[[nodiscard]] std::string failing_gates(const RolloutState& s, std::int64_t now_ns);

// `enigma rollout status|promote STATE_DIR`: prints the stage and the gates; promote moves to the next stage
// when every gate passes (exit 0), else names each failing gate (exit 1); exit 3 without rollout.json.
int rollout_command(std::string_view action, const std::string& state_dir);

}  // namespace enigma::engine
