#include "oms/venues/venue_kit.hpp"

#include <utility>

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

std::unique_ptr<LiveVenue> live_venue(Venue venue, const LiveAccount& account, std::string rest_host) {
  switch (venue) {
    case Venue::binance_usdm: return binance_futures::live_venue(account, std::move(rest_host));
    case Venue::kucoin_futures: return kucoin_futures::live_venue(account, std::move(rest_host));
    case Venue::bybit: return bybit_linear::live_venue(account, std::move(rest_host));
    case Venue::okx: return okx_swap::live_venue(account, std::move(rest_host));
    default: return nullptr;
  }
}

std::span<const LiveVenueRules* const> live_venue_rules() {
  static const LiveVenueRules* const rules[] = {&binance_futures::live_rules(), &kucoin_futures::live_rules(),
                                                &bybit_linear::live_rules(), &okx_swap::live_rules()};
  return rules;
}

const LiveVenueRules* live_venue_rules(Venue venue) {
  for (const LiveVenueRules* r : live_venue_rules())
    if (r->venue == venue) return r;
  return nullptr;
}

}  // namespace enigma::oms
