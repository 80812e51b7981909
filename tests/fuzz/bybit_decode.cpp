// libFuzzer: Bybit v5 decoder on arbitrary frames.
#include "feed/venues/bybit.hpp"
#include "decode_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static enigma::InstrumentRegistry reg(4096);
  static enigma::feed::bybit::Decoder dec(reg, true);
  fuzz_decode_one(dec, data, size);
  return 0;
}
