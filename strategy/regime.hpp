// Market regime classification and per-regime adjustments.
//
// Rules, checked in this order on each closed bar (inputs from ATR(14), ADX(14) with +DI/-DI, close):
//   VOLATILE       ATR / close * 100 > volatile_atr_pct (3 %): ranges too wide for normal sizing
//   TRENDING_UP    ADX >= trend_adx (25) and +DI > -DI
//   TRENDING_DOWN  ADX >= trend_adx and -DI > +DI
//   RANGING        otherwise (also while the indicators are still inside their lookback)
// Each regime carries the signal threshold a strategy must reach to act (|score| on the [-130, 130] scale)
// and the leverage cap risk should apply; the score's weights per regime are SignalConfig::regime_weights
// (signal.hpp). All of it is configurable in [strategy.confluence.regime] (README "Confluence: regime
// adaptation").
#pragma once

#include <array>
#include <cstdint>

namespace enigma::strategy {

enum class Regime : std::uint8_t { ranging = 0, trending_up, trending_down, volatile_ };
inline constexpr std::size_t kRegimeCount = 4;
[[nodiscard]] const char* to_string(Regime r) noexcept;  // "RANGING", "TRENDING_UP", "TRENDING_DOWN", "VOLATILE"
// The config and summary name: "ranging", "trending_up", "trending_down", "volatile".
[[nodiscard]] const char* regime_key(Regime r) noexcept;

struct RegimeAdjustment {
  double signal_threshold;  // minimum |score| to open a position in this regime
  double leverage_cap;      // maximum leverage in this regime
};

struct RegimeConfig {
  double volatile_atr_pct = 3.0;
  double trend_adx = 25.0;
  // Indexed by Regime. Ranging markets whipsaw trend signals and volatile ones blow through stops, so both
  // ask for more conviction and less leverage than a clean trend.
  std::array<RegimeAdjustment, kRegimeCount> adjustments{{
      {40.0, 5.0},   // ranging
      {30.0, 10.0},  // trending up
      {30.0, 10.0},  // trending down
      {60.0, 2.0},   // volatile
  }};

  void validate() const;  // throws enigma::Error naming the field
  [[nodiscard]] const RegimeAdjustment& adjustment(Regime r) const noexcept {
    return adjustments[static_cast<std::size_t>(r)];
  }
};

struct RegimeInputs {
  double close = 0.0;
  double atr = 0.0;
  double adx = 0.0;
  double plus_di = 0.0;
  double minus_di = 0.0;
  bool atr_ready = false;
  bool adx_ready = false;
};

[[nodiscard]] Regime classify_regime(const RegimeInputs& in, const RegimeConfig& config) noexcept;

}  // namespace enigma::strategy
