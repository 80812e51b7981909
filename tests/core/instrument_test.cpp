// Instrument registry and the static layout of hot-path events.
#include <gtest/gtest.h>

#include <cstddef>
#include <type_traits>

#include "core/events.hpp"
#include "core/instrument.hpp"

using namespace enigma;

namespace {
InstrumentSpec kucoin_xbtusdtm() {
  InstrumentSpec s;
  s.venue = Venue::kucoin_futures;
  s.symbol = Symbol("XBTUSDTM");
  s.kind = InstrumentKind::linear_perpetual;
  s.tick = Price::parse("0.1").value;
  s.lot = Qty::from_units(1);
  s.min_qty = Qty::from_units(1);
  s.max_qty = Qty::from_units(1'000'000);
  s.multiplier = Qty::parse("0.001").value;
  return s;
}
}  // namespace

TEST(Venue, NamesRoundTrip) {
  for (int i = 1; i < kVenueCount; ++i) {
    const auto v = static_cast<Venue>(i);
    const auto back = venue_from_string(to_string(v));
    ASSERT_TRUE(back.has_value()) << to_string(v);
    EXPECT_EQ(*back, v);
  }
  EXPECT_EQ(venue_from_string("kucoin-futures"), Venue::kucoin_futures);
  EXPECT_EQ(venue_from_string("binance-usdm"), Venue::binance_usdm);
  EXPECT_FALSE(venue_from_string("unknown").has_value());
  EXPECT_FALSE(venue_from_string("KuCoin").has_value());
}

TEST(InstrumentRegistry, DenseIdsAndLookup) {
  InstrumentRegistry reg(4);
  const auto a = reg.add(kucoin_xbtusdtm());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value, 0);
  InstrumentSpec b = kucoin_xbtusdtm();
  b.venue = Venue::binance_usdm;
  b.symbol = Symbol("BTCUSDT");
  b.lot = Qty::parse("0.001").value;
  b.multiplier = Qty::from_units(1);
  const auto bid = reg.add(b);
  ASSERT_TRUE(bid.ok());
  EXPECT_EQ(bid.value, 1);
  EXPECT_EQ(reg.size(), 2u);
  EXPECT_EQ(reg.find(Venue::kucoin_futures, "XBTUSDTM"), InstrumentId{0});
  EXPECT_EQ(reg.find(Venue::binance_usdm, "BTCUSDT"), InstrumentId{1});
  EXPECT_FALSE(reg.find(Venue::binance_usdm, "XBTUSDTM").has_value());
  EXPECT_EQ(reg.get(0).multiplier.to_string(), "0.001");
  EXPECT_EQ(reg.get(1).lot.to_string(), "0.001");
}

TEST(InstrumentRegistry, RejectsInvalidSpecsAndDuplicates) {
  InstrumentRegistry reg(2);
  ASSERT_TRUE(reg.add(kucoin_xbtusdtm()).ok());
  EXPECT_EQ(reg.add(kucoin_xbtusdtm()).error, Errc::out_of_range) << "duplicate venue+symbol";
  InstrumentSpec s = kucoin_xbtusdtm();
  s.symbol = Symbol("ETHUSDTM");
  s.tick = Price::from_raw(0);
  EXPECT_FALSE(reg.add(s).ok());
  s.tick = Price::parse("0.01").value;
  s.lot = Qty::from_raw(-1);
  EXPECT_FALSE(reg.add(s).ok());
  s.lot = Qty::from_units(1);
  s.min_qty = Qty::from_units(10);
  s.max_qty = Qty::from_units(5);
  EXPECT_FALSE(reg.add(s).ok());
  s.max_qty = Qty::from_units(50);
  ASSERT_TRUE(reg.add(s).ok());
  s.symbol = Symbol("SOLUSDTM");
  EXPECT_EQ(reg.add(s).error, Errc::capacity);
}

TEST(Symbol, FitsAndCompares) {
  EXPECT_TRUE(Symbol::fits("BTC-USDT-SWAP"));
  EXPECT_TRUE(Symbol::fits(std::string(23, 'A')));
  EXPECT_FALSE(Symbol::fits(std::string(24, 'A')));
  EXPECT_EQ(Symbol("XBTUSDTM"), Symbol("XBTUSDTM"));
  EXPECT_FALSE(Symbol("XBTUSDTM") == Symbol("XBTUSDM"));
  EXPECT_EQ(Symbol("BTC-USDT-SWAP").view(), "BTC-USDT-SWAP");
}

TEST(Events, StaticLayout) {
  EXPECT_EQ(sizeof(Event), 64u);
  EXPECT_EQ(alignof(Event), 64u);
  EXPECT_TRUE(std::is_trivially_copyable_v<Event>);
  EXPECT_EQ(offsetof(Event, h), 0u);
  EXPECT_EQ(offsetof(Event, batch), sizeof(EventHeader));
  EXPECT_EQ(sizeof(EventHeader), 24u);
  EXPECT_LE(sizeof(BookBatch), 40u);
  EXPECT_LE(sizeof(BookLevel), 40u);
  EXPECT_LE(sizeof(Trade), 40u);
  EXPECT_LE(sizeof(Bbo), 40u);
  EXPECT_LE(sizeof(Candle), 40u);
  EXPECT_LE(sizeof(MarkFunding), 40u);
  EXPECT_LE(sizeof(Status), 40u);
  EXPECT_EQ(opposite(Side::buy), Side::sell);
  EXPECT_EQ(opposite(Side::sell), Side::buy);
}

TEST(Events, CopiesCarryPayload) {
  Event e;
  e.h.type = EventType::trade;
  e.h.instrument = 7;
  e.h.venue = Venue::binance_usdm;
  e.trade.price = Price::parse("60123.4").value;
  e.trade.qty = Qty::parse("0.002").value;
  e.trade.trade_id = 5'123'456'789ULL;
  e.trade.aggressor = Side::sell;
  Event copy;
  std::memcpy(static_cast<void*>(&copy), &e, sizeof e);
  EXPECT_EQ(copy.h.instrument, 7);
  EXPECT_EQ(copy.trade.price.to_string(), "60123.4");
  EXPECT_EQ(copy.trade.trade_id, 5'123'456'789ULL);
  EXPECT_EQ(copy.trade.aggressor, Side::sell);
}
