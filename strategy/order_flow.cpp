#include "strategy/order_flow.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "core/error.hpp"

namespace enigma::strategy {

double book_imbalance(const BookTop& book, std::size_t depth) noexcept {
  int128 bid = 0;
  int128 ask = 0;
  const std::size_t nb = std::min(depth, book.bids.size());
  const std::size_t na = std::min(depth, book.asks.size());
  for (std::size_t i = 0; i < nb; ++i) bid += book.bids[i].qty.raw();
  for (std::size_t i = 0; i < na; ++i) ask += book.asks[i].qty.raw();
  const int128 total = bid + ask;
  if (total == 0) return 0.0;
  return static_cast<double>(bid - ask) / static_cast<double>(total);
}

double microprice(const BookTop& book) noexcept {
  if (book.bids.empty() || book.asks.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double bq = book.bids[0].qty.to_double();
  const double aq = book.asks[0].qty.to_double();
  if (bq + aq <= 0.0) return std::numeric_limits<double>::quiet_NaN();
  // Weight each side's price by the opposite size: a thin ask pulls the fair price up toward it.
  return (book.bids[0].price.to_double() * aq + book.asks[0].price.to_double() * bq) / (bq + aq);
}

Price spread(const BookTop& book) noexcept {
  if (book.bids.empty() || book.asks.empty()) return Price{};
  return book.asks[0].price - book.bids[0].price;
}

void OrderFlowConfig::validate() const {
  auto fail = [](const char* field, const std::string& why) {
    throw Error(std::string("order-flow config: ") + field + ": " + why);
  };
  if (imbalance_depth == 0) fail("imbalance_depth", "must be > 0");
  if (trade_window == 0) fail("trade_window", "must be > 0");
  if (size_window < 2) fail("size_window", "must be >= 2 to have a standard deviation");
  if (min_size_samples < 2 || min_size_samples > size_window) {
    fail("min_size_samples", "must be in [2, size_window]");
  }
  if (!(large_trade_sigma > 0.0) || !std::isfinite(large_trade_sigma)) fail("large_trade_sigma", "must be > 0");
  if (rv_interval_ns <= 0) fail("rv_interval_ns", "must be > 0");
  if (rv_window == 0) fail("rv_window", "must be > 0");
}

OrderFlow::OrderFlow(const OrderFlowConfig& config)
    : config_(config),
      signed_ring_((config.validate(), config.trade_window), 0),
      abs_ring_(config.trade_window, 0),
      size_ring_(config.size_window, 0.0),
      ret_sq_ring_(config.rv_window, 0.0) {}

void OrderFlow::on_book(const BookTop& book) noexcept {
  if (book.bids.empty() || book.asks.empty()) {
    f_.book_valid = false;
    return;
  }
  const double bid = book.bids[0].price.to_double();
  const double ask = book.asks[0].price.to_double();
  f_.book_imbalance = book_imbalance(book, config_.imbalance_depth);
  f_.microprice = microprice(book);
  f_.mid = 0.5 * (bid + ask);
  f_.spread = ask - bid;
  f_.spread_bps = f_.mid > 0.0 ? 1e4 * f_.spread / f_.mid : 0.0;
  f_.book_valid = true;
}

bool OrderFlow::on_trade(std::int64_t time_ns, const Trade& trade) noexcept {
  const std::int64_t q_raw = trade.qty.raw();
  const std::int64_t signed_raw = trade.aggressor == Side::buy ? q_raw : -q_raw;
  ++f_.trades;

  // Rolling trade imbalance, exact in raw units so a long run cannot drift.
  if (trade_count_ == signed_ring_.size()) {
    signed_sum_ -= signed_ring_[trade_pos_];
    abs_sum_ -= abs_ring_[trade_pos_];
  } else {
    ++trade_count_;
  }
  signed_ring_[trade_pos_] = signed_raw;
  abs_ring_[trade_pos_] = q_raw;
  signed_sum_ += signed_raw;
  abs_sum_ += q_raw;
  if (++trade_pos_ == signed_ring_.size()) trade_pos_ = 0;
  f_.trade_imbalance = abs_sum_ > 0 ? static_cast<double>(signed_sum_) / static_cast<double>(abs_sum_) : 0.0;

  cvd_raw_ += signed_raw;
  f_.cvd = static_cast<double>(cvd_raw_) / static_cast<double>(Qty::kScale);

  // Large trade: compare with the sizes seen before this one.
  const double q = trade.qty.to_double();
  bool large = false;
  f_.last_size_zscore = 0.0;
  if (size_count_ >= config_.min_size_samples) {
    const double n = static_cast<double>(size_count_);
    const double mean = size_sum_ / n;
    const double var = std::max(0.0, size_sq_sum_ / n - mean * mean);
    const double sd = std::sqrt(var);
    if (sd > 0.0) {
      f_.last_size_zscore = (q - mean) / sd;
      large = f_.last_size_zscore > config_.large_trade_sigma;
    }
  }
  if (size_count_ == size_ring_.size()) {
    const double old = size_ring_[size_pos_];
    size_sum_ -= old;
    size_sq_sum_ -= old * old;
  } else {
    ++size_count_;
  }
  size_ring_[size_pos_] = q;
  size_sum_ += q;
  size_sq_sum_ += q * q;
  if (++size_pos_ == size_ring_.size()) {
    size_pos_ = 0;
    // Once per lap, recompute the sums from the ring: O(1) amortised and no accumulated rounding.
    size_sum_ = 0.0;
    size_sq_sum_ = 0.0;
    for (std::size_t i = 0; i < size_count_; ++i) {
      size_sum_ += size_ring_[i];
      size_sq_sum_ += size_ring_[i] * size_ring_[i];
    }
  }
  f_.last_trade_large = large;
  if (large) ++f_.large_trades;

  sample_grid(time_ns);
  last_price_ = trade.price.to_double();
  return large;
}

// Called with each trade before its price becomes the last price: every grid point passed since the
// previous trade samples the previous trade's price (previous-tick rule).
void OrderFlow::sample_grid(std::int64_t time_ns) noexcept {
  const std::int64_t step = config_.rv_interval_ns;
  if (!grid_started_) {
    grid_started_ = true;
    grid_end_ns_ = (time_ns / step + 1) * step;
    return;  // the first trade's price becomes the first sample when its interval ends
  }
  if (time_ns < grid_end_ns_) return;
  // Grid points passed: the first samples last_price_, the rest see no new trade (zero returns).
  const std::int64_t passed = (time_ns - grid_end_ns_) / step + 1;
  grid_end_ns_ += passed * step;
  auto push = [this](double r2) {
    if (ret_count_ == ret_sq_ring_.size()) {
      ret_sq_sum_ -= ret_sq_ring_[ret_pos_];
    } else {
      ++ret_count_;
    }
    ret_sq_ring_[ret_pos_] = r2;
    ret_sq_sum_ += r2;
    if (++ret_pos_ == ret_sq_ring_.size()) {
      ret_pos_ = 0;
      ret_sq_sum_ = 0.0;
      for (std::size_t i = 0; i < ret_count_; ++i) ret_sq_sum_ += ret_sq_ring_[i];
    }
  };
  if (grid_price_ > 0.0) {
    const double r = std::log(last_price_ / grid_price_);
    push(r * r);
  }
  grid_price_ = last_price_;
  // Zero returns for the grid points with no trade in between; more than a window of them is a full window.
  const std::int64_t zeros = std::min<std::int64_t>(passed - 1, static_cast<std::int64_t>(ret_sq_ring_.size()));
  for (std::int64_t k = 0; k < zeros; ++k) push(0.0);
  f_.realized_vol = std::sqrt(std::max(0.0, ret_sq_sum_));
}

}  // namespace enigma::strategy
