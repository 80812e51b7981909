// OKX V5 USDT-margined swaps: the order-entry encoder (oms/venues/okx_swap) and what comes back
// (oms/venues/okx_swap_user): private streams (orders / orders-algo channels) and REST answers -> ExecReports,
// and the start-up readers (pending orders and algo orders, positions, balance, account configuration). Stream
// and REST messages are the captures in data/okx/nautilus_crate_*.json (see data/okx/ATTRIBUTION.md), small edits
// of them named in each test, or hand-written messages shaped as the OKX docs' examples
// (https://www.okx.com/docs-v5/en/) where the fixtures have none; expected values are worked out by hand from the
// message text. Signatures are checked against the openssl command line tool, an implementation independent of
// oms/signing, and two are pinned as constants computed with it (the command is next to each).
#include "oms/venues/okx_swap.hpp"
#include "oms/venues/okx_swap_user.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "oms/order_state.hpp"
#include "tests/support/alloc_counter.hpp"

using namespace enigma;
using namespace enigma::oms;
using namespace enigma::oms::okx_swap;

namespace {

// BTC-USDT-SWAP (id 0, lot 0.01 contract, ctVal 0.01 BTC), ETH-USDT-SWAP (id 1, lot 0.01, ctVal 0.1 ETH),
// BTC-USD-SWAP (id 2, an inverse swap: fees in BTC). Sizes in contracts, as OKX counts them.
InstrumentRegistry& registry() {
  static InstrumentRegistry r = [] {
    InstrumentRegistry reg;
    InstrumentSpec s{};
    s.venue = Venue::okx;
    s.kind = InstrumentKind::linear_perpetual;
    s.symbol = Symbol("BTC-USDT-SWAP");
    s.tick = Price::parse("0.1").value;
    s.lot = Qty::parse("0.01").value;
    s.multiplier = Qty::parse("0.01").value;
    (void)reg.add(s);
    s.symbol = Symbol("ETH-USDT-SWAP");
    s.tick = Price::parse("0.01").value;
    s.multiplier = Qty::parse("0.1").value;
    (void)reg.add(s);
    s.kind = InstrumentKind::inverse_perpetual;
    s.symbol = Symbol("BTC-USD-SWAP");
    s.tick = Price::parse("0.1").value;
    s.lot = Qty::parse("1").value;
    s.multiplier = Qty::parse("100").value;
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
  std::ifstream f(std::string(ENIGMA_SOURCE_DIR) + "/data/okx/" + name, std::ios::binary);
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

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  EXPECT_NE(s.find(from), std::string::npos) << from;
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// The spot captures as swap messages: instType and instId renamed, nothing else.
std::string as_swap(const std::string& spot) {
  return replace_all(replace_all(spot, R"("instType": "SPOT")", R"("instType": "SWAP")"), R"("instId": "BTC-USDT")",
                     R"("instId": "BTC-USDT-SWAP")");
}

Result<UserEvent> decode(UserStreamDecoder& d, const std::string& msg, ExecReport& out, std::size_t index = 0) {
  return d.decode(msg, msg.size(), out, index);  // unpadded: the decoder copies into its padded buffer
}

// Independent Base64 HMAC-SHA256 of `msg` with `key` by the openssl command line tool.
std::string openssl_hmac_base64(std::string_view key, std::string_view msg) {
  const std::string file = ::testing::TempDir() + "okx_hmac_msg.bin";
  {
    std::ofstream f(file, std::ios::binary);
    f << msg;
  }
  const std::string cmd =
      "openssl dgst -sha256 -hmac '" + std::string(key) + "' -binary < '" + file + "' | openssl base64 -A";
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

// The request path (with its query) of the request line "METHOD path HTTP/1.1".
std::string path_of(std::string_view req) {
  const std::size_t a = req.find(' ');
  return std::string(req.substr(a + 1, req.find(" HTTP/1.1") - a - 1));
}

// The docs' examples: apiKey and passphrase of the WebSocket login example, secretKey of its signature text,
// timestamp of the REST authentication example (2020-12-08T09:08:57.715Z).
constexpr std::string_view kKey = "985d5b66-57ce-40fb-b714-afc0b9787083";
constexpr std::string_view kSecret = "22582BD0CFF14C41EDBF1AB98506286D";
constexpr std::string_view kPassphrase = "123456";
constexpr std::int64_t kTs = 1607418537715;
constexpr std::string_view kTsText = "2020-12-08T09:08:57.715Z";

Encoder encoder(Config cfg = {}) {
  return Encoder(registry(), std::string(kKey), Secret(kSecret), Secret(kPassphrase), cfg);
}

OrderSpec limit_buy() {
  OrderSpec o{};
  o.req.client_id = cid("en1");
  o.req.instrument = 0;
  o.req.venue = Venue::okx;
  o.req.side = Side::buy;
  o.req.type = OrderType::limit;
  o.req.tif = TimeInForce::gtc;
  o.req.price = px("30000.5");
  o.req.qty = qty("2");
  o.req.reference_price = px("30000");
  return o;
}

std::string encode(Encoder& e, const OrderSpec& o, std::int64_t ts = kTs) {
  char buf[4096];
  const auto n = e.encode_new(o, ts, buf, sizeof buf);
  EXPECT_TRUE(n.ok()) << to_string(n.error);
  return n.ok() ? std::string(buf, n.value) : std::string{};
}

// What OKX signs: timestamp + METHOD + requestPath (with query) + body.
std::string expected_sign(std::string_view rq) {
  const std::string method(rq.substr(0, rq.find(' ')));
  return openssl_hmac_base64(kSecret, std::string(kTsText) + method + path_of(rq) + body_of(rq));
}

}  // namespace

// ---- encoder ----

TEST(OmsOkxEncoder, LimitOrderRequestAndSignature) {
  Encoder e = encoder();
  const std::string rq = encode(e, limit_buy());
  const std::string body =
      R"({"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","ordType":"limit","px":"30000.5","sz":"2","clOrdId":"en1"})";
  EXPECT_EQ(body_of(rq), body);
  EXPECT_TRUE(rq.starts_with("POST /api/v5/trade/order HTTP/1.1\r\nHost: www.okx.com\r\n")) << rq;
  EXPECT_EQ(header_value(rq, "OK-ACCESS-KEY"), kKey);
  EXPECT_EQ(header_value(rq, "OK-ACCESS-PASSPHRASE"), kPassphrase);  // as typed, not signed (unlike KuCoin)
  EXPECT_EQ(header_value(rq, "OK-ACCESS-TIMESTAMP"), kTsText);
  EXPECT_EQ(header_value(rq, "Content-Type"), "application/json");
  EXPECT_EQ(header_value(rq, "Content-Length"), std::to_string(body.size()));
  EXPECT_EQ(header_value(rq, "x-simulated-trading"), "");
  const std::string expected = openssl_hmac_base64(kSecret, std::string(kTsText) + "POST/api/v5/trade/order" + body);
  ASSERT_EQ(expected.size(), 44u) << "openssl CLI not available?";
  EXPECT_EQ(header_value(rq, "OK-ACCESS-SIGN"), expected);
  // Pinned: printf '%s' '2020-12-08T09:08:57.715ZPOST/api/v5/trade/order<body above>' |
  //   openssl dgst -sha256 -hmac '22582BD0CFF14C41EDBF1AB98506286D' -binary | base64
  EXPECT_EQ(expected, "LJHUGpZhkmOLUHYRKvRdNSOQH4rhpcmYsTmHNbiO2aM=");
  char sig[kSha256Base64Size];
  e.sign(kTsText, "POST", "/api/v5/trade/order", body, sig);
  EXPECT_EQ(std::string(sig, sizeof sig), expected);
}

// OK-ACCESS-TIMESTAMP is ISO-8601 UTC with milliseconds; the expected texts are `date -u -d @<seconds> +%FT%T`.
TEST(OmsOkxEncoder, TimestampIsIso8601WithMilliseconds) {
  const auto text = [](std::int64_t ms) {
    char buf[Encoder::kTimestampSize];
    return Encoder::format_timestamp(ms, buf) ? std::string(buf, sizeof buf) : std::string("refused");
  };
  EXPECT_EQ(text(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(text(951782400000), "2000-02-29T00:00:00.000Z");  // a leap day of a century leap year
  EXPECT_EQ(text(951782399999), "2000-02-28T23:59:59.999Z");
  EXPECT_EQ(text(1607418537715), "2020-12-08T09:08:57.715Z");  // the docs' example
  EXPECT_EQ(text(1607418537005), "2020-12-08T09:08:57.005Z");
  EXPECT_EQ(text(253402300799999), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(text(-1), "refused");
  EXPECT_EQ(text(253402300800000), "refused");
  Encoder e = encoder();
  char buf[2048];
  const auto n = e.encode_new(limit_buy(), -1, buf, sizeof buf);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error, Errc::out_of_range);
}

TEST(OmsOkxEncoder, TimeInForceReduceOnlyAndMarket) {
  Encoder e = encoder();
  OrderSpec o = limit_buy();
  o.req.tif = TimeInForce::post_only;
  o.req.side = Side::sell;
  o.req.reduce_only = true;
  EXPECT_EQ(
      body_of(encode(e, o)),
      R"({"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"sell","ordType":"post_only","px":"30000.5","sz":"2","clOrdId":"en1","reduceOnly":true})");
  o.req.tif = TimeInForce::ioc;
  EXPECT_NE(body_of(encode(e, o)).find(R"("ordType":"ioc")"), std::string::npos);
  o.req.tif = TimeInForce::fok;
  EXPECT_NE(body_of(encode(e, o)).find(R"("ordType":"fok")"), std::string::npos);
  o = limit_buy();
  o.req.type = OrderType::market;
  o.req.tif = TimeInForce::ioc;  // a market order is "market" whatever its tif
  o.req.price = Price{};
  o.req.qty = qty("0.37");
  o.req.instrument = 1;
  EXPECT_EQ(
      body_of(encode(e, o)),
      R"({"instId":"ETH-USDT-SWAP","tdMode":"cross","side":"buy","ordType":"market","sz":"0.37","clOrdId":"en1"})");
}

// Stops are algo orders: a stop-loss leg for stop_market, a take-profit leg for take_profit_market, each
// executed at market (-1) when the last price reaches the trigger.
TEST(OmsOkxEncoder, StopAndTakeProfitAreConditionalAlgoOrders) {
  Encoder e = encoder();
  OrderSpec o = limit_buy();
  o.req.client_id = cid("sl7");
  o.req.type = OrderType::stop_market;
  o.req.side = Side::sell;
  o.req.price = Price{};
  o.req.stop_price = px("29000");
  o.req.reduce_only = true;
  std::string rq = encode(e, o);
  EXPECT_TRUE(rq.starts_with("POST /api/v5/trade/order-algo HTTP/1.1\r\n")) << rq;
  EXPECT_EQ(
      body_of(rq),
      R"({"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"sell","ordType":"conditional","sz":"2","algoClOrdId":"sl7","slTriggerPx":"29000","slOrdPx":"-1","slTriggerPxType":"last","reduceOnly":true})");
  EXPECT_EQ(header_value(rq, "OK-ACCESS-SIGN"), expected_sign(rq));
  o.req.type = OrderType::take_profit_market;
  o.req.stop_price = px("31000.5");
  rq = encode(e, o);
  EXPECT_EQ(
      body_of(rq),
      R"({"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"sell","ordType":"conditional","sz":"2","algoClOrdId":"sl7","tpTriggerPx":"31000.5","tpOrdPx":"-1","tpTriggerPxType":"last","reduceOnly":true})");
}

TEST(OmsOkxEncoder, RefusesWhatOkxWouldRefuse) {
  Encoder e = encoder();
  char buf[2048];
  const auto refused = [&](const OrderSpec& o) {
    const auto n = e.encode_new(o, kTs, buf, sizeof buf);
    return !n.ok() && n.error == Errc::out_of_range;
  };
  OrderSpec o = limit_buy();
  o.req.qty = qty("0.015");  // not a multiple of BTC-USDT-SWAP's lot 0.01 (51121)
  EXPECT_TRUE(refused(o));
  o.req.qty = qty("0.01");  // one lot
  EXPECT_FALSE(refused(o));
  o.req.qty = Qty{};
  EXPECT_TRUE(refused(o));
  o = limit_buy();
  o.req.instrument = 2;
  o.req.qty = qty("1.5");  // BTC-USD-SWAP trades whole contracts
  EXPECT_TRUE(refused(o));
  o = limit_buy();
  o.req.type = OrderType::trailing_stop;
  o.req.stop_price = px("29000");
  EXPECT_TRUE(refused(o));
  o = limit_buy();
  o.display_qty = qty("1");  // no iceberg on this path
  EXPECT_TRUE(refused(o));
  o = limit_buy();
  o.req.client_id = cid("a2345678901234567890123456789012");  // 32 characters: fine
  EXPECT_FALSE(refused(o));
  for (const char* bad : {"a23456789012345678901234567890123" /* 33 */, "en-1", "en_1", "1abc", "", "en 1"}) {
    o.req.client_id = cid(bad);
    EXPECT_TRUE(refused(o)) << bad;
  }
  o = limit_buy();
  o.req.instrument = 99;
  EXPECT_TRUE(refused(o));
  o = limit_buy();
  o.req.price = Price{};  // a limit without a price
  EXPECT_TRUE(refused(o));
  o = limit_buy();
  o.req.type = OrderType::stop_market;  // no stop price
  EXPECT_TRUE(refused(o));
  // Too small a buffer: capacity, never a partial request.
  const auto n = e.encode_new(limit_buy(), kTs, buf, 100);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error, Errc::capacity);
}

TEST(OmsOkxEncoder, CancelBatchQueryDeadMan) {
  Encoder e = encoder();
  char buf[4096];
  auto n = e.encode_cancel(1, cid("en7"), false, kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  std::string rq(buf, n.value);
  EXPECT_TRUE(rq.starts_with("POST /api/v5/trade/cancel-order HTTP/1.1\r\n"));
  EXPECT_EQ(body_of(rq), R"({"instId":"ETH-USDT-SWAP","clOrdId":"en7"})");
  EXPECT_EQ(header_value(rq, "OK-ACCESS-SIGN"), expected_sign(rq));

  // An algo order: cancel-algos takes an array, even of one.
  n = e.encode_cancel(0, cid("sl7"), true, kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  rq.assign(buf, n.value);
  EXPECT_TRUE(rq.starts_with("POST /api/v5/trade/cancel-algos HTTP/1.1\r\n"));
  EXPECT_EQ(body_of(rq), R"([{"instId":"BTC-USDT-SWAP","algoClOrdId":"sl7"}])");
  EXPECT_EQ(header_value(rq, "OK-ACCESS-SIGN"), expected_sign(rq));

  const std::vector<ClientOrderId> three{cid("en1"), cid("en2"), cid("en3")};
  n = e.encode_cancel_batch(0, three, false, kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  rq.assign(buf, n.value);
  EXPECT_TRUE(rq.starts_with("POST /api/v5/trade/cancel-batch-orders HTTP/1.1\r\n"));
  EXPECT_EQ(
      body_of(rq),
      R"([{"instId":"BTC-USDT-SWAP","clOrdId":"en1"},{"instId":"BTC-USDT-SWAP","clOrdId":"en2"},{"instId":"BTC-USDT-SWAP","clOrdId":"en3"}])");
  EXPECT_EQ(header_value(rq, "OK-ACCESS-SIGN"), expected_sign(rq));
  // Limits: 20 orders, 10 algo orders.
  std::vector<ClientOrderId> many;
  for (int i = 0; i < 21; ++i) many.push_back(cid(("abcdefghij0123456789ABCDEFGH" + std::to_string(100 + i)).c_str()));
  EXPECT_TRUE(e.encode_cancel_batch(0, std::span(many).first(20), false, kTs, buf, sizeof buf).ok());
  EXPECT_EQ(e.encode_cancel_batch(0, many, false, kTs, buf, sizeof buf).error, Errc::out_of_range);
  EXPECT_TRUE(e.encode_cancel_batch(0, std::span(many).first(10), true, kTs, buf, sizeof buf).ok());
  EXPECT_EQ(e.encode_cancel_batch(0, std::span(many).first(11), true, kTs, buf, sizeof buf).error, Errc::out_of_range);
  EXPECT_EQ(e.encode_cancel_batch(0, std::span(many).first(0), false, kTs, buf, sizeof buf).error, Errc::out_of_range);
  const std::vector<ClientOrderId> with_bad{cid("en1"), cid("en-2")};
  EXPECT_EQ(e.encode_cancel_batch(0, with_bad, false, kTs, buf, sizeof buf).error, Errc::out_of_range);

  // A GET signs its path with the query, has no body and no Content-Type.
  n = e.encode_query(0, cid("en7"), false, kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  rq.assign(buf, n.value);
  EXPECT_TRUE(rq.starts_with("GET /api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=en7 HTTP/1.1\r\n")) << rq;
  EXPECT_TRUE(rq.ends_with("\r\n\r\n"));
  EXPECT_EQ(header_value(rq, "Content-Type"), "");
  // Pinned: printf '%s' '2020-12-08T09:08:57.715ZGET/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=en7' |
  //   openssl dgst -sha256 -hmac '22582BD0CFF14C41EDBF1AB98506286D' -binary | base64
  EXPECT_EQ(header_value(rq, "OK-ACCESS-SIGN"), "zGT6Saqb1zJzpIrSgptjVwM0h/QxS2wyl/DmGXU8Mog=");
  EXPECT_EQ(header_value(rq, "OK-ACCESS-SIGN"), expected_sign(rq));

  n = e.encode_query(0, cid("sl7"), true, kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  rq.assign(buf, n.value);
  EXPECT_TRUE(rq.starts_with("GET /api/v5/trade/order-algo?algoClOrdId=sl7 HTTP/1.1\r\n")) << rq;
  EXPECT_EQ(header_value(rq, "OK-ACCESS-SIGN"), expected_sign(rq));

  // The order a fired stop placed, by the venue's id.
  n = e.encode_query_placed(0, "700037894679157082", kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  rq.assign(buf, n.value);
  EXPECT_TRUE(rq.starts_with("GET /api/v5/trade/order?instId=BTC-USDT-SWAP&ordId=700037894679157082 HTTP/1.1\r\n")) << rq;
  EXPECT_EQ(header_value(rq, "OK-ACCESS-SIGN"), expected_sign(rq));
  EXPECT_FALSE(e.encode_query_placed(0, "", kTs, buf, sizeof buf).ok());
  EXPECT_FALSE(e.encode_query_placed(0, "12&x=1", kTs, buf, sizeof buf).ok());
  EXPECT_FALSE(e.encode_query_placed(7, "123", kTs, buf, sizeof buf).ok());

  n = e.encode_dead_man(60, kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  rq.assign(buf, n.value);
  EXPECT_TRUE(rq.starts_with("POST /api/v5/trade/cancel-all-after HTTP/1.1\r\n"));
  EXPECT_EQ(body_of(rq), R"({"timeOut":"60"})");
  EXPECT_EQ(header_value(rq, "OK-ACCESS-SIGN"), expected_sign(rq));
  n = e.encode_dead_man(0, kTs, buf, sizeof buf);  // disarms
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(body_of(std::string(buf, n.value)), R"({"timeOut":"0"})");
  EXPECT_TRUE(e.encode_dead_man(10, kTs, buf, sizeof buf).ok());
  EXPECT_TRUE(e.encode_dead_man(120, kTs, buf, sizeof buf).ok());
  EXPECT_FALSE(e.encode_dead_man(9, kTs, buf, sizeof buf).ok());
  EXPECT_FALSE(e.encode_dead_man(121, kTs, buf, sizeof buf).ok());
  EXPECT_FALSE(e.encode_cancel(0, cid("x y"), false, kTs, buf, sizeof buf).ok());
  EXPECT_FALSE(e.encode_cancel(5, cid("en1"), true, kTs, buf, sizeof buf).ok());
  EXPECT_FALSE(e.encode_query(0, cid(""), false, kTs, buf, sizeof buf).ok());
  EXPECT_FALSE(e.encode_query(7, cid("en1"), true, kTs, buf, sizeof buf).ok());
}

TEST(OmsOkxEncoder, DemoIsolatedHostAndCredentialChecks) {
  Config cfg;
  cfg.host = "eea.okx.com";
  cfg.simulated = true;
  cfg.td_mode = TdMode::isolated;
  Encoder e = encoder(cfg);
  const std::string rq = encode(e, limit_buy());
  EXPECT_EQ(header_value(rq, "Host"), "eea.okx.com");
  EXPECT_EQ(header_value(rq, "x-simulated-trading"), "1");
  EXPECT_NE(body_of(rq).find(R"("tdMode":"isolated")"), std::string::npos);
  EXPECT_EQ(header_value(rq, "OK-ACCESS-SIGN"), expected_sign(rq));
  const auto h = e.signed_headers("GET", "/api/v5/account/balance?ccy=USDT", "", kTs);
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[1].first, "OK-ACCESS-SIGN");
  EXPECT_EQ(h[1].second, openssl_hmac_base64(kSecret, std::string(kTsText) + "GET/api/v5/account/balance?ccy=USDT"));
  EXPECT_EQ(h[2].second, kTsText);
  EXPECT_EQ(h[3].second, kPassphrase);
  EXPECT_EQ(h[4].first, "x-simulated-trading");
  char buf[2048];
  const auto n = e.encode_request("GET", "/api/v5/account/config", "", kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(header_value(std::string(buf, n.value), "OK-ACCESS-SIGN"),
            openssl_hmac_base64(kSecret, std::string(kTsText) + "GET/api/v5/account/config"));
  EXPECT_THROW(Encoder(registry(), "", Secret(kSecret), Secret(kPassphrase)), Error);
  EXPECT_THROW(Encoder(registry(), "k\r\n", Secret(kSecret), Secret(kPassphrase)), Error);
  EXPECT_THROW(Encoder(registry(), "k", Secret(""), Secret(kPassphrase)), Error);
  EXPECT_THROW(Encoder(registry(), "k", Secret(kSecret), Secret("")), Error);
  EXPECT_THROW(Encoder(registry(), "k", Secret(kSecret), Secret("pa\"ss")), Error);
  EXPECT_THROW(Encoder(registry(), "k", Secret(kSecret), Secret("pa\nss")), Error);
}

// resign() gives, byte for byte, what a fresh encode at the new time gives; a foreign request is left alone.
TEST(OmsOkxEncoder, ResignEqualsFreshEncode) {
  Encoder e = encoder();
  char buf[4096], fresh[4096];
  for (int kind = 0; kind < 4; ++kind) {
    const auto make = [&](std::int64_t ts, char* out) {
      if (kind == 0) return e.encode_new(limit_buy(), ts, out, 4096);
      if (kind == 1) return e.encode_query(0, cid("en9"), false, ts, out, 4096);
      if (kind == 2) return e.encode_cancel(0, cid("en9"), true, ts, out, 4096);
      return e.encode_dead_man(30, ts, out, 4096);
    };
    const auto n = make(kTs, buf);
    ASSERT_TRUE(n.ok());
    const auto m = make(kTs + 86'400'000 + 4321, fresh);  // another day: every part of the stamp changes
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(n.value, m.value);
    EXPECT_NE(std::string(buf, n.value), std::string(fresh, m.value));
    ASSERT_TRUE(e.resign(buf, n.value, kTs + 86'400'000 + 4321));
    EXPECT_EQ(std::string(buf, n.value), std::string(fresh, m.value)) << kind;
  }
  // A time out of range, another key's request, not a request: false, nothing changed.
  const auto n = e.encode_new(limit_buy(), kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  const std::string before(buf, n.value);
  EXPECT_FALSE(e.resign(buf, n.value, -5));
  EXPECT_EQ(std::string(buf, n.value), before);
  Encoder other(registry(), "ZZZZ", Secret(kSecret), Secret(kPassphrase));
  EXPECT_FALSE(other.resign(buf, n.value, kTs + 1));
  EXPECT_EQ(std::string(buf, n.value), before);
  std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_FALSE(e.resign(junk.data(), junk.size(), kTs));
  EXPECT_FALSE(e.resign(buf, 60, kTs));  // cut short
}

TEST(OmsOkxEncoder, WebSocketLoginSubscribePing) {
  Encoder e = encoder();
  // Pinned: printf '%s' '1538054050GET/users/self/verify' |
  //   openssl dgst -sha256 -hmac '22582BD0CFF14C41EDBF1AB98506286D' -binary | base64
  // (the docs' login example timestamp; their "sign" was made with another secret).
  const std::string sig = "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M=";
  EXPECT_EQ(openssl_hmac_base64(kSecret, "1538054050GET/users/self/verify"), sig);
  EXPECT_EQ(
      e.login_message(1538054050),
      R"({"op":"login","args":[{"apiKey":"985d5b66-57ce-40fb-b714-afc0b9787083","passphrase":"123456","timestamp":"1538054050","sign":")" +
          sig + R"("}]})");
  EXPECT_EQ(
      Encoder::subscribe_message(),
      R"({"op":"subscribe","args":[{"channel":"orders","instType":"SWAP"},{"channel":"positions","instType":"SWAP"},{"channel":"account","ccy":"USDT"}]})");
  EXPECT_EQ(Encoder::business_subscribe_message(),
            R"({"op":"subscribe","args":[{"channel":"orders-algo","instType":"SWAP"}]})");
  EXPECT_EQ(Encoder::ping_message(), "ping");
}

TEST(OmsOkxEncoder, EncodeAllocatesNothing) {
  Encoder e = encoder();
  char buf[4096];
  const OrderSpec o = limit_buy();
  OrderSpec stop = limit_buy();
  stop.req.type = OrderType::stop_market;
  stop.req.stop_price = px("29000");
  const std::vector<ClientOrderId> ids{cid("en1"), cid("en2")};
  test::AllocationScope scope;
  for (int i = 0; i < 50; ++i) {
    const auto n = e.encode_new(o, kTs + i, buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE(e.resign(buf, n.value, kTs + i + 1));
    ASSERT_TRUE(e.encode_new(stop, kTs, buf, sizeof buf).ok());
    ASSERT_TRUE(e.encode_cancel(0, o.req.client_id, false, kTs, buf, sizeof buf).ok());
    ASSERT_TRUE(e.encode_cancel_batch(0, ids, true, kTs, buf, sizeof buf).ok());
    ASSERT_TRUE(e.encode_query(0, o.req.client_id, false, kTs, buf, sizeof buf).ok());
    ASSERT_TRUE(e.encode_dead_man(60, kTs, buf, sizeof buf).ok());
  }
  EXPECT_EQ(scope.count(), 0u);
}

// ---- private stream ----

// The capture: a market buy of 0.03 contracts filled at once as maker. Its "fee" (cumulative) is
// -0.021776769 USDT = 0.03 contracts x 0.01 BTC x 103698.9 x 0.0007; the message has no fillFee, and this is the
// order's first fill (accFillSz = fillSz), so the cumulative fee is this fill's: rounded to 1e-8, paid 0.02177677.
TEST(OmsOkxUser, OrdersFixtureIsAMakerFillWithFee) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const auto e = decode(d, fixture("nautilus_crate_ws_orders.json"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::report);
  EXPECT_EQ(d.last_count(), 1u);
  EXPECT_EQ(r.kind, ExecKind::fill);
  EXPECT_EQ(r.status, OrderStatus::filled);
  EXPECT_EQ(r.last_qty, qty("0.03"));
  EXPECT_EQ(r.last_px, px("103698.9"));
  EXPECT_EQ(r.cum_qty, qty("0.03"));
  EXPECT_EQ(r.fee, money("0.02177677"));
  EXPECT_TRUE(r.maker);  // execType M
  EXPECT_EQ(r.side, Side::buy);
  EXPECT_EQ(r.instrument, 0);
  EXPECT_EQ(r.client_id.view(), "001BTCUSDT20250106001");
  EXPECT_EQ(r.venue_order_id.view(), "2497956918703120384");
  EXPECT_EQ(r.venue_seq, 1518905529u);                      // tradeId
  EXPECT_EQ(r.venue_time_ns, 1746947317402LL * 1'000'000);  // fillTime
}

// fillFee wins over the cumulative fee; a positive fillFee is a rebate (our fee negative); without fillFee a later
// fill's fee is unknown here (0, left to the ledger).
TEST(OmsOkxUser, FillFeeSignAndSource) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const std::string base = fixture("nautilus_crate_ws_orders.json");
  std::string m =
      replace(base, R"("fee": "-0.021776769",)", R"("fee": "0.0031", "fillFee": "0.0031", "fillFeeCcy": "USDT",)");
  ASSERT_TRUE(decode(d, m, r).ok());
  EXPECT_EQ(r.fee, money("-0.0031"));
  // A second fill: 0.02 now, 0.05 in all.
  m = replace(base, R"("accFillSz": "0.03")", R"("accFillSz": "0.05")");
  m = replace(m, R"("fillSz": "0.03")", R"("fillSz": "0.02")");
  m = replace(m, R"("state": "filled")", R"("state": "partially_filled")");
  auto e = decode(d, m, r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::fill);
  EXPECT_EQ(r.status, OrderStatus::partially_filled);
  EXPECT_EQ(r.last_qty, qty("0.02"));
  EXPECT_EQ(r.cum_qty, qty("0.05"));
  EXPECT_EQ(r.fee, Notional{});  // the cumulative fee is two fills'
  e = decode(d, replace(m, R"("fee": "-0.021776769",)", R"("fee": "-0.035", "fillFee": "-0.014517846",)"), r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(r.fee, money("0.01451785"));  // -0.014517846 rounded half away from zero, then the sign flipped
  // A fee in another currency than the quote: not ours to book as quote.
  e = decode(d,
             replace(base, R"("fee": "-0.021776769",)",
                     R"("fee": "-0.0000002", "fillFee": "-0.0000002", "fillFeeCcy": "BTC",)"),
             r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(r.fee, Notional{});
  EXPECT_EQ(r.last_qty, qty("0.03"));
}

// The FOK capture is a spot order: not this decoder's. As a swap message it is a taker fill of the whole order.
TEST(OmsOkxUser, FokFixtureSpotIgnoredSwapIsATakerFill) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const std::string spot = fixture("nautilus_crate_ws_orders_fok.json");
  auto e = decode(d, spot, r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::ignored);
  e = decode(d, as_swap(spot), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::report);
  EXPECT_EQ(r.kind, ExecKind::fill);
  EXPECT_EQ(r.status, OrderStatus::filled);
  EXPECT_FALSE(r.maker);  // execType T
  EXPECT_EQ(r.last_qty, qty("0.05"));
  EXPECT_EQ(r.last_px, px("50000.0"));
  EXPECT_EQ(r.fee, money("0.25"));
  EXPECT_EQ(r.client_id.view(), "FOK-TEST-001");
  EXPECT_EQ(r.venue_seq, 1518905530u);
}

// The IOC capture (as a swap message): 0.02 of 0.05 filled; then the venue cancels the rest (cancelSource 14).
// Applied to the order state: 0.02 filled with its fee, canceled, reason ioc_no_liquidity.
TEST(OmsOkxUser, IocPartialFillThenCanceled) {
  UserStreamDecoder d(registry());
  ExecReport fill, cancel;
  const std::string m = as_swap(fixture("nautilus_crate_ws_orders_ioc.json"));
  ASSERT_TRUE(decode(d, m, fill).ok());
  EXPECT_EQ(fill.kind, ExecKind::fill);
  EXPECT_EQ(fill.status, OrderStatus::partially_filled);
  EXPECT_EQ(fill.side, Side::sell);
  EXPECT_EQ(fill.last_qty, qty("0.02"));
  EXPECT_EQ(fill.last_px, px("50100.5"));
  EXPECT_EQ(fill.fee, money("0.1002"));
  std::string c = replace(m, R"("state": "partially_filled")", R"("state": "canceled")");
  c = replace(c, R"("fillSz": "0.02")", R"("fillSz": "0")");
  c = replace(c, R"("cancelSource": "")", R"("cancelSource": "14")");
  ASSERT_TRUE(decode(d, c, cancel).ok());
  EXPECT_EQ(cancel.kind, ExecKind::canceled);
  EXPECT_EQ(cancel.status, OrderStatus::canceled);
  EXPECT_EQ(cancel.cum_qty, qty("0.02"));
  EXPECT_EQ(cancel.last_px, px("50100.5"));  // avgPx
  EXPECT_EQ(cancel.reason, Reason::ioc_no_liquidity);
  OrderState o{};
  o.spec.req.client_id = cid("IOC-TEST-001");
  o.spec.req.qty = qty("0.05");
  o.status = OrderStatus::accepted;
  EXPECT_EQ(apply(o, fill).fill_qty, qty("0.02"));
  EXPECT_EQ(apply(o, fill).fill_qty, Qty{});  // a repeated message books nothing
  EXPECT_EQ(apply(o, cancel).fill_qty, Qty{});
  EXPECT_EQ(o.filled, qty("0.02"));
  EXPECT_EQ(o.fees, money("0.1002"));
  EXPECT_EQ(o.status, OrderStatus::canceled);
  EXPECT_EQ(o.reason, Reason::ioc_no_liquidity);
}

TEST(OmsOkxUser, StatesWithoutAFill) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const std::string base = fixture("nautilus_crate_ws_orders.json");
  std::string live = replace(base, R"("state": "filled")", R"("state": "live")");
  live = replace(live, R"("fillSz": "0.03")", R"("fillSz": "0")");
  live = replace(live, R"("accFillSz": "0.03")", R"("accFillSz": "0")");
  auto e = decode(d, live, r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::accepted);
  EXPECT_EQ(r.status, OrderStatus::accepted);
  EXPECT_EQ(r.venue_time_ns, 1746947317402LL * 1'000'000);  // uTime
  // "filled" with fillSz 0 (the docs: possible for market orders): a status at the average price.
  e = decode(d, replace(base, R"("fillSz": "0.03")", R"("fillSz": "0")"), r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(r.kind, ExecKind::status);
  EXPECT_EQ(r.status, OrderStatus::filled);
  EXPECT_EQ(r.cum_qty, qty("0.03"));
  EXPECT_EQ(r.last_px, px("103698.9"));
  EXPECT_EQ(r.fee, Notional{});
  // A post-only order the venue canceled because it would have taken liquidity (cancelSource 31).
  std::string po = replace(live, R"("state": "live")", R"("state": "canceled")");
  e = decode(d, replace(po, R"("cancelSource": "")", R"("cancelSource": "31")"), r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(r.kind, ExecKind::canceled);
  EXPECT_EQ(r.reason, Reason::post_only_would_cross);
  EXPECT_EQ(r.cum_qty, Qty{});
  e = decode(d, replace(po, R"("cancelSource": "")", R"("cancelSource": "13")"), r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(r.reason, Reason::fok_unfillable);
  e = decode(d, replace(po, R"("cancelSource": "")", R"("cancelSource": "1")"), r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(r.reason, Reason::none);  // our own cancel
  e = decode(d, replace(live, R"("state": "live")", R"("state": "mmp_canceled")"), r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(r.kind, ExecKind::canceled);
  // Canceled and carrying a fill: the cancel is reported (its qty at the average price), never lost.
  e = decode(d, replace(base, R"("state": "filled")", R"("state": "canceled")"), r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(r.kind, ExecKind::canceled);
  EXPECT_EQ(r.cum_qty, qty("0.03"));
  EXPECT_EQ(r.last_px, px("103698.9"));
  e = decode(d, replace(base, R"("state": "filled")", R"("state": "exploded")"), r);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error, Errc::unknown_message);
}

// orders-algo: element by element. The capture's states order_placed and filled are not OKX's (the docs list
// live, pause, partially_effective, effective, canceled, order_failed, partially_failed): unknown_message.
TEST(OmsOkxUser, AlgoOrdersFixture) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const std::string m = fixture("nautilus_crate_ws_orders_algo.json");
  auto e = decode(d, m, r, 0);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(d.last_count(), 5u);
  EXPECT_EQ(r.kind, ExecKind::accepted);
  EXPECT_EQ(r.status, OrderStatus::accepted);
  EXPECT_EQ(r.client_id.view(), "STOP001BTCUSDT20250120");
  EXPECT_EQ(r.venue_order_id.view(), "706620792746729472");
  EXPECT_EQ(r.side, Side::sell);
  EXPECT_EQ(r.cum_qty, Qty{});
  EXPECT_EQ(r.venue_time_ns, 1737400000000LL * 1'000'000);
  e = decode(d, m, r, 1);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(r.client_id.view(), "STOP002BTCUSDT20250120");
  EXPECT_EQ(r.side, Side::buy);
  e = decode(d, m, r, 2);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error, Errc::unknown_message);  // "order_placed"
  e = decode(d, m, r, 3);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(r.kind, ExecKind::canceled);
  EXPECT_EQ(r.client_id.view(), "STOP004BTCUSDT20250120");
  EXPECT_EQ(r.venue_time_ns, 1737400300000LL * 1'000'000);
  e = decode(d, m, r, 4);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error, Errc::unknown_message);  // "filled"
  e = decode(d, m, r, 5);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.value, UserEvent::ignored);  // past the end
  // effective: it fired; order_failed: refused when it fired, failCode says why.
  e = decode(d, replace(m, R"("state": "live")", R"("state": "effective")"), r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(r.kind, ExecKind::triggered);
  e = decode(d, replace(m, R"("state": "live")", R"("state": "order_failed", "failCode": "51008")"), r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(r.kind, ExecKind::rejected);
  EXPECT_EQ(r.status, OrderStatus::rejected);
  EXPECT_EQ(r.reason, Reason::insufficient_margin);
}

// A stop's life: accepted and triggered on orders-algo, then the market order it placed fills on "orders" with
// our id in algoClOrdId. All three land on the engine's one order.
TEST(OmsOkxUser, TriggeredStopFillsBookAgainstTheStop) {
  UserStreamDecoder d(registry());
  ExecReport placed, fired, fill;
  const std::string algo = fixture("nautilus_crate_ws_orders_algo.json");
  ASSERT_TRUE(decode(d, algo, placed, 0).ok());
  ASSERT_TRUE(decode(d, replace(algo, R"("state": "live")", R"("state": "effective")"), fired, 0).ok());
  // The capture of the order a trigger placed names it by a venue clOrdId only; with the algoClOrdId the docs say
  // it carries ("There will be a value when algo order attaching algoClOrdId is triggered"):
  const std::string child = fixture("nautilus_crate_ws_orders_trigger.json");
  ASSERT_TRUE(decode(d, child, fill).ok());
  EXPECT_EQ(fill.client_id.view(), "706620792746729474_0");
  ASSERT_TRUE(decode(d,
                     replace(child, R"("clOrdId": "706620792746729474_0",)",
                             R"("clOrdId": "706620792746729474_0", "algoClOrdId": "STOP001BTCUSDT20250120",)"),
                     fill)
                  .ok());
  EXPECT_EQ(fill.client_id.view(), "STOP001BTCUSDT20250120");
  EXPECT_EQ(fill.venue_order_id.view(), "706620792746729999");
  EXPECT_EQ(fill.kind, ExecKind::fill);
  EXPECT_EQ(fill.last_qty, qty("0.01"));
  EXPECT_EQ(fill.last_px, px("101950.0"));
  EXPECT_EQ(fill.fee, money("0.02039"));
  EXPECT_FALSE(fill.maker);
  OrderState o{};
  o.spec.req.client_id = cid("STOP001BTCUSDT20250120");
  o.spec.req.qty = qty("0.01");
  o.spec.req.type = OrderType::stop_market;
  o.status = OrderStatus::pending_new;
  (void)apply(o, placed);
  EXPECT_EQ(o.status, OrderStatus::accepted);
  EXPECT_EQ(o.venue_order_id.view(), "706620792746729472");  // the algoId stays the order's venue id
  (void)apply(o, fired);
  EXPECT_EQ(o.status, OrderStatus::accepted);
  EXPECT_EQ(apply(o, fill).fill_qty, qty("0.01"));
  EXPECT_EQ(o.status, OrderStatus::filled);
  EXPECT_EQ(o.fees, money("0.02039"));
}

// Liquidation and ADL orders are the venue's (category full_liquidation / adl): ignored, as the account and
// position channels.
TEST(OmsOkxUser, VenueOrdersAndOtherChannelsAreIgnored) {
  UserStreamDecoder d(registry());
  ExecReport r;
  for (const char* name : {"nautilus_crate_ws_orders_liquidation.json", "nautilus_crate_ws_orders_adl.json",
                           "nautilus_crate_ws_account.json"}) {
    const auto e = decode(d, fixture(name), r);
    ASSERT_TRUE(e.ok()) << name << ": " << to_string(e.error);
    EXPECT_EQ(e.value, UserEvent::ignored) << name;
  }
  const auto e = decode(
      d, R"({"arg":{"channel":"positions","instType":"SWAP"},"data":[{"instId":"BTC-USDT-SWAP","pos":"1"}]})", r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.value, UserEvent::ignored);
}

// Control messages, shaped as the docs' examples.
TEST(OmsOkxUser, ControlMessagesAndLoginRefusals) {
  UserStreamDecoder d(registry());
  ExecReport r;
  EXPECT_EQ(d.last_refusal_code(), 0);
  for (const char* msg :
       {"pong", R"({"event":"login","code":"0","msg":"","connId":"a4d3ae55"})",
        R"({"id":"1512","event":"subscribe","arg":{"channel":"orders","instType":"SWAP"},"connId":"a4d3ae55"})",
        R"({"event":"channel-conn-count","channel":"orders","connCount":"2","connId":"abcd1234"})",
        R"({"event":"notice","code":"64000","msg":"uly is unavailable","connId":"a4d3ae55"})"}) {
    const auto e = decode(d, msg, r);
    ASSERT_TRUE(e.ok()) << msg << ": " << to_string(e.error);
    EXPECT_EQ(e.value, UserEvent::ignored) << msg;
    EXPECT_EQ(d.last_count(), 0u);
  }
  auto e = decode(d, R"({"event":"error","code":"60009","msg":"Login failed.","connId":"a4d3ae55"})", r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.value, UserEvent::listen_key_expired);
  EXPECT_EQ(d.last_refusal_code(), 60009);
  EXPECT_FALSE(credentials_refused(d.last_refusal_code()));  // the generic refusal: retry
  e = decode(d, R"({"event":"error","code":"60024","msg":"Wrong passphrase","connId":"a4d3ae55"})", r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.value, UserEvent::listen_key_expired);
  EXPECT_TRUE(credentials_refused(d.last_refusal_code()));
  e = decode(
      d,
      R"({"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"})",
      r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.value, UserEvent::listen_key_expired);
  EXPECT_EQ(d.last_refusal_code(), 64008);
  // A subscription error after login: logged, not a reconnect.
  for (
      const char* msg :
      {R"({"id":"1512","event":"error","code":"60012","msg":"Invalid request","connId":"a4d3ae55"})",
       R"({"event":"error","code":"64001","msg":"This channel has been migrated to the '/business' URL.","connId":"a"})",
       R"({"event":"channel-conn-count-error","channel":"orders","connCount":"30","connId":"a"})"}) {
    e = decode(d, msg, r);
    ASSERT_FALSE(e.ok()) << msg;
    EXPECT_EQ(e.error, Errc::unknown_message);
  }
  EXPECT_EQ(d.last_refusal_code(), 64008);
}

// One message, three elements: two fills of one order and an ETH order accepted. decode(.., i) reads each;
// last_count() says how many there are.
TEST(OmsOkxUser, BatchedOrdersAreReadOneByOne) {
  const std::string msg =
      R"({"arg":{"channel":"orders","instType":"SWAP","uid":"614488474791936"},"data":[)"
      R"({"instType":"SWAP","instId":"BTC-USDT-SWAP","ordId":"1","clOrdId":"en5","side":"buy","state":"partially_filled","sz":"0.05","accFillSz":"0.01","fillSz":"0.01","fillPx":"95000","tradeId":"11","fillFee":"-0.0047","fillFeeCcy":"USDT","execType":"M","category":"normal","uTime":"1746270400353","fillTime":"1746270400353"},)"
      R"({"instType":"SWAP","instId":"BTC-USDT-SWAP","ordId":"1","clOrdId":"en5","side":"buy","state":"filled","sz":"0.05","accFillSz":"0.05","fillSz":"0.04","fillPx":"95001","tradeId":"12","fillFee":"-0.019","fillFeeCcy":"USDT","execType":"T","category":"normal","uTime":"1746270400354","fillTime":"1746270400354"},)"
      R"({"instType":"SWAP","instId":"ETH-USDT-SWAP","ordId":"2","clOrdId":"en6","side":"sell","state":"live","sz":"1","accFillSz":"0","fillSz":"0","fillPx":"","tradeId":"","fillFee":"0","category":"normal","uTime":"1746270400354"}]})";
  UserStreamDecoder d(registry());
  ExecReport r;
  std::size_t fills = 0;
  Qty booked{};
  Notional fees{};
  for (std::size_t i = 0;; ++i) {
    const auto e = decode(d, msg, r, i);
    ASSERT_TRUE(e.ok()) << i << ": " << to_string(e.error);
    ASSERT_EQ(e.value, UserEvent::report);
    if (r.kind == ExecKind::fill) {
      ++fills;
      booked = booked + r.last_qty;
      fees = fees + r.fee;
      EXPECT_EQ(r.cum_qty, i == 0 ? qty("0.01") : qty("0.05"));
      EXPECT_EQ(r.venue_seq, i == 0 ? 11u : 12u);
    } else {
      EXPECT_EQ(r.kind, ExecKind::accepted);
      EXPECT_EQ(r.instrument, 1);
      EXPECT_EQ(r.client_id.view(), "en6");
    }
    if (i + 1 >= d.last_count()) break;
  }
  EXPECT_EQ(d.last_count(), 3u);
  EXPECT_EQ(fills, 2u);
  EXPECT_EQ(booked, qty("0.05"));
  EXPECT_EQ(fees, money("0.0237"));
}

TEST(OmsOkxUser, MalformedInputIsAnErrorNeverACrash) {
  UserStreamDecoder d(registry());
  ExecReport r;
  for (
      const char* msg :
      {"", "{", "[]", "null", "<html>", "ping", R"({"arg":1})", R"({"data":[]})", R"({"arg":{"channel":"orders"}})",
       R"({"arg":{"channel":"orders"},"data":{}})", R"({"arg":{"channel":"orders"},"data":[1]})",
       R"({"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT-SWAP","side":"buy"}]})",
       R"({"arg":{"channel":"orders"},"data":[{"instId":"NOPE-USDT-SWAP","side":"buy","state":"live"}]})",
       R"({"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT-SWAP","side":"up","state":"live"}]})",
       R"({"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT-SWAP","side":"buy","state":"filled","fillSz":"1","accFillSz":"1"}]})",
       R"({"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT-SWAP","side":"buy","state":"filled","fillSz":"1","fillPx":"0","accFillSz":"1"}]})",
       R"({"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT-SWAP","side":"buy","state":"filled","fillSz":"2","fillPx":"1","accFillSz":"1"}]})",
       R"({"arg":{"channel":"orders-algo"},"data":[{"instId":"BTC-USDT-SWAP","side":"buy"}]})",
       R"({"event":"error","code":"x"})"}) {
    const auto e = decode(d, msg, r);
    EXPECT_FALSE(e.ok()) << msg;
  }
  // Every truncation of every fixture: an error or a well-formed answer, never a crash (ASan runs this too).
  for (const char* name : {"nautilus_crate_ws_orders.json", "nautilus_crate_ws_orders_algo.json",
                           "nautilus_crate_http_get_orders_pending.json"}) {
    const std::string full = fixture(name);
    ASSERT_FALSE(full.empty()) << name;
    for (std::size_t n = 0; n < full.size(); n += 7) {
      (void)decode(d, full.substr(0, n), r);
      RestAnswer a;
      (void)d.decode_rest(RestRequest::query, 200, full.substr(0, n), cid("x"), kInvalidInstrument, a);
      std::array<RestAnswer, 2> b;
      const std::array<ClientOrderId, 2> ids{cid("x"), cid("y")};
      (void)d.decode_rest_batch(200, full.substr(0, n), ids, 0, b);
    }
  }
  // Too large for the decoder.
  UserStreamDecoder small(registry(), Venue::okx, 64);
  const auto e = decode(small, fixture("nautilus_crate_ws_orders.json"), r);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error, Errc::capacity);
}

TEST(OmsOkxUser, DecodeAllocatesNothing) {
  UserStreamDecoder d(registry());
  ExecReport r;
  RestAnswer a;
  std::array<RestAnswer, 2> batch;
  const std::array<ClientOrderId, 2> ids{cid("en1"), cid("en2")};
  const std::string orders = fixture("nautilus_crate_ws_orders.json");
  const std::string algo = fixture("nautilus_crate_ws_orders_algo.json");
  const std::string account = fixture("nautilus_crate_ws_account.json");
  const std::string query = fixture("nautilus_crate_http_get_orders_pending.json");
  const std::string batch_answer =
      R"({"code":"2","msg":"","data":[{"clOrdId":"en1","ordId":"1","sCode":"0","sMsg":""},{"clOrdId":"en2","ordId":"2","sCode":"51400","sMsg":"x"}]})";
  (void)decode(d, orders, r);  // warm up
  test::AllocationScope scope;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(decode(d, orders, r).ok());
    ASSERT_TRUE(decode(d, algo, r, 3).ok());
    ASSERT_TRUE(decode(d, account, r).ok());
    ASSERT_TRUE(decode(d, "pong", r).ok());
    ASSERT_EQ(d.decode_rest(RestRequest::query, 200, query, cid("client-order-1"), 0, a), Errc::ok);
    ASSERT_EQ(d.decode_rest_batch(200, batch_answer, ids, 0, batch), Errc::ok);
  }
  EXPECT_EQ(scope.count(), 0u);
}

// ---- REST answers ----

namespace {

// An answer envelope around one data element (the place-order fixture is the element alone).
std::string answer(const std::string& code, const std::string& element) {
  return R"({"code":")" + code + R"(","msg":"","data":[)" + element +
         R"(],"inTime":"1695190491421339","outTime":"1695190491423240"})";
}

}  // namespace

TEST(OmsOkxRest, NewOrderAcceptedAndRefused) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  const std::string ok = answer("0", fixture("nautilus_crate_http_place_order_response.json"));
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 200, ok, cid("client_order_123"), 0, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.report.kind, ExecKind::accepted);
  EXPECT_EQ(a.report.status, OrderStatus::accepted);
  EXPECT_EQ(a.report.venue_order_id.view(), "12345678901234567890");
  EXPECT_EQ(a.report.client_id.view(), "client_order_123");
  // An answer that names another order is not this request's.
  EXPECT_EQ(d.decode_rest(RestRequest::new_order, 200, ok, cid("en1"), 0, a), Errc::not_found);
  EXPECT_TRUE(a.unknown);
  // An algo order: its algoId is the venue's id.
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 200, fixture("nautilus_crate_http_place_algo_order_response.json"),
                          cid("test_algo_1"), 0, a),
            Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::accepted);
  EXPECT_EQ(a.report.venue_order_id.view(), "12345");
  // Refused under top code "0": data[0].sCode 51000 decides.
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 200, fixture("nautilus_crate_http_place_algo_order_rejected.json"),
                          cid("test_algo_rej"), 0, a),
            Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.report.kind, ExecKind::rejected);
  EXPECT_EQ(a.report.status, OrderStatus::rejected);
  EXPECT_EQ(a.venue_code, 51000);
  EXPECT_EQ(a.report.reason, Reason::invalid_order);
  // The docs' refusal shape: top code "1", the reason in sCode (with a sub-code).
  const std::string margin = answer(
      "1",
      R"({"clOrdId":"en1","ordId":"","sCode":"51008_1001","sMsg":"Order failed. Insufficient USDT margin in account","tag":"","ts":"1695190491421"})");
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 200, margin, cid("en1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::rejected);
  EXPECT_EQ(a.venue_code, 51008);
  EXPECT_EQ(a.report.reason, Reason::insufficient_margin);
}

TEST(OmsOkxRest, TopLevelRefusalsAndUnknowns) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  const auto top = [](int code, const char* msg) {
    return R"({"code":")" + std::to_string(code) + R"(","msg":")" + msg + R"(","data":[]})";
  };
  // A rate-limited request was not carried out: refused, not unknown.
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 429, top(50011, "Too Many Requests"), cid("en1"), 0, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.report.kind, ExecKind::rejected);
  EXPECT_EQ(a.venue_code, 50011);
  EXPECT_EQ(a.report.reason, Reason::venue_error);
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 401, top(50113, "Invalid Sign"), cid("en1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::rejected);
  EXPECT_EQ(a.venue_code, 50113);
  EXPECT_TRUE(credentials_refused(a.venue_code));
  ASSERT_EQ(d.decode_rest(RestRequest::cancel, 401, top(50102, "Timestamp request expired"), cid("en1"), 0, a),
            Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::cancel_rejected);
  EXPECT_FALSE(credentials_refused(a.venue_code));  // resign cures it
  // The venue does not know either: unknown, no code.
  for (const auto& [http, body] : std::vector<std::pair<int, std::string>>{
           {400, top(50004, "API endpoint request timeout")},
           {429, top(50013, "Systems are busy")},
           {200, answer("1", R"({"clOrdId":"en1","ordId":"","sCode":"51149","sMsg":"Order timed out"})")},
           {503, top(50001, "Service temporarily unavailable")},
           {0, ""},
           {502, "<html>bad gateway</html>"}}) {
    ASSERT_EQ(d.decode_rest(RestRequest::new_order, http, body, cid("en1"), 0, a), Errc::ok) << body;
    EXPECT_TRUE(a.unknown) << body;
    EXPECT_EQ(a.report.status, OrderStatus::unknown);
    EXPECT_EQ(a.venue_code, 0);
  }
  // Not an answer we can read: unknown and an error.
  for (const auto& [http, body] : std::vector<std::pair<int, std::string>>{
           {200, "<html>"},
           {200, R"({"msg":""})"},
           {200, R"({"code":"0","data":[]})"},
           {401, answer("0", R"({"clOrdId":"en1","ordId":"1","sCode":"0"})")},
           {200, answer("0", R"({"clOrdId":"en1","ordId":"1","sCode":"zero"})")}}) {
    EXPECT_NE(d.decode_rest(RestRequest::new_order, http, body, cid("en1"), 0, a), Errc::ok) << body;
    EXPECT_TRUE(a.unknown) << body;
  }
}

TEST(OmsOkxRest, CancelAndDeadManAnswers) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  const std::string ok = answer("0", R"({"clOrdId":"en1","ordId":"2510789768709120","sCode":"0","sMsg":""})");
  ASSERT_EQ(d.decode_rest(RestRequest::cancel, 200, ok, cid("en1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::status);
  EXPECT_EQ(a.report.status, OrderStatus::pending_cancel);  // only accepted; the stream's canceled ends it
  EXPECT_FALSE(a.unknown);
  // cancel-algos answers with the algoId only (its algoClOrdId is deprecated).
  ASSERT_EQ(d.decode_rest(RestRequest::cancel, 200, fixture("nautilus_crate_http_cancel_algo_order_response.json"),
                          cid("sl7"), 0, a),
            Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::pending_cancel);
  const std::string gone = answer(
      "1",
      R"({"clOrdId":"en1","ordId":"","sCode":"51400","sMsg":"Order cancellation failed as the order has been filled, canceled or does not exist."})");
  ASSERT_EQ(d.decode_rest(RestRequest::cancel, 200, gone, cid("en1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::cancel_rejected);
  EXPECT_EQ(a.report.status, OrderStatus::unknown);
  EXPECT_EQ(a.report.reason, Reason::order_not_found);
  EXPECT_EQ(a.venue_code, 51400);
  // cancel-all-after: no report.
  ASSERT_EQ(d.decode_rest(RestRequest::countdown, 200,
                          R"({"code":"0","msg":"","data":[{"triggerTime":"1587971460","tag":"","ts":"1587971400"}]})",
                          {}, 0, a),
            Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.venue_code, 0);
  ASSERT_EQ(
      d.decode_rest(RestRequest::countdown, 200,
                    R"({"code":"50120","msg":"This API key doesn't have permission to use this function","data":[]})",
                    {}, 0, a),
      Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.venue_code, 50120);
  EXPECT_TRUE(credentials_refused(a.venue_code));
}

// GET /api/v5/trade/order answers with the order as orders-pending lists it: the pending fixture is one.
TEST(OmsOkxRest, QueryAnOrder) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  const std::string body = fixture("nautilus_crate_http_get_orders_pending.json");
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, body, cid("client-order-1"), kInvalidInstrument, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.report.kind, ExecKind::status);
  EXPECT_EQ(a.report.status, OrderStatus::accepted);  // live, nothing filled
  EXPECT_EQ(a.report.instrument, 0);                  // from instId
  EXPECT_EQ(a.report.venue_order_id.view(), "1234567890123456789");
  EXPECT_EQ(a.report.side, Side::buy);
  EXPECT_EQ(a.report.cum_qty, Qty{});
  EXPECT_EQ(a.report.last_px, Price{});  // avgPx "0"
  EXPECT_EQ(a.report.venue_time_ns, 1746947317000LL * 1'000'000);
  std::string part = replace(body, R"("state": "live")", R"("state": "partially_filled")");
  part = replace(part, R"("accFillSz": "0")", R"("accFillSz": "0.04")");
  part = replace(part, R"("avgPx": "0")", R"("avgPx": "103480.2")");
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, part, cid("client-order-1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::partially_filled);
  EXPECT_EQ(a.report.cum_qty, qty("0.04"));
  EXPECT_EQ(a.report.last_px, px("103480.2"));
  EXPECT_EQ(a.report.fee, Notional{});  // "fee": "0"
  // The order's fees so far (OKX: negative = charged) become ours (positive = paid); another coin's are not.
  const std::string charged = replace(part, R"("fee": "0")", R"("fee": "-2.0696")");
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, charged, cid("client-order-1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.fee, Notional::parse("2.0696").value);
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, replace(charged, R"("feeCcy": "USDT")", R"("feeCcy": "BTC")"),
                          cid("client-order-1"), 0, a),
            Errc::ok);
  EXPECT_EQ(a.report.fee, Notional{});
  ASSERT_EQ(
      d.decode_rest(RestRequest::query, 200, replace(part, R"("state": "partially_filled")", R"("state": "canceled")"),
                    cid("client-order-1"), 0, a),
      Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::canceled);
  EXPECT_EQ(a.report.cum_qty, qty("0.04"));
  // An answer about another order is not an answer.
  EXPECT_NE(d.decode_rest(RestRequest::query, 200, body, cid("client-order-2"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  // 51603: no such order. Never placed (or canceled unfilled over 2 hours ago): the state machine rejects an
  // UNKNOWN order that has no fills.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, R"({"code":"51603","msg":"Order does not exist","data":[]})",
                          cid("en1"), 0, a),
            Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.report.reason, Reason::order_not_found);
  EXPECT_EQ(a.venue_code, 51603);
  OrderState o{};
  o.spec.req.client_id = cid("en1");
  o.spec.req.qty = qty("1");
  o.status = OrderStatus::unknown;
  (void)apply(o, a.report);
  EXPECT_EQ(o.status, OrderStatus::rejected);
  // Refused for another reason: ask again later.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 429, R"({"code":"50011","msg":"Too Many Requests","data":[]})",
                          cid("en1"), 0, a),
            Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(a.venue_code, 50011);
}

// GET /api/v5/trade/order-algo answers with the algo order as orders-algo-pending lists it.
TEST(OmsOkxRest, QueryAnAlgoOrder) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  const std::string body = fixture("nautilus_crate_http_get_orders_algo_pending.json");
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, body, cid("client_algo_1"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::status);
  EXPECT_EQ(a.report.status, OrderStatus::accepted);
  EXPECT_EQ(a.report.venue_order_id.view(), "123456789");
  EXPECT_EQ(a.report.cum_qty, Qty{});
  EXPECT_EQ(a.report.venue_time_ns, 1622559930237LL * 1'000'000);
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, replace(body, R"("state": "live")", R"("state": "effective")"),
                          cid("client_algo_1"), 0, a),
            Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::accepted);  // fired: its order's fate is that order's
  EXPECT_TRUE(a.placed_order.view().empty());          // the fixture names no order placed ("ordId": "")
  // The order it placed: ordIdList's first entry, else the ordId beside it (to be deprecated, says OKX).
  const std::string fired = replace(body, R"("state": "live")", R"("state": "effective")");
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, replace(fired, R"("ordId": "")", R"("ordId": "555", "ordIdList": ["777", "888"])"),
                          cid("client_algo_1"), 0, a),
            Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::accepted);
  EXPECT_EQ(a.placed_order.view(), "777");
  EXPECT_EQ(a.report.venue_order_id.view(), "123456789");  // still the algo order's own id
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, replace(fired, R"("ordId": "")", R"("ordId": "555", "ordIdList": [])"),
                          cid("client_algo_1"), 0, a),
            Errc::ok);
  EXPECT_EQ(a.placed_order.view(), "555");
  // Not fired: nothing to follow, whatever the fields say.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, replace(body, R"("ordId": "")", R"("ordId": "555", "ordIdList": ["777"])"),
                          cid("client_algo_1"), 0, a),
            Errc::ok);
  EXPECT_TRUE(a.placed_order.view().empty());
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, replace(body, R"("state": "live")", R"("state": "canceled")"),
                          cid("client_algo_1"), 0, a),
            Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::canceled);
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200,
                          replace(body, R"("state": "live")", R"("state": "order_failed", "failCode": "51131")"),
                          cid("client_algo_1"), 0, a),
            Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::rejected);
  EXPECT_EQ(a.report.reason, Reason::insufficient_margin);
  EXPECT_NE(d.decode_rest(RestRequest::query, 200, body, cid("client_algo_2"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
}

TEST(OmsOkxRest, CancelBatchOnePerOrder) {
  UserStreamDecoder d(registry());
  const std::array<ClientOrderId, 3> ids{cid("en1"), cid("en2"), cid("en3")};
  std::array<RestAnswer, 3> out;
  // Partly done (code 2), results out of order: matched by clOrdId.
  const std::string partial =
      R"({"code":"2","msg":"","data":[{"clOrdId":"en3","ordId":"3","sCode":"0","sMsg":""},)"
      R"({"clOrdId":"en1","ordId":"1","sCode":"0","sMsg":""},)"
      R"({"clOrdId":"en2","ordId":"2","sCode":"51400","sMsg":"Order cancellation failed as the order has been filled, canceled or does not exist."}]})";
  ASSERT_EQ(d.decode_rest_batch(200, partial, ids, 0, out), Errc::ok);
  for (const std::size_t i : {0u, 2u}) {
    EXPECT_FALSE(out[i].unknown) << i;
    EXPECT_EQ(out[i].report.kind, ExecKind::status) << i;
    EXPECT_EQ(out[i].report.status, OrderStatus::pending_cancel) << i;
    EXPECT_EQ(out[i].report.client_id, ids[i]);
    EXPECT_EQ(out[i].report.instrument, 0);
  }
  EXPECT_FALSE(out[1].unknown);
  EXPECT_EQ(out[1].report.kind, ExecKind::cancel_rejected);
  EXPECT_EQ(out[1].report.reason, Reason::order_not_found);
  EXPECT_EQ(out[1].venue_code, 51400);
  // The whole request refused.
  ASSERT_EQ(d.decode_rest_batch(401, R"({"code":"50113","msg":"Invalid Sign","data":[]})", ids, 0, out), Errc::ok);
  for (const auto& a : out) {
    EXPECT_FALSE(a.unknown);
    EXPECT_EQ(a.report.kind, ExecKind::cancel_rejected);
    EXPECT_EQ(a.venue_code, 50113);
  }
  // The venue does not know, or no answer: all unknown.
  ASSERT_EQ(d.decode_rest_batch(429, R"({"code":"50013","msg":"Systems are busy","data":[]})", ids, 0, out), Errc::ok);
  for (const auto& a : out) EXPECT_TRUE(a.unknown);
  ASSERT_EQ(d.decode_rest_batch(0, "", ids, 0, out), Errc::ok);
  for (const auto& a : out) EXPECT_TRUE(a.unknown);
  // cancel-algos: results carry the algoId only, matched by position.
  const std::array<ClientOrderId, 2> algos{cid("sl1"), cid("sl2")};
  std::array<RestAnswer, 2> two;
  ASSERT_EQ(
      d.decode_rest_batch(
          200,
          R"({"code":"0","msg":"","data":[{"algoClOrdId":"","algoId":"11","clOrdId":"","sCode":"0","sMsg":"","tag":""},{"algoClOrdId":"","algoId":"12","clOrdId":"","sCode":"0","sMsg":"","tag":""}]})",
          algos, 0, two),
      Errc::ok);
  EXPECT_EQ(two[0].report.status, OrderStatus::pending_cancel);
  EXPECT_EQ(two[1].report.status, OrderStatus::pending_cancel);
  // A result about an order we did not ask for, or too few results: what is left stays unknown.
  EXPECT_NE(
      d.decode_rest_batch(200, R"({"code":"0","data":[{"clOrdId":"en1","sCode":"0"},{"clOrdId":"zz","sCode":"0"}]})",
                          ids, 0, out),
      Errc::ok);
  EXPECT_FALSE(out[0].unknown);
  EXPECT_TRUE(out[1].unknown);
  EXPECT_TRUE(out[2].unknown);
  EXPECT_NE(d.decode_rest_batch(200, R"({"code":"0","data":[{"clOrdId":"en2","sCode":"0"}]})", ids, 0, out), Errc::ok);
  EXPECT_TRUE(out[0].unknown);
  EXPECT_FALSE(out[1].unknown);
}

TEST(OmsOkxRest, ReasonFromCode) {
  EXPECT_EQ(reason_from_code(51008), Reason::insufficient_margin);
  EXPECT_EQ(reason_from_code(51131), Reason::insufficient_margin);
  EXPECT_EQ(reason_from_code(51603), Reason::order_not_found);
  EXPECT_EQ(reason_from_code(51400), Reason::order_not_found);
  EXPECT_EQ(reason_from_code(51170), Reason::reduce_only_would_increase);
  EXPECT_EQ(reason_from_code(51121), Reason::invalid_order);
  EXPECT_EQ(reason_from_code(51006), Reason::invalid_order);
  EXPECT_EQ(reason_from_code(51020), Reason::invalid_order);
  EXPECT_EQ(reason_from_code(51278), Reason::invalid_order);
  EXPECT_EQ(reason_from_code(50011), Reason::venue_error);
  EXPECT_EQ(reason_from_code(50113), Reason::venue_error);
  for (const int c : {50100, 50101, 50105, 50110, 50111, 50113, 50114, 50119, 50120, 60005, 60007, 60024, 60032})
    EXPECT_TRUE(credentials_refused(c)) << c;
  for (const int c : {0, 1, 50011, 50102, 50112, 51008, 60006, 60009, 63999, 10003})
    EXPECT_FALSE(credentials_refused(c)) << c;
}

// ---- start-up readers ----

namespace {

std::string pending_page(int n) {
  std::string s = R"({"code":"0","msg":"","data":[)";
  for (int i = 0; i < n; ++i) {
    if (i) s += ',';
    s += R"({"instId":"BTC-USDT-SWAP","ordId":")" + std::to_string(1000 + i) + R"(","clOrdId":"en)" +
         std::to_string(i) +
         R"(","side":"sell","ordType":"post_only","px":"110000","sz":"1","accFillSz":"0","reduceOnly":"true"})";
  }
  return s + "]}";
}

}  // namespace

TEST(OmsOkxColdPath, OpenOrders) {
  std::string after = "unset";
  const auto orders =
      parse_open_orders(fixture("nautilus_crate_http_get_orders_pending.json"), registry(), Venue::okx, &after);
  EXPECT_EQ(after, "");
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].client_id.view(), "client-order-1");
  EXPECT_EQ(orders[0].order_id, "1234567890123456789");
  EXPECT_EQ(orders[0].symbol, "BTC-USDT-SWAP");
  EXPECT_EQ(orders[0].instrument, 0);
  EXPECT_EQ(orders[0].side, Side::buy);
  EXPECT_EQ(orders[0].type, risk::OrderType::limit);
  EXPECT_EQ(orders[0].tif, risk::TimeInForce::gtc);
  EXPECT_EQ(orders[0].price, px("103500"));
  EXPECT_EQ(orders[0].qty, qty("0.10"));
  EXPECT_EQ(orders[0].filled, Qty{});
  EXPECT_FALSE(orders[0].reduce_only);
  EXPECT_FALSE(orders[0].algo);
  // A full page: ask again after its last ordId.
  const auto page = parse_open_orders(pending_page(100), registry(), Venue::okx, &after);
  ASSERT_EQ(page.size(), 100u);
  EXPECT_EQ(after, "1099");
  EXPECT_EQ(page[7].tif, risk::TimeInForce::post_only);
  EXPECT_EQ(page[7].side, Side::sell);
  EXPECT_TRUE(page[7].reduce_only);  // "true" as a string
  (void)parse_open_orders(pending_page(99), registry(), Venue::okx, &after);
  EXPECT_EQ(after, "");
  const auto market = parse_open_orders(
      R"({"code":"0","data":[{"instId":"DOGE-USDT-SWAP","ordId":"5","clOrdId":"","side":"buy","ordType":"optimal_limit_ioc","px":"","sz":"3","accFillSz":"1"}]})",
      registry());
  ASSERT_EQ(market.size(), 1u);
  EXPECT_EQ(market[0].type, risk::OrderType::market);
  EXPECT_EQ(market[0].instrument, kInvalidInstrument);  // kept: reconciliation cancels it
  EXPECT_EQ(market[0].symbol, "DOGE-USDT-SWAP");
  EXPECT_EQ(market[0].filled, qty("1"));
  EXPECT_THROW((void)parse_open_orders(R"({"code":"50111","msg":"Invalid OK-ACCESS-KEY","data":[]})", registry()),
               Error);
  EXPECT_THROW((void)parse_open_orders("nope", registry()), Error);
  EXPECT_THROW(
      (void)parse_open_orders(
          R"({"code":"0","data":[{"instId":"BTC-USDT-SWAP","ordId":"1","side":"up","ordType":"limit","px":"1","sz":"1"}]})",
          registry()),
      Error);
  EXPECT_THROW(
      (void)parse_open_orders(
          R"({"code":"0","data":[{"instId":"BTC-USDT-SWAP","ordId":"1","side":"buy","ordType":"elp","px":"1","sz":"1"}]})",
          registry()),
      Error);
}

TEST(OmsOkxColdPath, OpenAlgoOrders) {
  std::string after = "unset";
  // The capture: a trigger order that places a limit buy at 40000 when the last price reaches 40000.
  const auto fix = parse_open_algo_orders(fixture("nautilus_crate_http_get_orders_algo_pending.json"), registry(),
                                          Venue::okx, &after);
  EXPECT_EQ(after, "");
  ASSERT_EQ(fix.size(), 1u);
  EXPECT_TRUE(fix[0].algo);
  EXPECT_EQ(fix[0].client_id.view(), "client_algo_1");
  EXPECT_EQ(fix[0].order_id, "123456789");
  EXPECT_EQ(fix[0].type, risk::OrderType::limit);
  EXPECT_EQ(fix[0].price, px("40000"));
  EXPECT_EQ(fix[0].stop_price, px("40000"));
  EXPECT_EQ(fix[0].qty, qty("1"));
  EXPECT_EQ(fix[0].side, Side::buy);
  // What the encoder places: conditional orders with one market leg.
  const auto ours = parse_open_algo_orders(
      R"({"code":"0","msg":"","data":[)"
      R"({"algoId":"1","algoClOrdId":"sl1","instId":"BTC-USDT-SWAP","ordType":"conditional","side":"sell","sz":"2","slTriggerPx":"29000","slOrdPx":"-1","tpTriggerPx":"","tpOrdPx":"","reduceOnly":"true","state":"live"},)"
      R"({"algoId":"2","algoClOrdId":"tp1","instId":"BTC-USDT-SWAP","ordType":"conditional","side":"sell","sz":"2","slTriggerPx":"","slOrdPx":"","tpTriggerPx":"31000","tpOrdPx":"-1","reduceOnly":"true","state":"live"},)"
      R"({"algoId":"3","algoClOrdId":"sl2","instId":"ETH-USDT-SWAP","ordType":"conditional","side":"buy","sz":"1","slTriggerPx":"4000","slOrdPx":"4010","state":"live"},)"
      R"({"algoId":"4","algoClOrdId":"","instId":"BTC-USDT-SWAP","ordType":"trigger","side":"buy","sz":"1","triggerPx":"70000","ordPx":"-1","last":"65000","state":"live"}]})",
      registry());
  ASSERT_EQ(ours.size(), 4u);
  EXPECT_EQ(ours[0].type, risk::OrderType::stop_market);
  EXPECT_EQ(ours[0].stop_price, px("29000"));
  EXPECT_EQ(ours[0].price, Price{});
  EXPECT_TRUE(ours[0].reduce_only);
  EXPECT_EQ(ours[1].type, risk::OrderType::take_profit_market);
  EXPECT_EQ(ours[1].stop_price, px("31000"));
  EXPECT_EQ(ours[2].type, risk::OrderType::limit);  // a stop-limit
  EXPECT_EQ(ours[2].price, px("4010"));
  EXPECT_EQ(ours[2].stop_price, px("4000"));
  EXPECT_EQ(ours[2].instrument, 1);
  EXPECT_EQ(ours[3].type, risk::OrderType::stop_market);  // a buy that fires on a rise
  EXPECT_TRUE(ours[3].client_id.empty());
  EXPECT_THROW(
      (void)parse_open_algo_orders(
          R"({"code":"0","data":[{"algoId":"4","instId":"BTC-USDT-SWAP","ordType":"trigger","side":"buy","sz":"1","triggerPx":"70000","ordPx":"-1"}]})",
          registry()),
      Error);  // direction unknown
  EXPECT_THROW(
      (void)parse_open_algo_orders(
          R"({"code":"0","data":[{"algoId":"5","instId":"BTC-USDT-SWAP","ordType":"oco","side":"buy","sz":"1"}]})",
          registry()),
      Error);
  EXPECT_THROW((void)parse_open_algo_orders(R"({"code":"50113","msg":"Invalid Sign"})", registry()), Error);
}

TEST(OmsOkxColdPath, Positions) {
  const auto pos = parse_positions(fixture("nautilus_crate_http_get_positions.json"), registry());
  ASSERT_EQ(pos.size(), 1u);
  EXPECT_EQ(pos[0].symbol, "BTC-USDT-SWAP");
  EXPECT_EQ(pos[0].instrument, 0);
  EXPECT_EQ(pos[0].signed_qty, qty("0.5"));  // long
  EXPECT_EQ(pos[0].entry_px, px("10000"));
  const auto more = parse_positions(
      R"({"code":"0","msg":"","data":[{"instId":"ETH-USDT-SWAP","posSide":"net","pos":"-3","avgPx":"3100.5"},)"
      R"({"instId":"BTC-USDT-SWAP","posSide":"short","pos":"2","avgPx":"90000"},)"
      R"({"instId":"SOL-USDT-SWAP","posSide":"net","pos":"0","avgPx":""}]})",
      registry());
  ASSERT_EQ(more.size(), 3u);
  EXPECT_EQ(more[0].signed_qty, qty("-3"));
  EXPECT_EQ(more[0].entry_px, px("3100.5"));
  EXPECT_EQ(more[1].signed_qty, qty("-2"));
  EXPECT_EQ(more[2].instrument, kInvalidInstrument);
  EXPECT_EQ(more[2].signed_qty, Qty{});
  EXPECT_THROW(
      (void)parse_positions(R"({"code":"0","data":[{"instId":"BTC-USDT-SWAP","posSide":"","pos":"1"}]})", registry()),
      Error);
  EXPECT_THROW((void)parse_positions(R"({"code":"0","data":[{"instId":"BTC-USDT-SWAP","posSide":"long","pos":"-1"}]})",
                                     registry()),
               Error);
  EXPECT_THROW((void)parse_positions(R"({"code":"50120","msg":"no permission"})", registry()), Error);
}

TEST(OmsOkxColdPath, Balance) {
  // eq "99.89469657000001": 14 decimals, rounded to Notional's 8.
  EXPECT_EQ(parse_balance(fixture("nautilus_crate_http_get_account_balance.json")), money("99.89469657"));
  EXPECT_EQ(
      parse_balance(
          R"({"code":"0","data":[{"details":[{"ccy":"BTC","eq":"1"},{"ccy":"USDT","eq":"","cashBal":"12.345678915"}]}]})"),
      money("12.34567892"));  // no eq: the cash balance, rounded half away from zero
  EXPECT_THROW((void)parse_balance(fixture("nautilus_crate_http_get_account_balance.json"), "BTC"), Error);
  EXPECT_THROW((void)parse_balance(R"({"code":"0","data":[{"totalEq":"1"}]})"), Error);
  EXPECT_THROW((void)parse_balance(R"({"code":"50011","msg":"Too Many Requests","data":[]})"), Error);
}

// GET /api/v5/account/config, shaped as the docs' example (perm "read_only,withdraw,trade").
TEST(OmsOkxColdPath, AccountConfig) {
  const std::string body =
      R"({"code":"0","data":[{"acctLv":"2","autoLoan":false,"ctIsoMode":"automatic","greeksType":"PA","level":"Lv1","levelTmp":"","mgnIsoMode":"automatic","posMode":"net_mode","spotOffsetType":"","uid":"44705892343619584","label":"V5 Test","roleType":"0","traderInsts":[],"spotRoleType":"0","spotTraderInsts":[],"opAuth":"0","kycLv":"3","ip":"120.255.24.182,120.255.24.183","perm":"read_only,withdraw,trade","liquidationGear":"-1","enableSpotBorrow":false,"spotBorrowAutoRepay":false,"type":"0"}],"msg":""})";
  ApiKeyInfo k = parse_account_config(body);
  EXPECT_TRUE(k.can_withdraw);
  EXPECT_TRUE(k.can_trade);
  EXPECT_FALSE(k.read_only);
  EXPECT_TRUE(k.can_move_funds_out());
  EXPECT_TRUE(k.net_mode());
  EXPECT_EQ(k.permissions, "read_only,withdraw,trade");
  EXPECT_EQ(k.ip_whitelist, "120.255.24.182,120.255.24.183");
  EXPECT_EQ(k.account_level, "2");
  k = parse_account_config(replace(replace(body, "read_only,withdraw,trade", "read_only,trade"),
                                   R"("posMode":"net_mode")", R"("posMode":"long_short_mode")"));
  EXPECT_FALSE(k.can_move_funds_out());
  EXPECT_TRUE(k.can_trade);
  EXPECT_FALSE(k.net_mode());
  k = parse_account_config(replace(replace(body, "read_only,withdraw,trade", "read_only"),
                                   R"("ip":"120.255.24.182,120.255.24.183")", R"("ip":"")"));
  EXPECT_TRUE(k.read_only);
  EXPECT_FALSE(k.can_trade);
  EXPECT_EQ(k.ip_whitelist, "");
  EXPECT_THROW((void)parse_account_config(R"({"code":"0","data":[{"posMode":"net_mode"}]})"), Error);
  EXPECT_THROW((void)parse_account_config(R"({"code":"0","data":[]})"), Error);
  EXPECT_THROW((void)parse_account_config(R"({"code":"50105","msg":"passphrase incorrect","data":[]})"), Error);
}
