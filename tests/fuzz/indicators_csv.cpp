// libFuzzer: the OHLCV CSV reader behind `enigma indicators --csv` (strategy/csv.hpp) on arbitrary bytes.
// Every row is read or the input is refused with enigma::Error; nothing else may escape, no UB, no leak.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "core/error.hpp"
#include "strategy/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    enigma::strategy::OhlcvCsvReader reader(in, "fuzz.csv");
    enigma::strategy::Bar bar;
    std::size_t rows = 0;
    while (reader.next(bar)) {
      ++rows;
      if (reader.matched_fields().size() != 6) std::abort();  // a row read has all six columns
    }
    if (rows > size) std::abort();  // each row takes at least one byte
  } catch (const enigma::Error&) {
    // Bad header, bad number, bad time: refused with "<source>:<line>: <what>", which is the contract.
  }
  return 0;
}
