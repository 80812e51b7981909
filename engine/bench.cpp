#include "engine/bench.hpp"

#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/spsc_ring.hpp"
#include "engine/report.hpp"
#include "engine/run_output.hpp"
#include "feed/capture_reader.hpp"
#include "tuning/host_check.hpp"

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
  for (const Case& c : cases) {
    RunConfig rc = base;
    rc.engine.topology = c.topology;
    InstrumentRegistry registry;
    rc.fill_registry(registry);
    strategy::StrategyStage strategies(rc.make_strategies());
    TradingCoreConfig trading = rc.trading;
    trading.journal_path = dir + "/journal-" + c.name + ".bin";
    TradingCore core(registry, trading);
    PipelineOptions po;
    po.venue = rc.venue;
    po.traded = rc.imbalance.common.instrument;
    po.topology = c.topology;
    po.speed = c.speed;
    po.idle = rc.engine.idle;
    po.cores = rc.engine.cores;
    po.progress = false;
    if (c.speed == Speed::recorded) po.data_window_ns = bo.recorded_pace_window_ns;
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
  std::ofstream(dir + "/floor.hgrm") << floor.walk_plus_hops.hgrm(1000.0);
  js << "\n  }\n}\n";
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
