// What strategies emit and receive: order intents out, fills in.
//
// An OrderIntent is a request, not an order: risk sizes, checks and may reject it, the OMS turns it into
// venue orders. It carries the TSC of the market-data event that triggered it so tick-to-intent latency can
// be measured. Intents go into a caller-owned fixed-capacity IntentBuffer (no allocation on the hot path).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "core/events.hpp"
#include "core/fixed_point.hpp"
#include "core/instrument.hpp"

namespace enigma::strategy {

enum class IntentReason : std::uint8_t {
  signal_entry = 1,       // confluence score crossed the regime threshold (timeframes aligned)
  signal_exit,            // confluence score turned against the open position
  mean_reversion_entry,   // RSI extreme with close outside the Bollinger band
  mean_reversion_exit,    // close back at the middle band
  imbalance_entry,        // top-N book imbalance beyond the entry threshold
  imbalance_exit,         // book imbalance flipped against the position
};
[[nodiscard]] const char* to_string(IntentReason r) noexcept;

// How long a limit intent may work: gtc rests until filled or cancelled; ioc takes what it can at once and
// the rest is cancelled (a marketable limit = a taker order with a price cap). Ignored for market intents.
enum class IntentTif : std::uint8_t { gtc = 0, ioc };

struct OrderIntent {
  std::uint64_t trigger_tsc;  // EventHeader::recv_tsc of the event that caused it
  Price limit;                // limit price (on the tick); zero = market order
  Qty qty;                    // always positive
  Price entry;                // suggested entry reference (zero = none)
  Price stop;                 // suggested stop-loss (zero = none)
  Price take_profit;          // suggested take-profit (zero = none)
  InstrumentId instrument;
  std::uint16_t strategy_id;
  Side side;
  IntentReason reason;
  bool reduce_only;           // only reduces an open position (exits)
  IntentTif tif;              // gtc (default, zero) or ioc for a limit
  std::uint8_t max_leverage;  // the market regime's leverage cap for this entry (0 = no cap from the strategy)
};
static_assert(std::is_trivially_copyable_v<OrderIntent>, "intents are copied through rings by memcpy");
static_assert(sizeof(OrderIntent) <= 64, "one intent per cache line");

// A fill of one of our orders, as the OMS reports it back to the strategy that asked for it.
struct Fill {
  std::uint64_t tsc;
  Price price;
  Qty qty;  // positive
  InstrumentId instrument;
  std::uint16_t strategy_id;
  Side side;
};
static_assert(std::is_trivially_copyable_v<Fill>);

// Caller-owned output of one stage call. Full buffer: the intent is dropped and counted (never silently).
class IntentBuffer {
 public:
  static constexpr std::size_t kCapacity = 16;

  bool push(const OrderIntent& intent) noexcept {
    if (size_ == kCapacity) [[unlikely]] {
      ++dropped_;
      return false;
    }
    items_[size_++] = intent;
    return true;
  }
  void clear() noexcept { size_ = 0; }
  [[nodiscard]] std::span<const OrderIntent> view() const noexcept { return {items_.data(), size_}; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] const OrderIntent& operator[](std::size_t i) const noexcept { return items_[i]; }
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  std::array<OrderIntent, kCapacity> items_{};
  std::size_t size_ = 0;
  std::uint64_t dropped_ = 0;
};

// Net position of one strategy on one instrument, from its fills (exact, fixed-point).
class PositionTracker {
 public:
  void on_fill(Side side, Qty qty) noexcept { net_ += side == Side::buy ? qty : -qty; }
  [[nodiscard]] Qty net() const noexcept { return net_; }
  [[nodiscard]] bool flat() const noexcept { return net_.is_zero(); }
  [[nodiscard]] bool long_() const noexcept { return net_.raw() > 0; }
  [[nodiscard]] bool short_() const noexcept { return net_.raw() < 0; }
  void reset() noexcept { net_ = Qty{}; }

 private:
  Qty net_{};
};

// Fields every bundled strategy's config has.
struct StrategyCommonConfig {
  std::uint16_t strategy_id = 0;
  InstrumentId instrument = kInvalidInstrument;
  Qty order_qty = Qty::from_units(1);
  Price tick = Price::from_raw(Price::kScale / 100);  // price increment for suggested prices (0.01)
  Qty lot = Qty::from_raw(1);                          // size increment: order_qty must be a multiple

  void validate(const char* strategy) const;  // throws enigma::Error naming the strategy and field
};

}  // namespace enigma::strategy
