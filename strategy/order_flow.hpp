// Order-flow features from the book and the trade tape.
//
// Book features are pure functions of the top-N levels (best first, as the book stage exposes them), so
// this folder does not depend on feed/. Trade features keep rolling state in rings sized at construction:
// trade imbalance over the last N trades, cumulative volume delta, large-trade detection against the rolling
// mean and standard deviation of the last M trade sizes, and realized volatility from previous-tick
// sampling of the trade price on a fixed time grid.
//
// Definitions (q = size, p = price; bid side first):
//   book imbalance(n)  = (sum bid q - sum ask q) / (sum bid q + sum ask q) over the top n levels, in [-1, 1]
//   microprice         = (bid * ask_q + ask * bid_q) / (bid_q + ask_q)   (Stoikov's weighted mid, level 1)
//   spread             = ask - bid; spread_bps = 1e4 * spread / mid
//   trade imbalance    = (taker-buy q - taker-sell q) / total q over the last N trades, in [-1, 1]
//   CVD                = running sum of taker-buy q minus taker-sell q since construction (or reset)
//   large trade        = q > mean + k * stddev of the previous M sizes (population), once M_min sizes are seen
//   realized vol       = sqrt(sum r_i^2) over the last W grid returns r_i = ln(p_i / p_{i-1}), where p_i is
//                        the last trade price at or before grid time i (previous-tick sampling)
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/book_side.hpp"
#include "core/events.hpp"
#include "core/fixed_point.hpp"

namespace enigma::strategy {

using PriceLevel = enigma::PriceLevel;  // one level type from the book to the OMS

// Top of book, best level first on both sides; spans point into the book stage's storage.
struct BookTop {
  std::span<const PriceLevel> bids;
  std::span<const PriceLevel> asks;
};

// (sum bid qty - sum ask qty) / total over the top `depth` levels of each side; 0 when both sides are empty.
[[nodiscard]] double book_imbalance(const BookTop& book, std::size_t depth) noexcept;
// Level-1 size-weighted mid; NaN when either side is empty or both sizes are zero.
[[nodiscard]] double microprice(const BookTop& book) noexcept;
// Best ask - best bid (exact); zero when a side is empty.
[[nodiscard]] Price spread(const BookTop& book) noexcept;

struct OrderFlowConfig {
  std::uint32_t imbalance_depth = 5;         // book levels per side in the imbalance
  std::uint32_t trade_window = 200;          // trades in the rolling trade imbalance
  std::uint32_t size_window = 500;           // trade sizes in the large-trade statistics
  std::uint32_t min_size_samples = 50;       // no large-trade flag before this many sizes
  double large_trade_sigma = 4.0;            // k in mean + k * stddev
  std::int64_t rv_interval_ns = 1'000'000'000;  // realized-volatility sampling grid
  std::uint32_t rv_window = 300;             // grid returns in the realized volatility

  void validate() const;  // throws enigma::Error naming the field
};

struct OrderFlowFeatures {
  // book (valid when book_valid)
  double book_imbalance = 0.0;
  double microprice = 0.0;
  double mid = 0.0;
  double spread = 0.0;
  double spread_bps = 0.0;
  bool book_valid = false;
  // trades
  double trade_imbalance = 0.0;
  double cvd = 0.0;               // in base units
  double realized_vol = 0.0;      // over the last rv_window grid intervals (not annualised)
  double last_size_zscore = 0.0;  // (q - mean) / stddev of the previous sizes; 0 until min_size_samples
  bool last_trade_large = false;
  std::uint64_t large_trades = 0;
  std::uint64_t trades = 0;
};

// Rolling order-flow state for one instrument. Hot path: noexcept, no allocation (rings are sized in the
// constructor), O(1) per event except the realized-volatility grid, which does one step per elapsed grid
// interval (bounded by rv_window per call).
class OrderFlow {
 public:
  explicit OrderFlow(const OrderFlowConfig& config);  // throws enigma::Error on an invalid config

  void on_book(const BookTop& book) noexcept;
  // time_ns: trade time (venue or receive clock, monotonic per instrument). Returns true for a large trade.
  bool on_trade(std::int64_t time_ns, const Trade& trade) noexcept;

  [[nodiscard]] const OrderFlowFeatures& features() const noexcept { return f_; }
  [[nodiscard]] const OrderFlowConfig& config() const noexcept { return config_; }

 private:
  void sample_grid(std::int64_t time_ns) noexcept;

  OrderFlowConfig config_;
  OrderFlowFeatures f_;

  // trade imbalance: signed and absolute sizes of the last trade_window trades (exact, raw Qty units)
  std::vector<std::int64_t> signed_ring_;
  std::vector<std::int64_t> abs_ring_;
  std::size_t trade_pos_ = 0;
  std::size_t trade_count_ = 0;
  int128 signed_sum_ = 0;
  int128 abs_sum_ = 0;
  int128 cvd_raw_ = 0;

  // sizes: double sums, recomputed from the ring once per lap so rounding cannot drift
  std::vector<double> size_ring_;
  std::size_t size_pos_ = 0;
  std::size_t size_count_ = 0;
  double size_sum_ = 0.0;
  double size_sq_sum_ = 0.0;

  // realized volatility
  std::vector<double> ret_sq_ring_;
  std::size_t ret_pos_ = 0;
  std::size_t ret_count_ = 0;
  double ret_sq_sum_ = 0.0;
  std::int64_t grid_end_ns_ = 0;   // end of the grid interval the last trade fell in
  double last_price_ = 0.0;        // last trade price
  double grid_price_ = 0.0;        // price sampled at the previous grid point
  bool grid_started_ = false;
};

}  // namespace enigma::strategy
