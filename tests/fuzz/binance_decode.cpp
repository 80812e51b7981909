// libFuzzer: Binance decoder (USD-M and spot) on arbitrary frames.
#include "feed/venues/binance.hpp"
#include "decode_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static enigma::InstrumentRegistry reg(4096);
  static enigma::feed::binance::Decoder usdm(enigma::Venue::binance_usdm, reg, true);
  static enigma::feed::binance::Decoder spot(enigma::Venue::binance_spot, reg, true);
  usdm.set_snapshot_instrument(0);
  fuzz_decode_one(usdm, data, size);
  fuzz_decode_one(spot, data, size);
  return 0;
}
