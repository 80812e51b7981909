// Binance's names for order types and times in force, shared by the REST and WebSocket-API encoders.
#pragma once

#include <string_view>

#include "oms/order_spec.hpp"

namespace enigma::oms::binance_futures {

std::string_view type_name(OrderType t) noexcept;
std::string_view tif_name(TimeInForce t) noexcept;  // post-only is timeInForce GTX
std::string_view spot_type_name(OrderType t) noexcept;  // spot: STOP_LOSS / TAKE_PROFIT (post-only: LIMIT_MAKER)

}  // namespace enigma::oms::binance_futures
