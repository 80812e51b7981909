#include "engine/tune_report.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_output.hpp"
#include "engine/trading_core.hpp"
#include "tuning/host_check.hpp"
#include "tuning/probes.hpp"

namespace enigma::engine {

namespace {

struct LayoutRun {
  std::string name;
  std::vector<int> cores;
  IdlePolicy idle{IdlePolicy::backoff};
  std::uint64_t orders{0};
  long long order_p50{0}, order_p99{0}, frame_p50{0};
  bool ok{false};
  std::string error;
};

// One fused full-rate replay of the config's data with this pinning and idle policy; the order path's
// figures are the frames that sent an order (frame in -> first order bytes).
void run_layout(const RunConfig& base, const std::string& dir, LayoutRun& lr) {
  RunConfig rc = base;
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(rc.make_strategies(), rc.selector);
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = dir + "/journal-" + lr.name + ".bin";
  TradingCore core(registry, trading);
  PipelineOptions po;
  po.venue = rc.venue;
  po.traded = rc.strategy.common().instrument;
  po.topology = Topology::fused;
  po.speed = Speed::max;
  po.idle = lr.idle;
  po.cores = lr.cores;
  po.progress = false;
  po.warm_interval_ns = rc.engine.warm_interval_us * 1000;
  try {
    const PipelineResult r = run_pipeline(rc.data, registry, strategies, core, po);
    lr.orders = r.hist.order_frame.count();
    lr.order_p50 = r.hist.order_frame.percentile(50);
    lr.order_p99 = r.hist.order_frame.percentile(99);
    lr.frame_p50 = r.hist.frame.percentile(50);
    lr.ok = true;
  } catch (const std::exception& e) {
    lr.error = e.what();
  }
  // Segment files of these probe runs are not wanted afterwards.
  std::remove((dir + "/journal-" + lr.name + ".bin").c_str());
}

std::string cpu_list_text(const std::vector<int>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

}  // namespace

int run_tune_report(const RunConfig& rc, const TuneReportOptions& opt) {
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  const std::string dir = make_run_dir(rc.runs_dir, "tune-");
  std::fprintf(stderr, "enigma tune-report -> %s%s\n", dir.c_str(), opt.quick ? " (quick)" : "");
  std::ostringstream md;
  md << "# enigma tune-report\n\n";
  const std::vector<int> cpus = tuning::affinity_cpus();
  md << "CPUs available to this process: " << cpu_list_text(cpus) << (opt.quick ? " (quick mode: short probes)" : "")
     << "\n\n";

  // ---- core-to-core hop matrix ------------------------------------------------------------------------
  const int round_trips = opt.quick ? 2000 : 20000, repeats = opt.quick ? 3 : 5;
  const double hop_budget = opt.budget_seconds * 0.5;
  const std::size_t n = cpus.size();
  std::vector<std::vector<double>> hop(n, std::vector<double>(n, -1));
  std::size_t measured = 0, pairs = n * (n - 1) / 2;
  bool cut = false;
  for (std::size_t i = 0; i < n && !cut; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      if (elapsed() > hop_budget) {
        cut = true;
        break;
      }
      const tuning::HopResult h = tuning::measure_hop(cpus[i], cpus[j], round_trips, repeats);
      if (h.ok) hop[i][j] = hop[j][i] = h.median_ns;
      ++measured;
    }
  std::vector<int> node(n);
  std::vector<std::vector<int>> sib(n);
  for (std::size_t i = 0; i < n; ++i) {
    node[i] = tuning::numa_node(cpus[i]);
    sib[i] = tuning::smt_siblings(cpus[i]);
  }
  auto siblings = [&](std::size_t i, std::size_t j) {
    return std::find(sib[i].begin(), sib[i].end(), cpus[j]) != sib[i].end();
  };
  md << "## Core-to-core hop (ns, one way)\n\nA cache line bounced between two pinned threads, " << round_trips
     << " round trips x " << repeats
     << " repeats, median of (round trip / 2). `s` marks SMT siblings (one physical core), `*` a pair on different "
        "NUMA nodes.\n\n";
  md << "| cpu (node) |";
  for (std::size_t j = 0; j < n; ++j) md << " " << cpus[j] << " |";
  md << "\n|---|";
  for (std::size_t j = 0; j < n; ++j) md << "---:|";
  md << "\n";
  for (std::size_t i = 0; i < n; ++i) {
    md << "| " << cpus[i] << " (" << node[i] << ") |";
    for (std::size_t j = 0; j < n; ++j) {
      if (i == j)
        md << " - |";
      else if (hop[i][j] < 0)
        md << " n/m |";
      else
        md << " " << static_cast<long long>(hop[i][j]) << (siblings(i, j) ? "s" : "") << (node[i] != node[j] ? "*" : "")
           << " |";
    }
    md << "\n";
  }
  if (n < 2) md << "\nOne CPU: no pair to measure.\n";
  if (cut)
    md << "\nStopped after " << measured << " of " << pairs << " pairs (time budget " << hop_budget
       << " s); `n/m` = not measured.\n";
  md << "\n";

  // ---- timers and page faults -----------------------------------------------------------------------------
  const tuning::TimerCosts tc = tuning::measure_timer_costs();
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "## Timers (ns per call)\n\n| rdtsc | clock_gettime(MONOTONIC) | clock_gettime(REALTIME) "
                "|\n|---:|---:|---:|\n| %.1f | %.1f | %.1f |\n\n",
                tc.rdtsc_ns, tc.monotonic_ns, tc.realtime_ns);
  md << buf;
  const tuning::FaultCosts fc = tuning::measure_fault_costs(opt.quick ? (16u << 20) : (64u << 20));
  std::snprintf(buf, sizeof buf,
                "## Page faults (first write, ns per 4 KiB)\n\n| 4 KiB pages | huge pages (THP) |\n|---:|---:|\n| %.0f "
                "| %s |\n\n",
                fc.small_page_ns_per_4k,
                fc.huge_ok ? std::to_string(static_cast<long long>(fc.huge_page_ns_per_4k)).c_str() : "n/a");
  md << buf << "Huge pages: " << fc.huge_note
     << ". The engine pre-faults what the order path touches (journal segments, "
     << "order slots, encoder buffers) at start-up, so these costs are paid before the first order, not on it.\n\n";

  // ---- the order path under each layout and idle policy ---------------------------------------------------
  std::vector<LayoutRun> runs;
  auto layout = [](std::string name, std::vector<int> cores, IdlePolicy idle) {
    LayoutRun lr;
    lr.name = std::move(name);
    lr.cores = std::move(cores);
    lr.idle = idle;
    return lr;
  };
  runs.push_back(layout("unpinned-backoff", {}, IdlePolicy::backoff));
  const std::size_t try_cpus = std::min<std::size_t>(cpus.size(), opt.quick ? 1 : 4);
  // cpu0 takes most interrupts on an untuned host: try the last CPUs first.
  for (std::size_t k = 0; k < try_cpus; ++k) {
    const int c = cpus[cpus.size() - 1 - k];
    runs.push_back(layout("cpu" + std::to_string(c) + "-backoff", {c}, IdlePolicy::backoff));
    runs.push_back(layout("cpu" + std::to_string(c) + "-spin", {c}, IdlePolicy::spin));
  }
  for (LayoutRun& lr : runs) {
    std::fprintf(stderr, "  order path: fused %s ...\n", lr.name.c_str());
    run_layout(rc, dir, lr);
  }
  md << "## Replay order path by layout (fused, full rate; frames that sent an order: frame in -> first order bytes, "
        "ns)\n\n";
  md << "| layout | cores | idle | order frames | order p50 | order p99 | every frame p50 "
        "|\n|---|---|---|---:|---:|---:|---:|\n";
  const LayoutRun* best = nullptr;
  for (const LayoutRun& lr : runs) {
    if (!lr.ok) {
      md << "| " << lr.name << " | " << cpu_list_text(lr.cores) << " | "
         << (lr.idle == IdlePolicy::spin ? "spin" : "backoff") << " | failed: " << lr.error << " | | | |\n";
      continue;
    }
    md << "| " << lr.name << " | " << (lr.cores.empty() ? "unpinned" : cpu_list_text(lr.cores)) << " | "
       << (lr.idle == IdlePolicy::spin ? "spin" : "backoff") << " | " << lr.orders << " | " << lr.order_p50 << " | "
       << lr.order_p99 << " | " << lr.frame_p50 << " |\n";
    if (lr.orders > 0 && (best == nullptr || lr.order_p50 < best->order_p50)) best = &lr;
  }
  const bool pipelined_fits = cpus.size() >= 4;  // three pinned stages plus one CPU left for the OS and the gateway
  md << "\nPipelined layouts "
     << (pipelined_fits ? "are recommended from the hop matrix below (not replayed here: at full rate on a "
                          "replay they are queue-bound, see README)"
                        : "need three dedicated cores plus one for the OS: not tried on this host")
     << ".\n\n";

  // ---- recommendation ----------------------------------------------------------------------------------------
  std::ostringstream block;
  std::ostringstream why;
  if (pipelined_fits) {
    // strategy -> OMS is the hop on every order: the closest pair that is not one physical core, same node.
    std::size_t bi = 0, bj = 0;
    double bh = 1e18;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if (i != j && cpus[i] != 0 && cpus[j] != 0 && hop[i][j] >= 0 && !siblings(i, j) && node[i] == node[j] &&
            hop[i][j] < bh) {
          bh = hop[i][j];
          bi = i;
          bj = j;
        }
    std::size_t feed = n;
    double fh = 1e18;
    for (std::size_t k = 0; k < n; ++k)
      if (k != bi && k != bj && cpus[k] != 0 && hop[k][bi] >= 0 && hop[k][bi] < fh) {
        fh = hop[k][bi];
        feed = k;
      }
    if (bh < 1e18 && feed < n) {
      block << "[engine]\ntopology = \"pipelined\"\ncores = [" << cpus[feed] << ", " << cpus[bi] << ", " << cpus[bj]
            << "]\nidle = \"spin\"\n";
      why << "pipelined: strategy -> OMS on the closest pair (" << static_cast<long long>(bh)
          << " ns one way), feed next to the strategy (" << static_cast<long long>(fh)
          << " ns); cpu0 left to the OS; run the live order gateway on a remaining core of the same node";
    }
  }
  if (block.str().empty()) {
    if (best != nullptr && !best->cores.empty()) {
      block << "[engine]\ntopology = \"fused\"\ncores = [" << best->cores[0] << "]\nidle = \""
            << (best->idle == IdlePolicy::spin ? "spin" : "backoff") << "\"\n";
      why << "fused on cpu" << best->cores[0] << ": the lowest measured order p50 (" << best->order_p50 << " ns, "
          << best->name << ")";
    } else {
      block << "[engine]\ntopology = \"fused\"\nidle = \"backoff\"\n";
      why << "fused, unpinned, backoff: no pinned layout measured better here";
    }
  }
  if (block.str().find("\"spin\"") != std::string::npos)
    why << "; spin busy-polls its core: give it cores no other process runs on (isolcpus, below)";
  block << "warm_interval_us = " << rc.engine.warm_interval_us << "\n";
  block << "mlockall = " << (rc.engine.mlockall ? "true" : "false") << "\n";
  md << "## Recommended [engine] block\n\n" << why.str() << ".\n\n```toml\n" << block.str() << "```\n\n";

  // ---- host check beside it ------------------------------------------------------------------------------------
  const std::string host = tuning::format_checks(tuning::check_host({}));
  md << "## check-host findings\n\n```\n"
     << host << "```\n\nMeasured in " << static_cast<long long>(elapsed()) << " s.\n";
  std::ofstream(dir + "/tune-report.md") << md.str();
  std::ofstream(dir + "/recommended-engine.toml") << block.str();
  std::ofstream(dir + "/host-check.txt") << host;
  std::fputs(md.str().c_str(), stdout);
  std::printf("tune-report: wrote %s (tune-report.md, recommended-engine.toml)\n", dir.c_str());
  return 0;
}

}  // namespace enigma::engine
