#include "risk/circuit_breaker.hpp"

#include <string>

#include "core/error.hpp"

namespace enigma::risk {

std::string_view to_string(BreakerState s) noexcept {
  switch (s) {
    case BreakerState::closed: return "CLOSED";
    case BreakerState::open: return "OPEN";
    case BreakerState::half_open: return "HALF_OPEN";
  }
  return "?";
}

void CircuitBreakerConfig::validate() const {
  if (failure_threshold < 1) throw Error("risk.breaker.failure_threshold: must be >= 1");
  if (cooldown_ns <= 0) throw Error("risk.breaker.cooldown_ns: must be > 0");
  if (loss_window_trades < 1 || loss_window_trades > kMaxLossWindow) {
    throw Error("risk.breaker.loss_window_trades: must be in 1.." + std::to_string(kMaxLossWindow));
  }
  if (max_loss_rate.raw() <= 0 || max_loss_rate.raw() > Rate::kScale) {
    throw Error("risk.breaker.max_loss_rate: must be in (0, 1]");
  }
}

CircuitBreaker::CircuitBreaker(const CircuitBreakerConfig& cfg) : cfg_(cfg) {
  cfg_.validate();
  // Smallest loss count whose rate reaches the limit: ceil(rate x window).
  const int128 num = static_cast<int128>(cfg_.max_loss_rate.raw()) * cfg_.loss_window_trades;
  loss_limit_ = static_cast<std::int64_t>((num + Rate::kScale - 1) / Rate::kScale);
}

void CircuitBreaker::open(std::int64_t now_ns) noexcept {
  state_ = BreakerState::open;
  opened_at_ns_ = now_ns;
  consecutive_failures_ = 0;
}

void CircuitBreaker::record_failure(std::int64_t now_ns) noexcept {
  const BreakerState s = state(now_ns);
  if (s == BreakerState::half_open) {
    open(now_ns);
    return;
  }
  if (s == BreakerState::open) return;
  if (++consecutive_failures_ >= cfg_.failure_threshold) open(now_ns);
}

void CircuitBreaker::record_success(std::int64_t now_ns) noexcept {
  const BreakerState s = state(now_ns);
  consecutive_failures_ = 0;
  if (s == BreakerState::half_open) {
    state_ = BreakerState::closed;
    // A fresh start: the losses that tripped it must not trip it again on the next trade.
    trade_head_ = trade_count_ = window_losses_ = 0;
  }
}

void CircuitBreaker::record_trade(bool loss, std::int64_t now_ns) noexcept {
  const BreakerState s = state(now_ns);
  if (s == BreakerState::half_open && loss) {
    open(now_ns);
    return;
  }
  const std::uint32_t w = cfg_.loss_window_trades;
  if (trade_count_ == w) {
    if (trades_[trade_head_]) --window_losses_;  // the oldest trade leaves the window
  } else {
    ++trade_count_;
  }
  trades_[trade_head_] = loss;
  if (loss) ++window_losses_;
  trade_head_ = (trade_head_ + 1) % w;
  if (s == BreakerState::closed && trade_count_ == w && window_losses_ >= loss_limit_) open(now_ns);
}

void CircuitBreaker::reset() noexcept {
  state_ = BreakerState::closed;
  consecutive_failures_ = 0;
  trade_head_ = trade_count_ = window_losses_ = 0;
}

}  // namespace enigma::risk
