// Busy-poll stage runner: one loop on one named thread pinned to one core.
//
// A stage is any object with `bool operator()() noexcept` (or a function pointer + context) that does one
// unit of work and says whether it found any. The runner calls it until stopped; when it finds nothing it
// idles according to the policy: `spin` keeps the core hot with `pause` (tuned host, isolated cores),
// `backoff` spins a little, then yields, then sleeps briefly (shared machines, CI). The body is called
// through a template instantiation, so it inlines into the loop: no std::function, no virtual call.
//
// Set-up failures (core not in the affinity mask, SCHED_FIFO not permitted, mlockall refused, thread
// name too long) are reported by start() as an enigma::Error naming the stage and the reason; there is
// no silent fallback to an unpinned thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/attributes.hpp"
#include "core/error.hpp"
#include "core/logger.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace enigma {

enum class IdlePolicy : std::uint8_t { spin, backoff };

[[nodiscard]] std::string_view to_string(IdlePolicy p) noexcept;
// Accepts "spin" and "backoff" (the config spelling); nullopt otherwise.
[[nodiscard]] std::optional<IdlePolicy> idle_policy_from_string(std::string_view s) noexcept;

ENIGMA_ALWAYS_INLINE void cpu_relax() noexcept {
#if defined(__x86_64__)
  _mm_pause();
#else
  std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
}

// Idle state for one loop. `spin`: pause only. `backoff`: kSpinRounds pauses, then kYieldRounds
// sched_yield calls, then sleeps of kSleepMicros each until work arrives (reset() on work).
class Idler {
 public:
  static constexpr std::uint32_t kSpinRounds = 2000;   // ~100 us of pause on current cores
  static constexpr std::uint32_t kYieldRounds = 100;
  static constexpr std::uint32_t kSleepMicros = 50;    // bounds wake-up latency on a quiet feed

  explicit Idler(IdlePolicy policy) noexcept : policy_(policy) {}
  ENIGMA_ALWAYS_INLINE void reset() noexcept { rounds_ = 0; }
  ENIGMA_ALWAYS_INLINE void idle() noexcept {
    if (policy_ == IdlePolicy::spin || rounds_ < kSpinRounds) [[likely]] {
      ++rounds_;
      cpu_relax();
      return;
    }
    idle_slow();
  }

 private:
  ENIGMA_COLD void idle_slow() noexcept;
  IdlePolicy policy_;
  std::uint32_t rounds_{0};
  bool fine_slack_{false};  // use_fine_timer_slack() done on this (the idling) thread
};

struct StageOptions {
  std::string name;             // thread name shown by top/ps; at most 15 characters (kernel limit)
  int core = -1;                // CPU to pin to; -1 leaves the thread unpinned (explicitly asked for)
  bool realtime = false;        // SCHED_FIFO at `rt_priority`
  int rt_priority = 50;         // 1..99
  bool lock_memory = false;     // mlockall(MCL_CURRENT | MCL_FUTURE) before the loop starts (process-wide)
  IdlePolicy idle = IdlePolicy::backoff;
};

// Pins the calling thread to `core`; throws Error when the core does not exist or is outside the
// process's affinity mask (e.g. excluded by taskset or a cgroup cpuset).
void pin_current_thread(int core);
// The check pin_current_thread makes, for a thread not started yet: throws Error naming the real cause.
void check_core_allowed(int core);
// Number of CPUs the process may run on (its affinity mask).
[[nodiscard]] int allowed_cpu_count();
// Sets the calling thread's timer slack to 1 us (PR_SET_TIMERSLACK). Linux's default of 50 us stretches
// every short idle sleep by up to that much: on the shared VM a 50 us nanosleep took 120 us p50, 71 us with
// 1 us slack. Called by backoff idlers before their first sleep and by the live gateway thread.
void use_fine_timer_slack() noexcept;

class StageRunner {
 public:
  StageRunner() = default;
  ~StageRunner() { stop(); }
  StageRunner(const StageRunner&) = delete;
  StageRunner& operator=(const StageRunner&) = delete;

  // Starts `body` (which must outlive the runner's thread) on a new thread. Returns once the thread is
  // named, pinned and scheduled as asked; throws Error (and leaves no thread behind) when any of that
  // fails, or when the runner is already running.
  template <class Body>
  void start(const StageOptions& options, Body& body) {
    start_thread(options, &StageRunner::thread_main<Body>, &body);
  }
  // Function-pointer form for C-style stages.
  using LoopFn = bool (*)(void* ctx) noexcept;
  void start(const StageOptions& options, LoopFn fn, void* ctx);

  // Asks the loop to finish after the current iteration; safe from any thread and signal handlers.
  void request_stop() noexcept { stop_.store(true, std::memory_order_relaxed); }
  // Waits for the loop to finish (no-op when not running). Call request_stop() first, or use stop().
  void join();
  void stop() {
    request_stop();
    join();
  }
  [[nodiscard]] bool running() const noexcept { return thread_.joinable(); }
  [[nodiscard]] bool stop_requested() const noexcept { return stop_.load(std::memory_order_relaxed); }
  // Iterations in which the body reported work (updated once the loop ends; for tests and stats).
  [[nodiscard]] std::uint64_t busy_iterations() const noexcept { return busy_.load(std::memory_order_acquire); }

 private:
  using Entry = void (*)(StageRunner* self, void* body);

  template <class Body>
  static void thread_main(StageRunner* self, void* body_ptr) {
    Body& body = *static_cast<Body*>(body_ptr);
    // A stage thread logs from the hot path: its records go through its own ring.
    if (Logger* lg = Logger::global()) lg->register_hot_thread();
    Idler idler(self->policy_);
    std::uint64_t busy = 0;
    // The stop flag sits on its own cache line and is read relaxed: it is only a request, the join()
    // provides the happens-before for anything the loop wrote.
    while (!self->stop_.load(std::memory_order_relaxed)) [[likely]] {
      if (body()) {
        ++busy;
        idler.reset();
      } else {
        idler.idle();
      }
    }
    self->busy_.store(busy, std::memory_order_release);
  }

  struct FnBody {
    LoopFn fn;
    void* ctx;
    bool operator()() noexcept { return fn(ctx); }
  };

  void start_thread(const StageOptions& options, Entry entry, void* body);

  alignas(kCacheLine) std::atomic<bool> stop_{false};
  alignas(kCacheLine) std::atomic<std::uint64_t> busy_{0};
  IdlePolicy policy_{IdlePolicy::backoff};
  FnBody fn_body_{nullptr, nullptr};
  std::thread thread_;
};

}  // namespace enigma
