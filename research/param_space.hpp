// Parameter spaces of the candle strategy's optimiser, read from TOML (cold path).
//
//   [optimize.params]
//   rsi_period      = [7, 14, 21]                      # a list of values
//   min_score       = { min = 40, max = 70, step = 10 } # a range: min, min + step, ... up to max (inclusive)
//   leverage        = 50                                # one fixed value
//
// Every parameter of the strategy (research/candle_backtest.hpp) has a default used when its key is absent.
// Errors throw enigma::Error naming file, line and key ("cfg.toml:7:1: key 'optimize.params.leverage': ...").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"

namespace enigma::research {

enum class Param : std::uint8_t {
  rsi_period = 0,   // RSI lookback of the signal scorer (integer)
  rsi_oversold,     // RSI level that earns the RSI term its full bullish weight
  rsi_overbought,   // ... its full bearish weight
  min_score,        // |signal score| needed to enter (0..130)
  stop_loss_roi,    // stop at this loss as a fraction of the margin (price move = roi / leverage)
  take_profit_roi,  // take profit at this gain as a fraction of the margin
  leverage,         // notional / margin
};
inline constexpr std::size_t kParamCount = 7;
inline constexpr std::array<std::string_view, kParamCount> kParamNames{
    "rsi_period", "rsi_oversold", "rsi_overbought", "min_score", "stop_loss_roi", "take_profit_roi", "leverage"};

// One point of the space: a value per parameter, indexed by Param.
struct ParamSet {
  std::array<double, kParamCount> v{14, 30, 70, 40, 0.5, 1.5, 50};
  [[nodiscard]] double operator[](Param p) const noexcept { return v[static_cast<std::size_t>(p)]; }
};

// Position of a point in the space: an index into each parameter's value list.
using ParamIndex = std::array<std::uint32_t, kParamCount>;

struct ParamSpace {
  // Each list non-empty, ascending, without duplicates.
  std::array<std::vector<double>, kParamCount> values;

  // A space with every parameter fixed at its default.
  [[nodiscard]] static ParamSpace defaults();
  [[nodiscard]] const std::vector<double>& of(Param p) const noexcept { return values[static_cast<std::size_t>(p)]; }
  // Product of the list sizes.
  [[nodiscard]] std::uint64_t grid_size() const noexcept;
  // Grid trial k (0 <= k < grid_size()) in mixed radix, the last parameter (leverage) varying fastest.
  [[nodiscard]] ParamIndex index_of(std::uint64_t trial) const noexcept;
  [[nodiscard]] ParamSet at(const ParamIndex& idx) const noexcept;
};

// Reads `[optimize.params]`; `params` is its reader (its unknown keys fail, naming them).
[[nodiscard]] ParamSpace read_param_space(config::TableReader& params, const toml::table& raw);

}  // namespace enigma::research
