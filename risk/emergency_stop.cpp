#include "risk/emergency_stop.hpp"

#include <cstdio>

namespace enigma::risk {

std::string_view to_string(EmergencyStep s) noexcept {
  switch (s) {
    case EmergencyStep::halt_signals: return "halt_signals";
    case EmergencyStep::cancel_pending: return "cancel_pending";
    case EmergencyStep::close_positions: return "close_positions";
    case EmergencyStep::persist_state: return "persist_state";
    case EmergencyStep::raise_alert: return "raise_alert";
  }
  return "?";
}

EmergencyStop::EmergencyStop(RiskGate& gate)
    : gate_(gate), cancel_ids_(gate.kill_switch().orders().capacity()) {
  closes_.reserve(gate.instrument_capacity());
}

std::size_t EmergencyStop::run(EmergencyActions& actions, std::string_view reason, std::int64_t now_ns) {
  step_count_ = 0;
  const auto done = [this](EmergencyStep s) { steps_[step_count_++] = s; };

  // 1. Nothing new may start while the rest runs: latch before anything else.
  gate_.set_state(TradingState::halted);
  const std::size_t n_cancel = gate_.kill_switch().trigger(KillScope::everything(), cancel_ids_);
  actions.halt_signals();
  done(EmergencyStep::halt_signals);

  // 2. Cancel every working entry. Reduce-only exits (a bracket's stop and take-profit) keep protecting the
  // position until the closes below have flattened it; the caller cancels them once flat.
  std::size_t n_entries = 0;
  for (std::size_t i = 0; i < n_cancel && i < cancel_ids_.size(); ++i) {
    const WorkingOrder* w = gate_.kill_switch().orders().find(cancel_ids_[i]);
    if (w == nullptr || !w->reduce_only) cancel_ids_[n_entries++] = cancel_ids_[i];
  }
  actions.cancel_orders(std::span<const ClientOrderId>(cancel_ids_.data(), n_entries));
  done(EmergencyStep::cancel_pending);

  // 3. Flatten: one reduce-only market order per open position, valued at the last mark.
  closes_.clear();
  for (std::uint32_t i = 0; i < gate_.instrument_capacity(); ++i) {
    const auto id = static_cast<InstrumentId>(i);
    const Qty pos = gate_.position(id);
    if (pos.is_zero()) continue;
    OrderRequest c;
    char text[64];
    const int len = std::snprintf(text, sizeof(text), "estop-%lld-%u", static_cast<long long>(now_ns), i);
    c.client_id = ClientOrderId::from(std::string_view(text, static_cast<std::size_t>(len))).value;  // <= 32 chars
    c.instrument = id;
    c.venue = gate_.venue_of(id);
    c.side = pos.raw() > 0 ? Side::sell : Side::buy;
    c.qty = pos.abs();
    c.type = OrderType::market;
    c.tif = TimeInForce::ioc;
    c.reduce_only = true;
    c.reference_price = gate_.mark(id);
    gate_.register_forced(c, now_ns);
    closes_.push_back(c);
  }
  actions.close_positions(closes_);
  done(EmergencyStep::close_positions);

  // 4. and 5. belong to the caller; the order is what matters.
  actions.persist_state();
  done(EmergencyStep::persist_state);
  actions.raise_alert(reason);
  done(EmergencyStep::raise_alert);
  return closes_.size();
}

}  // namespace enigma::risk
