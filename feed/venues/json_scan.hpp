// A strict single-pass scanner for compact venue JSON (hot path), used in front of simdjson where a venue's
// usual frames have one fixed shape (Binance market data).
//
// It accepts only a subset of JSON: no whitespace inside the value, strings of printable ASCII without
// escapes, unsigned integers of at most 19 digits. Every function returns false at the first byte outside
// that subset, and the caller then decodes the whole frame with simdjson from the start, so a frame the
// scanner accepts is valid JSON and anything else gets simdjson's full validation and error. Every read is
// bounded by `end` except the 16-byte string loads, which may read up to 15 bytes past it (the frame lies
// in simdjson's padded input).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "core/attributes.hpp"
#include "core/fixed_point.hpp"  // detail::sixteen_digits, ENIGMA_PARSE_SIMD

namespace enigma::feed::json::scan {

ENIGMA_ALWAYS_INLINE bool is_digit(char c) noexcept { return static_cast<unsigned>(c - '0') <= 9u; }

// `c` at p, consumed.
ENIGMA_ALWAYS_INLINE bool expect(const char*& p, const char* end, char c) noexcept {
  if (p >= end || *p != c) return false;
  ++p;
  return true;
}

// A string at p (its opening quote); `out` is its text, p moves past the closing quote. Refuses escapes,
// control characters and non-ASCII bytes (simdjson validates those).
ENIGMA_ALWAYS_INLINE bool string(const char*& p, const char* end, std::string_view& out) noexcept {
  if (p >= end || *p != '"') return false;
  const char* const s = p + 1;
#if defined(__SSE2__)
  for (const char* c = s; c < end; c += 16) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c));
    const auto quote = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(b, _mm_set1_epi8('"'))));
    // Signed compare: bytes below 0x20 and bytes 0x80..0xff (negative) alike.
    const auto bad = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_or_si128(_mm_cmplt_epi8(b, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(b, _mm_set1_epi8('\\')))));
    if (quote != 0) [[likely]] {
      const unsigned at = static_cast<unsigned>(__builtin_ctz(quote));
      if ((bad & ((1u << at) - 1u)) != 0 || c + at >= end) return false;
      out = {s, static_cast<std::size_t>(c + at - s)};
      p = c + at + 1;
      return true;
    }
    if (bad != 0) return false;
  }
  return false;
#else
  for (const char* c = s; c < end; ++c) {
    const auto u = static_cast<unsigned char>(*c);
    if (u == '"') {
      out = {s, static_cast<std::size_t>(c - s)};
      p = c + 1;
      return true;
    }
    if (u < 0x20 || u >= 0x80 || u == '\\') return false;
  }
  return false;
#endif
}

// After an element of an array (or a member of an object, with '}'): true at ',' (`more`: another follows)
// or at `close` (the end); false at anything else.
ENIGMA_ALWAYS_INLINE bool next(const char*& p, const char* end, char close, bool& more) noexcept {
  if (p >= end) [[unlikely]] return false;
  const char c = *p++;
  more = c == ',';
  return more || c == close;
}

// A member's key and its ':' (p moves to the value). Binance's keys are mostly one letter: `"x":` is
// matched with one 4-byte compare before the general string scan.
ENIGMA_ALWAYS_INLINE bool key(const char*& p, const char* end, std::string_view& out) noexcept {
  if (end - p >= 4) [[likely]] {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    const auto c = static_cast<unsigned char>(p[1]);
    constexpr std::uint32_t kQuoteQuoteColon = 0x22u | (0x22u << 16) | (0x3au << 24);  // '"', any, '"', ':'
    if ((w & 0xffff00ffu) == kQuoteQuoteColon && c >= 0x20 && c < 0x80 && c != '\\' && c != '"') {
      out = {p + 1, 1};
      p += 4;
      return true;
    }
  }
  return string(p, end, out) && expect(p, end, ':');
}

// The member key written with its quotes and colon (R"("sequence":)") at p, consumed: one compare of constant
// length instead of a scan for the closing quote. false (p unmoved) for any other key, which the caller then
// reads with key().
template <std::size_t N>
ENIGMA_ALWAYS_INLINE bool key_is(const char*& p, const char* end, const char (&quoted)[N]) noexcept {
  static_assert(N >= 4, "a quoted key and its colon");
  if (static_cast<std::size_t>(end - p) < N - 1 || __builtin_memcmp(p, quoted, N - 1) != 0) return false;
  p += N - 1;
  return true;
}

// An unsigned integer of at most 19 digits (no leading zero) ending at ',' or '}'.
ENIGMA_ALWAYS_INLINE bool u64(const char*& p, const char* end, std::uint64_t& out) noexcept {
  const char* c = p;
  std::uint64_t x = 0;
  if (c >= end || !is_digit(*c)) return false;
#if defined(ENIGMA_PARSE_SIMD)
  {
    // Up to 16 digits at once (venue times and update ids have 13): the digit run's length from one
    // compare, then the digits right-aligned and combined by detail::sixteen_digits, as parse_padded does.
    // A serial x * 10 + d loop costs a multiply's latency per digit, which was most of a bookTicker's scan.
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c));
    const __m128i d = _mm_sub_epi8(raw, _mm_set1_epi8('0'));
    const __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    const auto run = static_cast<unsigned>(__builtin_ctz(~static_cast<unsigned>(_mm_movemask_epi8(digit)) | 0x10000u));
    const auto room = static_cast<std::size_t>(end - c);
    if (run < 16 && run < room) {
      const char next = c[run];
      if ((next != ',' && next != '}') || (run > 1 && *c == '0')) return false;
      const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
      // Lane j takes digit j - (16 - run); lanes before the number shuffle in zero (index high bit set).
      const __m128i idx = _mm_sub_epi8(iota, _mm_set1_epi8(static_cast<char>(16 - run)));
      out = enigma::detail::sixteen_digits(_mm_shuffle_epi8(d, idx));
      p = c + run;
      return true;
    }
  }
#endif
  if (*c == '0') {
    ++c;
  } else {
    const char* const stop = end - c > 19 ? c + 19 : end;
    while (c < stop && is_digit(*c)) x = x * 10 + static_cast<unsigned>(*c++ - '0');
  }
  if (c >= end || (*c != ',' && *c != '}')) return false;  // a 20th digit, a fraction, an exponent
  out = x;
  p = c;
  return true;
}

// A string's text of 1 to 19 decimal digits, leading zeros allowed ("1613277183874", as KuCoin sends
// sequences), as an integer; false for anything else. Up to 16 digits from one 16-byte load, which may read
// past the text (it lies in padded input).
ENIGMA_ALWAYS_INLINE bool digit_text(std::string_view s, std::uint64_t& out) noexcept {
  const std::size_t n = s.size();
#if defined(ENIGMA_PARSE_SIMD)
  if (n - 1 < 16) {  // 1..16 (n == 0 wraps)
    const __m128i d = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data())), _mm_set1_epi8('0'));
    const __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    const unsigned want = (1u << n) - 1u;
    if ((static_cast<unsigned>(_mm_movemask_epi8(digit)) & want) != want) return false;
    const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    out = enigma::detail::sixteen_digits(_mm_shuffle_epi8(d, _mm_sub_epi8(iota, _mm_set1_epi8(static_cast<char>(16 - n)))));
    return true;
  }
#endif
  if (n == 0 || n > 19) return false;
  std::uint64_t x = 0;
  for (const char c : s) {
    if (!is_digit(c)) return false;
    x = x * 10 + static_cast<unsigned>(c - '0');
  }
  out = x;
  return true;
}

ENIGMA_ALWAYS_INLINE bool literal(const char*& p, const char* end, std::string_view lit) noexcept {
  if (static_cast<std::size_t>(end - p) < lit.size() || std::memcmp(p, lit.data(), lit.size()) != 0) return false;
  p += lit.size();
  return true;
}

ENIGMA_ALWAYS_INLINE bool boolean(const char*& p, const char* end, bool& out) noexcept {
  if (p < end && *p == 't' && literal(p, end, "true")) return out = true, true;
  if (p < end && *p == 'f' && literal(p, end, "false")) return out = false, true;
  return false;
}

// A JSON number of any form (skipped, not converted).
inline bool skip_number(const char*& p, const char* end) noexcept {
  const char* c = p;
  if (c < end && *c == '-') ++c;
  if (c >= end || !is_digit(*c)) return false;
  if (*c == '0') ++c;
  else
    while (c < end && is_digit(*c)) ++c;
  if (c < end && *c == '.') {
    ++c;
    if (c >= end || !is_digit(*c)) return false;
    while (c < end && is_digit(*c)) ++c;
  }
  if (c < end && (*c == 'e' || *c == 'E')) {
    ++c;
    if (c < end && (*c == '+' || *c == '-')) ++c;
    if (c >= end || !is_digit(*c)) return false;
    while (c < end && is_digit(*c)) ++c;
  }
  p = c;
  return true;
}

// A scalar value (string, number, true, false, null) skipped; objects and arrays are refused.
inline bool skip_scalar(const char*& p, const char* end) noexcept {
  if (p >= end) return false;
  std::string_view ignored;
  bool b = false;
  switch (*p) {
    case '"': return string(p, end, ignored);
    case 't':
    case 'f': return boolean(p, end, b);
    case 'n': return literal(p, end, "null");
    default: {
      std::uint64_t x = 0;  // most are ids and times: the SIMD integer read, then any other number form
      return u64(p, end, x) || skip_number(p, end);
    }
  }
}

// A string's text or a number's token (what the simdjson paths' get_text_or_number gives).
ENIGMA_ALWAYS_INLINE bool text_or_number(const char*& p, const char* end, std::string_view& out) noexcept {
  if (p < end && *p == '"') return string(p, end, out);
  const char* const s = p;
  if (!skip_number(p, end)) return false;
  out = {s, static_cast<std::size_t>(p - s)};
  return true;
}

// Calls on() at each member of the object at p; on() reads the member (key and value) and returns false at
// anything it does not take. Known keys are matched whole with key_is; any other member is read by
// other_member().
template <class Fn>
ENIGMA_ALWAYS_INLINE bool members(const char*& p, const char* end, Fn&& on) noexcept {
  if (!expect(p, end, '{')) return false;
  if (p < end && *p == '}') return ++p, true;
  for (;;) {
    if (!on()) [[unlikely]] return false;
    bool more = false;
    if (!next(p, end, '}', more)) [[unlikely]] return false;
    if (!more) return true;
  }
}

// A member no reader takes: any key, a scalar value (an object or array is left to simdjson).
inline bool other_member(const char*& p, const char* end) noexcept {
  std::string_view k;
  return key(p, end, k) && skip_scalar(p, end);
}

// Only JSON whitespace from p to end.
inline bool only_space(const char* p, const char* end) noexcept {
  for (; p < end; ++p)
    if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') return false;
  return true;
}

}  // namespace enigma::feed::json::scan
