// libFuzzer: Bybit V5 linear private-stream messages, REST order answers and the start-up readers
// (oms/venues/bybit_linear_user).
#include <cstdint>
#include <string_view>
#include <vector>

#include "oms/venues/bybit_linear_user.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace enigma;
  namespace bl = oms::bybit_linear;
  static InstrumentRegistry reg = [] {
    InstrumentRegistry r;
    InstrumentSpec s{};
    s.venue = Venue::bybit;
    s.kind = InstrumentKind::linear_perpetual;
    s.symbol = Symbol("BTCUSDT");
    s.lot = Qty::parse("0.001").value;
    (void)r.add(s);
    s.symbol = Symbol("ETHUSDT");
    (void)r.add(s);
    return r;
  }();
  static bl::UserStreamDecoder dec(reg, Venue::bybit, 1 << 16);
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
  for (const auto kind : {bl::RestRequest::new_order, bl::RestRequest::cancel, bl::RestRequest::query,
                          bl::RestRequest::cancel_all, bl::RestRequest::countdown}) {
    (void)dec.decode_rest(kind, 200, msg, id, 0, a);
    (void)dec.decode_rest(kind, 400, msg, id, 0, a);
    (void)dec.decode_rest(kind, 200, msg, id, kInvalidInstrument, a);  // instrument from the symbol
  }
  // Cold path: enigma::Error is their answer to bad input; anything else escapes and is a finding.
  try {
    (void)bl::parse_open_orders(msg, reg);
  } catch (const Error&) {
  }
  try {
    (void)bl::parse_positions(msg, reg);
  } catch (const Error&) {
  }
  try {
    (void)bl::parse_api_key_info(msg);
  } catch (const Error&) {
  }
  return 0;
}
