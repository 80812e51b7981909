// The venue kit's table: for a venue, the parts the engine builds by venue, so the engine itself holds
// interfaces only (oms/venue_order_entry.hpp, oms/venue_answer.hpp) and no code of its own per venue.
// A venue is its encoder and order entry (oms/venues/<venue>.hpp) and its private-stream decoder
// (oms/venues/<venue>_user.hpp), listed here.
#pragma once

#include <memory>
#include <span>

#include <string>

#include "core/instrument.hpp"
#include "oms/live_venue.hpp"
#include "oms/venue_answer.hpp"
#include "oms/venue_order_entry.hpp"

namespace enigma::oms {

// The order entry replay and paper sign with: the venue's real encoder under a fixed simulation key, so the
// order path encodes and signs the exact bytes a live gateway would write (and times them) while the
// simulated exchange takes the order. Every venue with live order entry: Binance (USD-M, COIN-M, spot),
// KuCoin Futures, Bybit and OKX; nullptr for the others, whose orders go to the simulated exchange unencoded
// (a replay times no encode stage for them).
[[nodiscard]] std::unique_ptr<VenueOrderEntry> simulated_order_entry(Venue venue, const InstrumentRegistry& registry);

// The decoder of `venue`'s private stream and REST answers (live order entry: Binance USD-M, KuCoin Futures,
// Bybit, OKX); nullptr for a venue without live order entry.
[[nodiscard]] std::unique_ptr<VenueUserDecoder> user_decoder(Venue venue, const InstrumentRegistry& registry);

// How `venue`'s private stream is kept (what a connect sends, what the answers mean); nullptr for a venue without
// live order entry. `dead_man_stream`: the stream itself arms the venue's disconnect protection (Bybit's "dcp"
// topic). second_private_stream: the dialect of a venue's second private connection (OKX's /ws/v5/business, where
// its algo orders are pushed); nullptr where the venue has one connection.
[[nodiscard]] std::unique_ptr<VenueStreamDialect> private_stream(Venue venue, bool dead_man_stream = false);
[[nodiscard]] std::unique_ptr<VenueStreamDialect> second_private_stream(Venue venue);

// `enigma live` on `venue` (oms/live_venue.hpp), its credentials loaded as `account` names them (throws
// enigma::Error naming the variable or file that is missing); nullptr for a venue without live order entry.
// `rest_host`: "host" or "host:port" of account.rest_url. `account` must outlive the result.
[[nodiscard]] std::unique_ptr<LiveVenue> live_venue(Venue venue, const LiveAccount& account, std::string rest_host);
// What each live venue's [live] table takes (one entry per venue with live order entry), and `venue`'s (nullptr
// for a venue without live order entry).
[[nodiscard]] std::span<const LiveVenueRules* const> live_venue_rules();
[[nodiscard]] const LiveVenueRules* live_venue_rules(Venue venue);

}  // namespace enigma::oms
