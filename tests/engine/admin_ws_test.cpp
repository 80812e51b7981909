// The admin endpoint's dashboard side over real loopback sockets: the page at /, the plan's /api/ names
// reaching the same handlers (and the token still guarding every command), and the /ws WebSocket pushing
// what was published — metrics, positions, signals and the new lines of the run's log — honouring a
// subscribe message and its client cap. (The page itself runs in Chromium in engine_dashboard_test.)
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "engine/admin.hpp"
#include "tests/support/engine_test_support.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::fresh_path;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// Every blocking read on `s` gives up after 5 s, so a server that stays silent fails the test, not hangs it.
void limit_reads(tcp::socket& s) {
  timeval tv{5, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

http::response<http::string_body> request(std::uint16_t port, http::verb verb, const std::string& target,
                                          const std::string& token = "") {
  asio::io_context ioc;
  tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  limit_reads(sock);
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

struct WsClient {
  asio::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};

  explicit WsClient(std::uint16_t port, const std::string& target = "/ws", const std::string& origin = "") {
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    limit_reads(ws.next_layer());
    if (!origin.empty())
      ws.set_option(websocket::stream_base::decorator(
          [origin](websocket::request_type& r) { r.set(http::field::origin, origin); }));
    const std::string host = "127.0.0.1:" + std::to_string(port);
    ws.handshake(host, target);
  }
  std::string next() {
    beast::flat_buffer b;
    ws.read(b);
    return beast::buffers_to_string(b.data());
  }
};

// One pushed message: its channel and its data as JSON text.
struct Message {
  std::string channel, data;
};

Message parse(simdjson::dom::parser& p, const std::string& text) {
  const simdjson::dom::element doc = p.parse(text);
  Message m;
  std::string_view ch;
  if (doc["channel"].get(ch) == simdjson::SUCCESS) m.channel = ch;
  m.data = simdjson::minify(doc["data"]);
  return m;
}

StatusSnapshot snapshot_with_frames(std::uint64_t frames) {
  StatusSnapshot s;
  std::snprintf(s.mode, sizeof s.mode, "replay");
  std::snprintf(s.lifecycle, sizeof s.lifecycle, "trading");
  s.frames = frames;
  s.npositions = 1;
  std::snprintf(s.positions[0].symbol, sizeof s.positions[0].symbol, "BTCUSDT");
  s.positions[0].qty = 0.01;
  return s;
}

SignalSnapshot one_signal(double score) {
  SignalSnapshot g;
  g.nsignals = 1;
  std::snprintf(g.signals[0].instrument, sizeof g.signals[0].instrument, "BTCUSDT");
  std::snprintf(g.signals[0].column, sizeof g.signals[0].column, "imbalance");
  g.signals[0].score = score;
  g.signals[0].norm = score;
  g.signals[0].ready = true;
  return g;
}

AdminServerLimits fast_push() {
  AdminServerLimits l;
  l.ws_push_interval = std::chrono::milliseconds(20);
  return l;
}

}  // namespace

TEST(EngineAdminWs, DashboardPageIsServedAtTheRoot) {
  SpscRing<AdminCommand> ring(16);
  AdminServer server("127.0.0.1", 0, "s3cret", ring);
  server.start();
  for (const char* path : {"/", "/index.html", "/?from=bookmark"}) {
    const auto res = request(server.port(), http::verb::get, path);
    EXPECT_EQ(res.result(), http::status::ok) << path;
    EXPECT_EQ(res[http::field::content_type], "text/html; charset=utf-8") << path;
    EXPECT_EQ(res.body(), AdminServer::dashboard_html()) << path;
  }
  const std::string_view page = AdminServer::dashboard_html();
  EXPECT_TRUE(page.starts_with("<!doctype html>"));
  EXPECT_NE(page.find("\"/ws\""), std::string_view::npos);    // the live feed
  EXPECT_NE(page.find("/api/kill"), std::string_view::npos);  // the buttons' targets
  EXPECT_EQ(page.find("http://"), std::string_view::npos);    // nothing fetched from elsewhere
  EXPECT_EQ(page.find("https://"), std::string_view::npos);
  server.stop();
}

TEST(EngineAdminWs, ApiNamesReachTheSameHandlersAndCommandsNeedTheToken) {
  SpscRing<AdminCommand> ring(16);
  AdminServer server("127.0.0.1", 0, "s3cret", ring);
  server.start();
  ASSERT_TRUE(server.try_publish(snapshot_with_frames(77)));
  ASSERT_TRUE(server.try_publish_signals(one_signal(0.25)));
  EXPECT_EQ(request(server.port(), http::verb::get, "/api/status").body(),
            request(server.port(), http::verb::get, "/status").body());
  EXPECT_NE(request(server.port(), http::verb::get, "/api/status").body().find("\"frames\":77"), std::string::npos);
  EXPECT_EQ(request(server.port(), http::verb::get, "/api/positions").body(),
            request(server.port(), http::verb::get, "/positions").body());
  EXPECT_EQ(request(server.port(), http::verb::get, "/api/signals").body(),
            AdminServer::signals_json(one_signal(0.25)));

  const std::pair<const char*, AdminCommandKind> commands[] = {{"/api/trade/start", AdminCommandKind::trading_start},
                                                               {"/api/trade/stop", AdminCommandKind::trading_stop},
                                                               {"/api/emergency", AdminCommandKind::emergency},
                                                               {"/api/kill", AdminCommandKind::kill},
                                                               {"/api/kill/reset", AdminCommandKind::kill_reset}};
  AdminCommand cmd;
  for (const auto& [path, kind] : commands) {
    EXPECT_EQ(request(server.port(), http::verb::post, path).result(), http::status::unauthorized) << path;
    EXPECT_EQ(request(server.port(), http::verb::post, path, "wrong").result(), http::status::unauthorized) << path;
    EXPECT_FALSE(ring.try_pop(cmd)) << path << ": a refused command reached the OMS";
    EXPECT_EQ(request(server.port(), http::verb::post, path, "s3cret").result(), http::status::accepted) << path;
    ASSERT_TRUE(ring.try_pop(cmd)) << path;
    EXPECT_EQ(cmd.kind, kind) << path;
  }
  server.stop();
}

TEST(EngineAdminWs, SignalsJsonCarriesEachCell) {
  SignalSnapshot g = one_signal(-0.5);
  g.nsignals = 2;
  std::snprintf(g.signals[1].instrument, sizeof g.signals[1].instrument, "ETH\"USDT");
  std::snprintf(g.signals[1].column, sizeof g.signals[1].column, "confluence 1m");
  g.signals[1].score = 65;
  g.signals[1].norm = 0.5;
  std::snprintf(g.signals[1].alignment, sizeof g.signals[1].alignment, "full");
  g.published_at_ns = 12;
  simdjson::dom::parser p;
  const simdjson::dom::element doc = p.parse(AdminServer::signals_json(g));
  EXPECT_EQ(doc["published_at_ns"].get_int64().value(), 12);
  const simdjson::dom::array cells = doc["signals"].get_array();
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells.at(0)["score"].get_double().value(), -0.5);
  EXPECT_EQ(cells.at(1)["instrument"].get_string().value(), "ETH\"USDT");
  EXPECT_EQ(cells.at(1)["column"].get_string().value(), "confluence 1m");
  EXPECT_EQ(cells.at(1)["norm"].get_double().value(), 0.5);
  EXPECT_FALSE(cells.at(1)["ready"].get_bool().value());
  EXPECT_EQ(cells.at(1)["alignment"].get_string().value(), "full");  // the combined timeframes' cell
  EXPECT_TRUE(cells.at(0)["alignment"].error());                      // no alignment: no key
}

TEST(EngineAdminWs, WebSocketPushesEveryChannelThenOnlyWhatWasSubscribed) {
  const std::string log = fresh_path("admin_ws_log") + ".log";
  {
    std::ofstream f(log);
    f << "line one\nline two\nline three\n";
  }
  SpscRing<AdminCommand> ring(16);
  AdminServer server("127.0.0.1", 0, "s3cret", ring, false, fast_push());
  server.set_log_path(log);
  server.start();
  ASSERT_TRUE(server.try_publish(snapshot_with_frames(42)));
  ASSERT_TRUE(server.try_publish_signals(one_signal(0.5)));

  WsClient c(server.port());
  simdjson::dom::parser p;
  std::vector<Message> got;
  auto read_until = [&](auto&& done) {
    for (int i = 0; i < 50 && !done(); ++i) got.push_back(parse(p, c.next()));
    ASSERT_TRUE(done()) << "the expected messages did not come within 50 messages";
  };
  auto has = [&](const std::string& channel, const std::string& needle) {
    for (const Message& m : got)
      if (m.channel == channel && m.data.find(needle) != std::string::npos) return true;
    return false;
  };
  // On connect: every channel, with what was published and the log's lines.
  read_until([&] {
    return has("metrics", "\"frames\":42") && has("positions", "\"symbol\":\"BTCUSDT\"") &&
           has("signals", "\"column\":\"imbalance\",\"score\":0.5") &&
           has("logs", "[\"line one\",\"line two\",\"line three\"]");
  });
  // Later changes arrive: a new snapshot, a new log line (only the new one is sent).
  got.clear();
  ASSERT_TRUE(server.try_publish(snapshot_with_frames(43)));
  {
    std::ofstream f(log, std::ios::app);
    f << "line four\n";
  }
  read_until([&] { return has("metrics", "\"frames\":43") && has("logs", "[\"line four\"]"); });

  // Subscribed to metrics only: acknowledged, then nothing else arrives while signals and the log change.
  c.ws.write(asio::buffer(std::string(R"({"subscribe":["metrics"]})")));
  const std::string ack = c.next();
  EXPECT_EQ(ack, R"({"subscribed":["metrics"]})");
  ASSERT_TRUE(server.try_publish_signals(one_signal(-0.75)));
  {
    std::ofstream f(log, std::ios::app);
    f << "line five\n";
  }
  ASSERT_TRUE(server.try_publish(snapshot_with_frames(44)));
  got.clear();
  read_until([&] { return has("metrics", "\"frames\":44"); });
  for (const Message& m : got) EXPECT_EQ(m.channel, "metrics") << m.data;
  server.stop();
  std::remove(log.c_str());
}

TEST(EngineAdminWs, WebSocketOnlyAtWsAndCapped) {
  SpscRing<AdminCommand> ring(16);
  AdminServerLimits l = fast_push();
  l.max_ws_clients = 1;
  AdminServer server("127.0.0.1", 0, "s3cret", ring, false, l);
  server.start();
  ASSERT_TRUE(server.try_publish(snapshot_with_frames(1)));
  // The handshake is refused (Beast reports the HTTP answer as an upgrade error).
  EXPECT_THROW(WsClient(server.port(), "/status"), beast::system_error);
  WsClient first(server.port());
  (void)first.next();                                          // registered: it has been sent its first message
  EXPECT_THROW(WsClient(server.port()), beast::system_error);  // 503 over the cap
  // HTTP keeps working beside the WebSocket client.
  EXPECT_EQ(request(server.port(), http::verb::get, "/api/status").result(), http::status::ok);
  server.stop();
}

TEST(EngineAdminWs, WebSocketRefusesAnotherSitesPage) {
  SpscRing<AdminCommand> ring(16);
  AdminServer server("127.0.0.1", 0, "s3cret", ring, false, fast_push());
  server.start();
  ASSERT_TRUE(server.try_publish(snapshot_with_frames(5)));
  // Another site open in the operator's browser may not follow the feed (403) ...
  EXPECT_THROW(WsClient(server.port(), "/ws", "http://evil.example"), beast::system_error);
  EXPECT_THROW(WsClient(server.port(), "/ws", "http://127.0.0.1:1"), beast::system_error);
  // ... the dashboard's own page may.
  WsClient own(server.port(), "/ws", "http://127.0.0.1:" + std::to_string(server.port()));
  EXPECT_NE(own.next().find("\"channel\""), std::string::npos);
  server.stop();
}
