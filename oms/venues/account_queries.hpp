// Helpers of the venues' start-up queries (oms::<venue>::account_queries): shared by oms/venues/*_user.cpp only.
#pragma once

#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "oms/venue_queries.hpp"
#include "risk/order_request.hpp"

namespace enigma::oms::account {

// The wall clock in milliseconds: the timestamp the venues' signatures carry.
inline std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

inline std::string_view field(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return {};
  return v;
}

// Signed requests of the start-up queries, sent with calls.call() (KuCoin Futures, Bybit: their encoders
// write a complete signed HTTP request from method, endpoint and body).
template <class Encoder>
class SignedRequests {
 protected:
  SignedRequests(VenueCalls& g, Encoder& e) : calls_(g), enc_(e) {}
  std::string send(std::string_view method, const std::string& endpoint, int& status, const std::string& body = {}) {
    char req[2048];
    const auto n = enc_.encode_request(method, endpoint, body, wall_ms(), req, sizeof req);
    if (!n.ok()) throw Error("reconciliation: cannot encode " + endpoint + " (" + std::string(to_string(n.error)) + ")");
    std::string answer;
    status = calls_.call(std::string_view(req, n.value), answer);
    return answer;
  }
  // GET `endpoint`: the body of a 200, else an Error naming the answer (its code is checked by the parser).
  std::string require_ok(const std::string& endpoint) {
    int status = 0;
    std::string body = send("GET", endpoint, status);
    if (status != 200)
      throw Error("reconciliation: GET " + endpoint + " answered HTTP " + std::to_string(status) + ": " + body.substr(0, 200) +
                  " (start-up needs the venue's orders, positions, fee rates and balance before trading)");
    return body;
  }

  VenueCalls& calls_;
  Encoder& enc_;
};

// The order type of a venue's open order in the names VenueOrder carries (Binance's, as adopt() reads them).
inline std::string venue_order_type(risk::OrderType t) {
  switch (t) {
    case risk::OrderType::limit: return "LIMIT";
    case risk::OrderType::market: return "MARKET";
    case risk::OrderType::stop_market: return "STOP_MARKET";
    case risk::OrderType::take_profit_market: return "TAKE_PROFIT_MARKET";
    default: return std::string(risk::to_string(t));
  }
}

// KeyPermissions::moves_funds_out for a key that can withdraw and/or transfer out, naming the permissions as the
// venue wrote them ("withdraw, transfer out, per its permissions \"General,Transfer\""); empty when it can do neither.
inline std::string funds_out(bool can_withdraw, bool can_transfer, std::string_view permissions) {
  if (!can_withdraw && !can_transfer) return {};
  return std::string(can_withdraw ? "withdraw" : "") + (can_withdraw && can_transfer ? ", " : "") +
         (can_transfer ? "transfer out" : "") + ", per its permissions \"" + std::string(permissions) + "\"";
}

}  // namespace enigma::oms::account
