// A Bybit V5 venue (USDT perpetuals, category "linear", unified account) in miniature for loopback tests
// (modelled on tests/support/fake_kucoin_futures.hpp): Beast, TLS with a self-signed certificate made at
// start, 127.0.0.1 only, one io thread, stopped and joined by its destructor. Header-only. It checks every
// request itself, so a suite can test an encoder against it or build signed requests by hand.
//
// REST (https://bybit-exchange.github.io/docs/v5/guide): answers {"retCode":0,"retMsg":"OK","result":{..},
// "retExtInfo":{},"time":<ms>}; refusals carry the code in retCode with "result":{}. Every private request is
// authenticated as Bybit does for HMAC keys: X-BAPI-API-KEY must be kBybitKey, X-BAPI-TIMESTAMP (ms) must
// satisfy server_time - recv_window <= timestamp < server_time + 1000 with recv_window = X-BAPI-RECV-WINDOW
// (5000 when absent), X-BAPI-SIGN = lowercase hex HMAC-SHA256(secret, timestamp + api_key + recv_window +
// payload), the payload being the raw JSON body of a POST and the raw query string of a GET (as sent, no
// re-ordering). Codes (https://bybit-exchange.github.io/docs/v5/error): 10003 key missing or unknown (HTTP
// 401, the docs' "Need to use the correct key"), 10002 timestamp outside the window, 10004 signature
// (HTTP 200 both: the docs give them as retCodes, not HTTP statuses), 10001 a bad parameter or body,
// 110001 order does not exist (or is no longer open), 110072 OrderLinkedID is duplicate, 10016 the
// injected 5xx body, 10006 rate limit.
//   POST /v5/order/create        category linear; orderType Limit|Market; timeInForce GTC|IOC|FOK|PostOnly
//                                (GTC when absent; a Market order is always IOC); qty/price decimal strings on the
//                                symbol's lot and tick; orderLinkId (<= 36 of [A-Za-z0-9_-]); reduceOnly; triggerPrice
//                                with triggerDirection 1 (rise) | 2 (fall) books an Untriggered conditional order
//                                (https://bybit-exchange.github.io/docs/v5/order/create-order)
//   POST /v5/order/cancel        by orderId or orderLinkId (+ symbol); an untriggered conditional becomes
//                                Deactivated (V5 enum orderStatus), an active order Cancelled
//   POST /v5/order/cancel-all    symbol | baseCoin | settleCoin required for linear; orderFilter Order (active
//                                only) | StopOrder (untriggered conditionals only) | absent (both), as
//                                https://bybit-exchange.github.io/docs/v5/order/cancel-all says;
//                                result {"list":[{"orderId","orderLinkId"}..],"success":"1"}
//   GET  /v5/order/realtime      by orderId > orderLinkId > symbol > baseCoin > settleCoin (the docs'
//                                priority); open orders only (New, PartiallyFilled, Untriggered) unless
//                                asked by orderId / orderLinkId, which also finds the 500 most recent closed
//                                ones; orderFilter Order | StopOrder; newest first
//                                (https://bybit-exchange.github.io/docs/v5/order/open-order)
//   GET  /v5/position/list       symbol or settleCoin required (https://bybit-exchange.github.io/docs/v5/position)
//   GET  /v5/account/wallet-balance?accountType=UNIFIED   one USDT coin: balance - fees + realised PnL
//   GET  /v5/user/query-api      the key's permissions object and readOnly (set_key_permissions /
//                                set_key_can_withdraw / set_key_read_only;
//                                https://bybit-exchange.github.io/docs/v5/user/apikey-info). The docs list
//                                Wallet ["AccountTransfer","SubMemberTransfer"] and call the third wallet
//                                permission "Withdrawal" in prose; set_key_can_withdraw adds "Withdraw" (the
//                                string third-party key audits report), unconfirmed by the docs.
//   POST /v5/order/disconnected-cancel-all {"product":"DERIVATIVES","timeWindow":N}   N in [3, 300] s,
//                                product OPTIONS by default (https://bybit-exchange.github.io/docs/v5/order/dcp).
//                                DCP as the docs describe it: once every private connection subscribed to
//                                "dcp" (or "dcp.future" for DERIVATIVES) is gone and none authenticates and
//                                subscribes again within N s, every open order of that product (linear here,
//                                conditionals included) is cancelled; connections not subscribed to dcp do
//                                not count (https://bybit-exchange.github.io/docs/v5/websocket/private/dcp).
//                                The cancelType Bybit shows on a DCP cancel is not documented: CancelByUser here.
// Rate limits (https://bybit-exchange.github.io/docs/v5/rate-limit): per endpoint and per UID over a rolling
// 1 s window (create/cancel 10, cancel-all 10, realtime/position/wallet 50, query-api 10, DCP 5 by default;
// set_rate_limit changes one). Every answer carries X-Bapi-Limit, X-Bapi-Limit-Status (what is left after
// this request) and X-Bapi-Limit-Reset-Timestamp (now, or when the window frees a request once used up); a
// used-up quota or rate_limit_next answers HTTP 200 {"retCode":10006,"retMsg":"Too many visits!"} (HTTP 403
// is Bybit's per-IP limit, not modelled).
//
// Matching, per symbol against a mark price (set_mark, default 60000; the account, positions, fees and these
// rules are the shared kit's, tests/support/test_venue_account.hpp): Market fills at the mark; a Limit that
// crosses the mark (Buy >= mark, Sell <= mark) fills at the mark as taker unless PostOnly (then Cancelled,
// rejectReason EC_PostOnlyWillTakeLiquidity); one that does not cross rests (New) unless IOC/FOK (Cancelled,
// EC_NoImmediateQtyToFill / EC_CancelForNoFullFill; rejectReason values of the V5 enum page).
// Conditionals rest Untriggered until trigger_stop (Triggered, then matched as a new order). fill_resting
// fills a resting order as maker at its price; set_fill_parts(n) splits every fill into n executions.
// Quantities and prices are exact decimals (enigma::Price's 10 decimals, products in 128 bits). Fees: taker
// 0.055 %, maker 0.02 % of execValue (set_fees), as execFee / feeRate on each execution and cumExecFee on the
// order. reduceOnly only ever closes: what would open is cancelled (cancelType CancelByReduceOnly).
//
// Private WebSocket at wss://127.0.0.1:<port>/v5/private (https://bybit-exchange.github.io/docs/v5/ws/connect):
//   {"op":"auth","args":[key, expires_ms, hex HMAC-SHA256(secret, "GET/realtime" + expires)]} ->
//   {"success":true,"ret_msg":"","op":"auth","conn_id":".."} (the docs' answer); refusals in the shape of the
//   captured failure (shared/data/bybit/nautilus_crate_ws_auth_failure.json): {"op":"auth","success":false,
//   "retCode":10003,"retMsg":"Invalid apikey","connId":".."}, 10004 "Invalid sign" for a bad signature and
//   10002 "Params Error" for expires <= now (these two codes/messages are not in the docs).
//   {"op":"subscribe","args":[..]} -> {"success":true,"ret_msg":"","op":"subscribe","conn_id":".."} for
//   order, execution, position, wallet (and their ".linear" forms), dcp, dcp.future/spot/option; before auth
//   {"success":false,"ret_msg":"Request not authorized",..}; an unknown topic {"success":false,"ret_msg":
//   "Invalid topic: X",..} (shared/data/bybit/nautilus_crate_ws_subscription_failure.json).
//   {"req_id":"x","op":"ping"} -> {"req_id":"x","op":"pong","args":["<ms>"],"conn_id":".."} (private pong).
//   Pushes {"id":..,"topic":"order"|"execution"|"position"|"wallet","creationTime":<ms>,"data":[{..}]} with
//   Bybit's field names and string numbers (shared/data/bybit/nautilus_crate_ws_account_*.json): "order" on
//   every status change (New, PartiallyFilled, Filled, Cancelled, Untriggered, Triggered, Deactivated; a
//   refused order is only a REST refusal, never a Rejected push); per execution, in this order: "execution"
//   (execType Trade), "order", "position", "wallet". The pushes a request causes are queued right after its
//   REST answer is started. Frames of a dropped connection are lost, never replayed. The "Request not
//   authorized" text is the one Bybit users report (nautilus_trader PR #2101), not a documented answer.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fixed_point.hpp"
#include "oms/signing.hpp"
#include "tests/support/test_venue_account.hpp"
#include "tests/support/tls_test_venue.hpp"
#include "tests/support/venue_decimal_json.hpp"

namespace enigma::testing {

inline constexpr const char* kBybitKey = "XQ7uTgB3cWkN9pLrA2";  // 18 characters like a real key
inline constexpr const char* kBybitSecret = "Jb4nR8vQ2sLx7KmW5pTz9YcH3dGf6AeN1uVo";

// Helpers of this fake only (their own namespace: the other fakes have same-named helpers).
namespace bybit_fake {

// The decimals and flat JSON every test venue reads and writes (tests/support/venue_decimal_json.hpp).
using namespace venue_text;

// Lowercase hex HMAC-SHA256 (what X-BAPI-SIGN and the WebSocket auth carry).
inline std::string hmac_hex(const oms::HmacSha256& h, std::initializer_list<std::string_view> parts) {
  unsigned char mac[oms::kSha256Size];
  h.sign(parts, mac);
  char hex[oms::kSha256HexSize];
  oms::hex_encode(mac, sizeof mac, hex);
  return {hex, sizeof hex};
}

// What the venue keeps of one private WebSocket connection (guarded by the venue's mutex).
struct Connection {
  bool authed = false;
  bool gone = false;  // its disconnection was counted (DCP)
  std::string conn_id;
  std::set<std::string> topics;
  [[nodiscard]] bool wants(const std::string& topic) const {
    return topics.count(topic) != 0 || topics.count(topic + ".linear") != 0;
  }
  [[nodiscard]] bool dcp() const { return topics.count("dcp") != 0 || topics.count("dcp.future") != 0; }
};

}  // namespace bybit_fake

class FakeBybit : public TlsTestVenue<FakeBybit, bybit_fake::Connection> {
  friend class TlsTestVenue<FakeBybit, bybit_fake::Connection>;

 public:
  using Dec = bybit_fake::Dec;

  // One order as the venue keeps it. `body`: the exact POST body received.
  struct Order {
    std::string order_id, order_link_id, symbol, side, order_type, time_in_force;
    std::string status;  // New, PartiallyFilled, Filled, Cancelled, Untriggered, Triggered, Deactivated
    std::string cancel_type{"UNKNOWN"}, reject_reason{"EC_NoError"}, stop_order_type{"UNKNOWN"};
    Dec qty{0}, price{0}, trigger_price{0}, cum_qty{0}, cum_value{0}, cum_fee{0};
    int trigger_direction{0};
    bool reduce_only{false};
    std::string body;
    std::int64_t created_ms{0}, updated_ms{0};
    [[nodiscard]] bool open() const {
      return status == "New" || status == "PartiallyFilled" || status == "Untriggered";
    }
    [[nodiscard]] bool untriggered() const { return status == "Untriggered"; }
    [[nodiscard]] Dec leaves() const { return open() ? qty - cum_qty : 0; }
    // The decimal strings Bybit would show.
    [[nodiscard]] std::string qty_str() const { return bybit_fake::dec(qty); }
    [[nodiscard]] std::string cum_exec_qty() const { return bybit_fake::dec(cum_qty); }
    [[nodiscard]] std::string cum_exec_value() const { return bybit_fake::dec(cum_value); }
    [[nodiscard]] std::string cum_exec_fee() const { return bybit_fake::dec(cum_fee); }
  };
  // One execution (fill).
  struct Fill {
    std::string order_link_id, order_id, exec_id, symbol, side, price, qty, value, fee, fee_rate;
    bool is_maker{false};
  };
  // The instrument rules of a listed symbol.
  struct Symbol {
    Dec tick{0}, lot{0};
  };

  FakeBybit() : TlsTestVenue(venue_ca_file("bybit")), hmac_(kBybitSecret) {
    symbols_["BTCUSDT"] = Symbol{*bybit_fake::parse_dec("0.1"), *bybit_fake::parse_dec("0.001")};
    symbols_["ETHUSDT"] = Symbol{*bybit_fake::parse_dec("0.01"), *bybit_fake::parse_dec("0.01")};
    limits_["/v5/order/create"] = {10, 1000};
    limits_["/v5/order/cancel"] = {10, 1000};
    limits_["/v5/order/cancel-all"] = {10, 1000};
    limits_["/v5/order/realtime"] = {50, 1000};
    limits_["/v5/position/list"] = {50, 1000};
    limits_["/v5/account/wallet-balance"] = {50, 1000};
    limits_["/v5/user/query-api"] = {10, 1000};
    limits_["/v5/order/disconnected-cancel-all"] = {5, 1000};
    start_serving();
  }
  ~FakeBybit() {
    stop_serving([this] {
      if (dcp_timer_) dcp_timer_->cancel();
    });
  }
  FakeBybit(const FakeBybit&) = delete;
  FakeBybit& operator=(const FakeBybit&) = delete;

  // ---- Where it is --------------------------------------------------------------------------------------
  // port(), rest_url() and ca_file() (the PEM of its certificate) come with the transport (tls_test_venue.hpp).
  [[nodiscard]] std::string private_ws_url() const {
    return "wss://127.0.0.1:" + std::to_string(port()) + "/v5/private";
  }

  // ---- Market and account ------------------------------------------------------------------------------
  // The mark price market orders fill at and limit orders are checked against ("60000" by default).
  void set_mark(const std::string& symbol, const std::string& price) {
    std::lock_guard lk(mu_);
    marks_.set(symbol, *bybit_fake::parse_dec(price));
  }
  void set_mark(const std::string& price) {
    std::lock_guard lk(mu_);
    marks_.set_all(*bybit_fake::parse_dec(price));
  }
  // A symbol the venue lists (BTCUSDT tick 0.1 lot 0.001 and ETHUSDT 0.01 / 0.01 from the start); others are
  // refused with 10001.
  void add_symbol(const std::string& symbol, const std::string& tick, const std::string& lot) {
    std::lock_guard lk(mu_);
    symbols_[symbol] = Symbol{*bybit_fake::parse_dec(tick), *bybit_fake::parse_dec(lot)};
  }
  // Each fill is split into `n` executions (1: one per fill).
  void set_fill_parts(int n) {
    std::lock_guard lk(mu_);
    fill_parts_ = std::max(1, n);
  }
  // Fee rates as decimal strings (defaults: taker "0.00055", maker "0.0002").
  void set_fees(const std::string& taker, const std::string& maker) {
    std::lock_guard lk(mu_);
    fees_.taker = *bybit_fake::parse_dec(taker);
    fees_.maker = *bybit_fake::parse_dec(maker);
  }
  void set_balance(const std::string& usdt) {
    std::lock_guard lk(mu_);
    account_.balance = *bybit_fake::parse_dec(usdt);
  }
  // GET /v5/user/query-api's "permissions" object, raw JSON (the default is a trading key without withdrawal).
  void set_key_permissions(std::string json_object) {
    std::lock_guard lk(mu_);
    permissions_ = std::move(json_object);
  }
  void set_key_can_withdraw(bool on) {
    set_key_permissions(
        std::string(R"({"ContractTrade":["Order","Position"],"Spot":["SpotTrade"],"Wallet":["AccountTransfer")") +
        (on ? R"(,"Withdraw")" : "") +
        R"(],"Options":[],"Derivatives":["DerivativesTrade"],"CopyTrading":[],)"
        R"("BlockTrade":[],"Exchange":[],"NFT":[]})");
  }
  void set_key_read_only(bool on) {
    std::lock_guard lk(mu_);
    read_only_ = on;
  }
  // One endpoint's quota: `limit` requests per rolling `window_ms` (1000 as Bybit; longer keeps a test
  // independent of its own speed).
  void set_rate_limit(const std::string& path, int limit, int window_ms = 1000) {
    std::lock_guard lk(mu_);
    limits_[path] = {limit, window_ms};
    hits_[path].clear();
  }
  // Refuse requests whose timestamp is outside the window (on by default, as Bybit does).
  void set_check_timestamp(bool on) {
    std::lock_guard lk(mu_);
    check_timestamp_ = on;
  }

  // ---- Faults -------------------------------------------------------------------------------------------
  // The next n REST requests (any) are answered {"retCode":10006,"retMsg":"Too many visits!"} and not
  // carried out; X-Bapi-Limit-Status reads 0 on them.
  void rate_limit_next(int n) {
    std::lock_guard lk(mu_);
    rate_limit_next_ = n;
  }
  // The next n REST requests are answered HTTP `status` (5xx) {"retCode":10016,..} and not carried out.
  void fail_next(int n, int status = 503) {
    std::lock_guard lk(mu_);
    fail_next_ = n;
    fail_status_ = status;
  }
  // The next n REST requests are neither carried out nor answered (the connection stays open).
  void silence_next(int n) {
    std::lock_guard lk(mu_);
    silence_next_ = n;
  }
  // The next POST /v5/order/create is carried out (booked, matched, pushed) but answered HTTP `status`
  // {"retCode":10016,..}; status 0: never answered. Only a query tells what became of it.
  void lose_next_order_answer(int status) {
    std::lock_guard lk(mu_);
    lose_order_status_ = status;
    lose_order_ = true;
  }
  // The next n orders are refused with {"retCode":code,"retMsg":msg} (not booked).
  void reject_next_orders(int n, int code = 110007, std::string msg = "Insufficient available balance") {
    std::lock_guard lk(mu_);
    reject_next_ = n;
    reject_code_ = code;
    reject_msg_ = std::move(msg);
  }
  // Every REST answer is written `ms` after its request arrived (the other connections go on meanwhile).
  void delay_answers(int ms) {
    std::lock_guard lk(mu_);
    delay_ms_ = ms;
  }
  // Subscriptions that arrive from now on are held unanswered until release_subscriptions()
  // (tests/support/subscription_hold.hpp).
  using TlsTestVenue::hold_subscriptions;
  using TlsTestVenue::release_subscriptions;
  using TlsTestVenue::held_subscriptions;

  // Closes every private WebSocket connection (no close frame): what is pushed until the client reconnects
  // is lost. Counts as a disconnection for DCP.
  void drop_streams() {
    std::lock_guard lk(mu_);
    drop_ws_connections([](const Session&) { return true; });
    ++stream_drops_;
  }
  // Pings are answered (true by default).
  void set_answer_pings(bool on) {
    std::lock_guard lk(mu_);
    answer_pings_ = on;
  }

  // ---- The venue acts ----------------------------------------------------------------------------------
  // A resting order fills (maker) by `qty` ("" : all that remains) at `price` ("": its limit price).
  // False when no such open, triggered order rests.
  bool fill_resting(const std::string& order_link_id, const std::string& qty = "", const std::string& price = "") {
    std::lock_guard lk(mu_);
    Order* o = find_link(order_link_id);
    if (o == nullptr || !o->open() || o->untriggered()) return false;
    const Dec q = qty.empty() ? o->leaves() : std::min(*bybit_fake::parse_dec(qty), o->leaves());
    fill(*o, q, price.empty() ? o->price : *bybit_fake::parse_dec(price), true);
    return true;
  }
  // An untriggered conditional order triggers (Triggered push) and is matched as a new order at the mark.
  bool trigger_stop(const std::string& order_link_id) {
    std::lock_guard lk(mu_);
    Order* o = find_link(order_link_id);
    if (o == nullptr || !o->untriggered()) return false;
    o->status = "Triggered";
    o->updated_ms = bybit_fake::now_ms();
    push_order(*o);
    o->status = "New";
    match_new(*o);
    return true;
  }
  // The venue cancels an open order itself: a Cancelled push with `cancel_type`.
  bool cancel_by_venue(const std::string& order_link_id, const std::string& cancel_type = "CancelByAdmin") {
    std::lock_guard lk(mu_);
    Order* o = find_link(order_link_id);
    if (o == nullptr || !o->open()) return false;
    cancel(*o, cancel_type);
    return true;
  }

  // ---- What happened ------------------------------------------------------------------------------------
  // Requests by "METHOD /path" (no query), every one that arrived, refused or not.
  [[nodiscard]] int requests(const std::string& method_path) const {
    std::lock_guard lk(mu_);
    const auto it = requests_.find(method_path);
    return it == requests_.end() ? 0 : it->second;
  }
  // Refusals by retCode (10002, 10003, 10004, 10006, 110072, ...), REST only.
  [[nodiscard]] int refusals(int ret_code) const {
    std::lock_guard lk(mu_);
    const auto it = refusals_.find(ret_code);
    return it == refusals_.end() ? 0 : it->second;
  }
  [[nodiscard]] int bad_signatures() const { return refusals(10004); }
  [[nodiscard]] int rate_limited() const { return refusals(10006); }
  [[nodiscard]] std::vector<Order> orders() const {  // in arrival order
    std::lock_guard lk(mu_);
    return orders_;
  }
  [[nodiscard]] std::vector<Order> open_orders() const {
    std::lock_guard lk(mu_);
    std::vector<Order> out;
    for (const Order& o : orders_)
      if (o.open()) out.push_back(o);
    return out;
  }
  [[nodiscard]] std::optional<Order> order(const std::string& order_link_id) const {
    std::lock_guard lk(mu_);
    for (const Order& o : orders_)
      if (o.order_link_id == order_link_id) return o;
    return std::nullopt;
  }
  [[nodiscard]] std::vector<Fill> fills() const {
    std::lock_guard lk(mu_);
    return fills_;
  }
  // Signed position size of a symbol ("0.002", "-0.001", "0").
  [[nodiscard]] std::string position(const std::string& symbol) const {
    std::lock_guard lk(mu_);
    return bybit_fake::dec(account_.position(symbol));
  }
  [[nodiscard]] std::vector<std::string> bodies() const {
    std::lock_guard lk(mu_);
    return bodies_;
  }  // POST bodies
  [[nodiscard]] std::vector<std::string> ws_received() const {
    std::lock_guard lk(mu_);
    return ws_received_;
  }
  [[nodiscard]] std::vector<std::string> ws_targets() const {
    std::lock_guard lk(mu_);
    return ws_targets_;
  }
  // Every push frame, in order, whether or not a connection was there to take it.
  [[nodiscard]] std::vector<std::string> pushed() const {
    std::lock_guard lk(mu_);
    return pushed_;
  }
  [[nodiscard]] int ws_connections() const {
    std::lock_guard lk(mu_);
    return ws_connections_;
  }
  [[nodiscard]] int ws_auths() const {
    std::lock_guard lk(mu_);
    return ws_auths_;
  }  // successful
  [[nodiscard]] int ws_auth_refusals() const {
    std::lock_guard lk(mu_);
    return ws_auth_refusals_;
  }
  [[nodiscard]] int pings() const {
    std::lock_guard lk(mu_);
    return pings_;
  }
  // The USDT wallet balance as GET /v5/account/wallet-balance shows it (balance - fees + realised PnL).
  [[nodiscard]] std::string wallet_balance() const {
    std::lock_guard lk(mu_);
    return bybit_fake::dec(account_.cash());
  }
  [[nodiscard]] int stream_drops() const {
    std::lock_guard lk(mu_);
    return stream_drops_;
  }
  // DCP: the window set for a product (0: never set) and how many times it cancelled everything.
  [[nodiscard]] int dcp_window(const std::string& product = "DERIVATIVES") const {
    std::lock_guard lk(mu_);
    const auto it = dcp_windows_.find(product);
    return it == dcp_windows_.end() ? 0 : it->second;
  }
  [[nodiscard]] int dcp_trips() const {
    std::lock_guard lk(mu_);
    return dcp_trips_;
  }
  [[nodiscard]] bool dcp_armed() const {
    std::lock_guard lk(mu_);
    return dcp_armed_;
  }
  // A live, authenticated connection subscribed to the order topic.
  [[nodiscard]] bool stream_open() const {
    std::lock_guard lk(mu_);
    for (const auto& w : ws_sessions_)
      if (auto s = w.lock(); s && s->open && s->authed && s->wants("order")) return true;
    return false;
  }
  using TlsTestVenue::wait_until;  // polls a condition every 2 ms (tls_test_venue.hpp)

 private:
  static constexpr std::size_t kRecentClosed = 500;   // closed orders /v5/order/realtime still finds

  using Session = TlsTestVenue::Session;

  // The kit's net position (qty in base coin, negative short; entry; realised) and Bybit's times.
  struct Position : venue_kit::Position {
    std::int64_t created_ms{0}, updated_ms{0};
    bool seen{false};
  };
  struct Limit {
    int limit{10};
    int window_ms{1000};
  };

  // ---- REST -----------------------------------------------------------------------------------------------
  static Response answer(int status, std::string body) {
    Response r{static_cast<http::status>(status), 11};
    r.set(http::field::content_type, "application/json; charset=utf-8");
    r.body() = std::move(body);
    return r;
  }
  static Response ok(const std::string& result) {
    return answer(200, R"({"retCode":0,"retMsg":"OK","result":)" + result + R"(,"retExtInfo":{},"time":)" +
                           std::to_string(bybit_fake::now_ms()) + "}");
  }
  Response refuse(int ret_code, const std::string& msg, int status = 200) {  // mu_ held
    ++refusals_[ret_code];
    return answer(status, R"({"retCode":)" + std::to_string(ret_code) + R"(,"retMsg":")" +
                              bybit_fake::json_escape(msg) + R"(","result":{},"retExtInfo":{},"time":)" +
                              std::to_string(bybit_fake::now_ms()) + "}");
  }
  Response invalid(const std::string& msg = "Request parameter error.") { return refuse(10001, msg); }

  // The rolling-window quota of `path`: true when this request fits (and counts it). mu_ held.
  bool take_quota(const std::string& path, int& left, std::int64_t& reset_ms) {
    const auto lit = limits_.find(path);
    const Limit lim = lit == limits_.end() ? Limit{10, 1000} : lit->second;
    auto& h = hits_[path];
    const auto now = std::chrono::steady_clock::now();
    while (!h.empty() && now - h.front() >= std::chrono::milliseconds(lim.window_ms)) h.pop_front();
    const std::int64_t now_ms = bybit_fake::now_ms();
    if (static_cast<int>(h.size()) >= lim.limit) {
      left = 0;
      reset_ms = now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(
                              h.front() + std::chrono::milliseconds(lim.window_ms) - now)
                              .count();
      return false;
    }
    h.push_back(now);
    left = lim.limit - static_cast<int>(h.size());
    reset_ms = now_ms;
    return true;
  }
  void limit_headers(Response& r, const std::string& path, int left, std::int64_t reset_ms) const {  // mu_ held
    const auto lit = limits_.find(path);
    r.set("X-Bapi-Limit", std::to_string(lit == limits_.end() ? 10 : lit->second.limit));
    r.set("X-Bapi-Limit-Status", std::to_string(left));
    r.set("X-Bapi-Limit-Reset-Timestamp", std::to_string(reset_ms));
  }

  // mu_ is taken here: called on the io thread for every REST request.
  Response serve(const http::request<http::string_body>& rq, bool& silent, int& delay_ms) {
    std::lock_guard lk(mu_);
    delay_ms = delay_ms_;
    const std::string method(rq.method_string());
    const std::string target(rq.target());
    const std::size_t q = target.find('?');
    const std::string path = target.substr(0, q);
    const std::string query = q == std::string::npos ? "" : target.substr(q + 1);
    ++requests_[method + " " + path];
    if (method == "POST") record(bodies_, std::string(rq.body()));
    if (silence_next_ > 0) {
      --silence_next_;
      silent = true;
      return answer(200, "");
    }
    if (fail_next_ > 0) {
      --fail_next_;
      return refuse(10016, "Internal System Error.", fail_status_);
    }
    const bool known =
        (method == "POST" && (path == "/v5/order/create" || path == "/v5/order/cancel" ||
                              path == "/v5/order/cancel-all" || path == "/v5/order/disconnected-cancel-all")) ||
        (method == "GET" && (path == "/v5/order/realtime" || path == "/v5/position/list" ||
                             path == "/v5/account/wallet-balance" || path == "/v5/user/query-api"));
    if (!known) return refuse(10017, "Route not found.", 404);
    if (auto refused = authenticate(rq, method == "GET" ? query : rq.body())) return *refused;
    int left = 0;
    std::int64_t reset_ms = 0;
    if (rate_limit_next_ > 0) {
      --rate_limit_next_;
      Response r = refuse(10006, "Too many visits!");
      limit_headers(r, path, 0, bybit_fake::now_ms() + 1000);
      return r;
    }
    if (!take_quota(path, left, reset_ms)) {
      Response r = refuse(10006, "Too many visits!");
      limit_headers(r, path, 0, reset_ms);
      return r;
    }
    Response r = route(rq, method, path, query, silent);
    limit_headers(r, path, left, reset_ms);
    return r;
  }

  // The gateway's check of a private request (payload: the raw body or query string); empty when it
  // passes, else the refusal. mu_ held.
  std::optional<Response> authenticate(const http::request<http::string_body>& rq, const std::string& payload) {
    const auto header = [&](const char* name) { return std::string(rq[name]); };
    const std::string key = header("X-BAPI-API-KEY"), sign = header("X-BAPI-SIGN"), ts = header("X-BAPI-TIMESTAMP");
    std::string recv = header("X-BAPI-RECV-WINDOW");
    if (key.empty() || key != kBybitKey) return refuse(10003, "API key is invalid.", 401);
    long long ts_ms = 0, recv_ms = 5000;
    const auto number = [](const std::string& t, long long& out) {
      const auto r = std::from_chars(t.data(), t.data() + t.size(), out);
      return !t.empty() && r.ec == std::errc() && r.ptr == t.data() + t.size() && out > 0;
    };
    if (!recv.empty() && !number(recv, recv_ms)) return invalid("invalid recv_window");
    const long long server = bybit_fake::now_ms();
    // The docs' rule: server_time - recv_window <= timestamp < server_time + 1000.
    if (!number(ts, ts_ms) || (check_timestamp_ && (ts_ms < server - recv_ms || ts_ms >= server + 1000)))
      return refuse(10002, "invalid request, please check your server timestamp or recv_window param. req_timestamp[" +
                               ts + "],server_timestamp[" + std::to_string(server) + "],recv_window[" +
                               std::to_string(recv_ms) + "]");
    if (sign != bybit_fake::hmac_hex(hmac_, {ts, key, recv, payload}))
      return refuse(10004, "Error sign, please check your signature generation algorithm.");
    return std::nullopt;
  }

  Response route(const http::request<http::string_body>& rq, const std::string& method, const std::string& path,
                 const std::string& query, bool& silent) {  // mu_ held
    const auto p = bybit_fake::parse_query(query);
    const auto param = [&](const char* k) {
      const auto it = p.find(k);
      return it == p.end() ? std::string() : it->second;
    };
    if (path == "/v5/order/create") return place(rq.body(), silent);
    if (method == "POST") {
      const auto j = bybit_fake::parse_flat_json(rq.body());
      if (!j) return invalid();
      const auto str = [&](const char* k) {
        const auto it = j->find(k);
        return it == j->end() || it->second.text == "null" ? std::string() : it->second.text;
      };
      if (path == "/v5/order/disconnected-cancel-all") {
        const std::string product = str("product").empty() ? "OPTIONS" : str("product");
        long long w = 0;
        const std::string tw = str("timeWindow");
        const auto r = std::from_chars(tw.data(), tw.data() + tw.size(), w);
        if (tw.empty() || r.ptr != tw.data() + tw.size() || w < 3 || w > 300 ||
            (product != "OPTIONS" && product != "DERIVATIVES" && product != "SPOT"))
          return invalid("params error: timeWindow must be in [3, 300]");
        dcp_windows_[product] = static_cast<int>(w);
        return answer(200, R"({"retCode":0,"retMsg":"success"})");  // the docs' answer: no result
      }
      if (str("category") != "linear") return invalid("Illegal category");
      if (path == "/v5/order/cancel") {
        const std::string id = str("orderId"), link = str("orderLinkId"), symbol = str("symbol");
        if ((id.empty() && link.empty()) || symbol.empty()) return invalid();
        Order* o = id.empty() ? find_link(link) : find_id(id);
        if (o == nullptr || !o->open() || o->symbol != symbol) return refuse(110001, "Order does not exist.");
        cancel(*o, "CancelByUser");
        return ok(R"({"orderId":")" + o->order_id + R"(","orderLinkId":")" + bybit_fake::json_escape(o->order_link_id) +
                  R"("})");
      }
      // /v5/order/cancel-all
      const std::string symbol = str("symbol"), base = str("baseCoin"), settle = str("settleCoin"),
                        filter = str("orderFilter");
      if (symbol.empty() && base.empty() && settle.empty()) return invalid();
      if (!filter.empty() && filter != "Order" && filter != "StopOrder") return invalid("orderFilter invalid");
      std::string list;
      for (Order& o : orders_) {
        if (!o.open() || !in_scope(o, symbol, base, settle)) continue;
        if ((filter == "Order" && o.untriggered()) || (filter == "StopOrder" && !o.untriggered())) continue;
        cancel(o, "CancelByUser");
        if (!list.empty()) list += ',';
        list += R"({"orderId":")" + o.order_id + R"(","orderLinkId":")" + bybit_fake::json_escape(o.order_link_id) +
                R"("})";
      }
      return ok(R"({"list":[)" + list + R"(],"success":"1"})");
    }
    if (path == "/v5/order/realtime") {
      if (param("category") != "linear") return invalid("Illegal category");
      const std::string id = param("orderId"), link = param("orderLinkId"), symbol = param("symbol"),
                        base = param("baseCoin"), settle = param("settleCoin"), filter = param("orderFilter");
      if (id.empty() && link.empty() && symbol.empty() && base.empty() && settle.empty()) return invalid();
      const bool by_id = !id.empty() || !link.empty();
      std::string list;
      std::size_t closed_seen = 0;
      for (auto it = orders_.rbegin(); it != orders_.rend(); ++it) {  // newest first
        const Order& o = *it;
        const bool recent = o.open() || closed_seen++ < kRecentClosed;
        if (!id.empty()     ? o.order_id != id
            : !link.empty() ? o.order_link_id != link
                            : !in_scope(o, symbol, base, settle))
          continue;
        if (by_id ? !recent : !o.open()) continue;
        if ((filter == "Order" && o.untriggered()) || (filter == "StopOrder" && !o.untriggered())) continue;
        if (!list.empty()) list += ',';
        list += order_json(o, false);
      }
      return ok(R"({"list":[)" + list + R"(],"nextPageCursor":"","category":"linear"})");
    }
    if (path == "/v5/position/list") {
      if (param("category") != "linear") return invalid("Illegal category");
      const std::string symbol = param("symbol"), settle = param("settleCoin");
      if (symbol.empty() && settle.empty()) return invalid();
      if (!symbol.empty() && symbols_.count(symbol) == 0) return invalid("params error: symbol invalid");
      std::string list;
      for (const auto& [sym, _] : symbols_) {
        const auto it = account_.positions.find(sym);
        if (!symbol.empty() ? sym != symbol : (it == account_.positions.end() || it->second.qty == 0)) continue;
        if (!list.empty()) list += ',';
        list += position_json(sym, it == account_.positions.end() ? Position{} : it->second);
      }
      return ok(R"({"list":[)" + list + R"(],"nextPageCursor":"","category":"linear"})");
    }
    if (path == "/v5/account/wallet-balance") {
      if (param("accountType") != "UNIFIED") return invalid("accountType only support UNIFIED.");
      return ok(R"({"list":[)" + wallet_json() + "]}");
    }
    // GET /v5/user/query-api
    return ok(
        R"({"id":"2208369","note":"enigma-test","apiKey":")" + std::string(kBybitKey) + R"(","readOnly":)" +
        (read_only_ ? "1" : "0") + R"(,"secret":"","permissions":)" + permissions_ +
        R"(,"ips":["127.0.0.1"],"type":1,"deadlineDay":-2,)"
        R"("expiredAt":"1970-01-01T00:00:00Z","createdAt":"2025-10-13T03:20:45Z","unified":0,"uta":1,"userID":1448939,)"
        R"("inviterID":0,"vipLevel":"No VIP","mktMakerLevel":"0","affiliateID":0,"rsaPublicKey":"","isMaster":true,"parentUid":"0"})");
  }

  [[nodiscard]] bool in_scope(const Order& o, const std::string& symbol, const std::string& base,
                              const std::string& settle) const {
    if (!symbol.empty()) return o.symbol == symbol;
    if (!base.empty()) return o.symbol.rfind(base, 0) == 0;
    return settle == "USDT";  // every listed symbol settles in USDT
  }

  // POST /v5/order/create after authentication. mu_ held.
  Response place(const std::string& body, bool& silent) {
    const auto parsed = bybit_fake::parse_flat_json(body);
    if (!parsed) return invalid();
    const bybit_fake::JsonObject& j = *parsed;
    const auto str = [&](const char* k) {
      const auto it = j.find(k);
      return it == j.end() || it->second.text == "null" ? std::string() : it->second.text;
    };
    if (str("category") != "linear") return invalid("Illegal category");
    Order o;
    o.symbol = str("symbol");
    o.side = str("side");
    o.order_type = str("orderType");
    o.order_link_id = str("orderLinkId");
    // "Market order will always use IOC"; GTC when not passed (docs, create-order).
    o.time_in_force = o.order_type == "Market" ? "IOC" : str("timeInForce").empty() ? "GTC" : str("timeInForce");
    o.reduce_only = str("reduceOnly") == "true";
    o.body = body;
    const auto sym = symbols_.find(o.symbol);
    if (sym == symbols_.end()) return invalid("params error: symbol invalid");
    const auto qty = bybit_fake::parse_dec(str("qty"));
    const auto price = bybit_fake::parse_dec(str("price"));
    const auto trigger = bybit_fake::parse_dec(str("triggerPrice"));
    const std::string dir = str("triggerDirection");
    const bool link_ok =
        o.order_link_id.size() <= 36 && std::all_of(o.order_link_id.begin(), o.order_link_id.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        });
    const bool conditional = trigger.has_value() && *trigger > 0;
    if (!link_ok || (o.side != "Buy" && o.side != "Sell") || (o.order_type != "Limit" && o.order_type != "Market") ||
        (o.time_in_force != "GTC" && o.time_in_force != "IOC" && o.time_in_force != "FOK" &&
         o.time_in_force != "PostOnly") ||
        (!str("timeInForce").empty() && str("timeInForce") != "GTC" && str("timeInForce") != "IOC" &&
         str("timeInForce") != "FOK" && str("timeInForce") != "PostOnly"))
      return invalid();
    if (!qty || *qty <= 0 || *qty % sym->second.lot != 0) return invalid("Qty invalid");
    if (o.order_type == "Limit" && (!price || *price <= 0 || *price % sym->second.tick != 0))
      return invalid("Price invalid");
    if (!str("triggerPrice").empty() && (!trigger || (conditional && dir != "1" && dir != "2")))
      return invalid("TriggerDirection invalid");
    o.qty = *qty;
    o.price = o.order_type == "Limit" ? *price : 0;
    if (conditional) {
      o.trigger_price = *trigger;
      o.trigger_direction = dir == "1" ? 1 : 2;
      o.stop_order_type = "Stop";
    }
    if (!o.order_link_id.empty() && find_link(o.order_link_id) != nullptr)
      return refuse(110072, "OrderLinkedID is duplicate");
    if (reject_next_ > 0) {
      --reject_next_;
      return refuse(reject_code_, reject_msg_);
    }
    o.order_id = next_uuid();
    o.created_ms = o.updated_ms = bybit_fake::now_ms();
    orders_.push_back(std::move(o));
    Order& booked = orders_.back();
    const std::string result = R"({"orderId":")" + booked.order_id + R"(","orderLinkId":")" +
                               bybit_fake::json_escape(booked.order_link_id) + R"("})";
    if (conditional) {  // rests untriggered
      booked.status = "Untriggered";
      push_order(booked);
    } else {
      booked.status = "New";
      match_new(booked);
    }
    if (std::exchange(lose_order_, false)) {
      if (lose_order_status_ == 0) {
        silent = true;
        return answer(200, "");
      }
      return refuse(10016, "Internal System Error.", lose_order_status_);
    }
    return ok(result);
  }

  // The matching rule for an order just booked (or just triggered), the kit's (test_venue_account.hpp) in
  // Bybit's words. mu_ held. `o` stays valid: orders_ only grows in place() before this runs, never during it.
  void match_new(Order& o) {
    using venue_kit::Arrival;
    using venue_kit::Tif;
    const Dec m = mark(o.symbol);
    const Tif tif = o.time_in_force == "PostOnly" ? Tif::post_only
                    : o.time_in_force == "IOC"    ? Tif::ioc
                    : o.time_in_force == "FOK"    ? Tif::fok
                                                  : Tif::gtc;
    switch (venue_kit::on_arrival(o.side == "Buy", o.order_type == "Market", o.price, tif, m)) {
      case Arrival::fill:
        return fill(o, o.qty, m, false);
      case Arrival::cancel_post_only:
        o.reject_reason = "EC_PostOnlyWillTakeLiquidity";
        return cancel(o, "UNKNOWN");
      case Arrival::cancel_ioc:
        o.reject_reason = "EC_NoImmediateQtyToFill";
        return cancel(o, "UNKNOWN");
      case Arrival::cancel_fok:
        o.reject_reason = "EC_CancelForNoFullFill";
        return cancel(o, "UNKNOWN");
      case Arrival::rest:
        return push_order(o);  // New
    }
  }

  // `q` of `o` fills at `px` (split into fill_parts_ executions). mu_ held.
  void fill(Order& o, Dec q, Dec px, bool maker) {
    if (o.reduce_only) {  // only ever closes: what would open or add is cancelled
      q = venue_kit::reduce_only_qty(o.side == "Buy", q, account_.position(o.symbol));
      if (q == 0) return cancel(o, "CancelByReduceOnly");
    }
    const Dec lot = symbols_.count(o.symbol) ? symbols_.at(o.symbol).lot : 1;
    const Dec rate = fees_.rate(maker);
    for (const Dec part : venue_kit::split_fill(q, lot, fill_parts_)) {
      const Dec value = bybit_fake::mul(part, px), fee = fees_.on(value, maker);
      o.cum_qty += part;
      o.cum_value += value;
      o.cum_fee += fee;
      o.updated_ms = bybit_fake::now_ms();
      o.status = o.cum_qty == o.qty ? "Filled" : "PartiallyFilled";
      Position& p = account_.positions[o.symbol];
      if (!p.seen) p.created_ms = o.updated_ms;
      p.seen = true;
      p.updated_ms = o.updated_ms;
      const Dec closed = account_.book_fill(o.symbol, o.side == "Buy" ? part : -part, px, fee).closed;
      Fill f{o.order_link_id,
             o.order_id,
             next_uuid(),
             o.symbol,
             o.side,
             bybit_fake::dec(px),
             bybit_fake::dec(part),
             bybit_fake::dec(value),
             bybit_fake::dec(fee),
             bybit_fake::dec(rate),
             maker};
      push("execution", execution_json(o, f, closed));
      record(fills_, std::move(f));
      push_order(o);
      push("position", position_json(o.symbol, account_.positions[o.symbol], true));
      push("wallet", wallet_json());
    }
    if (o.open() && o.reduce_only && account_.position(o.symbol) == 0) cancel(o, "CancelByReduceOnly");
  }

  void cancel(Order& o, const std::string& cancel_type) {  // mu_ held
    o.status = o.untriggered() ? "Deactivated" : "Cancelled";
    o.cancel_type = cancel_type;
    o.updated_ms = bybit_fake::now_ms();
    push_order(o);
  }

  [[nodiscard]] Dec mark(const std::string& symbol) const {  // mu_ held
    return marks_.of(symbol);
  }
  Order* find_link(const std::string& link) {  // mu_ held
    if (link.empty()) return nullptr;
    for (Order& o : orders_)
      if (o.order_link_id == link) return &o;
    return nullptr;
  }
  Order* find_id(const std::string& id) {  // mu_ held
    for (Order& o : orders_)
      if (o.order_id == id) return &o;
    return nullptr;
  }
  std::string next_uuid() {  // mu_ held; the shape of Bybit's orderId / execId
    char buf[40];
    const std::uint64_t a = rng_(), b = ++uuid_seq_;
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                  static_cast<unsigned>(0x8000 | (b >> 48 & 0x3fff)),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return buf;
  }

  // ---- JSON of the venue's objects -------------------------------------------------------------------------
  // An order as GET /v5/order/realtime and the "order" topic show it (the topic adds "category").
  std::string order_json(const Order& o, bool topic) const {  // mu_ held
    using bybit_fake::dec;
    const bool market = o.order_type == "Market";
    const Dec leaves = o.leaves();
    const Dec leaves_value = bybit_fake::mul(leaves, market ? mark(o.symbol) : o.price);
    const std::string avg = o.cum_qty == 0 ? "" : dec(bybit_fake::div(o.cum_value, o.cum_qty));
    std::string s = "{";
    if (topic) s += R"("category":"linear",)";
    s +=
        R"("symbol":")" + o.symbol + R"(","orderId":")" + o.order_id + R"(","side":")" + o.side + R"(","orderType":")" +
        o.order_type + R"(","cancelType":")" + o.cancel_type + R"(","price":")" +
        (market ? std::string() : dec(o.price)) + R"(","qty":")" + dec(o.qty) + R"(","orderIv":"","timeInForce":")" +
        o.time_in_force + R"(","orderStatus":")" + o.status + R"(","orderLinkId":")" +
        bybit_fake::json_escape(o.order_link_id) + R"(","lastPriceOnCreated":")" + dec(mark(o.symbol)) +
        R"(","reduceOnly":)" + (o.reduce_only ? "true" : "false") + R"(,"leavesQty":")" + dec(leaves) +
        R"(","leavesValue":")" + dec(leaves_value) + R"(","cumExecQty":")" + dec(o.cum_qty) + R"(","cumExecValue":")" +
        dec(o.cum_value) + R"(","avgPrice":")" + avg + R"(","blockTradeId":"","positionIdx":0,"cumExecFee":")" +
        dec(o.cum_fee) + R"(","createdTime":")" + std::to_string(o.created_ms) + R"(","updatedTime":")" +
        std::to_string(o.updated_ms) + R"(","rejectReason":")" + o.reject_reason + R"(","stopOrderType":")" +
        o.stop_order_type + R"(","tpslMode":"","triggerPrice":")" + dec(o.trigger_price) +
        R"(","takeProfit":"","stopLoss":"","tpTriggerBy":"","slTriggerBy":"","tpLimitPrice":"","slLimitPrice":"","triggerDirection":)" +
        std::to_string(o.trigger_direction) + R"(,"triggerBy":")" + (o.trigger_price != 0 ? "LastPrice" : "UNKNOWN") +
        R"(","closeOnTrigger":false,"placeType":"","smpType":"None","smpGroup":0,"smpOrderId":"","feeCurrency":"USDT","createType":"CreateByUser"})";
    return s;
  }
  std::string execution_json(const Order& o, const Fill& f, Dec closed) const {  // mu_ held
    return R"({"category":"linear","symbol":")" + o.symbol + R"(","closedSize":")" + bybit_fake::dec(closed) +
           R"(","execFee":")" + f.fee + R"(","execId":")" + f.exec_id + R"(","execPrice":")" + f.price +
           R"(","execQty":")" + f.qty + R"(","execType":"Trade","execValue":")" + f.value + R"(","feeRate":")" +
           f.fee_rate + R"(","tradeIv":"","markIv":"","blockTradeId":"","markPrice":")" +
           bybit_fake::dec(mark(o.symbol)) + R"(","indexPrice":"","underlyingPrice":"","leavesQty":")" +
           bybit_fake::dec(o.leaves()) + R"(","orderId":")" + o.order_id + R"(","orderLinkId":")" +
           bybit_fake::json_escape(o.order_link_id) + R"(","orderPrice":")" +
           (o.order_type == "Market" ? bybit_fake::dec(mark(o.symbol)) : bybit_fake::dec(o.price)) +
           R"(","orderQty":")" + bybit_fake::dec(o.qty) + R"(","orderType":")" + o.order_type +
           R"(","stopOrderType":")" + o.stop_order_type + R"(","side":")" + o.side + R"(","execTime":")" +
           std::to_string(o.updated_ms) + R"(","isLeverage":"0","isMaker":)" + (f.is_maker ? "true" : "false") +
           R"(,"seq":)" + std::to_string(++seq_) + "}";
  }
  std::string position_json(const std::string& symbol, const Position& p, bool topic = false) const {  // mu_ held
    using bybit_fake::dec;
    const Dec mk = mark(symbol);
    const Dec abs_size = bybit_fake::abs(p.qty);
    const Dec value = bybit_fake::mul(abs_size, p.entry);
    const Dec upnl = bybit_fake::mul(p.qty, mk - p.entry);
    const std::string side = p.qty > 0 ? "Buy" : p.qty < 0 ? "Sell" : "";
    std::string s =
        R"({"positionIdx":0,"tradeMode":0,"riskId":1,"riskLimitValue":"2000000","symbol":")" + symbol +
        R"(","side":")" + side + R"(","size":")" + dec(abs_size) + R"(",)" +
        (topic ? R"("entryPrice":")" : R"("avgPrice":")") + dec(p.entry) + R"(","leverage":"10","positionValue":")" +
        dec(value) + R"(","positionBalance":"0","markPrice":")" + dec(mk) +
        R"(","positionIM":"0","positionMM":"0","takeProfit":"0","stopLoss":"0","trailingStop":"0","unrealisedPnl":")" +
        dec(upnl) + R"(","cumRealisedPnl":")" + dec(p.realised) + R"(","curRealisedPnl":")" + dec(p.realised) +
        R"(","createdTime":")" + std::to_string(p.created_ms) + R"(","updatedTime":")" + std::to_string(p.updated_ms) +
        R"(","tpslMode":"Full","liqPrice":"","bustPrice":"","positionStatus":"Normal","adlRankIndicator":0,"autoAddMargin":0,)"
        R"("isReduceOnly":false,"seq":)" +
        std::to_string(seq_);
    if (topic) s += R"(,"category":"linear")";
    return s + "}";
  }
  std::string wallet_json() const {  // mu_ held
    using bybit_fake::dec;
    Dec upnl = 0;
    for (const auto& [symbol, p] : account_.positions) upnl += bybit_fake::mul(p.qty, mark(symbol) - p.entry);
    const Dec wallet = account_.cash();
    const Dec equity = wallet + upnl;
    return R"({"accountType":"UNIFIED","accountIMRate":"0","accountMMRate":"0","totalEquity":")" + dec(equity) +
           R"(","totalWalletBalance":")" + dec(wallet) + R"(","totalMarginBalance":")" + dec(equity) +
           R"(","totalAvailableBalance":")" + dec(equity) + R"(","totalPerpUPL":")" + dec(upnl) +
           R"(","totalInitialMargin":"0","totalMaintenanceMargin":"0","coin":[{"coin":"USDT","equity":")" +
           dec(equity) + R"(","usdValue":")" + dec(equity) + R"(","walletBalance":")" + dec(wallet) +
           R"(","locked":"0","borrowAmount":"0",)"
           R"("accruedInterest":"0","totalOrderIM":"0","totalPositionIM":"0","totalPositionMM":"0","unrealisedPnl":")" +
           dec(upnl) + R"(","cumRealisedPnl":")" + dec(account_.realised) +
           R"(","bonus":"0","marginCollateral":true,"collateralSwitch":true}]})";
  }

  // ---- Pushes --------------------------------------------------------------------------------------------
  void push_order(const Order& o) { push("order", order_json(o, true)); }  // mu_ held
  // Queues one push of `topic` on every live authenticated connection subscribed to it (on the io thread,
  // so after the REST answer being served). mu_ held.
  void push(const std::string& topic, const std::string& data) {
    const std::int64_t t = bybit_fake::now_ms();
    const std::string frame = R"({"id":")" + std::to_string(t) + "-" + std::to_string(++push_seq_) + R"(","topic":")" +
                              topic + R"(","creationTime":)" + std::to_string(t) + R"(,"data":[)" + data + "]}";
    record(pushed_, frame);
    for (const auto& w : ws_sessions_) {
      auto s = w.lock();
      if (!s || !s->open || !s->authed || !s->wants(topic)) continue;
      net::post(io_, [s, frame] { s->push(frame); });
    }
  }

  // ---- WebSocket connections ---------------------------------------------------------------------------------
  // Only the private stream lives here: an upgrade elsewhere is refused (404). mu_ held.
  bool on_upgrade(Session&, const std::string& target) {
    record(ws_targets_, target);
    return target.substr(0, target.find('?')) == "/v5/private";
  }
  // A new connection's conn_id; nothing is sent before the client speaks. mu_ held.
  std::vector<std::string> on_ws_open(Session& s) {
    char id[40];
    std::snprintf(id, sizeof id, "d4f1b0%010llx-%x", static_cast<unsigned long long>(rng_() & 0xffffffffffULL),
                  static_cast<unsigned>(++ws_connections_));
    s.conn_id = id;
    return {};
  }

  // ---- WebSocket client frames -----------------------------------------------------------------------------
  std::vector<std::string> on_client_text(Session& s, const std::string& text) {  // mu_ held
    record(ws_received_, text);
    const auto j = bybit_fake::parse_flat_json(text);
    const std::string op = j && j->count("op") ? j->at("op").text : "";
    const std::string req_id = j && j->count("req_id") ? j->at("req_id").text : "";
    const std::string rid = req_id.empty() ? "" : R"("req_id":")" + bybit_fake::json_escape(req_id) + R"(",)";
    const std::string conn = R"("conn_id":")" + s.conn_id + R"(")";
    const auto sub_answer = [&](bool success, const std::string& msg) {
      return std::vector<std::string>{R"({"success":)" + std::string(success ? "true" : "false") + R"(,"ret_msg":")" +
                                      bybit_fake::json_escape(msg) + R"(",)" + rid + R"("op":")" +
                                      bybit_fake::json_escape(op) + R"(",)" + conn + "}"};
    };
    if (op == "ping") {
      ++pings_;
      if (!answer_pings_) return {};
      return {"{" + rid + R"("op":"pong","args":[")" + std::to_string(bybit_fake::now_ms()) + R"("],)" + conn + "}"};
    }
    const auto args = j && j->count("args") ? bybit_fake::parse_flat_array(j->at("args").text) : std::nullopt;
    if (op == "auth") {
      const auto refused = [&](int code, const char* msg) {
        ++ws_auth_refusals_;
        return std::vector<std::string>{R"({"op":"auth","success":false,"retCode":)" + std::to_string(code) +
                                        R"(,"retMsg":")" + msg + R"(","connId":")" + s.conn_id + R"("})"};
      };
      if (!args || args->size() != 3) return refused(10001, "Params Error");
      const std::string key = (*args)[0].text, expires = (*args)[1].text, sig = (*args)[2].text;
      long long exp_ms = 0;
      const auto r = std::from_chars(expires.data(), expires.data() + expires.size(), exp_ms);
      if (key != kBybitKey) return refused(10003, "Invalid apikey");
      if (r.ec != std::errc() || r.ptr != expires.data() + expires.size() || exp_ms <= bybit_fake::now_ms())
        return refused(10002, "Params Error");
      if (sig != bybit_fake::hmac_hex(hmac_, {"GET/realtime", expires})) return refused(10004, "Invalid sign");
      s.authed = true;
      ++ws_auths_;
      return {R"({"success":true,"ret_msg":"",)" + rid + R"("op":"auth",)" + conn + "}"};
    }
    if (op == "subscribe" || op == "unsubscribe") {
      if (!args || args->empty()) return sub_answer(false, "Params Error");
      static const std::set<std::string> kTopics{"order",        "execution",        "position",        "wallet",
                                                 "order.linear", "execution.linear", "position.linear", "dcp",
                                                 "dcp.future",   "dcp.spot",         "dcp.option"};
      for (const auto& a : *args)
        if (kTopics.count(a.text) == 0) return sub_answer(false, "Invalid topic: " + a.text);
      if (!s.authed) return sub_answer(false, "Request not authorized");
      for (const auto& a : *args) {
        if (op == "subscribe")
          s.topics.insert(a.text);
        else
          s.topics.erase(a.text);
      }
      if (op == "subscribe" && s.dcp()) disarm_dcp();  // a dcp connection is back
      return sub_answer(true, "");
    }
    return sub_answer(false, "Invalid op");
  }

  // ---- DCP -------------------------------------------------------------------------------------------------
  // A private connection ended (read error or drop_streams). When it was subscribed to dcp and no other such
  // connection is alive, the DERIVATIVES window starts. mu_ held, io thread.
  void connection_gone(Session& s) {
    if (s.gone) return;
    s.gone = true;
    if (!s.authed || !s.dcp()) return;
    for (const auto& w : ws_sessions_)
      if (auto o = w.lock(); o && o.get() != &s && o->open && o->authed && o->dcp()) return;
    const auto it = dcp_windows_.find("DERIVATIVES");
    if (it == dcp_windows_.end() || dcp_armed_) return;
    dcp_armed_ = true;
    const std::uint64_t gen = ++dcp_gen_;
    dcp_timer_ = std::make_unique<net::steady_timer>(io_, std::chrono::seconds(it->second));
    dcp_timer_->async_wait([this, gen](const error_code& ec) {
      if (ec) return;
      std::lock_guard lk(mu_);
      if (!dcp_armed_ || gen != dcp_gen_) return;
      dcp_armed_ = false;
      ++dcp_trips_;
      for (Order& o : orders_)  // every open linear order, conditionals included (cancelType undocumented)
        if (o.open()) cancel(o, "CancelByUser");
    });
  }
  void disarm_dcp() {  // mu_ held, io thread
    if (!dcp_armed_) return;
    dcp_armed_ = false;
    ++dcp_gen_;
    if (dcp_timer_) dcp_timer_->cancel();
  }

  // ---- State -------------------------------------------------------------------------------------------------
  oms::HmacSha256 hmac_;
  std::mt19937_64 rng_{std::random_device{}()};

  std::map<std::string, Symbol> symbols_;
  venue_kit::Marks marks_;     // 60000 for every symbol until set_mark
  std::vector<Order> orders_;  // arrival order; never erased (orderLinkId stays taken)
  std::vector<Fill> fills_;
  venue_kit::Account<Position> account_;        // 10000 USDT
  venue_kit::Fees fees_{5'500'000, 2'000'000};  // taker 0.00055, maker 0.0002
  std::string permissions_{
      R"({"ContractTrade":["Order","Position"],"Spot":["SpotTrade"],"Wallet":["AccountTransfer"],"Options":[],)"
      R"("Derivatives":["DerivativesTrade"],"CopyTrading":[],"BlockTrade":[],"Exchange":[],"NFT":[]})"};
  bool read_only_{false};
  int fill_parts_{1};
  std::uint64_t uuid_seq_{0}, push_seq_{0};
  mutable std::uint64_t seq_{0};

  bool answer_pings_{true};

  std::map<std::string, Limit> limits_;
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>> hits_;
  bool check_timestamp_{true};

  std::map<std::string, int> dcp_windows_;  // product -> seconds
  bool dcp_armed_{false};
  std::uint64_t dcp_gen_{0};
  int dcp_trips_{0};
  std::unique_ptr<net::steady_timer> dcp_timer_;  // io thread only; dies before the transport's io_context

  int rate_limit_next_{0}, fail_next_{0}, fail_status_{503}, silence_next_{0}, delay_ms_{0};
  bool lose_order_{false};
  int lose_order_status_{0};
  int reject_next_{0}, reject_code_{0};
  std::string reject_msg_;

  std::map<std::string, int> requests_;
  std::map<int, int> refusals_;
  int ws_connections_{0}, ws_auths_{0}, ws_auth_refusals_{0}, pings_{0}, stream_drops_{0};
  std::vector<std::string> bodies_, ws_targets_, ws_received_, pushed_;
};

}  // namespace enigma::testing
