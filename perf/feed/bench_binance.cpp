// Binance decode and decode + book apply on the real USD-M BTCUSDT session (data/binance), side by side with
// the floors: simdjson On-Demand walking the same bytes with no work (every field and array element visited)
// and a simdjson DOM parse. Each benchmark cycles over up to 256 distinct real frames of one message type.
//
// BM_VsWalk/<type> and BM_SessionVsWalk are the figures to read: walk and work passes alternate in one
// run (perf/feed_ratio.hpp) and x_walk is decode + book apply over the walk of the same frames (target
// <= 1.3). Types: depthUpdate (every diff of the session), depthUpdate50 (45-55 levels), bookTicker,
// trade, aggTrade (the 2021 USD-M capture: the 2024 one has none), snapshot (the REST depth body, 1000
// levels a side, decoded into a cleared book). BM_SessionBookStoreLadderVsBlocks times the book store alone on
// the session's level updates: BookSide (ladder + blocks) against LevelBlocks (blocks alone), x_blocks.
//
//   build/<dir>/perf/bench_feed_binance --benchmark_min_time=0.5
//   build/<dir>/perf/bench_feed_binance --benchmark_filter=VsWalk   # the ratios only
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <vector>

#include <simdjson.h>

#include "core/book_side.hpp"
#include "feed/capture_reader.hpp"
#include "feed/frame_stream.hpp"
#include "feed/venues/binance.hpp"
#include "perf/feed_ratio.hpp"

namespace {

using namespace enigma;
using namespace enigma::feed;

const std::string kSession =
    std::string(ENIGMA_SOURCE_DIR) + "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";

const std::string kAggTradeCapture =
    std::string(ENIGMA_SOURCE_DIR) + "/data/binance/cryptofeed_usdm_ws_depth100ms_bookTicker_kline_aggTrade_4sym_20210722.raw.txt.gz";

struct Session {
  Session() : reader(kSession), agg_reader(kAggTradeCapture) {
    CapturedFrame f;
    while (reader.next(f)) all.push_back(f);
    while (agg_reader.next(f))
      if (f.kind == FrameKind::ws_received && f.payload.find("\"e\":\"aggTrade\"") != std::string_view::npos &&
          agg_trade.size() < 256)
        agg_trade.push_back(f);
    InstrumentRegistry reg;
    binance::Decoder dec(Venue::binance_usdm, reg, true);
    EventBuffer out(1u << 16);
    for (const CapturedFrame& fr : all) {
      if (fr.payload.rfind("{\"lastUpdateId\"", 0) == 0) {
        snapshot = fr;
        continue;
      }
      out.clear();
      if (!dec.decode(fr.payload, fr.padded_capacity, 0, out).ok() || out.size() == 0) continue;
      const Event& e = out[0];
      if (e.h.type == EventType::book_batch && depth.size() < 512) depth.push_back(fr);
      if (e.h.type == EventType::book_batch && e.batch.level_count >= 45 && e.batch.level_count <= 55 && depth50.size() < 256)
        depth50.push_back(fr);
      else if (e.h.type == EventType::bbo && bbo.size() < 256)
        bbo.push_back(fr);
      else if (e.h.type == EventType::trade && trade.size() < 256)
        trade.push_back(fr);
    }
  }
  CaptureReader reader, agg_reader;
  std::vector<CapturedFrame> all, depth, depth50, bbo, trade, agg_trade;
  CapturedFrame snapshot;
};

Session& session() {
  static Session s;
  return s;
}

namespace od = simdjson::ondemand;

// Floor: visit every value of the document without converting anything.
void walk(od::value v, std::size_t& n) {
  od::json_type t;
  if (v.type().get(t)) return;
  ++n;
  if (t == od::json_type::object) {
    od::object o;
    if (v.get_object().get(o)) return;
    for (auto f : o) {
      od::field fld;
      if (std::move(f).get(fld)) return;
      walk(fld.value(), n);
    }
  } else if (t == od::json_type::array) {
    od::array a;
    if (v.get_array().get(a)) return;
    for (auto e : a) {
      od::value ev;
      if (std::move(e).get(ev)) return;
      walk(ev, n);
    }
  }
}

const std::vector<CapturedFrame>& frames_of(int kind) {
  Session& s = session();
  return kind == 0 ? s.depth50 : kind == 1 ? s.bbo : s.trade;
}
const char* kKindName[] = {"depthUpdate50", "bookTicker", "trade"};

void BM_OnDemandWalk(benchmark::State& state) {
  const auto& fr = frames_of(static_cast<int>(state.range(0)));
  od::parser parser;
  std::size_t i = 0, n = 0;
  for (auto _ : state) {
    const CapturedFrame& f = fr[i++ & (fr.size() - 1)];
    od::document doc;
    if (parser.iterate(simdjson::padded_string_view(f.payload.data(), f.payload.size(), f.padded_capacity)).get(doc)) continue;
    od::value root;
    if (doc.get_value().get(root)) continue;
    walk(root, n);
  }
  benchmark::DoNotOptimize(n);
  state.SetLabel(kKindName[state.range(0)]);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_DomParse(benchmark::State& state) {
  const auto& fr = frames_of(static_cast<int>(state.range(0)));
  simdjson::dom::parser parser;
  std::size_t i = 0;
  for (auto _ : state) {
    const CapturedFrame& f = fr[i++ & (fr.size() - 1)];
    simdjson::dom::element el;
    auto err = parser.parse(f.payload.data(), f.payload.size(), false).get(el);
    benchmark::DoNotOptimize(err);
  }
  state.SetLabel(kKindName[state.range(0)]);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_Decode(benchmark::State& state) {
  const auto& fr = frames_of(static_cast<int>(state.range(0)));
  InstrumentRegistry reg;
  binance::Decoder dec(Venue::binance_usdm, reg, true);
  dec.set_scanner(state.range(1) != 0);
  EventBuffer out(4096);
  std::size_t i = 0;
  for (auto _ : state) {
    const CapturedFrame& f = fr[i++ & (fr.size() - 1)];
    out.clear();
    auto r = dec.decode(f.payload, f.padded_capacity, 0, out);
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(std::string(kKindName[state.range(0)]) + (state.range(1) ? " scanner" : " simdjson only"));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Decode + book apply: levels go into an L2Book preloaded from the session's REST snapshot (the sequence
// chain cannot hold when frames are cycled, so this measures the apply itself; the session benchmark below
// runs the full BookSync). bookTicker/trade have no book work: decode + reading the event.
void BM_DecodeApply(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  const auto& fr = frames_of(kind);
  Session& s = session();
  InstrumentRegistry reg;
  binance::Decoder dec(Venue::binance_usdm, reg, true);
  EventBuffer out(4096);
  L2Book book(16384);
  (void)dec.decode_snapshot(s.snapshot.payload, s.snapshot.padded_capacity, 0, 0, out);
  for (const Event& e : out)
    if (e.h.type == EventType::book_level) (void)book.apply(e.level.side, e.level.price, e.level.qty);
  std::size_t i = 0;
  std::int64_t sink = 0;
  for (auto _ : state) {
    const CapturedFrame& f = fr[i++ & (fr.size() - 1)];
    out.clear();
    (void)dec.decode(f.payload, f.padded_capacity, 0, out);
    for (const Event& e : out) {
      if (e.h.type == EventType::book_level) (void)book.apply(e.level.side, e.level.price, e.level.qty);
      else sink += e.bbo.bid_price.raw();
    }
    sink += book.crossed();
  }
  benchmark::DoNotOptimize(sink);
  state.SetLabel(kKindName[kind]);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// The whole session (snapshot, 6,551 diffs, 66,089 bookTickers, 21,313 trades) through decode + BookSync on one
// core; items = messages.
void BM_SessionDecodeBookSync(benchmark::State& state) {
  Session& s = session();
  InstrumentRegistry reg;
  binance::Decoder dec(Venue::binance_usdm, reg, true);
  EventBuffer out(1u << 16);
  binance::BookSync sync(Venue::binance_usdm, 0);
  std::int64_t changed = 0;
  for (auto _ : state) {
    sync.reset();
    for (const CapturedFrame& f : s.all) {
      out.clear();
      if (f.payload.size() > 15 && f.payload[2] == 'l')  // {"lastUpdateId": the REST snapshot line
        (void)dec.decode_snapshot(f.payload, f.padded_capacity, 0, 0, out);
      else
        (void)dec.decode(f.payload, f.padded_capacity, 0, out);
      for (const Event& e : out) changed += sync.on_event(e).book_changed;
    }
  }
  benchmark::DoNotOptimize(changed);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * s.all.size()));
  state.counters["synced"] = sync.synced();
}

// Floor for the session: On-Demand walk of every frame.
void BM_SessionOnDemandWalk(benchmark::State& state) {
  Session& s = session();
  od::parser parser;
  std::size_t n = 0;
  for (auto _ : state) {
    for (const CapturedFrame& f : s.all) {
      od::document doc;
      if (parser.iterate(simdjson::padded_string_view(f.payload.data(), f.payload.size(), f.padded_capacity)).get(doc)) continue;
      od::value root;
      if (doc.get_value().get(root)) continue;
      walk(root, n);
    }
  }
  benchmark::DoNotOptimize(n);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * s.all.size()));
}

// ---- same-run ratios (read these) ----

enum class Type { depth, depth50, book_ticker, trade, agg_trade, snapshot };
const char* type_name(Type t) {
  switch (t) {
    case Type::depth: return "depthUpdate";
    case Type::depth50: return "depthUpdate50";
    case Type::book_ticker: return "bookTicker";
    case Type::trade: return "trade";
    case Type::agg_trade: return "aggTrade";
    case Type::snapshot: return "snapshot";
  }
  return "?";
}

// Decode + book apply of one message type vs the walk of the same frames. Book levels go into an L2Book
// preloaded from the session's REST snapshot (cycled diffs cannot keep the sequence chain: the session
// benchmark below runs the full BookSync); a snapshot is applied into a cleared book. Non-book messages:
// decode + reading the event.
void BM_VsWalk(benchmark::State& state) {
  const auto type = static_cast<Type>(state.range(0));
  Session& s = session();
  std::vector<CapturedFrame> one_snapshot{s.snapshot};
  const std::vector<CapturedFrame>& fr = type == Type::depth        ? s.depth
                                         : type == Type::depth50    ? s.depth50
                                         : type == Type::book_ticker ? s.bbo
                                         : type == Type::trade      ? s.trade
                                         : type == Type::agg_trade  ? s.agg_trade
                                                                    : one_snapshot;
  InstrumentRegistry reg;
  binance::Decoder dec(Venue::binance_usdm, reg, true);
  EventBuffer out(1u << 14);
  L2Book book(16384);
  (void)dec.decode_snapshot(s.snapshot.payload, s.snapshot.padded_capacity, 0, 0, out);
  for (const Event& e : out)
    if (e.h.type == EventType::book_level) (void)book.apply(e.level.side, e.level.price, e.level.qty);
  od::parser parser;
  std::size_t values = 0;
  std::int64_t sink = 0;
  perf::run_paired(
      state, fr.size(),
      [&] {
        for (const CapturedFrame& f : fr) values += perf::walk_frame(parser, f.payload.data(), f.payload.size(), f.padded_capacity);
      },
      [&] {
        for (const CapturedFrame& f : fr) {
          out.clear();
          if (type == Type::snapshot) {
            (void)dec.decode_snapshot(f.payload, f.padded_capacity, 0, 0, out);
            book.clear();
          } else {
            (void)dec.decode(f.payload, f.padded_capacity, 0, out);
          }
          for (const Event& e : out) {
            if (e.h.type == EventType::book_level) (void)book.apply(e.level.side, e.level.price, e.level.qty);
            else sink += e.bbo.bid_price.raw();
          }
          sink += book.crossed();
        }
      });
  benchmark::DoNotOptimize(values);
  benchmark::DoNotOptimize(sink);
  state.SetLabel(type_name(type));
}

// The whole session (snapshot, 6,551 diffs, 66,089 bookTickers, 21,313 trades) through decode + BookSync,
// one pass alternating with one walk pass.
void BM_SessionVsWalk(benchmark::State& state) {
  Session& s = session();
  InstrumentRegistry reg;
  binance::Decoder dec(Venue::binance_usdm, reg, true);
  EventBuffer out(1u << 16);
  binance::BookSync sync(Venue::binance_usdm, 0);
  od::parser parser;
  std::size_t values = 0;
  std::int64_t changed = 0;
  perf::run_paired(
      state, s.all.size(),
      [&] {
        for (const CapturedFrame& f : s.all) values += perf::walk_frame(parser, f.payload.data(), f.payload.size(), f.padded_capacity);
      },
      [&] {
        sync.reset();
        for (const CapturedFrame& f : s.all) {
          out.clear();
          if (f.payload.size() > 15 && f.payload[2] == 'l')  // {"lastUpdateId": the REST snapshot line
            (void)dec.decode_snapshot(f.payload, f.padded_capacity, 0, 0, out);
          else
            (void)dec.decode(f.payload, f.padded_capacity, 0, out);
          for (const Event& e : out) changed += sync.on_event(e).book_changed;
        }
      });
  benchmark::DoNotOptimize(values);
  benchmark::DoNotOptimize(changed);
  if (!sync.synced()) state.SkipWithError("book not synced at the end of the session");
}

// The book store alone, on the session's own level updates (the REST snapshot's levels, then every diff's, in
// order): BookSide (tick ladder in front of sorted blocks) against LevelBlocks (the sorted blocks alone,
// BookSide's store before the ladder), one pass of each alternating, the fastest pass of each kept (as
// run_paired). Counters per level: blocks_ns, ladder_ns, and ladder / blocks.
struct LevelUpdate {
  Side side;
  Price price;
  Qty qty;
};

const std::vector<LevelUpdate>& session_levels() {
  static const std::vector<LevelUpdate> levels = [] {
    Session& s = session();
    std::vector<LevelUpdate> out;
    InstrumentRegistry reg;
    binance::Decoder dec(Venue::binance_usdm, reg, true);
    EventBuffer buf(1u << 16);
    const auto take = [&] {
      for (const Event& e : buf)
        if (e.h.type == EventType::book_level) out.push_back({e.level.side, e.level.price, e.level.qty});
    };
    buf.clear();
    (void)dec.decode_snapshot(s.snapshot.payload, s.snapshot.padded_capacity, 0, 0, buf);
    take();
    for (const CapturedFrame& f : s.all) {
      if (f.payload.rfind("{\"lastUpdateId\"", 0) == 0) continue;
      buf.clear();
      if (dec.decode(f.payload, f.padded_capacity, 0, buf).ok()) take();
    }
    return out;
  }();
  return levels;
}

template <class Store>
void apply_all(Store& bids, Store& asks, const std::vector<LevelUpdate>& levels) noexcept {
  bids.clear();
  asks.clear();
  for (const LevelUpdate& l : levels) (void)(l.side == Side::buy ? bids : asks).set(l.price, l.qty);
}

void BM_SessionBookStoreLadderVsBlocks(benchmark::State& state) {
  using clock = std::chrono::steady_clock;
  const std::vector<LevelUpdate>& levels = session_levels();
  BookSide ladder_bids(Side::buy, 8192), ladder_asks(Side::sell, 8192);
  LevelBlocks block_bids(Side::buy, 8192), block_asks(Side::sell, 8192);
  clock::duration blocks = clock::duration::max(), ladder = clock::duration::max();
  for (auto _ : state) {
    const auto t0 = clock::now();
    apply_all(block_bids, block_asks, levels);
    const auto t1 = clock::now();
    apply_all(ladder_bids, ladder_asks, levels);
    const auto t2 = clock::now();
    blocks = std::min(blocks, t1 - t0);
    ladder = std::min(ladder, t2 - t1);
    benchmark::DoNotOptimize(ladder_bids.best());
    benchmark::DoNotOptimize(block_bids.best());
  }
  const double n = static_cast<double>(levels.size());
  const double b = std::chrono::duration<double, std::nano>(blocks).count() / n;
  const double l = std::chrono::duration<double, std::nano>(ladder).count() / n;
  state.counters["levels"] = n;
  state.counters["blocks_ns"] = b;
  state.counters["ladder_ns"] = l;
  state.counters["x_blocks"] = l / b;
  state.counters["ladder_share"] = static_cast<double>(ladder_bids.ladder_levels() + ladder_asks.ladder_levels()) /
                                   static_cast<double>(ladder_bids.size() + ladder_asks.size());
  // The two stores must agree, level for level, or the comparison means nothing.
  if (ladder_bids.size() != block_bids.size() || ladder_asks.size() != block_asks.size() ||
      ladder_bids.best()->price != block_bids.best()->price || ladder_asks.best()->price != block_asks.best()->price)
    state.SkipWithError("BookSide and LevelBlocks disagree");
}

// The streaming replay's reader alone: the session's .gz inflated and split into frames on FrameStream's
// reader thread, handed to this thread batch by batch (what `enigma replay` reads from). frames/s includes
// decompression; arg 1 also decodes every frame here (the scanner), as the trading thread does.
void BM_SessionStreamRead(benchmark::State& state) {
  InstrumentRegistry reg;
  binance::Decoder dec(Venue::binance_usdm, reg, true);
  EventBuffer out(1u << 16);
  std::size_t frames = 0;
  for (auto _ : state) {
    FrameStream stream({kSession}, CaptureReadOptions{});
    while (const CapturedFrame* f = stream.next()) {
      ++frames;
      if (state.range(0) != 0) {
        out.clear();
        benchmark::DoNotOptimize(dec.decode(f->payload, f->padded_capacity, 0, out));
      }
    }
  }
  state.counters["frames_per_s"] = benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
  state.SetLabel(state.range(0) ? "read + decode" : "read");
}

BENCHMARK(BM_VsWalk)->DenseRange(0, 5);
BENCHMARK(BM_SessionStreamRead)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SessionVsWalk)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OnDemandWalk)->DenseRange(0, 2);
BENCHMARK(BM_DomParse)->DenseRange(0, 2);
BENCHMARK(BM_Decode)->ArgsProduct({{0, 1, 2}, {0, 1}});
BENCHMARK(BM_DecodeApply)->DenseRange(0, 2);
BENCHMARK(BM_SessionOnDemandWalk)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SessionDecodeBookSync)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SessionBookStoreLadderVsBlocks)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
