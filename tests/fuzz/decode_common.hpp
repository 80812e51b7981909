// Shared body of the venue decoder fuzz targets: copy the input into a padded buffer and decode it; every
// outcome must be a classified result with a consistent event count and nothing left behind on error.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "feed/event_buffer.hpp"

template <class Decoder>
void fuzz_decode_one(Decoder& dec, const std::uint8_t* data, std::size_t size) {
  static enigma::feed::EventBuffer out(1u << 16);
  std::vector<char> buf(size + 64, ' ');
  if (size) std::memcpy(buf.data(), data, size);
  out.clear();
  const enigma::feed::DecodeResult r = dec.decode(std::string_view(buf.data(), size), buf.size(), 0, out);
  if (r.ok() && r.events != out.size()) std::abort();
  if (!r.ok() && (out.size() != 0 || r.action == enigma::ErrorAction::none)) std::abort();
  for (const enigma::Event& e : out)
    if (e.h.type == enigma::EventType::none) std::abort();
}
