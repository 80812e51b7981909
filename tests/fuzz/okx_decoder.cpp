// libFuzzer: one frame through the OKX decoder (no crash, no UB; a failed message leaves nothing appended), and
// its scanner against simdjson: every input is also decoded by a twin that uses simdjson alone, and the two
// must give the same result and the same events, field by field.
#include "decode_common.hpp"
#include "feed/venues/okx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static enigma::InstrumentRegistry registry(4096);
  static enigma::feed::okx::Decoder decoder(registry, true);
  // The simdjson-only twin has a registry of its own, filled in the same order (same instrument ids).
  static enigma::InstrumentRegistry plain_registry(4096);
  static enigma::feed::okx::Decoder plain(plain_registry, true);
  plain.set_scanner(false);
  fuzz_decode_same(decoder, plain, data, size);
  return 0;
}
