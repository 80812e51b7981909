// Position state machine: SIGNAL -> PENDING -> OPEN -> TRAILING -> CLOSED.
//
// Invariant: every OPEN or TRAILING position has a stop-loss price. It is enforced by construction: a
// position cannot be created without a stop (open_signal rejects a zero/wrong-side stop), the stop can
// only be tightened (never removed or loosened), and the only way out of OPEN/TRAILING is CLOSED.
// Quantity is driven by the fill deltas that apply() books on the entry and exit orders, so position qty
// always equals entry fills minus exit fills.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "core/error.hpp"
#include "core/events.hpp"
#include "core/fixed_point.hpp"
#include "core/instrument.hpp"

namespace enigma::oms {

enum class PositionState : std::uint8_t { signal = 0, pending, open, trailing, closed };
[[nodiscard]] std::string_view to_string(PositionState s) noexcept;

struct Position {
  Price stop_price;        // current stop-loss trigger; > 0 whenever state is open or trailing
  Qty qty;                 // open qty (>= 0, in the order's size unit)
  Qty entry_filled;        // sum of entry fills
  Qty exit_filled;         // sum of exit fills
  Notional entry_notional; // sum of entry fill qty x price
  Notional exit_notional;  // sum of exit fill qty x price
  std::uint32_t id{0};
  InstrumentId instrument{kInvalidInstrument};
  Side side{Side::buy};    // buy = long
  PositionState state{PositionState::closed};

  [[nodiscard]] constexpr bool has_stop() const noexcept { return stop_price.raw() > 0; }
  [[nodiscard]] constexpr bool is_open() const noexcept {
    return state == PositionState::open || state == PositionState::trailing;
  }
  // Average entry price (0 when nothing filled); truncated to Price resolution.
  [[nodiscard]] Price avg_entry() const noexcept;
};
static_assert(std::is_trivially_copyable_v<Position>, "journaled by memcpy");

// The invariant of this header; tests assert it after every transition.
[[nodiscard]] constexpr bool stop_invariant_holds(const Position& p) noexcept {
  return !p.is_open() || p.has_stop();
}

// A new position from a signal. Fails with Errc::out_of_range when `stop` is not positive, or is not on
// the losing side of `reference_px` (below it for a long, above for a short).
[[nodiscard]] Result<Position> open_signal(std::uint32_t id, InstrumentId instrument, Side side, Price reference_px,
                                           Price stop) noexcept;
// SIGNAL -> PENDING when the entry order is sent. Errc::out_of_range from any other state.
[[nodiscard]] Errc mark_entry_sent(Position& p) noexcept;
// Books an entry fill (qty > 0): PENDING -> OPEN; adds to qty in OPEN/TRAILING.
// Errc::out_of_range in SIGNAL or CLOSED (a fill we did not ask for is reconciled elsewhere).
[[nodiscard]] Errc on_entry_fill(Position& p, Qty qty, Price px) noexcept;
// The entry order ended (canceled/rejected/expired). With no fills PENDING -> CLOSED; otherwise no change.
void on_entry_done(Position& p) noexcept;
// Moves the stop toward profit: OPEN/TRAILING -> TRAILING. Never loosens: a stop that is not strictly
// tighter (higher for a long, lower for a short) is ignored with Errc::stale. Errc::out_of_range when
// the position is not open.
[[nodiscard]] Errc trail_stop(Position& p, Price new_stop) noexcept;
// Books an exit fill: qty shrinks (never below zero); at zero the position is CLOSED.
// Errc::out_of_range when not open, Errc::capacity when the fill exceeds the open qty (the excess is not
// booked; reconciliation must look at it).
[[nodiscard]] Errc on_exit_fill(Position& p, Qty qty, Price px) noexcept;

}  // namespace enigma::oms
