// libFuzzer: Binance BookSync under random gaps, duplicates, reordering and snapshots.
//
// The input scripts a venue and a faulty delivery. The venue keeps the true book and emits diffs with
// contiguous ids (U = previous u + 1, pu = previous u); the script delivers the next diff, drops it,
// re-delivers an old one, swaps two, or delivers a REST snapshot of the venue's current book. Invariants:
//  * whenever BookSync reports book_changed, its whole book equals the venue's book at last_update_id()
//    (so nothing stale or half-applied is ever published after a gap), and it is not crossed;
//  * after a delivery that breaks the chain while synced, book_changed stays false until a snapshot.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <vector>

#include "feed/venues/binance.hpp"

namespace {

using namespace enigma;
using Book = std::map<std::int64_t, std::int64_t>;  // price units -> qty units (0 never stored)
struct Truth {
  Book bids, asks;
};

struct Diff {
  std::uint64_t U, u, pu;
  std::vector<BookLevel> levels;
};

Event batch_event(std::uint64_t seq, std::uint64_t first, std::uint64_t prev, std::uint32_t n, bool snapshot) {
  Event e;
  e.h = EventHeader{0, 0, 0, Venue::binance_usdm, EventType::book_batch, 0};
  e.batch = BookBatch{seq, first, prev, n, 0, snapshot ? BookBatchKind::snapshot : BookBatchKind::delta, !snapshot, false};
  return e;
}

Event level_event(const BookLevel& l) {
  Event e;
  e.h = EventHeader{0, 0, 0, Venue::binance_usdm, EventType::book_level, 0};
  e.level = l;
  return e;
}

bool same(const feed::L2Book& b, const Truth& t) {
  if (b.depth(Side::buy) != t.bids.size() || b.depth(Side::sell) != t.asks.size()) return false;
  std::size_t i = 0;
  for (auto it = t.bids.rbegin(); it != t.bids.rend(); ++it, ++i)
    if (b.level(Side::buy, i).price.raw() != it->first || b.level(Side::buy, i).qty.raw() != it->second) return false;
  i = 0;
  for (auto it = t.asks.begin(); it != t.asks.end(); ++it, ++i)
    if (b.level(Side::sell, i).price.raw() != it->first || b.level(Side::sell, i).qty.raw() != it->second) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static feed::binance::BookSync sync(Venue::binance_usdm, 0, 64, 256);
  sync.reset();
  std::map<std::uint64_t, Truth> history;  // venue book after each diff's u
  Truth venue;
  std::uint64_t last_u = 1000;
  history[last_u] = venue;
  std::vector<Diff> sent;   // every diff the venue produced, in order
  std::size_t next = 0;     // next diff index to deliver in order
  std::size_t pos = 0;
  auto byte = [&]() -> std::uint8_t { return pos < size ? data[pos++] : 0; };
  bool broken = false;      // chain broken while synced, no snapshot since

  auto deliver = [&](const std::vector<Event>& evs, bool is_snapshot) {
    for (const Event& e : evs) {
      const feed::SyncResult r = sync.on_event(e);
      if (r.book_changed) {
        if (broken && !is_snapshot) std::abort();  // published after a gap without a snapshot
        if (sync.book().crossed()) std::abort();
        const auto it = history.find(sync.last_seq());
        if (it == history.end() || !same(sync.book(), it->second)) std::abort();  // stale or wrong book
      }
    }
    if (is_snapshot) broken = false;
  };
  auto diff_events = [](const Diff& d) {
    std::vector<Event> evs{batch_event(d.u, d.U, d.pu, static_cast<std::uint32_t>(d.levels.size()), false)};
    for (const BookLevel& l : d.levels) evs.push_back(level_event(l));
    return evs;
  };
  auto deliver_diff = [&](const Diff& d) {
    // A diff that does not continue the applied chain (and is not already covered) must stop publishing.
    if (sync.synced() && d.pu != sync.last_seq() && d.u > sync.last_seq()) broken = true;
    deliver(diff_events(d), false);
  };

  while (pos < size) {
    const std::uint8_t op = byte();
    // The venue produces a new diff (ids advance by 1..3; 1..4 levels, bids below asks mostly).
    if ((op & 3) != 3 || sent.size() <= next) {
      Diff d;
      d.U = last_u + 1;
      d.u = d.U + (op >> 6);
      d.pu = last_u;
      const int n = 1 + (byte() & 3);
      for (int i = 0; i < n; ++i) {
        const std::uint8_t a = byte(), b = byte();
        const Side side = (a & 1) ? Side::sell : Side::buy;
        std::int64_t px = (side == Side::buy ? 100 : 110) + (a >> 1) % 16 - (side == Side::buy ? 8 : 0);
        const std::int64_t qty = b % 4;
        d.levels.push_back(BookLevel{Price::from_raw(px), Qty::from_raw(qty), side});
        Book& bk = side == Side::buy ? venue.bids : venue.asks;
        if (qty == 0) bk.erase(px);
        else bk[px] = qty;
      }
      last_u = d.u;
      history[last_u] = venue;
      sent.push_back(std::move(d));
    }
    switch ((op >> 2) & 7) {
      case 0:
      case 1:
      case 2:  // deliver in order
        if (next < sent.size()) deliver_diff(sent[next++]);
        break;
      case 3:  // drop one
        if (next < sent.size()) ++next;
        break;
      case 4:  // duplicate an earlier diff
        if (next > 0) deliver_diff(sent[next - 1 - (byte() % next)]);
        break;
      case 5:  // swap the next two
        if (next + 1 < sent.size()) {
          deliver_diff(sent[next + 1]);
          deliver_diff(sent[next]);
          next += 2;
        }
        break;
      case 6: {  // REST snapshot of the venue's current book
        std::vector<Event> evs{batch_event(last_u, last_u, 0,
                                           static_cast<std::uint32_t>(venue.bids.size() + venue.asks.size()), true)};
        for (const auto& [p, q] : venue.bids) evs.push_back(level_event(BookLevel{Price::from_raw(p), Qty::from_raw(q), Side::buy}));
        for (const auto& [p, q] : venue.asks) evs.push_back(level_event(BookLevel{Price::from_raw(p), Qty::from_raw(q), Side::sell}));
        deliver(evs, true);
        break;
      }
      default:  // nothing delivered this step (the venue ran ahead: diffs wait in flight)
        break;
    }
  }
  return 0;
}
