// libFuzzer: Kraken futures decoder and book sync on newline-separated frames (seed corpus: data/kraken).
// Invariants: a failed frame leaves nothing appended; a book is published only while synced, never
// crossed, and only with the seq the chain expected.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "feed/venues/kraken.hpp"

using namespace enigma;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static InstrumentRegistry registry(4096);
  static feed::kraken::Decoder decoder(Venue::kraken_futures, registry, true);
  static feed::EventBuffer out(4096);
  feed::kraken::BookSync sync(Venue::kraken_futures, 0, 512);
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string buf;
  BookBatch batch{};
  for (std::size_t pos = 0; pos < in.size();) {
    std::size_t nl = in.find('\n', pos);
    if (nl == std::string_view::npos) nl = in.size();
    const std::string_view line = in.substr(pos, nl - pos);
    pos = nl + 1;
    buf.assign(line.data(), line.size());
    buf.append(64, ' ');
    out.clear();
    const auto r = decoder.decode(std::string_view(buf.data(), line.size()), buf.size(), 0, out);
    if (!r.ok() && out.size() != 0) std::abort();
    if (r.ok() && r.events != out.size()) std::abort();
    for (const Event& e : out) {
      if (e.h.type == EventType::book_batch) batch = e.batch;
      const feed::SyncResult s = sync.on_event(e);
      if (!s.book_changed) continue;
      if (sync.state() != feed::SyncState::synced || sync.book().crossed()) std::abort();
      if (sync.last_seq() != batch.seq) std::abort();
    }
  }
  return 0;
}
