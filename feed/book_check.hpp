// Result of verifying rebuilt books against a venue's own top-of-book or checksum (`enigma book-check`).
// Each venue file pair provides a `check_<venue>(files, options)` returning this; the engine's command
// line dispatches on --venue and prints
// `book-check: checked=N mismatched=M gaps=G resyncs=R duplicates=D decode_errors=E bad_lines=B`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace enigma::feed {

struct BookCheckResult {
  std::uint64_t frames{0};      // frames read from the files
  std::uint64_t checked{0};     // venue top-of-book quotes / checksums compared with our book
  std::uint64_t mismatched{0};  // comparisons that differed
  std::uint64_t gaps{0};        // sequence gaps detected
  std::uint64_t resyncs{0};     // resyncs started (a gap, crossed book or failed checksum each asks for one)
  std::uint64_t skipped{0};     // frames of kinds the check does not use, or for other symbols
  std::uint64_t errors{0};      // frames that failed to decode (each also named in `notes`)
  std::uint64_t duplicates{0};  // updates already in the book (the same data twice), dropped
  std::uint64_t bad_lines{0};   // capture lines skipped as unreadable (CaptureReader)
  std::vector<std::string> notes;  // human-readable details: first mismatches, decode errors, per-symbol stats
};

struct BookCheckOptions {
  std::size_t max_notes{20};  // cap on detail lines collected
  bool verbose{false};
  bool strict{false};  // a bad line or a damaged file is an error (CaptureReadOptions::strict)
};

}  // namespace enigma::feed
