// The strategy stage and the three bundled strategies on crafted and real sequences; allocation-free updates.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/logger.hpp"
#include "strategy/strategy.hpp"
#include "tests/strategy/signal_data.hpp"
#include "tests/support/alloc_counter.hpp"

namespace enigma::strategy {
namespace {

constexpr InstrumentId kBtc = 7;

StrategyCommonConfig common(std::uint16_t id) {
  StrategyCommonConfig c;
  c.strategy_id = id;
  c.instrument = kBtc;
  c.order_qty = test::qx("0.010");
  c.tick = test::px("0.10");
  return c;
}

EventHeader header(std::int64_t time_ns, std::uint64_t tsc, EventType type = EventType::trade) {
  EventHeader h{};
  h.recv_tsc = tsc;
  h.venue_time_ns = time_ns;
  h.instrument = kBtc;
  h.venue = Venue{};
  h.type = type;
  return h;
}

Fill fill_of(const OrderIntent& i) { return Fill{i.trigger_tsc, i.entry, i.qty, i.instrument, i.strategy_id, i.side}; }

std::vector<Bar> coinbase_bars() {
  std::vector<Bar> bars;
  for (const auto& r : test::read_coinbase_4h()) {
    bars.push_back(Bar{r.time_s * 1'000'000'000, std::stod(r.open), std::stod(r.high), std::stod(r.low),
                       std::stod(r.close), std::stod(r.volume)});
  }
  return bars;
}

TEST(StrategyImbalanceTaker, EntersAfterConfirmedImbalanceThenExitsOnFlip) {
  ImbalanceTakerConfig cfg;
  cfg.common = common(3);
  cfg.depth = 2;
  cfg.entry_imbalance = 0.6;
  cfg.confirm_updates = 3;
  cfg.cooldown_ns = 1'000'000'000;
  ImbalanceTaker s(cfg);
  IntentBuffer out;
  const PriceLevel heavy_bids[2] = {{test::px("10000.0"), test::qx("9")}, {test::px("9999.9"), test::qx("9")}};
  const PriceLevel thin_asks[2] = {{test::px("10000.1"), test::qx("1")}, {test::px("10000.2"), test::qx("1")}};
  const BookTop buy_book{heavy_bids, thin_asks};  // imbalance (18 - 2) / 20 = 0.8
  std::int64_t t = 1'000'000'000'000;
  s.on_book(header(t, 1), buy_book, out);
  s.on_book(header(t + 1, 2), buy_book, out);
  EXPECT_TRUE(out.empty());  // two updates are not yet confirmation
  s.on_book(header(t + 2, 3), buy_book, out);
  ASSERT_EQ(out.size(), 1u);
  const OrderIntent& i = out[0];
  EXPECT_EQ(i.side, Side::buy);
  EXPECT_EQ(i.reason, IntentReason::imbalance_entry);
  EXPECT_EQ(i.limit, test::px("10000.2"));  // ask + 1 tick: marketable
  EXPECT_EQ(i.entry, test::px("10000.1"));
  EXPECT_EQ(i.stop, test::px("9995.1"));    // 50 ticks below the ask
  EXPECT_EQ(i.take_profit, test::px("10005.1"));
  EXPECT_EQ(i.qty, test::qx("0.010"));
  EXPECT_EQ(i.trigger_tsc, 3u);
  EXPECT_EQ(i.strategy_id, 3);
  EXPECT_FALSE(i.reduce_only);
  // Pending and cooling down: nothing more while the imbalance persists.
  s.on_book(header(t + 3, 4), buy_book, out);
  EXPECT_EQ(out.size(), 1u);
  const Fill f = fill_of(out[0]);
  out.clear();
  s.on_fill(f, out);
  EXPECT_TRUE(s.position().long_());
  const BookTop sell_book{thin_asks, heavy_bids};  // mirrored: imbalance -0.8 (prices irrelevant here)
  s.on_book(header(t + 500'000'000, 5), sell_book, out);
  EXPECT_TRUE(out.empty());  // still inside the 1 s cooldown
  s.on_book(header(t + 1'100'000'000, 6), sell_book, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].side, Side::sell);
  EXPECT_TRUE(out[0].reduce_only);
  EXPECT_EQ(out[0].reason, IntentReason::imbalance_exit);
  EXPECT_EQ(out[0].qty, test::qx("0.010"));
  // Fills of another strategy or instrument do not move this one's position.
  Fill other = fill_of(out[0]);
  other.strategy_id = 4;
  s.on_fill(other, out);
  EXPECT_TRUE(s.position().long_());
}

TEST(StrategyImbalanceTaker, WideSpreadBlocksEntry) {
  ImbalanceTakerConfig cfg;
  cfg.common = common(3);
  cfg.confirm_updates = 1;
  cfg.max_spread_bps = 5.0;
  ImbalanceTaker s(cfg);
  IntentBuffer out;
  const PriceLevel bid{test::px("100.0"), test::qx("9")};
  const PriceLevel ask{test::px("100.1"), test::qx("1")};  // 10 bps wide
  s.on_book(header(1, 1), BookTop{{&bid, 1}, {&ask, 1}}, out);
  EXPECT_TRUE(out.empty());
  EXPECT_THROW(ImbalanceTaker{ImbalanceTakerConfig{}}, Error);  // instrument not set
}

TEST(StrategyStage, RealBinanceTapeThroughTheVariantStage) {
  // The first 30,000 trade/bookTicker frames of the Binance USD-M BTCUSDT session; bookTicker gives the
  // top level only, so the taker looks at depth 1.
  const auto lines = test::read_gz_lines(test::data_path("binance_usdm_BTCUSDT_trade_bookticker_head_20240808.txt.gz"));
  ImbalanceTakerConfig tk;
  tk.common = common(1);
  tk.depth = 1;
  tk.entry_imbalance = 0.8;
  tk.confirm_updates = 5;
  ConfluenceConfig cf;
  cf.common = common(2);
  cf.candles.timeframes_s = {1};
  cf.signal.use_regime_threshold = false;
  cf.signal.signal_threshold = 20.0;
  MeanReversionConfig mr;
  mr.common = common(3);
  mr.candles.timeframes_s = {1};
  std::vector<AnyStrategy> v;
  v.emplace_back(ImbalanceTaker(tk));
  v.emplace_back(ConfluenceStrategy(cf));
  v.emplace_back(MeanReversionStrategy(mr));
  StrategyStage stage(std::move(v));
  IntentBuffer out;
  std::vector<OrderIntent> all;
  std::size_t events = 0;
  std::uint64_t allocations = 0;
  for (const auto& l : lines) {
    out.clear();
    if (test::is_trade_line(l)) {
      const auto t = test::parse_trade(l);
      Event e;
      e.h = header(t.time_ns, t.recv_ns, EventType::trade);
      e.trade = Trade{t.price, t.qty, t.id, t.buyer_is_maker ? Side::sell : Side::buy};
      test::AllocationScope scope;
      stage.on_event(e, out);
      allocations += scope.count();
    } else if (test::is_ticker_line(l)) {
      const auto t = test::parse_ticker(l);
      const PriceLevel bid{t.bid, t.bid_qty}, ask{t.ask, t.ask_qty};
      test::AllocationScope scope;
      stage.on_book(header(t.time_ns, t.recv_ns, EventType::bbo), BookTop{{&bid, 1}, {&ask, 1}}, out);
      allocations += scope.count();
    } else {
      continue;
    }
    ++events;
    for (const OrderIntent& i : out.view()) {
      all.push_back(i);
      // The engine would route to risk/OMS; here every intent fills at its reference price at once.
      IntentBuffer ignored;
      stage.on_fill(fill_of(i), ignored);
    }
  }
  EXPECT_EQ(events, lines.size());
  EXPECT_EQ(allocations, 0u) << "the stage allocated on the hot path";
  std::size_t by_id[4] = {};
  for (const OrderIntent& i : all) {
    ASSERT_LE(i.strategy_id, 3);
    ++by_id[i.strategy_id];
    EXPECT_EQ(i.instrument, kBtc);
    EXPECT_GT(i.qty.raw(), 0);
    EXPECT_NE(i.trigger_tsc, 0u);
    if (!i.reduce_only && i.stop.raw() != 0) {  // suggested stop on the losing side of the entry
      if (i.side == Side::buy) {
        EXPECT_LT(i.stop, i.entry);
      } else {
        EXPECT_GT(i.stop, i.entry);
      }
    }
  }
  EXPECT_GT(by_id[1], 0u) << "imbalance taker never traded on the real tape";
  EXPECT_GT(by_id[2], 0u) << "confluence never traded on 1 s bars";
}

TEST(StrategyConfluence, TradesRealCandlesWithConsistentBrackets) {
  const auto bars = coinbase_bars();
  ConfluenceConfig cfg;
  cfg.common = common(9);
  cfg.candles.timeframes_s = {4 * 3600};
  cfg.use_order_flow = false;
  ConfluenceStrategy s(cfg);
  IntentBuffer out;
  std::size_t entries = 0, exits = 0;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    out.clear();
    s.on_bar(0, bars[i], i + 1, out);
    for (const OrderIntent& it : out.view()) {
      const SignalResult& r = s.last_signal(0);
      if (it.reason == IntentReason::signal_entry) {
        ++entries;
        EXPECT_FALSE(it.reduce_only);
        EXPECT_EQ(it.limit, Price{});  // market by default
        EXPECT_EQ(it.side == Side::buy, r.direction == Direction::long_);
        EXPECT_GE(std::fabs(r.score), r.threshold);
        const double dir = it.side == Side::buy ? 1.0 : -1.0;
        EXPECT_NEAR(it.stop.to_double(), r.close - dir * 2.0 * r.atr, 0.1);
        EXPECT_NEAR(it.take_profit.to_double(), r.close + dir * 3.0 * r.atr, 0.1);
      } else {
        ASSERT_EQ(it.reason, IntentReason::signal_exit);
        ++exits;
        EXPECT_TRUE(it.reduce_only);
        EXPECT_EQ(it.qty, test::qx("0.010"));
      }
      s.on_fill(fill_of(it), out);
    }
  }
  EXPECT_GT(entries, 20u);
  EXPECT_GE(entries, exits);
  EXPECT_LE(entries, exits + 1);  // every entry but possibly the last was closed
}

// The log tells each regime change of a timeframe once its scorer is ready (README "Log format").
TEST(StrategyConfluence, LogsEachRegimeChange) {
  const std::string path = ::testing::TempDir() + "/enigma_regime_" + std::to_string(::getpid()) + ".log";
  std::remove(path.c_str());
  LoggerOptions lo;
  lo.path = path;
  lo.install_signal_handlers = false;
  Logger logger(lo);
  Logger::set_global(&logger);
  const auto bars = coinbase_bars();
  ConfluenceConfig cfg;
  cfg.common = common(9);
  cfg.candles.timeframes_s = {4 * 3600};
  cfg.use_order_flow = false;
  ConfluenceStrategy s(cfg);
  IntentBuffer out;
  std::vector<std::string> expected;  // "from to", from the strategy's own results bar by bar
  SignalResult prev{};
  for (std::size_t i = 0; i < bars.size(); ++i) {
    out.clear();
    s.on_bar(0, bars[i], i + 1, out);
    for (const OrderIntent& it : out.view()) s.on_fill(fill_of(it), out);
    const SignalResult& r = s.last_signal(0);
    if (r.ready && (!prev.ready || r.regime != prev.regime))
      expected.push_back(std::string(prev.ready ? to_string(prev.regime) : "none") + " " + to_string(r.regime));
    prev = r;
    if (i % 256 == 255) logger.flush();  // keep the ring from filling
  }
  logger.flush();
  Logger::set_global(nullptr);
  logger.shutdown();
  std::vector<std::string> logged;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(" INFO strategy regime_change timeframe=0 from=");
    if (at == std::string::npos) continue;
    const auto from = line.find("from=") + 5, to = line.find(" to=") + 4;
    logged.push_back(line.substr(from, line.find(' ', from) - from) + " " + line.substr(to, line.find(' ', to) - to));
  }
  EXPECT_GT(expected.size(), 2u) << "the sample has several regimes";
  EXPECT_EQ(logged, expected);
}

TEST(StrategyMeanReversion, BuysACrashBelowTheBandAndExitsAtTheMiddle) {
  MeanReversionConfig cfg;
  cfg.common = common(5);
  cfg.candles.timeframes_s = {60};
  MeanReversionStrategy s(cfg);
  IntentBuffer out;
  // 30 quiet bars around 100, then a slide of 5 bars down 2 each: RSI collapses, close under the lower band.
  std::vector<Bar> bars;
  for (int i = 0; i < 30; ++i) {
    const double c = 100.0 + (i % 2 == 0 ? 0.2 : -0.2);
    bars.push_back(Bar{i * 60'000'000'000LL, c, c + 0.3, c - 0.3, c, 10.0});
  }
  for (int i = 0; i < 5; ++i) {
    const double c = 98.0 - 2.0 * i;
    bars.push_back(Bar{(30 + i) * 60'000'000'000LL, c + 2.0, c + 2.1, c - 0.1, c, 10.0});
  }
  std::size_t entry_at = 0;
  for (std::size_t i = 0; i < bars.size() && out.empty(); ++i) {
    s.on_bar(bars[i], i + 1, out);
    entry_at = i;
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].side, Side::buy);
  EXPECT_EQ(out[0].reason, IntentReason::mean_reversion_entry);
  EXPECT_LT(s.rsi().value(), 30.0);
  EXPECT_LT(bars[entry_at].close, s.bands().lower());
  EXPECT_EQ(out[0].limit, Price::from_units(static_cast<std::int64_t>(bars[entry_at].close)));  // whole closes
  EXPECT_LT(out[0].stop, out[0].entry);
  EXPECT_GT(out[0].take_profit, out[0].entry);  // the middle band
  s.on_fill(fill_of(out[0]), out);
  out.clear();
  // Recovery to 101: the close crosses the middle band and the position is closed.
  for (int i = 0; i < 10 && out.empty(); ++i) {
    const double c = 92.0 + i;
    s.on_bar(Bar{(35 + i) * 60'000'000'000LL, c - 1, c + 0.1, c - 1.1, c, 10.0}, 100 + i, out);
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].side, Side::sell);
  EXPECT_TRUE(out[0].reduce_only);
  EXPECT_EQ(out[0].reason, IntentReason::mean_reversion_exit);
  EXPECT_GE(out[0].entry.to_double() + 0.05, s.bands().middle());
}

TEST(StrategySignal, UpdatesAllocateNothing) {
  const auto bars = coinbase_bars();
  SignalScorer scorer;
  OrderFlow flow(OrderFlowConfig{});
  CandleConfig cc;
  cc.timeframes_s = {1, 60, 3600};
  cc.timeframe_count = 3;
  cc.gap_policy = GapPolicy::fill_flat;
  TradeBarBuilder builder(cc);
  test::AllocationScope scope;
  double sink = 0.0;
  for (std::size_t i = 0; i < 5000; ++i) {
    const SignalResult r = scorer.on_bar(bars[i], &flow.features());
    sink += r.score;
    const Price p = Price::from_units(static_cast<std::int64_t>(bars[i].close));
    flow.on_trade(static_cast<std::int64_t>(i) * 700'000'000, Trade{p, Qty::from_units(1), i, Side::buy});
    (void)builder.on_trade(static_cast<std::int64_t>(i) * 700'000'000, p, Qty::from_units(1), Side::buy,
                           [&](const ClosedBar& b) { sink += b.bar.close; });
  }
  EXPECT_EQ(scope.count(), 0u);
  EXPECT_NE(sink, 0.0);
}

}  // namespace
}  // namespace enigma::strategy
