// The `enigma indicators` table: every indicator of the TA-Lib oracle files, computed bar by bar over an
// OHLCV CSV and written next to the input columns (cold path).
#pragma once

#include <array>
#include <cstddef>
#include <istream>
#include <ostream>
#include <string>
#include <string_view>

#include "strategy/indicators.hpp"

namespace enigma::strategy {

// Output column names after the input columns: exactly the oracle files' names (TA-Lib 0.4.0 defaults:
// SMA_20 ... AO_5_34), then KDJ_9_3_3_{k,d,j}.
// clang-format off
inline constexpr std::array<std::string_view, 31> kIndicatorColumns{
    "SMA_20", "EMA_12", "EMA_26", "WMA_20", "RSI_14",
    "MACD_12_26_9_macd", "MACD_12_26_9_signal", "MACD_12_26_9_hist",
    "BBANDS_20_2_upper", "BBANDS_20_2_middle", "BBANDS_20_2_lower",
    "STOCH_14_3_3_slowk", "STOCH_14_3_3_slowd", "STOCHF_9_3_fastk", "STOCHF_9_3_fastd",
    "WILLR_14", "ATR_14", "TRANGE", "OBV", "CCI_20", "CCI_14", "ADX_14", "MFI_14", "ROC_10", "MOM_10",
    "SAR_0.02_0.2", "MEDPRICE", "AO_5_34", "KDJ_9_3_3_k", "KDJ_9_3_3_d", "KDJ_9_3_3_j"};
// clang-format on

// One row of kIndicatorColumns per bar: the indicators with the parameters their column names state.
class IndicatorRow {
 public:
  IndicatorRow();
  void update(const Bar& bar) noexcept;
  void reset() noexcept;
  // values[i] is column i's value; defined[i] is false where TA-Lib leaves the cell empty.
  void read(std::array<double, kIndicatorColumns.size()>& values,
            std::array<bool, kIndicatorColumns.size()>& defined) const noexcept;

 private:
  Sma sma20_;
  Ema ema12_, ema26_;
  Wma wma20_;
  Rsi rsi14_;
  Macd macd_;
  BollingerBands bbands_;
  StochasticSlow stoch_;
  StochasticFast stochf_;
  WilliamsR willr_;
  Atr atr_;
  TrueRange trange_;
  Obv obv_;
  Cci cci20_, cci14_;
  Adx adx_;
  Mfi mfi_;
  Roc roc_;
  Momentum mom_;
  ParabolicSar sar_;
  MedPrice medprice_;
  AwesomeOscillator ao_;
  Kdj kdj_;
};

// Reads an OHLCV CSV (see OhlcvCsvReader for the accepted header) from `in` and writes to `out` a CSV whose
// columns are the six matched input columns (names and text as in the input) followed by
// kIndicatorColumns; a cell is empty inside the indicator's lookback, otherwise printed with %.17g.
// `input_name` names the input in errors. Throws enigma::Error "<input_name>:<line>: <what>" on bad input
// and when writing fails.
void write_indicator_csv(std::istream& in, std::ostream& out, const std::string& input_name);

}  // namespace enigma::strategy
