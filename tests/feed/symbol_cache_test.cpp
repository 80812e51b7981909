// The venue decoders' symbol cache against the registry it fronts: ids as the registry assigns them,
// registration only when asked and with the venue's kind, and no allocation once a symbol is known.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "feed/venues/symbol_cache.hpp"
#include "tests/support/alloc_counter.hpp"

namespace enigma::feed {
namespace {

InstrumentKind always_future(Venue, std::string_view) noexcept { return InstrumentKind::future; }

InstrumentSpec spec(Venue v, const char* symbol) {
  InstrumentSpec s;
  s.venue = v;
  s.symbol = Symbol(symbol);
  s.kind = InstrumentKind::spot;
  return s;
}

TEST(SymbolCache, AnswersWhatTheRegistryHoldsAndRegistersOnlyWhenAsked) {
  InstrumentRegistry registry(64);
  const InstrumentId btc = registry.add(spec(Venue::okx, "BTC-USDT")).value;
  const InstrumentId eth = registry.add(spec(Venue::okx, "ETH-USDT")).value;
  (void)registry.add(spec(Venue::bybit, "SOL-USDT"));

  SymbolCache fixed(registry, Venue::okx, false, &always_future);
  EXPECT_EQ(fixed.find("BTC-USDT"), btc);
  EXPECT_EQ(fixed.find("ETH-USDT"), eth);
  EXPECT_EQ(fixed.find("BTC-USDT"), btc);               // again, after another symbol
  EXPECT_EQ(fixed.find("SOL-USDT"), kInvalidInstrument);  // another venue's symbol
  EXPECT_EQ(fixed.find("XRP-USDT"), kInvalidInstrument);  // unknown, not registered
  EXPECT_EQ(fixed.find(""), kInvalidInstrument);
  EXPECT_EQ(fixed.find(std::string(Symbol::kCapacity + 1, 'A')), kInvalidInstrument);
  EXPECT_EQ(registry.size(), 3u);

  SymbolCache learning(registry, Venue::okx, true, &always_future);
  const InstrumentId xrp = learning.find("XRP-USDT");
  ASSERT_NE(xrp, kInvalidInstrument);
  EXPECT_EQ(registry.size(), 4u);
  EXPECT_EQ(registry.get(xrp).symbol.view(), "XRP-USDT");
  EXPECT_EQ(registry.get(xrp).venue, Venue::okx);
  EXPECT_EQ(registry.get(xrp).kind, InstrumentKind::future);
  EXPECT_EQ(learning.find("XRP-USDT"), xrp);  // remembered: not registered twice
  EXPECT_EQ(registry.size(), 4u);
  EXPECT_EQ(fixed.find("XRP-USDT"), xrp);     // now in the registry for every cache
}

// Many symbols interleaved (a multi-symbol capture): each keeps its id, and once all are known no lookup
// allocates.
TEST(SymbolCache, ManyInterleavedSymbolsKeepTheirIdsWithoutAllocating) {
  InstrumentRegistry registry(512);
  SymbolCache cache(registry, Venue::kucoin_spot, true, &always_future);
  std::vector<std::string> symbols;
  std::vector<InstrumentId> ids;
  for (int i = 0; i < 200; ++i) {
    symbols.push_back("SYM" + std::to_string(i) + "-USDT");
    ids.push_back(cache.find(symbols.back()));
    ASSERT_NE(ids.back(), kInvalidInstrument) << symbols.back();
  }
  test::AllocationScope allocs;
  for (int round = 0; round < 3; ++round)
    for (std::size_t i = 0; i < symbols.size(); i += 7)
      for (std::size_t k = i; k < symbols.size(); k += 13) ASSERT_EQ(cache.find(symbols[k]), ids[k]) << symbols[k];
  EXPECT_EQ(allocs.count(), 0u);
  EXPECT_EQ(registry.size(), 200u);
}

}  // namespace
}  // namespace enigma::feed
