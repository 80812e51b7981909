// Composite order types built from venue orders: brackets (entry + stop-loss + take-profit, the exits
// one-cancels-other), take-profit ladders, and splitting a large order into child orders.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/error.hpp"
#include "core/fixed_point.hpp"
#include "oms/exec_report.hpp"
#include "oms/ids.hpp"
#include "oms/order_spec.hpp"
#include "risk/formulas.hpp"

namespace enigma::oms {

// How the engine works a position after its entry ([oms] in the run config). Every field off by default.
struct ExitPlan {
  static constexpr std::size_t kMaxLadderLegs = 4;
  static constexpr std::size_t kMaxSplitChildren = 8;
  // Take-profit ladder: leg i triggers at entry + ladder[i] x (take_profit - entry); the filled qty is split
  // over the legs with take_profit_ladder(). Ascending fractions in (0, 1]; 0 legs = one leg at the target.
  std::array<Rate, kMaxLadderLegs> ladder{};
  std::size_t ladder_legs{0};
  // Split an entry into child orders no larger than this fraction of the displayed qty at its level
  // (the far touch for an order that crosses). 0 = never split.
  Rate split_depth_fraction{};
  // Staircase trailing stop (risk::trailing_stop, ROI % at the run's leverage); step 0 = off.
  risk::TrailingStopParams trailing{};
  // Once ROI reaches this (%), the stop moves to break-even: entry plus the taker fee round trip and the
  // risk gate's break-even buffer. 0 = off.
  Rate break_even_trigger_roi_pct{};

  [[nodiscard]] bool manages_stops() const noexcept {
    return trailing.step_pct.raw() > 0 || break_even_trigger_roi_pct.raw() > 0;
  }
};

struct BracketParams {
  OrderRequest entry;   // side, qty, type (limit or market), tif, price, instrument, venue, strategy, leverage
  Price stop_loss;      // stop_market trigger, on the losing side of the entry reference price
  Price take_profit;    // take_profit_market trigger, on the winning side; 0 = no take-profit leg
  std::uint32_t oco_group{0};   // must be non-zero when take_profit is set
  std::uint32_t position_id{0};
};

struct Bracket {
  OrderSpec entry;
  OrderSpec stop_loss;    // reduce-only stop_market, opposite side, same qty
  OrderSpec take_profit;  // reduce-only take_profit_market, opposite side; qty 0 when absent
  [[nodiscard]] bool has_take_profit() const noexcept { return take_profit.req.qty.raw() > 0; }
};

// Builds the three legs with fresh client ids from `ids`. Errc::out_of_range when qty <= 0, the stop is
// not strictly on the losing side of the entry's reference price (long: below), the take-profit is not
// strictly on the winning side, or a take-profit has no oco group.
[[nodiscard]] Result<Bracket> make_bracket(const BracketParams& p, ClientIdGenerator& ids) noexcept;

// One-cancels-other bookkeeping for exit pairs: when one leg fills (even partially) or triggers, the
// other must be canceled, exactly once. Fixed capacity, allocation-free after construction.
class OcoTracker {
 public:
  explicit OcoTracker(std::size_t capacity);
  // Registers a pair; Errc::capacity when full, Errc::out_of_range for group 0.
  [[nodiscard]] Errc link(std::uint32_t group, const ClientOrderId& a, const ClientOrderId& b) noexcept;
  // Returns the sibling to cancel when `r` is the first fill/trigger of a leg of a live pair; the pair is
  // then done. Terminal reports without fills (our own cancel of a leg) retire the pair with no action.
  [[nodiscard]] std::optional<ClientOrderId> on_report(const ExecReport& r) noexcept;
  [[nodiscard]] std::size_t live_pairs() const noexcept;

 private:
  struct Pair {
    ClientOrderId a;
    ClientOrderId b;
    std::uint32_t group{0};
    bool live{false};
  };
  std::vector<Pair> pairs_;
};

// Splits `total` into take-profit ladder quantities, one per entry in `out`: each level gets
// floor(total / N) rounded down to `lot`, the last level gets the remainder. Errc::out_of_range when
// `out` is empty, lot <= 0, total is not a multiple of lot, or a level would get zero.
[[nodiscard]] Errc take_profit_ladder(Qty total, Qty lot, std::span<Qty> out) noexcept;

// Splits `total` into child orders of at most `max_child` (rounded down to `lot`), last child the
// remainder; writes them to `out` and returns the count. Errc::out_of_range for non-positive inputs or a
// total that is not a multiple of lot, Errc::capacity when `out` is too small.
[[nodiscard]] Result<std::size_t> split_order(Qty total, Qty max_child, Qty lot, std::span<Qty> out) noexcept;

}  // namespace enigma::oms
