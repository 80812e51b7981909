// Bybit V5 linear USDT perpetuals: what comes back after an order leaves (the counterpart of
// kucoin_futures_user.hpp).
//  (a) the private WebSocket (wss://stream.bybit.com/v5/private, after {"op":"auth"}): topics "order" /
//      "order.linear" and "execution" / "execution.linear" become ExecReports; "position", "wallet", "dcp",
//      "execution.fast" (no orderQty / leavesQty to tell the cumulative qty) and every other topic, the auth
//      and subscribe acknowledgements and pong are "ignored"; an auth refusal ({"op":"auth","success":false})
//      is reported as listen_key_expired.
//  (b) the REST answers to POST /v5/order/create, /v5/order/cancel, /v5/order/cancel-all,
//      /v5/order/disconnected-cancel-all and GET /v5/order/realtime?orderLinkId=..:
//      {"retCode":0,"retMsg":"OK","result":{..},"retExtInfo":{},"time":..}, a refusal with another retCode
//      (HTTP 200 or 4xx).
//  (c) cold-path readers for start-up reconciliation: the open-order pages, the positions and the API key's
//      permissions (these allocate and throw enigma::Error).
// Fields: https://bybit-exchange.github.io/docs/v5/websocket/private/order, .../private/execution,
// .../v5/order/open-order, .../v5/position, .../v5/user/apikey-info, .../v5/error.
//
// Batches. One stream message carries an array "data" that may hold several orders or executions. decode()
// turns ONE element into a report: the `index`-th (0 by default), and last_count() then says how many
// elements the message has, so a caller reads every one without allocation:
//     for (std::size_t i = 0;; ++i) {
//       const auto e = dec.decode(msg, cap, report, i);   // re-parses msg: messages are small
//       ... handle e / report ...
//       if (i + 1 >= dec.last_count()) break;
//     }
// An index past the end is "ignored". An error in one element does not stop the others.
//
// A fill is never booked twice. Bybit reports a trade twice: on "execution" (execQty / execPrice / execFee:
// the fill, a `fill` report with cum_qty = orderQty - leavesQty) and on "order" (the order's new cumExecQty:
// a `status` report with cum_qty = cumExecQty and last_px = avgPrice). Every report carries the venue's
// cumulative qty and the order state machine books only cum_qty above what it already has
// (oms/order_state.cpp apply()), so whichever of the two arrives second books nothing. When the execution
// comes first the fill is booked with its price and fee; should the order message come
// first, the qty is booked at the average price and without fee (the report is not a fill; the order's
// cumExecFee is not carried over) and the fee is left to the account ledger (the wallet). A lost execution is
// made up the same way. Bybit may also send two orderStatus=Filled messages for one order (a cancel that crossed
// the last trade, order-topic docs): the second books nothing and the order is already terminal.
//
// Sizes are base coin (qty "0.010" BTC), as the encoder writes them. Numbers may come as JSON strings or
// JSON numbers; both are read, without a double on the way. Fees: execFee is what the trade cost in the
// settlement coin (USDT), positive = paid, negative = a maker rebate: ExecReport::fee has that sign.
// Decoding is noexcept and allocation-free (one simdjson On-Demand parser preallocated per decoder);
// malformed input gives an Errc, never a throw.
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

namespace enigma::oms::bybit_linear {

using oms::is_instrument_request;
using oms::RestAnswer;
using oms::RestRequest;
using oms::UserEvent;

class UserStreamDecoder final : public VenueUserDecoder {
 public:
  // `registry` must outlive the decoder; symbols are looked up under `venue`. `max_message_bytes` bounds
  // the messages and REST bodies decoded (larger: Errc::capacity). Throws enigma::Error when simdjson cannot
  // allocate its buffers.
  explicit UserStreamDecoder(const InstrumentRegistry& registry, Venue venue = Venue::bybit,
                             std::size_t max_message_bytes = 64u << 10);
  ~UserStreamDecoder();
  UserStreamDecoder(const UserStreamDecoder&) = delete;
  UserStreamDecoder& operator=(const UserStreamDecoder&) = delete;

  // Element `index` of one private-stream message (see "Batches" above). When `padded_capacity` (readable
  // bytes at `msg.data()`) is below msg.size() + 64 the message is first copied into an internal padded buffer.
  // An element whose "category" is present and not "linear" is ignored.
  //   "order": orderStatus New / Untriggered -> accepted; Triggered -> triggered; PartiallyFilled / Filled ->
  //     status (status partially_filled / filled, cum_qty = cumExecQty, last_px = avgPrice); Cancelled /
  //     PartiallyFilledCanceled / Deactivated (a conditional order canceled before it fired) -> canceled
  //     (cum_qty = cumExecQty); Rejected -> rejected (reason venue_error). Cancel and reject reasons come from
  //     rejectReason: EC_PostOnlyWillTakeLiquidity -> post_only_would_cross, EC_NoImmediateQtyToFill ->
  //     ioc_no_liquidity, EC_NoEnoughQtyToFill -> fok_unfillable. venue_time_ns = updatedTime (ms).
  //   "execution": execType Trade -> fill (last_qty = execQty, last_px = execPrice, fee = execFee, maker =
  //     isMaker, cum_qty = orderQty - leavesQty, status filled when leavesQty is 0 else partially_filled,
  //     venue_seq = execId when it is decimal, else 0; venue_time_ns = execTime (ms)); other execTypes
  //     (Funding, AdlTrade, BustTrade, Delivery, Settle, ...) -> ignored: they are not fills of our orders
  //     (position reconciliation sees their effect).
  //   Reports carry client_id = orderLinkId (empty for an order placed without one: the caller maps
  //   venue_order_id = orderId) and the instrument of "symbol".
  //   {"op":"auth","success":false,..} -> listen_key_expired: the venue refused the key or its signature and
  //     closes the connection; the gateway reconnects (a new `expires`, which cures a stale one). Its retCode
  //     (10003 invalid key, 10004 sign, ...) is kept in last_refusal_code() for credentials_refused().
  //   {"op":"subscribe","success":false} -> Errc::unknown_message (the gateway logs it); other "op" answers
  //     (auth success, subscribe ack, pong) -> ignored.
  // Errors: Errc::bad_format (not JSON, a side other than Buy/Sell), Errc::wrong_type, Errc::missing_field (no
  // topic and no op, no data on an order/execution message, an element without symbol / side / orderStatus /
  // execType, an execution without execQty / execPrice / orderQty / leavesQty), Errc::unknown_message (an
  // orderStatus we do not know), Errc::not_found (symbol not in the registry), Errc::out_of_range (an
  // orderLinkId or orderId over 40 characters, a non-positive trade, leavesQty above orderQty, a time past
  // 2262), Errc::capacity (too large); fixed-point parse errors as returned by Price/Qty/Notional::parse.
  [[nodiscard]] Result<UserEvent> decode(std::string_view msg, std::size_t padded_capacity, ExecReport& out,
                                         std::size_t index = 0) noexcept override;
  // Elements in the "data" array of the message last given to decode() (0 for control messages and for a
  // message that could not be read).
  [[nodiscard]] std::size_t last_count() const noexcept override;
  // retCode of the last refused auth (0 when none yet).
  [[nodiscard]] std::int32_t last_refusal_code() const noexcept override;

  // The answer to a REST request for `id` on `instrument`. `http_status` 0 means no answer (timeout /
  // connection lost). Success is retCode 0 with HTTP 2xx:
  //   new_order -> accepted with venue_order_id = result.orderId (fills are the stream's);
  //   cancel    -> status with status pending_cancel: "the acknowledgement of a cancel order request indicates
  //                that the request was successfully accepted. This request is asynchronous" (cancel-order
  //                docs); the order may still fill before it. The terminal report is the stream's Cancelled,
  //                as KuCoin's (kucoin_futures_user.hpp says why a terminal report here would be wrong);
  //   query     -> status from result.list[0]: orderStatus (New / Untriggered / Triggered -> accepted or
  //                partially_filled by cumExecQty, PartiallyFilled -> partially_filled, Filled -> filled,
  //                Cancelled / PartiallyFilledCanceled / Deactivated -> canceled, Rejected -> rejected),
  //                cum_qty = cumExecQty, last_px = avgPrice (0 when null or empty), venue_order_id = orderId,
  //                venue_time_ns = updatedTime; an empty list (no such order in what was
  //                asked: open orders, or with openOnly=1 recently closed ones, see Encoder::encode_query) ->
  //                status with Reason::order_not_found, venue_code 0;
  //   cancel_all / countdown (disconnected-cancel-all) -> no report (venue_code 0, unknown false).
  // A refusal (retCode != 0, HTTP 200 or 4xx; the rate limits 10006 / 10018 included): new_order -> rejected,
  // cancel -> cancel_rejected, cancel_all / countdown -> status, each with venue_code = retCode and reason =
  // reason_from_code(retCode); query -> unknown (ask again later). 5xx / 0 / retCode 10000 (server timeout) or
  // 10016 (server error) / an unreadable body -> unknown. Errc::bad_format (or the parse error) when the body
  // is not the expected JSON (`out.unknown` is then set).
  [[nodiscard]] Errc decode_rest(RestRequest kind, int http_status, std::string_view body, const ClientOrderId& id,
                                 InstrumentId instrument, RestAnswer& out) noexcept override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Bybit retCode -> our reason: insufficient balance / margin (110004, 110006, 110007, 110012, 110044, 110045,
// 110052) -> insufficient_margin; 110001 order does not exist, 110008 completed or canceled, 110010 canceled
// -> order_not_found; 110017 reduce-only rule not satisfied -> reduce_only_would_increase; parameter errors
// (10001, 110003 price out of range, 110032 order is illegal, 110072 duplicate orderLinkId, as KuCoin's 300000)
// -> invalid_order; anything else venue_error: the rate limits 10006 / 10018 (as KuCoin's 429000 and
// Binance's -1003: Reason::rate_limited means refused locally) and the credential refusals (see below).
[[nodiscard]] Reason reason_from_code(std::int32_t code) noexcept;

// The venue refused the key itself: no order can succeed until a person acts (the engine's
// credentials_refused() convention: Binance -2014 / -2015 / -1022, KuCoin 400003..400007). 10003 invalid key,
// 10004 sign error, 10005 permission denied, 10007 user authentication failed, 10009 IP banned, 10010 IP not
// bound to the key, 33004 key expired (derivatives).
[[nodiscard]] constexpr bool credentials_refused(std::int32_t code) noexcept {
  return code == 10003 || code == 10004 || code == 10005 || code == 10007 || code == 10009 || code == 10010 ||
         code == 33004;
}

// ---- cold path: start-up reconciliation (allocates; throws enigma::Error naming what is wrong) ----

// One order of GET /v5/order/realtime?category=linear&settleCoin=USDT (open and untriggered orders).
struct OpenOrder {
  ClientOrderId client_id;                      // orderLinkId; empty when the order has none or one over 40 characters
  std::string order_id;                         // the venue's orderId, for POST /v5/order/cancel {"orderId":..}
  std::string symbol;                           // the venue symbol, also when it is not in the registry
  InstrumentId instrument{kInvalidInstrument};  // kInvalidInstrument: a symbol this engine does not know
  Side side{Side::buy};
  // limit, market, stop_market or take_profit_market (a conditional market order: triggerDirection and side
  // tell which, as the encoder writes them). A conditional limit order (not an order type the engine places)
  // comes as limit with stop_price set.
  risk::OrderType type{risk::OrderType::limit};
  Price price;       // 0 for market orders
  Price stop_price;  // triggerPrice; 0 without a trigger
  Qty qty;           // base coin
  Qty filled;        // cumExecQty
  bool reduce_only{false};
};

// Parses one page of open orders. Orders on symbols not in the registry are kept (instrument =
// kInvalidInstrument, symbol set): reconciliation reports or cancels every order open at the venue. When
// `next_cursor` is given it receives result.nextPageCursor (empty on the last page; the caller asks again
// with &cursor=<it>). Throws enigma::Error when the body is not JSON, the retCode is not 0 (code and retMsg
// quoted), or an order lacks orderId / side / qty or has an unreadable number, side or type.
[[nodiscard]] std::vector<OpenOrder> parse_open_orders(std::string_view body, const InstrumentRegistry& registry,
                                                       Venue venue = Venue::bybit, std::string* next_cursor = nullptr);

// One entry of GET /v5/position/list?category=linear&settleCoin=USDT (one-way mode: one per symbol).
struct VenuePosition {
  std::string symbol;
  InstrumentId instrument{kInvalidInstrument};  // kInvalidInstrument: not in the registry (kept, like orders)
  Qty signed_qty;                               // size with the sign of side: Buy > 0, Sell < 0, "" (flat) 0
  Price entry_px;                               // avgPrice (0 when flat)
};

// Parses the positions answer (flat entries come with side "" and size 0). Throws enigma::Error when the body
// is not JSON, the retCode is not 0, or an entry lacks symbol / size, has an unreadable number or a side other
// than Buy / Sell / "" (or "" with a non-zero size).
[[nodiscard]] std::vector<VenuePosition> parse_positions(std::string_view body, const InstrumentRegistry& registry,
                                                         Venue venue = Venue::bybit);

// GET /v5/user/query-api: what the key may do. Bybit lists permissions per group
// ({"Wallet":["AccountTransfer","SubMemberTransfer"],"ContractTrade":["Order","Position"],..}): "Withdraw"
// sets can_withdraw, "SubMemberTransfer" / "SubMemberTransferList" (to or from other UIDs) set can_transfer;
// "AccountTransfer" (between the same UID's own accounts) does not
// (Bybit lists them under "Wallet"; they count in any group, names compared case-insensitively). readOnly 1 = the key
// cannot trade. ips ["*"] (or none) means no IP restriction.
struct ApiKeyInfo {
  bool can_withdraw{false};
  bool can_transfer{false};
  bool read_only{false};
  std::string permissions;   // "Group:Perm,Perm;Group:..", the groups that grant something, for the log
  std::string ip_whitelist;  // comma-separated; empty: no IP restriction
  [[nodiscard]] bool can_move_funds_out() const noexcept { return can_withdraw || can_transfer; }
};

// Throws enigma::Error when the body is not JSON, the retCode is not 0, or result.permissions is missing.
[[nodiscard]] ApiKeyInfo parse_api_key_info(std::string_view body);


// The private stream (wss://stream.bybit.com/v5/private): each connect sends the auth op and then one
// subscription naming every topic (Encoder::subscribe_message, with "dcp" when the disconnect protection is
// armed); the venue answers the subscription with one op reply.
class PrivateStream final : public VenueStreamDialect {
 public:
  explicit PrivateStream(bool dcp) : dcp_(dcp) {}
  [[nodiscard]] Access access() const noexcept override { return Access::login; }
  [[nodiscard]] KeepAlive keep_alive() const noexcept override { return KeepAlive::json_ping_op; }
  [[nodiscard]] bool subscribes() const noexcept override { return true; }
  [[nodiscard]] std::vector<std::string> on_connect(const std::string& login) const override;
  [[nodiscard]] Answer answer(std::string_view payload) const noexcept override;

 private:
  bool dcp_;
};

class Encoder;
// The start-up reconciliation's queries on this venue (oms/venue_queries.hpp), sent with calls.call():
// Bybit V5 linear: GET /v5/order/realtime (settleCoin=USDT pages; by orderLinkId, open then openOnly=1),
// POST /v5/order/cancel by orderId, GET /v5/position/list, GET /v5/account/wallet-balance (USDT walletBalance).
[[nodiscard]] std::unique_ptr<VenueQueries> account_queries(VenueCalls& calls, Encoder& encoder, const InstrumentRegistry& registry);

// GET /v5/user/query-api (parse_api_key_info) signed by `signer` at `now_ms`, and how its answer reads: a read-only
// key cannot trade.
[[nodiscard]] KeyPermissionsRequest key_permissions_request(const Encoder& signer, std::int64_t now_ms);

// `enigma live` on this venue (oms/live_venue.hpp): loads the credentials [live] names (environment or an
// owner-only file; errors name the variable or file, never a value). `rest_host` is "host" or "host:port" of
// account.rest_url, which the signatures cover; `account` must outlive the result.
[[nodiscard]] std::unique_ptr<LiveVenue> live_venue(const LiveAccount& account, std::string rest_host);
// What this venue's [live] table takes (oms/live_venue.hpp LiveVenueRules).
[[nodiscard]] const LiveVenueRules& live_rules();

}  // namespace enigma::oms::bybit_linear
