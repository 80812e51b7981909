// Shared body of the venue decoder fuzz targets: copy the input into a padded buffer and decode it; every
// outcome must be a classified result with a consistent event count and nothing left behind on error.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "feed/event_buffer.hpp"
#include "tests/support/same_event.hpp"

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

// The same input through two decoders that must agree (a scanner-first decoder and its simdjson-only twin):
// the same result and the same events, field by field, and the first one's result consistent as above. Digits and quotes follow the frame, so a read past
// its end would change what a scanner accepts.
template <class Decoder>
void fuzz_decode_same(Decoder& scanned, Decoder& plain, const std::uint8_t* data, std::size_t size) {
  static enigma::feed::EventBuffer a(1u << 16);
  static enigma::feed::EventBuffer b(1u << 16);
  std::vector<char> buf(size + 64, '7');
  for (std::size_t i = size; i < buf.size(); i += 3) buf[i] = '"';
  if (size) std::memcpy(buf.data(), data, size);
  a.clear();
  b.clear();
  const std::string_view frame(buf.data(), size);
  const enigma::feed::DecodeResult ra = scanned.decode(frame, buf.size(), 42, a);
  const enigma::feed::DecodeResult rb = plain.decode(frame, buf.size(), 42, b);
  if (ra.ok() && ra.events != a.size()) std::abort();
  if (!ra.ok() && (a.size() != 0 || ra.action == enigma::ErrorAction::none)) std::abort();
  for (const enigma::Event& e : a)
    if (e.h.type == enigma::EventType::none) std::abort();
  if (ra.error != rb.error || ra.action != rb.action || ra.kind != rb.kind || ra.events != rb.events) std::abort();
  if (a.size() != b.size()) std::abort();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!enigma::test::same_event(a[i], b[i])) std::abort();
}
