#include "oms/venues/venue_kit.hpp"

#include "oms/venues/binance_futures.hpp"
#include "oms/venues/binance_futures_user.hpp"
#include "oms/venues/bybit_linear.hpp"
#include "oms/venues/bybit_linear_user.hpp"
#include "oms/venues/kucoin_futures.hpp"
#include "oms/venues/kucoin_futures_user.hpp"
#include "oms/venues/okx_swap.hpp"
#include "oms/venues/okx_swap_user.hpp"

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
    case Venue::bybit: return std::make_unique<bybit_linear::OrderEntry>(registry, "sim-api-key", Secret(kKey));
    case Venue::okx: return std::make_unique<okx_swap::OrderEntry>(registry, "sim-api-key", Secret(kKey), Secret(kKey));
    default: return nullptr;
  }
}

std::unique_ptr<VenueUserDecoder> user_decoder(Venue venue, const InstrumentRegistry& registry) {
  switch (venue) {
    case Venue::binance_usdm: return std::make_unique<binance_futures::UserStreamDecoder>(registry, venue);
    case Venue::kucoin_futures: return std::make_unique<kucoin_futures::UserStreamDecoder>(registry, venue);
    case Venue::bybit: return std::make_unique<bybit_linear::UserStreamDecoder>(registry, venue);
    case Venue::okx: return std::make_unique<okx_swap::UserStreamDecoder>(registry, venue);
    default: return nullptr;
  }
}

std::unique_ptr<VenueStreamDialect> private_stream(Venue venue, bool dead_man_stream) {
  switch (venue) {
    case Venue::binance_usdm: return std::make_unique<binance_futures::PrivateStream>();
    case Venue::kucoin_futures: return std::make_unique<kucoin_futures::PrivateStream>();
    case Venue::bybit: return std::make_unique<bybit_linear::PrivateStream>(dead_man_stream);
    case Venue::okx: return std::make_unique<okx_swap::PrivateStream>(okx_swap::PrivateStream::Endpoint::private_orders);
    default: return nullptr;
  }
}

std::unique_ptr<VenueStreamDialect> second_private_stream(Venue venue) {
  if (venue == Venue::okx) return std::make_unique<okx_swap::PrivateStream>(okx_swap::PrivateStream::Endpoint::business);
  return nullptr;
}

}  // namespace enigma::oms
