// StageRunner: pinning, naming, clean stop, and explicit errors for cores it cannot have.
#include <gtest/gtest.h>

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "core/stage_runner.hpp"

using namespace enigma;

namespace {

struct CoreProbe {
  std::atomic<std::uint64_t> calls{0};
  std::atomic<int> wrong_core{0};
  std::atomic<bool> name_ok{false};
  int expect_core = 0;
  bool operator()() noexcept {
    if (sched_getcpu() != expect_core) wrong_core.fetch_add(1, std::memory_order_relaxed);
    if (calls.load(std::memory_order_relaxed) == 0) {
      char name[16] = {};
      pthread_getname_np(pthread_self(), name, sizeof name);
      name_ok.store(std::string(name) == "enigma-test", std::memory_order_relaxed);
    }
    calls.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
};

void wait_for(const std::atomic<std::uint64_t>& counter, std::uint64_t at_least) {
  for (int i = 0; i < 10'000 && counter.load() < at_least; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

int first_core_outside_mask() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  sched_getaffinity(0, sizeof mask, &mask);
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (!CPU_ISSET(c, &mask)) return c;
  return -1;
}

}  // namespace

TEST(StageRunner, PinsToCoreZeroNamesThreadAndStops) {
  CoreProbe probe;
  StageRunner runner;
  StageOptions opt;
  opt.name = "enigma-test";
  opt.core = 0;
  opt.idle = IdlePolicy::spin;
  runner.start(opt, probe);
  EXPECT_TRUE(runner.running());
  wait_for(probe.calls, 1000);
  runner.stop();
  EXPECT_FALSE(runner.running());
  EXPECT_GE(probe.calls.load(), 1000u);
  EXPECT_EQ(probe.wrong_core.load(), 0) << "every iteration ran on core 0";
  EXPECT_TRUE(probe.name_ok.load());
  EXPECT_EQ(runner.busy_iterations(), probe.calls.load());
  const auto calls_after_stop = probe.calls.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(probe.calls.load(), calls_after_stop) << "no iteration after stop() returned";
}

TEST(StageRunner, CoreOutsideAffinityMaskIsAnError) {
  const int bad = first_core_outside_mask();
  ASSERT_GE(bad, 0);
  CoreProbe probe;
  StageRunner runner;
  StageOptions opt;
  opt.name = "bad-core";
  opt.core = bad;
  try {
    runner.start(opt, probe);
    FAIL() << "start() accepted core " << bad;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad-core"), std::string::npos) << msg;
    EXPECT_NE(msg.find("core " + std::to_string(bad) + " is not available"), std::string::npos) << msg;
    EXPECT_NE(msg.find("allowed cores: 0"), std::string::npos) << msg;
  }
  EXPECT_FALSE(runner.running());
  EXPECT_EQ(probe.calls.load(), 0u);
  opt.core = -2;
  EXPECT_THROW(runner.start(opt, probe), Error);
  opt.core = CPU_SETSIZE + 5;
  EXPECT_THROW(runner.start(opt, probe), Error);
  EXPECT_THROW(pin_current_thread(bad), Error);
}

TEST(StageRunner, RejectsLongNameBadPriorityAndDoubleStart) {
  CoreProbe probe;
  StageRunner runner;
  StageOptions opt;
  opt.name = "a-name-longer-than-15";
  EXPECT_THROW(runner.start(opt, probe), Error);
  opt.name = "ok";
  opt.realtime = true;
  opt.rt_priority = 0;
  EXPECT_THROW(runner.start(opt, probe), Error);
  opt.realtime = false;
  opt.core = -1;
  runner.start(opt, probe);
  EXPECT_THROW(runner.start(opt, probe), Error) << "already running";
  runner.stop();
}

TEST(StageRunner, RealtimeEitherWorksOrSaysWhy) {
  CoreProbe probe;
  StageRunner runner;
  StageOptions opt;
  opt.name = "rt";
  opt.realtime = true;
  opt.rt_priority = 10;
  try {
    runner.start(opt, probe);
    runner.stop();  // permitted here (root or CAP_SYS_NICE)
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("SCHED_FIFO"), std::string::npos) << e.what();
  }
}

namespace {
std::atomic<int> g_fn_calls{0};
bool counting_fn(void* ctx) noexcept {
  g_fn_calls.fetch_add(1);
  return *static_cast<int*>(ctx) != 0;
}
}  // namespace

TEST(StageRunner, FunctionPointerFormAndBackoffStopPromptly) {
  int has_work = 0;  // never any work: exercises spin -> yield -> sleep
  StageRunner runner;
  StageOptions opt;
  opt.name = "fn";
  opt.idle = IdlePolicy::backoff;
  runner.start(opt, &counting_fn, &has_work);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto t0 = std::chrono::steady_clock::now();
  runner.stop();
  const auto stop_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GT(g_fn_calls.load(), 0);
  EXPECT_EQ(runner.busy_iterations(), 0u);
  EXPECT_LT(stop_ms, 1000) << "a sleeping backoff loop still notices stop";
  // A stopped runner can be started again.
  has_work = 1;
  runner.start(opt, &counting_fn, &has_work);
  runner.stop();
}

TEST(IdlePolicy, ParsesConfigSpelling) {
  EXPECT_EQ(idle_policy_from_string("spin"), IdlePolicy::spin);
  EXPECT_EQ(idle_policy_from_string("backoff"), IdlePolicy::backoff);
  EXPECT_FALSE(idle_policy_from_string("Spin").has_value());
  EXPECT_FALSE(idle_policy_from_string("").has_value());
  EXPECT_EQ(to_string(IdlePolicy::spin), "spin");
  EXPECT_EQ(to_string(IdlePolicy::backoff), "backoff");
}
