// Indicator-confluence signal scoring (the original plan's scorer), regime-aware.
//
// Each closed bar updates every indicator once (O(1) each); `evaluate` turns their current values into
// per-indicator contributions c_i in [-w_i, +w_i] (positive = bullish) and sums them. With the default
// weights the maxima add up to 130, so the score lies in [-130, +130]; custom weights must not sum above 130.
//
// Contribution table (w = weight, defaults in brackets; clamp(x) = min(1, max(-1, x)); an indicator still
// inside its lookback contributes 0):
//   RSI(14)            [15]  below 50: w * min(1, (50 - rsi) / (50 - oversold));  above: -w * min(1,
//                            (rsi - 50) / (overbought - 50)). Full +w at oversold (30), -w at overbought (70).
//   MACD(12,26,9)      [15]  histogram crossed above 0 on this bar: +w; crossed below: -w; otherwise
//                            w/2 * sign(histogram).
//   Bollinger(20,2)    [10]  w * clamp(1 - 2 * %b), %b = (close - lower) / (upper - lower): +w at the lower
//                            band, -w at the upper band (mean reversion).
//   Stochastic(14,3,3) [10]  slow %K mapped like RSI with stoch_oversold (20) / stoch_overbought (80).
//   KDJ(9,3,3)         [10]  w * clamp((50 - J) / 50): +w at J <= 0, -w at J >= 100.
//   EMA trend(9/21)    [20]  w * clamp(gap / ema_full_gap_pct) * (0.5 + 0.5 * s), gap = 100 * (EMA9 - EMA21)
//                            / EMA21, s = ADX strength below.
//   ADX(14)            [10]  w * s * sign(+DI - -DI), s = clamp((adx - adx_weak) / (adx_strong - adx_weak))
//                            in [0, 1] (20 -> 0, 40 -> 1): trend strength scales the EMA trend term too.
//   OBV / volume       [10]  w * (OBV - OBV n bars ago) / (volume of those n bars), n = volume_window (20):
//                            the share of recent volume that closed up, in [-1, 1].
//   Divergence         [20]  price vs RSI, MACD line and OBV swings (divergence.hpp). A divergence confirmed
//                            within the last divergence_memory_bars bars counts 1 (regular) or 1/2 (hidden);
//                            c = w * clamp(best bullish - best bearish).
//   Order flow         [10]  w * clamp((book imbalance + trade imbalance) / 2) when order-flow features with
//                            a valid book are given, else 0.
//
// Regime weights: each regime (regime.hpp) may replace any weight for the bars classified in it
// (`regime_weights`, a negative entry = the base `weights`); the regime is classified first, then every term
// uses that regime's weight w_i and W below is that regime's sum.
//
// Direction: long when score >= threshold, short when score <= -threshold, else neutral; the threshold is
// the current regime's (regime.hpp) or a fixed one. Confidence (0-100 %) = 100 * sqrt(|score| / W) * A,
// W = sum of weights, A = |sum c_i| / sum |c_i| (1 when every indicator agrees): it grows with the score
// and shrinks when indicators disagree. Alignment across timeframes: full (all long or all short), divergent
// (both long and short present), partial (anything else).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "strategy/divergence.hpp"
#include "strategy/indicators.hpp"
#include "strategy/order_flow.hpp"
#include "strategy/regime.hpp"

namespace enigma::strategy {

inline constexpr double kMaxSignalScore = 130.0;

enum class Component : std::uint8_t {
  rsi = 0, macd, bollinger, stochastic, kdj, ema_trend, adx, volume, divergence, order_flow,
};
inline constexpr std::size_t kComponentCount = 10;
[[nodiscard]] const char* to_string(Component c) noexcept;

enum class Direction : std::int8_t { short_ = -1, neutral = 0, long_ = 1 };
enum class Alignment : std::uint8_t { full, partial, divergent };
[[nodiscard]] const char* to_string(Direction d) noexcept;
[[nodiscard]] const char* to_string(Alignment a) noexcept;

struct SignalConfig {
  // Weights indexed by Component; defaults sum to 130.
  std::array<double, kComponentCount> weights{15, 15, 10, 10, 10, 20, 10, 10, 20, 10};

  int rsi_period = 14;
  double rsi_oversold = 30.0, rsi_overbought = 70.0;
  int macd_fast = 12, macd_slow = 26, macd_signal = 9;
  int bb_period = 20;
  double bb_sigma = 2.0;
  int stoch_k = 14, stoch_slow_k = 3, stoch_d = 3;
  double stoch_oversold = 20.0, stoch_overbought = 80.0;
  int kdj_n = 9, kdj_m1 = 3, kdj_m2 = 3;
  int ema_fast = 9, ema_slow = 21;
  double ema_full_gap_pct = 1.0;  // EMA gap (% of the slow EMA) that earns the full trend weight
  int adx_period = 14;
  double adx_weak = 20.0, adx_strong = 40.0;
  int atr_period = 14;
  int volume_window = 20;
  DivergenceConfig divergence{};
  int divergence_memory_bars = 10;

  // Per regime (indexed by Regime), the weights in force while a bar is classified in it; a negative entry
  // (kBaseWeight) keeps the base weight above. Each regime's weights must also sum to a value in (0, 130].
  static constexpr double kBaseWeight = -1.0;
  std::array<std::array<double, kComponentCount>, kRegimeCount> regime_weights = all_base_weights();

  bool use_regime_threshold = true;  // direction threshold from the regime; else `signal_threshold`
  double signal_threshold = 30.0;
  RegimeConfig regime{};

  void validate() const;  // throws enigma::Error naming the field
  [[nodiscard]] double weight_sum() const noexcept;
  // The weights in force in regime `r` (base weights with that regime's replacements).
  [[nodiscard]] std::array<double, kComponentCount> weights_in(Regime r) const noexcept;

  static constexpr std::array<std::array<double, kComponentCount>, kRegimeCount> all_base_weights() noexcept {
    std::array<std::array<double, kComponentCount>, kRegimeCount> a{};
    for (auto& row : a)
      for (double& w : row) w = kBaseWeight;
    return a;
  }
};

struct SignalResult {
  double score = 0.0;                               // in [-130, 130]
  std::array<double, kComponentCount> contributions{};
  Direction direction = Direction::neutral;
  double confidence = 0.0;                          // 0-100 %
  Regime regime = Regime::ranging;
  double threshold = 0.0;                           // the |score| the direction needed
  double leverage_cap = 0.0;                        // from the regime
  double atr = 0.0;                                 // ATR of the last bar (0 until ready), for stops
  double close = 0.0;
  bool ready = false;                               // every bar indicator is past its lookback

  [[nodiscard]] double contribution(Component c) const noexcept {
    return contributions[static_cast<std::size_t>(c)];
  }
};

// One timeframe's scorer. Allocates in the constructor only; update/evaluate are noexcept and O(1)
// (the divergence detectors are O(left + right) per bar).
class SignalScorer {
 public:
  explicit SignalScorer(const SignalConfig& config = {});  // throws enigma::Error on an invalid config

  // Feed one closed bar to every indicator.
  void update(const Bar& bar) noexcept;
  // Score the current state; `flow` (optional) adds the order-flow term.
  [[nodiscard]] SignalResult evaluate(const OrderFlowFeatures* flow = nullptr) const noexcept;
  // update + evaluate.
  SignalResult on_bar(const Bar& bar, const OrderFlowFeatures* flow = nullptr) noexcept {
    update(bar);
    return evaluate(flow);
  }
  void reset() noexcept;

  [[nodiscard]] const SignalConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t bars() const noexcept { return bars_; }
  // The weights in force in regime `r` (config().weights_in(r), resolved at construction).
  [[nodiscard]] const std::array<double, kComponentCount>& weights(Regime r) const noexcept {
    return weights_[static_cast<std::size_t>(r)];
  }
  // The divergences confirmed on the last bar, per source (0 RSI, 1 MACD, 2 OBV).
  [[nodiscard]] const DivergenceDetector::Update& last_divergence(std::size_t source) const noexcept {
    return last_div_[source];
  }

 private:
  SignalConfig config_;
  std::array<std::array<double, kComponentCount>, kRegimeCount> weights_{};  // weights_in(r) per regime
  std::array<double, kRegimeCount> weight_sums_{};
  Rsi rsi_;
  Macd macd_;
  BollingerBands bb_;
  StochasticSlow stoch_;
  Kdj kdj_;
  Ema ema_fast_;
  Ema ema_slow_;
  Adx adx_;
  Atr atr_;
  Obv obv_;
  std::array<DivergenceDetector, 3> div_;
  std::array<DivergenceDetector::Update, 3> last_div_{};

  // OBV ring (volume_window + 1 values) and volume ring (volume_window values) for the volume term.
  std::vector<double> obv_ring_;
  std::vector<double> vol_ring_;
  std::size_t obv_pos_ = 0;
  std::size_t vol_pos_ = 0;
  std::size_t obv_count_ = 0;
  double vol_sum_ = 0.0;

  double prev_hist_ = 0.0;
  bool prev_hist_valid_ = false;
  bool macd_cross_up_ = false;
  bool macd_cross_down_ = false;
  double close_ = 0.0;
  double bull_div_ = 0.0;  // strength (1 regular, 0.5 hidden) of the latest bullish divergence in memory
  double bear_div_ = 0.0;
  std::int64_t bull_div_bar_ = -1;
  std::int64_t bear_div_bar_ = -1;
  std::int64_t bars_ = 0;
};

// Oscillator level to [-1, 1] (the RSI and Stochastic terms before their weight): +1 at or below `low`, -1 at
// or above `high`, linear through 0 at 50. Public so that research/ can re-weight the RSI term for other
// oversold/overbought levels without a second scorer pass.
[[nodiscard]] double level_score(double v, double low, double high) noexcept;

// Direction from a score and a threshold (score >= t: long, <= -t: short).
[[nodiscard]] Direction direction_of(double score, double threshold) noexcept;
// Alignment of the directions of several timeframes.
[[nodiscard]] Alignment alignment_of(std::span<const Direction> directions) noexcept;

// Several timeframes combined: the mean score, their alignment, and a direction only when they are not
// divergent (the mean score against the lowest timeframe's threshold). Confidence is the mean confidence
// times 1 (full), 0.7 (partial) or 0.3 (divergent).
struct MultiTimeframeSignal {
  double score = 0.0;
  Direction direction = Direction::neutral;
  Alignment alignment = Alignment::partial;
  double confidence = 0.0;
};
[[nodiscard]] MultiTimeframeSignal combine_timeframes(std::span<const SignalResult> lowest_first) noexcept;

}  // namespace enigma::strategy
