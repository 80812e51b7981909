// Loads a Binance REST depth snapshot (data/oms/*.json) into plain price-level arrays for oms tests.
// A tiny purpose-built scanner: oms tests must not depend on feed/'s decoders.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "oms/entry_pricing.hpp"

namespace enigma::oms::test {

struct Depth {
  std::vector<PriceLevel> bids;  // best first
  std::vector<PriceLevel> asks;
};

inline std::vector<PriceLevel> parse_side(const std::string& text, const std::string& key) {
  std::vector<PriceLevel> out;
  std::size_t at = text.find("\"" + key + "\":[");
  if (at == std::string::npos) throw std::runtime_error("depth fixture: no " + key);
  at += key.size() + 4;
  while (text.compare(at, 2, "[\"") == 0) {
    const std::size_t p0 = at + 2;
    const std::size_t p1 = text.find('"', p0);
    const std::size_t q0 = text.find('"', p1 + 1) + 1;
    const std::size_t q1 = text.find('"', q0);
    const auto p = Price::parse(std::string_view(text).substr(p0, p1 - p0));
    const auto q = Qty::parse(std::string_view(text).substr(q0, q1 - q0));
    if (!p.ok() || !q.ok()) throw std::runtime_error("depth fixture: bad level");
    out.push_back({p.value, q.value});
    at = q1 + 2;  // past "]
    if (text[at] == ',') ++at;
  }
  return out;
}

inline Depth load_depth(const std::string& relative_path) {
  std::ifstream f(std::string(ENIGMA_SOURCE_DIR) + "/" + relative_path);
  if (!f) throw std::runtime_error("depth fixture: cannot open " + relative_path);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  return Depth{parse_side(text, "bids"), parse_side(text, "asks")};
}

inline constexpr const char* kSushiDepth = "data/oms/binance_usdm_depth_SUSHIUSDT_20210722.json";

}  // namespace enigma::oms::test
