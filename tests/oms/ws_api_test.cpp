// Binance USD-M WebSocket API order entry (oms/venues/binance_futures_ws_api.hpp): the exact request text
// for hand-sorted params, HMAC signatures checked by the openssl CLI over the docs' signature payload
// (every param but `signature`, sorted by name, `k=v&k=v`), Ed25519 session.logon verified by the openssl
// CLI with the public key, answers decoded into the REST decoder's input, and no allocation per request.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "oms/signing.hpp"
#include "oms/venues/binance_futures.hpp"
#include "oms/venues/binance_futures_user.hpp"
#include "oms/venues/binance_futures_ws_api.hpp"
#include "tests/support/alloc_counter.hpp"

namespace enigma::oms {
namespace {

using binance_futures::WsApiAuth;
using binance_futures::WsApiEncoder;

constexpr std::string_view kSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

std::string run(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    std::array<char, 512> buf{};
    while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}
std::string write_temp(const std::string& name, std::string_view bytes) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}
std::string openssl_hmac_hex(std::string_view key, std::string_view msg) {
  const std::string f = write_temp("ws_api_msg.bin", msg);
  return run("openssl dgst -sha256 -hmac '" + std::string(key) + "' -binary < '" + f + "' | od -An -tx1 -v | tr -d ' \\n'");
}

// The value of "name":"v" or "name":v in flat request JSON (test helper; our params hold no escapes).
std::string field(std::string_view json, std::string_view name) {
  const std::string key = "\"" + std::string(name) + "\":";
  const std::size_t at = json.find(key);
  if (at == std::string_view::npos) return {};
  std::size_t from = at + key.size();
  const bool quoted = json[from] == '"';
  if (quoted) ++from;
  const std::size_t end = json.find_first_of(quoted ? "\"" : ",}", from);
  return std::string(json.substr(from, end - from));
}

struct WsApi : ::testing::Test {
  InstrumentRegistry registry{4};
  InstrumentId btc{};
  void SetUp() override {
    InstrumentSpec s{};
    s.venue = Venue::binance_usdm;
    s.symbol = Symbol("BTCUSDT");
    s.kind = InstrumentKind::linear_perpetual;
    btc = registry.add(s).value;
  }
  OrderSpec limit_buy(std::string_view cid) const {
    OrderSpec o{};
    o.req.client_id = ClientOrderId::from(cid).value;
    o.req.instrument = btc;
    o.req.side = Side::buy;
    o.req.type = OrderType::limit;
    o.req.tif = TimeInForce::post_only;
    o.req.qty = Qty::parse("0.002").value;
    o.req.price = Price::parse("60000.5").value;
    return o;
  }
};

TEST_F(WsApi, HmacOrderPlaceIsSignedOverTheSortedParams) {
  WsApiEncoder enc(registry, "test-api-key", Secret(kSecret), WsApiAuth::hmac);
  char buf[2048];
  const auto n = enc.encode_new(limit_buy("en42"), 1723075200000, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  const std::string_view req(buf, n.value);
  // Hand-sorted by name: apiKey newClientOrderId price quantity recvWindow side symbol timeInForce timestamp type.
  const std::string payload =
      "apiKey=test-api-key&newClientOrderId=en42&price=60000.5&quantity=0.002&recvWindow=5000&side=BUY"
      "&symbol=BTCUSDT&timeInForce=GTX&timestamp=1723075200000&type=LIMIT";
  const std::string sig = openssl_hmac_hex(kSecret, payload);
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_EQ(req,
            R"({"id":1,"method":"order.place","params":{"apiKey":"test-api-key","newClientOrderId":"en42","price":"60000.5",)"
            R"("quantity":"0.002","recvWindow":5000,"side":"BUY","symbol":"BTCUSDT","timeInForce":"GTX",)"
            R"("timestamp":1723075200000,"type":"LIMIT","signature":")" + sig + R"("}})");
  // Ids count up; cancel and status carry the same signature scheme.
  const auto c = enc.encode_cancel(btc, ClientOrderId::from("en42").value, 1723075200001, buf, sizeof buf);
  ASSERT_TRUE(c.ok());
  const std::string_view cancel(buf, c.value);
  EXPECT_EQ(field(cancel, "id"), "2");
  EXPECT_EQ(field(cancel, "method"), "order.cancel");
  EXPECT_EQ(field(cancel, "signature"),
            openssl_hmac_hex(kSecret, "apiKey=test-api-key&origClientOrderId=en42&recvWindow=5000&symbol=BTCUSDT&timestamp=1723075200001"));
  const auto q = enc.encode_query(btc, ClientOrderId::from("en42").value, 7, buf, sizeof buf);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(field(std::string_view(buf, q.value), "method"), "order.status");
  EXPECT_EQ(field(std::string_view(buf, q.value), "id"), "3");
}

TEST_F(WsApi, StopAndModifyRequestsCarryTheirParams) {
  WsApiEncoder enc(registry, "k", Secret(kSecret), WsApiAuth::hmac);
  OrderSpec stop = limit_buy("en7");
  stop.req.type = OrderType::stop_market;
  stop.req.side = Side::sell;
  stop.req.stop_price = Price::parse("59000").value;
  stop.req.reduce_only = true;
  char buf[2048];
  const auto n = enc.encode_new(stop, 5, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  const std::string_view req(buf, n.value);
  EXPECT_EQ(field(req, "stopPrice"), "59000");
  EXPECT_EQ(field(req, "reduceOnly"), "true");
  EXPECT_EQ(field(req, "type"), "STOP_MARKET");
  EXPECT_EQ(field(req, "price"), "");  // no limit price on a stop-market order
  EXPECT_EQ(field(req, "signature"),
            openssl_hmac_hex(kSecret, "apiKey=k&newClientOrderId=en7&quantity=0.002&recvWindow=5000&reduceOnly=true&side=SELL"
                                      "&stopPrice=59000&symbol=BTCUSDT&timestamp=5&type=STOP_MARKET"));
  const auto m = enc.encode_modify(btc, ClientOrderId::from("en7").value, Side::buy, Qty::parse("0.003").value,
                                   Price::parse("60100").value, 6, buf, sizeof buf);
  ASSERT_TRUE(m.ok());
  const std::string_view mod(buf, m.value);
  EXPECT_EQ(field(mod, "method"), "order.modify");
  EXPECT_EQ(field(mod, "signature"),
            openssl_hmac_hex(kSecret, "apiKey=k&origClientOrderId=en7&price=60100&quantity=0.003&recvWindow=5000&side=BUY"
                                      "&symbol=BTCUSDT&timestamp=6"));
  // Bad input: an invalid client id, an unknown instrument, a buffer too small.
  EXPECT_EQ(enc.encode_cancel(btc, ClientOrderId::from("bad id").value, 1, buf, sizeof buf).error, Errc::out_of_range);
  EXPECT_EQ(enc.encode_cancel(9, ClientOrderId::from("en7").value, 1, buf, sizeof buf).error, Errc::out_of_range);
  EXPECT_EQ(enc.encode_new(stop, 1, buf, 100).error, Errc::capacity);
}

// A WS-API request that waited in the gateway is signed again in place (issue 17): byte for byte what a twin
// encoder (same ids) writes at the new time, for each request kind and both authentications; the resigned
// signature checked by the openssl CLI; a REST request, a timestamp of another length or a damaged request
// is refused and left as it was.
TEST_F(WsApi, ResignEqualsAFreshEncodeAtTheNewTime) {
  constexpr std::int64_t t0 = 1764931200000, t1 = 1764931203456;
  OrderSpec stop = limit_buy("rs2");
  stop.req.type = OrderType::stop_market;
  stop.req.stop_price = Price::parse("59000").value;
  stop.req.reduce_only = true;
  const ClientOrderId id = ClientOrderId::from("rs1").value;
  for (const WsApiAuth auth : {WsApiAuth::hmac, WsApiAuth::session}) {
    const Secret secret(auth == WsApiAuth::hmac ? kSecret : "");
    WsApiEncoder then(registry, "k", secret, auth), now(registry, "k", secret, auth);
    const WsApiEncoder gateway(registry, "k", secret, auth);  // the gateway's own signer, as in production
    using Encode = std::function<Result<std::size_t>(WsApiEncoder&, std::int64_t, char*)>;
    const std::vector<Encode> encodes{
        [&](WsApiEncoder& e, std::int64_t t, char* b) { return e.encode_new(limit_buy("rs1"), t, b, 2048); },
        [&](WsApiEncoder& e, std::int64_t t, char* b) { return e.encode_new(stop, t, b, 2048); },
        [&](WsApiEncoder& e, std::int64_t t, char* b) { return e.encode_cancel(btc, id, t, b, 2048); },
        [&](WsApiEncoder& e, std::int64_t t, char* b) { return e.encode_query(btc, id, t, b, 2048); },
        [&](WsApiEncoder& e, std::int64_t t, char* b) {
          return e.encode_modify(btc, id, Side::buy, Qty::parse("0.003").value, Price::parse("60100").value, t, b, 2048);
        },
    };
    for (const Encode& e : encodes) {
      char old_bytes[2048], fresh[2048];
      const auto n = e(then, t0, old_bytes);
      const auto m = e(now, t1, fresh);
      ASSERT_TRUE(n.ok() && m.ok());
      ASSERT_TRUE(gateway.resign(old_bytes, n.value, t1)) << std::string_view(old_bytes, n.value);
      EXPECT_EQ(std::string_view(old_bytes, n.value), std::string_view(fresh, m.value));
    }
    char buf[2048];
    const auto c = then.encode_cancel(btc, id, t0, buf, sizeof buf);
    ASSERT_TRUE(c.ok());
    const std::string before(buf, c.value);
    EXPECT_FALSE(gateway.resign(buf, c.value, 99));  // another digit count: refused, nothing written
    EXPECT_EQ(std::string_view(buf, c.value), before);
    if (auth == WsApiAuth::hmac) {
      ASSERT_TRUE(gateway.resign(buf, c.value, t1));
      EXPECT_EQ(field(std::string_view(buf, c.value), "signature"),
                openssl_hmac_hex(kSecret, "apiKey=k&origClientOrderId=rs1&recvWindow=5000&symbol=BTCUSDT&timestamp=1764931203456"));
      std::string damaged = before;
      damaged.replace(damaged.find("\"symbol\""), 8, "symbol\":");  // a key without its opening quote
      const std::string kept = damaged;
      EXPECT_FALSE(gateway.resign(damaged.data(), damaged.size(), t1));
      EXPECT_EQ(damaged, kept);
    } else {
      EXPECT_EQ(field(std::string_view(buf, c.value), "signature"), "");  // session requests carry none
    }
  }
  binance_futures::Encoder rest(registry, "k", Secret(kSecret));
  char http[2048];
  const auto r = rest.encode_cancel(btc, id, t0, http, sizeof http);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(WsApiEncoder(registry, "k", Secret(kSecret), WsApiAuth::hmac).resign(http, r.value, t1));
}

TEST_F(WsApi, SessionAuthSendsNeitherKeyNorSignatureAndLogonIsEd25519Signed) {
  const std::string dir = ::testing::TempDir() + "ws_api_ed25519";
  std::filesystem::create_directories(dir);
  ASSERT_EQ(std::system(("openssl genpkey -algorithm ed25519 -out " + dir + "/k.pem 2>/dev/null && openssl pkey -in " + dir +
                         "/k.pem -pubout -out " + dir + "/pub.pem 2>/dev/null").c_str()),
            0);
  const std::string body = run("grep -v '^-----' " + dir + "/k.pem | tr -d '\\n'");
  const Ed25519Signer key{Secret(body)};
  const std::string logon = binance_futures::logon_request("ed-api-key", key, 1723075200000);
  EXPECT_EQ(field(logon, "id"), "0");
  EXPECT_EQ(field(logon, "method"), "session.logon");
  EXPECT_EQ(field(logon, "apiKey"), "ed-api-key");
  EXPECT_EQ(field(logon, "timestamp"), "1723075200000");
  const std::string sig = field(logon, "signature");
  ASSERT_EQ(sig.size(), 88u);
  // The openssl CLI verifies the signature of the sorted payload with the public key.
  const std::string msg = write_temp("ws_api_logon.txt", "apiKey=ed-api-key&timestamp=1723075200000");
  const std::string sigf = ::testing::TempDir() + "ws_api_logon.sig";
  ASSERT_EQ(std::system(("printf '%s' '" + sig + "' | base64 -d > " + sigf).c_str()), 0);
  EXPECT_EQ(run("openssl pkeyutl -verify -pubin -inkey " + dir + "/pub.pem -rawin -in " + msg + " -sigfile " + sigf),
            "Signature Verified Successfully");
  // Our verifier (used by the test venue) agrees, and refuses a changed message.
  const std::string pub = run("grep -v '^-----' " + dir + "/pub.pem | tr -d '\\n'");
  EXPECT_EQ(key.public_key_base64(), pub);
  EXPECT_TRUE(ed25519_verify(pub, "apiKey=ed-api-key&timestamp=1723075200000", sig));
  EXPECT_FALSE(ed25519_verify(pub, "apiKey=ed-api-key&timestamp=1723075200001", sig));
  EXPECT_THROW(Ed25519Signer{Secret("not-base64!")}, Error);
  EXPECT_EQ(fmt::format("{}", key), "Ed25519Signer{key=<redacted>}");

  WsApiEncoder enc(registry, "ed-api-key", Secret(), WsApiAuth::session);
  char buf[2048];
  const auto n = enc.encode_new(limit_buy("en1"), 9, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string_view(buf, n.value),
            R"({"id":1,"method":"order.place","params":{"newClientOrderId":"en1","price":"60000.5","quantity":"0.002",)"
            R"("recvWindow":5000,"side":"BUY","symbol":"BTCUSDT","timeInForce":"GTX","timestamp":9,"type":"LIMIT"}})");
  EXPECT_THROW(WsApiEncoder(registry, "k", Secret(), WsApiAuth::hmac), Error);
}

TEST_F(WsApi, AnswersBecomeTheRestDecodersInput) {
  binance_futures::WsApiAnswerDecoder dec;
  binance_futures::UserStreamDecoder user(registry);
  binance_futures::WsApiAnswer a;
  // Shapes from the ws-fapi docs: result with the order, error with code and msg, rateLimits alongside.
  const std::string ok =
      R"({"id":7,"status":200,"result":{"orderId":325078477,"symbol":"BTCUSDT","status":"NEW","clientOrderId":"en42",)"
      R"("price":"60000.5","avgPrice":"0.00","origQty":"0.002","executedQty":"0","cumQuote":"0","timeInForce":"GTX",)"
      R"("type":"LIMIT","reduceOnly":false,"side":"BUY","stopPrice":"0","origType":"LIMIT","updateTime":1723075200123},)"
      R"("rateLimits":[{"rateLimitType":"ORDERS","interval":"MINUTE","intervalNum":1,"limit":1200,"count":1}]})";
  ASSERT_EQ(dec.decode(ok, ok.size(), a), Errc::ok);
  EXPECT_EQ(a.id, 7);
  EXPECT_EQ(a.status, 200);
  binance_futures::RestAnswer r;
  ASSERT_EQ(user.decode_rest(binance_futures::RestRequest::new_order, a.status, a.body, ClientOrderId::from("en42").value, btc, r),
            Errc::ok);
  EXPECT_EQ(r.report.kind, ExecKind::accepted);
  EXPECT_FALSE(r.unknown);

  const std::string refused = R"({"id":"8","status":400,"error":{"code":-2019,"msg":"Margin is insufficient."}})";
  ASSERT_EQ(dec.decode(refused, refused.size(), a), Errc::ok);
  EXPECT_EQ(a.id, -1);  // not a number: not one of ours
  const std::string refused8 = R"({"id":8,"status":400,"error":{"code":-2019,"msg":"Margin is insufficient."}})";
  ASSERT_EQ(dec.decode(refused8, refused8.size(), a), Errc::ok);
  EXPECT_EQ(a.id, 8);
  (void)user.decode_rest(binance_futures::RestRequest::new_order, a.status, a.body, ClientOrderId::from("en43").value, btc, r);
  EXPECT_EQ(r.report.kind, ExecKind::rejected);
  EXPECT_EQ(r.venue_code, -2019);
  EXPECT_EQ(r.report.reason, Reason::insufficient_margin);

  EXPECT_EQ(dec.decode("not json", 8, a), Errc::bad_format);
  EXPECT_EQ(dec.decode(R"({"id":9})", 8, a), Errc::bad_format);  // no status
}

TEST_F(WsApi, RestEncoderRoutesOrderRequestsOnlyThroughTheWsApi) {
  binance_futures::Encoder enc(registry, "k", Secret(kSecret));
  enc.use_ws_api(std::make_unique<WsApiEncoder>(registry, "k", Secret(kSecret), WsApiAuth::hmac));
  char buf[2048];
  const auto n = enc.encode_new(limit_buy("en1"), 1, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(buf[0], '{');
  const auto c = enc.encode_cancel(btc, ClientOrderId::from("en1").value, 1, buf, sizeof buf);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(field(std::string_view(buf, c.value), "method"), "order.cancel");
  // ws-fapi has no cancel-all and no countdownCancelAll: those stay REST.
  const auto all = enc.encode_cancel_all(btc, 1, buf, sizeof buf);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(std::string_view(buf, all.value).starts_with("DELETE /fapi/v1/allOpenOrders?"));
  const auto cd = enc.encode_countdown_cancel_all(btc, 30000, 1, buf, sizeof buf);
  ASSERT_TRUE(cd.ok());
  EXPECT_TRUE(std::string_view(buf, cd.value).starts_with("POST /fapi/v1/countdownCancelAll"));
}

TEST_F(WsApi, EncodeAndSignAllocateNothing) {
  WsApiEncoder hmac(registry, "k", Secret(kSecret), WsApiAuth::hmac);
  WsApiEncoder session(registry, "k", Secret(), WsApiAuth::session);
  const OrderSpec o = limit_buy("en1");
  char buf[2048];
  ASSERT_TRUE(hmac.encode_new(o, 1, buf, sizeof buf).ok());  // warm-up
  test::AllocationScope scope;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(hmac.encode_new(o, 1000 + i, buf, sizeof buf).ok());
    ASSERT_TRUE(hmac.encode_cancel(btc, o.req.client_id, 1000 + i, buf, sizeof buf).ok());
    ASSERT_TRUE(session.encode_new(o, 1000 + i, buf, sizeof buf).ok());
  }
  EXPECT_EQ(scope.count(), 0u);
}

}  // namespace
}  // namespace enigma::oms
