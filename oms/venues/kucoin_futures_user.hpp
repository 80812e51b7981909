// KuCoin Futures: what comes back after an order leaves (the counterpart of binance_futures_user.hpp).
//  (a) the private WebSocket (endpoint and token from POST /api/v1/bullet-private), topic
//      /contractMarket/tradeOrders or /contractMarket/tradeOrders:<symbol>: "orderChange" /
//      "symbolOrderChange" messages become ExecReports; every other topic (/contractAccount/wallet,
//      /contract/position:.., /contractMarket/advancedOrders, ...) and the control messages (welcome, ack,
//      pong) are "ignored"; an error with code 401 ("token is invalid") is reported as listen_key_expired so
//      the gateway fetches a new token and reconnects.
//  (b) the REST answers to POST /api/v1/orders, DELETE /api/v1/orders/client-order/{clientOid},
//      GET /api/v1/orders/byClientOid and DELETE /api/v1/orders?symbol= / /api/v1/stopOrders?symbol=:
//      {"code":"200000","data":..} on success, {"code":"<code>","msg":".."} on a refusal (HTTP 200 or 4xx).
//  (c) cold-path readers for start-up reconciliation: the open-order pages, the positions and the API key's
//      permissions (these allocate and throw enigma::Error).
// Fields: https://www.kucoin.com/docs/websocket/futures-trading/private-channels/trade-orders,
// https://www.kucoin.com/docs-new/error-code/websocket (401 token is invalid),
// https://www.kucoin.com/docs/basic-info/errors-code/futures-errors-code.
//
// Sizes are whole contracts (lots): a Qty of value N is N lots, as the encoder writes r.qty.raw()/Qty::kScale.
// Numbers may come as JSON strings or JSON numbers; both are read, without a double on the way.
// The order stream carries no fee (only "feeType": takerFee/makerFee and "liquidity"): a fill's fee is its
// value (matchSize x multiplier x matchPrice) at the account's rate for its liquidity, as read at start-up
// from GET /api/v1/trade-fees (parse_trade_fees, set_fee_rates); fee 0 on an instrument without rates and on
// inverse contracts (whose fee is in the base coin). Decoding is noexcept and allocation-free (one simdjson On-Demand parser
// preallocated per decoder); malformed input gives an Errc, never a throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/instrument.hpp"
#include "oms/exec_report.hpp"
#include "oms/live_venue.hpp"
#include "oms/venue_answer.hpp"
#include "oms/venue_queries.hpp"
#include "risk/order_request.hpp"

namespace enigma::oms::kucoin_futures {

using oms::is_instrument_request;
using oms::RestAnswer;
using oms::RestRequest;
using oms::FeeRates;
using oms::UserEvent;

class UserStreamDecoder final : public VenueUserDecoder {
 public:
  // `registry` must outlive the decoder; symbols are looked up under `venue`. `max_message_bytes` bounds
  // the messages and REST bodies decoded (larger: Errc::capacity). Throws enigma::Error when simdjson cannot
  // allocate its buffers.
  explicit UserStreamDecoder(const InstrumentRegistry& registry, Venue venue = Venue::kucoin_futures,
                             std::size_t max_message_bytes = 64u << 10);
  ~UserStreamDecoder();
  UserStreamDecoder(const UserStreamDecoder&) = delete;
  UserStreamDecoder& operator=(const UserStreamDecoder&) = delete;

  // The account's rates on `instrument` (cold path, before decoding starts; allocates): every later "match"
  // of a linear contract carries fee = matchSize x multiplier x matchPrice x (maker or taker rate, by
  // "liquidity"), rounded to the Notional resolution.
  void set_fee_rates(InstrumentId instrument, FeeRates rates) override;
  // Stop-order events (/contractMarket/advancedOrders) carry the venue's order id only.
  [[nodiscard]] bool names_orders_by_venue_id() const noexcept override { return true; }

  // One private-stream message. When `padded_capacity` (readable bytes at `msg.data()`) is below
  // msg.size() + 64 the message is first copied into an internal padded buffer.
  //   data.type "open" -> accepted; "match" -> fill (last_qty = matchSize, last_px = matchPrice,
  //   cum_qty = filledSize, maker = liquidity "maker"); "canceled" -> canceled (cum_qty = filledSize);
  //   fee = the match's value at the instrument's rate (set_fee_rates), else 0;
//   "filled" -> a fill when it carries matchSize/matchPrice, else status (status filled,
  //   cum_qty = filledSize, last_px 0); "update" (size amended) -> ignored.
  //   A fill is never booked twice: KuCoin sends one "match" per trade and then "filled" when the order
  //   is done; every report carries the venue's cumulative filledSize and the order state machine books
  //   only cum_qty above what it already has (oms/order_state.cpp apply()), so the "filled" after its
  //   matches books nothing and only confirms FILLED. Should a "match" have been lost, the jump is booked
  //   at last_px (zero), as a Binance CANCELED with a larger z would be; a reconnect queries every working
  //   order anyway (TradingCore::verify_working).
  //   venue_time_ns = ts (nanoseconds), venue_order_id = orderId, venue_seq = tradeId when it is decimal.
  //   /contractMarket/advancedOrders (an untriggered stop order's lifecycle, never on tradeOrders): "cancel" ->
  //   canceled, "triggered" -> triggered, "open" -> ignored; these reports carry the venue's orderId and NO
  //   client id (KuCoin sends none): the caller maps the orderId to its order.
  // Errors: Errc::bad_format (not JSON, a side other than buy/sell), Errc::wrong_type, Errc::missing_field
  // (no type, no topic on a message, an order without clientOid/side/symbol, a match without
  // matchSize/matchPrice/filledSize), Errc::unknown_message (an order message type we do not know, an error
  // message other than 401), Errc::not_found (symbol not in the registry), Errc::out_of_range (a client id
  // over 40 characters, a non-positive match, ts past 2262), Errc::capacity (too large); fixed-point parse
  // errors as returned by Price/Qty::parse.
  [[nodiscard]] Result<UserEvent> decode(std::string_view msg, std::size_t padded_capacity, ExecReport& out,
                                         std::size_t index = 0) noexcept override;

  // The answer to a REST request for `id` on `instrument`. `http_status` 0 means no answer (timeout /
  // connection lost). Success is {"code":"200000",..} with HTTP 2xx:
  //   new_order -> accepted with venue_order_id = data.orderId (fills are the stream's);
  //   cancel    -> status with status pending_cancel: KuCoin's answer only says the cancel request was
  //                received ("processed by the matching engine in sequence"); the order may still fill
  //                before it. The terminal report is the stream's "canceled" (with filledSize), which comes
  //                after every "match" of the order. A terminal canceled here would end the order before
  //                its late fills arrive (the trading core frees the order's slot on a terminal report, so a
  //                later fill would be booked without its brackets) and end an OCO pair as if the leg had
  //                died without trading;
  //   query     -> status from isActive / cancelExist / filledSize vs size (filled, canceled,
  //                partially_filled, accepted), cum_qty = filledSize, last_px = average price =
  //                filledValue / (filledSize * multiplier) for linear contracts (0 for inverse ones or
  //                when filledValue is unreadable); data null (no such order) -> status with
  //                Reason::order_not_found (as Binance's -2013), venue_code 0;
  //   cancel_all / countdown -> no report (venue_code 0, unknown false).
  // A refusal (any other code, HTTP 200 or 4xx; 429 with code 429000 included, as Binance's 429 answers):
  // new_order -> rejected, cancel -> cancel_rejected, cancel_all / countdown -> status, each with
  // venue_code = the code and reason = reason_from_code(code); query -> unknown (ask again later).
  // 5xx / 0 / code 500000 (internal error) / an unreadable body -> unknown. Errc::bad_format (or the parse
  // error) when the body is not the expected JSON (`out.unknown` is then set).
  [[nodiscard]] Errc decode_rest(RestRequest kind, int http_status, std::string_view body, const ClientOrderId& id,
                                 InstrumentId instrument, RestAnswer& out) noexcept override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// KuCoin Futures error code -> our reason (300003 balance -> insufficient_margin, 100004 not cancelable ->
// order_not_found, parameter errors -> invalid_order, anything else venue_error). Rate-limit codes
// (429000, 200002, 1015) are venue_error as Binance's -1003 is: Reason::rate_limited means refused locally
// before leaving, which the trading core keeps out of the breaker's reject count.
[[nodiscard]] Reason reason_from_code(std::int32_t code) noexcept;

// ---- cold path: start-up reconciliation (allocates; throws enigma::Error naming what is wrong) ----

// One order of GET /api/v1/orders?status=active (or of GET /api/v1/stopOrders, same page shape).
struct OpenOrder {
  ClientOrderId client_id;     // empty when the order has no clientOid or one over 40 characters
  std::string order_id;        // the venue's id ("id"), for DELETE /api/v1/orders/{orderId}
  std::string symbol;          // the venue symbol, also when it is not in the registry
  InstrumentId instrument{kInvalidInstrument};  // kInvalidInstrument: a symbol this engine does not know
  Side side{Side::buy};
  // limit, market, stop_market or take_profit_market (a market order with a stop: the direction and the
  // side tell which, as the encoder writes them). A limit order with a stop (stop-limit, not an order type
  // the engine places) comes as limit with stop_price set.
  risk::OrderType type{risk::OrderType::limit};
  Price price;                 // 0 for market orders
  Price stop_price;            // 0 without a stop
  Qty qty;                     // lots
  Qty filled;                  // lots
  bool reduce_only{false};
};

struct OpenOrderPage {
  std::int64_t current_page{0};
  std::int64_t total_pages{0};
};

// Parses one page of open orders. Orders on symbols not in the registry are kept (instrument =
// kInvalidInstrument, symbol set): reconciliation reports or cancels every order open at the venue. When
// `page` is given it receives currentPage / totalPage (the caller fetches ?currentPage=n+1 until the last).
// Throws enigma::Error when the body is not JSON, the code is not 200000 (code and msg quoted), or an order
// lacks id / side / size or has an unreadable number, side or type.
[[nodiscard]] std::vector<OpenOrder> parse_open_orders(std::string_view body, const InstrumentRegistry& registry,
                                                       Venue venue = Venue::kucoin_futures,
                                                       OpenOrderPage* page = nullptr);

// One entry of GET /api/v1/positions (one-way mode: one per symbol).
struct VenuePosition {
  std::string symbol;
  InstrumentId instrument{kInvalidInstrument};  // kInvalidInstrument: not in the registry (kept, like orders)
  Qty signed_qty;              // currentQty in lots: negative = short, 0 = flat
  Price entry_px;              // avgEntryPrice (0 when flat)
};

// Parses the positions answer (entries that are closed come with qty 0). Throws enigma::Error when the body
// is not JSON, the code is not 200000, or an entry lacks symbol / currentQty or has an unreadable number.
[[nodiscard]] std::vector<VenuePosition> parse_positions(std::string_view body, const InstrumentRegistry& registry,
                                                         Venue venue = Venue::kucoin_futures);

// GET /api/v1/user/api-key (on the spot host api.kucoin.com): what the key may do. KuCoin lists permissions
// as one comma-separated string ("General,Futures"). "Transfer" is the permission that moves funds out
// ("Allows a key to transfer funds (including deposit and withdrawal)",
// https://www.kucoin.com/support/900006465403-KuCoin-API-key-upgrade-operation-guide): it sets both flags;
// "Withdraw"/"Withdrawal" set can_withdraw; "InnerTransfer" / "FlexTransfer(s)" (transfers between the
// account's and its sub-accounts' accounts) set can_transfer. Names compare case-insensitively.
struct ApiKeyInfo {
  bool can_withdraw{false};
  bool can_transfer{false};
  std::string permissions;   // as the venue wrote it
  std::string ip_whitelist;  // empty: no IP restriction
  [[nodiscard]] bool can_move_funds_out() const noexcept { return can_withdraw || can_transfer; }
};

// Throws enigma::Error when the body is not JSON, the code is not 200000, or data.permission is missing.
[[nodiscard]] ApiKeyInfo parse_api_key_info(std::string_view body);

// GET /api/v1/trade-fees?symbol=S (futures host; https://www.kucoin.com/docs/rest/funding/trade-fee/trading-pair-actual-fee-futures):
// {"code":"200000","data":{"symbol":"XBTUSDTM","takerFeeRate":"0.0006","makerFeeRate":"0.0002"}}, the
// account's actual rates. Throws enigma::Error when the body is not JSON, the code is not 200000, data names
// another symbol than `symbol`, or a rate is missing, unreadable or outside -1..1.
[[nodiscard]] FeeRates parse_trade_fees(std::string_view body, std::string_view symbol);


// The private stream (bullet-private token): after the welcome, order changes of every symbol
// (/contractMarket/tradeOrders) and stop orders (/contractMarket/advancedOrders), each acknowledged in order;
// the second ack means both are in force.
class PrivateStream final : public VenueStreamDialect {
 public:
  [[nodiscard]] Access access() const noexcept override { return Access::token; }
  [[nodiscard]] KeepAlive keep_alive() const noexcept override { return KeepAlive::json_ping_interval; }
  [[nodiscard]] bool subscribes() const noexcept override { return true; }
  [[nodiscard]] std::vector<std::string> on_connect(const std::string&) const override { return {}; }
  [[nodiscard]] std::vector<std::string> after_welcome() const override;
  [[nodiscard]] Answer answer(std::string_view payload) const noexcept override;
};

class Encoder;
// The start-up reconciliation's queries on this venue (oms/venue_queries.hpp), sent with calls.call():
// KuCoin Futures: GET /api/v1/orders?status=active and /api/v1/stopOrders, /api/v1/orders/byClientOid,
// /api/v1/positions, /api/v1/account-overview?currency=USDT and /api/v1/trade-fees, signed with `encoder`.
[[nodiscard]] std::unique_ptr<VenueQueries> account_queries(VenueCalls& calls, Encoder& encoder, const InstrumentRegistry& registry);

// GET /api/v1/user/api-key (parse_api_key_info) signed by `signer` at `now_ms`, and how its answer reads.
[[nodiscard]] KeyPermissionsRequest key_permissions_request(const Encoder& signer, std::int64_t now_ms);

// `enigma live` on this venue (oms/live_venue.hpp): loads the credentials [live] names (environment or an
// owner-only file; errors name the variable or file, never a value). `rest_host` is "host" or "host:port" of
// account.rest_url, which the signatures cover; `account` must outlive the result.
[[nodiscard]] std::unique_ptr<LiveVenue> live_venue(const LiveAccount& account, std::string rest_host);
// What this venue's [live] table takes (oms/live_venue.hpp LiveVenueRules).
[[nodiscard]] const LiveVenueRules& live_rules();

}  // namespace enigma::oms::kucoin_futures
