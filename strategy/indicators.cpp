// Incremental indicators. The TA-Lib ones mirror TA-Lib 0.4.0's C code statement for statement (the order
// of additions and divisions, the TA_IS_ZERO guards), which is what keeps them within a few ulps of it.
#include "strategy/indicators.hpp"

#include <cmath>
#include <string>

#include "core/attributes.hpp"
#include "core/error.hpp"

namespace enigma::strategy {
namespace {

// TA-Lib's TA_IS_ZERO and TA_IS_ZERO_OR_NEG (ta_utility.h).
constexpr bool is_zero(double v) noexcept { return -0.00000001 < v && v < 0.00000001; }
constexpr bool is_zero_or_neg(double v) noexcept { return v < 0.00000001; }

// TA-Lib's TA_TRUE_RANGE macro.
inline double true_range(double high, double low, double prev_close) noexcept {
  double out = high - low;
  const double up = std::fabs(high - prev_close);
  if (up > out) out = up;
  const double down = std::fabs(low - prev_close);
  if (down > out) out = down;
  return out;
}

ENIGMA_COLD int require_at_least(const char* indicator, const char* param, int value, int min) {
  if (value < min) {
    throw Error(std::string(indicator) + ": " + param + " must be >= " + std::to_string(min) + ", got " +
                std::to_string(value));
  }
  return value;
}

ENIGMA_COLD double require_positive(const char* indicator, const char* param, double value) {
  if (!(value > 0.0) || !std::isfinite(value)) {
    throw Error(std::string(indicator) + ": " + param + " must be a positive finite number, got " +
                std::to_string(value));
  }
  return value;
}

ENIGMA_COLD std::int64_t require_positive_ns(const char* indicator, const char* param, std::int64_t value) {
  if (value <= 0) {
    throw Error(std::string(indicator) + ": " + param + " must be > 0 ns, got " + std::to_string(value));
  }
  return value;
}

// Number of the period containing t: floor((t - offset) / length), correct for times before the offset.
inline std::int64_t period_of(std::int64_t t, std::int64_t length, std::int64_t offset) noexcept {
  const std::int64_t shifted = t - offset;
  std::int64_t q = shifted / length;
  if (shifted % length < 0) --q;
  return q;
}

// %K as TA-Lib writes it in STOCH/STOCHF: diff = (HH - LL) / 100, (close - LL) / diff.
inline double fast_k_of(double close, double highest, double lowest) noexcept {
  const double diff = (highest - lowest) / 100.0;
  return diff != 0.0 ? (close - lowest) / diff : 0.0;
}

}  // namespace

namespace detail {

Window::Window(int capacity)
    : data_(static_cast<std::size_t>(require_at_least("Window", "capacity", capacity, 1))), capacity_(capacity) {}

template <bool kMax>
SlidingExtreme<kMax>::SlidingExtreme(int period)
    : values_(static_cast<std::size_t>(require_at_least("SlidingExtreme", "period", period, 1))),
      seqs_(static_cast<std::size_t>(period)),
      period_(period) {}

template class SlidingExtreme<true>;
template class SlidingExtreme<false>;

}  // namespace detail

// ---- Sma -----------------------------------------------------------------------------------------------

Sma::Sma(int period) : window_(require_at_least("Sma", "period", period, 1)), period_(period) {}

void Sma::update(double x) noexcept {
  window_.push(x);
  sum_ += x;
  if (window_.full()) {
    // TA-Lib's TA_INT_SMA: output the sum including the newest value, then drop the oldest.
    value_ = sum_ / period_;
    sum_ -= window_.oldest();
    ready_ = true;
  }
}

void Sma::reset() noexcept {
  window_.clear();
  sum_ = value_ = 0.0;
  ready_ = false;
}

// ---- Ema -----------------------------------------------------------------------------------------------

Ema::Ema(int period)
    : period_(require_at_least("Ema", "period", period, 1)), k_(2.0 / static_cast<double>(period + 1)) {}

void Ema::update(double x) noexcept {
  if (count_ >= period_) [[likely]] {
    value_ = ((x - value_) * k_) + value_;  // TA_INT_EMA's form
    return;
  }
  value_ += x;
  if (++count_ == period_) value_ /= period_;  // seed: SMA of the first `period` values
}

void Ema::reset() noexcept {
  count_ = 0;
  value_ = 0.0;
}

// ---- Wma -----------------------------------------------------------------------------------------------

Wma::Wma(int period)
    : window_(require_at_least("Wma", "period", period, 1)),
      period_(period),
      divider_(static_cast<double>((period * (period + 1)) >> 1)) {}

void Wma::update(double x) noexcept {
  window_.push(x);
  if (count_ < period_ - 1) {
    // TA-Lib's warm-up: weights 1..period-1 for the first period - 1 values.
    ++count_;
    plain_sum_ += x;
    weighted_sum_ += x * count_;
    return;
  }
  plain_sum_ += x;
  plain_sum_ -= trailing_;
  weighted_sum_ += x * period_;
  trailing_ = window_.oldest();
  value_ = weighted_sum_ / divider_;
  weighted_sum_ -= plain_sum_;  // every remaining value loses one weight step
  ready_ = true;
}

void Wma::reset() noexcept {
  window_.clear();
  weighted_sum_ = plain_sum_ = trailing_ = value_ = 0.0;
  count_ = 0;
  ready_ = false;
}

// ---- Rsi -----------------------------------------------------------------------------------------------

Rsi::Rsi(int period) : period_(require_at_least("Rsi", "period", period, 1)) {}

void Rsi::update(double close) noexcept {
  if (count_ == 0) {
    prev_ = close;
    count_ = 1;
    return;
  }
  const double change = close - prev_;
  prev_ = close;
  if (count_ > period_) [[likely]] {
    avg_loss_ *= (period_ - 1);
    avg_gain_ *= (period_ - 1);
  }
  if (change < 0) {
    avg_loss_ -= change;
  } else {
    avg_gain_ += change;
  }
  if (count_ < period_) {  // still summing the first period changes
    ++count_;
    return;
  }
  avg_loss_ /= period_;
  avg_gain_ /= period_;
  count_ = period_ + 1;
  const double total = avg_gain_ + avg_loss_;
  value_ = !is_zero(total) ? 100.0 * (avg_gain_ / total) : 0.0;
}

void Rsi::reset() noexcept {
  count_ = 0;
  prev_ = avg_gain_ = avg_loss_ = value_ = 0.0;
}

// ---- Macd ----------------------------------------------------------------------------------------------

namespace {
ENIGMA_COLD int require_macd_periods(int fast, int slow, int signal) {
  require_at_least("Macd", "fast", fast, 1);
  require_at_least("Macd", "signal", signal, 1);
  if (slow <= fast) {
    throw Error("Macd: slow must be > fast, got fast=" + std::to_string(fast) + " slow=" + std::to_string(slow));
  }
  return fast;
}
}  // namespace

Macd::Macd(int fast, int slow, int signal)
    : fast_seed_(require_macd_periods(fast, slow, signal)),
      slow_(slow),
      signal_(signal),
      fast_(fast),
      fast_k_(2.0 / static_cast<double>(fast + 1)) {}

void Macd::update(double x) noexcept {
  slow_.update(x);
  if (!slow_.ready()) [[unlikely]] {
    fast_seed_.push(x);
    return;
  }
  if (fast_seeded_) [[likely]] {
    fast_value_ = ((x - fast_value_) * fast_k_) + fast_value_;
  } else {
    // TA_INT_MACD runs both EMAs from the slow EMA's first output: the fast one is seeded there with the
    // SMA of the `fast` values ending at that bar, summed oldest first.
    fast_seed_.push(x);
    double sum = 0.0;
    for (int ago = fast_ - 1; ago >= 0; --ago) sum += fast_seed_.at_ago(ago);
    fast_value_ = sum / fast_;
    fast_seeded_ = true;
  }
  macd_ = fast_value_ - slow_.value();
  signal_.update(macd_);
  hist_ = macd_ - signal_.value();
}

void Macd::reset() noexcept {
  fast_seed_.clear();
  slow_.reset();
  signal_.reset();
  fast_value_ = macd_ = hist_ = 0.0;
  fast_seeded_ = false;
}

// ---- BollingerBands ------------------------------------------------------------------------------------

BollingerBands::BollingerBands(int period, double k)
    : window_(require_at_least("BollingerBands", "period", period, 2)),
      period_(period),
      k_(require_positive("BollingerBands", "k", k)) {}

void BollingerBands::update(double x) noexcept {
  window_.push(x);
  sum_ += x;
  sum_sq_ += x * x;
  if (!window_.full()) return;
  // TA_INT_SMA and TA_INT_stddev_using_precalc_ma: mean and mean of squares include the newest value,
  // then the oldest leaves both sums.
  middle_ = sum_ / period_;
  double variance = sum_sq_ / period_;
  const double oldest = window_.oldest();
  sum_ -= oldest;
  sum_sq_ -= oldest * oldest;
  variance -= middle_ * middle_;
  sigma_ = !is_zero_or_neg(variance) ? std::sqrt(variance) : 0.0;
  const double width = sigma_ * k_;
  upper_ = middle_ + width;
  lower_ = middle_ - width;
  ready_ = true;
}

void BollingerBands::reset() noexcept {
  window_.clear();
  sum_ = sum_sq_ = upper_ = middle_ = lower_ = sigma_ = 0.0;
  ready_ = false;
}

// ---- Stochastics and KDJ -------------------------------------------------------------------------------

FastK::FastK(int period) : highest_(require_at_least("Stochastic", "k period", period, 1)), lowest_(period) {}

void FastK::update(const Bar& bar) noexcept {
  highest_.push(bar.high);
  lowest_.push(bar.low);
  value_ = fast_k_of(bar.close, highest_.value(), lowest_.value());
}

void FastK::reset() noexcept {
  highest_.clear();
  lowest_.clear();
  value_ = 0.0;
}

StochasticSlow::StochasticSlow(int k, int slow_k, int slow_d) : fast_k_(k), slow_k_(slow_k), slow_d_(slow_d) {}

void StochasticSlow::update(const Bar& bar) noexcept {
  fast_k_.update(bar);
  if (!fast_k_.ready()) return;
  slow_k_.update(fast_k_.value());
  if (slow_k_.ready()) slow_d_.update(slow_k_.value());
}

void StochasticSlow::reset() noexcept {
  fast_k_.reset();
  slow_k_.reset();
  slow_d_.reset();
}

StochasticFast::StochasticFast(int k, int d) : fast_k_(k), d_(d) {}

void StochasticFast::update(const Bar& bar) noexcept {
  fast_k_.update(bar);
  if (fast_k_.ready()) d_.update(fast_k_.value());
}

void StochasticFast::reset() noexcept {
  fast_k_.reset();
  d_.reset();
}

Kdj::Kdj(int n, int m1, int m2)
    : rsv_(n), m1_(require_at_least("Kdj", "m1", m1, 1)), m2_(require_at_least("Kdj", "m2", m2, 1)) {}

void Kdj::update(const Bar& bar) noexcept {
  rsv_.update(bar);
  if (!rsv_.ready()) return;
  k_ = ((m1_ - 1.0) * k_ + rsv_.value()) / m1_;
  d_ = ((m2_ - 1.0) * d_ + k_) / m2_;
}

void Kdj::reset() noexcept {
  rsv_.reset();
  k_ = d_ = 50.0;
}

WilliamsR::WilliamsR(int period) : highest_(require_at_least("WilliamsR", "period", period, 1)), lowest_(period) {}

void WilliamsR::update(const Bar& bar) noexcept {
  highest_.push(bar.high);
  lowest_.push(bar.low);
  const double highest = highest_.value();
  const double diff = (highest - lowest_.value()) / (-100.0);  // TA-Lib's form
  value_ = diff != 0.0 ? (highest - bar.close) / diff : 0.0;
}

void WilliamsR::reset() noexcept {
  highest_.clear();
  lowest_.clear();
  value_ = 0.0;
}

// ---- Roc / Momentum ------------------------------------------------------------------------------------

Roc::Roc(int period) : window_(require_at_least("Roc", "period", period, 1) + 1) {}

void Roc::update(double x) noexcept {
  window_.push(x);
  if (!window_.full()) return;
  const double base = window_.oldest();
  value_ = base != 0.0 ? ((x / base) - 1.0) * 100.0 : 0.0;
}

void Roc::reset() noexcept {
  window_.clear();
  value_ = 0.0;
}

Momentum::Momentum(int period) : window_(require_at_least("Momentum", "period", period, 1) + 1) {}

void Momentum::update(double x) noexcept {
  window_.push(x);
  if (window_.full()) value_ = x - window_.oldest();
}

void Momentum::reset() noexcept {
  window_.clear();
  value_ = 0.0;
}

// ---- Cci -----------------------------------------------------------------------------------------------

Cci::Cci(int period) : ring_(static_cast<std::size_t>(require_at_least("Cci", "period", period, 1))), period_(period) {}

void Cci::update(const Bar& bar) noexcept {
  const double typical = (bar.high + bar.low + bar.close) / 3;
  ring_[static_cast<std::size_t>(count_ % period_)] = typical;
  ++count_;
  if (count_ < period_) return;
  // Sums run over the ring's slots 0..period-1 (not oldest first), exactly as TA-Lib's loop does.
  double average = 0.0;
  for (int i = 0; i < period_; ++i) average += ring_[static_cast<std::size_t>(i)];
  average /= period_;
  double deviation = 0.0;
  for (int i = 0; i < period_; ++i) deviation += std::fabs(ring_[static_cast<std::size_t>(i)] - average);
  const double distance = typical - average;
  value_ = (distance != 0.0 && deviation != 0.0) ? distance / (0.015 * (deviation / period_)) : 0.0;
}

void Cci::reset() noexcept {
  count_ = 0;
  value_ = 0.0;
}

// ---- AwesomeOscillator ---------------------------------------------------------------------------------

namespace {
ENIGMA_COLD int require_fast_below_slow(const char* indicator, int fast, int slow) {
  require_at_least(indicator, "fast", fast, 1);
  if (slow <= fast) {
    throw Error(std::string(indicator) + ": slow must be > fast, got fast=" + std::to_string(fast) +
                " slow=" + std::to_string(slow));
  }
  return fast;
}
}  // namespace

AwesomeOscillator::AwesomeOscillator(int fast, int slow)
    : fast_(require_fast_below_slow("AwesomeOscillator", fast, slow)), slow_(slow) {}

void AwesomeOscillator::update(const Bar& bar) noexcept {
  const double median = (bar.high + bar.low) / 2.0;
  fast_.update(median);
  slow_.update(median);
}

void AwesomeOscillator::reset() noexcept {
  fast_.reset();
  slow_.reset();
}

// ---- TrueRange / Atr -----------------------------------------------------------------------------------

void TrueRange::update(const Bar& bar) noexcept {
  if (has_prev_) [[likely]] {
    value_ = true_range(bar.high, bar.low, prev_close_);
    ready_ = true;
  }
  prev_close_ = bar.close;
  has_prev_ = true;
}

Atr::Atr(int period) : period_(require_at_least("Atr", "period", period, 1)) {}

void Atr::update(const Bar& bar) noexcept {
  tr_.update(bar);
  if (!tr_.ready()) return;
  const double tr = tr_.value();
  if (ranges_ >= period_) [[likely]] {
    value_ *= period_ - 1;  // TA-Lib's three statements, kept apart for the same rounding
    value_ += tr;
    value_ /= period_;
    return;
  }
  value_ += tr;
  if (++ranges_ == period_) value_ /= period_;
}

void Atr::reset() noexcept {
  tr_.reset();
  ranges_ = 0;
  value_ = 0.0;
}

// ---- Adx -----------------------------------------------------------------------------------------------

Adx::Adx(int period) : period_(require_at_least("Adx", "period", period, 1)) {}

void Adx::update(const Bar& bar) noexcept {
  const int index = count_;  // bar number, saturating at 2 * period
  if (index == 0) {
    prev_high_ = bar.high;
    prev_low_ = bar.low;
    prev_close_ = bar.close;
    count_ = 1;
    return;
  }
  const double diff_plus = bar.high - prev_high_;
  const double diff_minus = prev_low_ - bar.low;
  prev_high_ = bar.high;
  prev_low_ = bar.low;
  const bool smoothing = index >= period_;  // bars 1..period-1 are plain sums
  if (smoothing) {
    minus_dm_ -= minus_dm_ / period_;
    plus_dm_ -= plus_dm_ / period_;
  }
  if (diff_minus > 0 && diff_plus < diff_minus) {
    minus_dm_ += diff_minus;
  } else if (diff_plus > 0 && diff_plus > diff_minus) {
    plus_dm_ += diff_plus;
  }
  const double tr = true_range(bar.high, bar.low, prev_close_);
  prev_close_ = bar.close;
  if (!smoothing) {
    tr_ += tr;
    ++count_;
    return;
  }
  tr_ = tr_ - (tr_ / period_) + tr;
  const bool seeding = index < 2 * period_;  // bars period..2*period-1 collect the DX of the first ADX
  // TA-Lib skips the bar's DX (keeping DI and ADX) when the range or the DI sum is ~0.
  if (!is_zero(tr_)) {
    minus_di_ = 100.0 * (minus_dm_ / tr_);
    plus_di_ = 100.0 * (plus_dm_ / tr_);
    const double di_sum = minus_di_ + plus_di_;
    if (!is_zero(di_sum)) {
      const double dx = 100.0 * (std::fabs(minus_di_ - plus_di_) / di_sum);
      if (seeding) {
        sum_dx_ += dx;
      } else {
        adx_ = ((adx_ * (period_ - 1)) + dx) / period_;
      }
    }
  }
  if (seeding && ++count_ == 2 * period_) adx_ = sum_dx_ / period_;
}

void Adx::reset() noexcept {
  count_ = 0;
  prev_high_ = prev_low_ = prev_close_ = 0.0;
  plus_dm_ = minus_dm_ = tr_ = plus_di_ = minus_di_ = sum_dx_ = adx_ = 0.0;
}

// ---- ParabolicSar --------------------------------------------------------------------------------------

ParabolicSar::ParabolicSar(double accel, double max)
    : accel_(require_positive("ParabolicSar", "accel", accel)), max_(require_positive("ParabolicSar", "max", max)) {
  if (accel_ > max_) accel_ = max_;  // TA-Lib caps the step at the maximum
}

void ParabolicSar::update(const Bar& bar) noexcept {
  if (count_ == 0) {
    prev_high_ = bar.high;
    prev_low_ = bar.low;
    count_ = 1;
    return;
  }
  double prev_high = prev_high_;
  double prev_low = prev_low_;
  if (count_ == 1) {
    // TA-Lib: long unless the second bar's -DM(1) is positive; the first SAR is the first bar's
    // extreme; and for this first step "yesterday" is the second bar itself.
    const double diff_plus = bar.high - prev_high_;
    const double diff_minus = prev_low_ - bar.low;
    long_ = !(diff_minus > 0 && diff_plus < diff_minus);
    af_ = accel_;
    if (long_) {
      ep_ = bar.high;
      sar_ = prev_low_;
    } else {
      ep_ = bar.low;
      sar_ = prev_high_;
    }
    prev_high = bar.high;
    prev_low = bar.low;
    count_ = 2;
  }
  const double high = bar.high;
  const double low = bar.low;
  prev_high_ = high;
  prev_low_ = low;
  if (long_) {
    if (low <= sar_) {
      // Stop and reverse: the new SAR is the extreme point, kept outside yesterday's and today's range.
      long_ = false;
      sar_ = ep_;
      if (sar_ < prev_high) sar_ = prev_high;
      if (sar_ < high) sar_ = high;
      value_ = sar_;
      af_ = accel_;
      ep_ = low;
      sar_ = sar_ + af_ * (ep_ - sar_);
      if (sar_ < prev_high) sar_ = prev_high;
      if (sar_ < high) sar_ = high;
    } else {
      value_ = sar_;
      if (high > ep_) {
        ep_ = high;
        af_ += accel_;
        if (af_ > max_) af_ = max_;
      }
      sar_ = sar_ + af_ * (ep_ - sar_);
      if (sar_ > prev_low) sar_ = prev_low;
      if (sar_ > low) sar_ = low;
    }
  } else {
    if (high >= sar_) {
      long_ = true;
      sar_ = ep_;
      if (sar_ > prev_low) sar_ = prev_low;
      if (sar_ > low) sar_ = low;
      value_ = sar_;
      af_ = accel_;
      ep_ = high;
      sar_ = sar_ + af_ * (ep_ - sar_);
      if (sar_ > prev_low) sar_ = prev_low;
      if (sar_ > low) sar_ = low;
    } else {
      value_ = sar_;
      if (low < ep_) {
        ep_ = low;
        af_ += accel_;
        if (af_ > max_) af_ = max_;
      }
      sar_ = sar_ + af_ * (ep_ - sar_);
      if (sar_ < prev_high) sar_ = prev_high;
      if (sar_ < high) sar_ = high;
    }
  }
}

void ParabolicSar::reset() noexcept {
  count_ = 0;
  long_ = true;
  af_ = ep_ = sar_ = prev_high_ = prev_low_ = value_ = 0.0;
}

// ---- KeltnerChannels / SuperTrend ----------------------------------------------------------------------

KeltnerChannels::KeltnerChannels(int ema, int atr, double mult)
    : ema_(ema), atr_(atr), mult_(require_positive("KeltnerChannels", "mult", mult)) {}

void KeltnerChannels::update(const Bar& bar) noexcept {
  ema_.update(bar.close);
  atr_.update(bar);
}

void KeltnerChannels::reset() noexcept {
  ema_.reset();
  atr_.reset();
}

SuperTrend::SuperTrend(int atr, double mult) : atr_(atr), mult_(require_positive("SuperTrend", "mult", mult)) {}

void SuperTrend::update(const Bar& bar) noexcept {
  const bool had_bands = atr_.ready();
  atr_.update(bar);
  if (atr_.ready()) {
    const double mid = (bar.high + bar.low) / 2.0;
    const double basic_upper = mid + mult_ * atr_.value();
    const double basic_lower = mid - mult_ * atr_.value();
    if (!had_bands) {
      upper_ = basic_upper;
      lower_ = basic_lower;
      direction_ = -1;  // TradingView starts every series in a downtrend
    } else {
      // Bands ratchet toward price and reset only when the previous close broke through them.
      const double upper = (basic_upper < upper_ || prev_close_ > upper_) ? basic_upper : upper_;
      const double lower = (basic_lower > lower_ || prev_close_ < lower_) ? basic_lower : lower_;
      if (direction_ < 0) {
        direction_ = bar.close > upper ? 1 : -1;
      } else {
        direction_ = bar.close < lower ? -1 : 1;
      }
      upper_ = upper;
      lower_ = lower;
    }
  }
  prev_close_ = bar.close;
}

void SuperTrend::reset() noexcept {
  atr_.reset();
  upper_ = lower_ = prev_close_ = 0.0;
  direction_ = -1;
}

// ---- Ichimoku ------------------------------------------------------------------------------------------

Ichimoku::Ichimoku(int tenkan, int kijun, int senkou_b)
    : tenkan_high_(require_at_least("Ichimoku", "tenkan", tenkan, 1)),
      kijun_high_(require_at_least("Ichimoku", "kijun", kijun, 1)),
      span_b_high_(require_at_least("Ichimoku", "senkou_b", senkou_b, 1)),
      tenkan_low_(tenkan),
      kijun_low_(kijun),
      span_b_low_(senkou_b),
      projected_a_(kijun + 1),
      projected_b_(kijun + 1),
      span_b_period_(senkou_b),
      kijun_period_(kijun) {}

void Ichimoku::update(const Bar& bar) noexcept {
  tenkan_high_.push(bar.high);
  tenkan_low_.push(bar.low);
  kijun_high_.push(bar.high);
  kijun_low_.push(bar.low);
  span_b_high_.push(bar.high);
  span_b_low_.push(bar.low);
  tenkan_ = (tenkan_high_.value() + tenkan_low_.value()) / 2.0;
  kijun_ = (kijun_high_.value() + kijun_low_.value()) / 2.0;
  projected_a_.push((tenkan_ + kijun_) / 2.0);
  projected_b_.push((span_b_high_.value() + span_b_low_.value()) / 2.0);
  close_ = bar.close;
  ++count_;
}

void Ichimoku::reset() noexcept {
  tenkan_high_.clear();
  kijun_high_.clear();
  span_b_high_.clear();
  tenkan_low_.clear();
  kijun_low_.clear();
  span_b_low_.clear();
  projected_a_.clear();
  projected_b_.clear();
  count_ = 0;
  tenkan_ = kijun_ = close_ = 0.0;
}

// ---- Obv / Mfi -----------------------------------------------------------------------------------------

void Obv::update(const Bar& bar) noexcept {
  if (!started_) [[unlikely]] {
    value_ = bar.volume;  // TA-Lib starts the sum at the first bar's volume
    started_ = true;
  } else if (bar.close > prev_close_) {
    value_ += bar.volume;
  } else if (bar.close < prev_close_) {
    value_ -= bar.volume;
  }
  prev_close_ = bar.close;
}

Mfi::Mfi(int period) : positive_(require_at_least("Mfi", "period", period, 1)), negative_(period), period_(period) {}

void Mfi::update(const Bar& bar) noexcept {
  const double typical = (bar.high + bar.low + bar.close) / 3.0;
  if (count_ == 0) {
    prev_typical_ = typical;
    count_ = 1;
    return;
  }
  if (positive_.full()) {  // the flow leaving the window
    pos_sum_ -= positive_.oldest();
    neg_sum_ -= negative_.oldest();
  }
  const double change = typical - prev_typical_;
  prev_typical_ = typical;
  const double flow = typical * bar.volume;
  double positive = 0.0;
  double negative = 0.0;
  if (change < 0) {
    negative = flow;
    neg_sum_ += flow;
  } else if (change > 0) {
    positive = flow;
    pos_sum_ += flow;
  }
  positive_.push(positive);
  negative_.push(negative);
  if (count_ <= period_) ++count_;
  if (count_ <= period_) return;
  const double total = pos_sum_ + neg_sum_;
  value_ = total < 1.0 ? 0.0 : 100.0 * (pos_sum_ / total);
}

void Mfi::reset() noexcept {
  positive_.clear();
  negative_.clear();
  count_ = 0;
  prev_typical_ = pos_sum_ = neg_sum_ = value_ = 0.0;
}

// ---- Vwap ----------------------------------------------------------------------------------------------

Vwap::Vwap(int rolling_bars, std::int64_t session_length_ns, std::int64_t session_offset_ns)
    : window_pv_(require_at_least("Vwap", "rolling_bars", rolling_bars, 1)),
      window_volume_(rolling_bars),
      session_length_ns_(require_positive_ns("Vwap", "session_length_ns", session_length_ns)),
      session_offset_ns_(session_offset_ns) {}

void Vwap::update(const Bar& bar) noexcept {
  const double typical = (bar.high + bar.low + bar.close) / 3.0;
  const double pv = typical * bar.volume;
  const std::int64_t session = period_of(bar.time_ns, session_length_ns_, session_offset_ns_);
  if (!has_session_ || session != session_id_) {
    session_id_ = session;
    has_session_ = true;
    session_pv_ = session_volume_ = 0.0;
  }
  session_pv_ += pv;
  session_volume_ += bar.volume;
  if (window_pv_.full()) {
    rolling_pv_ -= window_pv_.oldest();
    rolling_volume_ -= window_volume_.oldest();
  }
  window_pv_.push(pv);
  window_volume_.push(bar.volume);
  rolling_pv_ += pv;
  rolling_volume_ += bar.volume;
}

void Vwap::reset() noexcept {
  window_pv_.clear();
  window_volume_.clear();
  has_session_ = false;
  session_id_ = 0;
  session_pv_ = session_volume_ = rolling_pv_ = rolling_volume_ = 0.0;
}

// ---- PivotPoints ---------------------------------------------------------------------------------------

PivotPoints::PivotPoints(std::int64_t period_length_ns, std::int64_t period_offset_ns)
    : length_ns_(require_positive_ns("PivotPoints", "period_length_ns", period_length_ns)),
      offset_ns_(period_offset_ns) {}

void PivotPoints::update(const Bar& bar) noexcept {
  const std::int64_t period = period_of(bar.time_ns, length_ns_, offset_ns_);
  if (has_period_ && period != period_id_) {
    // The period in progress has ended: its H/L/C give the levels for the one that starts now.
    const double range = high_ - low_;
    pp_ = (high_ + low_ + close_) / 3.0;
    r1_ = 2.0 * pp_ - low_;
    s1_ = 2.0 * pp_ - high_;
    r2_ = pp_ + range;
    s2_ = pp_ - range;
    r3_ = high_ + 2.0 * (pp_ - low_);
    s3_ = low_ - 2.0 * (high_ - pp_);
    ready_ = true;
  }
  if (!has_period_ || period != period_id_) {
    period_id_ = period;
    has_period_ = true;
    high_ = bar.high;
    low_ = bar.low;
  } else {
    if (bar.high > high_) high_ = bar.high;
    if (bar.low < low_) low_ = bar.low;
  }
  close_ = bar.close;
}

void PivotPoints::reset() noexcept {
  has_period_ = ready_ = false;
  period_id_ = 0;
  high_ = low_ = close_ = 0.0;
  pp_ = r1_ = r2_ = r3_ = s1_ = s2_ = s3_ = 0.0;
}

}  // namespace enigma::strategy
