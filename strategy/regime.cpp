#include "strategy/regime.hpp"

#include <string>

#include "core/error.hpp"

namespace enigma::strategy {

namespace {
constexpr double kMaxThreshold = 130.0;  // the signal score's range (signal.hpp kMaxSignalScore)
}  // namespace

const char* to_string(Regime r) noexcept {
  switch (r) {
    case Regime::ranging: return "RANGING";
    case Regime::trending_up: return "TRENDING_UP";
    case Regime::trending_down: return "TRENDING_DOWN";
    case Regime::volatile_: return "VOLATILE";
  }
  return "?";
}

const char* regime_key(Regime r) noexcept {
  switch (r) {
    case Regime::ranging: return "ranging";
    case Regime::trending_up: return "trending_up";
    case Regime::trending_down: return "trending_down";
    case Regime::volatile_: return "volatile";
  }
  return "?";
}

void RegimeConfig::validate() const {
  if (!(volatile_atr_pct > 0.0)) throw Error("regime config: volatile_atr_pct must be > 0");
  if (!(trend_adx > 0.0 && trend_adx < 100.0)) throw Error("regime config: trend_adx must be in (0, 100)");
  for (std::size_t i = 0; i < kRegimeCount; ++i) {
    const std::string where = std::string("regime config: ") + to_string(static_cast<Regime>(i));
    if (!(adjustments[i].signal_threshold > 0.0 && adjustments[i].signal_threshold <= kMaxThreshold)) {
      throw Error(where + ".signal_threshold must be in (0, 130]");
    }
    if (!(adjustments[i].leverage_cap >= 1.0 && adjustments[i].leverage_cap <= 125.0)) {
      throw Error(where + ".leverage_cap must be in [1, 125]");
    }
  }
}

Regime classify_regime(const RegimeInputs& in, const RegimeConfig& config) noexcept {
  if (in.atr_ready && in.close > 0.0 && in.atr / in.close * 100.0 > config.volatile_atr_pct) return Regime::volatile_;
  if (in.adx_ready && in.adx >= config.trend_adx) {
    if (in.plus_di > in.minus_di) return Regime::trending_up;
    if (in.minus_di > in.plus_di) return Regime::trending_down;
  }
  return Regime::ranging;
}

}  // namespace enigma::strategy
