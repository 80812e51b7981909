#include "engine/trading_core.hpp"

#include <algorithm>
#include <cstring>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "engine/live_gateway.hpp"

namespace enigma::engine {

namespace {
// Replay and paper runs sign with a throwaway key: the HMAC work is real (it is part of the measured
// order path), the credential is not. Live mode passes real credentials from the environment.
constexpr std::string_view kSimKey = "enigma-simulation-key";
}  // namespace

TradingCore::TradingCore(const InstrumentRegistry& registry, TradingCoreConfig cfg)
    : registry_(registry),
      cfg_(std::move(cfg)),
      risk_(std::make_unique<risk::RiskGate>(cfg_.risk)),
      sim_(registry, cfg_.sim),
      om_(oms::OrderManagerConfig{static_cast<std::uint32_t>(cfg_.max_orders), 256, 1024, cfg_.journal_path, cfg_.journal}),
      ids_(cfg_.client_id_prefix) {
  ids_.resume_from(om_.next_client_counter());  // never reuse an id the journal already holds
  for (std::size_t i = 0; i < cfg_.limits.size() && i < registry.size(); ++i)
    risk_->set_instrument(static_cast<InstrumentId>(i), cfg_.limits[i]);
  const oms::Secret secret(kSimKey);
  const oms::Secret pass(kSimKey);
  binance_ = std::make_unique<oms::binance_futures::Encoder>(registry, "sim-api-key", secret);
  kucoin_ = std::make_unique<oms::kucoin_futures::Encoder>(registry, "sim-api-key", secret, pass);
  slots_.resize(cfg_.max_orders);
  report_buf_.resize(256);
  trades_.reserve(cfg_.max_trade_rows);
  equity_.reserve(1 << 20);
  // Instruments are the configured ones; decoders may register more (other symbols in a capture), which
  // the exchange side ignores.
  traded_count_ = std::min(registry.size(), cfg_.limits.size());
  marks_.assign(traded_count_, Price{});
  cancel_buf_.resize(cfg_.risk.max_open_orders + 1);
  peak_equity_ = cfg_.sim.initial_balance;
}

TradingCore::Slot* TradingCore::find(const risk::ClientOrderId& id) noexcept {
  // Linear over a few hundred slots at most; working orders are few and this is per report, not per event.
  for (auto& s : used_slots())
    if (s.used && s.id == id) return &s;
  return nullptr;
}

bool TradingCore::send(oms::OrderSpec spec, strategy::IntentReason reason, std::int64_t now_ns,
                       std::uint64_t frame_tsc) noexcept {
  const std::uint64_t t_risk0 = rdtsc();
  const risk::RiskDecision d = risk_->check_and_reserve(spec.req, now_ns);
  const std::uint64_t t_risk1 = rdtsc();
  hist_risk.record(static_cast<std::int64_t>(t_risk1 - t_risk0));
  if (!d) {
    ++counters_.risk_rejects;
    return false;
  }
  Slot* slot = nullptr;
  for (auto& s : slots_)
    if (!s.used) { slot = &s; break; }
  if (slot != nullptr) slots_high_water_ = std::max<std::size_t>(slots_high_water_, static_cast<std::size_t>(slot - slots_.data()) + 1);
  if (slot == nullptr || om_.order_count() >= cfg_.max_orders) [[unlikely]] {
    om_.purge_terminal();  // rare: keeps the OMS table bounded on long runs
    if (slot == nullptr || om_.order_count() >= cfg_.max_orders) {
      ++counters_.order_table_full;
      (void)risk_->on_reject(spec.req.client_id, now_ns);
      return false;
    }
  }
  // An entry opens a position, which cannot exist without its stop (oms/position.hpp).
  const bool entry = !spec.req.reduce_only && spec.position_id == 0;
  if (entry) {
    const auto pos = om_.open_position(spec.req.instrument, spec.req.side, spec.req.reference_price, spec.req.stop_loss, now_ns);
    if (!pos.ok()) {
      ++counters_.risk_rejects;
      (void)risk_->on_reject(spec.req.client_id, now_ns);
      return false;
    }
    spec.position_id = pos.value->id;
  }
  // Journaled before anything leaves: a crash after this line loses no order.
  const auto journaled = om_.submit(spec, ids_.next_counter(), now_ns);
  if (!journaled.ok()) [[unlikely]] {
    ++(journaled.error == Errc::io ? counters_.journal_errors : counters_.order_table_full);
    (void)risk_->on_reject(spec.req.client_id, now_ns);
    return false;
  }
  *slot = Slot{spec.req.client_id, reason, true,
               entry && spec.req.type == risk::OrderType::limit ? now_ns + cfg_.entry_timeout_ns : 0, 0};
  if (slot->expires_ns) ++resting_entries_;
  const std::uint64_t t_journal = rdtsc();
  hist_journal.record(static_cast<std::int64_t>(t_journal - t_risk1));
  // Encode and sign the exact bytes a live gateway would write to the socket.
  const Venue v = spec.req.venue;
  Result<std::size_t> n = Result<std::size_t>::failure(Errc::not_found);
  if (v == Venue::kucoin_futures) n = kucoin_->encode_new(spec, now_ns / 1'000'000, wire_.data(), wire_.size());
  else if (v == Venue::binance_usdm || v == Venue::binance_coinm || v == Venue::binance_spot)
    n = binance_->encode_new(spec, now_ns / 1'000'000, wire_.data(), wire_.size());
  const std::uint64_t t_enc = rdtsc();
  if (n.ok()) {
    hist_encode.record(static_cast<std::int64_t>(t_enc - t_journal));
    hist_order.record(static_cast<std::int64_t>(t_enc - frame_tsc));
  } else if (n.error != Errc::not_found) {
    ++counters_.encode_errors;
  }
  if (live_ != nullptr) [[unlikely]] {
    // Live: the signed bytes go to the gateway thread; the venue's answer comes back through poll().
    if (!n.ok() || !send_live(oms::binance_futures::RestRequest::new_order, spec.req.client_id, spec.req.instrument,
                              n.value)) {
      // Never left: reject locally so the order, its position and the risk reservation are released.
      if (n.ok()) ++counters_.gateway_full;
      oms::ExecReport r{};
      r.client_id = spec.req.client_id;
      r.instrument = spec.req.instrument;
      r.kind = oms::ExecKind::rejected;
      r.status = oms::OrderStatus::rejected;
      r.reason = oms::Reason::venue_error;
      r.venue_time_ns = now_ns;
      (void)om_.on_report(r, now_ns);
      (void)risk_->on_reject(spec.req.client_id, now_ns);
      if (slot->expires_ns) --resting_entries_;
      slot->used = false;
      return false;
    }
  } else if (sim_.submit(spec, now_ns) != Errc::ok) [[unlikely]] {
    ++counters_.venue_rejects;
    (void)risk_->on_reject(spec.req.client_id, now_ns);
    return false;
  }
  ++counters_.orders;
  return true;
}

bool TradingCore::send_live(oms::binance_futures::RestRequest kind, const risk::ClientOrderId& id,
                            InstrumentId instrument, std::size_t n) noexcept {
  return live_->try_send(kind, id, instrument, std::string_view(wire_.data(), n), rdtsc());
}

void TradingCore::go_live(LiveGateway& gateway, std::string api_key, const oms::Secret& secret, std::string rest_host) {
  oms::binance_futures::Config bc;
  bc.host = std::move(rest_host);
  binance_ = std::make_unique<oms::binance_futures::Encoder>(registry_, std::move(api_key), secret, bc);
  live_pos_.assign(registry_.size(), oms::SimPosition{});
  live_account_ = oms::SimAccount{};
  live_account_.balance = cfg_.sim.initial_balance;
  live_ = &gateway;
}

void TradingCore::cancel_order(const risk::ClientOrderId& id, std::int64_t now_ns) noexcept {
  const oms::OrderState* o = om_.find(id);
  if (o == nullptr || !oms::is_working(o->status) || o->status == oms::OrderStatus::pending_cancel) return;
  if (!risk_->check_cancel(id, now_ns)) return;
  if (om_.cancel(id, now_ns) != Errc::ok) return;  // journaled before it leaves
  if (live_ != nullptr) [[unlikely]] {
    const InstrumentId inst = o->spec.req.instrument;
    const auto n = binance_->encode_cancel(inst, id, now_ns / 1'000'000, wire_.data(), wire_.size());
    if (n.ok() && send_live(oms::binance_futures::RestRequest::cancel, id, inst, n.value)) {
      ++counters_.cancels;
      return;
    }
    // The cancel never left: the order is as it was (the next expiry scan or kill tries again).
    ++counters_.gateway_full;
    oms::ExecReport r{};
    r.client_id = id;
    r.instrument = inst;
    r.kind = oms::ExecKind::cancel_rejected;
    r.venue_time_ns = now_ns;
    (void)om_.on_report(r, now_ns);
    return;
  }
  if (sim_.cancel(id, now_ns) == Errc::ok) ++counters_.cancels;
}

bool TradingCore::on_intent(const strategy::OrderIntent& in, std::span<const oms::PriceLevel> bids,
                            std::span<const oms::PriceLevel> asks, std::int64_t now_ns, std::uint64_t frame_tsc) noexcept {
  ++counters_.intents;
  if (in.instrument >= traded_count_) [[unlikely]] {
    ++counters_.risk_rejects;  // an instrument without configured limits is never traded
    return false;
  }
  const InstrumentSpec& spec = registry_.get(in.instrument);
  oms::OrderSpec o{};
  o.req.client_id = ids_.next();
  o.req.instrument = in.instrument;
  o.req.strategy = in.strategy_id;
  o.req.venue = spec.venue;
  o.req.side = in.side;
  o.req.qty = in.qty;
  o.req.leverage = cfg_.leverage;
  o.req.reduce_only = in.reduce_only;
  o.req.tsc = in.trigger_tsc;
  const Price mid = (!bids.empty() && !asks.empty()) ? Price::from_raw((bids[0].price.raw() + asks[0].price.raw()) / 2) : Price{};
  o.req.reference_price = mid.is_zero() ? in.entry : mid;
  if (in.reduce_only) {
    // Exits go out as market orders (the plan: "MARKET (exits)").
    o.req.type = risk::OrderType::market;
    o.req.tif = risk::TimeInForce::ioc;
  } else {
    // Entries rest at the 9th book level (bids[8] for a long, asks[8] for a short: the plan's passive
    // entry that catches sweeps) with a slippage guard against the mid; unfilled ones are cancelled
    // after entry_timeout_ns.
    const oms::EntryQuote q = oms::entry_price(in.side, bids, asks, cfg_.entry);
    if (!q.ok()) {
      ++counters_.pricing_rejects;
      return false;
    }
    o.req.type = risk::OrderType::limit;
    o.req.tif = risk::TimeInForce::gtc;
    o.req.price = q.price;
    o.req.stop_loss = in.stop;
    o.req.take_profit = in.take_profit;
  }
  return send(o, in.reason, now_ns, frame_tsc);
}

void TradingCore::place_brackets(const oms::OrderState& entry, strategy::IntentReason reason, Qty qty,
                                 std::int64_t now_ns, std::uint64_t cause_tsc) noexcept {
  const auto& req = entry.spec.req;
  if (!cfg_.bracket_exits || req.reduce_only) return;
  const std::uint32_t oco = next_oco_++;
  const std::uint32_t position_id = entry.spec.position_id;
  auto exit_leg = [&](risk::OrderType type, Price trigger) {
    if (trigger.is_zero()) return;
    oms::OrderSpec o{};
    o.req = req;
    o.req.client_id = ids_.next();
    o.req.side = opposite(req.side);
    o.req.type = type;
    o.req.tif = risk::TimeInForce::gtc;
    o.req.price = Price{};
    o.req.stop_price = trigger;
    o.req.stop_loss = Price{};
    o.req.take_profit = Price{};
    o.req.qty = qty;
    o.req.reduce_only = true;
    o.oco_group = oco;
    o.position_id = position_id;
    (void)send(o, reason, now_ns, cause_tsc);
  };
  exit_leg(risk::OrderType::stop_market, req.stop_loss);
  exit_leg(risk::OrderType::take_profit_market, req.take_profit);
}

void TradingCore::cancel_exits(InstrumentId id, std::int64_t now_ns) noexcept {
  for (auto& s : used_slots()) {
    if (!s.used) continue;
    const oms::OrderState* o = om_.find(s.id);
    if (o != nullptr && o->spec.req.instrument == id && o->spec.req.reduce_only) cancel_order(s.id, now_ns);
  }
}

void TradingCore::on_market(const Event& e, std::int64_t now_ns) noexcept {
  if (live_ == nullptr) sim_.on_event(e, now_ns);  // live: the venue matches, not us
}

Notional TradingCore::unrealized(InstrumentId id) const noexcept {
  const oms::SimPosition& p = position(id);
  if (p.qty.is_zero() || marks_[id].is_zero()) return Notional{};
  const auto value = notional_of(marks_[id], p.qty.abs(), registry_.get(id).multiplier);
  if (!value.ok()) return Notional{};
  return p.qty.raw() > 0 ? value.value - p.entry_notional : p.entry_notional - value.value;
}

Notional TradingCore::last_equity() const noexcept {
  Notional u{};
  for (std::size_t i = 0; i < traded_count_; ++i) u += unrealized(static_cast<InstrumentId>(i));
  return account().balance + u;
}

void TradingCore::mark(InstrumentId id, Price mid, std::int64_t now_ns) noexcept {
  if (id >= traded_count_) return;
  marks_[id] = mid;
  if (now_ns < next_equity_ns_) return;
  next_equity_ns_ = now_ns + cfg_.equity_sample_ns;
  const Notional eq = last_equity();
  if (eq > peak_equity_) peak_equity_ = eq;
  if (peak_equity_ - eq > max_drawdown_) max_drawdown_ = peak_equity_ - eq;
  risk_->update_equity(eq, now_ns);
  if (equity_.size() < equity_.capacity()) equity_.push_back({now_ns, eq, account().balance, position(0).qty});
  else ++counters_.dropped_rows;
}

void TradingCore::expire_entries(std::int64_t now_ns) noexcept {
  if (resting_entries_ == 0 || now_ns < next_expiry_scan_ns_) return;
  next_expiry_scan_ns_ = now_ns + 100'000'000;  // 100 ms granularity keeps the scan off most frames
  for (auto& s : used_slots())
    if (s.used && s.expires_ns != 0 && now_ns >= s.expires_ns) cancel_order(s.id, now_ns);
}

void TradingCore::handle_report(const oms::ExecReport& r, std::int64_t now_ns, std::uint64_t poll_tsc, FillFn on_fill,
                                void* ctx) noexcept {
  Slot* s = find(r.client_id);
  const oms::ReportOutcome out = om_.on_report(r, now_ns);  // journaled, applied, OCO paired
  if (s == nullptr || out.order == nullptr) return;  // not ours (simulation never does this)
  const oms::OrderState& o = *out.order;
  const oms::ApplyResult& a = out.applied;
  const auto& id = r.client_id;
  switch (r.kind) {
    case oms::ExecKind::accepted: (void)risk_->on_ack(id, now_ns); break;
    case oms::ExecKind::rejected: (void)risk_->on_reject(id, now_ns); ++counters_.venue_rejects; break;
    case oms::ExecKind::canceled:
    case oms::ExecKind::expired: (void)risk_->on_cancel(id, now_ns); break;
    default: break;
  }
  if (out.cancel_sibling) cancel_order(*out.cancel_sibling, now_ns);
  if (!a.fill_qty.is_zero()) {
    ++counters_.fills;
    const InstrumentId inst = o.spec.req.instrument;
    if (live_ != nullptr) [[unlikely]] book_live_fill(inst, o.spec.req.side, a.fill_px, a.fill_qty, a.fill_fee);
    (void)risk_->on_fill(id, a.fill_px, a.fill_qty, now_ns);
    risk_->set_position(inst, position(inst).qty, a.fill_px);
    if (trades_.size() < trades_.capacity())
      trades_.push_back({r.venue_time_ns, inst, o.spec.req.side, r.maker, a.fill_px, a.fill_qty, a.fill_fee, id, s->reason});
    else ++counters_.dropped_rows;
    on_fill(ctx, {o.spec.req.tsc, a.fill_px, a.fill_qty, inst, o.spec.req.strategy, o.spec.req.side});
    if (!o.spec.req.reduce_only) place_brackets(o, s->reason, a.fill_qty, now_ns, poll_tsc);
    if (position(inst).qty.is_zero()) cancel_exits(inst, now_ns);
  }
  if (oms::is_terminal(o.status)) {
    if (s->expires_ns) --resting_entries_;
    if (s->query_at_ns) --unknown_orders_;
    s->used = false;
  }
}

void TradingCore::poll(std::int64_t now_ns, FillFn on_fill, void* ctx) noexcept {
  const std::uint64_t poll_tsc = rdtsc();  // orders placed because of a report count from its arrival
  if (live_ != nullptr) [[unlikely]] {
    poll_live(now_ns, poll_tsc, on_fill, ctx);
    return;
  }
  sim_.advance(now_ns);
  expire_entries(now_ns);
  for (;;) {
    const std::size_t n = sim_.poll_reports(now_ns, report_buf_);
    for (std::size_t i = 0; i < n; ++i) handle_report(report_buf_[i], now_ns, poll_tsc, on_fill, ctx);
    if (n < report_buf_.size()) break;
  }
}

void TradingCore::poll_live(std::int64_t now_ns, std::uint64_t poll_tsc, FillFn on_fill, void* ctx) noexcept {
  expire_entries(now_ns);
  if (cfg_.deadman_countdown_ns > 0 && now_ns >= next_deadman_ns_) [[unlikely]]
    refresh_deadman(now_ns, cfg_.deadman_countdown_ns / 1'000'000);
  if (kill_retry_ns_ != 0 && now_ns >= kill_retry_ns_) [[unlikely]] retry_kill_cancels(now_ns);
  GatewayReport g;
  while (live_->try_pop(g)) {
    if (g.report.client_id.empty()) {  // a cancel-all or dead-man request failed (the gateway logged it)
      ++counters_.instrument_request_failures;
      if (g.venue_code != 0) counters_.last_venue_code = g.venue_code;
      continue;
    }
    if (g.venue_code != 0) counters_.last_venue_code = g.venue_code;
    if (g.report.kind == oms::ExecKind::cancel_rejected) ++counters_.cancel_rejects;
    if (g.unknown) {
      // 5xx / timeout: the venue may or may not have the order. Keep it working (limits still count it)
      // and ask the venue by client order id a little later.
      ++counters_.unknown_outcomes;
      (void)om_.on_timeout(g.report.client_id, now_ns);
      Slot* s = find(g.report.client_id);
      if (s != nullptr) {
        if (s->query_at_ns == 0) ++unknown_orders_;
        s->query_at_ns = now_ns + cfg_.unknown_query_delay_ns;
      }
      continue;
    }
    handle_report(g.report, now_ns, poll_tsc, on_fill, ctx);
  }
  if (unknown_orders_ != 0) [[unlikely]] query_unknown(now_ns);
}

void TradingCore::query_unknown(std::int64_t now_ns) noexcept {
  for (auto& s : used_slots()) {
    if (!s.used || s.query_at_ns == 0 || now_ns < s.query_at_ns) continue;
    const oms::OrderState* o = om_.find(s.id);
    if (o == nullptr || o->status != oms::OrderStatus::unknown) {  // resolved by a stream report meanwhile
      s.query_at_ns = 0;
      --unknown_orders_;
      continue;
    }
    const InstrumentId inst = o->spec.req.instrument;
    const auto n = binance_->encode_query(inst, s.id, now_ns / 1'000'000, wire_.data(), wire_.size());
    if (n.ok() && send_live(oms::binance_futures::RestRequest::query, s.id, inst, n.value)) ++counters_.queries;
    s.query_at_ns = now_ns + cfg_.unknown_query_delay_ns;  // again if this answer does not settle it
  }
}

// Kill switch, live: one DELETE allOpenOrders per instrument with working orders in scope (one message
// however many orders), each order marked PENDING_CANCEL in the journal; the user-data stream then reports
// every cancel. Whatever still works a little later gets its own cancel (a refused or lost cancel-all).
void TradingCore::kill_live(std::size_t n, std::int64_t now_ns) noexcept {
  std::uint64_t done = 0;  // instruments already sent a cancel-all (ids < 64; others fall back to per order)
  for (std::size_t i = 0; i < n; ++i) {
    const oms::OrderState* o = om_.find(cancel_buf_[i]);
    if (o == nullptr) continue;
    const InstrumentId inst = o->spec.req.instrument;
    if (inst >= 64) {
      cancel_order(cancel_buf_[i], now_ns);
      continue;
    }
    if ((done & (1ULL << inst)) == 0) {
      done |= 1ULL << inst;
      const auto bytes = binance_->encode_cancel_all(inst, now_ns / 1'000'000, wire_.data(), wire_.size());
      if (bytes.ok() && send_live(oms::binance_futures::RestRequest::cancel_all, {}, inst, bytes.value)) ++counters_.cancel_alls;
      else ++counters_.gateway_full;
    }
    (void)om_.cancel(cancel_buf_[i], now_ns);  // journaled; the stream's CANCELED settles it
  }
  kill_retry_ns_ = now_ns + 2'000'000'000;
}

void TradingCore::retry_kill_cancels(std::int64_t now_ns) noexcept {
  kill_retry_ns_ = 0;
  for (auto& s : used_slots()) {
    if (!s.used) continue;
    const oms::OrderState* o = om_.find(s.id);
    if (o == nullptr || !oms::is_working(o->status)) continue;
    const InstrumentId inst = o->spec.req.instrument;
    const auto bytes = binance_->encode_cancel(inst, s.id, now_ns / 1'000'000, wire_.data(), wire_.size());
    if (bytes.ok() && send_live(oms::binance_futures::RestRequest::cancel, s.id, inst, bytes.value)) ++counters_.cancels;
  }
}

void TradingCore::refresh_deadman(std::int64_t now_ns, std::int64_t countdown_ms) noexcept {
  next_deadman_ns_ = now_ns + cfg_.deadman_countdown_ns / 3;
  for (std::size_t i = 0; i < traded_count_; ++i) {
    const auto inst = static_cast<InstrumentId>(i);
    const auto bytes = binance_->encode_countdown_cancel_all(inst, countdown_ms, now_ns / 1'000'000, wire_.data(), wire_.size());
    if (bytes.ok() && send_live(oms::binance_futures::RestRequest::countdown, {}, inst, bytes.value)) ++counters_.deadman_refreshes;
    else ++counters_.instrument_request_failures;
  }
}

void TradingCore::disarm_deadman(std::int64_t now_ns) noexcept {
  if (live_ == nullptr || cfg_.deadman_countdown_ns <= 0) return;
  refresh_deadman(now_ns, 0);  // countdownTime 0 cancels the timer
}

void TradingCore::book_live_fill(InstrumentId id, Side side, Price px, Qty qty, Notional fee) noexcept {
  // The same average-entry accounting as the simulated exchange (oms/sim_exchange.cpp), on venue fills.
  const auto value_of = [&](Qty q) {
    const auto n = notional_of(px, q, registry_.get(id).multiplier);
    return n.ok() ? n.value : Notional::max();
  };
  oms::SimPosition& p = live_pos_[id];
  live_account_.fees_paid += fee;
  live_account_.balance -= fee;
  const Qty signed_qty = side == Side::buy ? qty : -qty;
  if (p.qty.raw() == 0 || (p.qty.raw() > 0) == (signed_qty.raw() > 0)) {
    p.entry_notional += value_of(qty);
    p.qty += signed_qty;
    p.leverage = cfg_.leverage;
    return;
  }
  const Qty held = p.qty.abs();
  const Qty closing = std::min(qty, held);
  const Notional entry_part = Notional::from_raw(static_cast<std::int64_t>(
      static_cast<int128>(p.entry_notional.raw()) * closing.raw() / held.raw()));
  const Notional exit_part = value_of(closing);
  const Notional pnl = p.qty.raw() > 0 ? exit_part - entry_part : entry_part - exit_part;
  p.realized_pnl += pnl;
  live_account_.balance += pnl;
  p.entry_notional -= entry_part;
  p.qty += signed_qty;
  if (qty > held) p.entry_notional = value_of(qty - held);  // flipped: the rest opens the other way
  if (p.qty.raw() == 0) p.entry_notional = Notional{};
}

void TradingCore::on_admin(const AdminCommand& cmd, std::int64_t now_ns) noexcept {
  switch (cmd.kind) {
    case AdminCommandKind::kill: {
      // Latch first (no new entries), then a signed cancel for every working order in scope.
      const std::size_t n = risk_->kill_switch().trigger(risk::KillScope::everything(), cancel_buf_);
      if (live_ != nullptr) [[unlikely]] {
        kill_live(n, now_ns);
        break;
      }
      for (std::size_t i = 0; i < n; ++i) {
        const oms::OrderState* o = om_.find(cancel_buf_[i]);
        if (o == nullptr) continue;
        const Venue v = o->spec.req.venue;
        if (v == Venue::kucoin_futures)
          (void)kucoin_->encode_cancel(o->spec.req.instrument, cancel_buf_[i], now_ns / 1'000'000, wire_.data(), wire_.size());
        else
          (void)binance_->encode_cancel(o->spec.req.instrument, cancel_buf_[i], now_ns / 1'000'000, wire_.data(), wire_.size());
        cancel_order(cancel_buf_[i], now_ns);
      }
      break;
    }
    case AdminCommandKind::kill_reset: risk_->kill_switch().reset(); break;
    case AdminCommandKind::trading_start: risk_->set_state(risk::TradingState::active); break;
    case AdminCommandKind::trading_stop: risk_->set_state(risk::TradingState::halted); break;
  }
}

std::size_t TradingCore::working_orders() const noexcept {
  std::size_t n = 0;
  for (const auto& s : used_slots()) n += s.used;
  return n;
}

void TradingCore::cancel_all(std::int64_t now_ns) noexcept {
  for (auto& s : used_slots())
    if (s.used) cancel_order(s.id, now_ns);
}

}  // namespace enigma::engine
