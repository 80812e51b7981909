// Fixed-point parse/format/rounding/notional, checked against real venue strings (data/core) and an
// independent string-arithmetic reference parser written here.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/fixed_point.hpp"

using namespace enigma;

namespace {

std::vector<std::string> real_decimals() {
  std::ifstream in(std::string(ENIGMA_SOURCE_DIR) + "/data/core/decimal_strings.txt");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// Reference: validates the shape by hand and builds the scaled integer from the digit string.
std::optional<std::int64_t> reference_parse(const std::string& s, int digits) {
  std::size_t i = 0;
  bool neg = false;
  if (i < s.size() && s[i] == '-') {
    neg = true;
    ++i;
  }
  std::string ip, fp;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ip += s[i++];
  if (ip.empty()) return std::nullopt;
  if (i < s.size()) {
    if (s[i] != '.') return std::nullopt;
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) fp += s[i++];
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

// The shortest text for a decimal string: no leading integer zeros, no trailing fraction zeros.
std::string canonical(const std::string& s) {
  std::string t = s;
  bool neg = !t.empty() && t[0] == '-';
  if (neg) t.erase(0, 1);
  if (t.find('.') != std::string::npos) {
    while (t.back() == '0') t.pop_back();
    if (t.back() == '.') t.pop_back();
  }
  while (t.size() > 1 && t[0] == '0' && t[1] != '.') t.erase(0, 1);
  if (t == "0") neg = false;
  return (neg ? "-" : "") + t;
}

}  // namespace

TEST(FixedPoint, RealVenueStringsParseExactlyAndRoundTrip) {
  const auto strings = real_decimals();
  ASSERT_GT(strings.size(), 4000u) << "data/core/decimal_strings.txt missing or truncated";
  int accepted = 0, rejected = 0;
  for (const std::string& s : strings) {
    const auto ref = reference_parse(s, Price::kDigits);
    const auto got = Price::parse(s);
    ASSERT_EQ(got.ok(), ref.has_value()) << s;
    if (!ref) {
      // Only the few KuCoin sizes with 11+ significant fractional digits are expected here.
      EXPECT_EQ(got.error, Errc::too_many_digits) << s;
      ++rejected;
      continue;
    }
    ++accepted;
    EXPECT_EQ(got.value.raw(), *ref) << s;
    EXPECT_EQ(got.value.to_string(), canonical(s)) << s;
    const auto again = Price::parse(got.value.to_string());
    ASSERT_TRUE(again.ok()) << s;
    EXPECT_EQ(again.value, got.value) << s;
    const auto q = Qty::parse(s);
    ASSERT_TRUE(q.ok()) << s;
    EXPECT_EQ(q.value.raw(), *ref) << s;
  }
  EXPECT_GT(accepted, 4000);
  // 0.000094742616, 0.00019434546, 0.00038556424505, 0.00042624222239 (KuCoin spot sizes) and
  // 34.77822772578: more significant fractional digits than the 10-digit scale.
  EXPECT_EQ(rejected, 5);
}

TEST(FixedPoint, KnownValues) {
  EXPECT_EQ(Price::parse("60123.45").value.raw(), 601234500000000LL);
  EXPECT_EQ(Price::parse("0.0000001126").value.raw(), 1126);  // KuCoin spot's finest price
  EXPECT_EQ(Price::parse("-0.5").value.raw(), -5000000000LL);
  EXPECT_EQ(Price::parse("0").value.raw(), 0);
  EXPECT_EQ(Price::parse("-0").value.raw(), 0);
  EXPECT_EQ(Notional::parse("1.12345678").value.raw(), 112345678);
  EXPECT_EQ(Price::parse("922337203.6854775807").value.raw(), INT64_MAX);
  // Leading zeros do not count toward the integer-digit limit (found by fuzz_decimal).
  EXPECT_EQ(Price::parse("0000000000000000000040").value.raw(), 400000000000LL);
  EXPECT_EQ(Price::parse("-000.10").value.raw(), -1000000000LL);
}

TEST(FixedPoint, MalformedInputsAreRejectedWithReason) {
  struct Case {
    const char* text;
    Errc expected;
  };
  const Case cases[] = {
      {"", Errc::empty},
      {"1e5", Errc::bad_format},
      {"1E5", Errc::bad_format},
      {"NaN", Errc::invalid_char},
      {"nan", Errc::invalid_char},
      {"inf", Errc::invalid_char},
      {"--1", Errc::bad_format},
      {"-", Errc::bad_format},
      {"1.2.3", Errc::bad_format},
      {"+1", Errc::invalid_char},
      {".5", Errc::bad_format},
      {"1.", Errc::bad_format},
      {".", Errc::bad_format},
      {"1-", Errc::bad_format},
      {" 1", Errc::invalid_char},
      {"1 ", Errc::invalid_char},
      {"1,5", Errc::invalid_char},
      {"0x10", Errc::invalid_char},
      {"922337203.6854775808", Errc::overflow},  // INT64_MAX + 1 raw
      {"922337204", Errc::overflow},
      {"99999999999999999999", Errc::overflow},
      {"0.00000000001", Errc::too_many_digits},   // 11th digit non-zero
      {"1.12345678901", Errc::too_many_digits},
  };
  for (const auto& c : cases) {
    const auto r = Price::parse(c.text);
    EXPECT_FALSE(r.ok()) << '"' << c.text << '"';
    EXPECT_EQ(r.error, c.expected) << '"' << c.text << "\" gave " << to_string(r.error);
    EXPECT_EQ(r.value.raw(), 0) << "a failed parse must not carry a number";
  }
  EXPECT_EQ(Notional::parse("0.000000001").error, Errc::too_many_digits);  // 9 digits for an 8-digit type
  EXPECT_EQ(Notional::parse("92233720368.54775808").error, Errc::overflow);
}

TEST(FixedPoint, TrailingZerosBeyondScaleAreAccepted) {
  const auto r = Price::parse("1.50000000000000000000");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value.raw(), 15000000000LL);
  EXPECT_EQ(Notional::parse("2.1000000000").value.raw(), 210000000);
}

TEST(FixedPoint, FormatKeepsMinimumFractionDigits) {
  EXPECT_EQ(Price::parse("60000").value.to_string(), "60000");
  EXPECT_EQ(Price::parse("60000").value.to_string(2), "60000.00");
  EXPECT_EQ(Price::parse("-0.25").value.to_string(4), "-0.2500");
  EXPECT_EQ(Price::min().to_string(), "-922337203.6854775807");
  EXPECT_EQ(Price::from_raw(INT64_MIN).to_string(), "-922337203.6854775808");
}

struct RoundCase {
  const char* value;
  const char* tick;
  Rounding mode;
  const char* expected;
};

TEST(FixedPoint, RoundToTickEveryModeIncludingNegatives) {
  const RoundCase cases[] = {
      {"1.26", "0.5", Rounding::down, "1"},         {"1.26", "0.5", Rounding::up, "1.5"},
      {"1.26", "0.5", Rounding::toward_zero, "1"},  {"1.26", "0.5", Rounding::nearest, "1.5"},
      {"-1.26", "0.5", Rounding::down, "-1.5"},     {"-1.26", "0.5", Rounding::up, "-1"},
      {"-1.26", "0.5", Rounding::toward_zero, "-1"}, {"-1.26", "0.5", Rounding::nearest, "-1.5"},
      {"1.25", "0.5", Rounding::nearest, "1.5"},    {"-1.25", "0.5", Rounding::nearest, "-1.5"},  // half away from 0
      {"1.24", "0.5", Rounding::nearest, "1"},      {"-1.24", "0.5", Rounding::nearest, "-1"},
      {"1.5", "0.5", Rounding::down, "1.5"},        {"1.5", "0.5", Rounding::up, "1.5"},
      {"-1.5", "0.5", Rounding::down, "-1.5"},      {"-1.5", "0.5", Rounding::up, "-1.5"},
      // Real ticks: Binance BTCUSDT futures 0.1, KuCoin spot 0.0000001, OKX 0.01.
      {"60123.47", "0.1", Rounding::down, "60123.4"}, {"60123.47", "0.1", Rounding::up, "60123.5"},
      {"60123.45", "0.1", Rounding::nearest, "60123.5"}, {"0.0000001126", "0.0000001", Rounding::nearest, "0.0000001"},
      {"-0.00000015", "0.0000001", Rounding::toward_zero, "-0.0000001"},
      {"29999.995", "0.01", Rounding::nearest, "30000"}, {"29999.995", "0.01", Rounding::down, "29999.99"},
  };
  for (const auto& c : cases) {
    const auto v = Price::parse(c.value);
    const auto t = Price::parse(c.tick);
    ASSERT_TRUE(v.ok() && t.ok()) << c.value;
    EXPECT_EQ(v.value.round_to(t.value, c.mode).to_string(), c.expected)
        << c.value << " to " << c.tick << " mode " << static_cast<int>(c.mode);
  }
  // Lots (Qty) round the same way: KuCoin XBTUSDTM lot 1, Binance 0.001.
  EXPECT_EQ(Qty::parse("0.0019").value.round_to(Qty::parse("0.001").value, Rounding::down).to_string(), "0.001");
  EXPECT_EQ(Qty::parse("-2.5").value.round_to(Qty::from_units(1), Rounding::nearest).to_string(), "-3");
  EXPECT_TRUE(Price::parse("60123.4").value.is_multiple_of(Price::parse("0.1").value));
  EXPECT_FALSE(Price::parse("60123.45").value.is_multiple_of(Price::parse("0.1").value));
}

TEST(FixedPoint, NotionalUses128BitIntermediates) {
  // 60123.45 * 0.001 = 60.12345 (the raw product 6.01e14 * 1e7 already overflows 64 bits).
  auto n = notional_of(Price::parse("60123.45").value, Qty::parse("0.001").value);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value.to_string(), "60.12345");
  // KuCoin XBTUSDTM: 5 lots * multiplier 0.001 BTC * 60123.4 = 300.617.
  n = notional_of(Price::parse("60123.4").value, Qty::from_units(5), Qty::parse("0.001").value);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value.to_string(), "300.617");
  // Big but valid: 900,000,000 * 100 = 9e10 (< 9.22e10 Notional max).
  n = notional_of(Price::from_units(900'000'000), Qty::from_units(100));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value.to_string(), "90000000000");
  // Rounding to Notional's 8 decimals: 0.0000001126 * 0.5 = 0.0000000563.
  const Price tiny = Price::parse("0.0000001126").value;
  const Qty half = Qty::parse("0.5").value;
  EXPECT_EQ(notional_of(tiny, half, Rounding::nearest).value.to_string(), "0.00000006");
  EXPECT_EQ(notional_of(tiny, half, Rounding::down).value.to_string(), "0.00000005");
  EXPECT_EQ(notional_of(tiny, half, Rounding::up).value.to_string(), "0.00000006");
  EXPECT_EQ(notional_of(-tiny, half, Rounding::down).value.to_string(), "-0.00000006");
  EXPECT_EQ(notional_of(-tiny, half, Rounding::toward_zero).value.to_string(), "-0.00000005");
  // Overflow is an error, not a wrapped number.
  EXPECT_EQ(notional_of(Price::from_units(900'000'000), Qty::from_units(900'000'000)).error, Errc::overflow);
  EXPECT_EQ(notional_of(Price::max(), Qty::max(), Qty::max()).error, Errc::overflow);
  EXPECT_EQ(notional_of(Price::from_units(900'000'000), Qty::from_units(1000), Qty::from_units(1000)).error,
            Errc::overflow);
}

TEST(FixedPoint, FromDoubleRoundsAndRejectsNonFinite) {
  EXPECT_EQ(Price::from_double(0.1).value.to_string(), "0.1");
  EXPECT_EQ(Price::from_double(-1.23456789016, Rounding::down).value.to_string(), "-1.2345678902");
  EXPECT_EQ(Price::from_double(std::numeric_limits<double>::quiet_NaN()).error, Errc::out_of_range);
  EXPECT_EQ(Price::from_double(std::numeric_limits<double>::infinity()).error, Errc::out_of_range);
  EXPECT_EQ(Price::from_double(1e12).error, Errc::overflow);
  EXPECT_DOUBLE_EQ(Price::parse("60123.45").value.to_double(), 60123.45);
}

// parse_padded is a fast path of parse: same value and same error for every input, including the ones it
// hands back to parse (signs, 17+ characters, several dots, too many fractional digits, overflow).
namespace {
template <class F>
void expect_padded_matches(std::string_view text) {
  char buf[64] = {};
  std::memset(buf, 'x', sizeof buf);  // garbage after the text: the SIMD load must ignore it
  std::memcpy(buf, text.data(), text.size());
  const auto want = F::parse(text);
  const auto got = F::parse_padded(std::string_view(buf, text.size()));
  ASSERT_EQ(got.error, want.error) << "'" << text << "'";
  ASSERT_EQ(got.value.raw(), want.value.raw()) << "'" << text << "'";
}
}  // namespace

TEST(FixedPointParsePadded, MatchesParseOnVenueStringsAndEdges) {
  for (const char* t : {"61234.50", "0.012", "3.215", "0", "7", "000123.4500", "1234567890123456", "12345678.12345678",
                        "922337203.6854775807", "922337203.6854775808", "999999999.9", "1.", ".5", "-1.5", "1..2",
                        "1.2.3", "12a4", "", "0.00000000001", "0.00000000000", "1e5", "+1", " 1", "99999999999999999"}) {
    expect_padded_matches<enigma::Price>(t);
    expect_padded_matches<enigma::Qty>(t);
    expect_padded_matches<enigma::Notional>(t);
  }
}

TEST(FixedPointParsePadded, MatchesParseOnRandomStrings) {
  std::mt19937_64 rng(42);
  const char alphabet[] = "0123456789012345678901234567890123456789..-e";
  for (int i = 0; i < 200'000; ++i) {
    std::string s(rng() % 20, '0');
    for (char& c : s) c = alphabet[rng() % (sizeof alphabet - 1)];
    expect_padded_matches<enigma::Price>(s);
    expect_padded_matches<enigma::Notional>(s);
  }
}
