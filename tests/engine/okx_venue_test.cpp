// The OKX V5 venue in miniature (tests/support/fake_okx.hpp) driven over TLS on loopback by requests this suite
// builds and signs itself (OpenSSL's HMAC and Base64 here, not the venue's helper nor any encoder of ours): it
// checks key, passphrase, timestamp and signature as OKX does, matches against a mark price with OKX's fee sign,
// cancels one, a batch, algos and everything on cancel-all-after, pushes orders / orders-algo / positions /
// account on the logged-in private WebSocket, pages orders-pending, limits rates and injects the faults the live
// tests need. Expectations are computed by hand; every wait is bounded.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/fake_okx.hpp"

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

// The private stream as a plain Beast client: connect to /ws/v5/private, then read frames with a deadline each.
class PrivateStream {
 public:
  PrivateStream(std::uint16_t port, const std::string& ca_file, const std::string& target = "/ws/v5/private") {
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
      timed_out_ = true;
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
  [[nodiscard]] bool timed_out() const { return timed_out_; }  // the last next() gave up waiting

 private:
  void run() {
    ioc_.restart();
    ioc_.run();
  }
  net::io_context ioc_;
  ssl::context ctx_{ssl::context::tls_client};
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws_{ioc_, ctx_};
  bool dead_{false}, timed_out_{false};
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
// OKX's request timestamp, computed here: ISO-8601 UTC with milliseconds.
std::string iso(std::int64_t ms) {
  const std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}
// Base64(HMAC-SHA256(secret, msg)) with OpenSSL's one-shot HMAC, not the venue's signer.
std::string sign(std::string_view secret, std::string_view msg) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), mac, &len);
  unsigned char out[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(out, mac, static_cast<int>(len));
  return {reinterpret_cast<const char*>(out), static_cast<std::size_t>(n)};
}

// The string value of "key" in a JSON text ("" when absent; the first one).
std::string field(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return m[1];
  return {};
}
// Every string value of "key", in order.
std::vector<std::string> fields(const std::string& json, const std::string& key) {
  std::vector<std::string> out;
  const std::regex re("\"" + key + "\":\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}
int count_of(const std::string& s, const std::string& needle) {
  int n = 0;
  for (std::size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}
double num(const std::string& s) { return std::stod(s); }

// How a request is signed; the defaults are OKX's correct way with the test key.
struct SignAs {
  std::string key{kOkxKey};
  std::string secret{kOkxSecret};
  std::string passphrase{kOkxPassphrase};
  std::int64_t ts_offset_ms{0};
  std::optional<std::string> timestamp;       // send (and sign) this instead of now
  std::optional<std::string> signed_payload;  // sign this requestPath + body instead of what is sent
  bool simulated{false};                      // x-simulated-trading: 1
};
SignAs with_secret(std::string s) {
  SignAs a;
  a.secret = std::move(s);
  return a;
}
SignAs with_key(std::string k) {
  SignAs a;
  a.key = std::move(k);
  return a;
}
SignAs with_passphrase(std::string p) {
  SignAs a;
  a.passphrase = std::move(p);
  return a;
}
SignAs aged(std::int64_t offset_ms) {
  SignAs a;
  a.ts_offset_ms = offset_ms;
  return a;
}
SignAs stamped(std::string ts) {
  SignAs a;
  a.timestamp = std::move(ts);
  return a;
}
SignAs signing(std::string payload) {
  SignAs a;
  a.signed_payload = std::move(payload);
  return a;
}
SignAs simulated() {
  SignAs a;
  a.simulated = true;
  return a;
}

constexpr const char* kBtc = "BTC-USDT-SWAP";

struct OkxVenue : ::testing::Test {
  FakeOkx venue;
  std::optional<RestConn> conn;

  void SetUp() override { conn.emplace(venue.port(), venue.ca_file()); }

  // A GET (target: path and query) or POST (body) signed as `as` says.
  static std::string request(const std::string& method, const std::string& target, const std::string& body,
                             const SignAs& as = {}) {
    const std::string ts = as.timestamp.value_or(iso(now_ms() + as.ts_offset_ms));
    const std::string sig = sign(as.secret, ts + method + as.signed_payload.value_or(target + body));
    std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    raw += "OK-ACCESS-KEY: " + as.key + "\r\nOK-ACCESS-SIGN: " + sig + "\r\nOK-ACCESS-TIMESTAMP: " + ts +
           "\r\nOK-ACCESS-PASSPHRASE: " + as.passphrase + "\r\n";
    if (as.simulated) raw += "x-simulated-trading: 1\r\n";
    if (method != "GET")
      raw += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    return raw + "\r\n" + body;
  }
  Reply get(const std::string& target, const SignAs& as = {}) { return conn->send(request("GET", target, "", as)); }
  Reply post(const std::string& path, const std::string& body, const SignAs& as = {}) {
    return conn->send(request("POST", path, body, as));
  }
  // POST /api/v5/trade/order; `extra` is appended inside the object (",\"reduceOnly\":true").
  Reply place(const std::string& cl, const std::string& side, const std::string& type, const std::string& sz,
              const std::string& px = "", const std::string& extra = "", const std::string& inst = kBtc) {
    std::string body = R"({"instId":")" + inst + R"(","tdMode":"cross","side":")" + side + R"(","ordType":")" + type +
                       R"(","sz":")" + sz + '"';
    if (!px.empty()) body += R"(,"px":")" + px + '"';
    body += R"(,"clOrdId":")" + cl + '"' + extra + "}";
    return post("/api/v5/trade/order", body);
  }
  Reply query(const std::string& cl) {
    return get(std::string("/api/v5/trade/order?instId=") + kBtc + "&clOrdId=" + cl);
  }
  Reply cancel(const std::string& cl) {
    return post("/api/v5/trade/cancel-order", std::string(R"({"instId":")") + kBtc + R"(","clOrdId":")" + cl + R"("})");
  }
  // A conditional algo: `leg` "sl" or "tp", market child.
  Reply place_algo(const std::string& algo_cl, const std::string& side, const std::string& sz, const std::string& leg,
                   const std::string& trigger, bool reduce_only = true) {
    return post("/api/v5/trade/order-algo",
                std::string(R"({"instId":")") + kBtc + R"(","tdMode":"cross","side":")" + side +
                    R"(","ordType":"conditional","sz":")" + sz + R"(","algoClOrdId":")" + algo_cl +
                    R"(","reduceOnly":)" + (reduce_only ? "true" : "false") + R"(,")" + leg + R"(TriggerPx":")" +
                    trigger + R"(",")" + leg + R"(OrdPx":"-1",")" + leg + R"(TriggerPxType":"last"})");
  }

  static std::string login_frame(const std::string& key, const std::string& pass, const std::string& secret,
                                 const std::string& ts) {
    return R"({"op":"login","args":[{"apiKey":")" + key + R"(","passphrase":")" + pass + R"(","timestamp":")" + ts +
           R"(","sign":")" + sign(secret, ts + "GET" + "/users/self/verify") + R"("}]})";
  }
  static std::string now_s(int offset = 0) { return std::to_string(now_ms() / 1000 + offset); }
  // Connect, log in and subscribe to `args` (a JSON array's inside), expecting the login ack and one ack each.
  std::unique_ptr<PrivateStream> open_stream(const std::string& args = R"({"channel":"orders","instType":"SWAP"})") {
    auto s = std::make_unique<PrivateStream>(venue.port(), venue.ca_file());
    s->send(login_frame(kOkxKey, kOkxPassphrase, kOkxSecret, now_s()));
    const std::string a = s->next().value_or("");
    EXPECT_EQ(field(a, "event"), "login") << a;
    EXPECT_EQ(field(a, "code"), "0");
    s->send(R"({"op":"subscribe","args":[)" + args + "]}");
    for (int i = 0, n = count_of(args, "\"channel\""); i < n; ++i) {
      const std::string ack = s->next().value_or("");
      EXPECT_EQ(field(ack, "event"), "subscribe") << ack;
    }
    return s;
  }
};

TEST_F(OkxVenue, KeyPassphraseTimestampAndSignatureAreCheckedAsOkxDoes) {
  venue.set_rate_limit("GET /api/v5/account/config", 100);
  Reply r = get("/api/v5/account/config");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.substr(0, 29), R"({"code":"0","msg":"","data":[)") << r.body;
  EXPECT_EQ(field(r.body, "posMode"), "net_mode");
  EXPECT_EQ(field(r.body, "perm"), "read_only,trade");
  EXPECT_EQ(field(r.body, "acctLv"), "2");
  EXPECT_EQ(field(r.body, "uid"), venue.uid());
  EXPECT_EQ(field(r.body, "ip"), "");
  EXPECT_FALSE(field(r.body, "inTime").empty());
  EXPECT_FALSE(field(r.body, "outTime").empty());

  // Wrong secret, key, passphrase: 50113, 50111, 50105, each HTTP 401 with data [].
  r = get("/api/v5/account/config", with_secret("00000000000000000000000000000000"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"code":"50113","msg":"Invalid signature.","data":[]})");
  r = get("/api/v5/account/config", with_key("11111111-2222-3333-4444-555555555555"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(field(r.body, "code"), "50111") << r.body;
  r = get("/api/v5/account/config", with_passphrase("not-the-passphrase"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(field(r.body, "code"), "50105") << r.body;
  // More than 30 s away either way: 50102; 20 s is inside the window.
  r = get("/api/v5/account/config", aged(-31'000));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(field(r.body, "code"), "50102") << r.body;
  EXPECT_EQ(field(r.body, "msg"), "Timestamp request expired.");
  EXPECT_EQ(field(get("/api/v5/account/config", aged(31'000)).body, "code"), "50102");
  EXPECT_EQ(field(get("/api/v5/account/config", aged(-20'000)).body, "code"), "0");
  // Not ISO-8601 with milliseconds: 50112.
  EXPECT_EQ(field(get("/api/v5/account/config", stamped(std::to_string(now_ms()))).body, "code"), "50112");
  EXPECT_EQ(field(get("/api/v5/account/config", stamped(iso(now_ms()).substr(0, 19) + "Z")).body, "code"), "50112");
  // The query string is part of requestPath: signing the path alone is refused.
  r = get("/api/v5/trade/orders-pending?instType=SWAP&limit=5", signing("/api/v5/trade/orders-pending"));
  EXPECT_EQ(field(r.body, "code"), "50113") << r.body;
  EXPECT_EQ(field(get("/api/v5/trade/orders-pending?instType=SWAP&limit=5").body, "code"), "0");
  // A body changed after signing: refused, nothing booked.
  const std::string body =
      R"({"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","ordType":"market","sz":"1","clOrdId":"t1"})";
  std::string raw = request("POST", "/api/v5/trade/order", body);
  raw.replace(raw.find(R"("sz":"1")"), 8, R"("sz":"9")");
  r = conn->send(raw);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(field(r.body, "code"), "50113") << r.body;
  EXPECT_TRUE(venue.orders().empty());

  // x-simulated-trading is accepted and recorded; a demo key needs it.
  EXPECT_EQ(field(get("/api/v5/account/config", simulated()).body, "code"), "0");
  EXPECT_EQ(venue.simulated_requests(), 1);
  EXPECT_EQ(venue.request_log().back().headers.at("x-simulated-trading"), "1");
  EXPECT_EQ(venue.request_log().back().headers.at("ok-access-passphrase"), kOkxPassphrase);
  venue.set_require_simulated(true);
  r = get("/api/v5/account/config");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(field(r.body, "code"), "50101") << r.body;
  EXPECT_EQ(field(get("/api/v5/account/config", simulated()).body, "code"), "0");
  venue.set_require_simulated(false);

  EXPECT_EQ(venue.bad_signatures(), 3);
  EXPECT_EQ(venue.refusals(50111), 1);
  EXPECT_EQ(venue.refusals(50105), 1);
  EXPECT_EQ(venue.refusals(50102), 2);
  EXPECT_EQ(venue.refusals(50112), 2);
  EXPECT_EQ(venue.refusals(50101), 1);
  EXPECT_EQ(venue.requests("GET /api/v5/account/config"), 12);
  // The same connection still serves a correct request; the key's permissions follow set_key_can_withdraw.
  EXPECT_EQ(field(place("t2", "buy", "market", "1").body, "sCode"), "0");
  venue.set_key_can_withdraw(true);
  EXPECT_EQ(field(get("/api/v5/account/config").body, "perm"), "read_only,withdraw,trade");
}

TEST_F(OkxVenue, MarketAndCrossingOrdersFillAtTheMarkAsTakerRestingOnesCancel) {
  venue.set_mark(kBtc, "60000");
  Reply r = place("mk1", "buy", "market", "2");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(field(r.body, "code"), "0") << r.body;
  EXPECT_EQ(field(r.body, "sCode"), "0");
  EXPECT_EQ(field(r.body, "sMsg"), "Order placed");
  EXPECT_EQ(field(r.body, "clOrdId"), "mk1");
  const std::string ord_id = field(r.body, "ordId");
  EXPECT_TRUE(std::regex_match(ord_id, std::regex("[1-9][0-9]{17}"))) << ord_id;
  EXPECT_FALSE(field(r.body, "inTime").empty());
  ASSERT_EQ(venue.fills().size(), 1u);
  const auto f = venue.fills()[0];
  EXPECT_EQ(f.px, "60000");
  EXPECT_EQ(f.sz, "2");
  EXPECT_EQ(f.ct_val, "0.01");
  EXPECT_EQ(f.notional, "1200");  // 2 contracts * 0.01 BTC * 60000
  EXPECT_EQ(f.fee, "-0.6");       // charged: 1200 * 0.05 %, OKX's negative sign
  EXPECT_EQ(f.fee_rate, "0.0005");
  EXPECT_EQ(f.exec_type, "T");
  EXPECT_FALSE(f.is_maker);

  const Reply q = query("mk1");
  EXPECT_EQ(field(q.body, "ordId"), ord_id) << q.body;
  EXPECT_EQ(field(q.body, "state"), "filled");
  EXPECT_EQ(field(q.body, "ordType"), "market");
  EXPECT_EQ(field(q.body, "px"), "");
  EXPECT_EQ(field(q.body, "sz"), "2");
  EXPECT_EQ(field(q.body, "accFillSz"), "2");
  EXPECT_EQ(field(q.body, "avgPx"), "60000");
  EXPECT_EQ(field(q.body, "fillPx"), "60000");
  EXPECT_EQ(field(q.body, "fee"), "-0.6");
  EXPECT_EQ(field(q.body, "feeCcy"), "USDT");
  EXPECT_EQ(field(q.body, "posSide"), "net");
  EXPECT_EQ(field(q.body, "tdMode"), "cross");
  EXPECT_EQ(field(q.body, "instType"), "SWAP");
  EXPECT_EQ(field(q.body, "reduceOnly"), "false");

  // A limit sell below the mark crosses: it fills at the mark, not at its price.
  ASSERT_EQ(field(place("lx1", "sell", "limit", "1", "59000.5").body, "sCode"), "0");
  ASSERT_EQ(venue.fills().size(), 2u);
  EXPECT_EQ(venue.fills()[1].px, "60000");
  EXPECT_EQ(venue.fills()[1].fee, "-0.3");
  EXPECT_EQ(venue.order("lx1")->state, "filled");
  EXPECT_EQ(venue.position(kBtc), "1");

  // A limit that does not cross rests; cancel it by clOrdId, then again (51400), an unknown one (51603).
  ASSERT_EQ(field(place("lr1", "buy", "limit", "1", "59000").body, "sCode"), "0");
  EXPECT_EQ(venue.order("lr1")->state, "live");
  EXPECT_EQ(field(query("lr1").body, "state"), "live");
  r = cancel("lr1");
  EXPECT_EQ(field(r.body, "code"), "0") << r.body;
  EXPECT_EQ(field(r.body, "sCode"), "0");
  EXPECT_EQ(field(r.body, "ordId"), venue.order("lr1")->ord_id);
  EXPECT_EQ(venue.order("lr1")->state, "canceled");
  EXPECT_EQ(venue.order("lr1")->cancel_source, "1");
  r = cancel("lr1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field(r.body, "code"), "1") << r.body;
  EXPECT_EQ(field(r.body, "msg"), "All operations failed");
  EXPECT_EQ(field(r.body, "sCode"), "51400");
  EXPECT_EQ(field(cancel("never1").body, "sCode"), "51603");
  EXPECT_EQ(field(cancel("mk1").body, "sCode"), "51400");  // filled
  // By ordId.
  ASSERT_EQ(field(place("lr2", "sell", "limit", "1", "61000").body, "sCode"), "0");
  const std::string id2 = venue.order("lr2")->ord_id;
  r = post("/api/v5/trade/cancel-order", std::string(R"({"instId":")") + kBtc + R"(","ordId":")" + id2 + R"("})");
  EXPECT_EQ(field(r.body, "sCode"), "0") << r.body;
  EXPECT_EQ(field(r.body, "clOrdId"), "lr2");
  EXPECT_EQ(field(query("lr2").body, "state"), "canceled");
  EXPECT_EQ(field(query("lr2").body, "cancelSource"), "1");
  // Any state by ordId; an unknown order is a request-level 51603.
  EXPECT_EQ(field(get(std::string("/api/v5/trade/order?instId=") + kBtc + "&ordId=" + ord_id).body, "clOrdId"), "mk1");
  r = query("never2");
  EXPECT_EQ(field(r.body, "code"), "51603") << r.body;
  EXPECT_EQ(field(get("/api/v5/trade/order?clOrdId=mk1").body, "code"), "50014");  // instId required
}

TEST_F(OkxVenue, OrdersThatBreakTheRulesAreRefusedWithTheirSCodes) {
  const auto s_code = [](const Reply& r) { return field(r.body, "sCode"); };
  Reply r = place("lot1", "buy", "limit", "1.005", "59000");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field(r.body, "code"), "1");
  EXPECT_EQ(s_code(r), "51121") << r.body;
  EXPECT_EQ(field(r.body, "sMsg"), "Order quantity must be a multiple of the lot size.");
  EXPECT_EQ(field(r.body, "clOrdId"), "lot1");
  EXPECT_EQ(field(r.body, "ordId"), "");
  EXPECT_EQ(s_code(place("tick1", "buy", "limit", "1", "59000.05")), "51150");
  EXPECT_EQ(s_code(place("band1", "buy", "limit", "1", "63000.1")), "51006");   // above mark * 1.05
  EXPECT_EQ(s_code(place("band2", "sell", "limit", "1", "56999.9")), "51006");  // below mark * 0.95
  EXPECT_EQ(s_code(place("1abc", "buy", "limit", "1", "59000")), "51000");      // must start with a letter
  EXPECT_EQ(s_code(place("a-b", "buy", "limit", "1", "59000")), "51000");
  EXPECT_EQ(s_code(place(std::string(33, 'a'), "buy", "limit", "1", "59000")), "51000");
  EXPECT_EQ(s_code(place("u1", "buy", "market", "1", "", "", "DOGE-USDT-SWAP")), "51001");
  EXPECT_EQ(s_code(place("t1", "buy", "gtc", "1", "59000")), "51000");
  EXPECT_EQ(s_code(place("p1", "buy", "limit", "1")), "51204");
  EXPECT_EQ(s_code(place("ps1", "buy", "limit", "1", "59000", R"(,"posSide":"long")")), "51000");
  EXPECT_EQ(s_code(place("ro1", "sell", "market", "1", "", R"(,"reduceOnly":true)")), "51169");  // nothing to reduce
  r = post("/api/v5/trade/order",
           R"({"instId":"BTC-USDT-SWAP","tdMode":"cash","side":"buy","ordType":"market","sz":"1"})");
  EXPECT_EQ(field(r.body, "sMsg"), "Parameter tdMode error") << r.body;
  // A clOrdId of an open order is refused; once that order is closed it may be used again.
  ASSERT_EQ(s_code(place("dup1", "buy", "limit", "1", "59000")), "0");
  EXPECT_EQ(s_code(place("dup1", "buy", "limit", "1", "59000")), "51016");
  ASSERT_EQ(field(cancel("dup1").body, "sCode"), "0");
  EXPECT_EQ(s_code(place("dup1", "buy", "limit", "1", "59000")), "0");
  ASSERT_EQ(field(cancel("dup1").body, "sCode"), "0");  // frees its margin for what follows
  // Malformed or empty bodies: request-level 50002 / 50000, HTTP 400.
  r = post("/api/v5/trade/order", R"({"instId":"BTC-USDT-SWAP",)");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":"50002","msg":"JSON syntax error","data":[]})");
  EXPECT_EQ(field(post("/api/v5/trade/order", "").body, "code"), "50000");
  // Margin: 2 contracts at 60000 need 2 * 0.01 * 60000 / 10 = 120 USDT.
  venue.set_balance("100");
  EXPECT_EQ(s_code(place("m1", "buy", "market", "2")), "51008");
  EXPECT_EQ(s_code(place("m2", "buy", "market", "1")), "0");  // 60 fits
  EXPECT_EQ(venue.orders().size(), 3u);                       // dup1 twice, m2
  EXPECT_EQ(venue.refusals(51000), 6);
  EXPECT_EQ(venue.refusals(51016), 1);
}

TEST_F(OkxVenue, PostOnlyThatWouldTakeIsCanceledIocAndFokThatCannotFillAreCanceled) {
  auto s = open_stream();
  ASSERT_TRUE(venue.wait_until([&] { return venue.stream_open(); }, 2000));
  // post_only crossing the mark: accepted, then canceled with cancelSource 31.
  Reply r = place("po1", "buy", "post_only", "1", "60000.5");
  EXPECT_EQ(field(r.body, "sCode"), "0") << r.body;
  std::string p = s->next().value_or("");
  EXPECT_EQ(field(p, "channel"), "orders") << p;
  EXPECT_EQ(field(p, "clOrdId"), "po1");
  EXPECT_EQ(field(p, "state"), "canceled");
  EXPECT_EQ(field(p, "cancelSource"), "31");
  EXPECT_EQ(field(p, "cancelSourceReason"), "The post-only order will take liquidity in maker orders");
  EXPECT_EQ(field(p, "accFillSz"), "0");
  EXPECT_EQ(field(p, "fillSz"), "0");
  EXPECT_EQ(field(p, "ordType"), "post_only");
  EXPECT_EQ(field(p, "uid"), venue.uid());
  // post_only that does not cross rests.
  ASSERT_EQ(field(place("po2", "buy", "post_only", "1", "59000").body, "sCode"), "0");
  p = s->next().value_or("");
  EXPECT_EQ(field(p, "state"), "live") << p;
  EXPECT_EQ(field(p, "px"), "59000");
  // ioc / fok that cannot fill: canceled 14 / 13.
  ASSERT_EQ(field(place("ioc1", "buy", "ioc", "1", "59000").body, "sCode"), "0");
  p = s->next().value_or("");
  EXPECT_EQ(field(p, "clOrdId"), "ioc1") << p;
  EXPECT_EQ(field(p, "state"), "canceled");
  EXPECT_EQ(field(p, "cancelSource"), "14");
  ASSERT_EQ(field(place("fok1", "sell", "fok", "1", "61000").body, "sCode"), "0");
  p = s->next().value_or("");
  EXPECT_EQ(field(p, "state"), "canceled") << p;
  EXPECT_EQ(field(p, "cancelSource"), "13");
  EXPECT_TRUE(venue.fills().empty());
  // An ioc that crosses fills in full at the mark, as taker.
  ASSERT_EQ(field(place("ioc2", "buy", "ioc", "1", "60500").body, "sCode"), "0");
  p = s->next().value_or("");
  EXPECT_EQ(field(p, "state"), "filled") << p;
  EXPECT_EQ(field(p, "fillPx"), "60000");
  EXPECT_EQ(field(p, "execType"), "T");
  EXPECT_EQ(field(p, "fillFee"), "-0.3");
  ASSERT_EQ(venue.fills().size(), 1u);
  EXPECT_EQ(venue.order("po2")->state, "live");
}

TEST_F(OkxVenue, BatchCancelAnswersEachOrderWithPartialSuccessShape) {
  for (const char* cl : {"b1", "b2", "b3"})
    ASSERT_EQ(field(place(cl, "buy", "limit", "1", "58000").body, "sCode"), "0");
  ASSERT_EQ(field(place("b4", "buy", "market", "1").body, "sCode"), "0");
  const std::string id2 = venue.order("b2")->ord_id;
  const std::string btc = std::string(R"("instId":")") + kBtc + R"(")";
  Reply r = post("/api/v5/trade/cancel-batch-orders", "[{" + btc + R"(,"clOrdId":"b1"},{)" + btc + R"(,"ordId":")" +
                                                          id2 + R"("},{)" + btc + R"(,"clOrdId":"nope"},{)" + btc +
                                                          R"(,"clOrdId":"b4"}])");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field(r.body, "code"), "2") << r.body;
  EXPECT_EQ(field(r.body, "msg"), "Bulk operation partially succeeded");
  EXPECT_EQ(fields(r.body, "sCode"), (std::vector<std::string>{"0", "0", "51603", "51400"}));
  EXPECT_EQ(fields(r.body, "clOrdId"), (std::vector<std::string>{"b1", "b2", "nope", "b4"}));
  EXPECT_EQ(venue.order("b1")->state, "canceled");
  EXPECT_EQ(venue.order("b2")->state, "canceled");
  // None cancelled: code 1; all: code 0.
  r = post("/api/v5/trade/cancel-batch-orders", "[{" + btc + R"(,"clOrdId":"b1"},{)" + btc + R"(,"clOrdId":"b2"}])");
  EXPECT_EQ(field(r.body, "code"), "1") << r.body;
  EXPECT_EQ(fields(r.body, "sCode"), (std::vector<std::string>{"51400", "51400"}));
  r = post("/api/v5/trade/cancel-batch-orders", "[{" + btc + R"(,"clOrdId":"b3"}])");
  EXPECT_EQ(field(r.body, "code"), "0") << r.body;
  EXPECT_EQ(venue.open_orders().size(), 0u);
  // More than 20, or not an array: 51000.
  std::string many = "[";
  for (int i = 0; i < 21; ++i) many += (i ? ",{" : "{") + btc + R"(,"clOrdId":"x)" + std::to_string(i) + R"("})";
  r = post("/api/v5/trade/cancel-batch-orders", many + "]");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field(r.body, "code"), "51000") << r.body;
  EXPECT_EQ(field(post("/api/v5/trade/cancel-batch-orders", "{" + btc + R"(,"clOrdId":"b3"})").body, "code"), "51000");
}

TEST_F(OkxVenue, ConditionalAlgoTriggersOnTheMarkOrOnDemandAndItsChildFills) {
  venue.set_algo_channel_anywhere(true);  // the algo and order pushes read in their order on one connection
  auto s = open_stream(R"({"channel":"orders","instType":"SWAP"},{"channel":"orders-algo","instType":"SWAP"})");
  ASSERT_EQ(field(place("long1", "buy", "market", "2").body, "sCode"), "0");
  EXPECT_EQ(field(s->next().value_or(""), "state"), "filled");

  // A stop-loss below the mark (sell, reduce-only, market child).
  Reply r = place_algo("sl1", "sell", "2", "sl", "58000");
  EXPECT_EQ(field(r.body, "code"), "0") << r.body;
  EXPECT_EQ(field(r.body, "algoClOrdId"), "sl1");
  const std::string algo_id = field(r.body, "algoId");
  EXPECT_TRUE(std::regex_match(algo_id, std::regex("[0-9]{18}"))) << algo_id;
  std::string p = s->next().value_or("");
  EXPECT_EQ(field(p, "channel"), "orders-algo") << p;
  EXPECT_EQ(field(p, "state"), "live");
  EXPECT_EQ(field(p, "algoId"), algo_id);
  EXPECT_EQ(field(p, "slTriggerPx"), "58000");
  EXPECT_EQ(field(p, "slOrdPx"), "-1");
  EXPECT_EQ(field(p, "ordType"), "conditional");
  // A trigger already crossed is refused.
  EXPECT_EQ(field(place_algo("sl2", "sell", "2", "sl", "61000").body, "sCode"), "51280");
  EXPECT_EQ(field(place_algo("tp0", "sell", "2", "tp", "59000").body, "sCode"), "51279");
  // Queries.
  r = get("/api/v5/trade/order-algo?algoClOrdId=sl1");
  EXPECT_EQ(field(r.body, "state"), "live") << r.body;
  EXPECT_EQ(field(r.body, "algoId"), algo_id);
  r = get("/api/v5/trade/orders-algo-pending?ordType=conditional&instType=SWAP");
  EXPECT_EQ(fields(r.body, "algoClOrdId"), (std::vector<std::string>{"sl1"})) << r.body;
  EXPECT_EQ(field(get("/api/v5/trade/orders-algo-pending?instType=SWAP").body, "code"), "50014");

  // The mark moves but does not reach it; then crosses it: effective, the child fills at the mark.
  venue.set_mark(kBtc, "59000");
  EXPECT_EQ(venue.algo("sl1")->state, "live");
  venue.set_mark(kBtc, "57900");
  p = s->next().value_or("");
  EXPECT_EQ(field(p, "channel"), "orders-algo") << p;
  EXPECT_EQ(field(p, "state"), "effective");
  EXPECT_EQ(field(p, "actualSide"), "sl");
  EXPECT_EQ(field(p, "actualSz"), "2");
  const std::string child = field(p, "ordId");
  EXPECT_FALSE(child.empty());
  p = s->next().value_or("");
  EXPECT_EQ(field(p, "channel"), "orders") << p;
  EXPECT_EQ(field(p, "ordId"), child);
  EXPECT_EQ(field(p, "clOrdId"), "");
  EXPECT_EQ(field(p, "algoClOrdId"), "sl1");
  EXPECT_EQ(field(p, "algoId"), algo_id);
  EXPECT_EQ(field(p, "ordType"), "market");
  EXPECT_EQ(field(p, "reduceOnly"), "true");
  EXPECT_EQ(field(p, "source"), "7");
  EXPECT_EQ(field(p, "state"), "filled");
  EXPECT_EQ(field(p, "fillPx"), "57900");
  EXPECT_EQ(field(p, "fillPnl"), "-42");  // 2 * 0.01 * (57900 - 60000)
  EXPECT_EQ(venue.position(kBtc), "0");
  EXPECT_EQ(field(get("/api/v5/trade/order-algo?algoId=" + algo_id).body, "state"), "effective");
  EXPECT_EQ(count_of(get("/api/v5/trade/orders-algo-pending?ordType=conditional").body, "algoId"), 0);
  const std::string btc = std::string(R"("instId":")") + kBtc + R"(")";
  r = post("/api/v5/trade/cancel-algos", "[{" + btc + R"(,"algoClOrdId":"sl1"}])");
  EXPECT_EQ(field(r.body, "sCode"), "51416") << r.body;  // triggered

  // A take-profit triggered on demand.
  ASSERT_EQ(field(place("long2", "buy", "market", "1").body, "sCode"), "0");
  EXPECT_EQ(field(s->next().value_or(""), "fillPx"), "57900");
  ASSERT_EQ(field(place_algo("tp1", "sell", "1", "tp", "59000").body, "sCode"), "0");
  EXPECT_EQ(field(s->next().value_or(""), "state"), "live");
  ASSERT_TRUE(venue.trigger_algo("tp1"));
  p = s->next().value_or("");
  EXPECT_EQ(field(p, "state"), "effective") << p;
  EXPECT_EQ(field(p, "actualSide"), "tp");
  EXPECT_EQ(field(s->next().value_or(""), "state"), "filled");
  EXPECT_EQ(venue.position(kBtc), "0");
  EXPECT_FALSE(venue.trigger_algo("tp1"));

  // cancel-algos by algoClOrdId and by algoId; an unknown one.
  ASSERT_EQ(field(place_algo("a1", "buy", "1", "sl", "59000", false).body, "sCode"), "0");
  ASSERT_EQ(field(place_algo("a2", "buy", "1", "sl", "59500", false).body, "sCode"), "0");
  s->next();
  s->next();
  r = post("/api/v5/trade/cancel-algos",
           "[{" + btc + R"(,"algoClOrdId":"a1"},{)" + btc + R"(,"algoId":")" + venue.algo("a2")->algo_id + R"("}])");
  EXPECT_EQ(field(r.body, "code"), "0") << r.body;
  EXPECT_EQ(fields(r.body, "algoClOrdId"), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(field(s->next().value_or(""), "state"), "canceled");
  EXPECT_EQ(field(s->next().value_or(""), "state"), "canceled");
  EXPECT_EQ(venue.algo("a1")->state, "canceled");
  r = post("/api/v5/trade/cancel-algos", "[{" + btc + R"(,"algoClOrdId":"zz"}])");
  EXPECT_EQ(field(r.body, "code"), "1");
  EXPECT_EQ(field(r.body, "sCode"), "51603") << r.body;
}

TEST_F(OkxVenue, CancelAllAfterCountdownCancelsEverythingUnlessRefreshed) {
  venue.set_countdown_scale(150);  // one countdown second: 150 ms
  venue.set_rate_limit("POST /api/v5/trade/cancel-all-after", 20, 1000);
  venue.set_batch_pushes(true);
  venue.set_algo_channel_anywhere(true);  // the algo and order pushes read in their order on one connection
  auto s = open_stream(R"({"channel":"orders","instType":"SWAP"},{"channel":"orders-algo","instType":"SWAP"})");
  ASSERT_EQ(field(place("c1", "buy", "limit", "1", "58000").body, "sCode"), "0");
  ASSERT_EQ(field(place("c2", "sell", "limit", "1", "62000").body, "sCode"), "0");
  ASSERT_EQ(field(place_algo("c3", "buy", "1", "sl", "61000", false).body, "sCode"), "0");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(field(s->next().value_or(""), "state"), "live");

  EXPECT_EQ(field(post("/api/v5/trade/cancel-all-after", R"({"timeOut":"5"})").body, "code"), "51000");
  EXPECT_EQ(field(post("/api/v5/trade/cancel-all-after", R"({"timeOut":"121"})").body, "code"), "51000");
  const std::int64_t armed_at = now_ms();
  Reply r = post("/api/v5/trade/cancel-all-after", R"({"timeOut":"10"})");
  EXPECT_EQ(field(r.body, "code"), "0") << r.body;
  EXPECT_LE(std::llabs(std::stoll(field(r.body, "triggerTime")) - (armed_at + 10'000)), 2000);  // ms, nominal
  EXPECT_LE(std::llabs(std::stoll(field(r.body, "ts")) - armed_at), 2000);
  EXPECT_TRUE(venue.countdown_armed());
  EXPECT_EQ(venue.countdown_timeout_s(), 10);
  // Refreshed before its (scaled) second: nothing goes.
  std::this_thread::sleep_for(700ms);
  const auto refreshed = std::chrono::steady_clock::now();
  ASSERT_EQ(field(post("/api/v5/trade/cancel-all-after", R"({"timeOut":"10"})").body, "code"), "0");
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(venue.order("c1")->state, "live");
  EXPECT_EQ(venue.countdown_trips(), 0);
  // Left alone: every open order and algo is cancelled, pushed with cancelSource 20 (the two orders batched).
  ASSERT_TRUE(venue.wait_until([&] { return venue.countdown_trips() == 1; }, 3000));
  EXPECT_GE(std::chrono::steady_clock::now() - refreshed, 1490ms);
  EXPECT_FALSE(venue.countdown_armed());
  EXPECT_EQ(venue.order("c1")->cancel_source, "20");
  EXPECT_EQ(venue.order("c2")->state, "canceled");
  EXPECT_EQ(venue.algo("c3")->state, "canceled");
  std::string p = s->next().value_or("");
  EXPECT_EQ(field(p, "channel"), "orders") << p;
  EXPECT_EQ(fields(p, "clOrdId"), (std::vector<std::string>{"c1", "c2"}));
  EXPECT_EQ(fields(p, "cancelSource"), (std::vector<std::string>{"20", "20"}));
  EXPECT_EQ(field(p, "cancelSourceReason"), "Cancel all after triggered");
  p = s->next().value_or("");
  EXPECT_EQ(field(p, "channel"), "orders-algo") << p;
  EXPECT_EQ(field(p, "state"), "canceled");

  // timeOut 0 disarms (triggerTime "0"); expire_countdown fires an armed one at once.
  r = post("/api/v5/trade/cancel-all-after", R"({"timeOut":"0"})");
  EXPECT_EQ(field(r.body, "triggerTime"), "0") << r.body;
  EXPECT_FALSE(venue.expire_countdown());
  ASSERT_EQ(field(post("/api/v5/trade/cancel-all-after", R"({"timeOut":"120","tag":"t1"})").body, "tag"), "t1");
  ASSERT_EQ(field(place("c4", "buy", "limit", "1", "58000").body, "sCode"), "0");
  EXPECT_EQ(field(s->next().value_or(""), "state"), "live");
  ASSERT_TRUE(venue.expire_countdown());
  p = s->next().value_or("");
  EXPECT_EQ(fields(p, "clOrdId"), (std::vector<std::string>{"c4"})) << p;
  EXPECT_EQ(field(p, "cancelSource"), "20");
  EXPECT_EQ(venue.countdown_trips(), 2);
  // The documented 1 request per second.
  venue.set_rate_limit("POST /api/v5/trade/cancel-all-after", 1, 1000);
  EXPECT_EQ(field(post("/api/v5/trade/cancel-all-after", R"({"timeOut":"0"})").body, "code"), "0");
  EXPECT_EQ(post("/api/v5/trade/cancel-all-after", R"({"timeOut":"0"})").status, 429);
}

TEST_F(OkxVenue, PrivateStreamLoginIsCheckedSubscribeAckedAndPingAnswered) {
  {
    PrivateStream s(venue.port(), venue.ca_file());
    s.send(R"({"op":"subscribe","args":[{"channel":"orders","instType":"SWAP"}]})");
    const std::string e = s.next().value_or("");
    EXPECT_EQ(field(e, "event"), "error") << e;
    EXPECT_EQ(field(e, "code"), "60011");
    EXPECT_EQ(field(e, "msg"), "Please log in");
    s.send("ping");
    EXPECT_EQ(s.next().value_or(""), "pong");
    // A bad signature: error 60007, then the venue closes the connection.
    s.send(login_frame(kOkxKey, kOkxPassphrase, "00000000000000000000000000000000", now_s()));
    const std::string bad = s.next().value_or("");
    EXPECT_EQ(field(bad, "event"), "error") << bad;
    EXPECT_EQ(field(bad, "code"), "60007");
    EXPECT_EQ(field(bad, "msg"), "Invalid sign");
    EXPECT_FALSE(field(bad, "connId").empty());
    EXPECT_FALSE(s.next(2000).has_value());
    EXPECT_FALSE(s.timed_out());  // closed, not silent
  }
  const auto refused = [&](const std::string& frame) {
    PrivateStream s(venue.port(), venue.ca_file());
    s.send(frame);
    return field(s.next().value_or(""), "code");
  };
  EXPECT_EQ(refused(login_frame(kOkxKey, "wrong-pass", kOkxSecret, now_s())), "60024");
  EXPECT_EQ(refused(login_frame(kOkxKey, kOkxPassphrase, kOkxSecret, now_s(-60))), "60006");
  EXPECT_EQ(refused(login_frame("11111111-2222-3333-4444-555555555555", kOkxPassphrase, kOkxSecret, now_s())), "60005");
  EXPECT_EQ(refused(login_frame(kOkxKey, kOkxPassphrase, kOkxSecret, "soon")), "60004");
  EXPECT_EQ(refused(R"({"op":"login","args":[]})"), "60009");
  EXPECT_EQ(venue.ws_login_refusals(), 6);
  EXPECT_EQ(venue.ws_logins(), 0);

  PrivateStream s(venue.port(), venue.ca_file());
  s.send(login_frame(kOkxKey, kOkxPassphrase, kOkxSecret, now_s()));
  const std::string ok = s.next().value_or("");
  EXPECT_EQ(std::regex_replace(ok, std::regex(R"("connId":"[0-9a-f]{8}")"), R"("connId":"C")"),
            R"({"event":"login","code":"0","msg":"","connId":"C"})");
  const std::string conn_id = field(ok, "connId");
  // orders-algo lives on /ws/v5/business only (64001 here, as OKX answers).
  s.send(R"({"op":"subscribe","args":[{"channel":"orders-algo","instType":"SWAP"}]})");
  EXPECT_EQ(field(s.next().value_or(""), "code"), "64001");
  s.send(
      R"({"op":"subscribe","args":[{"channel":"orders","instType":"SWAP"},)"
      R"({"channel":"positions","instType":"SWAP"},{"channel":"account","ccy":"USDT"}]})");
  EXPECT_EQ(s.next().value_or(""),
            R"({"event":"subscribe","arg":{"channel":"orders","instType":"SWAP"},"connId":")" + conn_id + R"("})");
  for (const char* channel : {"positions", "account"}) {
    const std::string ack = s.next().value_or("");
    EXPECT_EQ(field(ack, "event"), "subscribe") << ack;
    EXPECT_EQ(field(ack, "channel"), channel);
    EXPECT_EQ(field(ack, "connId"), conn_id);
  }
  s.send(R"({"op":"subscribe","args":[{"channel":"fills","instType":"SWAP"}]})");
  EXPECT_EQ(field(s.next().value_or(""), "code"), "60018");
  s.send(R"({"op":"subscribe","args":[{"channel":"orders"}]})");
  EXPECT_EQ(field(s.next().value_or(""), "code"), "60013");
  s.send(R"({"op":"dance","args":[]})");
  EXPECT_EQ(field(s.next().value_or(""), "code"), "60019");
  s.send("not json");
  EXPECT_EQ(field(s.next().value_or(""), "code"), "60012");
  s.send(R"({"op":"unsubscribe","args":[{"channel":"account","ccy":"USDT"}]})");
  EXPECT_EQ(field(s.next().value_or(""), "event"), "unsubscribe");
  s.send("ping");
  EXPECT_EQ(s.next().value_or(""), "pong");
  // Still open after the refusals above; the order channel pushes.
  ASSERT_EQ(field(place("w1", "buy", "limit", "1", "59000").body, "sCode"), "0");
  EXPECT_EQ(field(s.next().value_or(""), "clOrdId"), "w1");
  EXPECT_EQ(venue.ws_logins(), 1);
  EXPECT_EQ(venue.pings(), 2);

  // The business endpoint: the same login, orders-algo only.
  PrivateStream b(venue.port(), venue.ca_file(), "/ws/v5/business");
  b.send(login_frame(kOkxKey, kOkxPassphrase, kOkxSecret, now_s()));
  EXPECT_EQ(field(b.next().value_or(""), "code"), "0");
  b.send(R"({"op":"subscribe","args":[{"channel":"orders","instType":"SWAP"}]})");
  EXPECT_EQ(field(b.next().value_or(""), "code"), "64001");
  b.send(R"({"op":"subscribe","args":[{"channel":"orders-algo","instType":"SWAP"}]})");
  EXPECT_EQ(field(b.next().value_or(""), "event"), "subscribe");
  ASSERT_EQ(field(place_algo("wa1", "buy", "1", "sl", "61000", false).body, "sCode"), "0");
  const std::string pushed = b.next().value_or("");
  EXPECT_EQ(field(pushed, "channel"), "orders-algo") << pushed;
  EXPECT_EQ(field(pushed, "algoClOrdId"), "wa1");
}

TEST_F(OkxVenue, MakerFillsArePushedWithOkxsFeeSignAccFillSzPositionAndAccount) {
  auto s = open_stream(
      R"({"channel":"orders","instType":"SWAP"},{"channel":"positions","instType":"SWAP"},{"channel":"account"})");
  ASSERT_TRUE(venue.wait_until([&] { return venue.stream_open(); }, 2000));
  ASSERT_EQ(field(place("mr1", "buy", "limit", "3", "59000").body, "sCode"), "0");
  std::string p = s->next().value_or("");
  EXPECT_NE(p.find(R"("arg":{"channel":"orders","instType":"SWAP","uid":")"), std::string::npos) << p;
  EXPECT_NE(p.find(R"("data":[{)"), std::string::npos);
  EXPECT_EQ(field(p, "state"), "live");
  EXPECT_EQ(field(p, "sz"), "3");
  EXPECT_EQ(field(p, "px"), "59000");
  EXPECT_EQ(field(p, "accFillSz"), "0");
  EXPECT_EQ(field(p, "fillSz"), "0");
  EXPECT_EQ(field(p, "fillFee"), "0");
  EXPECT_EQ(field(p, "fee"), "0");
  EXPECT_EQ(field(p, "avgPx"), "0");
  EXPECT_EQ(field(p, "tradeId"), "");
  EXPECT_EQ(field(p, "execType"), "");
  EXPECT_EQ(field(p, "code"), "0");

  // 1 of 3 as maker: 1 * 0.01 * 59000 * 0.02 % = 0.118 charged.
  ASSERT_TRUE(venue.fill_resting("mr1", "1"));
  p = s->next().value_or("");
  EXPECT_EQ(field(p, "channel"), "orders") << p;
  EXPECT_EQ(field(p, "state"), "partially_filled");
  EXPECT_EQ(field(p, "fillSz"), "1");
  EXPECT_EQ(field(p, "fillPx"), "59000");
  EXPECT_EQ(field(p, "accFillSz"), "1");
  EXPECT_EQ(field(p, "fillFee"), "-0.118");
  EXPECT_EQ(field(p, "fee"), "-0.118");
  EXPECT_EQ(field(p, "fillFeeCcy"), "USDT");
  EXPECT_EQ(field(p, "execType"), "M");
  EXPECT_EQ(field(p, "avgPx"), "59000");
  EXPECT_FALSE(field(p, "tradeId").empty());
  EXPECT_FALSE(field(p, "fillTime").empty());
  std::string ps = s->next().value_or("");
  EXPECT_EQ(field(ps, "channel"), "positions") << ps;
  EXPECT_EQ(field(ps, "pos"), "1");
  EXPECT_EQ(field(ps, "avgPx"), "59000");
  EXPECT_EQ(field(ps, "posSide"), "net");
  EXPECT_EQ(field(ps, "upl"), "10");  // 1 * 0.01 * (60000 - 59000)
  std::string ac = s->next().value_or("");
  EXPECT_EQ(field(ac, "channel"), "account") << ac;
  EXPECT_EQ(field(ac, "cashBal"), "9999.882");
  EXPECT_EQ(field(ac, "ccy"), "USDT");

  // The other 2: filled, the fee adds up on the order.
  ASSERT_TRUE(venue.fill_resting("mr1"));
  p = s->next().value_or("");
  EXPECT_EQ(field(p, "state"), "filled") << p;
  EXPECT_EQ(field(p, "fillSz"), "2");
  EXPECT_EQ(field(p, "accFillSz"), "3");
  EXPECT_EQ(field(p, "fillFee"), "-0.236");
  EXPECT_EQ(field(p, "fee"), "-0.354");
  EXPECT_EQ(field(s->next().value_or(""), "pos"), "3");
  EXPECT_EQ(field(s->next().value_or(""), "cashBal"), "9999.646");

  // A maker rebate (negative rate) is a positive fillFee; closing 1 of the long books its PnL.
  venue.set_fee_rates("-0.0001", "0.0005");
  ASSERT_EQ(field(place("mr2", "sell", "limit", "1", "61000").body, "sCode"), "0");
  EXPECT_EQ(field(s->next().value_or(""), "state"), "live");
  ASSERT_TRUE(venue.fill_resting("mr2"));
  p = s->next().value_or("");
  EXPECT_EQ(field(p, "fillFee"), "0.061") << p;  // 1 * 0.01 * 61000 * 0.01 %
  EXPECT_EQ(field(p, "fillPnl"), "20");          // 1 * 0.01 * (61000 - 59000)
  EXPECT_EQ(field(p, "pnl"), "20");
  ps = s->next().value_or("");
  EXPECT_EQ(field(ps, "pos"), "2") << ps;
  EXPECT_EQ(field(ps, "pnl"), "20");
  EXPECT_EQ(field(s->next().value_or(""), "cashBal"), "10019.707");  // 9999.646 + 0.061 + 20
  ASSERT_EQ(venue.fills().size(), 3u);
  for (const auto& f : venue.fills()) EXPECT_EQ(f.exec_type, "M");
  EXPECT_EQ(venue.fills()[2].fee, "0.061");
  EXPECT_TRUE(venue.fills()[2].is_maker);

  // In two fills (set_fill_parts): partially_filled then filled, accFillSz cumulative.
  venue.set_fill_parts(2);
  ASSERT_EQ(field(place("mr3", "sell", "limit", "0.04", "61000").body, "sCode"), "0");
  s->next();
  ASSERT_TRUE(venue.fill_resting("mr3"));
  const std::string o1 = s->next().value_or("");
  s->next();
  s->next();
  const std::string o2 = s->next().value_or("");
  EXPECT_EQ(field(o1, "state"), "partially_filled") << o1;
  EXPECT_EQ(field(o1, "accFillSz"), "0.02");
  EXPECT_EQ(field(o2, "state"), "filled") << o2;
  EXPECT_EQ(field(o2, "accFillSz"), "0.04");
  EXPECT_NE(field(o1, "tradeId"), field(o2, "tradeId"));
}

TEST_F(OkxVenue, OrdersPendingIsNewestFirstAndPagesWithAfterAndBefore) {
  for (int i = 1; i <= 5; ++i)
    ASSERT_EQ(field(place("p" + std::to_string(i), "buy", "limit", "1", std::to_string(57000 + i)).body, "sCode"), "0");
  ASSERT_EQ(field(place("e1", "buy", "limit", "1", "1900", "", "ETH-USDT-SWAP").body, "sCode"), "0");
  ASSERT_EQ(field(place("f1", "buy", "market", "1").body, "sCode"), "0");  // filled: not pending
  Reply r = get("/api/v5/trade/orders-pending?instType=SWAP&instId=BTC-USDT-SWAP&limit=2");
  EXPECT_EQ(fields(r.body, "clOrdId"), (std::vector<std::string>{"p5", "p4"})) << r.body;
  const std::string after = fields(r.body, "ordId").back();
  r = get("/api/v5/trade/orders-pending?instType=SWAP&instId=BTC-USDT-SWAP&after=" + after + "&limit=2");
  EXPECT_EQ(fields(r.body, "clOrdId"), (std::vector<std::string>{"p3", "p2"})) << r.body;
  r = get("/api/v5/trade/orders-pending?instType=SWAP&instId=BTC-USDT-SWAP&after=" + fields(r.body, "ordId").back());
  EXPECT_EQ(fields(r.body, "clOrdId"), (std::vector<std::string>{"p1"})) << r.body;
  r = get("/api/v5/trade/orders-pending?instType=SWAP&before=" + venue.order("p3")->ord_id);
  EXPECT_EQ(fields(r.body, "clOrdId"), (std::vector<std::string>{"e1", "p5", "p4"})) << r.body;
  r = get("/api/v5/trade/orders-pending?instType=SWAP");
  EXPECT_EQ(fields(r.body, "clOrdId"), (std::vector<std::string>{"e1", "p5", "p4", "p3", "p2", "p1"})) << r.body;
  ASSERT_EQ(field(cancel("p3").body, "sCode"), "0");
  EXPECT_EQ(fields(get("/api/v5/trade/orders-pending?instId=BTC-USDT-SWAP").body, "clOrdId"),
            (std::vector<std::string>{"p5", "p4", "p2", "p1"}));
  EXPECT_EQ(count_of(get("/api/v5/trade/orders-pending?instType=SWAP&ordType=post_only").body, "clOrdId"), 0);
  EXPECT_EQ(count_of(get("/api/v5/trade/orders-pending?instType=SPOT").body, "clOrdId"), 0);
  r = get("/api/v5/trade/orders-pending?instType=SWAP&limit=101");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field(r.body, "code"), "51000") << r.body;
}

TEST_F(OkxVenue, PositionsAndBalanceFollowTheFillsAsComputedByHand) {
  venue.set_mark(kBtc, "60000");
  ASSERT_EQ(field(place("h1", "buy", "market", "3").body, "sCode"), "0");  // fee 3 * 0.01 * 60000 * 0.05 % = 0.9
  venue.set_mark(kBtc, "61000");
  ASSERT_EQ(field(place("h2", "sell", "market", "1").body, "sCode"), "0");  // fee 0.305, PnL 1 * 0.01 * 1000 = 10
  Reply r = get("/api/v5/account/positions?instType=SWAP");
  EXPECT_EQ(field(r.body, "instId"), kBtc) << r.body;
  EXPECT_EQ(field(r.body, "pos"), "2");
  EXPECT_EQ(field(r.body, "avgPx"), "60000");
  EXPECT_EQ(field(r.body, "posSide"), "net");
  EXPECT_EQ(field(r.body, "mgnMode"), "cross");
  EXPECT_EQ(field(r.body, "markPx"), "61000");
  EXPECT_EQ(field(r.body, "upl"), "20");   // 2 * 0.01 * (61000 - 60000)
  EXPECT_EQ(field(r.body, "imr"), "122");  // 2 * 0.01 * 61000 / 10
  EXPECT_EQ(field(r.body, "lever"), "10");
  EXPECT_EQ(field(r.body, "notionalUsd"), "1220");
  EXPECT_EQ(field(r.body, "pnl"), "10");
  EXPECT_EQ(field(r.body, "fee"), "-1.205");
  EXPECT_EQ(field(r.body, "realizedPnl"), "8.795");
  EXPECT_EQ(field(r.body, "ccy"), "USDT");
  r = get("/api/v5/account/balance?ccy=USDT");
  EXPECT_EQ(field(r.body, "ccy"), "USDT") << r.body;
  EXPECT_EQ(field(r.body, "cashBal"), "10008.795");  // 10000 - 0.9 - 0.305 + 10
  EXPECT_EQ(field(r.body, "eq"), "10028.795");       // + upl 20
  EXPECT_EQ(field(r.body, "totalEq"), "10028.795");
  EXPECT_EQ(field(r.body, "frozenBal"), "122");
  EXPECT_EQ(field(r.body, "availEq"), "9906.795");   // eq - imr
  EXPECT_EQ(field(r.body, "availBal"), "9886.795");  // cashBal - imr
  // A resting buy freezes 1 * 0.01 * 59000 / 10 = 59 more.
  ASSERT_EQ(field(place("h3", "buy", "limit", "1", "59000").body, "sCode"), "0");
  r = get("/api/v5/account/balance?ccy=USDT");
  EXPECT_EQ(field(r.body, "ordFrozen"), "59") << r.body;
  EXPECT_EQ(field(r.body, "availBal"), "9827.795");  // 10008.795 - 122 - 59
  // Through zero: sell 3 at 61000 closes 2 (PnL 20) and opens 1 short at 61000; fee 0.915.
  ASSERT_EQ(field(place("h4", "sell", "market", "3").body, "sCode"), "0");
  r = get("/api/v5/account/positions?instId=BTC-USDT-SWAP");
  EXPECT_EQ(field(r.body, "pos"), "-1") << r.body;
  EXPECT_EQ(field(r.body, "avgPx"), "61000");
  EXPECT_EQ(field(r.body, "upl"), "0");
  EXPECT_EQ(venue.cash_balance(), "10027.88");  // 10008.795 + 20 - 0.915
  EXPECT_EQ(count_of(get("/api/v5/account/positions?instId=ETH-USDT-SWAP").body, "instId"), 0);
  EXPECT_EQ(count_of(get("/api/v5/account/balance?ccy=BTC").body, "cashBal"), 0);
  // The fills record lets the fees be recomputed independently: fee = -sz * ctVal * px * rate.
  double fees = 0;
  for (const auto& f : venue.fills()) {
    EXPECT_NEAR(num(f.notional), num(f.sz) * num(f.ct_val) * num(f.px), 1e-9);
    EXPECT_NEAR(num(f.fee), -num(f.notional) * 0.0005, 1e-9);
    fees += num(f.fee);
  }
  EXPECT_NEAR(fees, -2.12, 1e-9);
  EXPECT_NEAR(num(venue.cash_balance()), 10000 + fees + 30, 1e-9);
}

TEST_F(OkxVenue, UsedUpQuotasAnswer429With50011) {
  venue.set_rate_limit("POST /api/v5/trade/order", 2, 60'000);  // 2 per minute: independent of this test's speed
  EXPECT_EQ(field(place("rl1", "buy", "limit", "1", "58000").body, "sCode"), "0");
  EXPECT_EQ(field(place("rl2", "buy", "limit", "1", "58000").body, "sCode"), "0");
  Reply r = place("rl3", "buy", "limit", "1", "58000");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body,
            R"({"code":"50011","msg":"Rate limit reached. Please refer to API documentation and throttle requests )"
            R"(accordingly.","data":[]})");
  EXPECT_FALSE(venue.order("rl3").has_value());
  // Per instrument: another instId has its own quota.
  EXPECT_EQ(field(place("rl4", "buy", "limit", "1", "1900", "", "ETH-USDT-SWAP").body, "sCode"), "0");
  // The documented 5 per 2 s of account/config, well inside 2 s.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(field(get("/api/v5/account/config").body, "code"), "0") << i;
  EXPECT_EQ(get("/api/v5/account/config").status, 429);
  // Batch cancel counts orders, not requests.
  venue.set_rate_limit("POST /api/v5/trade/cancel-batch-orders", 3, 60'000);
  const std::string btc = std::string(R"("instId":")") + kBtc + R"(")";
  EXPECT_EQ(field(post("/api/v5/trade/cancel-batch-orders",
                       "[{" + btc + R"(,"clOrdId":"rl1"},{)" + btc + R"(,"clOrdId":"rl2"}])")
                      .body,
                  "code"),
            "0");
  EXPECT_EQ(post("/api/v5/trade/cancel-batch-orders", "[{" + btc + R"(,"clOrdId":"a"},{)" + btc + R"(,"clOrdId":"b"}])")
                .status,
            429);
  venue.rate_limit_next(1);
  EXPECT_EQ(get("/api/v5/account/balance").status, 429);
  EXPECT_EQ(field(get("/api/v5/account/balance").body, "code"), "0");
  EXPECT_EQ(venue.rate_limited(), 4);
}

TEST_F(OkxVenue, InjectedFaultsOnRestAndOnThePrivateStream) {
  venue.fail_next(1, 503);
  Reply r = place("f1", "buy", "market", "1");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"code":"50001","msg":"Service temporarily unavailable. Please try again later.","data":[]})");
  EXPECT_FALSE(venue.order("f1").has_value());
  venue.fail_next(1, 500);
  EXPECT_EQ(field(get("/api/v5/account/balance").body, "code"), "50026");

  venue.lose_next_order_answer(502);  // booked and filled, the answer lost
  r = place("f2", "buy", "market", "1");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(field(query("f2").body, "state"), "filled");
  {  // Never answered: the client's bounded read gives up; the order is there.
    venue.lose_next_order_answer(0);
    RestConn quiet(venue.port(), venue.ca_file(), 500ms);
    EXPECT_THROW(quiet.send(request("POST", "/api/v5/trade/order",
                                    R"({"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","ordType":"limit",)"
                                    R"("px":"58000","sz":"1","clOrdId":"f3"})")),
                 std::runtime_error);
  }
  EXPECT_EQ(field(query("f3").body, "state"), "live");
  venue.reject_next_orders(1);
  r = place("f4", "buy", "market", "1");
  EXPECT_EQ(field(r.body, "sCode"), "51008") << r.body;
  EXPECT_FALSE(venue.order("f4").has_value());

  venue.delay_answers(300);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(field(query("f2").body, "code"), "0");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 290ms);
  venue.delay_answers(0);
  {
    venue.silence_next(1);
    RestConn quiet(venue.port(), venue.ca_file(), 500ms);
    EXPECT_THROW(quiet.send(request("GET", "/api/v5/account/config", "")), std::runtime_error);
  }
  r = get("/api/v5/trade/nowhere");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(field(r.body, "code"), "50005");
  r = get("/api/v5/trade/cancel-order");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(field(r.body, "code"), "50115");

  // Pushes: one dropped, the stream silenced (pongs too), delayed; then the connection dropped.
  auto s = open_stream();
  venue.drop_next_pushes(1);
  ASSERT_EQ(field(place("g1", "buy", "limit", "1", "58000").body, "sCode"), "0");
  ASSERT_EQ(field(place("g2", "buy", "limit", "1", "58000").body, "sCode"), "0");
  EXPECT_EQ(field(s->next().value_or(""), "clOrdId"), "g2");
  venue.set_stream_silent(true);
  ASSERT_EQ(field(place("g3", "buy", "limit", "1", "58000").body, "sCode"), "0");
  s->send("ping");
  ASSERT_TRUE(venue.wait_until([&] { return venue.pings() == 1; }, 2000));
  venue.set_stream_silent(false);
  venue.set_push_delay(300);
  const auto t1 = std::chrono::steady_clock::now();
  ASSERT_EQ(field(place("g4", "buy", "limit", "1", "58000").body, "sCode"), "0");
  EXPECT_EQ(field(s->next().value_or(""), "clOrdId"), "g4");  // g3's push and the pong were lost
  EXPECT_GE(std::chrono::steady_clock::now() - t1, 290ms);
  venue.set_push_delay(0);
  EXPECT_EQ(venue.dropped_pushes(), 2);
  EXPECT_EQ(count_of(venue.pushed().back(), "g4"), 1);
  venue.drop_streams();
  EXPECT_FALSE(s->next(2000).has_value());
  EXPECT_FALSE(s->timed_out());
  ASSERT_TRUE(venue.wait_until([&] { return !venue.stream_open(); }, 2000));
  EXPECT_EQ(venue.stream_drops(), 1);
  // A new connection sees only what comes after.
  ASSERT_EQ(field(place("g5", "buy", "limit", "1", "58000").body, "sCode"), "0");
  auto s2 = open_stream();
  ASSERT_EQ(field(place("g6", "buy", "limit", "1", "58000").body, "sCode"), "0");
  EXPECT_EQ(field(s2->next().value_or(""), "clOrdId"), "g6");
}

// The venue goes away with a countdown armed, a delayed push pending and a client still connected: its
// destructor stops and joins the io thread without touching freed state (the ASan build checks this).
TEST(OkxVenueLifetime, GoesAwayWithTimersPushesAndConnectionsPending) {
  auto venue = std::make_unique<FakeOkx>();
  RestConn conn(venue->port(), venue->ca_file());
  const auto send = [&](const std::string& path, const std::string& body) {
    return conn.send(OkxVenue::request("POST", path, body));
  };
  EXPECT_EQ(field(send("/api/v5/trade/cancel-all-after", R"({"timeOut":"120"})").body, "code"), "0");
  PrivateStream s(venue->port(), venue->ca_file());
  s.send(OkxVenue::login_frame(kOkxKey, kOkxPassphrase, kOkxSecret, OkxVenue::now_s()));
  EXPECT_EQ(field(s.next().value_or(""), "event"), "login");
  s.send(R"({"op":"subscribe","args":[{"channel":"orders","instType":"SWAP"}]})");
  EXPECT_EQ(field(s.next().value_or(""), "event"), "subscribe");
  venue->set_push_delay(5000);
  EXPECT_EQ(field(send("/api/v5/trade/order", R"({"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy",)"
                                              R"("ordType":"limit","px":"58000","sz":"1","clOrdId":"z1"})")
                      .body,
                  "sCode"),
            "0");
  EXPECT_TRUE(venue->countdown_armed());
  venue.reset();
  EXPECT_FALSE(s.next(2000).has_value());  // the connection ended with the venue
}

}  // namespace
}  // namespace enigma::testing
