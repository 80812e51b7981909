// libFuzzer: OKX book-apply with random gaps, duplicates and reordering of real frames (newline-
// separated input). Invariants: book_changed only while synced, a synced book is never crossed and
// always matches the checksum of the message that published it (when one was sent).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "feed/venues/okx.hpp"

using namespace enigma;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static InstrumentRegistry registry(4096);
  static feed::okx::Decoder decoder(registry, true);
  static feed::EventBuffer out(4096);
  feed::okx::BookSync sync(0, 512);
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string buf;
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::size_t nl = in.find('\n', pos);
    if (nl == std::string_view::npos) nl = in.size();
    const std::string_view line = in.substr(pos, nl - pos);
    pos = nl + 1;
    buf.assign(line.data(), line.size());
    buf.append(64, ' ');
    out.clear();
    if (!decoder.decode(std::string_view(buf.data(), line.size()), buf.size(), 0, out).ok()) continue;
    for (const Event& e : out) {
      static BookBatch last_batch{};
      if (e.h.type == EventType::book_batch) last_batch = e.batch;
      const feed::SyncResult s = sync.on_event(e);
      if (!s.book_changed) continue;
      if (sync.state() != feed::SyncState::synced || sync.book().crossed()) std::abort();
      if (last_batch.has_checksum && feed::okx::book_checksum(sync.book()) != last_batch.checksum) std::abort();
    }
  }
  return 0;
}
