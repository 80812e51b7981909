// Small helpers shared by the bundled strategies.
#pragma once

#include <cstdint>

#include "core/events.hpp"
#include "core/fixed_point.hpp"

namespace enigma::strategy {

// Where a bar-driven strategy gets its bars: built from the trade tape, or the venue's own candles.
enum class BarSource : std::uint8_t { trades, venue_candles };

// A double price (indicator output) back to fixed-point on the tick grid; zero if it does not fit or is <= 0.
[[nodiscard]] inline Price price_on_tick(double v, Price tick, Rounding mode) noexcept {
  if (!(v > 0.0)) return Price{};
  const Result<Price> p = Price::from_double(v, mode);
  if (!p.ok()) return Price{};
  return p.value.round_to(tick, mode);
}

// The event's time for bar building: the venue's timestamp when it gave one.
[[nodiscard]] inline std::int64_t event_time_ns(const EventHeader& h) noexcept { return h.venue_time_ns; }

}  // namespace enigma::strategy
