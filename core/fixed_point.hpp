// Fixed-point decimal types for prices, sizes and notionals.
//
// Venue prices and sizes arrive as decimal strings; they are parsed straight into scaled 64-bit integers
// (no double on the way in) and formatted back exactly. Scales were chosen by scanning every price and size
// in ../shared/data: the finest price is KuCoin spot's 0.0000001126 (10 decimals) and the largest book size
// is ~4.5e8 (KuCoin spot snapshot), so Price and Qty keep 10 decimals (range +-9.2e8). One KuCoin spot
// snapshot level carries an 11-decimal size (0.00019434546 BCHSV-USDT); it is rejected with
// Errc::too_many_digits rather than silently rounded. Notional keeps 8 decimals (range +-9.2e10).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/attributes.hpp"
#include "core/error.hpp"

#if defined(__SSSE3__) && defined(__SSE4_1__)
#include <immintrin.h>
#define ENIGMA_PARSE_SIMD 1
#endif

namespace enigma {

// 128-bit intermediates for products (__extension__ keeps -Wpedantic quiet about the GNU type).
__extension__ typedef __int128 int128;

namespace detail {
constexpr std::int64_t pow10_i64(int n) noexcept {
  std::int64_t v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}
inline constexpr std::uint64_t kPow10[19] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
                                             100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
                                             1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
                                             1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
                                             1000000000000000000ULL};
#if defined(ENIGMA_PARSE_SIMD)
// The value of 16 decimal digits, one per byte (0..9), most significant first: combined pairwise in three
// multiply-adds instead of a multiply's latency per digit. Leading zero bytes pad shorter numbers.
[[gnu::always_inline]] inline std::uint64_t sixteen_digits(__m128i digits) noexcept {
  const __m128i two = _mm_maddubs_epi16(digits, _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1));
  const __m128i four = _mm_madd_epi16(two, _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
  const __m128i packed = _mm_packus_epi32(four, four);
  const __m128i eight = _mm_madd_epi16(packed, _mm_setr_epi16(10000, 1, 10000, 1, 10000, 1, 10000, 1));
  return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_cvtsi128_si32(eight))) * 100000000ULL +
         static_cast<std::uint32_t>(_mm_extract_epi32(eight, 1));
}
#endif
}  // namespace detail

enum class Rounding : std::uint8_t {
  down,          // toward negative infinity (floor)
  up,            // toward positive infinity (ceil)
  toward_zero,   // truncate
  nearest,       // half away from zero
};

// A signed decimal with `Digits` fractional digits stored as raw = value * 10^Digits.
// `Tag` keeps Price, Qty and Notional from mixing by accident.
template <class Tag, int Digits>
class Fixed {
 public:
  static_assert(Digits >= 0 && Digits <= 18);
  using rep = std::int64_t;
  static constexpr int kDigits = Digits;
  static constexpr rep kScale = detail::pow10_i64(Digits);
  // Longest formatted text: sign + 19 digits + '.' + NUL.
  static constexpr std::size_t kMaxChars = 24;

  constexpr Fixed() noexcept = default;
  [[nodiscard]] static constexpr Fixed from_raw(rep raw) noexcept { return Fixed(raw); }
  // Whole units (e.g. 5 -> 5.0); the caller guarantees |units| < max / kScale.
  [[nodiscard]] static constexpr Fixed from_units(std::int64_t units) noexcept { return Fixed(units * kScale); }
  [[nodiscard]] constexpr rep raw() const noexcept { return raw_; }
  [[nodiscard]] constexpr bool is_zero() const noexcept { return raw_ == 0; }
  [[nodiscard]] static constexpr Fixed max() noexcept { return Fixed(INT64_MAX); }
  [[nodiscard]] static constexpr Fixed min() noexcept { return Fixed(INT64_MIN + 1); }

  // Exact parse of a venue decimal string: optional '-', digits, optional '.' followed by digits.
  // Rejects (with a reason) empty input, exponents, NaN/Inf, signs other than one leading '-', several
  // dots, overflow, and non-zero digits beyond `Digits`. Trailing zeros beyond the scale are accepted.
  [[nodiscard]] static Result<Fixed> parse(std::string_view s) noexcept;
  // The same result as parse() for every input, faster for the usual venue string (no sign, at most 16
  // characters: one SIMD pass instead of a loop per digit). Reads 16 bytes at s.data() whatever s.size():
  // for decoders reading from simdjson's padded input only. Always inlined: a call per price and size was a
  // fifth of a Binance bookTicker's decode, and inlined its 16-byte load can share the string scan's.
  [[nodiscard, gnu::always_inline]] static Result<Fixed> parse_padded(std::string_view s) noexcept;

  // Writes the shortest exact decimal text (trailing fractional zeros trimmed, but at least
  // `min_frac_digits` of them) into `buf` (>= kMaxChars bytes); returns the number of chars written.
  std::size_t format(char* buf, int min_frac_digits = 0) const noexcept;
  [[nodiscard]] std::string to_string(int min_frac_digits = 0) const;

  // Off-hot-path conversions at the indicator boundary (DESIGN.md: indicators may compute in double).
  [[nodiscard]] constexpr double to_double() const noexcept {
    return static_cast<double>(raw_) / static_cast<double>(kScale);
  }
  // Rounds to this type's resolution; fails on NaN, infinity and overflow.
  [[nodiscard]] static Result<Fixed> from_double(double v, Rounding mode = Rounding::nearest) noexcept;

  // Rounds to a multiple of `increment` (an instrument's tick or lot); `increment` must be > 0.
  [[nodiscard]] constexpr Fixed round_to(Fixed increment, Rounding mode) const noexcept {
    const rep inc = increment.raw_;
    ENIGMA_DEV_CHECK(inc > 0);
    rep q = raw_ / inc;
    const rep r = raw_ % inc;
    if (r != 0) {
      switch (mode) {
        case Rounding::down: if (r < 0) --q; break;
        case Rounding::up: if (r > 0) ++q; break;
        case Rounding::toward_zero: break;
        case Rounding::nearest: {
          const rep twice = (r < 0 ? -r : r) * 2;
          if (twice >= inc) q += (r < 0 ? -1 : 1);
          break;
        }
      }
    }
    return Fixed(q * inc);
  }
  [[nodiscard]] constexpr bool is_multiple_of(Fixed increment) const noexcept {
    return increment.raw_ > 0 && raw_ % increment.raw_ == 0;
  }

  constexpr auto operator<=>(const Fixed&) const noexcept = default;
  constexpr Fixed operator+(Fixed o) const noexcept { return Fixed(raw_ + o.raw_); }
  constexpr Fixed operator-(Fixed o) const noexcept { return Fixed(raw_ - o.raw_); }
  constexpr Fixed operator-() const noexcept { return Fixed(-raw_); }
  constexpr Fixed& operator+=(Fixed o) noexcept { raw_ += o.raw_; return *this; }
  constexpr Fixed& operator-=(Fixed o) noexcept { raw_ -= o.raw_; return *this; }
  constexpr Fixed operator*(std::int64_t k) const noexcept { return Fixed(raw_ * k); }
  [[nodiscard]] constexpr Fixed abs() const noexcept { return Fixed(raw_ < 0 ? -raw_ : raw_); }

 private:
  constexpr explicit Fixed(rep raw) noexcept : raw_(raw) {}
  rep raw_{0};
};

struct PriceTag;
struct QtyTag;
struct NotionalTag;
struct RateTag;
using Price = Fixed<PriceTag, 10>;
using Qty = Fixed<QtyTag, 10>;
using Notional = Fixed<NotionalTag, 8>;
using Rate = Fixed<RateTag, 10>;  // funding rates, fees, ratios (0.0001 = 1 bp)

// price * qty (* multiplier) as a Notional, computed in 128 bits and rounded to Notional's resolution.
// Fails with Errc::overflow when the result does not fit.
[[nodiscard]] Result<Notional> notional_of(Price p, Qty q, Rounding mode = Rounding::nearest) noexcept;
[[nodiscard]] Result<Notional> notional_of(Price p, Qty q, Qty multiplier, Rounding mode = Rounding::nearest) noexcept;

// Integer division of a 128-bit value with explicit rounding (shared by the products above).
[[nodiscard]] constexpr int128 div_round(int128 num, int128 den, Rounding mode) noexcept {
  int128 q = num / den;
  const int128 r = num % den;
  if (r == 0) return q;
  const bool neg = (r < 0) != (den < 0);
  switch (mode) {
    case Rounding::down: if (neg) --q; break;
    case Rounding::up: if (!neg) ++q; break;
    case Rounding::toward_zero: break;
    case Rounding::nearest: {
      const int128 ar = r < 0 ? -r : r;
      const int128 ad = den < 0 ? -den : den;
      if (ar * 2 >= ad) q += neg ? -1 : 1;
      break;
    }
  }
  return q;
}


// Inline so decoders get it folded into their field loops (the <= 10 ns/price budget).
template <class Tag, int Digits>
inline Result<Fixed<Tag, Digits>> Fixed<Tag, Digits>::parse(std::string_view s) noexcept {
  const char* p = s.data();
  const char* const end = p + s.size();
  if (p == end) [[unlikely]] return Result<Fixed>::failure(Errc::empty);
  bool neg = false;
  if (*p == '-') {
    neg = true;
    ++p;
  }
  // Integer part: at least one digit. 19 decimal digits always fit in uint64; more is overflow.
  const char* const int_begin = p;
  // Leading zeros carry no magnitude: skip them so they do not count toward the 19-digit limit.
  while (p != end && *p == '0') ++p;
  const char* const sig_begin = p;
  std::uint64_t ip = 0;
  while (p != end && static_cast<unsigned>(*p - '0') < 10u) {
    if (p - sig_begin >= 19) [[unlikely]] return Result<Fixed>::failure(Errc::overflow);
    ip = ip * 10 + static_cast<unsigned>(*p - '0');
    ++p;
  }
  if (p == int_begin) [[unlikely]] {
    return Result<Fixed>::failure(p == end || *p == '-' || *p == '.' ? Errc::bad_format : Errc::invalid_char);
  }
  std::uint64_t frac = 0;
  int nfrac = 0;
  if (p != end && *p == '.') {
    ++p;
    const char* const frac_begin = p;
    while (p != end && static_cast<unsigned>(*p - '0') < 10u) {
      if (nfrac < Digits) {
        frac = frac * 10 + static_cast<unsigned>(*p - '0');
        ++nfrac;
      } else if (*p != '0') [[unlikely]] {
        return Result<Fixed>::failure(Errc::too_many_digits);
      }
      ++p;
    }
    if (p == frac_begin) [[unlikely]] return Result<Fixed>::failure(Errc::bad_format);
  }
  if (p != end) [[unlikely]] {
    const char c = *p;
    return Result<Fixed>::failure(c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+' ? Errc::bad_format
                                                                                            : Errc::invalid_char);
  }
  constexpr std::uint64_t kMaxInt = static_cast<std::uint64_t>(INT64_MAX) / static_cast<std::uint64_t>(kScale);
  if (ip > kMaxInt) [[unlikely]] return Result<Fixed>::failure(Errc::overflow);
  // Scale the fraction up to Digits places; table lookup avoids a loop.
  static constexpr std::uint64_t kPow[19] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
                                             10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
                                             100000000000ULL, 1000000000000ULL, 10000000000000ULL,
                                             100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
                                             100000000000000000ULL, 1000000000000000000ULL};
  const std::uint64_t mag = ip * static_cast<std::uint64_t>(kScale) + frac * kPow[Digits - nfrac];
  if (mag > static_cast<std::uint64_t>(INT64_MAX)) [[unlikely]] return Result<Fixed>::failure(Errc::overflow);
  const rep v = static_cast<rep>(mag);
  return Result<Fixed>::success(Fixed(neg ? -v : v));
}

template <class Tag, int Digits>
inline Result<Fixed<Tag, Digits>> Fixed<Tag, Digits>::parse_padded(std::string_view s) noexcept {
#if defined(ENIGMA_PARSE_SIMD)
  const std::size_t len = s.size();
  if (len - 1 < 16) [[likely]] {  // 1..16 characters
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data()));
    const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m128i in_str = _mm_cmpgt_epi8(_mm_set1_epi8(static_cast<char>(len)), iota);
    const __m128i d = _mm_sub_epi8(raw, _mm_set1_epi8('0'));
    const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    const auto dots = static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(raw, _mm_set1_epi8('.')), in_str)));
    const auto digs = static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(is_digit, in_str)));
    const unsigned all = (1u << len) - 1;
    // Digits only, or digits around one dot that is neither first nor last (anything else: the exact
    // error comes from parse()).
    if ((digs | dots) == all && (dots & (dots - 1)) == 0 && (dots & 1u) == 0 && (dots >> (len - 1)) == 0) {
      const unsigned pos = dots ? static_cast<unsigned>(__builtin_ctz(dots)) : static_cast<unsigned>(len);
      const unsigned ndig = static_cast<unsigned>(len) - (dots ? 1u : 0u);
      const int nfrac = dots ? static_cast<int>(len - pos - 1) : 0;
      if (nfrac <= Digits) {
        // Right-align the digits in 16 lanes with the dot squeezed out: lane j takes digit k = j - (16 - ndig),
        // read from k (before the dot) or k + 1 (after it); k < 0 has its high bit set, which shuffles in 0.
        const __m128i k = _mm_sub_epi8(iota, _mm_set1_epi8(static_cast<char>(16 - ndig)));
        const __m128i after_dot = _mm_cmpgt_epi8(k, _mm_set1_epi8(static_cast<char>(pos - 1)));
        const __m128i digits = _mm_shuffle_epi8(d, _mm_sub_epi8(k, after_dot));
        const std::uint64_t v = detail::sixteen_digits(digits);
        std::uint64_t mag;
        if (!__builtin_mul_overflow(v, detail::kPow10[Digits - nfrac], &mag) &&
            mag <= static_cast<std::uint64_t>(INT64_MAX)) [[likely]]
          return Result<Fixed>::success(Fixed(static_cast<rep>(mag)));
      }
    }
  }
#endif
  return parse(s);
}

extern template class Fixed<PriceTag, 10>;
extern template class Fixed<NotionalTag, 8>;
extern template class Fixed<RateTag, 10>;
extern template class Fixed<QtyTag, 10>;

}  // namespace enigma
