// Binance order entry: signed REST requests (SIGNED endpoints: the parameters plus
// `&signature=<hex HMAC-SHA256 of exactly those bytes>`), written as complete HTTP/1.1 requests into a
// caller buffer with no allocation. Each instrument's product picks its endpoints (registry venue):
//   binance-usdm  USD-M futures  /fapi/v1/...  https://developers.binance.com/docs/derivatives/usds-margined-futures
//   binance-coinm COIN-M futures /dapi/v1/...  https://developers.binance.com/docs/derivatives/coin-margined-futures
//   binance-spot  spot           /api/v3/...   https://developers.binance.com/docs/binance-spot-api-docs/rest-api
// Spot differs in more than the path: no reduceOnly, no position side, post-only is type LIMIT_MAKER, stops
// are STOP_LOSS / TAKE_PROFIT, an iceberg shows icebergQty, and there is neither a batch cancel by id list
// nor a dead-man timer (those encoders answer Errc::out_of_range for a spot instrument).
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
#include "oms/venue_order_entry.hpp"
#include <memory>
#include <optional>
#include "oms/venues/binance_futures_ws_api.hpp"

namespace enigma::oms::binance_futures {

struct Config {
  // The Host header of every request; empty: each product's own (fapi / dapi / api.binance.com).
  std::string host;
  std::int64_t recv_window_ms{5000};
};

// Not thread-safe (one scratch buffer); one per OMS thread.
class Encoder {
 public:
  // `registry` must outlive the encoder. The secret is copied into the HMAC key schedule only.
  // Throws enigma::Error when the api key is empty or the key or host contains CR/LF (header injection).
  Encoder(const InstrumentRegistry& registry, std::string api_key, const Secret& secret, Config cfg = {});

  // POST /fapi/v1/order (/dapi/v1/order, /api/v3/order) with the parameters in a form body. Returns the
  // request length, or
  //  Errc::out_of_range: invalid client id (Binance: <= 36 of [A-Za-z0-9_-]), unknown instrument, qty <= 0,
  //    an iceberg on futures (display_qty > 0: futures have none; spot sends icebergQty on a GTC limit),
  //    a trailing stop on spot (its trailingDelta is not modelled);
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
  // DELETE /fapi/v1/allOpenOrders?symbol=.. (/dapi/v1/allOpenOrders, spot /api/v3/openOrders): every open order of the instrument in one request (the kill
  // switch's fast path when its scope covers a whole instrument).
  [[nodiscard]] Result<std::size_t> encode_cancel_all(InstrumentId instrument, std::int64_t timestamp_ms, char* out,
                                                      std::size_t cap) noexcept;
  // POST /fapi/v1/countdownCancelAll: the venue's dead-man switch (cancel all after `countdown_ms`
  // without a refresh; 0 disarms), the kill switch's backstop when our connection is down. COIN-M has it
  // (/dapi/v1/countdownCancelAll); spot has none (Errc::out_of_range).
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
  // The three products, indexed by product_of(venue): their endpoints and request tails.
  enum Product : std::uint8_t { usdm, coinm, spot, kProducts };
  struct Endpoints {
    std::string_view order, batch, cancel_all, countdown;  // empty: the product has no such endpoint
  };
  static constexpr Endpoints kEndpoints[kProducts] = {
      {"/fapi/v1/order", "/fapi/v1/batchOrders", "/fapi/v1/allOpenOrders", "/fapi/v1/countdownCancelAll"},
      {"/dapi/v1/order", "/dapi/v1/batchOrders", "/dapi/v1/allOpenOrders", "/dapi/v1/countdownCancelAll"},
      {"/api/v3/order", {}, "/api/v3/openOrders", {}},
  };
  [[nodiscard]] static Product product_of(Venue v) noexcept {
    return v == Venue::binance_coinm ? coinm : v == Venue::binance_spot ? spot : usdm;
  }
  [[nodiscard]] Product product(InstrumentId id) const noexcept { return product_of(registry_.get(id).venue); }
  [[nodiscard]] Result<std::size_t> finish(Method m, std::string_view path, BufWriter& params, char* out,
                                           std::size_t cap, Product prod) noexcept;
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
  std::string hosts_[kProducts];          // each product's Host header value
  std::string request_tails_[kProducts];  // " HTTP/1.1\r\nHost: <host>\r\nX-MBX-APIKEY: <key>\r\n\r\n" (GET / DELETE)
  char params_[1024];
  std::unique_ptr<WsApiEncoder> ws_api_;
};


// The engine's order entry on Binance (oms/venue_order_entry.hpp): USD-M, COIN-M and spot instruments alike
// (each request's path follows its instrument's product); batch cancels of up to 10; the dead-man switch is
// countdownCancelAll per instrument.
struct WsApiEntry {
  WsApiAuth auth{WsApiAuth::hmac};
  std::string api_key;  // session: the Ed25519 key's API key (hmac signs with the entry's key and secret)
};
class OrderEntry final : public EncoderOrderEntry<Encoder> {
 public:
  // With `ws_api` ([live] order_entry = "ws-api") new orders, cancels and queries are WebSocket API requests;
  // cancel-all, batch cancels and the dead-man timer stay REST. Throws enigma::Error as the encoders do.
  OrderEntry(const InstrumentRegistry& registry, const std::string& api_key, const Secret& secret, const Config& cfg = {},
             const std::optional<WsApiEntry>& ws_api = std::nullopt);

  [[nodiscard]] bool serves(Venue venue) const noexcept override;
  [[nodiscard]] Result<std::size_t> encode_cancel(InstrumentId instrument, const ClientOrderId& id, risk::OrderType type,
                                                  std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept override;
  [[nodiscard]] Result<std::size_t> encode_query(InstrumentId instrument, const ClientOrderId& id, risk::OrderType type,
                                                 std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept override;
  [[nodiscard]] std::size_t max_batch_cancel() const noexcept override { return Encoder::kMaxBatchCancel; }
  [[nodiscard]] Result<std::size_t> encode_cancel_batch(InstrumentId instrument, std::span<const ClientOrderId> ids,
                                                        std::int64_t timestamp_ms, char* out,
                                                        std::size_t cap) noexcept override;
  [[nodiscard]] DeadMan dead_man() const noexcept override { return DeadMan::per_instrument; }
  [[nodiscard]] std::string dead_man_refusal(std::int64_t countdown_ns) const override;
  [[nodiscard]] Result<std::size_t> encode_dead_man(InstrumentId instrument, std::int64_t countdown_ms,
                                                    std::int64_t timestamp_ms, char* out,
                                                    std::size_t cap) noexcept override;
  [[nodiscard]] bool credentials_refused(std::int32_t venue_code) const noexcept override;
  [[nodiscard]] Resigner resigner() const override;

 private:
  std::shared_ptr<const WsApiEncoder> ws_twin_;  // the resigner's WebSocket API twin, with ws_api
};

}  // namespace enigma::oms::binance_futures
