// libFuzzer: Binance decoder (USD-M and spot) on arbitrary frames, and the scanner against simdjson: every
// input is decoded once with the one-pass scanner first (the default) and once by simdjson alone, and the
// two must give the same result and the same events, field by field.
#include <cstdlib>
#include <cstring>
#include <vector>

#include "feed/venues/binance.hpp"
#include "decode_common.hpp"
#include "tests/support/same_event.hpp"

namespace {

void compare_paths(enigma::feed::binance::Decoder& scanned, enigma::feed::binance::Decoder& plain,
                   const std::uint8_t* data, std::size_t size) {
  static enigma::feed::EventBuffer a(1u << 16);
  static enigma::feed::EventBuffer b(1u << 16);
  // Digits and quotes after the frame: a read past its end would change what the scanner accepts.
  std::vector<char> buf(size + 64, '7');
  for (std::size_t i = size; i < buf.size(); i += 3) buf[i] = '"';
  if (size) std::memcpy(buf.data(), data, size);
  a.clear();
  b.clear();
  const std::string_view frame(buf.data(), size);
  const enigma::feed::DecodeResult ra = scanned.decode(frame, buf.size(), 42, a);
  const enigma::feed::DecodeResult rb = plain.decode(frame, buf.size(), 42, b);
  if (ra.error != rb.error || ra.action != rb.action || ra.kind != rb.kind || ra.events != rb.events) std::abort();
  if (a.size() != b.size()) std::abort();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!enigma::test::same_event(a[i], b[i])) std::abort();
}

}  // namespace

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
  fuzz_decode_one(usdm, data, size);
  fuzz_decode_one(spot, data, size);
  compare_paths(usdm, usdm_plain, data, size);
  compare_paths(spot, spot_plain, data, size);
  return 0;
}
