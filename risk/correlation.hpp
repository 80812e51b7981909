// Rolling correlation of the instruments' returns (issue 15 item 6), for the risk gate's correlated-exposure
// cap and the portfolio's entry sizing.
//
// Clock: the run's own (data time in a replay, which the merge keeps monotonic across instruments). Interval
// k covers [k * interval, (k + 1) * interval). An instrument's close of interval k is the price of its last
// trade before (k + 1) * interval (its previous close when it did not trade). When the first price at or
// after the end of the current interval arrives (any instrument), every interval that ended is closed at once;
// each closed interval after the first one in which every tracked instrument has a price is one row of
// returns r_i = ln(close_i(k) / close_i(k - 1)) (an interval without trades: 0). Over the last `window` rows,
// rho_ij is the Pearson correlation of r_i and r_j (0 while fewer than `window` rows exist or when either
// series is constant). The matrix is recomputed once per row, O(window x pairs); nothing allocates after
// construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/fixed_point.hpp"

namespace enigma::risk {

class ReturnCorrelation {
 public:
  static constexpr std::size_t kMaxInstruments = 32;  // instrument ids 0..31 are tracked, the rest never correlate

  // `instruments` tracked ids 0..instruments-1 (<= kMaxInstruments); window >= 2 rows; interval_ns > 0.
  ReturnCorrelation(std::size_t instruments, std::size_t window, std::int64_t interval_ns);

  // A trade of `id` at `price` at time `now_ns` (non-decreasing across calls). Returns the rows it closed
  // (0 most of the time); the matrix changed when it is non-zero.
  std::size_t on_price(std::size_t id, Price price, std::int64_t now_ns) noexcept;

  [[nodiscard]] double rho(std::size_t i, std::size_t j) const noexcept {
    return i < n_ && j < n_ ? rho_[i * n_ + j] : 0.0;
  }
  [[nodiscard]] bool ready() const noexcept { return rows_ >= window_; }
  [[nodiscard]] std::uint64_t rows() const noexcept { return rows_; }
  // End of the last closed interval (ns); 0 before the first.
  [[nodiscard]] std::int64_t last_close_ns() const noexcept { return last_close_ns_; }
  [[nodiscard]] std::size_t instruments() const noexcept { return n_; }

 private:
  void close_interval() noexcept;
  void recompute() noexcept;

  std::size_t n_, window_;
  std::int64_t interval_ns_;
  std::int64_t end_ns_{0};  // end of the open interval; 0 before the first price
  std::int64_t last_close_ns_{0};
  std::vector<double> last_;   // last price per instrument (0: none yet)
  std::vector<double> close_;  // close of the previous closed interval (0: none yet)
  std::vector<double> ring_;   // window x n returns
  std::vector<double> rho_;    // n x n
  std::uint64_t rows_{0};
};

}  // namespace enigma::risk
