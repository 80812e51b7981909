// The loopback admin endpoint over real HTTP: reads need no token, state changes need the bearer token,
// an accepted POST /kill reaches the OMS side through the command ring and latches the kill switch, and no
// client — idle, slow, flooding or malformed — can keep an operator's POST /kill from being answered.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "engine/admin.hpp"
#include "engine/run_config.hpp"
#include "engine/trading_core.hpp"
#include "tests/support/engine_test_support.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::fresh_path;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

http::response<http::string_body> request(std::uint16_t port, http::verb verb, const std::string& target,
                                          const std::string& token = "") {
  asio::io_context ioc;
  tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  req.prepare_payload();
  http::write(sock, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(sock, buf, res);
  return res;
}

// One event loop for every Client (two hundred io_contexts would cost six hundred descriptors).
asio::io_context& client_ioc() {
  static asio::io_context ioc;
  return ioc;
}

// A loopback client whose every wait has a limit, so a server that misbehaves fails the test instead of
// hanging it. One operation at a time across all clients.
struct Client {
  asio::io_context& ioc = client_ioc();
  tcp::socket sock{ioc};
  beast::flat_buffer buf;

  explicit Client(std::uint16_t port) { sock.connect({asio::ip::make_address("127.0.0.1"), port}); }

  void send(std::string_view bytes) { asio::write(sock, asio::buffer(bytes.data(), bytes.size())); }

  void send(http::verb verb, const std::string& target, const std::string& token = "") {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    req.prepare_payload();
    http::write(sock, req);
  }

  // The next response, or nullopt when the connection ended or nothing complete came within `limit`.
  std::optional<http::response<http::string_body>> response(milliseconds limit = milliseconds(5000)) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    std::optional<beast::error_code> result;
    http::async_read(sock, buf, parser, [&](beast::error_code ec, std::size_t) { result = ec; });
    run(limit);
    if (!result || *result) return std::nullopt;
    return parser.release();
  }

  // True when the server ends the connection (EOF or reset) within `limit` without sending anything.
  bool closed_by_server(milliseconds limit) {
    char byte;
    std::optional<beast::error_code> result;
    sock.async_read_some(asio::buffer(&byte, 1), [&](beast::error_code ec, std::size_t) { result = ec; });
    run(limit);
    return result && (*result == asio::error::eof || *result == asio::error::connection_reset);
  }

 private:
  // Runs the pending operation for at most `limit`; if it has not finished, cancels it and lets it end.
  void run(milliseconds limit) {
    ioc.restart();
    ioc.run_for(limit);
    if (!ioc.stopped()) {
      beast::error_code ec;
      sock.cancel(ec);
      ioc.run();
    }
  }
};

std::uint16_t start(AdminServer& server) {
  server.start();
  return server.port();
}

std::size_t drain(SpscRing<AdminCommand>& ring) {
  std::size_t n = 0;
  AdminCommand cmd;
  while (ring.try_pop(cmd)) ++n;
  return n;
}

// A snapshot with every field set to a distinct, hand-checkable value, including text that needs escaping.
StatusSnapshot full_snapshot() {
  StatusSnapshot s;
  std::snprintf(s.mode, sizeof s.mode, "paper");
  std::snprintf(s.trading_state, sizeof s.trading_state, "reducing");
  std::snprintf(s.lifecycle, sizeof s.lifecycle, "emergency_stop");
  std::snprintf(s.emergency_cause, sizeof s.emergency_cause, "daily \"drawdown\" \\ limit");
  s.kill_latched = true;
  s.running = true;
  s.frames = 1001;
  s.events = 1002;
  s.book_updates = 1003;
  s.signals = 1004;
  s.orders = 1005;
  s.fills = 1006;
  s.rejects = 1007;
  s.cancels = 1008;
  s.dropped = 0;
  s.realized_pnl = -12.5;
  s.fees = 0.75;
  s.funding = -0.125;
  s.equity = 99987.5;
  s.emergency_stops = 1;
  s.risk_rejects = 7;
  s.venue_rejects = 2;
  s.nreject_reasons = 2;
  std::snprintf(s.reject_reasons[0].name, sizeof s.reject_reasons[0].name, "max_notional");
  s.reject_reasons[0].count = 3;
  std::snprintf(s.reject_reasons[1].name, sizeof s.reject_reasons[1].name, "price_collar");
  s.reject_reasons[1].count = 4;
  s.unrealized_pnl = 3.25;
  s.drawdown = 40.5;
  s.max_drawdown = 120.25;
  s.feed_connected = false;
  s.last_frame_age_ms = 61500;
  s.reconnects = 3;
  s.gaps = 5;
  s.resyncs = 6;
  s.published_at_ns = 1'700'000'000'123'456'789;
  s.npositions = 2;
  std::snprintf(s.positions[0].symbol, sizeof s.positions[0].symbol, "BTCUSDT");
  s.positions[0].qty = -0.01;
  s.positions[0].avg_price = 60000.5;
  s.positions[0].unrealized = 1.5;
  std::snprintf(s.positions[1].symbol, sizeof s.positions[1].symbol, "we\"ird\\sym\nbol");
  s.positions[1].qty = 2;
  s.positions[1].avg_price = 0.25;
  s.positions[1].unrealized = 1.75;
  s.nstages = 2;
  s.stages[0] = {{}, 500, 1200, 3400, 9000, 25000};
  std::snprintf(s.stages[0].name, sizeof s.stages[0].name, "decode");
  s.stages[1] = {{}, 500, 800, 2000, 4000, 7000};
  std::snprintf(s.stages[1].name, sizeof s.stages[1].name, "risk");
  return s;
}

}  // namespace

TEST(EngineAdmin, ReadsStatusAndRequiresTokenForChanges) {
  SpscRing<AdminCommand> ring(16);
  AdminServer server("127.0.0.1", 0, "s3cret", ring);
  server.start();
  StatusSnapshot s;
  std::snprintf(s.mode, sizeof s.mode, "replay");
  std::snprintf(s.trading_state, sizeof s.trading_state, "active");
  s.frames = 123;
  s.npositions = 1;
  std::snprintf(s.positions[0].symbol, sizeof s.positions[0].symbol, "BTCUSDT");
  s.positions[0].qty = 0.01;
  ASSERT_TRUE(server.try_publish(s));

  const auto st = request(server.port(), http::verb::get, "/status");
  EXPECT_EQ(st.result(), http::status::ok);
  EXPECT_NE(st.body().find("\"frames\":123"), std::string::npos) << st.body();
  const auto pos = request(server.port(), http::verb::get, "/positions");
  EXPECT_NE(pos.body().find("\"symbol\":\"BTCUSDT\""), std::string::npos) << pos.body();
  const auto metrics = request(server.port(), http::verb::get, "/metrics");
  EXPECT_NE(metrics.body().find("enigma_frames_total 123"), std::string::npos) << metrics.body();

  EXPECT_EQ(request(server.port(), http::verb::post, "/kill").result(), http::status::unauthorized);
  EXPECT_EQ(request(server.port(), http::verb::post, "/kill", "wrong").result(), http::status::unauthorized);
  EXPECT_EQ(request(server.port(), http::verb::post, "/emergency", "s3cre").result(), http::status::unauthorized);
  AdminCommand cmd;
  EXPECT_FALSE(ring.try_pop(cmd));  // nothing reached the OMS
  EXPECT_EQ(request(server.port(), http::verb::post, "/kill", "s3cret").result(), http::status::accepted);
  ASSERT_TRUE(ring.try_pop(cmd));
  EXPECT_EQ(cmd.kind, AdminCommandKind::kill);
  EXPECT_EQ(request(server.port(), http::verb::post, "/emergency", "s3cret").result(), http::status::accepted);
  ASSERT_TRUE(ring.try_pop(cmd));
  EXPECT_EQ(cmd.kind, AdminCommandKind::emergency);
  EXPECT_EQ(request(server.port(), http::verb::get, "/nope").result(), http::status::not_found);
  server.stop();
}

// Every live value reaches /status and /positions with the value that was published; the JSON parses (an
// independent parser, simdjson) even with quotes, backslashes and newlines in the text fields.
TEST(EngineAdmin, StatusAndPositionsCarryEveryPublishedValue) {
  SpscRing<AdminCommand> ring(16);
  AdminServer server("127.0.0.1", 0, "t", ring);
  const auto port = start(server);
  ASSERT_TRUE(server.try_publish(full_snapshot()));

  const auto st = request(port, http::verb::get, "/status");
  ASSERT_EQ(st.result(), http::status::ok);
  EXPECT_EQ(st[http::field::content_type], "application/json");
  simdjson::dom::parser dom_parser;
  simdjson::dom::element d;
  ASSERT_EQ(dom_parser.parse(st.body()).get(d), simdjson::SUCCESS) << st.body();
  auto str = [&](const char* pointer) { return std::string(std::string_view(d.at_pointer(pointer).get_string())); };
  auto u64 = [&](const char* pointer) { return std::uint64_t(d.at_pointer(pointer).get_uint64()); };
  auto dbl = [&](const char* pointer) { return double(d.at_pointer(pointer).get_double()); };
  EXPECT_EQ(str("/mode"), "paper");
  EXPECT_EQ(str("/lifecycle"), "emergency_stop");
  EXPECT_EQ(str("/trading_state"), "reducing");
  EXPECT_TRUE(bool(d.at_pointer("/kill_switch").get_bool()));
  EXPECT_TRUE(bool(d.at_pointer("/running").get_bool()));
  EXPECT_EQ(u64("/emergency/stops"), 1u);
  EXPECT_EQ(str("/emergency/cause"), "daily \"drawdown\" \\ limit");
  EXPECT_EQ(u64("/counters/frames"), 1001u);
  EXPECT_EQ(u64("/counters/cancels"), 1008u);
  EXPECT_EQ(u64("/counters/risk_rejects"), 7u);
  EXPECT_EQ(u64("/counters/venue_rejects"), 2u);
  EXPECT_EQ(u64("/reject_reasons/max_notional"), 3u);
  EXPECT_EQ(u64("/reject_reasons/price_collar"), 4u);
  EXPECT_EQ(dbl("/pnl/realized"), -12.5);
  EXPECT_EQ(dbl("/pnl/unrealized"), 3.25);
  EXPECT_EQ(dbl("/pnl/funding"), -0.125);
  EXPECT_EQ(dbl("/pnl/equity"), 99987.5);
  EXPECT_EQ(dbl("/pnl/drawdown"), 40.5);
  EXPECT_EQ(dbl("/pnl/max_drawdown"), 120.25);
  EXPECT_FALSE(bool(d.at_pointer("/feed/connected").get_bool()));
  EXPECT_EQ(u64("/feed/last_frame_age_ms"), 61500u);
  EXPECT_EQ(u64("/feed/reconnects"), 3u);
  EXPECT_EQ(u64("/feed/gaps"), 5u);
  EXPECT_EQ(u64("/feed/resyncs"), 6u);
  EXPECT_EQ(u64("/published_at_ns"), 1'700'000'000'123'456'789u);
  EXPECT_EQ(u64("/latency_ns/decode/p99"), 3400u);
  EXPECT_EQ(u64("/latency_ns/risk/max"), 7000u);

  const auto pos = request(port, http::verb::get, "/positions");
  simdjson::dom::element p;
  ASSERT_EQ(dom_parser.parse(pos.body()).get(p), simdjson::SUCCESS) << pos.body();
  EXPECT_EQ(std::string_view(p.at_pointer("/positions/0/symbol").get_string()), "BTCUSDT");
  EXPECT_EQ(double(p.at_pointer("/positions/0/qty").get_double()), -0.01);
  EXPECT_EQ(double(p.at_pointer("/positions/0/avg_price").get_double()), 60000.5);
  EXPECT_EQ(std::string_view(p.at_pointer("/positions/1/symbol").get_string()), "we\"ird\\sym\nbol");
  EXPECT_EQ(double(p.at_pointer("/positions/1/unrealized_pnl").get_double()), 1.75);

  // Before the first frame the age is null, not -1; counts beyond the arrays are clamped, not overread.
  StatusSnapshot empty;
  empty.nstages = 1000;
  empty.npositions = 1000;
  empty.nreject_reasons = 1000;
  ASSERT_TRUE(server.try_publish(empty));
  const auto st2 = request(port, http::verb::get, "/status");
  ASSERT_EQ(dom_parser.parse(st2.body()).get(d), simdjson::SUCCESS) << st2.body();
  EXPECT_TRUE(d.at_pointer("/feed/last_frame_age_ms").is_null());
  EXPECT_EQ(dom_parser.parse(request(port, http::verb::get, "/positions").body()).error(), simdjson::SUCCESS);
}

// /metrics is valid Prometheus text exposition: promtool (the Prometheus project's own checker, installed by
// scripts/setup.sh) accepts it, and the values are the published ones in base units.
TEST(EngineAdmin, MetricsPassPromtoolCheck) {
  const char* promtool = "/usr/bin/promtool";
  ASSERT_EQ(::access(promtool, X_OK), 0) << promtool << " is missing: run scripts/setup.sh (Debian package prometheus)";
  auto promtool_accepts = [&](const std::string& text) {
    const std::string path = fresh_path("metrics.txt");
    std::ofstream(path) << text;
    const std::string cmd = std::string(promtool) + " check metrics < " + path + " > " + path + ".out 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream out(path + ".out");
    const std::string report((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
    std::remove(path.c_str());
    std::remove((path + ".out").c_str());
    return std::make_pair(rc == 0, report);
  };
  // The checker can say no: a non-summary quantile label and an abbreviated unit are both refused.
  EXPECT_FALSE(promtool_accepts("# HELP enigma_x_ns x\n# TYPE enigma_x_ns gauge\nenigma_x_ns{quantile=\"0.5\"} 1\n").first);

  SpscRing<AdminCommand> ring(16);
  AdminServer server("127.0.0.1", 0, "t", ring);
  const auto port = start(server);
  for (const StatusSnapshot& s : {StatusSnapshot{}, full_snapshot()}) {
    ASSERT_TRUE(server.try_publish(s));
    const auto res = request(port, http::verb::get, "/metrics");
    ASSERT_EQ(res.result(), http::status::ok);
    EXPECT_EQ(res[http::field::content_type].substr(0, 24), "text/plain; version=0.0.")  << res[http::field::content_type];
    const auto [ok, report] = promtool_accepts(res.body());
    EXPECT_TRUE(ok) << report << "\n--- metrics ---\n" << res.body();
  }
  const std::string m = request(port, http::verb::get, "/metrics").body();
  for (const char* line : {
           "enigma_frames_total 1001\n",
           "enigma_risk_rejects_total{reason=\"max_notional\"} 3\n",
           "enigma_risk_rejects_total{reason=\"price_collar\"} 4\n",
           "enigma_venue_rejects_total 2\n",
           "enigma_emergency_stops_total 1\n",
           "enigma_emergency_cause_info{cause=\"daily \\\"drawdown\\\" \\\\ limit\"} 1\n",
           "enigma_lifecycle_state{state=\"emergency_stop\"} 1\n",
           "enigma_lifecycle_state{state=\"trading\"} 0\n",
           "enigma_trading_state{state=\"reducing\"} 1\n",
           "enigma_kill_switch 1\n",
           "enigma_feed_connected 0\n",
           "enigma_feed_last_frame_age_seconds 61.5\n",
           "enigma_feed_gaps_total 5\n",
           "enigma_drawdown 40.5\n",
           "enigma_max_drawdown 120.25\n",
           "enigma_unrealized_pnl 3.25\n",
           "enigma_position_qty{symbol=\"we\\\"ird\\\\sym\\nbol\"} 2\n",
           "enigma_stage_latency_seconds{stage=\"decode\",quantile=\"0.99\"} 3.4e-06\n",
           "enigma_stage_latency_seconds{stage=\"decode\",quantile=\"0.5\"} 1.2e-06\n",
           "enigma_stage_latency_seconds_count{stage=\"decode\"} 500\n",
           "enigma_stage_latency_max_seconds{stage=\"risk\"} 7e-06\n",
       }) {
    EXPECT_NE(m.find(line), std::string::npos) << "missing: " << line << "--- metrics ---\n" << m;
  }
  // 7 risk rejects, 3 + 4 classified: nothing unclassified.
  EXPECT_EQ(m.find("reason=\"unclassified\""), std::string::npos);
}

// 200 connections held open and silent do not delay POST /kill, and stop() does not wait for them.
TEST(EngineAdmin, KillIsAnsweredWhileTwoHundredIdleConnectionsAreHeld) {
  SpscRing<AdminCommand> ring(16);
  AdminServerLimits limits;
  limits.request_timeout = milliseconds(60'000);  // the server must not get out of this by timing them out
  auto server = std::make_unique<AdminServer>("127.0.0.1", 0, "s3cret", ring, false, limits);
  const auto port = start(*server);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 200; ++i) idle.push_back(std::make_unique<Client>(port));

  Client op(port);
  const auto t0 = Clock::now();
  op.send(http::verb::post, "/kill", "s3cret");
  const auto res = op.response(milliseconds(1000));
  const auto answered_in = Clock::now() - t0;
  ASSERT_TRUE(res.has_value()) << "POST /kill not answered within 1 s";
  EXPECT_EQ(res->result(), http::status::accepted);
  EXPECT_LT(answered_in, milliseconds(1000));
  AdminCommand cmd;
  ASSERT_TRUE(ring.try_pop(cmd));
  EXPECT_EQ(cmd.kind, AdminCommandKind::kill);

  const auto s0 = Clock::now();
  server->stop();
  const auto stopped_in = Clock::now() - s0;
  std::printf("kill answered in %lld us, stop() took %lld us with 200 idle clients\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(answered_in).count()),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(stopped_in).count()));
  EXPECT_LT(stopped_in, milliseconds(1000));
  // The server closed its ends; the clients, which still hold theirs, see the close.
  EXPECT_TRUE(idle.front()->closed_by_server(milliseconds(2000)));
  EXPECT_TRUE(idle.back()->closed_by_server(milliseconds(2000)));
  server.reset();  // the destructor after stop() is a no-op
}

// Over the connection cap the least recently active connection is closed to make room, so an operator
// always gets in; the others keep working.
TEST(EngineAdmin, OverTheCapTheLeastRecentlyActiveConnectionMakesRoom) {
  SpscRing<AdminCommand> ring(16);
  AdminServerLimits limits;
  limits.request_timeout = milliseconds(60'000);
  limits.max_connections = 4;
  AdminServer server("127.0.0.1", 0, "s3cret", ring, false, limits);
  const auto port = start(server);
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<Client>(port));
  // An answer on the last one proves all four were accepted (in connection order); then the second-oldest
  // becomes the most recently active one: activity order held[0], held[2], held[3], held[1].
  for (int i : {3, 1}) {
    held[i]->send(http::verb::get, "/status");
    ASSERT_TRUE(held[i]->response().has_value());
  }

  Client op(port);  // fifth: closes held[0], the least recently active
  op.send(http::verb::post, "/kill", "s3cret");
  const auto res = op.response(milliseconds(1000));
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), http::status::accepted);
  EXPECT_TRUE(held[0]->closed_by_server(milliseconds(2000)));

  Client op2(port);  // sixth: closes held[2] (held[1] was active more recently)
  op2.send(http::verb::get, "/status");
  ASSERT_TRUE(op2.response(milliseconds(1000)).has_value());
  EXPECT_TRUE(held[2]->closed_by_server(milliseconds(2000)));
  held[1]->send(http::verb::get, "/status");  // still served on its open connection
  const auto again = held[1]->response(milliseconds(1000));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->result(), http::status::ok);
}

// A client that sends half a request and stalls is closed when the request deadline passes, and so is a
// keep-alive connection left idle after its answer.
TEST(EngineAdmin, StalledAndIdleClientsAreClosedAfterTheRequestTimeout) {
  SpscRing<AdminCommand> ring(16);
  AdminServerLimits limits;
  limits.request_timeout = milliseconds(200);
  AdminServer server("127.0.0.1", 0, "s3cret", ring, false, limits);
  const auto port = start(server);

  Client slow(port);
  slow.send("POST /kill HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer s3c");
  Client idle(port);
  idle.send(http::verb::get, "/status");
  ASSERT_TRUE(idle.response().has_value());
  EXPECT_TRUE(slow.closed_by_server(milliseconds(5000)));
  EXPECT_TRUE(idle.closed_by_server(milliseconds(5000)));
  EXPECT_EQ(drain(ring), 0u);  // the half request did nothing
  EXPECT_EQ(request(port, http::verb::get, "/status").result(), http::status::ok);
}

TEST(EngineAdmin, KeepAliveServesSeveralRequestsOnOneConnection) {
  SpscRing<AdminCommand> ring(16);
  AdminServer server("127.0.0.1", 0, "s3cret", ring);
  const auto port = start(server);
  Client c(port);
  for (const char* target : {"/status", "/metrics", "/positions"}) {
    c.send(http::verb::get, target);
    const auto res = c.response(milliseconds(2000));
    ASSERT_TRUE(res.has_value()) << target;
    EXPECT_EQ(res->result(), http::status::ok) << target;
    EXPECT_TRUE(res->keep_alive()) << target;
  }
  c.send(http::verb::post, "/trading/stop", "s3cret");
  const auto res = c.response(milliseconds(2000));
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), http::status::accepted);
  AdminCommand cmd;
  ASSERT_TRUE(ring.try_pop(cmd));
  EXPECT_EQ(cmd.kind, AdminCommandKind::trading_stop);
}

// Refusals: each gets its own status, nothing reaches the OMS, and the server keeps serving.
TEST(EngineAdmin, RefusesBadRequestsAndKeepsServing) {
  SpscRing<AdminCommand> ring(2);
  AdminServer server("127.0.0.1", 0, "s3cret", ring);
  const auto port = start(server);
  auto raw = [&](const std::string& bytes) {
    Client c(port);
    c.send(bytes);
    const auto res = c.response(milliseconds(3000));
    return res ? static_cast<int>(res->result_int()) : -1;
  };
  const std::string host = "Host: 127.0.0.1\r\n";
  EXPECT_EQ(raw("POST /kill HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n"), 401);
  EXPECT_EQ(raw("POST /kill HTTP/1.1\r\n" + host + "Authorization: s3cret\r\n\r\n"), 401);          // no scheme
  EXPECT_EQ(raw("POST /kill HTTP/1.1\r\n" + host + "Authorization: Bearer s3cret2\r\n\r\n"), 401);  // longer
  EXPECT_EQ(raw("POST /kill HTTP/1.1\r\n" + host + "Authorization: Bearer \r\n\r\n"), 401);
  EXPECT_EQ(raw("POST /nope HTTP/1.1\r\n" + host + "Authorization: Bearer s3cret\r\n\r\n"), 404);
  EXPECT_EQ(raw("GET /kill/../status HTTP/1.1\r\n" + host + "\r\n"), 404);
  EXPECT_EQ(raw("DELETE /kill HTTP/1.1\r\n" + host + "\r\n"), 405);
  EXPECT_EQ(raw("POST /kill HTTP/1.1\r\n" + host + "Authorization: Bearer s3cret\r\nContent-Length: 100000\r\n\r\n"), 413);
  EXPECT_EQ(raw("GET /status HTTP/1.1\r\n" + host + "X-Filler: " + std::string(16 * 1024, 'a') + "\r\n\r\n"), 431);
  EXPECT_EQ(raw("HELLO\r\n\r\n"), 400);
  static constexpr char kNulInHeader[] = "GET /status HTTP/1.1\r\nHo\0st: x\r\n\r\n";
  EXPECT_EQ(raw(std::string(kNulInHeader, sizeof kNulInHeader - 1)), 400);
  EXPECT_EQ(drain(ring), 0u);  // nothing refused reached the OMS

  // A full command ring is reported, not silently dropped.
  EXPECT_EQ(request(port, http::verb::post, "/kill", "s3cret").result(), http::status::accepted);
  EXPECT_EQ(request(port, http::verb::post, "/kill", "s3cret").result(), http::status::accepted);
  EXPECT_EQ(request(port, http::verb::post, "/kill", "s3cret").result(), http::status::service_unavailable);
  EXPECT_EQ(drain(ring), 2u);
  EXPECT_EQ(request(port, http::verb::get, "/status").result(), http::status::ok);

  // Without a configured token no POST is accepted, even one that sends an empty bearer: 403, commands are
  // disabled (GET /status says so), not a wrong token.
  SpscRing<AdminCommand> ring2(16);
  AdminServer no_token("127.0.0.1", 0, "", ring2);
  const auto port2 = start(no_token);
  Client c(port2);
  c.send("POST /kill HTTP/1.1\r\n" + host + "Authorization: Bearer \r\n\r\n");
  const auto res = c.response();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), http::status::forbidden);
  EXPECT_EQ(drain(ring2), 0u);
}

// The socket-free path the fuzzer drives (fuzz_admin_http) answers as a connection does: the same refusals,
// keep-alive until a request asks to close, nothing after a refusal.
TEST(EngineAdmin, AnswerBytesAnswersLikeAConnection) {
  SpscRing<AdminCommand> ring(4);
  AdminServer server("127.0.0.1", 0, "s3cret", ring);
  const std::string host = "Host: 127.0.0.1\r\n";
  EXPECT_EQ(server.answer_bytes("GET /status HTTP/1.1\r\n" + host + "\r\n" +                                  // 200
                                "POST /kill HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n" +             // 401
                                "POST /kill HTTP/1.1\r\n" + host + "Authorization: Bearer s3cret\r\n" +        // 202
                                "Content-Length: 2\r\n\r\n{}" + "GET /nope HTTP/1.1\r\n" + host +           // 404
                                "Connection: close\r\n\r\n" + "GET /status HTTP/1.1\r\n" + host + "\r\n"),  // closed
            (std::vector<int>{200, 401, 202, 404}));
  EXPECT_EQ(drain(ring), 1u);
  EXPECT_EQ(server.answer_bytes("GET /status HTTP/1.1\r\n" + host + "X-Filler: " + std::string(16 * 1024, 'a') +
                                "\r\n\r\nGET /status HTTP/1.1\r\n\r\n"),
            (std::vector<int>{431}));
  EXPECT_EQ(server.answer_bytes("POST /kill HTTP/1.1\r\n" + host + "Content-Length: 100000\r\n\r\n"),
            (std::vector<int>{413}));
  EXPECT_EQ(server.answer_bytes("HELLO\r\n\r\n"), (std::vector<int>{400}));
  EXPECT_EQ(server.answer_bytes("GET /status HTTP/1.1\r\nHo"), (std::vector<int>{}));  // truncated: no answer
  EXPECT_EQ(drain(ring), 0u);
}

TEST(EngineAdmin, RefusesNonLoopbackByDefault) {
  SpscRing<AdminCommand> ring(16);
  EXPECT_THROW(AdminServer("0.0.0.0", 0, "t", ring), Error);
  EXPECT_THROW(AdminServer("0.0.0.0", 0, "", ring, /*allow_non_loopback=*/true), Error);  // remote needs a token
}

TEST(EngineAdmin, KillCommandLatchesAndBlocksNewOrders) {
  const RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_path("journal");
  TradingCore core(registry, trading);
  // A book around 60000 with ten levels a side.
  std::array<oms::PriceLevel, 10> bids{}, asks{};
  for (int i = 0; i < 10; ++i) {
    bids[i] = {Price::from_units(60000) - Price::from_raw(Price::kScale / 10) * (i + 1), Qty::from_units(1)};
    asks[i] = {Price::from_units(60000) + Price::from_raw(Price::kScale / 10) * (i + 1), Qty::from_units(1)};
  }
  strategy::OrderIntent in{};
  in.instrument = 0;
  in.side = Side::buy;
  in.qty = Qty::from_raw(Qty::kScale / 100);  // 0.01
  in.stop = Price::from_units(59700);
  in.take_profit = Price::from_units(60600);
  in.reason = strategy::IntentReason::imbalance_entry;
  std::int64_t now = 1'700'000'000'000'000'000;
  ASSERT_TRUE(core.on_intent(in, bids, asks, now, 0));
  EXPECT_EQ(core.risk().open_orders(), 1u);
  core.on_admin({AdminCommandKind::kill, 1}, now + 1000);
  EXPECT_TRUE(core.risk().kill_switch().latched());
  EXPECT_EQ(core.counters().cancels, 1u);  // the working entry was cancelled
  in.stop = Price::from_units(59701);
  EXPECT_FALSE(core.on_intent(in, bids, asks, now + 2'000'000'000, 0));  // latched: new entries refused
  core.on_admin({AdminCommandKind::kill_reset, 2}, now + 3'000'000'000);
  EXPECT_FALSE(core.risk().kill_switch().latched());
}
