// Per-indicator accuracy of the confluence scorer (strategy/signal.hpp) over a candle series: for each
// component that votes in the score, how often the sign of its contribution agreed with the sign of the
// forward return over `horizon` bars (strategy/metrics.hpp indicator_accuracy, per component).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

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

// The same measure for a running strategy, one bar at a time: each bar's votes wait `horizon` bars for their
// forward return in a ring sized at construction, so on_bar neither allocates nor grows with the run. Fed the
// same SignalResults, result() equals component_accuracy's.
class OnlineComponentAccuracy {
 public:
  explicit OnlineComponentAccuracy(std::size_t horizon);  // throws enigma::Error when horizon is 0
  void on_bar(const SignalResult& r) noexcept {
    Pending& slot = ring_[bars_ % ring_.size()];
    if (bars_ >= ring_.size() && slot.close > 0) {  // slot holds the bar `horizon` bars back
      const double forward = r.close / slot.close - 1;
      for (std::size_t c = 0; c < kComponentCount; ++c) {
        if (slot.votes[c] == 0 || std::isnan(forward)) continue;
        ++acc_[c].votes;
        if ((slot.votes[c] > 0 && forward > 0) || (slot.votes[c] < 0 && forward < 0)) ++acc_[c].agreed;
      }
    }
    slot.close = r.close;
    for (std::size_t c = 0; c < kComponentCount; ++c)
      slot.votes[c] = static_cast<std::int8_t>(!r.ready ? 0 : (r.contributions[c] > 0) - (r.contributions[c] < 0));
    ++bars_;
  }
  [[nodiscard]] std::array<ComponentAccuracy, kComponentCount> result() const noexcept;
  [[nodiscard]] std::size_t horizon() const noexcept { return ring_.size(); }
  [[nodiscard]] std::uint64_t bars() const noexcept { return bars_; }

 private:
  struct Pending {
    double close = 0;
    std::array<std::int8_t, kComponentCount> votes{};
  };
  std::vector<Pending> ring_;
  std::uint64_t bars_ = 0;
  std::array<IndicatorAccuracy, kComponentCount> acc_{};
};

}  // namespace enigma::strategy
