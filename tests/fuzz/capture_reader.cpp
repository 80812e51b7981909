// libFuzzer: the capture reader behind `replay`, `book-check` and `convert` (feed/capture_reader.hpp) on
// arbitrary file content: every container (gzip, zip, zstd, plain) and line format (hftbacktest, cryptofeed
// raw, responses jsonl, json lines, ENIGREC1 recordings). Each frame is read or the file is refused with
// enigma::Error; every payload byte and the promised simdjson padding must be readable (ASan checks).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "feed/capture_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The reader takes a path: one scratch file per fuzzing process, rewritten for each input.
  static const std::string path = "/tmp/enigma-fuzz-capture-" + std::to_string(::getpid());
  static const struct RemoveAtExit {
    ~RemoveAtExit() { std::remove(path.c_str()); }
  } remove_at_exit;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    enigma::feed::CaptureReader reader(path);
    enigma::feed::CapturedFrame f;
    std::uint64_t sum = 0;
    while (reader.next(f)) {
      if (f.padded_capacity < f.payload.size() + enigma::feed::CaptureReader::kPadding) std::abort();
      for (char c : f.payload) sum += static_cast<unsigned char>(c);
      sum += static_cast<unsigned char>(f.payload.data()[f.padded_capacity - 1]);
      for (char c : f.url) sum += static_cast<unsigned char>(c);
    }
    (void)sum;
  } catch (const enigma::Error&) {
    // Corrupt container, unrecognised line: refused with file and line, which is the contract.
  }
  return 0;
}
