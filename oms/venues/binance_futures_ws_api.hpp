// Binance USD-M futures order entry over the WebSocket API (wss://ws-fapi.binance.com/ws-fapi/v1):
// JSON text requests {"id":<n>,"method":"order.place","params":{...}} written into a caller buffer with no
// allocation, and the decoder of the answers {"id":<n>,"status":200,"result":{..}} / {"error":{code,msg}}.
// https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-api-general-info
//
// Authentication, per the docs' "SIGNED request security":
//   hmac     every order request carries apiKey, timestamp and signature = hex HMAC-SHA256 of all its params
//            except `signature`, sorted by name, as `k=v&k=v` (params are written in that order, so the
//            signed text and the JSON are produced in one pass);
//   session  after `session.logon` (Ed25519 only: apiKey + timestamp signed with the Ed25519 key, base64)
//            the connection is authenticated: requests carry timestamp but neither apiKey nor signature.
// What ws-fapi does not offer stays on REST (binance_futures.hpp): cancel-all (DELETE allOpenOrders),
// batch cancel, the dead-man switch (countdownCancelAll), the listenKey of the user-data stream and the
// start-up account queries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/instrument.hpp"
#include "oms/ids.hpp"
#include "oms/order_spec.hpp"
#include "oms/signing.hpp"
#include "oms/venue_answer.hpp"

namespace enigma::oms::binance_futures {

struct WsApiWriter;  // defined in the .cpp

enum class WsApiAuth : std::uint8_t { hmac, session };

// Not thread-safe; one per OMS thread. Request ids count up from 1 (0 is session.logon's).
class WsApiEncoder {
 public:
  // hmac: `secret` is the HMAC secret of `api_key`. session: `secret` is unused (may be empty): the
  // connection logs on with an Ed25519 key (logon_request). Throws enigma::Error when the api key is empty
  // or not printable, or hmac is chosen with an empty secret.
  WsApiEncoder(const InstrumentRegistry& registry, std::string api_key, const Secret& secret, WsApiAuth auth,
               std::int64_t recv_window_ms = 5000);

  // order.place / order.cancel / order.status (by origClientOrderId) / order.modify (LIMIT orders: new
  // price and quantity). Errors as the REST encoder's: Errc::out_of_range (client id, instrument, qty),
  // Errc::capacity (`cap` too small).
  [[nodiscard]] Result<std::size_t> encode_new(const OrderSpec& o, std::int64_t timestamp_ms, char* out,
                                               std::size_t cap) noexcept;
  [[nodiscard]] Result<std::size_t> encode_cancel(InstrumentId instrument, const ClientOrderId& id,
                                                  std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  [[nodiscard]] Result<std::size_t> encode_query(InstrumentId instrument, const ClientOrderId& id,
                                                 std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  [[nodiscard]] Result<std::size_t> encode_modify(InstrumentId instrument, const ClientOrderId& id, Side side,
                                                  Qty qty, Price price, std::int64_t timestamp_ms, char* out,
                                                  std::size_t cap) noexcept;

  // A request of this encoder signed again at `timestamp_ms`, in place (a request that waited for the
  // venue's budget would otherwise be refused for its old timestamp, -1021): the `timestamp` param's digits
  // and, for hmac, the signature over the params as they now read. Same length, no allocation. False,
  // nothing changed, when `bytes` is not such a request or the new timestamp has another digit count.
  [[nodiscard]] bool resign(char* bytes, std::size_t size, std::int64_t timestamp_ms) const noexcept;

  [[nodiscard]] WsApiAuth auth() const noexcept { return auth_; }
  [[nodiscard]] const std::string& api_key() const noexcept { return api_key_; }
  [[nodiscard]] std::uint64_t last_id() const noexcept { return next_id_ - 1; }

 private:
  [[nodiscard]] Result<std::size_t> finish(WsApiWriter& w) noexcept;
  [[nodiscard]] Result<std::size_t> order_request(std::string_view method, InstrumentId instrument,
                                                  const ClientOrderId& id, std::int64_t timestamp_ms, char* out,
                                                  std::size_t cap) noexcept;

  const InstrumentRegistry& registry_;
  std::string api_key_;
  HmacSha256 hmac_;
  WsApiAuth auth_;
  std::int64_t recv_window_ms_;
  std::uint64_t next_id_{1};
  char query_[1024];  // the signed `k=v&k=v` text (hmac)
};

// {"id":0,"method":"session.logon","params":{"apiKey":..,"signature":..,"timestamp":..}} signed with
// `key` (cold path: on every (re)connect of the WS-API connection). Throws enigma::Error as the signer does.
[[nodiscard]] std::string logon_request(std::string_view api_key, const Ed25519Signer& key, std::int64_t timestamp_ms);

using oms::WsApiAnswer;  // oms/venue_answer.hpp

// Decodes answers with one preallocated simdjson parser; noexcept, no allocation for messages within
// `max_message_bytes`. Errc::bad_format (not JSON / no status), Errc::capacity (too large).
class WsApiAnswerDecoder {
 public:
  explicit WsApiAnswerDecoder(std::size_t max_message_bytes = 64u << 10);
  ~WsApiAnswerDecoder();
  WsApiAnswerDecoder(const WsApiAnswerDecoder&) = delete;
  WsApiAnswerDecoder& operator=(const WsApiAnswerDecoder&) = delete;
  // `padded_capacity` as UserStreamDecoder::decode. `out.body` stays valid until the next decode.
  [[nodiscard]] Errc decode(std::string_view msg, std::size_t padded_capacity, WsApiAnswer& out) noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace enigma::oms::binance_futures
