// libFuzzer: KuCoin Futures private-stream messages, REST order answers and the start-up readers
// (oms/venues/kucoin_futures_user).
#include <cstdint>
#include <string_view>
#include <vector>

#include "oms/venues/kucoin_futures_user.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace enigma;
  namespace kf = oms::kucoin_futures;
  static InstrumentRegistry reg = [] {
    InstrumentRegistry r;
    InstrumentSpec s{};
    s.venue = Venue::kucoin_futures;
    s.symbol = Symbol("XBTUSDTM");
    s.kind = InstrumentKind::linear_perpetual;
    s.multiplier = Qty::parse("0.001").value;
    (void)r.add(s);
    s.symbol = Symbol("XBTUSDM");
    s.kind = InstrumentKind::inverse_perpetual;
    s.multiplier = Qty::from_units(1);
    (void)r.add(s);
    return r;
  }();
  static kf::UserStreamDecoder dec(reg, Venue::kucoin_futures, 1 << 16);
  const std::string_view msg(reinterpret_cast<const char*>(data), size);
  oms::ExecReport r;
  (void)dec.decode(msg, size, r);  // unpadded: exercises the internal copy
  std::vector<char> padded(size + 64, '\0');
  std::copy(msg.begin(), msg.end(), padded.begin());
  (void)dec.decode(std::string_view(padded.data(), size), padded.size(), r);
  const auto id = oms::ClientOrderId::from("en1").value;
  oms::RestAnswer a;
  for (const auto kind : {kf::RestRequest::new_order, kf::RestRequest::cancel, kf::RestRequest::query,
                          kf::RestRequest::cancel_all, kf::RestRequest::countdown}) {
    (void)dec.decode_rest(kind, 200, msg, id, 0, a);
    (void)dec.decode_rest(kind, 400, msg, id, 0, a);
    (void)dec.decode_rest(kind, 200, msg, id, kInvalidInstrument, a);  // instrument from the symbol
  }
  (void)dec.decode_rest(kf::RestRequest::query, 200, msg, id, 1, a);  // inverse: no average price
  // Cold path: enigma::Error is their answer to bad input; anything else escapes and is a finding.
  try { (void)kf::parse_open_orders(msg, reg); } catch (const Error&) {}
  try { (void)kf::parse_positions(msg, reg); } catch (const Error&) {}
  try { (void)kf::parse_api_key_info(msg); } catch (const Error&) {}
  try { (void)kf::parse_trade_fees(msg, "XBTUSDTM"); } catch (const Error&) {}
  return 0;
}
