// kind = "volume-profile" (strategy/strategies/volume_profile.hpp) on hand-computed profiles: POC, value area
// (the larger neighbour first, both on a tie, empty buckets inside the span count 0), the rolling window, the UTC
// session and span restarts, a rejection and two breakouts on a crafted tape; nothing allocated on a real tape.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "strategy/strategy.hpp"  // the registry: every bundled strategy, volume-profile among them
#include "tests/strategy/signal_data.hpp"
#include "tests/support/alloc_counter.hpp"

namespace enigma::strategy {
namespace {

constexpr InstrumentId kBtc = 7;
constexpr std::int64_t kDayNs = 86'400'000'000'000;

VolumeProfileConfig config(ProfileKind kind, int window) {
  VolumeProfileConfig c;
  c.common.strategy_id = 1;
  c.common.instrument = kBtc;
  c.common.order_qty = test::qx("0.010");
  c.common.tick = test::px("0.10");
  c.profile = kind;
  c.bucket_ticks = 1;  // one bucket per tick: bucket 1003 holds 100.3
  c.window_trades = window;
  c.cooldown_trades = 0;
  c.cooldown_ms = 0;  // the crafted trades share one timestamp
  return c;
}

// One trade of `qty` at `price`, at `time_ns`; the intents it produced.
std::vector<OrderIntent> trade(VolumeProfile& s, const char* price, const char* qty = "1", std::int64_t time_ns = 0) {
  EventHeader h{};
  h.recv_tsc = 1;
  h.venue_time_ns = time_ns;
  h.instrument = kBtc;
  h.type = EventType::trade;
  IntentBuffer out;
  s.on_trade(h, Trade{test::px(price), test::qx(qty), 0, Side::buy}, out);
  return {out.view().begin(), out.view().end()};
}

void feed(VolumeProfile& s, const std::vector<std::pair<const char*, const char*>>& trades) {
  for (const auto& [p, q] : trades) EXPECT_TRUE(trade(s, p, q).empty());
}

// Volumes by bucket: 100.0:1 100.1:2 100.2:5 100.3:9 100.4:4 100.5:4 100.6:1, total 26; 70 % of it is 18.2.
// POC 100.3 (9). From [100.3]: above 4 < below 5 -> add 100.2 (14); above 4 > below 2 -> add 100.4 (18);
// 18 < 18.2: above 4 (100.5) > below 2 -> add 100.5 (22 >= 18.2). Value area 100.2 .. 100.5: VAL 100.2, VAH 100.6.
TEST(StrategyVolumeProfile, PocAndValueAreaOfAHandComputedProfile) {
  VolumeProfile s(config(ProfileKind::session, 10));
  feed(s, {{"100.0", "1"}, {"100.1", "2"}, {"100.2", "5"}, {"100.3", "4"}, {"100.3", "5"}, {"100.4", "4"},
           {"100.5", "1.5"}, {"100.5", "2.5"}, {"100.6", "1"}});
  const auto l = s.levels();
  EXPECT_EQ(l.poc, 1003);
  EXPECT_EQ(l.poc_volume, test::qx("9").raw());
  EXPECT_EQ(l.va_low, 1002);
  EXPECT_EQ(l.va_high, 1005);
  EXPECT_EQ(s.bucket_of(test::px("100.39").raw()), 1003);
}

// 100.0:3 100.1:6 100.2:3 100.5:6: two POC candidates of 6, the lowest (100.1) wins. 70 % of 18 = 12.6: from
// [100.1] (6), above 3 = below 3 -> both (12); 12 < 12.6: nothing exists below 100.0 (the span's end), so the
// empty 100.3 (0, in the span) is added, then 100.4 (0), then 100.5 (18). VA 100.0 .. 100.5.
TEST(StrategyVolumeProfile, TiesAndEmptyBuckets) {
  VolumeProfile s(config(ProfileKind::session, 10));
  feed(s, {{"100.0", "3"}, {"100.1", "6"}, {"100.2", "3"}, {"100.5", "6"}});
  auto l = s.levels();
  EXPECT_EQ(l.poc, 1001);
  EXPECT_EQ(l.va_low, 1000);
  EXPECT_EQ(l.va_high, 1005);
  // 100.0:4 100.2:10 100.3:1 (100.1 empty), 70 % of 15 = 10.5: from [100.2] (10) above 1 > below 0 -> 100.3 (11).
  VolumeProfile t(config(ProfileKind::session, 10));
  feed(t, {{"100.0", "4"}, {"100.2", "10"}, {"100.3", "1"}});
  l = t.levels();
  EXPECT_EQ(l.poc, 1002);
  EXPECT_EQ(l.va_low, 1002);
  EXPECT_EQ(l.va_high, 1003);
}

TEST(StrategyVolumeProfile, RollingWindowSessionDayAndSpanRestart) {
  VolumeProfile r(config(ProfileKind::rolling, 10));
  for (int i = 0; i < 10; ++i) trade(r, "100.0");
  for (int i = 0; i < 10; ++i) trade(r, "100.5");
  EXPECT_EQ(r.profile_trades(), 10u);  // the ten at 100.0 left
  auto l = r.levels();
  EXPECT_EQ(l.poc, 1005);
  EXPECT_EQ(l.va_low, 1005);
  EXPECT_EQ(l.va_high, 1005);

  VolumeProfile d(config(ProfileKind::session, 10));
  trade(d, "100.0", "1", kDayNs - 1);
  trade(d, "100.1", "1", kDayNs - 1);
  EXPECT_EQ(d.profile_trades(), 2u);
  trade(d, "100.2", "1", kDayNs);  // a new UTC day restarts the session profile
  EXPECT_EQ(d.profile_trades(), 1u);
  EXPECT_EQ(d.levels().poc, 1002);

  auto c = config(ProfileKind::session, 10);
  c.max_buckets = 3;
  VolumeProfile w(c);
  feed(w, {{"100.0", "1"}, {"100.1", "1"}, {"100.2", "1"}});
  EXPECT_EQ(w.profile_trades(), 3u);
  trade(w, "100.3");  // a span of 4 buckets: the profile restarts from this trade
  EXPECT_EQ(w.profile_trades(), 1u);
  EXPECT_EQ(w.levels().poc, 1003);
}

// Session profile used from 10 trades, breakout 2 ticks, rejection within 3 trades. After the ten trades
// 100.2 100.2 100.1 100.3 100.2 100.0 100.1 100.3 100.2 100.4 (1 each): 100.0:1 100.1:2 100.2:4 100.3:2 100.4:1.
//   100.2: VA (7 of 10: 4, tie 2/2 -> 8) = 100.1 .. 100.3, VAH 100.4: inside.
//   100.4: 1,2,5,2,1 -> VA 100.1 .. 100.3 (5 + 2 + 2 = 9 >= 7.7): 100.4 >= VAH: an excursion above starts,
//          short of VAH + 2 ticks = 100.6.
//   100.3: 1,2,5,2,2 -> VA 100.1 .. 100.3 (9 >= 8.4): inside one trade later -> rejection: sell 100.3, stop
//          100.3 + 400 ticks = 140.3, take-profit 100.3 - 800 ticks = 20.3.
//   100.7: 1,2,5,3,2 (13, need 9.1): 5, +100.3 (3 > 2) = 8, tie 2/2 -> 12: VA 100.1 .. 100.4, VAH 100.5;
//          100.7 >= 100.5 + 0.2 -> breakout: buy, holding short -> reduce-only exit.
//   100.2: inside, the excursion broke out: nothing.
//   100.8: 1,2,6,3,2,0,0,1 (15, need 10.5): 6, +3, tie 2/2 -> 13: VAH 100.5 -> breakout: buy entry at 100.8.
TEST(StrategyVolumeProfile, RejectionAndBreakoutsOnACraftedTape) {
  auto c = config(ProfileKind::session, 10);
  c.breakout_ticks = 2;
  c.rejection_trades = 3;
  VolumeProfile s(c);
  for (const char* p : {"100.2", "100.2", "100.1", "100.3", "100.2", "100.0", "100.1", "100.3", "100.2", "100.4"})
    EXPECT_TRUE(trade(s, p).empty()) << p;
  EXPECT_TRUE(trade(s, "100.2").empty());
  EXPECT_TRUE(trade(s, "100.4").empty());
  auto v = trade(s, "100.3");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].side, Side::sell);
  EXPECT_EQ(v[0].reason, IntentReason::signal_entry);
  EXPECT_FALSE(v[0].reduce_only);
  EXPECT_EQ(v[0].entry, test::px("100.3"));
  EXPECT_EQ(v[0].stop, test::px("140.3"));
  EXPECT_EQ(v[0].take_profit, test::px("20.3"));
  v = trade(s, "100.7");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].side, Side::buy);
  EXPECT_EQ(v[0].reason, IntentReason::signal_exit);
  EXPECT_TRUE(v[0].reduce_only);
  EXPECT_TRUE(trade(s, "100.2").empty());
  v = trade(s, "100.8");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].side, Side::buy);
  EXPECT_EQ(v[0].reason, IntentReason::signal_entry);
  EXPECT_EQ(v[0].stop, test::px("60.8"));

  // hvn_fraction 0.5: the rejection trade's bucket (100.3: 2) is below half the POC's 5 -> no rejection, and
  // the breakout at 100.7 is then an entry.
  c.hvn_fraction = Rate::from_raw(Rate::kScale / 2);
  VolumeProfile h(c);
  for (const char* p : {"100.2", "100.2", "100.1", "100.3", "100.2", "100.0", "100.1", "100.3", "100.2", "100.4",
                        "100.2", "100.4", "100.3"})
    EXPECT_TRUE(trade(h, p).empty()) << p;
  v = trade(h, "100.7");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].reason, IntentReason::signal_entry);
  EXPECT_EQ(v[0].side, Side::buy);
}

TEST(StrategyVolumeProfile, RealTapeAllocatesNothing) {
  const auto lines = test::read_gz_lines(test::data_path("binance_usdm_BTCUSDT_trade_bookticker_head_20240808.txt.gz"));
  for (const ProfileKind kind : {ProfileKind::rolling, ProfileKind::session}) {
    auto c = config(kind, 500);
    c.bucket_ticks = 10;
    c.cooldown_trades = 20;
    VolumeProfile s(c);
    std::uint64_t allocations = 0;
    std::size_t trades = 0, intents = 0;
    for (const auto& l : lines) {
      if (!test::is_trade_line(l)) continue;
      const auto t = test::parse_trade(l);
      EventHeader h{};
      h.recv_tsc = t.recv_ns;
      h.venue_time_ns = t.time_ns;
      h.instrument = kBtc;
      h.type = EventType::trade;
      IntentBuffer out;
      test::AllocationScope scope;
      s.on_trade(h, Trade{t.price, t.qty, t.id, t.buyer_is_maker ? Side::sell : Side::buy}, out);
      allocations += scope.count();
      intents += out.view().size();
      ++trades;
    }
    EXPECT_GT(trades, 1000u);
    EXPECT_GT(intents, 0u);
    EXPECT_EQ(allocations, 0u);
  }
}

}  // namespace
}  // namespace enigma::strategy
