// Result of verifying rebuilt books against a venue's own top-of-book or checksum (`enigma book-check`).
// Each venue file pair provides a `check_<venue>(files, options)` returning this; the engine's command
// line dispatches on --venue and prints
// `book-check: checked=N mismatched=M gaps=G resyncs=R duplicates=D decode_errors=E bad_lines=B`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/instrument.hpp"
#include "feed/l2_book.hpp"

namespace enigma::feed {

// Venue quotes that could not be compared with our book, by why (Binance bookTicker; see README).
struct UncomparedQuotes {
  std::uint64_t inside_diff{0};  // the quote's update id falls inside a diff: our synced book passed it without standing at it
  std::uint64_t before_sync{0};  // its id is at or before the snapshot our book (re)synced from
  std::uint64_t unreached{0};    // still waiting at the end: the data ended, or the book never synced (no snapshot)
  [[nodiscard]] std::uint64_t total() const noexcept { return inside_diff + before_sync + unreached; }
};

struct BookCheckResult {
  std::uint64_t frames{0};      // frames read from the files
  std::uint64_t checked{0};     // venue top-of-book quotes / checksums compared with our book
  std::uint64_t quotes{0};      // venue top-of-book quotes seen (0 where the venue check uses checksums)
  UncomparedQuotes uncompared;  // quotes seen but not compared, by why
  std::string check_kind;       // what `checked` counts, e.g. "bookTicker at the same update id" (summary line)
  std::uint64_t mismatched{0};  // comparisons that differed
  std::uint64_t gaps{0};        // sequence gaps detected
  std::uint64_t resyncs{0};     // resyncs started (a gap, crossed book or failed checksum each asks for one)
  std::uint64_t skipped{0};     // frames of kinds the check does not use, or for other symbols
  std::uint64_t errors{0};      // frames that failed to decode (each also named in `notes`)
  std::uint64_t duplicates{0};  // updates already in the book (the same data twice), dropped
  std::uint64_t bad_lines{0};   // capture lines skipped as unreadable (CaptureReader)
  // --exchange-info: levels of the final books whose price is off their symbol's listed tick, whose size is
  // off its lot, and symbols the listing does not have. Reported, not failures: a venue's book keeps orders
  // placed before a tick-size change, and KuCoin spot sizes are remainders finer than the order increment.
  std::uint64_t off_tick{0};
  std::uint64_t off_lot{0};
  std::uint64_t unlisted{0};
  std::vector<std::string> notes;  // human-readable details: first mismatches, decode errors, per-symbol stats
};

struct BookCheckOptions {
  std::size_t max_notes{20};  // cap on detail lines collected
  bool verbose{false};
  bool strict{false};  // a bad line or a damaged file is an error (CaptureReadOptions::strict)
  // The venue's instrument list (`book-check --exchange-info`): it fills the registry's catalogue, so each
  // symbol gets the venue's tick and lot, and the levels of its final book off that grid are counted.
  std::vector<InstrumentSpec> exchange_info;
};

// --exchange-info: the final book of symbol `id` against its listed tick and lot (counted into `r`); the
// text to append to the symbol's summary note (empty without a listing), naming the first level off the grid.
inline std::string grid_check(const BookCheckOptions& opt, const InstrumentRegistry& registry, InstrumentId id,
                              const L2Book& book, BookCheckResult& r) {
  if (opt.exchange_info.empty()) return "";
  const InstrumentSpec& s = registry.get(id);
  if (s.source != SpecSource::exchange_info) {
    ++r.unlisted;
    return " (not in the exchange info: grid not checked)";
  }
  std::uint64_t off_tick = 0, off_lot = 0;
  std::string first;
  for (const Side side : {Side::buy, Side::sell})
    for (std::size_t i = 0; i < book.depth(side); ++i) {
      const Level& l = book.level(side, i);
      const bool tick_ok = l.price.is_multiple_of(s.tick), lot_ok = l.qty.is_multiple_of(s.lot);
      if (tick_ok && lot_ok) continue;
      if (off_tick + off_lot == 0)
        first = std::string(side == Side::buy ? " (first: bid " : " (first: ask ") + l.price.to_string() + " x " + l.qty.to_string() + ")";
      off_tick += !tick_ok;
      off_lot += !lot_ok;
    }
  r.off_tick += off_tick;
  r.off_lot += off_lot;
  return " tick=" + s.tick.to_string() + " lot=" + s.lot.to_string() + " off_tick=" + std::to_string(off_tick) +
         " off_lot=" + std::to_string(off_lot) + first;
}

}  // namespace enigma::feed
