// Swing points and price/indicator divergence.
//
// Swing (pivot) points: bar c is a swing high when its high is strictly above the highs of the `left` bars
// before it and at or above the highs of the `right` bars after it (a plateau of equal highs yields one
// pivot, its first bar); swing lows mirror this on the lows. A pivot is known only `right` bars later, so
// detection is reported at that confirming bar, never earlier (no look-ahead).
//
// Divergence compares two consecutive swing points of price with the indicator's values at the same bars
// (at most `max_bars_between` bars apart):
//   regular bullish : price lower low,   indicator higher low   (selling pressure fading: reversal up)
//   hidden bullish  : price higher low,  indicator lower low    (uptrend continuation)
//   regular bearish : price higher high, indicator lower high   (buying pressure fading: reversal down)
//   hidden bearish  : price lower high,  indicator higher high  (downtrend continuation)
// Use it with RSI, the MACD line or OBV; one detector per indicator.
#pragma once

#include <array>
#include <cstdint>

namespace enigma::strategy {

inline constexpr int kMaxSwingSide = 50;  // bound on left/right so the pivot window stays a fixed array

// Confirms swing highs/lows over a fixed window; O(left + right) per bar, no allocation.
class SwingDetector {
 public:
  struct Point {
    double high;
    double low;
    double aux;  // a value carried with the bar (the indicator at that bar for divergence)
  };
  struct Result {
    bool is_high = false;       // the bar `right` bars back is a confirmed swing high
    bool is_low = false;        // ... a confirmed swing low
    std::int64_t bar = -1;      // index (0-based, counting update calls) of that bar
    Point point{};
  };

  SwingDetector(int left, int right);  // throws enigma::Error unless 1 <= left, right <= kMaxSwingSide

  Result update(double high, double low, double aux) noexcept;
  void reset() noexcept;
  [[nodiscard]] int left() const noexcept { return left_; }
  [[nodiscard]] int right() const noexcept { return right_; }

 private:
  [[nodiscard]] const Point& at_back(int k) const noexcept;  // k bars before the newest (0 = newest)

  int left_;
  int right_;
  int size_;
  std::array<Point, 2 * kMaxSwingSide + 1> ring_{};
  int head_ = 0;              // slot of the next write
  std::int64_t count_ = 0;    // bars seen
};

enum class DivergenceKind : std::uint8_t { none = 0, regular_bullish, hidden_bullish, regular_bearish, hidden_bearish };

[[nodiscard]] constexpr bool is_bullish(DivergenceKind k) noexcept {
  return k == DivergenceKind::regular_bullish || k == DivergenceKind::hidden_bullish;
}
[[nodiscard]] constexpr bool is_bearish(DivergenceKind k) noexcept {
  return k == DivergenceKind::regular_bearish || k == DivergenceKind::hidden_bearish;
}
[[nodiscard]] const char* to_string(DivergenceKind k) noexcept;

struct DivergenceConfig {
  int left = 5;                 // pivot window bars before the pivot
  int right = 5;                // bars after the pivot (detection delay)
  int max_bars_between = 60;    // two pivots further apart are not compared

  void validate() const;  // throws enigma::Error naming the field
};

struct Divergence {
  DivergenceKind kind = DivergenceKind::none;
  std::int64_t pivot_bar = -1;       // the newer pivot
  std::int64_t prev_pivot_bar = -1;  // the pivot it was compared with
  double price = 0.0, prev_price = 0.0;          // lows for bullish, highs for bearish
  double indicator = 0.0, prev_indicator = 0.0;  // indicator at those bars
};

// Divergence between price swings and one indicator. O(left + right) per bar, no allocation.
class DivergenceDetector {
 public:
  struct Update {
    Divergence bullish;  // from a swing low confirmed on this bar (kind none if none)
    Divergence bearish;  // from a swing high confirmed on this bar
  };

  explicit DivergenceDetector(const DivergenceConfig& config = {});  // throws enigma::Error

  // One bar: its high, low, and the indicator's value at that bar (NaN while the indicator is not ready;
  // pivots without an indicator value are not compared).
  Update update(double high, double low, double indicator) noexcept;
  void reset() noexcept;
  [[nodiscard]] std::int64_t bars() const noexcept { return bars_; }

 private:
  struct Pivot {
    std::int64_t bar = -1;
    double price = 0.0;
    double indicator = 0.0;
    bool valid = false;
  };

  DivergenceConfig config_;
  SwingDetector swings_;
  Pivot last_low_;
  Pivot last_high_;
  std::int64_t bars_ = 0;
};

}  // namespace enigma::strategy
