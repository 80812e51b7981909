// Candles: time bars built from trades (1 s .. 1 d, several timeframes at once) and higher-timeframe bars
// resampled from venue candles, with multi-timeframe alignment.
//
// Alignment: every bar covers [k * tf, (k + 1) * tf) seconds since the Unix epoch (UTC), and every timeframe
// of a set is a multiple of the previous one and divides one day. So the boundaries of a higher timeframe are
// also boundaries of every lower one, and a higher-timeframe bar closes in the very call that closes its last
// lower bar (emitted right after it). Prices and sizes come in fixed-point; closed bars go out as `Bar`
// (doubles, for the indicators) next to the exact fixed-point accumulator.
//
// Time only moves forward when told: a bar closes when a trade (or `advance_to`) shows a time at or after its
// end. An engine with a timer calls `advance_to(now)` so that bars close without waiting for the next trade.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.hpp"
#include "core/events.hpp"
#include "core/fixed_point.hpp"
#include "strategy/indicators.hpp"

namespace enigma::strategy {

inline constexpr std::size_t kMaxTimeframes = 8;
inline constexpr std::uint32_t kSecondsPerDay = 86'400;
inline constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

// What to do with an interval in which no trade happened.
enum class GapPolicy : std::uint8_t {
  skip,       // emit nothing for it; the next bar starts at the next trade's interval (series has holes)
  fill_flat,  // emit a flat bar (open = high = low = close = previous close, volume 0, `filled` set)
};

struct CandleConfig {
  // Strictly increasing; each in [1, 86400], divides 86400 and is a multiple of the previous one.
  std::array<std::uint32_t, kMaxTimeframes> timeframes_s{60};
  std::size_t timeframe_count = 1;
  GapPolicy gap_policy = GapPolicy::skip;
  // Upper bound of flat bars emitted per timeframe for one gap, so one call's work stays bounded; the rest
  // of a longer gap is skipped and counted in `truncated_gaps()`.
  std::uint32_t max_fill_bars = 1'440;

  // Throws enigma::Error naming the offending field.
  void validate() const;
  [[nodiscard]] std::span<const std::uint32_t> timeframes() const noexcept {
    return {timeframes_s.data(), timeframe_count};
  }
};

// Exact (fixed-point) running state of one bar.
struct BarAccumulator {
  std::int64_t start_ns = 0;
  Price open{}, high{}, low{}, close{};
  Qty volume{};
  Qty buy_volume{};  // taker-buy volume (aggressor buy); 0 for resampled venue candles
  std::uint32_t trade_count = 0;
  bool active = false;  // a bar is open (at least one trade since it started, or a filled bar)

  void start(std::int64_t start, Price p, Qty q, bool taker_buy) noexcept {
    start_ns = start;
    open = high = low = close = p;
    volume = q;
    buy_volume = taker_buy ? q : Qty{};
    trade_count = 1;
    active = true;
  }
  void add(Price p, Qty q, bool taker_buy) noexcept {
    if (p > high) high = p;
    if (p < low) low = p;
    close = p;
    volume += q;
    if (taker_buy) buy_volume += q;
    ++trade_count;
  }
  [[nodiscard]] Bar to_bar() const noexcept {
    return Bar{start_ns, open.to_double(), high.to_double(), low.to_double(), close.to_double(), volume.to_double()};
  }
};

// One bar handed to the close callback.
struct ClosedBar {
  Bar bar;                    // bar.time_ns = the bar's open time (start of its interval)
  BarAccumulator exact;       // the same bar in fixed-point
  std::uint32_t timeframe_s;  // its timeframe
  std::uint8_t tf_index;      // index into CandleConfig::timeframes()
  bool filled;                // synthetic flat bar for an interval with no trades (GapPolicy::fill_flat)
  bool partial;               // resampled bar missing some of its venue candles (CandleResampler only)
};

// Builds time bars of every configured timeframe from a trade stream. Hot path: noexcept, no allocation.
//   on_close: any callable `void(const ClosedBar&)`, called synchronously.
// Emission order within one call: timeframe by timeframe from the lowest, each one's bars in time order, so
// the lower bar that ends at a boundary is always emitted before the higher bar ending there.
class TradeBarBuilder {
 public:
  explicit TradeBarBuilder(const CandleConfig& config);  // throws enigma::Error on an invalid config

  // Adds one trade. Returns Errc::stale (and ignores it) when the trade belongs to a lowest-timeframe bar
  // that has already been emitted (out-of-order feed); every other trade is ok.
  template <class OnClose>
  Errc on_trade(std::int64_t time_ns, Price price, Qty qty, Side aggressor, OnClose&& on_close) noexcept;

  // Closes every bar whose interval ended at or before `now_ns` (and fills gaps up to now under fill_flat).
  template <class OnClose>
  void advance_to(std::int64_t now_ns, OnClose&& on_close) noexcept;

  [[nodiscard]] std::span<const std::uint32_t> timeframes() const noexcept { return config_.timeframes(); }
  // The bar in progress of timeframe i (inactive until its first trade).
  [[nodiscard]] const BarAccumulator& current(std::size_t i) const noexcept { return bars_[i]; }
  [[nodiscard]] std::uint64_t stale_trades() const noexcept { return stale_trades_; }
  [[nodiscard]] std::uint64_t truncated_gaps() const noexcept { return truncated_gaps_; }

 private:
  [[nodiscard]] std::int64_t tf_ns(std::size_t i) const noexcept { return tf_ns_[i]; }
  [[nodiscard]] std::int64_t floor_to(std::int64_t t, std::size_t i) const noexcept {
    const std::int64_t q = t / tf_ns_[i];
    return (t % tf_ns_[i] < 0 ? q - 1 : q) * tf_ns_[i];
  }
  template <class OnClose>
  void emit(std::size_t i, bool filled, OnClose& on_close) noexcept {
    on_close(ClosedBar{bars_[i].to_bar(), bars_[i], config_.timeframes_s[i], static_cast<std::uint8_t>(i), filled,
                       false});
  }
  // Closes timeframe i's bar if `t` is at or past its end; under fill_flat, then emits flat bars for the
  // whole intervals between the last emitted bar and the interval containing `t`.
  template <class OnClose>
  void roll(std::size_t i, std::int64_t t, OnClose& on_close) noexcept;

  CandleConfig config_;
  std::array<std::int64_t, kMaxTimeframes> tf_ns_{};
  std::array<BarAccumulator, kMaxTimeframes> bars_{};
  std::array<std::int64_t, kMaxTimeframes> next_start_{};  // end of the last bar emitted for timeframe i
  std::array<bool, kMaxTimeframes> has_close_{};          // timeframe i has emitted a bar
  std::uint64_t stale_trades_ = 0;
  std::uint64_t truncated_gaps_ = 0;
};

template <class OnClose>
void TradeBarBuilder::roll(std::size_t i, std::int64_t t, OnClose& on_close) noexcept {
  BarAccumulator& b = bars_[i];
  const std::int64_t len = tf_ns(i);
  if (b.active) {
    if (t < b.start_ns + len) return;
    emit(i, false, on_close);
    b.active = false;
    next_start_[i] = b.start_ns + len;
    has_close_[i] = true;
  }
  if (config_.gap_policy != GapPolicy::fill_flat || !has_close_[i]) return;
  // Whole intervals without a trade between the last emitted bar and the interval containing t.
  const std::int64_t t_start = floor_to(t, i);
  std::int64_t empties = (t_start - next_start_[i]) / len;
  if (empties <= 0) return;
  if (empties > static_cast<std::int64_t>(config_.max_fill_bars)) {
    ++truncated_gaps_;
    next_start_[i] = t_start - static_cast<std::int64_t>(config_.max_fill_bars) * len;
    empties = config_.max_fill_bars;
  }
  const Price c = b.close;  // the previous close carries through the gap
  for (std::int64_t k = 0; k < empties; ++k) {
    b.start_ns = next_start_[i];
    b.open = b.high = b.low = b.close = c;
    b.volume = Qty{};
    b.buy_volume = Qty{};
    b.trade_count = 0;
    emit(i, true, on_close);
    next_start_[i] += len;
  }
}

template <class OnClose>
Errc TradeBarBuilder::on_trade(std::int64_t time_ns, Price price, Qty qty, Side aggressor,
                               OnClose&& on_close) noexcept {
  const std::int64_t open_from = bars_[0].active ? bars_[0].start_ns : next_start_[0];
  if (has_close_[0] && time_ns < open_from) [[unlikely]] {
    ++stale_trades_;
    return Errc::stale;
  }
  const bool taker_buy = aggressor == Side::buy;
  for (std::size_t i = 0; i < config_.timeframe_count; ++i) {
    roll(i, time_ns, on_close);
    BarAccumulator& b = bars_[i];
    if (b.active) {
      b.add(price, qty, taker_buy);
    } else {
      b.start(floor_to(time_ns, i), price, qty, taker_buy);
    }
  }
  return Errc::ok;
}

template <class OnClose>
void TradeBarBuilder::advance_to(std::int64_t now_ns, OnClose&& on_close) noexcept {
  for (std::size_t i = 0; i < config_.timeframe_count; ++i) roll(i, now_ns, on_close);
}

// Resamples closed venue candles (core `Candle` events of one base interval) into higher timeframes.
// Each Candle event is taken as a closed candle (the feed emits one when the venue marks it final, e.g.
// Binance kline `x: true`). The base candle itself is emitted as tf_index 0; higher timeframes follow.
// A higher bar closes when the base candle ending at its boundary arrives. When base candles are missing
// (the venue skipped intervals with no trades), the higher bar that lost them closes as soon as a later
// candle shows its interval is over, flagged `partial`; its time range stays the aligned one.
class CandleResampler {
 public:
  // config.timeframes()[0] is the base interval of the venue candles. Throws enigma::Error when invalid.
  explicit CandleResampler(const CandleConfig& config);

  // start_ns: candle open time (EventHeader::venue_time_ns); interval_s: EventHeader::aux.
  // Errors (the candle is ignored): Errc::out_of_range if interval_s is not the base interval or start_ns is
  // not aligned to it; Errc::stale if it does not start after the previous candle.
  template <class OnClose>
  Errc on_candle(std::int64_t start_ns, std::uint32_t interval_s, const Candle& c, OnClose&& on_close) noexcept;

  [[nodiscard]] std::span<const std::uint32_t> timeframes() const noexcept { return config_.timeframes(); }

 private:
  CandleConfig config_;
  std::array<std::int64_t, kMaxTimeframes> tf_ns_{};
  std::array<BarAccumulator, kMaxTimeframes> bars_{};
  std::array<std::uint32_t, kMaxTimeframes> parts_{};  // base candles merged into the open higher bar
  std::int64_t last_start_ns_ = INT64_MIN;
};

template <class OnClose>
Errc CandleResampler::on_candle(std::int64_t start_ns, std::uint32_t interval_s, const Candle& c,
                                OnClose&& on_close) noexcept {
  const std::int64_t base = tf_ns_[0];
  if (interval_s != config_.timeframes_s[0] || start_ns % base != 0) [[unlikely]] return Errc::out_of_range;
  if (start_ns <= last_start_ns_) [[unlikely]] return Errc::stale;
  last_start_ns_ = start_ns;

  BarAccumulator base_bar;
  base_bar.start_ns = start_ns;
  base_bar.open = c.open;
  base_bar.high = c.high;
  base_bar.low = c.low;
  base_bar.close = c.close;
  base_bar.volume = c.volume;
  base_bar.active = true;
  on_close(ClosedBar{base_bar.to_bar(), base_bar, config_.timeframes_s[0], 0, false, false});

  const std::int64_t end_ns = start_ns + base;
  for (std::size_t i = 1; i < config_.timeframe_count; ++i) {
    BarAccumulator& b = bars_[i];
    const std::int64_t len = tf_ns_[i];
    const std::int64_t expected_parts = len / base;
    // A gap: the open higher bar ended before this candle started; close it as partial.
    if (b.active && start_ns >= b.start_ns + len) {
      on_close(ClosedBar{b.to_bar(), b, config_.timeframes_s[i], static_cast<std::uint8_t>(i), false,
                         parts_[i] != expected_parts});
      b.active = false;
    }
    if (!b.active) {
      const std::int64_t q = start_ns / len;
      b.start_ns = (start_ns % len < 0 ? q - 1 : q) * len;
      b.open = c.open;
      b.high = c.high;
      b.low = c.low;
      b.close = c.close;
      b.volume = c.volume;
      b.buy_volume = Qty{};
      b.trade_count = 0;
      b.active = true;
      parts_[i] = 1;
    } else {
      if (c.high > b.high) b.high = c.high;
      if (c.low < b.low) b.low = c.low;
      b.close = c.close;
      b.volume += c.volume;
      ++parts_[i];
    }
    if (end_ns == b.start_ns + len) {  // its last base candle: close exactly now
      on_close(ClosedBar{b.to_bar(), b, config_.timeframes_s[i], static_cast<std::uint8_t>(i), false,
                         parts_[i] != expected_parts});
      b.active = false;
    }
  }
  return Errc::ok;
}

}  // namespace enigma::strategy
