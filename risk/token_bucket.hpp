// Message-rate token bucket on injected time (nanoseconds), exact integer arithmetic.
//
// Tokens are kept in nano-tokens so a rate of r tokens/s refills exactly r nano-tokens per nanosecond:
// no division and no drift however the refills are spaced.
#pragma once

#include <cstdint>

namespace enigma::risk {

struct TokenBucketConfig {
  std::uint32_t per_second{100};  // sustained rate; > 0
  std::uint32_t burst{20};        // capacity; >= 1
};

class TokenBucket {
 public:
  static constexpr std::int64_t kNanoPerToken = 1'000'000'000;

  TokenBucket() noexcept = default;
  // Starts full at `now_ns`.
  TokenBucket(TokenBucketConfig cfg, std::int64_t now_ns) noexcept
      : rate_(cfg.per_second), capacity_(static_cast<std::int64_t>(cfg.burst) * kNanoPerToken),
        fill_ns_(capacity_ / (rate_ > 0 ? rate_ : 1) + 1), tokens_(capacity_), last_ns_(now_ns) {}

  // Adds what accrued since the last refill; time going backwards adds nothing.
  void refill(std::int64_t now_ns) noexcept {
    if (now_ns <= last_ns_) return;
    std::int64_t elapsed = now_ns - last_ns_;
    last_ns_ = now_ns;
    // Past the time to fill from empty the bucket is full; this also keeps elapsed * rate in range.
    if (elapsed >= fill_ns_) {
      tokens_ = capacity_;
      return;
    }
    tokens_ += elapsed * rate_;
    if (tokens_ > capacity_) tokens_ = capacity_;
  }
  // True when one token is available at `now_ns` (refills first; consumes nothing).
  [[nodiscard]] bool can_take(std::int64_t now_ns) noexcept {
    refill(now_ns);
    return tokens_ >= kNanoPerToken;
  }
  // Takes one token (call after can_take returned true at the same time).
  void take() noexcept { tokens_ -= kNanoPerToken; }
  // Whole tokens available now (after the last refill).
  [[nodiscard]] std::int64_t available() const noexcept { return tokens_ / kNanoPerToken; }

 private:
  std::int64_t rate_{0};
  std::int64_t capacity_{0};
  std::int64_t fill_ns_{0};  // time to fill from empty (+1 ns)
  std::int64_t tokens_{0};
  std::int64_t last_ns_{0};
};

}  // namespace enigma::risk
