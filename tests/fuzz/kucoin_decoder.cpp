// libFuzzer: one frame through the KuCoin Futures and spot decoders (no crash, no leak, no UB; a failed
// message leaves nothing appended), and their scanner against simdjson: every input is also decoded by twins
// that use simdjson alone, and the two must give the same result and the same events, field by field.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>

#include "decode_common.hpp"
#include "feed/venues/kucoin.hpp"

using namespace enigma;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static InstrumentRegistry registry(4096);
  static feed::kucoin::Decoder futures(Venue::kucoin_futures, registry, true);
  static feed::kucoin::Decoder spot(Venue::kucoin_spot, registry, true);
  // The simdjson-only twins share a registry of their own, filled in the same order (same instrument ids).
  static InstrumentRegistry plain_registry(4096);
  static feed::kucoin::Decoder futures_plain(Venue::kucoin_futures, plain_registry, true);
  static feed::kucoin::Decoder spot_plain(Venue::kucoin_spot, plain_registry, true);
  static const bool twins_set = [] {
    futures_plain.set_scanner(false);
    spot_plain.set_scanner(false);
    return true;
  }();
  (void)twins_set;
  fuzz_decode_same(futures, futures_plain, data, size);
  fuzz_decode_same(spot, spot_plain, data, size);
  // REST snapshot bodies (simdjson alone; the twins read them too, so that both registries stay alike).
  static feed::EventBuffer out(4096), plain_out(4096);
  std::string buf(reinterpret_cast<const char*>(data), size);
  buf.append(64, ' ');  // simdjson padding
  const std::string_view frame(buf.data(), size);
  for (auto [d, plain] : {std::pair{&futures, &futures_plain}, std::pair{&spot, &spot_plain}}) {
    out.clear();
    plain_out.clear();
    const auto r = d->decode_snapshot(frame, buf.size(), "BTC-USDT", 0, out);
    const auto rp = plain->decode_snapshot(frame, buf.size(), "BTC-USDT", 0, plain_out);
    if (!r.ok() && out.size() != 0) std::abort();
    if (r.error != rp.error || out.size() != plain_out.size()) std::abort();
  }
  return 0;
}
