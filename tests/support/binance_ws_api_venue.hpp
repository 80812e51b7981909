// The WebSocket API side of the local Binance USD-M test venue (tests/support/fake_binance.hpp),
// in its own translation unit so live_test.cpp's compile stays split: parses one ws-fapi request
// ({"id":..,"method":..,"params":{..}}), authenticates it as the venue does and answers in the venue's
// documented shapes ({"id":..,"status":200,"result":{..},"rateLimits":[..]} / {"id":..,"status":4xx,
// "error":{"code":..,"msg":..}}):
//   session.logon  the Ed25519 signature of the sorted `k=v&k=v` payload (every param but signature) is
//                  verified with the registered public key; the connection is then authenticated;
//   order.place / order.cancel / order.status / order.modify
//                  on an authenticated connection: no apiKey or signature needed; otherwise apiKey must be
//                  the HMAC key and signature the hex HMAC-SHA256 of the sorted payload (-1022 if not).
// The orders themselves go to the venue's REST handler (one order state for both entries).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace enigma::testing {

struct WsApiVenueKeys {
  std::string hmac_api_key, hmac_secret;              // per-request HMAC signing
  std::string ed25519_api_key, ed25519_public_key;    // session.logon (public key: base64 SPKI DER)
};

class WsApiVenueSession {
 public:
  // `verb` is "POST" (order.place), "DELETE" (order.cancel), "GET" (order.status) or "PUT" (order.modify);
  // `params` are the request's params as strings; `signed_text` their sorted `k=v&k=v` form (what a REST
  // body would be). Returns the HTTP-like status and the JSON body (an order, or {"code","msg"}).
  using OrderHandler = std::function<std::pair<int, std::string>(std::string_view verb,
                                                                 const std::map<std::string, std::string>& params,
                                                                 const std::string& signed_text)>;
  WsApiVenueSession(const WsApiVenueKeys& keys, OrderHandler orders) : keys_(keys), orders_(std::move(orders)) {}

  // One request text frame -> the answer text frame.
  [[nodiscard]] std::string handle(std::string_view request);

  [[nodiscard]] bool logged_on() const noexcept { return logged_on_; }
  int bad_signatures{0};  // requests refused with -1022 (bad HMAC or Ed25519 signature, wrong key)
  int logons{0};          // accepted session.logon requests
  int requests{0};        // order.* requests handed to the order handler

 private:
  const WsApiVenueKeys& keys_;
  OrderHandler orders_;
  bool logged_on_{false};
};

}  // namespace enigma::testing
