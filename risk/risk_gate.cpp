#include "risk/risk_gate.hpp"

#include <string>

#include "core/error.hpp"
#include "risk/formulas.hpp"

namespace enigma::risk {

namespace {

// Exposure is kept as price_raw x base_qty_raw (1e-20 currency units) so limits compare by multiplication
// only. Each instrument's term saturates here (~1.27e10 currency units, above any valid limit), which
// keeps the sum of up to 65535 terms inside 128 bits.
constexpr int128 kExposureCap = static_cast<int128>(1) << 100;
constexpr int128 kPqPerNotionalRaw = 1'000'000'000'000;  // 1e12: 1e-20 units per Notional raw (1e-8)

constexpr int128 abs128(int128 v) noexcept { return v < 0 ? -v : v; }

constexpr bool engaged_now(Qty pos, Qty buy, Qty sell) noexcept {
  return !pos.is_zero() || buy.raw() > 0 || sell.raw() > 0;
}

}  // namespace

std::string_view to_string(TradingState s) noexcept {
  switch (s) {
    case TradingState::active: return "ACTIVE";
    case TradingState::reducing: return "REDUCING";
    case TradingState::halted: return "HALTED";
  }
  return "?";
}

RiskGate::RiskGate(const RiskConfig& cfg, std::int64_t now_ns)
    : cfg_((cfg.validate(), cfg)),
      instruments_(cfg.max_instruments),
      strategies_(cfg.max_strategies),
      fill_times_(static_cast<std::size_t>(cfg.max_strategies) * cfg.max_fills_in_window, 0),
      kill_(cfg.max_open_orders),
      breaker_(cfg.breaker),
      recent_ids_(cfg.recent_client_ids * 2),  // <= 25 % load: short probe runs for the miss on every new id
      recent_ring_(cfg.recent_client_ids, 0) {
  max_order_notional_pq_ = static_cast<int128>(cfg_.max_order_notional.raw()) * kPqPerNotionalRaw;
  max_exposure_pq_ = static_cast<int128>(cfg_.max_total_exposure.raw()) * kPqPerNotionalRaw;
  max_group_exposure_pq_ = static_cast<int128>(cfg_.max_group_exposure.raw()) * kPqPerNotionalRaw;
  for (VenueBudgets& v : venues_) {
    v.submit = TokenBucket(cfg_.venue_submit, now_ns);
    v.modify = TokenBucket(cfg_.venue_modify, now_ns);
    v.cancel = TokenBucket(cfg_.venue_cancel, now_ns);
  }
  for (StrategyState& s : strategies_) {
    s.submit = TokenBucket(cfg_.strategy_submit, now_ns);
    s.modify = TokenBucket(cfg_.strategy_modify, now_ns);
    s.cancel = TokenBucket(cfg_.strategy_cancel, now_ns);
  }
}

void RiskGate::set_instrument(InstrumentId id, const InstrumentLimits& limits) {
  if (id >= instruments_.size()) {
    throw Error("risk.instrument[" + std::to_string(id) + "]: id >= max_instruments (" +
                std::to_string(instruments_.size()) + ")");
  }
  limits.validate(id);
  InstrumentState& in = instruments_[id];
  in.multiplier_raw = limits.multiplier.raw();
  in.max_order_qty = limits.max_order_qty;
  in.max_position_qty = limits.max_position_qty;
  in.taker_fee = limits.taker_fee;
  in.mmr = limits.maintenance_margin_rate;
  in.tick = limits.tick;
  in.lot = limits.lot;
  in.max_leverage = limits.max_leverage;
  in.leverage_cap = limits.max_leverage;
  in.venue = limits.venue;
  in.group = limits.group;
  in.configured = true;
}

bool RiskGate::reduces(const InstrumentState& in, Side side, Qty qty) noexcept {
  // Opposite side of the position, and together with the other working orders on that side it cannot
  // flip the position: every fill can only bring it toward zero.
  if (side == Side::sell) return in.position.raw() > 0 && in.open_sell.raw() + qty.raw() <= in.position.raw();
  return in.position.raw() < 0 && in.open_buy.raw() + qty.raw() <= -in.position.raw();
}

int128 RiskGate::exposure_of(const InstrumentState& in, Qty buy, Qty sell, Price mark) const noexcept {
  const int128 up = abs128(static_cast<int128>(in.position.raw()) + buy.raw());
  const int128 down = abs128(static_cast<int128>(in.position.raw()) - sell.raw());
  int128 worst = up > down ? up : down;
  // Size units -> base units; skipped (no division) for the common multiplier of 1.
  if (in.multiplier_raw != Qty::kScale) worst = worst * in.multiplier_raw / Qty::kScale;
  if (worst > kExposureCap) return kExposureCap;
  const int128 term = worst * (mark.raw() < 0 ? 0 : mark.raw());
  return term > kExposureCap ? kExposureCap : term;
}

void RiskGate::refresh_instrument(InstrumentState& in) noexcept {
  set_exposure(in, exposure_of(in, in.open_buy, in.open_sell, in.mark));
  const bool now = engaged_now(in.position, in.open_buy, in.open_sell);
  if (now != in.engaged) {
    engaged_ = now ? engaged_ + 1 : engaged_ - 1;
    in.engaged = now;
  }
}

void RiskGate::remember_client_id(std::uint64_t hash) noexcept {
  const std::uint32_t cap = static_cast<std::uint32_t>(recent_ring_.size());
  if (recent_count_ == cap) {
    recent_ids_.erase(recent_ring_[recent_head_]);  // forget the oldest
  } else {
    ++recent_count_;
  }
  recent_ring_[recent_head_] = hash;
  recent_ids_.insert(hash, 0);
  recent_head_ = recent_head_ + 1 == cap ? 0 : recent_head_ + 1;
}

RiskDecision RiskGate::check_and_reserve(const OrderRequest& o, std::int64_t now_ns) noexcept {
  // -- request sanity
  if (o.instrument >= instruments_.size()) [[unlikely]] return reject(RejectReason::unknown_instrument);
  InstrumentState& in = instruments_[o.instrument];
  if (!in.configured) [[unlikely]] return reject(RejectReason::unknown_instrument);
  const auto venue_idx = static_cast<std::size_t>(o.venue);
  if (o.strategy >= strategies_.size() || o.qty.raw() <= 0 || o.price.raw() < 0 || o.leverage == 0 ||
      venue_idx == 0 || venue_idx >= kVenueCount || o.client_id.empty() ||
      (o.type == OrderType::limit && o.price.is_zero())) [[unlikely]] {
    return reject(RejectReason::invalid_request);
  }
  // A reduce-only order against the position is reducing even when other exits (a bracket's stop and
  // take-profit) already cover it: the venue caps its fill at the position, so it can never flip it.
  const bool opposes = o.side == Side::sell ? in.position.raw() > 0 : in.position.raw() < 0;
  const bool reducing = reduces(in, o.side, o.qty) || (o.reduce_only && opposes);
  // -- latches: a latched kill switch and HALTED block new risk, never the reduce-only orders that flatten
  // or protect a position (RELIABILITY.md "Protection through every stop").
  const bool protective_exit = o.reduce_only && opposes;
  if (kill_.latched() && kill_.blocks(o.venue, o.strategy, o.instrument) && !protective_exit)
    return reject(RejectReason::kill_switch);
  if (state_ == TradingState::halted && !protective_exit) return reject(RejectReason::halted);
  if (state_ == TradingState::reducing && !reducing) return reject(state_cause_);
  StrategyState& st = strategies_[o.strategy];
  if (st.blocked != RejectReason::none && !reducing) return reject(st.blocked);
  if (!reducing && breaker_.state(now_ns) == BreakerState::open) return reject(RejectReason::circuit_open);
  // -- duplicates
  const std::uint64_t hash = o.client_id.hash();
  if (recent_ids_.contains(hash) || kill_.orders().contains_hash(hash)) return reject(RejectReason::duplicate_client_id);
  // Children of one entry split by book depth are equal on purpose: they are not repeats.
  if (!o.split_child) for (const RecentOrder& r : in.recent) {
    if (now_ns - r.at_ns < cfg_.duplicate_window_ns && r.qty == o.qty && r.price == o.price && r.side == o.side &&
        r.strategy == o.strategy && r.type == o.type && r.stop_price == o.stop_price) {
      return reject(RejectReason::duplicate_order);
    }
  }
  // -- price and size
  const Price ref = o.reference_price;
  if (ref.raw() <= 0) return reject(RejectReason::no_reference_price);
  if (!o.price.is_zero()) {
    const int128 dist = abs128(static_cast<int128>(o.price.raw()) - ref.raw());
    if (dist * 10'000 > static_cast<int128>(cfg_.price_collar_bps) * ref.raw()) return reject(RejectReason::price_collar);
  }
  // The instrument's grid: the venue would refuse such an order anyway, only later (after a round trip).
  if (!o.qty.is_multiple_of(in.lot)) return reject(RejectReason::off_lot);
  if (!o.price.is_multiple_of(in.tick) || !o.stop_price.is_multiple_of(in.tick)) return reject(RejectReason::off_tick);
  if (o.qty > in.max_order_qty) return reject(RejectReason::max_order_qty);
  const Price value_px = o.price.is_zero() ? ref : o.price;
  int128 base_qty = o.qty.raw();
  if (in.multiplier_raw != Qty::kScale) base_qty = base_qty * in.multiplier_raw / Qty::kScale;
  if (base_qty * value_px.raw() > max_order_notional_pq_) return reject(RejectReason::max_order_notional);
  // -- position, exposure, concurrency (orders count as soon as they are sent: working qty included)
  const Qty new_buy = o.side == Side::buy ? in.open_buy + o.qty : in.open_buy;
  const Qty new_sell = o.side == Side::sell ? in.open_sell + o.qty : in.open_sell;
  const int128 new_exposure = exposure_of(in, new_buy, new_sell, ref);
  if (!reducing) {
    const int128 long_side = static_cast<int128>(in.position.raw()) + new_buy.raw();
    const int128 short_side = static_cast<int128>(new_sell.raw()) - in.position.raw();
    if ((o.side == Side::buy ? long_side : short_side) > in.max_position_qty.raw()) {
      return reject(RejectReason::max_position);
    }
    if (total_exposure_ - in.exposure + new_exposure > max_exposure_pq_) return reject(RejectReason::max_exposure);
    if (over_group_cap(in, new_exposure)) return reject(RejectReason::max_group_exposure);
    if (over_correlated_cap(o.instrument, new_exposure)) return reject(RejectReason::correlated_exposure);
    if (cfg_.max_concurrent_positions != 0 && !in.engaged && engaged_ >= cfg_.max_concurrent_positions) return reject(RejectReason::max_positions);
  }
  if (kill_.orders().size() >= cfg_.max_open_orders) return reject(RejectReason::max_open_orders);
  // -- leverage safety (opening orders)
  if (!reducing) {
    if (o.leverage > in.leverage_cap) return reject(RejectReason::leverage_cap);
    const Price entry = value_px;
    if (o.leverage > 1) {
      if (o.stop_loss.is_zero()) {
        if (cfg_.require_stop_loss) return reject(RejectReason::missing_stop_loss);
      } else {
        const Result<Price> liq = liquidation_price(entry, o.leverage, in.mmr, o.side, in.tick);
        // The stop must fire at least min_liquidation_buffer of the entry->liquidation distance before
        // liquidation: (stop - liq) >= buffer x (entry - liq) for a long, mirrored for a short.
        const int128 stop_gap = o.side == Side::buy ? static_cast<int128>(o.stop_loss.raw()) - liq.value.raw()
                                                    : static_cast<int128>(liq.value.raw()) - o.stop_loss.raw();
        const int128 liq_gap = abs128(static_cast<int128>(entry.raw()) - liq.value.raw());
        if (!liq.ok() || stop_gap * Rate::kScale < liq_gap * cfg_.min_liquidation_buffer.raw()) {
          return reject(RejectReason::liquidation_buffer);
        }
      }
    }
    if (!o.take_profit.is_zero()) {
      // Target ROI (%) = |tp - entry| / entry x L x 100 must reach the fee round trip plus buffer; compared
      // cross-multiplied so no division is needed.
      const int128 gain = o.side == Side::buy ? static_cast<int128>(o.take_profit.raw()) - entry.raw()
                                              : static_cast<int128>(entry.raw()) - o.take_profit.raw();
      const Rate be = break_even_roi_pct(in.taker_fee, o.leverage, cfg_.break_even_buffer_pct);
      if (gain * o.leverage * 100 * Rate::kScale < static_cast<int128>(be.raw()) * entry.raw()) {
        return reject(RejectReason::below_break_even);
      }
    }
  }
  // -- message budgets (checked last, consumed only when everything else passed)
  VenueBudgets& vb = venues_[venue_idx];
  if (!vb.submit.can_take(now_ns)) return reject(RejectReason::venue_rate_limit);
  if (!st.submit.can_take(now_ns)) return reject(RejectReason::strategy_rate_limit);

  if (dry_run_) return RiskDecision{};  // check_dry: nothing below may change the gate's state
  // -- commit: the order counts from now on (filled in place: no temporary copy of the 48-byte id)
  WorkingOrder* w = kill_.orders().emplace(o.client_id, hash);
  if (w == nullptr) [[unlikely]] return reject(RejectReason::max_open_orders);
  w->price = o.price;
  w->remaining = o.qty;
  w->instrument = o.instrument;
  w->strategy = o.strategy;
  w->venue = o.venue;
  w->side = o.side;
  w->type = o.type;
  w->reduce_only = o.reduce_only;
  w->acknowledged = false;
  vb.submit.take();
  st.submit.take();
  remember_client_id(hash);
  RecentOrder& slot = in.recent[in.recent_head];
  // Field by field: an aggregate temporary here costs a store-forwarding stall on the copy.
  slot.at_ns = now_ns;
  slot.price = o.price;
  slot.stop_price = o.stop_price;
  slot.qty = o.qty;
  slot.strategy = o.strategy;
  slot.side = o.side;
  slot.type = o.type;
  in.recent_head = static_cast<std::uint8_t>((in.recent_head + 1) % kRecentPerInstrument);
  in.open_buy = new_buy;
  in.open_sell = new_sell;
  in.mark = ref;
  set_exposure(in, new_exposure);
  if (!in.engaged) {
    in.engaged = true;
    ++engaged_;
  }
  ++accepted_;
  return RiskDecision{};
}

RiskDecision RiskGate::check_modify(const ClientOrderId& id, Price new_price, Qty new_remaining,
                                    Price reference_price, std::int64_t now_ns) noexcept {
  WorkingOrder* w = kill_.orders().find(id);
  if (w == nullptr) return reject(RejectReason::unknown_order);
  if (new_remaining.raw() <= 0 || new_price.raw() < 0) return reject(RejectReason::invalid_request);
  InstrumentState& in = instruments_[w->instrument];
  // Moving a protective exit (a trailing stop, break-even) passes the latches like the exit itself.
  const bool protective_exit = w->reduce_only && (w->side == Side::sell ? in.position.raw() > 0 : in.position.raw() < 0);
  if (kill_.latched() && kill_.blocks(w->venue, w->strategy, w->instrument) && !protective_exit)
    return reject(RejectReason::kill_switch);
  if (state_ == TradingState::halted && !protective_exit) return reject(RejectReason::halted);
  const Qty delta = new_remaining - w->remaining;
  // Shrinking an order only lowers risk; growing it is judged like a new order of the extra quantity.
  const bool grows = delta.raw() > 0;
  const bool reducing = !grows || reduces(in, w->side, delta);
  if (state_ == TradingState::reducing && !reducing) return reject(state_cause_);
  StrategyState& st = strategies_[w->strategy];
  if (st.blocked != RejectReason::none && !reducing) return reject(st.blocked);
  if (!reducing && breaker_.state(now_ns) == BreakerState::open) return reject(RejectReason::circuit_open);
  const Price ref = reference_price;
  if (ref.raw() <= 0) return reject(RejectReason::no_reference_price);
  const Price price = new_price.is_zero() ? w->price : new_price;
  if (!price.is_zero()) {
    const int128 dist = abs128(static_cast<int128>(price.raw()) - ref.raw());
    if (dist * 10'000 > static_cast<int128>(cfg_.price_collar_bps) * ref.raw()) return reject(RejectReason::price_collar);
  }
  if (!new_remaining.is_multiple_of(in.lot)) return reject(RejectReason::off_lot);
  if (!price.is_multiple_of(in.tick)) return reject(RejectReason::off_tick);
  if (new_remaining > in.max_order_qty) return reject(RejectReason::max_order_qty);
  const Price value_px = price.is_zero() ? ref : price;
  int128 base_qty = new_remaining.raw();
  if (in.multiplier_raw != Qty::kScale) base_qty = base_qty * in.multiplier_raw / Qty::kScale;
  if (base_qty * value_px.raw() > max_order_notional_pq_) return reject(RejectReason::max_order_notional);
  const Qty new_buy = w->side == Side::buy ? in.open_buy + delta : in.open_buy;
  const Qty new_sell = w->side == Side::sell ? in.open_sell + delta : in.open_sell;
  const int128 new_exposure = exposure_of(in, new_buy, new_sell, ref);
  if (!reducing) {
    const int128 long_side = static_cast<int128>(in.position.raw()) + new_buy.raw();
    const int128 short_side = static_cast<int128>(new_sell.raw()) - in.position.raw();
    if ((w->side == Side::buy ? long_side : short_side) > in.max_position_qty.raw()) {
      return reject(RejectReason::max_position);
    }
    if (total_exposure_ - in.exposure + new_exposure > max_exposure_pq_) return reject(RejectReason::max_exposure);
    if (over_group_cap(in, new_exposure)) return reject(RejectReason::max_group_exposure);
  }
  VenueBudgets& vb = venues_[static_cast<std::size_t>(w->venue)];
  if (!vb.modify.can_take(now_ns)) return reject(RejectReason::venue_rate_limit);
  if (!st.modify.can_take(now_ns)) return reject(RejectReason::strategy_rate_limit);
  vb.modify.take();
  st.modify.take();
  w->price = price;
  w->remaining = new_remaining;
  in.open_buy = new_buy;
  in.open_sell = new_sell;
  in.mark = ref;
  set_exposure(in, new_exposure);
  ++accepted_;
  return RiskDecision{};
}

RiskDecision RiskGate::check_cancel(const ClientOrderId& id, std::int64_t now_ns) noexcept {
  const WorkingOrder* w = kill_.orders().find(id);
  if (w == nullptr) return reject(RejectReason::unknown_order);
  VenueBudgets& vb = venues_[static_cast<std::size_t>(w->venue)];
  StrategyState& st = strategies_[w->strategy];
  if (!vb.cancel.can_take(now_ns)) return reject(RejectReason::venue_rate_limit);
  if (!st.cancel.can_take(now_ns)) return reject(RejectReason::strategy_rate_limit);
  vb.cancel.take();
  st.cancel.take();
  ++accepted_;
  return RiskDecision{};
}

void RiskGate::release(WorkingOrder& o) noexcept {
  InstrumentState& in = instruments_[o.instrument];
  if (o.side == Side::buy) {
    in.open_buy -= o.remaining;
  } else {
    in.open_sell -= o.remaining;
  }
  kill_.orders().remove(o.id, o.hash);  // compares the id before the slot is reused; `o` is gone after
  refresh_instrument(in);
}

bool RiskGate::on_ack(const ClientOrderId& id, std::int64_t now_ns) noexcept {
  WorkingOrder* w = kill_.orders().find(id);
  if (w == nullptr) return false;
  w->acknowledged = true;
  breaker_.record_success(now_ns);
  return true;
}

bool RiskGate::on_reject(const ClientOrderId& id, std::int64_t now_ns) noexcept {
  WorkingOrder* w = kill_.orders().find(id);
  if (w == nullptr) return false;
  release(*w);
  breaker_.record_failure(now_ns);
  return true;
}

bool RiskGate::on_cancel(const ClientOrderId& id, std::int64_t now_ns) noexcept {
  WorkingOrder* w = kill_.orders().find(id);
  if (w == nullptr) return false;
  release(*w);
  return true;
}

bool RiskGate::on_fill(const ClientOrderId& id, Price price, Qty qty, std::int64_t now_ns) noexcept {
  WorkingOrder* w = kill_.orders().find(id);
  if (w == nullptr || qty.raw() <= 0) return false;
  InstrumentState& in = instruments_[w->instrument];
  const Qty fill = qty < w->remaining ? qty : w->remaining;
  if (w->side == Side::buy) {
    in.position += fill;
    in.open_buy -= fill;
  } else {
    in.position -= fill;
    in.open_sell -= fill;
  }
  if (price.raw() > 0) in.mark = price;
  w->remaining -= fill;
  const StrategyId sid = w->strategy;
  if (w->remaining.raw() <= 0) kill_.orders().remove(id, w->hash);
  refresh_instrument(in);

  // Repeated-execution throttle: ring of the last N fill times; N fills within the window disable it.
  StrategyState& st = strategies_[sid];
  const std::uint32_t n = cfg_.max_fills_in_window;
  std::int64_t* ring = fill_times_.data() + static_cast<std::size_t>(sid) * n;
  ring[st.fill_head] = now_ns;
  st.fill_head = st.fill_head + 1 == n ? 0 : st.fill_head + 1;
  if (st.fill_count < n) ++st.fill_count;
  // After the write, fill_head points at the oldest of the last n fills.
  if (st.fill_count == n && now_ns - ring[st.fill_head] <= cfg_.fill_window_ns &&
      st.blocked == RejectReason::none) {
    st.blocked = RejectReason::execution_throttle;
  }
  return true;
}

void RiskGate::on_trade_closed(StrategyId strategy, Notional pnl, std::int64_t now_ns) noexcept {
  const bool loss = pnl.raw() < 0;
  breaker_.record_trade(loss, now_ns);
  if (strategy >= strategies_.size()) return;
  StrategyState& st = strategies_[strategy];
  if (!loss) {
    st.consecutive_losses = 0;
    return;
  }
  if (++st.consecutive_losses >= cfg_.max_consecutive_losses && st.blocked == RejectReason::none) {
    st.blocked = RejectReason::consecutive_losses;
  }
}

void RiskGate::update_equity(Notional equity, std::int64_t now_ns) noexcept {
  const std::int64_t start = day_start_equity_.raw();
  if (start <= 0) return;
  // (start - equity) / start >= max drawdown, cross-multiplied.
  const int128 drop = static_cast<int128>(start) - equity.raw();
  if (drop * Rate::kScale >= static_cast<int128>(cfg_.max_daily_drawdown.raw()) * start) {
    escalate(TradingState::reducing, RejectReason::daily_drawdown);
  }
}

void RiskGate::set_volatility(InstrumentId id, Rate volatility) noexcept {
  if (id >= instruments_.size()) return;
  InstrumentState& in = instruments_[id];
  in.leverage_cap = volatility_leverage_cap(in.max_leverage, cfg_.reference_volatility, volatility);
}

void RiskGate::escalate(TradingState s, RejectReason cause) noexcept {
  if (static_cast<int>(s) <= static_cast<int>(state_)) return;  // automatic changes never de-escalate
  state_ = s;
  state_cause_ = cause;
}

void RiskGate::set_state(TradingState s) noexcept {
  state_ = s;
  switch (s) {
    case TradingState::active: state_cause_ = RejectReason::none; break;
    case TradingState::reducing: state_cause_ = RejectReason::reducing_only; break;
    case TradingState::halted: state_cause_ = RejectReason::halted; break;
  }
}

void RiskGate::disable_strategy(StrategyId s) noexcept {
  if (s < strategies_.size()) strategies_[s].blocked = RejectReason::strategy_disabled;
}

void RiskGate::enable_strategy(StrategyId s) noexcept {
  if (s >= strategies_.size()) return;
  StrategyState& st = strategies_[s];
  st.blocked = RejectReason::none;
  st.consecutive_losses = 0;
  st.fill_count = 0;
  st.fill_head = 0;
}

void RiskGate::set_position(InstrumentId id, Qty position, Price mark) noexcept {
  if (id >= instruments_.size()) return;
  InstrumentState& in = instruments_[id];
  in.position = position;
  if (mark.raw() > 0) in.mark = mark;
  refresh_instrument(in);
}

bool RiskGate::register_forced(const OrderRequest& o, std::int64_t now_ns) noexcept {
  if (o.instrument >= instruments_.size() || o.qty.raw() <= 0) return false;
  WorkingOrder w;
  w.id = o.client_id;
  w.hash = o.client_id.hash();
  w.price = o.price;
  w.remaining = o.qty;
  w.instrument = o.instrument;
  w.strategy = o.strategy;
  w.venue = o.venue;
  w.side = o.side;
  w.type = o.type;
  w.reduce_only = o.reduce_only;
  if (!kill_.orders().add(w)) return false;
  remember_client_id(w.hash);
  InstrumentState& in = instruments_[o.instrument];
  if (o.side == Side::buy) {
    in.open_buy += o.qty;
  } else {
    in.open_sell += o.qty;
  }
  if (o.reference_price.raw() > 0) in.mark = o.reference_price;
  refresh_instrument(in);
  return true;
}

void RiskGate::track_correlation(std::size_t instruments) {
  if (cfg_.correlation_window == 0) return;
  correlation_ = std::make_unique<ReturnCorrelation>(instruments, cfg_.correlation_window, cfg_.correlation_interval_ns);
}

std::uint32_t RiskGate::correlated_engaged(InstrumentId id) const noexcept {
  std::uint32_t n = 0;
  for_each_correlated_engaged(id, [&](std::size_t) { ++n; });
  return n;
}

bool RiskGate::over_correlated_cap(InstrumentId id, int128 new_exposure) const noexcept {
  if (max_group_exposure_pq_ == 0) return false;
  int128 group = new_exposure;
  for_each_correlated_engaged(id, [&](std::size_t j) { group += instruments_[j].exposure; });
  return group > max_group_exposure_pq_;
}

Notional RiskGate::group_exposure(std::uint8_t group) const noexcept {
  if (group >= RiskConfig::kMaxGroups) return Notional{};
  return Notional::from_raw(static_cast<std::int64_t>(group_exposure_[group] / kPqPerNotionalRaw));
}

Notional RiskGate::total_exposure() const noexcept {
  return Notional::from_raw(static_cast<std::int64_t>(total_exposure_ / kPqPerNotionalRaw));
}

}  // namespace enigma::risk
