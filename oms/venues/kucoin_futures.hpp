// KuCoin Futures order entry: REST requests signed with KC-API-SIGN = base64(HMAC-SHA256(secret,
// timestamp + METHOD + endpoint(+query) + body)), KC-API-PASSPHRASE = base64(HMAC-SHA256(secret,
// passphrase)) (API key version 2), written as complete HTTP/1.1 requests into a caller buffer with no
// allocation. https://www.kucoin.com/docs/basic-info/connection-method/authentication/signing-a-message
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/instrument.hpp"
#include "oms/ids.hpp"
#include "oms/order_spec.hpp"
#include "oms/signing.hpp"
#include "oms/venue_order_entry.hpp"
#include <memory>

namespace enigma::oms::kucoin_futures {

struct Config {
  std::string host{"api-futures.kucoin.com"};
};

// Not thread-safe (one scratch buffer); one per OMS thread.
class Encoder {
 public:
  // `registry` must outlive the encoder. The passphrase is signed once here (it never changes).
  // Throws enigma::Error when key/host are empty or contain CR/LF, or secret/passphrase are empty.
  Encoder(const InstrumentRegistry& registry, std::string api_key, const Secret& secret, const Secret& passphrase,
          Config cfg = {});

  // POST /api/v1/orders with a JSON body. Sizes are whole contracts (lots). Returns the request length, or
  //  Errc::out_of_range: invalid clientOid (<= 40 of [A-Za-z0-9_-]), unknown instrument, qty not a
  //    positive whole number of lots, or an order KuCoin Futures does not take (FOK, trailing stop, an
  //    iceberg (display_qty > 0: `"iceberg":true,"visibleSize":N`) that is not a GTC limit or whose visible
  //    size is not whole, not below the size or below 1/20 of it);
  //  Errc::capacity: `cap` too small.
  [[nodiscard]] Result<std::size_t> encode_new(const OrderSpec& o, std::int64_t timestamp_ms, char* out,
                                               std::size_t cap) noexcept;
  // DELETE /api/v1/orders/client-order/{clientOid}?symbol=..
  [[nodiscard]] Result<std::size_t> encode_cancel(InstrumentId instrument, const ClientOrderId& id,
                                                  std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  // Every open order of the instrument in one request: DELETE /api/v1/orders?symbol=.. (limit orders) or,
  // with `stop_orders`, DELETE /api/v1/stopOrders?symbol=.. (untriggered stop / take-profit orders).
  [[nodiscard]] Result<std::size_t> encode_cancel_all(InstrumentId instrument, bool stop_orders,
                                                      std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  // GET /api/v1/orders/byClientOid?clientOid=..: resolves an UNKNOWN outcome.
  [[nodiscard]] Result<std::size_t> encode_query(const ClientOrderId& id, std::int64_t timestamp_ms, char* out,
                                                 std::size_t cap) noexcept;

  // Any signed request, complete (cold path: start-up queries such as GET /api/v1/orders?status=active,
  // /api/v1/positions, /api/v1/account-overview?currency=USDT). `endpoint` is the path with its query.
  [[nodiscard]] Result<std::size_t> encode_request(std::string_view method, std::string_view endpoint,
                                                   std::string_view body, std::int64_t timestamp_ms, char* out,
                                                   std::size_t cap) noexcept {
    return finish(method, endpoint, body, timestamp_ms, out, cap);
  }
  // The KC-API-* headers of a signed request, for an HTTP client that writes the rest itself (cold path: the
  // bullet-private POST of the private WebSocket, the API-key check on the account host).
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> signed_headers(std::string_view method,
                                                                               std::string_view endpoint,
                                                                               std::string_view body,
                                                                               std::int64_t timestamp_ms) const;
  // Signs a request of this encoder again, in place: a new KC-API-TIMESTAMP (`timestamp_ms`, same length) and
  // its KC-API-SIGN (cold path: a request that waited in the gateway for the venue's budget or a connection
  // would otherwise reach the venue more than 5 s after its timestamp and be refused, 400002). False,
  // nothing changed, when `bytes` is not such a request.
  [[nodiscard]] bool resign(char* bytes, std::size_t size, std::int64_t timestamp_ms) const noexcept;
  // base64 KC-API-SIGN (44 chars into `out`) of timestamp + method + endpoint + body.
  void sign(std::string_view timestamp, std::string_view method, std::string_view endpoint, std::string_view body,
            char out[kSha256Base64Size]) const noexcept;
  // The precomputed KC-API-PASSPHRASE header value (not secret by itself, but only useful with the key).
  [[nodiscard]] std::string_view signed_passphrase() const noexcept { return {passphrase_sig_, kSha256Base64Size}; }

 private:
  [[nodiscard]] Result<std::size_t> finish(std::string_view method, std::string_view endpoint, std::string_view body,
                                           std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;

  const InstrumentRegistry& registry_;
  std::string api_key_;
  HmacSha256 hmac_;
  Config cfg_;
  char passphrase_sig_[kSha256Base64Size];
  // The constant parts of every request, built once: " HTTP/1.1\r\nHost: ..\r\nKC-API-KEY: ..\r\nKC-API-SIGN: "
  // and "\r\nKC-API-PASSPHRASE: ..\r\nKC-API-KEY-VERSION: 2\r\n".
  std::string head_, tail_;
  char body_[1024];
  char endpoint_[256];
};


// The engine's order entry on KuCoin Futures (oms/venue_order_entry.hpp): no batch cancel by client id, no
// dead-man switch.
class OrderEntry final : public EncoderOrderEntry<Encoder> {
 public:
  OrderEntry(const InstrumentRegistry& registry, const std::string& api_key, const Secret& secret,
             const Secret& passphrase, const Config& cfg = {})
      : EncoderOrderEntry(registry, api_key, secret, passphrase, cfg) {}

  [[nodiscard]] bool serves(Venue venue) const noexcept override { return venue == Venue::kucoin_futures; }
  [[nodiscard]] Result<std::size_t> encode_cancel(InstrumentId instrument, const ClientOrderId& id, risk::OrderType type,
                                                  std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept override;
  [[nodiscard]] Result<std::size_t> encode_query(InstrumentId instrument, const ClientOrderId& id, risk::OrderType type,
                                                 std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept override;
  [[nodiscard]] std::string dead_man_refusal(std::int64_t countdown_ns) const override;
  [[nodiscard]] bool credentials_refused(std::int32_t venue_code) const noexcept override;
};

}  // namespace enigma::oms::kucoin_futures
