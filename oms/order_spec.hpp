// What the OMS is asked to send: risk's OrderRequest (what the gate checks) plus the OMS-only fields.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/fixed_point.hpp"
#include "risk/order_request.hpp"

namespace enigma::oms {

using risk::OrderRequest;
using risk::OrderType;
using risk::TimeInForce;

struct OrderSpec {
  OrderRequest req;
  Rate callback_rate;            // trailing_stop: trail distance as a fraction (0.01 = 1 %); req.stop_price activates
  std::uint32_t oco_group{0};    // non-zero: exits sharing it are one-cancels-other
  std::uint32_t position_id{0};  // the position this order opens or closes (0 = none)
};
static_assert(std::is_trivially_copyable_v<OrderSpec>);

}  // namespace enigma::oms
