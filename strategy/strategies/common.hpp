// Small helpers shared by the bundled strategies.
#pragma once

#include <cstdint>
#include <string>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/events.hpp"
#include "core/fixed_point.hpp"
#include "strategy/candles.hpp"
#include "strategy/intent.hpp"

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

// An intent of the strategy on its instrument: `limit` 0 is a market order; `entry`, `stop`, `tp` (0 = none)
// are the reference price and the planned protective stop and take-profit; `tsc` the causing event's TSC.
[[nodiscard]] inline OrderIntent make_intent(const StrategyCommonConfig& c, Side side, IntentReason reason, bool reduce_only,
                                             Qty qty, Price limit, Price entry, Price stop, Price tp, std::uint64_t tsc,
                                             IntentTif tif = IntentTif::gtc) noexcept {
  OrderIntent i{};
  i.tif = tif;
  i.trigger_tsc = tsc;
  i.limit = limit;
  i.qty = qty;
  i.entry = entry;
  i.stop = stop;
  i.take_profit = tp;
  i.instrument = c.instrument;
  i.strategy_id = c.strategy_id;
  i.side = side;
  i.reason = reason;
  i.reduce_only = reduce_only;
  return i;
}

// A market order (limit 0) of the strategy's order_qty on its instrument, caused by event `h`.
[[nodiscard]] inline OrderIntent market_intent(const StrategyCommonConfig& c, const EventHeader& h, Side side, IntentReason reason,
                                               bool reduce_only) noexcept {
  return make_intent(c, side, reason, reduce_only, c.order_qty, Price{}, Price{}, Price{}, Price{}, h.recv_tsc);
}

// The event's time for bar building: the venue's timestamp when it gave one.
[[nodiscard]] inline std::int64_t event_time_ns(const EventHeader& h) noexcept { return h.venue_time_ns; }

// `bar_source`: where a bar-driven strategy's bars come from ("trades" or "venue-candles").
[[nodiscard]] inline BarSource read_bar_source(config::TableReader& s, BarSource now) {
  return s.choice<BarSource>("bar_source", now, {{"trades", BarSource::trades}, {"venue-candles", BarSource::venue_candles}});
}

// `timeframes_s`: the bar timeframes (seconds, lowest first) of a bar-driven strategy's table; the grid is
// checked by CandleConfig::validate, and its error names the key.
inline void read_timeframes(config::TableReader& s, CandleConfig& c) {
  std::vector<std::int64_t> now;
  for (std::size_t i = 0; i < c.timeframe_count; ++i) now.push_back(c.timeframes_s[i]);
  const auto tf = s.integer_list("timeframes_s", now, 1, 86400, true);
  if (tf.empty() || tf.size() > kMaxTimeframes)
    s.fail("timeframes_s", "1 to " + std::to_string(kMaxTimeframes) + " timeframes");
  for (std::size_t i = 0; i < tf.size(); ++i) c.timeframes_s[i] = static_cast<std::uint32_t>(tf[i]);
  c.timeframe_count = tf.size();
  try {
    c.validate();
  } catch (const Error& e) {
    s.fail("timeframes_s", e.what());
  }
}

}  // namespace enigma::strategy
