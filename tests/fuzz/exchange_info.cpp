// libFuzzer: the venues' exchange-info answers (feed/exchange_info.hpp) on arbitrary bytes. The first byte
// picks the venue (Binance USD-M / COIN-M / spot, KuCoin spot / futures, OKX, Bybit), the rest is the body.
// Every input is parsed or refused with enigma::Error; what is accepted must hold what the registry relies on:
// positive tick, lot and contract size, minimum size at most the maximum, a symbol that fits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "feed/exchange_info.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using enigma::Venue;
  static constexpr Venue kVenues[] = {Venue::binance_usdm, Venue::binance_coinm, Venue::binance_spot, Venue::kucoin_spot,
                                      Venue::kucoin_futures, Venue::okx,          Venue::bybit};
  const Venue venue = kVenues[data[0] % (sizeof kVenues / sizeof kVenues[0])];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  enigma::feed::ExchangeInfo info;
  try {
    info = enigma::feed::parse_exchange_info(venue, body, "fuzz.json");
  } catch (const enigma::Error&) {
    return 0;  // refused naming the entry and field, which is the contract
  }
  if (info.specs.empty() && info.skipped_options == 0 && info.unrepresentable.empty()) std::abort();  // "lists no instrument" is an error
  for (const enigma::InstrumentSpec& s : info.specs) {
    if (s.venue != venue || s.tick.raw() <= 0 || s.lot.raw() <= 0 || s.multiplier.raw() <= 0 || s.min_qty > s.max_qty ||
        s.symbol.view().empty() || s.source != enigma::SpecSource::exchange_info)
      std::abort();
  }
  return 0;
}
