// ReturnCorrelation (risk/correlation.hpp) on hand-made prices: perfectly correlated and opposite series,
// one worked by hand, an interval without trades (a zero return), readiness and untracked ids, no allocation.
#include "risk/correlation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "tests/support/alloc_counter.hpp"

namespace {

using enigma::Price;
using enigma::risk::ReturnCorrelation;

constexpr std::int64_t kI = 10;  // interval (ns)

Price px(double v) { return Price::from_double(v, enigma::Rounding::nearest).value; }

// Closes a[k], b[k] at the end of interval k (one trade each in the middle of it), then one trade in the next
// interval so the last one closes too.
void feed(ReturnCorrelation& c, const std::vector<double>& a, const std::vector<double>& b) {
  for (std::size_t k = 0; k < a.size(); ++k) {
    c.on_price(0, px(a[k]), static_cast<std::int64_t>(k) * kI + 2);
    c.on_price(1, px(b[k]), static_cast<std::int64_t>(k) * kI + 3);
  }
  c.on_price(0, px(a.back()), static_cast<std::int64_t>(a.size()) * kI + 1);
}

TEST(ReturnCorrelation, SameRatiosAreOneOppositeRatiosMinusOne) {
  ReturnCorrelation same(2, 3, kI), opposite(2, 3, kI);
  feed(same, {100, 110, 99, 108.9}, {50, 55, 49.5, 54.45});       // returns ln 1.1, ln 0.9, ln 1.1 both
  feed(opposite, {100, 110, 99, 108.9}, {50, 50 / 1.1, 50 / 1.1 / 0.9, 50 / 1.1 / 0.9 / 1.1});
  ASSERT_TRUE(same.ready());
  EXPECT_EQ(same.rows(), 3u);
  EXPECT_NEAR(same.rho(0, 1), 1.0, 1e-9);
  EXPECT_NEAR(same.rho(1, 0), 1.0, 1e-9);
  EXPECT_NEAR(opposite.rho(0, 1), -1.0, 1e-9);
  EXPECT_EQ(same.rho(0, 0), 1.0);
  EXPECT_EQ(same.last_close_ns(), 4 * kI);
}

TEST(ReturnCorrelation, WorkedByHand) {
  // x = (0.02, 0.01, -0.03), y = (0.01, 0, -0.01): means 0, sxy = 0.0005, sxx = 0.0014, syy = 0.0002,
  // rho = 0.0005 / sqrt(0.0014 * 0.0002) = 0.944911...
  ReturnCorrelation c(2, 3, kI);
  const double a0 = 100, b0 = 100;
  feed(c, {a0, a0 * std::exp(0.02), a0 * std::exp(0.03), a0}, {b0, b0 * std::exp(0.01), b0 * std::exp(0.01), b0});
  EXPECT_NEAR(c.rho(0, 1), 0.0005 / std::sqrt(0.0014 * 0.0002), 1e-6);
}

TEST(ReturnCorrelation, AnIntervalWithoutTradesIsAZeroReturnAndReadinessWaitsForTheWindow) {
  ReturnCorrelation c(2, 3, kI);
  c.on_price(0, px(100), 1);
  c.on_price(1, px(50), 2);
  c.on_price(0, px(101), 12);  // closes [0, 10): both have a price, no previous close: no row yet
  EXPECT_EQ(c.rows(), 0u);
  c.on_price(1, px(51), 13);
  c.on_price(0, px(102), 35);  // closes [10, 20) (row 1: ln 1.01, ln 1.02) and [20, 30) (row 2: 0, 0) at once
  EXPECT_EQ(c.rows(), 2u);
  EXPECT_FALSE(c.ready());
  EXPECT_EQ(c.rho(0, 1), 0.0);  // not ready: 0
  EXPECT_EQ(c.last_close_ns(), 30);
  c.on_price(1, px(50), 36);
  c.on_price(0, px(102), 41);  // row 3: ln(102/101), ln(50/51)
  ASSERT_TRUE(c.ready());
  const double x[3] = {std::log(1.01), 0.0, std::log(102.0 / 101.0)}, y[3] = {std::log(51.0 / 50.0), 0.0, std::log(50.0 / 51.0)};
  const double mx = (x[0] + x[1] + x[2]) / 3, my = (y[0] + y[1] + y[2]) / 3;
  double sxy = 0, sxx = 0, syy = 0;
  for (int i = 0; i < 3; ++i) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx), syy += (y[i] - my) * (y[i] - my);
  EXPECT_NEAR(c.rho(0, 1), sxy / std::sqrt(sxx * syy), 1e-9);
}

TEST(ReturnCorrelation, UntrackedIdsNeverCorrelateAndBadSettingsAreRefused) {
  ReturnCorrelation c(2, 2, kI);
  EXPECT_EQ(c.rho(0, 5), 0.0);
  EXPECT_EQ(c.on_price(7, px(1), 1), 0u);  // untracked: ignored
  EXPECT_THROW(ReturnCorrelation(2, 1, kI), enigma::Error);
  EXPECT_THROW(ReturnCorrelation(2, 3, 0), enigma::Error);
}

TEST(ReturnCorrelation, NoAllocationPerPrice) {
  ReturnCorrelation c(8, 60, kI);
  enigma::test::AllocationScope scope;
  for (std::int64_t t = 0; t < 100'000; ++t)
    c.on_price(static_cast<std::size_t>(t % 8), px(100.0 + static_cast<double>((t * 7919) % 13)), t * 3);
  EXPECT_EQ(scope.count(), 0u);
  EXPECT_TRUE(c.ready());
}

}  // namespace
