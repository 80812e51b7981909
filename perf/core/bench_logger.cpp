// Logger hot-path call: enigma (binary record, formatted on the logger thread) vs spdlog's async logger
// (formats on the calling thread, then enqueues). Same message, same arguments, both to a file in /tmp.
//
// Each benchmark iteration is a burst of kBurst calls, each timed with an rdtsc pair into a histogram;
// between bursts (untimed) the logger drains, so neither queue ever fills and neither side drops or
// blocks. Counters: p50/p99 per call in ns with the empty rdtsc pair's cost (rdtsc_ns) subtracted.
#include <benchmark/benchmark.h>

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "core/logger.hpp"

namespace {

constexpr int kBurst = 1000;

double rdtsc_pair_ticks() {
  auto h = std::make_unique<enigma::LatencyHistogram>();
  for (int i = 0; i < 100'000; ++i) {
    const auto t0 = enigma::rdtsc();
    const auto t1 = enigma::rdtsc();
    h->record(static_cast<std::int64_t>(t1 - t0));
  }
  return static_cast<double>(h->percentile(50));
}

template <class Call, class Drain>
void timed_bursts(benchmark::State& state, Call&& call, Drain&& drain) {
  auto hist = std::make_unique<enigma::LatencyHistogram>();
  const auto& clk = enigma::TscClock::instance();
  const double overhead = rdtsc_pair_ticks();
  std::uint64_t seq = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBurst; ++i) {
      const auto t0 = enigma::rdtsc();
      call(seq++);
      const auto t1 = enigma::rdtsc();
      hist->record(static_cast<std::int64_t>(t1 - t0));
    }
    state.PauseTiming();
    drain();
    state.ResumeTiming();
  }
  const auto ns = [&](double ticks) { return ticks * clk.ns_per_tick(); };
  state.counters["p50_ns"] = ns(static_cast<double>(hist->percentile(50)) - overhead);
  state.counters["p99_ns"] = ns(static_cast<double>(hist->percentile(99)) - overhead);
  state.counters["p99.9_ns"] = ns(static_cast<double>(hist->percentile(99.9)) - overhead);
  state.counters["rdtsc_ns"] = ns(overhead);
  state.SetItemsProcessed(state.iterations() * kBurst);
}

const enigma::Symbol kSymbol("XBTUSDTM");
const enigma::Price kPrice = enigma::Price::parse("60123.4").value;

void BM_LogCall_Enigma(benchmark::State& state) {
  const std::string path = "/tmp/enigma_bench_core_" + std::to_string(::getpid()) + ".log";
  enigma::LoggerOptions opt;
  opt.path = path;
  opt.install_signal_handlers = false;
  enigma::Logger logger(opt);
  enigma::Logger::set_global(&logger);
  logger.register_hot_thread();  // the trading threads' path: this thread's own ring
  timed_bursts(
      state, [](std::uint64_t seq) { ENIGMA_LOG_INFO("feed", "book_resync instrument={} seq={} px={}", kSymbol, seq, kPrice); },
      [&] { logger.flush(); });
  state.counters["dropped"] = static_cast<double>(logger.dropped());
  enigma::Logger::set_global(nullptr);
  logger.shutdown();
  ::unlink(path.c_str());
}
BENCHMARK(BM_LogCall_Enigma);

void BM_LogCall_SpdlogAsync(benchmark::State& state) {
  const std::string path = "/tmp/spdlog_bench_core_" + std::to_string(::getpid()) + ".log";
  spdlog::init_thread_pool(1 << 16, 1);
  auto logger = spdlog::create_async<spdlog::sinks::basic_file_sink_mt>("bench", path, true);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%FZ %l %n %v", spdlog::pattern_time_type::utc);
  const std::string_view sym = kSymbol.view();
  timed_bursts(
      state, [&](std::uint64_t seq) { logger->info("kucoin resync {} seq={} px={}", sym, seq, kPrice); },
      [&] {
        while (spdlog::thread_pool()->queue_size() > 0) std::this_thread::yield();
      });
  spdlog::drop_all();
  spdlog::shutdown();
  ::unlink(path.c_str());
}
BENCHMARK(BM_LogCall_SpdlogAsync);

}  // namespace
