// Rows of the candle and funding CSVs `enigma backtest` reads (the files `enigma download` writes), parsed
// from one line's bytes with no I/O: the capture reader turns each row into synthetic frames
// (feed/capture_reader.cpp), and tests/fuzz/backtest_csv.cpp fuzzes these parsers and that reader.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/fixed_point.hpp"

namespace enigma::feed {

// Open times / funding times are refused outside [1970-01-01, kMaxCsvTimeMs]: every synthetic frame's
// receive time (ms * 10^6, plus up to kMaxCsvIntervalMs) must fit in 64-bit nanoseconds.
inline constexpr std::int64_t kMaxCsvIntervalMs = 366LL * 86'400'000;
inline constexpr std::int64_t kMaxCsvTimeMs = INT64_MAX / 1'000'000 - kMaxCsvIntervalMs;

// `datetime,open,high,low,close,volume` (datetime "YYYY-MM-DD HH:MM:SS" UTC, 'T' also accepted, optional
// "Z" or "+00:00").
struct CandleCsvRow {
  std::int64_t open_ms{0};
  Price open, high, low, close;  // positive, low <= open, close <= high
  Qty volume;                    // >= 0
  std::string_view volume_text;  // as written (a view into the line)
};
// `datetime,time_ms,funding_rate` (the datetime column is not read: time_ms is the funding time).
struct FundingCsvRow {
  std::int64_t time_ms{0};  // positive
  Rate rate;
  std::string_view rate_text;  // as written (a view into the line)
};

// nullptr when `line` (no line end) is a good row, else why it is not (for "file:line: why: 'line'").
[[nodiscard]] const char* parse_candle_csv_row(std::string_view line, CandleCsvRow& out) noexcept;
[[nodiscard]] const char* parse_funding_csv_row(std::string_view line, FundingCsvRow& out) noexcept;

}  // namespace enigma::feed
