// Heap-allocation counter for hot-path tests (DESIGN.md: "count allocations in a test to prove it").
//
// Linking the `enigma_test_alloc` library replaces the global operator new/delete (every form: plain,
// array, nothrow, aligned) with versions that forward to malloc/free and, while an AllocationScope is
// alive on the calling thread, count each allocation for that thread. Other threads are unaffected.
//
//     enigma::test::AllocationScope scope;
//     ring.try_push(x);
//     EXPECT_EQ(scope.count(), 0u);
#pragma once

#include <cstdint>

namespace enigma::test {

// Counts operator new calls on the constructing thread until destroyed. Scopes nest; each reports the
// allocations made since it started.
class AllocationScope {
 public:
  AllocationScope() noexcept;
  ~AllocationScope();
  AllocationScope(const AllocationScope&) = delete;
  AllocationScope& operator=(const AllocationScope&) = delete;
  [[nodiscard]] std::uint64_t count() const noexcept;

 private:
  std::uint64_t start_;
};

// Allocations counted on this thread so far (only while some scope was active).
[[nodiscard]] std::uint64_t thread_allocation_count() noexcept;
// Every allocation this thread made since it started, scope or not: for threads the code under test starts
// itself (engine::set_thread_alloc_counter), where no test can open a scope.
[[nodiscard]] std::uint64_t thread_allocations_ever() noexcept;

}  // namespace enigma::test
