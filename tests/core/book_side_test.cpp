// BookSide against a std::map reference: random updates concentrated near the top and spread deep (the
// shape of real diff streams), with every read compared after each step; capacity and pool edges; no
// allocation after construction.
#include "core/book_side.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>

#include "tests/support/alloc_counter.hpp"

namespace enigma {
namespace {

Price px(std::int64_t ticks) { return Price::from_raw(ticks * 1'000'000'000); }  // 0.1 per tick
Qty qty(std::int64_t lots) { return Qty::from_raw(lots * 10'000'000); }           // 0.001 per lot

// Reference: price raw -> qty raw, iterated best first.
struct Reference {
  explicit Reference(Side s) : side(s) {}
  Side side;
  std::map<std::int64_t, std::int64_t> m;
  std::vector<PriceLevel> best_first() const {
    std::vector<PriceLevel> out;
    if (side == Side::buy)
      for (auto it = m.rbegin(); it != m.rend(); ++it) out.push_back({Price::from_raw(it->first), Qty::from_raw(it->second)});
    else
      for (const auto& [p, q] : m) out.push_back({Price::from_raw(p), Qty::from_raw(q)});
    return out;
  }
};

void expect_same(const BookSide& s, const Reference& ref) {
  const auto want = ref.best_first();
  ASSERT_EQ(s.size(), want.size());
  std::size_t i = 0;
  s.for_each([&](const PriceLevel& l) {
    EXPECT_EQ(l.price, want[i].price) << "level " << i;
    EXPECT_EQ(l.qty, want[i].qty) << "level " << i;
    ++i;
    return true;
  });
  EXPECT_EQ(i, want.size());
  for (std::size_t k = 0; k < want.size() && k < 40; ++k) EXPECT_EQ(s.level(k).price, want[k].price) << "level(" << k << ")";
  if (want.empty()) {
    EXPECT_EQ(s.best(), nullptr);
    EXPECT_EQ(s.worst(), nullptr);
  } else {
    EXPECT_EQ(s.best()->price, want.front().price);
    EXPECT_EQ(s.worst()->price, want.back().price);
  }
}

class BookSideRandom : public ::testing::TestWithParam<Side> {};

TEST_P(BookSideRandom, MatchesReferenceUnderMixedTopAndDeepUpdates) {
  const Side side = GetParam();
  BookSide s(side, 4096);
  Reference ref(side);
  std::mt19937_64 rng(side == Side::buy ? 7 : 11);
  const std::int64_t mid = 600'000;
  for (int step = 0; step < 60'000; ++step) {
    // 70% within 40 ticks of the top, 30% anywhere within 3000 ticks: deep inserts and deletes happen.
    const bool deep = rng() % 10 < 3;
    const std::int64_t dist = deep ? static_cast<std::int64_t>(rng() % 3000) : static_cast<std::int64_t>(rng() % 40);
    const std::int64_t t = side == Side::buy ? mid - dist : mid + dist;
    const std::int64_t q = rng() % 3 == 0 ? 0 : static_cast<std::int64_t>(1 + rng() % 500);
    const auto it = ref.m.find(px(t).raw());
    const std::int64_t before = it == ref.m.end() ? 0 : it->second;
    Qty old;
    ASSERT_TRUE(s.set(px(t), qty(q), &old));
    EXPECT_EQ(old.raw(), before);
    if (q == 0) ref.m.erase(px(t).raw());
    else ref.m[px(t).raw()] = qty(q).raw();
    EXPECT_EQ(s.qty_at(px(t)), qty(q));
    if (step % 997 == 0) expect_same(s, ref);
  }
  expect_same(s, ref);
  // Drain from the top, as a sweep through the book would.
  while (!s.empty()) {
    const Price b = s.best()->price;
    ref.m.erase(b.raw());
    ASSERT_TRUE(s.set(b, Qty{}));
    if (ref.m.size() % 101 == 0) expect_same(s, ref);
  }
  expect_same(s, ref);
}

INSTANTIATE_TEST_SUITE_P(BothSides, BookSideRandom, ::testing::Values(Side::buy, Side::sell));

// The ladder's own edges against the same reference: a mid that wanders and jumps far enough to move the
// ladder's window both ways many times, a finer tick appearing half-way (the grid must shrink), levels
// far beyond the ladder's end, clear() and reuse, and a full side.
class BookSideLadder : public ::testing::TestWithParam<Side> {};

TEST_P(BookSideLadder, MatchesReferenceWhileTheWindowMovesAndTheTickShrinks) {
  const Side side = GetParam();
  const std::size_t cap = 6000;
  BookSide s(side, cap);
  Reference ref(side);
  std::mt19937_64 rng(side == Side::buy ? 21 : 23);
  std::int64_t mid = 5'000'000;  // in 1/10 ticks from step 30'000 on
  std::int64_t unit = 10;        // tenths of a tick per price step: the tick is 1.0, then 0.1
  std::size_t moved_to_ladder = 0;
  for (int step = 0; step < 80'000; ++step) {
    if (step == 30'000) unit = 1;
    if (step % 2'000 == 1'999) mid += (rng() % 2 ? 1 : -1) * static_cast<std::int64_t>(rng() % 2 ? 300 + rng() % 3'000 : 5'000 + rng() % 20'000) * 10;  // a jump
    mid += (static_cast<std::int64_t>(rng() % 7) - 3) * 10;                                                     // a drift
    const std::uint64_t r = rng() % 100;
    const std::int64_t dist = r < 60 ? static_cast<std::int64_t>(rng() % 60) : r < 90 ? static_cast<std::int64_t>(rng() % 5'000)
                                                                                      : static_cast<std::int64_t>(rng() % 200'000);
    const std::int64_t t = (side == Side::buy ? mid - dist * 10 : mid + dist * 10) + (unit == 1 ? static_cast<std::int64_t>(rng() % 10) : 0);
    if (t <= 0) continue;
    const Price p = Price::from_raw(t * 100'000'000);  // 1/10 tick = 0.01
    const std::int64_t q = rng() % 3 == 0 ? 0 : static_cast<std::int64_t>(1 + rng() % 500);
    const auto it = ref.m.find(p.raw());
    const std::int64_t before = it == ref.m.end() ? 0 : it->second;
    const bool fits = q == 0 || before != 0 || ref.m.size() < cap;
    Qty old;
    ASSERT_EQ(s.set(p, qty(q), &old), fits) << "step " << step;
    EXPECT_EQ(old.raw(), fits ? before : 0);
    if (fits) {
      if (q == 0) ref.m.erase(p.raw());
      else ref.m[p.raw()] = qty(q).raw();
    }
    EXPECT_EQ(s.qty_at(p).raw(), q != 0 && fits ? qty(q).raw() : (q == 0 ? 0 : before));
    moved_to_ladder = std::max(moved_to_ladder, s.ladder_levels());
    if (step % 1'999 == 0) expect_same(s, ref);
    if (step == 60'000) {
      s.clear();
      ref.m.clear();
    }
  }
  expect_same(s, ref);
  // The ladder took part (not everything in the blocks), on the finer tick it learned.
  EXPECT_GT(moved_to_ladder, 100u);
  EXPECT_EQ(s.ladder_step(), 100'000'000);
  // Both ways of moving the window ran: slots shifted on the same grid, and rebuilt on a new grid or far away.
  EXPECT_GT(s.ladder_slides(), 3u);
  EXPECT_GT(s.ladder_rebuilds(), 3u);
  while (!s.empty()) {
    ref.m.erase(s.worst()->price.raw());
    s.pop_worst();
    if (ref.m.size() % 97 == 0) expect_same(s, ref);
  }
  expect_same(s, ref);
}

INSTANTIATE_TEST_SUITE_P(BothSides, BookSideLadder, ::testing::Values(Side::buy, Side::sell));

TEST(BookSide, PricesTooLargeForTheLaddersArithmeticStayExact) {
  // Steps so large that kLadder of them overflow a 64-bit key: the side keeps every level in the blocks.
  BookSide s(Side::sell, 64);
  Reference ref(Side::sell);
  const std::int64_t big = std::int64_t{1} << 60;
  for (std::int64_t i = 0; i < 40; ++i) {
    const Price p = Price::from_raw(i % 2 ? big + i * (big / 64) : i * (big / 64));
    ASSERT_TRUE(s.set(p, qty(i + 1)));
    ref.m[p.raw()] = qty(i + 1).raw();
  }
  EXPECT_EQ(s.ladder_step(), 0);
  expect_same(s, ref);
}

TEST(BookSide, BidsBestIsHighestAsksBestIsLowest) {
  BookSide bids(Side::buy, 16), asks(Side::sell, 16);
  for (int t : {100, 105, 95}) {
    ASSERT_TRUE(bids.set(px(t), qty(1)));
    ASSERT_TRUE(asks.set(px(t), qty(1)));
  }
  EXPECT_EQ(bids.best()->price, px(105));
  EXPECT_EQ(bids.worst()->price, px(95));
  EXPECT_EQ(asks.best()->price, px(95));
  EXPECT_EQ(asks.worst()->price, px(105));
  EXPECT_TRUE(bids.better(px(106), px(105)));
  EXPECT_TRUE(asks.better(px(94), px(95)));
}

TEST(BookSide, FullSideRefusesNewLevelsButUpdatesAndRemovesExisting) {
  BookSide s(Side::sell, 100);
  for (int t = 0; t < 100; ++t) ASSERT_TRUE(s.set(px(1000 + t), qty(1)));
  EXPECT_FALSE(s.set(px(999), qty(1)));  // new level at capacity: refused, side unchanged
  EXPECT_EQ(s.size(), 100u);
  EXPECT_EQ(s.best()->price, px(1000));
  EXPECT_TRUE(s.set(px(1050), qty(7)));  // existing level: fine
  EXPECT_EQ(s.qty_at(px(1050)), qty(7));
  s.pop_worst();
  EXPECT_EQ(s.worst()->price, px(1098));
  EXPECT_TRUE(s.set(px(999), qty(1)));
  EXPECT_EQ(s.best()->price, px(999));
  EXPECT_TRUE(s.set(px(5000), Qty{}));  // removing an absent level is a no-op
  EXPECT_EQ(s.size(), 100u);
}

TEST(BookSide, ReachesMaxLevelsUnderFragmentingChurn) {
  // Alternating inserts at both ends and holes punched in the middle must not exhaust the block pool
  // before max_levels.
  const std::size_t cap = 2048;
  BookSide s(Side::buy, cap);
  std::mt19937_64 rng(3);
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 400; ++i) (void)s.set(px(static_cast<std::int64_t>(rng() % 20'000)), qty(1));
    for (int i = 0; i < 300; ++i) (void)s.set(px(static_cast<std::int64_t>(rng() % 20'000)), Qty{});
  }
  std::int64_t t = 100'000;
  while (s.size() < cap) ASSERT_TRUE(s.set(px(t++), qty(1))) << "pool exhausted at " << s.size() << " levels";
  EXPECT_FALSE(s.set(px(t), qty(1)));
}

TEST(BookSide, ClearThenReuse) {
  BookSide s(Side::sell, 64);
  for (int t = 0; t < 64; ++t) ASSERT_TRUE(s.set(px(t), qty(1)));
  s.clear();
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.qty_at(px(3)), Qty{});
  for (int t = 0; t < 64; ++t) ASSERT_TRUE(s.set(px(63 - t), qty(2)));
  EXPECT_EQ(s.best()->price, px(0));
  EXPECT_EQ(s.level(63).price, px(63));
}

TEST(BookSide, UpdatesDoNotAllocate) {
  BookSide s(Side::buy, 8192);
  std::mt19937_64 rng(5);
  test::AllocationScope scope;
  for (int i = 0; i < 20'000; ++i) (void)s.set(px(static_cast<std::int64_t>(rng() % 6000)), qty(rng() % 2 ? 1 : 0));
  s.clear();
  EXPECT_EQ(scope.count(), 0u);
}

}  // namespace
}  // namespace enigma
