// libFuzzer: one frame through the OKX decoder (no crash, no UB; a failed message leaves nothing appended).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "feed/venues/okx.hpp"

using namespace enigma;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static InstrumentRegistry registry(4096);
  static feed::okx::Decoder decoder(registry, true);
  static feed::EventBuffer out(4096);
  std::string buf(reinterpret_cast<const char*>(data), size);
  buf.append(64, ' ');
  out.clear();
  const auto r = decoder.decode(std::string_view(buf.data(), size), buf.size(), 0, out);
  if (!r.ok() && out.size() != 0) std::abort();
  if (r.ok() && r.events != out.size()) std::abort();
  return 0;
}
