// What the strategy tests share to drive `enigma replay` on a bundled capture and read the capture's raw
// frames themselves (their expectations never come from the engine's own parsers): the replay config with a
// given [strategy], a temp file, exact decimals and a frame's fields by plain text search.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "tests/support/enigma_process.hpp"

namespace enigma::testing {

// config/replay.toml (under `source_dir`) with its [strategy] tables replaced by `strategy`, and no emergency
// stop after a run of losing round trips (every signal should reach the venue).
inline std::string replay_config_with(const std::string& source_dir, const std::string& strategy) {
  std::string text = with_strategy_tables(slurp(source_dir + "/config/replay.toml"), strategy);
  EXPECT_FALSE(text.empty()) << "config/replay.toml lost its [strategy] or [risk] table";
  const auto l = text.find("max_consecutive_losses = 5");
  EXPECT_NE(l, std::string::npos);
  if (l != std::string::npos) text.replace(l, 26, "max_consecutive_losses = 1000");
  return text;
}

// `text` written to `name` in the test's temp dir; its path.
inline std::string write_temp(const std::string& name, const std::string& text) {
  const std::string p = ::testing::TempDir() + "/" + name;
  std::ofstream(p) << text;
  return p;
}

// A decimal string as an integer in units of 1e-8 ("61800.3" -> 6180030000000).
inline std::int64_t e8(const std::string& s) {
  const auto dot = s.find('.');
  std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  frac.resize(8, '0');
  return std::stoll(s.substr(0, dot)) * 100'000'000 + std::stoll(frac);
}

// The value of "key":"..." (or "key":123) in a frame line; "" when absent.
inline std::string frame_field(const std::string& line, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  auto p = line.find(k);
  if (p == std::string::npos) return {};
  p += k.size();
  if (line[p] == '"') return line.substr(p + 1, line.find('"', p + 1) - p - 1);
  return line.substr(p, line.find_first_of(",}", p) - p);
}

}  // namespace enigma::testing
