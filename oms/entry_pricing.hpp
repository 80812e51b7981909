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

// How an entry (the parent order) reaches the venue (README "Execution algorithms"):
//   single   one order (split by displayed depth when [oms] split_depth_fraction is set);
//   twap     `slices` children of parent / slices (lot-rounded down, the remainder on the last), one now and
//            one every `slice_interval_ns` of the run's clock;
//   iceberg  the venue's own iceberg where it offers one and the order fits its rules (one order showing
//            `display_qty`: native_iceberg in order_spec.hpp), unless `iceberg_native` is off; else
//            children of `display_qty`, each sent when the previous one has filled (sliced by the engine);
//   vwap     the TWAP schedule, child k sized by the share of the instrument's traded volume that fell in
//            the k-th of `slices` equal parts of the last `vwap_horizon_ns` (the trade tape).
enum class ExecAlgo : std::uint8_t { single, twap, iceberg, vwap };
inline constexpr std::int64_t kMaxExecSlices = 64;  // children of one parent at most

// One strategy's choice; `level_index` (0-based, 8 = the 9th level) is used by EntryMode::level.
struct StrategyEntryPricing {
  EntryMode mode{EntryMode::intent};
  std::uint8_t level_index{8};
  ExecAlgo exec{ExecAlgo::single};
  std::uint16_t slices{1};             // twap, vwap
  std::int64_t slice_interval_ns{0};   // twap, vwap
  std::int64_t vwap_horizon_ns{0};     // vwap
  Qty display_qty{};                   // iceberg
  bool iceberg_native{true};           // iceberg: the venue's own where it offers one
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
