// The Bybit V5 venue in miniature (tests/support/fake_bybit.hpp) driven over TLS on loopback by requests this
// suite builds and signs itself (oms::HmacSha256 + hex), independently of our Bybit encoder: it checks
// signatures and timestamps as Bybit does, matches against a mark price with Bybit's fees, pushes order /
// execution / position on the authenticated private WebSocket, limits rates with Bybit's headers, cancels on
// DCP and injects the faults the live tests need. Expectations are computed by hand; every wait is bounded.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "oms/signing.hpp"
#include "tests/support/fake_bybit.hpp"

namespace enigma::testing {
namespace {

using namespace std::chrono_literals;

struct Reply {
  int status{0};
  std::string body;
  http::fields headers;
};

// One keep-alive TLS connection that writes requests byte for byte and reads the answers; the venue's
// certificate is trusted through its CA file. Each step is bounded by `timeout` (3 s by default).
class RestConn {
 public:
  RestConn(std::uint16_t port, const std::string& ca_file, std::chrono::milliseconds timeout = 3s) : timeout_(timeout) {
    ctx_.load_verify_file(ca_file);
    ctx_.set_verify_mode(ssl::verify_peer);
    error_code ec = net::error::would_block;
    beast::get_lowest_layer(tls_).expires_after(timeout_);
    beast::get_lowest_layer(tls_).async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                                [&](error_code e) { ec = e; });
    run();
    if (ec) throw std::runtime_error("connect: " + ec.message());
    ec = net::error::would_block;
    tls_.async_handshake(ssl::stream_base::client, [&](error_code e) { ec = e; });
    run();
    if (ec) throw std::runtime_error("TLS handshake: " + ec.message());
  }
  Reply send(std::string_view raw) {
    error_code ec = net::error::would_block;
    beast::get_lowest_layer(tls_).expires_after(timeout_);
    net::async_write(tls_, net::buffer(raw), [&](error_code e, std::size_t) { ec = e; });
    run();
    if (ec) throw std::runtime_error("write: " + ec.message());
    http::response<http::string_body> res;
    ec = net::error::would_block;
    beast::get_lowest_layer(tls_).expires_after(timeout_);
    http::async_read(tls_, buf_, res, [&](error_code e, std::size_t) { ec = e; });
    run();
    if (ec) throw std::runtime_error("read: " + ec.message());
    Reply r{static_cast<int>(res.result_int()), res.body(), {}};
    for (const auto& f : res) r.headers.set(f.name_string(), f.value());
    return r;
  }

 private:
  void run() {
    ioc_.restart();
    ioc_.run();
  }
  std::chrono::milliseconds timeout_;
  net::io_context ioc_;
  ssl::context ctx_{ssl::context::tls_client};
  beast::ssl_stream<beast::tcp_stream> tls_{ioc_, ctx_};
  beast::flat_buffer buf_;
};

// The private stream as a plain Beast client: connect to /v5/private, then read frames with a deadline each.
class PrivateStream {
 public:
  PrivateStream(std::uint16_t port, const std::string& ca_file, const std::string& target = "/v5/private") {
    ctx_.load_verify_file(ca_file);
    ctx_.set_verify_mode(ssl::verify_peer);
    error_code ec = net::error::would_block;
    beast::get_lowest_layer(ws_).expires_after(3s);
    beast::get_lowest_layer(ws_).async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                               [&](error_code e) { ec = e; });
    run();
    if (ec) throw std::runtime_error("connect: " + ec.message());
    ec = net::error::would_block;
    ws_.next_layer().async_handshake(ssl::stream_base::client, [&](error_code e) { ec = e; });
    run();
    if (ec) throw std::runtime_error("TLS handshake: " + ec.message());
    ec = net::error::would_block;
    ws_.async_handshake("127.0.0.1:" + std::to_string(port), target, [&](error_code e) { ec = e; });
    run();
    if (ec) throw std::runtime_error("WebSocket upgrade: " + ec.message());
    beast::get_lowest_layer(ws_).expires_never();
  }
  // The next text frame, or nothing within `ms` / when the connection ended (the stream is unusable then).
  std::optional<std::string> next(int ms = 3000) {
    if (dead_) return std::nullopt;
    error_code ec = net::error::would_block;
    beast::flat_buffer buf;
    ws_.async_read(buf, [&](error_code e, std::size_t) { ec = e; });
    ioc_.restart();
    ioc_.run_for(std::chrono::milliseconds(ms));
    if (ec == net::error::would_block) {  // timed out: cancel and let the read finish
      beast::get_lowest_layer(ws_).cancel();
      ioc_.restart();
      ioc_.run();
      dead_ = true;
      return std::nullopt;
    }
    if (ec) {
      dead_ = true;
      return std::nullopt;
    }
    return beast::buffers_to_string(buf.data());
  }
  void send(const std::string& text) {
    error_code ec = net::error::would_block;
    ws_.async_write(net::buffer(text), [&](error_code e, std::size_t) { ec = e; });
    ioc_.restart();
    ioc_.run_for(3s);
    if (ec) throw std::runtime_error("ws write: " + ec.message());
  }

 private:
  void run() {
    ioc_.restart();
    ioc_.run();
  }
  net::io_context ioc_;
  ssl::context ctx_{ssl::context::tls_client};
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws_{ioc_, ctx_};
  bool dead_{false};
};

std::int64_t now_ms() { return bybit_fake::now_ms(); }

// Lowercase hex HMAC-SHA256 of `msg` with `secret`, computed here, not by the venue's helper.
std::string sign(std::string_view secret, std::string_view msg) {
  const oms::HmacSha256 h(secret);
  unsigned char mac[oms::kSha256Size];
  h.sign(msg, mac);
  char hex[oms::kSha256HexSize];
  oms::hex_encode(mac, sizeof mac, hex);
  return {hex, sizeof hex};
}

// The string value of "key" in a JSON text ("" when absent; the first one).
std::string field(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return m[1];
  return {};
}
// The raw (unquoted) value of "key": numbers, true/false/null.
std::string raw_field(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":([^,}\\]\"]*)"))) return m[1];
  return {};
}
int count_of(const std::string& s, const std::string& needle) {
  int n = 0;
  for (std::size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

// How a request is signed; the defaults are Bybit's correct way with the test key.
struct SignAs {
  std::string key{kBybitKey};
  std::string secret{kBybitSecret};
  std::int64_t ts_offset_ms{0};
  std::string recv_window{"5000"};
  std::optional<std::string> signed_payload;  // sign this instead of what is sent
};
SignAs with_secret(std::string secret) {
  SignAs a;
  a.secret = std::move(secret);
  return a;
}
SignAs with_key(std::string key) {
  SignAs a;
  a.key = std::move(key);
  return a;
}
SignAs aged(std::int64_t offset_ms, std::string recv_window = "5000") {
  SignAs a;
  a.ts_offset_ms = offset_ms;
  a.recv_window = std::move(recv_window);
  return a;
}
SignAs signing(std::string payload) {
  SignAs a;
  a.signed_payload = std::move(payload);
  return a;
}

struct BybitVenue : ::testing::Test {
  FakeBybit venue;
  std::optional<RestConn> conn;

  void SetUp() override { conn.emplace(venue.port(), venue.ca_file()); }

  // A GET (payload: the query string) or POST (payload: the body) signed as `as` says.
  static std::string request(const std::string& method, const std::string& path, const std::string& payload,
                             const SignAs& as = {}) {
    const std::string ts = std::to_string(now_ms() + as.ts_offset_ms);
    const std::string sig = sign(as.secret, ts + as.key + as.recv_window + as.signed_payload.value_or(payload));
    const bool get = method == "GET";
    std::string raw =
        method + " " + path + (get && !payload.empty() ? "?" + payload : "") + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    raw += "X-BAPI-API-KEY: " + as.key + "\r\nX-BAPI-TIMESTAMP: " + ts + "\r\nX-BAPI-RECV-WINDOW: " + as.recv_window +
           "\r\nX-BAPI-SIGN: " + sig + "\r\n";
    if (!get) raw += "Content-Type: application/json\r\nContent-Length: " + std::to_string(payload.size()) + "\r\n";
    return raw + "\r\n" + (get ? "" : payload);
  }
  Reply get(const std::string& path, const std::string& query, const SignAs& as = {}) {
    return conn->send(request("GET", path, query, as));
  }
  Reply post(const std::string& path, const std::string& body, const SignAs& as = {}) {
    return conn->send(request("POST", path, body, as));
  }
  // POST /v5/order/create for BTCUSDT; `extra` is appended inside the object (",\"reduceOnly\":true").
  Reply place(const std::string& link, const std::string& side, const std::string& type, const std::string& qty,
              const std::string& price = "", const std::string& tif = "", const std::string& extra = "") {
    std::string body = R"({"category":"linear","symbol":"BTCUSDT","side":")" + side + R"(","orderType":")" + type +
                       R"(","qty":")" + qty + '"';
    if (!price.empty()) body += R"(,"price":")" + price + '"';
    if (!tif.empty()) body += R"(,"timeInForce":")" + tif + '"';
    body += R"(,"orderLinkId":")" + link + '"' + extra + "}";
    return post("/v5/order/create", body);
  }
  Reply query_link(const std::string& link) { return get("/v5/order/realtime", "category=linear&orderLinkId=" + link); }

  static std::string auth_frame(const std::string& key, const std::string& secret, std::int64_t expires) {
    const std::string e = std::to_string(expires);
    return R"({"req_id":"a1","op":"auth","args":[")" + key + R"(",)" + e + R"(,")" + sign(secret, "GET/realtime" + e) +
           R"("]})";
  }
  // Connect, authenticate and subscribe to `topics` (a JSON array's inside), expecting both acks.
  std::unique_ptr<PrivateStream> open_stream(const std::string& topics = R"("order","execution","position","wallet")") {
    auto s = std::make_unique<PrivateStream>(venue.port(), venue.ca_file());
    s->send(auth_frame(kBybitKey, kBybitSecret, now_ms() + 10'000));
    const std::string a = s->next().value_or("");
    EXPECT_EQ(raw_field(a, "success"), "true") << a;
    EXPECT_EQ(field(a, "op"), "auth");
    EXPECT_FALSE(field(a, "conn_id").empty());
    s->send(R"({"req_id":"s1","op":"subscribe","args":[)" + topics + "]}");
    const std::string ack = s->next().value_or("");
    EXPECT_EQ(raw_field(ack, "success"), "true") << ack;
    EXPECT_EQ(field(ack, "op"), "subscribe");
    EXPECT_EQ(field(ack, "req_id"), "s1");
    return s;
  }
};

TEST_F(BybitVenue, CorrectSignatureIsTakenWrongKeySignatureAndStaleTimestampAreRefused) {
  Reply r = get("/v5/account/wallet-balance", "accountType=UNIFIED");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(raw_field(r.body, "retCode"), "0") << r.body;
  EXPECT_EQ(field(r.body, "retMsg"), "OK");
  EXPECT_EQ(field(r.body, "accountType"), "UNIFIED");
  EXPECT_EQ(field(r.body, "coin"), "USDT");
  EXPECT_EQ(field(r.body, "walletBalance"), "10000");
  EXPECT_NE(r.body.find(R"("retExtInfo":{},"time":)"), std::string::npos);

  // A wrong secret: 10004 (HTTP 200, a business refusal).
  r = get("/v5/account/wallet-balance", "accountType=UNIFIED", with_secret("not-the-secret"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(raw_field(r.body, "retCode"), "10004") << r.body;
  EXPECT_EQ(field(r.body, "retMsg"), "Error sign, please check your signature generation algorithm.");
  EXPECT_EQ(field(r.body, "walletBalance"), "");
  // A wrong key: 10003, HTTP 401.
  r = get("/v5/account/wallet-balance", "accountType=UNIFIED", with_key("AnotherKey12345678"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(raw_field(r.body, "retCode"), "10003") << r.body;
  // Stale: 6 s old with a 5 s recv window -> 10002; the same age with a 10 s window passes.
  r = get("/v5/account/wallet-balance", "accountType=UNIFIED", aged(-6000));
  EXPECT_EQ(raw_field(r.body, "retCode"), "10002") << r.body;
  r = get("/v5/account/wallet-balance", "accountType=UNIFIED", aged(-6000, "10000"));
  EXPECT_EQ(raw_field(r.body, "retCode"), "0") << r.body;
  // Ahead of the server by 1.5 s: outside timestamp < server_time + 1000.
  r = get("/v5/account/wallet-balance", "accountType=UNIFIED", aged(1500));
  EXPECT_EQ(raw_field(r.body, "retCode"), "10002") << r.body;
  // The query string sent is not the one signed.
  r = get("/v5/account/wallet-balance", "accountType=UNIFIED&coin=USDT", signing("accountType=UNIFIED"));
  EXPECT_EQ(raw_field(r.body, "retCode"), "10004") << r.body;
  // A body changed after signing: refused, nothing booked.
  const std::string body =
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.001","orderLinkId":"t-1"})";
  std::string raw = request("POST", "/v5/order/create", body);
  raw.replace(raw.find("0.001"), 5, "0.009");
  r = conn->send(raw);
  EXPECT_EQ(raw_field(r.body, "retCode"), "10004") << r.body;
  EXPECT_TRUE(venue.orders().empty());
  EXPECT_EQ(venue.bad_signatures(), 3);
  EXPECT_EQ(venue.refusals(10003), 1);
  EXPECT_EQ(venue.refusals(10002), 2);
  EXPECT_EQ(venue.requests("GET /v5/account/wallet-balance"), 7);
  // The same connection still serves a correct request.
  EXPECT_EQ(raw_field(place("t-2", "Buy", "Market", "0.001").body, "retCode"), "0");
}

TEST_F(BybitVenue, MarketAndCrossingOrdersFillAtTheMarkAsTakerWithBybitsFee) {
  venue.set_mark("60000");
  Reply r = place("mk-1", "Buy", "Market", "0.002");
  ASSERT_EQ(raw_field(r.body, "retCode"), "0") << r.body;
  EXPECT_EQ(field(r.body, "orderLinkId"), "mk-1");
  const std::string order_id = field(r.body, "orderId");
  EXPECT_TRUE(std::regex_match(order_id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")))
      << order_id;
  ASSERT_EQ(venue.fills().size(), 1u);
  const auto f = venue.fills()[0];
  EXPECT_EQ(f.price, "60000");
  EXPECT_EQ(f.qty, "0.002");
  EXPECT_EQ(f.value, "120");  // 0.002 * 60000
  EXPECT_EQ(f.fee, "0.066");  // 120 * 0.055 %
  EXPECT_EQ(f.fee_rate, "0.00055");
  EXPECT_FALSE(f.is_maker);

  const Reply q = query_link("mk-1");
  EXPECT_EQ(field(q.body, "orderId"), order_id) << q.body;
  EXPECT_EQ(field(q.body, "orderStatus"), "Filled");
  EXPECT_EQ(field(q.body, "orderType"), "Market");
  EXPECT_EQ(field(q.body, "timeInForce"), "IOC");  // Market's default
  EXPECT_EQ(field(q.body, "qty"), "0.002");
  EXPECT_EQ(field(q.body, "cumExecQty"), "0.002");
  EXPECT_EQ(field(q.body, "cumExecValue"), "120");
  EXPECT_EQ(field(q.body, "cumExecFee"), "0.066");
  EXPECT_EQ(field(q.body, "avgPrice"), "60000");
  EXPECT_EQ(field(q.body, "leavesQty"), "0");
  EXPECT_EQ(field(q.body, "category"), "linear");

  // A limit sell below the mark crosses: it fills at the mark, not at its price (0.001 * 60000 * 0.055 %).
  ASSERT_EQ(raw_field(place("lx-1", "Sell", "Limit", "0.001", "59000.5").body, "retCode"), "0");
  ASSERT_EQ(venue.fills().size(), 2u);
  EXPECT_EQ(venue.fills()[1].price, "60000");
  EXPECT_EQ(venue.fills()[1].fee, "0.033");
  EXPECT_EQ(venue.order("lx-1")->status, "Filled");
  EXPECT_EQ(venue.position("BTCUSDT"), "0.001");

  // PostOnly that would take: Cancelled; IOC and FOK that cannot fill: Cancelled; none fills.
  ASSERT_EQ(raw_field(place("po-1", "Buy", "Limit", "0.001", "60000.5", "PostOnly").body, "retCode"), "0");
  ASSERT_EQ(raw_field(place("ioc-1", "Buy", "Limit", "0.001", "59000", "IOC").body, "retCode"), "0");
  ASSERT_EQ(raw_field(place("fok-1", "Sell", "Limit", "0.001", "61000", "FOK").body, "retCode"), "0");
  EXPECT_EQ(venue.order("po-1")->status, "Cancelled");
  EXPECT_EQ(venue.order("po-1")->reject_reason, "EC_PostOnlyWillTakeLiquidity");
  EXPECT_EQ(venue.order("ioc-1")->status, "Cancelled");
  EXPECT_EQ(venue.order("fok-1")->status, "Cancelled");
  EXPECT_EQ(venue.order("ioc-1")->reject_reason, "EC_NoImmediateQtyToFill");
  EXPECT_EQ(venue.order("fok-1")->reject_reason, "EC_CancelForNoFullFill");
  EXPECT_EQ(venue.fills().size(), 2u);
  // A GTC limit that does not cross rests.
  ASSERT_EQ(raw_field(place("gtc-1", "Buy", "Limit", "0.001", "59000").body, "retCode"), "0");
  EXPECT_EQ(venue.order("gtc-1")->status, "New");

  const Reply pos = get("/v5/position/list", "category=linear&symbol=BTCUSDT");
  EXPECT_EQ(field(pos.body, "side"), "Buy") << pos.body;
  EXPECT_EQ(field(pos.body, "size"), "0.001");
  EXPECT_EQ(field(pos.body, "avgPrice"), "60000");
  EXPECT_EQ(field(pos.body, "positionValue"), "60");
  EXPECT_EQ(raw_field(get("/v5/position/list", "category=linear").body, "retCode"), "10001");  // symbol or settleCoin
  // Wallet: 10000 - 0.066 - 0.033, no unrealised PnL at the entry price.
  const Reply w = get("/v5/account/wallet-balance", "accountType=UNIFIED");
  EXPECT_EQ(field(w.body, "walletBalance"), "9999.901") << w.body;
  venue.set_mark("60500");  // unrealised +0.001 * 500
  EXPECT_EQ(field(get("/v5/account/wallet-balance", "accountType=UNIFIED").body, "totalEquity"),
            "10000.401");  // 9999.901 + 0.5
}

TEST_F(BybitVenue, RestingOrderFilledAsMakerIsPushedAsExecutionOrderPositionAndWallet) {
  auto sp = open_stream();
  PrivateStream& s = *sp;
  ASSERT_TRUE(venue.wait_until([&] { return venue.stream_open(); }, 2000));

  ASSERT_EQ(raw_field(place("mk-r1", "Buy", "Limit", "0.01", "59000").body, "retCode"), "0");
  const std::string nw = s.next().value_or("");
  EXPECT_EQ(field(nw, "topic"), "order") << nw;
  EXPECT_EQ(field(nw, "orderStatus"), "New");
  EXPECT_EQ(field(nw, "orderLinkId"), "mk-r1");
  EXPECT_EQ(field(nw, "price"), "59000");
  EXPECT_EQ(field(nw, "qty"), "0.01");
  EXPECT_EQ(field(nw, "leavesQty"), "0.01");
  EXPECT_EQ(field(nw, "cumExecQty"), "0");
  EXPECT_EQ(field(nw, "category"), "linear");
  EXPECT_NE(nw.find(R"("data":[{)"), std::string::npos);  // data is an array

  ASSERT_TRUE(venue.fill_resting("mk-r1"));
  const std::string ex = s.next().value_or(""), od = s.next().value_or(""), ps = s.next().value_or(""),
                    wl = s.next().value_or("");
  EXPECT_EQ(field(ex, "topic"), "execution") << ex;
  EXPECT_EQ(field(ex, "execType"), "Trade");
  EXPECT_EQ(field(ex, "execPrice"), "59000");
  EXPECT_EQ(field(ex, "execQty"), "0.01");
  EXPECT_EQ(field(ex, "execValue"), "590");
  EXPECT_EQ(field(ex, "execFee"), "0.118");  // 590 * 0.02 %
  EXPECT_EQ(field(ex, "feeRate"), "0.0002");
  EXPECT_EQ(raw_field(ex, "isMaker"), "true");
  EXPECT_EQ(field(ex, "leavesQty"), "0");
  EXPECT_EQ(field(ex, "orderQty"), "0.01");
  EXPECT_EQ(field(ex, "orderLinkId"), "mk-r1");
  EXPECT_EQ(field(ex, "side"), "Buy");
  EXPECT_FALSE(field(ex, "execId").empty());
  EXPECT_EQ(field(od, "topic"), "order") << od;
  EXPECT_EQ(field(od, "orderStatus"), "Filled");
  EXPECT_EQ(field(od, "cumExecQty"), "0.01");
  EXPECT_EQ(field(od, "cumExecValue"), "590");
  EXPECT_EQ(field(od, "cumExecFee"), "0.118");
  EXPECT_EQ(field(od, "avgPrice"), "59000");
  EXPECT_EQ(field(od, "orderId"), field(ex, "orderId"));
  EXPECT_EQ(field(ps, "topic"), "position") << ps;
  EXPECT_EQ(field(ps, "side"), "Buy");
  EXPECT_EQ(field(ps, "size"), "0.01");
  EXPECT_EQ(field(ps, "entryPrice"), "59000");
  EXPECT_EQ(field(ps, "unrealisedPnl"), "10");  // 0.01 * (60000 - 59000)
  EXPECT_EQ(field(wl, "topic"), "wallet") << wl;
  EXPECT_EQ(field(wl, "walletBalance"), "9999.882");  // 10000 - 0.118

  // In two executions: PartiallyFilled, then Filled; the fees add up on the order.
  venue.set_fill_parts(2);
  ASSERT_EQ(raw_field(place("mk-r2", "Sell", "Limit", "0.004", "61000").body, "retCode"), "0");
  EXPECT_EQ(field(s.next().value_or(""), "orderStatus"), "New");
  ASSERT_TRUE(venue.fill_resting("mk-r2"));
  const std::string e1 = s.next().value_or(""), o1 = s.next().value_or("");
  s.next();
  s.next();
  const std::string e2 = s.next().value_or(""), o2 = s.next().value_or("");
  EXPECT_EQ(field(e1, "execQty"), "0.002") << e1;
  EXPECT_EQ(field(e1, "execFee"), "0.0244");  // 0.002 * 61000 * 0.02 %
  EXPECT_EQ(field(e1, "leavesQty"), "0.002");
  EXPECT_EQ(field(o1, "orderStatus"), "PartiallyFilled") << o1;
  EXPECT_EQ(field(o1, "leavesQty"), "0.002");
  EXPECT_EQ(field(e2, "execQty"), "0.002") << e2;
  EXPECT_EQ(field(o2, "orderStatus"), "Filled") << o2;
  EXPECT_EQ(field(o2, "cumExecFee"), "0.0488");
  EXPECT_EQ(field(o2, "cumExecValue"), "244");
  const std::string p2 = s.next().value_or("");
  EXPECT_EQ(field(p2, "topic"), "position") << p2;
  EXPECT_EQ(field(p2, "size"), "0.006");  // 0.01 - 0.004
  EXPECT_EQ(field(s.next().value_or(""), "topic"), "wallet");
  EXPECT_EQ(venue.position("BTCUSDT"), "0.006");
  EXPECT_EQ(field(get("/v5/position/list", "category=linear&symbol=BTCUSDT").body, "cumRealisedPnl"),
            "8");  // 0.004 * (61000 - 59000)

  // Ping -> pong as Bybit's private stream answers it.
  s.send(R"({"req_id":"p-7","op":"ping"})");
  const std::string pong = s.next().value_or("");
  EXPECT_EQ(field(pong, "op"), "pong") << pong;
  EXPECT_EQ(field(pong, "req_id"), "p-7");
  EXPECT_EQ(venue.pings(), 1);
}

TEST_F(BybitVenue, CancelCancelAllAndConditionalOrders) {
  auto sp = open_stream(R"("order")");
  PrivateStream& s = *sp;
  for (const char* link : {"c-1", "c-2", "c-3"})
    ASSERT_EQ(raw_field(place(link, "Buy", "Limit", "0.001", "55000").body, "retCode"), "0");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(field(s.next().value_or(""), "orderStatus"), "New");
  // A conditional stop: rests Untriggered.
  ASSERT_EQ(
      raw_field(
          place("sl-1", "Sell", "Market", "0.001", "", "", R"(,"triggerPrice":"55000","triggerDirection":2)").body,
          "retCode"),
      "0");
  const std::string un = s.next().value_or("");
  EXPECT_EQ(field(un, "orderStatus"), "Untriggered") << un;
  EXPECT_EQ(field(un, "triggerPrice"), "55000");
  EXPECT_EQ(raw_field(un, "triggerDirection"), "2");
  EXPECT_EQ(field(un, "stopOrderType"), "Stop");

  // Cancel by orderLinkId, then again (110001), then by orderId.
  Reply r = post("/v5/order/cancel", R"({"category":"linear","symbol":"BTCUSDT","orderLinkId":"c-2"})");
  EXPECT_EQ(raw_field(r.body, "retCode"), "0") << r.body;
  EXPECT_EQ(field(r.body, "orderLinkId"), "c-2");
  const std::string c = s.next().value_or("");
  EXPECT_EQ(field(c, "orderStatus"), "Cancelled") << c;
  EXPECT_EQ(field(c, "cancelType"), "CancelByUser");
  EXPECT_EQ(field(c, "leavesQty"), "0");
  r = post("/v5/order/cancel", R"({"category":"linear","symbol":"BTCUSDT","orderLinkId":"c-2"})");
  EXPECT_EQ(raw_field(r.body, "retCode"), "110001") << r.body;
  const std::string id3 = venue.order("c-3")->order_id;
  r = post("/v5/order/cancel", R"({"category":"linear","symbol":"BTCUSDT","orderId":")" + id3 + R"("})");
  EXPECT_EQ(field(r.body, "orderId"), id3) << r.body;
  EXPECT_EQ(field(s.next().value_or(""), "orderLinkId"), "c-3");

  // Open orders by symbol, newest first; a recently closed one by its orderLinkId.
  r = get("/v5/order/realtime", "category=linear&symbol=BTCUSDT");
  EXPECT_EQ(count_of(r.body, "\"orderLinkId\""), 2) << r.body;
  EXPECT_LT(r.body.find("\"sl-1\""), r.body.find("\"c-1\""));
  EXPECT_EQ(field(query_link("c-2").body, "orderStatus"), "Cancelled");
  EXPECT_EQ(count_of(query_link("never").body, "\"orderLinkId\""), 0);
  EXPECT_EQ(raw_field(get("/v5/order/realtime", "category=linear").body, "retCode"), "10001");  // no scope

  // cancel-all needs a scope; orderFilter Order leaves the conditional, StopOrder takes it (Deactivated).
  EXPECT_EQ(raw_field(post("/v5/order/cancel-all", R"({"category":"linear"})").body, "retCode"), "10001");
  r = post("/v5/order/cancel-all", R"({"category":"linear","symbol":"BTCUSDT","orderFilter":"Order"})");
  EXPECT_EQ(raw_field(r.body, "retCode"), "0") << r.body;
  EXPECT_EQ(count_of(r.body, "\"orderLinkId\""), 1);
  EXPECT_EQ(field(r.body, "orderLinkId"), "c-1");
  EXPECT_EQ(field(r.body, "success"), "1");
  EXPECT_EQ(field(s.next().value_or(""), "orderLinkId"), "c-1");
  EXPECT_EQ(venue.order("sl-1")->status, "Untriggered");
  r = post("/v5/order/cancel-all", R"({"category":"linear","symbol":"BTCUSDT","orderFilter":"StopOrder"})");
  EXPECT_EQ(field(r.body, "orderLinkId"), "sl-1") << r.body;
  const std::string d = s.next().value_or("");
  EXPECT_EQ(field(d, "orderStatus"), "Deactivated") << d;
  EXPECT_EQ(count_of(get("/v5/order/realtime", "category=linear&symbol=BTCUSDT").body, "\"orderLinkId\""), 0);

  // A conditional that triggers: Triggered, then filled at the mark.
  ASSERT_EQ(
      raw_field(place("tp-1", "Buy", "Market", "0.001", "", "", R"(,"triggerPrice":"61000","triggerDirection":1)").body,
                "retCode"),
      "0");
  EXPECT_EQ(field(s.next().value_or(""), "orderStatus"), "Untriggered");
  EXPECT_FALSE(venue.fill_resting("tp-1"));  // not before it triggers
  ASSERT_TRUE(venue.trigger_stop("tp-1"));
  EXPECT_EQ(field(s.next().value_or(""), "orderStatus"), "Triggered");
  EXPECT_EQ(field(s.next().value_or(""), "orderStatus"), "Filled");
  EXPECT_EQ(venue.fills().back().price, "60000");
  // Nothing open: an empty list, settleCoin scope with no filter (both kinds).
  r = post("/v5/order/cancel-all", R"({"category":"linear","settleCoin":"USDT"})");
  EXPECT_EQ(r.body.substr(0, 56), R"({"retCode":0,"retMsg":"OK","result":{"list":[],"success")") << r.body;
}

TEST_F(BybitVenue, DuplicateOrderLinkIdUnknownSymbolAndMalformedBodyAreRefused) {
  ASSERT_EQ(raw_field(place("dup-1", "Buy", "Limit", "0.001", "50000").body, "retCode"), "0");
  Reply r = place("dup-1", "Buy", "Limit", "0.001", "50000");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(raw_field(r.body, "retCode"), "110072") << r.body;
  EXPECT_EQ(field(r.body, "retMsg"), "OrderLinkedID is duplicate");
  // The same after it is cancelled: an orderLinkId stays taken.
  post("/v5/order/cancel", R"({"category":"linear","symbol":"BTCUSDT","orderLinkId":"dup-1"})");
  EXPECT_EQ(raw_field(place("dup-1", "Buy", "Limit", "0.001", "50000").body, "retCode"), "110072");

  r = post(
      "/v5/order/create",
      R"({"category":"linear","symbol":"DOGEUSDX","side":"Buy","orderType":"Market","qty":"1","orderLinkId":"u-1"})");
  EXPECT_EQ(raw_field(r.body, "retCode"), "10001") << r.body;
  r = post("/v5/order/create", R"({"category":"linear","symbol":"BTCUSDT","side":"Buy",)");
  EXPECT_EQ(raw_field(r.body, "retCode"), "10001") << r.body;
  EXPECT_EQ(raw_field(place("lot-1", "Buy", "Limit", "0.0015", "50000").body, "retCode"),
            "10001");  // off the 0.001 lot
  EXPECT_EQ(raw_field(place("tick-1", "Buy", "Limit", "0.001", "50000.05").body, "retCode"),
            "10001");  // off the 0.1 tick
  EXPECT_EQ(raw_field(place("side-1", "Long", "Market", "0.001").body, "retCode"), "10001");
  EXPECT_EQ(raw_field(place("tif-1", "Buy", "Limit", "0.001", "50000", "GTD").body, "retCode"), "10001");
  EXPECT_EQ(
      raw_field(
          place("trg-1", "Buy", "Market", "0.001", "", "", R"(,"triggerPrice":"61000","triggerDirection":3)").body,
          "retCode"),
      "10001");
  EXPECT_EQ(venue.orders().size(), 1u);
  EXPECT_EQ(venue.refusals(110072), 2);
  EXPECT_EQ(venue.refusals(10001), 7);
}

TEST_F(BybitVenue, RateLimitHeadersCountDownAndAUsedUpQuotaAnswers10006) {
  std::vector<int> left;
  for (int i = 0; i < 3; ++i) {
    const Reply r = get("/v5/order/realtime", "category=linear&symbol=BTCUSDT");
    ASSERT_EQ(raw_field(r.body, "retCode"), "0") << r.body;
    EXPECT_EQ(r.headers["X-Bapi-Limit"], "50");
    left.push_back(std::stoi(std::string(r.headers["X-Bapi-Limit-Status"])));
    const long long reset = std::stoll(std::string(r.headers["X-Bapi-Limit-Reset-Timestamp"]));
    EXPECT_LE(std::llabs(reset - now_ms()), 2000);  // not used up: "just the current timestamp"
  }
  EXPECT_EQ(left, (std::vector<int>{49, 48, 47}));

  venue.set_rate_limit("/v5/order/create", 2, 60'000);  // 2 per minute: independent of this test's speed
  Reply r = place("rl-1", "Buy", "Limit", "0.001", "50000");
  EXPECT_EQ(r.headers["X-Bapi-Limit"], "2");
  EXPECT_EQ(r.headers["X-Bapi-Limit-Status"], "1");
  r = place("rl-2", "Buy", "Limit", "0.001", "50000");
  EXPECT_EQ(r.headers["X-Bapi-Limit-Status"], "0");
  EXPECT_EQ(raw_field(r.body, "retCode"), "0");
  r = place("rl-3", "Buy", "Limit", "0.001", "50000");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(raw_field(r.body, "retCode"), "10006") << r.body;
  EXPECT_EQ(field(r.body, "retMsg"), "Too many visits!");
  EXPECT_EQ(r.headers["X-Bapi-Limit-Status"], "0");
  EXPECT_GT(std::stoll(std::string(r.headers["X-Bapi-Limit-Reset-Timestamp"])),
            now_ms() + 50'000);  // when the window frees one
  EXPECT_FALSE(venue.order("rl-3").has_value());
  // Other endpoints keep their own quota.
  EXPECT_EQ(raw_field(get("/v5/order/realtime", "category=linear&symbol=BTCUSDT").body, "retCode"), "0");

  venue.rate_limit_next(1);
  r = get("/v5/position/list", "category=linear&symbol=BTCUSDT");
  EXPECT_EQ(raw_field(r.body, "retCode"), "10006") << r.body;
  EXPECT_EQ(r.headers["X-Bapi-Limit-Status"], "0");
  EXPECT_EQ(raw_field(get("/v5/position/list", "category=linear&symbol=BTCUSDT").body, "retCode"), "0");
  EXPECT_EQ(venue.rate_limited(), 2);
}

TEST_F(BybitVenue, DcpCancelsOpenOrdersOnceEveryDcpStreamIsGoneForTheWindow) {
  EXPECT_EQ(raw_field(post("/v5/order/disconnected-cancel-all", R"({"product":"DERIVATIVES","timeWindow":2})").body,
                      "retCode"),
            "10001");
  const Reply r = post("/v5/order/disconnected-cancel-all", R"({"product":"DERIVATIVES","timeWindow":3})");
  EXPECT_EQ(r.body, R"({"retCode":0,"retMsg":"success"})");
  EXPECT_EQ(venue.dcp_window(), 3);
  auto s1 = open_stream(R"("order","dcp")");
  ASSERT_EQ(raw_field(place("dcp-1", "Buy", "Limit", "0.001", "50000").body, "retCode"), "0");
  ASSERT_EQ(
      raw_field(
          place("dcp-2", "Sell", "Market", "0.001", "", "", R"(,"triggerPrice":"55000","triggerDirection":2)").body,
          "retCode"),
      "0");

  // Dropped, back (auth + dcp) within the window: nothing is cancelled.
  venue.drop_streams();
  ASSERT_TRUE(venue.wait_until([&] { return venue.dcp_armed(); }, 2000));
  auto s2 = open_stream(R"("dcp")");
  EXPECT_FALSE(venue.dcp_armed());
  std::this_thread::sleep_for(3500ms);
  EXPECT_EQ(venue.order("dcp-1")->status, "New");
  EXPECT_EQ(venue.dcp_trips(), 0);

  // A connection without "dcp" does not count: once the dcp one is gone for 3 s, every open order goes.
  auto s3 = open_stream(R"("order")");
  const auto gone = std::chrono::steady_clock::now();
  s2.reset();  // the client goes away (no close frame)
  ASSERT_TRUE(venue.wait_until([&] { return venue.dcp_armed(); }, 2000));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(venue.order("dcp-1")->status, "New");  // still inside the window
  ASSERT_TRUE(venue.wait_until([&] { return venue.open_orders().empty(); }, 4000));
  EXPECT_GE(std::chrono::steady_clock::now() - gone, 2900ms);
  EXPECT_EQ(venue.order("dcp-1")->status, "Cancelled");
  EXPECT_EQ(venue.order("dcp-2")->status, "Deactivated");
  EXPECT_EQ(venue.dcp_trips(), 1);
  // The live non-dcp connection sees the cancellations.
  EXPECT_EQ(field(s3->next().value_or(""), "orderLinkId"), "dcp-1");
  EXPECT_EQ(field(s3->next().value_or(""), "orderLinkId"), "dcp-2");
}

TEST_F(BybitVenue, PrivateStreamAuthIsCheckedAndPrivateTopicsNeedIt) {
  PrivateStream s(venue.port(), venue.ca_file());
  s.send(R"({"op":"subscribe","args":["order"]})");
  std::string a = s.next().value_or("");
  EXPECT_EQ(raw_field(a, "success"), "false") << a;
  EXPECT_EQ(field(a, "ret_msg"), "Request not authorized");
  // A bad signature, an expired request, an unknown key.
  s.send(auth_frame(kBybitKey, "not-the-secret", now_ms() + 10'000));
  a = s.next().value_or("");
  EXPECT_EQ(raw_field(a, "success"), "false") << a;
  EXPECT_EQ(raw_field(a, "retCode"), "10004");
  EXPECT_EQ(field(a, "op"), "auth");
  s.send(auth_frame(kBybitKey, kBybitSecret, now_ms() - 1000));
  a = s.next().value_or("");
  EXPECT_EQ(raw_field(a, "success"), "false") << a;
  EXPECT_EQ(field(a, "retMsg"), "Params Error");
  s.send(auth_frame("AnotherKey12345678", kBybitSecret, now_ms() + 10'000));
  EXPECT_EQ(field(s.next().value_or(""), "retMsg"), "Invalid apikey");
  EXPECT_EQ(venue.ws_auth_refusals(), 3);
  EXPECT_EQ(venue.ws_auths(), 0);
  // Nothing is pushed to an unauthenticated connection.
  ASSERT_EQ(raw_field(place("na-1", "Buy", "Limit", "0.001", "50000").body, "retCode"), "0");
  // The right one, then an unknown topic, then the real ones.
  s.send(auth_frame(kBybitKey, kBybitSecret, now_ms() + 10'000));
  a = s.next().value_or("");
  EXPECT_EQ(std::regex_replace(a, std::regex(R"("conn_id":"[^"]+")"), R"("conn_id":"C")"),
            R"({"success":true,"ret_msg":"","req_id":"a1","op":"auth","conn_id":"C"})");
  s.send(R"({"op":"subscribe","args":["order","bogus.topic"]})");
  a = s.next().value_or("");
  EXPECT_EQ(field(a, "ret_msg"), "Invalid topic: bogus.topic") << a;
  s.send(R"({"op":"subscribe","args":["order"]})");
  EXPECT_EQ(raw_field(s.next().value_or(""), "success"), "true");
  ASSERT_EQ(raw_field(place("na-2", "Buy", "Limit", "0.001", "50000").body, "retCode"), "0");
  EXPECT_EQ(field(s.next().value_or(""), "orderLinkId"), "na-2");  // na-1's push was never sent here
  EXPECT_EQ(venue.ws_auths(), 1);
}

TEST_F(BybitVenue, InjectedFaultsAndKeyPermissions) {
  venue.fail_next(1, 503);
  Reply r = place("f-1", "Buy", "Market", "0.001");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(raw_field(r.body, "retCode"), "10016");
  EXPECT_FALSE(venue.order("f-1").has_value());

  venue.lose_next_order_answer(502);  // booked and filled, the answer lost
  r = place("f-2", "Buy", "Market", "0.001");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(field(query_link("f-2").body, "orderStatus"), "Filled");

  venue.reject_next_orders(1);
  r = place("f-3", "Buy", "Market", "0.001");
  EXPECT_EQ(raw_field(r.body, "retCode"), "110007") << r.body;
  EXPECT_FALSE(venue.order("f-3").has_value());

  venue.delay_answers(300);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(raw_field(get("/v5/order/realtime", "category=linear&orderLinkId=f-2").body, "retCode"), "0");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 290ms);
  venue.delay_answers(0);

  {  // Never answered: the client's bounded read gives up.
    venue.silence_next(1);
    RestConn quiet(venue.port(), venue.ca_file(), 500ms);
    EXPECT_THROW(quiet.send(request("GET", "/v5/user/query-api", "")), std::runtime_error);
  }

  r = get("/v5/user/query-api", "");
  EXPECT_EQ(field(r.body, "apiKey"), kBybitKey) << r.body;
  EXPECT_NE(r.body.find(R"("Wallet":["AccountTransfer"])"), std::string::npos);
  EXPECT_EQ(r.body.find("Withdraw"), std::string::npos);
  EXPECT_EQ(raw_field(r.body, "readOnly"), "0");
  venue.set_key_can_withdraw(true);
  EXPECT_NE(get("/v5/user/query-api", "").body.find(R"("Wallet":["AccountTransfer","Withdraw"])"), std::string::npos);

  r = get("/v5/order/nowhere", "");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(raw_field(r.body, "retCode"), "10017");

  // A dropped stream: what is pushed meanwhile is lost, a new connection sees only what comes after.
  {
    auto s = open_stream(R"("order")");
    venue.drop_streams();
    EXPECT_FALSE(s->next(2000).has_value());
  }
  ASSERT_TRUE(venue.wait_until([&] { return !venue.stream_open(); }, 2000));
  ASSERT_EQ(raw_field(place("f-4", "Buy", "Limit", "0.001", "50000").body, "retCode"), "0");
  auto s2 = open_stream(R"("order")");
  ASSERT_EQ(raw_field(place("f-5", "Buy", "Limit", "0.001", "50000").body, "retCode"), "0");
  EXPECT_EQ(field(s2->next().value_or(""), "orderLinkId"), "f-5");
  EXPECT_EQ(venue.stream_drops(), 1);
}

}  // namespace
}  // namespace enigma::testing
