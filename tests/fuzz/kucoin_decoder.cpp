// libFuzzer: one frame through the KuCoin Futures and spot decoders (no crash, no leak, no UB; a failed
// message leaves nothing appended).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "feed/venues/kucoin.hpp"

using namespace enigma;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static InstrumentRegistry registry(4096);
  static feed::kucoin::Decoder futures(Venue::kucoin_futures, registry, true);
  static feed::kucoin::Decoder spot(Venue::kucoin_spot, registry, true);
  static feed::EventBuffer out(4096);
  std::string buf(reinterpret_cast<const char*>(data), size);
  buf.append(64, ' ');  // simdjson padding
  const std::string_view frame(buf.data(), size);
  for (auto* d : {&futures, &spot}) {
    out.clear();
    auto r = d->decode(frame, buf.size(), 0, out);
    if (!r.ok() && out.size() != 0) std::abort();
    if (r.ok() && r.events != out.size()) std::abort();
    out.clear();
    r = d->decode_snapshot(frame, buf.size(), "BTC-USDT", 0, out);
    if (!r.ok() && out.size() != 0) std::abort();
  }
  return 0;
}
