// The allocation counter itself, and the proof that the core hot-path primitives allocate nothing.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/histogram.hpp"
#include "core/logger.hpp"
#include "core/spsc_ring.hpp"
#include "tests/support/alloc_counter.hpp"

using enigma::test::AllocationScope;

TEST(AllocCounter, CountsAllocationsOnThisThread) {
  AllocationScope scope;
  auto allocate = [] {
    auto v = std::make_unique<std::vector<int>>(100);
    return v->size();
  };
  EXPECT_EQ(allocate(), 100u);
  EXPECT_GE(scope.count(), 2u);  // the vector object and its buffer
  const auto before = scope.count();
  std::string s(1000, 'x');      // beyond the small-string buffer
  EXPECT_EQ(scope.count(), before + 1);
}

TEST(AllocCounter, OtherThreadsAndOutOfScopeAreNotCounted) {
  AllocationScope scope;
  std::thread t([] { std::vector<int> v(1000); (void)v; });
  t.join();  // std::thread's own state is allocated here, on this thread
  const auto after_thread = scope.count();
  std::thread t2([] { std::vector<int> v(1000); (void)v; });
  t2.join();
  EXPECT_EQ(scope.count(), after_thread * 2) << "the child's vector must not count on this thread";
}

TEST(AllocCounter, NestedScopes) {
  AllocationScope outer;
  auto a = std::make_unique<int>(1);
  {
    AllocationScope inner;
    auto b = std::make_unique<int>(2);
    EXPECT_EQ(inner.count(), 1u);
  }
  EXPECT_EQ(outer.count(), 2u);
}

TEST(AllocCounter, RingPushPopAllocatesNothing) {
  enigma::SpscRing<std::uint64_t> ring(1024);
  AllocationScope scope;
  std::uint64_t out = 0;
  for (std::uint64_t i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(ring.try_push(i));
    ASSERT_TRUE(ring.try_pop(out));
  }
  std::uint64_t batch[64] = {};
  EXPECT_EQ(ring.try_push_batch(batch, 64), 64u);
  EXPECT_EQ(ring.try_pop_batch(batch, 64), 64u);
  EXPECT_EQ(scope.count(), 0u);
}

TEST(AllocCounter, HistogramRecordAllocatesNothing) {
  auto h = std::make_unique<enigma::LatencyHistogram>();
  AllocationScope scope;
  for (std::int64_t v = 0; v < 100'000; v += 7) h->record(v * 1013);
  (void)h->percentile(99.9);
  EXPECT_EQ(scope.count(), 0u);
}

TEST(AllocCounter, LoggerHotPathAllocatesNothingAfterFirstCall) {
  const std::string path = ::testing::TempDir() + "/alloc_logger.log";
  std::remove(path.c_str());
  enigma::LoggerOptions opt;
  opt.path = path;
  opt.install_signal_handlers = false;
  enigma::Logger logger(opt);
  enigma::Logger::set_global(&logger);
  logger.register_hot_thread();  // this thread's own ring (cold, allocates), as the trading threads do
  {
    AllocationScope scope;
    for (int i = 0; i < 1000; ++i)
      ENIGMA_LOG_INFO("test", "tick i={} px={} sym={} side={}", i, enigma::Price::from_units(i), std::string_view("XBTUSDTM"),
                      enigma::LogLiteral{"buy"});
    EXPECT_EQ(scope.count(), 0u);
  }
  enigma::Logger::set_global(nullptr);
  logger.shutdown();
}

TEST(AllocCounter, LoggerSharedQueueAllocatesNothingAfterFirstCall) {
  const std::string path = ::testing::TempDir() + "/alloc_logger_shared.log";
  std::remove(path.c_str());
  enigma::LoggerOptions opt;
  opt.path = path;
  opt.install_signal_handlers = false;
  enigma::Logger logger(opt);
  enigma::Logger::set_global(&logger);
  std::thread other([] {
    ENIGMA_LOG_INFO("test", "warm_up n={}", 1);  // this thread's producer slot in the shared queue (allocates once)
    AllocationScope scope;
    for (int i = 0; i < 5000; ++i) ENIGMA_LOG_INFO("test", "tick i={} why={}", i, enigma::LogQuoted{"a b"});
    EXPECT_EQ(scope.count(), 0u);
  });
  other.join();
  enigma::Logger::set_global(nullptr);
  logger.shutdown();
}
