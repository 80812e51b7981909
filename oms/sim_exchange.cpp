#include "oms/sim_exchange.hpp"

#include <algorithm>
#include <limits>

namespace enigma::oms {
namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

bool is_perpetual(const InstrumentSpec& s) noexcept {
  return s.kind == InstrumentKind::linear_perpetual || s.kind == InstrumentKind::inverse_perpetual;
}

// notional x rate, rounded to the Notional resolution (Rate has 10 decimals).
Notional apply_rate(Notional n, Rate r) noexcept {
  return Notional::from_raw(static_cast<std::int64_t>(
      div_round(static_cast<int128>(n.raw()) * r.raw(), Rate::kScale, Rounding::nearest)));
}

// Scales `n` by num/den (den > 0) in 128 bits.
Notional scale(Notional n, std::int64_t num, std::int64_t den) noexcept {
  return Notional::from_raw(static_cast<std::int64_t>(
      div_round(static_cast<int128>(n.raw()) * num, den, Rounding::nearest)));
}

Notional value_of(Price px, Qty q, Qty multiplier) noexcept {
  const auto n = notional_of(px, q, multiplier);
  return n.ok() ? n.value : Notional::max();
}

}  // namespace

SimExchange::SimExchange(const InstrumentRegistry& registry, SimConfig cfg)
    : registry_(registry),
      cfg_(cfg),
      orders_(cfg.max_orders),
      index_(static_cast<std::uint32_t>(cfg.max_orders)),
      actions_(cfg.max_orders * 2),
      reports_(static_cast<Pending*>(::operator new(cfg.max_reports * sizeof(Pending), std::align_val_t{alignof(Pending)}))),
      report_cap_(cfg.max_reports),
      latency_([&] {
        LatencyModelConfig m = cfg.order_latency_model;
        if (m.dist == LatencyDist::constant) m.a_ns = cfg.order_latency_ns;
        return m;
      }()),
      report_latency_ns_(cfg.feed_latency_ns) {
  if (cfg.max_orders == 0 || cfg.max_levels == 0 || cfg.max_reports == 0) {
    throw Error("sim exchange: max_orders, max_levels and max_reports must be > 0");
  }
  if (cfg.order_latency_ns < 0 || cfg.feed_latency_ns < 0 || cfg.funding_interval_ns < 0) {
    throw Error("sim exchange: latencies and funding interval must be >= 0");
  }
  books_.reserve(registry.size());
  for (std::size_t i = 0; i < registry.size(); ++i) books_.emplace_back(cfg.max_levels);
  free_slots_.reserve(cfg.max_orders);
  for (std::size_t i = cfg.max_orders; i-- > 0;) free_slots_.push_back(static_cast<std::uint32_t>(i));
  live_.reserve(cfg.max_orders);
  account_.balance = cfg.initial_balance;
  latency_rows_.reserve(cfg.max_latency_rows);
  funding_rows_.reserve(cfg.max_funding_rows);
}

std::int64_t SimExchange::arrival_of(const ClientOrderId& id, std::int64_t now_ns, bool cancel) noexcept {
  // One ordered connection: a message never reaches the matching engine before an earlier one.
  const std::int64_t draw = latency_.next();
  latency_hist_.record(draw);
  if (now_ns + draw < last_arrival_ns_) ++held_back_;
  const std::int64_t arrival = std::max(now_ns + draw, last_arrival_ns_);
  last_arrival_ns_ = arrival;
  if (latency_rows_.size() < latency_rows_.capacity())
    latency_rows_.push_back({id, now_ns, arrival, cancel});
  else
    ++dropped_latency_rows_;
  return arrival;
}

// ---- book ----------------------------------------------------------------------------------------

namespace {

}  // namespace

Qty SimExchange::level_qty(InstrumentId id, Side side, Price px) const noexcept {
  if (id >= books_.size()) return Qty{};
  const BookSide& s = side == Side::buy ? books_[id].bids : books_[id].asks;
  return s.qty_at(px);
}

void SimExchange::apply_level(Book& b, InstrumentId id, const BookLevel& l, std::int64_t t) noexcept {
  BookSide& s = l.side == Side::buy ? b.bids : b.asks;
  Qty old_qty{};
  if (!s.set(l.price, l.qty, &old_qty)) {
    // Full side: a level better than the worst replaces it; a worse one is dropped (both counted).
    if (s.better(l.price, s.worst()->price)) {
      s.pop_worst();
      (void)s.set(l.price, l.qty, &old_qty);
    }
    ++dropped_levels_;
  }

  // Queue accounting for our resting orders at this price (not while a snapshot is being rebuilt).
  if (b.pending_levels == 0) {
    const Qty new_qty = l.qty.raw() > 0 ? l.qty : Qty{};
    for (const std::uint32_t slot : live_) {
      Order& o = orders_[slot];
      const OrderRequest& r = o.spec.req;
      if (o.phase != OrderPhase::resting || r.instrument != id || r.side != l.side || r.price != l.price) continue;
      if (new_qty < old_qty) {
        const Qty drop = old_qty - new_qty;
        const Qty by_trades = std::min(drop, o.traded_at_level);
        o.traded_at_level -= by_trades;
        const Qty by_cancels = drop - by_trades;
        if (cfg_.cancels_proportional_from_ahead && by_cancels.raw() > 0 && old_qty.raw() > 0) {
          const auto part = static_cast<std::int64_t>(static_cast<int128>(by_cancels.raw()) *
                                                      o.queue_ahead.raw() / old_qty.raw());
          o.queue_ahead -= Qty::from_raw(part);
        }
      }
      // Displayed qty below our queue ahead proves that much left from ahead of us.
      if (o.queue_ahead > new_qty) o.queue_ahead = new_qty;
    }
  } else {
    --b.pending_levels;
  }
  check_crossed_resting(b, id, t);
}

void SimExchange::check_crossed_resting(Book& b, InstrumentId id, std::int64_t t) noexcept {
  for (std::size_t k = 0; k < live_.size();) {
    const std::uint32_t slot = live_[k];
    Order& o = orders_[slot];
    const OrderRequest& r = o.spec.req;
    bool crossed = false;
    if (o.phase == OrderPhase::resting && r.instrument == id) {
      // The opposite side trading through our price means those sellers (buyers) would have hit us first.
      crossed = r.side == Side::buy ? !b.asks.empty() && b.asks.best()->price < r.price
                                    : !b.bids.empty() && b.bids.best()->price > r.price;
    }
    if (crossed) {
      fill(slot, r.qty - o.filled, r.price, true, t);  // may release the slot and shrink live_
      continue;
    }
    ++k;
  }
}

// ---- time ----------------------------------------------------------------------------------------

void SimExchange::apply_funding(Book& b, InstrumentId id, std::int64_t t) noexcept {
  const InstrumentSpec& spec = registry_.get(id);
  const Price px = b.mark.raw() > 0 ? b.mark : b.last_trade;
  const Rate rate = b.has_funding_feed ? b.funding_rate : cfg_.scheduled_funding_rate;
  SimPosition& p = b.position;
  if (p.qty.raw() != 0 && px.raw() > 0) {
    const Notional value = value_of(px, p.qty.abs(), spec.multiplier);
    // Longs pay a positive rate, shorts receive it.
    const Notional pay = p.qty.raw() > 0 ? apply_rate(value, rate) : -apply_rate(value, rate);
    p.funding += pay;
    account_.funding_paid += pay;
    account_.balance -= pay;
    if (funding_rows_.size() < funding_rows_.capacity())
      funding_rows_.push_back({t, b.fills, id, p.qty, px, rate, pay});
    else
      unkept_funding_ += pay;
  }
  if (b.has_funding_feed) {
    b.next_funding_ns = 0;  // the feed announces the next one
  } else {
    b.next_funding_ns = t + cfg_.funding_interval_ns;
  }
}

void SimExchange::process_until(std::int64_t t) noexcept {
  if (t < no_funding_before_ns_ && (action_count_ == 0 || actions_[action_head_].at_ns > t)) [[likely]] {
    now_ns_ = std::max(now_ns_, t);
    return;
  }
  for (;;) {
    const std::int64_t ta = action_count_ > 0 ? actions_[action_head_].at_ns : kNever;
    std::int64_t tf = kNever;
    std::size_t fi = 0;
    for (std::size_t i = 0; i < books_.size(); ++i) {
      Book& b = books_[i];
      if (!is_perpetual(registry_.get(static_cast<InstrumentId>(i)))) continue;
      if (!b.has_funding_feed && cfg_.funding_interval_ns > 0 && b.next_funding_ns == 0) {
        // First epoch-aligned funding time after the exchange's current time (nothing happened before it).
        const std::int64_t from = now_ns_ > 0 ? now_ns_ : t;
        b.next_funding_ns = (from / cfg_.funding_interval_ns + 1) * cfg_.funding_interval_ns;
      }
      if (b.next_funding_ns > 0 && b.next_funding_ns < tf) {
        tf = b.next_funding_ns;
        fi = i;
      }
    }
    if (ta > t && tf > t) {
      no_funding_before_ns_ = tf;
      break;
    }
    if (ta <= tf) {
      const Action a = actions_[action_head_];
      action_head_ = (action_head_ + 1) % actions_.size();
      --action_count_;
      now_ns_ = std::max(now_ns_, a.at_ns);
      if (a.is_cancel) on_cancel_arrival(a, a.at_ns);
      else on_arrival(a.order, a.at_ns);
    } else {
      now_ns_ = std::max(now_ns_, tf);
      apply_funding(books_[fi], static_cast<InstrumentId>(fi), tf);
    }
  }
  now_ns_ = std::max(now_ns_, t);
}

void SimExchange::advance(std::int64_t exch_time_ns) noexcept { process_until(exch_time_ns); }

void SimExchange::on_event(const Event& e, std::int64_t t) noexcept {
  process_until(t);
  const InstrumentId id = e.h.instrument;
  if (id >= books_.size()) return;
  Book& b = books_[id];
  switch (e.h.type) {
    case EventType::book_batch:
      b.has_depth = true;
      if (e.batch.kind == BookBatchKind::snapshot) {
        b.bids.clear();
        b.asks.clear();
        b.pending_levels = e.batch.level_count;
      }
      break;
    case EventType::book_level:
      b.has_depth = true;
      apply_level(b, id, e.level, t);
      break;
    case EventType::trade:
      on_trade(b, id, e.trade, t);
      break;
    case EventType::bbo:
      if (!b.has_depth) {
        b.bids.clear();
        b.asks.clear();
        (void)b.bids.set(e.bbo.bid_price, e.bbo.bid_qty);
        (void)b.asks.set(e.bbo.ask_price, e.bbo.ask_qty);
        check_crossed_resting(b, id, t);
      }
      break;
    case EventType::mark:
      if (e.mark.mark_price.raw() > 0) b.mark = e.mark.mark_price;
      if (e.mark.next_funding_time_ns > 0) {
        b.has_funding_feed = true;
        b.funding_rate = e.mark.funding_rate;
        no_funding_before_ns_ = INT64_MIN;  // the schedule may have changed: rescan
        // Only a funding time still ahead of us schedules a payment (repeats of a paid one do not).
        if (e.mark.next_funding_time_ns > t) b.next_funding_ns = e.mark.next_funding_time_ns;
      }
      break;
    default:
      break;
  }
}

// ---- orders --------------------------------------------------------------------------------------

SimExchange::Order* SimExchange::find(const ClientOrderId& id) noexcept {
  const std::uint32_t* slot = index_.find(id.hash());
  if (slot == nullptr || !(orders_[*slot].spec.req.client_id == id)) return nullptr;
  return &orders_[*slot];
}
const SimExchange::Order* SimExchange::find(const ClientOrderId& id) const noexcept {
  const std::uint32_t* slot = index_.find(id.hash());
  if (slot == nullptr || !(orders_[*slot].spec.req.client_id == id)) return nullptr;
  return &orders_[*slot];
}

Qty SimExchange::queue_ahead(const ClientOrderId& id) const noexcept {
  const Order* o = find(id);
  return o != nullptr && o->phase == OrderPhase::resting ? o->queue_ahead : Qty{};
}

Errc SimExchange::submit(const OrderSpec& spec, std::int64_t now_ns) noexcept {
  if (spec.req.instrument >= books_.size() || spec.req.qty.raw() <= 0) return Errc::out_of_range;
  if (free_slots_.empty() || action_count_ == actions_.size()) return Errc::capacity;
  const std::uint32_t slot = free_slots_.back();
  free_slots_.pop_back();
  Order& o = orders_[slot];
  o = Order{};
  o.spec = spec;
  o.arrival_ns = arrival_of(spec.req.client_id, now_ns, false);
  o.venue_id = next_venue_id_++;
  o.phase = OrderPhase::in_flight;
  index_.insert(spec.req.client_id.hash(), slot);
  actions_[(action_head_ + action_count_) % actions_.size()] = Action{o.arrival_ns, slot, false, {}};
  ++action_count_;
  return Errc::ok;
}

Errc SimExchange::cancel(const ClientOrderId& id, std::int64_t now_ns) noexcept {
  if (action_count_ == actions_.size()) return Errc::capacity;
  actions_[(action_head_ + action_count_) % actions_.size()] = Action{arrival_of(id, now_ns, true), 0, true, id};
  ++action_count_;
  return Errc::ok;
}

Notional SimExchange::margin_for(const Order& o, Price px) const noexcept {
  const OrderRequest& r = o.spec.req;
  const Notional value = value_of(px, r.qty - o.filled, registry_.get(r.instrument).multiplier);
  return scale(value, 1, r.leverage > 0 ? r.leverage : 1);
}

Notional SimExchange::free_margin() const noexcept {
  Notional used{};
  for (const Book& b : books_) {
    const SimPosition& p = b.position;
    if (p.qty.raw() != 0) used += scale(p.entry_notional, 1, p.leverage > 0 ? p.leverage : 1);
  }
  for (const std::uint32_t slot : live_) used += orders_[slot].reserved_margin;
  return account_.balance - used;
}

Qty SimExchange::available(const Book& b, Side taker, Qty want, Price limit) const noexcept {
  const BookSide& s = taker == Side::buy ? b.asks : b.bids;
  Qty sum{};
  s.for_each([&](const PriceLevel& l) noexcept {
    if (sum >= want || (limit.raw() > 0 && (taker == Side::buy ? l.price > limit : l.price < limit))) return false;
    sum += l.qty;
    return true;
  });
  return sum;
}

Qty SimExchange::take(Book& b, std::uint32_t slot, Qty want, Price limit, std::int64_t t) noexcept {
  const Side taker = orders_[slot].spec.req.side;
  BookSide& s = taker == Side::buy ? b.asks : b.bids;
  Qty got{};
  while (want.raw() > 0 && !s.empty()) {
    const PriceLevel lv = *s.best();
    if (limit.raw() > 0 && (taker == Side::buy ? lv.price > limit : lv.price < limit)) break;
    const Qty q = std::min(want, lv.qty);
    const Price px = lv.price;
    (void)s.set(px, lv.qty - q);  // our fill uses the displayed liquidity until the venue updates this level
    want -= q;
    got += q;
    fill(slot, q, px, false, t);
    if (orders_[slot].phase == OrderPhase::done) break;
  }
  return got;
}

void SimExchange::fill(std::uint32_t slot, Qty qty, Price px, bool maker, std::int64_t t) noexcept {
  Order& o = orders_[slot];
  const OrderRequest& r = o.spec.req;
  Book& b = books_[r.instrument];
  SimPosition& p = b.position;
  // Reduce-only never trades past flat.
  if (r.reduce_only) {
    const Qty room = p.qty.abs();
    const bool reduces = r.side == Side::buy ? p.qty.raw() < 0 : p.qty.raw() > 0;
    qty = reduces ? std::min(qty, room) : Qty{};
    if (qty.raw() <= 0) {
      finish(slot, ExecKind::expired, Reason::reduce_only_would_increase, t);
      return;
    }
  }
  const Qty mult = registry_.get(r.instrument).multiplier;
  const Notional value = value_of(px, qty, mult);
  const SimFees& fees = cfg_.fees[static_cast<std::size_t>(r.venue)];
  // A native iceberg pays the taker rate where the venue charges it (KuCoin Futures), resting or not.
  const bool taker_rate = !maker || (o.spec.display_qty.raw() > 0 && native_iceberg(r.venue).taker_fee);
  const Notional fee = apply_rate(value, taker_rate ? fees.taker : fees.maker);
  account_.fees_paid += fee;
  account_.balance -= fee;
  p.fees += fee;

  // Position: add on the same side, realize PnL against the average entry on the other.
  const Qty signed_qty = r.side == Side::buy ? qty : -qty;
  if (p.qty.raw() == 0 || (p.qty.raw() > 0) == (signed_qty.raw() > 0)) {
    p.entry_notional += value;
    p.qty += signed_qty;
    p.leverage = r.leverage;
  } else {
    const Qty held = p.qty.abs();
    const Qty closing = std::min(qty, held);
    const Notional entry_part = scale(p.entry_notional, closing.raw(), held.raw());
    const Notional exit_part = value_of(px, closing, mult);
    const Notional pnl = p.qty.raw() > 0 ? exit_part - entry_part : entry_part - exit_part;
    p.realized_pnl += pnl;
    account_.balance += pnl;
    p.entry_notional -= entry_part;
    p.qty += signed_qty;
    if (qty > held) {  // flipped: the rest opens the other way
      p.entry_notional = value_of(px, qty - held, mult);
      p.leverage = r.leverage;
    }
    if (p.qty.raw() == 0) p.entry_notional = Notional{};
  }

  o.filled += qty;
  ++b.fills;
  emit(o, ExecKind::fill, Reason::none, qty, px, fee, maker, t);
  if (o.filled >= r.qty) finish(slot, ExecKind::fill, Reason::none, t);
}

void SimExchange::emit(const Order& o, ExecKind kind, Reason reason, Qty last_qty, Price last_px, Notional fee,
                       bool maker, std::int64_t t) noexcept {
  if (report_count_ == report_cap_) {
    ++dropped_reports_;
    return;
  }
  ExecReport r{};
  r.client_id = o.spec.req.client_id;
  char buf[24];
  std::size_t n = 0;
  buf[n++] = 'S';
  std::uint64_t v = o.venue_id;
  char digits[20];
  int d = 0;
  do {
    digits[d++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (d > 0) buf[n++] = digits[--d];
  r.venue_order_id = VenueOrderId::from(std::string_view(buf, n)).value;
  r.cum_qty = o.filled;
  r.last_px = last_px;
  r.last_qty = last_qty;
  r.fee = fee;
  r.venue_seq = ++report_seq_;
  r.venue_time_ns = t;
  r.instrument = o.spec.req.instrument;
  r.kind = kind;
  r.reason = reason;
  r.side = o.spec.req.side;
  r.maker = maker;
  switch (kind) {
    case ExecKind::fill: r.status = o.filled >= o.spec.req.qty ? OrderStatus::filled : OrderStatus::partially_filled; break;
    case ExecKind::canceled: r.status = OrderStatus::canceled; break;
    case ExecKind::rejected: r.status = OrderStatus::rejected; break;
    case ExecKind::expired: r.status = OrderStatus::expired; break;
    default: r.status = o.filled.raw() > 0 ? OrderStatus::partially_filled : OrderStatus::accepted; break;
  }
  // The report stream is ordered too: a report is never delivered before an earlier one.
  last_deliver_ns_ = std::max(t + report_latency_ns_, last_deliver_ns_);
  reports_[(report_head_ + report_count_) % report_cap_] = Pending{r, last_deliver_ns_};
  ++report_count_;
}

void SimExchange::finish(std::uint32_t slot, ExecKind kind, Reason reason, std::int64_t t) noexcept {
  Order& o = orders_[slot];
  if (o.phase == OrderPhase::done) return;
  o.phase = OrderPhase::done;
  if (kind != ExecKind::fill) emit(o, kind, reason, Qty{}, Price{}, Notional{}, false, t);
  release(slot);
}

void SimExchange::release(std::uint32_t slot) noexcept {
  const auto it = std::find(live_.begin(), live_.end(), slot);
  if (it != live_.end()) live_.erase(it);  // keeps placement order; no allocation (erase shifts)
  orders_[slot].reserved_margin = Notional{};
  index_.erase(orders_[slot].spec.req.client_id.hash());
  free_slots_.push_back(slot);
}

void SimExchange::on_cancel_arrival(const Action& a, std::int64_t t) noexcept {
  Order* o = find(a.cancel_id);
  if (o == nullptr || o->phase == OrderPhase::done || o->phase == OrderPhase::in_flight) {
    Order ghost{};
    ghost.spec.req.client_id = a.cancel_id;
    if (o != nullptr) ghost = *o;
    emit(ghost, ExecKind::cancel_rejected, Reason::order_not_found, Qty{}, Price{}, Notional{}, false, t);
    return;
  }
  finish(static_cast<std::uint32_t>(o - orders_.data()), ExecKind::canceled, Reason::none, t);
}

void SimExchange::on_arrival(std::uint32_t slot, std::int64_t t) noexcept {
  Order& o = orders_[slot];
  const OrderRequest& r = o.spec.req;
  Book& b = books_[r.instrument];
  const SimPosition& p = b.position;

  if (r.reduce_only) {
    const bool reduces = r.side == Side::buy ? p.qty.raw() < 0 : p.qty.raw() > 0;
    if (!reduces) return finish(slot, ExecKind::rejected, Reason::reduce_only_would_increase, t);
  } else {
    // Margin at the price the order would trade at: its limit, its trigger, or the opposite best.
    const BookSide& opp = r.side == Side::buy ? b.asks : b.bids;
    Price px = r.type == OrderType::limit ? r.price : r.stop_price;
    if (px.raw() <= 0) px = !opp.empty() ? opp.best()->price : (r.reference_price.raw() > 0 ? r.reference_price : b.last_trade);
    const Notional need = margin_for(o, px);
    if (need > free_margin()) return finish(slot, ExecKind::rejected, Reason::insufficient_margin, t);
    o.reserved_margin = need;
  }

  const BookSide& opp = r.side == Side::buy ? b.asks : b.bids;
  const bool crosses = r.type == OrderType::limit && !opp.empty() &&
                       (r.side == Side::buy ? opp.best()->price <= r.price : opp.best()->price >= r.price);
  if (r.type == OrderType::limit && r.tif == TimeInForce::post_only && crosses) {
    return finish(slot, ExecKind::rejected, Reason::post_only_would_cross, t);
  }
  emit(o, ExecKind::accepted, Reason::none, Qty{}, Price{}, Notional{}, false, t);
  live_.push_back(slot);  // so a fill can find and release it

  switch (r.type) {
    case OrderType::market: {
      take(b, slot, r.qty, Price{}, t);
      if (o.phase != OrderPhase::done) finish(slot, ExecKind::expired, Reason::ioc_no_liquidity, t);
      return;
    }
    case OrderType::limit: {
      if (r.tif == TimeInForce::fok && available(b, r.side, r.qty, r.price) < r.qty) {
        return finish(slot, ExecKind::expired, Reason::fok_unfillable, t);
      }
      if (crosses) take(b, slot, r.qty, r.price, t);
      if (o.phase == OrderPhase::done) return;
      if (r.tif == TimeInForce::ioc || r.tif == TimeInForce::fok) {
        return finish(slot, ExecKind::expired, o.filled.raw() > 0 ? Reason::none : Reason::ioc_no_liquidity, t);
      }
      o.phase = OrderPhase::resting;
      o.queue_ahead = level_qty(r.instrument, r.side, r.price);
      if (o.spec.display_qty.raw() > 0) o.visible_left = std::min(o.spec.display_qty, r.qty - o.filled);
      return;
    }
    default:
      o.phase = OrderPhase::untriggered;
      return;
  }
}

void SimExchange::on_trade(Book& b, InstrumentId id, const Trade& tr, std::int64_t t) noexcept {
  b.last_trade = tr.price;
  for (std::size_t k = 0; k < live_.size();) {
    const std::uint32_t slot = live_[k];
    Order& o = orders_[slot];
    const OrderRequest& r = o.spec.req;
    if (r.instrument != id) {
      ++k;
      continue;
    }
    if (o.phase == OrderPhase::untriggered) {
      bool fire = false;
      if (r.type == OrderType::stop_market) {
        fire = r.side == Side::sell ? tr.price <= r.stop_price : tr.price >= r.stop_price;
      } else if (r.type == OrderType::take_profit_market) {
        fire = r.side == Side::sell ? tr.price >= r.stop_price : tr.price <= r.stop_price;
      } else if (r.type == OrderType::trailing_stop) {
        // Sell trailing (closing a long) follows the high and fires on a callback_rate retrace; buy mirrors.
        const bool sell = r.side == Side::sell;
        if (!o.trail_active) {
          o.trail_active = r.stop_price.raw() == 0 || (sell ? tr.price >= r.stop_price : tr.price <= r.stop_price);
          if (o.trail_active) o.trail_extreme = tr.price;
        }
        if (o.trail_active) {
          if (sell ? tr.price > o.trail_extreme : tr.price < o.trail_extreme) o.trail_extreme = tr.price;
          const int128 dist = static_cast<int128>(o.trail_extreme.raw()) * o.spec.callback_rate.raw() / Rate::kScale;
          const auto trigger = static_cast<std::int64_t>(sell ? o.trail_extreme.raw() - dist : o.trail_extreme.raw() + dist);
          fire = sell ? tr.price.raw() <= trigger : tr.price.raw() >= trigger;
        }
      }
      if (fire) {
        emit(o, ExecKind::triggered, Reason::none, Qty{}, Price{}, Notional{}, false, t);
        o.phase = OrderPhase::resting;  // transient: executes now as a market order
        take(b, slot, r.qty - o.filled, Price{}, t);
        if (o.phase != OrderPhase::done) finish(slot, ExecKind::expired, Reason::ioc_no_liquidity, t);
        continue;  // slot released; live_[k] is the next order
      }
      ++k;
      continue;
    }
    if (o.phase != OrderPhase::resting || r.type != OrderType::limit) {
      ++k;
      continue;
    }
    const bool buy = r.side == Side::buy;
    const bool through = buy ? tr.price < r.price : tr.price > r.price;
    const bool at = tr.price == r.price && tr.aggressor != r.side;
    if (through) {
      fill(slot, r.qty - o.filled, r.price, true, t);
      continue;
    }
    if (at) {
      const Qty ahead = o.queue_ahead;
      if (ahead >= tr.qty) {
        o.queue_ahead -= tr.qty;
        o.traded_at_level += tr.qty;
      } else {
        // A native iceberg trades its visible part only; the refill joins the back of the level.
        const bool iceberg = o.spec.display_qty.raw() > 0;
        const Qty left = tr.qty - ahead;
        const Qty mine = std::min(left, iceberg ? o.visible_left : r.qty - o.filled);
        o.queue_ahead = Qty{};
        o.traded_at_level += tr.qty - mine;
        fill(slot, mine, r.price, true, t);
        if (o.phase == OrderPhase::done) continue;
        if (iceberg) {
          o.visible_left -= mine;
          if (o.visible_left.raw() <= 0) {
            o.visible_left = std::min(o.spec.display_qty, r.qty - o.filled);
            o.queue_ahead = level_qty(r.instrument, r.side, r.price);
            ++iceberg_refills_;
          }
        }
      }
    }
    ++k;
  }
}

std::size_t SimExchange::poll_reports(std::int64_t now_ns, std::span<ExecReport> out) noexcept {
  std::size_t n = 0;
  while (n < out.size() && report_count_ > 0 && reports_[report_head_].deliver_ns <= now_ns) {
    out[n++] = reports_[report_head_].report;
    report_head_ = (report_head_ + 1) % report_cap_;
    --report_count_;
  }
  return n;
}

}  // namespace enigma::oms
