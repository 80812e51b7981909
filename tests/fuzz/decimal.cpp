// Fuzz Price/Notional::parse against a slow, obviously-correct reference, parse_padded against parse;
// check format round trips.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/fixed_point.hpp"

namespace {

// Reference: shape check by hand, digits accumulated in 128 bits, trailing zeros beyond the scale ignored.
std::optional<std::int64_t> reference(std::string_view s, int digits) {
  std::size_t i = 0;
  const bool neg = i < s.size() && s[i] == '-';
  if (neg) ++i;
  std::string ip, fp;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ip += s[i++];
  if (ip.empty()) return std::nullopt;
  if (i < s.size()) {
    if (s[i] != '.') return std::nullopt;
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') fp += s[i++];
    if (fp.empty() || i != s.size()) return std::nullopt;
  }
  while (!fp.empty() && fp.back() == '0') fp.pop_back();
  if (static_cast<int>(fp.size()) > digits) return std::nullopt;
  fp.append(static_cast<std::size_t>(digits) - fp.size(), '0');
  enigma::int128 v = 0;
  for (char c : ip + fp) {
    v = v * 10 + (c - '0');
    if (v > INT64_MAX) return std::nullopt;
  }
  return neg ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
}

template <class F>
void check(std::string_view s) {
  const auto got = F::parse(s);
  const auto ref = reference(s, F::kDigits);
  if (got.ok() != ref.has_value()) std::abort();
  // The decoders' SIMD path must agree exactly (value and error), with junk after the text.
  std::string padded(s);
  padded.append(16, '7');
  const auto fast = F::parse_padded(std::string_view(padded.data(), s.size()));
  if (fast.error != got.error || fast.value.raw() != got.value.raw()) std::abort();
  if (!got.ok()) {
    if (got.value.raw() != 0) std::abort();  // a failure never carries a number
    return;
  }
  if (got.value.raw() != *ref) std::abort();
  char buf[F::kMaxChars];
  const std::size_t n = got.value.format(buf);
  const auto back = F::parse(std::string_view(buf, n));
  if (!back.ok() || back.value != got.value) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  check<enigma::Price>(s);
  check<enigma::Notional>(s);
  return 0;
}
