// A KuCoin Futures venue in miniature for `enigma live --venue kucoin-futures` against loopback (modelled on
// tests/support/fake_binance.hpp): Beast, TLS with a self-signed certificate made at start, 127.0.0.1 only,
// one io thread, stopped and joined by its destructor. Header-only.
//
// REST (answers as KuCoin sends them: {"code":"200000","data":...}, refusals {"code":"<code>","msg":".."}):
//   every private request is authenticated exactly as KuCoin does for API keys of version 2
//   (https://www.kucoin.com/docs-new/authentication): KC-API-KEY must be kKucoinKey, KC-API-KEY-VERSION "2",
//   KC-API-TIMESTAMP in ms within 5 s of the venue clock, KC-API-SIGN = base64(HMAC-SHA256(secret,
//   timestamp + METHOD + path?query + body)) (path and query taken without URL encoding), then
//   KC-API-PASSPHRASE = base64(HMAC-SHA256(secret, passphrase)). Refusals are HTTP 401 with the gateway codes
//   (https://www.kucoin.com/docs-new/error-code/websocket, "GATEWAY ERROR CODE"): 400001 a KC-API-* header
//   missing, 400002 timestamp, 400003 key, 400004 passphrase, 400005 signature, 400009 key version.
//   POST   /api/v1/orders                        place (limit | market | stop), 24-hex orderId
//   DELETE /api/v1/orders/client-order/{oid}?symbol=S   cancel one (100004 when not cancelable)
//   DELETE /api/v1/orders[?symbol=S]             cancel every open limit order   {"cancelledOrderIds":[..]}
//   DELETE /api/v1/stopOrders[?symbol=S]         cancel every untriggered stop   {"cancelledOrderIds":[..]}
//   GET    /api/v1/orders/byClientOid?clientOid=X   the order object, data null when unknown
//   GET    /api/v1/orders/{orderId}              the order object, data null when unknown
//   GET    /api/v1/orders?status=active|done[&symbol=S], GET /api/v1/stopOrders[?symbol=S]   one page
//   GET    /api/v1/positions, GET /api/v1/position?symbol=S   from the venue's own fills
//   GET    /api/v1/account-overview?currency=USDT
//   GET    /api/v1/user/api-key                  the key's permission string (set_key_permission)
//   GET    /api/v1/trade-fees?symbol=S           the account's rates (set_fee_rates; 100003 unlisted symbol)
//   POST   /api/v1/bullet-private (signed), POST /api/v1/bullet-public (unsigned)   token + endpoint
// Every answer carries gw-ratelimit-limit / -remaining / -reset (ms until the 30 s window resets), as
// https://www.kucoin.com/docs-new/rate-limit describes; a used-up quota (or rate_limit_next) answers
// HTTP 429 {"code":"429000",..}. Per-endpoint weights are close to, not exactly, the documented ones.
//
// Matching, per symbol against a mark price (set_mark, default 60000; positions and these rules are the shared
// kit's, tests/support/test_venue_account.hpp, in KuCoin's integer lots and double prices): market orders
// fill at the mark; a limit order that crosses the mark (buy >= mark, sell <= mark) fills at the mark as
// taker, unless postOnly (then it is canceled at once); a limit order that does not cross rests (an IOC one
// is canceled at once).
// Stop orders ("stop":"down|up") rest untriggered in the stop-order book, without tradeOrders pushes
// (trigger_stop fills one at the mark). set_fill_parts(n) splits a fill into n matches. A resting order
// fills only when the test says so (fill_resting: maker matches at its price); set_mark does not re-match
// resting orders. A duplicate clientOid (any order the venue knows) is refused with 300000, a malformed or
// incomplete order with 100001, an unlisted symbol with 100003 (HTTP 200 each, as KuCoin answers business
// errors; codes from https://www.kucoin.com/docs/basic-info/errors-code/futures-errors-code). The pushes a
// request causes are queued right after its REST answer is started.
//
// Private WebSocket at wss://127.0.0.1:<port>/endpoint?token=<issued token>&connectId=<id>: welcome,
// ping -> pong, subscribe/unsubscribe with ack, and for "/contractMarket/tradeOrders" (all symbols) or
// "/contractMarket/tradeOrders:<symbol>" the orderChange pushes (all sizes and prices as strings, orderTime
// and ts in ns), https://www.kucoin.com/docs/websocket/futures-trading/private-channels/trade-orders:
//   open     the order rests (status open)
//   match    one per fill: matchSize, matchPrice, tradeId, liquidity taker (status match) or maker (status
//            open), filledSize cumulative, remainSize what is left
//   filled   fully filled (status done)
//   canceled canceled (status done, canceledSize what was left)
// An unknown or expired token gets {"id":<connectId>,"type":"error","code":401,"data":"token is invalid"}
// and the connection is closed; a private topic subscribed with a bullet-public token or without
// "privateChannel":true gets {"id":..,"type":"error","code":403,"data":"login is required"}, an unknown
// frame type code 415 (codes: https://www.kucoin.com/docs-new/error-code/websocket). Frames of a dropped
// connection are lost, never replayed.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

#include "oms/signing.hpp"
#include "tests/support/test_venue_account.hpp"
#include "tests/support/tls_test_venue.hpp"
#include "tests/support/venue_decimal_json.hpp"

namespace enigma::testing {

inline constexpr const char* kKucoinKey = "6650f0a1c2d3e4f5a6b7c8d9";  // 24 hex like a real key
inline constexpr const char* kKucoinSecret = "f03a5284-5c39-4aaa-9b20-dea10bdcf8e3";
inline constexpr const char* kKucoinPassphrase = "enigma-test-passphrase";

// Helpers of this fake only (their own namespace: fake_binance.hpp has same-named helpers).
namespace kucoin_fake {

// The decimals and flat JSON every test venue reads and writes (tests/support/venue_decimal_json.hpp).
using namespace venue_text;

// KuCoin's venue keeps a \uXXXX escape as written.
inline std::optional<JsonObject> parse_flat_json(std::string_view s) {
  return venue_text::parse_flat_json(s, UnicodeEscape::kept);
}

// `a=1&b=2` with %XX escapes decoded (KuCoin signs the URL as it was before encoding).
inline std::map<std::string, std::string> parse_query(std::string_view s) {
  return venue_text::parse_query(s, QueryEscapes::decoded);
}

// Shortest decimal that reads back as `v` ("60000", "0.5", "30.00075").
inline std::string num(double v) {
  v = std::round(v * 1e10) / 1e10;  // 0.001 * 60000 reads "60", not "60.00000000000001"
  if (v == 0) return "0";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

inline bool positive_int(const std::string& t, long long& out) {
  const auto r = std::from_chars(t.data(), t.data() + t.size(), out);
  return r.ec == std::errc() && r.ptr == t.data() + t.size() && out > 0;
}

inline bool positive_number(const std::string& t, double& out) {
  const auto r = std::from_chars(t.data(), t.data() + t.size(), out);
  return r.ec == std::errc() && r.ptr == t.data() + t.size() && out > 0 && std::isfinite(out);
}

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// What the venue keeps of one WebSocket connection (guarded by the venue's mutex).
struct Connection {
  int token_kind = 0;      // of the token in the upgrade request: 0 unknown, 1 public, 2 private
  std::string connect_id;  // the upgrade request's connectId (one made up when it has none)
  bool private_token = false;
  bool orders_all = false;
  std::set<std::string> order_symbols;
  bool stop_orders = false;  // subscribed to /contractMarket/advancedOrders (stop order lifecycle)
};

}  // namespace kucoin_fake


class FakeKucoinFutures : public TlsTestVenue<FakeKucoinFutures, kucoin_fake::Connection> {
  friend class TlsTestVenue<FakeKucoinFutures, kucoin_fake::Connection>;

 public:
  // One order as the venue keeps it. `body`: the exact POST body received (empty for add_foreign_order).
  struct Order {
    std::string client_oid, id, symbol, side, type, price, time_in_force, leverage;
    std::string stop, stop_price_type, stop_price;  // stop orders only
    long long size{0}, filled{0}, canceled{0}, visible_size{0};
    double filled_value{0};  // sum of matchSize * multiplier * matchPrice
    bool post_only{false}, reduce_only{false}, iceberg{false}, stop_triggered{false};
    bool active{true};       // "open" while true, "done" once filled or canceled
    bool foreign{false};     // placed by someone else (add_foreign_order)
    std::string body;
    std::int64_t created_ms{0}, created_ns{0}, updated_ms{0}, end_ms{0};
    [[nodiscard]] bool is_stop() const noexcept { return !stop.empty() && !stop_triggered; }
    [[nodiscard]] long long remaining() const noexcept { return size - filled - canceled; }
    [[nodiscard]] std::string status() const { return active ? "open" : "done"; }
  };
  // The kit's net position (tests/support/test_venue_account.hpp) in KuCoin's units: qty in contracts
  // (negative short), entry and realised PnL as doubles; `seen` once it was ever opened (GET /positions).
  struct Position : venue_kit::BasicPosition<long long, double> {
    bool seen{false};
  };

  FakeKucoinFutures() : TlsTestVenue(venue_ca_file("kucoin")), hmac_(kKucoinSecret) {
    unsigned char mac[oms::kSha256Size];
    hmac_.sign(kKucoinPassphrase, mac);
    char b64[oms::kSha256Base64Size];
    oms::base64_encode(mac, sizeof mac, b64);
    signed_passphrase_.assign(b64, sizeof b64);
    symbols_["XBTUSDTM"] = 0.001;
    symbols_["ETHUSDTM"] = 0.01;
    start_serving();
  }
  ~FakeKucoinFutures() { stop_serving(); }
  FakeKucoinFutures(const FakeKucoinFutures&) = delete;
  FakeKucoinFutures& operator=(const FakeKucoinFutures&) = delete;

  // ---- Where it is --------------------------------------------------------------------------------------
  // port(), rest_url() and ca_file() (the PEM of its certificate) come with the transport (tls_test_venue.hpp).
  [[nodiscard]] std::string bullet_private_url() const { return rest_url() + "/api/v1/bullet-private"; }
  [[nodiscard]] std::string bullet_public_url() const { return rest_url() + "/api/v1/bullet-public"; }
  [[nodiscard]] std::string ws_endpoint() const { return "wss://127.0.0.1:" + std::to_string(port()) + "/endpoint"; }

  // ---- Market and account ------------------------------------------------------------------------------
  // The mark price market orders fill at and limit orders are checked against ("60000" by default).
  void set_mark(const std::string& symbol, std::string price) { std::lock_guard lk(mu_); marks_.set(symbol, std::move(price)); }
  void set_mark(std::string price) { std::lock_guard lk(mu_); marks_.set_all(std::move(price)); }
  // A contract the venue lists (XBTUSDTM 0.001 and ETHUSDTM 0.01 are listed from the start); other symbols
  // are refused with 100003.
  void add_symbol(const std::string& symbol, double multiplier) { std::lock_guard lk(mu_); symbols_[symbol] = multiplier; }
  // Each fill is split into `n` matches (1: one match per fill).
  void set_fill_parts(int n) { std::lock_guard lk(mu_); fill_parts_ = std::max(1, n); }
  void set_balance(std::string usdt) { std::lock_guard lk(mu_); balance_ = std::move(usdt); }
  // A position the account holds before the test (positions, fills of reduce orders are booked against it).
  void set_position(const std::string& symbol, long long qty, double avg_entry) {
    std::lock_guard lk(mu_);
    Position p;
    p.qty = qty;
    p.entry = avg_entry;
    p.seen = true;
    positions_[symbol] = p;
  }
  [[nodiscard]] long long position(const std::string& symbol) const {
    std::lock_guard lk(mu_);
    const auto it = positions_.find(symbol);
    return it == positions_.end() ? 0 : it->second.qty;
  }
  // GET /api/v1/user/api-key's "permission" ("General,Futures" by default). KuCoin's permission names
  // (docs "api-permission"): General, Spot, Margin, Futures, Earn, Withdrawal, FlexTransfers (older keys:
  // Trade, Transfer).
  // The account's fee rates, as GET /api/v1/trade-fees states them (decimal texts).
  void set_fee_rates(std::string maker, std::string taker) {
    std::lock_guard lk(mu_);
    fees_.maker = std::move(maker);
    fees_.taker = std::move(taker);
  }
  void set_key_permission(std::string p) { std::lock_guard lk(mu_); permission_ = std::move(p); }
  void set_key_can_withdraw(bool on) { set_key_permission(on ? "General,Futures,Withdrawal" : "General,Futures"); }
  // The bullet answers' pingInterval / pingTimeout (ms).
  void set_ping_interval_ms(int ms) { std::lock_guard lk(mu_); ping_interval_ms_ = ms; }
  void set_ping_timeout_ms(int ms) { std::lock_guard lk(mu_); ping_timeout_ms_ = ms; }
  // The REST quota per 30 s window (gw-ratelimit-limit; 2000 is the futures pool of VIP0).
  void set_rate_limit(int limit) { std::lock_guard lk(mu_); rate_limit_ = limit; }
  // Refuse requests whose KC-API-TIMESTAMP is more than 5 s off (on by default, as KuCoin does).
  void set_check_timestamp(bool on) { std::lock_guard lk(mu_); check_timestamp_ = on; }
  // How far KC-API-TIMESTAMP may be from the venue's clock (KuCoin: 5 s); a test shortens it to see a request
  // that waited in the gateway refused unless it was signed again.
  void set_timestamp_window_ms(long long ms) { std::lock_guard lk(mu_); timestamp_window_ms_ = ms; }

  // ---- Faults -------------------------------------------------------------------------------------------
  // The next n REST requests (any) are answered HTTP 429 {"code":"429000","msg":"Too Many Requests"} and
  // not carried out; gw-ratelimit-remaining reads 0 on them.
  void rate_limit_next(int n) { std::lock_guard lk(mu_); rate_limit_next_ = n; }
  // The next n REST requests are answered HTTP `status` (5xx) {"code":"500000",..} and not carried out.
  void fail_next(int n, int status = 503) { std::lock_guard lk(mu_); fail_next_ = n; fail_status_ = status; }
  // The next n REST requests are neither carried out nor answered (the connection stays open).
  void silence_next(int n) { std::lock_guard lk(mu_); silence_next_ = n; }
  // The next POST /api/v1/orders is carried out (booked, matched, pushed) but answered HTTP `status`
  // {"code":"500000",..}; status 0: never answered. Only a query tells what became of it.
  void lose_next_order_answer(int status) { std::lock_guard lk(mu_); lose_order_status_ = status; lose_order_ = true; }
  // The next n orders are refused with HTTP 200 {"code":code,"msg":msg} (not booked).
  void reject_next_orders(int n, std::string code = "300003", std::string msg = "Balance insufficient!") {
    std::lock_guard lk(mu_);
    reject_next_ = n;
    reject_code_ = std::move(code);
    reject_msg_ = std::move(msg);
  }
  // Every REST answer is written `ms` after its request arrived (the other connections go on meanwhile).
  void delay_answers(int ms) { std::lock_guard lk(mu_); delay_ms_ = ms; }
  // The bullet-private answers only are written `ms` after their request arrived (a slow token service).
  void delay_bullets(int ms) { std::lock_guard lk(mu_); bullet_delay_ms_ = ms; }
  // Subscriptions that arrive from now on are held unanswered until release_subscriptions()
  // (tests/support/subscription_hold.hpp).
  using TlsTestVenue::hold_subscriptions;
  using TlsTestVenue::release_subscriptions;
  using TlsTestVenue::held_subscriptions;

  // Closes every private WebSocket connection (no close frame): what is pushed until the client reconnects
  // is lost.
  void drop_streams() {
    std::lock_guard lk(mu_);
    drop_ws_connections([](const Session&) { return true; });
    ++stream_drops_;
  }
  // Tokens issued so far are no longer accepted (a WebSocket connect with one gets the 401 error frame).
  void expire_tokens() { std::lock_guard lk(mu_); tokens_.clear(); }
  // Pings are answered (true by default); off: the client's ping timeout must notice.
  void set_answer_pings(bool on) { std::lock_guard lk(mu_); answer_pings_ = on; }

  // ---- The venue acts ----------------------------------------------------------------------------------
  // A resting order fills (maker) by `size` contracts (0: all that remains) at `price` ("": its limit
  // price): match pushes, then filled once nothing remains. False when no such open order rests.
  bool fill_resting(const std::string& client_oid, long long size = 0, std::string price = "") {
    std::lock_guard lk(mu_);
    const auto it = orders_.find(client_oid);
    if (it == orders_.end() || !it->second.active || it->second.is_stop()) return false;
    Order& o = it->second;
    const long long q = size <= 0 ? o.remaining() : std::min(size, o.remaining());
    fill(o, q, price.empty() ? o.price : price, true);
    return true;
  }
  // An untriggered stop order triggers and fills at the mark (taker).
  bool trigger_stop(const std::string& client_oid) {
    std::lock_guard lk(mu_);
    const auto it = orders_.find(client_oid);
    if (it == orders_.end() || !it->second.active || !it->second.is_stop()) return false;
    Order& o = it->second;
    o.stop_triggered = true;
    stop_event(o, "triggered");
    fill(o, o.remaining(), mark(o.symbol), false);
    return true;
  }
  // The venue cancels an open order itself (liquidation, ...): a canceled push.
  bool cancel_by_venue(const std::string& client_oid) {
    std::lock_guard lk(mu_);
    const auto it = orders_.find(client_oid);
    if (it == orders_.end() || !it->second.active) return false;
    cancel(it->second);
    return true;
  }
  // A resting limit order someone else placed on this account (a web order): no push. Returns its orderId.
  std::string add_foreign_order(const std::string& client_oid, const std::string& symbol = "XBTUSDTM",
                                const std::string& side = "buy", const std::string& price = "50000", long long size = 1) {
    std::lock_guard lk(mu_);
    Order o;
    o.client_oid = client_oid;
    o.id = next_order_id();
    o.symbol = symbol;
    o.side = side;
    o.type = "limit";
    o.price = price;
    o.time_in_force = "GTC";
    o.leverage = "1";
    o.size = size;
    o.foreign = true;
    o.created_ms = o.updated_ms = kucoin_fake::now_ms();
    o.created_ns = kucoin_fake::now_ns();
    arrival_.push_back(client_oid);
    orders_[client_oid] = o;
    return o.id;
  }

  // ---- What happened ------------------------------------------------------------------------------------
  // Requests by "METHOD /path" (no query), every one that arrived, refused or not.
  [[nodiscard]] int requests(const std::string& method_path) const {
    std::lock_guard lk(mu_);
    const auto it = requests_.find(method_path);
    return it == requests_.end() ? 0 : it->second;
  }
  [[nodiscard]] std::map<std::string, int> request_counts() const { std::lock_guard lk(mu_); return requests_; }
  // Requests refused by authentication (HTTP 401), in all and by KuCoin code ("400005", ...).
  [[nodiscard]] int auth_refusals() const { std::lock_guard lk(mu_); return auth_refusals_; }
  [[nodiscard]] int bad_signatures() const { return refusals("400005"); }
  [[nodiscard]] int refusals(const std::string& code) const {
    std::lock_guard lk(mu_);
    const auto it = refusals_by_code_.find(code);
    return it == refusals_by_code_.end() ? 0 : it->second;
  }
  [[nodiscard]] int rate_limited() const { std::lock_guard lk(mu_); return rate_limited_; }  // 429 answers
  [[nodiscard]] std::map<std::string, Order> orders() const { std::lock_guard lk(mu_); return orders_; }
  [[nodiscard]] std::optional<Order> order(const std::string& client_oid) const {
    std::lock_guard lk(mu_);
    const auto it = orders_.find(client_oid);
    return it == orders_.end() ? std::nullopt : std::optional<Order>(it->second);
  }
  [[nodiscard]] std::vector<std::string> bodies() const { std::lock_guard lk(mu_); return bodies_; }  // POST /api/v1/orders
  // Every match the venue made, in order (each "match" push), with the fee it charged: the match's value at
  // the account's rate for its liquidity (set_fee_rates), to 8 decimals. KuCoin pushes no fee on the order
  // channel; its fills endpoint states this one.
  struct Fill {
    std::string client_oid, symbol, price;
    long long size{0};
    bool maker{false};
    std::string fee;
  };
  [[nodiscard]] std::vector<Fill> fills() const { std::lock_guard lk(mu_); return fills_; }
  [[nodiscard]] int cancels() const { std::lock_guard lk(mu_); return cancels_; }  // DELETE client-order/..
  [[nodiscard]] int cancel_alls() const { std::lock_guard lk(mu_); return cancel_alls_; }  // DELETE /api/v1/orders
  [[nodiscard]] int stop_cancel_alls() const { std::lock_guard lk(mu_); return stop_cancel_alls_; }
  [[nodiscard]] int queries() const { std::lock_guard lk(mu_); return queries_; }  // byClientOid / by id
  [[nodiscard]] int bullets() const { std::lock_guard lk(mu_); return bullets_; }  // private tokens issued
  [[nodiscard]] int ws_connections() const { std::lock_guard lk(mu_); return ws_connections_; }  // welcomed
  [[nodiscard]] int ws_refused() const { std::lock_guard lk(mu_); return ws_refused_; }  // bad token
  [[nodiscard]] int subscriptions() const { std::lock_guard lk(mu_); return subscriptions_; }  // tradeOrders acks
  [[nodiscard]] int pings() const { std::lock_guard lk(mu_); return pings_; }
  [[nodiscard]] int stream_drops() const { std::lock_guard lk(mu_); return stream_drops_; }
  [[nodiscard]] std::vector<std::string> ws_targets() const { std::lock_guard lk(mu_); return ws_targets_; }
  [[nodiscard]] std::vector<std::string> ws_received() const { std::lock_guard lk(mu_); return ws_received_; }
  // Every orderChange frame pushed, in order, whether or not a connection was there to take it.
  [[nodiscard]] std::vector<std::string> pushed() const { std::lock_guard lk(mu_); return pushed_; }
  // A live connection subscribed to the order channel.
  [[nodiscard]] bool stream_open() const {
    std::lock_guard lk(mu_);
    for (const auto& w : ws_sessions_)
      if (auto s = w.lock(); s && s->open && (s->orders_all || !s->order_symbols.empty())) return true;
    return false;
  }
  // A live connection subscribed to the stop-order channel (advancedOrders: where trigger_stop's event goes).
  [[nodiscard]] bool stop_stream_open() const {
    std::lock_guard lk(mu_);
    for (const auto& w : ws_sessions_)
      if (auto s = w.lock(); s && s->open && s->stop_orders) return true;
    return false;
  }
  using TlsTestVenue::wait_until;  // polls a condition every 2 ms (tls_test_venue.hpp)

 private:

  using Session = TlsTestVenue::Session;

  // ---- REST -----------------------------------------------------------------------------------------------
  static Response answer(int status, std::string body) {
    Response r{static_cast<http::status>(status), 11};
    r.set(http::field::content_type, "application/json");
    r.body() = std::move(body);
    return r;
  }
  static Response ok(const std::string& data) { return answer(200, R"({"code":"200000","data":)" + data + "}"); }
  static Response refuse(int status, const std::string& code, const std::string& msg) {
    return answer(status, R"({"code":")" + code + R"(","msg":")" + kucoin_fake::json_escape(msg) + R"("})");
  }

  // The documented request weights, roughly (futures pool; management for the api-key query).
  static int weight_of(const std::string& method, const std::string& path) {
    if (path == "/api/v1/orders") return method == "POST" ? 2 : method == "DELETE" ? 10 : 2;
    if (path.rfind("/api/v1/orders/client-order/", 0) == 0) return 1;
    if (path.rfind("/api/v1/orders/", 0) == 0) return method == "DELETE" ? 1 : 5;
    if (path == "/api/v1/stopOrders") return method == "DELETE" ? 15 : 6;
    if (path == "/api/v1/positions" || path == "/api/v1/position") return 2;
    if (path == "/api/v1/account-overview") return 5;
    if (path == "/api/v1/user/api-key") return 20;
    if (path == "/api/v1/trade-fees") return 3;
    if (path.rfind("/api/v1/bullet-", 0) == 0) return 10;
    return 1;
  }

  void add_limit_headers(Response& r, bool exhausted) {  // mu_ held
    const auto now = std::chrono::steady_clock::now();
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - window_start_).count();
    r.set("gw-ratelimit-limit", std::to_string(rate_limit_));
    r.set("gw-ratelimit-remaining", std::to_string(exhausted ? 0 : std::max(0, rate_limit_ - used_weight_)));
    r.set("gw-ratelimit-reset", std::to_string(std::max<long long>(0, 30000 - elapsed)));
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
    if (path == "/api/v1/bullet-private") delay_ms = std::max(delay_ms, bullet_delay_ms_);
    const auto now = std::chrono::steady_clock::now();
    if (!window_started_ || now - window_start_ >= std::chrono::seconds(30)) {
      window_started_ = true;
      window_start_ = now;
      used_weight_ = 0;
    }
    if (silence_next_ > 0) {
      --silence_next_;
      silent = true;
      return answer(200, "");
    }
    if (rate_limit_next_ > 0) {
      --rate_limit_next_;
      ++rate_limited_;
      Response r = refuse(429, "429000", "Too Many Requests");
      add_limit_headers(r, true);
      return r;
    }
    if (fail_next_ > 0) {
      --fail_next_;
      Response r = refuse(fail_status_, "500000", "Internal Server Error");
      add_limit_headers(r, false);
      return r;
    }
    const int w = weight_of(method, path);
    if (used_weight_ + w > rate_limit_) {  // the quota of this window is used up
      ++rate_limited_;
      Response r = refuse(429, "429000", "Too Many Requests");
      add_limit_headers(r, true);
      return r;
    }
    used_weight_ += w;
    Response r = route(rq, method, path, query, silent);
    add_limit_headers(r, false);
    return r;
  }

  // The gateway's check of a private request; empty when it passes, else the refusal. mu_ held.
  std::optional<Response> authenticate(const http::request<http::string_body>& rq, const std::string& method) {
    const auto refused = [&](const std::string& code, const std::string& msg) {
      ++auth_refusals_;
      ++refusals_by_code_[code];
      return std::optional<Response>(refuse(401, code, msg));
    };
    const auto header = [&](const char* name) { return std::string(rq[name]); };
    const std::string key = header("KC-API-KEY"), sign = header("KC-API-SIGN"), ts = header("KC-API-TIMESTAMP"),
                      pass = header("KC-API-PASSPHRASE"), version = header("KC-API-KEY-VERSION");
    if (key.empty() || sign.empty() || ts.empty() || pass.empty())
      return refused("400001", "Any of KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE is missing in your request header");
    if (key != kKucoinKey) return refused("400003", "KC-API-KEY not exists");
    if (version != "2") return refused("400009", "Invalid KC-API-KEY-VERSION");
    long long ts_ms = 0;
    if (!kucoin_fake::positive_int(ts, ts_ms) || (check_timestamp_ && std::llabs(ts_ms - kucoin_fake::now_ms()) > timestamp_window_ms_))
      return refused("400002", "KC-API-TIMESTAMP Invalid");
    // The signature before the passphrase: a wrong secret (which also garbles the signed passphrase) reads
    // 400005, a wrong passphrase with the right secret 400004.
    unsigned char mac[oms::kSha256Size];
    const std::string signed_target = kucoin_fake::url_decode(rq.target());
    hmac_.sign({ts, method, signed_target, rq.body()}, mac);
    char b64[oms::kSha256Base64Size];
    oms::base64_encode(mac, sizeof mac, b64);
    if (sign != std::string_view(b64, sizeof b64)) return refused("400005", "Invalid KC-API-SIGN");
    if (pass != signed_passphrase_) return refused("400004", "KC-API-PASSPHRASE error");
    return std::nullopt;
  }

  Response route(const http::request<http::string_body>& rq, const std::string& method, const std::string& path,
                 const std::string& query, bool& silent) {  // mu_ held
    const auto p = kucoin_fake::parse_query(query);
    const auto param = [&](const char* k) { const auto it = p.find(k); return it == p.end() ? std::string() : it->second; };
    if (method == "POST" && path == "/api/v1/bullet-public") return bullet(false);
    const bool known = (path == "/api/v1/orders" && (method == "POST" || method == "DELETE" || method == "GET")) ||
                       (path.rfind("/api/v1/orders/client-order/", 0) == 0 && method == "DELETE") ||
                       (path == "/api/v1/orders/byClientOid" && method == "GET") ||
                       (path.rfind("/api/v1/orders/", 0) == 0 && path.find('/', 15) == std::string::npos &&
                        (method == "GET" || method == "DELETE")) ||
                       (path == "/api/v1/stopOrders" && (method == "GET" || method == "DELETE")) ||
                       ((path == "/api/v1/positions" || path == "/api/v1/position" || path == "/api/v1/account-overview" ||
                         path == "/api/v1/user/api-key" || path == "/api/v1/trade-fees") && method == "GET") ||
                       (path == "/api/v1/bullet-private" && method == "POST");
    if (!known) return refuse(404, "404000", "Url Not Found");
    if (auto refused = authenticate(rq, method)) return *refused;

    if (path == "/api/v1/bullet-private") return bullet(true);
    if (path == "/api/v1/orders" && method == "POST") return place(rq.body(), silent);
    if (path.rfind("/api/v1/orders/client-order/", 0) == 0) {
      ++cancels_;
      const std::string oid = path.substr(std::string_view("/api/v1/orders/client-order/").size());
      if (param("symbol").empty()) return invalid();
      const auto it = orders_.find(oid);
      if (it == orders_.end() || !it->second.active || it->second.symbol != param("symbol"))
        return answer(200, R"({"code":"100004","msg":"Order is in not cancelable state"})");
      cancel(it->second);
      return ok(R"({"clientOid":")" + kucoin_fake::json_escape(oid) + R"("})");
    }
    if (path == "/api/v1/orders" && method == "DELETE") return cancel_all(param("symbol"), false);
    if (path == "/api/v1/stopOrders" && method == "DELETE") return cancel_all(param("symbol"), true);
    if (path == "/api/v1/orders/byClientOid") {
      ++queries_;
      if (param("clientOid").empty()) return invalid();
      const auto it = orders_.find(param("clientOid"));
      return ok(it == orders_.end() ? "null" : order_json(it->second));
    }
    if (path == "/api/v1/orders" || path == "/api/v1/stopOrders") {  // GET: one page of the list
      const bool stops = path == "/api/v1/stopOrders";
      const std::string status = stops ? "active" : param("status").empty() ? "active" : param("status");
      if (status != "active" && status != "done") return invalid();
      std::string items;
      int n = 0;
      for (const std::string& oid : arrival_) {
        const Order& o = orders_.at(oid);
        if (!param("symbol").empty() && o.symbol != param("symbol")) continue;
        if (o.is_stop() != stops || o.active != (status == "active")) continue;
        if (n++ > 0) items += ',';
        items += order_json(o);
      }
      return ok(R"({"currentPage":1,"pageSize":)" + std::to_string(std::max(50, n)) + R"(,"totalNum":)" + std::to_string(n) +
                R"(,"totalPage":1,"items":[)" + items + "]}");
    }
    if (path.rfind("/api/v1/orders/", 0) == 0 && method == "DELETE") {  // cancel by the venue's orderId (stops too)
      ++cancels_;
      const std::string id = path.substr(15);
      for (auto& [oid, o] : orders_)
        if (o.id == id && o.active) {
          cancel(o);
          return ok(R"({"cancelledOrderIds":[")" + id + R"("]})");
        }
      return answer(200, R"({"code":"100004","msg":"Order is in not cancelable state"})");
    }
    if (path.rfind("/api/v1/orders/", 0) == 0) {  // GET /api/v1/orders/{orderId}
      ++queries_;
      const std::string id = path.substr(15);
      for (const auto& [oid, o] : orders_)
        if (o.id == id) return ok(order_json(o));
      return ok("null");
    }
    if (path == "/api/v1/positions") {
      std::string list;
      for (const auto& [symbol, pos] : positions_) {
        if (!pos.seen) continue;
        if (!list.empty()) list += ',';
        list += position_json(symbol, pos);
      }
      return ok("[" + list + "]");
    }
    if (path == "/api/v1/position") {
      const std::string symbol = param("symbol");
      if (symbols_.count(symbol) == 0) return answer(200, R"({"code":"100003","msg":"Contract parameter invalid"})");
      return ok(position_json(symbol, positions_[symbol]));
    }
    if (path == "/api/v1/account-overview") {
      const std::string currency = param("currency").empty() ? "XBT" : param("currency");
      const std::string bal = currency == "USDT" ? balance_ : "0";
      return ok(R"({"accountEquity":)" + bal + R"(,"unrealisedPNL":0,"marginBalance":)" + bal +
                R"(,"positionMargin":0,"orderMargin":0,"frozenFunds":0,"availableBalance":)" + bal + R"(,"currency":")" +
                kucoin_fake::json_escape(currency) + R"(","riskRatio":0,"maxWithdrawAmount":)" + bal + "}");
    }
    if (path == "/api/v1/trade-fees") {
      const std::string symbol = param("symbol");
      if (symbols_.count(symbol) == 0) return answer(200, R"({"code":"100003","msg":"Contract parameter invalid"})");
      return ok(R"({"symbol":")" + kucoin_fake::json_escape(symbol) + R"(","takerFeeRate":")" + fees_.taker +
                R"(","makerFeeRate":")" + fees_.maker + R"("})");
    }
    // GET /api/v1/user/api-key
    return ok(R"({"remark":"test","apiKey":")" + std::string(kKucoinKey) + R"(","apiVersion":3,"permission":")" +
              kucoin_fake::json_escape(permission_) + R"(","ipWhitelist":"127.0.0.1","isMaster":true,"createdAt":1698645219000})");
  }

  static Response invalid() { return answer(200, R"({"code":"100001","msg":"There are invalid parameters"})"); }

  Response bullet(bool private_channel) {  // mu_ held
    std::string token;
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 96; ++i) token += kAlphabet[rng_() % 64];
    tokens_[token] = private_channel;
    if (private_channel) ++bullets_;
    return ok(R"({"token":")" + token + R"(","instanceServers":[{"endpoint":")" + ws_endpoint() +
              R"(","encrypt":true,"protocol":"websocket","pingInterval":)" + std::to_string(ping_interval_ms_) +
              R"(,"pingTimeout":)" + std::to_string(ping_timeout_ms_) + "}]}");
  }

  // POST /api/v1/orders after authentication. mu_ held.
  Response place(const std::string& body, bool& silent) {
    record(bodies_, body);
    const auto parsed = kucoin_fake::parse_flat_json(body);
    if (!parsed) return invalid();
    const kucoin_fake::JsonObject& j = *parsed;
    const auto str = [&](const char* k) { const auto it = j.find(k); return it == j.end() ? std::string() : it->second.text; };
    const auto flag = [&](const char* k) { const auto it = j.find(k); return it != j.end() && it->second.text == "true"; };
    Order o;
    o.client_oid = str("clientOid");
    o.side = str("side");
    o.symbol = str("symbol");
    o.type = j.count("type") ? str("type") : "limit";
    o.leverage = str("leverage");
    o.price = str("price");
    o.time_in_force = j.count("timeInForce") ? str("timeInForce") : "GTC";
    o.post_only = flag("postOnly");
    o.reduce_only = flag("reduceOnly");
    o.iceberg = flag("iceberg");
    o.stop = str("stop");
    o.stop_price_type = str("stopPriceType");
    o.stop_price = str("stopPrice");
    o.body = body;
    double px = 0, lev = 0, stop_px = 0;
    const bool valid =
        !o.client_oid.empty() && o.client_oid.size() <= 40 &&
        std::all_of(o.client_oid.begin(), o.client_oid.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }) &&
        (o.side == "buy" || o.side == "sell") && (o.type == "limit" || o.type == "market") &&
        kucoin_fake::positive_int(str("size"), o.size) && kucoin_fake::positive_number(o.leverage, lev) &&
        (o.type == "market" || kucoin_fake::positive_number(o.price, px)) &&
        (o.time_in_force == "GTC" || o.time_in_force == "IOC") && !(o.post_only && o.time_in_force == "IOC") &&
        (o.stop.empty() || ((o.stop == "down" || o.stop == "up") &&
                            (o.stop_price_type == "TP" || o.stop_price_type == "MP" || o.stop_price_type == "IP") &&
                            kucoin_fake::positive_number(o.stop_price, stop_px))) &&
        (!o.iceberg || (o.type == "limit" && !o.post_only && kucoin_fake::positive_int(str("visibleSize"), o.visible_size) &&
                        o.visible_size < o.size && o.visible_size * 20 >= o.size));
    if (!valid) return invalid();
    if (symbols_.count(o.symbol) == 0) return answer(200, R"({"code":"100003","msg":"Contract parameter invalid"})");
    if (orders_.count(o.client_oid) != 0) return answer(200, R"({"code":"300000","msg":"Duplicate clientOid"})");
    if (reject_next_ > 0) {
      --reject_next_;
      return answer(200, R"({"code":")" + reject_code_ + R"(","msg":")" + kucoin_fake::json_escape(reject_msg_) + R"("})");
    }
    o.id = next_order_id();
    o.created_ms = o.updated_ms = kucoin_fake::now_ms();
    o.created_ns = kucoin_fake::now_ns();
    const std::string oid = o.client_oid;
    arrival_.push_back(oid);
    Order& booked = orders_[oid];
    booked = std::move(o);
    match_new(booked);
    const std::string data = R"({"orderId":")" + booked.id + R"("})";
    if (std::exchange(lose_order_, false)) {
      if (lose_order_status_ == 0) {
        silent = true;
        return answer(200, "");
      }
      return refuse(lose_order_status_, "500000", "Internal Server Error");
    }
    return ok(data);
  }

  // The matching rule for an order just booked, the kit's (test_venue_account.hpp) in KuCoin's words (no FOK
  // here: only IOC is cancelled when it does not cross). mu_ held.
  void match_new(Order& o) {
    using venue_kit::Arrival;
    using venue_kit::Tif;
    if (o.is_stop()) {  // rests untriggered (stop orders are on advancedOrders, not on tradeOrders)
      stop_event(o, "open");
      return;
    }
    const std::string m = mark(o.symbol);
    const bool market = o.type == "market";
    const Tif tif = o.post_only ? Tif::post_only : o.time_in_force == "IOC" ? Tif::ioc : Tif::gtc;
    switch (venue_kit::on_arrival(o.side == "buy", market, market ? 0.0 : std::stod(o.price), tif,
                                    market ? 0.0 : std::stod(m))) {
      case Arrival::fill: return fill(o, o.size, m, false);
      case Arrival::cancel_post_only:
      case Arrival::cancel_ioc:
      case Arrival::cancel_fok: return cancel(o);
      case Arrival::rest: return broadcast(o, change(o, "open", "open"));
    }
  }

  // `q` contracts of `o` fill at `price` (split into fill_parts_ matches). mu_ held.
  void fill(Order& o, long long q, const std::string& price, bool maker) {
    if (o.reduce_only) {
      // As KuCoin: a reduce-only order only ever closes; what would open or add is cancelled.
      q = venue_kit::reduce_only_qty(o.side == "buy", q, positions_[o.symbol].qty);
      if (q == 0) {
        cancel(o);
        return;
      }
    }
    const double px = std::stod(price);
    const double mult = symbols_.count(o.symbol) ? symbols_.at(o.symbol) : 1.0;
    for (const long long part : venue_kit::split_fill(q, 1LL, fill_parts_)) {  // lots: one contract each
      o.filled += part;
      o.filled_value += static_cast<double>(part) * mult * px;
      o.updated_ms = kucoin_fake::now_ms();
      Position& p = positions_[o.symbol];
      p.seen = true;
      venue_kit::book(p, o.side == "buy" ? part : -part, px, mult);
      // KuCoin's fee text: long double of the decimal texts, 8 places.
      char fee[64];
      std::snprintf(fee, sizeof fee, "%.8Lf",
                    static_cast<long double>(part) * mult * std::stold(price) * std::stold(fees_.rate(maker)));
      fills_.push_back({o.client_oid, o.symbol, price, part, maker, fee});
      const char* status = o.remaining() == 0 ? "match" : maker ? "open" : "match";
      broadcast(o, change(o, "match", status, part, price, next_trade_id(), maker ? "maker" : "taker"));
    }
    if (o.remaining() == 0) {
      o.active = false;
      o.end_ms = o.updated_ms;
      broadcast(o, change(o, "filled", "done"));
    } else if (o.reduce_only && positions_[o.symbol].qty == 0) {
      cancel(o);  // the position is closed: the rest could only open one
    }
  }

  void cancel(Order& o) {  // mu_ held
    o.canceled = o.remaining();
    o.active = false;
    o.updated_ms = o.end_ms = kucoin_fake::now_ms();
    if (!o.stop.empty() && !o.stop_triggered) {  // an untriggered stop: not on tradeOrders
      stop_event(o, "cancel");
      return;
    }
    broadcast(o, change(o, "canceled", "done"));
  }

  Response cancel_all(const std::string& symbol, bool stops) {  // mu_ held
    ++(stops ? stop_cancel_alls_ : cancel_alls_);
    std::string ids;
    for (const std::string& oid : arrival_) {
      Order& o = orders_.at(oid);
      if (!o.active || o.is_stop() != stops || (!symbol.empty() && o.symbol != symbol)) continue;
      cancel(o);
      if (!ids.empty()) ids += ',';
      ids += '"' + o.id + '"';
    }
    return ok(R"({"cancelledOrderIds":[)" + ids + "]}");
  }

  [[nodiscard]] std::string mark(const std::string& symbol) const {  // mu_ held
    return marks_.of(symbol);
  }

  std::string next_order_id() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "66%06x%016llx", 0xf0a1c2u, static_cast<unsigned long long>(++order_seq_));
    return buf;
  }
  std::string next_trade_id() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "67%06x%016llx", 0x3b9e10u, static_cast<unsigned long long>(++trade_seq_));
    return buf;
  }

  // An orderChange push of `o` as it is now (sizes and prices as strings, times in ns).
  std::string change(const Order& o, const char* type, const char* status, long long match_size = 0,
                     const std::string& match_price = "", const std::string& trade_id = "", const char* liquidity = "") const {
    const bool match = std::string_view(type) == "match";
    std::string d = R"({"orderId":")" + o.id + R"(","symbol":")" + o.symbol + R"(","type":")" + type + R"(","status":")" + status + '"';
    if (match)
      d += R"(,"matchSize":")" + std::to_string(match_size) + R"(","matchPrice":")" + match_price + '"';
    d += R"(,"orderType":")" + o.type + R"(","side":")" + o.side + R"(","price":")" + (o.type == "market" ? std::string("0") : o.price) +
         R"(","size":")" + std::to_string(o.size) + R"(","remainSize":")" + std::to_string(o.active ? o.remaining() : 0) +
         R"(","filledSize":")" + std::to_string(o.filled) + R"(","canceledSize":")" + std::to_string(o.canceled) + '"';
    if (match) d += R"(,"tradeId":")" + trade_id + '"';
    d += R"(,"clientOid":")" + kucoin_fake::json_escape(o.client_oid) + R"(","orderTime":)" + std::to_string(o.created_ns);
    if (match)
      d += R"(,"liquidity":")" + std::string(liquidity) + R"(","feeType":")" +
           (std::string_view(liquidity) == "maker" ? "makerFee" : "takerFee") + '"';
    if (std::string_view(type) != "update") d += R"(,"tradeType":"trade")";
    d += R"(,"ts":)" + std::to_string(kucoin_fake::now_ns()) + R"(,"marginMode":"ISOLATED"})";
    return R"({"type":"message","topic":"/contractMarket/tradeOrders","subject":"orderChange","channelType":"private","data":)" + d + "}";
  }

  // A stop order's lifecycle on /contractMarket/advancedOrders ("open", "triggered", "cancel"), as KuCoin
  // sends it: no clientOid, the orderId only. mu_ held.
  void stop_event(const Order& o, const char* type) {
    const std::string frame = R"({"topic":"/contractMarket/advancedOrders","type":"message","data":{"createdAt":)" +
                              std::to_string(o.created_ms) + R"(,"marginMode":"ISOLATED","orderId":")" + o.id +
                              R"(","orderPrice":"0","orderType":"stop","side":")" + o.side + R"(","size":)" + std::to_string(o.size) +
                              R"(,"stop":")" + o.stop + R"(","stopPrice":")" + o.stop_price + R"(","stopPriceType":")" +
                              o.stop_price_type + R"(","symbol":")" + o.symbol + R"(","ts":)" + std::to_string(kucoin_fake::now_ns()) +
                              R"(,"type":")" + type + R"("},"subject":"stopOrder","id":"sub-1","userId":"u-1","channelType":"private"})";
    record(pushed_, frame);
    for (const auto& w : ws_sessions_) {
      auto s = w.lock();
      if (!s || !s->open || !s->stop_orders) continue;
      net::post(io_, [s, frame] { s->push(frame); });
    }
  }

  // Queues `frame` on every live connection subscribed to `o`'s orders (on the io thread). mu_ held.
  void broadcast(const Order& o, std::string frame) {
    record(pushed_, frame);
    for (const auto& w : ws_sessions_) {
      auto s = w.lock();
      if (!s || !s->open || !(s->orders_all || s->order_symbols.count(o.symbol) != 0)) continue;
      net::post(io_, [s, frame] { s->push(frame); });
    }
  }

  std::string order_json(const Order& o) const {  // mu_ held
    const double mult = symbols_.count(o.symbol) ? symbols_.at(o.symbol) : 1.0;
    const bool market = o.type == "market";
    const double value = market ? 0.0 : static_cast<double>(o.size) * mult * std::stod(o.price);
    const std::string filled_value = kucoin_fake::num(o.filled_value);
    const std::string avg = o.filled == 0 ? "0" : kucoin_fake::num(o.filled_value / (static_cast<double>(o.filled) * mult));
    const bool has_stop = !o.stop.empty();
    return R"({"id":")" + o.id + R"(","symbol":")" + o.symbol + R"(","type":")" + o.type + R"(","side":")" + o.side +
           R"(","price":")" + (market ? std::string("0") : o.price) + R"(","size":)" + std::to_string(o.size) + R"(,"value":")" +
           kucoin_fake::num(value) + R"(","dealValue":")" + filled_value + R"(","dealSize":)" + std::to_string(o.filled) +
           R"(,"stp":"","stop":")" + o.stop + R"(","stopPriceType":")" + o.stop_price_type + R"(","stopTriggered":)" +
           (o.stop_triggered ? "true" : "false") + R"(,"stopPrice":)" + (has_stop ? '"' + o.stop_price + '"' : std::string("null")) +
           R"(,"timeInForce":")" + o.time_in_force + R"(","postOnly":)" + (o.post_only ? "true" : "false") +
           R"(,"hidden":false,"iceberg":)" + (o.iceberg ? "true" : "false") + R"(,"leverage":")" + o.leverage +
           R"(","forceHold":false,"closeOrder":false,"visibleSize":)" + std::to_string(o.visible_size) + R"(,"clientOid":")" +
           kucoin_fake::json_escape(o.client_oid) + R"(","remark":null,"tags":"","isActive":)" + (o.active ? "true" : "false") +
           R"(,"cancelExist":)" + (o.canceled > 0 ? "true" : "false") + R"(,"createdAt":)" + std::to_string(o.created_ms) +
           R"(,"updatedAt":)" + std::to_string(o.updated_ms) + R"(,"endAt":)" + (o.active ? std::string("null") : std::to_string(o.end_ms)) +
           R"(,"orderTime":)" + std::to_string(o.created_ns) + R"(,"settleCurrency":"USDT","marginMode":"ISOLATED","avgDealPrice":")" +
           avg + R"(","filledSize":)" + std::to_string(o.filled) + R"(,"filledValue":")" + filled_value + R"(","status":")" +
           o.status() + R"(","reduceOnly":)" + (o.reduce_only ? "true" : "false") + "}";
  }

  std::string position_json(const std::string& symbol, const Position& p) const {  // mu_ held
    const double mult = symbols_.count(symbol) ? symbols_.at(symbol) : 1.0;
    const double mk = std::stod(mark(symbol));
    const double qty = static_cast<double>(p.qty);
    const double cost = qty * mult * p.entry, mark_value = qty * mult * mk;
    const std::int64_t t = kucoin_fake::now_ms();
    return R"({"id":"pos-)" + symbol + R"(","symbol":")" + symbol + R"(","autoDeposit":false,"crossMode":false,"delevPercentage":0,)"
           R"("openingTimestamp":)" + std::to_string(t) + R"(,"currentTimestamp":)" + std::to_string(t) + R"(,"currentQty":)" +
           std::to_string(p.qty) + R"(,"currentCost":)" + kucoin_fake::num(cost) + R"(,"currentComm":0,"realisedCost":0,"isOpen":)" +
           (p.qty != 0 ? "true" : "false") + R"(,"markPrice":)" + kucoin_fake::num(mk) + R"(,"markValue":)" + kucoin_fake::num(mark_value) +
           R"(,"posCost":)" + kucoin_fake::num(cost) + R"(,"realisedPnl":)" + kucoin_fake::num(p.realised) + R"(,"unrealisedPnl":)" +
           kucoin_fake::num(mark_value - cost) + R"(,"avgEntryPrice":)" + kucoin_fake::num(p.entry) +
           R"(,"settleCurrency":"USDT","isInverse":false,"marginMode":"ISOLATED","positionSide":"BOTH"})";
  }

  // ---- WebSocket connections ---------------------------------------------------------------------------------
  // Any path upgrades; what the token in the query was issued for is checked here and told once the
  // connection is open. mu_ held.
  bool on_upgrade(Session& s, const std::string& target) {
    const std::size_t q = target.find('?');
    const std::string path = target.substr(0, q);
    const auto params = kucoin_fake::parse_query(q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1));
    s.connect_id = params.count("connectId") ? params.at("connectId") : "";
    s.token_kind = 0;
    record(ws_targets_, target);
    if (path == "/endpoint" && params.count("token")) {
      const auto it = tokens_.find(params.at("token"));
      if (it != tokens_.end()) s.token_kind = it->second ? 2 : 1;
    }
    if (s.connect_id.empty()) s.connect_id = "c" + std::to_string(++anonymous_connects_);
    return true;
  }
  // The welcome, or for an unknown token the 401 error frame, after which the connection closes. mu_ held.
  std::vector<std::string> on_ws_open(Session& s, bool& refused) {
    if (s.token_kind == 0) {
      ++ws_refused_;
      refused = true;
      return {R"({"id":")" + kucoin_fake::json_escape(s.connect_id) + R"(","type":"error","code":401,"data":"token is invalid"})"};
    }
    s.private_token = s.token_kind == 2;
    ++ws_connections_;
    return {R"({"id":")" + kucoin_fake::json_escape(s.connect_id) + R"(","type":"welcome"})"};
  }

  // ---- WebSocket client frames -----------------------------------------------------------------------------
  std::vector<std::string> on_client_text(Session& s, const std::string& text) {  // mu_ held
    record(ws_received_, text);
    const auto j = kucoin_fake::parse_flat_json(text);
    std::string id = j && j->count("id") ? j->at("id").text : "";
    const auto idj = '"' + kucoin_fake::json_escape(id) + '"';
    const auto error = [&](int code, const char* what) {
      return std::vector<std::string>{R"({"id":)" + idj + R"(,"type":"error","code":)" + std::to_string(code) + R"(,"data":")" + what + R"("})"};
    };
    if (!j || !j->count("type")) return error(415, "command type is invalid");
    const std::string type = j->at("type").text;
    if (type == "ping") {
      ++pings_;
      if (!answer_pings_) return {};
      return {R"({"id":)" + idj + R"(,"type":"pong"})"};
    }
    if (type != "subscribe" && type != "unsubscribe") return error(415, "command type is invalid");
    const std::string topic = j->count("topic") ? j->at("topic").text : "";
    if (topic.empty()) return error(406, "topic is required");
    const bool ack = !j->count("response") || j->at("response").text == "true";
    const bool private_flag = j->count("privateChannel") && j->at("privateChannel").text == "true";
    static constexpr std::string_view kOrders = "/contractMarket/tradeOrders";
    const bool orders_topic = topic == kOrders || (topic.size() > kOrders.size() + 1 && topic.compare(0, kOrders.size() + 1, std::string(kOrders) + ":") == 0);
    const bool private_topic = orders_topic || topic.rfind("/contractAccount/", 0) == 0 || topic.rfind("/contract/position", 0) == 0 ||
                               topic == "/contractMarket/advancedOrders";
    if (private_topic && (!s.private_token || !private_flag)) return error(403, "login is required");
    if (topic == "/contractMarket/advancedOrders") s.stop_orders = type == "subscribe";
    if (orders_topic) {
      const std::string symbol = topic.size() > kOrders.size() ? topic.substr(kOrders.size() + 1) : "";
      if (type == "subscribe") {
        ++subscriptions_;
        if (symbol.empty()) s.orders_all = true;
        else s.order_symbols.insert(symbol);
      } else if (symbol.empty()) {
        s.orders_all = false;
      } else {
        s.order_symbols.erase(symbol);
      }
    }
    if (!ack) return {};
    return {R"({"id":)" + idj + R"(,"type":"ack"})"};
  }

  // ---- State -------------------------------------------------------------------------------------------------
  oms::HmacSha256 hmac_;
  std::string signed_passphrase_;
  std::mt19937_64 rng_{std::random_device{}()};

  std::map<std::string, double> symbols_;  // symbol -> multiplier
  venue_kit::BasicMarks<std::string> marks_{"60000"};  // the texts as set: a match price prints them back
  std::map<std::string, Order> orders_;
  std::vector<std::string> arrival_;  // client oids in arrival order
  std::map<std::string, Position> positions_;
  std::string balance_{"10000"};
  std::string permission_{"General,Futures"};
  venue_kit::BasicFees<std::string> fees_{"0.0006", "0.0002"};  // taker, maker: KuCoin Futures' base rates
  std::vector<Fill> fills_;
  int fill_parts_{1};
  std::uint64_t order_seq_{0}, trade_seq_{0};

  std::map<std::string, bool> tokens_;  // token -> private
  int ping_interval_ms_{18000}, ping_timeout_ms_{10000};
  bool answer_pings_{true};
  int anonymous_connects_{0};

  int rate_limit_{2000}, used_weight_{0};
  bool window_started_{false};
  std::chrono::steady_clock::time_point window_start_{};
  bool check_timestamp_{true};
  long long timestamp_window_ms_{5000};

  int rate_limit_next_{0}, fail_next_{0}, fail_status_{503}, silence_next_{0}, delay_ms_{0}, bullet_delay_ms_{0};
  bool lose_order_{false};
  int lose_order_status_{0};
  int reject_next_{0};
  std::string reject_code_, reject_msg_;

  std::map<std::string, int> requests_, refusals_by_code_;
  int auth_refusals_{0}, rate_limited_{0}, cancels_{0}, cancel_alls_{0}, stop_cancel_alls_{0}, queries_{0}, bullets_{0};
  int ws_connections_{0}, ws_refused_{0}, subscriptions_{0}, pings_{0}, stream_drops_{0};
  std::vector<std::string> bodies_, ws_targets_, ws_received_, pushed_;
};

}  // namespace enigma::testing
