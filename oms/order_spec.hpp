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
  Qty display_qty;               // > 0: a venue-native iceberg showing this much at a time (native_iceberg below)
};
static_assert(std::is_trivially_copyable_v<OrderSpec>);

// A venue's own iceberg order (a resting limit that shows `display_qty` and refills from the hidden rest),
// where the venue offers one on the order paths enigma has. KuCoin Futures POST /api/v1/orders: `iceberg`
// + `visibleSize` on limit orders, not with postOnly; the visible size at least 1/20 of the order size;
// iceberg (and hidden) orders pay the taker fee on every fill. Binance USD-M and COIN-M futures have no
// iceberg. Binance spot's encoder takes `icebergQty` on a GTC limit, but its rules (the symbol's ICEBERG_PARTS
// filter) are not modelled here yet, so the execution algorithm slices icebergs there.
struct NativeIceberg {
  bool offered{false};
  std::int64_t min_visible_den{1};  // visible size >= order size / this
  bool taker_fee{false};            // every fill pays the taker rate, resting or not
};
[[nodiscard]] constexpr NativeIceberg native_iceberg(Venue v) noexcept {
  return v == Venue::kucoin_futures ? NativeIceberg{true, 20, true} : NativeIceberg{};
}
// Whether `o` (its qty set, display_qty not yet) can go as a native iceberg showing `display`.
[[nodiscard]] constexpr bool native_iceberg_fits(const OrderSpec& o, Qty display) noexcept {
  const NativeIceberg n = native_iceberg(o.req.venue);
  return n.offered && o.req.type == OrderType::limit && o.req.tif == TimeInForce::gtc && display.raw() > 0 &&
         display < o.req.qty && display.raw() * n.min_visible_den >= o.req.qty.raw();
}

}  // namespace enigma::oms
