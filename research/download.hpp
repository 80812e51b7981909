// `enigma download`: candles (klines) and funding-rate history from a venue's public REST API into local CSV
// files that `optimize`, `walkforward` and `indicators` read (cold path: allocates, throws, sleeps).
//
// One file per (venue, symbol, interval) — `<out>/<venue>_<SYMBOL>_<interval>.csv` with the columns
// datetime,open,high,low,close,volume (the venue's decimal strings verbatim) — and one funding file per
// (venue, symbol) — `<out>/<venue>_<SYMBOL>_funding.csv` (datetime,time_ms,funding_rate). A run reads the
// file it is about to extend and asks the venue only for what is missing in the requested range: before the
// first row, after the last, and the holes between (funding: before the first and after the last). Files are
// replaced atomically (temporary file + rename).
//
// Requests page through the range with the venue's documented page size, take their weight from a
// per-venue budget (oms::RequestBudget windows set from the documented limits), wait out a 429's
// Retry-After, and retry a 5xx or a failed connection a bounded number of times.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace enigma::research {

enum class DownloadVenue : std::uint8_t { binance_usdm, kucoin_futures };
enum class DownloadWhat : std::uint8_t { candles, funding, both };

[[nodiscard]] std::string_view to_string(DownloadVenue v) noexcept;  // "binance-usdm" / "kucoin-futures"
[[nodiscard]] std::string default_base_url(DownloadVenue v);

struct DownloadOptions {
  DownloadVenue venue{DownloadVenue::binance_usdm};
  std::string symbol;
  std::string interval = "5m";  // 1m, 5m, 15m, 1h, 4h, 1d
  std::int64_t from_ms{0};      // first candle open time / funding time wanted (inclusive)
  std::int64_t to_ms{0};        // end of the range (exclusive)
  std::string out_dir = "data/downloads";
  std::string base_url;  // empty: default_base_url(venue); must be https
  std::string ca_file;   // extra trust anchor (tests' self-signed venue)
  DownloadWhat what{DownloadWhat::candles};
  int max_retries = 5;   // per request, for 5xx answers and failed connections
  bool progress = true;  // progress lines with ETA on stderr
};

// A run of missing candles: open times of the first and the last missing one.
struct DownloadGap {
  std::int64_t first_ms{0};
  std::int64_t last_ms{0};
  std::uint64_t missing{0};
};

struct SeriesReport {
  std::string path;
  std::uint64_t rows{0};        // in the file now
  std::uint64_t had{0};         // in the file before this run
  std::uint64_t fetched{0};     // new rows from the venue
  std::uint64_t requests{0};    // answered requests (429 and 5xx answers included)
  std::uint64_t duplicates{0};  // rows the venue sent twice (or already in the file), dropped
  std::int64_t first_ms{0};
  std::int64_t last_ms{0};
  std::vector<DownloadGap> gaps;  // candles only: holes in the file and in the requested range
};

struct DownloadReport {
  std::optional<SeriesReport> candles;
  std::optional<SeriesReport> funding;
  std::uint64_t rate_limited{0};  // 429 answers waited out
  std::uint64_t retried{0};       // 5xx answers / failed connections retried
};

// Length of an interval ("5m" -> 300000); nullopt when it is not one of 1m, 5m, 15m, 1h, 4h, 1d.
[[nodiscard]] std::optional<std::int64_t> interval_ms(std::string_view interval) noexcept;
// "2025-06-02", "2025-06-02 04:50", "2025-06-02T04:50:00Z" (UTC) -> Unix ms; nullopt when malformed.
[[nodiscard]] std::optional<std::int64_t> parse_utc_ms(std::string_view text) noexcept;
// Unix ms -> "2025-06-02 04:50:00" (the datetime column; whole seconds).
[[nodiscard]] std::string utc_datetime(std::int64_t ms);

// ---- parsers of outside input (pure: bytes in, rows out; the download uses them and
// tests/fuzz/download_parse.cpp fuzzes them) ----

// One row of a series: its time (candle open time / funding time, Unix ms) and the cells after the time
// column, joined by commas as written ("open,high,low,close,volume" for candles, "funding_rate" for funding).
struct SeriesRow {
  std::int64_t t{0};
  std::string cells;
};

// A klines answer (Binance USD-M: a JSON array of [openTime, "open", "high", "low", "close", "volume", ...];
// KuCoin Futures: {"code":"200000","data":[[time, open, high, low, close, volume], ...]}) as a page in
// ascending time: a page sorted either way is accepted, equal neighbours are dropped and counted in
// `duplicates`. Every candle is checked as a backtest needs it (positive prices, low <= open/close <= high,
// volume >= 0). Throws enigma::Error "<what>: why" (what: the request, e.g. "GET https://...").
[[nodiscard]] std::vector<SeriesRow> parse_klines_answer(DownloadVenue venue, std::string_view body,
                                                         const std::string& what, std::uint64_t& duplicates);
// A funding-rate answer (Binance USD-M: [{"fundingTime":..,"fundingRate":".."},...]; KuCoin Futures:
// {"code":"200000","data":[{"timepoint":..,"fundingRate":..},...]}), ordered like parse_klines_answer.
[[nodiscard]] std::vector<SeriesRow> parse_funding_answer(DownloadVenue venue, std::string_view body,
                                                          const std::string& what, std::uint64_t& duplicates);
// The text of a CSV this command wrote (candles: datetime,open,high,low,close,volume; funding:
// datetime,time_ms,funding_rate), rows strictly increasing in time. Throws enigma::Error
// "<source>:<line>: why".
[[nodiscard]] std::vector<SeriesRow> parse_series_csv(std::string_view text, bool funding, const std::string& source);

// Division rounding toward minus infinity (b > 0).
[[nodiscard]] constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Runs one download. Throws enigma::Error (naming the request, file and line, or the venue's answer) on a
// runtime failure; the files are then left as they were.
[[nodiscard]] DownloadReport run_download(const DownloadOptions& opt);

}  // namespace enigma::research
