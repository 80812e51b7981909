// Binance USD-M futures: what comes back after an order leaves.
//  (a) the user-data stream (wss://fstream.binance.com/ws/<listenKey>): ORDER_TRADE_UPDATE events become
//      ExecReports; every other event (ACCOUNT_UPDATE, TRADE_LITE, MARGIN_CALL, ...) is "ignored", not an
//      error; listenKeyExpired is reported so the gateway can renew the key.
//  (b) the REST answers to POST / DELETE / GET /fapi/v1/order.
// Field names: https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/
// Event-Order-Update and .../trade/rest-api/New-Order. Decoding is noexcept and allocation-free (one
// simdjson On-Demand parser preallocated per decoder); malformed input gives an Errc, never a throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/instrument.hpp"
#include "oms/exec_report.hpp"
#include "oms/live_venue.hpp"
#include "oms/venue_answer.hpp"
#include "oms/venue_queries.hpp"

namespace enigma::oms::binance_futures {

// The venue-neutral request kinds and answers (oms/venue_answer.hpp), under the names this file always used.
using oms::is_instrument_request;
using oms::RestAnswer;
using oms::RestRequest;
using oms::UserEvent;

class UserStreamDecoder final : public VenueUserDecoder {
 public:
  // `registry` must outlive the decoder; symbols are looked up under `venue`. `max_message_bytes` bounds
  // the messages decode() accepts (larger: Errc::capacity). Throws enigma::Error when simdjson cannot
  // allocate its buffers.
  explicit UserStreamDecoder(const InstrumentRegistry& registry, Venue venue = Venue::binance_usdm,
                             std::size_t max_message_bytes = 64u << 10);
  ~UserStreamDecoder();
  UserStreamDecoder(const UserStreamDecoder&) = delete;
  UserStreamDecoder& operator=(const UserStreamDecoder&) = delete;

  // One user-data stream message (raw, or wrapped as {"stream":..,"data":{..}}). When `padded_capacity`
  // (readable bytes at `msg.data()`) is below msg.size() + 64 the message is first copied into an internal
  // padded buffer. Errors: Errc::bad_format (not JSON), Errc::wrong_type, Errc::missing_field (an order
  // update without x/c/X/S), Errc::unknown_message (an execution type we do not know, e.g. AMENDMENT),
  // Errc::not_found (symbol not in the registry), Errc::capacity (too large); fixed-point parse errors
  // as returned by Price/Qty::parse.
  //   x=NEW -> accepted (or triggered when the order type `o` differs from the original type `ot`: a stop
  //   that fired and now works as a market order), TRADE -> fill (l/L/n/m/z), CANCELED -> canceled,
  //   EXPIRED -> expired, REJECTED -> rejected, CALCULATED (liquidation) -> fill.
  [[nodiscard]] Result<UserEvent> decode(std::string_view msg, std::size_t padded_capacity, ExecReport& out,
                                         std::size_t index = 0) noexcept override;

  // The answer to a REST order request for `id` on `instrument`. `http_status` 0 means no answer
  // (timeout / connection lost). 200 + order JSON: new_order -> accepted (the stream reports fills; the
  // answer's executedQty is left to it so a fill is never booked twice without its fee), cancel ->
  // canceled, query -> status (X, executedQty, avgPrice). 4xx + {"code","msg"}: new_order -> rejected,
  // cancel -> cancel_rejected, query -> status with Reason::order_not_found for -2013, with the code kept.
  // 5xx / 0 / an unparsable 4xx body on a new order or cancel -> unknown. Errc::bad_format when a 200
  // body is not an order JSON (the answer is then unknown too: `out.unknown` is set).
  [[nodiscard]] Errc decode_rest(RestRequest kind, int http_status, std::string_view body, const ClientOrderId& id,
                                 InstrumentId instrument, RestAnswer& out) noexcept override;
  // The answer to a batch cancel of `ids` (DELETE /fapi/v1/batchOrders): out[i] for ids[i] (`out` at least as
  // long as `ids`). 200 + an array with one element per id, in the request's order: an order JSON ->
  // canceled, {"code","msg"} -> cancel_rejected with the code kept. A 4xx {"code","msg"} (the whole request
  // refused, e.g. a bad signature) -> cancel_rejected for every id. 5xx / 0 / anything unreadable -> unknown
  // for the ids it leaves undecided (Errc::bad_format or the parse error is returned then).
  [[nodiscard]] Errc decode_rest_batch(int http_status, std::string_view body, std::span<const ClientOrderId> ids,
                                       InstrumentId instrument, std::span<RestAnswer> out) noexcept override;
  // The account's fee rates on `instrument` (GET /fapi/v1/commissionRate, before decoding starts). The
  // stream's fills carry their own commission; a query's answer does not, so its filled value (cumQuote) is
  // priced at these rates (ExecReport::fee_priced): a found fill missed on the stream books its fee.
  void set_fee_rates(InstrumentId instrument, FeeRates rates) override;
  // An answer on the WebSocket API order connection ([live] order_entry = "ws-api"): WsApiAnswerDecoder's.
  [[nodiscard]] Errc decode_ws_api_answer(std::string_view msg, std::size_t padded_capacity, WsApiAnswer& out) noexcept override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The rates of a GET /fapi/v1/commissionRate?symbol=S answer ({"symbol","makerCommissionRate",
// "takerCommissionRate"}). Throws enigma::Error naming the endpoint and what is wrong.
[[nodiscard]] FeeRates parse_commission_rate(std::string_view body, std::string_view symbol);

// The start-up reconciliation's readers (account_queries). Each throws enigma::Error naming the endpoint and
// what is wrong.
// GET /fapi/v1/openOrders: the account's open orders, as the venue names them.
[[nodiscard]] std::vector<VenueOrder> parse_open_orders(std::string_view body);
// GET /fapi/v2/positionRisk: `symbol`'s position (positionAmt, signed; entryPrice); zero where it has none.
[[nodiscard]] std::pair<Qty, Price> parse_position(std::string_view body, std::string_view symbol);
// GET /fapi/v2/balance: the USDT asset's balance.
[[nodiscard]] Notional parse_usdt_balance(std::string_view body);

// Binance error code -> our reject reason (-2019 margin, -5022 post-only, -2022 reduce-only, ...).
[[nodiscard]] Reason reason_from_code(std::int32_t code) noexcept;


// The user-data stream (<ws>/<listenKey>): live from the connect, no login, no subscription.
class PrivateStream final : public VenueStreamDialect {
 public:
  [[nodiscard]] bool subscribes() const noexcept override { return false; }
  [[nodiscard]] Access access() const noexcept override { return Access::listen_key; }
  [[nodiscard]] KeepAlive keep_alive() const noexcept override { return KeepAlive::answer_venue_pings; }
  [[nodiscard]] std::vector<std::string> on_connect(const std::string&) const override { return {}; }
  [[nodiscard]] Answer answer(std::string_view) const noexcept override { return Answer::other; }
};

class Encoder;
// The start-up reconciliation's queries on this venue (oms/venue_queries.hpp), sent with calls.call():
// Binance USD-M: GET /fapi/v1/openOrders, /fapi/v1/order (by origClientOrderId; DELETE by orderId for a cancel),
// /fapi/v2/positionRisk, /fapi/v2/balance and /fapi/v1/commissionRate, signed with `encoder`.
[[nodiscard]] std::unique_ptr<VenueQueries> account_queries(VenueCalls& calls, Encoder& encoder, const InstrumentRegistry& registry);

// GET /sapi/v1/account/apiRestrictions (USER_DATA, signed; on the account host api.binance.com): what the key
// may do.
struct KeyRestrictions {
  bool ip_restrict{false};
  bool enable_reading{false};
  bool enable_futures{false};
  bool enable_withdrawals{false};
  bool enable_internal_transfer{false};
  bool permits_universal_transfer{false};
  [[nodiscard]] bool can_move_funds_out() const noexcept {
    return enable_withdrawals || enable_internal_transfer || permits_universal_transfer;
  }
};
// Parses the endpoint's answer. Throws enigma::Error naming the field that is missing or not a boolean.
[[nodiscard]] KeyRestrictions parse_key_restrictions(std::string_view body);
// That request signed by `signer` (the key's HMAC secret) at `now_ms`, and how its answer reads.
[[nodiscard]] KeyPermissionsRequest key_permissions_request(const Encoder& signer, std::string_view api_key,
                                                            std::int64_t recv_window_ms, std::int64_t now_ms);

// `enigma live` on this venue (oms/live_venue.hpp): loads the credentials [live] names (environment or an
// owner-only file; errors name the variable or file, never a value). `rest_host` is "host" or "host:port" of
// account.rest_url, which the signatures cover; `account` must outlive the result.
[[nodiscard]] std::unique_ptr<LiveVenue> live_venue(const LiveAccount& account, std::string rest_host);
// What this venue's [live] table takes (oms/live_venue.hpp LiveVenueRules).
[[nodiscard]] const LiveVenueRules& live_rules();

}  // namespace enigma::oms::binance_futures
