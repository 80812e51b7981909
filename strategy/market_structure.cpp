#include "strategy/market_structure.hpp"

#include <algorithm>
#include <string>

#include "core/error.hpp"

namespace enigma::strategy {

void MarketStructureConfig::validate() const {
  auto fail = [](const char* field, const std::string& why) {
    throw Error(std::string("market structure config: ") + field + ": " + why);
  };
  const int most = MarketStructure::kRing - 1;
  if (swing_left < 1) fail("swing_left", "must be >= 1");
  if (swing_right < 1) fail("swing_right", "must be >= 1");
  if (swing_left + swing_right + 1 > MarketStructure::kRing)
    fail("swing_left", "swing_left + swing_right must be below " + std::to_string(MarketStructure::kRing));
  if (order_block_lookback < 1 || order_block_lookback > most)
    fail("order_block_lookback", "must be in [1, " + std::to_string(most) + "]");
  if (!(fvg_min_pct >= 0.0 && fvg_min_pct <= 100.0)) fail("fvg_min_pct", "must be in [0, 100]");
}

const char* to_string(StructureBreak b) noexcept {
  switch (b) {
    case StructureBreak::bos: return "bos";
    case StructureBreak::choch: return "choch";
    case StructureBreak::none: break;
  }
  return "none";
}

const char* to_string(Trend t) noexcept {
  switch (t) {
    case Trend::up: return "up";
    case Trend::down: return "down";
    case Trend::none: break;
  }
  return "none";
}

MarketStructure::MarketStructure(const MarketStructureConfig& config) : config_((config.validate(), config)) {}

void MarketStructure::fill_zones(const Bar& bar) noexcept {
  for (auto* set : {&blocks_, &gaps_}) {
    Zone& up = (*set)[0];
    Zone& down = (*set)[1];
    if (up.active && bar.low <= up.low) up.active = false;
    if (down.active && bar.high >= down.high) down.active = false;
  }
}

StructureUpdate MarketStructure::update(const Bar& bar) noexcept {
  // Zones made before this bar are filled by it; the ones it makes start active.
  fill_zones(bar);
  const std::uint64_t i = count_++;
  ring_[i % kRing] = bar;
  StructureUpdate u;

  // 1. Swing points confirmed on this bar.
  const auto left = static_cast<std::uint64_t>(config_.swing_left), right = static_cast<std::uint64_t>(config_.swing_right);
  if (i >= left + right) {
    const std::uint64_t c = i - right;
    const Bar& mid = at(c);
    bool is_high = true, is_low = true;
    for (std::uint64_t j = c - left; j <= i; ++j) {
      if (j == c) continue;
      is_high = is_high && mid.high > at(j).high;
      is_low = is_low && mid.low < at(j).low;
    }
    if (is_high) high_ = {mid.high, mid.time_ns, true, false}, u.swing_high = true;
    if (is_low) low_ = {mid.low, mid.time_ns, true, false}, u.swing_low = true;
  }

  // 2. Break of the tracked swing by the close.
  if (high_.valid && !high_.broken && bar.close > high_.price) {
    u.direction = Trend::up;
    u.level = high_.price;
    high_.broken = true;
  } else if (low_.valid && !low_.broken && bar.close < low_.price) {
    u.direction = Trend::down;
    u.level = low_.price;
    low_.broken = true;
  }
  if (u.direction != Trend::none) {
    u.brk = trend_ == Trend::none || trend_ == u.direction ? StructureBreak::bos : StructureBreak::choch;
    trend_ = u.direction;
    // 3. Its order block: the last bar before it that closed against it.
    const bool up = u.direction == Trend::up;
    const std::uint64_t reach = std::min<std::uint64_t>(i, static_cast<std::uint64_t>(config_.order_block_lookback));
    for (std::uint64_t k = 1; k <= reach; ++k) {
      const Bar& b = at(i - k);
      if (up ? b.close < b.open : b.close > b.open) {
        blocks_[up ? 0 : 1] = {b.low, b.high, b.time_ns, true};
        u.order_block = true;
        break;
      }
    }
  }

  // 4. Fair-value gap of the last three bars.
  if (i >= 2) {
    const Bar& first = at(i - 2);
    const double min_height = bar.close * config_.fvg_min_pct / 100.0;
    if (bar.low > first.high && bar.low - first.high >= min_height) {
      gaps_[0] = {first.high, bar.low, bar.time_ns, true};
      u.gap = Trend::up;
    } else if (bar.high < first.low && first.low - bar.high >= min_height) {
      gaps_[1] = {bar.high, first.low, bar.time_ns, true};
      u.gap = Trend::down;
    }
  }
  return u;
}

}  // namespace enigma::strategy
