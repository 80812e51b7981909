// The venue request budget (oms/request_budget.hpp) on injected wall time: windows aligned to the clock as
// Binance counts them, the reserve kept for cancels and the kill, the venue's own counts, 429 and 418.
#include <gtest/gtest.h>

#include "oms/request_budget.hpp"

using namespace enigma::oms;

namespace {
constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kMinute = 60 * kSec;
// 12:00:00 UTC on some day: the start of a minute (and of a 10 s window).
constexpr std::int64_t kT0 = 1'723'075'200LL * kSec;
}  // namespace

// Limit 10 per minute, 20 % reserve: entries get 8, cancels the remaining 2, then wait for the next minute.
TEST(RequestBudget, NewOrdersStopAtTheirShareCancelsUseTheReserve) {
  RequestBudget b({{kMinute, 10}, {}, {}, 20});
  for (int i = 0; i < 8; ++i) ASSERT_EQ(b.try_take(RequestPriority::new_order, {1, 0}, kT0 + i), BudgetVerdict::ok) << i;
  EXPECT_EQ(b.try_take(RequestPriority::new_order, {1, 0}, kT0 + 8), BudgetVerdict::over_budget);
  EXPECT_EQ(b.try_take(RequestPriority::cancel, {1, 0}, kT0 + 9), BudgetVerdict::ok);
  EXPECT_EQ(b.try_take(RequestPriority::other, {1, 0}, kT0 + 10), BudgetVerdict::ok);
  EXPECT_EQ(b.try_take(RequestPriority::cancel, {1, 0}, kT0 + 11), BudgetVerdict::wait);
  EXPECT_EQ(b.used_weight(kT0 + 11), 10u);
  EXPECT_EQ(b.next_window_ns(kT0 + 11), kT0 + kMinute);
  // The clock minute rolls: everything is available again.
  EXPECT_EQ(b.try_take(RequestPriority::cancel, {1, 0}, kT0 + kMinute), BudgetVerdict::ok);
  EXPECT_EQ(b.try_take(RequestPriority::new_order, {1, 0}, kT0 + kMinute + 1), BudgetVerdict::ok);
  EXPECT_EQ(b.used_weight(kT0 + kMinute + 1), 2u);
}

// Binance: a new order weighs 0 on the IP's weight but 1 on each order window; the 10 s window binds first.
TEST(RequestBudget, OrderWindowsCountOrdersNotWeight) {
  RequestBudget b({{kMinute, 2400}, {10 * kSec, 5}, {kMinute, 1200}, 0});
  for (int i = 0; i < 5; ++i) ASSERT_EQ(b.try_take(RequestPriority::new_order, {0, 1}, kT0 + i), BudgetVerdict::ok);
  EXPECT_EQ(b.try_take(RequestPriority::new_order, {0, 1}, kT0 + 5), BudgetVerdict::over_budget);
  EXPECT_EQ(b.try_take(RequestPriority::cancel, {1, 0}, kT0 + 6), BudgetVerdict::ok) << "a cancel is no order";
  EXPECT_EQ(b.used_weight(kT0 + 6), 1u);
  EXPECT_EQ(b.orders_short(kT0 + 6), 5u);
  EXPECT_EQ(b.try_take(RequestPriority::new_order, {0, 1}, kT0 + 10 * kSec), BudgetVerdict::ok);
  EXPECT_EQ(b.orders_long(kT0 + 10 * kSec), 6u);
}

// The venue's count (another session on the same IP spent weight) replaces ours when it is higher.
TEST(RequestBudget, TheVenuesCountRefreshesOurs) {
  RequestBudget b({{kMinute, 100}, {}, {}, 20});
  ASSERT_EQ(b.try_take(RequestPriority::cancel, {1, 0}, kT0), BudgetVerdict::ok);
  b.observe_used_weight(79, kT0 + 1);
  EXPECT_EQ(b.used_weight(kT0 + 1), 79u);
  EXPECT_EQ(b.try_take(RequestPriority::new_order, {1, 0}, kT0 + 2), BudgetVerdict::ok);  // 80 of 80
  EXPECT_EQ(b.try_take(RequestPriority::new_order, {1, 0}, kT0 + 3), BudgetVerdict::over_budget);
  b.observe_used_weight(3, kT0 + 4);  // lower than ours (our requests it has not seen yet): ours stays
  EXPECT_EQ(b.used_weight(kT0 + 4), 80u);
  // A Binance new order weighs 0 on the weight window, yet past its share the rest is kept for cancels.
  b.observe_used_weight(81, kT0 + 5);
  EXPECT_EQ(b.try_take(RequestPriority::new_order, {0, 1}, kT0 + 6), BudgetVerdict::over_budget);
  EXPECT_EQ(b.try_take(RequestPriority::cancel, {1, 0}, kT0 + 7), BudgetVerdict::ok);
}

// 429: entries wait for Retry-After, cancels do not; 418: entries stop for good, the rest until the ban's end.
TEST(RequestBudget, BackOffAndBan) {
  RequestBudget b;
  b.back_off_until(kT0 + 2 * kSec);
  EXPECT_EQ(b.try_take(RequestPriority::new_order, {0, 1}, kT0), BudgetVerdict::backing_off);
  EXPECT_EQ(b.try_take(RequestPriority::cancel, {1, 0}, kT0), BudgetVerdict::ok);
  b.back_off_until(kT0 + kSec);  // an earlier end never shortens the back-off
  EXPECT_EQ(b.try_take(RequestPriority::new_order, {0, 1}, kT0 + kSec + 1), BudgetVerdict::backing_off);
  EXPECT_EQ(b.try_take(RequestPriority::new_order, {0, 1}, kT0 + 2 * kSec), BudgetVerdict::ok);
  b.ban_until(kT0 + 120 * kSec);
  EXPECT_TRUE(b.banned());
  EXPECT_EQ(b.try_take(RequestPriority::cancel, {1, 0}, kT0 + 3 * kSec), BudgetVerdict::banned);
  EXPECT_EQ(b.try_take(RequestPriority::cancel, {1, 0}, kT0 + 120 * kSec), BudgetVerdict::ok);
  EXPECT_EQ(b.try_take(RequestPriority::new_order, {0, 1}, kT0 + 3600 * kSec), BudgetVerdict::banned);
}

// KuCoin Futures: at most 75 requests per 3 s (the plan), whatever their weight, within the venue's pool of
// 2000 weight per 30 s.
TEST(RequestBudget, KucoinFuturesPrivateDefaultIs75RequestsPer3SecondsIn2000WeightPer30) {
  RequestBudget b(kucoin_futures_private_budget());
  int ok = 0;
  while (b.try_take(RequestPriority::cancel, {1, 1}, kT0) == BudgetVerdict::ok) ++ok;
  EXPECT_EQ(ok, 75);
  EXPECT_EQ(b.try_take(RequestPriority::cancel, {1, 1}, kT0 + 3 * kSec - 1), BudgetVerdict::wait);
  EXPECT_EQ(b.try_take(RequestPriority::cancel, {1, 1}, kT0 + 3 * kSec), BudgetVerdict::ok);
  // Heavy requests (a query weighs 5): the pool runs out first, 400 of them in 30 s, over many 3 s windows.
  RequestBudget pool(kucoin_futures_private_budget());
  int queries = 0;
  for (int w = 0; w < 10; ++w)
    for (int i = 0; i < 75; ++i)
      if (pool.try_take(RequestPriority::cancel, {5, 1}, kT0 + w * 3 * kSec) == BudgetVerdict::ok) ++queries;
  EXPECT_EQ(queries, 400);
}

// charge() takes what a request that leaves anyway costs (KuCoin's token POST), even past the limit: what
// follows in the window waits; the next window starts clean.
TEST(RequestBudget, ChargeTakesEvenPastTheLimit) {
  RequestBudget b({{kMinute, 10}, {10 * kSec, 2}, {}, 0});
  b.charge({10, 1}, kT0);
  EXPECT_EQ(b.used_weight(kT0), 10u);
  EXPECT_EQ(b.orders_short(kT0), 1u);
  EXPECT_EQ(b.try_take(RequestPriority::cancel, {1, 1}, kT0 + 1), BudgetVerdict::wait);  // the weight is spent
  b.charge({3, 2}, kT0 + 2);
  EXPECT_EQ(b.used_weight(kT0 + 2), 13u);
  EXPECT_EQ(b.orders_short(kT0 + 2), 3u);
  EXPECT_EQ(b.try_take(RequestPriority::cancel, {1, 1}, kT0 + kMinute), BudgetVerdict::ok);
  EXPECT_EQ(b.used_weight(kT0 + kMinute), 1u);
}

// What each request costs, per venue, as the venues document it: Binance USD-M's endpoint weights (a new
// order weighs 0 and counts as an order; countdownCancelAll weighs 10), KuCoin Futures' pool weights (place 2,
// cancel 1, by clientOid 5, cancel all 10; every request one of the plan's 75 per 3 s), Bybit's and OKX's one
// request each in their per-second window; what a start-up call counts; OKX's spacing of its dead-man refreshes.
TEST(RequestBudget, EachVenuesRequestsCostWhatItsDocumentationSays) {
  const auto is = [](RequestCost c, std::uint32_t weight, std::uint32_t orders) { return c.weight == weight && c.orders == orders; };
  const RequestBudgetConfig b = binance_usdm_budget();
  EXPECT_TRUE(is(b.cost(RestRequest::new_order), 0, 1));
  EXPECT_TRUE(is(b.cost(RestRequest::cancel), 1, 0));
  EXPECT_TRUE(is(b.cost(RestRequest::cancel_batch), 1, 0));
  EXPECT_TRUE(is(b.cost(RestRequest::query), 1, 0));
  EXPECT_TRUE(is(b.cost(RestRequest::cancel_all), 1, 0));
  EXPECT_TRUE(is(b.cost(RestRequest::countdown), 10, 0));
  const RequestBudgetConfig k = kucoin_futures_private_budget();
  EXPECT_TRUE(is(k.cost(RestRequest::new_order), 2, 1));
  EXPECT_TRUE(is(k.cost(RestRequest::cancel), 1, 1));
  EXPECT_TRUE(is(k.cost(RestRequest::query), 5, 1));
  EXPECT_TRUE(is(k.cost(RestRequest::cancel_all), 10, 1));
  for (const RequestBudgetConfig& c : {bybit_linear_budget(), okx_swap_budget()})
    for (std::size_t i = 0; i < kRestRequestKinds; ++i) EXPECT_TRUE(is(c.costs[i], 0, 1)) << i;
  // A start-up call is one of KuCoin's requests per 3 s; Binance counts only orders in its order windows.
  EXPECT_EQ(k.call_orders, 1u);
  EXPECT_EQ(b.call_orders, 0u);
  // OKX takes one cancel-all-after per second (a second within it is refused, 50011): spaced with slack.
  EXPECT_GE(okx_swap_budget().countdown_spacing_ns, 1'000'000'000);
  EXPECT_EQ(b.countdown_spacing_ns, 0);
}
