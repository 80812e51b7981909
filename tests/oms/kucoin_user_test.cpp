// KuCoin Futures private stream (/contractMarket/tradeOrders) and REST order answers -> ExecReports, and the
// start-up readers (open orders, positions, API key). Messages have the shape of KuCoin's docs examples
// (websocket/futures-trading/private-channels/trade-orders, rest/futures-trading/orders/*); expected values are
// worked out by hand from the message text.
#include "oms/venues/kucoin_futures_user.hpp"

#include <gtest/gtest.h>

#include <string>

#include "oms/order_state.hpp"
#include "tests/support/alloc_counter.hpp"

using namespace enigma;
using namespace enigma::oms;
using namespace enigma::oms::kucoin_futures;

namespace {

// XBTUSDTM: linear, 0.001 XBT per contract (id 0); XBTUSDM: inverse, 1 USD per contract (id 1).
InstrumentRegistry& registry() {
  static InstrumentRegistry r = [] {
    InstrumentRegistry reg;
    InstrumentSpec s{};
    s.venue = Venue::kucoin_futures;
    s.symbol = Symbol("XBTUSDTM");
    s.kind = InstrumentKind::linear_perpetual;
    s.tick = Price::parse("0.1").value;
    s.lot = Qty::from_units(1);
    s.multiplier = Qty::parse("0.001").value;
    (void)reg.add(s);
    s.symbol = Symbol("XBTUSDM");
    s.kind = InstrumentKind::inverse_perpetual;
    s.multiplier = Qty::from_units(1);
    (void)reg.add(s);
    return reg;
  }();
  return r;
}

Qty lots(std::int64_t n) { return Qty::from_units(n); }
Price px(const char* s) { return Price::parse(s).value; }
ClientOrderId cid(const char* s) { return ClientOrderId::from(s).value; }

// One orderChange as KuCoin sends it; `fields` is the data object's body after the fixed fields.
std::string order_change(const std::string& fields, const std::string& topic = "/contractMarket/tradeOrders",
                         const std::string& subject = "orderChange") {
  return R"({"type":"message","topic":")" + topic + R"(","subject":")" + subject +
         R"(","channelType":"private","data":{"orderId":"5cdfc138b21023a909e5ad55","symbol":"XBTUSDTM",)" + fields +
         R"(,"orderType":"limit","side":"buy","price":"3600","size":"20","clientOid":"abc123","orderTime":1545914149935808589,"ts":1545914149935808589}})";
}

Result<UserEvent> decode(UserStreamDecoder& d, const std::string& msg, ExecReport& out) {
  return d.decode(msg, msg.size(), out);  // unpadded: the decoder copies into its padded buffer
}

}  // namespace

// ---- private stream ----

TEST(OmsKucoinUser, OpenIsAccepted) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const auto e = decode(d, order_change(R"("type":"open","status":"open","remainSize":"20","filledSize":"0","canceledSize":"0")"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::report);
  EXPECT_EQ(r.kind, ExecKind::accepted);
  EXPECT_EQ(r.status, OrderStatus::accepted);
  EXPECT_EQ(r.client_id.view(), "abc123");
  EXPECT_EQ(r.venue_order_id.view(), "5cdfc138b21023a909e5ad55");
  EXPECT_EQ(r.instrument, 0);
  EXPECT_EQ(r.side, Side::buy);
  EXPECT_EQ(r.venue_time_ns, 1545914149935808589);
  EXPECT_EQ(r.cum_qty, Qty{});
  EXPECT_EQ(r.fee, Notional{});
}

// Two trades of a 20-lot order: 2 at 3600.5 (maker) then 3 at 3600 (taker); cum_qty is the venue's filledSize.
TEST(OmsKucoinUser, MatchesArePartialFills) {
  UserStreamDecoder d(registry());
  ExecReport r;
  auto e = decode(d, order_change(R"("type":"match","status":"open","matchSize":"2","matchPrice":"3600.5","remainSize":"18","filledSize":"2","canceledSize":"0","tradeId":"5ce24c16b210233c36eexxxx","liquidity":"maker","feeType":"makerFee")"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::report);
  EXPECT_EQ(r.kind, ExecKind::fill);
  EXPECT_EQ(r.status, OrderStatus::partially_filled);
  EXPECT_EQ(r.last_qty, lots(2));
  EXPECT_EQ(r.last_px, px("3600.5"));
  EXPECT_EQ(r.cum_qty, lots(2));
  EXPECT_TRUE(r.maker);
  EXPECT_EQ(r.fee, Notional{});  // the stream has no fee
  EXPECT_EQ(r.venue_seq, 0u);    // a hex trade id is not a sequence
  e = decode(d, order_change(R"("type":"match","status":"match","matchSize":"3","matchPrice":"3600","remainSize":"15","filledSize":"5","tradeId":"1784277229880","liquidity":"taker","feeType":"takerFee")"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::fill);
  EXPECT_EQ(r.last_qty, lots(3));
  EXPECT_EQ(r.last_px, px("3600"));
  EXPECT_EQ(r.cum_qty, lots(5));
  EXPECT_FALSE(r.maker);
  EXPECT_EQ(r.venue_seq, 1784277229880u);
}

// With the account's rates (GET /api/v1/trade-fees at start-up) each match carries its fee, by liquidity:
// 2 contracts x 0.001 XBT x 3600.5 = 7.201 USDT at the maker rate 0.0002 = 0.0014402; 3 x 0.001 x 3600 =
// 10.8 at the taker rate 0.0006 = 0.00648. A maker rebate (negative rate) is a negative fee. The inverse
// contract's fee would be in XBT, not USDT: none.
TEST(OmsKucoinUser, MatchesCarryTheFeeAtTheAccountsRate) {
  UserStreamDecoder d(registry());
  d.set_fee_rates(0, FeeRates{Rate::parse("0.0002").value, Rate::parse("0.0006").value});
  ExecReport r;
  ASSERT_TRUE(decode(d, order_change(R"("type":"match","status":"open","matchSize":"2","matchPrice":"3600.5","filledSize":"2","liquidity":"maker")"), r).ok());
  EXPECT_EQ(r.fee, Notional::parse("0.0014402").value);
  ASSERT_TRUE(decode(d, order_change(R"("type":"match","status":"match","matchSize":"3","matchPrice":"3600","filledSize":"5","liquidity":"taker")"), r).ok());
  EXPECT_EQ(r.fee, Notional::parse("0.00648").value);
  d.set_fee_rates(0, FeeRates{Rate::parse("-0.0001").value, Rate::parse("0.0006").value});
  ASSERT_TRUE(decode(d, order_change(R"("type":"match","status":"open","matchSize":"2","matchPrice":"3600.5","filledSize":"7","liquidity":"maker")"), r).ok());
  EXPECT_EQ(r.fee, Notional::parse("-0.0007201").value);
  // Statuses carry no fee.
  ASSERT_TRUE(decode(d, order_change(R"("type":"filled","status":"done","remainSize":"0","filledSize":"20")"), r).ok());
  EXPECT_EQ(r.fee, Notional{});
  d.set_fee_rates(1, FeeRates{Rate::parse("0.0002").value, Rate::parse("0.0006").value});
  const std::string inverse = R"({"type":"message","topic":"/contractMarket/tradeOrders","subject":"orderChange","data":{"orderId":"o2","symbol":"XBTUSDM","type":"match","status":"open","matchSize":"100","matchPrice":"50000","filledSize":"100","liquidity":"taker","side":"sell","size":"100","clientOid":"inv1","ts":1545914149935808589}})";
  ASSERT_TRUE(decode(d, inverse, r).ok());
  EXPECT_EQ(r.instrument, 1);
  EXPECT_EQ(r.fee, Notional{});
}

// The same match with every number as a JSON number instead of a string.
TEST(OmsKucoinUser, NumbersAsJsonNumbers) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const std::string msg =
      R"({"type":"message","topic":"/contractMarket/tradeOrders","subject":"orderChange","channelType":"private",)"
      R"("data":{"orderId":"5cdfc138b21023a909e5ad55","symbol":"XBTUSDTM","type":"match","status":"open","matchSize":2,)"
      R"("matchPrice":3600.5,"orderType":"limit","side":"sell","price":3600,"size":20,"remainSize":18,"filledSize":2,)"
      R"("canceledSize":0,"tradeId":"t1","clientOid":"abc123","orderTime":1545914149935808589,"liquidity":"taker","ts":1545914149935808589}})";
  const auto e = decode(d, msg, r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::fill);
  EXPECT_EQ(r.side, Side::sell);
  EXPECT_EQ(r.last_qty, lots(2));
  EXPECT_EQ(r.last_px, px("3600.5"));
  EXPECT_EQ(r.cum_qty, lots(2));
  EXPECT_EQ(r.venue_time_ns, 1545914149935808589);
}

// The last match fills the order (filledSize == size): FILLED. Then "filled" without match fields: a status
// report that books nothing new (cum_qty unchanged), so the fill is not counted twice.
TEST(OmsKucoinUser, FilledAfterMatchesIsAStatusNotAFill) {
  UserStreamDecoder d(registry());
  ExecReport r;
  auto e = decode(d, order_change(R"("type":"match","status":"match","matchSize":"20","matchPrice":"3600","remainSize":"0","filledSize":"20","liquidity":"taker")"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::fill);
  EXPECT_EQ(r.status, OrderStatus::filled);
  const ExecReport fill = r;
  e = decode(d, order_change(R"("type":"filled","status":"done","matchSize":"","matchPrice":"","remainSize":"0","filledSize":"20","canceledSize":"0")"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::status);
  EXPECT_EQ(r.status, OrderStatus::filled);
  EXPECT_EQ(r.cum_qty, lots(20));
  EXPECT_EQ(r.last_px, Price{});
  EXPECT_EQ(r.last_qty, Qty{});

  // Applied in order to the order state machine: 20 lots booked once, at 3600.
  OrderState o{};
  o.spec.req.client_id = cid("abc123");
  o.spec.req.qty = lots(20);
  o.status = OrderStatus::accepted;
  const ApplyResult a1 = apply(o, fill);
  EXPECT_EQ(a1.fill_qty, lots(20));
  EXPECT_EQ(a1.fill_px, px("3600"));
  const ApplyResult a2 = apply(o, r);
  EXPECT_EQ(a2.fill_qty, Qty{});
  EXPECT_EQ(o.filled, lots(20));
  EXPECT_EQ(o.status, OrderStatus::filled);
}

// A "filled" that carries the trade's match fields is that trade.
TEST(OmsKucoinUser, FilledWithMatchFieldsIsAFill) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const auto e = decode(d, order_change(R"("type":"filled","status":"done","matchSize":"5","matchPrice":"3601","remainSize":"0","filledSize":"20","liquidity":"maker")"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::fill);
  EXPECT_EQ(r.status, OrderStatus::filled);
  EXPECT_EQ(r.last_qty, lots(5));
  EXPECT_EQ(r.last_px, px("3601"));
  EXPECT_EQ(r.cum_qty, lots(20));
  EXPECT_TRUE(r.maker);
}

TEST(OmsKucoinUser, CanceledCarriesFilledSize) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const auto e = decode(d, order_change(R"("type":"canceled","status":"done","remainSize":"0","filledSize":"2","canceledSize":"18")"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::canceled);
  EXPECT_EQ(r.status, OrderStatus::canceled);
  EXPECT_EQ(r.cum_qty, lots(2));
  EXPECT_EQ(r.last_qty, Qty{});
}

TEST(OmsKucoinUser, UpdateIsIgnored) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const auto e = decode(d, order_change(R"("type":"update","status":"open","oldSize":"20","remainSize":"15","filledSize":"0","canceledSize":"5")"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::ignored);
}

// The per-symbol topic (subject symbolOrderChange) decodes the same.
TEST(OmsKucoinUser, SymbolTopic) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const auto e = decode(d, order_change(R"("type":"open","status":"open","filledSize":"0")", "/contractMarket/tradeOrders:XBTUSDTM", "symbolOrderChange"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::report);
  EXPECT_EQ(r.kind, ExecKind::accepted);
  // A topic that only starts like ours is not ours.
  const auto other = decode(d, order_change(R"("type":"open","status":"open","filledSize":"0")", "/contractMarket/tradeOrdersV2"), r);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other.value, UserEvent::ignored);
}

// Data before topic (not KuCoin's order, but legal JSON) is read once the topic is known.
TEST(OmsKucoinUser, FieldOrderDoesNotMatter) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const std::string msg =
      R"({"data":{"ts":1545914149935808589,"clientOid":"abc123","side":"sell","symbol":"XBTUSDTM","filledSize":"1","orderId":"x1","type":"canceled"},)"
      R"("topic":"/contractMarket/tradeOrders","type":"message"})";
  const auto e = decode(d, msg, r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::canceled);
  EXPECT_EQ(r.cum_qty, lots(1));
  // A wallet message whose data would not be an order is ignored whatever its data holds.
  const std::string wallet =
      R"({"data":{"type":123,"availableBalance":5.0},"topic":"/contractAccount/wallet","type":"message","subject":"availableBalance.change"})";
  const auto w = decode(d, wallet, r);
  ASSERT_TRUE(w.ok()) << to_string(w.error);
  EXPECT_EQ(w.value, UserEvent::ignored);
}

TEST(OmsKucoinUser, ControlMessagesAndOtherTopicsAreIgnored) {
  UserStreamDecoder d(registry());
  ExecReport r;
  for (const std::string& msg : {
           std::string(R"({"id":"hQvf8jkno","type":"welcome"})"),
           std::string(R"({"id":"1545910660739","type":"ack"})"),
           std::string(R"({"id":"1545910590801","type":"pong"})"),
           std::string(R"({"type":"message","topic":"/contractAccount/wallet","subject":"availableBalance.change","channelType":"private","data":{"availableBalance":5923,"holdBalance":2312,"currency":"USDT","timestamp":1553842862614}})"),
           std::string(R"({"type":"message","topic":"/contract/position:XBTUSDTM","subject":"position.change","channelType":"private","data":{"currentQty":-3,"avgEntryPrice":"3600.5","symbol":"XBTUSDTM"}})"),
           std::string(R"({"type":"message","topic":"/contractMarket/advancedOrders","subject":"stopOrder","channelType":"private","data":{"orderId":"s1","symbol":"XBTUSDTM","type":"open","side":"sell","stop":"down","stopPrice":"3500","ts":1558074652423004000}})"),
       }) {
    const auto e = decode(d, msg, r);
    ASSERT_TRUE(e.ok()) << msg << ": " << to_string(e.error);
    EXPECT_EQ(e.value, UserEvent::ignored) << msg;
  }
}

// An untriggered stop order's lifecycle (/contractMarket/advancedOrders), in the shape of KuCoin's own example
// (data/kucoin/kucoin_official_futures_private_ws_examples.jsonl): no clientOid, so the report names the order
// by the venue's orderId only and the gateway maps it back. "open" is ignored (the REST answer acknowledged it).
TEST(OmsKucoinUser, StopOrderEventsNameTheVenuesOrderId) {
  UserStreamDecoder d(registry());
  const auto stop_event = [](const std::string& type) {
    return R"({"topic":"/contractMarket/advancedOrders","type":"message","data":{"createdAt":1730194206837,"marginMode":"ISOLATED","orderId":"240673378116083712","orderPrice":"0.1","orderType":"stop","side":"buy","size":1,"stop":"down","stopPrice":"1000","stopPriceType":"TP","symbol":"XBTUSDTM","ts":1730194206843133000,"type":")" +
           type + R"("},"subject":"stopOrder","id":"6720ab1ea52a9b0001734392","userId":"66f12e8befb04d0001882b49","channelType":"private"})";
  };
  ExecReport r;
  auto e = decode(d, stop_event("open"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::ignored);
  e = decode(d, stop_event("cancel"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::report);
  EXPECT_EQ(r.kind, ExecKind::canceled);
  EXPECT_EQ(r.status, OrderStatus::canceled);
  EXPECT_TRUE(r.client_id.view().empty());
  EXPECT_EQ(r.venue_order_id.view(), "240673378116083712");
  EXPECT_EQ(r.instrument, 0);
  EXPECT_EQ(r.side, Side::buy);
  EXPECT_EQ(r.venue_time_ns, 1730194206843133000);
  e = decode(d, stop_event("triggered"), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::triggered);
  EXPECT_EQ(r.venue_order_id.view(), "240673378116083712");
  e = decode(d, stop_event("exploded"), r);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error, Errc::unknown_message);
}

TEST(OmsKucoinUser, TokenInvalidIsExpired) {
  UserStreamDecoder d(registry());
  ExecReport r;
  auto e = decode(d, R"({"id":"1","type":"error","code":401,"data":"token is invalid"})", r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::listen_key_expired);
  e = decode(d, R"({"type":"error","code":"401","data":"token is invalid"})", r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(e.value, UserEvent::listen_key_expired);
  e = decode(d, R"({"id":"2","type":"error","code":404,"data":"topic /contractMarket/tradeOrderz is not found"})", r);
  EXPECT_EQ(e.error, Errc::unknown_message);
}

TEST(OmsKucoinUser, MalformedMessagesGiveErrors) {
  UserStreamDecoder d(registry());
  ExecReport r;
  EXPECT_EQ(decode(d, R"({"type":"message","topic":)", r).error, Errc::bad_format);
  EXPECT_EQ(decode(d, "", r).error, Errc::bad_format);
  EXPECT_EQ(decode(d, "[1,2]", r).error, Errc::wrong_type);
  EXPECT_EQ(decode(d, R"({"topic":"/contractMarket/tradeOrders"})", r).error, Errc::missing_field);
  EXPECT_EQ(decode(d, R"({"type":"message","data":{}})", r).error, Errc::missing_field);
  EXPECT_EQ(decode(d, R"({"type":"message","topic":"/contractMarket/tradeOrders"})", r).error, Errc::missing_field);
  EXPECT_EQ(decode(d, R"({"type":"message","topic":"/contractMarket/tradeOrders","data":"x"})", r).error, Errc::wrong_type);
  // Missing clientOid.
  const std::string no_cid =
      R"({"type":"message","topic":"/contractMarket/tradeOrders","data":{"orderId":"o1","symbol":"XBTUSDTM","type":"open","side":"buy","filledSize":"0","ts":1}})";
  EXPECT_EQ(decode(d, no_cid, r).error, Errc::missing_field);
  // Unknown symbol.
  const std::string unknown_symbol =
      R"({"type":"message","topic":"/contractMarket/tradeOrders","data":{"orderId":"o1","symbol":"ETHUSDTM","type":"open","side":"buy","clientOid":"c1","filledSize":"0","ts":1}})";
  EXPECT_EQ(decode(d, unknown_symbol, r).error, Errc::not_found);
  // A type we do not know, a side that is neither buy nor sell, a match without its price, a negative match.
  EXPECT_EQ(decode(d, order_change(R"("type":"received","status":"new","filledSize":"0")"), r).error, Errc::unknown_message);
  std::string bad_side = order_change(R"("type":"open","filledSize":"0")");
  bad_side.replace(bad_side.find(R"("side":"buy")"), 12, R"("side":"xxx")");
  EXPECT_EQ(decode(d, bad_side, r).error, Errc::bad_format);
  EXPECT_EQ(decode(d, order_change(R"("type":"match","matchSize":"2","filledSize":"2")"), r).error, Errc::out_of_range);
  EXPECT_EQ(decode(d, order_change(R"("type":"match","matchSize":"-2","matchPrice":"3600","filledSize":"2")"), r).error, Errc::out_of_range);
  EXPECT_EQ(decode(d, order_change(R"("type":"match","matchSize":"2","matchPrice":"3600")"), r).error, Errc::missing_field);
  EXPECT_EQ(decode(d, order_change(R"("type":"match","matchSize":"2","matchPrice":"36x0","filledSize":"2")"), r).error, Errc::invalid_char);
  EXPECT_EQ(decode(d, order_change(R"("type":"open","filledSize":true)"), r).error, Errc::wrong_type);
  // A client id longer than 40 characters does not fit ours.
  std::string long_cid = order_change(R"("type":"open","filledSize":"0")");
  long_cid.replace(long_cid.find("abc123"), 6, std::string(41, 'a'));
  EXPECT_EQ(decode(d, long_cid, r).error, Errc::out_of_range);
  // ts past year 2262.
  std::string late = order_change(R"("type":"open","filledSize":"0")");
  late.replace(late.rfind("1545914149935808589"), 19, "18446744073709551615");
  EXPECT_EQ(decode(d, late, r).error, Errc::out_of_range);
}

TEST(OmsKucoinUser, MessageLargerThanTheLimitIsCapacity) {
  UserStreamDecoder d(registry(), Venue::kucoin_futures, 512);
  ExecReport r;
  std::string big = order_change(R"("type":"open","filledSize":"0","pad":")" + std::string(600, 'x') + "\"");
  EXPECT_EQ(decode(d, big, r).error, Errc::capacity);
  RestAnswer a;
  EXPECT_EQ(d.decode_rest(RestRequest::new_order, 200, big, cid("c1"), 0, a), Errc::capacity);
  EXPECT_TRUE(a.unknown);
  // Just under the limit still decodes.
  const auto ok = decode(d, order_change(R"("type":"open","filledSize":"0")"), r);
  EXPECT_TRUE(ok.ok()) << to_string(ok.error);
}

// A padded buffer is read in place.
TEST(OmsKucoinUser, PaddedInputIsReadInPlace) {
  UserStreamDecoder d(registry());
  ExecReport r;
  const std::string msg = order_change(R"("type":"open","filledSize":"0")");
  std::string buf = msg + std::string(64, '\0');
  const auto e = d.decode(std::string_view(buf.data(), msg.size()), buf.size(), r);
  ASSERT_TRUE(e.ok()) << to_string(e.error);
  EXPECT_EQ(r.kind, ExecKind::accepted);
}

TEST(OmsKucoinUser, DecodeDoesNotAllocateAfterWarmUp) {
  UserStreamDecoder d(registry());
  d.set_fee_rates(0, FeeRates{Rate::parse("0.0002").value, Rate::parse("0.0006").value});  // the fee path too
  ExecReport r;
  RestAnswer a;
  const std::string match = order_change(R"("type":"match","status":"open","matchSize":"2","matchPrice":"3600.5","filledSize":"2","liquidity":"maker")");
  const std::string welcome = R"({"id":"x","type":"welcome"})";
  const std::string query = R"({"code":"200000","data":{"id":"o1","symbol":"XBTUSDTM","side":"buy","size":20,"filledSize":2,"filledValue":"7.201","status":"open","isActive":true}})";
  const ClientOrderId id = cid("abc123");
  (void)decode(d, match, r);
  (void)d.decode_rest(RestRequest::query, 200, query, id, 0, a);
  enigma::test::AllocationScope scope;
  for (int i = 0; i < 100; ++i) {
    (void)d.decode(match, match.size(), r);
    (void)d.decode(welcome, welcome.size(), r);
    (void)d.decode_rest(RestRequest::query, 200, query, id, 0, a);
    (void)d.decode_rest(RestRequest::new_order, 200, R"({"code":"300003","msg":"Balance not enough"})", id, 0, a);
  }
  EXPECT_EQ(scope.count(), 0u);
}

// ---- REST answers ----

TEST(OmsKucoinUser, RestNewOrder) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 200, R"({"code":"200000","data":{"orderId":"234125150956625920","clientOid":"abc123"}})", cid("abc123"), 0, a),
            Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.venue_code, 0);
  EXPECT_EQ(a.report.kind, ExecKind::accepted);
  EXPECT_EQ(a.report.status, OrderStatus::accepted);
  EXPECT_EQ(a.report.client_id.view(), "abc123");
  EXPECT_EQ(a.report.venue_order_id.view(), "234125150956625920");
  EXPECT_EQ(a.report.instrument, 0);
  EXPECT_EQ(a.report.cum_qty, Qty{});

  // Refusals come with HTTP 200 or 4xx; the code is a string.
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 200, R"({"code":"300003","msg":"Balance not enough, available balance is 0.01"})", cid("abc123"), 0, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.report.kind, ExecKind::rejected);
  EXPECT_EQ(a.report.status, OrderStatus::rejected);
  EXPECT_EQ(a.report.reason, Reason::insufficient_margin);
  EXPECT_EQ(a.venue_code, 300003);
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 400, R"({"code":"400005","msg":"Invalid KC-API-SIGN"})", cid("abc123"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::rejected);
  EXPECT_EQ(a.venue_code, 400005);
  EXPECT_EQ(a.report.reason, Reason::venue_error);
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 200, R"({"code":100001,"msg":"There are invalid parameters"})", cid("abc123"), 0, a), Errc::ok);
  EXPECT_EQ(a.venue_code, 100001);
  EXPECT_EQ(a.report.reason, Reason::invalid_order);
  // Rate limit: refused by the venue, as Binance's 429 {"code":-1003} is.
  ASSERT_EQ(d.decode_rest(RestRequest::new_order, 429, R"({"code":"429000","msg":"Too Many Requests"})", cid("abc123"), 0, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.report.kind, ExecKind::rejected);
  EXPECT_EQ(a.venue_code, 429000);
  EXPECT_EQ(a.report.reason, Reason::venue_error);

  // No answer / server error / internal-error code / unreadable: unknown.
  for (const int status : {0, 500, 502, 503}) {
    EXPECT_EQ(d.decode_rest(RestRequest::new_order, status, "", cid("abc123"), 0, a), Errc::ok);
    EXPECT_TRUE(a.unknown) << status;
    EXPECT_EQ(a.report.kind, ExecKind::status);
    EXPECT_EQ(a.report.status, OrderStatus::unknown);
    EXPECT_EQ(a.report.reason, Reason::timeout);
    EXPECT_EQ(a.report.client_id.view(), "abc123");
  }
  EXPECT_EQ(d.decode_rest(RestRequest::new_order, 200, R"({"code":"500000","msg":"Internal Server Error"})", cid("abc123"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(d.decode_rest(RestRequest::new_order, 200, "<html>bad gateway</html>", cid("abc123"), 0, a), Errc::bad_format);
  EXPECT_TRUE(a.unknown);
  EXPECT_NE(d.decode_rest(RestRequest::new_order, 400, "<html>", cid("abc123"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(d.decode_rest(RestRequest::new_order, 200, R"({"code":"200000","data":{}})", cid("abc123"), 0, a), Errc::missing_field);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(d.decode_rest(RestRequest::new_order, 200, R"({"data":{"orderId":"1"}})", cid("abc123"), 0, a), Errc::missing_field);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(d.decode_rest(RestRequest::new_order, 200, R"({"code":"abc"})", cid("abc123"), 0, a), Errc::wrong_type);
  EXPECT_TRUE(a.unknown);
}

// A cancel's success only says the request was received: the order stays pending_cancel until the stream's
// "canceled" (which comes after its last match) ends it.
TEST(OmsKucoinUser, RestCancelIsNotTheOutcome) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  ASSERT_EQ(d.decode_rest(RestRequest::cancel, 200, R"({"code":"200000","data":{"clientOid":"abc123"}})", cid("abc123"), 0, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.venue_code, 0);
  EXPECT_EQ(a.report.kind, ExecKind::status);
  EXPECT_EQ(a.report.status, OrderStatus::pending_cancel);
  EXPECT_EQ(a.report.cum_qty, Qty{});

  // Applied: pending_cancel stays; a late match is booked; the stream's canceled ends the order.
  OrderState o{};
  o.spec.req.client_id = cid("abc123");
  o.spec.req.qty = lots(20);
  o.status = OrderStatus::accepted;
  ASSERT_TRUE(mark_cancel_sent(o));
  (void)apply(o, a.report);
  EXPECT_EQ(o.status, OrderStatus::pending_cancel);
  ExecReport r;
  ASSERT_TRUE(decode(d, order_change(R"("type":"match","status":"open","matchSize":"2","matchPrice":"3600","filledSize":"2","liquidity":"maker")"), r).ok());
  EXPECT_EQ(apply(o, r).fill_qty, lots(2));
  ASSERT_TRUE(decode(d, order_change(R"("type":"canceled","status":"done","filledSize":"2","canceledSize":"18")"), r).ok());
  const ApplyResult end = apply(o, r);
  EXPECT_TRUE(end.became_terminal);
  EXPECT_EQ(end.fill_qty, Qty{});
  EXPECT_EQ(o.status, OrderStatus::canceled);
  EXPECT_EQ(o.filled, lots(2));

  // Refused: the order is done or gone.
  ASSERT_EQ(d.decode_rest(RestRequest::cancel, 200, R"({"code":"100004","msg":"Order is in not cancelable state"})", cid("abc123"), 0, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.report.kind, ExecKind::cancel_rejected);
  EXPECT_EQ(a.report.reason, Reason::order_not_found);
  EXPECT_EQ(a.venue_code, 100004);
  ASSERT_EQ(d.decode_rest(RestRequest::cancel, 404, R"({"code":"100004","msg":"Order does not exist"})", cid("abc123"), 0, a), Errc::ok);
  EXPECT_EQ(a.report.kind, ExecKind::cancel_rejected);
  EXPECT_EQ(d.decode_rest(RestRequest::cancel, 504, "", cid("abc123"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(d.decode_rest(RestRequest::cancel, 0, "", cid("abc123"), 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
}

namespace {
std::string order_json(const std::string& fields) {
  return R"({"code":"200000","data":{"id":"5cdfc138b21023a909e5ad55","symbol":"XBTUSDTM","type":"limit","side":"buy","price":"3600",)"
         R"("clientOid":"abc123","reduceOnly":false,"updatedAt":1558167872000,)" + fields + "}}";
}
}  // namespace

// KuCoin's order answer has no fee: with the account's rates the decoder prices the filled value (filledValue)
// at the rate for the order's liquidity, as a status whose fee is priced (oms::apply books the missed part's
// share). A plain limit order rests: maker; a market or stop order took liquidity: taker.
TEST(OmsKucoinUser, RestQueryPricesTheFilledValueAtTheAccountsRate) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  const ClientOrderId id = cid("abc123");
  const std::string done = R"("size":20,"filledSize":20,"filledValue":"72.01","status":"done","isActive":false,"cancelExist":false)";
  // No rates yet: no fee.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, order_json(done), id, 0, a), Errc::ok);
  EXPECT_EQ(a.report.fee, Notional{});
  EXPECT_FALSE(a.report.fee_priced);
  d.set_fee_rates(0, FeeRates{Rate::parse("0.0002").value, Rate::parse("0.0006").value});
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, order_json(done), id, 0, a), Errc::ok);
  EXPECT_EQ(a.report.fee, Notional::parse("0.014402").value);  // 72.01 * 0.0002
  EXPECT_TRUE(a.report.fee_priced);
  std::string market = order_json(done);
  market.replace(market.find(R"("type":"limit")"), 14, R"("type":"market")");
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, market, id, 0, a), Errc::ok);
  EXPECT_EQ(a.report.fee, Notional::parse("0.043206").value);  // 72.01 * 0.0006
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, order_json(std::string(R"("stop":"down",)") + done), id, 0, a), Errc::ok);
  EXPECT_EQ(a.report.fee, Notional::parse("0.043206").value);  // a stop limit that fired
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, order_json(std::string(R"("stop":null,)") + done), id, 0, a), Errc::ok);
  EXPECT_EQ(a.report.fee, Notional::parse("0.014402").value);
  // Nothing filled: nothing priced.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, order_json(R"("size":20,"filledSize":0,"filledValue":"0","status":"open","isActive":true)"), id, 0, a), Errc::ok);
  EXPECT_FALSE(a.report.fee_priced);
}

TEST(OmsKucoinUser, RestQuery) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  const ClientOrderId id = cid("abc123");
  // Active, 2 of 20 filled for 7.201 USDT: average 7.201 / (2 * 0.001) = 3600.5.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, order_json(R"("size":20,"filledSize":2,"filledValue":"7.201","status":"open","isActive":true,"cancelExist":false)"), id, 0, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.report.kind, ExecKind::status);
  EXPECT_EQ(a.report.status, OrderStatus::partially_filled);
  EXPECT_EQ(a.report.cum_qty, lots(2));
  EXPECT_EQ(a.report.last_px, px("3600.5"));
  EXPECT_EQ(a.report.venue_order_id.view(), "5cdfc138b21023a909e5ad55");
  EXPECT_EQ(a.report.venue_time_ns, 1558167872000LL * 1'000'000);
  // Active, nothing filled (strings this time).
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, order_json(R"("size":"20","filledSize":"0","filledValue":"0","status":"open","isActive":true,"cancelExist":false)"), id, 0, a), Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::accepted);
  EXPECT_EQ(a.report.cum_qty, Qty{});
  EXPECT_EQ(a.report.last_px, Price{});
  // Done, all 20 filled for 72.01: average 72.01 / (20 * 0.001) = 3600.5.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, order_json(R"("size":20,"filledSize":20,"filledValue":"72.01","status":"done","isActive":false,"cancelExist":false)"), id, 0, a), Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::filled);
  EXPECT_EQ(a.report.cum_qty, lots(20));
  EXPECT_EQ(a.report.last_px, px("3600.5"));
  // Done after a cancel with 2 filled.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, order_json(R"("size":20,"filledSize":2,"filledValue":"7.2","status":"done","isActive":false,"cancelExist":true)"), id, 0, a), Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::canceled);
  EXPECT_EQ(a.report.cum_qty, lots(2));
  EXPECT_EQ(a.report.last_px, px("3600"));
  // Done short of its size without a cancel (an IOC remainder): canceled too.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, order_json(R"("size":20,"filledSize":5,"filledValue":"18","status":"done","isActive":false,"cancelExist":false)"), id, 0, a), Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::canceled);
  EXPECT_EQ(a.report.cum_qty, lots(5));
  // Without isActive, status decides.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, order_json(R"("size":20,"filledSize":0,"status":"open")"), id, 0, a), Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::accepted);
  // The instrument comes from the symbol when the caller does not know it.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, order_json(R"("size":20,"filledSize":0,"status":"open")"), id, kInvalidInstrument, a), Errc::ok);
  EXPECT_EQ(a.report.instrument, 0);
  // Inverse contracts: no average price from the value.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, order_json(R"("size":20,"filledSize":20,"filledValue":"0.005","isActive":false)"), id, 1, a), Errc::ok);
  EXPECT_EQ(a.report.status, OrderStatus::filled);
  EXPECT_EQ(a.report.last_px, Price{});

  // No such order: data null -> order_not_found (as Binance's -2013), not unknown.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 200, R"({"code":"200000","data":null})", id, 0, a), Errc::ok);
  EXPECT_FALSE(a.unknown);
  EXPECT_EQ(a.report.kind, ExecKind::status);
  EXPECT_EQ(a.report.reason, Reason::order_not_found);
  EXPECT_EQ(a.venue_code, 0);
  EXPECT_EQ(a.report.client_id.view(), "abc123");
  // Refused or unanswered: still unresolved.
  ASSERT_EQ(d.decode_rest(RestRequest::query, 429, R"({"code":"429000","msg":"Too Many Requests"})", id, 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(a.venue_code, 429000);
  EXPECT_EQ(a.report.status, OrderStatus::unknown);
  EXPECT_EQ(d.decode_rest(RestRequest::query, 503, "", id, 0, a), Errc::ok);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(d.decode_rest(RestRequest::query, 200, "{", id, 0, a), Errc::bad_format);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(d.decode_rest(RestRequest::query, 200, R"({"code":"200000"})", id, 0, a), Errc::missing_field);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(d.decode_rest(RestRequest::query, 200, R"({"code":"200000","data":[]})", id, 0, a), Errc::wrong_type);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(d.decode_rest(RestRequest::query, 200, order_json(R"("size":20,"status":"open")"), id, 0, a), Errc::missing_field);
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(d.decode_rest(RestRequest::query, 200, order_json(R"("size":20,"filledSize":0)"), id, 0, a), Errc::missing_field);
  EXPECT_TRUE(a.unknown);
}

TEST(OmsKucoinUser, RestCancelAll) {
  UserStreamDecoder d(registry());
  RestAnswer a;
  for (const auto kind : {RestRequest::cancel_all, RestRequest::countdown}) {
    ASSERT_EQ(d.decode_rest(kind, 200, R"({"code":"200000","data":{"cancelledOrderIds":["5c52e11203aa677f33e493fb"]}})", {}, 0, a), Errc::ok);
    EXPECT_FALSE(a.unknown);
    EXPECT_EQ(a.venue_code, 0);
    ASSERT_EQ(d.decode_rest(kind, 200, R"({"code":"300002","msg":"Order placement/cancellation suspended"})", {}, 0, a), Errc::ok);
    EXPECT_FALSE(a.unknown);
    EXPECT_EQ(a.venue_code, 300002);
    EXPECT_EQ(a.report.kind, ExecKind::status);
    (void)d.decode_rest(kind, 503, "", {}, 0, a);
    EXPECT_TRUE(a.unknown);
    (void)d.decode_rest(kind, 0, "", {}, 0, a);
    EXPECT_TRUE(a.unknown);
    EXPECT_NE(d.decode_rest(kind, 200, "not json", {}, 0, a), Errc::ok);
    EXPECT_TRUE(a.unknown);
  }
}

TEST(OmsKucoinUser, ReasonFromCode) {
  EXPECT_EQ(reason_from_code(300003), Reason::insufficient_margin);
  EXPECT_EQ(reason_from_code(100004), Reason::order_not_found);
  EXPECT_EQ(reason_from_code(100001), Reason::invalid_order);
  EXPECT_EQ(reason_from_code(300000), Reason::invalid_order);
  EXPECT_EQ(reason_from_code(429000), Reason::venue_error);
  EXPECT_EQ(reason_from_code(400005), Reason::venue_error);
}

// ---- start-up readers ----

TEST(OmsKucoinUser, ParseOpenOrders) {
  const std::string body =
      R"({"code":"200000","data":{"currentPage":1,"pageSize":50,"totalNum":4,"totalPage":2,"items":[)"
      R"({"id":"o1","symbol":"XBTUSDTM","type":"limit","side":"buy","price":"3600","size":20,"filledSize":2,"stop":"","stopPrice":null,"clientOid":"abc123","reduceOnly":false,"isActive":true},)"
      R"({"id":"o2","symbol":"XBTUSDTM","type":"market","side":"sell","price":null,"size":"5","filledSize":"0","stop":"down","stopPrice":"3500.5","clientOid":"sl1","reduceOnly":true},)"
      R"({"id":"o3","symbol":"XBTUSDTM","type":"market","side":"sell","size":5,"filledSize":0,"stop":"up","stopPrice":3700,"clientOid":null,"reduceOnly":true},)"
      R"({"id":"o4","symbol":"ETHUSDTM","type":"limit","side":"sell","price":"2000.25","size":1,"filledSize":0,"clientOid":"manual"}]}})";
  OpenOrderPage page;
  const auto orders = parse_open_orders(body, registry(), Venue::kucoin_futures, &page);
  EXPECT_EQ(page.current_page, 1);
  EXPECT_EQ(page.total_pages, 2);
  ASSERT_EQ(orders.size(), 4u);
  EXPECT_EQ(orders[0].order_id, "o1");
  EXPECT_EQ(orders[0].client_id.view(), "abc123");
  EXPECT_EQ(orders[0].instrument, 0);
  EXPECT_EQ(orders[0].side, Side::buy);
  EXPECT_EQ(orders[0].type, risk::OrderType::limit);
  EXPECT_EQ(orders[0].price, px("3600"));
  EXPECT_EQ(orders[0].stop_price, Price{});
  EXPECT_EQ(orders[0].qty, lots(20));
  EXPECT_EQ(orders[0].filled, lots(2));
  EXPECT_FALSE(orders[0].reduce_only);
  // A sell stop on the way down: a stop-loss.
  EXPECT_EQ(orders[1].type, risk::OrderType::stop_market);
  EXPECT_EQ(orders[1].stop_price, px("3500.5"));
  EXPECT_EQ(orders[1].price, Price{});
  EXPECT_EQ(orders[1].qty, lots(5));
  EXPECT_TRUE(orders[1].reduce_only);
  // A sell stop on the way up: a take-profit.
  EXPECT_EQ(orders[2].type, risk::OrderType::take_profit_market);
  EXPECT_EQ(orders[2].stop_price, px("3700"));
  EXPECT_TRUE(orders[2].client_id.empty());
  // Kept although this engine does not know the symbol.
  EXPECT_EQ(orders[3].symbol, "ETHUSDTM");
  EXPECT_EQ(orders[3].instrument, kInvalidInstrument);
  EXPECT_EQ(orders[3].price, px("2000.25"));

  EXPECT_TRUE(parse_open_orders(R"({"code":"200000","data":{"currentPage":1,"totalPage":0,"items":[]}})", registry()).empty());
  EXPECT_THROW((void)parse_open_orders(R"({"code":"400005","msg":"Invalid KC-API-SIGN"})", registry()), Error);
  EXPECT_THROW((void)parse_open_orders("nope", registry()), Error);
  EXPECT_THROW((void)parse_open_orders(R"({"code":"200000","data":[]})", registry()), Error);
  EXPECT_THROW((void)parse_open_orders(R"({"code":"200000","data":{"items":[{"symbol":"XBTUSDTM","side":"buy","type":"limit","size":1}]}})", registry()), Error);
  EXPECT_THROW((void)parse_open_orders(R"({"code":"200000","data":{"items":[{"id":"x","symbol":"XBTUSDTM","side":"up","type":"limit","size":1}]}})", registry()), Error);
  EXPECT_THROW((void)parse_open_orders(R"({"code":"200000","data":{"items":[{"id":"x","symbol":"XBTUSDTM","side":"buy","type":"limit","size":"1x"}]}})", registry()), Error);
  EXPECT_THROW((void)parse_open_orders(R"({"code":"200000","data":{"items":[{"id":"x","symbol":"XBTUSDTM","side":"buy","type":"twap","size":1}]}})", registry()), Error);
  try {
    (void)parse_open_orders(R"({"code":"400005","msg":"Invalid KC-API-SIGN"})", registry());
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("400005"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Invalid KC-API-SIGN"), std::string::npos) << e.what();
  }
}

TEST(OmsKucoinUser, ParsePositions) {
  const std::string body =
      R"({"code":"200000","data":[{"id":"p1","symbol":"XBTUSDTM","autoDeposit":false,"currentQty":-3,"avgEntryPrice":"3600.5","isOpen":true},)"
      R"({"id":"p2","symbol":"XBTUSDM","currentQty":"7","avgEntryPrice":41000.5,"isOpen":true},)"
      R"({"id":"p3","symbol":"ETHUSDTM","currentQty":0,"avgEntryPrice":0,"isOpen":false}]})";
  const auto p = parse_positions(body, registry());
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].symbol, "XBTUSDTM");
  EXPECT_EQ(p[0].instrument, 0);
  EXPECT_EQ(p[0].signed_qty, -lots(3));
  EXPECT_EQ(p[0].entry_px, px("3600.5"));
  EXPECT_EQ(p[1].instrument, 1);
  EXPECT_EQ(p[1].signed_qty, lots(7));
  EXPECT_EQ(p[1].entry_px, px("41000.5"));
  EXPECT_EQ(p[2].instrument, kInvalidInstrument);
  EXPECT_EQ(p[2].signed_qty, Qty{});

  EXPECT_TRUE(parse_positions(R"({"code":"200000","data":[]})", registry()).empty());
  EXPECT_THROW((void)parse_positions(R"({"code":"400003","msg":"KC-API-KEY not exists"})", registry()), Error);
  EXPECT_THROW((void)parse_positions(R"({"code":"200000","data":{}})", registry()), Error);
  EXPECT_THROW((void)parse_positions(R"({"code":"200000","data":[{"symbol":"XBTUSDTM"}]})", registry()), Error);
  EXPECT_THROW((void)parse_positions(R"({"code":"200000","data":[{"currentQty":1}]})", registry()), Error);
  EXPECT_THROW((void)parse_positions(R"({"code":"200000","data":[{"symbol":"XBTUSDTM","currentQty":"1.5.1"}]})", registry()), Error);
}

TEST(OmsKucoinUser, ParseApiKeyInfo) {
  auto info = parse_api_key_info(
      R"({"code":"200000","data":{"remark":"enigma","apiKey":"6704b8f9e4b3c200013d6f1a","apiVersion":3,"permission":"General,Futures","ipWhitelist":"1.2.3.4","isMaster":true,"createdAt":1728355577000}})");
  EXPECT_FALSE(info.can_withdraw);
  EXPECT_FALSE(info.can_transfer);
  EXPECT_FALSE(info.can_move_funds_out());
  EXPECT_EQ(info.permissions, "General,Futures");
  EXPECT_EQ(info.ip_whitelist, "1.2.3.4");

  info = parse_api_key_info(R"({"code":"200000","data":{"apiKey":"k","permission":"General, Futures, Transfer","isMaster":true}})");
  EXPECT_TRUE(info.can_withdraw);
  EXPECT_TRUE(info.can_transfer);
  EXPECT_TRUE(info.ip_whitelist.empty());
  info = parse_api_key_info(R"({"code":"200000","data":{"permission":"General,Futures,InnerTransfer"}})");
  EXPECT_FALSE(info.can_withdraw);
  EXPECT_TRUE(info.can_transfer);
  EXPECT_TRUE(info.can_move_funds_out());
  info = parse_api_key_info(R"({"code":"200000","data":{"permission":"general,futures,withdrawal"}})");
  EXPECT_TRUE(info.can_withdraw);

  EXPECT_THROW((void)parse_api_key_info(R"({"code":"400007","msg":"Access denied, requires more permission."})"), Error);
  EXPECT_THROW((void)parse_api_key_info(R"({"code":"200000","data":{"apiKey":"k"}})"), Error);
  EXPECT_THROW((void)parse_api_key_info("]"), Error);
}

// The documented example answer (https://www.kucoin.com/docs/rest/funding/trade-fee/trading-pair-actual-fee-futures).
TEST(OmsKucoinUser, ParseTradeFees) {
  const FeeRates r = parse_trade_fees(R"({"code":"200000","data":{"symbol":"XBTUSDTM","takerFeeRate":"0.0006","makerFeeRate":"0.0002"}})", "XBTUSDTM");
  EXPECT_EQ(r.maker, Rate::parse("0.0002").value);
  EXPECT_EQ(r.taker, Rate::parse("0.0006").value);
  EXPECT_EQ(parse_trade_fees(R"({"code":"200000","data":{"symbol":"XBTUSDTM","takerFeeRate":0.0005,"makerFeeRate":-0.0001}})", "XBTUSDTM").maker,
            Rate::parse("-0.0001").value);
  EXPECT_THROW((void)parse_trade_fees(R"({"code":"200000","data":{"symbol":"ETHUSDTM","takerFeeRate":"0.0006","makerFeeRate":"0.0002"}})", "XBTUSDTM"), Error);
  EXPECT_THROW((void)parse_trade_fees(R"({"code":"200000","data":{"symbol":"XBTUSDTM","takerFeeRate":"0.0006"}})", "XBTUSDTM"), Error);
  EXPECT_THROW((void)parse_trade_fees(R"({"code":"200000","data":{"symbol":"XBTUSDTM","takerFeeRate":"2","makerFeeRate":"0.0002"}})", "XBTUSDTM"), Error);
  EXPECT_THROW((void)parse_trade_fees(R"({"code":"100003","msg":"Contract parameter invalid"})", "XBTUSDTM"), Error);
  EXPECT_THROW((void)parse_trade_fees("[", "XBTUSDTM"), Error);
}
