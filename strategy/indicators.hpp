// Incremental technical indicators: one bar (or one value) in, the current output out.
//
// Contract shared by every class here:
//  * The constructor takes the periods, validates them and allocates every buffer the indicator will ever
//    need; bad parameters throw enigma::Error naming the class and the parameter (cold path).
//  * `update(...)` is noexcept, allocates nothing and does O(1) work (amortized O(1) for the sliding
//    max/min behind Stochastic, Williams %R and Ichimoku; O(period) for CCI, see there).
//  * `ready()` is false exactly where TA-Lib 0.4.0 leaves its output empty (its "lookback"); accessors are
//    meaningful only when `ready()` is true.
//  * `reset()` restores the freshly constructed state without freeing or allocating.
//  * Indicators are copyable values (buffers are fixed-size vectors sized in the constructor).
//
// TA-Lib indicators reproduce TA-Lib 0.4.0's arithmetic in the same order (seeding, Wilder smoothing,
// running sums that add the newest value before dropping the oldest), so on the same input they agree with
// TA-Lib to the last few ulps; tests/strategy/indicators_test.cpp checks every output against TA-Lib on
// 20,695 Coinbase BTC-USD 4h candles and on TA-Lib's own 252-bar regression series.
//
// Inputs are doubles: prices convert from fixed-point at the edge of the strategy (DESIGN.md).
#pragma once

#include <cstdint>
#include <vector>

namespace enigma::strategy {

// One OHLCV bar. `time_ns` is the bar's open time in ns since the Unix epoch (UTC); only time-aware
// indicators (Vwap, PivotPoints) read it.
struct Bar {
  std::int64_t time_ns;
  double open, high, low, close, volume;
};

inline constexpr std::int64_t kNanosPerDay = 86'400'000'000'000;

namespace detail {

// The last `capacity` values of a series in a ring allocated once. `push` overwrites the oldest when full.
class Window {
 public:
  explicit Window(int capacity);
  void push(double x) noexcept {
    data_[head_] = x;
    head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
    if (size_ < capacity_) ++size_;
  }
  [[nodiscard]] bool full() const noexcept { return size_ == capacity_; }
  [[nodiscard]] int size() const noexcept { return size_; }
  // ago = 0 is the newest value, ago = size() - 1 the oldest. Requires ago < size().
  [[nodiscard]] double at_ago(int ago) const noexcept {
    int i = head_ - 1 - ago;
    return data_[i < 0 ? i + capacity_ : i];
  }
  [[nodiscard]] double oldest() const noexcept { return at_ago(size_ - 1); }
  void clear() noexcept { head_ = size_ = 0; }

 private:
  std::vector<double> data_;
  int capacity_;
  int head_ = 0;  // next slot to write
  int size_ = 0;
};

// Highest (kMax) or lowest value of the last `period` values in amortized O(1): a monotonic deque of
// (sequence number, value) kept in a ring of `period` slots (it never holds more than `period` entries).
template <bool kMax>
class SlidingExtreme {
 public:
  explicit SlidingExtreme(int period);
  void push(double x) noexcept {
    // Expire the front first if it leaves the window [seq_ - period + 1, seq_], so at most period - 1
    // entries remain and the new one always has a free slot.
    if (count_ > 0 && seqs_[first_] + period_ <= seq_) {
      first_ = wrap(first_ + 1);
      --count_;
    }
    // Drop entries the new value dominates: they can never be the extreme again.
    while (count_ > 0) {
      const int last = wrap(first_ + count_ - 1);
      if (kMax ? values_[last] > x : values_[last] < x) break;
      --count_;
    }
    const int slot = wrap(first_ + count_);
    values_[slot] = x;
    seqs_[slot] = seq_;
    ++count_;
    ++seq_;
  }
  // Extreme of the last min(period, pushed) values. Requires at least one push.
  [[nodiscard]] double value() const noexcept { return values_[first_]; }
  [[nodiscard]] bool full() const noexcept { return seq_ >= period_; }
  void clear() noexcept { first_ = count_ = 0, seq_ = 0; }

 private:
  [[nodiscard]] int wrap(int i) const noexcept { return i >= period_ ? i - period_ : i; }
  std::vector<double> values_;
  std::vector<std::int64_t> seqs_;
  int period_;
  int first_ = 0;
  int count_ = 0;
  std::int64_t seq_ = 0;
};

}  // namespace detail

// ---- Moving averages ---------------------------------------------------------------------------------

// Simple moving average of the last `period` values (TA-Lib SMA; ready after `period` values).
class Sma {
 public:
  explicit Sma(int period);
  void update(double x) noexcept;
  [[nodiscard]] bool ready() const noexcept { return ready_; }
  [[nodiscard]] double value() const noexcept { return value_; }
  [[nodiscard]] int period() const noexcept { return period_; }
  void reset() noexcept;

 private:
  detail::Window window_;
  int period_;
  double sum_ = 0.0;  // sum of the last period - 1 values between updates (TA-Lib's order)
  double value_ = 0.0;
  bool ready_ = false;
};

// Exponential moving average, k = 2 / (period + 1), seeded with the SMA of the first `period` values
// (TA-Lib EMA; ready after `period` values).
class Ema {
 public:
  explicit Ema(int period);
  void update(double x) noexcept;
  [[nodiscard]] bool ready() const noexcept { return count_ >= period_; }
  [[nodiscard]] double value() const noexcept { return value_; }
  void reset() noexcept;

 private:
  int period_;
  double k_;
  int count_ = 0;
  double value_ = 0.0;  // running sum during warm-up, then the EMA
};

// Linearly weighted moving average, weights 1..period with the newest heaviest (TA-Lib WMA).
class Wma {
 public:
  explicit Wma(int period);
  void update(double x) noexcept;
  [[nodiscard]] bool ready() const noexcept { return ready_; }
  [[nodiscard]] double value() const noexcept { return value_; }
  void reset() noexcept;

 private:
  detail::Window window_;
  int period_;
  double divider_;
  double weighted_sum_ = 0.0;
  double plain_sum_ = 0.0;
  double trailing_ = 0.0;
  int count_ = 0;
  double value_ = 0.0;
  bool ready_ = false;
};

// ---- Momentum oscillators ----------------------------------------------------------------------------

// Wilder's Relative Strength Index (TA-Lib RSI): average gain/loss seeded with the plain mean of the first
// `period` changes, then Wilder-smoothed; 100 * gain / (gain + loss), 0 when both are ~0.
// Ready after period + 1 values.
class Rsi {
 public:
  explicit Rsi(int period = 14);
  void update(double close) noexcept;
  [[nodiscard]] bool ready() const noexcept { return count_ > period_; }
  [[nodiscard]] double value() const noexcept { return value_; }
  void reset() noexcept;

 private:
  int period_;
  int count_ = 0;
  double prev_ = 0.0;
  double avg_gain_ = 0.0;
  double avg_loss_ = 0.0;
  double value_ = 0.0;
};

// MACD (TA-Lib MACD with EMAs): macd = EMA(fast) - EMA(slow), signal = EMA(signal) of macd, hist =
// macd - signal. TA-Lib quirk kept on purpose: the fast EMA is seeded at the slow EMA's first output with
// the SMA of the last `fast` values, so MACD's fast leg differs from a stand-alone EMA(fast) early on.
// Ready after slow + signal - 1 values (34 for 12/26/9). Requires 1 <= fast < slow, signal >= 1.
class Macd {
 public:
  explicit Macd(int fast = 12, int slow = 26, int signal = 9);
  void update(double x) noexcept;
  [[nodiscard]] bool ready() const noexcept { return signal_.ready(); }
  [[nodiscard]] double macd() const noexcept { return macd_; }
  [[nodiscard]] double signal() const noexcept { return signal_.value(); }
  [[nodiscard]] double hist() const noexcept { return hist_; }
  void reset() noexcept;

 private:
  detail::Window fast_seed_;  // last `fast` inputs, summed once to seed the fast EMA
  Ema slow_;
  Ema signal_;
  int fast_;
  double fast_k_;
  double fast_value_ = 0.0;
  bool fast_seeded_ = false;
  double macd_ = 0.0;
  double hist_ = 0.0;
};

// Bollinger Bands (TA-Lib BBANDS with SMA): middle = SMA(period), upper/lower = middle +- k * sigma where
// sigma is the population standard deviation of the window (from running sums of x and x^2, 0 when the
// variance is below 1e-8 as in TA-Lib). Requires period >= 2, k > 0.
class BollingerBands {
 public:
  explicit BollingerBands(int period = 20, double k = 2.0);
  void update(double x) noexcept;
  [[nodiscard]] bool ready() const noexcept { return ready_; }
  [[nodiscard]] double upper() const noexcept { return upper_; }
  [[nodiscard]] double middle() const noexcept { return middle_; }
  [[nodiscard]] double lower() const noexcept { return lower_; }
  [[nodiscard]] double sigma() const noexcept { return sigma_; }
  void reset() noexcept;

 private:
  detail::Window window_;
  int period_;
  double k_;
  double sum_ = 0.0;
  double sum_sq_ = 0.0;
  double upper_ = 0.0, middle_ = 0.0, lower_ = 0.0, sigma_ = 0.0;
  bool ready_ = false;
};

// %K of a Stochastic (TA-Lib's formula): 100 * (close - LL) / (HH - LL) over `period` bars, 0 when HH == LL.
// Also KDJ's RSV. Internal building block of the three classes below.
class FastK {
 public:
  explicit FastK(int period);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return highest_.full(); }
  [[nodiscard]] double value() const noexcept { return value_; }
  void reset() noexcept;

 private:
  detail::SlidingExtreme<true> highest_;
  detail::SlidingExtreme<false> lowest_;
  double value_ = 0.0;
};

// Slow Stochastic (TA-Lib STOCH, SMA smoothing): k = SMA(slow_k) of %K(k), d = SMA(slow_d) of that.
// Ready after k + slow_k + slow_d - 2 bars (17 for 14/3/3).
class StochasticSlow {
 public:
  explicit StochasticSlow(int k = 14, int slow_k = 3, int slow_d = 3);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return slow_d_.ready(); }
  [[nodiscard]] double k() const noexcept { return slow_k_.value(); }
  [[nodiscard]] double d() const noexcept { return slow_d_.value(); }
  void reset() noexcept;

 private:
  FastK fast_k_;
  Sma slow_k_;
  Sma slow_d_;
};

// Fast Stochastic (TA-Lib STOCHF, SMA): k = %K(k), d = SMA(d) of k. Ready after k + d - 1 bars (both
// outputs, as in TA-Lib).
class StochasticFast {
 public:
  explicit StochasticFast(int k = 9, int d = 3);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return d_.ready(); }
  [[nodiscard]] double k() const noexcept { return fast_k_.value(); }
  [[nodiscard]] double d() const noexcept { return d_.value(); }
  void reset() noexcept;

 private:
  FastK fast_k_;
  Sma d_;
};

// KDJ (not in TA-Lib; the formula of data/indicators/ATTRIBUTION.md): RSV = %K(n) as in STOCHF (0 when HH == LL),
// K = ((m1 - 1) * K[-1] + RSV) / m1, D = ((m2 - 1) * D[-1] + K) / m2, J = 3K - 2D, with K[-1] = D[-1] = 50
// before the first RSV. Ready from the first RSV (after n bars).
class Kdj {
 public:
  explicit Kdj(int n = 9, int m1 = 3, int m2 = 3);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return rsv_.ready(); }
  [[nodiscard]] double k() const noexcept { return k_; }
  [[nodiscard]] double d() const noexcept { return d_; }
  [[nodiscard]] double j() const noexcept { return 3.0 * k_ - 2.0 * d_; }
  void reset() noexcept;

 private:
  FastK rsv_;
  double m1_, m2_;
  double k_ = 50.0, d_ = 50.0;
};

// Williams %R (TA-Lib WILLR): -100 * (HH - close) / (HH - LL) over `period` bars, 0 when HH == LL.
class WilliamsR {
 public:
  explicit WilliamsR(int period = 14);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return highest_.full(); }
  [[nodiscard]] double value() const noexcept { return value_; }
  void reset() noexcept;

 private:
  detail::SlidingExtreme<true> highest_;
  detail::SlidingExtreme<false> lowest_;
  double value_ = 0.0;
};

// Rate of change (TA-Lib ROC): 100 * (x / x[-period] - 1), 0 when x[-period] == 0. Ready after period + 1.
class Roc {
 public:
  explicit Roc(int period = 10);
  void update(double x) noexcept;
  [[nodiscard]] bool ready() const noexcept { return window_.full(); }
  [[nodiscard]] double value() const noexcept { return value_; }
  void reset() noexcept;

 private:
  detail::Window window_;  // period + 1 values
  double value_ = 0.0;
};

// Momentum (TA-Lib MOM): x - x[-period]. Ready after period + 1 values.
class Momentum {
 public:
  explicit Momentum(int period = 10);
  void update(double x) noexcept;
  [[nodiscard]] bool ready() const noexcept { return window_.full(); }
  [[nodiscard]] double value() const noexcept { return value_; }
  void reset() noexcept;

 private:
  detail::Window window_;  // period + 1 values
  double value_ = 0.0;
};

// Commodity Channel Index (TA-Lib CCI): typical price tp = (h + l + c) / 3,
// (tp - SMA(tp)) / (0.015 * mean |tp - SMA(tp)|), 0 when either term is 0.
// The mean absolute deviation has no O(1) recurrence (the mean moves), so update() is O(period): two
// passes over the window ring, summed in TA-Lib's slot order.
class Cci {
 public:
  explicit Cci(int period = 20);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return count_ >= period_; }
  [[nodiscard]] double value() const noexcept { return value_; }
  void reset() noexcept;

 private:
  std::vector<double> ring_;  // slot = bar number % period, as TA-Lib's circular buffer
  int period_;
  std::int64_t count_ = 0;
  double value_ = 0.0;
};

// Awesome Oscillator: SMA(fast) - SMA(slow) of the median price (h + l) / 2. Ready after `slow` bars.
class AwesomeOscillator {
 public:
  explicit AwesomeOscillator(int fast = 5, int slow = 34);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return slow_.ready(); }
  [[nodiscard]] double value() const noexcept { return fast_.value() - slow_.value(); }
  void reset() noexcept;

 private:
  Sma fast_;
  Sma slow_;
};

// ---- Volatility and trend ----------------------------------------------------------------------------

// True range (TA-Lib TRANGE): max(h - l, |h - prev close|, |l - prev close|). Ready from the second bar.
class TrueRange {
 public:
  TrueRange() = default;
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return ready_; }
  [[nodiscard]] double value() const noexcept { return value_; }
  void reset() noexcept { *this = TrueRange(); }

 private:
  double prev_close_ = 0.0;
  double value_ = 0.0;
  bool has_prev_ = false;
  bool ready_ = false;
};

// Average true range (TA-Lib ATR): the first value is the mean of the first `period` true ranges (bars
// 1..period), then Wilder smoothing atr = (atr * (period - 1) + tr) / period. Ready after period + 1 bars.
class Atr {
 public:
  explicit Atr(int period = 14);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return ranges_ >= period_; }
  [[nodiscard]] double value() const noexcept { return value_; }
  void reset() noexcept;

 private:
  TrueRange tr_;
  int period_;
  int ranges_ = 0;      // true ranges seen (saturates at period)
  double value_ = 0.0;  // running sum of true ranges during warm-up, then the ATR
};

// Average Directional Index (TA-Lib ADX, Wilder): +DM/-DM and TR summed over the first period - 1 bars,
// then Wilder-smoothed (s = s - s / period + x); DI = 100 * DM / TR; DX = 100 * |+DI - -DI| / (+DI + -DI);
// the first ADX is the mean of `period` DX values, then adx = (adx * (period - 1) + dx) / period.
// Ready after 2 * period bars. plus_di()/minus_di() are the current +DI/-DI (valid when ready()).
class Adx {
 public:
  explicit Adx(int period = 14);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return count_ >= 2 * period_; }
  [[nodiscard]] double value() const noexcept { return adx_; }
  [[nodiscard]] double plus_di() const noexcept { return plus_di_; }
  [[nodiscard]] double minus_di() const noexcept { return minus_di_; }
  void reset() noexcept;

 private:
  int period_;
  int count_ = 0;  // bars seen, saturating at 2 * period
  double prev_high_ = 0.0, prev_low_ = 0.0, prev_close_ = 0.0;
  double plus_dm_ = 0.0, minus_dm_ = 0.0, tr_ = 0.0;
  double plus_di_ = 0.0, minus_di_ = 0.0;
  double sum_dx_ = 0.0;
  double adx_ = 0.0;
};

// Parabolic SAR (TA-Lib SAR, Wilder). The initial direction is long unless the second bar's -DM is
// positive; the first SAR is the first bar's low (long) or high (short). `value()` is the SAR for the bar
// just passed. Ready from the second bar. Requires 0 < accel, 0 < max; accel is capped at max.
class ParabolicSar {
 public:
  explicit ParabolicSar(double accel = 0.02, double max = 0.2);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return count_ >= 2; }
  [[nodiscard]] double value() const noexcept { return value_; }
  [[nodiscard]] bool is_long() const noexcept { return long_; }
  void reset() noexcept;

 private:
  double accel_, max_;
  int count_ = 0;
  bool long_ = true;
  double af_ = 0.0, ep_ = 0.0, sar_ = 0.0;
  double prev_high_ = 0.0, prev_low_ = 0.0;
  double value_ = 0.0;
};

// Keltner Channels: middle = EMA(ema) of close (TA-Lib seeding), upper/lower = middle +- mult * ATR(atr)
// (TA-Lib ATR). Ready when both are.
class KeltnerChannels {
 public:
  explicit KeltnerChannels(int ema = 20, int atr = 10, double mult = 2.0);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return ema_.ready() && atr_.ready(); }
  [[nodiscard]] double upper() const noexcept { return ema_.value() + mult_ * atr_.value(); }
  [[nodiscard]] double middle() const noexcept { return ema_.value(); }
  [[nodiscard]] double lower() const noexcept { return ema_.value() - mult_ * atr_.value(); }
  void reset() noexcept;

 private:
  Ema ema_;
  Atr atr_;
  double mult_;
};

// SuperTrend (TradingView's ta.supertrend): basic bands hl2 +- mult * ATR(atr) (TA-Lib ATR); the final
// upper band only moves down (and the lower only up) unless the previous close crossed it; the trend flips
// up when close > final upper and down when close < final lower. The first ready bar starts down.
// value() is the final lower band in an uptrend and the final upper band in a downtrend.
class SuperTrend {
 public:
  explicit SuperTrend(int atr = 10, double mult = 3.0);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return atr_.ready(); }
  [[nodiscard]] double value() const noexcept { return direction_ > 0 ? lower_ : upper_; }
  [[nodiscard]] int direction() const noexcept { return direction_; }  // +1 up, -1 down
  void reset() noexcept;

 private:
  Atr atr_;
  double mult_;
  double upper_ = 0.0, lower_ = 0.0;
  double prev_close_ = 0.0;
  int direction_ = -1;
};

// Ichimoku Kinko Hyo: tenkan = midpoint of the `tenkan`-bar high/low range, kijun likewise over `kijun`
// bars; senkou A = (tenkan + kijun) / 2 and senkou B = the `senkou_b`-bar midpoint, both plotted
// `kijun` bars ahead: senkou_a()/senkou_b() are the cloud at the current bar (computed kijun bars ago),
// senkou_*_projected() the values computed now for kijun bars ahead. chikou() is the current close (the
// lagging span plots it kijun bars back). Ready when the cloud at the current bar exists:
// after senkou_b + kijun bars.
class Ichimoku {
 public:
  explicit Ichimoku(int tenkan = 9, int kijun = 26, int senkou_b = 52);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return count_ >= span_b_period_ + kijun_period_; }
  [[nodiscard]] double tenkan() const noexcept { return tenkan_; }
  [[nodiscard]] double kijun() const noexcept { return kijun_; }
  [[nodiscard]] double senkou_a() const noexcept { return projected_a_.oldest(); }
  [[nodiscard]] double senkou_b() const noexcept { return projected_b_.oldest(); }
  [[nodiscard]] double senkou_a_projected() const noexcept { return projected_a_.at_ago(0); }
  [[nodiscard]] double senkou_b_projected() const noexcept { return projected_b_.at_ago(0); }
  [[nodiscard]] double chikou() const noexcept { return close_; }
  void reset() noexcept;

 private:
  detail::SlidingExtreme<true> tenkan_high_, kijun_high_, span_b_high_;
  detail::SlidingExtreme<false> tenkan_low_, kijun_low_, span_b_low_;
  // Spans computed over the last kijun + 1 bars; the oldest is the one plotted at the current bar.
  detail::Window projected_a_, projected_b_;
  int span_b_period_;
  int kijun_period_;
  std::int64_t count_ = 0;
  double tenkan_ = 0.0, kijun_ = 0.0, close_ = 0.0;
};

// ---- Volume ------------------------------------------------------------------------------------------

// On-balance volume (TA-Lib OBV): starts at the first bar's volume, then +volume on an up close,
// -volume on a down close. Ready from the first bar.
class Obv {
 public:
  Obv() = default;
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return started_; }
  [[nodiscard]] double value() const noexcept { return value_; }
  void reset() noexcept { *this = Obv(); }

 private:
  double prev_close_ = 0.0;
  double value_ = 0.0;
  bool started_ = false;
};

// Money Flow Index (TA-Lib MFI): raw flow = typical price * volume, positive when the typical price rose,
// negative when it fell (neither when unchanged); 100 * pos / (pos + neg) over `period` bars, and 0 when
// pos + neg < 1 (TA-Lib's guard). Ready after period + 1 bars.
class Mfi {
 public:
  explicit Mfi(int period = 14);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return count_ > period_; }
  [[nodiscard]] double value() const noexcept { return value_; }
  void reset() noexcept;

 private:
  detail::Window positive_, negative_;  // per-bar flows of the window
  int period_;
  int count_ = 0;  // saturates at period + 1
  double prev_typical_ = 0.0;
  double pos_sum_ = 0.0, neg_sum_ = 0.0;
  double value_ = 0.0;
};

// Volume-weighted average price of the typical price (h + l + c) / 3:
//  * session(): cumulative since the start of the current session; sessions are
//    [offset + k * length, offset + (k + 1) * length) in bar open time (default: the UTC day);
//    valid when session_ready() (the session has traded volume).
//  * rolling(): over the last `rolling_bars` bars; valid when ready() (that many bars seen and volume in
//    the window).
class Vwap {
 public:
  explicit Vwap(int rolling_bars = 20, std::int64_t session_length_ns = kNanosPerDay,
                std::int64_t session_offset_ns = 0);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return window_volume_.full() && rolling_volume_ > 0.0; }
  [[nodiscard]] double rolling() const noexcept { return rolling_pv_ / rolling_volume_; }
  [[nodiscard]] bool session_ready() const noexcept { return session_volume_ > 0.0; }
  [[nodiscard]] double session() const noexcept { return session_pv_ / session_volume_; }
  void reset() noexcept;

 private:
  detail::Window window_pv_, window_volume_;
  std::int64_t session_length_ns_, session_offset_ns_;
  std::int64_t session_id_ = 0;
  bool has_session_ = false;
  double session_pv_ = 0.0, session_volume_ = 0.0;
  double rolling_pv_ = 0.0, rolling_volume_ = 0.0;
};

// ---- Price transforms and levels ---------------------------------------------------------------------

// Median price (TA-Lib MEDPRICE): (h + l) / 2. Ready from the first bar.
class MedPrice {
 public:
  MedPrice() = default;
  void update(const Bar& bar) noexcept { value_ = (bar.high + bar.low) / 2.0, ready_ = true; }
  [[nodiscard]] bool ready() const noexcept { return ready_; }
  [[nodiscard]] double value() const noexcept { return value_; }
  void reset() noexcept { *this = MedPrice(); }

 private:
  double value_ = 0.0;
  bool ready_ = false;
};

// Classic floor pivots from the previous period's high H, low L and close C (periods are
// [offset + k * length, ...) in bar open time, default the UTC day):
// pp = (H + L + C) / 3, r1 = 2pp - L, s1 = 2pp - H, r2 = pp + (H - L), s2 = pp - (H - L),
// r3 = H + 2(pp - L), s3 = L - 2(H - pp). Ready once a period has ended (the first one may be partial if
// the series starts mid-period).
class PivotPoints {
 public:
  explicit PivotPoints(std::int64_t period_length_ns = kNanosPerDay, std::int64_t period_offset_ns = 0);
  void update(const Bar& bar) noexcept;
  [[nodiscard]] bool ready() const noexcept { return ready_; }
  [[nodiscard]] double pp() const noexcept { return pp_; }
  [[nodiscard]] double r1() const noexcept { return r1_; }
  [[nodiscard]] double r2() const noexcept { return r2_; }
  [[nodiscard]] double r3() const noexcept { return r3_; }
  [[nodiscard]] double s1() const noexcept { return s1_; }
  [[nodiscard]] double s2() const noexcept { return s2_; }
  [[nodiscard]] double s3() const noexcept { return s3_; }
  void reset() noexcept;

 private:
  std::int64_t length_ns_, offset_ns_;
  std::int64_t period_id_ = 0;
  bool has_period_ = false;
  bool ready_ = false;
  double high_ = 0.0, low_ = 0.0, close_ = 0.0;  // of the period in progress
  double pp_ = 0.0, r1_ = 0.0, r2_ = 0.0, r3_ = 0.0, s1_ = 0.0, s2_ = 0.0, s3_ = 0.0;
};

}  // namespace enigma::strategy
