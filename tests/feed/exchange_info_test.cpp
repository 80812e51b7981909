// feed/exchange_info.hpp on each venue's real exchange-info answer in data/ (see each folder's ATTRIBUTION.md):
// counts and one instrument's tick, lot, sizes and kind, read off the files by hand; options skipped and
// counted; every malformed answer refused naming the file, the entry and the field.
#include "feed/exchange_info.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"

namespace {

using enigma::Error;
using enigma::InstrumentKind;
using enigma::InstrumentSpec;
using enigma::Price;
using enigma::Qty;
using enigma::SpecSource;
using enigma::Venue;
using enigma::feed::ExchangeInfo;
using enigma::feed::load_exchange_info;
using enigma::feed::parse_exchange_info;

std::string data(const std::string& name) { return std::string(ENIGMA_SOURCE_DIR) + "/data/" + name; }

const InstrumentSpec& find(const ExchangeInfo& info, const std::string& symbol) {
  for (const InstrumentSpec& s : info.specs)
    if (s.symbol.view() == symbol) return s;
  ADD_FAILURE() << symbol << " not listed";
  static const InstrumentSpec none{};
  return none;
}

void expect(const InstrumentSpec& s, const char* tick, const char* lot, const char* min, const char* max,
            InstrumentKind kind, const char* multiplier = "1") {
  EXPECT_EQ(s.tick, Price::parse(tick).value) << s.symbol.view();
  EXPECT_EQ(s.lot, Qty::parse(lot).value) << s.symbol.view();
  EXPECT_EQ(s.min_qty, Qty::parse(min).value) << s.symbol.view();
  if (max != nullptr) EXPECT_EQ(s.max_qty, Qty::parse(max).value) << s.symbol.view();
  EXPECT_EQ(s.kind, kind) << s.symbol.view();
  EXPECT_EQ(s.multiplier, Qty::parse(multiplier).value) << s.symbol.view();
  EXPECT_EQ(s.source, SpecSource::exchange_info);
}

TEST(ExchangeInfo, BinanceUsdmSpotAndTheirDatedContracts) {
  const ExchangeInfo usdm = load_exchange_info(Venue::binance_usdm, data("binance/cryptofeed_usdm_rest_exchangeInfo_20210722.json.zst"));
  EXPECT_EQ(usdm.specs.size(), 122u);
  expect(find(usdm, "BTCUSDT"), "0.01", "0.001", "0.001", "1000", InstrumentKind::linear_perpetual);
  expect(find(usdm, "SUSHIUSDT"), "0.0010", "1", "1", "10000000", InstrumentKind::linear_perpetual);
  expect(find(usdm, "BTCUSDT_210924"), "0.1", "0.001", "0.001", nullptr, InstrumentKind::future);
  EXPECT_EQ(find(usdm, "BTCUSDT").venue, Venue::binance_usdm);

  const ExchangeInfo spot = load_exchange_info(Venue::binance_spot, data("binance/cryptofeed_spot_rest_exchangeInfo_20211012.json.zst"));
  EXPECT_EQ(spot.specs.size(), 1695u);
  EXPECT_EQ(find(spot, "SHIBUSDT").max_qty, Qty::max());  // maxQty 46116860414.00: above a Qty's range
  expect(find(spot, "BTCUSDT"), "0.01", "0.00001", "0.00001", "9000", InstrumentKind::spot);
  expect(find(spot, "ETHUSDT"), "0.01", "0.0001", "0.0001", "9000", InstrumentKind::spot);
}

TEST(ExchangeInfo, KucoinSpotAndFutures) {
  const ExchangeInfo spot = load_exchange_info(Venue::kucoin_spot, data("kucoin/cryptofeed_spot_rest_symbols_20210425.json.zst"));
  EXPECT_EQ(spot.specs.size(), 634u);
  // baseMaxSize 10000000000 is above what a Qty holds: no practical limit.
  expect(find(spot, "BTC-USDT"), "0.1", "0.00000001", "0.00001", nullptr, InstrumentKind::spot);
  EXPECT_EQ(find(spot, "BTC-USDT").max_qty, Qty::max());
  EXPECT_TRUE(spot.unrepresentable.empty());
  // contracts/active writes numbers, not strings: tickSize 0.1, lotSize 1, multiplier 0.001 (XBT per contract).
  const ExchangeInfo fut = load_exchange_info(Venue::kucoin_futures, data("kucoin/kucoin_official_futures_contracts_active_example.json"));
  ASSERT_EQ(fut.specs.size(), 1u);
  expect(find(fut, "XBTUSDTM"), "0.1", "1", "1", "1000000", InstrumentKind::linear_perpetual, "0.001");
}

TEST(ExchangeInfo, OkxSwapSpotAndOptionsSkipped) {
  const ExchangeInfo swap = load_exchange_info(Venue::okx, data("okx/cryptofeed_v5_rest_instruments_SWAP_20220513.json.zst"));
  // Listed finer than 10 decimals (tickSz 0.00000000001): skipped and named, the rest read.
  EXPECT_EQ(swap.specs.size(), 164u);
  EXPECT_EQ(swap.unrepresentable, (std::vector<std::string>{"BABYDOGE-USDT-SWAP", "KISHU-USDT-SWAP"}));
  expect(find(swap, "BTC-USDT-SWAP"), "0.1", "1", "1", nullptr, InstrumentKind::linear_perpetual, "0.01");
  // Inverse: ctVal is 100 USD, not a base amount; the config's multiplier stands.
  expect(find(swap, "BTC-USD-SWAP"), "0.1", "1", "1", nullptr, InstrumentKind::inverse_perpetual, "1");
  const ExchangeInfo spot = load_exchange_info(Venue::okx, data("okx/cryptofeed_v5_rest_instruments_SPOT_20220513.json.zst"));
  EXPECT_EQ(spot.specs.size(), 504u);
  EXPECT_EQ(spot.unrepresentable, (std::vector<std::string>{"BABYDOGE-USDT", "ELON-USDT", "KISHU-USDT", "MILO-USDT", "PIT-USDT",
                                                            "POLYDOGE-USDT", "QOM-USDT", "SAITAMA-USDT", "PMA-BTC"}));
  expect(find(spot, "BTC-USDT"), "0.1", "0.00000001", "0.00001", nullptr, InstrumentKind::spot);
  const ExchangeInfo options = load_exchange_info(Venue::okx, data("okx/cryptofeed_v5_rest_instruments_OPTION_BTC_20220513.json.zst"));
  EXPECT_EQ(options.specs.size(), 0u);
  EXPECT_EQ(options.skipped_options, 346u);
}

TEST(ExchangeInfo, BybitLinearAndSpot) {
  const ExchangeInfo linear = load_exchange_info(Venue::bybit, data("bybit/nautilus_crate_http_get_instruments_linear.json"));
  ASSERT_EQ(linear.specs.size(), 2u);
  expect(find(linear, "ETHUSDT"), "0.05", "0.01", "0.01", "1000", InstrumentKind::linear_perpetual);
  // Spot states its step as basePrecision.
  const ExchangeInfo spot = load_exchange_info(Venue::bybit, data("bybit/nautilus_crate_http_get_instruments_spot.json"));
  ASSERT_EQ(spot.specs.size(), 2u);
  expect(find(spot, "BTCUSDT"), "0.1", "0.0001", "0.001", "100", InstrumentKind::spot);
}

// Each malformed answer is refused naming what is wrong and where.
TEST(ExchangeInfo, MalformedAnswersAreRefusedNamingTheEntryAndField) {
  struct Case {
    Venue venue;
    std::string body, expect;
  };
  const std::string filt = R"("filters":[{"filterType":"PRICE_FILTER","tickSize":"0.1"},{"filterType":"LOT_SIZE","stepSize":"0.001","minQty":"0.001","maxQty":"10"}])";
  for (const Case& c : {
           Case{Venue::binance_spot, "{\"symbols\":[{\"symbol\":\"A\"," + filt + "},{\"symbol\":\"BTCUSDT\",\"filters\":[]}]}",
                "f.json: symbols[1] 'BTCUSDT': no PRICE_FILTER"},
           Case{Venue::binance_spot, R"({"symbols":[{"symbol":"X","filters":[{"filterType":"PRICE_FILTER","tickSize":"0"},{"filterType":"LOT_SIZE","stepSize":"1","minQty":"1","maxQty":"2"}]}]})",
                "symbols[0] 'X': tick 0 is not positive"},
           Case{Venue::binance_spot, R"({"symbols":[{"symbol":"X","filters":[{"filterType":"PRICE_FILTER","tickSize":"abc"}]}]})",
                "'tickSize' = 'abc' is not a decimal"},
           Case{Venue::binance_spot, R"({"symbols":[{"symbol":"X","filters":[{"filterType":"PRICE_FILTER","tickSize":"1"},{"filterType":"LOT_SIZE","stepSize":"1","minQty":"5","maxQty":"2"}]}]})",
                "minimum size 5 above maximum 2"},
           Case{Venue::binance_usdm, "{\"symbols\":[{\"symbol\":\"A\"," + filt + "}]}", "symbols[0] 'A': no 'contractType'"},
           Case{Venue::binance_usdm, "{\"symbols\":{}}", "'symbols' is not an array"},
           Case{Venue::binance_usdm, "{\"symbols\":[]}", "lists no instrument"},
           Case{Venue::okx, "{\"symbols\":[]}", "no 'data' (not this venue's exchange-info answer?)"},
           Case{Venue::okx, R"({"data":[{"instId":"X","instType":"PERP"}]})", "instType 'PERP'"},
           Case{Venue::bybit, R"({"result":{"list":[{"symbol":"X","priceFilter":{"tickSize":"0.1"}}]}})",
                "list[0] 'X': no 'lotSizeFilter' object"},
           Case{Venue::kucoin_futures, R"({"data":[{"symbol":"X","type":"FFWCSX","tickSize":1,"lotSize":1,"multiplier":1}]})",
                "no 'isInverse' boolean"},
           Case{Venue::kucoin_spot, R"({"data":[{"symbol":"ABCDEFGHIJKLMNOPQRSTUVWXYZ"}]})", "longer than 23 characters"},
           Case{Venue::binance_spot, "{\"symbols\":[", "f.json: not JSON"},
           Case{Venue::kraken_spot, "{}", "no exchange-info reader for kraken-spot"},
       }) {
    try {
      (void)parse_exchange_info(c.venue, c.body, "f.json");
      ADD_FAILURE() << "accepted: " << c.body;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << e.what();
    }
  }
  try {
    (void)load_exchange_info(Venue::okx, "/nonexistent/instruments.json");
    ADD_FAILURE() << "a missing file was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/instruments.json"), std::string::npos) << e.what();
  }
}

}  // namespace
