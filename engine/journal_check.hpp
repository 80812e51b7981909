// `enigma journal-check PATH`: what an order journal holds and where it is damaged (cold path, read-only).
#pragma once

#include <iosfwd>
#include <string>

namespace enigma::engine {

// PATH is a journal file (any segment's base name, e.g. runs/<run>/journal.bin) or a directory holding one
// journal's segments. Prints records by type, orders, open orders, positions, the next client counter and
// the segments to `out`; damage (file, byte offset, reason) to `out` as well. Returns the exit code:
// 0 clean, 1 damaged, 2 usage (a directory holding several journals). Throws enigma::Error (exit 3) when
// nothing can be read.
int run_journal_check(const std::string& path, std::ostream& out);

}  // namespace enigma::engine
