#include "core/stage_runner.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <thread>

#include <fmt/format.h>

namespace enigma {

std::string_view to_string(IdlePolicy p) noexcept {
  return p == IdlePolicy::spin ? "spin" : "backoff";
}

std::optional<IdlePolicy> idle_policy_from_string(std::string_view s) noexcept {
  if (s == "spin") return IdlePolicy::spin;
  if (s == "backoff") return IdlePolicy::backoff;
  return std::nullopt;
}

void Idler::idle_slow() noexcept {
  if (rounds_ < kSpinRounds + kYieldRounds) {
    ++rounds_;
    sched_yield();
    return;
  }
  // Stay in the sleep phase until reset(): a quiet feed costs one wake-up per kSleepMicros.
  if (!fine_slack_) [[unlikely]] {
    use_fine_timer_slack();
    fine_slack_ = true;
  }
  timespec ts{0, static_cast<long>(kSleepMicros) * 1000};
  nanosleep(&ts, nullptr);
}

namespace {

std::string errno_text(int err) { return std::string(std::strerror(err)); }

}  // namespace

// Checks the core against the process's affinity mask so the error names the real cause.
void check_core_allowed(int core) {
  if (core < 0 || core >= CPU_SETSIZE) throw Error(fmt::format("core {} is not a valid CPU number", core));
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) != 0)
    throw Error(fmt::format("cannot read the process affinity mask: {}", errno_text(errno)));
  if (!CPU_ISSET(core, &mask)) {
    std::string allowed;
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &mask)) allowed += (allowed.empty() ? "" : ",") + std::to_string(c);
    }
    throw Error(fmt::format("core {} is not available to this process (allowed cores: {})", core, allowed));
  }
}

void use_fine_timer_slack() noexcept { (void)prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL); }

int allowed_cpu_count() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) != 0) return 1;
  return CPU_COUNT(&mask);
}

void pin_current_thread(int core) {
  check_core_allowed(core);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(core, &one);
  const int rc = pthread_setaffinity_np(pthread_self(), sizeof one, &one);
  if (rc != 0) throw Error(fmt::format("cannot pin thread to core {}: {}", core, errno_text(rc)));
}

void StageRunner::start(const StageOptions& options, LoopFn fn, void* ctx) {
  if (fn == nullptr) throw Error(fmt::format("stage '{}': loop function is null", options.name));
  fn_body_ = FnBody{fn, ctx};
  start_thread(options, &StageRunner::thread_main<FnBody>, &fn_body_);
}

void StageRunner::start_thread(const StageOptions& options, Entry entry, void* body) {
  const auto fail = [&](const std::string& why) {
    return Error(fmt::format("starting stage '{}': {}", options.name, why));
  };
  if (thread_.joinable()) throw fail("already running");
  // pthread_setname_np fails with ERANGE past 15 characters; say so up front rather than truncating.
  if (options.name.size() > 15) throw fail("thread name longer than 15 characters");
  if (options.core >= 0) {
    try {
      check_core_allowed(options.core);
    } catch (const Error& e) {
      throw fail(e.what());
    }
  } else if (options.core != -1) {
    throw fail(fmt::format("core {} is not a valid CPU number (-1 means unpinned)", options.core));
  }
  if (options.realtime && (options.rt_priority < 1 || options.rt_priority > 99))
    throw fail(fmt::format("SCHED_FIFO priority {} outside 1..99", options.rt_priority));
  if (options.lock_memory && mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    const int err = errno;
    throw fail(fmt::format("mlockall failed: {} (needs CAP_IPC_LOCK or a larger RLIMIT_MEMLOCK, see ulimit -l)",
                           errno_text(err)));
  }

  stop_.store(false, std::memory_order_relaxed);
  busy_.store(0, std::memory_order_relaxed);
  policy_ = options.idle;
  std::promise<std::string> setup;
  std::future<std::string> setup_result = setup.get_future();
  thread_ = std::thread([this, entry, body, options, &setup] {
    std::string err;
    if (!options.name.empty()) {
      const int rc = pthread_setname_np(pthread_self(), options.name.c_str());
      if (rc != 0) err = fmt::format("cannot name thread: {}", errno_text(rc));
    }
    if (err.empty() && options.core >= 0) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(options.core, &one);
      const int rc = pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      if (rc != 0) err = fmt::format("cannot pin to core {}: {}", options.core, errno_text(rc));
    }
    if (err.empty() && options.realtime) {
      sched_param sp{};
      sp.sched_priority = options.rt_priority;
      const int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
      if (rc != 0)
        err = fmt::format("cannot set SCHED_FIFO priority {}: {} (needs CAP_SYS_NICE or an rtprio limit)",
                          options.rt_priority, errno_text(rc));
    }
    const bool ok = err.empty();
    setup.set_value(std::move(err));  // `setup` is not touched after this: start() may return
    if (ok) entry(this, body);
  });
  std::string err = setup_result.get();
  if (!err.empty()) {
    thread_.join();
    throw fail(err);
  }
}

void StageRunner::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace enigma
