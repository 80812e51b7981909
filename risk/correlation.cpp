#include "risk/correlation.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"

namespace enigma::risk {

ReturnCorrelation::ReturnCorrelation(std::size_t instruments, std::size_t window, std::int64_t interval_ns)
    : n_(std::min(instruments, kMaxInstruments)), window_(window), interval_ns_(interval_ns) {
  if (window < 2) throw Error("risk.correlation_window: must be >= 2 (got " + std::to_string(window) + ")");
  if (interval_ns <= 0) throw Error("risk.correlation_interval_s: must be > 0");
  last_.assign(n_, 0.0);
  close_.assign(n_, 0.0);
  ring_.assign(window_ * n_, 0.0);
  rho_.assign(n_ * n_, 0.0);
  for (std::size_t i = 0; i < n_; ++i) rho_[i * n_ + i] = 1.0;
}

std::size_t ReturnCorrelation::on_price(std::size_t id, Price price, std::int64_t now_ns) noexcept {
  if (n_ == 0) return 0;
  std::size_t closed = 0;
  if (end_ns_ == 0) {
    end_ns_ = (now_ns / interval_ns_ + 1) * interval_ns_;
  } else if (now_ns >= end_ns_) {
    // Every interval that ended before this price; past `window` empty ones the window holds only zeros
    // either way, so the rest are skipped.
    const std::int64_t ended = (now_ns - end_ns_) / interval_ns_ + 1;
    const std::int64_t run = std::min<std::int64_t>(ended, static_cast<std::int64_t>(window_) + 1);
    for (std::int64_t k = 0; k < run; ++k) {
      last_close_ns_ = end_ns_ + (ended - run + k) * interval_ns_;
      const std::uint64_t before = rows_;
      close_interval();
      closed += rows_ != before;
    }
    end_ns_ += ended * interval_ns_;
    if (closed != 0) recompute();
  }
  if (id < n_) last_[id] = price.to_double();
  return closed;
}

void ReturnCorrelation::close_interval() noexcept {
  for (std::size_t i = 0; i < n_; ++i)
    if (last_[i] <= 0.0) return;  // not every instrument has traded yet
  const bool have_previous = close_[0] > 0.0;
  if (have_previous) {
    double* row = &ring_[(rows_ % window_) * n_];
    for (std::size_t i = 0; i < n_; ++i) row[i] = std::log(last_[i] / close_[i]);
    ++rows_;
  }
  for (std::size_t i = 0; i < n_; ++i) close_[i] = last_[i];
}

void ReturnCorrelation::recompute() noexcept {
  if (rows_ < window_) return;
  // Two passes per pair (mean, then centred sums): exact enough for returns of 1e-4 without cancellation.
  double mean[kMaxInstruments];
  for (std::size_t i = 0; i < n_; ++i) {
    double s = 0.0;
    for (std::size_t r = 0; r < window_; ++r) s += ring_[r * n_ + i];
    mean[i] = s / static_cast<double>(window_);
  }
  for (std::size_t i = 0; i < n_; ++i) {
    for (std::size_t j = i + 1; j < n_; ++j) {
      double sxy = 0.0, sxx = 0.0, syy = 0.0;
      for (std::size_t r = 0; r < window_; ++r) {
        const double x = ring_[r * n_ + i] - mean[i], y = ring_[r * n_ + j] - mean[j];
        sxy += x * y;
        sxx += x * x;
        syy += y * y;
      }
      const double v = sxx > 0.0 && syy > 0.0 ? sxy / std::sqrt(sxx * syy) : 0.0;
      rho_[i * n_ + j] = rho_[j * n_ + i] = v;
    }
  }
}

}  // namespace enigma::risk
