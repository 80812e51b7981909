// Per-indicator accuracy of the confluence scorer (strategy/signal.hpp) over a candle series: for each
// component that votes in the score, how often the sign of its contribution agreed with the sign of the
// forward return over `horizon` bars (strategy/metrics.hpp indicator_accuracy, per component).
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include "strategy/metrics.hpp"
#include "strategy/signal.hpp"

namespace enigma::strategy {

struct ComponentAccuracy {
  strategy::Component component;
  IndicatorAccuracy accuracy;
};
// Runs a SignalScorer over `bars` (no order-flow input, so that component never votes). A bar votes from the
// point the scorer is ready (every indicator past its lookback); its forward return is
// close[i + horizon] / close[i] - 1 (the last `horizon` bars have none and are not counted).
// horizon must be >= 1; throws enigma::Error on an invalid config or horizon.
[[nodiscard]] std::array<ComponentAccuracy, strategy::kComponentCount> component_accuracy(
    std::span<const strategy::Bar> bars, const strategy::SignalConfig& config, std::size_t horizon);

}  // namespace enigma::strategy
