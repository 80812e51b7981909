#include "strategy/indicator_accuracy.hpp"

#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace enigma::strategy {

std::array<ComponentAccuracy, strategy::kComponentCount> component_accuracy(std::span<const strategy::Bar> bars,
                                                                            const strategy::SignalConfig& config,
                                                                            std::size_t horizon) {
  if (horizon == 0) throw Error("indicator accuracy: horizon must be at least 1 bar");
  strategy::SignalScorer scorer(config);
  std::vector<double> closes(bars.size()), forward(bars.size());
  for (std::size_t i = 0; i < bars.size(); ++i) closes[i] = bars[i].close;
  forward_returns(closes, horizon, forward);
  // votes[c][i]: the sign of component c's contribution on bar i (0 before the scorer is ready).
  std::array<std::vector<int>, strategy::kComponentCount> votes;
  for (auto& v : votes) v.assign(bars.size(), 0);
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const strategy::SignalResult r = scorer.on_bar(bars[i]);
    if (!r.ready) continue;
    for (std::size_t c = 0; c < strategy::kComponentCount; ++c)
      votes[c][i] = r.contributions[c] > 0 ? 1 : (r.contributions[c] < 0 ? -1 : 0);
  }
  std::array<ComponentAccuracy, strategy::kComponentCount> out{};
  for (std::size_t c = 0; c < strategy::kComponentCount; ++c)
    out[c] = {static_cast<strategy::Component>(c), indicator_accuracy(votes[c], forward)};
  return out;
}

OnlineComponentAccuracy::OnlineComponentAccuracy(std::size_t horizon) {
  if (horizon == 0) throw Error("indicator accuracy: horizon must be at least 1 bar");
  ring_.resize(horizon);
}

std::array<ComponentAccuracy, kComponentCount> OnlineComponentAccuracy::result() const noexcept {
  std::array<ComponentAccuracy, kComponentCount> out{};
  for (std::size_t c = 0; c < kComponentCount; ++c) {
    IndicatorAccuracy a = acc_[c];
    a.accuracy = a.votes ? static_cast<double>(a.agreed) / static_cast<double>(a.votes)
                         : std::numeric_limits<double>::quiet_NaN();
    out[c] = {static_cast<Component>(c), a};
  }
  return out;
}

}  // namespace enigma::strategy
