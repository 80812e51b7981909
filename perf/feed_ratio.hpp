// Same-run ratio of a decoder to its floor, for the bench_feed_* benchmarks.
//
// Each benchmark iteration runs one pass of the floor (simdjson On-Demand walking every value of the
// frames, converting nothing) and then one pass of the work (decode, or decode + book apply) over the
// same frames, each pass timed on its own. Alternating passes means both see the same machine, and the
// fastest pass of each is kept: on a shared 2-core VM a pass that was preempted is slower, never faster,
// so the minimum is the undisturbed cost (means moved the ratio by 2x between runs there).
// Counters: walk_ns and work_ns per frame (fastest pass), x_walk = work / walk (the figure the targets
// are stated in).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include <benchmark/benchmark.h>
#include <simdjson.h>

namespace enigma::perf {

namespace od = simdjson::ondemand;

// The floor: visit every value of the document without converting anything.
inline void walk_value(od::value v, std::size_t& n) noexcept {
  od::json_type t;
  if (v.type().get(t)) return;
  ++n;
  if (t == od::json_type::object) {
    od::object o;
    if (v.get_object().get(o)) return;
    for (auto f : o) {
      od::field fld;
      if (std::move(f).get(fld)) return;
      walk_value(fld.value(), n);
    }
  } else if (t == od::json_type::array) {
    od::array a;
    if (v.get_array().get(a)) return;
    for (auto e : a) {
      od::value ev;
      if (std::move(e).get(ev)) return;
      walk_value(ev, n);
    }
  } else {
    benchmark::DoNotOptimize(v.raw_json_token());
  }
}

// Walks one frame (bytes with `padded_capacity` readable bytes); returns the number of values visited.
inline std::size_t walk_frame(od::parser& parser, const char* data, std::size_t size, std::size_t padded_capacity) noexcept {
  od::document doc;
  if (parser.iterate(simdjson::padded_string_view(data, size, padded_capacity)).get(doc)) return 0;
  od::value root;
  if (doc.get_value().get(root)) return 0;
  std::size_t n = 0;
  walk_value(root, n);
  return n;
}

// Runs walk_pass() and work_pass() alternately (each covering `frames` frames) and reports the fastest
// pass of each per frame and their ratio.
template <class WalkPass, class WorkPass>
void run_paired(benchmark::State& state, std::size_t frames, WalkPass&& walk_pass, WorkPass&& work_pass) {
  using clock = std::chrono::steady_clock;
  clock::duration walk = clock::duration::max(), work = clock::duration::max();
  for (auto _ : state) {
    const auto t0 = clock::now();
    walk_pass();
    const auto t1 = clock::now();
    work_pass();
    const auto t2 = clock::now();
    walk = std::min(walk, t1 - t0);
    work = std::min(work, t2 - t1);
  }
  const double n = static_cast<double>(state.iterations()) * static_cast<double>(frames);
  const double walk_ns = std::chrono::duration<double, std::nano>(walk).count();
  const double work_ns = std::chrono::duration<double, std::nano>(work).count();
  state.counters["walk_ns"] = walk_ns / static_cast<double>(frames);
  state.counters["work_ns"] = work_ns / static_cast<double>(frames);
  state.counters["x_walk"] = walk_ns > 0 ? work_ns / walk_ns : 0;
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}

}  // namespace enigma::perf
