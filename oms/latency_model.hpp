// Order-entry latency of the simulated exchange ([sim] order_latency / order_latency_file): how long an
// order or cancel takes from our send to the matching engine. One draw per order-entry message (new order
// or cancel), in send order, from a seeded generator or from a recorded file, so a replay with the same
// config and seed draws the same latencies.
//
//   constant   every message takes `a_ns`
//   uniform    uniform on [a_ns, b_ns]
//   normal     mean a_ns, standard deviation b_ns, truncated at 0 (a negative draw is drawn again)
//   lognormal  median a_ns (mu = ln(median)), sigma = standard deviation of ln(latency)
//   file       the recorded latencies in file order, starting over after the last one
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/rng.hpp"

namespace enigma::oms {

enum class LatencyDist : std::uint8_t { constant, uniform, normal, lognormal, file };
[[nodiscard]] std::string_view to_string(LatencyDist d) noexcept;

struct LatencyModelConfig {
  LatencyDist dist{LatencyDist::constant};
  std::int64_t a_ns{0};                   // constant: the value; uniform: min; normal: mean; lognormal: median
  std::int64_t b_ns{0};                   // uniform: max; normal: standard deviation
  double sigma{0};                        // lognormal: standard deviation of ln(latency)
  std::uint64_t seed{1};                  // [sim] latency_seed
  std::vector<std::int64_t> recorded_ns;  // file: the latencies in file order (non-empty)
  std::string file;                       // file: its path (for the summary)
};

// Draws latencies; all storage is the config's (copied at construction), next() never allocates.
class LatencyModel {
 public:
  // Throws enigma::Error on parameters that cannot work (negative values, min > max, empty file).
  explicit LatencyModel(LatencyModelConfig cfg);
  [[nodiscard]] std::int64_t next() noexcept;
  [[nodiscard]] const LatencyModelConfig& config() const noexcept { return cfg_; }
  // One line for logs and the summary: "uniform min_us=100 max_us=900 seed=7".
  [[nodiscard]] std::string describe() const;

 private:
  LatencyModelConfig cfg_;
  SplitMix64 rng_;
  std::size_t next_recorded_{0};
};

// Reads a recorded latency file: CSV with a header line naming a `latency_ns` column (other columns are
// ignored, so the engine's own order_latency.csv can be given as it is); one non-negative integer per row.
// Blank lines and lines starting with '#' are skipped. Throws enigma::Error "path:line: why" on a missing
// file, a header without latency_ns, a row without that column, or a value that is not a non-negative
// integer; and on a file with no rows.
[[nodiscard]] std::vector<std::int64_t> load_latency_file(const std::string& path);
// The same from the file's text (`source` names it in errors): the parser load_latency_file uses, pure.
[[nodiscard]] std::vector<std::int64_t> parse_latency_csv(std::string_view text, const std::string& source);

}  // namespace enigma::oms
