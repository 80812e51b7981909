// libFuzzer: Coinbase (Advanced Trade + legacy) decoder on arbitrary frames, and its scanner against simdjson:
// every input is also decoded by a twin that uses simdjson alone, and the two must give the same result and
// the same events, field by field.
#include "feed/venues/coinbase.hpp"
#include "decode_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static enigma::InstrumentRegistry reg(4096);
  static enigma::feed::coinbase::Decoder dec(reg, true);
  // The simdjson-only twin has a registry of its own, filled in the same order (same instrument ids).
  static enigma::InstrumentRegistry plain_reg(4096);
  static enigma::feed::coinbase::Decoder plain(plain_reg, true);
  plain.set_scanner(false);
  fuzz_decode_same(dec, plain, data, size);
  return 0;
}
