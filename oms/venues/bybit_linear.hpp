// Bybit V5 order entry for linear USDT perpetuals (category=linear): REST requests signed with
// X-BAPI-SIGN = lower-case hex HMAC-SHA256(secret, timestamp + api_key + recv_window + payload), payload the
// JSON body of a POST or the query string (without '?') of a GET, written as complete HTTP/1.1 requests into
// a caller buffer with no allocation; plus the private WebSocket's auth / subscribe / ping texts.
// https://bybit-exchange.github.io/docs/v5/guide (Authentication), .../v5/order/create-order,
// .../v5/order/cancel-order, .../v5/order/cancel-all, .../v5/order/open-order, .../v5/order/dcp,
// .../v5/ws/connect (private auth: signature = hex HMAC-SHA256(secret, "GET/realtime" + expires)).
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

namespace enigma::oms::bybit_linear {

// orderLinkId: "no longer than 36 characters" (place-order docs); we generate from [A-Za-z0-9_-].
inline constexpr std::size_t kBybitMaxClientIdLen = 36;

struct Config {
  std::string host{"api.bybit.com"};
  // X-BAPI-RECV-WINDOW in ms (Bybit's default 5000): the venue refuses a request whose timestamp is older than
  // server time - recv_window (10002). Signed as part of every request.
  std::uint32_t recv_window_ms{5000};
};

// Not thread-safe (one scratch buffer); one per OMS thread.
class Encoder {
 public:
  // `registry` must outlive the encoder. Throws enigma::Error when key/host are empty or contain CR/LF, or
  // the secret is empty, or recv_window_ms is 0.
  Encoder(const InstrumentRegistry& registry, std::string api_key, const Secret& secret, Config cfg = {});

  // POST /v5/order/create with a JSON body, for an account in one-way position mode (positionIdx left out, 0).
  // qty is in base coin (BTC for BTCUSDT), written as r.qty's exact decimal; r.leverage is not sent (Bybit sets
  // leverage per symbol, /v5/position/set-leverage). Stop-market / take-profit-market orders become conditional market
  // orders ("triggerPrice", "triggerDirection" 1 = rises to / 2 = falls to, "triggerBy":"LastPrice"). Returns the
  // request length, or
  //  Errc::out_of_range: invalid orderLinkId (1..36 of [A-Za-z0-9_-]), unknown instrument, qty not positive or
  //    not a multiple of the instrument's lot (qtyStep) when the registry spec has one above the minimum
  //    resolution, a limit without a positive price, a stop without a positive stop price, or a trailing stop
  //    (not on this order path);
  //  Errc::capacity: `cap` too small.
  [[nodiscard]] Result<std::size_t> encode_new(const OrderSpec& o, std::int64_t timestamp_ms, char* out,
                                               std::size_t cap) noexcept;
  // POST /v5/order/cancel {"category":"linear","symbol":..,"orderLinkId":..}.
  [[nodiscard]] Result<std::size_t> encode_cancel(InstrumentId instrument, const ClientOrderId& id,
                                                  std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  // POST /v5/order/cancel-all {"category":"linear","symbol":..}: every open order of the instrument (for linear,
  // without orderFilter Bybit cancels all kinds: active, conditional, TP/SL, trailing). With `stop_orders`,
  // "orderFilter":"StopOrder" limits it to untriggered conditional orders (linear takes Order / StopOrder).
  [[nodiscard]] Result<std::size_t> encode_cancel_all(InstrumentId instrument, bool stop_orders,
                                                      std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  // GET /v5/order/realtime?category=linear&orderLinkId=..: resolves an UNKNOWN outcome. With `closed`,
  // &openOnly=1: Bybit's docs say the default (openOnly=0) lists open orders only (New, PartiallyFilled, ...) and
  // openOnly=1 the account's last 500 closed ones (Filled, Cancelled, Rejected; cleared by a venue restart). So
  // an empty list from ONE of the two does not prove the order never reached the venue: a gateway should ask
  // both before it acts on Reason::order_not_found (bybit_linear_user.hpp, decode_rest query).
  [[nodiscard]] Result<std::size_t> encode_query(const ClientOrderId& id, std::int64_t timestamp_ms, char* out,
                                                 std::size_t cap, bool closed = false) noexcept;
  // POST /v5/order/disconnected-cancel-all {"product":"DERIVATIVES","timeWindow":N}: Bybit's dead-man switch
  // (DCP). Unlike Binance's countdownCancelAll it is not a countdown refreshed by REST: it sets the window
  // (3..300 s) after which the venue cancels every derivatives order once the private WebSocket (subscribed to
  // the "dcp" topic, see subscribe_message) has been down. It must be enabled for the account by Bybit.
  // Errc::out_of_range: seconds outside 3..300; Errc::capacity.
  [[nodiscard]] Result<std::size_t> encode_dead_man(std::uint32_t seconds, std::int64_t timestamp_ms, char* out,
                                                    std::size_t cap) noexcept;

  // Any signed request, complete (cold path: start-up queries such as
  // GET /v5/order/realtime?category=linear&settleCoin=USDT, /v5/position/list?category=linear&settleCoin=USDT,
  // /v5/user/query-api). `endpoint` is the path with its query; the query (after '?') is what a GET signs.
  [[nodiscard]] Result<std::size_t> encode_request(std::string_view method, std::string_view endpoint,
                                                   std::string_view body, std::int64_t timestamp_ms, char* out,
                                                   std::size_t cap) noexcept {
    return finish(method, endpoint, body, timestamp_ms, out, cap);
  }
  // The X-BAPI-* headers of a signed request, for an HTTP client that writes the rest itself (cold path).
  // `payload` is the body of a POST or the query string (no '?') of a GET.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> signed_headers(std::string_view payload,
                                                                                std::int64_t timestamp_ms) const;
  // Signs a request of this encoder again, in place: a new X-BAPI-TIMESTAMP (`timestamp_ms`, same number of
  // digits) and its X-BAPI-SIGN (cold path: a request that waited for the venue's budget or a connection would
  // otherwise arrive outside recv_window and be refused with 10002). False, nothing changed, when `bytes` is
  // not such a request.
  [[nodiscard]] bool resign(char* bytes, std::size_t size, std::int64_t timestamp_ms) const noexcept;
  // Lower-case hex X-BAPI-SIGN (64 chars into `out`) of timestamp + api_key + recv_window + payload.
  void sign(std::string_view timestamp, std::string_view payload, char out[kSha256HexSize]) const noexcept;

  // ---- private WebSocket (wss://stream.bybit.com/v5/private), cold path ----
  // {"op":"auth","args":["<api_key>",<expires_ms>,"<hex HMAC-SHA256(secret, "GET/realtime" + expires_ms)>"]};
  // `expires_ms` must lie in the future when the venue reads it (a few seconds ahead of now).
  [[nodiscard]] std::string auth_message(std::int64_t expires_ms) const;
  // {"op":"subscribe","args":["order.linear","execution.linear","position.linear","wallet"]} (+ "dcp" with
  // `dcp`, which arms the disconnect protection set by encode_dead_man).
  [[nodiscard]] static std::string subscribe_message(bool dcp = false);
  // Heartbeat text; Bybit asks for one every 20 s to keep the connection.
  [[nodiscard]] static constexpr std::string_view ping_message() noexcept { return R"({"op":"ping"})"; }

 private:
  [[nodiscard]] Result<std::size_t> finish(std::string_view method, std::string_view endpoint, std::string_view body,
                                           std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  [[nodiscard]] Result<std::size_t> post(std::string_view endpoint, std::string_view body, std::int64_t timestamp_ms,
                                         char* out, std::size_t cap) noexcept {
    return finish("POST", endpoint, body, timestamp_ms, out, cap);
  }

  const InstrumentRegistry& registry_;
  std::string api_key_;
  HmacSha256 hmac_;
  Config cfg_;
  std::string recv_window_;  // decimal text of cfg_.recv_window_ms, as signed and sent
  // The constant parts of every request, built once: " HTTP/1.1\r\nHost: ..\r\nX-BAPI-API-KEY: ..\r\n
  // X-BAPI-RECV-WINDOW: ..\r\nX-BAPI-TIMESTAMP: " and "\r\nX-BAPI-SIGN: ".
  std::string head_;
  char body_[1024];
  char endpoint_[256];
};


// The engine's order entry on Bybit V5 linear perpetuals (oms/venue_order_entry.hpp): no batch cancel by client
// id (Bybit's is for UTA/options accounts); the dead-man switch (DCP) is a window set once at start-up, not a
// countdown the core refreshes.
class OrderEntry final : public EncoderOrderEntry<Encoder> {
 public:
  OrderEntry(const InstrumentRegistry& registry, const std::string& api_key, const Secret& secret, const Config& cfg = {})
      : EncoderOrderEntry(registry, api_key, secret, cfg) {}

  [[nodiscard]] bool serves(Venue venue) const noexcept override { return venue == Venue::bybit; }
  [[nodiscard]] Result<std::size_t> encode_cancel(InstrumentId instrument, const ClientOrderId& id, risk::OrderType type,
                                                  std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept override;
  [[nodiscard]] Result<std::size_t> encode_query(InstrumentId instrument, const ClientOrderId& id, risk::OrderType type,
                                                 std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept override;
  [[nodiscard]] std::string dead_man_refusal(std::int64_t countdown_ns) const override;
  [[nodiscard]] bool credentials_refused(std::int32_t venue_code) const noexcept override;
};

}  // namespace enigma::oms::bybit_linear
