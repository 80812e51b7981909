// The loopback admin endpoint over real HTTP: reads need no token, state changes need the bearer token,
// and an accepted POST /kill reaches the OMS side through the command ring and latches the kill switch.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "engine/admin.hpp"
#include "engine/run_config.hpp"
#include "engine/trading_core.hpp"
#include "tests/support/engine_test_support.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::fresh_path;
namespace http = boost::beast::http;

namespace {

http::response<http::string_body> request(std::uint16_t port, http::verb verb, const std::string& target,
                                          const std::string& token = "") {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock(ioc);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  req.prepare_payload();
  http::write(sock, req);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(sock, buf, res);
  return res;
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
  AdminCommand cmd;
  EXPECT_FALSE(ring.try_pop(cmd));  // nothing reached the OMS
  EXPECT_EQ(request(server.port(), http::verb::post, "/kill", "s3cret").result(), http::status::accepted);
  ASSERT_TRUE(ring.try_pop(cmd));
  EXPECT_EQ(cmd.kind, AdminCommandKind::kill);
  EXPECT_EQ(request(server.port(), http::verb::get, "/nope").result(), http::status::not_found);
  server.stop();
}

TEST(EngineAdmin, RefusesNonLoopbackByDefault) {
  SpscRing<AdminCommand> ring(16);
  EXPECT_THROW(AdminServer("0.0.0.0", 0, "t", ring), Error);
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
