#include "strategy/signal.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"

namespace enigma::strategy {

namespace {

double clamp1(double x) noexcept { return std::clamp(x, -1.0, 1.0); }

double sign(double x) noexcept { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0); }

}  // namespace

double level_score(double v, double low, double high) noexcept {
  if (v < 50.0) return std::min(1.0, (50.0 - v) / (50.0 - low));
  return -std::min(1.0, (v - 50.0) / (high - 50.0));
}

const char* to_string(Component c) noexcept {
  static constexpr const char* kNames[kComponentCount] = {"rsi", "macd", "bollinger", "stochastic", "kdj",
                                                          "ema_trend", "adx", "volume", "divergence", "order_flow"};
  return kNames[static_cast<std::size_t>(c)];
}
const char* to_string(Direction d) noexcept {
  return d == Direction::long_ ? "long" : (d == Direction::short_ ? "short" : "neutral");
}
const char* to_string(Alignment a) noexcept {
  return a == Alignment::full ? "full" : (a == Alignment::partial ? "partial" : "divergent");
}
double SignalConfig::weight_sum() const noexcept {
  double s = 0.0;
  for (double w : weights) s += w;
  return s;
}

std::array<double, kComponentCount> SignalConfig::weights_in(Regime r) const noexcept {
  std::array<double, kComponentCount> w = weights;
  const auto& over = regime_weights[static_cast<std::size_t>(r)];
  for (std::size_t i = 0; i < kComponentCount; ++i)
    if (over[i] >= 0.0) w[i] = over[i];
  return w;
}

void SignalConfig::validate() const {
  auto fail = [](const std::string& field, const std::string& why) {
    throw Error("signal config: " + field + ": " + why);
  };
  for (std::size_t i = 0; i < kComponentCount; ++i) {
    if (!(weights[i] >= 0.0)) fail(std::string("weights.") + to_string(static_cast<Component>(i)), "must be >= 0");
  }
  const double sum = weight_sum();
  if (!(sum > 0.0) || sum > kMaxSignalScore + 1e-9) fail("weights", "must sum to a value in (0, 130]");
  for (std::size_t r = 0; r < kRegimeCount; ++r) {
    const auto regime = static_cast<Regime>(r);
    const std::string where = std::string("regime_weights.") + to_string(regime);
    for (std::size_t i = 0; i < kComponentCount; ++i) {
      const double w = regime_weights[r][i];
      if (!(w >= 0.0 || w == kBaseWeight)) fail(where + "." + to_string(static_cast<Component>(i)), "must be >= 0");
    }
    double rs = 0.0;
    for (double w : weights_in(regime)) rs += w;
    if (!(rs > 0.0) || rs > kMaxSignalScore + 1e-9) fail(where, "must sum to a value in (0, 130]");
  }
  if (!(rsi_oversold > 0.0 && rsi_oversold < 50.0)) fail("rsi_oversold", "must be in (0, 50)");
  if (!(rsi_overbought > 50.0 && rsi_overbought < 100.0)) fail("rsi_overbought", "must be in (50, 100)");
  if (!(stoch_oversold > 0.0 && stoch_oversold < 50.0)) fail("stoch_oversold", "must be in (0, 50)");
  if (!(stoch_overbought > 50.0 && stoch_overbought < 100.0)) fail("stoch_overbought", "must be in (50, 100)");
  if (ema_fast < 1 || ema_slow <= ema_fast) fail("ema_fast/ema_slow", "need 1 <= ema_fast < ema_slow");
  if (!(ema_full_gap_pct > 0.0)) fail("ema_full_gap_pct", "must be > 0");
  if (!(adx_weak >= 0.0 && adx_strong > adx_weak && adx_strong <= 100.0)) {
    fail("adx_weak/adx_strong", "need 0 <= adx_weak < adx_strong <= 100");
  }
  if (volume_window < 1 || volume_window > 10'000) fail("volume_window", "must be in [1, 10000]");
  if (divergence_memory_bars < 1) fail("divergence_memory_bars", "must be >= 1");
  if (!(signal_threshold > 0.0 && signal_threshold <= kMaxSignalScore)) fail("signal_threshold", "must be in (0, 130]");
  divergence.validate();
  regime.validate();
  // Indicator periods are validated by the indicator constructors, which name the parameter.
}

SignalScorer::SignalScorer(const SignalConfig& config)
    : config_((config.validate(), config)),
      rsi_(config.rsi_period),
      macd_(config.macd_fast, config.macd_slow, config.macd_signal),
      bb_(config.bb_period, config.bb_sigma),
      stoch_(config.stoch_k, config.stoch_slow_k, config.stoch_d),
      kdj_(config.kdj_n, config.kdj_m1, config.kdj_m2),
      ema_fast_(config.ema_fast),
      ema_slow_(config.ema_slow),
      adx_(config.adx_period),
      atr_(config.atr_period),
      div_{DivergenceDetector(config.divergence), DivergenceDetector(config.divergence),
           DivergenceDetector(config.divergence)},
      obv_ring_(static_cast<std::size_t>(config.volume_window) + 1, 0.0),
      vol_ring_(static_cast<std::size_t>(config.volume_window), 0.0) {
  for (std::size_t r = 0; r < kRegimeCount; ++r) {
    weights_[r] = config.weights_in(static_cast<Regime>(r));
    weight_sums_[r] = 0.0;
    for (double w : weights_[r]) weight_sums_[r] += w;
  }
}

void SignalScorer::reset() noexcept {
  rsi_.reset();
  macd_.reset();
  bb_.reset();
  stoch_.reset();
  kdj_.reset();
  ema_fast_.reset();
  ema_slow_.reset();
  adx_.reset();
  atr_.reset();
  obv_.reset();
  for (auto& d : div_) d.reset();
  last_div_ = {};
  obv_pos_ = vol_pos_ = obv_count_ = 0;
  vol_sum_ = 0.0;
  prev_hist_ = 0.0;
  prev_hist_valid_ = macd_cross_up_ = macd_cross_down_ = false;
  close_ = 0.0;
  bull_div_ = bear_div_ = 0.0;
  bull_div_bar_ = bear_div_bar_ = -1;
  bars_ = 0;
}

void SignalScorer::update(const Bar& bar) noexcept {
  const double c = bar.close;
  close_ = c;
  rsi_.update(c);
  macd_.update(c);
  bb_.update(c);
  stoch_.update(bar);
  kdj_.update(bar);
  ema_fast_.update(c);
  ema_slow_.update(c);
  adx_.update(bar);
  atr_.update(bar);
  obv_.update(bar);

  // MACD histogram zero cross on this bar.
  macd_cross_up_ = macd_cross_down_ = false;
  if (macd_.ready()) {
    const double h = macd_.hist();
    if (prev_hist_valid_) {
      macd_cross_up_ = prev_hist_ <= 0.0 && h > 0.0;
      macd_cross_down_ = prev_hist_ >= 0.0 && h < 0.0;
    }
    prev_hist_ = h;
    prev_hist_valid_ = true;
  }

  // Volume term rings: OBV now and n bars ago, and the volume of the n bars in between.
  const std::size_t n = vol_ring_.size();
  obv_ring_[obv_pos_] = obv_.value();
  obv_pos_ = obv_pos_ + 1 == obv_ring_.size() ? 0 : obv_pos_ + 1;
  if (obv_count_ < obv_ring_.size()) ++obv_count_;
  if (obv_count_ > 1) {  // the first bar only seeds OBV; its volume has no direction
    vol_sum_ -= vol_ring_[vol_pos_];
    vol_ring_[vol_pos_] = bar.volume;
    vol_sum_ += bar.volume;
    vol_pos_ = vol_pos_ + 1 == n ? 0 : vol_pos_ + 1;
    if (vol_pos_ == 0) {  // once per lap: recompute the sum so rounding cannot drift
      vol_sum_ = 0.0;
      for (double v : vol_ring_) vol_sum_ += v;
    }
  }

  // Divergences of price against RSI, the MACD line and OBV (NaN while an indicator warms up).
  const double nan = std::nan("");
  const std::int64_t bar_index = bars_;
  last_div_[0] = div_[0].update(bar.high, bar.low, rsi_.ready() ? rsi_.value() : nan);
  last_div_[1] = div_[1].update(bar.high, bar.low, macd_.ready() ? macd_.macd() : nan);
  last_div_[2] = div_[2].update(bar.high, bar.low, obv_.ready() ? obv_.value() : nan);
  for (const auto& u : last_div_) {
    if (u.bullish.kind != DivergenceKind::none) {
      const double s = u.bullish.kind == DivergenceKind::regular_bullish ? 1.0 : 0.5;
      if (bull_div_bar_ != bar_index || s > bull_div_) bull_div_ = s;
      bull_div_bar_ = bar_index;
    }
    if (u.bearish.kind != DivergenceKind::none) {
      const double s = u.bearish.kind == DivergenceKind::regular_bearish ? 1.0 : 0.5;
      if (bear_div_bar_ != bar_index || s > bear_div_) bear_div_ = s;
      bear_div_bar_ = bar_index;
    }
  }
  ++bars_;
}

SignalResult SignalScorer::evaluate(const OrderFlowFeatures* flow) const noexcept {
  SignalResult r;
  auto& c = r.contributions;
  auto idx = [](Component k) { return static_cast<std::size_t>(k); };

  // The regime first: its weights score this bar.
  RegimeInputs in;
  in.close = close_;
  in.atr = atr_.value();
  in.atr_ready = atr_.ready();
  in.adx = adx_.value();
  in.plus_di = adx_.plus_di();
  in.minus_di = adx_.minus_di();
  in.adx_ready = adx_.ready();
  r.regime = classify_regime(in, config_.regime);
  const auto& w = weights_[static_cast<std::size_t>(r.regime)];

  if (rsi_.ready()) {
    c[idx(Component::rsi)] = w[idx(Component::rsi)] * level_score(rsi_.value(), config_.rsi_oversold, config_.rsi_overbought);
  }
  if (macd_.ready()) {
    const double wm = w[idx(Component::macd)];
    c[idx(Component::macd)] = macd_cross_up_ ? wm : (macd_cross_down_ ? -wm : 0.5 * wm * sign(macd_.hist()));
  }
  if (bb_.ready()) {
    const double width = bb_.upper() - bb_.lower();
    if (width > 0.0) {
      const double pct_b = (close_ - bb_.lower()) / width;
      c[idx(Component::bollinger)] = w[idx(Component::bollinger)] * clamp1(1.0 - 2.0 * pct_b);
    }
  }
  if (stoch_.ready()) {
    c[idx(Component::stochastic)] =
        w[idx(Component::stochastic)] * level_score(stoch_.k(), config_.stoch_oversold, config_.stoch_overbought);
  }
  if (kdj_.ready()) c[idx(Component::kdj)] = w[idx(Component::kdj)] * clamp1((50.0 - kdj_.j()) / 50.0);

  double strength = 0.0;
  if (adx_.ready()) {
    strength = std::clamp((adx_.value() - config_.adx_weak) / (config_.adx_strong - config_.adx_weak), 0.0, 1.0);
    c[idx(Component::adx)] = w[idx(Component::adx)] * strength * sign(adx_.plus_di() - adx_.minus_di());
  }
  if (ema_fast_.ready() && ema_slow_.ready() && ema_slow_.value() != 0.0) {
    const double gap_pct = 100.0 * (ema_fast_.value() - ema_slow_.value()) / ema_slow_.value();
    c[idx(Component::ema_trend)] =
        w[idx(Component::ema_trend)] * clamp1(gap_pct / config_.ema_full_gap_pct) * (0.5 + 0.5 * strength);
  }
  if (obv_count_ == obv_ring_.size() && vol_sum_ > 0.0) {
    // obv_pos_ is the oldest slot (n bars before the newest) once the ring is full.
    const std::size_t newest = obv_pos_ == 0 ? obv_ring_.size() - 1 : obv_pos_ - 1;
    const double delta = obv_ring_[newest] - obv_ring_[obv_pos_];
    c[idx(Component::volume)] = w[idx(Component::volume)] * clamp1(delta / vol_sum_);
  }
  {
    const std::int64_t newest_bar = bars_ - 1;
    const std::int64_t memory = config_.divergence_memory_bars;
    const double bull = bull_div_bar_ >= 0 && newest_bar - bull_div_bar_ < memory ? bull_div_ : 0.0;
    const double bear = bear_div_bar_ >= 0 && newest_bar - bear_div_bar_ < memory ? bear_div_ : 0.0;
    c[idx(Component::divergence)] = w[idx(Component::divergence)] * clamp1(bull - bear);
  }
  if (flow != nullptr && flow->book_valid) {
    c[idx(Component::order_flow)] =
        w[idx(Component::order_flow)] * clamp1(0.5 * (flow->book_imbalance + flow->trade_imbalance));
  }

  double sum = 0.0;
  double abs_sum = 0.0;
  for (double x : c) {
    sum += x;
    abs_sum += std::fabs(x);
  }
  r.score = std::clamp(sum, -kMaxSignalScore, kMaxSignalScore);
  const double agreement = abs_sum > 0.0 ? std::fabs(sum) / abs_sum : 0.0;
  r.confidence = std::min(
      100.0, 100.0 * std::sqrt(std::fabs(r.score) / weight_sums_[static_cast<std::size_t>(r.regime)]) * agreement);

  const RegimeAdjustment& adj = config_.regime.adjustment(r.regime);
  r.threshold = config_.use_regime_threshold ? adj.signal_threshold : config_.signal_threshold;
  r.leverage_cap = adj.leverage_cap;
  r.direction = direction_of(r.score, r.threshold);
  r.atr = atr_.ready() ? atr_.value() : 0.0;
  r.close = close_;
  r.ready = rsi_.ready() && macd_.ready() && bb_.ready() && stoch_.ready() && kdj_.ready() && ema_slow_.ready() &&
            adx_.ready() && atr_.ready() && obv_count_ == obv_ring_.size();
  return r;
}

Direction direction_of(double score, double threshold) noexcept {
  if (score >= threshold) return Direction::long_;
  if (score <= -threshold) return Direction::short_;
  return Direction::neutral;
}

Alignment alignment_of(std::span<const Direction> directions) noexcept {
  bool any_long = false, any_short = false, any_neutral = directions.empty();
  for (Direction d : directions) {
    any_long |= d == Direction::long_;
    any_short |= d == Direction::short_;
    any_neutral |= d == Direction::neutral;
  }
  if (any_long && any_short) return Alignment::divergent;
  if (!any_neutral) return Alignment::full;
  return Alignment::partial;
}

MultiTimeframeSignal combine_timeframes(std::span<const SignalResult> lowest_first) noexcept {
  MultiTimeframeSignal m;
  if (lowest_first.empty()) return m;
  bool any_long = false, any_short = false, any_neutral = false;
  double score = 0.0, confidence = 0.0;
  for (const SignalResult& r : lowest_first) {
    score += r.score;
    confidence += r.confidence;
    any_long |= r.direction == Direction::long_;
    any_short |= r.direction == Direction::short_;
    any_neutral |= r.direction == Direction::neutral;
  }
  const double n = static_cast<double>(lowest_first.size());
  m.score = score / n;
  m.alignment = (any_long && any_short) ? Alignment::divergent : (any_neutral ? Alignment::partial : Alignment::full);
  const double factor = m.alignment == Alignment::full ? 1.0 : (m.alignment == Alignment::partial ? 0.7 : 0.3);
  m.confidence = confidence / n * factor;
  m.direction = m.alignment == Alignment::divergent ? Direction::neutral
                                                    : direction_of(m.score, lowest_first.front().threshold);
  return m;
}

}  // namespace enigma::strategy
