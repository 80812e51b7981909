// The order entry replay and paper sign with: each venue's real encoder under a fixed simulation key, so the
// order path encodes and signs the exact bytes a live gateway would write (and times them) while the simulated
// exchange takes the order. One place that knows which venues have one, so the engine holds none per venue.
#pragma once

#include <memory>

#include "core/instrument.hpp"
#include "oms/venue_order_entry.hpp"

namespace enigma::oms {

// The simulated order entry for `venue`'s instruments: Binance (USD-M, COIN-M, spot) and KuCoin Futures.
// nullptr for the others: their orders go to the simulated exchange unencoded (Bybit's and OKX's bytes are
// made only live; no encode stage is timed for them in a replay).
[[nodiscard]] std::unique_ptr<VenueOrderEntry> simulated_order_entry(Venue venue, const InstrumentRegistry& registry);

}  // namespace enigma::oms
