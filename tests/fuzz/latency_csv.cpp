// libFuzzer: the recorded order-latency CSV of `[sim] order_latency_file` (oms/latency_model.hpp,
// parse_latency_csv: the parser load_latency_file uses) on arbitrary bytes. Every file is read or refused
// with enigma::Error; what is read is non-negative nanoseconds, one per data row, and a file-mode
// LatencyModel over it draws exactly those values in file order.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "oms/latency_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::int64_t> ns;
  try {
    ns = enigma::oms::parse_latency_csv(text, "fuzz.csv");
  } catch (const enigma::Error&) {
    return 0;  // "<file>:<line>: why", which is the contract
  }
  if (ns.empty()) std::abort();  // an empty file is refused, never returned
  std::size_t lines = 1;
  for (char c : text) lines += c == '\n';
  if (ns.size() + 1 > lines) std::abort();  // a header line, then at most one value per line
  for (std::int64_t v : ns)
    if (v < 0) std::abort();
  enigma::oms::LatencyModelConfig cfg;
  cfg.dist = enigma::oms::LatencyDist::file;
  cfg.recorded_ns = ns;
  cfg.file = "fuzz.csv";
  enigma::oms::LatencyModel model(cfg);
  for (std::size_t i = 0; i < ns.size() + 2 && i < 64; ++i)
    if (model.next() != ns[i % ns.size()]) std::abort();
  return 0;
}
