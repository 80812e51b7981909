#include "tests/support/alloc_counter.hpp"

#include <cstddef>
#include <cstdlib>
#include <new>

namespace enigma::test {
namespace {
// Plain thread_locals (constant-initialized, no destructor) so operator new never recurses into a TLS
// initializer that could itself allocate.
constinit thread_local int t_depth = 0;
constinit thread_local std::uint64_t t_count = 0;
constinit thread_local std::uint64_t t_all = 0;  // every allocation of the thread, scope or not

void* counted_alloc(std::size_t n, std::size_t align) {
  if (t_depth > 0) ++t_count;
  ++t_all;
  if (n == 0) n = 1;
  void* p = align <= alignof(std::max_align_t) ? std::malloc(n)
                                                : std::aligned_alloc(align, (n + align - 1) / align * align);
  return p;
}
}  // namespace

AllocationScope::AllocationScope() noexcept : start_(t_count) { ++t_depth; }
AllocationScope::~AllocationScope() { --t_depth; }
std::uint64_t AllocationScope::count() const noexcept { return t_count - start_; }
std::uint64_t thread_allocation_count() noexcept { return t_count; }
std::uint64_t thread_allocations_ever() noexcept { return t_all; }

}  // namespace enigma::test

using enigma::test::counted_alloc;

void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n, 0)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_alloc(n, 0)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counted_alloc(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
  if (void* p = counted_alloc(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
