// Small simdjson On-Demand helpers shared by the Binance, Bybit and Coinbase decoders (hot path).
//
// Keys and numeric strings are read raw (no unescaping copy): venue keys and decimal strings never contain
// escapes, and a string that did would simply fail the fixed-point parse. The closing quote is found by a
// plain scan, which is bounded because simdjson's stage 1 has already proven every string is closed.
#pragma once

#include <cstdint>
#include <string_view>

#include <simdjson.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "core/attributes.hpp"
#include "core/error.hpp"
#include "core/fixed_point.hpp"

namespace enigma::feed::json {

namespace od = simdjson::ondemand;

// Text of a raw JSON string (pointer just after the opening quote) up to its closing quote. Keys and
// numbers are short: one 16-byte compare finds the quote (reading 16 bytes is safe: the string lies in
// simdjson's input, which is followed by SIMDJSON_PADDING bytes); a byte loop ends with a mispredicted
// branch per string, which was a tenth of a depth diff's decode.
ENIGMA_ALWAYS_INLINE std::string_view raw_text(const char* s) noexcept {
#if defined(__SSE2__)
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
  const auto quotes = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"'))));
  if (quotes != 0) [[likely]] return {s, static_cast<std::size_t>(__builtin_ctz(quotes))};
  const char* e = s + 16;
#else
  const char* e = s;
#endif
  while (*e != '"') ++e;
  return {s, static_cast<std::size_t>(e - s)};
}

ENIGMA_ALWAYS_INLINE std::string_view key_of(od::field& f) noexcept { return raw_text(f.key().raw()); }

// `s` equals the literal: a length check and a compare of constant size the compiler inlines (string_view's
// == calls memcmp with a run-time length).
template <std::size_t N>
ENIGMA_ALWAYS_INLINE bool is(std::string_view s, const char (&lit)[N]) noexcept {
  return s.size() == N - 1 && __builtin_memcmp(s.data(), lit, N - 1) == 0;
}

// Calls on(key, value) for each member of `obj` in document order (one pass, nothing looked up by name);
// stops at the first error (Errc::bad_format when the object itself is malformed).
template <class Fn>
ENIGMA_ALWAYS_INLINE Errc each_field(od::object obj, Fn&& on) noexcept {
  for (auto item : obj) {
    od::field fld;
    if (std::move(item).get(fld)) return Errc::bad_format;
    if (const Errc e = on(key_of(fld), fld.value()); e != Errc::ok) return e;
  }
  return Errc::ok;
}

// String value without unescaping; Errc::wrong_type when the value is not a string.
ENIGMA_ALWAYS_INLINE Errc get_text(od::value v, std::string_view& out) noexcept {
  od::raw_json_string r;
  if (v.get_raw_json_string().get(r)) [[unlikely]] return Errc::wrong_type;
  out = raw_text(r.raw());
  return Errc::ok;
}

// Raw text of a JSON string, or the raw token of a JSON number (venues send prices both ways); a string is
// tried first (a miss consumes nothing). Errc::wrong_type for anything else.
ENIGMA_ALWAYS_INLINE Errc get_text_or_number(od::value v, std::string_view& out) noexcept {
  if (get_text(v, out) == Errc::ok) [[likely]] return Errc::ok;
  od::json_type t{};
  if (v.type().get(t) || t != od::json_type::number) return Errc::wrong_type;
  std::string_view raw = v.raw_json_token();
  while (!raw.empty() && static_cast<unsigned char>(raw.back()) <= ' ') raw.remove_suffix(1);
  out = raw;
  return Errc::ok;
}

// Decimal text into a fixed-point type; `s` must lie in simdjson's padded input (the SIMD parse reads past it).
template <class T>
ENIGMA_ALWAYS_INLINE Errc parse_fixed_padded(std::string_view s, T& out) noexcept {
  const Result<T> r = T::parse_padded(s);
  out = r.value;
  return r.error;
}

// Decimal string ("61800.20") into a fixed-point type. The text lies in simdjson's padded input, so the
// SIMD parse may read past it.
template <class T>
ENIGMA_ALWAYS_INLINE Errc get_fixed(od::value v, T& out) noexcept {
  std::string_view s;
  if (const Errc e = get_text(v, s); e != Errc::ok) [[unlikely]] return e;
  const Result<T> r = T::parse_padded(s);
  out = r.value;
  return r.error;
}

ENIGMA_ALWAYS_INLINE Errc get_u64(od::value v, std::uint64_t& out) noexcept {
  return v.get_uint64().get(out) ? Errc::wrong_type : Errc::ok;
}

ENIGMA_ALWAYS_INLINE Errc get_i64(od::value v, std::int64_t& out) noexcept {
  return v.get_int64().get(out) ? Errc::wrong_type : Errc::ok;
}

// Unsigned integer carried as a decimal string ("1673280000000").
ENIGMA_ALWAYS_INLINE Errc get_u64_text(od::value v, std::uint64_t& out) noexcept {
  std::string_view s;
  if (const Errc e = get_text(v, s); e != Errc::ok) return e;
  if (s.empty()) return Errc::empty;
  if (s.size() > 19) return Errc::overflow;
  std::uint64_t x = 0;
  for (char c : s) {
    if (static_cast<unsigned>(c - '0') > 9u) return Errc::invalid_char;
    x = x * 10 + static_cast<unsigned>(c - '0');
  }
  out = x;
  return Errc::ok;
}

// Milliseconds since epoch to nanoseconds (venue times); saturates rather than wrapping on garbage input.
ENIGMA_ALWAYS_INLINE std::int64_t ms_to_ns(std::uint64_t ms) noexcept {
  return ms > static_cast<std::uint64_t>(INT64_MAX / 1'000'000) ? INT64_MAX : static_cast<std::int64_t>(ms) * 1'000'000;
}

// 64-bit FNV-1a, for venues whose trade ids are not numbers (Bybit UUIDs): stable, not unique by contract.
ENIGMA_ALWAYS_INLINE std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// Trade id given as text: its numeric value when all digits (and it fits), else its FNV-1a hash.
ENIGMA_ALWAYS_INLINE std::uint64_t id_from_text(std::string_view s) noexcept {
  if (s.empty() || s.size() > 19) return fnv1a(s);
  std::uint64_t x = 0;
  for (char c : s) {
    if (static_cast<unsigned>(c - '0') > 9u) return fnv1a(s);
    x = x * 10 + static_cast<unsigned>(c - '0');
  }
  return x;
}

}  // namespace enigma::feed::json
