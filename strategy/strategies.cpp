// The bundled strategies' out-of-line code (headers in strategy/strategies/) and the intent helpers.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/error.hpp"
#include "core/logger.hpp"
#include "strategy/intent.hpp"
#include "strategy/strategies/confluence.hpp"
#include "strategy/strategies/imbalance_taker.hpp"
#include "strategy/strategies/mean_reversion.hpp"

namespace enigma::strategy {

const char* to_string(IntentReason r) noexcept {
  switch (r) {
    case IntentReason::signal_entry:
      return "signal_entry";
    case IntentReason::signal_exit:
      return "signal_exit";
    case IntentReason::mean_reversion_entry:
      return "mean_reversion_entry";
    case IntentReason::mean_reversion_exit:
      return "mean_reversion_exit";
    case IntentReason::imbalance_entry:
      return "imbalance_entry";
    case IntentReason::imbalance_exit:
      return "imbalance_exit";
  }
  return "?";
}

void StrategyCommonConfig::validate(const char* strategy) const {
  const std::string where = std::string(strategy) + " config: ";
  if (instrument == kInvalidInstrument) throw Error(where + "instrument: not set");
  if (order_qty.raw() <= 0) throw Error(where + "order_qty: must be > 0");
  if (lot.raw() <= 0 || !order_qty.is_multiple_of(lot))
    throw Error(where + "order_qty: " + order_qty.to_string() + " is not a multiple of the lot " + lot.to_string());
  if (tick.raw() <= 0) throw Error(where + "tick: must be > 0");
}

namespace {

// Rounding that keeps a suggested price on the conservative side for the order's side.
Rounding toward_passive(Side side) noexcept { return side == Side::buy ? Rounding::down : Rounding::up; }

}  // namespace

// ---- ConfluenceStrategy ------------------------------------------------------------------------------

void ConfluenceConfig::read(config::TableReader& s) {
  market_orders = s.boolean("market_orders", market_orders);
  read_timeframes(s, candles);
  bar_source = read_bar_source(s, bar_source);
  stop_atr_mult = s.real("stop_atr_mult", stop_atr_mult, 0.1, 100.0);
  take_profit_atr_mult = s.real("take_profit_atr_mult", take_profit_atr_mult, 0.1, 100.0);
  require_full_alignment = s.boolean("require_full_alignment", require_full_alignment);
  accuracy_horizon_bars = static_cast<int>(s.integer("accuracy_horizon_bars", accuracy_horizon_bars, 1, 100'000));
  read_weights(s.table_or_empty("weights"), signal.weights, nullptr);
  if (!(signal.weight_sum() > 0.0 && signal.weight_sum() <= kMaxSignalScore + 1e-9)) {
    // The table's own position when given, else [strategy.confluence]'s.
    s.fail("weights", "the weights must sum to a value in (0, 130], got " + std::to_string(signal.weight_sum()));
  }
  config::TableReader rt = s.table_or_empty("regime");
  RegimeConfig& rc = signal.regime;
  rc.volatile_atr_pct = rt.real("volatile_atr_pct", rc.volatile_atr_pct, 0.001, 1000.0);
  rc.trend_adx = rt.real("trend_adx", rc.trend_adx, 1.0, 99.0);
  for (std::size_t r = 0; r < kRegimeCount; ++r) {
    config::TableReader t = rt.table_or_empty(regime_key(static_cast<Regime>(r)));
    RegimeAdjustment& adj = rc.adjustments[r];
    regime_threshold_set[r] = t.has("threshold");
    adj.signal_threshold = t.real("threshold", adj.signal_threshold, 0.001, kMaxSignalScore);
    adj.leverage_cap = t.real("leverage_cap", adj.leverage_cap, 1.0, 125.0);
    read_weights(t.table_or_empty("weights"), signal.regime_weights[r], &signal.weights);
    double sum = 0.0;
    for (double w : signal.weights_in(static_cast<Regime>(r))) sum += w;
    if (!(sum > 0.0 && sum <= kMaxSignalScore + 1e-9))
      t.fail("weights", std::string("the weights in force in ") + regime_key(static_cast<Regime>(r)) +
                            " (its own and the base weights) must sum to a value in (0, 130], got " + std::to_string(sum));
    t.finish();
  }
  rt.finish();
}

void ConfluenceConfig::read_weights(config::TableReader t, std::array<double, kComponentCount>& into,
                                    const std::array<double, kComponentCount>* base) {
  for (std::size_t i = 0; i < kComponentCount; ++i) {
    const char* name = to_string(static_cast<Component>(i));
    if (base == nullptr) {
      into[i] = t.real(name, into[i], 0.0, kMaxSignalScore);
    } else if (t.has(name)) {
      into[i] = t.real(name, std::nullopt, 0.0, kMaxSignalScore);
    } else {
      (void)t.real(name, (*base)[i], 0.0, kMaxSignalScore);  // listed with the base weight as its default
    }
  }
  t.finish();
}

void ConfluenceConfig::validate() const {
  common.validate("confluence");
  signal.validate();
  candles.validate();
  flow.validate();
  if (!(stop_atr_mult > 0.0)) throw Error("confluence config: stop_atr_mult: must be > 0");
  if (!(take_profit_atr_mult > 0.0)) throw Error("confluence config: take_profit_atr_mult: must be > 0");
  if (intent_timeout_bars < 1) throw Error("confluence config: intent_timeout_bars: must be >= 1");
  if (accuracy_horizon_bars < 1) throw Error("confluence config: accuracy_horizon_bars: must be >= 1");
  if (roi_leverage < 0.0) throw Error("confluence config: roi_leverage: must be >= 0");
  if (roi_leverage > 0.0 && !(stop_loss_roi > 0.0 && stop_loss_roi < roi_leverage))
    throw Error("confluence config: stop_loss_roi: must be in (0, roi_leverage) with ROI stops");
  if (roi_leverage > 0.0 && !(take_profit_roi > 0.0)) throw Error("confluence config: take_profit_roi: must be > 0");
  for (std::size_t r = 0; r < kRegimeCount; ++r)
    if (regime_threshold_set[r] && !signal.use_regime_threshold)
      throw Error(std::string("confluence config: regime.") + regime_key(static_cast<Regime>(r)) +
                  ".threshold: has no effect: the tuned parameters' min_score is the threshold in every regime "
                  "(give one or the other)");
}

ConfluenceStrategy::ConfluenceStrategy(const ConfluenceConfig& config)
    : config_((config.validate(), config)),
      trade_bars_(config.candles),
      candle_bars_(config.candles),
      flow_(config.flow),
      accuracy_(static_cast<std::size_t>(config.accuracy_horizon_bars)) {
  scorers_.reserve(config.candles.timeframe_count);
  for (std::size_t i = 0; i < config.candles.timeframe_count; ++i) scorers_.emplace_back(config.signal);
  for (std::size_t r = 0; r < kRegimeCount; ++r) {  // the regime_change line's weights text
    std::string text;
    for (double w : config.signal.weights_in(static_cast<Regime>(r))) {
      char num[32];
      std::snprintf(num, sizeof num, "%.6g", w);
      text += (text.empty() ? "" : "/") + std::string(num);
    }
    weights_text_len_[r] = text.size();
    std::memcpy(weights_text_[r].data(), text.data(), std::min(text.size(), weights_text_[r].size()));
  }
}

void ConfluenceStrategy::on_book(const EventHeader& h, const BookTop& book, IntentBuffer&) noexcept {
  if (h.instrument != config_.common.instrument) return;
  flow_.on_book(book);
}

void ConfluenceStrategy::score_bar(std::size_t tf_index, const Bar& bar) noexcept {
  const OrderFlowFeatures* f = config_.use_order_flow ? &flow_.features() : nullptr;
  const SignalResult before = results_[tf_index];
  results_[tf_index] = scorers_[tf_index].on_bar(bar, f);
  const SignalResult& now = results_[tf_index];
  if (now.ready) {
    RegimeStats& st = regime_stats_[tf_index];
    ++st.bars[static_cast<std::size_t>(now.regime)];
    if (!before.ready || now.regime != before.regime) [[unlikely]] {
      if (before.ready) ++st.changes;
      // What the new regime puts in force: its threshold, leverage cap and the score's weights (slash-separated
      // in Component order; a text too long for one log record goes on a regime_weights line of its own).
      const std::size_t r = static_cast<std::size_t>(now.regime);
      const bool fits = weights_text_len_[r] <= logdetail::kMaxStringChars;
      ENIGMA_LOG_INFO("strategy", "regime_change timeframe={} from={} to={} bar_time={} atr={} threshold={} leverage_cap={} weights={}",
                      static_cast<std::uint32_t>(tf_index), LogLiteral{before.ready ? to_string(before.regime) : "none"},
                      LogLiteral{to_string(now.regime)}, bar.time_ns, now.atr, now.threshold, now.leverage_cap,
                      fits ? std::string_view(weights_text_[r].data(), weights_text_len_[r])
                           : std::string_view("regime_weights"));
      if (!fits) {
        const auto& w = scorers_[tf_index].weights(now.regime);
        ENIGMA_LOG_INFO("strategy",
                        "regime_weights timeframe={} regime={} rsi={} macd={} bollinger={} stochastic={} kdj={} "
                        "ema_trend={} adx={} volume={} divergence={} order_flow={}",
                        static_cast<std::uint32_t>(tf_index), LogLiteral{to_string(now.regime)}, w[0], w[1], w[2], w[3],
                        w[4], w[5], w[6], w[7], w[8], w[9]);
      }
    }
  }
  if (tf_index == 0) {
    lowest_closed_ = true;
    accuracy_.on_bar(now);
  }
}

void ConfluenceStrategy::on_trade(const EventHeader& h, const Trade& trade, IntentBuffer& out) noexcept {
  if (h.instrument != config_.common.instrument) return;
  const std::int64_t t = event_time_ns(h);
  flow_.on_trade(t, trade);
  if (config_.bar_source != BarSource::trades) return;
  lowest_closed_ = false;
  (void)trade_bars_.on_trade(t, trade.price, trade.qty, trade.aggressor,
                             [this](const ClosedBar& b) { score_bar(b.tf_index, b.bar); });
  if (lowest_closed_) decide(h.recv_tsc, out);
}

void ConfluenceStrategy::on_candle(const EventHeader& h, const Candle& candle, IntentBuffer& out) noexcept {
  if (h.instrument != config_.common.instrument || config_.bar_source != BarSource::venue_candles) return;
  lowest_closed_ = false;
  (void)candle_bars_.on_candle(h.venue_time_ns, h.aux, candle,
                               [this](const ClosedBar& b) { score_bar(b.tf_index, b.bar); });
  if (lowest_closed_) decide(h.recv_tsc, out);
}

void ConfluenceStrategy::on_bar(std::size_t tf_index, const Bar& bar, std::uint64_t trigger_tsc,
                                IntentBuffer& out) noexcept {
  if (tf_index >= scorers_.size()) return;
  score_bar(tf_index, bar);
  if (tf_index == 0) decide(trigger_tsc, out);
}

void ConfluenceStrategy::on_fill(const Fill& fill, IntentBuffer&) noexcept {
  if (fill.strategy_id != config_.common.strategy_id || fill.instrument != config_.common.instrument) return;
  position_.on_fill(fill.side, fill.qty);
  pending_bars_ = 0;
}

void ConfluenceStrategy::decide(std::uint64_t tsc, IntentBuffer& out) noexcept {
  lowest_closed_ = false;
  if (pending_bars_ > 0) {
    --pending_bars_;  // an intent is in flight: give it a few bars to fill before acting again
    return;
  }
  const std::size_t n = scorers_.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (!results_[i].ready) return;
  }
  const SignalResult& low = results_[0];
  const auto& common = config_.common;
  // The multi-timeframe view at every decision, flat or not: counted, and a change of alignment logged with
  // the score of each timeframe (one line each: the heatmap's row for this instrument).
  const MultiTimeframeSignal m = combine_timeframes({results_.data(), n});
  ++alignment_stats_.decisions[static_cast<std::size_t>(m.alignment)];
  if (!combined_ready_ || m.alignment != combined_.alignment) [[unlikely]] {
    if (combined_ready_) ++alignment_stats_.changes;
    ENIGMA_LOG_INFO("strategy", "alignment_change strategy={} from={} to={} score={} confidence={} direction={} timeframes={}",
                    common.strategy_id, LogLiteral{combined_ready_ ? to_string(combined_.alignment) : "none"},
                    LogLiteral{to_string(m.alignment)}, m.score, m.confidence, LogLiteral{to_string(m.direction)},
                    static_cast<std::uint32_t>(n));
    for (std::size_t i = 0; i < n; ++i)
      ENIGMA_LOG_INFO("strategy", "mtf_score strategy={} timeframe_s={} score={} direction={} threshold={}",
                      common.strategy_id, config_.candles.timeframes_s[i], results_[i].score,
                      LogLiteral{to_string(results_[i].direction)}, results_[i].threshold);
  }
  combined_ = m;
  combined_ready_ = true;

  if (!position_.flat()) {
    const bool against = (position_.long_() && low.direction == Direction::short_) ||
                         (position_.short_() && low.direction == Direction::long_);
    if (against) {
      const Side side = position_.long_() ? Side::sell : Side::buy;
      out.push(make_intent(common, side, IntentReason::signal_exit, true, position_.net().abs(), Price{},
                           price_on_tick(low.close, common.tick, Rounding::nearest), Price{}, Price{}, tsc));
      pending_bars_ = config_.intent_timeout_bars;
    }
    return;
  }

  if (m.direction == Direction::neutral) return;
  if (config_.require_full_alignment && m.alignment != Alignment::full) return;
  const Side side = m.direction == Direction::long_ ? Side::buy : Side::sell;
  const double dir = side == Side::buy ? 1.0 : -1.0;
  const Price limit = config_.market_orders ? Price{} : price_on_tick(low.close, common.tick, toward_passive(side));
  const bool roi = config_.roi_leverage > 0.0;
  const double stop_dist =
      roi ? low.close * config_.stop_loss_roi / config_.roi_leverage : config_.stop_atr_mult * low.atr;
  const double tp_dist =
      roi ? low.close * config_.take_profit_roi / config_.roi_leverage : config_.take_profit_atr_mult * low.atr;
  const Price stop = price_on_tick(low.close - dir * stop_dist, common.tick, toward_passive(side));
  const Price tp = price_on_tick(low.close + dir * tp_dist, common.tick, Rounding::nearest);
  last_entry_ = make_intent(common, side, IntentReason::signal_entry, false, common.order_qty, limit,
                            price_on_tick(low.close, common.tick, Rounding::nearest), stop, tp, tsc);
  // The regime's leverage cap travels with the entry; the risk side bounds the order's leverage by it.
  last_entry_.max_leverage = static_cast<std::uint8_t>(std::clamp(low.leverage_cap, 0.0, 255.0));
  out.push(last_entry_);
  pending_bars_ = config_.intent_timeout_bars;
}

// ---- MeanReversionStrategy ---------------------------------------------------------------------------

void MeanReversionConfig::read(config::TableReader& s) {
  market_orders = s.boolean("market_orders", market_orders);
  read_timeframes(s, candles);
  bar_source = read_bar_source(s, bar_source);
  rsi_period = static_cast<int>(s.integer("rsi_period", rsi_period, 2, 1000));
  rsi_oversold = s.real("rsi_oversold", rsi_oversold, 0.0, 100.0);
  rsi_overbought = s.real("rsi_overbought", rsi_overbought, 0.0, 100.0);
  bb_period = static_cast<int>(s.integer("bb_period", bb_period, 2, 1000));
  bb_sigma = s.real("bb_sigma", bb_sigma, 0.1, 10.0);
  if (!(rsi_oversold < rsi_overbought))
    s.fail("rsi_oversold", "rsi_oversold = " + std::to_string(rsi_oversold) +
                               " must be below rsi_overbought = " + std::to_string(rsi_overbought));
}

void MeanReversionConfig::validate() const {
  common.validate("mean-reversion");
  candles.validate();
  if (candles.timeframe_count != 1) throw Error("mean-reversion config: candles: exactly one timeframe");
  if (!(rsi_oversold > 0.0 && rsi_oversold < rsi_overbought && rsi_overbought < 100.0)) {
    throw Error("mean-reversion config: rsi_oversold/rsi_overbought: need 0 < oversold < overbought < 100");
  }
  if (!(stop_atr_mult > 0.0)) throw Error("mean-reversion config: stop_atr_mult: must be > 0");
  if (intent_timeout_bars < 1) throw Error("mean-reversion config: intent_timeout_bars: must be >= 1");
}

MeanReversionStrategy::MeanReversionStrategy(const MeanReversionConfig& config)
    : config_((config.validate(), config)),
      rsi_(config.rsi_period),
      bb_(config.bb_period, config.bb_sigma),
      atr_(config.atr_period),
      trade_bars_(config.candles),
      candle_bars_(config.candles) {}

void MeanReversionStrategy::on_trade(const EventHeader& h, const Trade& trade, IntentBuffer& out) noexcept {
  if (h.instrument != config_.common.instrument || config_.bar_source != BarSource::trades) return;
  (void)trade_bars_.on_trade(event_time_ns(h), trade.price, trade.qty, trade.aggressor,
                             [&](const ClosedBar& b) { on_bar(b.bar, h.recv_tsc, out); });
}

void MeanReversionStrategy::on_candle(const EventHeader& h, const Candle& candle, IntentBuffer& out) noexcept {
  if (h.instrument != config_.common.instrument || config_.bar_source != BarSource::venue_candles) return;
  (void)candle_bars_.on_candle(h.venue_time_ns, h.aux, candle,
                               [&](const ClosedBar& b) { on_bar(b.bar, h.recv_tsc, out); });
}

void MeanReversionStrategy::on_fill(const Fill& fill, IntentBuffer&) noexcept {
  if (fill.strategy_id != config_.common.strategy_id || fill.instrument != config_.common.instrument) return;
  position_.on_fill(fill.side, fill.qty);
  pending_bars_ = 0;
}

void MeanReversionStrategy::emit(Side side, IntentReason reason, bool reduce_only, Qty qty, double close, double stop,
                                 double tp, std::uint64_t tsc, IntentBuffer& out) noexcept {
  const auto& c = config_.common;
  const Price limit = config_.market_orders ? Price{} : price_on_tick(close, c.tick, toward_passive(side));
  out.push(make_intent(c, side, reason, reduce_only, qty, limit, price_on_tick(close, c.tick, Rounding::nearest),
                       price_on_tick(stop, c.tick, toward_passive(side)), price_on_tick(tp, c.tick, Rounding::nearest),
                       tsc));
  pending_bars_ = config_.intent_timeout_bars;
}

void MeanReversionStrategy::on_bar(const Bar& bar, std::uint64_t tsc, IntentBuffer& out) noexcept {
  rsi_.update(bar.close);
  bb_.update(bar.close);
  atr_.update(bar);
  if (pending_bars_ > 0) {
    --pending_bars_;
    return;
  }
  if (!rsi_.ready() || !bb_.ready() || !atr_.ready()) return;
  const double close = bar.close;
  const double rsi = rsi_.value();
  if (position_.flat()) {
    const double stop_dist = config_.stop_atr_mult * atr_.value();
    if (rsi < config_.rsi_oversold && close < bb_.lower()) {
      emit(Side::buy, IntentReason::mean_reversion_entry, false, config_.common.order_qty, close, close - stop_dist,
           bb_.middle(), tsc, out);
    } else if (rsi > config_.rsi_overbought && close > bb_.upper()) {
      emit(Side::sell, IntentReason::mean_reversion_entry, false, config_.common.order_qty, close, close + stop_dist,
           bb_.middle(), tsc, out);
    }
    return;
  }
  if (position_.long_() && close >= bb_.middle()) {
    emit(Side::sell, IntentReason::mean_reversion_exit, true, position_.net().abs(), close, 0.0, 0.0, tsc, out);
  } else if (position_.short_() && close <= bb_.middle()) {
    emit(Side::buy, IntentReason::mean_reversion_exit, true, position_.net().abs(), close, 0.0, 0.0, tsc, out);
  }
}

// ---- ImbalanceTaker ----------------------------------------------------------------------------------

void ImbalanceTakerConfig::read(config::TableReader& s) {
  depth = static_cast<std::uint32_t>(s.integer("depth", depth, 1, 50));
  entry_imbalance = s.real("entry_imbalance", entry_imbalance, 0.0, 1.0);
  exit_imbalance = s.real("exit_imbalance", exit_imbalance, 0.0, 1.0);
  confirm_updates = static_cast<std::uint32_t>(s.integer("confirm_updates", confirm_updates, 1, 1000));
  max_spread_bps = s.real("max_spread_bps", max_spread_bps, 0.0, 10000.0);
  cooldown_ns = s.integer("cooldown_ms", cooldown_ns / 1'000'000, 0, 86'400'000) * 1'000'000;
  stop_ticks = static_cast<std::uint32_t>(s.integer("stop_ticks", stop_ticks, 1, 1'000'000));
  take_profit_ticks = static_cast<std::uint32_t>(s.integer("take_profit_ticks", take_profit_ticks, 1, 1'000'000));
  if (!(exit_imbalance < entry_imbalance))
    s.fail("exit_imbalance", "exit_imbalance = " + std::to_string(exit_imbalance) +
                                 " must be below entry_imbalance = " + std::to_string(entry_imbalance) +
                                 " (else every entry exits on the next update)");
}

void ImbalanceTakerConfig::validate() const {
  common.validate("imbalance-taker");
  auto fail = [](const char* field, const char* why) {
    throw Error(std::string("imbalance-taker config: ") + field + ": " + why);
  };
  if (depth == 0) fail("depth", "must be > 0");
  if (!(entry_imbalance > 0.0 && entry_imbalance < 1.0)) fail("entry_imbalance", "must be in (0, 1)");
  if (!(exit_imbalance >= 0.0 && exit_imbalance < entry_imbalance)) fail("exit_imbalance", "must be in [0, entry)");
  if (confirm_updates == 0) fail("confirm_updates", "must be > 0");
  if (!(max_spread_bps > 0.0)) fail("max_spread_bps", "must be > 0");
  if (cooldown_ns < 0) fail("cooldown_ns", "must be >= 0");
  if (pending_timeout_ns <= 0) fail("pending_timeout_ns", "must be > 0");
}

ImbalanceTaker::ImbalanceTaker(const ImbalanceTakerConfig& config) : config_((config.validate(), config)) {}

void ImbalanceTaker::on_fill(const Fill& fill, IntentBuffer&) noexcept {
  if (fill.strategy_id != config_.common.strategy_id || fill.instrument != config_.common.instrument) return;
  position_.on_fill(fill.side, fill.qty);
  pending_until_ns_ = 0;
}

void ImbalanceTaker::on_book(const EventHeader& h, const BookTop& book, IntentBuffer& out) noexcept {
  if (h.instrument != config_.common.instrument || book.bids.empty() || book.asks.empty()) return;
  const std::int64_t now = event_time_ns(h);
  const double imb = book_imbalance(book, config_.depth);
  last_imbalance_ = imb;
  const int side_now = imb >= config_.entry_imbalance ? 1 : (imb <= -config_.entry_imbalance ? -1 : 0);
  if (side_now != 0 && side_now == streak_side_) {
    ++streak_;
  } else {
    streak_side_ = side_now;
    streak_ = side_now != 0 ? 1 : 0;
  }
  if (now < pending_until_ns_ || now < cooldown_until_ns_) return;

  const auto& c = config_.common;
  const Price bid = book.bids[0].price;
  const Price ask = book.asks[0].price;
  const Price slip = c.tick * static_cast<std::int64_t>(config_.slippage_ticks);
  auto emit = [&](Side side, IntentReason reason, bool reduce_only, Qty qty) {
    // Marketable limit: through the far touch by the allowed slippage.
    const Price far = side == Side::buy ? ask : bid;
    const Price limit = side == Side::buy ? ask + slip : bid - slip;
    const std::int64_t dir = side == Side::buy ? 1 : -1;
    const Price stop = reduce_only ? Price{} : far - c.tick * (dir * static_cast<std::int64_t>(config_.stop_ticks));
    const Price tp =
        reduce_only ? Price{} : far + c.tick * (dir * static_cast<std::int64_t>(config_.take_profit_ticks));
    // IOC: a taker order capped at `limit`; what the touch cannot fill at once is cancelled, never rests.
    out.push(make_intent(c, side, reason, reduce_only, qty, limit, far, stop, tp, h.recv_tsc, IntentTif::ioc));
    cooldown_until_ns_ = now + config_.cooldown_ns;
    pending_until_ns_ = now + config_.pending_timeout_ns;
  };

  if (position_.flat()) {
    if (streak_ < config_.confirm_updates || streak_side_ == 0) return;
    const double mid = 0.5 * (bid.to_double() + ask.to_double());
    const double spread_bps = mid > 0.0 ? 1e4 * (ask - bid).to_double() / mid : 0.0;
    if (spread_bps > config_.max_spread_bps) return;
    emit(streak_side_ > 0 ? Side::buy : Side::sell, IntentReason::imbalance_entry, false, c.order_qty);
    return;
  }
  if (position_.long_() && imb <= -config_.exit_imbalance) {
    emit(Side::sell, IntentReason::imbalance_exit, true, position_.net().abs());
  } else if (position_.short_() && imb >= config_.exit_imbalance) {
    emit(Side::buy, IntentReason::imbalance_exit, true, position_.net().abs());
  }
}

}  // namespace enigma::strategy
