// libFuzzer: the admin endpoint's request handling without a socket (engine/admin.hpp answer_bytes): HTTP
// parsing with the server's header and body limits, routing, bearer-token check and the JSON / Prometheus
// rendering, on arbitrary bytes as one connection would send them. Every answer is a real status code; a
// command is queued only for an authorized POST.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/spsc_ring.hpp"
#include "engine/admin.hpp"

using namespace enigma;
using namespace enigma::engine;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static SpscRing<AdminCommand> commands(8);
  // Bound to an ephemeral loopback port but never started: no connection is ever accepted.
  static AdminServer server("127.0.0.1", 0, "fuzz-token", commands);
  static const bool published = [] {
    StatusSnapshot s;
    s.npositions = 1;
    s.positions[0] = PositionView{"BTCUSDT", 0.5, 60000.0, 12.5};
    s.nstages = 1;
    s.stages[0] = StageLatencyView{"frame", 10, 200, 900, 5000, 9000};
    return server.try_publish(s);
  }();
  (void)published;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto statuses = server.answer_bytes(bytes);
  std::size_t accepted = 0;
  for (const int s : statuses) {
    if (s < 200 || s > 599) std::abort();
    if (s == 202) ++accepted;
  }
  std::size_t queued = 0;
  AdminCommand cmd;
  while (commands.try_pop(cmd)) ++queued;
  if (queued != accepted) std::abort();  // every 202 queued exactly one command, nothing else did
  return 0;
}
