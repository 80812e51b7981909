// libFuzzer: the parsers of `enigma download` (research/download.hpp) on arbitrary bytes: venue answers
// (Binance USD-M klines / fundingRate arrays, KuCoin Futures {code,data} envelopes) and the candle / funding
// CSVs it reads back before extending them. The first byte picks the parser, the rest is the input.
// Every input is parsed or refused with enigma::Error; what is accepted must hold the documented
// invariants (rows strictly ascending, candles consistent, rates numeric), and what the download would
// write from it must read back to the same rows (the next run's incremental fetch depends on it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "research/download.hpp"

namespace {

using enigma::research::SeriesRow;

// The cells must be numbers: candles five (low <= open, close <= high, all > 0, volume >= 0), funding one.
void check_cells(const SeriesRow& r, bool funding) {
  std::vector<double> v;
  std::size_t from = 0;
  for (;;) {
    const std::size_t to = r.cells.find(',', from);
    const std::string cell = r.cells.substr(from, to == std::string::npos ? std::string::npos : to - from);
    char* end = nullptr;
    v.push_back(std::strtod(cell.c_str(), &end));
    if (cell.empty() || *end != '\0') std::abort();
    if (to == std::string::npos) break;
    from = to + 1;
  }
  if (funding) {
    if (v.size() != 1) std::abort();
    return;
  }
  if (v.size() != 5) std::abort();
  const double o = v[0], h = v[1], l = v[2], c = v[3], vol = v[4];
  if (!(o > 0 && l > 0 && l <= o && l <= c && o <= h && c <= h && vol >= 0)) std::abort();
}

void check_rows(const std::vector<SeriesRow>& rows, bool funding) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i > 0 && rows[i].t <= rows[i - 1].t) std::abort();  // strictly ascending, duplicates dropped
    check_cells(rows[i], funding);
  }
}

// The file write_series would make of `rows` (rows the download keeps: candles on a minute grid and
// within years 1970..9999, which the datetime column can spell), read back.
void check_round_trip(const std::vector<SeriesRow>& rows, bool funding) {
  std::string text = funding ? "datetime,time_ms,funding_rate\n" : "datetime,open,high,low,close,volume\n";
  std::vector<SeriesRow> kept;
  for (const SeriesRow& r : rows) {
    if (!funding && (r.t < 0 || r.t % 60'000 != 0 || r.t > 253'402'300'799'000)) continue;
    text += enigma::research::utc_datetime(r.t) + ",";
    if (funding) text += std::to_string(r.t) + ",";
    text += r.cells + "\n";
    kept.push_back(r);
  }
  const std::vector<SeriesRow> back = enigma::research::parse_series_csv(text, funding, "round-trip.csv");
  if (back.size() != kept.size()) std::abort();
  for (std::size_t i = 0; i < back.size(); ++i)
    if (back[i].t != kept[i].t || back[i].cells != kept[i].cells) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 6;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  using enigma::research::DownloadVenue;
  const DownloadVenue venue = mode % 2 == 0 ? DownloadVenue::binance_usdm : DownloadVenue::kucoin_futures;
  const bool funding = mode == 2 || mode == 3 || mode == 5;
  std::vector<SeriesRow> rows;
  try {
    std::uint64_t duplicates = 0;
    if (mode < 2)
      rows = enigma::research::parse_klines_answer(venue, body, "GET fuzz", duplicates);
    else if (mode < 4)
      rows = enigma::research::parse_funding_answer(venue, body, "GET fuzz", duplicates);
    else
      rows = enigma::research::parse_series_csv(body, funding, "fuzz.csv");
    if (rows.size() + duplicates > body.size()) std::abort();  // each row takes at least one byte
  } catch (const enigma::Error&) {
    return 0;  // refused with the request / file and line named, which is the contract
  }
  check_rows(rows, funding);
  check_round_trip(rows, funding);  // an Error here escapes: libFuzzer reports it as a crash
  return 0;
}
