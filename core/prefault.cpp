#include "core/prefault.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace enigma {

namespace {
void touch_pages(unsigned char* from, unsigned char* to, std::size_t page) noexcept {
  for (unsigned char* q = from; q < to; q += page) {
    volatile unsigned char* v = q;
    *v = *v;
  }
}
}  // namespace

void prefault_writable(void* p, std::size_t bytes) noexcept {
  if (p == nullptr || bytes == 0) return;
  const long sys_page = ::sysconf(_SC_PAGESIZE);
  const std::size_t page = sys_page > 0 ? static_cast<std::size_t>(sys_page) : 4096;
  auto* const begin = static_cast<unsigned char*>(p);
  unsigned char* const end = begin + bytes;
  const auto b = reinterpret_cast<std::uintptr_t>(begin);
  const auto e = reinterpret_cast<std::uintptr_t>(end);
  const std::uintptr_t first = (b + page - 1) / page * page;  // the whole pages inside the range
  const std::uintptr_t last = e / page * page;
#ifdef MADV_POPULATE_WRITE
  if (first < last && ::madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_WRITE) == 0) {
    if (b < first) touch_pages(begin, begin + 1, page);                        // the partial page at the start
    if (last < e) touch_pages(reinterpret_cast<unsigned char*>(last), end, page);  // and the one at the end
    return;
  }
#endif
  // Every page the range touches: from its first byte, then each page boundary after it.
  touch_pages(begin, begin + 1, page);
  touch_pages(reinterpret_cast<unsigned char*>(first == b ? first + page : first), end, page);
}

}  // namespace enigma
