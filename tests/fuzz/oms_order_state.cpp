// Fuzzes the order state machine with arbitrary report sequences (RELIABILITY.md: "the order state machine
// is fuzzed with shuffled, duplicated and dropped reports"). Each 4 input bytes are one report: kind,
// cumulative qty (lots), status (for query answers), reason; 0xFE / 0xFF lead bytes are a cancel sent / a
// timeout. The invariants trap on violation: each report books exactly the cum qty increase (duplicates
// and stale reports book nothing), filled qty equals the max cum qty seen, terminal states are terminal,
// and a fully filled order is FILLED.
#include <cstddef>
#include <cstdint>

#include "oms/order_state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace enigma;
  using namespace enigma::oms;
  OrderState o{};
  o.spec.req.client_id = ClientOrderId::from("fuzz1").value;
  o.spec.req.qty = Qty::from_units(100);
  (void)mark_sent(o);
  Qty max_cum{};
  bool terminal = false;
  OrderStatus terminal_status{};
  for (std::size_t i = 0; i + 4 <= size; i += 4) {
    // A few local transitions mixed in (cancel sent, timeout) as the OMS would make them.
    if (data[i] == 0xFE) {
      (void)mark_cancel_sent(o);
      continue;
    }
    if (data[i] == 0xFF) {
      (void)mark_unknown(o);
      continue;
    }
    ExecReport r{};
    r.client_id = o.client_id();
    r.kind = static_cast<ExecKind>(data[i] % 8);
    r.cum_qty = Qty::from_units(data[i + 1] % 101);
    r.last_qty = r.cum_qty;
    r.last_px = Price::from_units(100);
    r.status = static_cast<OrderStatus>(data[i + 2] % 10);
    r.reason = static_cast<Reason>(data[i + 3] % 15);
    const ApplyResult a = apply(o, r);
    if (r.cum_qty > max_cum) {
      if (a.fill_qty != r.cum_qty - max_cum) __builtin_trap();
      max_cum = r.cum_qty;
    } else if (a.fill_qty.raw() != 0) {
      __builtin_trap();  // a duplicate or stale report booked a fill
    }
    if (o.filled != max_cum) __builtin_trap();
    if (terminal && o.status != terminal_status) __builtin_trap();
    if (!terminal && is_terminal(o.status)) {
      terminal = true;
      terminal_status = o.status;
    }
    if (o.filled >= o.spec.req.qty && !is_terminal(o.status)) __builtin_trap();  // fully filled is FILLED
  }
  return 0;
}
