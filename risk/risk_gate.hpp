// The pre-trade risk gate (RELIABILITY.md "Pre-trade controls"; MiFID II RTS 6 Art. 15, SEC 15c3-5).
//
// One object on the OMS thread sees every order before it leaves:
//   check_and_reserve(order)  validates a new order against every control and, when it passes, counts it
//                             at once (message budgets, working orders, worst-case position/exposure),
//                             before any acknowledgement;
//   check_modify / check_cancel  the same for amendments and cancels (cancels pass HALTED and the kill
//                             switch; they only need message budget);
//   on_ack / on_reject / on_cancel / on_fill  venue outcomes release or update what was reserved.
//
// Controls on a new order, in the order they are evaluated (first failure wins):
//   request sanity -> kill switch -> trading state -> strategy enabled -> circuit breaker -> duplicate
//   client id -> duplicate order -> reference price -> price collar -> max order qty -> max order notional
//   -> max position -> max exposure -> max concurrent positions -> max open orders -> leverage cap ->
//   liquidation buffer -> break-even -> venue budget -> strategy budget.
// An order "reduces" when it is on the opposite side of the instrument's position and, with the other
// working orders on that side, cannot flip it. Reducing orders pass REDUCING, the circuit breaker and a
// disabled strategy, and skip the position/exposure/leverage checks (they can only lower risk).
//
// Trading state latch: ACTIVE -> REDUCING (daily drawdown, or a person) -> HALTED (a person, or the
// emergency stop). Automatic transitions only escalate; only set_state() (a person) goes back.
//
// Hot-path members are noexcept, never allocate (fixed tables sized in the constructor and indexed by
// instrument/strategy id) and take time as an argument, so tests run on virtual time. Not thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/fixed_point.hpp"
#include "risk/circuit_breaker.hpp"
#include "risk/correlation.hpp"
#include "risk/flat_map.hpp"
#include "risk/kill_switch.hpp"
#include "risk/order_request.hpp"
#include "risk/reject_reason.hpp"
#include "risk/risk_config.hpp"
#include "risk/token_bucket.hpp"

namespace enigma::risk {

enum class TradingState : std::uint8_t { active, reducing, halted };
[[nodiscard]] std::string_view to_string(TradingState s) noexcept;

class RiskGate {
 public:
  // Validates the config (throws enigma::Error naming the field) and allocates every table. Message
  // budgets start full at `now_ns`.
  explicit RiskGate(const RiskConfig& cfg, std::int64_t now_ns = 0);

  // Cold path: limits for one instrument (validated; throws enigma::Error). Required before trading it.
  void set_instrument(InstrumentId id, const InstrumentLimits& limits);
  // Cold path, with [risk] correlation_window > 0: track the returns of instruments 0..instruments-1 (the
  // traded ones; at most ReturnCorrelation::kMaxInstruments) from on_trade_price.
  void track_correlation(std::size_t instruments);

  // ---- hot path -------------------------------------------------------------------------------------
  // Checks a new order; on acceptance reserves it (counts it against every limit and budget and enters
  // it in the kill switch's registry) so the caller must send it or report on_reject/on_cancel.
  [[nodiscard]] RiskDecision check_and_reserve(const OrderRequest& order, std::int64_t now_ns) noexcept;
  // The same checks without reserving or counting anything (a rejection is not counted either): the
  // trading core's warm-up dry run, which keeps the gate's code and state in cache between orders.
  [[nodiscard]] RiskDecision check_dry(const OrderRequest& order, std::int64_t now_ns) noexcept {
    dry_run_ = true;
    const RiskDecision d = check_and_reserve(order, now_ns);
    dry_run_ = false;
    return d;
  }
  // Checks an amendment of a working order to `new_price` (0 keeps a market/stop order's price) and
  // `new_remaining` (the new unfilled quantity); on acceptance applies it to the reservation.
  [[nodiscard]] RiskDecision check_modify(const ClientOrderId& id, Price new_price, Qty new_remaining,
                                          Price reference_price, std::int64_t now_ns) noexcept;
  // Checks a cancel of a working order (budget only). The order stays reserved until on_cancel.
  [[nodiscard]] RiskDecision check_cancel(const ClientOrderId& id, std::int64_t now_ns) noexcept;

  // Venue outcomes. Each returns false when the client id is not a working order (already final, or
  // never reserved here) and changes nothing then.
  bool on_ack(const ClientOrderId& id, std::int64_t now_ns) noexcept;     // breaker success
  bool on_reject(const ClientOrderId& id, std::int64_t now_ns) noexcept;  // releases; breaker failure
  bool on_cancel(const ClientOrderId& id, std::int64_t now_ns) noexcept;  // canceled or expired: releases
  // A (partial) fill: moves `qty` (capped at what is working) from the reservation into the position,
  // marks the instrument at `price`, and feeds the repeated-execution throttle.
  bool on_fill(const ClientOrderId& id, Price price, Qty qty, std::int64_t now_ns) noexcept;

  // A closed trade's realized PnL: feeds the consecutive-loss limit and the breaker's loss rate.
  void on_trade_closed(StrategyId strategy, Notional pnl, std::int64_t now_ns) noexcept;
  // Marked-to-market account equity; a drop of max_daily_drawdown from the start of day latches REDUCING.
  void update_equity(Notional equity, std::int64_t now_ns) noexcept;
  // Realized volatility of an instrument (fraction, e.g. 0.03); recomputes its leverage cap.
  void set_volatility(InstrumentId id, Rate volatility) noexcept;

  // ---- control plane (a person or the engine) --------------------------------------------------------
  // Start of a trading day: the drawdown reference. Does not clear a latched state.
  void start_day(Notional equity) noexcept { day_start_equity_ = equity; }
  void set_state(TradingState s) noexcept;
  [[nodiscard]] TradingState state() const noexcept { return state_; }
  // Why the state is not ACTIVE: reducing_only / daily_drawdown / halted; none when ACTIVE.
  [[nodiscard]] RejectReason state_cause() const noexcept { return state_cause_; }
  void disable_strategy(StrategyId s) noexcept;
  // A person re-enables a strategy stopped by hand, the fill throttle or the loss limit (counters reset).
  void enable_strategy(StrategyId s) noexcept;
  // none when enabled, else strategy_disabled / execution_throttle / consecutive_losses.
  [[nodiscard]] RejectReason strategy_block(StrategyId s) const noexcept { return strategies_[s].blocked; }
  // New orders strategy `s` may send on `v` at `now_ns` before a submit budget (strategy or venue) refuses
  // one: the fewer of the two buckets' whole tokens (refilled, nothing taken). An execution algorithm paces
  // its children by it, so each child's bracket legs fit the budget too.
  [[nodiscard]] std::int64_t submit_room(StrategyId s, Venue v, std::int64_t now_ns) noexcept {
    const auto vi = static_cast<std::size_t>(v);
    if (s >= strategies_.size() || vi >= kVenueCount) return 0;
    TokenBucket& sb = strategies_[s].submit;
    TokenBucket& vb = venues_[vi].submit;
    sb.refill(now_ns);
    vb.refill(now_ns);
    return std::min(sb.available(), vb.available());
  }
  // Start-up reconciliation: the venue's position and a mark price for an instrument.
  void set_position(InstrumentId id, Qty position, Price mark) noexcept;
  // Enters an order that bypassed the checks (emergency-stop closes) so its fills update the position.
  // False when the registry is full or the id is already working.
  bool register_forced(const OrderRequest& order, std::int64_t now_ns) noexcept;

  [[nodiscard]] KillSwitch& kill_switch() noexcept { return kill_; }
  [[nodiscard]] const KillSwitch& kill_switch() const noexcept { return kill_; }
  [[nodiscard]] CircuitBreaker& breaker() noexcept { return breaker_; }

  // ---- observation ---------------------------------------------------------------------------------
  [[nodiscard]] Qty position(InstrumentId id) const noexcept { return instruments_[id].position; }
  [[nodiscard]] Qty working_buy(InstrumentId id) const noexcept { return instruments_[id].open_buy; }
  [[nodiscard]] Qty working_sell(InstrumentId id) const noexcept { return instruments_[id].open_sell; }
  [[nodiscard]] Price mark(InstrumentId id) const noexcept { return instruments_[id].mark; }
  [[nodiscard]] Venue venue_of(InstrumentId id) const noexcept { return instruments_[id].venue; }
  [[nodiscard]] std::uint16_t leverage_cap(InstrumentId id) const noexcept { return instruments_[id].leverage_cap; }
  // Rolling correlation (track_correlation): a trade price at the run's clock; returns the intervals it closed
  // (the matrix changed when non-zero). No-op when not tracking.
  std::size_t on_trade_price(InstrumentId id, Price price, std::int64_t now_ns) noexcept {
    return correlation_ ? correlation_->on_price(id, price, now_ns) : 0;
  }
  [[nodiscard]] const ReturnCorrelation* correlation() const noexcept { return correlation_.get(); }
  // Other instruments holding a position or working orders whose correlation with `id` is at least the
  // threshold (0 when not tracking or not ready).
  [[nodiscard]] std::uint32_t correlated_engaged(InstrumentId id) const noexcept;
  // Worst-case exposure over all instruments (positions plus working orders, at each instrument's mark).
  [[nodiscard]] Notional total_exposure() const noexcept;
  // The same over one correlation group.
  [[nodiscard]] Notional group_exposure(std::uint8_t group) const noexcept;
  [[nodiscard]] std::uint32_t open_orders() const noexcept { return kill_.orders().size(); }
  [[nodiscard]] std::uint32_t engaged_instruments() const noexcept { return engaged_; }
  [[nodiscard]] std::uint64_t accepted_count() const noexcept { return accepted_; }
  [[nodiscard]] std::uint64_t reject_count(RejectReason r) const noexcept { return rejects_[static_cast<int>(r)]; }
  [[nodiscard]] std::uint32_t instrument_capacity() const noexcept { return static_cast<std::uint32_t>(instruments_.size()); }
  [[nodiscard]] const RiskConfig& config() const noexcept { return cfg_; }

 private:
  struct RecentOrder {
    std::int64_t at_ns{INT64_MIN / 2};
    Price price;
    Price stop_price;  // a bracket's stop and take-profit legs differ only here and in type
    Qty qty;
    StrategyId strategy{0};
    Side side{Side::buy};
    OrderType type{OrderType::limit};
  };
  static constexpr std::size_t kRecentPerInstrument = 4;

  struct InstrumentState {
    // Limits, fixed at set_instrument.
    std::int64_t multiplier_raw{Qty::kScale};
    Qty max_order_qty;
    Qty max_position_qty;
    Rate taker_fee;
    Rate mmr;
    Price tick{Price::from_raw(1)};
    Qty lot{Qty::from_raw(1)};
    std::uint16_t max_leverage{1};
    std::uint16_t leverage_cap{1};
    Venue venue{Venue::unknown};
    std::uint8_t group{0};
    bool configured{false};
    // Live state.
    Qty position;   // signed, from fills
    Qty open_buy;   // working buy quantity
    Qty open_sell;  // working sell quantity
    Price mark;     // last reference or fill price
    int128 exposure{0};  // worst-case |position incl. working| x mark x multiplier, in 1e-20 units
    std::array<RecentOrder, kRecentPerInstrument> recent{};
    std::uint8_t recent_head{0};
    bool engaged{false};  // has a position or working orders (counts toward max_concurrent_positions)
  };

  struct StrategyState {
    TokenBucket submit, modify, cancel;
    RejectReason blocked{RejectReason::none};
    std::uint32_t consecutive_losses{0};
    std::uint32_t fill_head{0};
    std::uint32_t fill_count{0};
  };

  struct VenueBudgets {
    TokenBucket submit, modify, cancel;
  };

  RiskDecision reject(RejectReason r) noexcept {
    if (!dry_run_) ++rejects_[static_cast<int>(r)];
    return RiskDecision{r};
  }
  [[nodiscard]] static bool reduces(const InstrumentState& in, Side side, Qty qty) noexcept;
  [[nodiscard]] int128 exposure_of(const InstrumentState& in, Qty buy, Qty sell, Price mark) const noexcept;
  void refresh_instrument(InstrumentState& in) noexcept;  // exposure + engaged count after a change
  void release(WorkingOrder& o) noexcept;                 // drop what a working order reserved
  void escalate(TradingState s, RejectReason cause) noexcept;
  void remember_client_id(std::uint64_t hash) noexcept;

  RiskConfig cfg_;
  bool dry_run_{false};  // check_dry: check_and_reserve stops before it commits, rejects are not counted
  int128 max_order_notional_pq_{0};  // limits in the 1e-20 exposure unit
  int128 max_exposure_pq_{0};
  std::vector<InstrumentState> instruments_;
  std::vector<StrategyState> strategies_;
  std::vector<std::int64_t> fill_times_;  // max_strategies x max_fills_in_window rings
  std::array<VenueBudgets, kVenueCount> venues_{};
  KillSwitch kill_;
  CircuitBreaker breaker_;
  detail::FlatMap64 recent_ids_;
  std::vector<std::uint64_t> recent_ring_;
  std::uint32_t recent_head_{0};
  std::uint32_t recent_count_{0};
  int128 total_exposure_{0};
  int128 max_group_exposure_pq_{0};  // 0: no group cap
  std::array<int128, RiskConfig::kMaxGroups> group_exposure_{};
  // Moves an instrument's worst-case exposure to `e`, keeping the account and group totals.
  void set_exposure(InstrumentState& in, int128 e) noexcept {
    total_exposure_ += e - in.exposure;
    group_exposure_[in.group] += e - in.exposure;
    in.exposure = e;
  }
  [[nodiscard]] bool over_group_cap(const InstrumentState& in, int128 new_exposure) const noexcept {
    return max_group_exposure_pq_ > 0 && in.group != 0 && group_exposure_[in.group] - in.exposure + new_exposure > max_group_exposure_pq_;
  }
  // [risk] correlation_window: the group of an opening order is every engaged instrument correlated with it.
  std::unique_ptr<ReturnCorrelation> correlation_;
  // Calls fn(j) for every other engaged instrument j whose return correlation with `id` reaches the
  // threshold (none before the correlation is ready): the correlated group of an entry on `id`.
  template <class Fn>
  void for_each_correlated_engaged(InstrumentId id, Fn&& fn) const noexcept {
    if (!correlation_ || !correlation_->ready()) return;
    for (std::size_t j = 0; j < correlation_->instruments(); ++j)
      if (j != id && instruments_[j].engaged && correlation_->rho(id, j) >= cfg_.correlation_threshold) fn(j);
  }
  [[nodiscard]] bool over_correlated_cap(InstrumentId id, int128 new_exposure) const noexcept;
  std::uint32_t engaged_{0};
  TradingState state_{TradingState::active};
  RejectReason state_cause_{RejectReason::none};
  Notional day_start_equity_;
  std::uint64_t accepted_{0};
  std::array<std::uint64_t, kRejectReasonCount> rejects_{};
};

}  // namespace enigma::risk
