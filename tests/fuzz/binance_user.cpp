// libFuzzer: Binance USD-M user-data stream messages, REST order answers, the key-permission answer
// (GET /sapi/v1/account/apiRestrictions) and the start-up reconciliation's readers (open orders, positionRisk,
// balance, commissionRate) (oms/venues/binance_futures_user).
#include <cstdint>
#include <algorithm>
#include <string_view>
#include <vector>

#include "oms/venues/binance_futures_user.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace enigma;
  static InstrumentRegistry reg = [] {
    InstrumentRegistry r;
    InstrumentSpec s{};
    s.venue = Venue::binance_usdm;
    s.symbol = Symbol("BTCUSDT");
    (void)r.add(s);
    return r;
  }();
  static oms::binance_futures::UserStreamDecoder dec(reg, Venue::binance_usdm, 1 << 16);
  const std::string_view msg(reinterpret_cast<const char*>(data), size);
  oms::ExecReport r;
  (void)dec.decode(msg, size, r);  // unpadded: exercises the internal copy
  std::vector<char> padded(size + 64, '\0');
  std::copy(msg.begin(), msg.end(), padded.begin());
  (void)dec.decode(std::string_view(padded.data(), size), padded.size(), r);
  const auto id = oms::ClientOrderId::from("en1").value;
  oms::binance_futures::RestAnswer a;
  for (const auto kind : {oms::binance_futures::RestRequest::new_order, oms::binance_futures::RestRequest::cancel,
                          oms::binance_futures::RestRequest::query, oms::binance_futures::RestRequest::cancel_all,
                          oms::binance_futures::RestRequest::countdown}) {
    (void)dec.decode_rest(kind, 200, msg, id, 0, a);
    (void)dec.decode_rest(kind, 400, msg, id, 0, a);
  }
  // A batch cancel's answer: an array with one result per id.
  const oms::ClientOrderId ids[3] = {id, oms::ClientOrderId::from("en2").value, oms::ClientOrderId::from("en3").value};
  oms::binance_futures::RestAnswer answers[3];
  (void)dec.decode_rest_batch(200, msg, ids, 0, answers);
  (void)dec.decode_rest_batch(400, msg, ids, 0, answers);
  // Cold path, the start-up readers: enigma::Error is their answer to bad input; anything else is a finding.
  try {
    (void)oms::binance_futures::parse_key_restrictions(msg);
  } catch (const Error&) {
  }
  try {
    (void)oms::binance_futures::parse_open_orders(msg);
  } catch (const Error&) {
  }
  try {
    (void)oms::binance_futures::parse_position(msg, "BTCUSDT");
  } catch (const Error&) {
  }
  try {
    (void)oms::binance_futures::parse_usdt_balance(msg);
  } catch (const Error&) {
  }
  try {
    (void)oms::binance_futures::parse_commission_rate(msg, "BTCUSDT");
  } catch (const Error&) {
  }
  return 0;
}
