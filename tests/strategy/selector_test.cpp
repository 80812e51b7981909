// strategy::Selector (strategy/selector.hpp) on hand-made intents and fills: UCB1 scores worked out by hand,
// committee quorum and vote window, ownership through a reversal, and an unfilled entry's lapse.
#include <gtest/gtest.h>

#include <cmath>

#include "strategy/selector.hpp"

namespace {

using enigma::InstrumentId;
using enigma::Price;
using enigma::Qty;
using enigma::Side;
using enigma::strategy::Fill;
using enigma::strategy::IntentBuffer;
using enigma::strategy::OrderIntent;
using enigma::strategy::Selector;
using enigma::strategy::SelectorConfig;

constexpr std::int64_t kSec = 1'000'000'000;

OrderIntent entry(std::uint16_t id, Side side) {
  OrderIntent it{};
  it.strategy_id = id;
  it.side = side;
  it.qty = Qty::from_units(1);
  return it;
}
OrderIntent exit_of(std::uint16_t id, Side side) {
  OrderIntent it = entry(id, side);
  it.reduce_only = true;
  return it;
}
Fill fill(std::uint16_t id, Side side, std::int64_t price) {
  return Fill{0, Price::from_units(price), Qty::from_units(1), InstrumentId{0}, id, side};
}
// What passes of one intent at `now`.
std::size_t offer(Selector& s, const OrderIntent& it, std::int64_t now) {
  IntentBuffer out;
  s.filter({&it, 1}, out, now);
  return out.size();
}
// A long round trip of arm `id` from `in` to `out` (price units): entry passes, then both fills.
void trip(Selector& s, std::uint16_t id, std::int64_t in, std::int64_t out, std::int64_t now) {
  ASSERT_EQ(offer(s, entry(id, Side::buy), now), 1u);
  s.on_fill(fill(id, Side::buy, in));
  ASSERT_EQ(offer(s, exit_of(id, Side::sell), now), 1u);
  s.on_fill(fill(id, Side::sell, out));
  ASSERT_EQ(s.owner(), -1);
}

TEST(Selector, UcbTriesEachArmThenFollowsTheHandComputedScores) {
  SelectorConfig c;
  c.kind = SelectorConfig::Kind::ucb;
  c.members = {10, 20};
  c.exploration = 1.0;
  Selector s(c);
  // Untried arms first, in member order: 20's entry is held back while 10 has no trip.
  EXPECT_EQ(offer(s, entry(20, Side::buy), 1), 0u);
  trip(s, 10, 100, 101, 2);  // arm 10: reward +1
  trip(s, 20, 100, 104, 3);  // arm 20: reward +4
  // N = 2: score(10) = 1 + sqrt(ln 2 / 1) = 1.8326, score(20) = 4 + 0.8326 = 4.8326 -> 20.
  EXPECT_EQ(offer(s, entry(10, Side::buy), 4), 0u);
  trip(s, 20, 100, 90, 5);   // arm 20: rewards 4, -10: mean -3
  // N = 3: score(10) = 1 + sqrt(ln 3 / 1) = 2.0481, score(20) = -3 + sqrt(ln 3 / 2) = -2.2589 -> 10.
  EXPECT_EQ(offer(s, entry(20, Side::buy), 6), 0u);
  trip(s, 10, 100, 100, 7);  // arm 10: rewards 1, 0: mean 0.5
  // N = 4: score(10) = 0.5 + sqrt(ln 4 / 2) = 1.3326, score(20) = -3 + 0.8326 = -2.1674 -> 10 again.
  EXPECT_EQ(offer(s, entry(20, Side::buy), 8), 0u);
  EXPECT_EQ(offer(s, entry(10, Side::sell), 8), 1u);
  ASSERT_EQ(s.arms().size(), 2u);
  EXPECT_EQ(s.arms()[0].trips, 2u);
  EXPECT_DOUBLE_EQ(s.arms()[0].mean(), 0.5);
  EXPECT_EQ(s.arms()[1].trips, 2u);
  EXPECT_DOUBLE_EQ(s.arms()[1].mean(), -3.0);
  EXPECT_EQ(s.arms()[1].suppressed, 3u);
}

TEST(Selector, OnlyTheOwnerTradesUntilFlatAndAReversalKeepsTheOwnership) {
  SelectorConfig c;
  c.kind = SelectorConfig::Kind::ucb;
  c.members = {1, 2};
  Selector s(c);
  ASSERT_EQ(offer(s, entry(1, Side::buy), 1), 1u);
  s.on_fill(fill(1, Side::buy, 100));
  EXPECT_EQ(offer(s, entry(2, Side::sell), 2), 0u);  // 2 waits while 1 holds the position
  // Reversal: exit and a new short entry sent together; the exit's fill makes it flat before the entry fills.
  EXPECT_EQ(offer(s, exit_of(1, Side::sell), 3), 1u);
  EXPECT_EQ(offer(s, entry(1, Side::sell), 3), 1u);
  s.on_fill(fill(1, Side::sell, 103));
  EXPECT_EQ(s.owner(), 0) << "its short entry is on its way: still the owner";
  EXPECT_EQ(s.arms()[0].trips, 1u);
  EXPECT_DOUBLE_EQ(s.arms()[0].reward_sum, 3.0);
  s.on_fill(fill(1, Side::sell, 103));
  EXPECT_EQ(offer(s, entry(2, Side::buy), 4), 0u);
  s.on_fill(fill(1, Side::buy, 101));  // the short closes: +2
  EXPECT_EQ(s.owner(), -1);
  EXPECT_DOUBLE_EQ(s.arms()[0].reward_sum, 5.0);
  EXPECT_EQ(s.arms()[0].trips, 2u);
}

TEST(Selector, AnUnfilledEntryLapsesAfterTheTimeout) {
  SelectorConfig c;
  c.kind = SelectorConfig::Kind::ucb;
  c.members = {1, 2};
  c.pending_timeout_ns = 5 * kSec;
  Selector s(c);
  ASSERT_EQ(offer(s, entry(1, Side::buy), 0), 1u);  // refused by risk: no fill ever comes
  EXPECT_EQ(offer(s, entry(1, Side::buy), 5 * kSec), 1u) << "the owner's own intents still pass";
  // 5 s after the latest entry passed: lapsed, booked as a trip of reward 0; arm 2 is now the untried one.
  EXPECT_EQ(offer(s, entry(2, Side::buy), 10 * kSec + 1), 1u);
  EXPECT_EQ(s.lapsed(), 1u);
  EXPECT_EQ(s.arms()[0].trips, 1u);
  EXPECT_DOUBLE_EQ(s.arms()[0].reward_sum, 0.0);
}

TEST(Selector, ReturnRewardIsTheTripPnlOverItsEntryValue) {
  SelectorConfig c;
  c.kind = SelectorConfig::Kind::ucb;
  c.members = {1, 2};
  c.reward = SelectorConfig::Reward::ret;
  Selector s(c);
  trip(s, 1, 200, 205, 1);
  EXPECT_DOUBLE_EQ(s.arms()[0].reward_sum, 5.0 / 200.0);
}

TEST(Selector, CommitteeNeedsTheQuorumOfWeightsWithinTheWindow) {
  SelectorConfig c;
  c.kind = SelectorConfig::Kind::committee;
  c.members = {1, 2, 3};
  c.weights = {3, 1, 1};  // total 5
  c.quorum = 0.8;         // a side needs a net weight of 4
  c.vote_window_ns = 2 * kSec;
  Selector s(c);
  EXPECT_EQ(offer(s, entry(1, Side::buy), 1 * kSec), 0u);  // 3 < 4
  EXPECT_EQ(offer(s, entry(2, Side::sell), 2 * kSec), 0u);  // sell: 1 - 3 = -2
  // buy at 4 s: 1's vote is 3 s old, past the 2 s window; 3 (+1) - 2 (-1) = 0 < 4.
  EXPECT_EQ(offer(s, entry(3, Side::buy), 4 * kSec), 0u);
  // buy at 5 s: 1 (+3) + 3 (+1, 1 s old) = 4 >= 4; 2's sell vote is 3 s old and no longer counts.
  EXPECT_EQ(offer(s, entry(1, Side::buy), 5 * kSec), 1u);
  EXPECT_EQ(s.owner(), 0) << "the arm that completed the quorum holds the position";
  s.on_fill(fill(1, Side::buy, 100));
  EXPECT_EQ(offer(s, entry(3, Side::buy), 6 * kSec), 0u);  // owned: other members wait
  EXPECT_EQ(offer(s, exit_of(1, Side::sell), 7 * kSec), 1u);
  s.on_fill(fill(1, Side::sell, 99));
  EXPECT_EQ(s.owner(), -1);
  // Votes were cleared when the entry passed: 3's vote at 6 s was made while owned and is not counted.
  EXPECT_EQ(offer(s, entry(2, Side::buy), 7 * kSec), 0u);  // 1 < 4
}

// learn = accuracy: vote weight = weight x (wins + 1) / (trips + 2), worked out by hand.
TEST(Selector, LearnedCommitteeWeighsVotesByRealizedAccuracy) {
  SelectorConfig c;
  c.kind = SelectorConfig::Kind::committee;
  c.members = {1, 2};
  c.weights = {1, 1};
  c.quorum = 0.5;
  c.vote_window_ns = 1;  // every vote alone
  c.learn_accuracy = true;
  Selector s(c);
  // No trip yet: 1/2 each, 0.5 >= 0.5 x 1: arm 1 passes alone, wins (100 -> 110).
  trip(s, 1, 100, 110, 1 * kSec);
  // 1: (1+1)/(1+2) = 2/3; 2: 1/2. Arm 2 alone: 1/2 < 0.5 x 7/6 = 7/12.
  EXPECT_DOUBLE_EQ(s.vote_weight(s.arms()[0]), 2.0 / 3.0);
  EXPECT_EQ(offer(s, entry(2, Side::buy), 2 * kSec), 0u);
  // Arm 1 loses twice (110 -> 100): after the first, (1+1)/(2+2) = 1/2 ties arm 2 and still passes;
  trip(s, 1, 110, 100, 3 * kSec);
  EXPECT_DOUBLE_EQ(s.vote_weight(s.arms()[0]), 0.5);
  trip(s, 1, 110, 100, 4 * kSec);
  // after the second, (1+1)/(3+2) = 2/5 < 0.5 x (2/5 + 1/2) = 0.45: held back, and arm 2 (1/2 >= 0.45) passes.
  EXPECT_DOUBLE_EQ(s.vote_weight(s.arms()[0]), 0.4);
  EXPECT_EQ(s.arms()[0].wins, 1u);
  EXPECT_EQ(s.arms()[0].trips, 3u);
  EXPECT_EQ(offer(s, entry(1, Side::buy), 5 * kSec), 0u);
  EXPECT_EQ(offer(s, entry(2, Side::buy), 6 * kSec), 1u);
  EXPECT_EQ(s.owner(), 1);
}

TEST(Selector, NonMembersPassUntouched) {
  SelectorConfig c;
  c.kind = SelectorConfig::Kind::ucb;
  c.members = {1, 2};
  Selector s(c);
  ASSERT_EQ(offer(s, entry(1, Side::buy), 1), 1u);
  EXPECT_EQ(offer(s, entry(7, Side::sell), 2), 1u);
  EXPECT_EQ(offer(s, exit_of(2, Side::sell), 2), 0u);
}

}  // namespace
