// All pre-trade risk checks for one order (issue 5 item 10: target <= 100 ns), with baselines:
//   * Baseline_MaxQtyOnly: the cheapest possible "gate", one quantity comparison (the floor);
//   * Baseline_NaiveMapGate: the same main controls written the obvious way, with std::unordered_map
//     lookups keyed by std::string client ids and instrument ids, and double arithmetic.
// Each has a mean-time benchmark (Google Benchmark) and a per-call latency variant that times every
// call with rdtsc into a LatencyHistogram and reports p50/p99 in ns (rdtsc overhead subtracted).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "risk/risk_gate.hpp"

namespace {

using namespace enigma;
using namespace enigma::risk;

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::size_t kIds = 1 << 16;

Price px(const char* s) { return Price::parse(s).value; }
Qty qt(const char* s) { return Qty::parse(s).value; }

RiskConfig bench_config() {
  RiskConfig c;
  c.max_instruments = 256;
  c.max_strategies = 16;
  c.recent_client_ids = 4096;
  c.venue_submit = {100, 20};
  c.strategy_submit = {20, 5};
  return c;
}

// A realistic opening order: 50x limit buy with a stop and a target, so every control runs (collar,
// qty, notional, position, exposure, concurrency, open orders, leverage cap, liquidation buffer,
// break-even, duplicate id and fingerprint, both message budgets).
OrderRequest make_template() {
  OrderRequest o;
  o.instrument = 7;
  o.strategy = 3;
  o.venue = Venue::binance_usdm;
  o.side = Side::buy;
  o.type = OrderType::limit;
  o.price = px("67321.5");
  o.reference_price = px("67321.6");
  o.stop_loss = px("67314.8");
  o.take_profit = px("67420.0");
  o.qty = qt("0.01");
  o.leverage = 50;
  return o;
}
const OrderRequest kTemplate = make_template();  // parsed once: the loops only copy it

OrderRequest opening_order(const ClientOrderId& id) {
  OrderRequest o = kTemplate;
  o.client_id = id;
  return o;
}

std::vector<ClientOrderId> make_ids() {
  std::vector<ClientOrderId> ids(kIds);
  char buf[48];
  for (std::size_t i = 0; i < kIds; ++i) {
    const int n = std::snprintf(buf, sizeof buf, "enigma-s3-%zu", i);
    ids[i] = ClientOrderId::from(std::string_view(buf, static_cast<std::size_t>(n))).value;
  }
  return ids;
}

std::unique_ptr<RiskGate> make_gate() {
  auto g = std::make_unique<RiskGate>(bench_config(), 0);
  InstrumentLimits l;
  l.venue = Venue::binance_usdm;
  l.tick = px("0.1");
  l.max_order_qty = qt("5");
  l.max_position_qty = qt("10");
  for (InstrumentId i = 0; i < 16; ++i) g->set_instrument(i, l);
  // A little state so the tables are not empty: an open position and a couple of working orders.
  g->set_position(7, qt("0.05"), px("67321.6"));
  g->set_position(3, qt("-1"), px("3500"));
  return g;
}

// Reserve + release: the check (all controls pass), the commit, and the venue's cancel that frees it.
// Time moves 1 s per order so the message budgets and the duplicate window never interfere.
void BM_RiskGate_CheckReserveRelease(benchmark::State& state) {
  auto gate = make_gate();
  const auto ids = make_ids();
  std::size_t i = 0;
  std::int64_t now = kSec;
  for (auto _ : state) {
    const OrderRequest o = opening_order(ids[i]);
    const RiskDecision d = gate->check_and_reserve(o, now);
    benchmark::DoNotOptimize(d);
    gate->on_cancel(o.client_id, now);
    i = (i + 1) & (kIds - 1);
    now += kSec;
  }
  if (gate->accepted_count() != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("order rejected");
}
BENCHMARK(BM_RiskGate_CheckReserveRelease);

// Every control evaluated, nothing committed: the strategy's submit budget is empty and time stands
// still, so the order passes all checks and is refused by the very last one.
void BM_RiskGate_AllChecks(benchmark::State& state) {
  auto gate = make_gate();
  const auto ids = make_ids();
  std::size_t k = 0;
  for (; k < 5; ++k) {  // drain the strategy burst (5) at t = 0, prices apart to avoid the duplicate check
    OrderRequest d = opening_order(ids[k]);
    d.price = d.price + Price::from_units(static_cast<std::int64_t>(k));
    if (!gate->check_and_reserve(d, 0).accepted()) state.SkipWithError("setup rejected");
    gate->on_cancel(ids[k], 0);
  }
  OrderRequest o = opening_order(ids[k]);
  o.price = px("67321.4");  // not the fingerprint of the drained orders
  for (auto _ : state) {
    const RiskDecision d = gate->check_and_reserve(o, 0);
    benchmark::DoNotOptimize(d);
  }
  if (gate->check_and_reserve(o, 0).reason != RejectReason::strategy_rate_limit) state.SkipWithError("wrong path");
}
BENCHMARK(BM_RiskGate_AllChecks);

// Floor: one comparison.
void BM_Baseline_MaxQtyOnly(benchmark::State& state) {
  const auto ids = make_ids();
  const OrderRequest o = opening_order(ids[0]);
  Qty max = qt("5");
  for (auto _ : state) {
    benchmark::DoNotOptimize(max);
    const bool ok = o.qty <= max;
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_Baseline_MaxQtyOnly);

// The obvious implementation: hash maps keyed by std::string ids, doubles, node allocation per order.
class NaiveGate {
 public:
  struct Limits {
    double max_qty, max_pos, mult, fee, mmr;
    int max_lev;
  };
  struct Inst {
    double position = 0, open_buy = 0, open_sell = 0, mark = 0;
  };
  NaiveGate() {
    for (int i = 0; i < 16; ++i) limits_[i] = Limits{5, 10, 1, 0.0006, 0.005, 50};
    insts_[7].position = 0.05;
    insts_[7].mark = 67321.6;
  }
  bool check_and_reserve(const OrderRequest& o, const std::string& id) {
    auto lit = limits_.find(o.instrument);
    if (lit == limits_.end()) return false;
    const Limits& l = lit->second;
    if (working_.count(id) || seen_.count(id)) return false;
    const double price = o.price.to_double(), ref = o.reference_price.to_double(), qty = o.qty.to_double();
    if (std::fabs(price - ref) / ref > 0.02) return false;
    if (qty > l.max_qty) return false;
    if (price * qty * l.mult > 100000.0) return false;
    Inst& in = insts_[o.instrument];
    if (in.position + in.open_buy + qty > l.max_pos) return false;
    double exposure = 0;
    for (const auto& [k, v] : insts_) exposure += std::fabs(v.position + v.open_buy) * v.mark * limits_[k].mult;
    if (exposure + qty * price > 500000.0) return false;
    if (working_.size() >= 256) return false;
    if (o.leverage > l.max_lev) return false;
    const double liq = price * (1.0 - 1.0 / o.leverage + l.mmr);
    if (o.stop_loss.to_double() - liq < 0.05 * (price - liq)) return false;
    const double be = l.fee * 2 * o.leverage * 100 + 0.05;
    if ((o.take_profit.to_double() - price) / price * o.leverage * 100 < be) return false;
    working_.emplace(id, qty);
    // Remember the last 4096 ids, as the real gate does (recent_client_ids).
    seen_.insert({id, true});
    recent_.push_back(id);
    if (recent_.size() > 4096) {
      seen_.erase(recent_.front());
      recent_.pop_front();
    }
    in.open_buy += qty;
    return true;
  }
  void on_cancel(const std::string& id, InstrumentId inst) {
    auto it = working_.find(id);
    if (it == working_.end()) return;
    insts_[inst].open_buy -= it->second;
    working_.erase(it);
  }

 private:
  std::unordered_map<InstrumentId, Limits> limits_;
  std::unordered_map<InstrumentId, Inst> insts_;
  std::unordered_map<std::string, double> working_;
  std::unordered_map<std::string, bool> seen_;
  std::deque<std::string> recent_;
};

void BM_Baseline_NaiveMapGate(benchmark::State& state) {
  NaiveGate gate;
  const auto ids = make_ids();
  std::size_t i = 0;
  for (auto _ : state) {
    const OrderRequest o = opening_order(ids[i]);
    const std::string id(o.client_id.view());
    const bool ok = gate.check_and_reserve(o, id);
    benchmark::DoNotOptimize(ok);
    gate.on_cancel(id, o.instrument);
    i = (i + 1) & (kIds - 1);
  }
}
BENCHMARK(BM_Baseline_NaiveMapGate);

// ---- per-call latency percentiles (rdtsc around each call, overhead of an empty timed region removed)

template <class F>
void latency_run(benchmark::State& state, F&& call) {
  const TscClock& clock = TscClock::instance();
  LatencyHistogram empty, hist;
  for (int i = 0; i < 100'000; ++i) {  // cost of the timing itself
    const std::uint64_t a = rdtsc();
    const std::uint64_t b = rdtsc();
    empty.record(clock.ticks_to_ns(b - a));
  }
  const std::int64_t overhead = empty.percentile(50);
  for (auto _ : state) {
    const std::uint64_t a = rdtsc();
    call();
    const std::uint64_t b = rdtsc();
    hist.record(clock.ticks_to_ns(b - a) - overhead);
  }
  state.counters["p50_ns"] = static_cast<double>(hist.percentile(50));
  state.counters["p99_ns"] = static_cast<double>(hist.percentile(99));
  state.counters["p999_ns"] = static_cast<double>(hist.percentile(99.9));
  state.counters["rdtsc_overhead_ns"] = static_cast<double>(overhead);
}

void BM_Latency_RiskGate_CheckReserveRelease(benchmark::State& state) {
  auto gate = make_gate();
  const auto ids = make_ids();
  std::size_t i = 0;
  std::int64_t now = kSec;
  latency_run(state, [&] {
    const OrderRequest o = opening_order(ids[i]);
    const RiskDecision d = gate->check_and_reserve(o, now);
    benchmark::DoNotOptimize(d);
    gate->on_cancel(o.client_id, now);
    i = (i + 1) & (kIds - 1);
    now += kSec;
  });
}
BENCHMARK(BM_Latency_RiskGate_CheckReserveRelease)->Iterations(1'000'000);

void BM_Latency_RiskGate_AllChecks(benchmark::State& state) {
  auto gate = make_gate();
  const auto ids = make_ids();
  for (std::size_t k = 0; k < 5; ++k) {
    OrderRequest d = opening_order(ids[k]);
    d.price = d.price + Price::from_units(static_cast<std::int64_t>(k));
    (void)gate->check_and_reserve(d, 0);
    gate->on_cancel(ids[k], 0);
  }
  OrderRequest o = opening_order(ids[5]);
  o.price = px("67321.4");
  latency_run(state, [&] {
    const RiskDecision d = gate->check_and_reserve(o, 0);
    benchmark::DoNotOptimize(d);
  });
  if (gate->check_and_reserve(o, 0).reason != RejectReason::strategy_rate_limit) state.SkipWithError("wrong path");
}
BENCHMARK(BM_Latency_RiskGate_AllChecks)->Iterations(1'000'000);

void BM_Latency_Baseline_NaiveMapGate(benchmark::State& state) {
  NaiveGate gate;
  const auto ids = make_ids();
  std::size_t i = 0;
  latency_run(state, [&] {
    const OrderRequest o = opening_order(ids[i]);
    const std::string id(o.client_id.view());
    const bool ok = gate.check_and_reserve(o, id);
    benchmark::DoNotOptimize(ok);
    gate.on_cancel(id, o.instrument);
    i = (i + 1) & (kIds - 1);
  });
}
BENCHMARK(BM_Latency_Baseline_NaiveMapGate)->Iterations(1'000'000);

}  // namespace
