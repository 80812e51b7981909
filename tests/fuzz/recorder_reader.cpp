// libFuzzer: the recording reader on arbitrary bytes. Inputs that start with the file header exercise the
// record scanner (bad magic, lengths past the end, CRC mismatches, resync); others must be rejected cleanly.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/error.hpp"
#include "feed/recorder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    auto r = enigma::feed::RecordReader::from_bytes(std::move(bytes));
    enigma::feed::RecordedFrame f;
    std::uint64_t sum = 0;
    while (r.next(f)) {
      // Touch every payload byte and the promised padding so ASan checks the bounds.
      for (char c : f.payload) sum += static_cast<unsigned char>(c);
      sum += static_cast<unsigned char>(f.payload.data()[f.padded_capacity - 1]);
    }
    if (r.stats().records > size) __builtin_trap();  // each record takes at least a header
    (void)sum;
  } catch (const enigma::Error&) {
    // Missing/wrong file header: rejected with a message, which is the contract.
  }
  return 0;
}
