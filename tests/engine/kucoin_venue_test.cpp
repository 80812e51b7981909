// The KuCoin Futures venue in miniature (tests/support/fake_kucoin_futures.hpp) driven by our own encoder
// (oms::kucoin_futures::Encoder) over TLS on loopback: it checks signatures as KuCoin does, keeps its own
// orders, pushes orderChange on the private WebSocket reached through a bullet-private token, and injects
// the faults the live tests need. Every wait is bounded (a few seconds).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/instrument.hpp"
#include "oms/ids.hpp"
#include "oms/order_spec.hpp"
#include "oms/signing.hpp"
#include "oms/venues/kucoin_futures.hpp"
#include "tests/support/fake_kucoin_futures.hpp"

namespace enigma::testing {
namespace {

using namespace std::chrono_literals;
using oms::kucoin_futures::Encoder;

struct Reply {
  int status{0};
  std::string body;
  http::fields headers;
};

// One keep-alive TLS connection that writes requests byte for byte (as the encoder made them) and reads the
// answers; the venue's certificate is trusted through its CA file. Each step is bounded by 3 s.
class RestConn {
 public:
  RestConn(std::uint16_t port, const std::string& ca_file) {
    ctx_.load_verify_file(ca_file);
    ctx_.set_verify_mode(ssl::verify_peer);
    error_code ec = net::error::would_block;
    beast::get_lowest_layer(tls_).expires_after(3s);
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
    beast::get_lowest_layer(tls_).expires_after(3s);
    net::async_write(tls_, net::buffer(raw), [&](error_code e, std::size_t) { ec = e; });
    run();
    if (ec) throw std::runtime_error("write: " + ec.message());
    http::response<http::string_body> res;
    ec = net::error::would_block;
    beast::get_lowest_layer(tls_).expires_after(3s);
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
  net::io_context ioc_;
  ssl::context ctx_{ssl::context::tls_client};
  beast::ssl_stream<beast::tcp_stream> tls_{ioc_, ctx_};
  beast::flat_buffer buf_;
};

// The private stream as a plain Beast client: connect to the bullet's endpoint with its token, then read
// frames with a deadline each.
class PrivateStream {
 public:
  PrivateStream(std::uint16_t port, const std::string& ca_file, const std::string& target) {
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
  // The next frame that contains `needle` (others skipped), within `ms` in all.
  std::optional<std::string> next_with(std::string_view needle, int ms = 3000) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      auto f = next(static_cast<int>(std::max<long long>(1, left.count())));
      if (!f) return std::nullopt;
      if (f->find(needle) != std::string::npos) return f;
    }
    return std::nullopt;
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

std::int64_t now_ms() { return kucoin_fake::now_ms(); }

// The string value of "key" in a JSON text ("" when absent).
std::string field(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return m[1];
  return {};
}
// The "data" object of a push ("" when absent): its "type" is not the envelope's "type":"message".
std::string data(const std::string& frame) {
  const std::size_t at = frame.find("\"data\":");
  return at == std::string::npos ? std::string() : frame.substr(at + 7);
}
// The raw (unquoted) value of "key": numbers, true/false/null.
std::string raw_field(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":([^,}\\]]*)"))) return m[1];
  return {};
}

struct KucoinVenue : ::testing::Test {
  FakeKucoinFutures venue;
  InstrumentRegistry registry{8};
  InstrumentId xbt{};
  std::optional<Encoder> enc;
  std::optional<RestConn> conn;
  char buf[4096];

  void SetUp() override {
    InstrumentSpec s{};
    s.venue = Venue::kucoin_futures;
    s.symbol = Symbol("XBTUSDTM");
    s.kind = InstrumentKind::linear_perpetual;
    s.multiplier = Qty::parse("0.001").value;
    xbt = registry.add(s).value;
    enc.emplace(registry, kKucoinKey, oms::Secret(kKucoinSecret), oms::Secret(kKucoinPassphrase));
    conn.emplace(venue.port(), venue.ca_file());
  }

  oms::OrderSpec spec(std::string_view cid, Side side, oms::OrderType type, long long qty, std::string_view price = "",
                      oms::TimeInForce tif = oms::TimeInForce::gtc) const {
    oms::OrderSpec o{};
    o.req.client_id = oms::ClientOrderId::from(cid).value;
    o.req.instrument = xbt;
    o.req.venue = Venue::kucoin_futures;
    o.req.side = side;
    o.req.type = type;
    o.req.tif = tif;
    o.req.qty = Qty::from_units(qty);
    if (!price.empty()) o.req.price = Price::parse(price).value;
    o.req.leverage = 5;
    return o;
  }
  Reply place(Encoder& e, const oms::OrderSpec& o) {
    const auto n = e.encode_new(o, now_ms(), buf, sizeof buf);
    EXPECT_TRUE(n.ok());
    return conn->send({buf, n.value});
  }
  Reply place(const oms::OrderSpec& o) { return place(*enc, o); }
  Reply cancel(std::string_view cid) {
    const auto n = enc->encode_cancel(xbt, oms::ClientOrderId::from(cid).value, now_ms(), buf, sizeof buf);
    EXPECT_TRUE(n.ok());
    return conn->send({buf, n.value});
  }
  Reply cancel_all(bool stops) {
    const auto n = enc->encode_cancel_all(xbt, stops, now_ms(), buf, sizeof buf);
    EXPECT_TRUE(n.ok());
    return conn->send({buf, n.value});
  }
  Reply query(std::string_view cid) {
    const auto n = enc->encode_query(oms::ClientOrderId::from(cid).value, now_ms(), buf, sizeof buf);
    EXPECT_TRUE(n.ok());
    return conn->send({buf, n.value});
  }
  // Any signed request, built with the encoder's sign() and passphrase (what the engine's cold path sends).
  Reply signed_request(const std::string& method, const std::string& endpoint, const std::string& body = "") {
    const std::string ts = std::to_string(now_ms());
    char sig[oms::kSha256Base64Size];
    enc->sign(ts, method, endpoint, body, sig);
    std::string raw = method + " " + endpoint + " HTTP/1.1\r\nHost: 127.0.0.1\r\nKC-API-KEY: " + kKucoinKey +
                      "\r\nKC-API-SIGN: " + std::string(sig, sizeof sig) + "\r\nKC-API-TIMESTAMP: " + ts +
                      "\r\nKC-API-PASSPHRASE: " + std::string(enc->signed_passphrase()) +
                      "\r\nKC-API-KEY-VERSION: 2\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    return conn->send(raw);
  }
  // bullet-private, then the WebSocket with its token, welcome, subscription to the order channel and ack.
  std::unique_ptr<PrivateStream> open_stream(const std::string& connect_id) {
    const Reply b = signed_request("POST", "/api/v1/bullet-private");
    EXPECT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(field(b.body, "code"), "200000") << b.body;
    EXPECT_EQ(field(b.body, "endpoint"), venue.ws_endpoint());
    EXPECT_EQ(raw_field(b.body, "pingInterval"), "18000");
    EXPECT_EQ(raw_field(b.body, "pingTimeout"), "10000");
    const std::string token = field(b.body, "token");
    EXPECT_FALSE(token.empty());
    auto s = std::make_unique<PrivateStream>(venue.port(), venue.ca_file(), "/endpoint?token=" + token + "&connectId=" + connect_id);
    const auto welcome = s->next();
    EXPECT_EQ(welcome.value_or(""), R"({"id":")" + connect_id + R"(","type":"welcome"})");
    s->send(R"({"id":"sub-1","type":"subscribe","topic":"/contractMarket/tradeOrders","privateChannel":true,"response":true})");
    EXPECT_EQ(s->next().value_or(""), R"({"id":"sub-1","type":"ack"})");
    return s;
  }
};

TEST_F(KucoinVenue, SignedLimitOrderBelowTheMarkRestsAndTheQueryShowsIt) {
  const Reply r = place(spec("en-rest-1", Side::buy, oms::OrderType::limit, 3, "59000.5"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(field(r.body, "code"), "200000");
  const std::string order_id = field(r.body, "orderId");
  EXPECT_TRUE(std::regex_match(order_id, std::regex("[0-9a-f]{24}"))) << order_id;
  const auto o = venue.order("en-rest-1");
  ASSERT_TRUE(o.has_value());
  EXPECT_TRUE(o->active);
  EXPECT_EQ(o->id, order_id);
  EXPECT_EQ(o->size, 3);
  EXPECT_EQ(o->price, "59000.5");
  EXPECT_EQ(o->body, R"({"clientOid":"en-rest-1","side":"buy","symbol":"XBTUSDTM","type":"limit","leverage":5,)"
                     R"("price":"59000.5","size":3,"timeInForce":"GTC"})");
  EXPECT_EQ(venue.bodies().size(), 1u);
  EXPECT_EQ(venue.requests("POST /api/v1/orders"), 1);

  const Reply q = query("en-rest-1");
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(field(q.body, "id"), order_id);
  EXPECT_EQ(field(q.body, "status"), "open");
  EXPECT_EQ(raw_field(q.body, "isActive"), "true");
  EXPECT_EQ(raw_field(q.body, "size"), "3");
  EXPECT_EQ(raw_field(q.body, "filledSize"), "0");
  EXPECT_EQ(field(q.body, "clientOid"), "en-rest-1");
  EXPECT_EQ(venue.queries(), 1);
  // Unknown: data null.
  EXPECT_EQ(query("en-never").body, R"({"code":"200000","data":null})");
  // The open-order list and the same clientOid again.
  const Reply list = signed_request("GET", "/api/v1/orders?status=active&symbol=XBTUSDTM");
  EXPECT_EQ(raw_field(list.body, "totalNum"), "1") << list.body;
  EXPECT_NE(list.body.find(R"("clientOid":"en-rest-1")"), std::string::npos);
  const Reply dup = place(spec("en-rest-1", Side::buy, oms::OrderType::limit, 1, "59000"));
  EXPECT_EQ(dup.body, R"({"code":"300000","msg":"Duplicate clientOid"})");
}

TEST_F(KucoinVenue, MarketOrderFillsAtTheMarkAndThePrivateStreamPushesOpenMatchFilled) {
  venue.set_mark("61000.5");
  auto sp = open_stream("conn-1");
  PrivateStream& s = *sp;
  EXPECT_TRUE(venue.wait_until([&] { return venue.stream_open(); }, 2000));
  EXPECT_EQ(venue.bullets(), 1);

  // A resting limit: "open".
  const Reply r1 = place(spec("en-lim-1", Side::sell, oms::OrderType::limit, 2, "62000"));
  ASSERT_EQ(field(r1.body, "code"), "200000") << r1.body;
  const auto open = s.next();
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(field(*open, "topic"), "/contractMarket/tradeOrders");
  EXPECT_EQ(field(*open, "subject"), "orderChange");
  EXPECT_EQ(field(*open, "channelType"), "private");
  EXPECT_EQ(field(data(*open), "type"), "open");
  EXPECT_EQ(field(*open, "status"), "open");
  EXPECT_EQ(field(*open, "orderId"), field(r1.body, "orderId"));
  EXPECT_EQ(field(*open, "clientOid"), "en-lim-1");
  EXPECT_EQ(field(*open, "size"), "2");
  EXPECT_EQ(field(*open, "remainSize"), "2");
  EXPECT_EQ(field(*open, "filledSize"), "0");
  EXPECT_EQ(field(*open, "price"), "62000");
  // The whole frame, times aside.
  const std::string id1 = field(r1.body, "orderId");
  EXPECT_EQ(std::regex_replace(*open, std::regex(R"re("(orderTime|ts)":[0-9]{19})re"), "\"$1\":T"),
            R"({"type":"message","topic":"/contractMarket/tradeOrders","subject":"orderChange","channelType":"private",)"
            R"("data":{"orderId":")" + id1 + R"(","symbol":"XBTUSDTM","type":"open","status":"open","orderType":"limit",)"
            R"("side":"sell","price":"62000","size":"2","remainSize":"2","filledSize":"0","canceledSize":"0",)"
            R"("clientOid":"en-lim-1","orderTime":T,"tradeType":"trade","ts":T,"marginMode":"ISOLATED"}})");

  // A market buy of 3 in two matches at the mark, then filled.
  venue.set_fill_parts(2);
  const Reply r2 = place(spec("en-mkt-1", Side::buy, oms::OrderType::market, 3));
  ASSERT_EQ(field(r2.body, "code"), "200000") << r2.body;
  const auto m1 = s.next(), m2 = s.next(), done = s.next();
  ASSERT_TRUE(m1 && m2 && done);
  EXPECT_EQ(field(data(*m1), "type"), "match");
  EXPECT_EQ(field(*m1, "status"), "match");
  EXPECT_EQ(field(*m1, "matchSize"), "2");
  EXPECT_EQ(field(*m1, "matchPrice"), "61000.5");
  EXPECT_EQ(field(*m1, "filledSize"), "2");
  EXPECT_EQ(field(*m1, "remainSize"), "1");
  EXPECT_EQ(field(*m1, "liquidity"), "taker");
  EXPECT_EQ(field(*m1, "orderType"), "market");
  EXPECT_EQ(field(*m1, "side"), "buy");
  EXPECT_TRUE(std::regex_match(field(*m1, "tradeId"), std::regex("[0-9a-f]{24}")));
  EXPECT_GT(std::stoll(raw_field(*m1, "ts")), 1'600'000'000'000'000'000LL);  // ns
  EXPECT_EQ(field(*m2, "matchSize"), "1");
  EXPECT_EQ(field(*m2, "filledSize"), "3");
  EXPECT_EQ(field(*m2, "remainSize"), "0");
  EXPECT_NE(field(*m1, "tradeId"), field(*m2, "tradeId"));
  EXPECT_EQ(field(data(*done), "type"), "filled");
  EXPECT_EQ(field(*done, "status"), "done");
  EXPECT_EQ(field(*done, "filledSize"), "3");
  EXPECT_EQ(field(*done, "orderId"), field(r2.body, "orderId"));
  EXPECT_EQ(venue.position("XBTUSDTM"), 3);

  // The resting sell fills as maker when the venue says so.
  venue.set_fill_parts(1);
  ASSERT_TRUE(venue.fill_resting("en-lim-1", 1));
  const auto mk = s.next();
  ASSERT_TRUE(mk.has_value());
  EXPECT_EQ(field(*mk, "liquidity"), "maker");
  EXPECT_EQ(field(*mk, "status"), "open");
  EXPECT_EQ(field(*mk, "matchPrice"), "62000");
  EXPECT_EQ(field(*mk, "remainSize"), "1");
  const Reply q = query("en-mkt-1");
  EXPECT_EQ(field(q.body, "status"), "done");
  EXPECT_EQ(raw_field(q.body, "isActive"), "false");
  EXPECT_EQ(raw_field(q.body, "filledSize"), "3");
  EXPECT_EQ(field(q.body, "filledValue"), "183.0015");  // 3 * 0.001 * 61000.5

  const Reply pos = signed_request("GET", "/api/v1/positions");
  EXPECT_EQ(raw_field(pos.body, "currentQty"), "2") << pos.body;  // +3 - 1
  EXPECT_EQ(raw_field(pos.body, "isOpen"), "true");
  EXPECT_EQ(raw_field(pos.body, "avgEntryPrice"), "61000.5");

  // Ping -> pong.
  s.send(R"({"id":"p-7","type":"ping"})");
  EXPECT_EQ(s.next().value_or(""), R"({"id":"p-7","type":"pong"})");
  EXPECT_EQ(venue.pings(), 1);
}

TEST_F(KucoinVenue, WrongSecretKeyOrPassphraseIsRefusedWith401AndNothingIsBooked) {
  Encoder wrong_secret(registry, kKucoinKey, oms::Secret("not-the-secret"), oms::Secret(kKucoinPassphrase));
  Reply r = place(wrong_secret, spec("en-bad-1", Side::buy, oms::OrderType::limit, 1, "50000"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"code":"400005","msg":"Invalid KC-API-SIGN"})");
  // (A wrong secret garbles the signed passphrase too; the signature is checked first.)
  Encoder wrong_key(registry, "5c2db93503aa674c74a31734", oms::Secret(kKucoinSecret), oms::Secret(kKucoinPassphrase));
  r = place(wrong_key, spec("en-bad-2", Side::buy, oms::OrderType::limit, 1, "50000"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"code":"400003","msg":"KC-API-KEY not exists"})");
  Encoder wrong_pass(registry, kKucoinKey, oms::Secret(kKucoinSecret), oms::Secret("not-the-passphrase"));
  r = place(wrong_pass, spec("en-bad-3", Side::buy, oms::OrderType::limit, 1, "50000"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"code":"400004","msg":"KC-API-PASSPHRASE error"})");
  EXPECT_EQ(venue.auth_refusals(), 3);
  EXPECT_EQ(venue.refusals("400003"), 1);
  EXPECT_EQ(venue.refusals("400004"), 1);
  EXPECT_TRUE(venue.orders().empty());
  // A stale timestamp.
  const auto n = enc->encode_new(spec("en-bad-4", Side::buy, oms::OrderType::limit, 1, "50000"), now_ms() - 60'000, buf, sizeof buf);
  r = conn->send({buf, n.value});
  EXPECT_EQ(r.body, R"({"code":"400002","msg":"KC-API-TIMESTAMP Invalid"})");
  // A body changed after signing.
  std::string raw(buf, enc->encode_new(spec("en-bad-5", Side::buy, oms::OrderType::limit, 1, "50000"), now_ms(), buf, sizeof buf).value);
  raw.replace(raw.find("\"size\":1"), 8, "\"size\":9");
  r = conn->send(raw);
  EXPECT_EQ(r.body, R"({"code":"400005","msg":"Invalid KC-API-SIGN"})");
  EXPECT_EQ(venue.bad_signatures(), 2);
  // The right key still works on the same connection.
  EXPECT_EQ(field(place(spec("en-good", Side::buy, oms::OrderType::limit, 1, "50000")).body, "code"), "200000");
}

TEST_F(KucoinVenue, CancelOneThenCancelAllThenStops) {
  auto sp = open_stream("conn-2");
  PrivateStream& s = *sp;
  for (const char* cid : {"en-c1", "en-c2", "en-c3"})
    ASSERT_EQ(field(place(spec(cid, Side::buy, oms::OrderType::limit, 1, "55000")).body, "code"), "200000");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(field(data(s.next().value_or("")), "type"), "open");

  Reply r = cancel("en-c2");
  EXPECT_EQ(r.body, R"({"code":"200000","data":{"clientOid":"en-c2"}})");
  const auto c = s.next();
  EXPECT_EQ(field(data(c.value_or("")), "type"), "canceled");
  EXPECT_EQ(field(c.value_or(""), "status"), "done");
  EXPECT_EQ(field(c.value_or(""), "canceledSize"), "1");
  EXPECT_EQ(field(c.value_or(""), "clientOid"), "en-c2");
  r = cancel("en-c2");  // already done
  EXPECT_EQ(r.body, R"({"code":"100004","msg":"Order is in not cancelable state"})");
  EXPECT_EQ(venue.cancels(), 2);

  // A stop order rests in the stop book, not in the open orders.
  oms::OrderSpec stop = spec("en-sl", Side::sell, oms::OrderType::stop_market, 1);
  stop.req.stop_price = Price::from_units(50000);
  stop.req.reduce_only = true;
  ASSERT_EQ(field(place(stop).body, "code"), "200000");
  EXPECT_EQ(raw_field(signed_request("GET", "/api/v1/stopOrders?symbol=XBTUSDTM").body, "totalNum"), "1");

  r = cancel_all(false);
  ASSERT_EQ(field(r.body, "code"), "200000") << r.body;
  const auto c1 = venue.order("en-c1"), c3 = venue.order("en-c3");
  EXPECT_EQ(r.body, R"({"code":"200000","data":{"cancelledOrderIds":[")" + c1->id + R"(",")" + c3->id + R"("]}})");
  EXPECT_EQ(field(s.next().value_or(""), "clientOid"), "en-c1");
  EXPECT_EQ(field(s.next().value_or(""), "clientOid"), "en-c3");
  EXPECT_EQ(venue.cancel_alls(), 1);
  EXPECT_TRUE(venue.order("en-sl")->active);  // stops are not touched by DELETE /api/v1/orders
  r = cancel_all(true);
  EXPECT_EQ(r.body, R"({"code":"200000","data":{"cancelledOrderIds":[")" + venue.order("en-sl")->id + R"("]}})");
  EXPECT_FALSE(venue.order("en-sl")->active);
  EXPECT_EQ(venue.stop_cancel_alls(), 1);
  EXPECT_EQ(raw_field(signed_request("GET", "/api/v1/orders?status=active").body, "totalNum"), "0");
  EXPECT_EQ(field(query("en-c1").body, "status"), "done");
  EXPECT_EQ(raw_field(query("en-c1").body, "cancelExist"), "true");
}

TEST_F(KucoinVenue, RateLimitHeadersAndInjected429s) {
  Reply r = signed_request("GET", "/api/v1/account-overview?currency=USDT");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(raw_field(r.body, "availableBalance"), "10000");
  EXPECT_EQ(field(r.body, "currency"), "USDT");
  EXPECT_EQ(r.headers["gw-ratelimit-limit"], "2000");
  EXPECT_EQ(r.headers["gw-ratelimit-remaining"], "1995");  // weight 5
  const long long reset = std::stoll(std::string(r.headers["gw-ratelimit-reset"]));
  EXPECT_GT(reset, 25'000);
  EXPECT_LE(reset, 30'000);

  venue.rate_limit_next(2);
  for (int i = 0; i < 2; ++i) {
    r = place(spec("en-rl-" + std::to_string(i), Side::buy, oms::OrderType::limit, 1, "50000"));
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.body, R"({"code":"429000","msg":"Too Many Requests"})");
    EXPECT_EQ(r.headers["gw-ratelimit-remaining"], "0");
    EXPECT_FALSE(r.headers["gw-ratelimit-reset"].empty());
  }
  EXPECT_TRUE(venue.orders().empty());
  r = place(spec("en-rl-2", Side::buy, oms::OrderType::limit, 1, "50000"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(venue.rate_limited(), 2);

  // A used-up quota answers 429 by itself.
  venue.set_rate_limit(1);
  r = signed_request("GET", "/api/v1/positions");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(venue.rate_limited(), 3);
}

TEST_F(KucoinVenue, RefusalsAndFaults) {
  venue.reject_next_orders(1);
  Reply r = place(spec("en-f1", Side::buy, oms::OrderType::market, 1));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"code":"300003","msg":"Balance insufficient!"})");
  EXPECT_FALSE(venue.order("en-f1").has_value());

  venue.fail_next(1, 503);
  r = place(spec("en-f2", Side::buy, oms::OrderType::market, 1));
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(venue.order("en-f2").has_value());

  venue.lose_next_order_answer(502);  // booked and filled, the answer lost
  r = place(spec("en-f3", Side::buy, oms::OrderType::market, 1));
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(field(query("en-f3").body, "status"), "done");

  // api-key permissions.
  EXPECT_EQ(field(signed_request("GET", "/api/v1/user/api-key").body, "permission"), "General,Futures");
  venue.set_key_can_withdraw(true);
  r = signed_request("GET", "/api/v1/user/api-key");
  EXPECT_EQ(field(r.body, "permission"), "General,Futures,Withdrawal");
  EXPECT_EQ(field(r.body, "apiKey"), kKucoinKey);

  // An unknown token: the error frame, then the connection closes.
  PrivateStream bad(venue.port(), venue.ca_file(), "/endpoint?token=forged&connectId=x9");
  EXPECT_EQ(bad.next().value_or(""), R"({"id":"x9","type":"error","code":401,"data":"token is invalid"})");
  EXPECT_FALSE(bad.next(1000).has_value());
  EXPECT_EQ(venue.ws_refused(), 1);

  // A dropped stream: what is pushed meanwhile is lost; a new connection sees only what comes after.
  {
    auto s = open_stream("conn-3");
    venue.drop_streams();
    EXPECT_FALSE(s->next(2000).has_value());
  }
  ASSERT_TRUE(venue.wait_until([&] { return !venue.stream_open(); }, 2000));
  ASSERT_EQ(field(place(spec("en-f4", Side::buy, oms::OrderType::limit, 1, "50000")).body, "code"), "200000");
  auto s2p = open_stream("conn-4");
  PrivateStream& s2 = *s2p;
  ASSERT_EQ(field(place(spec("en-f5", Side::buy, oms::OrderType::limit, 1, "50000")).body, "code"), "200000");
  EXPECT_EQ(field(s2.next().value_or(""), "clientOid"), "en-f5");  // en-f4's open was never replayed
  EXPECT_EQ(venue.ws_connections(), 2);
  // A token issued before expire_tokens() is refused.
  const std::string token = field(signed_request("POST", "/api/v1/bullet-private").body, "token");
  venue.expire_tokens();
  PrivateStream late(venue.port(), venue.ca_file(), "/endpoint?token=" + token + "&connectId=z");
  EXPECT_EQ(late.next().value_or(""), R"({"id":"z","type":"error","code":401,"data":"token is invalid"})");
  EXPECT_EQ(venue.ws_refused(), 2);
}

}  // namespace
}  // namespace enigma::testing
