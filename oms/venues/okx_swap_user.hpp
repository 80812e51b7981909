// OKX V5 USDT-margined perpetual swaps: what comes back after an order leaves (the counterpart of
// bybit_linear_user.hpp).
//  (a) the private WebSockets, after {"op":"login"} (okx_swap.hpp): channel "orders" (wss://ws.okx.com:8443/
//      ws/v5/private) and channel "orders-algo" (.../ws/v5/business) become ExecReports; "positions", "account"
//      and every other channel, the login and subscribe acknowledgements and the plain-text "pong" are "ignored";
//      a login refusal ({"event":"error","code":"60009"} and the other login codes) is reported as
//      listen_key_expired.
//  (b) the REST answers to POST /api/v5/trade/order, /order-algo, /cancel-order, /cancel-batch-orders,
//      /cancel-algos, /cancel-all-after and GET /api/v5/trade/order, /order-algo:
//      {"code":"0","msg":"","data":[{..,"sCode":"0","sMsg":""}],"inTime":..,"outTime":..}; a refusal has top code
//      "1" ("2": a batch partly done) with the reason in data[i].sCode / sMsg, or a top-level code with empty data
//      (50011 rate limit, 50113 invalid signature, ...; HTTP 200, 4xx or 5xx).
//  (c) cold-path readers for start-up reconciliation: the pending orders and algo orders, the positions, the
//      balance and the account configuration (these allocate and throw enigma::Error).
// Fields: https://www.okx.com/docs-v5/en/#order-book-trading-trade-ws-order-channel,
// .../#order-book-trading-algo-trading-ws-algo-orders-channel, .../#order-book-trading-trade-get-order-details,
// .../#order-book-trading-algo-trading-get-algo-order-details, .../#error-code-rest-api,
// .../#error-code-websocket-public.
//
// Batches. One stream message carries an array "data" that may hold several orders. decode() turns ONE element
// into a report: the `index`-th (0 by default), and last_count() then says how many elements the message has,
// so a caller reads every one without allocation (as bybit_linear_user.hpp):
//     for (std::size_t i = 0;; ++i) {
//       const auto e = dec.decode(msg, cap, report, i);   // re-parses msg: messages are small
//       ... handle e / report ...
//       if (i + 1 >= dec.last_count()) break;
//     }
// An index past the end is "ignored". An error in one element does not stop the others.
//
// A fill is never booked twice. OKX carries each trade once on "orders" (fillSz / fillPx / tradeId / fillFee of
// "the current update", with the cumulative accFillSz), but its docs warn that "in exceptional cases, the same
// message may be sent multiple times": every report carries the venue's cumulative qty and the order state
// machine books only cum_qty above what it already has (oms/order_state.cpp apply()), so a repeat books nothing.
//
// Algo orders. A stop / take-profit is an algo order (client id algoClOrdId, venue id algoId) reported on
// "orders-algo" until it fires; the market order it then places is reported on "orders" with our id in
// algoClOrdId (and an id of the venue's in clOrdId): the decoder names such reports by algoClOrdId, so the fills
// of a triggered stop book against the stop the engine placed.
//
// Sizes are contracts ("sz", "accFillSz", "fillSz"), as the encoder writes them. Numbers may come as JSON strings
// or JSON numbers; both are read, without a double on the way. Fees: OKX's fillFee is negative for a charge and
// positive for a rebate; ExecReport::fee is positive = paid, so its sign is flipped, and it is rounded to the
// nearest 1e-8 (Notional's resolution; OKX writes up to 9 decimals and more). Decoding is noexcept and
// allocation-free (one simdjson On-Demand parser preallocated per decoder); malformed input gives an Errc, never a
// throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
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

namespace enigma::oms::okx_swap {

using oms::is_instrument_request;
using oms::RestAnswer;
using oms::RestRequest;
using oms::UserEvent;

class UserStreamDecoder final : public VenueUserDecoder {
 public:
  // `registry` must outlive the decoder; symbols (instId) are looked up under `venue`. `max_message_bytes` bounds
  // the messages and REST bodies decoded (larger: Errc::capacity). Throws enigma::Error when simdjson cannot
  // allocate its buffers.
  explicit UserStreamDecoder(const InstrumentRegistry& registry, Venue venue = Venue::okx,
                             std::size_t max_message_bytes = 64u << 10);
  ~UserStreamDecoder();
  UserStreamDecoder(const UserStreamDecoder&) = delete;
  UserStreamDecoder& operator=(const UserStreamDecoder&) = delete;

  // Element `index` of one private-stream message (see "Batches" above). When `padded_capacity` (readable bytes
  // at `msg.data()`) is below msg.size() + 64 the message is first copied into an internal padded buffer. An
  // element whose instType is present and not "SWAP" is ignored.
  //   "orders": an element with fillSz > 0 and state live / partially_filled / filled is a fill (last_qty =
  //     fillSz, last_px = fillPx, fee = -fillFee (see below), maker = execType "M", cum_qty = accFillSz, status
  //     filled when state is filled else partially_filled, venue_seq = tradeId when decimal, venue_time_ns =
  //     fillTime, else uTime). Otherwise, by state: live -> accepted; partially_filled / filled -> status
  //     (cum_qty = accFillSz, last_px = avgPx: OKX may report a market order "filled" with fillSz 0, its docs
  //     say); canceled / mmp_canceled -> canceled (cum_qty = accFillSz, last_px = avgPx; an element that is
  //     canceled and carries a fill too is reported as canceled: its qty is booked at the average price and
  //     without fee, the ledger has the fee). Cancel reasons from cancelSource: 13 -> fok_unfillable,
  //     14 -> ioc_no_liquidity, 31 -> post_only_would_cross. Elements of another category than "normal"
  //     (full_liquidation, partial_liquidation, adl, delivery, ddh, ...: the venue's orders, not ours) are
  //     ignored: position reconciliation sees their effect. fee: -fillFee; a message without fillFee (older
  //     captures) whose accFillSz equals fillSz (the order's first fill) uses -fee, the cumulative fee, which is
  //     then the same; else 0. fee is 0 too when fillFeeCcy is not the instrument's quote currency (the second
  //     part of "BTC-USDT-SWAP"): ExecReport::fee is in quote currency.
  //   "orders-algo": by state: live -> accepted; effective -> triggered; canceled -> canceled; order_failed ->
  //     rejected (reason reason_from_code(failCode), venue_error without one). cum_qty 0 (the fills are the
  //     triggered order's, on "orders"); client_id = algoClOrdId, venue_order_id = algoId; venue_time_ns = uTime.
  //     pause / partially_effective / partially_failed (split TP/SL, iceberg, TWAP: not what the encoder places)
  //     and other states -> Errc::unknown_message.
  //   Reports carry the instrument of instId; client_id "" for an order placed without one (the caller maps
  //   venue_order_id = ordId).
  //   {"event":"error"} with a login code (60004 invalid timestamp, 60005 invalid apiKey, 60006 timestamp
  //     expired, 60007 invalid sign, 60009 login failure, 60011 please log in, 60024 wrong passphrase, 60032 key
  //     does not exist, 63999 login failed: internal error), or {"event":"login"} with a code other than 0 ->
  //     listen_key_expired: the session is not logged in; the gateway reconnects and logs in again (a fresh
  //     timestamp cures 60006). The code is kept in last_refusal_code() for credentials_refused().
  //   {"event":"notice","code":"64008"} ("The connection will soon be closed for a service upgrade. Please
  //     reconnect.") -> listen_key_expired too, last_refusal_code() 64008: reconnect before the venue drops us.
  //   Any other {"event":"error"} (60012 invalid request, 60018 no such channel, 64001 channel moved to
  //     /business, ...) and "channel-conn-count-error" -> Errc::unknown_message (the gateway logs it); other events
  //     (login success, subscribe / unsubscribe acks, channel-conn-count, other notices) and the plain text "pong"
  //     -> ignored.
  // Errors: Errc::bad_format (not JSON, a side other than buy/sell), Errc::wrong_type, Errc::missing_field (no arg
  // channel and no event, no data on an orders message, an element without instId / side / state, a fill without
  // fillPx), Errc::unknown_message (a state we do not know), Errc::not_found (instId not in the registry),
  // Errc::out_of_range (a client or venue id over 40 characters, a fill at a non-positive price, a time past
  // 2262), Errc::capacity (too large); fixed-point parse errors as returned by Price/Qty/Notional::parse.
  [[nodiscard]] Result<UserEvent> decode(std::string_view msg, std::size_t padded_capacity, ExecReport& out,
                                         std::size_t index = 0) noexcept override;
  // Elements in the "data" array of the message last given to decode() (0 for control messages and for a message
  // that could not be read).
  [[nodiscard]] std::size_t last_count() const noexcept override;
  // The code of the last login refusal or reconnect notice (0 when none yet).
  [[nodiscard]] std::int32_t last_refusal_code() const noexcept override;

  // The answer to a REST request for `id` on `instrument`. `http_status` 0 means no answer (timeout / connection
  // lost). The outcome is data[0].sCode when the answer has one (OKX reports one order's refusal there, even under
  // top code "0": an algo order refused with sCode 51000), else the top-level code. Success is code 0 with
  // HTTP 2xx:
  //   new_order -> accepted with venue_order_id = data[0].ordId (an order) or algoId (an algo order);
  //   cancel    -> status with status pending_cancel: the acknowledgement says the venue took the request, not
  //                that the order is gone (it may fill first); the stream's canceled ends it, as Bybit's
  //                (bybit_linear_user.hpp);
  //   query     -> status from data[0]. An order (the answer has accFillSz): state live -> accepted or
  //                partially_filled by accFillSz, partially_filled, filled, canceled / mmp_canceled -> canceled;
  //                cum_qty = accFillSz, last_px = avgPx, venue_order_id = ordId, venue_time_ns = uTime. An algo
  //                order: live / pause -> accepted, effective / partially_effective -> accepted (it fired: what the
  //                order it placed did is on the "orders" stream, under our id; this answer does not say), canceled
  //                -> canceled, order_failed / partially_failed -> rejected; cum_qty 0, venue_order_id = algoId;
  //   cancel_all / countdown (cancel-all-after) -> no report (venue_code 0, unknown false).
  //   An answer whose data[0] names another client id (clOrdId / algoClOrdId, when present) is not an answer to
  //   this request: unknown, Errc::not_found.
  // A refusal (code != 0; HTTP 200 or 4xx; the rate limits 50011 / 50061 included: a request refused for its rate
  // was not carried out): new_order -> rejected, cancel -> cancel_rejected (status unknown), cancel_all / countdown
  // -> status, each with venue_code = the code and reason = reason_from_code(code); query: 51603 "Order does not
  // exist" -> status with Reason::order_not_found (never placed, or canceled unfilled more than 2 hours ago:
  // nothing filled either way), other refusals -> unknown (ask again later), venue_code kept.
  // 5xx / 0 / the codes that do not know either (50001 service unavailable, 50004 endpoint timeout, 50013 system
  // busy, 50026 system error, 51054 request timed out, 51149 order timed out) / an unreadable body -> unknown,
  // venue_code 0. Errc::bad_format (or the parse error) when the body is not the expected JSON (`out.unknown` is
  // then set). For cancel_batch this reads data[0] only: decode_rest_batch reads every order.
  [[nodiscard]] Errc decode_rest(RestRequest kind, int http_status, std::string_view body, const ClientOrderId& id,
                                 InstrumentId instrument, RestAnswer& out) noexcept override;
  // The answer to a batch cancel of `ids` (POST /api/v5/trade/cancel-batch-orders or /cancel-algos, as
  // Encoder::encode_cancel_batch writes it): out[i] for ids[i] (`out` at least as long as `ids`; the API of
  // binance_futures_user.hpp). Each element of data: sCode 0 -> status pending_cancel (see cancel above), another
  // sCode -> cancel_rejected with the code kept (51400: already filled, canceled or unknown -> order_not_found).
  // An element is matched to its id by clOrdId / algoClOrdId when it carries one (cancel-algos leaves algoClOrdId
  // empty: deprecated there), else by position. A whole request refused (a top code with empty data, e.g. 50113)
  // -> cancel_rejected for every id. 5xx / 0 / the "does not know" codes above / anything unreadable -> unknown for
  // the ids it leaves undecided (Errc::bad_format or the parse error is returned then).
  [[nodiscard]] Errc decode_rest_batch(int http_status, std::string_view body, std::span<const ClientOrderId> ids,
                                       InstrumentId instrument, std::span<RestAnswer> out) noexcept override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// OKX code -> our reason: insufficient balance / margin (51008 and its sub-codes 51008_1000.., 51127, 51131) ->
// insufficient_margin; 51603 order does not exist, 51400 cancel failed (filled, canceled or does not exist),
// 51401 already canceled, 51402 already completed, 51503 already filled or canceled, 51063 ordId does not exist
// -> order_not_found; 51169 no position to reduce, 51170 reduce-only in the position's direction ->
// reduce_only_would_increase; parameter errors (50014..50016, 51000 parameter error, 51001 no such instrument,
// 51005 above the max amount, 51006 price out of limit, 51007 below 1 contract, 51016 duplicate clOrdId, 51020
// below the min amount, 51065 duplicate algoClOrdId, 51116 price above limit, 51120 below the min amount, 51121
// not a lot multiple, 51137 / 51138 price limit, 51201..51203 market order too large, 51277..51280 trigger on the
// wrong side of the last price) -> invalid_order; anything else venue_error: the rate limits 50011 / 50061 (as
// Bybit's 10006: Reason::rate_limited means refused locally) and the credential refusals (see below).
[[nodiscard]] Reason reason_from_code(std::int32_t code) noexcept;

// The venue refused the key itself: no order can succeed until a person acts (the engine's credentials_refused()
// convention, as Bybit's 10003 / 10004). REST: 50100 API frozen, 50101 key does not match the environment (a demo
// key on live or the reverse), 50103 / 50104 key or passphrase header empty, 50105 passphrase incorrect, 50110 IP
// not in the key's whitelist, 50111 invalid OK-ACCESS-KEY, 50113 invalid signature, 50114 invalid authorization,
// 50119 key does not exist, 50120 key lacks the permission. WebSocket login: 60005 invalid apiKey, 60007 invalid
// sign, 60024 wrong passphrase, 60032 key does not exist. Not: 50102 / 60006 (timestamp expired: a fresh one
// cures it), 60009 (the generic "Login failure"), 63999 (internal error).
[[nodiscard]] constexpr bool credentials_refused(std::int32_t code) noexcept {
  switch (code) {
    case 50100:
    case 50101:
    case 50103:
    case 50104:
    case 50105:
    case 50110:
    case 50111:
    case 50113:
    case 50114:
    case 50119:
    case 50120:
    case 60005:
    case 60007:
    case 60024:
    case 60032:
      return true;
    default:
      return false;
  }
}

// ---- cold path: start-up reconciliation (allocates; throws enigma::Error naming what is wrong) ----

// The most a page of orders-pending / orders-algo-pending holds (their `limit` defaults to and maxes at 100).
inline constexpr std::size_t kPageLimit = 100;

// One order of GET /api/v5/trade/orders-pending?instType=SWAP, or one algo order of
// GET /api/v5/trade/orders-algo-pending?ordType=conditional&instType=SWAP.
struct OpenOrder {
  ClientOrderId client_id;  // clOrdId (algoClOrdId for an algo order); empty when none or over 40
  std::string order_id;     // the venue's ordId (algoId), for cancel-order {"ordId":..} / cancel-algos
  std::string symbol;       // instId, also when it is not in the registry
  InstrumentId instrument{kInvalidInstrument};  // kInvalidInstrument: a symbol this engine does not know
  Side side{Side::buy};
  // Orders: limit (ordType limit / post_only / ioc / fok, `tif` says which) or market (market,
  // optimal_limit_ioc). Algo orders: a "conditional" with a market stop-loss leg is stop_market, with a market
  // take-profit leg take_profit_market (as the encoder writes them); a conditional with a limit order price, or a
  // "trigger" order with one, is limit with stop_price set (not an order type the engine places).
  risk::OrderType type{risk::OrderType::limit};
  risk::TimeInForce tif{risk::TimeInForce::gtc};
  bool algo{false};  // an algo order: cancel it with cancel-algos
  Price price;       // 0 for market orders
  Price stop_price;  // the trigger price of an algo order; 0 otherwise
  Qty qty;           // contracts
  Qty filled;        // accFillSz (0 for algo orders)
  bool reduce_only{false};
};

// Parses one page of pending orders. Orders on symbols not in the registry are kept (instrument =
// kInvalidInstrument, symbol set): reconciliation reports or cancels every order open at the venue. When
// `next_after` is given it receives the last ordId of a full page (kPageLimit orders: ask again with
// &after=<it>), "" otherwise. Throws enigma::Error when the body is not JSON, the code is not 0 (code and msg
// quoted), or an order lacks ordId / side / sz or has an unreadable number, side or ordType.
[[nodiscard]] std::vector<OpenOrder> parse_open_orders(std::string_view body, const InstrumentRegistry& registry,
                                                       Venue venue = Venue::okx, std::string* next_after = nullptr);

// The same for one page of pending algo orders; `next_after` receives the last algoId of a full page. Throws as
// above, and for an algo order that cannot be told as one OpenOrder (oco, move_order_stop, twap, ..., or a market
// "trigger" order without the last price that tells its direction).
[[nodiscard]] std::vector<OpenOrder> parse_open_algo_orders(std::string_view body, const InstrumentRegistry& registry,
                                                            Venue venue = Venue::okx,
                                                            std::string* next_after = nullptr);

// One entry of GET /api/v5/account/positions?instType=SWAP.
struct VenuePosition {
  std::string symbol;
  InstrumentId instrument{kInvalidInstrument};  // kInvalidInstrument: not in the registry (kept, like orders)
  // Contracts, signed: net mode ("posSide":"net") gives "pos" its sign (short < 0); long/short mode gives one entry
  // per side ("long" > 0, "short" < 0), which the caller adds up per instrument.
  Qty signed_qty;
  Price entry_px;  // avgPx (0 when flat)
};

// Throws enigma::Error when the body is not JSON, the code is not 0, or an entry lacks instId / pos, has an
// unreadable number or a posSide other than net / long / short.
[[nodiscard]] std::vector<VenuePosition> parse_positions(std::string_view body, const InstrumentRegistry& registry,
                                                         Venue venue = Venue::okx);

// GET /api/v5/account/balance?ccy=USDT: the equity of `ccy` (data[0].details[ccy].eq, cashBal when eq is empty),
// rounded to Notional's 1e-8 (OKX writes up to 16 decimals). Throws enigma::Error when the body is not JSON, the
// code is not 0, or no detail names `ccy`.
[[nodiscard]] Notional parse_balance(std::string_view body, std::string_view ccy = "USDT");

// GET /api/v5/account/config: what the requesting key may do and how the account is set up. perm is a
// comma-separated list of read_only / trade / withdraw. OKX has no separate transfer permission for a key; moving
// funds between the master account and its sub-accounts needs the trade permission, so only "withdraw" counts as
// moving funds out (a trade key on a sub-account can still send funds to its master: the master's key set-up is
// the person's to check).
struct ApiKeyInfo {
  bool can_withdraw{false};
  bool can_trade{false};
  bool read_only{false};     // the key has read_only and not trade
  std::string permissions;   // perm as the venue wrote it, for the log
  std::string ip_whitelist;  // ip: comma-separated; empty: no IP restriction
  std::string pos_mode;      // net_mode or long_short_mode (the encoder needs net_mode)
  std::string
      account_level;  // acctLv: 1 spot, 2 futures (spot and futures), 3 multi-currency margin, 4 portfolio margin
  [[nodiscard]] bool can_move_funds_out() const noexcept { return can_withdraw; }
  [[nodiscard]] bool net_mode() const noexcept { return pos_mode == "net_mode"; }
};

// Throws enigma::Error when the body is not JSON, the code is not 0, or data[0].perm is missing.
[[nodiscard]] ApiKeyInfo parse_account_config(std::string_view body);


// A private connection: /ws/v5/private (orders, positions, account) or /ws/v5/business (orders-algo, the
// untriggered stops). Each connect sends the login op; the subscription follows its acceptance (OKX refuses a
// private subscription before the login is through: 60011); the "orders" (or "orders-algo") subscribe event
// says pushes flow.
class PrivateStream final : public VenueStreamDialect {
 public:
  enum class Endpoint : std::uint8_t { private_orders, business };
  explicit PrivateStream(Endpoint endpoint) : endpoint_(endpoint) {}
  [[nodiscard]] Access access() const noexcept override { return Access::login; }
  [[nodiscard]] KeepAlive keep_alive() const noexcept override { return KeepAlive::text_ping_when_idle; }
  [[nodiscard]] bool subscribes() const noexcept override { return true; }
  [[nodiscard]] std::vector<std::string> on_connect(const std::string& login) const override { return {login}; }
  [[nodiscard]] std::string after_login() const override;
  [[nodiscard]] Answer answer(std::string_view payload) const noexcept override;

 private:
  Endpoint endpoint_;
};

class Encoder;
// The start-up reconciliation's queries on this venue (oms/venue_queries.hpp), sent with calls.call():
// OKX V5 swaps: GET /api/v5/trade/orders-pending and orders-algo-pending (after= pages), GET
// /api/v5/trade/order (order-algo for a stop) by client id, POST cancel-order / cancel-algos by the venue's id,
// GET /api/v5/account/positions?instType=SWAP, GET /api/v5/account/balance?ccy=USDT (eq).
[[nodiscard]] std::unique_ptr<VenueQueries> account_queries(VenueCalls& calls, Encoder& encoder, const InstrumentRegistry& registry);

// GET /api/v5/account/config (parse_account_config) signed by `signer` at `now_ms`, and how its answer reads: a
// key without trade cannot trade, and an account in long/short position mode refuses our orders (they go
// without posSide, which only net mode takes).
[[nodiscard]] KeyPermissionsRequest key_permissions_request(const Encoder& signer, std::int64_t now_ms);

// `enigma live` on this venue (oms/live_venue.hpp): loads the credentials [live] names (environment or an
// owner-only file; errors name the variable or file, never a value). `rest_host` is "host" or "host:port" of
// account.rest_url, which the signatures cover; `account` must outlive the result.
[[nodiscard]] std::unique_ptr<LiveVenue> live_venue(const LiveAccount& account, std::string rest_host);
// What this venue's [live] table takes (oms/live_venue.hpp LiveVenueRules).
[[nodiscard]] const LiveVenueRules& live_rules();

}  // namespace enigma::oms::okx_swap
