// Circuit breaker on injected time.
//
//   CLOSED --(N consecutive failures, or loss rate over the last W trades >= limit)--> OPEN
//   OPEN --(cool-down elapsed, seen on the next call)--> HALF_OPEN
//   HALF_OPEN --(one success)--> CLOSED        HALF_OPEN --(failure or losing trade)--> OPEN (new cool-down)
//
// "Failure" is whatever the owner says it is (the risk gate reports venue rejects; the OMS adds timeouts
// and 5xx answers). While OPEN, the gate lets only exposure-reducing orders through; HALF_OPEN lets
// orders through as probes. Single-threaded (lives on the OMS thread).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "core/fixed_point.hpp"

namespace enigma::risk {

enum class BreakerState : std::uint8_t { closed, open, half_open };
[[nodiscard]] std::string_view to_string(BreakerState s) noexcept;

struct CircuitBreakerConfig {
  std::uint32_t failure_threshold{5};             // consecutive failures that open the breaker; >= 1
  std::int64_t cooldown_ns{30'000'000'000};       // OPEN -> HALF_OPEN after this; > 0
  std::uint32_t loss_window_trades{20};           // trades in the loss-rate window; 1..kMaxLossWindow
  Rate max_loss_rate{Rate::from_raw(Rate::kScale * 7 / 10)};  // losses / window that open it; (0, 1]
  static constexpr std::uint32_t kMaxLossWindow = 256;
  // Throws enigma::Error naming the offending field.
  void validate() const;
};

class CircuitBreaker {
 public:
  CircuitBreaker() : CircuitBreaker(CircuitBreakerConfig{}) {}
  explicit CircuitBreaker(const CircuitBreakerConfig& cfg);  // validates

  // Current state at `now_ns` (moves OPEN -> HALF_OPEN once the cool-down has passed).
  [[nodiscard]] BreakerState state(std::int64_t now_ns) noexcept {
    if (state_ == BreakerState::open && now_ns - opened_at_ns_ >= cfg_.cooldown_ns) state_ = BreakerState::half_open;
    return state_;
  }
  // State as last computed (no time step).
  [[nodiscard]] BreakerState last_state() const noexcept { return state_; }

  void record_failure(std::int64_t now_ns) noexcept;
  void record_success(std::int64_t now_ns) noexcept;
  // One closed trade: a loss counts toward the loss rate (and reopens from HALF_OPEN).
  void record_trade(bool loss, std::int64_t now_ns) noexcept;
  // Person's override: back to CLOSED with counters cleared.
  void reset() noexcept;

  [[nodiscard]] std::uint32_t consecutive_failures() const noexcept { return consecutive_failures_; }

 private:
  void open(std::int64_t now_ns) noexcept;

  CircuitBreakerConfig cfg_;
  std::int64_t loss_limit_{0};  // losses in a full window that trip the breaker
  BreakerState state_{BreakerState::closed};
  std::int64_t opened_at_ns_{0};
  std::uint32_t consecutive_failures_{0};
  std::array<bool, CircuitBreakerConfig::kMaxLossWindow> trades_{};  // ring of the last W trades: loss?
  std::uint32_t trade_head_{0};
  std::uint32_t trade_count_{0};
  std::uint32_t window_losses_{0};
};

}  // namespace enigma::risk
