// Market-structure features (issue 15 item 6), incremental on closed bars and usable by any strategy: swing
// points, break of structure (BOS) and change of character (CHoCH), fair-value gaps (FVG) and order blocks.
//
// Bars are numbered from 0 in the order given to update(). On bar i, in this order:
//   1. Swing points. Bar c = i - right (c >= left) is a swing high when its high is strictly above the high of
//      every other bar in [c - left, c + right], a swing low when its low is strictly below every other low
//      there; it is confirmed on bar i and replaces the tracked swing high (low), not yet broken.
//   2. Break. With a tracked swing high not yet broken and close(i) > its price: an up-break; else, with a
//      tracked swing low not yet broken and close(i) < its price: a down-break (at most one per bar, up
//      first). The break is a CHoCH when the trend before it was the other way, else a BOS (also the first
//      break); the trend becomes the break's direction and that swing counts as broken (it breaks once).
//   3. Order block of a break: the last bar before i, among the previous `order_block_lookback` bars, that
//      closed against the break (close < open before an up-break, close > open before a down-break); its
//      [low, high] is the zone. None when no such bar is in reach.
//   4. Fair-value gap (i >= 2): up when low(i) > high(i - 2), zone [high(i - 2), low(i)]; down when
//      high(i) < low(i - 2), zone [high(i), low(i - 2)]; reported when the zone's height is at least
//      fvg_min_pct % of close(i).
// The last reported gap and order block of each direction stay as state until a later bar fills them: an up
// zone is filled when a bar's low reaches its low (a down zone: a bar's high reaches its high).
//
// Fixed state (a ring of the last kRing bars), no allocation, O(left + right + lookback) per bar.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "strategy/indicators.hpp"

namespace enigma::strategy {

struct MarketStructureConfig {
  int swing_left = 3;             // bars left of a swing point that must be lower (higher for a low)
  int swing_right = 3;            // bars right of it: a swing is confirmed this many bars after it
  int order_block_lookback = 20;  // bars searched back for a break's order block
  double fvg_min_pct = 0.0;       // smallest fair-value gap reported, % of the close
  void validate() const;          // throws enigma::Error naming the field
};

enum class StructureBreak : std::uint8_t { none, bos, choch };
enum class Trend : std::int8_t { down = -1, none = 0, up = 1 };
[[nodiscard]] const char* to_string(StructureBreak b) noexcept;
[[nodiscard]] const char* to_string(Trend t) noexcept;

struct Zone {
  double low = 0.0, high = 0.0;
  std::int64_t time_ns = 0;  // the bar that made it (the gap's third bar, the order block's bar)
  bool active = false;       // reported and not filled yet
};

struct SwingPoint {
  double price = 0.0;
  std::int64_t time_ns = 0;
  bool valid = false;
  bool broken = false;
};

// What one bar produced.
struct StructureUpdate {
  bool swing_high = false, swing_low = false;  // confirmed on this bar (the points: swing_high() / swing_low())
  StructureBreak brk = StructureBreak::none;
  Trend direction = Trend::none;  // of the break
  double level = 0.0;             // the swing price it broke
  bool order_block = false;       // the break found one: order_block(direction)
  Trend gap = Trend::none;        // a fair-value gap was reported: fair_value_gap(gap)
};

class MarketStructure {
 public:
  static constexpr int kRing = 128;
  explicit MarketStructure(const MarketStructureConfig& config = {});  // throws enigma::Error

  StructureUpdate update(const Bar& bar) noexcept;

  [[nodiscard]] Trend trend() const noexcept { return trend_; }
  [[nodiscard]] const SwingPoint& swing_high() const noexcept { return high_; }
  [[nodiscard]] const SwingPoint& swing_low() const noexcept { return low_; }
  // The last order block / fair-value gap of a direction (up or down).
  [[nodiscard]] const Zone& order_block(Trend d) const noexcept { return blocks_[d == Trend::up ? 0 : 1]; }
  [[nodiscard]] const Zone& fair_value_gap(Trend d) const noexcept { return gaps_[d == Trend::up ? 0 : 1]; }
  [[nodiscard]] std::uint64_t bars() const noexcept { return count_; }

 private:
  [[nodiscard]] const Bar& at(std::uint64_t index) const noexcept { return ring_[index % kRing]; }
  void fill_zones(const Bar& bar) noexcept;

  MarketStructureConfig config_;
  std::array<Bar, kRing> ring_{};
  std::uint64_t count_ = 0;
  SwingPoint high_{}, low_{};
  Trend trend_ = Trend::none;
  std::array<Zone, 2> blocks_{}, gaps_{};  // [0] up, [1] down
};

}  // namespace enigma::strategy
