// SpscRing vs moodycamel::ReaderWriterQueue: throughput and cross-thread one-way latency.
//
// Both queues carry the same 64-byte message (like an Event) between the benchmark thread (consumer,
// core 0) and a producer thread (core 1). Latency: the producer stamps rdtsc into the message, the
// consumer records rdtsc - stamp into a LatencyHistogram; the producer sends the next message only after
// the previous one arrived (unloaded latency, no queueing). Percentiles are reported as counters in ns.
#include <sched.h>

#include <benchmark/benchmark.h>

#include <readerwriterqueue/readerwriterqueue.h>

#include <atomic>
#include <memory>
#include <thread>

#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "core/spsc_ring.hpp"
#include "core/stage_runner.hpp"

namespace {

struct alignas(64) Msg {
  std::uint64_t tsc;
  std::uint64_t seq;
  char pad[48];
};

constexpr std::size_t kCapacity = 4096;

struct EnigmaRing {
  enigma::SpscRing<Msg> q{kCapacity};
  bool push(const Msg& m) noexcept { return q.try_push(m); }
  bool pop(Msg& m) noexcept { return q.try_pop(m); }
};

struct MoodycamelRwq {
  moodycamel::ReaderWriterQueue<Msg> q{kCapacity};
  bool push(const Msg& m) noexcept { return q.try_enqueue(m); }  // try_: never allocates
  bool pop(Msg& m) noexcept { return q.try_dequeue(m); }
};

void pin(int core) {
  try {
    enigma::pin_current_thread(core);
  } catch (const enigma::Error&) {
    // Single-CPU machine: the figures are then scheduler-bound, which the report states.
  }
}

// A thread inherits its creator's CPU mask: after one benchmark pinned this thread to core 0, the next
// producer could not move to core 1 and both sides spun on one core. Widen the mask before spawning.
void unpin() {
  cpu_set_t all;
  CPU_ZERO(&all);
  const unsigned n = std::thread::hardware_concurrency();
  for (unsigned c = 0; c < n && c < CPU_SETSIZE; ++c) CPU_SET(c, &all);
  (void)sched_setaffinity(0, sizeof all, &all);
}

template <class Q>
void BM_Throughput(benchmark::State& state) {
  unpin();
  auto q = std::make_unique<Q>();
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    pin(1);
    Msg m{};
    while (!stop.load(std::memory_order_relaxed)) {
      if (q->push(m)) ++m.seq;
    }
  });
  pin(0);
  Msg m{};
  for (auto _ : state) {
    while (!q->pop(m)) {
    }
    benchmark::DoNotOptimize(m.seq);
  }
  stop.store(true);
  producer.join();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_TEMPLATE(BM_Throughput, EnigmaRing)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Throughput, MoodycamelRwq)->UseRealTime();

template <class Q>
void BM_OneWayLatency(benchmark::State& state) {
  unpin();
  auto q = std::make_unique<Q>();
  auto hist = std::make_unique<enigma::LatencyHistogram>();
  const auto& clk = enigma::TscClock::instance();
  alignas(64) std::atomic<std::uint64_t> received{0};
  alignas(64) std::atomic<bool> stop{false};
  std::thread producer([&] {
    pin(1);
    Msg m{};
    for (std::uint64_t seq = 0;; ++seq) {
      while (received.load(std::memory_order_acquire) != seq) {
        if (stop.load(std::memory_order_relaxed)) return;
      }
      // A short gap so the consumer is back to polling an empty queue, as on a quiet feed.
      for (int i = 0; i < 50; ++i) enigma::cpu_relax();
      m.seq = seq;
      m.tsc = enigma::rdtsc();
      while (!q->push(m)) {
      }
    }
  });
  pin(0);
  Msg m{};
  std::uint64_t n = 0;
  for (auto _ : state) {
    while (!q->pop(m)) {
    }
    const std::uint64_t now = enigma::rdtsc();
    hist->record(static_cast<std::int64_t>(now - m.tsc));
    received.store(++n, std::memory_order_release);
  }
  stop.store(true);
  producer.join();
  const auto ns = [&](double p) { return static_cast<double>(clk.ticks_to_ns(static_cast<std::uint64_t>(hist->percentile(p)))); };
  state.counters["p50_ns"] = ns(50);
  state.counters["p99_ns"] = ns(99);
  state.counters["p99.9_ns"] = ns(99.9);
  state.counters["max_ns"] = ns(100);
}
BENCHMARK_TEMPLATE(BM_OneWayLatency, EnigmaRing)->Iterations(20'000)->UseRealTime();
BENCHMARK_TEMPLATE(BM_OneWayLatency, MoodycamelRwq)->Iterations(20'000)->UseRealTime();

}  // namespace
