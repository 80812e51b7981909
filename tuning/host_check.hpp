// Host checks for a co-located low-latency box (`enigma check-host`, and the tuning section of every
// bench report). Each check reads /proc and /sys only (no root needed), says OK / WARN / INFO, and for a
// WARN gives the command that fixes it; tuning/apply.sh applies those fixes (dry-run by default).
#pragma once

#include <string>
#include <vector>

namespace enigma::tuning {

enum class CheckStatus { ok, warn, info };

struct HostCheck {
  std::string name;     // "isolcpus", "governor", ...
  CheckStatus status;
  std::string detail;   // what was found
  std::string fix;      // command that fixes a WARN (empty otherwise)
};

struct HostCheckOptions {
  std::vector<int> trading_cores;  // cores the engine will pin to (checked for isolation, IRQs, nohz)
  std::string root = "/";          // filesystem root to read from (tests point it at a fake tree)
};

[[nodiscard]] std::vector<HostCheck> check_host(const HostCheckOptions& opt);
// One line per check: "WARN governor      cpu0-1: powersave  -> fix: cpupower frequency-set -g performance".
[[nodiscard]] std::string format_checks(const std::vector<HostCheck>& checks);
// Parses "0-3,8,10-11" into core ids; throws enigma::Error on malformed input.
[[nodiscard]] std::vector<int> parse_cpu_list(const std::string& list);

}  // namespace enigma::tuning
