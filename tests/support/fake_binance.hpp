// A Binance USD-M futures venue in miniature for `enigma live` against loopback (tests/engine/live_test.cpp,
// perf/live/bench_tick_to_wire.cpp): Beast, TLS with a self-signed certificate made at start, HTTPS
// POST/PUT /fapi/v1/listenKey, POST/DELETE/GET /fapi/v1/order, DELETE /fapi/v1/batchOrders and /fapi/v1/allOpenOrders,
// POST /fapi/v1/countdownCancelAll, GET /fapi/v1/openOrders, /fapi/v2/positionRisk, /fapi/v2/balance,
// /fapi/v1/commissionRate (the account's maker/taker rates, which price every fill's commission) and
// /sapi/v1/account/apiRestrictions, with the HMAC-SHA256 signature VERIFIED against the test secret (a bad one
// gets 401 -1022), the WebSocket API (binance_ws_api_venue.hpp) and a user-data WebSocket that pushes
// ORDER_TRADE_UPDATE NEW then TRADE for accepted limit and market orders.
// Header-only: two translation units use it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fixed_point.hpp"
#include "oms/signing.hpp"
#include "tests/support/binance_ws_api_venue.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/test_venue_account.hpp"
#include "tests/support/tls_test_venue.hpp"
#include "tests/support/venue_decimal_json.hpp"

namespace enigma::testing {

inline constexpr const char* kKey = "test-api-key-7c1f";
inline constexpr const char* kSecret = "test-secret-NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
// A test-only Ed25519 key pair (openssl genpkey -algorithm ed25519): the private key as the PEM's body line,
// the public key the venue "registered" for kEdApiKey.
inline constexpr const char* kEdApiKey = "test-ed25519-api-key-5d2e";
inline constexpr const char* kEdPrivate = "MC4CAQAwBQYDK2VwBCIEIDCx/LH8+eAP5HlakFV3JsxaSfbPyZj23iqaxfDi2PzF";
inline constexpr const char* kEdPublic = "MCowBQYDK2VwAyEACTwgfV38Z9Cf9k0mkTsRD86k3zQWgcXDypdYy4+leVY=";

inline std::map<std::string, std::string> parse_params(std::string_view s) {
  std::map<std::string, std::string> m;
  while (!s.empty()) {
    const std::size_t amp = s.find('&');
    const std::string_view kv = s.substr(0, amp);
    const std::size_t eq = kv.find('=');
    if (eq != std::string_view::npos) m[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    s.remove_prefix(amp + 1);
  }
  return m;
}

// A JSON list of strings as batchOrders takes it (["a","b"]); empty when it is not one.
inline std::vector<std::string> parse_id_list(std::string_view s) {
  std::vector<std::string> ids;
  if (s.size() < 2 || s.front() != '[' || s.back() != ']') return {};
  s = s.substr(1, s.size() - 2);
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    if (item.size() < 3 || item.front() != '"' || item.back() != '"') return {};
    ids.emplace_back(item.substr(1, item.size() - 2));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return ids;
}

namespace binance_fake {

// What the venue keeps of one WebSocket connection (guarded by the venue's mutex).
struct Connection {
  std::unique_ptr<WsApiVenueSession> api;  // set on a /ws-fapi/v1 connection
};

}  // namespace binance_fake

// A Binance USD-M futures venue in miniature: one io thread, keep-alive HTTPS and the user-data stream on
// the same port. Orders fill at once when they are LIMIT (at their price) or MARKET (at the last limit
// price); so do STOP_MARKET orders (at the last limit price: the position closes and the strategy can
// trade again), while TAKE_PROFIT_MARKET orders rest. Scripted answers by the order's 1-based arrival number.
class FakeBinance : public TlsTestVenue<FakeBinance, binance_fake::Connection> {
  friend class TlsTestVenue<FakeBinance, binance_fake::Connection>;

 public:
  struct Order {
    std::string client_id, side, type, qty, price;
    std::uint64_t id{0};
    std::string status{"NEW"};
    std::string commission{"0"};  // what the venue charged for its fill (USDT), once FILLED
    std::string filled_at;        // its fill's price, once FILLED
    bool reduce_only{false};
  };
  // One fill the venue made (each order fills whole here), with the commission it charged.
  struct Fill {
    std::string client_id, qty, price, commission;
    bool maker{false};
  };

  // No connection cap or handshake timeout here, and every REST answer keeps the connection (as this venue
  // always did).
  FakeBinance()
      : TlsTestVenue(fresh_path("ca") + ".pem",
                     {.max_connections = 0, .handshake_timeout = false, .always_keep_alive = true}),
        hmac_(kSecret) {
    start_serving();
  }
  ~FakeBinance() { stop_serving(); }

  // port(), rest_url() and ca_file() come with the transport (tls_test_venue.hpp).
  [[nodiscard]] std::string ws_url() const { return "wss://127.0.0.1:" + std::to_string(port()) + "/ws"; }
  [[nodiscard]] std::string ws_api_url() const { return "wss://127.0.0.1:" + std::to_string(port()) + "/ws-fapi/v1"; }
  // WebSocket API order entry: requests handed to the order book, accepted session.logons, connections.
  int ws_api_requests() const { std::lock_guard lk(mu_); return ws_api_requests_; }
  int ws_api_logons() const { std::lock_guard lk(mu_); return ws_api_logons_; }
  int ws_api_connections() const { std::lock_guard lk(mu_); return ws_api_connections_; }
  // The next WebSocket-API request is carried out (an order is booked) but its answer is lost: the venue
  // closes that connection instead of answering.
  void lose_next_ws_api_answer() { std::lock_guard lk(mu_); lose_ws_api_answer_ = true; }
  // Connections accepted from now on wait `ms` before their TLS handshake (a slow venue edge); the venue's
  // io thread serves the others meanwhile.
  void delay_handshakes(int ms) { std::lock_guard lk(mu_); handshake_delay_ms_ = ms; }

  // The n-th POST /fapi/v1/order (1-based) is answered with HTTP `status` and Binance `code` instead;
  // status 0: the venue books the order and never answers that request (the connection stays open).
  void script(int n, int status, int code) {
    std::lock_guard lk(mu_);
    scripted_[n] = {status, code};
  }
  int posts() const { std::lock_guard lk(mu_); return posts_; }
  // The shared live suite's faults (tests/support/live_suite.hpp), as scripts of the next new orders: refused
  // for margin (-2019), or booked with the answer lost (`status`, 5xx).
  void reject_next_orders(int n) {
    std::lock_guard lk(mu_);
    for (int i = 1; i <= n; ++i) scripted_[posts_ + i] = {400, -2019};
  }
  void lose_next_order_answer(int status) {
    std::lock_guard lk(mu_);
    scripted_[posts_ + 1] = {status, -1000};
  }
  // The venue's recvWindow rule on order requests (REST and WebSocket API): a timestamp more than
  // min(recvWindow, `ms`) old, or over 1 s ahead, is refused with -1021. Off by default (0): most tests sign
  // with a fixed 2024 timestamp.
  void set_timestamp_window_ms(long long ms) { std::lock_guard lk(mu_); timestamp_window_ms_ = ms; }
  int stale_timestamps() const { std::lock_guard lk(mu_); return stale_timestamps_; }
  // Answers without the X-MBX-* counters (they count since the venue started, not per window): for a test
  // that gives the gateway a budget of its own.
  void set_limit_headers(bool on) { std::lock_guard lk(mu_); limit_headers_ = on; }
  // Rate limits as Binance answers them: every REST answer carries X-MBX-USED-WEIGHT-1M (the weight this
  // venue counted, by each endpoint's documented weight) and X-MBX-ORDER-COUNT-10S/-1M; a scripted 429 or
  // 418 carries Retry-After: `retry_after_s`. Arrival times of the POSTs and of the last 429/418 answer.
  void set_retry_after(int s) { std::lock_guard lk(mu_); retry_after_s_ = s; }
  int used_weight() const { std::lock_guard lk(mu_); return used_weight_ + foreign(); }
  // Weight other sessions on the same IP spent: added to what the headers report once `from_post` new
  // orders arrived (the answer to that POST carries it already).
  void set_foreign_weight(int w, int from_post) {
    std::lock_guard lk(mu_);
    foreign_weight_ = w;
    foreign_from_post_ = from_post;
  }
  std::vector<std::chrono::steady_clock::time_point> post_times() const { std::lock_guard lk(mu_); return post_times_; }
  std::chrono::steady_clock::time_point limited_at() const { std::lock_guard lk(mu_); return limited_at_; }
  // GET /sapi/v1/account/apiRestrictions (signed): what the key may do, and how often it was asked.
  void set_key_can_withdraw(bool on) { std::lock_guard lk(mu_); key_can_withdraw_ = on; }
  int restriction_queries() const { std::lock_guard lk(mu_); return restriction_queries_; }
  int deletes() const { std::lock_guard lk(mu_); return deletes_; }
  int cancel_alls() const { std::lock_guard lk(mu_); return cancel_alls_; }
  // DELETE /fapi/v1/batchOrders: the client ids of each batch cancel, in arrival order.
  std::vector<std::vector<std::string>> batch_cancels() const { std::lock_guard lk(mu_); return batch_cancels_; }
  // LIMIT orders that are not IOC/FOK rest (NEW) instead of filling at once: entries priced at a book level.
  void set_rest_limits(bool on) { std::lock_guard lk(mu_); rest_limits_ = on; }
  std::vector<long long> countdowns() const { std::lock_guard lk(mu_); return countdowns_; }
  int queries() const { std::lock_guard lk(mu_); return queries_; }
  int bad_signatures() const { std::lock_guard lk(mu_); return bad_signatures_; }
  int listen_keys() const { std::lock_guard lk(mu_); return listen_keys_; }
  int listen_key_puts() const { std::lock_guard lk(mu_); return listen_key_puts_; }
  // The venue forgets the key: the next PUT is answered 400 -1125 and a POST creates a new key.
  void expire_listen_key() { std::lock_guard lk(mu_); listen_key_expired_ = true; }
  // listenKey answers (POST and PUT) are written `ms` after the request arrived (the io thread serves the
  // other connections meanwhile).
  void delay_listen_key_answers(int ms) { std::lock_guard lk(mu_); listen_key_delay_ms_ = ms; }
  // The target of the last user-data stream connection ("/ws/<listenKey>").
  std::string last_stream_target() const { std::lock_guard lk(mu_); return last_stream_target_; }
  bool stream_open() const { std::lock_guard lk(mu_); return stream_ != nullptr; }
  std::vector<std::string> bodies() const { std::lock_guard lk(mu_); return bodies_; }
  std::map<std::string, Order> orders() const { std::lock_guard lk(mu_); return orders_; }
  // Start-up reconciliation: STOP_MARKET orders rest (instead of filling at once) so a bracket stays
  // working; the account's net position (from fills) and wallet balance; changes made while the engine was
  // down (an order of ours filled, an order someone else placed).
  void set_rest_stops(bool on) { std::lock_guard lk(mu_); rest_stops_ = on; }
  // The account's commission rates (GET /fapi/v1/commissionRate): a fill is charged its value at the maker
  // rate for a LIMIT order, the taker rate for any other.
  void set_commission_rates(std::string maker, std::string taker) {
    std::lock_guard lk(mu_);
    fees_.maker = std::move(maker);
    fees_.taker = std::move(taker);
  }
  int commission_rate_queries() const { std::lock_guard lk(mu_); return commission_rate_queries_; }
  std::string position() const { std::lock_guard lk(mu_); return position_.to_string(); }
  void set_balance(std::string b) { std::lock_guard lk(mu_); balance_ = std::move(b); }
  int open_order_queries() const { std::lock_guard lk(mu_); return open_order_queries_; }
  // Closes the user-data stream's connection (the client reconnects); nothing is pushed until it does.
  void drop_stream() {
    std::shared_ptr<Session> s;
    {
      std::lock_guard lk(mu_);
      s = std::move(stream_);
      stream_ = nullptr;
    }
    if (s) net::post(io_, [s] {
      error_code ec;
      beast::get_lowest_layer(s->tls).socket().close(ec);
    });
  }
  void drop_streams() { drop_stream(); }
  int stream_accepts() const { std::lock_guard lk(mu_); return stream_accepts_; }
  // A resting LIMIT order fills (maker), pushed on the user-data stream when it is connected. False when no
  // such order rests.
  bool fill_resting(const std::string& client_id) {
    std::lock_guard lk(mu_);
    const auto it = orders_.find(client_id);
    if (it == orders_.end() || it->second.status != "NEW" || it->second.type != "LIMIT") return false;
    Order& o = it->second;
    o.status = "FILLED";
    book_fill(o);
    if (stream_) stream_->push(update(o, "TRADE", "FILLED", o.qty, fill_px(o), o.commission.c_str(), true));
    return true;
  }
  std::vector<Fill> fills() const { std::lock_guard lk(mu_); return fills_; }
  void fill_while_down(const std::string& client_id) {
    std::lock_guard lk(mu_);
    Order& o = orders_.at(client_id);
    o.status = "FILLED";
    book_fill(o);
  }
  std::uint64_t add_foreign_order(const std::string& client_id) {
    std::lock_guard lk(mu_);
    Order o{client_id, "BUY", "LIMIT", "0.005", "50000.0", next_id_++};
    orders_[client_id] = o;
    return o.id;
  }

 private:
  using Session = TlsTestVenue::Session;

  // ---- The transport's hooks (tls_test_venue.hpp) --------------------------------------------------------------
  int handshake_delay_ms() const {
    std::lock_guard lk(mu_);
    return handshake_delay_ms_;
  }
  // A REST request: answered (with the X-MBX-* counters), silenced by silence_next_answer(), or delayed when it
  // is a listenKey request.
  Response serve(const Request& rq, bool& silent, int& delay_ms) {
    Response r = serve(rq);
    {
      std::lock_guard lk(mu_);
      silent = std::exchange(silence_answer_, false);
    }
    if (silent) return r;
    add_limit_headers(r);
    if (rq.target().starts_with("/fapi/v1/listenKey")) {
      std::lock_guard lk(mu_);
      delay_ms = listen_key_delay_ms_;
    }
    return r;
  }
  // Every path upgrades: /ws-fapi/v1 is the WebSocket API, anything else the user-data stream. mu_ held.
  bool on_upgrade(Session& s, const std::string& target) {
    if (target.starts_with("/ws-fapi/v1")) {
      s.api = std::make_unique<WsApiVenueSession>(
          ws_api_keys_, [this](std::string_view verb, const std::map<std::string, std::string>& p, const std::string& text) {
            const http::verb m = verb == "POST" ? http::verb::post : verb == "DELETE" ? http::verb::delete_ : http::verb::get;
            if (verb == "PUT") return std::pair<int, std::string>{400, R"({"code":-1102,"msg":"order.modify: not in this venue"})"};
            const auto r = order_endpoint(m, p, text, false, false);  // mu_ is held by on_client_text
            return std::pair<int, std::string>{static_cast<int>(r.result_int()), r.body()};
          });
    }
    return true;
  }
  // The newest user-data connection is the one pushed to. mu_ held.
  std::vector<std::string> on_ws_open(Session& s) {
    if (s.api) {
      ++ws_api_connections_;
    } else {
      stream_ = s.shared_from_this();
      ++stream_accepts_;
      last_stream_target_ = std::string(s.req.target());
    }
    return {};
  }
  // One ws-fapi request -> its answer (the user-data stream's client frames get none). mu_ held.
  std::vector<std::string> on_client_text(Session& s, const std::string& text) {
    if (!s.api) return {};
    const int bad = s.api->bad_signatures, logons = s.api->logons, reqs = s.api->requests;
    std::string out = s.api->handle(text);
    bad_signatures_ += s.api->bad_signatures - bad;
    ws_api_logons_ += s.api->logons - logons;
    ws_api_requests_ += s.api->requests - reqs;
    if (lose_ws_api_answer_ && s.api->requests > reqs) {
      lose_ws_api_answer_ = false;
      error_code ignored;
      beast::get_lowest_layer(s.tls).socket().close(ignored);
      return {};
    }
    return {std::move(out)};
  }

  static http::response<http::string_body> answer(int status, std::string body) {
    http::response<http::string_body> r{static_cast<http::status>(status), 11};
    r.set(http::field::content_type, "application/json");
    r.body() = std::move(body);
    return r;
  }

  // True when `params` ends with &signature=<hex HMAC-SHA256 of everything before it>.
  bool signed_ok(std::string_view params) const {
    const std::size_t at = params.rfind("&signature=");
    if (at == std::string_view::npos) return false;
    unsigned char mac[oms::kSha256Size];
    hmac_.sign(params.substr(0, at), mac);
    char hex[oms::kSha256HexSize];
    oms::hex_encode(mac, sizeof mac, hex);
    return params.substr(at + 11) == std::string_view(hex, sizeof hex);
  }

  std::string order_json(const Order& o) const {
    return R"({"orderId":)" + std::to_string(o.id) + R"(,"symbol":"BTCUSDT","status":")" + o.status +
           R"(","clientOrderId":")" + o.client_id + R"(","price":")" + o.price + R"(","avgPrice":")" + (o.status == "FILLED" ? fill_px(o) : std::string("0.00")) +
           R"(","origQty":")" + o.qty + R"(","executedQty":")" + (o.status == "FILLED" ? o.qty : std::string("0")) +
           R"(","cumQuote":")" + (o.status == "FILLED" ? decimal(value_of(o)) : std::string("0")) + R"(","timeInForce":"GTC","type":")" + o.type +
           R"(","reduceOnly":false,"side":")" + o.side + R"(","stopPrice":"0","origType":")" + o.type +
           R"(","updateTime":1723075200123})";
  }
  std::string fill_px(const Order& o) const { return !o.filled_at.empty() ? o.filled_at : o.type == "LIMIT" ? o.price : last_px_; }
  // Books the order's fill into the position and charges its commission. mu_ held.
  void book_fill(Order& o) {
    const Qty q = Qty::parse(o.qty).value;
    position_ += o.side == "BUY" ? q : -q;
    o.filled_at = fill_px(o);
    o.commission = decimal(value_of(o) * std::stold(fees_.rate(o.type == "LIMIT")));
    fills_.push_back({o.client_id, o.qty, o.filled_at, o.commission, o.type == "LIMIT"});
  }
  long double value_of(const Order& o) const { return std::stold(o.qty) * std::stold(fill_px(o)); }
  static std::string decimal(long double x) {
    char b[64];
    std::snprintf(b, sizeof b, "%.8Lf", x);
    return b;
  }
  std::string update(const Order& o, const char* x, const char* X, const std::string& last_qty,
                     const std::string& last_px, const char* commission, bool maker) {
    return R"({"e":"ORDER_TRADE_UPDATE","T":1723075200200,"E":1723075200201,"o":{"s":"BTCUSDT","c":")" + o.client_id +
           R"(","S":")" + o.side + R"(","o":")" + o.type + R"(","f":"GTC","q":")" + o.qty + R"(","p":")" + o.price +
           R"(","ap":"0","sp":"0","x":")" + x + R"(","X":")" + X + R"(","i":)" + std::to_string(o.id) + R"(,"l":")" +
           last_qty + R"(","z":")" + last_qty + R"(","L":")" + last_px + R"(","N":"USDT","n":")" + commission +
           R"(","T":1723075200200,"t":)" + std::to_string(++trade_id_) + R"(,"b":"0","a":"0","m":)" +
           (maker ? "true" : "false") + R"(,"R":false,"wt":"CONTRACT_PRICE","ot":")" + o.type +
           R"(","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0}})";
  }

  void add_limit_headers(http::response<http::string_body>& r) {
    std::lock_guard lk(mu_);
    if (limit_headers_) {
      r.set("X-MBX-USED-WEIGHT-1M", std::to_string(used_weight_ + foreign()));
      r.set("X-MBX-ORDER-COUNT-10S", std::to_string(posts_));
      r.set("X-MBX-ORDER-COUNT-1M", std::to_string(posts_));
    }
    if (r.result_int() == 429 || r.result_int() == 418) {
      r.set(http::field::retry_after, std::to_string(retry_after_s_));
      limited_at_ = std::chrono::steady_clock::now();
    }
  }

  // The documented REQUEST_WEIGHT of a USD-M endpoint (a new order weighs 0 there: it counts as an order).
  static int weight_of(http::verb m, const std::string& target) {
    if (target.rfind("/fapi/v1/order", 0) == 0) return m == http::verb::post ? 0 : 1;
    if (target.rfind("/fapi/v1/countdownCancelAll", 0) == 0) return 10;
    if (target.rfind("/fapi/v2/positionRisk", 0) == 0 || target.rfind("/fapi/v2/balance", 0) == 0) return 5;
    if (target.rfind("/fapi/v1/commissionRate", 0) == 0) return 20;
    if (target.rfind("/fapi/v1/openOrders", 0) == 0) return target.find("symbol=") == std::string::npos ? 40 : 1;
    return 1;
  }

  http::response<http::string_body> serve(const http::request<http::string_body>& rq) {
    std::lock_guard lk(mu_);
    const std::string target(rq.target());
    const bool key_ok = rq["X-MBX-APIKEY"] == kKey;
    used_weight_ += weight_of(rq.method(), target);
    if (target.rfind("/sapi/v1/account/apiRestrictions", 0) == 0) {  // api.binance.com in reality
      const std::size_t q = target.find('?');
      if (!key_ok || q == std::string::npos || !signed_ok(target.substr(q + 1))) {
        ++bad_signatures_;
        return answer(401, R"({"code":-1022,"msg":"Signature for this request is not valid."})");
      }
      ++restriction_queries_;
      const char* w = key_can_withdraw_ ? "true" : "false";
      return answer(200, std::string(R"({"ipRestrict":false,"createTime":1698645219000,"enableReading":true,"enableWithdrawals":)") + w +
                             R"(,"enableInternalTransfer":false,"enableMargin":false,"enableFutures":true,"permitsUniversalTransfer":false,)"
                             R"("enableVanillaOptions":false,"enableFixApiTrade":false,"enableFixReadOnly":false,"enableSpotAndMarginTrading":false,)"
                             R"("enablePortfolioMarginTrading":false})");
    }
    if (target.rfind("/fapi/v1/listenKey", 0) == 0) {
      if (!key_ok) return answer(401, R"({"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."})");
      ++listen_keys_;
      if (rq.method() == http::verb::put) {
        ++listen_key_puts_;
        if (std::exchange(listen_key_expired_, false)) {
          ++listen_key_generation_;
          return answer(400, R"({"code":-1125,"msg":"This listenKey does not exist."})");
        }
        return answer(200, "{}");
      }
      return answer(200, R"({"listenKey":"lk0123456789abcdef)" +
                             (listen_key_generation_ == 0 ? std::string() : std::to_string(listen_key_generation_)) + "\"}");
    }
    const bool account = target.rfind("/fapi/v1/openOrders", 0) == 0 || target.rfind("/fapi/v2/positionRisk", 0) == 0 ||
                         target.rfind("/fapi/v2/balance", 0) == 0 || target.rfind("/fapi/v1/commissionRate", 0) == 0;
    if (account) {  // signed account queries of the start-up reconciliation
      const std::size_t q = target.find('?');
      if (!key_ok || q == std::string::npos || !signed_ok(target.substr(q + 1))) {
        ++bad_signatures_;
        return answer(401, R"({"code":-1022,"msg":"Signature for this request is not valid."})");
      }
      if (target.rfind("/fapi/v1/openOrders", 0) == 0) {
        ++open_order_queries_;
        std::string body = "[";
        for (const auto& [id, o] : orders_)
          if (o.status == "NEW") body += (body.size() > 1 ? "," : "") + order_json(o);
        return answer(200, body + "]");
      }
      if (target.rfind("/fapi/v1/commissionRate", 0) == 0) {
        const std::string symbol = parse_params(target.substr(q + 1))["symbol"];
        if (symbol != "BTCUSDT") return answer(400, R"({"code":-1121,"msg":"Invalid symbol."})");
        ++commission_rate_queries_;
        return answer(200, R"({"symbol":"BTCUSDT","makerCommissionRate":")" + fees_.maker + R"(","takerCommissionRate":")" +
                               fees_.taker + R"("})");
      }
      if (target.rfind("/fapi/v2/positionRisk", 0) == 0) {
        return answer(200, R"([{"symbol":"ETHUSDT","positionAmt":"0.000","entryPrice":"0.0"},{"symbol":"BTCUSDT","positionAmt":")" +
                               position_.to_string() + R"(","entryPrice":")" + last_px_ + R"(","markPrice":")" + last_px_ +
                               R"(","unRealizedProfit":"0","leverage":"5","positionSide":"BOTH"}])");
      }
      return answer(200, R"([{"accountAlias":"x","asset":"BNB","balance":"1.5"},{"accountAlias":"x","asset":"USDT","balance":")" +
                             balance_ + R"(","crossWalletBalance":")" + balance_ + R"(","availableBalance":")" + balance_ + R"("}])");
    }
    const bool all_open = target.rfind("/fapi/v1/allOpenOrders", 0) == 0;
    const bool countdown = target.rfind("/fapi/v1/countdownCancelAll", 0) == 0;
    const bool batch = target.rfind("/fapi/v1/batchOrders", 0) == 0 && rq.method() == http::verb::delete_;
    if (target.rfind("/fapi/v1/order", 0) != 0 && !all_open && !countdown && !batch)
      return answer(404, R"({"code":-1,"msg":"no such endpoint"})");
    const std::size_t q = target.find('?');
    const std::string params = rq.method() == http::verb::post ? rq.body() : q == std::string::npos ? "" : target.substr(q + 1);
    if (!key_ok || !signed_ok(params)) {
      ++bad_signatures_;
      return answer(401, R"({"code":-1022,"msg":"Signature for this request is not valid."})");
    }
    if (batch) return batch_cancel(parse_params(params));
    return order_endpoint(rq.method(), parse_params(params), params, all_open, countdown);
  }

  // POST / DELETE / GET /fapi/v1/order, allOpenOrders and countdownCancelAll after authentication (REST, and
  // the WebSocket API's order.place / order.cancel / order.status). `params` as a REST body. mu_ held.
  http::response<http::string_body> order_endpoint(http::verb method, std::map<std::string, std::string> p,
                                                   const std::string& params, bool all_open, bool countdown) {
    if (p["symbol"] != "BTCUSDT" || p["timestamp"].empty()) return answer(400, R"({"code":-1102,"msg":"Mandatory parameter missing."})");
    if (timestamp_window_ms_ > 0) {
      const long long now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch()).count();
      const long long window = std::min(timestamp_window_ms_, p.count("recvWindow") ? std::atoll(p["recvWindow"].c_str()) : 5000LL);
      const long long ts = std::atoll(p["timestamp"].c_str());
      if (ts > now_ms + 1000 || now_ms - ts > window) {
        ++stale_timestamps_;
        return answer(400, R"({"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."})");
      }
    }
    if (countdown) {  // the dead-man switch: remember each countdown the client set
      countdowns_.push_back(std::stoll(p["countdownTime"]));
      return answer(200, R"({"symbol":"BTCUSDT","countdownTime":")" + p["countdownTime"] + R"("})");
    }
    if (all_open) {  // DELETE allOpenOrders: every resting order of the symbol, one CANCELED event each
      ++cancel_alls_;
      for (auto& [id, o] : orders_) {
        if (o.status != "NEW") continue;
        o.status = "CANCELED";
        if (stream_) stream_->push(update(o, "CANCELED", "CANCELED", "0", "0", "0", false));
      }
      return answer(200, R"({"code":200,"msg":"The operation of cancel all open order is done."})");
    }
    if (method == http::verb::post) {
      bodies_.push_back(params);
      post_times_.push_back(std::chrono::steady_clock::now());
      const int n = ++posts_;
      Order o{p["newClientOrderId"], p["side"], p["type"], p["quantity"], p.count("price") ? p["price"] : "0", next_id_++};
      o.reduce_only = p["reduceOnly"] == "true";
      if (auto it = scripted_.find(n); it != scripted_.end()) {
        if (it->second.first == 0) {
          orders_[o.client_id] = o;  // booked, resting; the answer never comes
          silence_answer_ = true;
          return answer(200, order_json(o));
        }
        if (it->second.first >= 500) {
          orders_[o.client_id] = o;  // the venue took it, but the answer is lost: only a query tells
          return answer(it->second.first, R"({"code":-1000,"msg":"An unknown error occurred while processing the request."})");
        }
        const char* msg = it->second.first == 429 || it->second.first == 418 ? "Too many requests; please use the websocket for live updates."
                                                                            : "Margin is insufficient.";
        return answer(it->second.first, R"({"code":)" + std::to_string(it->second.second) + R"(,"msg":")" + msg + R"("})");
      }
      orders_[o.client_id] = o;
      if (o.type == "LIMIT") last_px_ = o.price;
      if (stream_) {
        stream_->push(update(o, "NEW", "NEW", "0", "0", "0", false));
        stream_->push(R"({"e":"ACCOUNT_UPDATE","E":1723075200202,"T":1723075200200,"a":{"m":"ORDER","B":[],"P":[]}})");
        const bool resting_limit = rest_limits_ && o.type == "LIMIT" && p["timeInForce"] != "IOC" && p["timeInForce"] != "FOK";
        if (o.type != "TAKE_PROFIT_MARKET" && !(rest_stops_ && o.type == "STOP_MARKET") && !resting_limit) {
          Order& f = orders_[o.client_id];
          f.status = "FILLED";
          book_fill(f);
          stream_->push(update(f, "TRADE", "FILLED", f.qty, fill_px(f), f.commission.c_str(), f.type == "LIMIT"));
        }
      }
      return answer(200, order_json(o));
    }
    auto it = orders_.find(p["origClientOrderId"]);
    if (p.count("orderId") != 0)  // cancel / query by the venue's order id (orders we never sent)
      it = std::find_if(orders_.begin(), orders_.end(), [&](const auto& kv) { return std::to_string(kv.second.id) == p["orderId"]; });
    if (method == http::verb::delete_) {
      ++deletes_;
      if (it == orders_.end() || it->second.status != "NEW") return answer(400, R"({"code":-2011,"msg":"Unknown order sent."})");
      it->second.status = "CANCELED";
      if (stream_) stream_->push(update(it->second, "CANCELED", "CANCELED", "0", "0", "0", false));
      return answer(200, order_json(it->second));
    }
    ++queries_;
    if (it == orders_.end()) return answer(400, R"({"code":-2013,"msg":"Order does not exist."})");
    return answer(200, order_json(it->second));
  }

  // DELETE /fapi/v1/batchOrders after authentication: one result per listed id, in the list's order (the
  // cancelled order's JSON, or -2011 for an order that does not rest here). mu_ held.
  http::response<http::string_body> batch_cancel(std::map<std::string, std::string> p) {
    if (p["symbol"] != "BTCUSDT" || p["timestamp"].empty()) return answer(400, R"({"code":-1102,"msg":"Mandatory parameter missing."})");
    const std::vector<std::string> ids = parse_id_list(venue_text::url_decode(p["origClientOrderIdList"]));
    if (ids.empty() || ids.size() > 10)
      return answer(400, R"({"code":-1130,"msg":"Data sent for parameter 'origClientOrderIdList' is not valid."})");
    batch_cancels_.push_back(ids);
    std::string body = "[";
    for (const std::string& id : ids) {
      if (body.size() > 1) body += ',';
      auto it = orders_.find(id);
      if (it == orders_.end() || it->second.status != "NEW") {
        body += R"({"code":-2011,"msg":"Unknown order sent."})";
        continue;
      }
      it->second.status = "CANCELED";
      if (stream_) stream_->push(update(it->second, "CANCELED", "CANCELED", "0", "0", "0", false));
      body += order_json(it->second);
    }
    return answer(200, body + "]");
  }

  oms::HmacSha256 hmac_;
  std::shared_ptr<Session> stream_;
  std::map<int, std::pair<int, int>> scripted_;
  std::map<std::string, Order> orders_;
  std::vector<std::string> bodies_;
  std::string last_px_{"60000.0"};
  std::uint64_t next_id_{4000001};
  std::uint64_t trade_id_{700};
  int posts_{0}, deletes_{0}, queries_{0}, bad_signatures_{0}, listen_keys_{0}, cancel_alls_{0};
  long long timestamp_window_ms_{0};
  bool limit_headers_{true};
  int stale_timestamps_{0};
  std::vector<std::vector<std::string>> batch_cancels_;
  bool rest_limits_{false};
  std::vector<long long> countdowns_;
  bool rest_stops_{false};
  Qty position_{};
  std::string balance_{"1000"};
  // USD-M's base rates (taker, maker): the shared kit's fee rates (tests/support/test_venue_account.hpp), kept
  // as the texts GET /fapi/v1/commissionRate prints. The rest of the kit is not used here: this venue has no
  // mark or matching rule (an order fills whole at its own limit price, a market one at the last limit price)
  // and keeps no entry price, only the net quantity (an exact Qty).
  venue_kit::BasicFees<std::string> fees_{"0.0005", "0.0002"};
  std::vector<Fill> fills_;
  int commission_rate_queries_{0};
  int open_order_queries_{0};
  int stream_accepts_{0};
  int listen_key_puts_{0}, listen_key_generation_{0}, listen_key_delay_ms_{0};
  bool listen_key_expired_{false};
  std::string last_stream_target_;
  int ws_api_requests_{0}, ws_api_logons_{0}, ws_api_connections_{0};
  bool lose_ws_api_answer_{false};
  int handshake_delay_ms_{0};
  bool silence_answer_{false};
  int foreign() const { return posts_ >= foreign_from_post_ ? foreign_weight_ : 0; }  // mu_ held
  int used_weight_{0}, foreign_weight_{0}, foreign_from_post_{0}, retry_after_s_{1}, restriction_queries_{0};
  bool key_can_withdraw_{false};
  std::vector<std::chrono::steady_clock::time_point> post_times_;
  std::chrono::steady_clock::time_point limited_at_{};
  enigma::testing::WsApiVenueKeys ws_api_keys_{kKey, kSecret, kEdApiKey, kEdPublic};
};

}  // namespace enigma::testing
