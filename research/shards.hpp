// Grid sweeps split over independent processes (issue 14 item 7; Slurm job arrays, scripts/slurm/):
// `enigma optimize|walkforward --shard K/N` evaluates grid points [G K / N, G (K + 1) / N) of the run (G = the
// grid's size; in every walk-forward window) and writes a shard directory; `--merge DIR...` checks the shards
// and hands their trials to the ordinary run, which then writes exactly what a single process writes.
// Only the grid splits: genetic and bayes choose each next point from the previous results.
//
// A shard directory holds trials.csv (window, grid index, every TrialMetrics field on the train span and, when
// the run has one, the test span; doubles as %.17g, so the merge reads the same bits back) and shard.txt,
// written last (a directory without it is an incomplete shard):
//   enigma-shard 1
//   command optimize            (or walkforward)
//   shard 1/3
//   grid 192                    points in the grid
//   windows 1                   trial sets (walk-forward windows; 1 for optimize)
//   test 1                      1 when trials carry test-span metrics
//   candles 3000
//   config_hash 9f...           FNV-1a 64 of the config file's bytes and the command-line overrides
//   data_hash 51...             FNV-1a 64 of the candles loaded (time and OHLCV bits)
// Cold path only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "research/optimizer.hpp"
#include "research/param_space.hpp"
#include "strategy/indicators.hpp"

namespace enigma::research {

struct ShardId {
  std::uint32_t k = 0;
  std::uint32_t n = 1;
};
// "K/N" with 0 <= K < N <= 100000; std::nullopt when malformed.
[[nodiscard]] std::optional<ShardId> parse_shard(const std::string& text);
// Shard k/n's grid points: [grid * k / n, grid * (k + 1) / n).
[[nodiscard]] std::pair<std::uint64_t, std::uint64_t> shard_range(ShardId id, std::uint64_t grid) noexcept;

struct ShardHeader {
  std::string command;
  ShardId id;
  std::uint64_t grid = 0;
  std::size_t windows = 1;
  bool test = false;
  std::size_t candles = 0;
  std::string config_hash, data_hash;
};

// Hex FNV-1a 64 of the config file's bytes followed by `overrides` (the command-line flags that change the run).
[[nodiscard]] std::string config_fingerprint(const std::string& config_path, const std::string& overrides);
// Hex FNV-1a 64 of the candles (time and the OHLCV doubles' bits).
[[nodiscard]] std::string data_fingerprint(const std::vector<strategy::Bar>& bars);

// Writes dir/trials.csv, then dir/shard.txt (dir created when absent; a shard already there is replaced).
// `windows[w]` are window w's trials, all in the shard's grid range.
void write_shard(const std::string& dir, const ShardHeader& h, const std::vector<std::vector<Trial>>& windows);

// Reads the shard directories and checks them against `expect` (its id is ignored): same command, grid,
// windows, test span, candles and hashes; every shard 0..n-1 exactly once; each holding exactly its grid points
// in every window. Returns each window's trials in grid order (their ParamIndex from `space`). Throws
// enigma::Error naming the shard directory, or the shard that is missing.
[[nodiscard]] std::vector<std::vector<Trial>> merge_shards(const std::vector<std::string>& dirs,
                                                           const ShardHeader& expect, const ParamSpace& space);

}  // namespace enigma::research
