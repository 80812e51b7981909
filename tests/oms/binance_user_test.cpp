// Binance USD-M futures user-data stream and REST order answers -> ExecReports. Messages have the shape of
// the examples in Binance's docs (user-data-streams/Event-Order-Update, trade/rest-api/New-Order).
#include "oms/venues/binance_futures_user.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace enigma;
using namespace enigma::oms;
using namespace enigma::oms::binance_futures;

namespace {

InstrumentRegistry& registry() {
  static InstrumentRegistry r = [] {
    InstrumentRegistry reg;
    InstrumentSpec s{};
    s.venue = Venue::binance_usdm;
    s.symbol = Symbol("BTCUSDT");
    s.tick = Price::parse("0.1").value;
    s.lot = Qty::parse("0.001").value;
    s.multiplier = Qty::from_units(1);
    (void)reg.add(s);
    return reg;
  }();
  return r;
}

// An ORDER_TRADE_UPDATE as Binance sends it; `x`, `X` and the trade fields vary per case.
std::string order_update(const std::string& x, const std::string& X, const std::string& l = "0", const std::string& L = "0",
                         const std::string& z = "0", const std::string& n = "0", bool maker = false,
                         const std::string& o = "LIMIT", const std::string& ot = "LIMIT") {
  return R"({"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"en42","S":"SELL","o":")" + o +
         R"(","f":"GTC","q":"0.010","p":"61797.6","ap":"0","sp":"0","x":")" + x + R"(","X":")" + X +
         R"(","i":8886774,"l":")" + l + R"(","z":")" + z + R"(","L":")" + L + R"(","N":"USDT","n":")" + n +
         R"(","T":1568879465650,"t":12345,"b":"0","a":"9.91","m":)" + (maker ? "true" : "false") +
         R"(,"R":false,"wt":"CONTRACT_PRICE","ot":")" + ot + R"(","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}})";
}

Result<UserEvent> decode(UserStreamDecoder& d, const std::string& msg, ExecReport& out) {
  return d.decode(msg, msg.size(), out);  // unpadded: the decoder copies into its padded buffer
}

ClientOrderId cid(const char* s) { return ClientOrderId::from(s).value; }

// Instrument-level requests (kill switch cancel-all, dead-man timer) answer without an order: success,
// a venue code, or unknown.
TEST(OmsBinanceUser, RestCancelAllAndCountdownAnswers) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  ASSERT_EQ(d.decode_rest(RestRequest::cancel_all, 200, R"({"code":200,"msg":"The operation of cancel all open order is done."})", {}, 0, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.venue_code, 0);
  ASSERT_EQ(d.decode_rest(RestRequest::countdown, 200, R"({"symbol":"BTCUSDT","countdownTime":"30000"})", {}, 0, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.venue_code, 0);
  ASSERT_EQ(d.decode_rest(RestRequest::countdown, 400, R"({"code":-1102,"msg":"Mandatory parameter missing."})", {}, 0, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.venue_code, -1102);
  (void)d.decode_rest(RestRequest::cancel_all, 503, "", {}, 0, a);
  EXPECT_TRUE(a.unknown);
  (void)d.decode_rest(RestRequest::cancel_all, 200, "not json", {}, 0, a);
  EXPECT_TRUE(a.unknown);
}

// A REST order body as DELETE /fapi/v1/batchOrders returns it for a cancelled order (Binance's docs example,
// with our ids).
std::string cancelled_order(const std::string& id) {
  return R"({"clientOrderId":")" + id + R"(","cumQty":"0","cumQuote":"0","executedQty":"0","orderId":283194212,"origQty":"0.010",)"
         R"("origType":"LIMIT","price":"61797.6","reduceOnly":false,"side":"BUY","positionSide":"BOTH","status":"CANCELED",)"
         R"("stopPrice":"0","closePosition":false,"symbol":"BTCUSDT","timeInForce":"GTC","type":"LIMIT","activatePrice":"0",)"
         R"("priceRate":"0","updateTime":1571110484038,"workingType":"CONTRACT_PRICE","priceProtect":false})";
}

}  // namespace

// Batch cancel (the kill's cancels of one instrument): one result per id, in the request's order.
TEST(OmsBinanceUser, RestBatchCancelAnswersOnePerOrder) {
  UserStreamDecoder d(registry());
  const ClientOrderId ids[3] = {cid("en1"), cid("en2"), cid("en3")};
  RestAnswer a[3];
  const std::string mixed = "[" + cancelled_order("en1") + R"(,{"code":-2011,"msg":"Unknown order sent."},)" + cancelled_order("en3") + "]";
  ASSERT_EQ(d.decode_rest_batch(200, mixed, ids, 0, a), Errc::ok);
  EXPECT_FALSE(a[0].unknown);
  EXPECT_EQ(a[0].report.kind, ExecKind::canceled);
  EXPECT_EQ(a[0].report.status, OrderStatus::canceled);
  EXPECT_EQ(a[0].report.client_id, ids[0]);
  EXPECT_EQ(a[0].report.venue_time_ns, 1571110484038LL * 1'000'000);
  EXPECT_FALSE(a[1].unknown);
  EXPECT_EQ(a[1].report.kind, ExecKind::cancel_rejected);
  EXPECT_EQ(a[1].report.client_id, ids[1]);
  EXPECT_EQ(a[1].venue_code, -2011);
  EXPECT_EQ(a[2].report.kind, ExecKind::canceled);
  EXPECT_EQ(a[2].report.client_id, ids[2]);

  // The whole request refused (a bad signature): every cancel is refused with that code.
  ASSERT_EQ(d.decode_rest_batch(401, R"({"code":-1022,"msg":"Signature for this request is not valid."})", ids, 0, a), Errc::ok);
  for (const RestAnswer& x : a) {
    EXPECT_FALSE(x.unknown);
    EXPECT_EQ(x.report.kind, ExecKind::cancel_rejected);
    EXPECT_EQ(x.venue_code, -1022);
  }
  // No answer, or a 5xx: every outcome is unknown (the OMS queries each order).
  ASSERT_EQ(d.decode_rest_batch(0, "", ids, 0, a), Errc::ok);
  for (const RestAnswer& x : a) EXPECT_TRUE(x.unknown);
  ASSERT_EQ(d.decode_rest_batch(502, "<html>", ids, 0, a), Errc::ok);
  for (const RestAnswer& x : a) EXPECT_TRUE(x.unknown);
  // Fewer results than orders: the ones without a result stay unknown.
  EXPECT_EQ(d.decode_rest_batch(200, "[" + cancelled_order("en1") + "]", ids, 0, a), Errc::missing_field);
  EXPECT_FALSE(a[0].unknown);
  EXPECT_TRUE(a[1].unknown);
  EXPECT_TRUE(a[2].unknown);
  // A result naming another order than the one at its place: that one and those after it stay unknown.
  EXPECT_EQ(d.decode_rest_batch(200, "[" + cancelled_order("en1") + "," + cancelled_order("en3") + "," + cancelled_order("en2") + "]", ids, 0, a),
            Errc::bad_format);
  EXPECT_EQ(a[0].report.kind, ExecKind::canceled);
  EXPECT_TRUE(a[1].unknown);
  EXPECT_TRUE(a[2].unknown);
  // Not JSON at all.
  EXPECT_NE(d.decode_rest_batch(200, "not json", ids, 0, a), Errc::ok);
  for (const RestAnswer& x : a) EXPECT_TRUE(x.unknown);
}

TEST(OmsBinanceUser, NewIsAccepted) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const auto ev = decode(d, order_update("NEW", "NEW"), r);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev.value, UserEvent::report);
  EXPECT_EQ(r.kind, ExecKind::accepted);
  EXPECT_EQ(r.status, OrderStatus::accepted);
  EXPECT_EQ(r.client_id.view(), "en42");
  EXPECT_EQ(r.venue_order_id.view(), "8886774");
  EXPECT_EQ(r.side, Side::sell);
  EXPECT_EQ(r.instrument, 0);
  EXPECT_EQ(r.venue_time_ns, 1568879465650LL * 1'000'000);
  EXPECT_TRUE(r.cum_qty.is_zero());
}

TEST(OmsBinanceUser, TradeIsAFillWithPriceQtyFeeAndMaker) {
  UserStreamDecoder d(registry());
  ExecReport r;
  ASSERT_TRUE(decode(d, order_update("TRADE", "PARTIALLY_FILLED", "0.004", "61797.6", "0.006", "0.04943808", true), r).ok());
  EXPECT_EQ(r.kind, ExecKind::fill);
  EXPECT_EQ(r.status, OrderStatus::partially_filled);
  EXPECT_EQ(r.last_qty, Qty::parse("0.004").value);
  EXPECT_EQ(r.last_px, Price::parse("61797.6").value);
  EXPECT_EQ(r.cum_qty, Qty::parse("0.006").value);
  EXPECT_EQ(r.fee, Notional::parse("0.04943808").value);
  EXPECT_TRUE(r.maker);
  EXPECT_EQ(r.venue_seq, 12345u);
}

TEST(OmsBinanceUser, CancelExpireRejectAndTrigger) {
  UserStreamDecoder d(registry());
  ExecReport r;
  ASSERT_TRUE(decode(d, order_update("CANCELED", "CANCELED"), r).ok());
  EXPECT_EQ(r.kind, ExecKind::canceled);
  ASSERT_TRUE(decode(d, order_update("EXPIRED", "EXPIRED"), r).ok());
  EXPECT_EQ(r.kind, ExecKind::expired);
  ASSERT_TRUE(decode(d, order_update("REJECTED", "REJECTED"), r).ok());
  EXPECT_EQ(r.kind, ExecKind::rejected);
  // A stop that fired: NEW again, now a MARKET order whose original type was STOP_MARKET.
  ASSERT_TRUE(decode(d, order_update("NEW", "NEW", "0", "0", "0", "0", false, "MARKET", "STOP_MARKET"), r).ok());
  EXPECT_EQ(r.kind, ExecKind::triggered);
}

TEST(OmsBinanceUser, CombinedStreamWrapperIsUnwrapped) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const std::string msg = R"({"stream":"pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1","data":)" +
                          order_update("TRADE", "FILLED", "0.010", "61797.6", "0.010", "0.1") + "}";
  ASSERT_TRUE(decode(d, msg, r).ok());
  EXPECT_EQ(r.kind, ExecKind::fill);
  EXPECT_EQ(r.status, OrderStatus::filled);
}

TEST(OmsBinanceUser, OtherEventsAreIgnoredNotErrors) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const std::string account = R"({"e":"ACCOUNT_UPDATE","E":1564745798939,"T":1564745798938,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"122624.12345678","cw":"100.12345678","bc":"50.12345678"}],"P":[{"s":"BTCUSDT","pa":"0","ep":"0.00000","bep":"0","cr":"200","up":"0","mt":"isolated","iw":"0.00000000","ps":"BOTH"}]}})";
  auto ev = decode(d, account, r);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev.value, UserEvent::ignored);
  ev = decode(d, R"({"e":"listenKeyExpired","E":1576653824250,"listenKey":"WsCMN0a4KHUPTQuX6IUnqEZfB1inxmv1qR4kbf1LuEjur5VdbzqvyxqG9TSjVVxv"})", r);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev.value, UserEvent::listen_key_expired);
}

TEST(OmsBinanceUser, MalformedInputGivesClearErrors) {
  UserStreamDecoder d(registry(), Venue::binance_usdm, 4096);
  ExecReport r;
  const std::string good = order_update("TRADE", "FILLED", "0.010", "61797.6", "0.010", "0.1");
  EXPECT_EQ(decode(d, good.substr(0, good.size() / 2), r).error, Errc::bad_format);  // truncated
  EXPECT_EQ(decode(d, "[1,2,3]", r).error, Errc::wrong_type);
  EXPECT_EQ(decode(d, R"({"E":1})", r).error, Errc::missing_field);
  std::string bad = good;
  bad.replace(bad.find(R"("i":8886774)"), 11, R"("i":"8886774")");
  EXPECT_EQ(decode(d, bad, r).error, Errc::wrong_type);
  bad = good;
  bad.replace(bad.find("BTCUSDT"), 7, "ETHUSDT");
  EXPECT_EQ(decode(d, bad, r).error, Errc::not_found);
  bad = good;
  bad.replace(bad.find(R"("x":"TRADE")"), 11, R"("x":"AMENDMENT")");
  EXPECT_EQ(decode(d, bad, r).error, Errc::unknown_message);
  bad = good;
  bad.replace(bad.find(R"("L":"61797.6")"), 13, R"("L":"61x97.6")");
  EXPECT_FALSE(decode(d, bad, r).ok());
  bad = good;
  bad.replace(bad.find(R"("T":1568879465650,"t")"), 21, R"("T":15688794656879465650,"t")");  // ns would overflow
  EXPECT_EQ(decode(d, bad, r).error, Errc::out_of_range);
  EXPECT_EQ(decode(d, std::string(5000, ' '), r).error, Errc::capacity);
  EXPECT_TRUE(decode(d, good, r).ok());  // the decoder is still usable afterwards
}

TEST(OmsBinanceUser, RestNewOrderAnswers) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  const std::string ok = R"({"clientOrderId":"en42","cumQty":"0","cumQuote":"0","executedQty":"0","orderId":22542179,"avgPrice":"0.00000","origQty":"0.010","price":"61797.6","reduceOnly":false,"side":"SELL","positionSide":"BOTH","status":"NEW","stopPrice":"0","closePosition":false,"symbol":"BTCUSDT","timeInForce":"GTC","type":"LIMIT","origType":"LIMIT","updateTime":1566818724722,"workingType":"CONTRACT_PRICE","priceProtect":false,"priceMatch":"NONE","selfTradePreventionMode":"NONE","goodTillDate":0})";
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 200, ok, cid("en42"), 0, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.report.kind, ExecKind::accepted);
  EXPECT_EQ(a.report.venue_order_id.view(), "22542179");
  EXPECT_EQ(a.report.venue_time_ns, 1566818724722LL * 1'000'000);

  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 400, R"({"code":-2019,"msg":"Margin is insufficient."})", cid("en43"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::rejected);
  EXPECT_EQ(a.report.reason, Reason::insufficient_margin);
  EXPECT_EQ(a.venue_code, -2019);
  EXPECT_EQ(a.report.client_id.view(), "en43");

  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 401, R"({"code":-1022,"msg":"Signature for this request is not valid."})", cid("en44"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::rejected);
  EXPECT_EQ(a.venue_code, -1022);

  for (const int status : {500, 502, 503, 0}) {
    ASSERT_EQ(d.decode_rest(RestRequest::new_order, status, R"({"code":-1000,"msg":"An unknown error occurred"})", cid("en45"), 0, a), Errc::ok);
    EXPECT_TRUE(a.unknown) << status;
    EXPECT_EQ(a.report.status, OrderStatus::unknown);
  }
  // An answer we cannot read is not a reject: the order may exist.
  EXPECT_NE(d.decode_rest(RestRequest::new_order, 400, "<html>bad gateway</html>", cid("en46"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_NE(d.decode_rest(RestRequest::new_order, 200, R"({"orderId":"x"})", cid("en47"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
}

// Binance's order answer has no commission: with the account's rates (GET /fapi/v1/commissionRate) the
// decoder prices the filled value (cumQuote) at the rate for the order's liquidity. A plain limit order
// rests: maker; a market or stop order took liquidity: taker.
TEST(OmsBinanceUser, RestQueryPricesTheFilledValueAtTheAccountsRate) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  const std::string filled = R"({"clientOrderId":"en42","cumQuote":"617.976","executedQty":"0.010","avgPrice":"61797.6","orderId":283194212,"origQty":"0.010","origType":"LIMIT","price":"61797.6","reduceOnly":false,"side":"SELL","status":"FILLED","stopPrice":"0","symbol":"BTCUSDT","timeInForce":"GTC","type":"LIMIT","updateTime":1571110484038})";
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, filled, cid("en42"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.fee, Notional{});  // no rates yet
  EXPECT_FALSE(a.report.fee_priced);
  d.set_fee_rates(0, parse_commission_rate(R"({"symbol":"BTCUSDT","makerCommissionRate":"0.0002","takerCommissionRate":"0.0005"})", "BTCUSDT"));
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, filled, cid("en42"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.fee, Notional::parse("0.1235952").value);  // 617.976 * 0.0002
  EXPECT_TRUE(a.report.fee_priced);
  std::string stop = filled;
  stop.replace(stop.find(R"("origType":"LIMIT")"), 18, R"("origType":"STOP_MARKET")");
  stop.replace(stop.find(R"("type":"LIMIT")"), 14, R"("type":"MARKET")");
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, stop, cid("en42"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.fee, Notional::parse("0.308988").value);  // 617.976 * 0.0005
  // The rates' answer is checked: another symbol, a missing or bad rate name what is wrong.
  const auto refused = [](const char* body) {
    try {
      (void)parse_commission_rate(body, "BTCUSDT");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(refused(R"({"symbol":"ETHUSDT","makerCommissionRate":"0.0002","takerCommissionRate":"0.0005"})").find("not for BTCUSDT"), std::string::npos);
  EXPECT_NE(refused(R"({"symbol":"BTCUSDT","makerCommissionRate":"0.0002"})").find("no takerCommissionRate"), std::string::npos);
  EXPECT_NE(refused(R"({"symbol":"BTCUSDT","makerCommissionRate":"x","takerCommissionRate":"0.0005"})").find("makerCommissionRate 'x' is not a decimal"), std::string::npos);
  EXPECT_NE(refused("[]").find("GET /fapi/v1/commissionRate?symbol=BTCUSDT: not a JSON object"), std::string::npos);
}

TEST(OmsBinanceUser, RestCancelAndQueryAnswers) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  const std::string canceled = R"({"clientOrderId":"en42","cumQty":"0","cumQuote":"0","executedQty":"0","orderId":283194212,"origQty":"0.010","origType":"LIMIT","price":"61797.6","reduceOnly":false,"side":"SELL","positionSide":"BOTH","status":"CANCELED","stopPrice":"0","closePosition":false,"symbol":"BTCUSDT","timeInForce":"GTC","type":"LIMIT","updateTime":1571110484038,"workingType":"CONTRACT_PRICE","priceProtect":false})";
  ASSERT_EQ(d.decode_rest(RestRequest::cancel, 200, canceled, cid("en42"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::canceled);
  ASSERT_EQ(d.decode_rest(RestRequest::cancel, 400, R"({"code":-2011,"msg":"Unknown order sent."})", cid("en42"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::cancel_rejected);
  EXPECT_EQ(a.venue_code, -2011);

  std::string filled = canceled;
  filled.replace(filled.find(R"("status":"CANCELED")"), 19, R"("status":"FILLED")");
  filled.replace(filled.find(R"("executedQty":"0")"), 17, R"("executedQty":"0.010","avgPrice":"61797.6")");
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, filled, cid("en42"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::status);
  EXPECT_EQ(a.report.status, OrderStatus::filled);
  EXPECT_EQ(a.report.cum_qty, Qty::parse("0.010").value);
  EXPECT_EQ(a.report.last_px, Price::parse("61797.6").value);
  ASSERT_EQ(d.decode_rest(RestRequest::query, 400, R"({"code":-2013,"msg":"Order does not exist."})", cid("en42"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::status);
  EXPECT_EQ(a.report.reason, Reason::order_not_found);
  EXPECT_FALSE(a.unknown);
}

// The start-up reconciliation's readers on the example answers of Binance's docs (GET /fapi/v1/openOrders,
// /fapi/v2/positionRisk, /fapi/v2/balance, /fapi/v1/commissionRate; also the fuzz seeds in
// tests/fuzz/corpus/binance_user), and what they say of answers they cannot read.
TEST(OmsBinanceUser, StartUpReadersTakeTheDocumentedAnswers) {
  const std::string open_orders =
      R"([{"avgPrice":"0.00000","clientOrderId":"en12","cumQuote":"0","executedQty":"0","orderId":1917641,"origQty":"0.40",)"
      R"("origType":"TRAILING_STOP_MARKET","price":"0","reduceOnly":false,"side":"BUY","positionSide":"SHORT","status":"NEW",)"
      R"("stopPrice":"9300","closePosition":false,"symbol":"BTCUSDT","time":1579276756075,"timeInForce":"GTC","type":"STOP_MARKET"}])";
  const std::vector<VenueOrder> orders = parse_open_orders(open_orders);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].client_id, "en12");
  EXPECT_EQ(orders[0].symbol, "BTCUSDT");
  EXPECT_EQ(orders[0].side, "BUY");
  EXPECT_EQ(orders[0].qty, "0.40");
  EXPECT_EQ(orders[0].status, "NEW");
  EXPECT_EQ(orders[0].type, "STOP_MARKET");
  EXPECT_EQ(orders[0].stop_price, "9300");
  EXPECT_EQ(orders[0].order_id, "1917641");
  EXPECT_FALSE(orders[0].reduce_only);
  EXPECT_TRUE(parse_open_orders("[]").empty());

  const std::string risk = R"([{"entryPrice":"6563.66500","positionAmt":"-20.000","symbol":"BTCUSDT","positionSide":"BOTH"},)"
                           R"({"entryPrice":"0.0","positionAmt":"0.000","symbol":"ETHUSDT","positionSide":"BOTH"}])";
  const auto [qty, entry] = parse_position(risk, "BTCUSDT");
  EXPECT_EQ(qty, Qty::parse("-20").value);
  EXPECT_EQ(entry, Price::parse("6563.665").value);
  EXPECT_EQ(parse_position(risk, "LTCUSDT").first, Qty{});  // none for it: flat

  EXPECT_EQ(parse_usdt_balance(R"([{"accountAlias":"SgsR","asset":"BNB","balance":"1.5"},{"asset":"USDT","balance":"122607.35137903"}])"),
            Notional::parse("122607.35137903").value);

  const auto error_of = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of([] { (void)parse_open_orders(R"({"code":-2015})"); }).find("GET /fapi/v1/openOrders is not a JSON array"), std::string::npos);
  EXPECT_NE(error_of([] { (void)parse_open_orders("[1]"); }).find("non-object"), std::string::npos);
  EXPECT_NE(error_of([] { (void)parse_position(R"([{"symbol":"BTCUSDT","positionAmt":"x","entryPrice":"1"}])", "BTCUSDT"); })
                .find("bad positionAmt/entryPrice for BTCUSDT"),
            std::string::npos);
  EXPECT_NE(error_of([] { (void)parse_usdt_balance(R"([{"asset":"BNB","balance":"1"}])"); }).find("has no USDT balance"), std::string::npos);
  EXPECT_NE(error_of([] { (void)parse_usdt_balance("not json"); }).find("GET /fapi/v2/balance is not a JSON array"), std::string::npos);
}
