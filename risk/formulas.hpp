// Sizing, stop and leverage formulas of the original plan, in fixed point with explicit rounding.
//
// Units: percentages are Rate values in percent (6.05 means 6.05 %), fractions are Rate values as
// fractions (0.0006 = 6 bp). ROI is return on margin: a price move of x % at leverage L is an ROI of
// x * L %. Every function is constexpr and allocation-free; products use 128-bit intermediates and a
// result is rounded once, in the direction the caller names (or the documented conservative one).
#pragma once

#include <cstdint>

#include "core/events.hpp"
#include "core/fixed_point.hpp"

namespace enigma::risk {

namespace detail {
inline constexpr int128 kRateScale = Rate::kScale;
inline constexpr int128 kPctRateScale = kRateScale * 100;  // 100 % in Rate raw units
constexpr bool fits_i64(int128 v) noexcept { return v <= INT64_MAX && v >= -static_cast<int128>(INT64_MAX); }
}  // namespace detail

// Fee-adjusted break-even ROI (%) of a round trip paying the taker fee twice:
//   taker_fee x 2 x leverage x 100 + buffer_pct.    0.0006 at 50x with buffer 0.05 -> 6.05 %.
// Exact. Inputs bounded by config validation (fee < 1, leverage <= 1000) so it cannot overflow.
[[nodiscard]] constexpr Rate break_even_roi_pct(Rate taker_fee, std::uint16_t leverage, Rate buffer_pct) noexcept {
  return Rate::from_raw(taker_fee.raw() * 2 * leverage * 100 + buffer_pct.raw());
}

// Inverse leverage scaling: adjusted risk (%) = base risk (%) x 100 / leverage, so the price distance
// risked stays constant as leverage changes. Base 0.5 %: 0.5 % at 100x, 1.0 % at 50x, 2.0 % at 25x.
// `leverage` must be >= 1. Rounds down by default (never risks more than the plan).
[[nodiscard]] constexpr Rate leverage_scaled_risk_pct(Rate base_risk_pct, std::uint16_t leverage,
                                                      Rounding mode = Rounding::down) noexcept {
  return Rate::from_raw(static_cast<std::int64_t>(
      div_round(static_cast<int128>(base_risk_pct.raw()) * 100, static_cast<int128>(leverage), mode)));
}

// Stop-loss price for a stop at `sl_roi_pct` % ROI:
//   long:  entry x (1 - SL_ROI / leverage / 100)      short: entry x (1 + SL_ROI / leverage / 100)
// rounded once to a multiple of `tick` with `mode` (Rounding::up for a long / down for a short keeps the
// loss at or under SL_ROI). 100, 0.5 %, 50x, long -> 99.99. Errc::out_of_range for leverage 0,
// non-positive entry or tick; Errc::overflow when the price does not fit.
[[nodiscard]] constexpr Result<Price> stop_loss_price(Price entry, Rate sl_roi_pct, std::uint16_t leverage,
                                                      Side side, Price tick, Rounding mode) noexcept {
  if (leverage == 0 || entry.raw() <= 0 || tick.raw() <= 0) return Result<Price>::failure(Errc::out_of_range);
  const int128 den = detail::kPctRateScale * leverage;
  const int128 factor = side == Side::buy ? den - sl_roi_pct.raw() : den + sl_roi_pct.raw();
  const int128 ticks = div_round(static_cast<int128>(entry.raw()) * factor, den * tick.raw(), mode);
  const int128 raw = ticks * tick.raw();
  if (!detail::fits_i64(raw) || raw < 0) return Result<Price>::failure(Errc::overflow);
  return Result<Price>::success(Price::from_raw(static_cast<std::int64_t>(raw)));
}

// ROI (%) of a position entered at `entry` when the price is `price`, rounded down (floor):
//   long: (price - entry) / entry x leverage x 100      short: (entry - price) / entry x leverage x 100
// `entry` must be > 0.
[[nodiscard]] constexpr Rate roi_pct(Price entry, Price price, std::uint16_t leverage, Side side) noexcept {
  const int128 move = side == Side::buy ? static_cast<int128>(price.raw()) - entry.raw()
                                        : static_cast<int128>(entry.raw()) - price.raw();
  return Rate::from_raw(static_cast<std::int64_t>(
      div_round(move * leverage * detail::kPctRateScale, static_cast<int128>(entry.raw()), Rounding::down)));
}

// Staircase trailing stop (all in ROI %): nothing happens until ROI >= activation; then the stop sits at
// `distance` below the highest whole step reached.
struct TrailingStopParams {
  Rate activation_roi_pct;  // start trailing once ROI reaches this
  Rate step_pct;            // staircase step; must be > 0
  Rate distance_pct;        // how far below the reached level the stop sits
};

// Once ROI >= activation: level = floor(ROI / step) x step and
//   long:  new stop = max(current, entry x (1 + (level - distance) / leverage / 100)), rounded down to tick
//   short: new stop = min(current, entry x (1 - (level - distance) / leverage / 100)), rounded up to tick
// (rounding away from the market so the step never triggers earlier than the plan). The stop never
// untrails: a falling ROI keeps `current_stop`. A short with current_stop == 0 (none yet) takes the
// candidate. Below activation, returns current_stop unchanged. Preconditions: entry, tick, step > 0,
// leverage >= 1.
[[nodiscard]] constexpr Price trailing_stop(const TrailingStopParams& p, Price entry, Price price,
                                            Price current_stop, std::uint16_t leverage, Side side,
                                            Price tick) noexcept {
  const Rate roi = roi_pct(entry, price, leverage, side);
  if (roi < p.activation_roi_pct) return current_stop;
  const std::int64_t level = (roi.raw() / p.step_pct.raw()) * p.step_pct.raw();
  const int128 offset = static_cast<int128>(level) - p.distance_pct.raw();
  const int128 den = detail::kPctRateScale * leverage;
  const bool is_long = side == Side::buy;
  const int128 factor = is_long ? den + offset : den - offset;
  const int128 ticks = div_round(static_cast<int128>(entry.raw()) * factor, den * tick.raw(),
                                 is_long ? Rounding::down : Rounding::up);
  const Price candidate = Price::from_raw(static_cast<std::int64_t>(ticks * tick.raw()));
  if (is_long) return candidate > current_stop ? candidate : current_stop;
  if (current_stop.is_zero()) return candidate;
  return candidate < current_stop ? candidate : current_stop;
}

// Position size that loses `risk_pct` % of `equity` if the stop is hit:
//   qty = equity x risk_pct / 100 / (|entry - stop| x multiplier), rounded down to a multiple of `lot`.
// `multiplier` converts the venue's size unit to base currency (1 for linear USDT perps, 0.001 for
// KuCoin XBTUSDTM). Errc::out_of_range when entry == stop or multiplier/lot <= 0 or inputs negative;
// Errc::overflow when the size does not fit.
[[nodiscard]] constexpr Result<Qty> position_size(Notional equity, Rate risk_pct, Price entry, Price stop,
                                                  Qty multiplier, Qty lot) noexcept {
  const int128 dist = entry.raw() > stop.raw() ? static_cast<int128>(entry.raw()) - stop.raw()
                                               : static_cast<int128>(stop.raw()) - entry.raw();
  if (dist == 0 || multiplier.raw() <= 0 || lot.raw() <= 0 || equity.raw() < 0 || risk_pct.raw() < 0) {
    return Result<Qty>::failure(Errc::out_of_range);
  }
  // qty_raw = (E/1e8)(r/1e10)/100 / ((d/1e10)(m/1e10)) * 1e10 = E * r * 1e10 / (d * m)
  const int128 num = static_cast<int128>(equity.raw()) * risk_pct.raw();
  constexpr int128 kMaxNum = (static_cast<int128>(1) << 126) / Qty::kScale;
  if (num > kMaxNum) return Result<Qty>::failure(Errc::overflow);
  const int128 qty = (num * Qty::kScale) / (dist * multiplier.raw());
  const int128 lots = qty / lot.raw();  // floor twice == floor once for positive integers
  const int128 raw = lots * lot.raw();
  if (raw > INT64_MAX) return Result<Qty>::failure(Errc::overflow);
  return Result<Qty>::success(Qty::from_raw(static_cast<std::int64_t>(raw)));
}

// Fractional-Kelly risk (%) to feed position_size: f* = p - (1 - p) / b, clamped to [0, 1], times
// `fraction` (0.5 = half Kelly), in percent. p = 0.55, b = 1.5, half Kelly -> 12.5 %. Rounds down.
// Errc::out_of_range for b <= 0 or p outside [0, 1].
[[nodiscard]] constexpr Result<Rate> kelly_risk_pct(Rate win_probability, Rate payoff_ratio, Rate fraction) noexcept {
  const int128 r = detail::kRateScale;
  if (payoff_ratio.raw() <= 0 || win_probability.raw() < 0 || win_probability.raw() > r) {
    return Result<Rate>::failure(Errc::out_of_range);
  }
  int128 f = win_probability.raw() - div_round((r - win_probability.raw()) * r, payoff_ratio.raw(), Rounding::up);
  if (f < 0) f = 0;
  if (f > r) f = r;
  const int128 pct = div_round(f * fraction.raw() * 100, r, Rounding::down);
  if (!detail::fits_i64(pct)) return Result<Rate>::failure(Errc::overflow);
  return Result<Rate>::success(Rate::from_raw(static_cast<std::int64_t>(pct)));
}

// Isolated-margin liquidation price estimate, ignoring fees and funding (the venue's own figure differs
// by those and by tiered maintenance margin; use it for buffers, not as the venue's number):
//   long:  entry x (1 - 1/leverage + mmr)      short: entry x (1 + 1/leverage - mmr)
// where mmr is the maintenance margin rate (0.005 = 0.5 %). Rounded toward the entry (up for a long,
// down for a short) so the estimate errs on the side of liquidating sooner. 100 at 50x, mmr 0.005 ->
// 98.5 long, 101.5 short. Errc::out_of_range for leverage 0 or non-positive entry/tick.
[[nodiscard]] constexpr Result<Price> liquidation_price(Price entry, std::uint16_t leverage, Rate mmr, Side side,
                                                        Price tick) noexcept {
  if (leverage == 0 || entry.raw() <= 0 || tick.raw() <= 0) return Result<Price>::failure(Errc::out_of_range);
  const int128 r = detail::kRateScale;
  const int128 den = r * leverage;
  const int128 mm = static_cast<int128>(mmr.raw()) * leverage;
  const bool is_long = side == Side::buy;
  const int128 factor = is_long ? den - r + mm : den + r - mm;
  const int128 ticks = div_round(static_cast<int128>(entry.raw()) * factor, den * tick.raw(),
                                 is_long ? Rounding::up : Rounding::down);
  const int128 raw = ticks * tick.raw();
  if (!detail::fits_i64(raw)) return Result<Price>::failure(Errc::overflow);
  return Result<Price>::success(Price::from_raw(static_cast<std::int64_t>(raw < 0 ? 0 : raw)));
}

// Volatility-adjusted leverage cap: max_leverage while volatility <= reference, otherwise scaled down
// in proportion, floor(max_leverage x reference / volatility), never below 1. Unknown volatility (0)
// gives max_leverage. 50x, reference 2 %, volatility 4 % -> 25x.
[[nodiscard]] constexpr std::uint16_t volatility_leverage_cap(std::uint16_t max_leverage, Rate reference_vol,
                                                              Rate volatility) noexcept {
  if (volatility.raw() <= reference_vol.raw() || volatility.raw() <= 0) return max_leverage;
  const int128 cap = static_cast<int128>(max_leverage) * reference_vol.raw() / volatility.raw();
  return static_cast<std::uint16_t>(cap < 1 ? 1 : cap);
}

}  // namespace enigma::risk
