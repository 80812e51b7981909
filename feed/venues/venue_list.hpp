// The venues with a market-data decoder, listed once: with_venue(venue, fn) calls fn.template operator()<F>()
// with F = feed::<venue>::Feed, what the engine builds for that venue (decoder, book sync, resubscription,
// book-check). Adding a venue is its file pair here and one case below.
//
// A venue's Feed: Decoder and BookSync; takes_venue (both are constructed with the Venue: one class serving
// several products); snapshot_by_instrument (the decoder is told whose REST depth body it reads: Binance's
// names no symbol); book_subscription (how a book is resubscribed after a gap or a failed checksum);
// book_check (book-check's driver); quotes_share_book_seq (its top-of-book quotes carry the book's sequence,
// so they are compared at the same sequence; else counted as not compared); decode(decoder, frame, tsc,
// traded, out), how one captured frame (a stream message or a REST body) is decoded.
#pragma once

#include <string>

#include "core/error.hpp"
#include "core/instrument.hpp"
#include "feed/venues/binance.hpp"
#include "feed/venues/bybit.hpp"
#include "feed/venues/coinbase.hpp"
#include "feed/venues/kraken.hpp"
#include "feed/venues/kucoin.hpp"
#include "feed/venues/okx.hpp"

namespace enigma::feed {

// Throws enigma::Error naming `venue` when it has no decoder.
template <class Fn>
void with_venue(Venue venue, Fn&& fn) {
  switch (venue) {
    case Venue::binance_usdm:
    case Venue::binance_coinm:
    case Venue::binance_spot: fn.template operator()<binance::Feed>(); return;
    case Venue::kucoin_futures:
    case Venue::kucoin_spot: fn.template operator()<kucoin::Feed>(); return;
    case Venue::okx: fn.template operator()<okx::Feed>(); return;
    case Venue::bybit: fn.template operator()<bybit::Feed>(); return;
    case Venue::coinbase: fn.template operator()<coinbase::Feed>(); return;
    case Venue::kraken_spot:
    case Venue::kraken_futures: fn.template operator()<kraken::Feed>(); return;
    case Venue::unknown: break;
  }
  throw Error("venue '" + std::string(to_string(venue)) + "' has no decoder");
}

}  // namespace enigma::feed
