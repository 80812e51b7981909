// CRC-32 (IEEE 802.3, reflected: the checksum of zlib's crc32() and of OKX's book checksum).
//
// With PCLMULQDQ (any x86-64 since 2010, enabled by -march=native) buffers of 64 bytes and more are folded
// 64 bytes per step with carry-less multiplies (Intel, "Fast CRC Computation for Generic Polynomials
// Using PCLMULQDQ Instruction", 2009; constants for the reflected polynomial 0x104C11DB7), several times
// faster than zlib's table-driven loop on the ~1 KB checksum text; the tail and short buffers go to zlib.
#pragma once

#include <cstddef>
#include <cstdint>

#include <zlib.h>

#if defined(__PCLMUL__) && defined(__SSE4_1__)
#include <immintrin.h>
#define ENIGMA_CRC32_CLMUL 1
#endif

namespace enigma::feed::detail {

#ifdef ENIGMA_CRC32_CLMUL
// Folds len (>= 64, a multiple of 16) bytes into the CRC register `reg` (the inverted CRC, as the
// algorithm runs it); returns the register after them.
inline std::uint32_t crc32_fold(std::uint32_t reg, const unsigned char* buf, std::size_t len) noexcept {
  auto load = [](const unsigned char* p) noexcept { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); };
  // x * K.lo ^ x.hi * K.hi ^ next: moves 128 bits of remainder forward by the distance K encodes.
  auto fold = [](__m128i x, __m128i k, __m128i next) noexcept {
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), next);
  };
  const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596LL, 0x154442bd4LL);  // x^(512+32), x^(512-32) mod P
  const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL);  // x^(128+32), x^(128-32) mod P
  const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124LL);                // x^64 mod P
  const __m128i poly_mu = _mm_set_epi64x(0x1f7011641LL, 0x1db710641LL);  // P' and Barrett's mu
  const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);

  __m128i x1 = _mm_xor_si128(load(buf), _mm_cvtsi32_si128(static_cast<int>(reg)));
  __m128i x2 = load(buf + 16);
  __m128i x3 = load(buf + 32);
  __m128i x4 = load(buf + 48);
  buf += 64;
  len -= 64;
  while (len >= 64) {
    x1 = fold(x1, k1k2, load(buf));
    x2 = fold(x2, k1k2, load(buf + 16));
    x3 = fold(x3, k1k2, load(buf + 32));
    x4 = fold(x4, k1k2, load(buf + 48));
    buf += 64;
    len -= 64;
  }
  x1 = fold(x1, k3k4, x2);
  x1 = fold(x1, k3k4, x3);
  x1 = fold(x1, k3k4, x4);
  while (len >= 16) {
    x1 = fold(x1, k3k4, load(buf));
    buf += 16;
    len -= 16;
  }
  // 128 -> 64 bits.
  __m128i t = _mm_clmulepi64_si128(x1, k3k4, 0x10);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
  // 64 -> 32 bits.
  t = _mm_srli_si128(x1, 4);
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5, 0x00), t);
  // Barrett reduction to the 32-bit remainder.
  t = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), poly_mu, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), poly_mu, 0x00);
  x1 = _mm_xor_si128(x1, t);
  return static_cast<std::uint32_t>(_mm_extract_epi32(x1, 1));
}
#endif

// crc32(0, buf, len) as zlib computes it.
inline std::uint32_t crc32_ieee(const char* data, std::size_t len) noexcept {
  const auto* buf = reinterpret_cast<const unsigned char*>(data);
  std::uint32_t crc = 0;
#ifdef ENIGMA_CRC32_CLMUL
  if (len >= 64) {
    const std::size_t body = len & ~std::size_t{15};
    crc = ~crc32_fold(~crc, buf, body);
    buf += body;
    len -= body;
  }
#endif
  return static_cast<std::uint32_t>(crc32(crc, buf, static_cast<uInt>(len)));
}

}  // namespace enigma::feed::detail
