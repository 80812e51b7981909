// Entry pricing, chosen per strategy at start-up (EntryPricingTable, indexed by strategy id):
//   intent  the strategy's own price and order kind: a limit at the intent's price (GTC rests, IOC takes),
//           or a market order when the intent has no price;
//   level   the original plan below, whatever the intent asked for.
// Level pricing of the original plan: a passive limit at the 9th book level (bids[8] for a long,
// asks[8] for a short), rejected with SLIPPAGE_EXCEEDED when that level is farther from the mid than the
// configured fraction. The book is passed as plain arrays (best first) so oms/ never depends on feed/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/book_side.hpp"
#include "core/events.hpp"
#include "core/fixed_point.hpp"
#include "oms/exec_report.hpp"

namespace enigma::oms {

using PriceLevel = enigma::PriceLevel;  // one level type from the book to the OMS

struct EntryPricingConfig {
  std::size_t level_index{8};                      // 0-based: 8 = the 9th level
  Rate max_slippage{Rate::from_raw(20'000'000)};   // 0.002 = 0.2 % of mid
};

enum class EntryMode : std::uint8_t { intent, level };

// One strategy's choice; `level_index` (0-based, 8 = the 9th level) is used by EntryMode::level.
struct StrategyEntryPricing {
  EntryMode mode{EntryMode::intent};
  std::uint8_t level_index{8};
};
inline constexpr std::size_t kMaxEntryStrategies = 64;  // strategy ids 0..63 (the config's range)
// Built once at start-up; the per-intent lookup is an index, no allocation.
using EntryPricingTable = std::array<StrategyEntryPricing, kMaxEntryStrategies>;

struct EntryQuote {
  Price price;
  Price mid;
  Reason reason{Reason::none};  // none, insufficient_depth (either side too short) or slippage_exceeded
  [[nodiscard]] bool ok() const noexcept { return reason == Reason::none; }
};

// Price for an entry on `side` (buy = long). noexcept, allocation-free.
[[nodiscard]] EntryQuote entry_price(Side side, std::span<const PriceLevel> bids, std::span<const PriceLevel> asks,
                                     const EntryPricingConfig& cfg) noexcept;

}  // namespace enigma::oms
