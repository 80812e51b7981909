#include "oms/position.hpp"

namespace enigma::oms {

std::string_view to_string(PositionState s) noexcept {
  switch (s) {
    case PositionState::signal: return "SIGNAL";
    case PositionState::pending: return "PENDING";
    case PositionState::open: return "OPEN";
    case PositionState::trailing: return "TRAILING";
    case PositionState::closed: return "CLOSED";
  }
  return "?";
}

Price Position::avg_entry() const noexcept {
  if (entry_filled.raw() <= 0) return Price{};
  // notional (8 dp) / qty (10 dp) -> price (10 dp): scale by 10^12 in 128 bits.
  const int128 num = static_cast<int128>(entry_notional.raw()) * 1000000000000LL;
  return Price::from_raw(static_cast<std::int64_t>(num / entry_filled.raw()));
}

Result<Position> open_signal(std::uint32_t id, InstrumentId instrument, Side side, Price reference_px,
                             Price stop) noexcept {
  const bool wrong_side = side == Side::buy ? stop >= reference_px : stop <= reference_px;
  if (stop.raw() <= 0 || wrong_side) return Result<Position>::failure(Errc::out_of_range);
  Position p{};
  p.id = id;
  p.instrument = instrument;
  p.side = side;
  p.stop_price = stop;
  p.state = PositionState::signal;
  return Result<Position>::success(p);
}

Errc mark_entry_sent(Position& p) noexcept {
  if (p.state != PositionState::signal) return Errc::out_of_range;
  p.state = PositionState::pending;
  return Errc::ok;
}

Errc on_entry_fill(Position& p, Qty qty, Price px) noexcept {
  if (p.state != PositionState::pending && !p.is_open()) return Errc::out_of_range;
  if (qty.raw() <= 0) return Errc::ok;
  p.qty += qty;
  p.entry_filled += qty;
  if (const auto n = notional_of(px, qty); n.ok()) p.entry_notional += n.value;
  if (p.state == PositionState::pending) p.state = PositionState::open;  // stop was set at signal time
  return Errc::ok;
}

void on_entry_done(Position& p) noexcept {
  if (p.state == PositionState::pending && p.entry_filled.raw() == 0) p.state = PositionState::closed;
  if (p.state == PositionState::signal) p.state = PositionState::closed;
}

Errc trail_stop(Position& p, Price new_stop) noexcept {
  if (!p.is_open()) return Errc::out_of_range;
  const bool tighter = p.side == Side::buy ? new_stop > p.stop_price : new_stop < p.stop_price;
  if (!tighter || new_stop.raw() <= 0) return Errc::stale;
  p.stop_price = new_stop;
  p.state = PositionState::trailing;
  return Errc::ok;
}

Errc on_exit_fill(Position& p, Qty qty, Price px) noexcept {
  if (!p.is_open()) return Errc::out_of_range;
  if (qty.raw() <= 0) return Errc::ok;
  Errc e = Errc::ok;
  if (qty > p.qty) {
    qty = p.qty;
    e = Errc::capacity;
  }
  p.qty -= qty;
  p.exit_filled += qty;
  if (const auto n = notional_of(px, qty); n.ok()) p.exit_notional += n.value;
  if (p.qty.raw() == 0) p.state = PositionState::closed;
  return e;
}

}  // namespace enigma::oms
