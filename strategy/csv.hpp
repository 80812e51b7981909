// Cold-path CSV input for candles: gzip-transparent file opening and an OHLCV reader. Used by the
// `enigma indicators` command, tests and benchmarks; never on the hot path (allocates, throws).
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "strategy/indicators.hpp"

namespace enigma::strategy {

// Opens `path` for reading; gzip content is decompressed on the fly (detected from the bytes, so any name
// works), anything else is read as is. Throws enigma::Error naming the path when it cannot be opened.
// A read failure later (corrupt or truncated gzip) sets the stream's badbit.
[[nodiscard]] std::unique_ptr<std::istream> open_maybe_gzip(const std::string& path);

// Splits one CSV line on commas into `fields` (views into `line`; a trailing '\r' is dropped).
// Plain CSV only: no quoting, which OHLCV files never need.
void split_csv_line(std::string_view line, std::vector<std::string_view>& fields);

// Reads an OHLCV CSV with a header row. Columns are matched by name, case-insensitively: a time column
// named `time`, `timestamp_s` or `datetime` (also `timestamp`, `date`), then `open`, `high`, `low`, `close`,
// `volume`, in any order; other columns are ignored. A UTF-8 byte-order mark and double quotes around a
// field are tolerated. Times may be Unix epoch numbers (seconds; values above 1e11, 1e14, 1e17 are
// read as ms, us, ns), bar numbers (read as seconds) or ISO-8601 UTC datetimes ("2024-01-02 03:04:05",
// 'T' separator, optional fraction and 'Z'). Every error throws enigma::Error as
// "<source>:<line>: <what>". Rows are refused (naming the column) when a price is not positive, the volume
// is negative, any value is above 1e15, high < low, open or close lies outside [low, high], or the time is
// not after the previous row's (unsorted or duplicate).
class OhlcvCsvReader {
 public:
  // Reads and checks the header. `source` names the input in error messages.
  OhlcvCsvReader(std::istream& in, std::string source);

  // Reads the next data row into `bar`; false at the end of the input. Blank lines are skipped.
  bool next(Bar& bar);

  // Header names of the six matched columns, in the order time, open, high, low, close, volume, spelled as
  // in the file.
  [[nodiscard]] const std::vector<std::string>& matched_names() const noexcept { return matched_names_; }
  // Raw text of the six matched fields of the row last returned by next() (same order as matched_names).
  [[nodiscard]] const std::vector<std::string_view>& matched_fields() const noexcept { return matched_fields_; }
  [[nodiscard]] std::size_t line_number() const noexcept { return line_number_; }

 private:
  static constexpr double kMaxOhlcvValue = 1e15;

  [[noreturn]] void fail(const std::string& what) const;
  void check_row(const Bar& bar);
  double parse_number(std::string_view text, std::size_t column) const;
  std::int64_t parse_time(std::string_view text) const;

  std::istream& in_;
  std::string source_;
  std::string line_;
  std::vector<std::string_view> fields_;
  std::vector<std::string> matched_names_;
  std::vector<std::string_view> matched_fields_;
  std::size_t column_[6] = {};  // input column index of time, open, high, low, close, volume
  std::size_t header_columns_ = 0;
  std::size_t line_number_ = 0;
  std::size_t rows_ = 0;
  std::int64_t previous_time_ns_ = 0;
  std::string previous_time_text_;
};

// Reads a whole OHLCV file (gzip or plain) into memory. Throws enigma::Error as OhlcvCsvReader does.
[[nodiscard]] std::vector<Bar> read_ohlcv_file(const std::string& path);

}  // namespace enigma::strategy
