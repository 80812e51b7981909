#include "engine/heartbeat.hpp"

#include "core/clock.hpp"
#include "core/logger.hpp"
#include "engine/trading_core.hpp"

namespace enigma::engine {

Heartbeat::Heartbeat(std::int64_t interval_ns, const InstrumentRegistry& registry)
    : interval_ns_(interval_ns), registry_(registry) {
  if (interval_ns_ > 0) {
    frame_at_last_ = std::make_unique<LatencyHistogram>();
    order_at_last_ = std::make_unique<LatencyHistogram>();
  }
}

void Heartbeat::beat(std::int64_t now_ns, std::uint64_t frames, const LatencyHistogram& frame, const TradingCore& core) noexcept {
  if (!started_) {  // the first frame starts the clock (a replay's data time is known only now)
    started_ = true;
    last_ns_ = now_ns;
    last_frames_ = frames;
    start_equity_raw_ = core.last_equity().raw();
    *frame_at_last_ = frame;
    *order_at_last_ = core.hist_order;
    next_ns_ = now_ns + interval_ns_;
    return;
  }
  const double npt = TscClock::instance().ns_per_tick();
  auto ns = [npt](std::int64_t ticks) { return static_cast<std::int64_t>(static_cast<double>(ticks) * npt); };
  const std::int64_t elapsed = now_ns - last_ns_;
  const std::uint64_t n = frames - last_frames_;
  const std::uint64_t per_s = elapsed > 0 ? static_cast<std::uint64_t>(static_cast<double>(n) * 1e9 / static_cast<double>(elapsed)) : 0;
  const Notional equity = core.last_equity();
  const Notional drawdown = core.peak_equity() > equity ? core.peak_equity() - equity : Notional{};
  std::uint64_t open = 0;
  for (std::size_t i = 0; i < core.traded_count(); ++i)
    if (!core.position(static_cast<InstrumentId>(i)).qty.is_zero()) ++open;
  ENIGMA_LOG_INFO("engine",
                  "heartbeat frames={} frames_per_s={} frame_p50_ns={} frame_p99_ns={} order_p50_ns={} order_p99_ns={} orders={} "
                  "fills={} positions={} equity={} pnl={} drawdown={} feed_lag_us={}",
                  n, per_s, ns(frame.percentile_since(*frame_at_last_, 50)), ns(frame.percentile_since(*frame_at_last_, 99)),
                  ns(core.hist_order.percentile_since(*order_at_last_, 50)), ns(core.hist_order.percentile_since(*order_at_last_, 99)),
                  core.counters().orders, core.counters().fills, open, equity, Notional::from_raw(equity.raw() - start_equity_raw_),
                  drawdown, max_lag_ns_ == kNoLag ? std::int64_t{-1} : max_lag_ns_ / 1000);
  for (std::size_t i = 0; i < core.traded_count(); ++i) {
    const auto id = static_cast<InstrumentId>(i);
    const oms::SimPosition& p = core.position(id);
    if (p.qty.is_zero()) continue;
    ENIGMA_LOG_INFO("engine", "position instrument={} qty={} entry_notional={} realized={}", registry_.get(id).symbol, p.qty,
                    p.entry_notional, p.realized_pnl);
  }
  *frame_at_last_ = frame;
  *order_at_last_ = core.hist_order;
  last_ns_ = now_ns;
  last_frames_ = frames;
  max_lag_ns_ = kNoLag;
  // The next beat on the interval grid; a gap in the data (or a stalled loop) gives one beat, not a burst.
  next_ns_ += interval_ns_;
  if (next_ns_ <= now_ns) next_ns_ = now_ns + interval_ns_ - (now_ns - next_ns_) % interval_ns_;
}

}  // namespace enigma::engine
