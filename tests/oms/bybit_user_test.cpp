// Bybit V5 linear perpetuals: the order-entry encoder (oms/venues/bybit_linear) and what comes back
// (oms/venues/bybit_linear_user): private stream (order / execution topics) and REST answers -> ExecReports,
// and the start-up readers (open orders, positions, API key). Stream and REST messages are the real captures
// in data/bybit/nautilus_crate_*.json (see data/bybit/ATTRIBUTION.md), or small edits of them named in each
// test; expected values are worked out by hand from the fixture text. Signatures are checked against the
// openssl command line tool, an implementation independent of oms/signing.
#include "oms/venues/bybit_linear.hpp"
#include "oms/venues/bybit_linear_user.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "oms/order_state.hpp"
#include "tests/support/alloc_counter.hpp"

using namespace enigma;
using namespace enigma::oms;
using namespace enigma::oms::bybit_linear;

namespace {

// BTCUSDT (id 0, lot 0.001), ETHUSDT (id 1, lot 0.01), APEXUSDT (id 2, lot 0.1): linear, size in base coin.
InstrumentRegistry& registry() {
  static InstrumentRegistry r = [] {
    InstrumentRegistry reg;
    InstrumentSpec s{};
    s.venue = Venue::bybit;
    s.kind = InstrumentKind::linear_perpetual;
    s.symbol = Symbol("BTCUSDT");
    s.tick = Price::parse("0.1").value;
    s.lot = Qty::parse("0.001").value;
    (void)reg.add(s);
    s.symbol = Symbol("ETHUSDT");
    s.tick = Price::parse("0.01").value;
    s.lot = Qty::parse("0.01").value;
    (void)reg.add(s);
    s.symbol = Symbol("APEXUSDT");
    s.tick = Price::parse("0.001").value;
    s.lot = Qty::parse("0.1").value;
    (void)reg.add(s);
    return reg;
  }();
  return r;
}

Qty qty(const char* s) { return Qty::parse(s).value; }
Price px(const char* s) { return Price::parse(s).value; }
Notional money(const char* s) { return Notional::parse(s).value; }
ClientOrderId cid(const char* s) { return ClientOrderId::from(s).value; }

std::string fixture(const std::string& name) {
  std::ifstream f(std::string(ENIGMA_SOURCE_DIR) + "/data/bybit/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const std::size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

Result<UserEvent> decode(UserStreamDecoder& d, const std::string& msg, ExecReport& out, std::size_t index = 0) {
  return d.decode(msg, msg.size(), out, index);  // unpadded: the decoder copies into its padded buffer
}

// Independent lower-case hex HMAC-SHA256 of `msg` with `key` by the openssl command line tool.
std::string openssl_hmac_hex(std::string_view key, std::string_view msg) {
  const std::string file = ::testing::TempDir() + "bybit_hmac_msg.bin";
  {
    std::ofstream f(file, std::ios::binary);
    f << msg;
  }
  const std::string cmd =
      "openssl dgst -sha256 -hmac '" + std::string(key) + "' -binary < '" + file + "' | od -An -tx1 -v | tr -d ' \\n'";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    std::array<char, 256> buf{};
    while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string header_value(std::string_view req, std::string_view name) {
  const std::string key = "\r\n" + std::string(name) + ": ";
  const std::size_t at = req.find(key);
  if (at == std::string_view::npos) return {};
  const std::size_t from = at + key.size();
  return std::string(req.substr(from, req.find("\r\n", from) - from));
}

std::string body_of(std::string_view req) {
  const std::size_t at = req.find("\r\n\r\n");
  return at == std::string_view::npos ? std::string{} : std::string(req.substr(at + 4));
}

constexpr std::string_view kKey = "XXXXXXXXXX";
constexpr std::string_view kSecret = "YYYYYYYYYYYYYYYYYYYY";
constexpr std::int64_t kTs = 1672211928338;

Encoder encoder() { return Encoder(registry(), std::string(kKey), Secret(kSecret)); }

OrderSpec limit_buy() {
  OrderSpec o{};
  o.req.client_id = cid("en-1");
  o.req.instrument = 0;
  o.req.venue = Venue::bybit;
  o.req.side = Side::buy;
  o.req.type = OrderType::limit;
  o.req.tif = TimeInForce::gtc;
  o.req.price = px("30000.5");
  o.req.qty = qty("0.010");
  o.req.reference_price = px("30000");
  return o;
}

std::string encode(Encoder& e, const OrderSpec& o, std::int64_t ts = kTs) {
  char buf[2048];
  const auto n = e.encode_new(o, ts, buf, sizeof buf);
  EXPECT_TRUE(n.ok()) << to_string(n.error);
  return n.ok() ? std::string(buf, n.value) : std::string{};
}

}  // namespace

// ---- encoder ----

TEST(OmsBybitEncoder, LimitOrderRequestAndSignature) {
  Encoder e = encoder();
  const std::string rq = encode(e, limit_buy());
  const std::string body =
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.01","price":"30000.5","timeInForce":"GTC","orderLinkId":"en-1"})";
  EXPECT_EQ(body_of(rq), body);
  EXPECT_TRUE(rq.starts_with("POST /v5/order/create HTTP/1.1\r\nHost: api.bybit.com\r\n")) << rq;
  EXPECT_EQ(header_value(rq, "X-BAPI-API-KEY"), kKey);
  EXPECT_EQ(header_value(rq, "X-BAPI-TIMESTAMP"), "1672211928338");
  EXPECT_EQ(header_value(rq, "X-BAPI-RECV-WINDOW"), "5000");
  EXPECT_EQ(header_value(rq, "Content-Type"), "application/json");
  EXPECT_EQ(header_value(rq, "Content-Length"), std::to_string(body.size()));
  // timestamp + api_key + recv_window + body
  const std::string expected = openssl_hmac_hex(kSecret, "1672211928338" + std::string(kKey) + "5000" + body);
  ASSERT_EQ(expected.size(), 64u) << "openssl CLI not available?";
  EXPECT_EQ(header_value(rq, "X-BAPI-SIGN"), expected);
  char sig[kSha256HexSize];
  e.sign("1672211928338", body, sig);
  EXPECT_EQ(std::string(sig, sizeof sig), expected);
}

TEST(OmsBybitEncoder, TimeInForceReduceOnlyAndMarket) {
  Encoder e = encoder();
  OrderSpec o = limit_buy();
  o.req.tif = TimeInForce::post_only;
  o.req.side = Side::sell;
  o.req.reduce_only = true;
  EXPECT_EQ(
      body_of(encode(e, o)),
      R"({"category":"linear","symbol":"BTCUSDT","side":"Sell","orderType":"Limit","qty":"0.01","price":"30000.5","timeInForce":"PostOnly","orderLinkId":"en-1","reduceOnly":true})");
  o.req.tif = TimeInForce::ioc;
  EXPECT_NE(body_of(encode(e, o)).find(R"("timeInForce":"IOC")"), std::string::npos);
  o.req.tif = TimeInForce::fok;
  EXPECT_NE(body_of(encode(e, o)).find(R"("timeInForce":"FOK")"), std::string::npos);
  o = limit_buy();
  o.req.type = OrderType::market;
  o.req.price = Price{};
  o.req.qty = qty("1.5");
  EXPECT_EQ(
      body_of(encode(e, o)),
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"1.5","orderLinkId":"en-1"})");
}

// A sell stop-loss and a buy take-profit fire when the price falls (2); a buy stop and a sell take-profit when
// it rises (1).
TEST(OmsBybitEncoder, ConditionalOrdersTriggerDirection) {
  Encoder e = encoder();
  OrderSpec o = limit_buy();
  o.req.type = OrderType::stop_market;
  o.req.side = Side::sell;
  o.req.price = Price{};
  o.req.stop_price = px("29000");
  o.req.reduce_only = true;
  EXPECT_EQ(
      body_of(encode(e, o)),
      R"({"category":"linear","symbol":"BTCUSDT","side":"Sell","orderType":"Market","qty":"0.01","triggerPrice":"29000","triggerDirection":2,"triggerBy":"LastPrice","orderLinkId":"en-1","reduceOnly":true})");
  o.req.side = Side::buy;
  EXPECT_NE(body_of(encode(e, o)).find(R"("triggerDirection":1)"), std::string::npos);
  o.req.type = OrderType::take_profit_market;
  EXPECT_NE(body_of(encode(e, o)).find(R"("triggerDirection":2)"), std::string::npos);
  o.req.side = Side::sell;
  EXPECT_NE(body_of(encode(e, o)).find(R"("triggerDirection":1)"), std::string::npos);
}

TEST(OmsBybitEncoder, RefusesWhatBybitWouldRefuse) {
  Encoder e = encoder();
  char buf[2048];
  const auto refused = [&](const OrderSpec& o) {
    const auto n = e.encode_new(o, kTs, buf, sizeof buf);
    return !n.ok() && n.error == Errc::out_of_range;
  };
  OrderSpec o = limit_buy();
  o.req.qty = qty("0.0105");  // not a multiple of BTCUSDT's 0.001
  EXPECT_TRUE(refused(o));
  o.req.qty = Qty{};
  EXPECT_TRUE(refused(o));
  o = limit_buy();
  o.req.type = OrderType::trailing_stop;
  o.req.stop_price = px("29000");
  EXPECT_TRUE(refused(o));
  o = limit_buy();
  o.req.client_id = cid("a234567890123456789012345678901234567");  // 37 characters
  EXPECT_TRUE(refused(o));
  o.req.client_id = cid("a23456789012345678901234567890123456");  // 36: fine
  EXPECT_FALSE(refused(o));
  o.req.client_id = cid("bad id");
  EXPECT_TRUE(refused(o));
  o.req.client_id = cid("");
  EXPECT_TRUE(refused(o));
  o = limit_buy();
  o.req.instrument = 99;
  EXPECT_TRUE(refused(o));
  o = limit_buy();
  o.req.type = OrderType::stop_market;  // no stop price
  EXPECT_TRUE(refused(o));
  o = limit_buy();
  o.req.instrument = 1;  // ETHUSDT, lot 0.01: 0.010 is one lot
  EXPECT_FALSE(refused(o));
  // Too small a buffer: capacity, never a partial request.
  const auto n = e.encode_new(limit_buy(), kTs, buf, 100);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error, Errc::capacity);
}

TEST(OmsBybitEncoder, CancelCancelAllQueryDeadMan) {
  Encoder e = encoder();
  char buf[2048];
  auto n = e.encode_cancel(1, cid("en-7"), kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  std::string rq(buf, n.value);
  EXPECT_TRUE(rq.starts_with("POST /v5/order/cancel HTTP/1.1\r\n"));
  EXPECT_EQ(body_of(rq), R"({"category":"linear","symbol":"ETHUSDT","orderLinkId":"en-7"})");
  EXPECT_EQ(header_value(rq, "X-BAPI-SIGN"),
            openssl_hmac_hex(kSecret, "1672211928338" + std::string(kKey) + "5000" + body_of(rq)));

  n = e.encode_cancel_all(0, false, kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  rq.assign(buf, n.value);
  EXPECT_TRUE(rq.starts_with("POST /v5/order/cancel-all HTTP/1.1\r\n"));
  EXPECT_EQ(body_of(rq), R"({"category":"linear","symbol":"BTCUSDT"})");
  n = e.encode_cancel_all(0, true, kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(body_of(std::string(buf, n.value)),
            R"({"category":"linear","symbol":"BTCUSDT","orderFilter":"StopOrder"})");

  // A GET signs its query string, has no body and no Content-Type.
  n = e.encode_query(cid("en-7"), kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  rq.assign(buf, n.value);
  EXPECT_TRUE(rq.starts_with("GET /v5/order/realtime?category=linear&orderLinkId=en-7 HTTP/1.1\r\n")) << rq;
  EXPECT_TRUE(rq.ends_with("\r\n\r\n"));
  EXPECT_EQ(header_value(rq, "Content-Type"), "");
  EXPECT_EQ(header_value(rq, "X-BAPI-SIGN"),
            openssl_hmac_hex(kSecret, "1672211928338" + std::string(kKey) + "5000category=linear&orderLinkId=en-7"));

  n = e.encode_query(cid("en-7"), kTs, buf, sizeof buf, true);  // recently closed orders
  ASSERT_TRUE(n.ok());
  rq.assign(buf, n.value);
  EXPECT_TRUE(rq.starts_with("GET /v5/order/realtime?category=linear&orderLinkId=en-7&openOnly=1 HTTP/1.1\r\n")) << rq;
  EXPECT_EQ(header_value(rq, "X-BAPI-SIGN"),
            openssl_hmac_hex(kSecret,
                             "1672211928338" + std::string(kKey) + "5000category=linear&orderLinkId=en-7&openOnly=1"));

  n = e.encode_dead_man(10, kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  rq.assign(buf, n.value);
  EXPECT_TRUE(rq.starts_with("POST /v5/order/disconnected-cancel-all HTTP/1.1\r\n"));
  EXPECT_EQ(body_of(rq), R"({"product":"DERIVATIVES","timeWindow":10})");
  EXPECT_FALSE(e.encode_dead_man(2, kTs, buf, sizeof buf).ok());
  EXPECT_FALSE(e.encode_dead_man(301, kTs, buf, sizeof buf).ok());
  EXPECT_FALSE(e.encode_cancel(0, cid("x y"), kTs, buf, sizeof buf).ok());
  EXPECT_FALSE(e.encode_cancel_all(5, false, kTs, buf, sizeof buf).ok());
  EXPECT_FALSE(e.encode_query(cid(""), kTs, buf, sizeof buf).ok());
}

TEST(OmsBybitEncoder, RecvWindowAndHostFromConfig) {
  Config cfg;
  cfg.host = "api-testnet.bybit.com";
  cfg.recv_window_ms = 20000;
  Encoder e(registry(), std::string(kKey), Secret(kSecret), cfg);
  const std::string rq = encode(e, limit_buy());
  EXPECT_EQ(header_value(rq, "Host"), "api-testnet.bybit.com");
  EXPECT_EQ(header_value(rq, "X-BAPI-RECV-WINDOW"), "20000");
  EXPECT_EQ(header_value(rq, "X-BAPI-SIGN"),
            openssl_hmac_hex(kSecret, "1672211928338" + std::string(kKey) + "20000" + body_of(rq)));
  const auto h = e.signed_headers("category=linear&settleCoin=USDT", kTs);
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[3].first, "X-BAPI-SIGN");
  EXPECT_EQ(h[3].second,
            openssl_hmac_hex(kSecret, "1672211928338" + std::string(kKey) + "20000category=linear&settleCoin=USDT"));
  EXPECT_THROW(Encoder(registry(), "", Secret(kSecret)), Error);
  EXPECT_THROW(Encoder(registry(), "k\r\n", Secret(kSecret)), Error);
  EXPECT_THROW(Encoder(registry(), "k", Secret("")), Error);
}

// resign() gives, byte for byte, what a fresh encode at the new time gives; a foreign request is left alone.
TEST(OmsBybitEncoder, ResignEqualsFreshEncode) {
  Encoder e = encoder();
  char buf[2048], fresh[2048];
  for (int kind = 0; kind < 3; ++kind) {
    const auto make = [&](std::int64_t ts, char* out) {
      if (kind == 0) return e.encode_new(limit_buy(), ts, out, 2048);
      if (kind == 1) return e.encode_query(cid("en-9"), ts, out, 2048);
      return e.encode_cancel(0, cid("en-9"), ts, out, 2048);
    };
    const auto n = make(kTs, buf);
    ASSERT_TRUE(n.ok());
    const auto m = make(kTs + 4321, fresh);
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(n.value, m.value);
    EXPECT_NE(std::string(buf, n.value), std::string(fresh, m.value));
    ASSERT_TRUE(e.resign(buf, n.value, kTs + 4321));
    EXPECT_EQ(std::string(buf, n.value), std::string(fresh, m.value)) << kind;
  }
  // Another digit count, another key's request, not a request: false, nothing changed.
  const auto n = e.encode_new(limit_buy(), kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  const std::string before(buf, n.value);
  EXPECT_FALSE(e.resign(buf, n.value, 99));
  EXPECT_EQ(std::string(buf, n.value), before);
  Encoder other(registry(), "ZZZZZZZZZZ", Secret(kSecret));
  EXPECT_FALSE(other.resign(buf, n.value, kTs + 1));
  EXPECT_EQ(std::string(buf, n.value), before);
  std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_FALSE(e.resign(junk.data(), junk.size(), kTs));
  EXPECT_FALSE(e.resign(buf, 40, kTs));  // cut short
}

TEST(OmsBybitEncoder, WebSocketAuthSubscribePing) {
  Encoder e = encoder();
  const std::string sig = openssl_hmac_hex(kSecret, "GET/realtime1662350400000");
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_EQ(e.auth_message(1662350400000), R"({"op":"auth","args":["XXXXXXXXXX",1662350400000,")" + sig + R"("]})");
  EXPECT_EQ(Encoder::subscribe_message(),
            R"({"op":"subscribe","args":["order.linear","execution.linear","position.linear","wallet"]})");
  EXPECT_EQ(Encoder::subscribe_message(true),
            R"({"op":"subscribe","args":["order.linear","execution.linear","position.linear","wallet","dcp"]})");
  EXPECT_EQ(Encoder::ping_message(), R"({"op":"ping"})");
}

TEST(OmsBybitEncoder, EncodeAllocatesNothing) {
  Encoder e = encoder();
  char buf[2048];
  const OrderSpec o = limit_buy();
  test::AllocationScope scope;
  for (int i = 0; i < 50; ++i) {
    const auto n = e.encode_new(o, kTs + i, buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE(e.resign(buf, n.value, kTs + i + 1));
    ASSERT_TRUE(e.encode_cancel(0, o.req.client_id, kTs, buf, sizeof buf).ok());
    ASSERT_TRUE(e.encode_query(o.req.client_id, kTs, buf, sizeof buf).ok());
  }
  EXPECT_EQ(scope.count(), 0u);
}

// ---- private stream ----

TEST(OmsBybitUser, OrderCancelledFixture) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const auto e = decode(d, fixture("nautilus_crate_ws_account_order.json"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::report);
  EXPECT_EQ(d.last_count(), 1u);
  EXPECT_EQ(r.kind, ExecKind::canceled);
  EXPECT_EQ(r.status, OrderStatus::canceled);
  EXPECT_EQ(r.client_id.view(), "client-1");
  EXPECT_EQ(r.venue_order_id.view(), "abcdef123456");
  EXPECT_EQ(r.instrument, 0);
  EXPECT_EQ(r.side, Side::buy);
  EXPECT_EQ(r.cum_qty, Qty{});
  EXPECT_EQ(r.venue_time_ns, 1700000005000LL * 1'000'000);
  EXPECT_EQ(r.reason, Reason::none);
}

TEST(OmsBybitUser, OrderFilledFixtureIsAStatus) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const auto e = decode(d, fixture("nautilus_crate_ws_account_order_filled.json"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::status);
  EXPECT_EQ(r.status, OrderStatus::filled);
  EXPECT_EQ(r.cum_qty, qty("0.100"));
  EXPECT_EQ(r.last_px, px("30000.50"));  // avgPrice
  EXPECT_EQ(r.last_qty, Qty{});
  EXPECT_EQ(r.fee, Notional{});
  EXPECT_EQ(r.client_id.view(), "test-client-order-001");
  EXPECT_EQ(r.venue_order_id.view(), "5cf98598-39a7-459e-97bf-76ca765ee020");
  EXPECT_EQ(r.venue_time_ns, 1672364262457LL * 1'000'000);

  const auto partial = decode(d,
                              replace(replace(fixture("nautilus_crate_ws_account_order_filled.json"),
                                              R"("orderStatus": "Filled")", R"("orderStatus": "PartiallyFilled")"),
                                      R"("cumExecQty": "0.100")", R"("cumExecQty": "0.040")"),
                              r);
  ASSERT_TRUE(partial.ok()) << to_string(partial.error);
  EXPECT_EQ(r.kind, ExecKind::status);
  EXPECT_EQ(r.status, OrderStatus::partially_filled);
  EXPECT_EQ(r.cum_qty, qty("0.04"));
}

TEST(OmsBybitUser, ConditionalOrderLifecycle) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const std::string untriggered = fixture("nautilus_crate_ws_account_order_stop_market.json");
  auto e = decode(d, untriggered, r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::accepted);
  EXPECT_EQ(r.status, OrderStatus::accepted);
  EXPECT_EQ(r.side, Side::sell);
  EXPECT_EQ(r.client_id.view(), "test-client-stop-market-001");
  EXPECT_EQ(r.venue_order_id.view(), "test-stop-market-001");
  e = decode(d, replace(untriggered, R"("orderStatus": "Untriggered")", R"("orderStatus": "Triggered")"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::triggered);
  e = decode(d, replace(untriggered, R"("orderStatus": "Untriggered")", R"("orderStatus": "Deactivated")"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::canceled);
  EXPECT_EQ(r.status, OrderStatus::canceled);
  e = decode(d, replace(untriggered, R"("orderStatus": "Untriggered")", R"("orderStatus": "New")"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::accepted);
  e = decode(d, replace(untriggered, R"("orderStatus": "Untriggered")", R"("orderStatus": "Exploded")"), r);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error, Errc::unknown_message);
}

// An order placed without an orderLinkId (on the web site): the report names it by the venue's orderId only.
TEST(OmsBybitUser, OrderWithoutLinkIdNamesTheVenuesId) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const auto e = decode(
      d,
      replace(fixture("nautilus_crate_ws_account_order.json"), R"("orderLinkId": "client-1")", R"("orderLinkId": "")"),
      r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::report);
  EXPECT_TRUE(r.client_id.empty());
  EXPECT_EQ(r.venue_order_id.view(), "abcdef123456");
}

// The capture is a spot order ("category": "spot"): not this decoder's. As a linear order it is a rejection
// after 50 of 100 filled.
TEST(OmsBybitUser, RejectedAfterPartialFill) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const std::string spot = fixture("nautilus_crate_ws_account_order_partially_filled_rejected.json");
  auto e = decode(d, spot, r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::ignored);
  e = decode(d, replace(spot, R"("category": "spot")", R"("category": "linear")"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::report);
  EXPECT_EQ(r.kind, ExecKind::rejected);
  EXPECT_EQ(r.status, OrderStatus::rejected);
  EXPECT_EQ(r.reason, Reason::venue_error);
  EXPECT_EQ(r.cum_qty, qty("50"));
  EXPECT_EQ(r.last_px, px("1.5"));
  EXPECT_EQ(r.instrument, 2);
  EXPECT_EQ(r.client_id.view(), "O-20251001-164609-APEX-000-49");
  // A post-only order that would have taken liquidity.
  e = decode(d,
             replace(replace(spot, R"("category": "spot")", R"("category": "linear")"), R"("rejectReason": "UNKNOWN")",
                     R"("rejectReason": "EC_PostOnlyWillTakeLiquidity")"),
             r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(r.reason, Reason::post_only_would_cross);
}

TEST(OmsBybitUser, ExecutionFixtureIsAFillWithFee) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const auto e = decode(d, fixture("nautilus_crate_ws_account_execution.json"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::report);
  EXPECT_EQ(r.kind, ExecKind::fill);
  EXPECT_EQ(r.status, OrderStatus::filled);  // leavesQty 0
  EXPECT_EQ(r.last_qty, qty("0.5"));
  EXPECT_EQ(r.last_px, px("95900.1"));
  EXPECT_EQ(r.fee, money("26.3725275"));
  EXPECT_EQ(r.cum_qty, qty("0.5"));  // orderQty 0.5 - leavesQty 0
  EXPECT_FALSE(r.maker);
  EXPECT_EQ(r.side, Side::sell);
  EXPECT_EQ(r.client_id.view(), "test-order-link-001");
  EXPECT_EQ(r.venue_order_id.view(), "9aac161b-8ed6-450d-9cab-c5cc67c21784");
  EXPECT_EQ(r.venue_seq, 0u);  // execId is a UUID
  EXPECT_EQ(r.venue_time_ns, 1746270400353LL * 1'000'000);
}

TEST(OmsBybitUser, ExecutionMakerRebateAndPartial) {
  UserStreamDecoder d(registry());
  ExecReport r;
  std::string m = fixture("nautilus_crate_ws_account_execution.json");
  m = replace(m, R"("execFee": "26.3725275")", R"("execFee": "-0.5")");
  m = replace(m, R"("execQty": "0.5")", R"("execQty": "0.2")");
  m = replace(m, R"("leavesQty": "0")", R"("leavesQty": "0.3")");
  m = replace(m, R"("isMaker": false)", R"("isMaker": true)");
  m = replace(m, R"("execId": "0ab1bdf7-4219-438b-b30a-32ec863018f7")", R"("execId": "123456789")");
  const auto e = decode(d, m, r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::fill);
  EXPECT_EQ(r.status, OrderStatus::partially_filled);
  EXPECT_EQ(r.last_qty, qty("0.2"));
  EXPECT_EQ(r.cum_qty, qty("0.2"));
  EXPECT_EQ(r.fee, money("-0.5"));
  EXPECT_TRUE(r.maker);
  EXPECT_EQ(r.venue_seq, 123456789u);
  // Funding and other non-trade executions are not fills.
  auto f = decode(d,
                  replace(fixture("nautilus_crate_ws_account_execution.json"), R"("execType": "Trade")",
                          R"("execType": "Funding")"),
                  r);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f.value, UserEvent::ignored);
  // leavesQty above orderQty: nonsense.
  f = decode(
      d, replace(fixture("nautilus_crate_ws_account_execution.json"), R"("leavesQty": "0")", R"("leavesQty": "0.6")"),
      r);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error, Errc::out_of_range);
}

// One message, three elements: two trades of one order and a funding charge. decode(.., i) reads each;
// last_count() says how many there are; an index past the end is ignored.
TEST(OmsBybitUser, BatchedExecutionsAreReadOneByOne) {
  const std::string msg =
      R"({"topic":"execution","id":"x","creationTime":1746270400355,"data":[)"
      R"({"category":"linear","symbol":"BTCUSDT","execFee":"0.1","execId":"e1","execPrice":"95000","execQty":"0.2","execType":"Trade","leavesQty":"0.3","orderId":"o1","orderLinkId":"en-5","orderQty":"0.5","side":"Buy","execTime":"1746270400353","isMaker":true},)"
      R"({"category":"linear","symbol":"BTCUSDT","execFee":"0.2","execId":"e2","execPrice":"95001","execQty":"0.3","execType":"Trade","leavesQty":"0","orderId":"o1","orderLinkId":"en-5","orderQty":"0.5","side":"Buy","execTime":"1746270400354","isMaker":false},)"
      R"({"category":"linear","symbol":"ETHUSDT","execFee":"0.01","execId":"e3","execPrice":"3000","execQty":"1","execType":"Funding","leavesQty":"0","orderId":"","orderLinkId":"","orderQty":"0","side":"Sell","execTime":"1746270400354","isMaker":false}]})";
  UserStreamDecoder d(registry());
  ExecReport r;
  std::size_t fills = 0;
  Qty booked{};
  for (std::size_t i = 0;; ++i) {
    const auto e = decode(d, msg, r, i);
    ASSERT_TRUE(e.ok()) << i << ": " << to_string(e.error);
    if (e.value == UserEvent::report) {
      ++fills;
      booked = booked + r.last_qty;
      EXPECT_EQ(r.cum_qty, i == 0 ? qty("0.2") : qty("0.5"));
    }
    if (i + 1 >= d.last_count()) break;
  }
  EXPECT_EQ(d.last_count(), 3u);
  EXPECT_EQ(fills, 2u);
  EXPECT_EQ(booked, qty("0.5"));
  const auto past = decode(d, msg, r, 3);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(past.value, UserEvent::ignored);
  EXPECT_EQ(d.last_count(), 3u);
}

// Bybit reports a trade on both topics; whichever comes second books nothing (cum_qty), in either order.
TEST(OmsBybitUser, FillNeverBookedTwice) {
  UserStreamDecoder d(registry());
  ExecReport exec, order;
  // The execution fixture and the order fixture edited to be the same order: 0.5 sold, filled.
  ASSERT_TRUE(decode(d, fixture("nautilus_crate_ws_account_execution.json"), exec).ok());
  std::string m = fixture("nautilus_crate_ws_account_order_filled.json");
  m = replace(m, R"("orderLinkId": "test-client-order-001")", R"("orderLinkId": "test-order-link-001")");
  m = replace(m, R"("cumExecQty": "0.100")", R"("cumExecQty": "0.5")");
  m = replace(m, R"("qty": "0.100")", R"("qty": "0.5")");
  ASSERT_TRUE(decode(d, m, order).ok());
  ASSERT_EQ(order.kind, ExecKind::status);
  for (const bool exec_first : {true, false}) {
    OrderState o{};
    o.spec.req.client_id = cid("test-order-link-001");
    o.spec.req.qty = qty("0.5");
    o.status = OrderStatus::accepted;
    const ApplyResult a1 = apply(o, exec_first ? exec : order);
    const ApplyResult a2 = apply(o, exec_first ? order : exec);
    EXPECT_EQ(a1.fill_qty, qty("0.5")) << exec_first;
    EXPECT_EQ(a2.fill_qty, Qty{}) << exec_first;
    EXPECT_EQ(o.filled, qty("0.5"));
    EXPECT_EQ(o.status, OrderStatus::filled);
    // Execution first: booked at the trade price with its fee; order first: at the average price, no fee.
    EXPECT_EQ(a1.fill_px, exec_first ? px("95900.1") : px("30000.50"));
    EXPECT_EQ(o.fees, exec_first ? money("26.3725275") : Notional{});
  }
}

TEST(OmsBybitUser, ControlAndOtherTopics) {
  UserStreamDecoder d(registry());
  ExecReport r;
  for (const char* name : {"nautilus_crate_ws_auth_success.json", "nautilus_crate_ws_subscription_ack.json",
                           "nautilus_crate_ws_order_response.json", "nautilus_crate_ws_account_position.json",
                           "nautilus_crate_ws_account_wallet.json", "nautilus_crate_ws_account_execution_fast.json"}) {
    const auto e = decode(d, fixture(name), r);
    ASSERT_TRUE(e.ok()) << name << ": " << to_string(e.error);
    EXPECT_EQ(e.value, UserEvent::ignored) << name;
  }
  for (const char* msg : {R"({"req_id":"1","op":"pong","args":["1675418560633"],"conn_id":"c"})",
                          R"({"success":true,"ret_msg":"pong","conn_id":"c","op":"ping"})",
                          R"({"topic":"dcp","data":[{"dcpStatus":"ON","timeWindow":10}]})"}) {
    const auto e = decode(d, msg, r);
    ASSERT_TRUE(e.ok()) << msg << ": " << to_string(e.error);
    EXPECT_EQ(e.value, UserEvent::ignored) << msg;
  }
  const auto sub = decode(d, fixture("nautilus_crate_ws_subscription_failure.json"), r);
  ASSERT_FALSE(sub.ok());
  EXPECT_EQ(sub.error, Errc::unknown_message);
}

TEST(OmsBybitUser, AuthFailureIsListenKeyExpiredWithItsCode) {
  UserStreamDecoder d(registry());
  ExecReport r;
  EXPECT_EQ(d.last_refusal_code(), 0);
  const auto e = decode(d, fixture("nautilus_crate_ws_auth_failure.json"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::listen_key_expired);
  EXPECT_EQ(d.last_refusal_code(), 10003);
  EXPECT_TRUE(credentials_refused(d.last_refusal_code()));
}

TEST(OmsBybitUser, MalformedInputIsAnErrorNeverACrash) {
  UserStreamDecoder d(registry());
  ExecReport r;
  for (
      const char* msg :
      {"", "{", "[]", "null", "<html>", R"({"topic":1})", R"({"data":[]})", R"({"topic":"order"})",
       R"({"topic":"order","data":{}})", R"({"topic":"order","data":[1]})",
       R"({"topic":"order","data":[{"symbol":"BTCUSDT","side":"Buy"}]})",
       R"({"topic":"order","data":[{"symbol":"NOPE","side":"Buy","orderStatus":"New"}]})",
       R"({"topic":"order","data":[{"symbol":"BTCUSDT","side":"Up","orderStatus":"New"}]})",
       R"({"topic":"execution","data":[{"symbol":"BTCUSDT","side":"Buy","execType":"Trade"}]})",
       R"({"topic":"execution","data":[{"symbol":"BTCUSDT","side":"Buy","execType":"Trade","execQty":"0","execPrice":"1","orderQty":"1","leavesQty":"1"}]})",
       R"({"op":"auth"})"}) {
    const auto e = decode(d, msg, r);
    EXPECT_FALSE(e.ok()) << msg;
  }
  // Every truncation of every fixture: an error or a well-formed answer, never a crash (ASan runs this too).
  for (const char* name : {"nautilus_crate_ws_account_order.json", "nautilus_crate_ws_account_execution.json",
                           "nautilus_crate_http_get_orders_realtime.json"}) {
    const std::string full = fixture(name);
    ASSERT_FALSE(full.empty()) << name;
    for (std::size_t n = 0; n < full.size(); n += 7) {
      (void)decode(d, full.substr(0, n), r);
      RestAnswer a;
      (void)d.decode_rest(RestRequest::query, 200, full.substr(0, n), cid("x"), kInvalidInstrument, a);
    }
  }
  // Too large for the decoder.
  UserStreamDecoder small(registry(), Venue::bybit, 64);
  const auto e = decode(small, fixture("nautilus_crate_ws_account_order.json"), r);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error, Errc::capacity);
}

TEST(OmsBybitUser, DecodeAllocatesNothing) {
  UserStreamDecoder d(registry());
  ExecReport r;
  RestAnswer a;
  const std::string order = fixture("nautilus_crate_ws_account_order_filled.json");
  const std::string exec = fixture("nautilus_crate_ws_account_execution.json");
  const std::string wallet = fixture("nautilus_crate_ws_account_wallet.json");
  const std::string query = fixture("nautilus_crate_http_get_orders_realtime.json");
  (void)decode(d, order, r);  // warm up
  test::AllocationScope scope;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(decode(d, order, r).ok());
    ASSERT_TRUE(decode(d, exec, r).ok());
    ASSERT_TRUE(decode(d, wallet, r).ok());
    ASSERT_EQ(d.decode_rest(RestRequest::query, 200, query, cid("client-open-1"), 1, a), Errc::ok);
  }
  EXPECT_EQ(scope.count(), 0u);
}

// ---- REST answers ----

TEST(OmsBybitRest, NewOrderCancelAndRefusals) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  const std::string ok =
      R"({"retCode":0,"retMsg":"OK","result":{"orderId":"1321003749386327552","orderLinkId":"en-1"},"retExtInfo":{},"time":1672211918471})";
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 200, ok, cid("en-1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::accepted);
  EXPECT_EQ(a.report.status, OrderStatus::accepted);
  EXPECT_EQ(a.report.venue_order_id.view(), "1321003749386327552");
  EXPECT_EQ(a.report.client_id.view(), "en-1");
  EXPECT_FALSE(a.unknown);

  ASSERT_EQ(d.decode_rest(RestRequest::cancel, 200, ok, cid("en-1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::status);
  EXPECT_EQ(a.report.status, OrderStatus::pending_cancel);  // only accepted; the stream's Cancelled ends it

  ASSERT_EQ(
      d.decode_rest(RestRequest::cancel_all, 200, R"({"retCode":0,"retMsg":"OK","result":{"list":[]}})", {}, 0, a),
      Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.venue_code, 0);

  const auto refusal = [](int code) {
    return R"({"retCode":)" + std::to_string(code) + R"(,"retMsg":"x","result":{},"retExtInfo":{},"time":1})";
  };
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 200, refusal(110007), cid("en-1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::rejected);
  EXPECT_EQ(a.report.status, OrderStatus::rejected);
  EXPECT_EQ(a.report.reason, Reason::insufficient_margin);
  EXPECT_EQ(a.venue_code, 110007);
  ASSERT_EQ(d.decode_rest(RestRequest::cancel, 200, refusal(110001), cid("en-1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::cancel_rejected);
  EXPECT_EQ(a.report.reason, Reason::order_not_found);
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 200, refusal(10006), cid("en-1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.reason, Reason::venue_error);
  EXPECT_FALSE(a.unknown);
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 200, refusal(110072), cid("en-1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.reason, Reason::invalid_order);
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 401, refusal(10004), cid("en-1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::rejected);
  EXPECT_EQ(a.venue_code, 10004);
  EXPECT_TRUE(credentials_refused(a.venue_code));
  ASSERT_EQ(d.decode_rest(RestRequest::countdown, 200, refusal(10005), {}, 0, a), Errc::ok);
  EXPECT_EQ(a.venue_code, 10005);
  EXPECT_FALSE(a.unknown);
  // A refused query says nothing: unknown, code kept.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, refusal(10006), cid("en-1"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(a.venue_code, 10006);
}

TEST(OmsBybitRest, NoUsableAnswerIsUnknown) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  EXPECT_EQ(d.decode_rest(RestRequest::new_order, 0, "", cid("en-1"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(a.report.status, OrderStatus::unknown);
  EXPECT_EQ(d.decode_rest(RestRequest::new_order, 502, "<html>bad gateway</html>", cid("en-1"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(
      d.decode_rest(RestRequest::new_order, 200, R"({"retCode":10016,"retMsg":"Server error"})", cid("en-1"), 0, a),
      Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(a.venue_code, 0);
  EXPECT_NE(d.decode_rest(RestRequest::new_order, 200, "<html>", cid("en-1"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_NE(d.decode_rest(RestRequest::new_order, 200, R"({"retMsg":"OK"})", cid("en-1"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_NE(d.decode_rest(RestRequest::new_order, 200, R"({"retCode":0,"result":{}})", cid("en-1"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_NE(d.decode_rest(RestRequest::new_order, 403, R"({"retCode":0,"result":{"orderId":"1"}})", cid("en-1"), 0, a),
            Errc::ok);
  EXPECT_TRUE(a.unknown);
}

TEST(OmsBybitRest, QueryFromRealtimeFixture) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  const std::string body = fixture("nautilus_crate_http_get_orders_realtime.json");
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, body, cid("client-open-1"), kInvalidInstrument, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.report.kind, ExecKind::status);
  EXPECT_EQ(a.report.status, OrderStatus::accepted);  // New, nothing filled
  EXPECT_EQ(a.report.instrument, 1);                  // ETHUSDT, from the symbol
  EXPECT_EQ(a.report.venue_order_id.view(), "open-order-1");
  EXPECT_EQ(a.report.side, Side::buy);
  EXPECT_EQ(a.report.cum_qty, Qty{});
  EXPECT_EQ(a.report.last_px, Price{});  // avgPrice null
  EXPECT_EQ(a.report.venue_time_ns, 1761355905606LL * 1'000'000);
  // Partly filled at 3930.41 on average.
  std::string part = replace(body, R"("orderStatus": "New")", R"("orderStatus": "PartiallyFilled")");
  part = replace(part, R"("cumExecQty": "0")", R"("cumExecQty": "0.004")");
  part = replace(part, R"("avgPrice": null)", R"("avgPrice": "3930.41")");
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, part, cid("client-open-1"), 1, a), Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::partially_filled);
  EXPECT_EQ(a.report.cum_qty, qty("0.004"));
  EXPECT_EQ(a.report.last_px, px("3930.41"));
  EXPECT_EQ(a.report.fee, Notional{});  // "cumExecFee": "0"
  // The order's fees so far (cumExecFee, positive = paid) travel with the status.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, replace(part, R"("cumExecFee": "0")", R"("cumExecFee": "0.00864690")"),
                          cid("client-open-1"), 1, a),
            Errc::ok);
  EXPECT_EQ(a.report.fee, Notional::parse("0.0086469").value);
  ASSERT_EQ(
      d.decode_rest(RestRequest::query, 200, replace(body, R"("orderStatus": "New")", R"("orderStatus": "Cancelled")"),
                    cid("client-open-1"), 1, a),
      Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::canceled);
  // An answer about another order is not an answer.
  EXPECT_NE(d.decode_rest(RestRequest::query, 200, body, cid("client-open-2"), 1, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  // No such order: an empty list.
  ASSERT_EQ(
      d.decode_rest(
          RestRequest::query, 200,
          R"({"retCode":0,"retMsg":"OK","result":{"list":[],"nextPageCursor":"","category":"linear"},"retExtInfo":{},"time":1})",
          cid("en-1"), 0, a),
      Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.report.reason, Reason::order_not_found);
  EXPECT_EQ(a.venue_code, 0);
}

TEST(OmsBybitRest, ReasonFromCode) {
  EXPECT_EQ(reason_from_code(110007), Reason::insufficient_margin);
  EXPECT_EQ(reason_from_code(110044), Reason::insufficient_margin);
  EXPECT_EQ(reason_from_code(110001), Reason::order_not_found);
  EXPECT_EQ(reason_from_code(10001), Reason::invalid_order);
  EXPECT_EQ(reason_from_code(110017), Reason::reduce_only_would_increase);
  EXPECT_EQ(reason_from_code(10006), Reason::venue_error);
  EXPECT_EQ(reason_from_code(10018), Reason::venue_error);
  EXPECT_EQ(reason_from_code(10004), Reason::venue_error);
  for (const int c : {10003, 10004, 10005, 10007, 10009, 10010, 33004}) EXPECT_TRUE(credentials_refused(c)) << c;
  for (const int c : {0, 10001, 10006, 110007, 400003, -2015}) EXPECT_FALSE(credentials_refused(c)) << c;
}

// ---- start-up readers ----

TEST(OmsBybitColdPath, OpenOrders) {
  std::string cursor = "unset";
  const auto orders =
      parse_open_orders(fixture("nautilus_crate_http_get_orders_realtime.json"), registry(), Venue::bybit, &cursor);
  EXPECT_EQ(cursor, "");
  ASSERT_EQ(orders.size(), 2u);
  EXPECT_EQ(orders[0].client_id.view(), "client-open-1");
  EXPECT_EQ(orders[0].order_id, "open-order-1");
  EXPECT_EQ(orders[0].instrument, 1);
  EXPECT_EQ(orders[0].side, Side::buy);
  EXPECT_EQ(orders[0].type, risk::OrderType::limit);
  EXPECT_EQ(orders[0].price, px("3930.41"));
  EXPECT_EQ(orders[0].qty, qty("0.010"));
  EXPECT_EQ(orders[0].stop_price, Price{});
  EXPECT_EQ(orders[1].side, Side::sell);
  EXPECT_EQ(orders[1].price, px("3940.42"));

  const auto tpsl = parse_open_orders(fixture("nautilus_crate_http_get_orders_realtime_tp_sl.json"), registry());
  ASSERT_EQ(tpsl.size(), 2u);
  // A sell market order that fires when the price rises to 55000: a take-profit of a long.
  EXPECT_EQ(tpsl[0].type, risk::OrderType::take_profit_market);
  EXPECT_EQ(tpsl[0].side, Side::sell);
  EXPECT_EQ(tpsl[0].stop_price, px("55000"));
  EXPECT_EQ(tpsl[0].qty, qty("0.5"));
  EXPECT_TRUE(tpsl[0].reduce_only);
  EXPECT_EQ(tpsl[0].instrument, 0);
  // A conditional limit (stop-limit) order.
  EXPECT_EQ(tpsl[1].type, risk::OrderType::limit);
  EXPECT_EQ(tpsl[1].price, px("47500"));
  EXPECT_EQ(tpsl[1].stop_price, px("48000"));

  EXPECT_THROW((void)parse_open_orders(R"({"retCode":10003,"retMsg":"API key is invalid."})", registry()), Error);
  EXPECT_THROW((void)parse_open_orders("nope", registry()), Error);
  EXPECT_THROW(
      (void)parse_open_orders(R"({"retCode":0,"result":{"list":[{"orderId":"1","side":"Up","qty":"1"}]}})", registry()),
      Error);
}

TEST(OmsBybitColdPath, Positions) {
  const auto pos = parse_positions(fixture("nautilus_crate_http_get_positions.json"), registry());
  ASSERT_EQ(pos.size(), 3u);
  EXPECT_EQ(pos[0].symbol, "BTCUSDT");
  EXPECT_EQ(pos[0].instrument, 0);
  EXPECT_EQ(pos[0].signed_qty, qty("0.5"));
  EXPECT_EQ(pos[0].entry_px, px("50000"));
  EXPECT_EQ(pos[1].symbol, "ETHUSDT");
  EXPECT_EQ(pos[1].signed_qty, qty("-5"));
  EXPECT_EQ(pos[1].entry_px, px("3000"));
  EXPECT_EQ(pos[2].symbol, "SOLUSDT");
  EXPECT_EQ(pos[2].instrument, kInvalidInstrument);
  EXPECT_EQ(pos[2].signed_qty, Qty{});
  EXPECT_THROW((void)parse_positions(R"({"retCode":0,"result":{"list":[{"symbol":"BTCUSDT","side":"","size":"1"}]}})",
                                     registry()),
               Error);
  EXPECT_THROW((void)parse_positions(R"({"retCode":10005,"retMsg":"Permission denied"})", registry()), Error);
}

TEST(OmsBybitColdPath, ApiKeyInfo) {
  const std::string body = fixture("nautilus_crate_http_get_user_query_api.json");
  ApiKeyInfo k = parse_api_key_info(body);
  EXPECT_FALSE(k.can_withdraw);
  EXPECT_TRUE(k.can_transfer);  // Wallet: AccountTransfer, SubMemberTransfer (the latter moves funds to other UIDs)
  EXPECT_TRUE(k.can_move_funds_out());
  EXPECT_TRUE(k.read_only);
  EXPECT_EQ(k.ip_whitelist, "18.181.170.164,13.212.45.47,13.212.45.48");
  EXPECT_NE(k.permissions.find("Wallet:AccountTransfer,SubMemberTransfer"), std::string::npos) << k.permissions;
  // Withdraw without transfers; no IP binding.
  std::string w = replace(body, R"("AccountTransfer",
        "SubMemberTransfer")",
                          R"("Withdraw")");
  w = replace(w, R"("18.181.170.164",
      "13.212.45.47",
      "13.212.45.48")",
              R"("*")");
  w = replace(w, R"("readOnly": 1)", R"("readOnly": 0)");
  k = parse_api_key_info(w);
  EXPECT_TRUE(k.can_withdraw);
  EXPECT_FALSE(k.can_transfer);
  EXPECT_FALSE(k.read_only);
  EXPECT_EQ(k.ip_whitelist, "");
  // AccountTransfer alone moves funds between the key holder's own accounts only: not out.
  k = parse_api_key_info(replace(body, R"("AccountTransfer",
        "SubMemberTransfer")",
                                 R"("AccountTransfer")"));
  EXPECT_FALSE(k.can_move_funds_out());
  // A trade-only key moves nothing out.
  k = parse_api_key_info(replace(body, R"("AccountTransfer",
        "SubMemberTransfer")",
                                 ""));
  EXPECT_FALSE(k.can_move_funds_out());
  // Wherever the venue lists it, a withdrawal permission counts.
  k = parse_api_key_info(
      R"({"retCode":0,"result":{"readOnly":0,"permissions":{"Spot":["SpotTrade","withdraw"]},"ips":["*"]}})");
  EXPECT_TRUE(k.can_withdraw);
  EXPECT_FALSE(k.can_transfer);
  EXPECT_THROW((void)parse_api_key_info(R"({"retCode":0,"result":{}})"), Error);
  EXPECT_THROW((void)parse_api_key_info(R"({"retCode":10003,"retMsg":"x"})"), Error);
}
