#include "core/fixed_point.hpp"

#include <cmath>

namespace enigma {

template <class Tag, int Digits>
std::size_t Fixed<Tag, Digits>::format(char* buf, int min_frac_digits) const noexcept {
  char* out = buf;
  // Work in unsigned so INT64_MIN's magnitude is representable.
  std::uint64_t mag = raw_ < 0 ? static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(raw_)
                               : static_cast<std::uint64_t>(raw_);
  if (raw_ < 0) *out++ = '-';
  std::uint64_t ip = mag / static_cast<std::uint64_t>(kScale);
  std::uint64_t fp = mag % static_cast<std::uint64_t>(kScale);
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + ip % 10);
    ip /= 10;
  } while (ip != 0);
  while (n > 0) *out++ = tmp[--n];
  if constexpr (Digits > 0) {
    char frac[Digits];
    for (int i = Digits - 1; i >= 0; --i) {
      frac[i] = static_cast<char>('0' + fp % 10);
      fp /= 10;
    }
    int keep = Digits;
    while (keep > 0 && keep > min_frac_digits && frac[keep - 1] == '0') --keep;
    if (keep > 0) {
      *out++ = '.';
      for (int i = 0; i < keep; ++i) *out++ = frac[i];
    }
  }
  *out = '\0';
  return static_cast<std::size_t>(out - buf);
}

template <class Tag, int Digits>
std::string Fixed<Tag, Digits>::to_string(int min_frac_digits) const {
  char buf[kMaxChars];
  const std::size_t n = format(buf, min_frac_digits);
  return std::string(buf, n);
}

template <class Tag, int Digits>
Result<Fixed<Tag, Digits>> Fixed<Tag, Digits>::from_double(double v, Rounding mode) noexcept {
  if (!std::isfinite(v)) return Result<Fixed>::failure(Errc::out_of_range);
  const double scaled = v * static_cast<double>(kScale);
  double r = 0;
  switch (mode) {
    case Rounding::down: r = std::floor(scaled); break;
    case Rounding::up: r = std::ceil(scaled); break;
    case Rounding::toward_zero: r = std::trunc(scaled); break;
    case Rounding::nearest: r = std::round(scaled); break;
  }
  // 2^63 is exactly representable; anything at or beyond it does not fit.
  if (r >= 9223372036854775808.0 || r < -9223372036854775807.0) return Result<Fixed>::failure(Errc::overflow);
  return Result<Fixed>::success(Fixed(static_cast<rep>(r)));
}

template class Fixed<PriceTag, 10>;
template class Fixed<QtyTag, 10>;
template class Fixed<NotionalTag, 8>;
template class Fixed<RateTag, 10>;

namespace {
Result<Notional> narrow(int128 v) noexcept {
  if (v > INT64_MAX || v < -INT64_MAX) return Result<Notional>::failure(Errc::overflow);
  return Result<Notional>::success(Notional::from_raw(static_cast<std::int64_t>(v)));
}
// price raw (10 dp) * qty raw (10 dp) has 20 dp; Notional keeps 8, so divide by 10^12.
constexpr int128 kPqToNotional = static_cast<int128>(Price::kScale) * Qty::kScale / Notional::kScale;
}  // namespace

Result<Notional> notional_of(Price p, Qty q, Rounding mode) noexcept {
  const int128 prod = static_cast<int128>(p.raw()) * q.raw();
  return narrow(div_round(prod, kPqToNotional, mode));
}

Result<Notional> notional_of(Price p, Qty q, Qty multiplier, Rounding mode) noexcept {
  // Three 10-dp factors could overflow 128 bits, so reduce p*q to 10 dp first and check the product.
  const int128 pq = div_round(static_cast<int128>(p.raw()) * q.raw(), Qty::kScale, mode);
  const int128 m = multiplier.raw();
  constexpr int128 kMax128 = (static_cast<int128>(1) << 126);
  const int128 apq = pq < 0 ? -pq : pq;
  const int128 am = m < 0 ? -m : m;
  if (am != 0 && apq > kMax128 / am) return Result<Notional>::failure(Errc::overflow);
  return narrow(div_round(pq * m, kPqToNotional, mode));
}

}  // namespace enigma
