// What the risk gate checks: one order as the OMS is about to send it.
//
// The order-type and time-in-force enums live here (not in oms/) because oms depends on risk and not
// the other way round; the OMS reuses them. Everything is trivially copyable and allocation-free so a
// request can sit in a ring or a journal record as is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "core/error.hpp"
#include "core/events.hpp"
#include "core/fixed_point.hpp"
#include "core/instrument.hpp"

namespace enigma::risk {

using StrategyId = std::uint16_t;

enum class OrderType : std::uint8_t { limit, market, stop_market, take_profit_market, trailing_stop };
enum class TimeInForce : std::uint8_t { gtc, ioc, fok, post_only };

[[nodiscard]] std::string_view to_string(OrderType t) noexcept;
[[nodiscard]] std::string_view to_string(TimeInForce t) noexcept;

// Client order id: <= 40 chars (KuCoin clientOid's limit, the longest of our venues), NUL-padded so
// equality and hashing can work on whole 8-byte words. Same layout and accessors as oms's FixedId.
struct ClientOrderId {
  static constexpr std::size_t kCapacity = 40;
  char text[kCapacity + 1]{};
  std::uint8_t len{0};

  // Copies `s`; fails with Errc::out_of_range when it does not fit (never truncates: ids must not alias).
  [[nodiscard]] static Result<ClientOrderId> from(std::string_view s) noexcept {
    if (s.size() > kCapacity) return Result<ClientOrderId>::failure(Errc::out_of_range);
    ClientOrderId id;
    std::memcpy(id.text, s.data(), s.size());
    id.len = static_cast<std::uint8_t>(s.size());
    return Result<ClientOrderId>::success(id);
  }
  [[nodiscard]] std::string_view view() const noexcept { return {text, len}; }
  [[nodiscard]] bool empty() const noexcept { return len == 0; }
  friend bool operator==(const ClientOrderId& a, const ClientOrderId& b) noexcept {
    return a.len == b.len && std::memcmp(a.text, b.text, kCapacity) == 0;
  }
  // Never 0 (0 marks an empty slot in the gate's hash tables). Mixes the five 8-byte words of the
  // NUL-padded text: ~5 multiplies instead of a byte loop.
  [[nodiscard]] std::uint64_t hash() const noexcept {
    std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ len;
    for (std::size_t i = 0; i < kCapacity; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, text + i, 8);
      h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
      h ^= h >> 31;
    }
    return h == 0 ? 1 : h;
  }
};
static_assert(std::is_trivially_copyable_v<ClientOrderId>);

// One order to be sent. Prices and sizes are fixed-point in the venue's units (size in lots/contracts;
// the instrument's multiplier converts to base currency).
struct OrderRequest {
  ClientOrderId client_id;
  Price price;            // limit price; 0 for market orders (the reference price values them)
  Price stop_price;       // trigger price of stop_market / take_profit_market / trailing_stop; else 0
  Price reference_price;  // mid or mark at decision time: the price collar and valuations use it; must be > 0
  Price stop_loss;        // protective stop planned for an opening order (liquidation-buffer check); 0 = none
  Price take_profit;      // planned exit target (fee-adjusted break-even check); 0 = none, check skipped
  Qty qty;                // > 0
  std::uint64_t tsc{0};   // TSC of the event that caused the order (latency accounting only)
  InstrumentId instrument{kInvalidInstrument};
  StrategyId strategy{0};
  std::uint16_t leverage{1};  // 1 = unlevered
  Venue venue{Venue::unknown};
  Side side{Side::buy};
  OrderType type{OrderType::limit};
  TimeInForce tif{TimeInForce::gtc};
  bool reduce_only{false};
  bool split_child{false};  // one of several orders the engine derives from one entry: depth split, execution-algorithm children, a fill's protective legs (exempt from duplicate_order)
};
static_assert(std::is_trivially_copyable_v<OrderRequest>);

}  // namespace enigma::risk
