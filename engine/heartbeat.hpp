// The log's heartbeat: one `heartbeat` line per interval of the run's clock (data time in a replay, the wall
// clock in paper and live), plus one `position` line per open position, so the log tells how the run is going
// between the order events (README "Log format").
//
// Runs on the thread that owns the trading core, between frames. Per frame it costs one compare (the feed
// lag) and per iteration one compare (is a beat due?); a beat copies two latency histograms (~34 KB each) to
// take the next interval's percentiles from, scans them and enqueues binary log records: no allocation, no
// lock, no formatting on this thread.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>

#include "core/attributes.hpp"
#include "core/histogram.hpp"
#include "core/instrument.hpp"

namespace enigma::engine {

class TradingCore;

class Heartbeat {
 public:
  // interval_ns <= 0: no heartbeat. Allocates its two histogram copies here (cold).
  Heartbeat(std::int64_t interval_ns, const InstrumentRegistry& registry);

  // Per frame: receive time minus the venue's time of the frame's latest event.
  ENIGMA_ALWAYS_INLINE void note_feed_lag(std::int64_t lag_ns) noexcept {
    if (lag_ns > max_lag_ns_) max_lag_ns_ = lag_ns;
  }
  // Between frames: logs a beat when `now_ns` reached the next one. `frames`: frames so far; `frame`: the
  // frame-latency histogram (TSC ticks) this thread records into.
  ENIGMA_ALWAYS_INLINE void maybe_beat(std::int64_t now_ns, std::uint64_t frames, const LatencyHistogram& frame,
                                       const TradingCore& core) noexcept {
    if (interval_ns_ > 0 && now_ns >= next_ns_) [[unlikely]] beat(now_ns, frames, frame, core);
  }

 private:
  ENIGMA_COLD void beat(std::int64_t now_ns, std::uint64_t frames, const LatencyHistogram& frame, const TradingCore& core) noexcept;

  static constexpr std::int64_t kNoLag = std::numeric_limits<std::int64_t>::min();

  std::int64_t interval_ns_;
  const InstrumentRegistry& registry_;
  std::int64_t next_ns_{std::numeric_limits<std::int64_t>::min()};  // the first call starts the clock
  std::int64_t last_ns_{0};
  std::uint64_t last_frames_{0};
  std::int64_t max_lag_ns_{kNoLag};
  bool started_{false};
  std::int64_t start_equity_raw_{0};
  std::unique_ptr<LatencyHistogram> frame_at_last_, order_at_last_;
};

}  // namespace enigma::engine
