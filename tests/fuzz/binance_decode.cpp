// libFuzzer: Binance decoder (USD-M and spot) on arbitrary frames, and the scanner against simdjson: every
// input is decoded once with the one-pass scanner first (the default) and once by simdjson alone, and the
// two must give the same result and the same events, field by field.
#include "feed/venues/binance.hpp"
#include "decode_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static enigma::InstrumentRegistry reg(4096);
  static enigma::feed::binance::Decoder usdm(enigma::Venue::binance_usdm, reg, true);
  static enigma::feed::binance::Decoder spot(enigma::Venue::binance_spot, reg, true);
  // The simdjson-only twins get registries of their own, filled in the same order (same instrument ids).
  static enigma::InstrumentRegistry plain_reg(4096);
  static enigma::feed::binance::Decoder usdm_plain(enigma::Venue::binance_usdm, plain_reg, true);
  static enigma::feed::binance::Decoder spot_plain(enigma::Venue::binance_spot, plain_reg, true);
  usdm_plain.set_scanner(false);
  spot_plain.set_scanner(false);
  usdm.set_snapshot_instrument(0);
  usdm_plain.set_snapshot_instrument(0);
  fuzz_decode_same(usdm, usdm_plain, data, size);
  fuzz_decode_same(spot, spot_plain, data, size);
  return 0;
}
