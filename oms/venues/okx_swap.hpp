// OKX V5 order entry for USDT-margined perpetual swaps (instType SWAP, "BTC-USDT-SWAP"): REST requests signed
// with OK-ACCESS-SIGN = Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)), the timestamp an
// ISO-8601 UTC time with milliseconds ("2020-12-08T09:08:57.715Z"), requestPath the path with its query string,
// body the raw JSON of a POST ("" for a GET); OK-ACCESS-PASSPHRASE is the passphrase as typed (not signed, unlike
// KuCoin's). Written as complete HTTP/1.1 requests into a caller buffer with no allocation; plus the private
// WebSocket's login / subscribe / ping texts.
// https://www.okx.com/docs-v5/en/#overview-rest-authentication, .../#order-book-trading-trade-post-place-order,
// .../#order-book-trading-trade-post-cancel-order, .../#order-book-trading-trade-post-cancel-multiple-orders,
// .../#order-book-trading-trade-post-cancel-all-after, .../#order-book-trading-trade-get-order-details,
// .../#order-book-trading-algo-trading-post-place-algo-order,
// .../#order-book-trading-algo-trading-post-cancel-algo-order,
// .../#order-book-trading-algo-trading-get-algo-order-details, .../#overview-websocket-login.
//
// Sizes are contracts ("sz"), as the venue counts them: a Qty of 2 is 2 contracts, each worth
// InstrumentSpec::multiplier (ctVal) base coin (0.01 BTC for BTC-USDT-SWAP); fractional contracts are allowed
// where the instrument's lot (lotSz) is below 1. The account is expected in net position mode (posMode
// "net_mode", parse_account_config): orders go without posSide, which long/short mode refuses.
//
// Two books. Limit and market orders are "orders" (POST /api/v5/trade/order, client id clOrdId). Stop-market
// and take-profit-market orders are "algo orders" (POST /api/v5/trade/order-algo, ordType "conditional", client
// id algoClOrdId): they are cancelled and queried at other endpoints, so encode_cancel / encode_cancel_batch /
// encode_query take `algo` (the engine knows each order's type). Once an algo order fires, the market order it
// places carries our id in algoClOrdId on the "orders" channel (okx_swap_user.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
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

namespace enigma::oms::okx_swap {

// clOrdId / algoClOrdId: "a combination of case-sensitive alphanumerics ... up to 32 characters" (place-order
// docs). We also require a leading letter, so an id never reads as a number: 1..32 of [A-Za-z0-9], letter first.
// Note the alphabet has no '_' or '-': a session prefix for OKX must avoid them (ids.hpp).
using oms::kOkxMaxClientIdLen;  // 32 (oms/ids.hpp: the engine's id generator checks it for OKX sessions)
[[nodiscard]] constexpr bool is_valid_okx_client_id(std::string_view s) noexcept {
  if (s.empty() || s.size() > kOkxMaxClientIdLen) return false;
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(s.front())) return false;
  for (const char c : s)
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

// Whether an order of this type is an OKX algo order (order-algo / cancel-algos / the orders-algo channel): the
// engine's stop-market and take-profit-market orders.
[[nodiscard]] constexpr bool is_algo(risk::OrderType t) noexcept {
  return t == risk::OrderType::stop_market || t == risk::OrderType::take_profit_market;
}

// tdMode of every order: cross or isolated margin (the "cash" mode is spot only).
enum class TdMode : std::uint8_t { cross, isolated };

struct Config {
  std::string host{"www.okx.com"};
  // Demo trading: every request carries "x-simulated-trading: 1" (a demo key is refused by the live venue, 50101).
  // The private WebSocket of demo trading is wss://wspap.okx.com:8443/ws/v5/private (not this encoder's concern).
  bool simulated{false};
  TdMode td_mode{TdMode::cross};
};

// Not thread-safe (one scratch buffer); one per OMS thread.
class Encoder {
 public:
  // cancel-batch-orders: "a maximum of 20 orders"; cancel-algos: "a maximum of 10 orders".
  static constexpr std::size_t kMaxBatchCancel = 20;
  static constexpr std::size_t kMaxBatchCancelAlgo = 10;

  // `registry` must outlive the encoder. The passphrase is sent as is in every request (and in the WebSocket
  // login), so it is kept; its copies are wiped when the encoder dies. Throws enigma::Error when the key or
  // host is empty or has CR/LF or a quote, the secret is empty, or the passphrase is empty or has a character
  // that a header or a JSON string cannot carry as is (CR, LF, '"', '\\', control characters).
  Encoder(const InstrumentRegistry& registry, std::string api_key, const Secret& secret, const Secret& passphrase,
          Config cfg = {});
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  // A limit or market order: POST /api/v5/trade/order {"instId","tdMode","side","ordType","px","sz","clOrdId"
  // [,"reduceOnly":true]}. ordType carries the time in force: limit (GTC), post_only, ioc, fok; a market order
  // is "market" whatever its tif (the venue fills it IOC). A stop-market / take-profit-market order:
  // POST /api/v5/trade/order-algo {"instId","tdMode","side","ordType":"conditional","sz","algoClOrdId",
  // "slTriggerPx"|"tpTriggerPx","slOrdPx"|"tpOrdPx":"-1","slTriggerPxType"|"tpTriggerPxType":"last"
  // [,"reduceOnly":true]}: a stop-loss leg (sl*) for stop_market, a take-profit leg (tp*) for
  // take_profit_market; order price -1 = market when triggered. The venue checks the direction against the last
  // price (51277..51280): a sell stop below it, a buy stop above it, a sell take-profit above, a buy take-profit
  // below. r.leverage is not sent (OKX sets leverage per instrument and margin mode, /api/v5/account/set-leverage).
  // Returns the request length, or
  //  Errc::out_of_range: invalid client id (is_valid_okx_client_id), unknown instrument, qty not positive or not a
  //    multiple of the instrument's lot (lotSz), a limit without a positive price, a stop without a positive stop
  //    price, a trailing stop or an iceberg (display_qty > 0; neither is on this order path), a timestamp before
  //    1970 or after 9999;
  //  Errc::capacity: `cap` too small.
  [[nodiscard]] Result<std::size_t> encode_new(const OrderSpec& o, std::int64_t timestamp_ms, char* out,
                                               std::size_t cap) noexcept;
  // POST /api/v5/trade/cancel-order {"instId","clOrdId"}, or with `algo` POST /api/v5/trade/cancel-algos
  // [{"instId","algoClOrdId"}] (an array even for one; the docs: "Either algoId or algoClOrdId is required").
  [[nodiscard]] Result<std::size_t> encode_cancel(InstrumentId instrument, const ClientOrderId& id, bool algo,
                                                  std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  // Up to kMaxBatchCancel orders of one instrument in one request: POST /api/v5/trade/cancel-batch-orders
  // [{"instId","clOrdId"},..]; with `algo` up to kMaxBatchCancelAlgo algo orders, POST /api/v5/trade/cancel-algos
  // [{"instId","algoClOrdId"},..]. OKX has no cancel-all for one swap: the kill switch cancels the open ids it
  // knows in batches (and start-up reconciliation those it reads, parse_open_orders / parse_open_algo_orders).
  // Errc::out_of_range when `ids` is empty, too long, or holds an invalid id; Errc::capacity.
  [[nodiscard]] Result<std::size_t> encode_cancel_batch(InstrumentId instrument, std::span<const ClientOrderId> ids,
                                                        bool algo, std::int64_t timestamp_ms, char* out,
                                                        std::size_t cap) noexcept;
  // Resolves an UNKNOWN outcome: GET /api/v5/trade/order?instId=..&clOrdId=.. (an order in any state; the venue
  // keeps a canceled order with no fill for 2 hours only, so "51603 Order does not exist" may also mean that:
  // nothing filled either way), or with `algo` GET /api/v5/trade/order-algo?algoClOrdId=.. (which takes no instId;
  // `instrument` is still checked). Errc::out_of_range: unknown instrument, invalid id; Errc::capacity.
  [[nodiscard]] Result<std::size_t> encode_query(InstrumentId instrument, const ClientOrderId& id, bool algo,
                                                 std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  // The order a fired algo order placed, by the venue's id (RestAnswer::placed_order of the algo order's query):
  // GET /api/v5/trade/order?instId=..&ordId=.. . Its answer names our algo order in algoClOrdId.
  // Errc::out_of_range: unknown instrument, an id not all digits; Errc::capacity.
  [[nodiscard]] Result<std::size_t> encode_query_placed(InstrumentId instrument, std::string_view ord_id,
                                                        std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  // POST /api/v5/trade/cancel-all-after {"timeOut":"N"}: OKX's dead-man switch, a countdown like Binance's
  // countdownCancelAll: unless refreshed within N seconds (10..120; 0 disarms it) the venue cancels every pending
  // order-book order of the account (the docs advise a refresh every second; it says nothing of untriggered algo
  // orders, which are not in the book). Errc::out_of_range: seconds not 0 and outside 10..120; Errc::capacity.
  [[nodiscard]] Result<std::size_t> encode_dead_man(std::uint32_t seconds, std::int64_t timestamp_ms, char* out,
                                                    std::size_t cap) noexcept;

  // Any signed request, complete (cold path: start-up queries such as GET /api/v5/trade/orders-pending?instType=SWAP,
  // /api/v5/trade/orders-algo-pending?ordType=conditional&instType=SWAP, /api/v5/account/positions?instType=SWAP,
  // /api/v5/account/balance?ccy=USDT, /api/v5/account/config). `endpoint` is the path with its query (all of it
  // is signed); `body` the JSON of a POST.
  [[nodiscard]] Result<std::size_t> encode_request(std::string_view method, std::string_view endpoint,
                                                   std::string_view body, std::int64_t timestamp_ms, char* out,
                                                   std::size_t cap) noexcept {
    return finish(method, endpoint, body, timestamp_ms, out, cap);
  }
  // The OK-ACCESS-* headers (and x-simulated-trading in demo) of a signed request, for an HTTP client that
  // writes the rest itself (cold path). They hold the passphrase: do not log them. Throws enigma::Error when
  // timestamp_ms is out of range.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> signed_headers(std::string_view method,
                                                                                std::string_view endpoint,
                                                                                std::string_view body,
                                                                                std::int64_t timestamp_ms) const;
  // Signs a request of this encoder again, in place: a new OK-ACCESS-TIMESTAMP (always 24 characters) and its
  // OK-ACCESS-SIGN (cold path: a request that waited for the venue's budget or a connection would otherwise be
  // refused as "50102 Timestamp request expired", the venue allowing 30 s). False, nothing changed, when `bytes`
  // is not such a request or the time is out of range.
  [[nodiscard]] bool resign(char* bytes, std::size_t size, std::int64_t timestamp_ms) const noexcept;
  // Base64 OK-ACCESS-SIGN (44 chars into `out`) of timestamp + method + request_path + body.
  void sign(std::string_view timestamp, std::string_view method, std::string_view request_path, std::string_view body,
            char out[kSha256Base64Size]) const noexcept;
  // The OK-ACCESS-TIMESTAMP text of `timestamp_ms` ("2020-12-08T09:08:57.715Z", 24 chars, no NUL, into `out`);
  // false for a time before 1970 or after 9999.
  static constexpr std::size_t kTimestampSize = 24;
  [[nodiscard]] static bool format_timestamp(std::int64_t timestamp_ms, char out[kTimestampSize]) noexcept;

  // ---- private WebSocket (wss://ws.okx.com:8443/ws/v5/private and .../ws/v5/business), cold path ----
  // {"op":"login","args":[{"apiKey":..,"passphrase":..,"timestamp":"<unix seconds>","sign":"<Base64 HMAC-SHA256(
  // secret, timestamp + "GET" + "/users/self/verify")>"}]}; the venue refuses a timestamp more than 30 s old
  // (60006). The text holds the passphrase: send it, do not log it. Both endpoints take the same login.
  [[nodiscard]] std::string login_message(std::int64_t unix_seconds) const;
  // For /ws/v5/private: {"op":"subscribe","args":[{"channel":"orders","instType":"SWAP"},{"channel":"positions",
  // "instType":"SWAP"},{"channel":"account","ccy":"USDT"}]}.
  [[nodiscard]] static std::string subscribe_message();
  // For /ws/v5/business: {"op":"subscribe","args":[{"channel":"orders-algo","instType":"SWAP"}]}. The algo-orders
  // channel lives there only (its docs: "URL Path /ws/v5/business"; asked on /private the venue answers 64001
  // "This channel has been migrated to the '/business' URL"), so algo orders need a second logged-in connection.
  [[nodiscard]] static std::string business_subscribe_message();
  // Heartbeat: the plain text "ping" (not JSON), answered by a plain "pong"; the venue closes a connection that
  // has received nothing for 30 s.
  [[nodiscard]] static constexpr std::string_view ping_message() noexcept { return "ping"; }

 private:
  [[nodiscard]] Result<std::size_t> finish(std::string_view method, std::string_view endpoint, std::string_view body,
                                           std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  [[nodiscard]] Result<std::size_t> post(std::string_view endpoint, std::string_view body, std::int64_t timestamp_ms,
                                         char* out, std::size_t cap) noexcept {
    return finish("POST", endpoint, body, timestamp_ms, out, cap);
  }
  // The `"instId":"..","tdMode":".."` that opens every order body.
  void put_inst_and_mode(BufWriter& b, const InstrumentSpec& spec) const noexcept;

  const InstrumentRegistry& registry_;
  std::string api_key_;
  std::string passphrase_;  // sent as is; wiped by the destructor
  HmacSha256 hmac_;
  Config cfg_;
  // The constant parts of every request, built once: " HTTP/1.1\r\nHost: ..\r\nOK-ACCESS-KEY: ..\r\n
  // OK-ACCESS-PASSPHRASE: ..\r\n[x-simulated-trading: 1\r\n]OK-ACCESS-TIMESTAMP: " and "\r\nOK-ACCESS-SIGN: ".
  // Holds the passphrase: wiped by the destructor.
  std::string head_;
  char body_[2048];  // 20 cancels of 32-character ids on a 23-character instrument: about 1.7 KB
  char endpoint_[256];
};


// The engine's order entry on OKX V5 USDT swaps (oms/venue_order_entry.hpp): stops are algo orders, cancelled
// and asked for at the algo endpoints and never batched with book orders; batch cancels of book orders
// (cancel-batch-orders); the dead-man switch is cancel-all-after, one countdown for the account (10..120 s);
// client order ids are letters and digits only.
class OrderEntry final : public EncoderOrderEntry<Encoder> {
 public:
  OrderEntry(const InstrumentRegistry& registry, const std::string& api_key, const Secret& secret,
             const Secret& passphrase, const Config& cfg = {})
      : EncoderOrderEntry(registry, api_key, secret, passphrase, cfg) {}

  [[nodiscard]] bool serves(Venue venue) const noexcept override { return venue == Venue::okx; }
  [[nodiscard]] Result<std::size_t> encode_cancel(InstrumentId instrument, const ClientOrderId& id, risk::OrderType type,
                                                  std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept override;
  [[nodiscard]] Result<std::size_t> encode_query(InstrumentId instrument, const ClientOrderId& id, risk::OrderType type,
                                                 std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept override;
  [[nodiscard]] std::size_t max_batch_cancel() const noexcept override { return Encoder::kMaxBatchCancel; }
  [[nodiscard]] bool batchable(risk::OrderType type) const noexcept override { return !is_algo(type); }
  [[nodiscard]] Result<std::size_t> encode_cancel_batch(InstrumentId instrument, std::span<const ClientOrderId> ids,
                                                        std::int64_t timestamp_ms, char* out,
                                                        std::size_t cap) noexcept override;
  [[nodiscard]] DeadMan dead_man() const noexcept override { return DeadMan::per_account; }
  [[nodiscard]] std::string dead_man_refusal(std::int64_t countdown_ns) const override;
  [[nodiscard]] Result<std::size_t> encode_dead_man(InstrumentId instrument, std::int64_t countdown_ms,
                                                    std::int64_t timestamp_ms, char* out,
                                                    std::size_t cap) noexcept override;
  [[nodiscard]] Result<std::size_t> encode_query_placed(InstrumentId instrument, std::string_view venue_order_id,
                                                        std::int64_t timestamp_ms, char* out,
                                                        std::size_t cap) noexcept override;
  [[nodiscard]] bool credentials_refused(std::int32_t venue_code) const noexcept override;
  [[nodiscard]] bool alphanumeric_client_ids() const noexcept override { return true; }
};

}  // namespace enigma::oms::okx_swap
