// Binance USD-M futures order entry: signed REST requests (SIGNED endpoints: the parameters plus
// `&signature=<hex HMAC-SHA256 of exactly those bytes>`), written as complete HTTP/1.1 requests into a
// caller buffer with no allocation. https://developers.binance.com/docs/derivatives/usds-margined-futures
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/instrument.hpp"
#include "oms/ids.hpp"
#include "oms/order_spec.hpp"
#include "oms/signing.hpp"
#include "oms/venues/binance_futures_ws_api.hpp"

namespace enigma::oms::binance_futures {

struct Config {
  std::string host{"fapi.binance.com"};
  std::int64_t recv_window_ms{5000};
};

// Not thread-safe (one scratch buffer); one per OMS thread.
class Encoder {
 public:
  // `registry` must outlive the encoder. The secret is copied into the HMAC key schedule only.
  // Throws enigma::Error when the api key or host is empty or contains CR/LF (header injection).
  Encoder(const InstrumentRegistry& registry, std::string api_key, const Secret& secret, Config cfg = {});

  // POST /fapi/v1/order with the parameters in a form body. Returns the request length, or
  //  Errc::out_of_range: invalid client id (Binance: <= 36 of [A-Za-z0-9_-]), unknown instrument, qty <= 0,
  //    an iceberg (display_qty > 0: futures have none);
  //  Errc::capacity: `cap` too small.
  [[nodiscard]] Result<std::size_t> encode_new(const OrderSpec& o, std::int64_t timestamp_ms, char* out,
                                               std::size_t cap) noexcept;
  // DELETE /fapi/v1/order?symbol=..&origClientOrderId=..  (errors as above).
  [[nodiscard]] Result<std::size_t> encode_cancel(InstrumentId instrument, const ClientOrderId& id,
                                                  std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  // DELETE /fapi/v1/batchOrders?symbol=..&origClientOrderIdList=["a","b",..] (URL-encoded): up to
  // kMaxBatchCancel orders of one instrument per request, one signature for all of them.
  // Errc::out_of_range when `ids` is empty, longer than kMaxBatchCancel, or holds an invalid id.
  static constexpr std::size_t kMaxBatchCancel = 10;
  [[nodiscard]] Result<std::size_t> encode_cancel_batch(InstrumentId instrument, std::span<const ClientOrderId> ids,
                                                        std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  // GET /fapi/v1/order?symbol=..&origClientOrderId=..: resolves an UNKNOWN outcome.
  [[nodiscard]] Result<std::size_t> encode_query(InstrumentId instrument, const ClientOrderId& id,
                                                 std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  // DELETE /fapi/v1/allOpenOrders?symbol=..: every open order of the instrument in one request (the kill
  // switch's fast path when its scope covers a whole instrument).
  [[nodiscard]] Result<std::size_t> encode_cancel_all(InstrumentId instrument, std::int64_t timestamp_ms, char* out,
                                                      std::size_t cap) noexcept;
  // POST /fapi/v1/countdownCancelAll: the venue's dead-man switch (cancel all after `countdown_ms`
  // without a refresh; 0 disarms), the kill switch's backstop when our connection is down.
  [[nodiscard]] Result<std::size_t> encode_countdown_cancel_all(InstrumentId instrument, std::int64_t countdown_ms,
                                                                std::int64_t timestamp_ms, char* out,
                                                                std::size_t cap) noexcept;

  // Start-up reconciliation (cold path): a signed GET (`del` false) or DELETE of `path` with `params`
  // (URL-safe `k=v&k=v`, may be empty) followed by recvWindow, timestamp and the signature. Used for
  // GET /fapi/v1/openOrders, /fapi/v2/positionRisk, /fapi/v2/balance, /fapi/v1/order and the DELETE of an
  // order we never sent. Errc::capacity when `params` or `cap` is too small.
  [[nodiscard]] Result<std::size_t> encode_signed(bool del, std::string_view path, std::string_view params,
                                                  std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;

  // `[live] order_entry = "ws-api"`: from now on encode_new, encode_cancel and encode_query write WebSocket
  // API requests (JSON text, binance_futures_ws_api.hpp) instead of HTTP; everything ws-fapi lacks
  // (cancel-all, batch cancel, the dead-man timer, encode_signed) stays REST. The gateway tells the two
  // apart by the first byte ('{').
  void use_ws_api(std::unique_ptr<WsApiEncoder> ws) noexcept { ws_api_ = std::move(ws); }
  [[nodiscard]] bool ws_api() const noexcept { return ws_api_ != nullptr; }

  // Signs a REST request of this encoder again, in place, with `timestamp_ms` (cold path: a request that
  // waited in the gateway for the venue's budget or a connection would otherwise reach the venue with a
  // timestamp older than recvWindow and be refused, -1021). The length does not change. False, nothing
  // changed, when `bytes` is not such a request (a WebSocket API request, a timestamp of another length).
  [[nodiscard]] bool resign(char* bytes, std::size_t size, std::int64_t timestamp_ms) const noexcept;

  // Hex HMAC-SHA256 of `params` (64 chars into `out`), as appended after `&signature=`.
  void sign(std::string_view params, char out[kSha256HexSize]) const noexcept;

 private:
  enum class Method : std::uint8_t { get, post, del };
  [[nodiscard]] Result<std::size_t> finish(Method m, std::string_view path, BufWriter& params, char* out,
                                           std::size_t cap) noexcept;
  // GET / DELETE `path`?symbol=..&origClientOrderId=..: the parameters are written straight into `out`,
  // signed where they lie, then followed by the signature and the request's constant tail (the cancel and
  // query path: no copy of the parameters, two puts for the constant parts).
  [[nodiscard]] Result<std::size_t> by_client_id(Method m, std::string_view path, InstrumentId instrument,
                                                 const ClientOrderId& id, std::int64_t timestamp_ms, char* out,
                                                 std::size_t cap) noexcept;

  const InstrumentRegistry& registry_;
  std::string api_key_;
  HmacSha256 hmac_;
  Config cfg_;
  std::string recv_window_param_;  // "&recvWindow=<ms>&timestamp="
  std::string request_tail_;       // " HTTP/1.1\r\nHost: <host>\r\nX-MBX-APIKEY: <key>\r\n\r\n" (GET / DELETE)
  char params_[1024];
  std::unique_ptr<WsApiEncoder> ws_api_;
};

}  // namespace enigma::oms::binance_futures
