#include "oms/venues/simulated_order_entry.hpp"

#include "oms/venues/binance_futures.hpp"
#include "oms/venues/kucoin_futures.hpp"

namespace enigma::oms {

std::unique_ptr<VenueOrderEntry> simulated_order_entry(Venue venue, const InstrumentRegistry& registry) {
  // A throwaway key: the HMAC work is real (it is part of the measured order path), the credential is not.
  static constexpr std::string_view kKey = "enigma-simulation-key";
  switch (venue) {
    case Venue::binance_usdm:
    case Venue::binance_coinm:
    case Venue::binance_spot: return std::make_unique<binance_futures::OrderEntry>(registry, "sim-api-key", Secret(kKey));
    case Venue::kucoin_futures:
      return std::make_unique<kucoin_futures::OrderEntry>(registry, "sim-api-key", Secret(kKey), Secret(kKey));
    default: return nullptr;
  }
}

}  // namespace enigma::oms
