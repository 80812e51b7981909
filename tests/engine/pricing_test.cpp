// Strategies own their prices, and every order type reaches the (simulated) venue — through the engine on
// the bundled real session (Binance USD-M BTCUSDT 2024-08-08). The observable is the order journal: every
// order the engine sent, as it left (type, time in force, price, trigger, qty, position), plus the fills.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "oms/journal.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/enigma_process.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::fresh_path;

namespace {

RunConfig bundled_config() {
  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  rc.data = {enigma::testing::kBinanceSession};
  return rc;
}

struct ReplayRun {
  PipelineResult result;
  std::vector<TradeRow> trades;
  std::vector<oms::OrderState> orders;  // every order journaled, in the order it was sent
  strategy::OrderIntent last_confluence_entry{};
  std::uint64_t stop_moves{0};
  std::uint64_t rejects_off_lot{0};
};

ReplayRun replay(const RunConfig& rc) {
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(rc.make_strategies());
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_path("pricing-journal");
  ReplayRun r;
  {
    TradingCore core(registry, trading);
    PipelineOptions po;
    po.venue = rc.venue;
    po.progress = false;
    r.result = run_pipeline(rc.data, registry, strategies, core, po);
    r.trades = core.trades();
    r.stop_moves = core.stop_moves();
    r.rejects_off_lot = core.risk().reject_count(risk::RejectReason::off_lot);
  }
  if (auto* c = std::get_if<strategy::ConfluenceStrategy>(&strategies.at(0))) r.last_confluence_entry = c->last_entry();
  r.orders = oms::Journal::replay(trading.journal_path).orders;
  return r;
}

bool is_entry(const oms::OrderState& o) { return !o.spec.req.reduce_only; }

const oms::OrderState* find(const std::vector<oms::OrderState>& orders, const risk::ClientOrderId& id) {
  for (const auto& o : orders)
    if (o.spec.req.client_id == id) return &o;
  return nullptr;
}

}  // namespace

TEST(EnginePricing, ImbalanceEntriesTakeLiquidityAsIocOrders) {
  const RunConfig rc = bundled_config();  // imbalance, entry_pricing defaults to "intent"
  ASSERT_EQ(rc.trading.entry_by_strategy[rc.strategy_config<strategy::ImbalanceTakerConfig>().common.strategy_id].mode,
            oms::EntryMode::intent);
  const ReplayRun r = replay(rc);
  std::size_t entries = 0;
  for (const auto& o : r.orders) {
    if (!is_entry(o)) continue;
    ++entries;
    EXPECT_EQ(o.spec.req.type, risk::OrderType::limit);  // a marketable limit: the strategy's price cap
    EXPECT_EQ(o.spec.req.tif, risk::TimeInForce::ioc);
  }
  ASSERT_GT(entries, 0u);
  std::size_t entry_fills = 0;
  for (const TradeRow& t : r.trades) {
    const oms::OrderState* o = find(r.orders, t.client_id);
    ASSERT_NE(o, nullptr);
    if (!is_entry(*o)) continue;
    ++entry_fills;
    EXPECT_FALSE(t.maker) << t.client_id.view() << ": an imbalance entry must take";
  }
  EXPECT_GT(entry_fills, 0u);
}

TEST(EnginePricing, LevelPricingStillRestsAtTheNinthLevel) {
  RunConfig rc = bundled_config();
  rc.trading.entry_by_strategy[rc.strategy_config<strategy::ImbalanceTakerConfig>().common.strategy_id] = {
      oms::EntryMode::level, 8};
  const ReplayRun r = replay(rc);
  std::size_t entries = 0;
  for (const auto& o : r.orders) {
    if (!is_entry(o)) continue;
    ++entries;
    EXPECT_EQ(o.spec.req.type, risk::OrderType::limit);
    EXPECT_EQ(o.spec.req.tif, risk::TimeInForce::gtc);
  }
  EXPECT_GT(entries, 0u);
  for (const TradeRow& t : r.trades) {
    const oms::OrderState* o = find(r.orders, t.client_id);
    if (o != nullptr && is_entry(*o)) {
      EXPECT_TRUE(t.maker) << "a 9th-level entry only fills passively";
    }
  }
}

TEST(EnginePricing, ConfluenceRestsAtTheStrategysOwnPrice) {
  RunConfig rc = bundled_config();
  rc.strategy.kind = strategy_kind("confluence");
  rc.strategy_config<strategy::ConfluenceConfig>().market_orders = false;  // a limit at the bar close
  rc.strategy_config<strategy::ConfluenceConfig>().require_full_alignment = false;
  rc.strategy_config<strategy::ConfluenceConfig>().candles.timeframes_s[0] = 5;  // enough bars in the 6-minute session
  rc.strategy_config<strategy::ConfluenceConfig>().take_profit_atr_mult =
      20.0;  // a target past the fee round trip (risk: below_break_even)
  const ReplayRun r = replay(rc);
  const strategy::OrderIntent& want = r.last_confluence_entry;
  ASSERT_FALSE(want.limit.is_zero()) << "the strategy emitted no limit entry";
  const oms::OrderState* last = nullptr;
  for (const auto& o : r.orders) {
    if (!is_entry(o)) continue;
    EXPECT_EQ(o.spec.req.type, risk::OrderType::limit);
    EXPECT_EQ(o.spec.req.tif, risk::TimeInForce::gtc);
    last = &o;
  }
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->spec.req.price, want.limit);  // the strategy's price, not a book level
  EXPECT_EQ(last->spec.req.side, want.side);
  EXPECT_EQ(last->spec.req.qty, want.qty);
}

// The market regime's leverage cap (strategy/regime.hpp: 2-10x) travels with the confluence entry and
// bounds the leverage the order is sent with, below [risk] leverage = 20.
TEST(EnginePricing, ConfluenceEntryLeverageIsBoundedByTheRegimeCap) {
  RunConfig rc = bundled_config();
  rc.strategy.kind = strategy_kind("confluence");
  rc.strategy_config<strategy::ConfluenceConfig>().market_orders = false;
  rc.strategy_config<strategy::ConfluenceConfig>().require_full_alignment = false;
  rc.strategy_config<strategy::ConfluenceConfig>().candles.timeframes_s[0] = 5;
  rc.strategy_config<strategy::ConfluenceConfig>().take_profit_atr_mult = 20.0;
  rc.trading.leverage = 20;
  rc.trading.risk.reference_volatility = Rate::from_units(1);  // the volatility cap never binds here
  const ReplayRun r = replay(rc);
  const strategy::OrderIntent& want = r.last_confluence_entry;
  ASSERT_GT(want.max_leverage, 0) << "the regime gave no cap";
  ASSERT_LT(want.max_leverage, 20);
  const oms::OrderState* last = nullptr;
  for (const auto& o : r.orders)
    if (is_entry(o)) last = &o;
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->spec.req.leverage, want.max_leverage) << "the regime's cap, not [risk] leverage = 20";
  EXPECT_GE(last->spec.req.leverage, 1);
}

TEST(EnginePricing, TrailingStopMovesUpForALongAndNeverDown) {
  RunConfig rc = bundled_config();
  auto& t = rc.trading.exits.trailing;
  t.activation_roi_pct = Rate::parse("0.05").value;  // % ROI at 5x: a 0.01 % price move
  t.step_pct = Rate::parse("0.02").value;
  t.distance_pct = Rate::parse("0.02").value;
  const ReplayRun r = replay(rc);
  EXPECT_GT(r.stop_moves, 0u);
  // Per position, the stop legs in the order they were sent: a long's triggers never go down, a short's
  // never up.
  std::map<std::uint32_t, std::vector<const oms::OrderState*>> stops;
  for (const auto& o : r.orders)
    if (o.spec.req.type == risk::OrderType::stop_market) stops[o.spec.position_id].push_back(&o);
  std::size_t long_raises = 0, short_lowers = 0;
  for (const auto& [pos, legs] : stops) {
    for (std::size_t i = 1; i < legs.size(); ++i) {
      const Price before = legs[i - 1]->spec.req.stop_price, after = legs[i]->spec.req.stop_price;
      if (legs[i]->spec.req.side == Side::sell) {  // protects a long
        EXPECT_GE(after, before) << "position " << pos << ": a long's stop untrailed";
        long_raises += after > before;
      } else {
        EXPECT_LE(after, before) << "position " << pos << ": a short's stop untrailed";
        short_lowers += after < before;
      }
    }
  }
  EXPECT_GT(long_raises, 0u) << "no long's stop moved up";
  EXPECT_EQ(long_raises + short_lowers, r.stop_moves);
}

TEST(EnginePricing, BreakEvenMovesTheStopToEntryPlusFees) {
  RunConfig rc = bundled_config();
  // Without a taker fee break-even is the gate's buffer alone (0.05 % ROI at 5x: 0.01 % of the price), a
  // move the short imbalance trades of the session reach.
  rc.trading.limits[0].taker_fee = Rate{};
  rc.trading.exits.break_even_trigger_roi_pct = Rate::parse("0.1").value;
  const ReplayRun r = replay(rc);
  ASSERT_GT(r.stop_moves, 0u);
  std::map<std::uint32_t, const oms::OrderState*> entry;
  for (const auto& o : r.orders)
    if (is_entry(o) && o.filled.raw() > 0) entry[o.spec.position_id] = &o;
  std::size_t moved = 0;
  for (const auto& o : r.orders) {
    if (o.spec.req.type != risk::OrderType::stop_market) continue;
    const oms::OrderState* e = entry[o.spec.position_id];
    ASSERT_NE(e, nullptr);
    if (o.spec.req.stop_price == e->spec.req.stop_loss) continue;  // the bracket's own stop
    // Hand-computed: the entry's average fill price x (1 +/- 0.0001), rounded away from the entry to 0.1.
    const double px = e->filled_notional.to_double() / e->filled.to_double();
    const double want = o.spec.req.side == Side::sell ? px * 1.0001 : px * 0.9999;
    EXPECT_NEAR(o.spec.req.stop_price.to_double(), want, 0.1 + 1e-6) << "position " << o.spec.position_id;
    if (o.spec.req.side == Side::sell)
      EXPECT_GE(o.spec.req.stop_price.to_double(), want - 1e-6);
    else
      EXPECT_LE(o.spec.req.stop_price.to_double(), want + 1e-6);
    ++moved;
  }
  EXPECT_EQ(moved, r.stop_moves);
}

TEST(EnginePricing, TakeProfitLadderLegsReachTheExchange) {
  RunConfig rc = bundled_config();
  auto& x = rc.trading.exits;
  x.ladder[0] = Rate::parse("0.6").value;
  x.ladder[1] = Rate::parse("1").value;
  x.ladder_legs = 2;
  const ReplayRun r = replay(rc);
  // Each entry fill of 0.01 gets two reduce-only take-profit legs of 0.005: 60 % and 100 % of the way to
  // the strategy's target (take_profit_ticks = 800 x 0.1 from the far touch).
  std::map<std::uint32_t, std::vector<const oms::OrderState*>> tps;
  for (const auto& o : r.orders)
    if (o.spec.req.type == risk::OrderType::take_profit_market) tps[o.spec.position_id].push_back(&o);
  ASSERT_FALSE(tps.empty());
  std::size_t ladders = 0;
  for (const auto& [pos, legs] : tps) {
    if (legs.size() != 2) continue;
    ++ladders;
    EXPECT_TRUE(legs[0]->spec.req.reduce_only);
    EXPECT_EQ(legs[0]->spec.req.qty + legs[1]->spec.req.qty, Qty::parse("0.01").value);
    const bool is_long = legs[0]->spec.req.side == Side::sell;
    if (is_long)
      EXPECT_LT(legs[0]->spec.req.stop_price, legs[1]->spec.req.stop_price);
    else
      EXPECT_GT(legs[0]->spec.req.stop_price, legs[1]->spec.req.stop_price);
  }
  EXPECT_GT(ladders, 0u);
  // The legs are working orders at the simulated exchange: none was refused.
  for (const auto& [pos, legs] : tps)
    for (const auto* l : legs) EXPECT_NE(l->status, oms::OrderStatus::rejected) << l->spec.req.client_id.view();
}

TEST(EnginePricing, LargeEntrySplitsIntoChildrenByDisplayedDepth) {
  RunConfig rc = bundled_config();
  rc.strategy_config<strategy::ImbalanceTakerConfig>().common.order_qty = Qty::parse("0.05").value;
  rc.trading.exits.split_depth_fraction = Rate::parse("0.02").value;
  rc.trading.risk.strategy_submit.burst = 100;  // children and their bracket legs: more messages per signal
  rc.trading.risk.venue_submit.burst = 100;
  const ReplayRun r = replay(rc);
  std::map<std::uint32_t, std::vector<const oms::OrderState*>> children;
  for (const auto& o : r.orders)
    if (is_entry(o)) children[o.spec.position_id].push_back(&o);
  ASSERT_FALSE(children.empty());
  std::size_t split = 0;
  for (const auto& [pos, kids] : children) {
    Qty sum{};
    for (const auto* k : kids) sum += k->spec.req.qty;
    if (kids.size() > 1) {
      ++split;
      EXPECT_EQ(sum, Qty::parse("0.05").value) << "position " << pos;
      for (const auto* k : kids) EXPECT_NE(k->status, oms::OrderStatus::rejected);
    }
  }
  EXPECT_GT(split, 0u) << "no entry was split";
  EXPECT_EQ(r.result.orders.risk_rejects, 0u);  // equal children are not duplicates
}

TEST(EnginePricing, RiskGateRefusesOrdersOffTheLotOrTheTick) {
  const RunConfig rc = bundled_config();  // BTCUSDT: tick 0.1, lot 0.001
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_path("pricing-grid");
  TradingCore core(registry, trading);
  std::array<oms::PriceLevel, 10> bids{}, asks{};
  for (int i = 0; i < 10; ++i) {
    bids[i] = {Price::from_units(60000) - Price::parse("0.1").value * (i + 1), Qty::from_units(1)};
    asks[i] = {Price::from_units(60000) + Price::parse("0.1").value * (i + 1), Qty::from_units(1)};
  }
  strategy::OrderIntent in{};
  in.side = Side::buy;
  in.limit = Price::parse("59999.9").value;
  in.qty = Qty::parse("0.0105").value;  // off the 0.001 lot
  in.stop = Price::from_units(59700);
  in.take_profit = Price::from_units(60600);
  in.reason = strategy::IntentReason::imbalance_entry;
  const std::int64_t now = 1'723'161'200'000'000'000;
  EXPECT_FALSE(core.on_intent(in, bids, asks, now, 0));
  EXPECT_EQ(core.risk().reject_count(risk::RejectReason::off_lot), 1u);
  in.qty = Qty::parse("0.01").value;
  in.limit = Price::parse("59999.95").value;  // off the 0.1 tick
  EXPECT_FALSE(core.on_intent(in, bids, asks, now + 1'000'000, 0));
  EXPECT_EQ(core.risk().reject_count(risk::RejectReason::off_tick), 1u);
  in.limit = Price::parse("59999.9").value;
  EXPECT_TRUE(core.on_intent(in, bids, asks, now + 2'000'000, 0));  // on the grid: sent
}

// ---- configuration errors, through the binary ----------------------------------------------------------

namespace {

using enigma::testing::Out;
using enigma::testing::run_enigma;

// The bundled config with `from` replaced by `to` (must occur), written to a temp file.
std::string edited_config(const std::string& name, const std::string& from, const std::string& to) {
  std::ifstream in(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  const std::string path = ::testing::TempDir() + "/" + name + ".toml";
  std::ofstream(path) << s;
  return path;
}

void expect_config_error(const std::string& path, const std::vector<std::string>& needles) {
  const Out o = run_enigma("replay --quiet --config " + path + " --runs-dir " + ::testing::TempDir() + "/runs-pricing");
  EXPECT_EQ(o.code, 3) << o.text;
  for (const auto& n : needles) EXPECT_NE(o.text.find(n), std::string::npos) << "missing '" << n << "' in: " << o.text;
}

}  // namespace

TEST(EnginePricingConfig, OrderQtyOffTheLotIsAStartUpError) {
  expect_config_error(edited_config("off-lot", "order_qty = \"0.01\"", "order_qty = \"0.0105\""),
                      {"order_qty", "0.0105", "lot 0.001"});
}

TEST(EnginePricingConfig, OrderQtyAboveMaxOrderQtyIsAStartUpError) {
  expect_config_error(edited_config("above-max", "order_qty = \"0.01\"", "order_qty = \"0.06\""),
                      {"order_qty", "0.06", "max_order_qty 0.05"});
}

TEST(EnginePricingConfig, ImpossiblePairsAreStartUpErrors) {
  expect_config_error(
      edited_config("rsi", "[strategy.imbalance]",
                    "[strategy.mean_reversion]\nrsi_oversold = 70.0\nrsi_overbought = 30.0\n\n[strategy.imbalance]"),
      {"rsi_oversold", "70", "rsi_overbought"});
  expect_config_error(edited_config("imb", "entry_imbalance = 0.6", "entry_imbalance = 0.3\nexit_imbalance = 0.4"),
                      {"exit_imbalance", "0.4", "entry_imbalance"});
  expect_config_error(edited_config("pricing", "entry_pricing = \"intent\"", "entry_pricing = \"best\""),
                      {"entry_pricing", "best"});
}

TEST(EnginePricingConfig, SymbolAbsentFromTheDataWarnsAtTheEndOfTheSummary) {
  const std::string runs = ::testing::TempDir() + "/runs-pricing-warn";
  const Out o =
      run_enigma("replay --quiet --config " + edited_config("eth", "symbol = \"BTCUSDT\"", "symbol = \"ETHUSDT\"") +
                 " --data " + enigma::testing::kBinanceSession + " --runs-dir " + runs);
  ASSERT_EQ(o.code, 0) << o.text;
  const auto warn = o.text.find("WARN: no market data for instrument 'ETHUSDT'");
  ASSERT_NE(warn, std::string::npos) << o.text;
  EXPECT_GT(warn, o.text.find("run directory:")) << "the warning comes last";
  std::ifstream log(std::filesystem::canonical(runs + "/latest").string() + "/logs/enigma.log");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("no market data for instrument 'ETHUSDT'"), std::string::npos);
}
