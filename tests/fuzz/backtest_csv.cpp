// libFuzzer: the candle and funding CSVs of `enigma backtest` (feed/backtest_csv.hpp row parsers, and the
// capture reader that turns them into synthetic Binance USD-M frames) on arbitrary bytes. The first byte
// picks candles or funding (bit 0) and whether the header is supplied (bit 1 clear) or left to the input.
// Every line is a row with the documented invariants or a reason; every file is read or refused with
// enigma::Error; the frames come in receive-time order, are valid JSON and keep their simdjson padding.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "core/error.hpp"
#include "feed/backtest_csv.hpp"
#include "feed/capture_reader.hpp"

namespace {

void check_line(std::string_view line, bool candles) {
  if (candles) {
    enigma::feed::CandleCsvRow r;
    if (enigma::feed::parse_candle_csv_row(line, r) != nullptr) return;
    if (r.open_ms < 0 || r.open_ms > enigma::feed::kMaxCsvTimeMs) std::abort();
    if (r.low.raw() <= 0 || r.low > std::min(r.open, r.close) || r.high < std::max(r.open, r.close)) std::abort();
    if (r.volume.raw() < 0 || r.volume_text.empty()) std::abort();
    if (r.volume_text.data() < line.data() || r.volume_text.data() + r.volume_text.size() > line.data() + line.size())
      std::abort();  // a view into the line
  } else {
    enigma::feed::FundingCsvRow r;
    if (enigma::feed::parse_funding_csv_row(line, r) != nullptr) return;
    if (r.time_ms <= 0 || r.time_ms > enigma::feed::kMaxCsvTimeMs || r.rate_text.empty()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool candles = (data[0] & 1) == 0;
  const bool with_header = (data[0] & 2) == 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (std::size_t pos = 0; pos <= body.size();) {
    std::size_t e = body.find('\n', pos);
    if (e == std::string_view::npos) e = body.size();
    check_line(body.substr(pos, e - pos), candles);
    pos = e + 1;
  }

  // The reader takes a path: one scratch file per fuzzing process, rewritten for each input.
  static const std::string path = "/tmp/enigma-fuzz-backtest-csv-" + std::to_string(::getpid());
  static const struct RemoveAtExit {
    ~RemoveAtExit() { std::remove(path.c_str()); }
  } remove_at_exit;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (with_header) out << (candles ? "datetime,open,high,low,close,volume\n" : "datetime,time_ms,funding_rate\n");
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
  }
  enigma::feed::CaptureReadOptions o;
  o.streaming = true;
  o.synthetic = candles ? enigma::feed::CaptureReadOptions::Synthetic::candles
                        : enigma::feed::CaptureReadOptions::Synthetic::funding;
  o.symbol = "BTCUSDT";
  o.interval_ms = 300'000;
  static simdjson::dom::parser json;
  try {
    enigma::feed::CaptureReader reader(path, o);
    enigma::feed::CapturedFrame f;
    std::int64_t last = INT64_MIN;
    while (reader.next(f)) {
      if (f.padded_capacity < f.payload.size() + enigma::feed::CaptureReader::kPadding) std::abort();
      if (f.recv_ns < last) std::abort();  // one file's frames in time order (the merge relies on it)
      last = f.recv_ns;
      simdjson::dom::element doc;
      if (json.parse(f.payload.data(), f.payload.size(), false).get(doc)) std::abort();
    }
  } catch (const enigma::Error&) {
    // Bad header or bad row: the backtest refuses the file naming file and line, which is the contract.
  }
  return 0;
}
