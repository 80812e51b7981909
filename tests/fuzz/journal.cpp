// libFuzzer: arbitrary bytes opened as a journal file. Read-only inspection and replay must never crash
// (a damaged or foreign file is an enigma::Error naming the offset); opening it for appending must either
// refuse it the same way or accept a valid journal and append to it.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "oms/journal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/fuzz_journal_" + std::to_string(::getpid()) + ".bin";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  const bool written = ::write(fd, data, size) == static_cast<ssize_t>(size);
  ::close(fd);
  if (!written) return 0;
  using namespace enigma::oms;
  try {
    const JournalInspection in = inspect_journal(path);
    if (!in.damage && in.state.open_orders().size() > in.state.orders.size()) __builtin_trap();
  } catch (const enigma::Error&) {
  }
  try {
    (void)Journal::replay(path);
  } catch (const enigma::Error&) {
  }
  try {
    Journal j(path, {16, FsyncPolicy::none, 0});
    (void)j.append_cancel(ClientOrderId{}, 1);
  } catch (const enigma::Error&) {
  }
  ::unlink(path.c_str());
  ::unlink(journal_segment_path(path, 1).c_str());  // a full valid input rolls over once
  ::unlink((journal_segment_path(path, 1) + ".tmp").c_str());
  return 0;
}
