// The venue kit's interfaces as each venue implements them. Order entry (oms/venue_order_entry.hpp): which
// requests a stop's cancel and query become, which orders leave in a batch, how the dead-man switch is kept
// and which countdowns each venue refuses, which answer codes mean the key is refused, and the gateway's
// resigner. Private stream (oms/venue_answer.hpp VenueStreamDialect): what a connect sends and which of the
// venue's answers mean the login was taken or the order channels are subscribed. Expectations are the venues'
// documented endpoints, limits, error codes and message examples.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "oms/venue_order_entry.hpp"
#include "oms/venues/binance_futures.hpp"
#include "oms/venues/bybit_linear.hpp"
#include "oms/venues/kucoin_futures.hpp"
#include "oms/venues/okx_swap.hpp"
#include "oms/venues/venue_kit.hpp"

namespace {

using namespace enigma;
using namespace enigma::oms;
using risk::OrderType;

constexpr std::int64_t kTs = 1723075200000;  // 2024-08-08T00:00:00Z

// One instrument per venue: 0 Binance USD-M, 1 KuCoin Futures, 2 Bybit, 3 OKX, 4 Binance COIN-M.
const InstrumentRegistry& registry() {
  static const InstrumentRegistry r = [] {
    InstrumentRegistry reg;
    const auto add = [&](Venue v, const char* symbol, InstrumentKind kind, const char* lot) {
      InstrumentSpec s{};
      s.venue = v;
      s.kind = kind;
      s.symbol = Symbol(symbol);
      s.tick = Price::parse("0.1").value;
      s.lot = Qty::parse(lot).value;
      s.multiplier = Qty::parse("1").value;
      (void)reg.add(s);
    };
    add(Venue::binance_usdm, "BTCUSDT", InstrumentKind::linear_perpetual, "0.001");
    add(Venue::kucoin_futures, "XBTUSDTM", InstrumentKind::linear_perpetual, "1");
    add(Venue::bybit, "BTCUSDT", InstrumentKind::linear_perpetual, "0.001");
    add(Venue::okx, "BTC-USDT-SWAP", InstrumentKind::linear_perpetual, "0.01");
    add(Venue::binance_coinm, "BTCUSD_PERP", InstrumentKind::inverse_perpetual, "1");
    return reg;
  }();
  return r;
}

ClientOrderId cid(const char* s) { return ClientOrderId::from(s).value; }

std::unique_ptr<VenueOrderEntry> binance() {
  return std::make_unique<binance_futures::OrderEntry>(registry(), "key", Secret("secret"));
}
std::unique_ptr<VenueOrderEntry> kucoin() {
  return std::make_unique<kucoin_futures::OrderEntry>(registry(), "key", Secret("secret"), Secret("pass"));
}
std::unique_ptr<VenueOrderEntry> bybit() {
  return std::make_unique<bybit_linear::OrderEntry>(registry(), "key", Secret("secret"));
}
std::unique_ptr<VenueOrderEntry> okx() {
  return std::make_unique<okx_swap::OrderEntry>(registry(), "key", Secret("secret"), Secret("pass"));
}

std::string first_line(const char* buf, Result<std::size_t> n) {
  if (!n.ok()) return "error";
  const std::string rq(buf, n.value);
  return rq.substr(0, rq.find("\r\n"));
}

TEST(OmsVenueOrderEntry, EachEntryServesItsOwnVenues) {
  EXPECT_TRUE(binance()->serves(Venue::binance_usdm));
  EXPECT_TRUE(binance()->serves(Venue::binance_coinm));
  EXPECT_TRUE(binance()->serves(Venue::binance_spot));
  EXPECT_FALSE(binance()->serves(Venue::kucoin_futures));
  EXPECT_TRUE(kucoin()->serves(Venue::kucoin_futures));
  EXPECT_FALSE(kucoin()->serves(Venue::kucoin_spot));
  EXPECT_TRUE(bybit()->serves(Venue::bybit));
  EXPECT_FALSE(bybit()->serves(Venue::okx));
  EXPECT_TRUE(okx()->serves(Venue::okx));
  EXPECT_FALSE(okx()->serves(Venue::binance_usdm));
  // Replay and paper: the venues with live order entry are encoded (Binance's three products, KuCoin Futures,
  // Bybit and OKX), the others are not.
  for (Venue v : {Venue::binance_usdm, Venue::binance_coinm, Venue::binance_spot, Venue::kucoin_futures, Venue::bybit, Venue::okx}) {
    auto e = simulated_order_entry(v, registry());
    ASSERT_NE(e, nullptr) << to_string(v);
    EXPECT_TRUE(e->serves(v));
  }
  for (Venue v : {Venue::coinbase, Venue::kucoin_spot, Venue::kraken_spot})
    EXPECT_EQ(simulated_order_entry(v, registry()), nullptr) << to_string(v);
}

// OKX keeps stops as algo orders: cancelled at cancel-algos and asked for at order-algo, never in a batch
// with book orders (cancel-batch-orders). The others cancel every type at the same endpoint.
TEST(OmsVenueOrderEntry, AStopIsCancelledAndQueriedWhereTheVenueKeepsIt) {
  char buf[4096];
  auto o = okx();
  EXPECT_EQ(first_line(buf, o->encode_cancel(3, cid("en1"), OrderType::limit, kTs, buf, sizeof buf)),
            "POST /api/v5/trade/cancel-order HTTP/1.1");
  EXPECT_EQ(first_line(buf, o->encode_cancel(3, cid("sl1"), OrderType::stop_market, kTs, buf, sizeof buf)),
            "POST /api/v5/trade/cancel-algos HTTP/1.1");
  EXPECT_EQ(first_line(buf, o->encode_cancel(3, cid("tp1"), OrderType::take_profit_market, kTs, buf, sizeof buf)),
            "POST /api/v5/trade/cancel-algos HTTP/1.1");
  EXPECT_TRUE(first_line(buf, o->encode_query(3, cid("sl1"), OrderType::stop_market, kTs, buf, sizeof buf))
                  .starts_with("GET /api/v5/trade/order-algo?algoClOrdId=sl1"));
  EXPECT_TRUE(first_line(buf, o->encode_query(3, cid("en1"), OrderType::limit, kTs, buf, sizeof buf))
                  .starts_with("GET /api/v5/trade/order?"));
  EXPECT_EQ(o->max_batch_cancel(), 20u);
  EXPECT_TRUE(o->batchable(OrderType::limit));
  EXPECT_FALSE(o->batchable(OrderType::stop_market));
  EXPECT_FALSE(o->batchable(OrderType::take_profit_market));
  const std::vector<ClientOrderId> two{cid("en1"), cid("en2")};
  EXPECT_EQ(first_line(buf, o->encode_cancel_batch(3, two, kTs, buf, sizeof buf)),
            "POST /api/v5/trade/cancel-batch-orders HTTP/1.1");

  auto b = binance();
  EXPECT_TRUE(first_line(buf, b->encode_cancel(0, cid("sl1"), OrderType::stop_market, kTs, buf, sizeof buf))
                  .starts_with("DELETE /fapi/v1/order?symbol=BTCUSDT&origClientOrderId=sl1"));
  EXPECT_TRUE(first_line(buf, b->encode_cancel(4, cid("sl1"), OrderType::stop_market, kTs, buf, sizeof buf))
                  .starts_with("DELETE /dapi/v1/order?symbol=BTCUSD_PERP&origClientOrderId=sl1"));
  EXPECT_EQ(b->max_batch_cancel(), 10u);  // DELETE /fapi/v1/batchOrders: at most 10
  EXPECT_TRUE(b->batchable(OrderType::stop_market));
  EXPECT_TRUE(first_line(buf, b->encode_cancel_batch(0, two, kTs, buf, sizeof buf)).starts_with("DELETE /fapi/v1/batchOrders?"));

  // KuCoin Futures: cancel by client id (DELETE /api/v1/orders/client-order/{clientOid}), no batch by client id.
  auto k = kucoin();
  EXPECT_TRUE(first_line(buf, k->encode_cancel(1, cid("sl1"), OrderType::stop_market, kTs, buf, sizeof buf))
                  .starts_with("DELETE /api/v1/orders/client-order/sl1"));
  EXPECT_TRUE(first_line(buf, k->encode_query(1, cid("sl1"), OrderType::stop_market, kTs, buf, sizeof buf))
                  .starts_with("GET /api/v1/orders/byClientOid?clientOid=sl1"));
  EXPECT_EQ(k->max_batch_cancel(), 0u);
  EXPECT_FALSE(k->batchable(OrderType::limit));
  // Bybit: POST /v5/order/cancel for every type; its batch cancel is for UTA/options accounts, not used.
  auto y = bybit();
  EXPECT_EQ(first_line(buf, y->encode_cancel(2, cid("sl1"), OrderType::stop_market, kTs, buf, sizeof buf)),
            "POST /v5/order/cancel HTTP/1.1");
  EXPECT_EQ(y->max_batch_cancel(), 0u);
  EXPECT_FALSE(y->encode_cancel_batch(2, two, kTs, buf, sizeof buf).ok());
}

TEST(OmsVenueOrderEntry, DeadManSwitchPerVenue) {
  char buf[4096];
  constexpr std::int64_t s = 1'000'000'000;
  // Binance: countdownCancelAll per symbol, any countdown (0 disarms).
  auto b = binance();
  EXPECT_EQ(b->dead_man(), DeadMan::per_instrument);
  EXPECT_EQ(b->dead_man_refusal(30 * s), "");
  auto n = b->encode_dead_man(0, 30'000, kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  std::string rq(buf, n.value);
  EXPECT_TRUE(rq.starts_with("POST /fapi/v1/countdownCancelAll HTTP/1.1\r\n"));
  EXPECT_NE(rq.find("symbol=BTCUSDT&countdownTime=30000"), std::string::npos) << rq;
  // OKX: cancel-all-after for the account, whole seconds, 10..120 (or 0).
  auto o = okx();
  EXPECT_EQ(o->dead_man(), DeadMan::per_account);
  EXPECT_EQ(o->dead_man_refusal(0), "");
  EXPECT_EQ(o->dead_man_refusal(10 * s), "");
  EXPECT_EQ(o->dead_man_refusal(120 * s), "");
  EXPECT_NE(o->dead_man_refusal(9 * s), "");
  EXPECT_NE(o->dead_man_refusal(121 * s), "");
  n = o->encode_dead_man(3, 30'000, kTs, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  rq.assign(buf, n.value);
  EXPECT_TRUE(rq.starts_with("POST /api/v5/trade/cancel-all-after HTTP/1.1\r\n"));
  EXPECT_TRUE(rq.ends_with(R"({"timeOut":"30"})")) << rq;
  // KuCoin Futures has none; Bybit's DCP is a window set at start-up: the core keeps no countdown for either.
  for (auto* e : {kucoin().release(), bybit().release()}) {
    const std::unique_ptr<VenueOrderEntry> owned(e);
    EXPECT_EQ(e->dead_man(), DeadMan::none);
    EXPECT_EQ(e->dead_man_refusal(0), "");
    EXPECT_NE(e->dead_man_refusal(30 * s), "");
    EXPECT_FALSE(e->encode_dead_man(0, 30'000, kTs, buf, sizeof buf).ok());
  }
}

// The venues' documented codes for a key or signature they refuse, against codes that are not about the key.
TEST(OmsVenueOrderEntry, CredentialRefusalsAreEachVenuesOwnCodes) {
  auto b = binance();
  for (int c : {-2014, -2015, -1022}) EXPECT_TRUE(b->credentials_refused(c)) << c;
  for (int c : {0, -2019, -1021, -2011, 400005, 10003}) EXPECT_FALSE(b->credentials_refused(c)) << c;
  auto k = kucoin();
  for (int c : {400003, 400004, 400005, 400006, 400007}) EXPECT_TRUE(k->credentials_refused(c)) << c;
  for (int c : {0, 400002, 400008, 300003, -2015}) EXPECT_FALSE(k->credentials_refused(c)) << c;
  auto y = bybit();
  for (int c : {10003, 10004, 10005, 10007, 10009, 10010, 33004}) EXPECT_TRUE(y->credentials_refused(c)) << c;
  for (int c : {0, 10001, 10002, 110007, -2015}) EXPECT_FALSE(y->credentials_refused(c)) << c;
  auto o = okx();
  for (int c : {50100, 50111, 50113, 50119, 60005}) EXPECT_TRUE(o->credentials_refused(c)) << c;
  for (int c : {0, 50102, 60006, 51008, -2015}) EXPECT_FALSE(o->credentials_refused(c)) << c;
  EXPECT_TRUE(o->alphanumeric_client_ids());
  EXPECT_FALSE(b->alphanumeric_client_ids());
}

// The gateway's resigner turns a request signed at one time into exactly the request the entry signs at a
// later time (timestamp and signature), and leaves bytes that are not its venue's requests alone.
TEST(OmsVenueOrderEntry, TheResignerSignsAgainAsTheEntryWouldAtTheNewTime) {
  OrderSpec o{};
  o.req.client_id = cid("en42");
  o.req.side = Side::buy;
  o.req.type = OrderType::limit;
  o.req.tif = risk::TimeInForce::gtc;
  o.req.price = Price::parse("60000.1").value;
  struct Case {
    std::unique_ptr<VenueOrderEntry> entry;
    InstrumentId instrument;
    const char* qty;
  };
  std::vector<Case> cases;
  cases.push_back({binance(), 0, "0.002"});
  cases.push_back({kucoin(), 1, "3"});
  cases.push_back({bybit(), 2, "0.002"});
  cases.push_back({okx(), 3, "0.02"});
  for (auto& c : cases) {
    o.req.instrument = c.instrument;
    o.req.venue = registry().get(c.instrument).venue;
    o.req.qty = Qty::parse(c.qty).value;
    char early[4096], late[4096];
    const auto a = c.entry->encode_new(o, kTs, early, sizeof early);
    const auto b = c.entry->encode_new(o, kTs + 7'000, late, sizeof late);
    ASSERT_TRUE(a.ok() && b.ok()) << to_string(o.req.venue);
    ASSERT_EQ(a.value, b.value);
    ASSERT_NE(std::string(early, a.value), std::string(late, b.value));
    const Resigner resign = c.entry->resigner();
    ASSERT_TRUE(resign(early, a.value, kTs + 7'000)) << to_string(o.req.venue);
    EXPECT_EQ(std::string(early, a.value), std::string(late, b.value)) << to_string(o.req.venue);
    char junk[] = "GET / HTTP/1.1\r\n\r\n";
    EXPECT_FALSE(resign(junk, sizeof junk - 1, kTs)) << to_string(o.req.venue);
  }
}

// The venues' own answers (their documentation's examples): only the answer that puts the order channels in
// force counts as subscribed; a refusal is left to the decoder.
TEST(OmsVenueStreamDialect, EachVenuesAnswersToLoginAndSubscription) {
  using Answer = VenueStreamDialect::Answer;
  auto binance_stream = private_stream(Venue::binance_usdm);
  ASSERT_NE(binance_stream, nullptr);
  EXPECT_FALSE(binance_stream->subscribes());
  EXPECT_TRUE(binance_stream->on_connect("").empty());
  EXPECT_EQ(binance_stream->answer(R"({"e":"listenKeyExpired","E":1576653824250})"), Answer::other);

  // KuCoin: the two subscriptions go after the welcome; the second's ack ("stop-orders") puts both in force.
  auto kucoin_stream = private_stream(Venue::kucoin_futures);
  EXPECT_TRUE(kucoin_stream->subscribes());
  const auto subs = kucoin_stream->after_welcome();
  ASSERT_EQ(subs.size(), 2u);
  EXPECT_NE(subs[0].find(R"("topic":"/contractMarket/tradeOrders")"), std::string::npos);
  EXPECT_NE(subs[1].find(R"("topic":"/contractMarket/advancedOrders")"), std::string::npos);
  EXPECT_EQ(kucoin_stream->answer(R"({"id":"trade-orders","type":"ack"})"), Answer::other);
  EXPECT_EQ(kucoin_stream->answer(R"({"id":"stop-orders","type":"ack"})"), Answer::subscribed);
  EXPECT_EQ(kucoin_stream->answer(R"({"id":"stop-orders","type":"error","code":401,"data":"token is expired"})"), Answer::other);

  // Bybit: auth, then one subscription (with "dcp" when the disconnect protection is armed); its op reply.
  auto bybit_stream = private_stream(Venue::bybit, true);
  const auto hello = bybit_stream->on_connect(R"({"op":"auth","args":["k",1,"s"]})");
  ASSERT_EQ(hello.size(), 2u);
  EXPECT_EQ(hello[0], R"({"op":"auth","args":["k",1,"s"]})");
  EXPECT_NE(hello[1].find(R"("dcp")"), std::string::npos) << hello[1];
  EXPECT_EQ(private_stream(Venue::bybit, false)->on_connect("a")[1].find("dcp"), std::string::npos);
  EXPECT_EQ(bybit_stream->answer(R"({"success":true,"ret_msg":"","op":"auth","conn_id":"cejreaspqfh3sjdnldmg-p"})"), Answer::other);
  EXPECT_EQ(bybit_stream->answer(R"({"success":true,"ret_msg":"","op":"subscribe","conn_id":"cejreassvfrsfvb9v1a0-2m"})"), Answer::subscribed);
  EXPECT_EQ(bybit_stream->answer(R"({"success":false,"ret_msg":"error:handler not found","op":"subscribe","conn_id":"x"})"), Answer::other);

  // OKX: the login op alone at connect; its acceptance is answered with the subscription; the "orders" (business:
  // "orders-algo") subscribe event puts the channels in force.
  auto okx_stream = private_stream(Venue::okx);
  EXPECT_EQ(okx_stream->on_connect("login"), std::vector<std::string>{"login"});
  EXPECT_EQ(okx_stream->answer(R"({"event":"login","code":"0","msg":"","connId":"a4d3ae55"})"), Answer::login_accepted);
  EXPECT_EQ(okx_stream->answer(R"({"event":"error","code":"60009","msg":"Login failed.","connId":"a4d3ae55"})"), Answer::other);
  EXPECT_EQ(okx_stream->answer(R"({"event":"login","code":"60024","msg":"Wrong passphrase","connId":"a4d3ae55"})"), Answer::other);
  EXPECT_NE(okx_stream->after_login().find(R"("channel":"orders")"), std::string::npos);
  EXPECT_EQ(okx_stream->answer(R"({"event":"subscribe","arg":{"channel":"positions","instType":"SWAP"},"connId":"a4d3ae55"})"), Answer::other);
  EXPECT_EQ(okx_stream->answer(R"({"event":"subscribe","arg":{"channel":"orders","instType":"SWAP"},"connId":"a4d3ae55"})"), Answer::subscribed);
  EXPECT_EQ(okx_stream->answer(R"({"event":"subscribe","arg":{"channel":"orders-algo","instType":"SWAP"},"connId":"a4d3ae55"})"), Answer::other);
  auto business = second_private_stream(Venue::okx);
  ASSERT_NE(business, nullptr);
  EXPECT_NE(business->after_login().find(R"("channel":"orders-algo")"), std::string::npos);
  EXPECT_EQ(business->answer(R"({"event":"subscribe","arg":{"channel":"orders-algo","instType":"SWAP"},"connId":"b1"})"), Answer::subscribed);
  EXPECT_EQ(business->answer(R"({"event":"subscribe","arg":{"channel":"orders","instType":"SWAP"},"connId":"b1"})"), Answer::other);
  for (Venue v : {Venue::binance_usdm, Venue::kucoin_futures, Venue::bybit}) EXPECT_EQ(second_private_stream(v), nullptr);
  EXPECT_EQ(private_stream(Venue::coinbase), nullptr);
}

}  // namespace
