// The engine's side of the admin endpoint: builds a StatusSnapshot from the trading core and the run's
// counters and hands it to the AdminServer at a fixed interval (DESIGN.md "The supervisor"). Runs on the
// thread that owns the trading core, between frames; the check for "due" is one TSC read.
#pragma once

#include <cstdint>

#include "core/instrument.hpp"
#include "engine/admin.hpp"
#include "engine/pipeline.hpp"
#include "engine/trading_core.hpp"
#include "strategy/candles.hpp"
#include "strategy/strategy.hpp"

namespace enigma::engine {

// What the run loop knows that the trading core does not.
struct FeedView {
  std::uint64_t frames{0}, events{0}, book_updates{0}, signals{0};
  std::uint64_t reconnects{0}, gaps{0}, resyncs{0};
  std::uint64_t last_frame_tsc{0};  // 0: no frame yet
  bool connected{true};
  const StageHistograms* stages{nullptr};  // histograms (TSC ticks) owned by this thread, or null
};

class StatusPublisher {
 public:
  StatusPublisher(AdminServer& server, const InstrumentRegistry& registry, const char* mode, std::int64_t interval_ns);

  // Publishes when the interval has passed (or always with `force`, e.g. at the end of the run).
  void maybe_publish(TradingCore& core, const FeedView& feed, bool running, bool force = false) noexcept;

  // Fills `s` (exposed for tests).
  void fill(StatusSnapshot& s, TradingCore& core, const FeedView& feed, bool running) const noexcept;
  // The account's rollout stage ("10%"), shown in /status and on the dashboard; a string that outlives this.
  void set_rollout_stage(const char* stage) noexcept { rollout_stage_ = stage; }

  // The strategies' latest scores for the dashboard's heatmap, at the same interval. Called on the thread
  // that owns the strategies (the fused loop, or the strategy thread of the pipelined topology), which may
  // differ from the one calling maybe_publish: the two keep separate state.
  void maybe_publish_signals(strategy::StrategyStage& strategies) noexcept;
  void fill_signals(SignalSnapshot& s, strategy::StrategyStage& strategies) const noexcept;
  // Timeframes for the heatmap's column names (the run's [strategy.*] candles).
  void set_timeframes(const strategy::CandleConfig& confluence, const strategy::CandleConfig& mean_reversion) noexcept {
    confluence_tf_ = confluence;
    mean_reversion_tf_ = mean_reversion;
  }

 private:
  AdminServer& server_;
  const InstrumentRegistry& registry_;
  const char* mode_;
  const char* rollout_stage_{""};
  std::uint64_t interval_ticks_;
  std::uint64_t next_tsc_{0};
  StatusSnapshot snap_{};
  std::uint64_t next_signals_tsc_{0};  // the strategies' thread only
  SignalSnapshot signals_{};
  strategy::CandleConfig confluence_tf_{};
  strategy::CandleConfig mean_reversion_tf_{};
};

}  // namespace enigma::engine
