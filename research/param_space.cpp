#include "research/param_space.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace enigma::research {
namespace {

// Grids above this many trials are refused: a typo in a step would otherwise run for days.
constexpr std::uint64_t kMaxGridSize = 50'000'000;
// Ranges longer than this are refused for the same reason.
constexpr std::size_t kMaxValuesPerParam = 10'000;

struct Bounds {
  double lo, hi;
  bool lo_open, hi_open, integer;
  const char* text;
};

// Valid values of each parameter (what the strategy accepts), in Param order.
constexpr std::array<Bounds, kParamCount> kBounds{{
    {2, 1000, false, false, true, "an integer in [2, 1000]"},
    {0, 50, true, true, false, "in (0, 50)"},
    {50, 100, true, true, false, "in (50, 100)"},
    {0, 130, true, false, false, "in (0, 130]"},
    {0, 1, true, false, false, "in (0, 1] (a fraction of the margin; 1 = the whole margin)"},
    {0, 100, true, false, false, "in (0, 100] (a fraction of the margin)"},
    {1, 200, false, false, false, "in [1, 200]"},
}};

bool in_bounds(const Bounds& b, double x) {
  if (!std::isfinite(x)) return false;
  if (b.lo_open ? !(x > b.lo) : !(x >= b.lo)) return false;
  if (b.hi_open ? !(x < b.hi) : !(x <= b.hi)) return false;
  return !b.integer || x == std::floor(x);
}

std::optional<double> number_of(const toml::node& n) {
  if (const auto* i = n.as_integer()) return static_cast<double>(i->get());
  if (const auto* f = n.as_floating_point()) return f->get();
  return std::nullopt;
}

}  // namespace

ParamSpace ParamSpace::defaults() {
  ParamSpace s;
  const ParamSet d;
  for (std::size_t i = 0; i < kParamCount; ++i) s.values[i] = {d.v[i]};
  return s;
}

std::uint64_t ParamSpace::grid_size() const noexcept {
  std::uint64_t n = 1;
  for (const auto& v : values) n *= v.size();
  return n;
}

ParamIndex ParamSpace::index_of(std::uint64_t trial) const noexcept {
  ParamIndex idx{};
  for (std::size_t i = kParamCount; i-- > 0;) {
    idx[i] = static_cast<std::uint32_t>(trial % values[i].size());
    trial /= values[i].size();
  }
  return idx;
}

ParamSet ParamSpace::at(const ParamIndex& idx) const noexcept {
  ParamSet p;
  for (std::size_t i = 0; i < kParamCount; ++i) p.v[i] = values[i][idx[i]];
  return p;
}

ParamSpace read_param_space(config::TableReader& params, const toml::table& raw) {
  ParamSpace space = ParamSpace::defaults();
  for (const auto& [key_node, node] : raw) {
    const std::string key(key_node.str());
    const auto it = std::find(kParamNames.begin(), kParamNames.end(), key);
    if (it == kParamNames.end()) {
      std::string known;
      for (const auto n : kParamNames) known += (known.empty() ? "" : ", ") + std::string(n);
      params.fail(key, "unknown parameter (known: " + known + ")");
    }
    params.ignore(key);
    const std::size_t p = static_cast<std::size_t>(it - kParamNames.begin());
    const Bounds& b = kBounds[p];
    std::vector<double> vals;
    if (const auto one = number_of(node)) {
      vals.push_back(*one);
    } else if (const auto* arr = node.as_array()) {
      if (arr->empty()) params.fail(key, "empty list");
      for (const toml::node& e : *arr) {
        const auto x = number_of(e);
        if (!x) params.fail(key, "list elements must be numbers");
        vals.push_back(*x);
      }
    } else if (const auto* range = node.as_table()) {
      std::optional<double> lo, hi, step;
      for (const auto& [k, v] : *range) {
        const auto x = number_of(v);
        if (k.str() != "min" && k.str() != "max" && k.str() != "step")
          params.fail(key, "unknown range field '" + std::string(k.str()) + "' (expected min, max, step)");
        if (!x) params.fail(key, "range field '" + std::string(k.str()) + "' must be a number");
        (k.str() == "min" ? lo : k.str() == "max" ? hi : step) = *x;
      }
      if (!lo || !hi || !step) params.fail(key, "a range needs min, max and step");
      if (!(*step > 0.0)) params.fail(key, "range step must be > 0");
      if (*hi < *lo) params.fail(key, "range max is below min");
      // Values as min + k * step (no accumulated rounding); max is included within 1e-9 of a step.
      const double count = std::floor((*hi - *lo) / *step + 1e-9) + 1.0;
      if (count > static_cast<double>(kMaxValuesPerParam))
        params.fail(key, "range has more than " + std::to_string(kMaxValuesPerParam) + " values");
      for (std::size_t k = 0; k < static_cast<std::size_t>(count); ++k) {
        // Round to 12 significant decimals so 0.3 + 7 * 0.1 prints as 1, not 0.9999999999999999.
        const double x = *lo + static_cast<double>(k) * *step;
        vals.push_back(std::round(x * 1e12) / 1e12);
      }
    } else {
      params.fail(key, "expected a number, a list of numbers or a range {min, max, step}");
    }
    for (const double x : vals) {
      if (!in_bounds(b, x)) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%g", x);
        params.fail(key, std::string("value ") + buf + " out of range: must be " + b.text);
      }
    }
    std::sort(vals.begin(), vals.end());
    if (std::adjacent_find(vals.begin(), vals.end()) != vals.end()) params.fail(key, "duplicate values");
    space.values[p] = std::move(vals);
  }
  const std::uint64_t n = space.grid_size();
  if (n > kMaxGridSize)
    throw Error(params.source() + ": [" + params.dotted("").substr(0, params.dotted("").size() - 1) +
                "]: the grid has " + std::to_string(n) + " parameter sets, above the limit of " +
                std::to_string(kMaxGridSize));
  return space;
}

}  // namespace enigma::research
