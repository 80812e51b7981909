// libFuzzer: KuCoin's bullet-public / bullet-private REST answer (feed/venues/kucoin.hpp parse_bullet), which
// decides the WebSocket endpoint and the ping timing. Parsed or refused with enigma::Error naming the field.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.hpp"
#include "feed/venues/kucoin.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto b = enigma::feed::kucoin::parse_bullet(std::string_view(reinterpret_cast<const char*>(data), size));
    if (b.token.empty() || b.endpoint.empty() || b.ping_interval_ms <= 0 || b.ping_timeout_ms <= 0) std::abort();
  } catch (const enigma::Error&) {
  }
  return 0;
}
