// The decode step of a venue whose book snapshots come in the stream itself (Bybit, OKX, Coinbase, Kraken):
// every captured frame goes to the decoder as it is. A venue's Feed derives from it
// (feed/venues/venue_list.hpp describes a Feed's members).
#pragma once

#include <cstdint>

#include "core/instrument.hpp"
#include "feed/capture_reader.hpp"
#include "feed/event_buffer.hpp"

namespace enigma::feed {

template <class Decoder>
struct SnapshotsInStream {
  static DecodeResult decode(Decoder& d, const CapturedFrame& f, std::uint64_t tsc, InstrumentId /*traded*/,
                             EventBuffer& out) noexcept {
    return d.decode(f.payload, f.padded_capacity, tsc, out);
  }
};

}  // namespace enigma::feed
