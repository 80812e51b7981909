#include "strategy/indicator_table.hpp"

#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "strategy/csv.hpp"

namespace enigma::strategy {

IndicatorRow::IndicatorRow()
    : sma20_(20),
      ema12_(12),
      ema26_(26),
      wma20_(20),
      rsi14_(14),
      macd_(12, 26, 9),
      bbands_(20, 2.0),
      stoch_(14, 3, 3),
      stochf_(9, 3),
      willr_(14),
      atr_(14),
      cci20_(20),
      cci14_(14),
      adx_(14),
      mfi_(14),
      roc_(10),
      mom_(10),
      sar_(0.02, 0.2),
      ao_(5, 34),
      kdj_(9, 3, 3) {}

void IndicatorRow::update(const Bar& bar) noexcept {
  sma20_.update(bar.close);
  ema12_.update(bar.close);
  ema26_.update(bar.close);
  wma20_.update(bar.close);
  rsi14_.update(bar.close);
  macd_.update(bar.close);
  bbands_.update(bar.close);
  stoch_.update(bar);
  stochf_.update(bar);
  willr_.update(bar);
  atr_.update(bar);
  trange_.update(bar);
  obv_.update(bar);
  cci20_.update(bar);
  cci14_.update(bar);
  adx_.update(bar);
  mfi_.update(bar);
  roc_.update(bar.close);
  mom_.update(bar.close);
  sar_.update(bar);
  medprice_.update(bar);
  ao_.update(bar);
  kdj_.update(bar);
}

void IndicatorRow::reset() noexcept {
  sma20_.reset();
  ema12_.reset();
  ema26_.reset();
  wma20_.reset();
  rsi14_.reset();
  macd_.reset();
  bbands_.reset();
  stoch_.reset();
  stochf_.reset();
  willr_.reset();
  atr_.reset();
  trange_.reset();
  obv_.reset();
  cci20_.reset();
  cci14_.reset();
  adx_.reset();
  mfi_.reset();
  roc_.reset();
  mom_.reset();
  sar_.reset();
  medprice_.reset();
  ao_.reset();
  kdj_.reset();
}

void IndicatorRow::read(std::array<double, kIndicatorColumns.size()>& values,
                        std::array<bool, kIndicatorColumns.size()>& defined) const noexcept {
  std::size_t i = 0;
  const auto put = [&](bool ready, double value) {
    defined[i] = ready;
    values[i] = value;
    ++i;
  };
  put(sma20_.ready(), sma20_.value());
  put(ema12_.ready(), ema12_.value());
  put(ema26_.ready(), ema26_.value());
  put(wma20_.ready(), wma20_.value());
  put(rsi14_.ready(), rsi14_.value());
  put(macd_.ready(), macd_.macd());
  put(macd_.ready(), macd_.signal());
  put(macd_.ready(), macd_.hist());
  put(bbands_.ready(), bbands_.upper());
  put(bbands_.ready(), bbands_.middle());
  put(bbands_.ready(), bbands_.lower());
  put(stoch_.ready(), stoch_.k());
  put(stoch_.ready(), stoch_.d());
  put(stochf_.ready(), stochf_.k());
  put(stochf_.ready(), stochf_.d());
  put(willr_.ready(), willr_.value());
  put(atr_.ready(), atr_.value());
  put(trange_.ready(), trange_.value());
  put(obv_.ready(), obv_.value());
  put(cci20_.ready(), cci20_.value());
  put(cci14_.ready(), cci14_.value());
  put(adx_.ready(), adx_.value());
  put(mfi_.ready(), mfi_.value());
  put(roc_.ready(), roc_.value());
  put(mom_.ready(), mom_.value());
  put(sar_.ready(), sar_.value());
  put(medprice_.ready(), medprice_.value());
  put(ao_.ready(), ao_.value());
  put(kdj_.ready(), kdj_.k());
  put(kdj_.ready(), kdj_.d());
  put(kdj_.ready(), kdj_.j());
}

void write_indicator_csv(std::istream& in, std::ostream& out, const std::string& input_name) {
  OhlcvCsvReader reader(in, input_name);
  std::string line;
  for (const std::string& name : reader.matched_names()) {
    line += name;
    line += ',';
  }
  for (std::size_t c = 0; c < kIndicatorColumns.size(); ++c) {
    line += kIndicatorColumns[c];
    line += c + 1 < kIndicatorColumns.size() ? ',' : '\n';
  }
  out << line;

  IndicatorRow row;
  std::array<double, kIndicatorColumns.size()> values{};
  std::array<bool, kIndicatorColumns.size()> defined{};
  Bar bar{};
  char number[32];
  while (reader.next(bar)) {
    row.update(bar);
    row.read(values, defined);
    line.clear();
    for (const std::string_view field : reader.matched_fields()) {
      line += field;
      line += ',';
    }
    for (std::size_t c = 0; c < values.size(); ++c) {
      if (defined[c]) {
        // Backstop to the reader's bounds: a non-finite value would poison every later row of its column.
        if (!std::isfinite(values[c]))
          throw Error(input_name + ":" + std::to_string(reader.line_number()) + ": indicator column '" +
                      std::string(kIndicatorColumns[c]) + "' is not finite on this row");
        const int n = std::snprintf(number, sizeof number, "%.17g", values[c]);
        line.append(number, static_cast<std::size_t>(n));
      }
      line += c + 1 < values.size() ? ',' : '\n';
    }
    out << line;
    if (!out) throw Error(input_name + ":" + std::to_string(reader.line_number()) + ": writing the output failed");
  }
  out.flush();
  if (!out) throw Error(input_name + ": writing the output failed");
}

}  // namespace enigma::strategy
