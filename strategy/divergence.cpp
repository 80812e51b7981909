#include "strategy/divergence.hpp"

#include <cmath>
#include <string>

#include "core/error.hpp"

namespace enigma::strategy {

SwingDetector::SwingDetector(int left, int right) : left_(left), right_(right), size_(left + right + 1) {
  if (left < 1 || left > kMaxSwingSide || right < 1 || right > kMaxSwingSide) {
    throw Error("swing detector: left " + std::to_string(left) + " and right " + std::to_string(right) +
                " must be in [1, " + std::to_string(kMaxSwingSide) + "]");
  }
}

void SwingDetector::reset() noexcept {
  head_ = 0;
  count_ = 0;
}

const SwingDetector::Point& SwingDetector::at_back(int k) const noexcept {
  int slot = head_ - 1 - k;
  if (slot < 0) slot += size_;
  return ring_[static_cast<std::size_t>(slot)];
}

SwingDetector::Result SwingDetector::update(double high, double low, double aux) noexcept {
  ring_[static_cast<std::size_t>(head_)] = Point{high, low, aux};
  if (++head_ == size_) head_ = 0;
  ++count_;
  Result r;
  if (count_ < size_) return r;
  const Point& c = at_back(right_);
  bool is_high = true;
  bool is_low = true;
  // Newer bars (after the candidate): at or below its high / at or above its low.
  for (int k = 0; k < right_ && (is_high || is_low); ++k) {
    const Point& p = at_back(k);
    if (p.high > c.high) is_high = false;
    if (p.low < c.low) is_low = false;
  }
  // Older bars: strictly below / above, so a plateau's first bar is the one pivot.
  for (int k = right_ + 1; k < size_ && (is_high || is_low); ++k) {
    const Point& p = at_back(k);
    if (p.high >= c.high) is_high = false;
    if (p.low <= c.low) is_low = false;
  }
  r.is_high = is_high;
  r.is_low = is_low;
  r.bar = count_ - 1 - right_;
  r.point = c;
  return r;
}

const char* to_string(DivergenceKind k) noexcept {
  switch (k) {
    case DivergenceKind::none: return "none";
    case DivergenceKind::regular_bullish: return "regular_bullish";
    case DivergenceKind::hidden_bullish: return "hidden_bullish";
    case DivergenceKind::regular_bearish: return "regular_bearish";
    case DivergenceKind::hidden_bearish: return "hidden_bearish";
  }
  return "?";
}

void DivergenceConfig::validate() const {
  if (left < 1 || left > kMaxSwingSide) throw Error("divergence config: left must be in [1, 50]");
  if (right < 1 || right > kMaxSwingSide) throw Error("divergence config: right must be in [1, 50]");
  if (max_bars_between <= right) throw Error("divergence config: max_bars_between must be > right");
}

DivergenceDetector::DivergenceDetector(const DivergenceConfig& config)
    : config_((config.validate(), config)), swings_(config.left, config.right) {}

void DivergenceDetector::reset() noexcept {
  swings_.reset();
  last_low_ = {};
  last_high_ = {};
  bars_ = 0;
}

DivergenceDetector::Update DivergenceDetector::update(double high, double low, double indicator) noexcept {
  ++bars_;
  Update u;
  const SwingDetector::Result s = swings_.update(high, low, indicator);
  const bool has_ind = !std::isnan(s.point.aux);
  if (s.is_low) {
    const Pivot now{s.bar, s.point.low, s.point.aux, has_ind};
    if (now.valid && last_low_.valid && now.bar - last_low_.bar <= config_.max_bars_between) {
      DivergenceKind k = DivergenceKind::none;
      if (now.price < last_low_.price && now.indicator > last_low_.indicator) k = DivergenceKind::regular_bullish;
      if (now.price > last_low_.price && now.indicator < last_low_.indicator) k = DivergenceKind::hidden_bullish;
      if (k != DivergenceKind::none) {
        u.bullish = Divergence{k, now.bar, last_low_.bar, now.price, last_low_.price, now.indicator,
                               last_low_.indicator};
      }
    }
    last_low_ = now;
  }
  if (s.is_high) {
    const Pivot now{s.bar, s.point.high, s.point.aux, has_ind};
    if (now.valid && last_high_.valid && now.bar - last_high_.bar <= config_.max_bars_between) {
      DivergenceKind k = DivergenceKind::none;
      if (now.price > last_high_.price && now.indicator < last_high_.indicator) k = DivergenceKind::regular_bearish;
      if (now.price < last_high_.price && now.indicator > last_high_.indicator) k = DivergenceKind::hidden_bearish;
      if (k != DivergenceKind::none) {
        u.bearish = Divergence{k, now.bar, last_high_.bar, now.price, last_high_.price, now.indicator,
                               last_high_.indicator};
      }
    }
    last_high_ = now;
  }
  return u;
}

}  // namespace enigma::strategy
