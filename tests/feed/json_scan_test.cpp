// The scanner's pieces on hand-made inputs: what each accepts, what it refuses, and that nothing is read as
// part of a value past the end it is given (the bytes after it are digits and quotes here).
#include "feed/venues/json_scan.hpp"

#include <gtest/gtest.h>

#include <string>

namespace enigma::feed::json::scan {
namespace {

// `text` followed by 64 bytes that would extend a number or close a string if read.
struct Input {
  explicit Input(std::string text) : size(text.size()), buf(std::move(text)) { buf.append("1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\"1\""); }
  const char* begin() const { return buf.data(); }
  const char* end() const { return buf.data() + size; }
  std::size_t size;
  std::string buf;
};

TEST(JsonScan, UnsignedIntegers) {
  auto read = [](const std::string& s, std::uint64_t& v) {
    const Input in(s);
    const char* p = in.begin();
    const bool ok = u64(p, in.end(), v);
    return ok ? static_cast<int>(p - in.begin()) : -1;  // characters consumed
  };
  std::uint64_t v = 0;
  EXPECT_EQ(read("0,", v), 1);
  EXPECT_EQ(v, 0u);
  EXPECT_EQ(read("1723161256299}", v), 13);
  EXPECT_EQ(v, 1723161256299u);
  EXPECT_EQ(read("1234567890123456,", v), 16);  // the widest the SIMD read takes
  EXPECT_EQ(v, 1234567890123456u);
  EXPECT_EQ(read("9999999999999999999,", v), 19);  // 19 digits: the serial read
  EXPECT_EQ(v, 9999999999999999999u);
  EXPECT_EQ(read("12345678901234567890,", v), -1);  // 20 digits: simdjson's to judge
  EXPECT_EQ(read("01,", v), -1);                    // leading zero
  EXPECT_EQ(read("1.5,", v), -1);                   // not an integer
  EXPECT_EQ(read("1e3,", v), -1);
  EXPECT_EQ(read("-1,", v), -1);
  EXPECT_EQ(read("12 ,", v), -1);  // whitespace is outside the subset
  EXPECT_EQ(read("12", v), -1);    // the frame ends inside the number (the padding's digits do not count)
  EXPECT_EQ(read("12]", v), -1);   // an integer ends a member here
}

TEST(JsonScan, StringsAndKeys) {
  auto read = [](const std::string& s, std::string& out) {  // a copy: the text lies in the input
    const Input in(s);
    const char* p = in.begin();
    std::string_view text;
    const bool ok = string(p, in.end(), text);
    out = std::string(text);
    return ok ? static_cast<int>(p - in.begin()) : -1;
  };
  std::string t;
  EXPECT_EQ(read(R"("BTCUSDT",)", t), 9);
  EXPECT_EQ(t, "BTCUSDT");
  EXPECT_EQ(read(R"("",)", t), 2);
  EXPECT_EQ(t, "");
  EXPECT_EQ(read(R"("btcusdt@depth@0ms_and_more_than_32_bytes_long",)", t), 47);  // several 16-byte steps
  EXPECT_EQ(t.size(), 45u);
  EXPECT_EQ(read(R"("a\"b",)", t), -1);         // escapes are simdjson's
  EXPECT_EQ(read("\"caf\xc3\xa9\",", t), -1);  // non-ASCII (UTF-8 is validated by simdjson)
  EXPECT_EQ(read("\"a\tb\",", t), -1);          // a control character
  EXPECT_EQ(read(R"("unterminated)", t), -1);   // its quote would be in the padding
  EXPECT_EQ(read("x", t), -1);

  const Input k1(R"("E":1)");
  const char* p = k1.begin();
  std::string_view k;
  ASSERT_TRUE(key(p, k1.end(), k));
  EXPECT_EQ(k, "E");
  EXPECT_EQ(*p, '1');
  const Input k2(R"("lastUpdateId":1)");
  p = k2.begin();
  ASSERT_TRUE(key(p, k2.end(), k));
  EXPECT_EQ(k, "lastUpdateId");
  const Input k3(R"("E" :1)");
  p = k3.begin();
  EXPECT_FALSE(key(p, k3.end(), k));
  const Input k4(R"("\":1)");  // one escaped character: not the one-letter form
  p = k4.begin();
  EXPECT_FALSE(key(p, k4.end(), k));
}

// KuCoin's sequences come as digit strings ("1613277183874"): the text alone is read, whatever follows it.
TEST(JsonScan, DigitText) {
  auto read = [](const std::string& s, std::uint64_t& v) {
    const Input in(s);
    return digit_text(std::string_view(in.begin(), in.size), v);
  };
  std::uint64_t v = 7;
  EXPECT_TRUE(read("0", v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(read("1613277183874", v));
  EXPECT_EQ(v, 1613277183874u);
  EXPECT_TRUE(read("0012", v));  // leading zeros, as the simdjson path's digit strings allow
  EXPECT_EQ(v, 12u);
  EXPECT_TRUE(read("1234567890123456", v));  // 16: the widest the SIMD read takes
  EXPECT_EQ(v, 1234567890123456u);
  EXPECT_TRUE(read("9999999999999999999", v));  // 19: the serial read
  EXPECT_EQ(v, 9999999999999999999u);
  v = 7;
  EXPECT_FALSE(read("", v));
  EXPECT_FALSE(read("12345678901234567890", v));  // 20 digits
  EXPECT_FALSE(read("12a4", v));
  EXPECT_FALSE(read("-1", v));
  EXPECT_FALSE(read("1.0", v));
  EXPECT_FALSE(read("12345678901234:6", v));  // a non-digit in the 16th place
  EXPECT_EQ(v, 7u);  // nothing written when refused
}

TEST(JsonScan, WholeKeys) {
  const Input in(R"("bestBidSize":"1","bestBid":"2")");
  const char* p = in.begin();
  EXPECT_FALSE(key_is(p, in.end(), R"("bestBid":)"));  // a longer key with the same start
  EXPECT_EQ(p, in.begin());
  EXPECT_TRUE(key_is(p, in.end(), R"("bestBidSize":)"));
  EXPECT_EQ(*p, '"');
  const std::string cut = R"("bestBid":)";  // the colon lies past the end given
  p = cut.data();
  EXPECT_FALSE(key_is(p, cut.data() + cut.size() - 1, R"("bestBid":)"));
  EXPECT_TRUE(key_is(p, cut.data() + cut.size(), R"("bestBid":)"));
}

TEST(JsonScan, SkippedScalars) {
  auto skip = [](const std::string& s) {
    const Input in(s);
    const char* p = in.begin();
    return skip_scalar(p, in.end()) ? static_cast<int>(p - in.begin()) : -1;
  };
  EXPECT_EQ(skip("true,"), 4);
  EXPECT_EQ(skip("false}"), 5);
  EXPECT_EQ(skip("null,"), 4);
  EXPECT_EQ(skip(R"("MARKET",)"), 8);
  EXPECT_EQ(skip("23961322,"), 8);
  EXPECT_EQ(skip("-0.5e-3,"), 7);
  EXPECT_EQ(skip("1E+9}"), 4);
  EXPECT_EQ(skip("-,"), -1);
  EXPECT_EQ(skip("1.,"), -1);
  EXPECT_EQ(skip("1e,"), -1);
  EXPECT_EQ(skip("nul"), -1);
  EXPECT_EQ(skip("[1],"), -1);  // arrays and objects are not scalars
  EXPECT_EQ(skip("{},"), -1);
  EXPECT_TRUE(only_space(" \n\r\t", std::string_view(" \n\r\t").data() + 4));
  const std::string tail = " x";
  EXPECT_FALSE(only_space(tail.data(), tail.data() + tail.size()));
}

}  // namespace
}  // namespace enigma::feed::json::scan
