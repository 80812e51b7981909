#include "engine/bench.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/spsc_ring.hpp"
#include "engine/report.hpp"
#include "engine/run_output.hpp"
#include "feed/capture_reader.hpp"
#include "oms/venues/venue_kit.hpp"
#include "tuning/host_check.hpp"
#include "tuning/probes.hpp"

namespace enigma::engine {

namespace {

// Visits every value of a document without doing anything with it: the cheapest possible "decode".
simdjson::error_code walk(simdjson::ondemand::value v, std::uint64_t& sink) noexcept {
  simdjson::ondemand::json_type t;
  if (auto e = v.type().get(t)) return e;
  switch (t) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object o;
      if (auto e = v.get_object().get(o)) return e;
      for (auto field : o) {
        simdjson::ondemand::value fv;
        if (auto e = field.value().get(fv)) return e;
        if (auto e = walk(fv, sink)) return e;
      }
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array a;
      if (auto e = v.get_array().get(a)) return e;
      for (auto el : a) {
        simdjson::ondemand::value ev;
        if (auto e = el.get(ev)) return e;
        if (auto e = walk(ev, sink)) return e;
      }
      return simdjson::SUCCESS;
    }
    default: {
      std::string_view raw = v.raw_json_token();
      sink += raw.size();
      return simdjson::SUCCESS;
    }
  }
}

struct Hop {
  std::uint64_t frame_tsc;
  std::uint64_t pad[7];
};

}  // namespace

FloorResult measure_floor(const std::vector<std::string>& files, int hops) {
  std::vector<std::unique_ptr<feed::CaptureReader>> readers;
  simdjson::ondemand::parser parser;
  SpscRing<Hop> ring(1024);
  LatencyHistogram ticks;
  std::uint64_t sink = 0;
  FloorResult out;
  for (const auto& path : files) {
    readers.push_back(std::make_unique<feed::CaptureReader>(path));
    feed::CapturedFrame f;
    while (readers.back()->next(f)) {
      if (f.kind != feed::FrameKind::ws_received && f.kind != feed::FrameKind::rest_body) continue;
      const std::uint64_t t0 = rdtsc();
      simdjson::ondemand::document doc;
      if (!parser.iterate(f.payload.data(), f.payload.size(), f.padded_capacity).get(doc)) {
        simdjson::ondemand::value v;
        if (!doc.get_value().get(v)) (void)walk(v, sink);
      }
      Hop h{t0, {}};
      for (int i = 0; i < hops; ++i) {
        (void)ring.try_push(h);
        (void)ring.try_pop(h);
      }
      ticks.record(static_cast<std::int64_t>(rdtsc() - h.frame_tsc));
      ++out.frames;
    }
  }
  out.walk_plus_hops.merge_scaled(ticks, TscClock::instance().ns_per_tick());
  if (sink == 42) std::fputs("", stderr);  // keep the walk observable to the optimizer
  return out;
}

OrderFloor measure_order_floor(const std::vector<std::string>& files, const RunConfig& rc,
                               const std::vector<OrderFrame>& order_frames, int repeats) {
  OrderFloor out;
  out.frames = order_frames.size();
  if (order_frames.empty()) return out;
  std::vector<std::unique_ptr<feed::CaptureReader>> readers;
  const std::vector<feed::CapturedFrame> frames = load_market_frames(files, readers, false);
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  // The trading core's own replay signing (the venue's encoder under the simulation key: the same HMAC work);
  // none for a venue whose replay orders go unencoded (Coinbase, Kraken).
  const std::unique_ptr<oms::VenueOrderEntry> entry = oms::simulated_order_entry(rc.venue, registry);
  simdjson::ondemand::parser parser;
  std::array<char, 4096> wire{};
  std::uint64_t sink = 0;
  const double npt = TscClock::instance().ns_per_tick();
  for (int rep = -1; rep < repeats; ++rep) {  // rep -1: the warm-up pass, not reported
    LatencyHistogram ticks;
    for (const OrderFrame& of : order_frames) {
      if (of.frame >= frames.size()) continue;
      const feed::CapturedFrame& f = frames[of.frame];
      const std::uint64_t t0 = rdtsc();
      simdjson::ondemand::document doc;
      if (!parser.iterate(f.payload.data(), f.payload.size(), f.padded_capacity).get(doc)) {
        simdjson::ondemand::value v;
        if (!doc.get_value().get(v)) (void)walk(v, sink);
      }
      if (entry) {
        const Result<std::size_t> n = entry->encode_new(of.spec, f.recv_ns / 1'000'000, wire.data(), wire.size());
        if (n.ok()) sink += static_cast<unsigned char>(wire[n.value - 1]);
      }
      ticks.record(static_cast<std::int64_t>(rdtsc() - t0));
    }
    if (rep < 0) continue;
    LatencyHistogram ns;
    ns.merge_scaled(ticks, npt);
    out.p50_ns.push_back(static_cast<double>(ns.percentile(50)));
    out.p99_ns.push_back(static_cast<double>(ns.percentile(99)));
  }
  if (sink == 42) std::fputs("", stderr);  // keep the work observable to the optimizer
  std::vector<double> p50 = out.p50_ns, p99 = out.p99_ns;
  std::sort(p50.begin(), p50.end());
  std::sort(p99.begin(), p99.end());
  if (!p50.empty()) {
    out.median_p50 = p50[p50.size() / 2];
    out.min_p50 = p50.front();
    out.max_p50 = p50.back();
    out.median_p99 = p99[p99.size() / 2];
  }
  return out;
}

std::string format_live_section(const std::vector<LiveTransportFigures>& figures, const std::string& method) {
  std::ostringstream md;
  md << "## Live loopback: tick-to-wire per transport\n\n";
  if (figures.empty()) {
    md << "Not measured by this bench run (no live loopback figures were supplied).\n";
    return md.str();
  }
  if (!method.empty()) md << method << "\n\n";
  auto p = [](const LatencyHistogram& h, double q) { return static_cast<long long>(h.percentile(q)); };
  md << "| transport | orders | with tick-to-wire | signed -> kernel p50 (ns) | p99 | tick-to-wire p50 (ns) | p90 | p99 | p99.9 | max |\n";
  md << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  const LiveTransportFigures* best = nullptr;  // the lowest tick-to-wire p50
  for (const LiveTransportFigures& f : figures) {
    md << "| " << f.transport << " | " << f.orders << " | " << f.tick_to_wire.count() << " | " << p(f.signed_to_kernel, 50) << " | "
       << p(f.signed_to_kernel, 99) << " | " << p(f.tick_to_wire, 50) << " | " << p(f.tick_to_wire, 90) << " | " << p(f.tick_to_wire, 99)
       << " | " << p(f.tick_to_wire, 99.9) << " | " << f.tick_to_wire.max_value() << " |\n";
    if (f.tick_to_wire.count() != 0 && (best == nullptr || p(f.tick_to_wire, 50) < p(best->tick_to_wire, 50))) best = &f;
  }
  if (best != nullptr) {
    auto verdict = [](long long v, long long limit) { return v <= limit ? "met" : "NOT met"; };
    const long long s50 = p(best->signed_to_kernel, 50), t50 = p(best->tick_to_wire, 50), t99 = p(best->tick_to_wire, 99);
    md << "\nTargets, best transport (" << best->transport << ", lowest tick-to-wire p50): signed -> kernel p50 <= 2000 ns: "
       << verdict(s50, 2000) << " (" << s50 << " ns); tick-to-wire p50 <= 15000 ns: " << verdict(t50, 15000) << " (" << t50
       << " ns); p99 <= 50000 ns: " << verdict(t99, 50000) << " (" << t99 << " ns).\n";
  }
  // The kill switch: every cancel on the wire, judged on the transport with the lowest kill -> wire p99.
  const LiveTransportFigures* best_kill = nullptr;
  for (const LiveTransportFigures& f : figures)
    if (f.kill_to_wire.count() != 0 && (best_kill == nullptr || p(f.kill_to_wire, 99) < p(best_kill->kill_to_wire, 99))) best_kill = &f;
  if (best_kill != nullptr) {
    md << "\n### Kill switch: kill -> cancels on the wire\n\n"
       << "| transport | kills | entries cancelled | requests | kill -> wire p50 (ns) | p90 | p99 | max |\n"
       << "|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const LiveTransportFigures& f : figures) {
      if (f.kill_to_wire.count() == 0) continue;
      md << "| " << f.transport << " | " << f.kills << " | " << f.kill_cancels << " | " << f.kill_to_wire.count() << " | "
         << p(f.kill_to_wire, 50) << " | " << p(f.kill_to_wire, 90) << " | " << p(f.kill_to_wire, 99) << " | "
         << f.kill_to_wire.max_value() << " |\n";
    }
    const long long k99 = p(best_kill->kill_to_wire, 99);
    md << "\nTarget, best transport (" << best_kill->transport << ", lowest p99): kill -> every cancel on the wire <= 50000 ns: "
       << (k99 <= 50'000 ? "met" : "NOT met") << " (p99 " << k99 << " ns).\n";
  }
  return md.str();
}

namespace {

// The four runs and their files, into `dir`.
void run_bench_into(const std::string& dir, const RunConfig& base, bool quiet, const BenchOptions& bo) {
  std::fprintf(stderr, "enigma bench: %zu file(s) -> %s\n", base.data.size(), dir.c_str());
  struct Case {
    const char* name;
    Topology topology;
    Speed speed;
  };
  const Case cases[] = {{"fused-max", Topology::fused, Speed::max},
                        {"pipelined-max", Topology::pipelined, Speed::max},
                        {"fused-recorded", Topology::fused, Speed::recorded},
                        {"pipelined-recorded", Topology::pipelined, Speed::recorded}};
  struct Row {
    std::string name;
    PipelineResult r;
  };
  std::vector<Row> rows;
  if (!quiet) std::fprintf(stderr, "  floor: On-Demand walk + 2 SPSC hops per frame\n");
  const FloorResult floor = measure_floor(base.data, 2);
  std::vector<OrderFrame> order_frames;
  order_frames.reserve(1 << 14);  // the fused full-rate run appends each frame that sent an order (no allocation there)
  for (const Case& c : cases) {
    if (c.speed == Speed::recorded && bo.recorded_pace_window_ns <= 0) continue;
    RunConfig rc = base;
    rc.engine.topology = c.topology;
    InstrumentRegistry registry;
    rc.fill_registry(registry);
    strategy::StrategyStage strategies(rc.make_strategies(), rc.selector);
    TradingCoreConfig trading = rc.trading;
    trading.journal_path = dir + "/journal-" + c.name + ".bin";
    TradingCore core(registry, trading);
    PipelineOptions po;
    po.venue = rc.venue;
    po.traded = rc.strategy.common().instrument;
    po.topology = c.topology;
    po.speed = c.speed;
    po.idle = rc.engine.idle;
    po.cores = rc.engine.cores;
    po.progress = false;
    po.warm_interval_ns = rc.engine.warm_interval_us * 1000;
    if (c.speed == Speed::recorded) po.data_window_ns = bo.recorded_pace_window_ns;
    if (c.topology == Topology::fused && c.speed == Speed::max) po.order_frames = &order_frames;
    if (!quiet) std::fprintf(stderr, "  %s ...\n", c.name);
    rows.push_back({c.name, run_pipeline(rc.data, registry, strategies, core, po)});
  }

  auto p = [](const LatencyHistogram& h, double q) { return static_cast<long long>(h.percentile(q)); };
  std::ostringstream md, js;
  md << "# enigma bench\n\nData: ";
  for (const auto& f : base.data) md << "`" << f << "` ";
  md << "\n\nFloor (same run): simdjson On-Demand walk of each frame + 2 SPSC hops: p50 " << p(floor.walk_plus_hops, 50) << " ns, p99 "
     << p(floor.walk_plus_hops, 99) << " ns, p99.9 " << p(floor.walk_plus_hops, 99.9) << " ns over " << floor.frames << " frames.\n\n";
  md << "Frame in -> all stages done (every frame), and frame in -> order bytes out (frames that sent an order), in ns:\n\n";
  md << "| run | frames | frames/s | frame p50 | p90 | p99 | p99.9 | max | p50 / floor p50 | orders | order p50 | order p99 | order p99.9 |\n";
  md << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  js << "{\n  \"mode\": \"bench\",\n  \"floor_ns\": {\"p50\": " << p(floor.walk_plus_hops, 50) << ", \"p99\": " << p(floor.walk_plus_hops, 99)
     << ", \"p99.9\": " << p(floor.walk_plus_hops, 99.9) << "},\n  \"runs\": {";
  const double floor50 = static_cast<double>(std::max<long long>(1, p(floor.walk_plus_hops, 50)));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i].r;
    const double fps = r.wall_seconds > 0 ? r.frames / r.wall_seconds : 0;
    char line[512];
    std::snprintf(line, sizeof line, "| %s | %llu | %.0f | %lld | %lld | %lld | %lld | %lld | %.2fx | %llu | %lld | %lld | %lld |\n", rows[i].name.c_str(),
                  (unsigned long long)r.frames, fps, p(r.hist.frame, 50), p(r.hist.frame, 90), p(r.hist.frame, 99), p(r.hist.frame, 99.9),
                  (long long)r.hist.frame.max_value(), p(r.hist.frame, 50) / floor50, (unsigned long long)r.hist.order.count(),
                  p(r.hist.order, 50), p(r.hist.order, 99), p(r.hist.order, 99.9));
    md << line;
    js << (i ? ",\n" : "\n") << "    \"" << rows[i].name << "\": {\"frames\": " << r.frames << ", \"frames_per_second\": " << fps
       << ", \"frame_p50\": " << p(r.hist.frame, 50) << ", \"frame_p99\": " << p(r.hist.frame, 99) << ", \"frame_p99.9\": " << p(r.hist.frame, 99.9)
       << ", \"orders\": " << r.hist.order.count() << ", \"order_p50\": " << p(r.hist.order, 50) << ", \"order_p99\": " << p(r.hist.order, 99)
       << ", \"ratio_to_floor_p50\": " << p(r.hist.frame, 50) / floor50 << ", \"hot_path_allocations_after_warmup\": " << r.hot_allocations << "}";
    std::ofstream(dir + "/" + rows[i].name + ".frame.hgrm") << r.hist.frame.hgrm(1000.0);
    if (r.hist.order.count()) std::ofstream(dir + "/" + rows[i].name + ".frame_to_order.hgrm") << r.hist.order.hgrm(1000.0);
  }
  if (bo.recorded_pace_window_ns <= 0) md << "\nRecorded-pace runs: not run (`--recorded-seconds 0`).\n";
  std::ofstream(dir + "/floor.hgrm") << floor.walk_plus_hops.hgrm(1000.0);
  js << "\n  }";
  // ---- the order path: frames that sent an order, against the same work done bare ----
  if (!quiet) std::fprintf(stderr, "  order-path floor: %zu order frames x %d repeats; cross-core hop\n", order_frames.size(), bo.floor_repeats);
  const OrderFloor of = measure_order_floor(base.data, base, order_frames, std::max(5, bo.floor_repeats));
  // The pipelined hop: the strategy -> OMS boundary's two cores (engine.cores[1], [2]) or the first two allowed.
  const std::vector<int> cpus = tuning::affinity_cpus();
  int hop_a = -1, hop_b = -1;
  if (base.engine.cores.size() >= 3) hop_a = base.engine.cores[1], hop_b = base.engine.cores[2];
  else if (cpus.size() >= 2) hop_a = cpus[0], hop_b = cpus[1];
  tuning::HopResult hop;
  if (hop_a >= 0) hop = tuning::measure_hop(hop_a, hop_b, 20000, std::max(5, bo.floor_repeats));
  else hop.error = "one CPU available: no cross-core hop to measure";
  const double order_floor = std::max(1.0, of.median_p50);
  const double piped_floor = order_floor + (hop.ok ? hop.median_ns : 0);
  std::ostringstream om;
  om << "## Order path: frame in -> signed order bytes (frames that sent an order)\n\n";
  om << "Floor (same run, " << of.p50_ns.size() << " repeats after a warm-up pass): simdjson On-Demand walk of the " << of.frames
     << " frames that sent an order + encode and HMAC-sign of the same orders: p50 " << static_cast<long long>(of.median_p50)
     << " ns (median of repeats; spread " << static_cast<long long>(of.min_p50) << "-" << static_cast<long long>(of.max_p50)
     << " ns), p99 " << static_cast<long long>(of.median_p99) << " ns. Pipelined adds a cross-core hop: ";
  if (hop.ok)
    om << "CPU " << hop_a << " -> " << hop_b << " " << static_cast<long long>(hop.median_ns) << " ns one way (spread "
       << static_cast<long long>(hop.min_ns) << "-" << static_cast<long long>(hop.max_ns) << " ns).\n\n";
  else
    om << "not measured (" << hop.error << ").\n\n";
  om << "| run | order frames | p50 | p90 | p99 | p99.9 | max | floor p50 | p50 / floor | all orders (brackets incl.) p50 | p99 |\n";
  om << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (std::size_t i = 0; i < 2 && i < rows.size(); ++i) {
    const auto& h = rows[i].r.hist.order_frame;
    const double fl = i == 0 ? order_floor : piped_floor;
    char line[512];
    std::snprintf(line, sizeof line, "| %s | %llu | %lld | %lld | %lld | %lld | %lld | %.0f | %.2fx | %lld | %lld |\n", rows[i].name.c_str(),
                  (unsigned long long)h.count(), p(h, 50), p(h, 90), p(h, 99), p(h, 99.9), (long long)h.max_value(), fl, p(h, 50) / fl,
                  p(rows[i].r.hist.order, 50), p(rows[i].r.hist.order, 99));
    om << line;
    if (h.count()) std::ofstream(dir + "/" + rows[i].name + ".order_frame.hgrm") << h.hgrm(1000.0);
  }
  const auto& fo = rows[0].r.hist.order_frame;
  // Where the fused order frames' time goes: each frame's total split at the stage stamps (they add up to it per
  // frame; the percentiles are each stage's own, so the columns do not add up).
  const auto split = StageHistograms::OrderFrameStages::named(rows[0].r.hist.order_stages);
  const char* what[] = {"frame bytes -> events", "sync + apply", "strategies", "intent -> order: entry price, size",
                        "pre-trade checks + reserve", "position and order records", "+ HMAC sign"};
  static_assert(std::size(what) == std::tuple_size_v<decltype(split)>);
  if (fo.count() != 0) {
    om << "\nBy stage (" << rows[0].name << ", the same " << split[0].second->count()
       << " frames; per frame the stages add up to its total, the percentiles are each stage's own):\n\n";
    om << "| stage | p50 | p90 | p99 | max |\n|---|---:|---:|---:|---:|\n";
    for (std::size_t i = 0; i < split.size(); ++i) {
      const LatencyHistogram& h = *split[i].second;
      char line[256];
      std::snprintf(line, sizeof line, "| %s (%s) | %lld | %lld | %lld | %lld |\n", split[i].first, what[i], p(h, 50), p(h, 90),
                    p(h, 99), (long long)h.max_value());
      om << line;
    }
  }
  om << "\nTargets (fused): p50 <= 1500 ns: " << (p(fo, 50) <= 1500 ? "met" : "NOT met") << " (" << p(fo, 50) << " ns); p99 <= 5000 ns: "
     << (p(fo, 99) <= 5000 ? "met" : "NOT met") << " (" << p(fo, 99) << " ns); p50 <= 2x floor: "
     << (p(fo, 50) <= 2 * order_floor ? "met" : "NOT met") << " (" << p(fo, 50) / order_floor << "x).\n\n";
  const std::string live = format_live_section(bo.live ? bo.live(dir) : std::vector<LiveTransportFigures>{}, bo.live_method);
  {
    // The order path first (what a trader waits for), then the live section, then every frame.
    const std::string all = md.str();
    const std::size_t body = all.find("Floor (same run)");
    md.str(all.substr(0, body) + om.str() + live + "\n## Every frame\n\n" + all.substr(body));
    md.seekp(0, std::ios_base::end);
  }
  js << ",\n  \"order_path\": {\"order_frames\": " << of.frames << ", \"floor_p50\": " << static_cast<long long>(of.median_p50)
     << ", \"floor_p50_min\": " << static_cast<long long>(of.min_p50) << ", \"floor_p50_max\": " << static_cast<long long>(of.max_p50)
     << ", \"floor_p99\": " << static_cast<long long>(of.median_p99) << ", \"hop_ns\": " << (hop.ok ? static_cast<long long>(hop.median_ns) : -1)
     << ", \"fused_p50\": " << p(fo, 50) << ", \"fused_p99\": " << p(fo, 99) << ", \"fused_p99.9\": " << p(fo, 99.9)
     << ", \"fused_max\": " << fo.max_value() << ", \"pipelined_p50\": " << p(rows[1].r.hist.order_frame, 50)
     << ", \"pipelined_p99\": " << p(rows[1].r.hist.order_frame, 99) << ", \"fused_stages\": {";
  for (std::size_t i = 0; i < split.size(); ++i)
    js << (i ? ", " : "") << '"' << split[i].first << "\": {\"p50\": " << p(*split[i].second, 50) << ", \"p90\": "
       << p(*split[i].second, 90) << ", \"p99\": " << p(*split[i].second, 99) << "}";
  js << "}}\n}\n";
  const long long fused50 = p(rows[0].r.hist.frame, 50), piped50 = p(rows[1].r.hist.frame, 50);
  md << "\nTargets: fused p50 <= 2x floor: " << (fused50 <= 2 * floor50 ? "met" : "NOT met") << " (" << fused50 / floor50
     << "x); pipelined adds <= 1 us at p50 (feed-thread frame time; ring hops in ring_hop): " << (piped50 - fused50) << " ns; fused >= 1M frames/s: "
     << (rows[0].r.wall_seconds > 0 ? rows[0].r.frames / rows[0].r.wall_seconds : 0) << " frames/s.\n";
  md << "\nMachine: " << std::thread::hardware_concurrency() << " CPUs; build: release (-O3 -march=native).\n";
  const std::string host = tuning::format_checks(tuning::check_host({}));
  md << "\n## Host tuning\n\n```\n" << host << "```\n";
  std::ofstream(dir + "/bench.md") << md.str();
  std::ofstream(dir + "/summary.json") << js.str();
  std::ofstream(dir + "/host-check.txt") << host;
  write_report(dir);
  std::fputs(md.str().c_str(), stdout);
}

}  // namespace

int run_bench(const RunConfig& base, bool quiet, const BenchOptions& bo) {
  const std::string dir = make_run_dir(base.runs_dir, "bench-");
  try {
    run_bench_into(dir, base, quiet, bo);
  } catch (const std::exception& e) {
    write_failed_summary(dir, "bench", e.what());  // `latest` stays on the last bench that finished
    throw;
  }
  point_latest_at(base.runs_dir, dir);
  std::printf("bench: wrote %s (bench.md, report.html, *.hgrm)\n", dir.c_str());
  return 0;
}

}  // namespace enigma::engine
