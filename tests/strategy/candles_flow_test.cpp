// Candles (trade bars, venue-candle resampling, alignment, gaps) and order-flow features on real data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "strategy/candles.hpp"
#include "strategy/order_flow.hpp"
#include "tests/strategy/signal_data.hpp"

namespace enigma::strategy {
namespace {

using test::RawTrade;

std::vector<RawTrade> real_trades() {
  std::vector<RawTrade> out;
  for (const auto& l : test::read_gz_lines(test::data_path("binance_usdm_BTCUSDT_trades_20240808.txt.gz"))) {
    if (test::is_trade_line(l)) out.push_back(test::parse_trade(l));
  }
  return out;
}

// Independent OHLCV per bucket of `tf_s` seconds: a std::map keyed by bucket, no shared code.
struct RefBar {
  Price o, h, l, c;
  Qty v;
  std::uint32_t n = 0;
};
std::map<std::int64_t, RefBar> reference_bars(const std::vector<RawTrade>& trades, std::int64_t tf_s) {
  std::map<std::int64_t, RefBar> m;
  const std::int64_t tf_ns = tf_s * 1'000'000'000;
  for (const RawTrade& t : trades) {
    const std::int64_t k = t.time_ns / tf_ns * tf_ns;
    auto [it, fresh] = m.try_emplace(k);
    RefBar& b = it->second;
    if (fresh) {
      b.o = b.h = b.l = b.c = t.price;
      b.v = Qty{};
    }
    b.h = std::max(b.h, t.price);
    b.l = std::min(b.l, t.price);
    b.c = t.price;
    b.v += t.qty;
    ++b.n;
  }
  return m;
}

TEST(StrategyCandles, TradeBarsMatchIndependentOhlcvOnRealBinanceTrades) {
  const auto trades = real_trades();
  ASSERT_EQ(trades.size(), 21313u);  // every trade frame of the session (SOURCES.md)
  CandleConfig cfg;
  cfg.timeframes_s = {1, 60};
  cfg.timeframe_count = 2;
  TradeBarBuilder builder(cfg);
  std::vector<ClosedBar> closed;
  for (const RawTrade& t : trades) {
    ASSERT_EQ(builder.on_trade(t.time_ns, t.price, t.qty, t.buyer_is_maker ? Side::sell : Side::buy,
                               [&](const ClosedBar& b) { closed.push_back(b); }),
              Errc::ok);
  }
  builder.advance_to(trades.back().time_ns + 3'600'000'000'000LL, [&](const ClosedBar& b) { closed.push_back(b); });

  for (std::int64_t tf : {1, 60}) {
    const auto ref = reference_bars(trades, tf);
    std::size_t seen = 0;
    for (const ClosedBar& b : closed) {
      if (b.timeframe_s != tf) continue;
      ++seen;
      auto it = ref.find(b.bar.time_ns);
      ASSERT_NE(it, ref.end()) << "bar at " << b.bar.time_ns << " has no trades in the reference";
      EXPECT_EQ(b.exact.open, it->second.o);
      EXPECT_EQ(b.exact.high, it->second.h);
      EXPECT_EQ(b.exact.low, it->second.l);
      EXPECT_EQ(b.exact.close, it->second.c);
      EXPECT_EQ(b.exact.volume, it->second.v);
      EXPECT_EQ(b.exact.trade_count, it->second.n);
      EXPECT_EQ(b.bar.close, it->second.c.to_double());
      EXPECT_DOUBLE_EQ(b.bar.volume, it->second.v.to_double());
      EXPECT_FALSE(b.filled);
    }
    EXPECT_EQ(seen, ref.size()) << "timeframe " << tf;
  }
  // 2024-08-08 23:54:16 .. 23:59:59 UTC: the 1 m bars cover 23:54 .. 23:59.
  EXPECT_EQ(reference_bars(trades, 60).size(), 6u);

  // Alignment: each 1 m bar is emitted right after the last 1 s bar that falls inside it.
  for (std::size_t i = 0; i < closed.size(); ++i) {
    if (closed[i].timeframe_s != 60) continue;
    ASSERT_GT(i, 0u);
    const ClosedBar& prev = closed[i - 1];
    EXPECT_EQ(prev.timeframe_s, 1u);
    EXPECT_GE(prev.bar.time_ns, closed[i].bar.time_ns);
    EXPECT_LT(prev.bar.time_ns, closed[i].bar.time_ns + 60'000'000'000LL);
    EXPECT_EQ(prev.exact.close, closed[i].exact.close);
  }
}

TEST(StrategyCandles, GapsAreSkippedOrFilledExplicitly) {
  const std::int64_t s = 1'000'000'000;
  const std::int64_t t0 = 1'723'161'300 * s;  // a minute boundary
  const Price p1 = Price::from_units(100), p2 = Price::from_units(105);
  const Qty q = Qty::from_units(1);
  for (GapPolicy policy : {GapPolicy::skip, GapPolicy::fill_flat}) {
    CandleConfig cfg;
    cfg.timeframes_s = {1, 5};
    cfg.timeframe_count = 2;
    cfg.gap_policy = policy;
    TradeBarBuilder b(cfg);
    std::vector<ClosedBar> out;
    auto sink = [&](const ClosedBar& c) { out.push_back(c); };
    ASSERT_EQ(b.on_trade(t0 + s / 2, p1, q, Side::buy, sink), Errc::ok);
    ASSERT_EQ(b.on_trade(t0 + 7 * s + 1, p2, q, Side::sell, sink), Errc::ok);  // seconds 1..6 had no trade
    std::vector<ClosedBar> ones, fives;
    for (auto& c : out) (c.timeframe_s == 1 ? ones : fives).push_back(c);
    ASSERT_EQ(fives.size(), 1u);  // [t0, t0+5s) closed; [t0+5s, t0+10s) still open
    EXPECT_EQ(fives[0].bar.time_ns, t0);
    if (policy == GapPolicy::skip) {
      ASSERT_EQ(ones.size(), 1u);
    } else {
      ASSERT_EQ(ones.size(), 7u);  // the traded second, then six flat seconds 1..6
      for (std::size_t i = 1; i < 7; ++i) {
        EXPECT_TRUE(ones[i].filled);
        EXPECT_EQ(ones[i].bar.time_ns, t0 + static_cast<std::int64_t>(i) * s);
        EXPECT_EQ(ones[i].exact.open, p1);
        EXPECT_EQ(ones[i].exact.close, p1);
        EXPECT_EQ(ones[i].exact.volume, Qty{});
      }
    }
    // A trade of a second that has already been emitted is refused, not merged.
    EXPECT_EQ(b.on_trade(t0 + 2 * s, p1, q, Side::buy, sink), Errc::stale);
    EXPECT_EQ(b.stale_trades(), 1u);
    // Time alone closes bars: advancing to t0 + 10 s closes the second 5 s bar.
    out.clear();
    b.advance_to(t0 + 10 * s, sink);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.back().timeframe_s, 5u);
    EXPECT_EQ(out.back().bar.time_ns, t0 + 5 * s);
    EXPECT_EQ(out.back().exact.close, p2);
  }
}

TEST(StrategyCandles, ConfigValidation) {
  CandleConfig c;
  c.timeframes_s = {7};
  EXPECT_THROW(c.validate(), Error);  // does not divide the day
  c.timeframes_s = {60, 90};
  c.timeframe_count = 2;
  EXPECT_THROW(c.validate(), Error);  // not a multiple
  c.timeframes_s = {60, 60};
  EXPECT_THROW(c.validate(), Error);
  c.timeframes_s = {1, 60, 3600, 86400};
  c.timeframe_count = 4;
  EXPECT_NO_THROW(c.validate());
  c.timeframe_count = 0;
  EXPECT_THROW(c.validate(), Error);
}

TEST(StrategyCandles, ResamplesRealCoinbase4hCandlesIntoDays) {
  const auto rows = test::read_coinbase_4h();
  ASSERT_EQ(rows.size(), 20695u);
  CandleConfig cfg;
  cfg.timeframes_s = {4 * 3600, 86400};
  cfg.timeframe_count = 2;
  CandleResampler r(cfg);
  std::vector<ClosedBar> days;
  struct Day {
    Price o, h, l, c;
    Qty v;
    int n = 0;
  };
  std::map<std::int64_t, Day> ref;
  for (const auto& row : rows) {
    Candle c{test::px(row.open), test::px(row.high), test::px(row.low), test::px(row.close), test::qx(row.volume)};
    ASSERT_EQ(r.on_candle(row.time_s * 1'000'000'000, 4 * 3600, c,
                          [&](const ClosedBar& b) {
                            if (b.tf_index == 1) days.push_back(b);
                          }),
              Errc::ok);
    auto [it, fresh] = ref.try_emplace(row.time_s / 86400 * 86400);
    Day& d = it->second;
    if (fresh) {
      d.o = c.open;
      d.h = c.high;
      d.l = c.low;
      d.v = Qty{};
    }
    d.h = std::max(d.h, c.high);
    d.l = std::min(d.l, c.low);
    d.c = c.close;
    d.v += c.volume;
    ++d.n;
  }
  // Every day except the last (still open after the 2025-10-28 00:00 candle) was emitted.
  ASSERT_EQ(days.size(), ref.size() - 1);
  std::size_t partial = 0;
  for (const ClosedBar& b : days) {
    const Day& d = ref.at(b.bar.time_ns / 1'000'000'000);
    EXPECT_EQ(b.exact.open, d.o);
    EXPECT_EQ(b.exact.high, d.h);
    EXPECT_EQ(b.exact.low, d.l);
    EXPECT_EQ(b.exact.close, d.c);
    EXPECT_EQ(b.exact.volume, d.v);
    EXPECT_EQ(b.partial, d.n != 6);
    partial += b.partial;
  }
  EXPECT_LT(partial, days.size() / 20);  // Coinbase misses few 4 h candles
  // Stale and misaligned candles are refused.
  Candle c{};
  EXPECT_EQ(r.on_candle(rows.back().time_s * 1'000'000'000, 4 * 3600, c, [](const ClosedBar&) {}), Errc::stale);
  EXPECT_EQ(r.on_candle(rows.back().time_s * 1'000'000'000 + 1, 4 * 3600, c, [](const ClosedBar&) {}),
            Errc::out_of_range);
  EXPECT_EQ(r.on_candle(rows.back().time_s * 1'000'000'000 + 14'400'000'000'000LL, 3600, c, [](const ClosedBar&) {}),
            Errc::out_of_range);
}

// ---- order flow ----------------------------------------------------------------------------------------

TEST(StrategyOrderFlow, BookFeaturesOnARealBookTicker) {
  // First bookTicker of the session: b 61800.20 x 2.507, a 61800.30 x 2.510.
  const auto lines = test::read_gz_lines(test::data_path("binance_usdm_BTCUSDT_trade_bookticker_head_20240808.txt.gz"));
  const auto it = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return test::is_ticker_line(l); });
  ASSERT_NE(it, lines.end());
  const auto t = test::parse_ticker(*it);
  PriceLevel bid{t.bid, t.bid_qty}, ask{t.ask, t.ask_qty};
  BookTop book{{&bid, 1}, {&ask, 1}};
  // By hand: (61800.20 * 2.510 + 61800.30 * 2.507) / 5.017 = 61800.2499701...
  EXPECT_NEAR(microprice(book), (61800.20 * 2.510 + 61800.30 * 2.507) / 5.017, 1e-9);
  EXPECT_NEAR(book_imbalance(book, 5), (2.507 - 2.510) / 5.017, 1e-12);
  EXPECT_EQ(spread(book), test::px("0.10"));
  OrderFlow f(OrderFlowConfig{});
  f.on_book(book);
  EXPECT_TRUE(f.features().book_valid);
  EXPECT_NEAR(f.features().spread_bps, 1e4 * 0.1 / 61800.25, 1e-9);

  // Deeper books: the imbalance counts only the top `depth` levels per side.
  const PriceLevel bids[3] = {{test::px("100"), test::qx("1")}, {test::px("99"), test::qx("2")}, {test::px("98"), test::qx("50")}};
  const PriceLevel asks[2] = {{test::px("101"), test::qx("3")}, {test::px("102"), test::qx("1")}};
  EXPECT_DOUBLE_EQ(book_imbalance({bids, asks}, 2), (3.0 - 4.0) / 7.0);
  EXPECT_DOUBLE_EQ(book_imbalance({bids, asks}, 3), (53.0 - 4.0) / 57.0);
  EXPECT_TRUE(std::isnan(microprice({bids, {}})));
  EXPECT_EQ(book_imbalance({}, 5), 0.0);
}

TEST(StrategyOrderFlow, TradeFeaturesMatchBruteForceOnRealTrades) {
  const auto trades = real_trades();
  OrderFlowConfig cfg;
  cfg.trade_window = 100;
  cfg.size_window = 300;
  cfg.min_size_samples = 50;
  cfg.large_trade_sigma = 4.0;
  cfg.rv_interval_ns = 1'000'000'000;
  cfg.rv_window = 60;
  OrderFlow f(cfg);
  double cvd = 0.0;
  std::size_t large = 0;
  std::vector<double> grid_prices;  // last price at each 1 s grid point, for realized volatility
  std::int64_t next_grid = 0;
  double last_price = 0.0;
  for (std::size_t i = 0; i < trades.size(); ++i) {
    const RawTrade& t = trades[i];
    // Brute-force grid sampling: every grid point crossed by this trade samples the previous price.
    if (i == 0) next_grid = (t.time_ns / 1'000'000'000 + 1) * 1'000'000'000;
    while (i > 0 && t.time_ns >= next_grid) {
      grid_prices.push_back(last_price);
      next_grid += 1'000'000'000;
    }
    // Brute-force size statistics over the previous 300 sizes.
    bool expect_large = false;
    const std::size_t n = std::min<std::size_t>(i, 300);
    if (n >= 50) {
      double sum = 0, sq = 0;
      for (std::size_t k = i - n; k < i; ++k) {
        const double q = trades[k].qty.to_double();
        sum += q;
        sq += q * q;
      }
      const double mean = sum / n, sd = std::sqrt(std::max(0.0, sq / n - mean * mean));
      expect_large = sd > 0 && (t.qty.to_double() - mean) / sd > 4.0;
    }
    const Side aggr = t.buyer_is_maker ? Side::sell : Side::buy;
    const bool got_large = f.on_trade(t.time_ns, Trade{t.price, t.qty, t.id, aggr});
    ASSERT_EQ(got_large, expect_large) << "trade " << i;
    large += expect_large;
    cvd += aggr == Side::buy ? t.qty.to_double() : -t.qty.to_double();
    last_price = t.price.to_double();
    ASSERT_NEAR(f.features().cvd, cvd, 1e-6);

    if (i % 997 == 0 && i >= 100) {
      double signed_sum = 0, abs_sum = 0;
      for (std::size_t k = i + 1 - 100; k <= i; ++k) {
        const double q = trades[k].qty.to_double();
        signed_sum += trades[k].buyer_is_maker ? -q : q;
        abs_sum += q;
      }
      EXPECT_NEAR(f.features().trade_imbalance, signed_sum / abs_sum, 1e-9) << "trade " << i;
      double rv = 0;
      const std::size_t g = grid_prices.size();
      for (std::size_t k = g >= 61 ? g - 60 : 1; k < g; ++k) {
        const double r = std::log(grid_prices[k] / grid_prices[k - 1]);
        rv += r * r;
      }
      EXPECT_NEAR(f.features().realized_vol, std::sqrt(rv), 1e-9) << "trade " << i;
    }
  }
  EXPECT_GT(large, 10u);  // the tape has block trades; the detector is not vacuous
  EXPECT_LT(large, trades.size() / 20);
  EXPECT_EQ(f.features().large_trades, large);
  EXPECT_GT(f.features().realized_vol, 0.0);
}

TEST(StrategyOrderFlow, ConfigValidation) {
  OrderFlowConfig c;
  c.min_size_samples = c.size_window + 1;
  EXPECT_THROW(OrderFlow{c}, Error);
  c = {};
  c.rv_interval_ns = 0;
  EXPECT_THROW(OrderFlow{c}, Error);
}

}  // namespace
}  // namespace enigma::strategy
