#include "tuning/probes.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/clock.hpp"

namespace enigma::tuning {

namespace {

bool pin_self(int cpu) noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) == 0;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::int64_t now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The two counters on their own cache lines: each side writes one and spins on the other, so every
// round trip moves two lines across the cores (what an SPSC ring hop costs at least).
struct alignas(64) Line {
  std::atomic<std::uint64_t> v{0};
  char pad[64 - sizeof(std::atomic<std::uint64_t>)];
};

}  // namespace

std::vector<int> affinity_cpus() {
  std::vector<int> out;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return out;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) out.push_back(c);
  return out;
}

HopResult measure_hop(int a, int b, int round_trips, int repeats) {
  HopResult out;
  std::vector<double> runs;
  // The caller's thread is pinned to `a` while measuring: its own mask is put back before returning.
  cpu_set_t caller_mask;
  CPU_ZERO(&caller_mask);
  const bool have_mask = ::pthread_getaffinity_np(::pthread_self(), sizeof caller_mask, &caller_mask) == 0;
  auto restore = [&] {
    if (have_mask) (void)::pthread_setaffinity_np(::pthread_self(), sizeof caller_mask, &caller_mask);
  };
  for (int rep = 0; rep < repeats; ++rep) {
    Line ping, pong;
    std::atomic<int> ready{0};
    std::atomic<bool> pin_failed{false};
    std::thread echo([&] {
      if (!pin_self(b)) pin_failed.store(true);
      ready.fetch_add(1);
      for (std::uint64_t i = 1;
           i <= static_cast<std::uint64_t>(round_trips) && !pin_failed.load(std::memory_order_relaxed); ++i) {
        while (ping.v.load(std::memory_order_acquire) != i)
          if (pin_failed.load(std::memory_order_relaxed)) return;
        pong.v.store(i, std::memory_order_release);
      }
    });
    if (!pin_self(a)) pin_failed.store(true);
    while (ready.load() == 0) std::this_thread::yield();
    if (pin_failed.load()) {
      echo.join();
      restore();
      out.error = "cannot pin a thread to CPU " + std::to_string(a) + " or " + std::to_string(b);
      return out;
    }
    // Warm: the first few hundred round trips settle both lines and the branch predictors.
    const std::uint64_t warm = std::min<std::uint64_t>(500, static_cast<std::uint64_t>(round_trips) / 4);
    std::int64_t t0 = 0;
    for (std::uint64_t i = 1; i <= static_cast<std::uint64_t>(round_trips); ++i) {
      if (i == warm + 1) t0 = now_ns();
      ping.v.store(i, std::memory_order_release);
      while (pong.v.load(std::memory_order_acquire) != i) {
      }
    }
    const std::int64_t t1 = now_ns();
    echo.join();
    runs.push_back(static_cast<double>(t1 - t0) / static_cast<double>(static_cast<std::uint64_t>(round_trips) - warm) /
                   2.0);
  }
  restore();
  std::sort(runs.begin(), runs.end());
  out.ok = true;
  out.median_ns = runs[runs.size() / 2];
  out.min_ns = runs.front();
  out.max_ns = runs.back();
  return out;
}

std::vector<int> smt_siblings(int cpu) {
  std::vector<int> out;
  std::ifstream f("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/thread_siblings_list");
  std::string text;
  if (!std::getline(f, text)) return out;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    const auto dash = part.find('-');
    try {
      const int lo = std::stoi(part.substr(0, dash));
      const int hi = dash == std::string::npos ? lo : std::stoi(part.substr(dash + 1));
      for (int c = lo; c <= hi; ++c) out.push_back(c);
    } catch (...) {
      return {};
    }
  }
  return out;
}

int numa_node(int cpu) {
  for (int n = 0; n < 64; ++n) {
    std::ifstream f("/sys/devices/system/node/node" + std::to_string(n) + "/cpu" + std::to_string(cpu));
    if (f.good()) return n;
  }
  std::ifstream d("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/node0");
  return d.good() ? 0 : -1;
}

TimerCosts measure_timer_costs() {
  constexpr int kBatch = 20000, kBatches = 7;
  TimerCosts out;
  std::vector<double> r, m, w;
  std::uint64_t sink = 0;
  for (int b = 0; b < kBatches; ++b) {
    std::int64_t t0 = now_ns();
    for (int i = 0; i < kBatch; ++i) sink += rdtsc();
    r.push_back(static_cast<double>(now_ns() - t0) / kBatch);
    t0 = now_ns();
    timespec ts{};
    for (int i = 0; i < kBatch; ++i) {
      ::clock_gettime(CLOCK_MONOTONIC, &ts);
      sink += static_cast<std::uint64_t>(ts.tv_nsec);
    }
    m.push_back(static_cast<double>(now_ns() - t0) / kBatch);
    t0 = now_ns();
    for (int i = 0; i < kBatch; ++i) {
      ::clock_gettime(CLOCK_REALTIME, &ts);
      sink += static_cast<std::uint64_t>(ts.tv_nsec);
    }
    w.push_back(static_cast<double>(now_ns() - t0) / kBatch);
  }
  if (sink == 42) std::fputs("", stderr);  // keeps the loops observable
  out.rdtsc_ns = median(r);
  out.monotonic_ns = median(m);
  out.realtime_ns = median(w);
  return out;
}

FaultCosts measure_fault_costs(std::size_t bytes) {
  FaultCosts out;
  constexpr std::size_t k4k = 4096, k2m = 2u << 20;
  auto touch = [](unsigned char* p, std::size_t n) {
    const std::int64_t t0 = now_ns();
    for (std::size_t off = 0; off < n; off += k4k) p[off] = 1;
    return static_cast<double>(now_ns() - t0);
  };
  // Small pages: THP explicitly refused for the range, so every 4 KiB is its own fault.
  if (void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); m != MAP_FAILED) {
#ifdef MADV_NOHUGEPAGE
    (void)::madvise(m, bytes, MADV_NOHUGEPAGE);
#endif
    out.small_page_ns_per_4k = touch(static_cast<unsigned char*>(m), bytes) / static_cast<double>(bytes / k4k);
    ::munmap(m, bytes);
  }
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(thp, mode);
  if (mode.empty()) {
    out.huge_note = "transparent huge pages: not available (no /sys/kernel/mm/transparent_hugepage)";
    return out;
  }
  if (mode.find("[never]") != std::string::npos) {
    out.huge_note = "transparent huge pages are off on this host (" + mode + ")";
    return out;
  }
  // A 2 MiB-aligned range asked to be huge; AnonHugePages of smaps says whether it got huge pages.
  const std::size_t len = bytes + k2m;
  void* raw = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    out.huge_note = "mmap failed";
    return out;
  }
  auto* aligned = reinterpret_cast<unsigned char*>((reinterpret_cast<std::uintptr_t>(raw) + k2m - 1) & ~(k2m - 1));
#ifdef MADV_HUGEPAGE
  (void)::madvise(aligned, bytes, MADV_HUGEPAGE);
#endif
  out.huge_page_ns_per_4k = touch(aligned, bytes) / static_cast<double>(bytes / k4k);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in_range = false;
  std::size_t huge_kb = 0;
  while (std::getline(smaps, line)) {
    std::uintptr_t lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) == 2 && line.find(' ') != std::string::npos && line[0] != ' ') {
      in_range = lo <= reinterpret_cast<std::uintptr_t>(aligned) && reinterpret_cast<std::uintptr_t>(aligned) < hi;
    } else if (in_range && line.rfind("AnonHugePages:", 0) == 0) {
      huge_kb += std::strtoull(line.c_str() + 14, nullptr, 10);
    }
  }
  ::munmap(raw, len);
  out.huge_ok = huge_kb > 0;
  out.huge_note = out.huge_ok ? std::to_string(huge_kb / 1024) + " MiB of the range got huge pages (THP " + mode + ")"
                              : "the range got no huge pages (THP " + mode + ")";
  return out;
}

}  // namespace enigma::tuning
