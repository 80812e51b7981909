#include "strategy/csv.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <streambuf>

#include "core/error.hpp"

namespace enigma::strategy {
namespace {

// std::streambuf over a zlib gzFile. gzread passes non-gzip content through unchanged, so one class
// serves both kinds of file.
class GzStreamBuf final : public std::streambuf {
 public:
  explicit GzStreamBuf(gzFile file) : file_(file) { gzbuffer(file_, 1 << 17); }
  ~GzStreamBuf() override { gzclose(file_); }
  GzStreamBuf(const GzStreamBuf&) = delete;
  GzStreamBuf& operator=(const GzStreamBuf&) = delete;

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    const int n = gzread(file_, buffer_.data(), static_cast<unsigned>(buffer_.size()));
    if (n < 0) {
      // The istream turns this into badbit; readers check bad() to tell corruption from the end.
      int code = 0;
      throw Error(std::string("gzip read failed: ") + gzerror(file_, &code));
    }
    if (n == 0) {
      // zlib reports a truncated gzip stream as a soft Z_BUF_ERROR with a 0-byte read (so growing files
      // can be tailed); for a finished file that is corruption, not the end.
      int code = Z_OK;
      const char* message = gzerror(file_, &code);
      if (code != Z_OK) throw Error(std::string("gzip read failed: ") + message);
      return traits_type::eof();
    }
    setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  gzFile file_;
  std::array<char, 1 << 16> buffer_{};
};

class GzIStream final : public std::istream {
 public:
  explicit GzIStream(gzFile file) : std::istream(nullptr), buf_(file) { rdbuf(&buf_); }

 private:
  GzStreamBuf buf_;
};

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Drops surrounding blanks and one pair of surrounding double quotes (spreadsheet exports quote fields).
std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

bool is_time_column(std::string_view name) noexcept {
  for (const std::string_view alias : {"time", "timestamp_s", "datetime", "timestamp", "date"}) {
    if (iequals(name, alias)) return true;
  }
  return false;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// Parses exactly `width` digits at `pos`; false if any is not a digit.
bool digits(std::string_view s, std::size_t pos, std::size_t width, unsigned& out) noexcept {
  if (pos + width > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

// "YYYY-MM-DD[( |T)HH:MM[:SS[.fraction]]][Z]" as UTC ns since the epoch; false if malformed.
bool parse_iso_datetime(std::string_view s, std::int64_t& ns) noexcept {
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || month < 1 || month > 12 || day < 1 || day > 31) {
    return false;
  }
  std::size_t pos = 10;
  std::int64_t fraction_ns = 0;
  if (pos < s.size() && (s[pos] == ' ' || s[pos] == 'T')) {
    if (!digits(s, pos + 1, 2, hour) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, minute) ||
        hour > 23 || minute > 59) {
      return false;
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!digits(s, pos + 1, 2, second) || second > 60) return false;
      pos += 3;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::int64_t scale = 100'000'000;
        const std::size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          fraction_ns += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start) return false;
      }
    }
  }
  if (pos < s.size() && s[pos] == 'Z') ++pos;
  if (pos != s.size()) return false;
  const std::int64_t seconds = days_from_civil(year, month, day) * 86'400 + hour * 3'600 + minute * 60 + second;
  // int64 ns since the epoch span the years 1677..2262: outside that a datetime is refused, never wrapped
  // (a year-3485 row found by fuzz_indicators_csv overflowed here).
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1'000'000'000 - 1;
  if (seconds > kMaxSeconds || seconds < -kMaxSeconds) return false;
  ns = seconds * 1'000'000'000 + fraction_ns;
  return true;
}

constexpr std::array<std::string_view, 5> kPriceColumns{"open", "high", "low", "close", "volume"};

}  // namespace

std::unique_ptr<std::istream> open_maybe_gzip(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw Error("cannot open '" + path + "' for reading");
  return std::make_unique<GzIStream>(file);
}

void split_csv_line(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return;
    }
    fields.push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
}

OhlcvCsvReader::OhlcvCsvReader(std::istream& in, std::string source) : in_(in), source_(std::move(source)) {
  if (!std::getline(in_, line_)) {
    if (in_.bad()) fail("read error");
    fail("empty input: expected a header row");
  }
  line_number_ = 1;
  if (line_.rfind("\xEF\xBB\xBF", 0) == 0) line_.erase(0, 3);  // UTF-8 byte-order mark
  split_csv_line(line_, fields_);
  header_columns_ = fields_.size();
  constexpr std::size_t kMissing = ~std::size_t{0};
  std::fill(std::begin(column_), std::end(column_), kMissing);
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const std::string_view name = trim(fields_[i]);
    std::size_t slot = kMissing;
    if (is_time_column(name)) {
      slot = 0;
    } else {
      for (std::size_t c = 0; c < kPriceColumns.size(); ++c) {
        if (iequals(name, kPriceColumns[c])) slot = c + 1;
      }
    }
    if (slot == kMissing) continue;
    if (column_[slot] != kMissing) fail("duplicate column '" + std::string(name) + "' in the header");
    column_[slot] = i;
  }
  for (std::size_t slot = 0; slot < 6; ++slot) {
    if (column_[slot] == kMissing) {
      fail(slot == 0 ? std::string("header has no time column (time, timestamp_s or datetime)")
                     : "header has no '" + std::string(kPriceColumns[slot - 1]) + "' column");
    }
    matched_names_.emplace_back(trim(fields_[column_[slot]]));
  }
  matched_fields_.resize(6);
}

bool OhlcvCsvReader::next(Bar& bar) {
  while (std::getline(in_, line_)) {
    ++line_number_;
    split_csv_line(line_, fields_);
    if (fields_.size() == 1 && trim(fields_[0]).empty()) continue;  // blank line
    if (fields_.size() != header_columns_) {
      fail("expected " + std::to_string(header_columns_) + " fields as in the header, got " +
           std::to_string(fields_.size()));
    }
    for (std::size_t slot = 0; slot < 6; ++slot) matched_fields_[slot] = trim(fields_[column_[slot]]);
    bar.time_ns = parse_time(matched_fields_[0]);
    bar.open = parse_number(matched_fields_[1], 1);
    bar.high = parse_number(matched_fields_[2], 2);
    bar.low = parse_number(matched_fields_[3], 3);
    bar.close = parse_number(matched_fields_[4], 4);
    bar.volume = parse_number(matched_fields_[5], 5);
    check_row(bar);
    return true;
  }
  if (in_.bad()) fail("read error (corrupt or truncated file?)");
  return false;
}

// A bar the indicators cannot use is refused rather than computed: one absurd row would otherwise spread
// inf/NaN through every later value of every rolling indicator, and unsorted rows make the series wrong.
void OhlcvCsvReader::check_row(const Bar& bar) {
  const double values[5] = {bar.open, bar.high, bar.low, bar.close, bar.volume};
  for (std::size_t slot = 1; slot <= 5; ++slot) {
    const double v = values[slot - 1];
    const bool is_volume = slot == 5;
    if (is_volume ? v < 0 : v <= 0)
      fail("column '" + matched_names_[slot] + "': '" + std::string(matched_fields_[slot]) + "' must be " +
           (is_volume ? "zero or positive" : "positive"));
    if (v > kMaxOhlcvValue)
      fail("column '" + matched_names_[slot] + "': '" + std::string(matched_fields_[slot]) +
           "' is above 1e15, the largest value accepted (sums and squares of it must stay finite)");
  }
  if (bar.high < bar.low)
    fail("column '" + matched_names_[2] + "': high " + std::string(matched_fields_[2]) + " is below low " +
         std::string(matched_fields_[3]));
  for (const std::size_t slot : {std::size_t{1}, std::size_t{4}}) {  // open, close
    const double v = values[slot - 1];
    if (v > bar.high || v < bar.low)
      fail("column '" + matched_names_[slot] + "': " + std::string(matched_fields_[slot]) + " is outside the bar's range [low " +
           std::string(matched_fields_[3]) + ", high " + std::string(matched_fields_[2]) + "]");
  }
  if (rows_ > 0 && bar.time_ns <= previous_time_ns_)
    fail("column '" + matched_names_[0] + "': '" + std::string(matched_fields_[0]) + "' is " +
         (bar.time_ns == previous_time_ns_ ? "a duplicate of" : "before") + " the previous row's '" + previous_time_text_ +
         "' (rows must be in ascending time order, one per time)");
  previous_time_ns_ = bar.time_ns;
  previous_time_text_.assign(matched_fields_[0]);
  ++rows_;
}

void OhlcvCsvReader::fail(const std::string& what) const {
  throw Error(source_ + ":" + std::to_string(line_number_) + ": " + what);
}

double OhlcvCsvReader::parse_number(std::string_view text, std::size_t slot) const {
  double value = 0.0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) {
    fail("column '" + matched_names_[slot] + "': '" + std::string(text) + "' is not a finite number");
  }
  return value;
}

std::int64_t OhlcvCsvReader::parse_time(std::string_view text) const {
  double value = 0.0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (!text.empty() && ec == std::errc() && ptr == end && std::isfinite(value)) {
    // Epoch number: the magnitude tells the unit (1e11 s is the year 5138, 1e11 ms is 1973).
    const double magnitude = std::fabs(value);
    double ns = value * 1e9;
    if (magnitude >= 1e17) {
      ns = value;
    } else if (magnitude >= 1e14) {
      ns = value * 1e3;
    } else if (magnitude >= 1e11) {
      ns = value * 1e6;
    }
    if (std::fabs(ns) < 9.2e18) return static_cast<std::int64_t>(std::llround(ns));
  }
  std::int64_t ns = 0;
  if (parse_iso_datetime(text, ns)) return ns;
  fail("column '" + matched_names_[0] + "': '" + std::string(text) +
       "' is neither an epoch number nor an ISO-8601 datetime");
}

std::vector<Bar> read_ohlcv_file(const std::string& path) {
  const auto in = open_maybe_gzip(path);
  OhlcvCsvReader reader(*in, path);
  std::vector<Bar> bars;
  Bar bar{};
  while (reader.next(bar)) bars.push_back(bar);
  return bars;
}

}  // namespace enigma::strategy
