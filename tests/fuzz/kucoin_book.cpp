// libFuzzer: book-apply with random gaps, duplicates and reordering. The input is newline-separated
// KuCoin frames (seeded with real captures, so mutations drop, repeat and swap real diffs); a line
// starting with 'S' is a REST snapshot body. Invariants: a published (synced) book is never crossed,
// and book_changed is only reported while synced.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "feed/venues/kucoin.hpp"

using namespace enigma;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static InstrumentRegistry registry(4096);
  static feed::kucoin::Decoder decoder(Venue::kucoin_spot, registry, true);
  static feed::EventBuffer out(4096);
  feed::kucoin::BookSync sync(Venue::kucoin_spot, 0, 512, 256);
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string buf;
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::size_t nl = in.find('\n', pos);
    if (nl == std::string_view::npos) nl = in.size();
    std::string_view line = in.substr(pos, nl - pos);
    pos = nl + 1;
    const bool snapshot = !line.empty() && line.front() == 'S';
    if (snapshot) line.remove_prefix(1);
    buf.assign(line.data(), line.size());
    buf.append(64, ' ');
    out.clear();
    const auto r = snapshot ? decoder.decode_snapshot(std::string_view(buf.data(), line.size()), buf.size(), "BTC-USDT", 0, out)
                            : decoder.decode(std::string_view(buf.data(), line.size()), buf.size(), 0, out);
    if (!r.ok()) continue;
    for (const Event& e : out) {
      const feed::SyncResult s = sync.on_event(e);
      if (s.book_changed && sync.state() != feed::SyncState::synced) std::abort();
      if (sync.state() == feed::SyncState::synced && s.book_changed && sync.book().crossed()) std::abort();
    }
  }
  return 0;
}
