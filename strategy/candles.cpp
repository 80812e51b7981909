#include "strategy/candles.hpp"

#include <string>

namespace enigma::strategy {

void CandleConfig::validate() const {
  if (timeframe_count == 0 || timeframe_count > kMaxTimeframes) {
    throw Error("candle config: timeframe_count " + std::to_string(timeframe_count) + " must be in [1, " +
                std::to_string(kMaxTimeframes) + "]");
  }
  for (std::size_t i = 0; i < timeframe_count; ++i) {
    const std::uint32_t tf = timeframes_s[i];
    const std::string where = "candle config: timeframes_s[" + std::to_string(i) + "] = " + std::to_string(tf);
    if (tf == 0 || tf > kSecondsPerDay) throw Error(where + ": must be in [1, 86400] seconds");
    // Dividing the day keeps every bar aligned to UTC midnight, whatever the day.
    if (kSecondsPerDay % tf != 0) throw Error(where + ": must divide 86400 so bars align to UTC days");
    if (i > 0) {
      const std::uint32_t prev = timeframes_s[i - 1];
      if (tf <= prev || tf % prev != 0) {
        throw Error(where + ": must be a larger multiple of the previous timeframe " + std::to_string(prev) +
                    " so higher bars close with their last lower bar");
      }
    }
  }
  if (gap_policy == GapPolicy::fill_flat && max_fill_bars == 0) {
    throw Error("candle config: max_fill_bars must be > 0 with gap_policy fill_flat");
  }
}

TradeBarBuilder::TradeBarBuilder(const CandleConfig& config) : config_(config) {
  config_.validate();
  for (std::size_t i = 0; i < config_.timeframe_count; ++i) {
    tf_ns_[i] = static_cast<std::int64_t>(config_.timeframes_s[i]) * kNanosPerSecond;
  }
}

CandleResampler::CandleResampler(const CandleConfig& config) : config_(config) {
  config_.validate();
  for (std::size_t i = 0; i < config_.timeframe_count; ++i) {
    tf_ns_[i] = static_cast<std::int64_t>(config_.timeframes_s[i]) * kNanosPerSecond;
  }
}

}  // namespace enigma::strategy
