// prefault_writable (core/prefault.hpp): after it, writing to every page of the range takes no page fault
// (counted by the kernel for this thread), the first and last partial pages of an unaligned range included,
// and a file mapping's content is unchanged (checked before anything writes to it). A mapping written without it is the control: one fault a page.
#include "core/prefault.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace enigma {
namespace {

constexpr std::size_t kPages = 64;

std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

long minor_faults() {
  struct rusage ru {};
  ::getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_minflt;
}

// Writes one byte in each page of [from, to) and returns the minor faults that took.
long faults_writing(unsigned char* from, unsigned char* to) {
  const std::size_t page = page_size();
  const long before = minor_faults();
  for (unsigned char* p = from; p < to; p += page) *static_cast<volatile unsigned char*>(p) = 1;
  *static_cast<volatile unsigned char*>(to - 1) = 1;
  return minor_faults() - before;
}

unsigned char* anonymous(std::size_t bytes) {
  void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return m == MAP_FAILED ? nullptr : static_cast<unsigned char*>(m);
}

TEST(Prefault, AnUnalignedAnonymousRangeTakesNoFaultWhenWritten) {
  const std::size_t bytes = kPages * page_size();
  unsigned char* control = anonymous(bytes);
  unsigned char* buf = anonymous(bytes);
  ASSERT_NE(control, nullptr);
  ASSERT_NE(buf, nullptr);
  // The control: every page faults on its first write.
  EXPECT_GE(faults_writing(control, control + bytes), static_cast<long>(kPages) - 2);
  // From the middle of the first page to the middle of the last: both partial pages are in the range.
  unsigned char* from = buf + page_size() / 2;
  unsigned char* to = buf + bytes - page_size() / 2;
  prefault_writable(from, static_cast<std::size_t>(to - from));
  // Not zero in every build: under ASan the first check of each shadow page (one per 32 of these) faults.
  EXPECT_LT(faults_writing(from, to), static_cast<long>(kPages) / 8);
  ::munmap(control, bytes);
  ::munmap(buf, bytes);
}

TEST(Prefault, ASharedFileMappingKeepsItsContent) {
  const std::size_t bytes = 8 * page_size();
  char path[] = "/tmp/enigma-prefault-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string content(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) content[i] = static_cast<char>('a' + i % 26);
  ASSERT_EQ(::write(fd, content.data(), bytes), static_cast<ssize_t>(bytes));
  void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ASSERT_NE(m, MAP_FAILED);
  auto* map = static_cast<unsigned char*>(m);
  prefault_writable(map, bytes);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(map), bytes), content);
  EXPECT_LE(faults_writing(map, map + bytes), 2);  // 8 pages: 8 faults unprefaulted
  ::munmap(map, bytes);
  ::close(fd);
  std::remove(path);
}

TEST(Prefault, NothingToDoForAnEmptyRange) {
  prefault_writable(nullptr, 4096);
  unsigned char byte = 7;
  prefault_writable(&byte, 0);
  prefault_writable(&byte, 1);  // one byte on the stack: read and written back
  EXPECT_EQ(byte, 7);
}

}  // namespace
}  // namespace enigma
