// libFuzzer: OKX V5 swap private-stream messages, REST order answers and the start-up readers
// (oms/venues/okx_swap_user).
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "oms/venues/okx_swap_user.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace enigma;
  namespace ox = oms::okx_swap;
  static InstrumentRegistry reg = [] {
    InstrumentRegistry r;
    InstrumentSpec s{};
    s.venue = Venue::okx;
    s.kind = InstrumentKind::linear_perpetual;
    s.symbol = Symbol("BTC-USDT-SWAP");
    s.lot = Qty::parse("0.01").value;
    s.multiplier = Qty::parse("0.01").value;
    (void)r.add(s);
    s.symbol = Symbol("ETH-USDT-SWAP");
    (void)r.add(s);
    return r;
  }();
  static ox::UserStreamDecoder dec(reg, Venue::okx, 1 << 16);
  const std::string_view msg(reinterpret_cast<const char*>(data), size);
  oms::ExecReport r;
  (void)dec.decode(msg, size, r);  // unpadded: exercises the internal copy
  std::vector<char> padded(size + 64, '\0');
  std::copy(msg.begin(), msg.end(), padded.begin());
  // Every element of a batch, as a gateway reads them (bounded: a fuzzed array may be long).
  for (std::size_t i = 0; i < 64; ++i) {
    (void)dec.decode(std::string_view(padded.data(), size), padded.size(), r, i);
    if (i + 1 >= dec.last_count()) break;
  }
  const auto id = oms::ClientOrderId::from("en1").value;
  oms::RestAnswer a;
  for (const auto kind : {ox::RestRequest::new_order, ox::RestRequest::cancel, ox::RestRequest::query,
                          ox::RestRequest::cancel_batch, ox::RestRequest::countdown}) {
    (void)dec.decode_rest(kind, 200, msg, id, 0, a);
    (void)dec.decode_rest(kind, 400, msg, id, 0, a);
    (void)dec.decode_rest(kind, 200, msg, id, kInvalidInstrument, a);  // instrument from instId
  }
  const std::array<oms::ClientOrderId, 3> ids{id, oms::ClientOrderId::from("en2").value,
                                              oms::ClientOrderId::from("sl1").value};
  std::array<oms::RestAnswer, 3> batch;
  (void)dec.decode_rest_batch(200, msg, ids, 0, batch);
  (void)dec.decode_rest_batch(401, msg, ids, 0, batch);
  // Cold path: enigma::Error is their answer to bad input; anything else escapes and is a finding.
  try {
    (void)ox::parse_open_orders(msg, reg);
  } catch (const Error&) {
  }
  try {
    (void)ox::parse_open_algo_orders(msg, reg);
  } catch (const Error&) {
  }
  try {
    (void)ox::parse_positions(msg, reg);
  } catch (const Error&) {
  }
  try {
    (void)ox::parse_balance(msg);
  } catch (const Error&) {
  }
  try {
    (void)ox::parse_account_config(msg);
  } catch (const Error&) {
  }
  return 0;
}
