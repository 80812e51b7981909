// Request signing: the venues' documented examples, an independent HMAC from the openssl CLI for the
// exact bytes our encoders put on the wire, client ids, redaction, and no allocation per request.
#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "oms/ids.hpp"
#include "oms/signing.hpp"
#include "oms/venues/binance_futures.hpp"
#include "oms/venues/bybit_linear.hpp"
#include "oms/venues/kucoin_futures.hpp"
#include "oms/venues/okx_swap.hpp"
#include "tests/support/alloc_counter.hpp"

namespace {

// Count OpenSSL's own heap use too (operator new counting does not see malloc inside libcrypto).
thread_local std::uint64_t g_ossl_allocs = 0;
void* count_malloc(std::size_t n, const char*, int) {
  ++g_ossl_allocs;
  return std::malloc(n);
}
void* count_realloc(void* p, std::size_t n, const char*, int) {
  ++g_ossl_allocs;
  return std::realloc(p, n);
}
void count_free(void* p, const char*, int) { std::free(p); }
// Must run before anything in the process allocates through OpenSSL.
const int g_mem_hooks_installed = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);

}  // namespace

namespace enigma::oms {
namespace {

// Binance's documented HMAC example (USD-M futures "SIGNED Endpoint Examples").
constexpr std::string_view kBinanceSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
constexpr std::string_view kBinanceQuery =
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
constexpr std::string_view kBinanceSignature = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";

// Independent HMAC-SHA256 of `msg` with `key` by the openssl command line tool; "hex" or "base64".
std::string openssl_hmac(std::string_view key, std::string_view msg, bool base64) {
  const std::string file = ::testing::TempDir() + "oms_hmac_msg.bin";
  {
    std::ofstream f(file, std::ios::binary);
    f << msg;
  }
  const std::string cmd = "openssl dgst -sha256 -hmac '" + std::string(key) + "' -binary < '" + file + "' | " +
                          (base64 ? "base64 -w0" : "od -An -tx1 -v | tr -d ' \\n'");
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
  return at == std::string_view::npos ? std::string() : std::string(req.substr(at + 4));
}

struct Fixture : ::testing::Test {
  InstrumentRegistry registry{16};
  InstrumentId ltcbtc{};
  InstrumentId xbtusdtm{};
  InstrumentId bybit_btcusdt{};
  InstrumentId okx_btc_swap{};
  void SetUp() override {
    InstrumentSpec s{};
    s.venue = Venue::binance_usdm;
    s.symbol = Symbol("LTCBTC");
    s.kind = InstrumentKind::linear_perpetual;
    ltcbtc = registry.add(s).value;
    s.venue = Venue::kucoin_futures;
    s.symbol = Symbol("XBTUSDTM");
    s.multiplier = Qty::parse("0.001").value;
    xbtusdtm = registry.add(s).value;
    s.venue = Venue::bybit;
    s.symbol = Symbol("BTCUSDT");
    s.multiplier = Qty::parse("1").value;
    bybit_btcusdt = registry.add(s).value;
    s.venue = Venue::okx;
    s.symbol = Symbol("BTC-USDT-SWAP");
    s.multiplier = Qty::parse("0.01").value;
    okx_btc_swap = registry.add(s).value;
  }
  OrderSpec limit_order(InstrumentId id, std::string_view cid) const {
    OrderSpec o{};
    o.req.client_id = ClientOrderId::from(cid).value;
    o.req.instrument = id;
    o.req.venue = registry.get(id).venue;
    o.req.side = Side::buy;
    o.req.type = OrderType::limit;
    o.req.tif = TimeInForce::gtc;
    o.req.qty = Qty::from_units(1);
    o.req.price = Price::parse("0.1").value;
    o.req.leverage = 5;
    return o;
  }
};

TEST(OmsSigning, BinanceDocumentedExample) {
  const HmacSha256 h(kBinanceSecret);
  unsigned char mac[kSha256Size];
  h.sign(kBinanceQuery, mac);
  char hex[kSha256HexSize];
  hex_encode(mac, sizeof mac, hex);
  EXPECT_EQ(std::string_view(hex, sizeof hex), kBinanceSignature);
}

TEST(OmsSigning, MultiPartEqualsConcatenationAndLongKeysAreHashed) {
  const std::string long_key(100, 'k');  // > 64-byte block: RFC 2104 hashes it first
  const HmacSha256 h(long_key);
  unsigned char a[kSha256Size];
  unsigned char b[kSha256Size];
  h.sign({"1547015186532", "POST", "/api/v1/orders", "{}"}, a);
  h.sign("1547015186532POST/api/v1/orders{}", b);
  EXPECT_EQ(0, std::memcmp(a, b, sizeof a));
  char hex[kSha256HexSize];
  hex_encode(a, sizeof a, hex);
  EXPECT_EQ(std::string_view(hex, sizeof hex), openssl_hmac(long_key, "1547015186532POST/api/v1/orders{}", false));
}

// hex_encode (16 bytes at a time where SSSE3 is there, then byte by byte) against printf's %02x, for every
// byte value and every length from 0 to 40 (whole blocks, a block plus a tail, tails alone).
TEST(OmsSigning, HexEncodeMatchesPrintfForEveryByteAndLength) {
  std::array<unsigned char, 256> all{};
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<unsigned char>(i * 7 + 3);
  for (std::size_t n : {std::size_t{256}, std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17},
                        std::size_t{31}, std::size_t{32}, std::size_t{33}, std::size_t{40}}) {
    std::string want;
    char two[3];
    for (std::size_t i = 0; i < n; ++i) {
      std::snprintf(two, sizeof two, "%02x", all[i]);
      want += two;
    }
    std::string got(2 * n + 1, '#');  // one guard byte: nothing is written past 2n
    hex_encode(all.data(), n, got.data());
    EXPECT_EQ(got.substr(0, 2 * n), want) << n;
    EXPECT_EQ(got.back(), '#') << n;
  }
}

// BufWriter's integers (two digits per division) against std::to_string at every digit-count edge, and a
// number that does not fit is refused whole.
TEST(OmsSigning, BufWriterIntegersMatchToString) {
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{7}, std::int64_t{9}, std::int64_t{10}, std::int64_t{99}, std::int64_t{100},
                         std::int64_t{101}, std::int64_t{999}, std::int64_t{1000}, std::int64_t{1700000000123},
                         std::int64_t{-1}, std::int64_t{-10}, INT64_MAX, INT64_MIN}) {
    char buf[32];
    BufWriter w(buf, sizeof buf);
    w.put_int(v);
    EXPECT_EQ(std::string(w.view()), std::to_string(v));
  }
  char buf[40];
  BufWriter u(buf, sizeof buf);
  u.put_uint(UINT64_MAX);
  EXPECT_EQ(std::string(u.view()), std::to_string(UINT64_MAX));
  char small[3];
  BufWriter s3(small, sizeof small);
  s3.put_uint(1234);
  EXPECT_TRUE(s3.overflow);
  EXPECT_EQ(s3.size(), 0u);
}

TEST(OmsSigning, Base64MatchesRfc4648Vectors) {
  const auto b64 = [](std::string_view s) {
    char out[16];
    const std::size_t n = base64_encode(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out);
    return std::string(out, n);
  };
  EXPECT_EQ(b64(""), "");
  EXPECT_EQ(b64("f"), "Zg==");
  EXPECT_EQ(b64("fo"), "Zm8=");
  EXPECT_EQ(b64("foo"), "Zm9v");
  EXPECT_EQ(b64("foob"), "Zm9vYg==");
  EXPECT_EQ(b64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(b64("foobar"), "Zm9vYmFy");
}

TEST_F(Fixture, BinanceNewOrderIsSignedOverTheExactBodySent) {
  binance_futures::Encoder enc(registry, "test-api-key", Secret(kBinanceSecret));
  OrderSpec o = limit_order(ltcbtc, "enigma42");
  char buf[2048];
  const auto n = enc.encode_new(o, 1499827319559, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  const std::string_view req(buf, n.value);
  EXPECT_TRUE(req.starts_with("POST /fapi/v1/order HTTP/1.1\r\n"));
  EXPECT_EQ(header_value(req, "X-MBX-APIKEY"), "test-api-key");
  const std::string body = body_of(req);
  EXPECT_EQ(header_value(req, "Content-Length"), std::to_string(body.size()));
  const std::string params =
      "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&newClientOrderId=enigma42"
      "&recvWindow=5000&timestamp=1499827319559";
  ASSERT_EQ(body.substr(0, params.size()), params);
  EXPECT_EQ(body.substr(params.size()), "&signature=" + openssl_hmac(kBinanceSecret, params, false));
}

TEST_F(Fixture, BinanceOrderTypesAndCancel) {
  binance_futures::Encoder enc(registry, "k", Secret("s"));
  char buf[2048];
  OrderSpec o = limit_order(ltcbtc, "c1");
  o.req.tif = TimeInForce::post_only;
  o.req.side = Side::sell;
  o.req.reduce_only = true;
  std::string body = body_of({buf, enc.encode_new(o, 1, buf, sizeof buf).value});
  EXPECT_NE(body.find("side=SELL&type=LIMIT&timeInForce=GTX&"), std::string::npos) << body;
  EXPECT_NE(body.find("&reduceOnly=true&"), std::string::npos);

  o.req.type = OrderType::stop_market;
  o.req.stop_price = Price::parse("95.5").value;
  body = body_of({buf, enc.encode_new(o, 1, buf, sizeof buf).value});
  EXPECT_NE(body.find("type=STOP_MARKET&quantity=1&stopPrice=95.5&reduceOnly=true"), std::string::npos) << body;

  o.req.type = OrderType::trailing_stop;
  o.callback_rate = Rate::parse("0.012").value;
  o.req.stop_price = Price::from_units(101);
  body = body_of({buf, enc.encode_new(o, 1, buf, sizeof buf).value});
  EXPECT_NE(body.find("type=TRAILING_STOP_MARKET&quantity=1&callbackRate=1.2&activationPrice=101"), std::string::npos)
      << body;

  const auto c = enc.encode_cancel(ltcbtc, o.req.client_id, 7, buf, sizeof buf);
  ASSERT_TRUE(c.ok());
  const std::string_view req(buf, c.value);
  const std::string params = "symbol=LTCBTC&origClientOrderId=c1&recvWindow=5000&timestamp=7";
  EXPECT_TRUE(req.starts_with("DELETE /fapi/v1/order?" + params + "&signature=" + openssl_hmac("s", params, false) +
                              " HTTP/1.1\r\n"))
      << req;

  const auto all = enc.encode_cancel_all(ltcbtc, 8, buf, sizeof buf);
  ASSERT_TRUE(all.ok());
  const std::string all_params = "symbol=LTCBTC&recvWindow=5000&timestamp=8";
  EXPECT_TRUE(std::string_view(buf, all.value)
                  .starts_with("DELETE /fapi/v1/allOpenOrders?" + all_params + "&signature=" +
                               openssl_hmac("s", all_params, false) + " HTTP/1.1\r\n"));
}

TEST_F(Fixture, BinanceBatchCancelSignsTheEncodedList) {
  binance_futures::Encoder enc(registry, "k", Secret("s"));
  const std::array<ClientOrderId, 2> ids{ClientOrderId::from("my_id_1").value, ClientOrderId::from("my_id_2").value};
  char buf[2048];
  const auto n = enc.encode_cancel_batch(ltcbtc, ids, 9, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  const std::string params =
      "symbol=LTCBTC&origClientOrderIdList=%5B%22my_id_1%22%2C%22my_id_2%22%5D&recvWindow=5000&timestamp=9";
  EXPECT_TRUE(std::string_view(buf, n.value)
                  .starts_with("DELETE /fapi/v1/batchOrders?" + params + "&signature=" + openssl_hmac("s", params, false) +
                               " HTTP/1.1\r\n"))
      << std::string_view(buf, n.value);
  const std::vector<ClientOrderId> eleven(11, ids[0]);
  EXPECT_EQ(enc.encode_cancel_batch(ltcbtc, eleven, 9, buf, sizeof buf).error, Errc::out_of_range);
  EXPECT_EQ(enc.encode_cancel_batch(ltcbtc, {}, 9, buf, sizeof buf).error, Errc::out_of_range);
}

// Spot and COIN-M orders go to their own products' endpoints and hosts (/api/v3 on api.binance.com, /dapi/v1
// on dapi.binance.com), each signed over exactly the bytes sent (the openssl CLI's HMAC), with spot's own
// parameter names (Binance spot REST docs, "New order": LIMIT_MAKER, STOP_LOSS, TAKE_PROFIT, icebergQty).
TEST_F(Fixture, BinanceSpotAndCoinmUseTheirOwnEndpoints) {
  InstrumentSpec s{};
  s.venue = Venue::binance_spot;
  s.symbol = Symbol("LTCBTC");
  s.kind = InstrumentKind::spot;
  const InstrumentId spot = registry.add(s).value;
  s.venue = Venue::binance_coinm;
  s.symbol = Symbol("BTCUSD_PERP");
  s.kind = InstrumentKind::inverse_perpetual;
  const InstrumentId coinm = registry.add(s).value;
  binance_futures::Encoder enc(registry, "test-api-key", Secret(kBinanceSecret));
  char buf[2048];
  auto request = [&](Result<std::size_t> n) {
    EXPECT_TRUE(n.ok()) << to_string(n.error);
    return std::string(buf, n.ok() ? n.value : 0);
  };

  // Spot limit GTC: the documented example's parameters, plus our client id, signed over the body sent.
  std::string req = request(enc.encode_new(limit_order(spot, "enigma42"), 1499827319559, buf, sizeof buf));
  EXPECT_TRUE(req.starts_with("POST /api/v3/order HTTP/1.1\r\nHost: api.binance.com\r\n")) << req;
  std::string params =
      "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&newClientOrderId=enigma42"
      "&recvWindow=5000&timestamp=1499827319559";
  EXPECT_EQ(body_of(req), params + "&signature=" + openssl_hmac(kBinanceSecret, params, false));

  // Post-only is type LIMIT_MAKER with no timeInForce; spot has no reduceOnly (a sell sells what is held).
  OrderSpec o = limit_order(spot, "c1");
  o.req.tif = TimeInForce::post_only;
  o.req.side = Side::sell;
  o.req.reduce_only = true;
  EXPECT_TRUE(body_of(request(enc.encode_new(o, 1, buf, sizeof buf)))
                  .starts_with("symbol=LTCBTC&side=SELL&type=LIMIT_MAKER&quantity=1&price=0.1&newClientOrderId=c1&"));
  o.req.type = OrderType::stop_market;
  o.req.stop_price = Price::parse("95.5").value;
  EXPECT_TRUE(body_of(request(enc.encode_new(o, 1, buf, sizeof buf)))
                  .starts_with("symbol=LTCBTC&side=SELL&type=STOP_LOSS&quantity=1&stopPrice=95.5&newClientOrderId=c1&"));
  o.req.type = OrderType::take_profit_market;
  EXPECT_TRUE(body_of(request(enc.encode_new(o, 1, buf, sizeof buf)))
                  .starts_with("symbol=LTCBTC&side=SELL&type=TAKE_PROFIT&quantity=1&stopPrice=95.5&newClientOrderId=c1&"));
  // An iceberg shows icebergQty on a GTC limit; on IOC, on futures, or as a trailing stop on spot: refused.
  OrderSpec ice = limit_order(spot, "c2");
  ice.display_qty = Qty::parse("0.25").value;
  EXPECT_TRUE(body_of(request(enc.encode_new(ice, 1, buf, sizeof buf)))
                  .starts_with("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&icebergQty=0.25&"));
  ice.req.tif = TimeInForce::ioc;
  EXPECT_EQ(enc.encode_new(ice, 1, buf, sizeof buf).error, Errc::out_of_range);
  ice = limit_order(coinm, "c3");
  ice.display_qty = Qty::parse("0.25").value;
  EXPECT_EQ(enc.encode_new(ice, 1, buf, sizeof buf).error, Errc::out_of_range);
  o.req.type = OrderType::trailing_stop;
  o.callback_rate = Rate::parse("0.012").value;
  EXPECT_EQ(enc.encode_new(o, 1, buf, sizeof buf).error, Errc::out_of_range);

  // Cancel, query and cancel-all on spot; no batch cancel by id list and no dead-man timer there.
  params = "symbol=LTCBTC&origClientOrderId=c1&recvWindow=5000&timestamp=7";
  const std::string sig = openssl_hmac(kBinanceSecret, params, false);
  EXPECT_EQ(request(enc.encode_cancel(spot, o.req.client_id, 7, buf, sizeof buf)),
            "DELETE /api/v3/order?" + params + "&signature=" + sig +
                " HTTP/1.1\r\nHost: api.binance.com\r\nX-MBX-APIKEY: test-api-key\r\n\r\n");
  EXPECT_TRUE(request(enc.encode_query(spot, o.req.client_id, 7, buf, sizeof buf))
                  .starts_with("GET /api/v3/order?" + params + "&signature=" + sig + " HTTP/1.1\r\n"));
  params = "symbol=LTCBTC&recvWindow=5000&timestamp=8";
  EXPECT_TRUE(request(enc.encode_cancel_all(spot, 8, buf, sizeof buf))
                  .starts_with("DELETE /api/v3/openOrders?" + params + "&signature=" +
                               openssl_hmac(kBinanceSecret, params, false) + " HTTP/1.1\r\nHost: api.binance.com\r\n"));
  const std::array<ClientOrderId, 1> one{o.req.client_id};
  EXPECT_EQ(enc.encode_cancel_batch(spot, one, 9, buf, sizeof buf).error, Errc::out_of_range);
  EXPECT_EQ(enc.encode_countdown_cancel_all(spot, 30000, 9, buf, sizeof buf).error, Errc::out_of_range);

  // COIN-M: USD-M's parameters (GTX post-only, reduceOnly) on /dapi/v1 at dapi.binance.com.
  OrderSpec c = limit_order(coinm, "c4");
  c.req.tif = TimeInForce::post_only;
  c.req.reduce_only = true;
  req = request(enc.encode_new(c, 10, buf, sizeof buf));
  EXPECT_TRUE(req.starts_with("POST /dapi/v1/order HTTP/1.1\r\nHost: dapi.binance.com\r\n")) << req;
  params = "symbol=BTCUSD_PERP&side=BUY&type=LIMIT&timeInForce=GTX&quantity=1&price=0.1&reduceOnly=true"
           "&newClientOrderId=c4&recvWindow=5000&timestamp=10";
  EXPECT_EQ(body_of(req), params + "&signature=" + openssl_hmac(kBinanceSecret, params, false));
  EXPECT_TRUE(request(enc.encode_cancel(coinm, c.req.client_id, 11, buf, sizeof buf)).starts_with("DELETE /dapi/v1/order?symbol=BTCUSD_PERP&"));
  EXPECT_TRUE(request(enc.encode_query(coinm, c.req.client_id, 11, buf, sizeof buf)).starts_with("GET /dapi/v1/order?symbol=BTCUSD_PERP&"));
  EXPECT_TRUE(request(enc.encode_cancel_all(coinm, 11, buf, sizeof buf)).starts_with("DELETE /dapi/v1/allOpenOrders?symbol=BTCUSD_PERP&"));
  const std::array<ClientOrderId, 1> four{c.req.client_id};
  EXPECT_TRUE(request(enc.encode_cancel_batch(coinm, four, 11, buf, sizeof buf))
                  .starts_with("DELETE /dapi/v1/batchOrders?symbol=BTCUSD_PERP&origClientOrderIdList=%5B%22c4%22%5D&"));
  params = "symbol=BTCUSD_PERP&countdownTime=30000&recvWindow=5000&timestamp=12";
  req = request(enc.encode_countdown_cancel_all(coinm, 30000, 12, buf, sizeof buf));
  EXPECT_TRUE(req.starts_with("POST /dapi/v1/countdownCancelAll HTTP/1.1\r\nHost: dapi.binance.com\r\n")) << req;
  EXPECT_EQ(body_of(req), params + "&signature=" + openssl_hmac(kBinanceSecret, params, false));

  // USD-M is unchanged (fapi.binance.com), and a signed query's host follows its path.
  EXPECT_TRUE(request(enc.encode_new(limit_order(ltcbtc, "c5"), 1, buf, sizeof buf))
                  .starts_with("POST /fapi/v1/order HTTP/1.1\r\nHost: fapi.binance.com\r\n"));
  EXPECT_NE(request(enc.encode_signed(false, "/dapi/v1/positionRisk", "", 1, buf, sizeof buf)).find("\r\nHost: dapi.binance.com\r\n"),
            std::string::npos);
  EXPECT_NE(request(enc.encode_signed(false, "/api/v3/account", "", 1, buf, sizeof buf)).find("\r\nHost: api.binance.com\r\n"),
            std::string::npos);
  // A configured host (the live REST URL's) is every request's Host.
  binance_futures::Config cfg;
  cfg.host = "127.0.0.1:8443";
  binance_futures::Encoder local(registry, "k", Secret("s"), cfg);
  EXPECT_NE(request(local.encode_new(limit_order(spot, "c6"), 1, buf, sizeof buf)).find("\r\nHost: 127.0.0.1:8443\r\n"),
            std::string::npos);
}

TEST_F(Fixture, BinanceRejectsBadInputs) {
  binance_futures::Encoder enc(registry, "k", Secret("s"));
  char buf[2048];
  EXPECT_EQ(enc.encode_new(limit_order(ltcbtc, "bad id!"), 1, buf, sizeof buf).error, Errc::out_of_range);
  EXPECT_EQ(enc.encode_new(limit_order(ltcbtc, std::string(37, 'a')), 1, buf, sizeof buf).error, Errc::out_of_range);
  EXPECT_EQ(enc.encode_new(limit_order(ltcbtc, "ok"), 1, buf, 100).error, Errc::capacity);
  EXPECT_THROW(binance_futures::Encoder(registry, "key\r\nX-Evil: 1", Secret("s")), Error);
}

TEST_F(Fixture, KucoinNewOrderHeadersAndBodyMatchOpensslCli) {
  const std::string_view secret = "f03a5284-5c39-4aaa-9b20-dea10bdcf8e3";
  const std::string_view passphrase = "enigma-passphrase";
  kucoin_futures::Encoder enc(registry, "5c2db93503aa674c74a31734", Secret(secret), Secret(passphrase));
  OrderSpec o = limit_order(xbtusdtm, "enigma-0000000001");
  o.req.qty = Qty::from_units(3);
  o.req.price = Price::parse("43210.5").value;
  o.req.tif = TimeInForce::post_only;
  char buf[2048];
  const auto n = enc.encode_new(o, 1547015186532, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  const std::string_view req(buf, n.value);
  const std::string body = body_of(req);
  EXPECT_EQ(body,
            R"({"clientOid":"enigma-0000000001","side":"buy","symbol":"XBTUSDTM","type":"limit","leverage":5,)"
            R"("price":"43210.5","size":3,"timeInForce":"GTC","postOnly":true})");
  EXPECT_TRUE(req.starts_with("POST /api/v1/orders HTTP/1.1\r\n"));
  EXPECT_EQ(header_value(req, "KC-API-KEY"), "5c2db93503aa674c74a31734");
  EXPECT_EQ(header_value(req, "KC-API-TIMESTAMP"), "1547015186532");
  EXPECT_EQ(header_value(req, "KC-API-KEY-VERSION"), "2");
  EXPECT_EQ(header_value(req, "Content-Length"), std::to_string(body.size()));
  EXPECT_EQ(header_value(req, "KC-API-SIGN"), openssl_hmac(secret, "1547015186532POST/api/v1/orders" + body, true));
  EXPECT_EQ(header_value(req, "KC-API-PASSPHRASE"), openssl_hmac(secret, passphrase, true));
}

TEST_F(Fixture, KucoinStopsCancelQueryAndUnsupported) {
  const std::string_view secret = "s3cr3t";
  kucoin_futures::Encoder enc(registry, "k", Secret(secret), Secret("p"));
  char buf[2048];
  OrderSpec o = limit_order(xbtusdtm, "sl1");
  o.req.side = Side::sell;
  o.req.type = OrderType::stop_market;
  o.req.stop_price = Price::from_units(40000);
  o.req.reduce_only = true;
  std::string body = body_of({buf, enc.encode_new(o, 1, buf, sizeof buf).value});
  EXPECT_EQ(body, R"({"clientOid":"sl1","side":"sell","symbol":"XBTUSDTM","type":"market","leverage":5,"size":1,)"
                  R"("stop":"down","stopPriceType":"TP","stopPrice":"40000","reduceOnly":true})");
  o.req.type = OrderType::take_profit_market;
  body = body_of({buf, enc.encode_new(o, 1, buf, sizeof buf).value});
  EXPECT_NE(body.find(R"("stop":"up")"), std::string::npos);

  const auto c = enc.encode_cancel(xbtusdtm, o.req.client_id, 99, buf, sizeof buf);
  ASSERT_TRUE(c.ok());
  const std::string_view req(buf, c.value);
  EXPECT_TRUE(req.starts_with("DELETE /api/v1/orders/client-order/sl1?symbol=XBTUSDTM HTTP/1.1\r\n"));
  EXPECT_EQ(header_value(req, "KC-API-SIGN"),
            openssl_hmac(secret, "99DELETE/api/v1/orders/client-order/sl1?symbol=XBTUSDTM", true));
  EXPECT_TRUE(body_of(req).empty());
  const auto q = enc.encode_query(o.req.client_id, 5, buf, sizeof buf);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(std::string_view(buf, q.value).starts_with("GET /api/v1/orders/byClientOid?clientOid=sl1 HTTP/1.1"));

  const auto all = enc.encode_cancel_all(xbtusdtm, true, 77, buf, sizeof buf);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(std::string_view(buf, all.value).starts_with("DELETE /api/v1/stopOrders?symbol=XBTUSDTM HTTP/1.1\r\n"));
  EXPECT_EQ(header_value({buf, all.value}, "KC-API-SIGN"),
            openssl_hmac(secret, "77DELETE/api/v1/stopOrders?symbol=XBTUSDTM", true));

  o.req.type = OrderType::trailing_stop;
  EXPECT_EQ(enc.encode_new(o, 1, buf, sizeof buf).error, Errc::out_of_range);
  o = limit_order(xbtusdtm, "f1");
  o.req.tif = TimeInForce::fok;
  EXPECT_EQ(enc.encode_new(o, 1, buf, sizeof buf).error, Errc::out_of_range);
  o = limit_order(xbtusdtm, "f2");
  o.req.qty = Qty::parse("1.5").value;  // not a whole number of contracts
  EXPECT_EQ(enc.encode_new(o, 1, buf, sizeof buf).error, Errc::out_of_range);
  EXPECT_EQ(enc.encode_new(limit_order(xbtusdtm, std::string(40, 'a')), 1, buf, sizeof buf).error, Errc::ok);
  EXPECT_EQ(enc.encode_new(limit_order(xbtusdtm, "a.b"), 1, buf, sizeof buf).error, Errc::out_of_range);
}

// KuCoin Futures' own iceberg (docs "Place an Order": limit-order parameters `iceberg` and `visibleSize`, "not
// allowed" with postOnly; "the minimum visible size is 1/20 of the order size"): 40 contracts showing 2 is the
// smallest display the venue takes, 1 is refused, as are a non-limit, post-only and IOC order and a display
// that is the whole order.
TEST_F(Fixture, KucoinIcebergSendsVisibleSizeWithinTheVenueRules) {
  const std::string_view secret = "s3cr3t";
  kucoin_futures::Encoder enc(registry, "k", Secret(secret), Secret("p"));
  char buf[2048];
  OrderSpec o = limit_order(xbtusdtm, "ice1");
  o.req.qty = Qty::from_units(40);
  o.req.price = Price::parse("43210.5").value;
  o.display_qty = Qty::from_units(2);
  const auto n = enc.encode_new(o, 1547015186532, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  const std::string body = body_of({buf, n.value});
  EXPECT_EQ(body, R"({"clientOid":"ice1","side":"buy","symbol":"XBTUSDTM","type":"limit","leverage":5,)"
                  R"("price":"43210.5","size":40,"timeInForce":"GTC","iceberg":true,"visibleSize":2})");
  EXPECT_EQ(header_value({buf, n.value}, "KC-API-SIGN"), openssl_hmac(secret, "1547015186532POST/api/v1/orders" + body, true));

  const auto refused = [&](OrderSpec x) { return enc.encode_new(x, 1, buf, sizeof buf).error == Errc::out_of_range; };
  OrderSpec x = o;
  x.display_qty = Qty::from_units(1);  // 1/40 of the order: below the venue's 1/20
  EXPECT_TRUE(refused(x));
  x = o;
  x.display_qty = Qty::parse("2.5").value;  // not whole contracts
  EXPECT_TRUE(refused(x));
  x = o;
  x.display_qty = o.req.qty;  // nothing hidden
  EXPECT_TRUE(refused(x));
  x = o;
  x.req.tif = TimeInForce::post_only;
  EXPECT_TRUE(refused(x));
  x = o;
  x.req.tif = TimeInForce::ioc;
  EXPECT_TRUE(refused(x));
  x = o;
  x.req.type = OrderType::market;
  EXPECT_TRUE(refused(x));
  // Binance futures have no iceberg: such an order is refused, never sent whole.
  binance_futures::Encoder bin(registry, "k", Secret(secret));
  x = limit_order(ltcbtc, "ice2");
  x.req.qty = Qty::from_units(40);
  x.display_qty = Qty::from_units(2);
  EXPECT_EQ(bin.encode_new(x, 1, buf, sizeof buf).error, Errc::out_of_range);
}

TEST(OmsClientIds, GeneratorIsDeterministicAndValid) {
  ClientIdGenerator g("enigma-", 998, kKucoinMaxClientIdLen);
  EXPECT_EQ(g.next().view(), "enigma-998");
  EXPECT_EQ(g.next().view(), "enigma-999");
  EXPECT_EQ(g.next().view(), "enigma-1000");
  g.resume_from(5000);
  EXPECT_EQ(g.next().view(), "enigma-5000");
  g.resume_from(10);  // never goes back
  EXPECT_EQ(g.next().view(), "enigma-5001");
  ClientIdGenerator big("e", UINT64_MAX, kBinanceMaxClientIdLen);
  const ClientOrderId id = big.next();
  EXPECT_EQ(id.view(), "e18446744073709551615");
  EXPECT_TRUE(is_valid_client_id(id.view(), kBinanceMaxClientIdLen));
  EXPECT_THROW(ClientIdGenerator("bad prefix", 1), Error);
  EXPECT_THROW(ClientIdGenerator(std::string(17, 'a'), 1, kBinanceMaxClientIdLen), Error);  // 17 + 20 > 36
  EXPECT_FALSE(is_valid_client_id("", 40));
  EXPECT_FALSE(is_valid_client_id(std::string(41, 'a'), 40));
  EXPECT_TRUE(is_valid_client_id("Az09_-", 40));
}

TEST(OmsSecrets, FormattingRedacts) {
  const std::string secret_text = "super-secret-value-123";
  Secret s(secret_text);
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "<redacted>");
  EXPECT_EQ(fmt::format("{}", s), "<redacted>");
  ApiCredentials c;
  c.key = "visible-key-abc";
  c.secret = Secret(secret_text);
  const std::string f = fmt::format("{}", c);
  EXPECT_EQ(f.find(secret_text), std::string::npos);
  EXPECT_EQ(f.find("visible-key-abc"), std::string::npos);
  std::ostringstream os2;
  os2 << c;
  EXPECT_EQ(os2.str().find(secret_text), std::string::npos);
  const HmacSha256 h(secret_text);
  EXPECT_EQ(fmt::format("{}", h).find(secret_text), std::string::npos);
  EXPECT_EQ(s.reveal(), secret_text);
  Secret moved = std::move(s);
  EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): moved-from must hold nothing
  EXPECT_EQ(moved.reveal(), secret_text);
}

TEST(OmsSecrets, MissingEnvironmentErrorNamesVariableOnly) {
  ::setenv("ENIGMA_TEST_OMS_API_KEY", "key-value-xyz", 1);
  ::unsetenv("ENIGMA_TEST_OMS_API_SECRET");
  try {
    (void)ApiCredentials::from_env("ENIGMA_TEST_OMS_");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("ENIGMA_TEST_OMS_API_SECRET"), std::string::npos);
    EXPECT_EQ(what.find("key-value-xyz"), std::string::npos);
  }
  ::setenv("ENIGMA_TEST_OMS_API_SECRET", "secret-value-xyz", 1);
  const ApiCredentials c = ApiCredentials::from_env("ENIGMA_TEST_OMS_");
  EXPECT_EQ(c.secret.reveal(), "secret-value-xyz");
  EXPECT_TRUE(c.passphrase.empty());
}

using Encode = std::function<Result<std::size_t>(std::int64_t, char*)>;

// Each request encoded at t0 and re-signed to t1 is byte for byte the same request encoded at t1.
template <class Encoder>
void expect_resign_equals_fresh_encode(const Encoder& enc, const std::vector<Encode>& encodes, std::int64_t t0,
                                       std::int64_t t1) {
  for (const Encode& e : encodes) {
    char old_bytes[2048], fresh[2048];
    const auto n = e(t0, old_bytes);
    const auto m = e(t1, fresh);
    ASSERT_TRUE(n.ok() && m.ok());
    ASSERT_TRUE(enc.resign(old_bytes, n.value, t1)) << std::string_view(old_bytes, n.value);
    EXPECT_EQ(std::string_view(old_bytes, n.value), std::string_view(fresh, m.value));
  }
}

// A request that waited in the gateway is signed again in place: byte for byte what encoding it at the new
// time gives (new order in the body, cancel, batch cancel, start-up query in the query string), the
// signature checked against the openssl CLI; anything else is left alone and refused.
TEST_F(Fixture, BinanceResignEqualsAFreshEncodeAtTheNewTime) {
  binance_futures::Encoder enc(registry, "k", Secret("s"));
  const OrderSpec o = limit_order(ltcbtc, "rs1");
  const std::array<ClientOrderId, 2> ids{ClientOrderId::from("rs1").value, ClientOrderId::from("rs2").value};
  constexpr std::int64_t t0 = 1764931200000, t1 = 1764931203456;  // 13 digits, as a wall clock gives
  const std::vector<Encode> encodes{
      [&](std::int64_t t, char* b) { return enc.encode_new(o, t, b, 2048); },
      [&](std::int64_t t, char* b) { return enc.encode_cancel(ltcbtc, o.req.client_id, t, b, 2048); },
      [&](std::int64_t t, char* b) { return enc.encode_cancel_batch(ltcbtc, ids, t, b, 2048); },
      [&](std::int64_t t, char* b) { return enc.encode_signed(false, "/fapi/v2/balance", "", t, b, 2048); },
  };
  expect_resign_equals_fresh_encode(enc, encodes, t0, t1);
  char buf[2048];
  const auto q = enc.encode_cancel(ltcbtc, o.req.client_id, t0, buf, sizeof buf);
  ASSERT_TRUE(q.ok() && enc.resign(buf, q.value, t1));
  const std::string params = "symbol=LTCBTC&origClientOrderId=rs1&recvWindow=5000&timestamp=1764931203456";
  EXPECT_TRUE(std::string_view(buf, q.value)
                  .starts_with("DELETE /fapi/v1/order?" + params + "&signature=" + openssl_hmac("s", params, false)));
  const std::string before(buf, q.value);
  EXPECT_FALSE(enc.resign(buf, q.value, 99));  // another length: refused, nothing written
  EXPECT_EQ(std::string_view(buf, q.value), before);
  std::string json = R"({"id":"1","method":"order.place","params":{"timestamp":1764931200000}})";
  EXPECT_FALSE(enc.resign(json.data(), json.size(), t1));
}

TEST_F(Fixture, KucoinResignEqualsAFreshEncodeAtTheNewTime) {
  kucoin_futures::Encoder enc(registry, "k", Secret("s"), Secret("p"));
  const OrderSpec o = limit_order(xbtusdtm, "rs1");
  constexpr std::int64_t t0 = 1764931200000, t1 = 1764931203456;
  const std::vector<Encode> encodes{
      [&](std::int64_t t, char* b) { return enc.encode_new(o, t, b, 2048); },
      [&](std::int64_t t, char* b) { return enc.encode_cancel(xbtusdtm, o.req.client_id, t, b, 2048); },
      [&](std::int64_t t, char* b) { return enc.encode_query(o.req.client_id, t, b, 2048); },
      [&](std::int64_t t, char* b) { return enc.encode_cancel_all(xbtusdtm, true, t, b, 2048); },
  };
  expect_resign_equals_fresh_encode(enc, encodes, t0, t1);
  char buf[2048];
  const auto n = enc.encode_new(o, t0, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  const std::string before(buf, n.value);
  EXPECT_FALSE(enc.resign(buf, n.value, 99));
  EXPECT_EQ(std::string_view(buf, n.value), before);
  std::string not_a_request = "GET /api/v1/orders HTTP/1.1\r\n\r\n";
  EXPECT_FALSE(enc.resign(not_a_request.data(), not_a_request.size(), t1));
}

TEST_F(Fixture, EncodeAndSignAllocateNothing) {
  ASSERT_EQ(g_mem_hooks_installed, 1) << "OpenSSL allocated before the counting hooks were installed";
  // Every encoder a replay, paper or live run signs with (oms::simulated_order_entry, the live order entry).
  binance_futures::Encoder bn(registry, "k", Secret(kBinanceSecret));
  kucoin_futures::Encoder kc(registry, "k", Secret("s"), Secret("p"));
  bybit_linear::Encoder by(registry, "k", Secret("s"));
  okx_swap::Encoder ok(registry, "k", Secret("s"), Secret("p"));
  const OrderSpec b = limit_order(ltcbtc, "b1");
  const OrderSpec k = limit_order(xbtusdtm, "k1");
  const OrderSpec y = limit_order(bybit_btcusdt, "y1");
  const OrderSpec o = limit_order(okx_btc_swap, "o1");
  char buf[2048];
  // Warm up once (lazy one-time initialisation inside libcrypto is not per-request cost).
  ASSERT_TRUE(bn.encode_new(b, 1, buf, sizeof buf).ok());
  ASSERT_TRUE(kc.encode_new(k, 1, buf, sizeof buf).ok());
  ASSERT_TRUE(by.encode_new(y, 1, buf, sizeof buf).ok());
  ASSERT_TRUE(ok.encode_new(o, 1, buf, sizeof buf).ok());
  const std::uint64_t ossl_before = g_ossl_allocs;
  test::AllocationScope scope;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(bn.encode_new(b, 1000 + i, buf, sizeof buf).ok());
    ASSERT_TRUE(bn.encode_cancel(ltcbtc, b.req.client_id, 1000 + i, buf, sizeof buf).ok());
    ASSERT_TRUE(kc.encode_new(k, 1000 + i, buf, sizeof buf).ok());
    ASSERT_TRUE(kc.encode_cancel(xbtusdtm, k.req.client_id, 1000 + i, buf, sizeof buf).ok());
    ASSERT_TRUE(by.encode_new(y, 1000 + i, buf, sizeof buf).ok());
    ASSERT_TRUE(by.encode_cancel(bybit_btcusdt, y.req.client_id, 1000 + i, buf, sizeof buf).ok());
    ASSERT_TRUE(ok.encode_new(o, 1000 + i, buf, sizeof buf).ok());
    ASSERT_TRUE(ok.encode_cancel(okx_btc_swap, o.req.client_id, /*algo=*/false, 1000 + i, buf, sizeof buf).ok());
  }
  EXPECT_EQ(scope.count(), 0u);
  EXPECT_EQ(g_ossl_allocs - ossl_before, 0u);
}

}  // namespace
}  // namespace enigma::oms
