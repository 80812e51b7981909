#include "engine/trading_core.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/logger.hpp"
#include "engine/live_gateway.hpp"
#include "oms/venues/venue_kit.hpp"

namespace enigma::engine {

namespace {
constexpr std::int64_t kDayNs = 86'400'000'000'000;

LogLiteral side_text(Side s) noexcept { return LogLiteral{s == Side::buy ? "buy" : "sell"}; }
}  // namespace

std::string_view to_string(Lifecycle s) noexcept {
  switch (s) {
    case Lifecycle::initializing: return "initializing";
    case Lifecycle::ready: return "ready";
    case Lifecycle::trading: return "trading";
    case Lifecycle::paused: return "paused";
    case Lifecycle::emergency_stop: return "emergency_stop";
    case Lifecycle::shutdown: return "shutdown";
  }
  return "?";
}

std::string_view to_string(StopPolicy p) noexcept { return p == StopPolicy::flatten ? "flatten" : "keep_protected"; }

std::string_view to_string(EmergencyCause c) noexcept {
  switch (c) {
    case EmergencyCause::none: return "none";
    case EmergencyCause::daily_drawdown: return "daily_drawdown";
    case EmergencyCause::total_drawdown: return "total_drawdown";
    case EmergencyCause::consecutive_losses: return "consecutive_losses";
    case EmergencyCause::feed_down: return "feed_down";
    case EmergencyCause::invariant: return "invariant";
    case EmergencyCause::credentials: return "credentials";
    case EmergencyCause::admin: return "admin";
    case EmergencyCause::journal: return "journal";
    case EmergencyCause::venue_ban: return "venue_ban";
  }
  return "?";
}

TradingCore::TradingCore(const InstrumentRegistry& registry, TradingCoreConfig cfg)
    : registry_(registry),
      cfg_(std::move(cfg)),
      risk_(std::make_unique<risk::RiskGate>(cfg_.risk)),
      sim_(registry, cfg_.sim),
      om_(oms::OrderManagerConfig{static_cast<std::uint32_t>(cfg_.max_orders), 256, 1024, cfg_.journal_path, cfg_.journal}),
      ids_(cfg_.client_id_epoch != 0
               ? oms::session_client_id_prefix(cfg_.client_id_prefix, cfg_.client_id_epoch,
                                               cfg_.client_id_alphanumeric ? oms::kOkxMaxClientIdLen : oms::kBinanceMaxClientIdLen,
                                               cfg_.client_id_alphanumeric ? 'X' : '-')
               : cfg_.client_id_prefix,
           1, cfg_.client_id_alphanumeric ? oms::kOkxMaxClientIdLen : oms::kBinanceMaxClientIdLen) {
  ids_.resume_from(om_.next_client_counter());  // never reuse an id the journal already holds
  // Nor an OCO group of a restored bracket: a new pair with the same group would pair with its legs.
  for (const oms::OrderState& o : om_.orders()) next_oco_ = std::max(next_oco_, o.spec.oco_group + 1);
  for (std::size_t i = 0; i < cfg_.limits.size() && i < registry.size(); ++i)
    risk_->set_instrument(static_cast<InstrumentId>(i), cfg_.limits[i]);
  risk_->track_correlation(std::min(cfg_.limits.size(), registry.size()));
  // The traded instruments' venues sign with their simulated order entry (one per entry: Binance's serves
  // its three products).
  for (std::size_t i = 0; i < std::min(registry.size(), cfg_.limits.size()); ++i) {
    const Venue v = registry.get(static_cast<InstrumentId>(i)).venue;
    if (entry_for_[static_cast<std::size_t>(v)] != nullptr) continue;
    for (const auto& e : entries_)
      if (e->serves(v)) entry_for_[static_cast<std::size_t>(v)] = e.get();
    if (entry_for_[static_cast<std::size_t>(v)] != nullptr) continue;
    if (auto e = oms::simulated_order_entry(v, registry)) {
      entry_for_[static_cast<std::size_t>(v)] = e.get();
      entries_.push_back(std::move(e));
    }
  }
  slots_.resize(cfg_.max_orders);
  report_buf_.resize(256);
  trades_.reserve(cfg_.max_trade_rows);
  equity_.reserve(1 << 20);
  // Instruments are the configured ones; decoders may register more (other symbols in a capture), which
  // the exchange side ignores.
  traded_count_ = std::min(registry.size(), cfg_.limits.size());
  marks_.assign(traded_count_, Price{});
  stop_extreme_.assign(traded_count_, Price{});
  cancel_buf_.resize(cfg_.risk.max_open_orders + 1);
  peak_equity_ = cfg_.sim.initial_balance;
  watch_.assign(traded_count_, InstrumentWatch{});
  equity_by_instrument_.reserve(equity_.capacity() * traded_count_);
  if (std::any_of(cfg_.entry_by_strategy.begin(), cfg_.entry_by_strategy.end(),
                  [](const oms::StrategyEntryPricing& p) { return p.exec == oms::ExecAlgo::vwap; })) {
    tape_.resize(traded_count_ * kTapeCap);
    tape_count_.assign(traded_count_, 0);
  }
  estop_ = std::make_unique<risk::EmergencyStop>(*risk_);
  estop_actions_ = std::make_unique<EmergencyActionsImpl>(*this);
  warm_id_ = risk::ClientOrderId::from("warmdryrun").value;
  set_lifecycle(Lifecycle::ready);
}

void TradingCore::set_lifecycle(Lifecycle s) noexcept {
  if (s == lifecycle_) return;
  ENIGMA_LOG_INFO("supervisor", "lifecycle from={} to={}", LogLiteral{to_string(lifecycle_)}, LogLiteral{to_string(s)});
  lifecycle_ = s;
  ++counters_.lifecycle_changes;
}

TradingCore::Slot* TradingCore::find(const risk::ClientOrderId& id) noexcept {
  // Linear over a few hundred slots at most; working orders are few and this is per report, not per event.
  for (auto& s : used_slots())
    if (s.used && s.id == id) return &s;
  return nullptr;
}

// The configured limit a risk reject was compared against, for its log line (0 when the reason has no
// single configured number, e.g. a latched kill switch or a rate budget).
double TradingCore::limit_of(risk::RejectReason r, InstrumentId id) const noexcept {
  using R = risk::RejectReason;
  const risk::RiskConfig& rc = cfg_.risk;
  const bool known = id < cfg_.limits.size();
  switch (r) {
    case R::max_order_qty: return known ? cfg_.limits[id].max_order_qty.to_double() : 0;
    case R::max_position: return known ? cfg_.limits[id].max_position_qty.to_double() : 0;
    case R::max_order_notional: return rc.max_order_notional.to_double();
    case R::max_exposure: return rc.max_total_exposure.to_double();
    case R::max_group_exposure:
    case R::correlated_exposure: return rc.max_group_exposure.to_double();
    case R::max_open_orders: return rc.max_open_orders;
    case R::max_positions: return rc.max_concurrent_positions;
    case R::price_collar: return rc.price_collar_bps;  // basis points of the reference price
    case R::leverage_cap: return known ? cfg_.limits[id].max_leverage : 0;
    case R::daily_drawdown: return rc.max_daily_drawdown.to_double();
    case R::consecutive_losses: return rc.max_consecutive_losses;
    case R::off_lot: return known ? cfg_.limits[id].lot.to_double() : 0;
    case R::off_tick: return known ? cfg_.limits[id].tick.to_double() : 0;
    default: return 0;
  }
}

bool TradingCore::send(oms::OrderSpec spec, strategy::IntentReason reason, std::int64_t now_ns,
                       std::uint64_t frame_tsc, bool forced) noexcept {
  const std::uint64_t t_risk0 = rdtsc();
  const risk::RiskDecision d = forced ? risk::RiskDecision{} : risk_->check_and_reserve(spec.req, now_ns);
  const std::uint64_t t_risk1 = rdtsc();
  hist_risk.record(static_cast<std::int64_t>(t_risk1 - t_risk0));
  if (!d) {
    ++counters_.risk_rejects;
    // The id, the values the gate compared and the configured limit: what fits one binary log record.
    ENIGMA_LOG_INFO("risk", "risk_reject id={} reason={} side={} qty={} price={} ref={} stop_loss={} limit={}",
                    spec.req.client_id.view(), LogLiteral{risk::to_string(d.reason)}, side_text(spec.req.side), spec.req.qty,
                    spec.req.price, spec.req.reference_price, spec.req.stop_loss, limit_of(d.reason, spec.req.instrument));
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
      ENIGMA_LOG_WARN("oms", "order_refused id={} reason=order_table_full orders={}", spec.req.client_id.view(), om_.order_count());
      (void)risk_->on_reject(spec.req.client_id, now_ns);
      return false;
    }
  }
  // A reduce-only order without a position (strategy exit, flatten) closes the instrument's open one.
  if (spec.req.reduce_only && spec.position_id == 0)
    spec.position_id = om_.open_position_id(spec.req.instrument, spec.req.side == Side::buy ? Side::sell : Side::buy);
  // An entry opens a position, which cannot exist without its stop (oms/position.hpp).
  const bool entry = !spec.req.reduce_only && spec.position_id == 0;
  if (entry) {
    const auto pos = om_.open_position(spec.req.instrument, spec.req.side, spec.req.reference_price, spec.req.stop_loss, now_ns);
    if (!pos.ok()) {
      ++counters_.risk_rejects;
      ENIGMA_LOG_INFO("risk", "risk_reject id={} reason=position_refused error={} side={} qty={} ref={} stop_loss={}", spec.req.client_id.view(),
                      LogLiteral{to_string(pos.error)}, side_text(spec.req.side), spec.req.qty, spec.req.reference_price, spec.req.stop_loss);
      (void)risk_->on_reject(spec.req.client_id, now_ns);
      return false;
    }
    spec.position_id = pos.value->id;
  }
  // Journaled before anything leaves: a crash after this line loses no order.
  const auto journaled = om_.submit(spec, ids_.next_counter(), now_ns);
  if (!journaled.ok()) [[unlikely]] {
    const bool journal_fault = journaled.error == Errc::io;  // the OMS maps every journal failure to io
    ++(journal_fault ? counters_.journal_errors : counters_.order_table_full);
    ENIGMA_LOG_ERROR("oms", "order_refused id={} reason={} error={}", spec.req.client_id.view(),
                     LogLiteral{journal_fault ? "journal_error" : "order_table_full"}, LogLiteral{to_string(journaled.error)});
    (void)risk_->on_reject(spec.req.client_id, now_ns);
    // A journal that cannot take the record (write error, or full with no next segment): nothing may be
    // sent unjournaled, so the engine stops (RELIABILITY.md "Storage faults are first-class").
    if (journal_fault) emergency_stop(EmergencyCause::journal, now_ns);
    return false;
  }
  *slot = Slot{spec.req.client_id, reason, true, false,
               entry && spec.req.type == risk::OrderType::limit ? now_ns + cfg_.entry_timeout_ns : 0, 0};
  if (slot->expires_ns) ++resting_entries_;
  const std::uint64_t t_journal = rdtsc();
  hist_journal.record(static_cast<std::int64_t>(t_journal - t_risk1));
  // Encode and sign the exact bytes a live gateway would write to the socket.
  oms::VenueOrderEntry* const signer = entry_for_[static_cast<std::size_t>(spec.req.venue)];
  const Result<std::size_t> n = signer != nullptr ? signer->encode_new(spec, now_ns / 1'000'000, wire_.data(), wire_.size())
                                                 : Result<std::size_t>::failure(Errc::not_found);
  const std::uint64_t t_enc = rdtsc();
  if (n.ok()) {
    hist_encode.record(static_cast<std::int64_t>(t_enc - t_journal));
    hist_order.record(static_cast<std::int64_t>(t_enc - frame_tsc));
    last_encoded_ = spec;
    last_encoded_tsc_ = t_enc;
    last_encoded_len_ = n.value;
    if (first_order_stamps_.frame_tsc != frame_tsc) first_order_stamps_ = {frame_tsc, t_risk0, t_risk1, t_journal, t_enc};
    day_stats_.record_order_latency(t_enc - frame_tsc);
  } else if (n.error != Errc::not_found) {
    ++counters_.encode_errors;
  }
  if (live_ != nullptr) [[unlikely]] {
    // Live: the signed bytes go to the gateway thread; the venue's answer comes back through poll().
    slot->sent_ns = now_ns;  // order_latency.csv: the first answer completes the row
    if (!n.ok() || !send_live(oms::RestRequest::new_order, spec.req.client_id, spec.req.instrument,
                              n.value, spec.req.reduce_only)) {
      // Never left: reject locally so the order, its position and the risk reservation are released.
      if (n.ok()) ++counters_.gateway_full;
      ENIGMA_LOG_WARN("oms", "order_rejected id={} reason={} local=true", spec.req.client_id.view(),
                      LogLiteral{n.ok() ? "gateway_full" : "encode_error"});
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
    ENIGMA_LOG_WARN("oms", "order_rejected id={} reason=simulator_refused local=true", spec.req.client_id.view());
    (void)risk_->on_reject(spec.req.client_id, now_ns);
    return false;
  }
  ++counters_.orders;
  ++day_stats_.orders;
  if (spec.req.instrument < watch_.size()) ++watch_[spec.req.instrument].orders;
  ENIGMA_LOG_INFO("oms", "order_sent id={} side={} type={} qty={} price={} stop={} reduce_only={} instrument={}", spec.req.client_id.view(),
                  side_text(spec.req.side), LogLiteral{risk::to_string(spec.req.type)}, spec.req.qty, spec.req.price,
                  spec.req.stop_price, spec.req.reduce_only, spec.req.instrument);
  return true;
}

std::size_t TradingCore::warm_order_path(std::int64_t now_ns) noexcept {
  static_assert(sizeof(warm_record_) == oms::kJournalRecordSize);
  std::size_t warmed = 0;
  for (InstrumentId id = 0; id < traded_count_; ++id) {
    const Price mark = marks_[id];
    if (mark.raw() <= 0) continue;  // no market seen yet: nothing representative to price
    const InstrumentSpec& spec = registry_.get(id);
    const std::int64_t tick = std::max<std::int64_t>(1, spec.tick.raw());
    oms::OrderSpec o{};
    o.req.client_id = warm_id_;  // never sent: no id of the generator is used up
    o.req.instrument = id;
    o.req.venue = spec.venue;
    o.req.side = Side::buy;
    o.req.qty = spec.lot.raw() > 0 ? spec.lot : spec.min_qty;
    o.req.type = risk::OrderType::limit;
    o.req.tif = risk::TimeInForce::ioc;
    o.req.price = Price::from_raw(mark.raw() / tick * tick);
    o.req.reference_price = mark;
    o.req.stop_loss = Price::from_raw((mark.raw() - mark.raw() / 100) / tick * tick);
    o.req.leverage = cfg_.leverage;
    (void)risk_->check_dry(o.req, now_ns);
    oms::encode_order_record_scratch(warm_record_.data(), o, 0, now_ns);
    if (oms::VenueOrderEntry* const entry = entry_for_[static_cast<std::size_t>(spec.venue)])
      (void)entry->encode_new(o, now_ns / 1'000'000, warm_wire_.data(), warm_wire_.size());
    ++warmed;
  }
  warm_runs_ += warmed != 0;
  return warmed;
}

bool TradingCore::send_live(oms::RestRequest kind, const risk::ClientOrderId& id,
                            InstrumentId instrument, std::size_t n, bool protective) noexcept {
  return live_->try_send(kind, id, instrument, std::string_view(wire_.data(), n), rdtsc(), protective, kill_tsc_);
}

Result<std::size_t> TradingCore::encode_live_cancel(InstrumentId inst, const risk::ClientOrderId& id,
                                                    std::int64_t now_ns) noexcept {
  return live_entry_->encode_cancel(inst, id, type_of(id), now_ns / 1'000'000, wire_.data(), wire_.size());
}

Result<std::size_t> TradingCore::encode_live_query(InstrumentId inst, const risk::ClientOrderId& id,
                                                   std::int64_t now_ns) noexcept {
  return live_entry_->encode_query(inst, id, type_of(id), now_ns / 1'000'000, wire_.data(), wire_.size());
}

void TradingCore::go_live(LiveGateway& gateway, std::unique_ptr<oms::VenueOrderEntry> entry) {
  if (const std::string why = entry->dead_man_refusal(cfg_.deadman_countdown_ns); !why.empty()) throw Error(why);
  if (entry->alphanumeric_client_ids() && !cfg_.client_id_alphanumeric)
    throw Error("the venue's client order ids are letters and digits only: the core needs client_id_alphanumeric");
  gateway.set_resigner(entry->resigner());
  // Live orders go to the live venue only: an order of another venue's instrument is not encoded (rejected
  // locally) rather than signed with a simulation key and sent.
  entry_for_.fill(nullptr);
  for (std::size_t v = 0; v < entry_for_.size(); ++v)
    if (entry->serves(static_cast<Venue>(v))) entry_for_[v] = entry.get();
  live_entry_ = entry.get();
  entries_.clear();
  entries_.push_back(std::move(entry));
  start_live(gateway);
}

risk::OrderType TradingCore::type_of(const risk::ClientOrderId& id) noexcept {
  const oms::OrderState* o = om_.find(id);
  return o != nullptr ? o->spec.req.type : risk::OrderType::limit;
}

void TradingCore::start_live(LiveGateway& gateway) {
  live_pos_.assign(registry_.size(), oms::SimPosition{});
  live_account_ = oms::SimAccount{};
  live_account_.balance = cfg_.sim.initial_balance;
  live_latency_.reserve(cfg_.sim.max_latency_rows);
  live_ = &gateway;
}

std::size_t TradingCore::cancel_orders_unknown_to_simulator(std::int64_t now_ns) noexcept {
  std::size_t n = 0;
  for (oms::OrderState& o : om_.orders()) {
    if (!oms::is_working(o.status)) continue;
    oms::ExecReport r{};
    r.client_id = o.client_id();
    r.cum_qty = o.filled;
    r.venue_time_ns = now_ns;
    r.instrument = o.spec.req.instrument;
    r.kind = oms::ExecKind::canceled;
    r.status = oms::OrderStatus::canceled;
    r.reason = oms::Reason::order_not_found;
    r.side = o.spec.req.side;
    (void)om_.on_report(r, now_ns);  // journaled; `o` stays valid (on_report never moves the table)
    ++n;
  }
  return n;
}

std::optional<risk::ClientOrderId> TradingCore::apply_venue_status(const oms::ExecReport& r, std::int64_t now_ns) noexcept {
  const oms::ReportOutcome out = om_.on_report(r, now_ns);
  if (!out.cancel_sibling || live_ == nullptr) return std::nullopt;
  // Not cancel_order(): the risk gate never saw orders restored from the journal (it would refuse the
  // cancel as unknown), and one start-up cancel needs no rate budget.
  const oms::OrderState* o = om_.find(*out.cancel_sibling);
  if (o == nullptr || !oms::is_working(o->status) || om_.cancel(*out.cancel_sibling, now_ns) != Errc::ok) return std::nullopt;
  const InstrumentId inst = o->spec.req.instrument;
  const auto n = encode_live_cancel(inst, *out.cancel_sibling, now_ns);
  if (!n.ok() || !send_live(oms::RestRequest::cancel, *out.cancel_sibling, inst, n.value)) return std::nullopt;
  ++counters_.cancels;
  return out.cancel_sibling;
}

bool TradingCore::adopt_venue_order(const oms::OrderSpec& spec, Qty executed, std::int64_t now_ns) noexcept {
  if (om_.find(spec.req.client_id) != nullptr) return false;
  oms::OrderSpec s = spec;
  s.req.leverage = cfg_.leverage;
  if (!om_.submit(s, ids_.next_counter(), now_ns).ok()) return false;
  oms::ExecReport r{};
  r.client_id = spec.req.client_id;
  r.instrument = spec.req.instrument;
  r.kind = oms::ExecKind::status;  // the venue's view: resting, maybe partly filled already
  r.status = executed.raw() > 0 ? oms::OrderStatus::partially_filled : oms::OrderStatus::accepted;
  r.cum_qty = executed;
  r.venue_time_ns = now_ns;
  (void)om_.on_report(r, now_ns);
  return true;
}

void TradingCore::finish_day(bool partial) noexcept {
  if (daily_ == nullptr || day_stats_.day < 0) return;
  DailyStats& d = day_stats_;
  d.partial = partial;
  d.end_equity = last_equity().to_double();
  for (int r = 0; r < risk::kRejectReasonCount; ++r)
    d.rejects[r] = risk_->reject_count(static_cast<risk::RejectReason>(r)) - rejects_at_day_start_[r];
  (void)daily_->submit(d);
  if (partial) d.day = -1;  // handed over once
}

void TradingCore::set_venue_position(InstrumentId id, Qty signed_qty, Price entry_px) noexcept {
  if (live_ == nullptr || id >= live_pos_.size()) return;
  oms::SimPosition& p = live_pos_[id];
  p.qty = signed_qty;
  const Qty abs_qty = signed_qty.raw() < 0 ? -signed_qty : signed_qty;
  const auto n = notional_of(entry_px, abs_qty, registry_.get(id).multiplier);
  p.entry_notional = n.ok() ? n.value : Notional{};
  if (id < watch_.size()) watch_[id].qty = signed_qty;
  risk_->set_position(id, signed_qty, entry_px);
}

void TradingCore::set_venue_balance(Notional balance) noexcept {
  if (live_ == nullptr) return;
  live_account_.balance = balance;
  peak_equity_ = balance;
}

void TradingCore::cancel_order(const risk::ClientOrderId& id, std::int64_t now_ns) noexcept {
  const oms::OrderState* o = om_.find(id);
  if (o == nullptr || !oms::is_working(o->status) || o->status == oms::OrderStatus::pending_cancel) return;
  if (!risk_->check_cancel(id, now_ns)) return;
  if (om_.cancel(id, now_ns) != Errc::ok) return;  // journaled before it leaves
  if (live_ != nullptr) [[unlikely]] {
    const InstrumentId inst = o->spec.req.instrument;
    const auto n = encode_live_cancel(inst, id, now_ns);
    if (n.ok() && send_live(oms::RestRequest::cancel, id, inst, n.value)) {
      ++counters_.cancels;
      return;
    }
    // The cancel never left: the order is as it was (the next expiry scan or kill tries again).
    ++counters_.gateway_full;
    cancel_not_sent(id, inst, now_ns);
    return;
  }
  if (sim_.cancel(id, now_ns) == Errc::ok) ++counters_.cancels;
}

void TradingCore::cancel_not_sent(const risk::ClientOrderId& id, InstrumentId instrument, std::int64_t now_ns) noexcept {
  oms::ExecReport r{};
  r.client_id = id;
  r.instrument = instrument;
  r.kind = oms::ExecKind::cancel_rejected;
  r.venue_time_ns = now_ns;
  (void)om_.on_report(r, now_ns);
}

bool TradingCore::on_intent(const strategy::OrderIntent& in, std::span<const oms::PriceLevel> bids,
                            std::span<const oms::PriceLevel> asks, std::int64_t now_ns, std::uint64_t frame_tsc) noexcept {
  ++counters_.intents;
  if (in.instrument >= traded_count_ || in.strategy_id >= cfg_.entry_by_strategy.size()) [[unlikely]] {
    ++counters_.risk_rejects;  // an instrument without configured limits is never traded
    ENIGMA_LOG_INFO("risk", "risk_reject reason=unknown_instrument instrument={} strategy={}", in.instrument, in.strategy_id);
    return false;
  }
  if (lifecycle_ == Lifecycle::ready) [[unlikely]] set_lifecycle(Lifecycle::trading);
  if (!in.reduce_only && !entry_allowed(in.instrument, now_ns)) [[unlikely]] return false;
  const InstrumentSpec& spec = registry_.get(in.instrument);
  oms::OrderSpec o{};
  o.req.client_id = ids_.next();
  o.req.instrument = in.instrument;
  o.req.strategy = in.strategy_id;
  o.req.venue = spec.venue;
  o.req.side = in.side;
  o.req.qty = in.qty;
  if (cfg_.size_scale.raw() != Rate::kScale) [[unlikely]] {
    // Staged rollout: a share of the strategy's size, down to whole lots.
    const int128 scaled = static_cast<int128>(in.qty.raw()) * cfg_.size_scale.raw() / Rate::kScale;
    const std::int64_t lot = std::max<std::int64_t>(1, spec.lot.raw());
    o.req.qty = Qty::from_raw(static_cast<std::int64_t>(scaled / lot * lot));
    if (o.req.qty.raw() <= 0 || o.req.qty < spec.min_qty) {
      ++counters_.rollout_rejects;
      return false;
    }
  }
  if (cfg_.risk.correlation_sizing && !in.reduce_only) [[unlikely]] {
    // Portfolio sizing: an entry on an instrument that moves with k others already engaged takes 1/(k+1) of
    // its size, down to whole lots, so the correlated group holds about one entry's worth.
    const std::uint32_t k = risk_->correlated_engaged(in.instrument);
    if (k != 0) {
      const std::int64_t lot = std::max<std::int64_t>(1, spec.lot.raw());
      const Qty from = o.req.qty;
      o.req.qty = Qty::from_raw(o.req.qty.raw() / (k + 1) / lot * lot);
      if (o.req.qty.raw() <= 0 || o.req.qty < spec.min_qty) {
        ++counters_.correlation_size_rejects;
        ENIGMA_LOG_INFO("risk", "correlation_sizing instrument={} qty_from={} qty_to={} correlated={} refused=true",
                        spec.symbol, from, o.req.qty, k);
        return false;
      }
      ++counters_.correlation_sized;
      ENIGMA_LOG_INFO("risk", "correlation_sizing instrument={} qty_from={} qty_to={} correlated={} refused=false",
                      spec.symbol, from, o.req.qty, k);
    }
  }
  // The volatility-adjusted cap (risk gate) bounds the leverage actually used for margin and sizing.
  std::uint16_t leverage = std::min<std::uint16_t>(cfg_.leverage, std::max<std::uint16_t>(1, risk_->leverage_cap(in.instrument)));
  if (in.max_leverage != 0) leverage = std::min<std::uint16_t>(leverage, in.max_leverage);  // the regime's cap
  o.req.leverage = leverage;
  o.req.reduce_only = in.reduce_only;
  o.req.tsc = in.trigger_tsc;
  const Price mid = (!bids.empty() && !asks.empty()) ? Price::from_raw((bids[0].price.raw() + asks[0].price.raw()) / 2) : Price{};
  o.req.reference_price = mid.is_zero() ? in.entry : mid;
  // The strategy's own order: market without a price, else a limit that rests (GTC) or takes (IOC).
  const bool as_market = in.limit.is_zero();
  o.req.type = as_market ? risk::OrderType::market : risk::OrderType::limit;
  o.req.tif = as_market || in.tif == strategy::IntentTif::ioc ? risk::TimeInForce::ioc : risk::TimeInForce::gtc;
  o.req.price = in.limit;
  if (in.reduce_only) {
    // The strategy's exit ends its sliced entries on this instrument: no child may reopen what it closes.
    if (active_parents_ != 0)
      for (auto& p : parents_)
        if (p.used && p.spec.req.instrument == in.instrument && p.spec.req.strategy == in.strategy_id)
          drop_parent(p, "strategy_exit");
    // Exits never rest (a resting reduce-only order would outlive the strategy's intent): market, or the
    // strategy's IOC limit when it capped the price.
    if (o.req.tif != risk::TimeInForce::ioc) {
      o.req.type = risk::OrderType::market;
      o.req.tif = risk::TimeInForce::ioc;
      o.req.price = Price{};
    }
    return send(o, in.reason, now_ns, frame_tsc);
  }
  o.req.stop_loss = in.stop;
  o.req.take_profit = in.take_profit;
  const oms::StrategyEntryPricing& pricing = cfg_.entry_by_strategy[in.strategy_id];
  if (pricing.mode == oms::EntryMode::level) {
    // The plan's passive entry: rest at the configured book level (bids[8] for a long, asks[8] for a short:
    // catches sweeps) with a slippage guard against the mid; unfilled ones are cancelled after
    // entry_timeout_ns.
    oms::EntryPricingConfig level = cfg_.entry;
    level.level_index = pricing.level_index;
    const oms::EntryQuote q = oms::entry_price(in.side, bids, asks, level);
    if (!q.ok()) {
      ++counters_.pricing_rejects;
      ENIGMA_LOG_INFO("oms", "pricing_reject reason={} side={} level={} bid_levels={} ask_levels={}", LogLiteral{oms::to_string(q.reason)},
                      side_text(in.side), pricing.level_index, bids.size(), asks.size());
      return false;
    }
    o.req.type = risk::OrderType::limit;
    o.req.tif = risk::TimeInForce::gtc;
    o.req.price = q.price;
  }
  const bool sent = pricing.exec == oms::ExecAlgo::single ? send_entry(o, in.reason, bids, asks, now_ns, frame_tsc)
                                                          : send_sliced(o, pricing, in.reason, now_ns, frame_tsc);
  if (sent && !in.reduce_only) ++trades_today_;
  return sent;
}

bool TradingCore::entry_allowed(InstrumentId id, std::int64_t now_ns) noexcept {
  const SupervisorConfig& sc = cfg_.supervisor;
  if (sc.max_trades_per_day != 0 && trades_today_ >= sc.max_trades_per_day) {
    if (counters_.trades_per_day_rejects++ == 0)
      ENIGMA_LOG_WARN("supervisor", "trades_per_day_limit limit={} instrument={}", sc.max_trades_per_day, id);
    return false;
  }
  if (now_ns < move_paused_until_ns_) {
    ++counters_.market_move_rejects;
    return false;
  }
  return true;
}

namespace {
// Displayed qty the order would meet: the far touch for an order that crosses (market, or a limit at or
// through it), else the level at its own price on its own side; zero when there is no such level.
Qty displayed_at(const risk::OrderRequest& r, std::span<const oms::PriceLevel> bids,
                 std::span<const oms::PriceLevel> asks) noexcept {
  const bool buy = r.side == Side::buy;
  const std::span<const oms::PriceLevel> own = buy ? bids : asks;
  const std::span<const oms::PriceLevel> far = buy ? asks : bids;
  const bool crosses = r.type == risk::OrderType::market ||
                       (!far.empty() && (buy ? r.price >= far[0].price : r.price <= far[0].price));
  if (crosses) return far.empty() ? Qty{} : far[0].qty;
  for (const auto& l : own)
    if (l.price == r.price) return l.qty;
  return Qty{};
}
}  // namespace

bool TradingCore::send_entry(const oms::OrderSpec& spec, strategy::IntentReason reason,
                             std::span<const oms::PriceLevel> bids, std::span<const oms::PriceLevel> asks,
                             std::int64_t now_ns, std::uint64_t frame_tsc) noexcept {
  const Rate fraction = cfg_.exits.split_depth_fraction;
  if (fraction.raw() <= 0) return send(spec, reason, now_ns, frame_tsc);
  const Qty shown = displayed_at(spec.req, bids, asks);
  if (shown.raw() <= 0) return send(spec, reason, now_ns, frame_tsc);  // nothing displayed to size against
  const Qty max_child = Qty::from_raw(static_cast<std::int64_t>(static_cast<int128>(shown.raw()) * fraction.raw() / Rate::kScale));
  std::array<Qty, oms::ExitPlan::kMaxSplitChildren> children{};
  const Result<std::size_t> n = oms::split_order(spec.req.qty, max_child, registry_.get(spec.req.instrument).lot, children);
  if (!n.ok()) {
    // The level is too thin for this size in kMaxSplitChildren pieces (or for one lot): no order.
    ++counters_.pricing_rejects;
    ENIGMA_LOG_INFO("oms", "pricing_reject reason=split_too_thin side={} qty={} displayed={} max_child={}", side_text(spec.req.side),
                    spec.req.qty, shown, max_child);
    return false;
  }
  if (n.value == 1) return send(spec, reason, now_ns, frame_tsc);
  // Every child belongs to the position the first one opens; the rest are sent with its id.
  std::uint32_t position_id = 0;
  bool any = false;
  for (std::size_t i = 0; i < n.value; ++i) {
    oms::OrderSpec child = spec;
    if (i > 0) child.req.client_id = ids_.next();
    child.req.qty = children[i];
    child.req.split_child = true;
    child.position_id = position_id;
    if (!send(child, reason, now_ns, frame_tsc)) break;  // refused (counted): the later children are not sent
    any = true;
    if (i == 0) {
      const oms::OrderState* first = om_.find(child.req.client_id);
      position_id = first != nullptr ? first->spec.position_id : 0;
      if (position_id == 0) break;
    } else if (child.req.type == risk::OrderType::limit && child.req.tif == risk::TimeInForce::gtc) {
      // send() gives the resting-entry timeout only to the order that opened the position.
      Slot* s = find(child.req.client_id);
      if (s != nullptr && s->expires_ns == 0) {
        s->expires_ns = now_ns + cfg_.entry_timeout_ns;
        ++resting_entries_;
      }
    }
  }
  return any;
}

bool TradingCore::send_sliced(const oms::OrderSpec& spec, const oms::StrategyEntryPricing& pricing,
                              strategy::IntentReason reason, std::int64_t now_ns, std::uint64_t frame_tsc) noexcept {
  // An iceberg goes as the venue's own where it offers one and the order fits its rules: one order that
  // shows display_qty at a time, refilled by the venue (no child waits for our fill report).
  if (pricing.exec == oms::ExecAlgo::iceberg && pricing.iceberg_native && oms::native_iceberg(spec.req.venue).offered)
      [[unlikely]] {
    if (oms::native_iceberg_fits(spec, pricing.display_qty)) {
      oms::OrderSpec o = spec;
      o.display_qty = pricing.display_qty;
      if (!send(o, reason, now_ns, frame_tsc)) return false;
      ++counters_.native_icebergs;
      ENIGMA_LOG_INFO("oms", "iceberg_native id={} venue={} qty={} visible={}", o.req.client_id.view(),
                      LogLiteral{to_string(o.req.venue)}, o.req.qty, o.display_qty);
      return true;
    }
    ++counters_.native_iceberg_unfit;
    ENIGMA_LOG_INFO("oms", "iceberg_sliced venue={} qty={} visible={} why={}", LogLiteral{to_string(spec.req.venue)},
                    spec.req.qty, pricing.display_qty,
                    LogLiteral{spec.req.type != risk::OrderType::limit || spec.req.tif != risk::TimeInForce::gtc
                                   ? "not_a_gtc_limit"
                                   : "visible_size_outside_venue_rule"});
  }
  ExecParent* p = nullptr;
  for (auto& x : parents_)
    if (!x.used) { p = &x; break; }
  const InstrumentSpec& inst = registry_.get(spec.req.instrument);
  const std::int64_t lot = std::max<std::int64_t>(1, inst.lot.raw());
  const Qty qty = spec.req.qty;
  Qty child{};
  std::int64_t n = 0;
  if (pricing.exec == oms::ExecAlgo::twap || pricing.exec == oms::ExecAlgo::vwap) {
    child = Qty::from_raw(qty.raw() / std::max<std::int64_t>(1, pricing.slices) / lot * lot);
    n = pricing.slices;
  } else {
    child = std::min(pricing.display_qty, qty);
    n = child.raw() > 0 ? (qty.raw() + child.raw() - 1) / child.raw() : 0;
  }
  // Start-up checks make this rare (a rollout size_scale can shrink the parent below its slices).
  if (p == nullptr || child.raw() <= 0 || child < inst.min_qty || n <= 0 || n > oms::kMaxExecSlices) [[unlikely]] {
    ++counters_.pricing_rejects;
    ENIGMA_LOG_INFO("oms", "pricing_reject reason={} side={} qty={} child={}", LogLiteral{p == nullptr ? "exec_parents_full" : "slice_too_small"},
                    side_text(spec.req.side), qty, child);
    return false;
  }
  *p = ExecParent{};
  p->algo = pricing.exec;
  p->spec = spec;
  p->reason = reason;
  p->left = qty;
  p->child_qty = child;
  p->to_send = static_cast<std::uint16_t>(n);
  p->interval_ns = pricing.slice_interval_ns;
  p->next_ns = now_ns;
  p->total = static_cast<std::uint16_t>(n);
  if (pricing.exec == oms::ExecAlgo::vwap &&
      !vwap_sizes(spec.req.instrument, now_ns, pricing.vwap_horizon_ns, static_cast<std::size_t>(n), qty,
                  std::span<Qty>(p->sizes.data(), static_cast<std::size_t>(n))))
    ++counters_.vwap_fallbacks;
  if (!send_child(*p, true, now_ns, frame_tsc)) return false;  // refused (counted): no parent
  if (p->algo == oms::ExecAlgo::iceberg) p->next_ns = INT64_MAX;  // the next child waits for this one's fill
  if (p->to_send != 0) {
    p->used = true;
    ++active_parents_;
  }
  return true;
}

bool TradingCore::send_child(ExecParent& p, bool first, std::int64_t now_ns, std::uint64_t frame_tsc) noexcept {
  oms::OrderSpec child = p.spec;
  if (!first) {
    child.req.client_id = ids_.next();
    child.req.tsc = frame_tsc;
    // A taking parent's later children take at the market then (the intent's price cap belonged to its
    // book); a resting parent's children rest at its price.
    if (child.req.tif == risk::TimeInForce::ioc) {
      child.req.type = risk::OrderType::market;
      child.req.price = Price{};
      const Price mark = marks_[child.req.instrument];
      if (!mark.is_zero()) child.req.reference_price = mark;
    }
  }
  const Qty q = p.to_send == 1                  ? p.left
                : p.algo == oms::ExecAlgo::vwap ? std::min(p.sizes[p.total - p.to_send], p.left)
                                                : std::min(p.child_qty, p.left);
  child.req.qty = q;
  child.req.split_child = true;  // children of one parent are not duplicate orders of each other
  child.position_id = p.position_id;
  if (!send(child, p.reason, now_ns, frame_tsc)) return false;
  ++counters_.exec_children;
  p.left -= q;
  --p.to_send;
  if (first) p.next_ns = now_ns + p.interval_ns;
  if (first) {
    const oms::OrderState* o = om_.find(child.req.client_id);
    p.position_id = o != nullptr ? o->spec.position_id : 0;
    if (p.position_id == 0) p.to_send = 0;  // cannot happen for an entry: no children without its position
  } else if (child.req.type == risk::OrderType::limit && child.req.tif == risk::TimeInForce::gtc) {
    // send() gives the resting-entry timeout only to the order that opened the position.
    Slot* s = find(child.req.client_id);
    if (s != nullptr && s->expires_ns == 0) {
      s->expires_ns = now_ns + cfg_.entry_timeout_ns;
      ++resting_entries_;
    }
  }
  ENIGMA_LOG_INFO("oms", "exec_child id={} algo={} qty={} left={} children_left={} position={}", child.req.client_id.view(),
                  LogLiteral{p.algo == oms::ExecAlgo::twap ? "twap" : p.algo == oms::ExecAlgo::vwap ? "vwap" : "iceberg"}, q, p.left,
                  p.to_send, p.position_id);
  return true;
}

bool TradingCore::vwap_sizes(InstrumentId id, std::int64_t now_ns, std::int64_t horizon_ns, std::size_t n, Qty qty,
                             std::span<Qty> out) noexcept {
  const InstrumentSpec& inst = registry_.get(id);
  const std::int64_t lot = std::max<std::int64_t>(1, inst.lot.raw());
  const auto equal = [&] {
    const std::int64_t each = qty.raw() / static_cast<std::int64_t>(n) / lot * lot;
    for (std::size_t k = 0; k + 1 < n; ++k) out[k] = Qty::from_raw(each);
    out[n - 1] = Qty::from_raw(qty.raw() - each * static_cast<std::int64_t>(n - 1));
    return false;
  };
  if (tape_.empty() || id >= traded_count_ || horizon_ns <= 0) return equal();
  const std::int64_t from = now_ns - horizon_ns;
  const std::uint64_t count = tape_count_[id];
  const std::uint64_t kept = std::min<std::uint64_t>(count, kTapeCap);
  const TapeTrade* ring = tape_.data() + id * kTapeCap;
  // Overflowed within the horizon: the oldest trade kept is inside it, so older ones in it were lost.
  if (count > kTapeCap && ring[(count - kept) % kTapeCap].t >= from) return equal();
  std::array<int128, oms::kMaxExecSlices> vol{};
  int128 total = 0;
  for (std::uint64_t i = count - kept; i < count; ++i) {
    const TapeTrade& tr = ring[i % kTapeCap];
    if (tr.t < from || tr.t >= now_ns) continue;
    const auto k = static_cast<std::size_t>(static_cast<int128>(tr.t - from) * static_cast<int128>(n) / horizon_ns);
    vol[k] += tr.qty.raw();
    total += tr.qty.raw();
  }
  if (total <= 0) return equal();
  // Every child at least the smallest lot multiple the venue accepts; the rest by volume share, to the lot.
  const std::int64_t base = (std::max(inst.min_qty.raw(), lot) + lot - 1) / lot * lot;
  const std::int64_t extra = qty.raw() - base * static_cast<std::int64_t>(n);
  if (extra < 0) return equal();
  std::int64_t sum = 0;
  for (std::size_t k = 0; k + 1 < n; ++k) {
    const auto share = static_cast<std::int64_t>(static_cast<int128>(extra) * vol[k] / total / lot * lot);
    out[k] = Qty::from_raw(base + share);
    sum += base + share;
  }
  out[n - 1] = Qty::from_raw(qty.raw() - sum);
  return true;
}

void TradingCore::drop_parent(ExecParent& p, const char* why) noexcept {
  if (!p.used) return;
  if (p.to_send != 0) {
    counters_.exec_children_cancelled += p.to_send;
    ENIGMA_LOG_INFO("oms", "exec_parent_cancelled position={} unsent_children={} unsent_qty={} why={}", p.position_id, p.to_send,
                    p.left, LogLiteral{why});
  }
  p.used = false;
  --active_parents_;
}

void TradingCore::run_parents(std::int64_t now_ns) noexcept {
  // A child and its bracket legs (stop, take-profit legs) must fit the submit budget together: otherwise
  // the child waits (a later poll), so no leg of a filled child is ever refused for the rate.
  const std::int64_t legs = cfg_.bracket_exits ? 1 + std::max<std::int64_t>(1, static_cast<std::int64_t>(cfg_.exits.ladder_legs)) : 0;
  for (auto& p : parents_) {
    if (!p.used || now_ns < p.next_ns) continue;
    const oms::Position* pos = om_.position(p.position_id);
    if (pos == nullptr || pos->state == oms::PositionState::closed) {
      drop_parent(p, "position_closed");  // stopped out or exited before the parent completed
      continue;
    }
    if (risk_->submit_room(p.spec.req.strategy, p.spec.req.venue, now_ns) < 1 + legs) {
      ++counters_.exec_paced;
      continue;
    }
    const std::int64_t due = p.next_ns;
    if (!send_child(p, false, now_ns, rdtsc())) {
      drop_parent(p, "child_refused");
      continue;
    }
    if (p.algo == oms::ExecAlgo::iceberg) p.next_ns = INT64_MAX;  // until this child fills
    else p.next_ns = due + p.interval_ns;                        // the schedule, not the send time
    if (p.to_send == 0) drop_parent(p, "complete");
  }
}

void TradingCore::on_child_done(std::uint32_t position_id, bool filled, std::int64_t now_ns) noexcept {
  for (auto& p : parents_) {
    if (!p.used || p.position_id != position_id) continue;
    if (!filled) {
      drop_parent(p, "child_unfilled");  // IOC remainder, entry timeout, venue reject or cancel
      return;
    }
    if (p.algo == oms::ExecAlgo::iceberg) {
      p.next_ns = now_ns;  // the next child goes now (or when the budget has room)
      run_parents(now_ns);
    }
    return;
  }
}

void TradingCore::place_brackets(const oms::OrderState& entry, strategy::IntentReason reason, Qty qty,
                                 std::int64_t now_ns, std::uint64_t cause_tsc) noexcept {
  const auto& req = entry.spec.req;
  if (!cfg_.bracket_exits || req.reduce_only) return;
  // A ladder has several take-profit legs: one-cancels-other pairs cannot express it, so the legs are
  // independent and cancel_exits() clears what is left when the position is flat.
  const bool ladder = cfg_.exits.ladder_legs > 0;
  const std::uint32_t oco = ladder ? 0 : next_oco_++;
  const std::uint32_t position_id = entry.spec.position_id;
  oms::OrderSpec exit{};
  exit.req = req;
  exit.req.side = opposite(req.side);
  exit.req.tif = risk::TimeInForce::gtc;
  exit.req.price = Price{};
  exit.req.stop_loss = Price{};
  exit.req.take_profit = Price{};
  exit.req.qty = qty;
  exit.req.reduce_only = true;
  // Each fill gets its own legs, so equal fills (of split children, of a native iceberg's visible parts, or
  // two equal partial fills of one resting entry) get equal legs. They protect different parts of the
  // position, not repeats: refusing the second pair as duplicate_order would leave that part unprotected.
  exit.req.split_child = true;
  exit.oco_group = oco;
  exit.position_id = position_id;
  if (!req.stop_loss.is_zero()) {
    oms::OrderSpec stop = exit;
    stop.req.client_id = ids_.next();
    stop.req.type = risk::OrderType::stop_market;
    stop.req.stop_price = req.stop_loss;
    (void)send(stop, reason, now_ns, cause_tsc);
  }
  if (req.take_profit.is_zero()) return;
  const oms::Position* pos = om_.position(position_id);
  const Price entry_px = pos != nullptr && !pos->avg_entry().is_zero() ? pos->avg_entry()
                         : !req.price.is_zero()                         ? req.price
                                                                        : req.reference_price;
  place_take_profits(exit, entry_px, req.take_profit, qty, reason, now_ns, cause_tsc);
}

void TradingCore::place_take_profits(const oms::OrderSpec& exit, Price entry_px, Price target, Qty qty,
                                     strategy::IntentReason reason, std::int64_t now_ns, std::uint64_t cause_tsc) noexcept {
  oms::OrderSpec tp = exit;
  tp.req.type = risk::OrderType::take_profit_market;
  const std::size_t legs = cfg_.exits.ladder_legs;
  std::array<Qty, oms::ExitPlan::kMaxLadderLegs> leg_qty{};
  const InstrumentSpec& inst = registry_.get(exit.req.instrument);
  // Too small to split into whole lots per leg: one leg at the strategy's target, as without a ladder.
  if (legs == 0 || oms::take_profit_ladder(qty, inst.lot, std::span<Qty>(leg_qty.data(), legs)) != Errc::ok) {
    tp.req.client_id = ids_.next();
    tp.req.stop_price = target;
    (void)send(tp, reason, now_ns, cause_tsc);
    return;
  }
  const bool is_long = exit.req.side == Side::sell;  // the exit sells a long
  const int128 distance = static_cast<int128>(target.raw()) - entry_px.raw();
  for (std::size_t i = 0; i < legs; ++i) {
    // Leg i at entry + fraction x (target - entry), on the tick, rounded toward the entry (never past the
    // strategy's target).
    const int128 move = distance * cfg_.exits.ladder[i].raw() / Rate::kScale;
    const Price raw = Price::from_raw(static_cast<std::int64_t>(entry_px.raw() + move));
    tp.req.client_id = ids_.next();
    tp.req.stop_price = raw.round_to(inst.tick, is_long ? Rounding::down : Rounding::up);
    tp.req.qty = leg_qty[i];
    (void)send(tp, reason, now_ns, cause_tsc);
  }
}

void TradingCore::manage_stops(InstrumentId id, Price mid, std::int64_t now_ns) noexcept {
  if (!cfg_.exits.manages_stops() || mid.is_zero()) return;
  const Qty held = position(id).qty;
  if (held.is_zero()) {
    stop_extreme_[id] = Price{};
    return;
  }
  // Both the staircase and the break-even move are monotone in the price: nothing can change before the
  // mid makes a new favourable extreme, so most marks end here without scanning the orders.
  const bool is_long = held.raw() > 0;
  Price& extreme = stop_extreme_[id];
  if (!extreme.is_zero() && (is_long ? mid <= extreme : mid >= extreme)) return;
  extreme = mid;
  const InstrumentSpec& inst = registry_.get(id);
  for (auto& s : used_slots()) {
    if (!s.used) continue;
    const oms::OrderState* o = om_.find(s.id);
    if (o == nullptr || o->spec.req.instrument != id || o->spec.req.type != risk::OrderType::stop_market ||
        !o->spec.req.reduce_only || !oms::is_working(o->status) || o->status == oms::OrderStatus::pending_cancel)
      continue;
    const oms::Position* p = om_.position(o->spec.position_id);
    if (p == nullptr || !p->is_open() || (p->side == Side::buy) != is_long) continue;
    const Price entry = p->avg_entry();
    if (entry.is_zero()) continue;
    const Price current = o->spec.req.stop_price;
    Price target = current;
    if (cfg_.exits.trailing.step_pct.raw() > 0)
      target = risk::trailing_stop(cfg_.exits.trailing, entry, mid, current, cfg_.leverage, p->side, inst.tick);
    if (cfg_.exits.break_even_trigger_roi_pct.raw() > 0 &&
        risk::roi_pct(entry, mid, cfg_.leverage, p->side) >= cfg_.exits.break_even_trigger_roi_pct) {
      // Break-even: the price whose ROI pays the taker fee both ways plus the gate's buffer, i.e. a stop
      // at a negative stop-loss ROI of that size, rounded away from the entry (never below break-even).
      const Rate fees = risk::break_even_roi_pct(cfg_.limits[id].taker_fee, cfg_.leverage,
                                                 risk_->config().break_even_buffer_pct);
      const Result<Price> be = risk::stop_loss_price(entry, -fees, cfg_.leverage, p->side, inst.tick,
                                                     is_long ? Rounding::up : Rounding::down);
      if (be.ok() && (is_long ? be.value > target : be.value < target)) target = be.value;
    }
    // Only a strictly tighter stop that still sits on the losing side of the market is sent.
    const bool tighter = is_long ? target > current : target < current;
    const bool below_market = is_long ? target < mid : target > mid;
    if (tighter && below_market) replace_stop(s.id, target, mid, now_ns);
  }
}

void TradingCore::replace_stop(const risk::ClientOrderId& old_id, Price new_stop, Price mid, std::int64_t now_ns) noexcept {
  const oms::OrderState* old = om_.find(old_id);
  const Slot* slot = find(old_id);
  if (old == nullptr || slot == nullptr) return;
  oms::OrderSpec o = old->spec;  // copied: send() may purge the order table
  const strategy::IntentReason reason = slot->reason;
  o.req.client_id = ids_.next();
  o.req.stop_price = new_stop;
  o.req.qty = old->remaining();
  o.req.reference_price = mid;
  o.oco_group = 0;  // the old leg's one-cancels-other pair retires with its cancel; cancel_exits covers flat
  // The new stop goes out first: the position is never without one (both are reduce-only, so both
  // firing cannot trade past flat). A refused replacement leaves the old stop working.
  if (!send(o, reason, now_ns, rdtsc())) return;
  (void)om_.trail_stop(o.position_id, new_stop, now_ns);  // journaled; the position's stop only tightens
  cancel_order(old_id, now_ns);
  ++stop_moves_;
}

void TradingCore::cancel_exits(InstrumentId id, std::int64_t now_ns) noexcept {
  for (auto& s : used_slots()) {
    if (!s.used) continue;
    const oms::OrderState* o = om_.find(s.id);
    if (o != nullptr && o->spec.req.instrument == id && o->spec.req.reduce_only) cancel_order(s.id, now_ns);
  }
}

void TradingCore::on_market(const Event& e, std::int64_t now_ns) noexcept {
  if (!tape_.empty() && e.h.type == EventType::trade && e.h.instrument < traded_count_) {
    std::uint64_t& n = tape_count_[e.h.instrument];
    tape_[e.h.instrument * kTapeCap + n % kTapeCap] = {now_ns, e.trade.qty};
    ++n;
  }
  if (e.h.type == EventType::trade && e.h.instrument < traded_count_ &&
      risk_->on_trade_price(e.h.instrument, e.trade.price, now_ns) != 0) [[unlikely]]
    log_correlation_changes();
  if (live_ != nullptr) return;  // live: the venue matches, not us
  if (cfg_.sim.feed_latency_capture && e.h.recv_tsc != feed_frame_tsc_) {
    // First event of a frame: its feed latency is the capture's receive time minus the venue's event time,
    // less the clock offset between the two clocks, taken as the smallest difference seen so far (the
    // fastest frame counts as 0). A frame without a venue time takes the constant feed_latency.
    feed_frame_tsc_ = e.h.recv_tsc;
    std::int64_t lat = cfg_.sim.feed_latency_ns;
    if (e.h.venue_time_ns > 0) {
      const std::int64_t d = now_ns - e.h.venue_time_ns;
      if (!feed_offset_known_ || d < feed_offset_ns_) {
        feed_offset_ns_ = d;
        feed_offset_known_ = true;
      }
      lat = d - feed_offset_ns_;
      feed_latency_hist_.record(lat);
    } else {
      ++feed_frames_fallback_;
    }
    feed_latency_now_ns_ = lat;
    sim_.set_report_latency(lat);  // the private stream travels the same route as this frame
  }
  sim_.on_event(e, sim_time(now_ns));
}

void TradingCore::log_correlation_changes() noexcept {
  const risk::ReturnCorrelation* c = risk_->correlation();
  const std::size_t n = c->instruments();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const double rho = c->rho(i, j);
      const bool now = c->ready() && rho >= cfg_.risk.correlation_threshold;
      const std::uint32_t bit = 1u << j;
      if (now == ((correlated_[i] & bit) != 0)) continue;
      correlated_[i] ^= bit;
      ++counters_.correlation_changes;
      ENIGMA_LOG_INFO("risk", "correlation a={} b={} rho={} correlated={} threshold={} interval_end={} rows={}",
                      registry_.get(static_cast<InstrumentId>(i)).symbol, registry_.get(static_cast<InstrumentId>(j)).symbol,
                      rho, now, cfg_.risk.correlation_threshold, c->last_close_ns(), c->rows());
    }
  }
}

std::int64_t TradingCore::sim_time(std::int64_t now_ns) noexcept {
  if (!cfg_.sim.feed_latency_capture) return now_ns;
  // The matching engine saw this data feed_latency before we did; its clock never runs backwards.
  sim_time_ns_ = std::max(sim_time_ns_, now_ns - feed_latency_now_ns_);
  return sim_time_ns_;
}

Notional TradingCore::unrealized(InstrumentId id) const noexcept {
  const oms::SimPosition& p = position(id);
  if (p.qty.is_zero() || marks_[id].is_zero()) return Notional{};
  const auto value = notional_of(marks_[id], p.qty.abs(), registry_.get(id).multiplier);
  if (!value.ok()) return Notional{};
  return p.qty.raw() > 0 ? value.value - p.entry_notional : p.entry_notional - value.value;
}

TradingCore::InstrumentFigures TradingCore::figures(InstrumentId id) const noexcept {
  InstrumentFigures f;
  if (id >= traded_count_) return f;
  const InstrumentWatch& w = watch_[id];
  const oms::SimPosition& p = position(id);
  f.orders = w.orders;
  f.fills = w.fills;
  f.round_trips = w.trips;
  f.losing_trips = w.losing_trips;
  f.realized = p.realized_pnl;
  f.unrealized = unrealized(id);
  f.fees = p.fees;
  f.funding = p.funding;
  f.net = f.realized + f.unrealized - f.fees - f.funding;
  return f;
}

Notional TradingCore::last_equity() const noexcept {
  Notional u{};
  for (std::size_t i = 0; i < traded_count_; ++i) u += unrealized(static_cast<InstrumentId>(i));
  return account().balance + u;
}

void TradingCore::mark(InstrumentId id, Price mid, std::int64_t now_ns) noexcept {
  if (id >= traded_count_) return;
  marks_[id] = mid;
  manage_stops(id, mid, now_ns);
  if (now_ns < next_equity_ns_) return;
  next_equity_ns_ = now_ns + cfg_.equity_sample_ns;
  const Notional eq = last_equity();
  if (eq > peak_equity_) peak_equity_ = eq;
  if (peak_equity_ - eq > max_drawdown_) max_drawdown_ = peak_equity_ - eq;
  if (equity_.size() < equity_.capacity()) {
    equity_.push_back({now_ns, eq, account().balance, position(0).qty, marks_[0]});
    for (std::size_t i = 0; i < traded_count_; ++i) equity_by_instrument_.push_back(figures(static_cast<InstrumentId>(i)).net);
  } else {
    ++counters_.dropped_rows;
  }
  supervise(now_ns);
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
  if (s != nullptr && s->sent_ns != 0 && live_ != nullptr) [[unlikely]] {
    // Live: the order's first answer (ack, reject or fill) completes its order_latency.csv row.
    if (live_latency_.size() < live_latency_.capacity())
      live_latency_.push_back({r.client_id, s->sent_ns, r.venue_time_ns, now_ns});
    else
      ++counters_.dropped_rows;
    s->sent_ns = 0;
  }
  const oms::ReportOutcome out = om_.on_report(r, now_ns);  // journaled, applied, OCO paired
  if (s == nullptr || out.order == nullptr) return;  // not ours (simulation never does this)
  const oms::OrderState& o = *out.order;
  const oms::ApplyResult& a = out.applied;
  const auto& id = r.client_id;
  switch (r.kind) {
    case oms::ExecKind::accepted:
      (void)risk_->on_ack(id, now_ns);
      ENIGMA_LOG_INFO("oms", "order_ack id={} venue_id={} status={}", id.view(), r.venue_order_id.view(), LogLiteral{oms::to_string(o.status)});
      break;
    case oms::ExecKind::rejected:
      if (r.reason == oms::Reason::rate_limited) [[unlikely]] {
        // Refused by our own venue budget / back-off before it left: not a venue failure, so it does not
        // count towards the breaker's reject limit (which would keep entries off after the back-off ended).
        (void)risk_->on_cancel(id, now_ns);
        ENIGMA_LOG_WARN("oms", "order_rejected id={} reason={} local=true", id.view(), LogLiteral{oms::to_string(r.reason)});
        break;
      }
      (void)risk_->on_reject(id, now_ns);
      ++counters_.venue_rejects;
      ENIGMA_LOG_WARN("oms", "order_rejected id={} reason={} local=false", id.view(), LogLiteral{oms::to_string(r.reason)});
      break;
    case oms::ExecKind::canceled:
    case oms::ExecKind::expired:
      (void)risk_->on_cancel(id, now_ns);
      ENIGMA_LOG_INFO("oms", "order_canceled id={} kind={} reason={} filled={}", id.view(), LogLiteral{oms::to_string(r.kind)},
                      LogLiteral{oms::to_string(r.reason)}, o.filled);
      break;
    case oms::ExecKind::cancel_rejected:
      ENIGMA_LOG_WARN("oms", "cancel_rejected id={} reason={} status={}", id.view(), LogLiteral{oms::to_string(r.reason)},
                      LogLiteral{oms::to_string(o.status)});
      // "Already filled, canceled or unknown": the push that says which may never come (its stream was down).
      // Unless it comes first, a query a little later settles the order.
      if (live_ != nullptr && r.reason == oms::Reason::order_not_found && oms::is_working(o.status)) {
        if (s->query_at_ns == 0) ++pending_queries_;
        s->verify = true;
        s->query_at_ns = now_ns + cfg_.unknown_query_delay_ns;
      }
      break;
    case oms::ExecKind::triggered: ENIGMA_LOG_INFO("oms", "order_triggered id={}", id.view()); break;
    case oms::ExecKind::status:
      // The venue's answer to a query (a lost answer, a reconnect's check). An order it ended without a fill
      // to come (canceled, expired, rejected, never booked) is released from the gate here, as a pushed cancel
      // would be; a fill it reports is booked below.
      if (oms::is_terminal(o.status) && o.status != oms::OrderStatus::filled) (void)risk_->on_cancel(id, now_ns);
      ENIGMA_LOG_INFO("oms", "order_status id={} status={} filled={} source=query", id.view(), LogLiteral{oms::to_string(o.status)}, o.filled);
      break;
    default: break;
  }
  if (out.cancel_sibling) cancel_order(*out.cancel_sibling, now_ns);
  if (!a.fill_qty.is_zero()) {
    ++counters_.fills;
    ++day_stats_.fills;
    day_stats_.fees += a.fill_fee.to_double();
    const InstrumentId inst = o.spec.req.instrument;
    if (inst < watch_.size()) ++watch_[inst].fills;
    ENIGMA_LOG_INFO("oms", "fill id={} side={} qty={} price={} fee={} maker={} status={} instrument={}", id.view(), side_text(o.spec.req.side),
                    a.fill_qty, a.fill_px, a.fill_fee, r.maker, LogLiteral{oms::to_string(o.status)}, inst);
    if (live_ != nullptr) [[unlikely]] book_live_fill(inst, o.spec.req.side, a.fill_px, a.fill_qty, a.fill_fee);
    (void)risk_->on_fill(id, a.fill_px, a.fill_qty, now_ns);
    risk_->set_position(inst, position(inst).qty, a.fill_px);
    if (trades_.size() < trades_.capacity())
      trades_.push_back({r.venue_time_ns, inst, o.spec.req.side, r.maker, a.fill_px, a.fill_qty, a.fill_fee, id, s->reason,
                         !o.spec.req.stop_price.is_zero() ? o.spec.req.stop_price
                         : !o.spec.req.price.is_zero()    ? o.spec.req.price
                                                          : o.spec.req.reference_price});
    else ++counters_.dropped_rows;
    on_fill(ctx, {o.spec.req.tsc, a.fill_px, a.fill_qty, inst, o.spec.req.strategy, o.spec.req.side});
    if (!o.spec.req.reduce_only) place_brackets(o, s->reason, a.fill_qty, now_ns, poll_tsc);
    if (position(inst).qty.is_zero()) cancel_exits(inst, now_ns);
    on_position_change(inst, o.spec.req.side, a.fill_px, a.fill_qty, o.spec.req.strategy, now_ns);
  }
  if (oms::is_terminal(o.status)) {
    if (s->expires_ns) --resting_entries_;
    if (s->query_at_ns) --pending_queries_;
    s->used = false;
    // A child of a sliced entry ended: the iceberg's next child goes, or an unfilled child ends its parent.
    if (active_parents_ != 0 && !o.spec.req.reduce_only && o.spec.position_id != 0)
      on_child_done(o.spec.position_id, o.filled == o.spec.req.qty, now_ns);
  }
}

void TradingCore::poll(std::int64_t now_ns, FillFn on_fill, void* ctx) noexcept {
  const std::uint64_t poll_tsc = rdtsc();  // orders placed because of a report count from its arrival
  if (live_ != nullptr) [[unlikely]] {
    poll_live(now_ns, poll_tsc, on_fill, ctx);
    return;
  }
  sim_.advance(sim_time(now_ns));
  expire_entries(now_ns);
  if (active_parents_ != 0) run_parents(now_ns);
  for (;;) {
    const std::size_t n = sim_.poll_reports(now_ns, report_buf_);
    for (std::size_t i = 0; i < n; ++i) handle_report(report_buf_[i], now_ns, poll_tsc, on_fill, ctx);
    if (n < report_buf_.size()) break;
  }
}

void TradingCore::poll_live(std::int64_t now_ns, std::uint64_t poll_tsc, FillFn on_fill, void* ctx) noexcept {
  expire_entries(now_ns);
  if (active_parents_ != 0) run_parents(now_ns);
  if (cfg_.deadman_countdown_ns > 0 && now_ns >= next_deadman_ns_) [[unlikely]]
    refresh_deadman(now_ns, cfg_.deadman_countdown_ns / 1'000'000);
  if (kill_retry_ns_ != 0 && now_ns >= kill_retry_ns_) [[unlikely]] retry_kill_cancels(now_ns);
  GatewayReport g;
  while (live_->try_pop(g)) {
    if (g.report.client_id.empty()) {  // a cancel-all or dead-man request failed (the gateway logged it)
      ++counters_.instrument_request_failures;
      if (g.venue_code != 0) counters_.last_venue_code = g.venue_code;
      // The dead-man timer may be unarmed now (OKX refuses a second cancel-all-after within a second with
      // 50011, as after a quick restart; a 5xx): it is sent again shortly, not a third of the countdown later.
      if (cfg_.deadman_countdown_ns > 0) next_deadman_ns_ = std::min(next_deadman_ns_, now_ns + kDeadmanRetryNs);
      // The dead-man refresh is often the first signed request of a run: a key the venue refuses there is
      // refused for orders too, so the stop comes before the first order rather than after it.
      if (live_entry_->credentials_refused(g.venue_code)) [[unlikely]] emergency_stop(EmergencyCause::credentials, now_ns);
      continue;
    }
    if (g.venue_code != 0) counters_.last_venue_code = g.venue_code;
    if (live_entry_->credentials_refused(g.venue_code)) [[unlikely]] emergency_stop(EmergencyCause::credentials, now_ns);
    if (g.report.kind == oms::ExecKind::cancel_rejected) ++counters_.cancel_rejects;
    if (g.unknown) {
      // 5xx / timeout: the venue may or may not have the order. Keep it working (limits still count it)
      // and ask the venue by client order id a little later.
      ++counters_.unknown_outcomes;
      (void)om_.on_timeout(g.report.client_id, now_ns);
      Slot* s = find(g.report.client_id);
      if (s != nullptr) {
        if (s->query_at_ns == 0) ++pending_queries_;
        s->query_at_ns = now_ns + cfg_.unknown_query_delay_ns;
      }
      continue;
    }
    if (!g.placed_order.view().empty()) [[unlikely]] query_placed(g, now_ns);
    handle_report(g.report, now_ns, poll_tsc, on_fill, ctx);
  }
  {  // the venue's view of our request rate (relaxed loads of the gateway's counters; no syscall)
    const LiveGatewayStats& gs = live_->stats();
    counters_.venue_used_weight = gs.used_weight.load(std::memory_order_relaxed);
    counters_.venue_order_count_short = gs.order_count_short.load(std::memory_order_relaxed);
    counters_.venue_order_count_long = gs.order_count_long.load(std::memory_order_relaxed);
    counters_.venue_http_429 = gs.http_429.load(std::memory_order_relaxed);
    counters_.venue_http_418 = gs.http_418.load(std::memory_order_relaxed);
    counters_.venue_rate_refusals = gs.budget_refusals.load(std::memory_order_relaxed) + gs.backoff_refusals.load(std::memory_order_relaxed) +
                                    gs.ban_refusals.load(std::memory_order_relaxed);
  }
  // An IP ban (418): the gateway refuses new orders from now on; the supervisor stops (once per ban).
  if (live_->venue_banned() && !venue_ban_seen_) [[unlikely]] {
    venue_ban_seen_ = true;
    emergency_stop(EmergencyCause::venue_ban, now_ns);
  }
  // The user-data stream or the order connection came back: reports may have been missed meanwhile.
  if (const std::uint64_t e = live_->resync_epoch(); e != seen_resync_epoch_) [[unlikely]] {
    seen_resync_epoch_ = e;
    verify_working(now_ns);
  }
  if (pending_queries_ != 0) [[unlikely]] query_unknown(now_ns);
}

void TradingCore::verify_working(std::int64_t now_ns) noexcept {
  std::size_t n = 0;
  for (auto& s : used_slots()) {
    if (!s.used) continue;
    const oms::OrderState* o = om_.find(s.id);
    if (o == nullptr || !oms::is_working(o->status)) continue;
    s.verify = true;
    if (s.query_at_ns == 0) ++pending_queries_;
    s.query_at_ns = now_ns;
    ++n;
  }
  ++counters_.reconnect_reconciliations;
  ENIGMA_LOG_WARN("live", "reconnect_reconciliation working_orders={} action=query", n);
}

void TradingCore::query_unknown(std::int64_t now_ns) noexcept {
  for (auto& s : used_slots()) {
    if (!s.used || s.query_at_ns == 0 || now_ns < s.query_at_ns) continue;
    const oms::OrderState* o = om_.find(s.id);
    const bool unknown = o != nullptr && o->status == oms::OrderStatus::unknown;
    if (o == nullptr || (!unknown && !(s.verify && oms::is_working(o->status)))) {  // settled meanwhile
      s.query_at_ns = 0;
      s.verify = false;
      --pending_queries_;
      continue;
    }
    const InstrumentId inst = o->spec.req.instrument;
    const auto n = encode_live_query(inst, s.id, now_ns);
    const bool sent = n.ok() && send_live(oms::RestRequest::query, s.id, inst, n.value);
    if (sent) ++counters_.queries;
    if (sent && !unknown) {  // a check after a reconnect: one answer settles it (it is applied as a report)
      s.verify = false;
      s.query_at_ns = 0;
      --pending_queries_;
      continue;
    }
    s.query_at_ns = now_ns + cfg_.unknown_query_delay_ns;  // again if this answer does not settle it
  }
}

// A query found one of our stops fired (OKX: an algo order "effective"): what the order it placed did (its
// fills, their fee) is in that order's own answer, which is asked for now and applied as our stop's report.
// A stream that was down when the stop fired leaves no other way to learn of its fill.
void TradingCore::query_placed(const GatewayReport& g, std::int64_t now_ns) noexcept {
  const risk::ClientOrderId& id = g.report.client_id;
  const oms::OrderState* o = om_.find(id);
  if (o == nullptr || !oms::is_working(o->status)) return;
  const InstrumentId inst = o->spec.req.instrument;
  const auto n = live_entry_->encode_query_placed(inst, g.placed_order.view(), now_ns / 1'000'000, wire_.data(), wire_.size());
  const bool sent = n.ok() && send_live(oms::RestRequest::query, id, inst, n.value);
  if (sent) ++counters_.queries;
  ENIGMA_LOG_WARN("live", "stop_fired id={} placed_order={} then=query sent={}", id.view(), g.placed_order.view(), sent);
}

// Live: a little after a kill, every entry still working (a refused or lost cancel) gets its cancel again.
void TradingCore::retry_kill_cancels(std::int64_t now_ns) noexcept {
  kill_retry_ns_ = 0;
  for (auto& s : used_slots()) {
    if (!s.used) continue;
    const oms::OrderState* o = om_.find(s.id);
    if (o == nullptr || !oms::is_working(o->status) || o->spec.req.reduce_only) continue;
    const InstrumentId inst = o->spec.req.instrument;
    const auto bytes = encode_live_cancel(inst, s.id, now_ns);
    if (bytes.ok() && send_live(oms::RestRequest::cancel, s.id, inst, bytes.value)) ++counters_.cancels;
  }
}

void TradingCore::refresh_deadman(std::int64_t now_ns, std::int64_t countdown_ms) noexcept {
  next_deadman_ns_ = now_ns + cfg_.deadman_countdown_ns / 3;
  // One countdown for the account (its request names no instrument), or one per traded instrument.
  const std::size_t timers = live_entry_->dead_man() == oms::DeadMan::per_account ? 1 : traded_count_;
  for (std::size_t i = 0; i < timers; ++i) {
    const auto inst = static_cast<InstrumentId>(i);
    const auto bytes = live_entry_->encode_dead_man(inst, countdown_ms, now_ns / 1'000'000, wire_.data(), wire_.size());
    if (bytes.ok() && send_live(oms::RestRequest::countdown, {}, inst, bytes.value)) ++counters_.deadman_refreshes;
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
  p.fees += fee;
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
      ++day_stats_.kills;
      // Every request below carries the kill's TSC: the gateway measures kill -> each request on the wire.
      kill_tsc_ = rdtsc();
      // Latch first (no new entries), then cancel the working entries; positions are flattened or keep
      // their stops by [supervisor] on_kill. Reduce-only exits still pass the latched switch.
      (void)risk_->kill_switch().trigger(risk::KillScope::everything(), cancel_buf_);
      apply_policy(cfg_.supervisor.on_kill, now_ns);
      kill_tsc_ = 0;
      // Logged after the requests left the OMS: formatting the line must not delay them.
      ENIGMA_LOG_WARN("supervisor", "kill_latched policy={} working={}", LogLiteral{to_string(cfg_.supervisor.on_kill)}, working_orders());
      if (live_ != nullptr) kill_retry_ns_ = now_ns + 2'000'000'000;
      break;
    }
    case AdminCommandKind::kill_reset:
      risk_->kill_switch().reset();
      ENIGMA_LOG_WARN("supervisor", "kill_reset by=admin");
      break;
    case AdminCommandKind::trading_start:
      if (lifecycle_ == Lifecycle::emergency_stop) {
        // A person's reset after an emergency: strategies stopped by the loss limit, the breaker and the
        // day's drawdown reference start again from here.
        for (std::uint16_t i = 0; i < cfg_.risk.max_strategies; ++i) risk_->enable_strategy(i);
        risk_->breaker().reset();
        risk_->start_day(last_equity());
        alert_day_start_ = last_equity();
        peak_equity_ = last_equity();
        emergency_cause_ = EmergencyCause::none;
      }
      // Still latched: new entries stay refused until POST /kill/reset.
      ENIGMA_LOG_INFO("supervisor", "trading_start by=admin kill_latched={}", risk_->kill_switch().latched());
      risk_->set_state(risk::TradingState::active);
      set_lifecycle(Lifecycle::trading);
      break;
    case AdminCommandKind::trading_stop:
      // HALTED: no new risk; resting entries are cancelled, exits and stops keep working.
      ENIGMA_LOG_WARN("supervisor", "trading_halt by=admin working={}", working_orders());
      risk_->set_state(risk::TradingState::halted);
      if (lifecycle_ != Lifecycle::emergency_stop) set_lifecycle(Lifecycle::paused);
      cancel_entries(now_ns);
      break;
    case AdminCommandKind::emergency: emergency_stop(EmergencyCause::admin, now_ns); break;
  }
}

void TradingCore::apply_policy(StopPolicy p, std::int64_t now_ns) noexcept {
  cancel_entries(now_ns);
  if (p == StopPolicy::flatten) flatten(now_ns);  // the stops are cancelled once flat (handle_report)
}

void TradingCore::stop(std::int64_t now_ns) noexcept {
  ENIGMA_LOG_INFO("supervisor", "stopping policy={} working={}", LogLiteral{to_string(cfg_.supervisor.on_stop)}, working_orders());
  set_lifecycle(Lifecycle::shutdown);
  apply_policy(cfg_.supervisor.on_stop, now_ns);
}

void TradingCore::cancel_entries(std::int64_t now_ns) noexcept {
  // Sliced entries first: their unsent children never leave.
  if (active_parents_ != 0)
    for (auto& p : parents_) drop_parent(p, "entries_cancelled");
  if (live_ != nullptr) {
    // Live: the entries of one instrument leave together, up to 10 per batch cancel, so the last cancel is on
    // the wire one request after the first (one at a time, each waited for its answer).
    for (std::size_t i = 0; i < traded_count_; ++i) cancel_entries_of(static_cast<InstrumentId>(i), now_ns);
    return;
  }
  for (auto& s : used_slots()) {
    if (!s.used) continue;
    const oms::OrderState* o = om_.find(s.id);
    if (o != nullptr && !o->spec.req.reduce_only) cancel_order(s.id, now_ns);
  }
}

void TradingCore::cancel_entries_of(InstrumentId id, std::int64_t now_ns) noexcept {
  std::array<risk::ClientOrderId, OutboundRequest::kMaxBatch> batch;
  // Orders leave in batches of what the venue and the gateway's request slot take; without a batch cancel,
  // as many go back to back.
  const std::size_t venue_batch = live_entry_->max_batch_cancel();
  const std::size_t batch_cap = venue_batch == 0 ? batch.size() : std::min(venue_batch, batch.size());
  const bool batch_cancels = venue_batch > 1;
  std::size_t n = 0;
  const auto flush = [&] {
    if (n == 0) return;
    bool sent = false;
    if (n == 1) {
      const auto bytes = encode_live_cancel(id, batch[0], now_ns);
      sent = bytes.ok() && send_live(oms::RestRequest::cancel, batch[0], id, bytes.value);
    } else if (!batch_cancels ||
               std::any_of(batch.begin(), batch.begin() + n, [&](const auto& c) { return !live_entry_->batchable(type_of(c)); })) {
      // No batch cancel by client id on this venue (KuCoin Futures; Bybit's is for UTA/options accounts), or an
      // order of a type the venue cancels elsewhere (OKX's algo orders: stops): each leaves on its own (the
      // control connection sends them back to back).
      for (std::size_t k = 0; k < n; ++k) {
        const auto bytes = encode_live_cancel(id, batch[k], now_ns);
        if (bytes.ok() && send_live(oms::RestRequest::cancel, batch[k], id, bytes.value)) {
          ++counters_.cancels;
        } else {
          ++counters_.gateway_full;
          cancel_not_sent(batch[k], id, now_ns);
        }
      }
      n = 0;
      return;
    } else {
      const std::span<const risk::ClientOrderId> ids(batch.data(), n);
      const auto bytes = live_entry_->encode_cancel_batch(id, ids, now_ns / 1'000'000, wire_.data(), wire_.size());
      sent = bytes.ok() && live_->try_send_cancel_batch(ids, id, std::string_view(wire_.data(), bytes.value), rdtsc(), kill_tsc_);
    }
    if (sent) {
      counters_.cancels += n;
    } else {
      // Never left: each order is as it was (the kill's retry tries again, one by one).
      ++counters_.gateway_full;
      for (std::size_t k = 0; k < n; ++k) cancel_not_sent(batch[k], id, now_ns);
    }
    n = 0;
  };
  for (auto& s : used_slots()) {
    if (!s.used) continue;
    const oms::OrderState* o = om_.find(s.id);
    if (o == nullptr || o->spec.req.instrument != id || o->spec.req.reduce_only || !oms::is_working(o->status) ||
        o->status == oms::OrderStatus::pending_cancel)
      continue;
    if (!risk_->check_cancel(s.id, now_ns) || om_.cancel(s.id, now_ns) != Errc::ok) continue;  // journaled first
    batch[n++] = s.id;
    if (n == batch_cap) flush();
  }
  flush();
}

void TradingCore::flatten(std::int64_t now_ns) noexcept {
  for (std::size_t i = 0; i < traded_count_; ++i) {
    const auto id = static_cast<InstrumentId>(i);
    const Qty pos = position(id).qty;
    if (pos.is_zero()) continue;
    // A market close already on its way covers the position.
    bool covered = false;
    for (auto& s : used_slots()) {
      if (!s.used) continue;
      const oms::OrderState* o = om_.find(s.id);
      covered |= o != nullptr && oms::is_working(o->status) && o->spec.req.instrument == id &&
                 o->spec.req.type == risk::OrderType::market && o->spec.req.reduce_only;
    }
    if (covered) continue;
    const InstrumentSpec& spec = registry_.get(id);
    oms::OrderSpec c{};
    c.req.client_id = ids_.next();
    c.req.instrument = id;
    c.req.venue = spec.venue;
    c.req.side = pos.raw() > 0 ? Side::sell : Side::buy;
    c.req.qty = pos.abs();
    c.req.type = risk::OrderType::market;
    c.req.tif = risk::TimeInForce::ioc;
    c.req.reduce_only = true;
    c.req.leverage = cfg_.leverage;
    c.req.reference_price = marks_[id].is_zero() ? risk_->mark(id) : marks_[id];
    c.req.tsc = rdtsc();
    const bool sent = send(c, strategy::IntentReason{}, now_ns, c.req.tsc);
    if (sent) ++counters_.flatten_orders;
    ENIGMA_LOG_WARN("supervisor", "flatten instrument={} qty={} sent={}", id, pos, sent);
  }
}

bool TradingCore::has_working_stop(InstrumentId id) const noexcept {
  auto& om = const_cast<oms::OrderManager&>(om_);  // lookup only; the table's find is not const
  for (const auto& s : used_slots()) {
    if (!s.used) continue;
    const oms::OrderState* o = om.find(s.id);
    if (o != nullptr && oms::is_working(o->status) && o->spec.req.instrument == id && o->spec.req.reduce_only &&
        (o->spec.req.type == risk::OrderType::stop_market || o->spec.req.type == risk::OrderType::trailing_stop ||
         o->spec.req.type == risk::OrderType::market))
      return true;
  }
  return false;
}

std::size_t TradingCore::unprotected_positions() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < traded_count_; ++i)
    if (!position(static_cast<InstrumentId>(i)).qty.is_zero() && !has_working_stop(static_cast<InstrumentId>(i))) ++n;
  return n;
}

// Round trips from our own fill reports (the simulated exchange's position may already include fills whose
// reports are still in flight): a trip opens when the position leaves zero and closes when it returns to
// zero or flips; its P&L is the trip's cash flow before fees.
void TradingCore::on_position_change(InstrumentId id, Side side, Price px, Qty qty, std::uint16_t strategy,
                                     std::int64_t now_ns) noexcept {
  if (id >= watch_.size()) return;
  InstrumentWatch& w = watch_[id];
  const auto value_of = [&](Qty q) {
    const auto n = notional_of(px, q, registry_.get(id).multiplier);
    return n.ok() ? n.value : Notional{};
  };
  const bool buy = side == Side::buy;
  const bool opposes = !w.qty.is_zero() && (w.qty.raw() > 0) != buy;
  const Qty closing = opposes ? std::min(qty, w.qty.abs()) : Qty{};
  const Qty opening = qty - closing;
  if (!closing.is_zero()) {
    w.trip_cash += buy ? -value_of(closing) : value_of(closing);
    w.qty += buy ? closing : -closing;
    if (w.qty.is_zero()) {
      const Notional pnl = w.trip_cash;
      ++counters_.round_trips;
      if (pnl.raw() < 0) ++counters_.losing_trips;
      ++w.trips;
      if (pnl.raw() < 0) ++w.losing_trips;
      const double p = pnl.to_double();
      DailyStats& d = day_stats_;
      if (d.trips == 0 || p > d.best_trip) d.best_trip = p;
      if (d.trips == 0 || p < d.worst_trip) d.worst_trip = p;
      ++d.trips;
      d.losing_trips += pnl.raw() < 0 ? 1 : 0;
      (p > 0 ? d.gross_profit : d.gross_loss) += std::abs(p);
      risk_->on_trade_closed(w.trip_strategy, pnl, now_ns);
      losing_streak_ = pnl.raw() < 0 ? losing_streak_ + 1 : 0;
      if (alerts_ != nullptr && losing_streak_ >= alerts_->rule(AlertRule::consecutive_losses).threshold)
        alerts_->raise(AlertRule::consecutive_losses, AlertSeverity::warning, now_ns, losing_streak_, "round trips");
      ENIGMA_LOG_INFO("supervisor", "round_trip instrument={} pnl={} trips={} losing={}", id, pnl,
                      counters_.round_trips, counters_.losing_trips);
      if (risk_->strategy_block(w.trip_strategy) == risk::RejectReason::consecutive_losses)
        emergency_stop(EmergencyCause::consecutive_losses, now_ns);
    }
  }
  if (!opening.is_zero()) {
    if (w.qty.is_zero()) {
      w.trip_cash = Notional{};
      w.trip_strategy = strategy;
    }
    w.trip_cash += buy ? -value_of(opening) : value_of(opening);
    w.qty += buy ? opening : -opening;
  }
}

void TradingCore::supervise(std::int64_t now_ns) noexcept {
  const SupervisorConfig& sc = cfg_.supervisor;
  const Notional eq = last_equity();
  // The trading day rolls at 00:00 UTC of the data (replay) or wall (paper/live) clock.
  const std::int64_t day = now_ns / kDayNs;
  if (day != day_) {
    if (day_ >= 0) {
      ++counters_.days_rolled;
      ENIGMA_LOG_INFO("supervisor", "day_rollover day={} equity={} trades_yesterday={}", day, eq, trades_today_);
      finish_day(false);
    }
    day_ = day;
    trades_today_ = 0;
    risk_->start_day(eq);
    day_stats_ = DailyStats{};
    day_stats_.day = day;
    day_stats_.start_equity = day_stats_.peak_equity = day_stats_.end_equity = eq.to_double();
    day_stats_.ns_per_tick = TscClock::instance().ns_per_tick();
    for (int r = 0; r < risk::kRejectReasonCount; ++r) rejects_at_day_start_[r] = risk_->reject_count(static_cast<risk::RejectReason>(r));
    alert_day_start_ = eq;
  }
  {  // the day's equity path: end, peak, drawdown from the peak, one sample per whole hour
    DailyStats& d = day_stats_;
    d.end_equity = eq.to_double();
    d.peak_equity = std::max(d.peak_equity, d.end_equity);
    d.max_drawdown = std::max(d.max_drawdown, d.peak_equity - d.end_equity);
    const auto hour = static_cast<std::size_t>((now_ns % kDayNs) / 3'600'000'000'000);
    if (hour < d.hourly_equity.size() && d.hourly_equity[hour] == 0) d.hourly_equity[hour] = d.end_equity;
  }
  if (alerts_ != nullptr) check_alerts(eq, now_ns);
  if (disk_full_since_ns_ != 0 && run_stop_ != nullptr) {
    // Disk full: end the run once the emergency closes have flattened every position (or after a grace).
    bool flat = true;
    for (std::size_t i = 0; i < traded_count_; ++i) flat = flat && position(static_cast<InstrumentId>(i)).qty.is_zero();
    if (flat || now_ns - disk_full_since_ns_ >= kDiskFullFlattenGraceNs) run_stop_->store(true, std::memory_order_relaxed);
  }
  if (lifecycle_ == Lifecycle::emergency_stop || lifecycle_ == Lifecycle::shutdown) return;
  risk_->update_equity(eq, now_ns);
  if (risk_->state_cause() == risk::RejectReason::daily_drawdown) {
    emergency_stop(EmergencyCause::daily_drawdown, now_ns);
    return;
  }
  // Total drawdown from the peak: a permanent stop until a person resets it.
  if (sc.max_total_drawdown.raw() > 0 && peak_equity_.raw() > 0 &&
      static_cast<int128>(peak_equity_.raw() - eq.raw()) * Rate::kScale >=
          static_cast<int128>(sc.max_total_drawdown.raw()) * peak_equity_.raw()) {
    emergency_stop(EmergencyCause::total_drawdown, now_ns);
    return;
  }
  for (std::size_t i = 0; i < traded_count_; ++i) {
    const auto id = static_cast<InstrumentId>(i);
    InstrumentWatch& w = watch_[i];
    const Price mid = marks_[i];
    if (mid.is_zero()) continue;
    // Realized volatility (EWMA of per-sample log returns, scaled to one day) sets the leverage cap.
    if (!w.last_sample.is_zero()) {
      const double r = std::log(mid.to_double() / w.last_sample.to_double());
      w.ewma_var = 0.97 * w.ewma_var + 0.03 * r * r;
      const double per_day = std::sqrt(w.ewma_var * static_cast<double>(kDayNs) / static_cast<double>(cfg_.equity_sample_ns));
      const auto vol = Rate::from_double(per_day);
      if (vol.ok()) risk_->set_volatility(id, vol.value);
    }
    w.last_sample = mid;
    // Market-move breaker: a move of market_move within the window pauses new entries.
    if (sc.market_move.raw() > 0) {
      if (w.window_start_ns == 0 || now_ns - w.window_start_ns > sc.market_move_window_ns) {
        w.window_ref = mid;
        w.window_start_ns = now_ns;
      } else if (static_cast<int128>(std::abs(mid.raw() - w.window_ref.raw())) * Rate::kScale >=
                 static_cast<int128>(sc.market_move.raw()) * w.window_ref.raw()) {
        move_paused_until_ns_ = now_ns + sc.market_move_pause_ns;
        ++counters_.market_move_pauses;
        ENIGMA_LOG_WARN("supervisor", "market_move_pause instrument={} from={} to={} pause_s={}", id, w.window_ref, mid,
                        sc.market_move_pause_ns / 1'000'000'000);
        w.window_ref = mid;
        w.window_start_ns = now_ns;
      }
    }
    // Invariant: an open position always has a working stop (when brackets are on).
    if (cfg_.bracket_exits && !position(id).qty.is_zero() && !has_working_stop(id)) {
      if (w.unprotected_since_ns == 0) w.unprotected_since_ns = now_ns;
      else if (now_ns - w.unprotected_since_ns >= sc.unprotected_grace_ns) {
        ENIGMA_LOG_ERROR("supervisor", "invariant_violated what=position_without_stop instrument={} qty={}", id, position(id).qty);
        emergency_stop(EmergencyCause::invariant, now_ns);
        return;
      }
    } else {
      w.unprotected_since_ns = 0;
    }
  }
  if (account().balance.raw() < 0) {
    ENIGMA_LOG_ERROR("supervisor", "invariant_violated what=negative_balance balance={}", account().balance);
    emergency_stop(EmergencyCause::invariant, now_ns);
    return;
  }
  if (om_.journal().rollover_failed()) {
    if (!rollover_warned_) {
      rollover_warned_ = true;
      ENIGMA_LOG_WARN("supervisor", "journal_next_segment_failed emergency_at_pct={} fill_pct={}", sc.nearly_full_pct,
                      om_.journal_fill_ratio() * 100);
    }
    if (om_.journal_fill_ratio() * 100 >= sc.nearly_full_pct) {
      // The rest of the active segment is kept for the emergency sequence's cancels and closes; then the
      // run ends (exit 3): with no room for the journal, trading cannot go on.
      ENIGMA_LOG_ERROR("supervisor", "journal_full next_segment=failed fill={}", om_.journal_fill_ratio());
      disk_full_since_ns_ = now_ns;
      emergency_stop(EmergencyCause::journal, now_ns);
      return;
    }
  } else {
    rollover_warned_ = false;
  }
  if (om_.order_count() * 100 >= cfg_.max_orders * sc.nearly_full_pct) {
    om_.purge_terminal();
    if (om_.order_count() * 100 >= cfg_.max_orders * sc.nearly_full_pct) {
      ENIGMA_LOG_ERROR("supervisor", "invariant_violated what=order_table_full orders={} max={}", om_.order_count(), cfg_.max_orders);
      emergency_stop(EmergencyCause::invariant, now_ns);
    }
  }
}

void TradingCore::check_alerts(Notional eq, std::int64_t now_ns) noexcept {
  AlertMonitor& a = *alerts_;
  if (a.armed(AlertRule::daily_drawdown, now_ns) && alert_day_start_.raw() > 0) {
    const double dd = (alert_day_start_.to_double() - eq.to_double()) / alert_day_start_.to_double();
    if (dd > a.rule(AlertRule::daily_drawdown).threshold) a.raise(AlertRule::daily_drawdown, AlertSeverity::warning, now_ns, dd, "equity");
  }
  // API errors: what the venue refused or left unanswered, counted per one-minute window.
  const Counters& c = counters_;
  const std::uint64_t api_errors = c.venue_rejects + c.unknown_outcomes + c.cancel_rejects + c.instrument_request_failures;
  if (api_window_start_ns_ == 0 || now_ns - api_window_start_ns_ >= 60'000'000'000) {
    api_window_start_ns_ = now_ns;
    api_window_base_ = api_errors;
  }
  const double in_window = static_cast<double>(api_errors - api_window_base_);
  if (in_window > 0 && in_window >= a.rule(AlertRule::api_errors).threshold)
    a.raise(AlertRule::api_errors, AlertSeverity::warning, now_ns, in_window, "venue");
  if (c.journal_errors > 0 || om_.journal().rollover_failed())
    a.raise(AlertRule::component_unhealthy, AlertSeverity::critical, now_ns, static_cast<double>(c.journal_errors), "journal");
  if (!a.armed(AlertRule::near_liquidation, now_ns)) return;
  // Near liquidation: the isolated-margin estimate of risk/formulas.hpp, in double (an alert, not an order).
  for (std::size_t i = 0; i < traded_count_; ++i) {
    const auto id = static_cast<InstrumentId>(i);
    const oms::SimPosition& p = position(id);
    const Price mid = marks_[i];
    if (p.qty.is_zero() || mid.is_zero()) continue;
    const double qty = p.qty.abs().to_double() * registry_.get(id).multiplier.to_double();
    if (qty <= 0) continue;
    const double entry = p.entry_notional.to_double() / qty;
    const double lev = p.leverage > 1 ? p.leverage : std::max<std::uint16_t>(1, cfg_.leverage);
    const double mmr = i < cfg_.limits.size() ? cfg_.limits[i].maintenance_margin_rate.to_double() : 0.005;
    const double liq = p.qty.raw() > 0 ? entry * (1 - 1 / lev + mmr) : entry * (1 + 1 / lev - mmr);
    const double distance = std::abs(mid.to_double() - liq) / mid.to_double();
    if (distance <= a.rule(AlertRule::near_liquidation).threshold) {
      a.raise(AlertRule::near_liquidation, AlertSeverity::critical, now_ns, distance, "position", id);
      return;
    }
  }
}

void TradingCore::on_feed_health(bool connected, std::int64_t last_frame_ns, std::int64_t now_ns) noexcept {
  if (alerts_ != nullptr && last_frame_ns > 0 && alerts_->armed(AlertRule::component_unhealthy, now_ns)) {
    const double silent_s = static_cast<double>(now_ns - last_frame_ns) / 1e9;
    if (silent_s >= alerts_->rule(AlertRule::component_unhealthy).threshold)
      alerts_->raise(AlertRule::component_unhealthy, AlertSeverity::warning, now_ns, silent_s, "feed");
  }
  if (lifecycle_ != Lifecycle::trading && lifecycle_ != Lifecycle::paused && lifecycle_ != Lifecycle::ready) return;
  if (cfg_.supervisor.feed_down_ns <= 0 || last_frame_ns <= 0) return;
  if (now_ns - last_frame_ns >= cfg_.supervisor.feed_down_ns) {
    ENIGMA_LOG_ERROR("supervisor", "feed_down silent_ms={} connected={}", (now_ns - last_frame_ns) / 1'000'000, connected);
    emergency_stop(EmergencyCause::feed_down, now_ns);
  }
}

void TradingCore::emergency_stop(EmergencyCause cause, std::int64_t now_ns) noexcept {
  if (lifecycle_ == Lifecycle::emergency_stop) return;
  emergency_cause_ = cause;
  ++emergency_counts_[static_cast<std::size_t>(cause)];
  ++day_stats_.emergency_stops;
  ++counters_.emergency_stops;
  ENIGMA_LOG_ERROR("supervisor", "emergency_stop cause={} equity={} working={}", LogLiteral{to_string(cause)}, last_equity(),
                   working_orders());
  set_lifecycle(Lifecycle::emergency_stop);
  if (active_parents_ != 0)
    for (auto& p : parents_) drop_parent(p, "emergency_stop");
  estop_actions_->now_ns = now_ns;
  try {  // cold path; the procedure's buffers are preallocated, nothing here is expected to throw
    (void)estop_->run(*estop_actions_, to_string(cause), now_ns);
  } catch (...) {
    ENIGMA_LOG_ERROR("supervisor", "emergency_failed positions=maybe_open action=check_the_venue");
  }
}

void TradingCore::EmergencyActionsImpl::halt_signals() {
  // The gate is HALTED and the kill switch latched: strategies may still emit, nothing new passes.
}

void TradingCore::EmergencyActionsImpl::cancel_orders(std::span<const risk::ClientOrderId> ids) {
  for (const auto& id : ids) core_.cancel_order(id, now_ns);
}

void TradingCore::EmergencyActionsImpl::close_positions(std::span<const risk::OrderRequest> closes) {
  for (const auto& c : closes) {
    if (c.instrument >= core_.traded_count_) continue;
    oms::OrderSpec o{};
    o.req = c;
    o.req.leverage = core_.cfg_.leverage;
    o.req.tsc = rdtsc();
    if (o.req.reference_price.is_zero()) o.req.reference_price = core_.marks_[c.instrument];
    const bool sent = core_.send(o, strategy::IntentReason{}, now_ns, o.req.tsc, /*forced=*/true);
    if (sent) ++core_.counters_.flatten_orders;
    else (void)core_.risk_->on_reject(c.client_id, now_ns);
    ENIGMA_LOG_WARN("supervisor", "emergency_close instrument={} qty={} sent={}", c.instrument, c.qty, sent);
  }
}

void TradingCore::EmergencyActionsImpl::persist_state() {
  if (core_.om_.sync_journal() != Errc::ok) ENIGMA_LOG_ERROR("supervisor", "emergency_journal_sync failed=true");
}

void TradingCore::EmergencyActionsImpl::raise_alert(std::string_view reason) {
  // Trading stays halted until a person resets it (POST /kill/reset, then POST /trading/start).
  ENIGMA_LOG_ERROR("alert", "emergency_alert halted=true reason={}", LogQuoted{reason});
  if (core_.alerts_ != nullptr) core_.alerts_->raise(AlertRule::emergency_stop, AlertSeverity::critical, now_ns, 1, reason);
}

std::size_t TradingCore::track_restored_orders(std::int64_t now_ns) noexcept {
  std::size_t n = 0;
  for (const oms::OrderState& o : om_.orders()) {
    if (!oms::is_working(o.status) || find(o.spec.req.client_id) != nullptr) continue;
    Slot* slot = nullptr;
    for (auto& s : slots_)
      if (!s.used) { slot = &s; break; }
    if (slot == nullptr) break;
    slots_high_water_ = std::max<std::size_t>(slots_high_water_, static_cast<std::size_t>(slot - slots_.data()) + 1);
    *slot = Slot{o.spec.req.client_id, strategy::IntentReason{}, true, false, 0, 0};
    (void)risk_->register_forced(o.spec.req, now_ns);
    ++n;
  }
  return n;
}

std::size_t TradingCore::working_orders() const noexcept {
  std::size_t n = 0;
  for (const auto& s : used_slots()) n += s.used;
  return n;
}

void TradingCore::cancel_all(std::int64_t now_ns) noexcept {
  if (active_parents_ != 0)
    for (auto& p : parents_) drop_parent(p, "cancel_all");
  for (auto& s : used_slots())
    if (s.used) cancel_order(s.id, now_ns);
}

}  // namespace enigma::engine

