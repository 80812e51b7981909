// What the OMS is asked to send: one venue order, fully specified.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/events.hpp"
#include "core/fixed_point.hpp"
#include "core/instrument.hpp"

namespace enigma::oms {

// PROVISIONAL: replaced by risk/order_request.hpp's enums once risk/ lands.
enum class OrderType : std::uint8_t { limit, market, stop_market, take_profit_market, trailing_stop };
enum class TimeInForce : std::uint8_t { gtc, ioc, fok, post_only };

struct OrderSpec {
  Price price;          // limit price (limit orders)
  Price stop_price;     // trigger price (stop_market, take_profit_market; activation for trailing_stop)
  Qty qty;              // in the venue's size unit (lots/contracts on KuCoin Futures)
  Rate callback_rate;   // trailing_stop: distance as a fraction (0.01 = 1 %)
  std::uint32_t oco_group{0};  // non-zero: exits sharing it are one-cancels-other
  std::uint16_t strategy{0};
  InstrumentId instrument{kInvalidInstrument};
  Venue venue{Venue::unknown};
  Side side{Side::buy};
  OrderType type{OrderType::limit};
  TimeInForce tif{TimeInForce::gtc};
  bool reduce_only{false};
};
static_assert(std::is_trivially_copyable_v<OrderSpec>);

}  // namespace enigma::oms
